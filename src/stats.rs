//! The operator's overlay: a one-line stats readout (toggle `S`) and a red banner while the
//! show file on disk is invalid. Neither is drawn in fullscreen unless asked for: the projector
//! shows only the program.

use std::collections::VecDeque;

use bevy::prelude::*;
use bevy::window::Monitor;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use crate::AppSystems;
use crate::output::OutputMode;
use crate::playback::Playback;
use crate::showfile::{CurrentShow, EditorOwnsShow, ShowStatus};
use crate::sources::image::ImageSources;

/// Frame timing over the last second.
#[derive(Resource, Debug, Default)]
pub struct FrameStats {
    /// Recent frame durations in seconds, oldest first, spanning about one second.
    recent: VecDeque<f32>,
    /// Frames the display wanted but we did not deliver: for each frame, how many refresh
    /// intervals it overran by.
    pub dropped: u64,
}

impl FrameStats {
    /// Records one frame of `dt` seconds against a display refreshing every `interval` seconds.
    pub fn record(&mut self, dt: f32, interval: f32) {
        self.recent.push_back(dt);
        let mut total: f32 = self.recent.iter().sum();
        while total > 1.0 && self.recent.len() > 1 {
            total -= self.recent.pop_front().unwrap_or(0.0);
        }
        if interval > 0.0 && dt > 1.5 * interval {
            self.dropped += ((dt / interval).round() as u64).saturating_sub(1);
        }
    }

    pub fn fps(&self) -> f32 {
        let total: f32 = self.recent.iter().sum();
        if total > 0.0 {
            self.recent.len() as f32 / total
        } else {
            0.0
        }
    }

    /// Mean frame time in milliseconds.
    pub fn frame_ms(&self) -> f32 {
        let fps = self.fps();
        if fps > 0.0 { 1000.0 / fps } else { 0.0 }
    }
}

/// Short status texts other plugins add to the stats line, keyed by who owns them (e.g. the
/// Scope node: `"scope" => "Live 29.8 fps, rtt 84 ms"`). Shown sorted by key after the scene.
#[derive(Resource, Debug, Default)]
pub struct StatusItems(pub std::collections::BTreeMap<String, String>);

/// Whether the stats line is drawn.
#[derive(Resource, Debug, Clone, Copy)]
pub struct StatsVisible(pub bool);

pub struct StatsPlugin {
    pub visible: bool,
}

impl Plugin for StatsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<FrameStats>()
            .init_resource::<StatusItems>()
            .insert_resource(StatsVisible(self.visible))
            .add_systems(
                Update,
                (
                    stats_key.in_set(AppSystems::Input),
                    measure.in_set(AppSystems::Output),
                ),
            )
            .add_systems(
                EguiPrimaryContextPass,
                // The console shows problems and stats itself, in its own layout.
                draw_overlay.run_if(not(resource_exists::<EditorOwnsShow>)),
            );
    }
}

fn stats_key(keys: Res<ButtonInput<KeyCode>>, mut visible: ResMut<StatsVisible>) {
    if keys.just_pressed(KeyCode::KeyS) {
        visible.0 = !visible.0;
    }
}

fn measure(time: Res<Time<Real>>, monitors: Query<&Monitor>, mut stats: ResMut<FrameStats>) {
    let hz = monitors
        .iter()
        .find_map(|m| m.refresh_rate_millihertz)
        .map_or(60.0, |mhz| mhz as f32 / 1000.0);
    stats.record(time.delta_secs(), 1.0 / hz);
}

fn draw_overlay(
    mut contexts: EguiContexts,
    visible: Res<StatsVisible>,
    mode: Res<OutputMode>,
    stats: Res<FrameStats>,
    show: Res<CurrentShow>,
    status: Res<ShowStatus>,
    playback: Res<Playback>,
    images: Res<ImageSources>,
    items: Res<StatusItems>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let mut problems: Vec<&str> = status.error.iter().map(String::as_str).collect();
    problems.extend(images.errors());
    if !problems.is_empty() && !mode.fullscreen {
        egui::Area::new(egui::Id::new("errors"))
            .anchor(egui::Align2::LEFT_TOP, egui::vec2(8.0, 8.0))
            .show(ctx, |ui| {
                egui::Frame::new()
                    .fill(egui::Color32::from_rgb(150, 20, 20))
                    .inner_margin(6.0)
                    .show(ui, |ui| {
                        for p in &problems {
                            ui.label(
                                egui::RichText::new(*p)
                                    .color(egui::Color32::WHITE)
                                    .monospace(),
                            );
                        }
                    });
            });
    }
    if visible.0 {
        let scenes = &show.0.show.scenes;
        let name = scenes.get(playback.scene).map_or("?", |s| s.name.as_str());
        let mut line = format!(
            "{:.1} fps  {:.1} ms  dropped {}  scene {}/{} {}",
            stats.fps(),
            stats.frame_ms(),
            stats.dropped,
            playback.scene + 1,
            scenes.len(),
            name
        );
        if let Some(t) = &playback.transition {
            line.push_str(&format!(
                " ({} {:.0} %)",
                transition_label(t.kind),
                t.progress() * 100.0
            ));
        }
        for (key, value) in &items.0 {
            line.push_str(&format!("  {key}: {value}"));
        }
        egui::Area::new(egui::Id::new("stats"))
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -8.0))
            .show(ctx, |ui| {
                egui::Frame::new()
                    .fill(egui::Color32::from_black_alpha(170))
                    .inner_margin(4.0)
                    .show(ui, |ui| {
                        // Wraps in a narrow window instead of running off its edge.
                        ui.set_max_width(ctx.content_rect().width() - 24.0);
                        ui.add(
                            egui::Label::new(
                                egui::RichText::new(line)
                                    .color(egui::Color32::WHITE)
                                    .monospace(),
                            )
                            .wrap(),
                        );
                    });
            });
    }
    Ok(())
}

/// How the stats line names a transition kind (the RON name, not Rust debug output).
fn transition_label(kind: show::scene::TransitionKind) -> &'static str {
    use show::scene::TransitionKind::*;
    match kind {
        Cut => "cut",
        Fade => "fade",
        FadeThrough(_) => "fade through",
        Wipe => "wipe",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fps_and_dropped_frames() {
        let mut s = FrameStats::default();
        for _ in 0..30 {
            s.record(1.0 / 30.0, 1.0 / 60.0);
        }
        assert!((s.fps() - 30.0).abs() < 0.5, "{}", s.fps());
        // Each 33 ms frame on a 60 Hz display misses one refresh.
        assert_eq!(s.dropped, 30);
        s.record(1.0 / 60.0, 1.0 / 60.0);
        assert_eq!(s.dropped, 30);
    }

    #[test]
    fn transitions_are_named_as_in_show_files() {
        use show::scene::TransitionKind;
        assert_eq!(
            transition_label(TransitionKind::FadeThrough(show::Rgba(0.0, 0.0, 0.0, 1.0))),
            "fade through"
        );
        assert_eq!(transition_label(TransitionKind::Wipe), "wipe");
    }
}
