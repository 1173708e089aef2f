//! Studio mode's strip: the multiview (every scene live, program framed red, preview green),
//! the preview and program monitors, and between them Take, Auto (with the scene's own
//! transition or one picked here) and the T-bar.
//!
//! Everything here is live control ([`Action`]s for the host), never an edit. The T-bar
//! follows the host's position ([`Live::tbar`]); once a move completes or cancels a mix, the
//! bar ignores the pointer until it is released, so holding it at the end cannot take the
//! scene back.

use egui::load::SizedTexture;
use egui::{Color32, RichText, Sense, Stroke, Ui, Vec2};
use show::NodeId;
use show::midi::MidiTarget;
use show::scene::{Transition, TransitionKind};

use crate::midi_panel::learn_menu;
use crate::{Action, Live, ScopeLive, style, viewer};

/// Size of a multiview tile.
pub const TILE: Vec2 = Vec2::new(128.0, 72.0);
/// The default of the transition picked in the panel, in seconds.
const DEFAULT_SECS: f32 = 1.0;

#[derive(Debug, Default)]
pub(crate) struct Studio {
    /// The transition Auto and the T-bar use; `None`: the preview scene's own.
    pub picked: Option<Transition>,
    /// The last move ended a mix; ignore the bar until the pointer is released.
    tbar_latched: bool,
}

impl Studio {
    /// The multiview: one tile per scene, click to preview, double-click to put on program.
    pub fn multiview(&mut self, ui: &mut Ui, names: &[String], live: &Live) -> Vec<Action> {
        let mut actions = Vec::new();
        egui::ScrollArea::horizontal()
            .id_salt("multiview")
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    for (i, name) in names.iter().enumerate() {
                        let frame = if i == live.program_scene {
                            style::PROGRAM
                        } else if live.preview_scene == Some(i) {
                            style::PREVIEW
                        } else {
                            Color32::from_gray(60)
                        };
                        let r = tile(ui, live.scene_pictures.get(&i).copied(), frame, i, name);
                        if r.double_clicked() {
                            actions.push(Action::Cut(i));
                        } else if r.clicked() {
                            actions.push(Action::Preview(i));
                        }
                    }
                });
            });
        actions
    }

    /// Preview monitor (titled with its `readiness`), the transition controls and the program
    /// monitor, side by side.
    pub fn monitors(
        &mut self,
        ui: &mut Ui,
        live: &Live,
        readiness: Option<Readiness>,
        max: Vec2,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let controls_w = 150.0;
        let w = ((max.x - controls_w - 24.0) / 2.0).max(40.0);
        let size = Vec2::new(w, max.y);
        ui.horizontal(|ui| {
            let empty = if live.preview_scene.is_some() {
                "Waiting for the preview picture"
            } else {
                "Click a scene above (or Shift+1-9) to preview it"
            };
            let title = match &readiness {
                Some(Readiness::Ready) => "Preview · ready".to_owned(),
                Some(Readiness::Warming(why)) => format!("Preview · warming: {why}"),
                None => "Preview".to_owned(),
            };
            viewer::monitor(
                ui,
                &title,
                style::PREVIEW,
                live.preview.as_ref(),
                empty,
                size,
            );
            ui.vertical(|ui| {
                ui.set_width(controls_w);
                self.controls(ui, live, max.y, &mut actions);
            });
            let empty = "No program picture";
            viewer::monitor(
                ui,
                "Program",
                style::PROGRAM,
                live.program.as_ref(),
                empty,
                size,
            );
        });
        actions
    }

    fn controls(&mut self, ui: &mut Ui, live: &Live, height: f32, actions: &mut Vec<Action>) {
        let can_take =
            live.preview_scene.is_some_and(|p| p != live.program_scene) || live.transitioning;
        ui.add_space(18.0);
        ui.horizontal(|ui| {
            let big = |text| {
                egui::Button::new(RichText::new(text).strong()).min_size(Vec2::new(64.0, 28.0))
            };
            let take = ui
                .add_enabled(can_take, big("Take"))
                .on_hover_text("Cut the preview to program (right-click: MIDI learn)");
            if take.clicked() {
                actions.push(Action::Take);
            }
            learn_on(ui, &take, MidiTarget::Take, actions);
            let auto = ui
                .add_enabled(can_take && !live.transitioning, big("Auto"))
                .on_hover_text("Transition the preview to program (right-click: MIDI learn)");
            if auto.clicked() {
                actions.push(Action::Auto(self.picked));
            }
            learn_on(ui, &auto, MidiTarget::Auto, actions);
        });
        self.transition_picker(ui);
        let mut position = live.tbar;
        let bar_h = (height - 100.0).max(40.0);
        ui.spacing_mut().slider_width = bar_h;
        let label = ui.label("T-bar").id;
        let r = ui
            .add_enabled(
                can_take,
                egui::Slider::new(&mut position, 0.0..=1.0)
                    .vertical()
                    .show_value(false),
            )
            .labelled_by(label)
            .on_hover_text(
                "Drag to mix by hand; the end takes, 0 cancels (right-click: MIDI learn)",
            );
        learn_on(ui, &r, MidiTarget::TBar, actions);
        if r.changed() && !self.tbar_latched {
            if position >= 1.0 || position <= 0.0 {
                self.tbar_latched = true;
            }
            actions.push(Action::TBar(position, self.picked));
        }
        // After the pointer is up (the release frame still moves the slider to the pointer).
        if !ui.input(|i| i.pointer.any_down()) {
            self.tbar_latched = false;
        }
    }

    /// "Scene's own" or a kind with its duration.
    fn transition_picker(&mut self, ui: &mut Ui) {
        let names = ["Scene's own", "Cut", "Fade", "Wipe"];
        let mut chosen = match self.picked.map(|t| t.kind) {
            None => 0,
            Some(TransitionKind::Cut) => 1,
            Some(TransitionKind::Wipe) => 3,
            Some(_) => 2,
        };
        let before = chosen;
        let label = ui.label("Mix with").id;
        egui::ComboBox::from_id_salt("studio_transition")
            .width(130.0)
            .selected_text(names[chosen])
            .show_index(ui, &mut chosen, names.len(), |i| names[i])
            .labelled_by(label);
        if chosen != before {
            let duration = self.picked.map_or(DEFAULT_SECS, |t| t.duration);
            self.picked = match chosen {
                1 => Some(Transition {
                    kind: TransitionKind::Cut,
                    duration: 0.0,
                }),
                2 => Some(Transition {
                    kind: TransitionKind::Fade,
                    duration: duration.max(0.1),
                }),
                3 => Some(Transition {
                    kind: TransitionKind::Wipe,
                    duration: duration.max(0.1),
                }),
                _ => None,
            };
        }
        if let Some(t) = &mut self.picked
            && t.kind != TransitionKind::Cut
        {
            ui.add(
                egui::DragValue::new(&mut t.duration)
                    .range(0.1..=30.0)
                    .speed(0.05)
                    .suffix(" s"),
            );
        }
    }
}

/// A multiview tile: the scene's picture (or its number), its name, framed in `frame`.
fn tile(
    ui: &mut Ui,
    texture: Option<egui::TextureId>,
    frame: Color32,
    index: usize,
    name: &str,
) -> egui::Response {
    let label = format!("{} {name}", index + 1);
    let (rect, r) = ui.allocate_exact_size(TILE + Vec2::new(0.0, 16.0), Sense::click());
    let picture = egui::Rect::from_min_size(rect.min, TILE);
    let painter = ui.painter_at(rect);
    match texture {
        Some(t) => {
            egui::Image::new(SizedTexture::new(t, TILE)).paint_at(ui, picture);
        }
        None => {
            painter.rect_filled(picture, 2.0, Color32::from_gray(20));
        }
    }
    painter.rect_stroke(
        picture,
        2.0,
        Stroke::new(3.0, frame),
        egui::StrokeKind::Inside,
    );
    painter.text(
        egui::pos2(rect.min.x + 2.0, picture.max.y + 1.0),
        egui::Align2::LEFT_TOP,
        &label,
        egui::FontId::proportional(12.0),
        ui.visuals().text_color(),
    );
    r.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Button, true, &label));
    r.on_hover_text(format!(
        "“{name}”: click for preview, double-click for program"
    ))
}

/// The MIDI-learn menu on a studio control, also while the control is off (nothing in
/// preview is when an operator sets a controller up): a disabled widget senses no clicks, so
/// its area gets a right-click sense of its own.
fn learn_on(ui: &mut Ui, control: &egui::Response, target: MidiTarget, actions: &mut Vec<Action>) {
    if control.enabled() {
        learn_menu(control, target, actions);
    } else {
        let area = ui.interact(control.rect, control.id.with("learn"), Sense::click());
        learn_menu(&area, target, actions);
    }
}

/// Whether a scene would show what it should the moment it is taken: every Scope node in it
/// `Live` (the host's state names, as the Scope panel shows them).
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    Ready,
    /// What is not live yet, e.g. `scope: Loading 43 %`.
    Warming(String),
}

pub fn readiness(
    scene: &show::Scene,
    scope: &std::collections::HashMap<NodeId, ScopeLive>,
) -> Readiness {
    let mut cold: Vec<String> = scene
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n.kind, show::NodeKind::Scope(_)))
        .filter_map(|(id, _)| match scope.get(id) {
            Some(l) if l.state.starts_with("Live") => None,
            Some(l) => Some(format!("{id}: {}", l.state)),
            None => Some(format!("{id}: starting")),
        })
        .collect();
    cold.sort();
    if cold.is_empty() {
        Readiness::Ready
    } else {
        Readiness::Warming(cold.join(", "))
    }
}
