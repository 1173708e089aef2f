//! The MIDI panel: the MIDI system's state, learn (pick what a control should do, click Learn,
//! move the control) and the show's mappings, each removable.
//!
//! Learning is the host's (it sees the controller's bytes): the panel asks with
//! [`Action::MidiLearn`]; the mapping comes back as an edit of the show's `midi` list.

use document::{Document, Edit};
use egui::{RichText, Ui};
use show::NodeId;
use show::midi::MidiTarget;
use show::spec::ParamType;

use crate::Action;

#[derive(Debug, Default)]
pub(crate) struct MidiPanel {
    /// The target picked for the next learn.
    target: Option<MidiTarget>,
}

impl MidiPanel {
    /// Returns actions for the host and a refusal to show, if an edit was refused.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        scene: usize,
        selected: Option<&NodeId>,
        status: &str,
        learning: Option<&MidiTarget>,
    ) -> (Vec<Action>, Option<String>) {
        let mut actions = Vec::new();
        let mut error = None;
        ui.label(RichText::new(status).weak());
        if let Some(t) = learning {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(format!("Move a control for {}…", t.label())).strong());
                if ui.button("Cancel").clicked() {
                    actions.push(Action::MidiLearn(None));
                }
            });
        } else {
            let targets = targets(doc, scene, selected);
            if self.target.as_ref().is_none_or(|t| !targets.contains(t)) {
                self.target = targets.first().cloned();
            }
            ui.horizontal(|ui| {
                let shown = self
                    .target
                    .as_ref()
                    .map_or(String::new(), MidiTarget::label);
                egui::ComboBox::from_id_salt("midi_target")
                    .width(ui.available_width() - 56.0)
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        for t in &targets {
                            ui.selectable_value(&mut self.target, Some(t.clone()), t.label());
                        }
                    });
                if ui
                    .add_enabled(self.target.is_some(), egui::Button::new("Learn"))
                    .on_hover_text("Then move a fader or press a pad on the controller")
                    .clicked()
                {
                    actions.push(Action::MidiLearn(self.target.clone()));
                }
            });
        }
        let mappings = doc.show().midi.clone();
        if mappings.is_empty() {
            ui.label(RichText::new("No mappings yet").weak());
        }
        for (i, m) in mappings.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui
                    .small_button("×")
                    .on_hover_text("Remove this mapping")
                    .clicked()
                {
                    let mut next = mappings.clone();
                    next.remove(i);
                    if let Err(e) = doc.apply(Edit::SetMidi(next)) {
                        error = Some(e.to_string());
                    }
                }
                ui.label(format!("{} → {}", m.control.label(), m.target.label()));
            });
            if m.target.is_continuous() {
                // One drag of a range value is one undo step.
                let r = range_editor(ui, m.range);
                if r.started {
                    doc.begin_gesture();
                }
                if let Some(range) = r.changed {
                    let mut next = mappings.clone();
                    next[i].range = range;
                    if let Err(e) = doc.apply(Edit::SetMidi(next)) {
                        error = Some(e.to_string());
                    }
                }
                if r.stopped {
                    doc.end_gesture();
                }
            }
        }
        (actions, error)
    }
}

/// What the range editor did this frame.
struct RangeEdit {
    /// The new range (`None` inside: all of it), when a value changed.
    changed: Option<Option<(f32, f32)>>,
    started: bool,
    stopped: bool,
}

/// The part of the target's range the fader sweeps, in percent (0-100 % is stored as `None`).
fn range_editor(ui: &mut Ui, range: Option<(f32, f32)>) -> RangeEdit {
    let (mut lo, mut hi) = range.map_or((0.0, 100.0), |(l, h)| (l * 100.0, h * 100.0));
    ui.horizontal(|ui| {
        ui.add_space(20.0);
        ui.label("range");
        let value = |v| {
            egui::DragValue::new(v)
                .range(0.0..=100.0)
                .suffix(" %")
                .speed(0.5)
        };
        let a = ui.add(value(&mut lo));
        ui.label("to");
        let b = ui.add(value(&mut hi));
        let (lo, hi) = (lo / 100.0, hi / 100.0);
        RangeEdit {
            changed: (a.changed() || b.changed())
                .then(|| (lo != 0.0 || hi != 1.0).then_some((lo, hi))),
            started: a.drag_started() || b.drag_started(),
            stopped: a.drag_stopped() || b.drag_stopped(),
        }
    })
    .inner
}

/// A right-click menu on a control that learns a MIDI control for it (Take, a scene's Go, the
/// T-bar), as the MIDI section does.
pub(crate) fn learn_menu(r: &egui::Response, target: MidiTarget, actions: &mut Vec<Action>) {
    r.context_menu(|ui| {
        if ui.button("MIDI learn").clicked() {
            actions.push(Action::MidiLearn(Some(target)));
            ui.close();
        }
    });
}

/// What a control can be mapped to: the studio controls, each scene, each prompt preset, the
/// reference strength, and the ranged parameters of the selected node.
fn targets(doc: &Document, scene: usize, selected: Option<&NodeId>) -> Vec<MidiTarget> {
    let show = doc.show();
    let mut out = vec![
        MidiTarget::Take,
        MidiTarget::Auto,
        MidiTarget::TBar,
        MidiTarget::VaceScale,
    ];
    for s in &show.scenes {
        out.push(MidiTarget::Program(s.name.clone()));
        out.push(MidiTarget::Preview(s.name.clone()));
    }
    out.extend(
        show.presets
            .prompts
            .iter()
            .map(|p| MidiTarget::Preset(p.name.clone())),
    );
    let node = selected.and_then(|id| Some((id, show.scenes.get(scene)?.nodes.get(id)?)));
    if let Some((id, node)) = node {
        for row in node.kind.spec().params {
            let ranged = matches!(
                row.ty,
                ParamType::Float { .. }
                    | ParamType::Int { .. }
                    | ParamType::Bool
                    | ParamType::Choice(_)
            );
            for index in 0..if ranged { (row.len)(&node.kind) } else { 0 } {
                out.push(MidiTarget::Param {
                    node: id.clone(),
                    param: row.name.to_owned(),
                    index,
                });
            }
        }
    }
    out
}
