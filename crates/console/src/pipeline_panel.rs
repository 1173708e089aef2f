//! The Scope panel's pipeline block: the pipeline picked from what the node's server offers,
//! a warning when it ignores what the scene sends (prompts, VACE), and its load settings with
//! one control per field of the server's own schema (`show::pipeline`), so a pipeline or plugin
//! the app has never seen still gets the right controls.
//!
//! Load settings are a draft applied with "Load": each load reloads the pipeline on the server,
//! so it never happens per drag. A value outside what the server accepts is shown with the
//! reason and cannot be loaded.

use std::collections::HashMap;

use document::Edit;
use egui::{RichText, Ui};
use show::NodeId;
use show::node::{NodeKind, ScopeLoad, ScopeNode, ScopeParams};
use show::pipeline::{FieldKind, LoadField, LoadValue, PipelineInfo};

use crate::style;

#[derive(Debug, Default)]
pub(crate) struct PipelineUi {
    /// Load settings being edited, by node: what the node had when editing began, and the
    /// draft.
    drafts: HashMap<NodeId, (ScopeLoad, ScopeLoad)>,
}

impl PipelineUi {
    /// The block for Scope node `node` of `scene`; returns the edit to make, if any.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        scene: usize,
        node: &NodeId,
        s: &ScopeNode,
        params: &ScopeParams,
        offered: Option<&[PipelineInfo]>,
    ) -> Option<Edit> {
        let mut edit = None;
        let info = offered.and_then(|list| list.iter().find(|p| p.id == s.pipeline));
        let set = |pipeline: String, load: ScopeLoad| Edit::SetKind {
            scene,
            node: node.clone(),
            kind: NodeKind::Scope(ScopeNode {
                pipeline,
                load,
                ..s.clone()
            }),
        };
        ui.horizontal(|ui| {
            let label = ui.label("Pipeline").id;
            let Some(list) = offered else {
                ui.label(RichText::new(&s.pipeline).monospace());
                ui.label(RichText::new("(the server's list is not in yet)").weak());
                return;
            };
            let shown = info.map_or(format!("{} (not offered)", s.pipeline), |p| p.name.clone());
            egui::ComboBox::from_id_salt(("pipeline", scene, node))
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for p in list {
                        let r = ui
                            .selectable_label(p.id == s.pipeline, &p.name)
                            .on_hover_text(format!("Load “{}” on the server", p.id));
                        if r.clicked() && p.id != s.pipeline {
                            edit = Some(set(p.id.clone(), adapt(&s.load, p)));
                        }
                    }
                })
                .response
                .labelled_by(label);
        });
        if offered.is_some() && info.is_none() {
            warn(
                ui,
                format!(
                    "This server does not offer “{}”: pick one above",
                    s.pipeline
                ),
            );
        }
        if let Some(p) = info {
            for w in warnings(p, params) {
                warn(ui, w);
            }
            if let Some(load) = self.load_settings(ui, scene, node, s, p) {
                edit = Some(set(s.pipeline.clone(), load));
            }
        }
        edit
    }

    /// The load settings of pipeline `p` as a draft; the new load when "Load" is pressed.
    fn load_settings(
        &mut self,
        ui: &mut Ui,
        scene: usize,
        node: &NodeId,
        s: &ScopeNode,
        p: &PipelineInfo,
    ) -> Option<ScopeLoad> {
        if p.fields.is_empty() {
            return None;
        }
        let (base, draft) = self
            .drafts
            .entry(node.clone())
            .or_insert_with(|| (s.load.clone(), s.load.clone()));
        if *draft == *base && *base != s.load {
            // Nothing edited, and the node changed (undo, a preset, another surface): follow.
            *base = s.load.clone();
            *draft = s.load.clone();
        }
        let mut load = None;
        egui::CollapsingHeader::new("Load settings")
            .id_salt(("load_settings", scene, node))
            .show(ui, |ui| {
                let mut problems = Vec::new();
                egui::Grid::new(("load_grid", scene, node))
                    .num_columns(2)
                    .show(ui, |ui| {
                        for f in &p.fields {
                            let label = ui.label(&f.title).on_hover_text(help(f));
                            let mut value = draft.get(&f.key);
                            ui.horizontal(|ui| field_widget(ui, f, &mut value, label.id));
                            if value != draft.get(&f.key)
                                && let Err(e) = draft.set(&f.key, value.clone())
                            {
                                problems.push(e);
                            }
                            if let Err(e) = f.check(draft.get(&f.key).as_ref()) {
                                problems.push(e);
                            }
                            ui.end_row();
                        }
                    });
                for e in &problems {
                    ui.label(RichText::new(e).color(style::ERROR));
                }
                let changed = *draft != s.load;
                ui.horizontal(|ui| {
                    let ok = changed && problems.is_empty();
                    if ui
                        .add_enabled(ok, egui::Button::new("Load"))
                        .on_hover_text("Reload the pipeline on the server with these settings")
                        .clicked()
                    {
                        load = Some(draft.clone());
                        *base = draft.clone();
                    }
                    if ui
                        .add_enabled(changed, egui::Button::new("Revert"))
                        .clicked()
                    {
                        *draft = s.load.clone();
                    }
                    if changed {
                        ui.label(RichText::new("not loaded").italics().weak());
                    }
                });
            });
        load
    }
}

/// What the scene sends that pipeline `p` ignores.
fn warnings(p: &PipelineInfo, params: &ScopeParams) -> Vec<String> {
    let mut out = Vec::new();
    if !p.supports_prompts && params.prompts.iter().any(|x| !x.text.trim().is_empty()) {
        out.push(format!(
            "“{}” does not take prompts: they change nothing",
            p.name
        ));
    }
    if !p.supports_vace
        && (!params.vace_ref_images.is_empty() || params.vace_context_scale.is_some())
    {
        out.push(format!(
            "“{}” does not use VACE: the reference images and strength change nothing",
            p.name
        ));
    }
    out
}

fn warn(ui: &mut Ui, text: String) {
    ui.label(RichText::new(format!("⚠ {text}")).color(style::health(crate::Health::Watch)));
}

/// `load` for pipeline `p`: the typed fields kept, extra values `p` does not declare dropped
/// (another pipeline's settings mean nothing to it).
fn adapt(load: &ScopeLoad, p: &PipelineInfo) -> ScopeLoad {
    let mut next = load.clone();
    next.extra.retain(|k, _| p.field(k).is_some());
    next
}

fn help(f: &LoadField) -> String {
    let default = f
        .default
        .as_ref()
        .map_or(String::new(), |d| format!(" (default {d})"));
    let key = format!("`{}`{default}", f.key);
    if f.help.is_empty() {
        key
    } else {
        format!("{}\n{key}", f.help)
    }
}

/// The control for one field; `value` is `None` while unset (the server's default).
fn field_widget(ui: &mut Ui, f: &LoadField, value: &mut Option<LoadValue>, label: egui::Id) {
    if f.nullable {
        let mut auto = value.is_none();
        if ui
            .checkbox(&mut auto, "auto")
            .on_hover_text("Leave it to the server")
            .changed()
        {
            *value = if auto {
                None
            } else {
                Some(f.default.clone().unwrap_or_else(|| first_value(&f.kind)))
            };
        }
        if value.is_none() {
            return;
        }
    }
    let mut v = value
        .clone()
        .or_else(|| f.default.clone())
        .unwrap_or_else(|| first_value(&f.kind));
    // A whole number where a number is asked for is that number.
    if let (FieldKind::Number { .. }, LoadValue::Int(i)) = (&f.kind, &v) {
        v = LoadValue::Float(*i as f64);
    }
    let shown = v.clone();
    let r = match (&f.kind, &mut v) {
        (FieldKind::Integer { min, max }, LoadValue::Int(i)) => ui.add(
            egui::DragValue::new(i)
                .range(min.unwrap_or(i64::MIN)..=max.unwrap_or(i64::MAX))
                // A bad value from the file stays as it is, with the reason shown.
                .clamp_existing_to_range(false),
        ),
        (FieldKind::Number { min, max }, LoadValue::Float(x)) => {
            let (lo, hi) = (min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX));
            let speed = if lo.is_finite() && hi.is_finite() && hi - lo < 1e6 {
                (hi - lo) / 200.0
            } else {
                0.1
            };
            ui.add(
                egui::DragValue::new(x)
                    .range(lo..=hi)
                    .speed(speed)
                    .clamp_existing_to_range(false),
            )
        }
        (FieldKind::Boolean, LoadValue::Bool(b)) => ui.add(egui::Checkbox::without_text(b)),
        (FieldKind::Choice(options), LoadValue::Text(t)) => {
            egui::ComboBox::from_id_salt(("load_choice", label))
                .selected_text(t.as_str())
                .show_ui(ui, |ui| {
                    for o in options {
                        ui.selectable_value(t, o.clone(), o);
                    }
                })
                .response
        }
        (FieldKind::Text, LoadValue::Text(t)) => ui.text_edit_singleline(t),
        // A value of another type (from a hand-edited file): shown, and `check` says why it
        // cannot be loaded.
        (_, other) => ui.label(RichText::new(other.to_string()).color(style::ERROR)),
    };
    let r = r.labelled_by(label);
    if matches!(f.kind, FieldKind::Boolean) {
        // A check box names itself (here with no text); the row's title is its name.
        ui.ctx()
            .accesskit_node_builder(r.id, |n| n.set_label(f.title.clone()));
    }
    if v != shown {
        *value = Some(v);
    }
}

/// A value of the right type for a field with neither value nor default.
fn first_value(kind: &FieldKind) -> LoadValue {
    match kind {
        FieldKind::Integer { min, max } => {
            LoadValue::Int(0.max(min.unwrap_or(i64::MIN)).min(max.unwrap_or(i64::MAX)))
        }
        FieldKind::Number { min, max } => LoadValue::Float(
            0f64.max(min.unwrap_or(f64::MIN))
                .min(max.unwrap_or(f64::MAX)),
        ),
        FieldKind::Boolean => LoadValue::Bool(false),
        FieldKind::Choice(options) => LoadValue::Text(options.first().cloned().unwrap_or_default()),
        FieldKind::Text => LoadValue::Text(String::new()),
    }
}
