//! The Scope panel: one block per Scope node of the program and preview scenes, for the
//! performer's live controls.
//!
//! - A health badge and one line of numbers ([`ScopeLive`], from the host).
//! - Prompts as (text, weight) rows, edited as a draft and sent on Enter or "Send", never per
//!   keystroke: each send is one scene-state edit (one undo step), so one parameter update
//!   reaches the server, with the prompt transition when one is set.
//! - The VACE reference strength as a slider applied while dragging, at most every
//!   [`SLIDER_INTERVAL`] and once more on release, inside one gesture (one undo step); the
//!   Scope worker coalesces again before the network.
//!
//! - The pipeline, picked from the server's list, with its load settings (`pipeline_panel`).
//! - Presets (`presets`): recall, save, rename, delete.
//!
//! What is sent is the scene's Scope state (the scene's override of the node's parameters),
//! so it travels with the scene when it is taken to program.

use std::collections::HashMap;

use document::{Document, Edit};
use egui::{Color32, RichText, Ui};
use show::node::{Interpolation, NodeKind, Prompt, ScopeNode, ScopeParams};
use show::pipeline::PipelineInfo;
use show::spec::ParamType;
use show::{NodeId, Scene};

use crate::inspector::{Gestures, param_row};
use crate::{ReferenceState, ScopeLive, style};

/// The slider's edits while dragging: 10 per second at most.
pub const SLIDER_INTERVAL: f64 = 0.1;

#[derive(Debug, Default)]
pub(crate) struct ScopePanel {
    /// Prompt drafts by (scene, node): what the document said when editing began, and the
    /// edit so far.
    drafts: HashMap<(usize, NodeId), (Draft, Draft)>,
    /// When the reference-strength slider last applied an edit.
    last_slider_edit: f64,
    presets: crate::presets::PresetsUi,
    pipeline: crate::pipeline_panel::PipelineUi,
    /// The denoising steps as typed, by (scene, node).
    steps_text: HashMap<(usize, NodeId), String>,
    /// A reference image path being typed, by (scene, node).
    new_ref: HashMap<(usize, NodeId), String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Draft {
    prompts: Vec<Prompt>,
    interpolation: Interpolation,
    transition_steps: Option<u32>,
}

impl Draft {
    fn of(p: &ScopeParams) -> Self {
        Draft {
            prompts: p.prompts.clone(),
            interpolation: p.interpolation,
            transition_steps: p.transition_steps,
        }
    }
}

/// The edit that makes `scope` the scene's Scope state: what every control here sends.
fn scene_scope(scene: usize, scope: ScopeParams) -> Edit {
    Edit::SetSceneScope {
        scene,
        scope: Some(scope),
    }
}

/// `params` with `change` made.
fn with_change(params: &ScopeParams, change: impl FnOnce(&mut ScopeParams)) -> ScopeParams {
    let mut next = params.clone();
    change(&mut next);
    next
}

/// The Scope node `node` of `scene`.
pub(crate) fn scope_node<'d>(
    doc: &'d Document,
    scene: usize,
    node: &NodeId,
) -> Option<&'d ScopeNode> {
    match doc
        .show()
        .scenes
        .get(scene)?
        .nodes
        .get(node)
        .map(|n| &n.kind)
    {
        Some(NodeKind::Scope(s)) => Some(s),
        _ => None,
    }
}

/// The parameters a Scope node plays with in `scene`: the scene's override, else the node's.
pub fn effective_params(scene: &Scene, node: &NodeId) -> Option<ScopeParams> {
    match scene.nodes.get(node).map(|n| &n.kind) {
        Some(NodeKind::Scope(s)) => Some(scene.scope.clone().unwrap_or_else(|| s.params.clone())),
        _ => None,
    }
}

impl ScopePanel {
    /// The blocks for the Scope nodes of `scenes` (program first, then preview); returns a
    /// refusal to show, if an edit was refused.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        scenes: &[(usize, &str)],
        live: &HashMap<NodeId, ScopeLive>,
        media: &[std::path::PathBuf],
    ) -> Option<String> {
        let mut error = None;
        let mut seen = Vec::new();
        for &(scene, role) in scenes {
            let Some(s) = doc.show().scenes.get(scene) else {
                continue;
            };
            let nodes: Vec<NodeId> = s
                .nodes
                .iter()
                .filter(|(_, n)| matches!(n.kind, NodeKind::Scope(_)))
                .map(|(id, _)| id.clone())
                .collect();
            let name = s.name.clone();
            for node in nodes {
                seen.push((scene, node.clone()));
                let title = format!("Scope “{node}” · {name} ({role})");
                egui::CollapsingHeader::new(RichText::new(title).strong())
                    .id_salt(("scope_panel", scene, &node))
                    .default_open(true)
                    .show(ui, |ui| {
                        let l = live.get(&node);
                        if let Some(l) = l {
                            status(ui, l);
                        }
                        if let Some(e) = self.node_block(ui, doc, scene, &node, l, media) {
                            error = Some(e);
                        }
                    });
            }
        }
        // Drafts of nodes no longer shown are dropped: a draft is for now, not for later.
        self.drafts.retain(|k, _| seen.contains(k));
        self.steps_text.retain(|k, _| seen.contains(k));
        self.new_ref.retain(|k, _| seen.contains(k));
        error
    }

    fn node_block(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        scene: usize,
        node: &NodeId,
        live: Option<&ScopeLive>,
        media: &[std::path::PathBuf],
    ) -> Option<String> {
        let offered: Option<&[PipelineInfo]> = live.and_then(|l| l.pipelines.as_deref());
        let params = doc
            .show()
            .scenes
            .get(scene)
            .and_then(|s| effective_params(s, node))?;
        let sent = Draft::of(&params);
        let (base, draft) = self
            .drafts
            .entry((scene, node.clone()))
            .or_insert_with(|| (sent.clone(), sent.clone()));
        if draft == base && *base != sent {
            // Nothing typed, and the document changed (an undo, a reload, another surface):
            // follow it.
            *base = sent.clone();
            *draft = sent.clone();
        }
        let mut send = prompts(ui, draft, scene, node);
        let changed = *draft != sent;
        ui.horizontal(|ui| {
            let r = ui
                .add_enabled(changed, egui::Button::new("Send"))
                .on_hover_text("Send the prompts to the server (or press Enter in a prompt)");
            send |= r.clicked();
            if ui
                .add_enabled(changed, egui::Button::new("Revert"))
                .on_hover_text("Forget the unsent changes")
                .clicked()
            {
                *draft = sent.clone();
            }
            if changed {
                ui.label(RichText::new("not sent").italics().weak());
            }
        });
        let mut error = None;
        if send && *draft != sent {
            let next = with_change(&params, |p| {
                p.prompts = draft.prompts.clone();
                p.interpolation = draft.interpolation;
                p.transition_steps = draft.transition_steps;
            });
            match doc.apply(scene_scope(scene, next)) {
                Ok(_) => *base = draft.clone(),
                Err(e) => error = Some(e.to_string()),
            }
        }
        ui.separator();
        if let Some(s) = scope_node(doc, scene, node)
            && let Some(edit) = self.pipeline.show(ui, scene, node, s, &params, offered)
            && let Err(e) = doc.apply(edit)
        {
            error = Some(e.to_string());
        }
        if let Some(e) = self.runtime(ui, doc, scene, node, &params) {
            error = Some(e);
        }
        ui.separator();
        if let Some(e) = self.vace(ui, doc, scene, node, &params) {
            error = Some(e);
        }
        if let Some(e) = self.references(ui, doc, scene, node, &params, live, media) {
            error = Some(e);
        }
        ui.separator();
        if let Some(e) = self.presets.prompts(ui, doc, scene, node, &params) {
            error = Some(e);
        }
        error
    }

    /// The other runtime parameters of the scene's Scope state: noise, cache management and
    /// input mode from the spec table's rows (applied as they change, one gesture one step),
    /// and the denoising steps as a list typed on one line (applied on Enter).
    fn runtime(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        scene: usize,
        node: &NodeId,
        params: &ScopeParams,
    ) -> Option<String> {
        let s = scope_node(doc, scene, node)?;
        let kind = NodeKind::Scope(ScopeNode {
            params: params.clone(),
            ..s.clone()
        });
        let to_edit = |k: NodeKind| match k {
            NodeKind::Scope(s) => scene_scope(scene, s.params),
            _ => scene_scope(scene, params.clone()),
        };
        let mut g = Gestures {
            doc,
            error: None,
            media: &[],
        };
        egui::CollapsingHeader::new("Runtime")
            .id_salt(("scope_runtime", scene, node))
            .show(ui, |ui| {
                egui::Grid::new(("scope_runtime_grid", scene, node))
                    .num_columns(3)
                    .show(ui, |ui| {
                        for name in RUNTIME_ROWS {
                            if let Some(row) = kind.spec().param(name) {
                                param_row(ui, &mut g, &kind, row, node.as_str(), &to_edit);
                            }
                        }
                    });
                let shown = params
                    .denoising_steps
                    .as_deref()
                    .map_or(String::new(), |s| {
                        s.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                    });
                let text = self
                    .steps_text
                    .entry((scene, node.clone()))
                    .or_insert_with(|| shown.clone());
                ui.horizontal(|ui| {
                    let label = ui.label("Denoising steps").id;
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(text)
                                .hint_text("server default")
                                .desired_width(150.0),
                        )
                        .labelled_by(label)
                        .on_hover_text(
                            "Timesteps of the denoising schedule, e.g. 1000, 750, 500, 250; \
                             empty = server default. Enter sends.",
                        );
                    if !r.has_focus() && *text != shown && !r.lost_focus() {
                        // Changed elsewhere (undo, a preset): follow.
                        *text = shown.clone();
                    }
                    if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        match parse_steps(text, &kind) {
                            Ok(steps) if steps != params.denoising_steps => {
                                let next = with_change(params, |p| p.denoising_steps = steps);
                                g.track(&r, Some(scene_scope(scene, next)));
                            }
                            Ok(_) => {}
                            Err(e) => g.error = Some(e),
                        }
                    }
                });
            });
        g.error
    }

    /// The VACE reference images: a thumbnail, the file and its upload state per image,
    /// moved up or down or removed with a click, and a path typed to add one. Each change is
    /// one scene-state edit (the Scope worker uploads what is new).
    fn references(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        scene: usize,
        node: &NodeId,
        params: &ScopeParams,
        live: Option<&ScopeLive>,
        media: &[std::path::PathBuf],
    ) -> Option<String> {
        let refs = &params.vace_ref_images;
        let mut next: Option<Vec<std::path::PathBuf>> = None;
        ui.label(RichText::new("References").strong());
        if refs.is_empty() {
            ui.label(RichText::new("none: the avatar is not locked to a picture").weak());
        }
        for (i, path) in refs.iter().enumerate() {
            let known = live.and_then(|l| l.references.get(path));
            ui.horizontal(|ui| {
                let thumb = egui::vec2(48.0, 27.0);
                match known.and_then(|r| r.picture) {
                    Some((texture, [w, h])) => {
                        let fit = (thumb.x / w.max(1) as f32).min(thumb.y / h.max(1) as f32);
                        ui.add(egui::Image::new(egui::load::SizedTexture::new(
                            texture,
                            egui::vec2(w as f32 * fit, h as f32 * fit),
                        )));
                    }
                    None => {
                        let (r, _) = ui.allocate_exact_size(thumb, egui::Sense::hover());
                        ui.painter().rect_filled(r, 2.0, Color32::from_gray(40));
                    }
                }
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                ui.label(name).on_hover_text(path.display().to_string());
                let (text, colour) = match known.map(|r| &r.state) {
                    Some(ReferenceState::Uploaded) => {
                        ("uploaded".to_owned(), style::health(crate::Health::Healthy))
                    }
                    Some(ReferenceState::Failed(e)) => (format!("failed: {e}"), style::ERROR),
                    _ => ("waiting".to_owned(), style::health(crate::Health::Watch)),
                };
                ui.add(egui::Label::new(RichText::new(text).small().color(colour)).truncate());
                let mut moved = refs.clone();
                if ui
                    .add_enabled(i > 0, egui::Button::new("Up").small())
                    .on_hover_text("Earlier")
                    .clicked()
                {
                    moved.swap(i, i - 1);
                    next = Some(moved.clone());
                }
                if ui
                    .add_enabled(i + 1 < refs.len(), egui::Button::new("Down").small())
                    .on_hover_text("Later")
                    .clicked()
                {
                    moved.swap(i, i + 1);
                    next = Some(moved.clone());
                }
                if ui
                    .small_button("×")
                    .on_hover_text("Remove this reference")
                    .clicked()
                {
                    moved.remove(i);
                    next = Some(moved);
                }
            });
        }
        ui.horizontal(|ui| {
            let text = self.new_ref.entry((scene, node.clone())).or_default();
            let r = ui.add(
                egui::TextEdit::singleline(text)
                    .hint_text("image file, relative to the show")
                    .desired_width(170.0),
            );
            let typed = text.trim().to_owned();
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let add = ui
                .add_enabled(!typed.is_empty(), egui::Button::new("Add"))
                .on_hover_text("Add it as a reference image (uploaded to the server)")
                .clicked();
            if (add || enter) && !typed.is_empty() {
                let mut more = refs.clone();
                more.push(std::path::PathBuf::from(&typed));
                next = Some(more);
                text.clear();
            }
            if let Some(picked) =
                crate::inspector::media_picker(ui, media, ("ref_pick", scene, node))
            {
                let mut more = refs.clone();
                more.push(picked);
                next = Some(more);
            }
        });
        let list = next?;
        let next = with_change(params, |p| p.vace_ref_images = list);
        doc.apply(scene_scope(scene, next))
            .err()
            .map(|e| e.to_string())
    }

    /// The reference-strength slider, applied at most every [`SLIDER_INTERVAL`] while dragged.
    fn vace(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        scene: usize,
        node: &NodeId,
        params: &ScopeParams,
    ) -> Option<String> {
        let mut value = params.vace_context_scale.unwrap_or(1.0);
        let r = ui
            .horizontal(|ui| {
                let label = ui.label("Reference strength").id;
                ui.add(
                    egui::Slider::new(&mut value, 0.0..=2.0)
                        .step_by(0.01)
                        .clamping(egui::SliderClamping::Edits),
                )
                .labelled_by(label)
            })
            .inner
            .on_hover_text(format!(
                "VACE context scale of “{node}”: how strongly the reference images steer it"
            ));
        let now = ui.input(|i| i.time);
        if r.drag_started() {
            doc.begin_gesture();
            self.last_slider_edit = f64::NEG_INFINITY;
        }
        let due = now - self.last_slider_edit >= SLIDER_INTERVAL || !r.dragged();
        let mut error = None;
        if Some(value) != params.vace_context_scale && (r.changed() || r.drag_stopped()) && due {
            self.last_slider_edit = now;
            let next = with_change(params, |p| p.vace_context_scale = Some(value));
            if let Err(e) = doc.apply(scene_scope(scene, next)) {
                error = Some(e.to_string());
            }
        }
        if r.drag_stopped() {
            doc.end_gesture();
        }
        error
    }
}

/// The spec table's rows shown under "Runtime" (the rest have their own controls).
const RUNTIME_ROWS: [&str; 3] = [
    "params.noise_scale",
    "params.manage_cache",
    "params.input_mode",
];

/// Denoising steps typed as `1000, 750, 500`: each in the spec row's range, empty for the
/// server's default.
fn parse_steps(text: &str, kind: &NodeKind) -> Result<Option<Vec<u32>>, String> {
    let (min, max) = match kind.spec().param("params.denoising_steps").map(|r| &r.ty) {
        Some(ParamType::Int { min, max }) => (*min, *max),
        _ => (0, i64::from(u32::MAX)),
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let steps = text
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<u32>() {
            Ok(n) if (min..=max).contains(&i64::from(n)) => Ok(n),
            _ => Err(format!(
                "denoising steps are whole numbers in {min}..={max}, separated by commas, not {s:?}"
            )),
        })
        .collect::<Result<Vec<u32>, String>>()?;
    Ok(Some(steps))
}

/// The prompt rows of a draft; `true` when Enter was pressed in one (send now).
fn prompts(ui: &mut Ui, d: &mut Draft, scene: usize, node: &NodeId) -> bool {
    let mut send = false;
    let shares = show::node::prompt_shares(&d.prompts);
    let mut remove = None;
    for (i, (p, share)) in d.prompts.iter_mut().zip(shares).enumerate() {
        ui.horizontal(|ui| {
            let r = ui.add(
                egui::TextEdit::singleline(&mut p.text)
                    .id(egui::Id::new(("prompt", scene, node, i)))
                    .hint_text("prompt")
                    .desired_width(170.0),
            );
            if r.lost_focus() && ui.input(|inp| inp.key_pressed(egui::Key::Enter)) {
                send = true;
            }
            ui.add(
                egui::Slider::new(&mut p.weight, 0.0..=1.0)
                    .clamping(egui::SliderClamping::Never)
                    .show_value(false),
            )
            .on_hover_text("Weight");
            ui.label(format!("{:.0} %", share * 100.0));
            if ui.small_button("×").on_hover_text("Remove").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        d.prompts.remove(i);
    }
    ui.horizontal(|ui| {
        if ui.button("+ Add prompt").clicked() {
            d.prompts.push(Prompt {
                text: String::new(),
                weight: 1.0,
            });
        }
        let names = ["Linear", "Slerp"];
        let mut chosen = usize::from(d.interpolation == Interpolation::Slerp);
        egui::ComboBox::from_id_salt(("interpolation", scene, node))
            .selected_text(names[chosen])
            .show_index(ui, &mut chosen, names.len(), |i| names[i])
            .on_hover_text("How weighted prompts are blended");
        d.interpolation = if chosen == 1 {
            Interpolation::Slerp
        } else {
            Interpolation::Linear
        };
    });
    ui.horizontal(|ui| {
        let mut steps = d.transition_steps.unwrap_or(0);
        let label = ui.label("Transition").id;
        ui.add(
            egui::DragValue::new(&mut steps)
                .range(0..=64)
                .suffix(" chunks"),
        )
        .labelled_by(label)
        .on_hover_text("Blend a prompt change over this many chunks; 0 = at once");
        d.transition_steps = (steps > 0).then_some(steps);
    });
    send
}

/// The health badge and, below it, the numbers behind it (wrapped: they must not widen the
/// panel over the graph).
fn status(ui: &mut Ui, l: &ScopeLive) {
    let colour = style::health(l.health);
    ui.label(
        RichText::new(format!(" {} ", l.state))
            .strong()
            .color(Color32::WHITE)
            .background_color(colour),
    )
    .on_hover_text(l.health.label());
    ui.add(egui::Label::new(RichText::new(&l.detail).small()).wrap());
}
