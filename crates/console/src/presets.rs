//! The Scope panel's presets: prompt presets recalled with one click (over the node's current
//! state, with the preset's own prompt transition), pipeline presets picked from a list, and
//! "save current as preset". Right-click a preset to rename or delete it.
//!
//! Every change is an edit (presets live in the show file, recalls change the scene's Scope
//! state); the Scope worker sends the server only the keys that differ.

use document::{Document, Edit};
use egui::{RichText, Ui};
use show::node::{NodeKind, ScopeParams};
use show::preset::{PipelinePreset, PromptPreset};
use show::{NodeId, Presets};

use crate::scope_panel::scope_node;

#[derive(Debug, Default)]
pub(crate) struct PresetsUi {
    /// The name typed for "save as preset".
    new_name: String,
    /// The new name typed in a preset's rename menu.
    rename: String,
}

impl PresetsUi {
    /// Prompt presets for the Scope node `node` of `scene` (playing `params`).
    pub fn prompts(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        scene: usize,
        node: &NodeId,
        params: &ScopeParams,
    ) -> Option<String> {
        let presets = doc.show().presets.clone();
        let mut edit = None;
        ui.label(RichText::new("Prompt presets").strong());
        ui.horizontal_wrapped(|ui| {
            if presets.prompts.is_empty() {
                ui.label(RichText::new("none yet").weak());
            }
            for (i, p) in presets.prompts.iter().enumerate() {
                // The preset's transition is how it is reached, not part of what it is.
                let mut now = PromptPreset::capture(&p.name, params);
                now.transition_steps = p.transition_steps;
                let current = now == *p;
                let r = ui
                    .selectable_label(current, &p.name)
                    .on_hover_text("Recall (right-click: rename, delete)");
                if r.clicked() && !current {
                    edit = Some(Edit::SetSceneScope {
                        scene,
                        scope: Some(p.apply_to(params)),
                    });
                }
                r.context_menu(|ui| {
                    if let Some(e) = self.manage(ui, &presets, Kind::Prompt, i) {
                        edit = Some(e);
                    }
                });
            }
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.new_name)
                    .id(egui::Id::new(("preset_name", scene, node)))
                    .hint_text("preset name")
                    .desired_width(120.0),
            );
            let name = self.new_name.trim().to_owned();
            if ui
                .add_enabled(!name.is_empty(), egui::Button::new("Save prompts"))
                .on_hover_text(
                    "Save the prompts, strength and references as a preset (same name: update it)",
                )
                .clicked()
            {
                let mut next = presets.clone();
                upsert(
                    &mut next.prompts,
                    PromptPreset::capture(&name, params),
                    |p| &p.name,
                );
                edit = Some(Edit::SetPresets(next));
                self.new_name.clear();
            }
            if ui
                .add_enabled(!name.is_empty(), egui::Button::new("Save pipeline"))
                .on_hover_text("Save this node's pipeline and load settings as a preset")
                .clicked()
                && let Some(s) = scope_node(doc, scene, node)
            {
                let mut next = presets.clone();
                upsert(
                    &mut next.pipelines,
                    PipelinePreset::capture(&name, s),
                    |p| &p.name,
                );
                edit = Some(Edit::SetPresets(next));
                self.new_name.clear();
            }
        });
        if let Some(e) = self.pipelines(ui, doc, scene, node, &presets) {
            edit = Some(e);
        }
        edit.and_then(|e| doc.apply(e).err().map(|e| e.to_string()))
    }

    /// The pipeline preset list: picking one reloads the node with it.
    fn pipelines(
        &mut self,
        ui: &mut Ui,
        doc: &Document,
        scene: usize,
        node: &NodeId,
        presets: &Presets,
    ) -> Option<Edit> {
        let s = scope_node(doc, scene, node)?;
        if presets.pipelines.is_empty() {
            return None;
        }
        let mut edit = None;
        ui.horizontal(|ui| {
            let label = ui.label("Pipeline preset").id;
            let current = presets
                .pipelines
                .iter()
                .find(|p| PipelinePreset::capture(&p.name, s) == **p)
                .map_or(format!("{} (unsaved)", s.pipeline), |p| p.name.clone());
            egui::ComboBox::from_id_salt(("pipeline_preset", scene, node))
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (i, p) in presets.pipelines.iter().enumerate() {
                        let r = ui
                            .selectable_label(false, format!("{} · {}", p.name, p.pipeline))
                            .on_hover_text("Load this pipeline (right-click: rename, delete)");
                        if r.clicked() {
                            edit = Some(Edit::SetKind {
                                scene,
                                node: node.clone(),
                                kind: NodeKind::Scope(p.apply_to(s)),
                            });
                        }
                        r.context_menu(|ui| {
                            if let Some(e) = self.manage(ui, presets, Kind::Pipeline, i) {
                                edit = Some(e);
                            }
                        });
                    }
                })
                .response
                .labelled_by(label);
        });
        edit
    }

    /// A preset's right-click menu: rename, delete.
    fn manage(&mut self, ui: &mut Ui, presets: &Presets, kind: Kind, i: usize) -> Option<Edit> {
        let mut next = presets.clone();
        let name = match kind {
            Kind::Prompt => &mut next.prompts.get_mut(i)?.name,
            Kind::Pipeline => &mut next.pipelines.get_mut(i)?.name,
        };
        ui.text_edit_singleline(&mut self.rename);
        let new = self.rename.trim().to_owned();
        let taken = match kind {
            Kind::Prompt => presets.prompts.iter().any(|p| p.name == new),
            Kind::Pipeline => presets.pipelines.iter().any(|p| p.name == new),
        };
        if ui
            .add_enabled(!new.is_empty() && !taken, egui::Button::new("Rename"))
            .clicked()
        {
            *name = new;
            self.rename.clear();
            ui.close();
            return Some(Edit::SetPresets(next));
        }
        if ui.button("Delete").clicked() {
            match kind {
                Kind::Prompt => {
                    next.prompts.remove(i);
                }
                Kind::Pipeline => {
                    next.pipelines.remove(i);
                }
            }
            ui.close();
            return Some(Edit::SetPresets(next));
        }
        None
    }
}

/// Replaces the preset of the same name, or adds it: saving under a name updates that preset.
fn upsert<T>(list: &mut Vec<T>, preset: T, name: impl Fn(&T) -> &String) {
    match list.iter().position(|p| name(p) == name(&preset)) {
        Some(i) => list[i] = preset,
        None => list.push(preset),
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Prompt,
    Pipeline,
}
