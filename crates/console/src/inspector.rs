//! The inspector: one widget per parameter row of the spec table for the selected node, and
//! the edited scene's transition.
//!
//! Every change is applied at once (the program shows it while the slider moves), inside a
//! gesture that starts when a drag starts or a field gains focus and ends when it stops or
//! loses focus, so one slider drag is one undo step.

use std::path::PathBuf;

use document::{Document, Edit};
use egui::{Response, RichText, Ui};
use show::error::MAX_TRANSITION_SECS;
use show::node::NodeKind;
use show::scene::{Transition, TransitionKind};
use show::spec::{ParamSpec, ParamType, Value};
use show::{NodeId, Rgba};

use crate::style;

/// What the inspector asks of the console.
#[derive(Default)]
pub(crate) struct InspectorOut {
    pub view: Option<NodeId>,
    pub error: Option<String>,
}

/// Applies the edit a widget made, inside the gesture its response opened.
pub(crate) struct Gestures<'d> {
    pub doc: &'d mut Document,
    pub error: Option<String>,
    /// Image files near the show, for the file fields' pickers.
    pub media: &'d [PathBuf],
}

impl Gestures<'_> {
    pub fn track(&mut self, response: &Response, edit: Option<Edit>) {
        if response.drag_started() || response.gained_focus() {
            self.doc.begin_gesture();
        }
        if let Some(edit) = edit
            && let Err(e) = self.doc.apply(edit)
        {
            self.error = Some(e.to_string());
        }
        if response.drag_stopped() || response.lost_focus() {
            self.doc.end_gesture();
        }
    }
}

pub(crate) fn show(
    ui: &mut Ui,
    doc: &mut Document,
    scene: usize,
    node: Option<&NodeId>,
    media: &[PathBuf],
) -> InspectorOut {
    let mut g = Gestures {
        doc,
        error: None,
        media,
    };
    let mut out = InspectorOut::default();
    // Full width, no shrink: a wide row scrolls instead of widening the panel over the graph.
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            transition(ui, &mut g, scene);
            ui.separator();
            match node {
                Some(id) => node_params(ui, &mut g, scene, id, &mut out),
                None => {
                    ui.label(RichText::new("Select a node to edit it.").weak());
                }
            }
        });
    out.error = g.error;
    out
}

fn transition(ui: &mut Ui, g: &mut Gestures, scene: usize) {
    let Some(s) = g.doc.show().scenes.get(scene) else {
        return;
    };
    ui.heading(format!("Scene “{}”", s.name));
    let before = s.transition;
    let mut t = before;
    let names = ["Cut", "Fade", "Fade through colour", "Wipe"];
    let index = |k: &TransitionKind| match k {
        TransitionKind::Cut => 0,
        TransitionKind::Fade => 1,
        TransitionKind::FadeThrough(_) => 2,
        TransitionKind::Wipe => 3,
    };
    let edit = |t: Transition| Edit::SetTransition {
        scene,
        transition: t,
    };
    egui::Grid::new("transition").num_columns(2).show(ui, |ui| {
        let label = ui.label("Transition").id;
        let mut chosen = index(&t.kind);
        let r = egui::ComboBox::from_id_salt("transition_kind")
            .selected_text(names[chosen])
            .show_index(ui, &mut chosen, names.len(), |i| names[i])
            .labelled_by(label);
        if chosen != index(&t.kind) {
            t.kind = match chosen {
                1 => TransitionKind::Fade,
                2 => TransitionKind::FadeThrough(Rgba::BLACK),
                3 => TransitionKind::Wipe,
                _ => TransitionKind::Cut,
            };
        }
        g.track(&r, (t != before).then(|| edit(t)));
        ui.end_row();
        if let TransitionKind::FadeThrough(c) = t.kind {
            ui.label("Through");
            let mut rgba = c.to_array();
            let r = ui.color_edit_button_rgba_unmultiplied(&mut rgba);
            let mut n = t;
            if r.changed() {
                n.kind = TransitionKind::FadeThrough(Rgba(rgba[0], rgba[1], rgba[2], rgba[3]));
            }
            g.track(&r, (n != t).then(|| edit(n)));
            ui.end_row();
        }
        let label = ui.label("Duration").id;
        let mut d = t.duration;
        let r = ui
            .add(
                egui::Slider::new(&mut d, 0.0..=MAX_TRANSITION_SECS)
                    .suffix(" s")
                    .clamping(egui::SliderClamping::Edits),
            )
            .labelled_by(label);
        let mut n = t;
        n.duration = d;
        g.track(&r, (r.changed() && d != t.duration).then(|| edit(n)));
        ui.end_row();
    });
}

fn node_params(ui: &mut Ui, g: &mut Gestures, scene: usize, id: &NodeId, out: &mut InspectorOut) {
    let Some(node) = g.doc.show().scenes.get(scene).and_then(|s| s.nodes.get(id)) else {
        return;
    };
    let kind = node.kind.clone();
    let spec = kind.spec();
    ui.horizontal(|ui| {
        ui.heading(id.as_str());
        if ui
            .button("View")
            .on_hover_text("Show this node's output in the viewer")
            .clicked()
        {
            out.view = Some(id.clone());
        }
    });
    ui.label(RichText::new(spec.label).strong())
        .on_hover_text(spec.help);
    ui.label(RichText::new(spec.help).small().weak());
    let set_kind = |k: NodeKind| Edit::SetKind {
        scene,
        node: id.clone(),
        kind: k,
    };
    egui::Grid::new(("params", id.as_str()))
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for p in spec.params.iter().filter(|p| !p.list) {
                param_row(ui, g, &kind, p, id.as_str(), &set_kind);
            }
        });
    crate::inspector_lists::lists(ui, g, scene, id, &kind);
}

/// One row of a 3-column grid for the single-value parameter `p` of `kind`: its label, its
/// widget (with a "set" box when optional) and a reset button. A change becomes
/// `edit(changed kind)`, applied inside the widget's gesture. Rows that do not apply to
/// `kind`'s current state are skipped.
pub(crate) fn param_row(
    ui: &mut Ui,
    g: &mut Gestures,
    kind: &NodeKind,
    p: &ParamSpec,
    salt: &str,
    edit: &dyn Fn(NodeKind) -> Edit,
) {
    let spec = kind.spec();
    if (p.len)(kind) == 0 {
        return;
    }
    let value = (p.get)(kind, 0);
    if value.is_none() && !p.optional {
        return;
    }
    let label = ui.label(p.label).on_hover_text(p.help).id;
    let mut next = None;
    let r = ui.horizontal(|ui| {
        let mut r = None;
        if p.optional {
            let mut on = value.is_some();
            let c = ui
                .checkbox(&mut on, "set")
                .on_hover_text("Unset: the server's default");
            if c.changed() {
                let v = on.then(|| p.default_value(spec).unwrap_or_else(|| fallback(&p.ty)));
                next = Some(v);
            }
            r = Some(c);
        }
        match value.clone() {
            Some(mut v) => {
                let (w, changed) = value_widget(ui, p, &mut v, (salt, p.name, 0), g.media);
                // Screen readers and tests find the widget by its row's label.
                let w = w.labelled_by(label);
                if changed {
                    next = Some(Some(v));
                }
                Some(r.map_or(w.clone(), |c| c.union(w)))
            }
            None => {
                ui.label(RichText::new("server default").weak());
                r
            }
        }
    });
    let default = p.default_value(spec);
    let reset = ui
        .add_enabled(value != default, egui::Button::new("⟲").small())
        .on_hover_text("Reset to default");
    if reset.clicked() {
        next = Some(default);
    }
    let made = next.and_then(|v| {
        let mut k = kind.clone();
        (p.set)(&mut k, 0, v).then(|| edit(k))
    });
    match r.inner {
        Some(resp) => g.track(&resp, made),
        None => g.track(&reset, made),
    }
    ui.end_row();
}

/// A starting value for an optional with no default (the server's own is not known here).
fn fallback(ty: &ParamType) -> Value {
    match ty {
        ParamType::Float { min, max, .. } => Value::Float(0.0f32.clamp(*min, *max)),
        ParamType::Int { min, max } => Value::Int(0i64.clamp(*min, *max)),
        ParamType::Bool => Value::Bool(false),
        ParamType::Color => Value::Color(Rgba::BLACK),
        ParamType::Vec2 { min, max } => {
            let x = 0.0f32.clamp(*min, *max);
            Value::Vec2(x, x)
        }
        ParamType::Choice(names) => Value::Choice(names.first().copied().unwrap_or("")),
        ParamType::Text => Value::Text(String::new()),
        ParamType::Path => Value::Path(PathBuf::new()),
    }
}

/// The widget for one value; returns its response and whether the value changed.
pub(crate) fn value_widget(
    ui: &mut Ui,
    p: &ParamSpec,
    v: &mut Value,
    salt: (&str, &str, usize),
    media: &[PathBuf],
) -> (Response, bool) {
    let before = v.clone();
    let mut picked = false;
    let mut picked_path = false;
    let unit = if p.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", p.unit)
    };
    let r = match (&p.ty, &mut *v) {
        (ParamType::Float { min, max, step }, Value::Float(x)) => ui.add(
            egui::Slider::new(x, *min..=*max)
                .step_by(f64::from(*step))
                .suffix(unit)
                // `Always` re-rounds the value to the step every frame, an edit per frame.
                .clamping(egui::SliderClamping::Edits),
        ),
        (ParamType::Int { min, max }, Value::Int(x)) => {
            ui.add(egui::DragValue::new(x).range(*min..=*max).suffix(unit))
        }
        (ParamType::Bool, Value::Bool(b)) => ui.checkbox(b, ""),
        (ParamType::Color, Value::Color(c)) => {
            let mut rgba = c.to_array();
            let r = ui.color_edit_button_rgba_unmultiplied(&mut rgba);
            // The picker round-trips through HSVA: only a real change may count as one.
            if r.changed() {
                *c = Rgba(rgba[0], rgba[1], rgba[2], rgba[3]);
            }
            r
        }
        (ParamType::Vec2 { min, max }, Value::Vec2(x, y)) => {
            let speed = ((max - min) / 1000.0).clamp(0.001, 1.0);
            let a = ui.add(egui::DragValue::new(x).range(*min..=*max).speed(speed));
            let b = ui.add(
                egui::DragValue::new(y)
                    .range(*min..=*max)
                    .speed(speed)
                    .suffix(unit),
            );
            a.union(b)
        }
        (ParamType::Choice(names), Value::Choice(s)) => {
            let was = *s;
            let r = egui::ComboBox::from_id_salt(salt)
                .selected_text(*s)
                .show_ui(ui, |ui| {
                    for name in names.iter() {
                        ui.selectable_value(s, *name, *name);
                    }
                })
                .response;
            picked = *s != was;
            r
        }
        (ParamType::Text, Value::Text(s)) => {
            ui.add(egui::TextEdit::singleline(s).desired_width(160.0))
        }
        (ParamType::Path, Value::Path(path)) => {
            let mut text = path.display().to_string();
            let r = ui.add(egui::TextEdit::singleline(&mut text).desired_width(140.0));
            if r.changed() {
                *path = PathBuf::from(text);
            }
            if let Some(picked) = media_picker(ui, media, salt) {
                *path = picked;
                picked_path = true;
            }
            r
        }
        _ => ui.colored_label(style::ERROR, "?"),
    };
    // Sliders write back a re-rounded value every frame: only the operator's change counts.
    let changed = (r.changed() || picked || picked_path) && *v != before;
    (r, changed)
}

/// "…": a menu of the image files near the show (the host lists them off the frame path);
/// the one clicked, relative to the show's folder.
pub(crate) fn media_picker(
    ui: &mut Ui,
    media: &[PathBuf],
    salt: impl std::hash::Hash + std::fmt::Debug,
) -> Option<PathBuf> {
    if media.is_empty() {
        ui.add_enabled(false, egui::Button::new("…"))
            .on_disabled_hover_text("No images found near the show file: type the path");
        return None;
    }
    let mut picked = None;
    ui.push_id(salt, |ui| {
        ui.menu_button("…", |ui| {
            egui::ScrollArea::vertical()
                .max_height(300.0)
                .show(ui, |ui| {
                    for f in media {
                        if ui.button(f.display().to_string()).clicked() {
                            picked = Some(f.clone());
                            ui.close();
                        }
                    }
                });
        })
        .response
        .on_hover_text("Pick an image near the show file");
    });
    picked
}
