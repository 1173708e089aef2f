//! The scenes panel: the show's scenes in order, the one on program marked, the edited one
//! selected, with add, duplicate, rename, delete and reorder.
//!
//! A click picks the scene to *edit*; putting a scene on program ("Go", a double-click, keys
//! 1–9) is live control, so it is an [`Action::Cut`] for the host, not an edit. The scene in
//! preview (studio mode) is marked PVW.

use document::{Document, Edit};
use egui::{Id, Key, RichText, Ui};

use show::midi::MidiTarget;

use crate::midi_panel::learn_menu;
use crate::{Action, style};

#[derive(Debug, Default)]
pub(crate) struct ScenesPanel {
    /// The scene being renamed and the text typed so far.
    renaming: Option<(usize, String)>,
    /// Focus the rename field on the frame it opens.
    focus_rename: bool,
}

/// What the panel did: the scene to edit now, actions, a refusal to show.
#[derive(Default)]
pub(crate) struct ScenesOut {
    pub edit: Option<usize>,
    pub actions: Vec<Action>,
    pub error: Option<String>,
}

impl ScenesPanel {
    pub fn show(
        &mut self,
        ui: &mut Ui,
        doc: &mut Document,
        edited: usize,
        program: usize,
        preview: Option<usize>,
    ) -> ScenesOut {
        let mut out = ScenesOut::default();
        ui.heading("Scenes");
        let count = doc.show().scenes.len();
        let apply = |doc: &mut Document, edit: Edit, out: &mut ScenesOut| match doc.apply(edit) {
            Ok(applied) => applied.scene,
            Err(e) => {
                out.error = Some(e.to_string());
                None
            }
        };
        for i in 0..count {
            let name = doc.show().scenes[i].name.clone();
            ui.horizontal(|ui| {
                let badge = |text: &str, colour| {
                    RichText::new(text)
                        .strong()
                        .color(egui::Color32::WHITE)
                        .background_color(colour)
                };
                let (tally, hover) = if i == program {
                    (badge("PGM", style::PROGRAM), "On program")
                } else if preview == Some(i) {
                    (badge("PVW", style::PREVIEW), "In preview")
                } else {
                    (RichText::new(format!(" {} ", i + 1)).weak(), "")
                };
                ui.label(tally).on_hover_text(hover);
                if let Some((at, text)) = &mut self.renaming
                    && *at == i
                {
                    let field = ui.add(
                        egui::TextEdit::singleline(text)
                            .id(Id::new("scene_rename"))
                            .desired_width(110.0),
                    );
                    if self.focus_rename {
                        field.request_focus();
                        self.focus_rename = false;
                    }
                    let cancel = ui.input(|inp| inp.key_pressed(Key::Escape));
                    if field.lost_focus() {
                        let text = text.clone();
                        self.renaming = None;
                        if !cancel {
                            apply(
                                doc,
                                Edit::RenameScene {
                                    scene: i,
                                    name: text,
                                },
                                &mut out,
                            );
                        }
                    }
                } else {
                    let r = ui.selectable_label(i == edited, &name);
                    if r.clicked() {
                        out.edit = Some(i);
                    }
                    if r.double_clicked() {
                        out.actions.push(Action::Cut(i));
                    }
                }
                let go = ui
                    .small_button("Go")
                    .on_hover_text(format!("Put “{name}” on program (right-click: MIDI learn)"));
                if go.clicked() {
                    out.actions.push(Action::Cut(i));
                }
                learn_menu(&go, MidiTarget::Program(name.clone()), &mut out.actions);
            });
        }
        ui.separator();
        ui.horizontal_wrapped(|ui| {
            if ui.button("Add").clicked() {
                let name = free_name(doc);
                if let Some(s) = apply(doc, Edit::AddScene { at: count, name }, &mut out) {
                    out.edit = Some(s);
                }
            }
            if ui.button("Duplicate").clicked()
                && let Some(s) = apply(doc, Edit::DuplicateScene { scene: edited }, &mut out)
            {
                out.edit = Some(s);
            }
            if ui.button("Rename").clicked() {
                let name = doc
                    .show()
                    .scenes
                    .get(edited)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                self.renaming = Some((edited, name));
                self.focus_rename = true;
            }
            if ui.button("Delete").clicked()
                && apply(doc, Edit::RemoveScene { scene: edited }, &mut out).is_none()
                && out.error.is_none()
            {
                out.edit = Some(edited.min(doc.show().scenes.len().saturating_sub(1)));
            }
            let up = ui
                .add_enabled(edited > 0, egui::Button::new("Up"))
                .on_hover_text("Move the scene up");
            if up.clicked()
                && let Some(s) = apply(
                    doc,
                    Edit::MoveScene {
                        from: edited,
                        to: edited - 1,
                    },
                    &mut out,
                )
            {
                out.edit = Some(s);
            }
            let down = ui
                .add_enabled(edited + 1 < count, egui::Button::new("Down"))
                .on_hover_text("Move the scene down");
            if down.clicked()
                && let Some(s) = apply(
                    doc,
                    Edit::MoveScene {
                        from: edited,
                        to: edited + 1,
                    },
                    &mut out,
                )
            {
                out.edit = Some(s);
            }
        });
        out
    }
}

/// "Scene N" for the first N no scene has.
fn free_name(doc: &Document) -> String {
    let scenes = &doc.show().scenes;
    (scenes.len() + 1..)
        .map(|n| format!("Scene {n}"))
        .find(|n| !scenes.iter().any(|s| &s.name == n))
        .unwrap_or_else(|| "Scene".to_owned())
}
