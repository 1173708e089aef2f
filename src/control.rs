//! Live control: the typed commands every input surface sends (keyboard, console; later OSC,
//! MIDI, obs-websocket), applied in one place.
//!
//! Commands are performance, not edits: they never enter the document's undo history.

use bevy::prelude::*;

use crate::AppSystems;
use crate::playback::Playback;
use crate::showfile::CurrentShow;

/// One live-control command.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ShowCommand {
    /// Put the scene with this index on program, with its transition.
    Cut(usize),
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
    for command in commands.read() {
        match command {
            ShowCommand::Cut(target) => {
                let Some(scene) = show.0.show.scenes.get(*target) else {
                    warn!(
                        "no scene {} (the show has {})",
                        target + 1,
                        show.0.show.scenes.len()
                    );
                    continue;
                };
                info!("scene {}: {}", target + 1, scene.name);
                playback.switch_to(*target, &show.0.plans, scene);
            }
        }
    }
}
