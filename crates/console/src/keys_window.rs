//! The keys window: every show key with its chord; "Set" then a key press rebinds it (Esc
//! cancels), "Reset" brings the defaults back. The host saves what changed.

use egui::{Event, Key, RichText};

use crate::keymap::{Chord, KeyAction, Keymap};

#[derive(Debug, Default)]
pub(crate) struct KeysWindow {
    pub open: bool,
    /// The action waiting for its new key.
    capturing: Option<KeyAction>,
}

impl KeysWindow {
    /// While a key is being captured, no key does anything else.
    pub fn is_capturing(&self) -> bool {
        self.capturing.is_some()
    }

    /// Draws the window; returns the keymap when the operator changed it.
    pub fn show(&mut self, ctx: &egui::Context, keymap: &Keymap) -> Option<Keymap> {
        if !self.open {
            self.capturing = None;
            return None;
        }
        let mut changed = None;
        if let Some(action) = self.capturing {
            let pressed = ctx.input_mut(|i| {
                let at = i.events.iter().position(|e| {
                    matches!(
                        e,
                        Event::Key {
                            pressed: true,
                            repeat: false,
                            ..
                        }
                    )
                });
                at.map(|at| i.events.remove(at))
            });
            if let Some(Event::Key {
                key,
                physical_key,
                modifiers,
                ..
            }) = pressed
            {
                self.capturing = None;
                if key != Key::Escape {
                    // Shift+1 arrives as "!" on most layouts: bind the key marked 1.
                    let key = physical_key.filter(|_| modifiers.shift).unwrap_or(key);
                    let mut next = keymap.clone();
                    next.bind(
                        action,
                        Chord {
                            key: key.name().to_owned(),
                            shift: modifiers.shift,
                            ctrl: modifiers.command || modifiers.ctrl,
                            alt: modifiers.alt,
                        },
                    );
                    changed = Some(next);
                }
            }
        }
        let mut open = self.open;
        egui::Window::new("Keys")
            .open(&mut open)
            .default_width(320.0)
            .default_height(480.0)
            .vscroll(true)
            .show(ctx, |ui| {
                ui.label(RichText::new("Keys never act while you type in a field.").weak());
                egui::Grid::new("keys_grid").striped(true).show(ui, |ui| {
                    for action in Keymap::actions() {
                        ui.label(action.label());
                        if self.capturing == Some(action) {
                            ui.label(RichText::new("press a key… (Esc cancels)").italics());
                        } else {
                            let chord = keymap.chord(action).map_or("—".into(), Chord::label);
                            ui.monospace(chord);
                        }
                        if ui
                            .button("Set")
                            .on_hover_text("Then press the new key")
                            .clicked()
                        {
                            self.capturing = Some(action);
                        }
                        ui.end_row();
                    }
                });
                if ui.button("Reset to defaults").clicked() {
                    changed = Some(Keymap::default());
                }
            });
        self.open = open;
        changed
    }
}
