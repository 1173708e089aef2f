//! MetaDJ Scope: a real-time node-graph video compositor for live AI-avatar shows.
//!
//! This file is the table of contents: one plugin per concern, and the frame's system order
//! declared once in [`AppSystems`]. The show model lives in the `show` crate; GPU execution in
//! [`render`].

pub mod bench;
pub mod bench_scope;
pub mod bench_segment;
pub mod bench_show;
pub mod cli;
pub mod control;
pub mod editor;
pub mod headless;
pub mod health;
pub mod latency;
pub mod midi;
pub mod obs_ws;
pub mod osc;
pub mod output;
pub mod playback;
pub mod preview;
pub mod record;
pub mod render;
pub mod settings;
pub mod showfile;
pub mod sources;
pub mod stats;
pub mod write;

use std::sync::Arc;

use bevy::prelude::*;

use crate::showfile::LoadedShow;

/// The order of the app's `Update` work within a frame. Order new variants by adding them to
/// the chain in [`AppSystems::order`], the only place it is declared.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppSystems {
    /// Apply a reloaded show file.
    LoadShow,
    /// Keyboard and console: scene switches, fullscreen, stats, quit.
    Input,
    /// Apply the live-control commands the input surfaces sent.
    Control,
    /// Advance transitions and the frame clock; fill `Program`.
    Playback,
    /// Bring source frames in (images, camera, Scope) and publish them as external textures.
    Sources,
    /// Window layout and frame statistics.
    Output,
}

impl AppSystems {
    /// Declares the frame's order on `app` (the [`PlayerPlugin`] does; so do test apps that
    /// use parts of it).
    pub fn order(app: &mut App) -> &mut App {
        app.configure_sets(
            Update,
            (
                AppSystems::LoadShow,
                AppSystems::Input,
                AppSystems::Control,
                AppSystems::Playback,
                AppSystems::Sources,
                AppSystems::Output,
            )
                .chain(),
        )
    }
}

/// Everything that plays a show, with or without a window: show loading (and live reload),
/// playback and sources. The caller adds the compositor and, for a window, the output plugins.
pub struct PlayerPlugin {
    pub show: Arc<LoadedShow>,
    /// Reload the show file when it is saved.
    pub watch: bool,
    pub start_scene: usize,
    /// Run the frame clock on real time (`play`) instead of leaving it to the caller (`render`).
    pub live_clock: bool,
}

impl Plugin for PlayerPlugin {
    fn build(&self, app: &mut App) {
        AppSystems::order(app).add_plugins((
            showfile::ShowPlugin {
                initial: self.show.clone(),
                watch: self.watch,
            },
            playback::PlaybackPlugin {
                start_scene: self.start_scene,
                live_clock: self.live_clock,
            },
            sources::SourcesPlugin,
            control::ControlPlugin,
        ));
    }
}
