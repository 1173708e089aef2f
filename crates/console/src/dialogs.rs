//! Modal questions: quitting with unsaved changes, and the file changing on disk under
//! unsaved edits. Both wait for the operator; nothing is lost by default.

use egui::{Id, RichText};

use crate::Action;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialog {
    #[default]
    None,
    Quit,
    Conflict,
}

impl Dialog {
    /// Draws the open dialog; returns the actions chosen and whether it closed.
    pub fn show(&mut self, ctx: &egui::Context) -> Vec<Action> {
        let mut actions = Vec::new();
        match *self {
            Dialog::None => {}
            Dialog::Quit => {
                let r = egui::Modal::new(Id::new("quit_dialog")).show(ctx, |ui| {
                    ui.label(RichText::new("The show has unsaved changes.").strong());
                    ui.label("Save them before quitting?");
                    ui.horizontal(|ui| {
                        if ui.button("Save").clicked() {
                            actions = vec![Action::Save, Action::Quit];
                        }
                        if ui.button("Discard").clicked() {
                            actions = vec![Action::Quit];
                        }
                        if ui.button("Cancel").clicked() {
                            *self = Dialog::None;
                        }
                    });
                });
                if r.should_close() || !actions.is_empty() {
                    *self = Dialog::None;
                }
            }
            Dialog::Conflict => {
                let r = egui::Modal::new(Id::new("conflict_dialog")).show(ctx, |ui| {
                    ui.label(RichText::new("The file changed on disk.").strong());
                    ui.label("You have unsaved changes. Which version do you keep?");
                    ui.horizontal(|ui| {
                        if ui.button("Keep mine").clicked() {
                            *self = Dialog::None;
                        }
                        if ui.button("Load theirs").clicked() {
                            actions = vec![Action::LoadExternal];
                        }
                    });
                });
                if !actions.is_empty() {
                    *self = Dialog::None;
                }
                // Esc or a click outside keeps mine: the safe choice.
                if r.should_close() {
                    *self = Dialog::None;
                }
            }
        }
        actions
    }
}
