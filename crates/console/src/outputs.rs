//! The outputs list: each recording and stream with its state (off, starting, running,
//! error), frame rate, dropped frames, bitrate and file size, and a button to start or stop
//! it while the show plays. The host measures; the console only shows and asks.

use egui::{Color32, RichText, Ui};

use crate::{Action, style};

/// What an output is doing, as the host reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum OutputState {
    #[default]
    Off,
    Starting,
    Running,
    Error(String),
}

/// One output as the host sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputLive {
    /// The file or URL; what [`Action::Output`] names.
    pub name: String,
    /// `record`, `stream`, `stream (place with alpha)`.
    pub kind: String,
    pub state: OutputState,
    /// The numbers: `30.0 fps · 2 dropped · 2.4 Mb/s · 12.3 MB`, a client connected or not.
    pub detail: String,
}

/// The list; `Action::Output` for a start or stop.
pub(crate) fn show(ui: &mut Ui, outputs: &[OutputLive]) -> Vec<Action> {
    let mut actions = Vec::new();
    if outputs.is_empty() {
        ui.label(
            RichText::new(
                "None: start with --record FILE or --stream URL, or list streams in settings.ron",
            )
            .weak()
            .small(),
        )
        .on_hover_text("Outputs belong to the machine (its paths, its OBS), not to the show");
    }
    for o in outputs {
        ui.horizontal(|ui| {
            let (label, colour) = badge(&o.state);
            ui.label(
                RichText::new(format!(" {label} "))
                    .strong()
                    .color(Color32::WHITE)
                    .background_color(colour),
            );
            ui.label(RichText::new(&o.kind).small());
            let on = matches!(o.state, OutputState::Running | OutputState::Starting);
            let (text, hover) = if on {
                ("Stop", "Stop it (a recording's file is finished and kept)")
            } else {
                (
                    "Start",
                    "Start it (a recording goes to a new file, never over the last)",
                )
            };
            if ui.small_button(text).on_hover_text(hover).clicked() {
                actions.push(Action::Output {
                    name: o.name.clone(),
                    on: !on,
                });
            }
        });
        ui.add(egui::Label::new(RichText::new(&o.name).monospace().small()).truncate())
            .on_hover_text(&o.name);
        if let OutputState::Error(e) = &o.state {
            ui.add(egui::Label::new(RichText::new(e).small().color(style::ERROR)).wrap());
        }
        if !o.detail.is_empty() {
            ui.label(RichText::new(&o.detail).small().weak());
        }
    }
    actions
}

fn badge(state: &OutputState) -> (&'static str, Color32) {
    match state {
        OutputState::Off => ("off", Color32::from_gray(90)),
        OutputState::Starting => ("starting", style::health(crate::Health::Watch)),
        OutputState::Running => ("running", style::health(crate::Health::Healthy)),
        OutputState::Error(_) => ("error", style::health(crate::Health::Critical)),
    }
}
