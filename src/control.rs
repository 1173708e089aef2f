//! Live control: the typed commands every input surface sends (keyboard, console; later OSC,
//! MIDI, obs-websocket), applied in one place.
//!
//! Commands are performance, not edits: they never enter the document's undo history.

use bevy::prelude::*;
use show::scene::Transition as SceneTransition;

use crate::AppSystems;
use crate::playback::Playback;
use crate::showfile::CurrentShow;

/// One live-control command.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ShowCommand {
    /// Put the scene with this index on program, with its transition.
    Cut(usize),
    /// Put the scene with this index in preview (studio mode).
    Preview(usize),
    /// Cut the preview to program; finishes a running transition at once.
    Take,
    /// Transition the preview to program: with this transition, or the preview scene's own.
    Auto(Option<SceneTransition>),
    /// Move the T-bar to a position in 0..=1 (1 completes, 0 cancels), mixing with this
    /// transition or the preview scene's own.
    TBar(f32, Option<SceneTransition>),
}

pub struct ControlPlugin;

impl Plugin for ControlPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<ShowCommand>()
            .add_systems(Update, apply_commands.in_set(AppSystems::Control));
    }
}

/// The one place commands take effect. A command naming something that does not exist is
/// logged and ignored: a control surface can never stop the show.
fn apply_commands(
    mut commands: MessageReader<ShowCommand>,
    show: Res<CurrentShow>,
    mut playback: ResMut<Playback>,
) {
    let loaded = &show.0;
    let scenes = &loaded.show.scenes;
    let missing = |n: usize| {
        warn!("no scene {} (the show has {})", n + 1, scenes.len());
    };
    // The transition into the preview scene unless one was picked.
    let into_preview = |playback: &Playback, with: &Option<SceneTransition>| {
        with.or_else(|| {
            playback
                .preview
                .and_then(|p| scenes.get(p))
                .map(|s| s.transition)
        })
    };
    for command in commands.read() {
        match command {
            ShowCommand::Cut(target) => {
                let Some(scene) = scenes.get(*target) else {
                    missing(*target);
                    continue;
                };
                info!("scene {}: {}", target + 1, scene.name);
                playback.switch_to(*target, &loaded.plans, scene);
            }
            ShowCommand::Preview(target) => {
                if playback.set_preview(*target, scenes.len()) {
                    info!("preview: scene {} ({})", target + 1, scenes[*target].name);
                } else {
                    missing(*target);
                }
            }
            ShowCommand::Take => playback.take(&loaded.plans),
            ShowCommand::Auto(with) => {
                if let Some(with) = into_preview(&playback, with) {
                    playback.auto(&loaded.plans, with);
                }
            }
            ShowCommand::TBar(position, with) => {
                if let Some(with) = into_preview(&playback, with) {
                    playback.tbar(&loaded.plans, *position, with);
                }
            }
        }
    }
}
