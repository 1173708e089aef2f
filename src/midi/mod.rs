//! MIDI control: controllers' faders, knobs and pads drive the show through the same
//! [`ShowCommand`]s as every other surface. Mappings are made by learn (the console's MIDI panel:
//! click Learn, move a control) and saved with the show; faders use soft takeover, so a fader
//! that is not where the show is does nothing until it gets there.
//!
//! The ports live on the `midi-ports` thread ([`port`]); raw bytes reach the app through a
//! bounded channel ([`MidiInput::tx`] is the seam tests use); [`map`] turns them into commands.

mod map;
mod port;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};
use document::Edit;
use show::midi::{MidiMapping, MidiTarget};
use show::spec::Value;

pub use self::map::{Mapper, MidiEvent, Outcome, PICKUP, parse};
pub use self::port::{MidiBackend, MidiStatus, Midir, Timing};
use crate::AppSystems;
use crate::control::{LiveEdit, ParamInput, ShowCommand};
use crate::editor::Editor;
use crate::playback::Playback;
use crate::showfile::CurrentShow;
use crate::stats::StatusItems;

/// Messages waiting for the app; a stalled app drops the newest, never blocks midir's thread.
const QUEUE: usize = 256;

/// Connects MIDI input ports (`ports: false` only opens the byte seam, for tests and
/// `--no-midi`).
pub struct MidiPlugin {
    pub ports: bool,
}

/// Starts or cancels learn: the next control moved is mapped to this target.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct MidiLearn(pub Option<MidiTarget>);

#[derive(Resource)]
pub struct MidiInput {
    rx: Receiver<Vec<u8>>,
    /// Raw messages into the app, as a port delivers them.
    pub tx: Sender<Vec<u8>>,
    pub status: Arc<Mutex<MidiStatus>>,
    pub mapper: Mapper,
    stop: Arc<AtomicBool>,
}

impl Drop for MidiInput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Plugin for MidiPlugin {
    fn build(&self, app: &mut App) {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE);
        let status = Arc::new(Mutex::new(if self.ports {
            MidiStatus::Starting
        } else {
            MidiStatus::Off
        }));
        let stop = Arc::new(AtomicBool::new(false));
        if self.ports
            && let Err(e) = port::spawn(
                Midir,
                tx.clone(),
                status.clone(),
                stop.clone(),
                Timing::default(),
            )
        {
            warn!("MIDI is off: cannot start its thread: {e}");
        }
        app.insert_resource(MidiInput {
            rx,
            tx,
            status,
            mapper: Mapper::default(),
            stop,
        })
        .init_resource::<StatusItems>()
        .add_message::<MidiLearn>()
        .add_message::<ShowCommand>()
        .add_systems(Update, apply_midi.in_set(AppSystems::Input));
    }
}

fn apply_midi(
    mut midi: ResMut<MidiInput>,
    mut learn: MessageReader<MidiLearn>,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    mut editor: Option<ResMut<Editor>>,
    mut commands: MessageWriter<ShowCommand>,
    mut items: ResMut<StatusItems>,
) {
    let midi = &mut *midi;
    for MidiLearn(target) in learn.read() {
        midi.mapper.learning = target.clone();
    }
    if let Ok(status) = midi.status.lock() {
        let label = status.label();
        if items.0.get("midi") != Some(&label) {
            items.0.insert("midi".into(), label);
        }
    }
    for bytes in midi.rx.try_iter() {
        let Some(event) = parse(&bytes) else {
            continue;
        };
        // The document is what the operator sees; it is ahead of the compiled show by a frame.
        let mut learnt = None;
        {
            let current = editor.as_ref().map_or(&show.0.show, |e| e.doc.show());
            let outcomes = midi
                .mapper
                .handle(event, &current.midi, |t| value_now(current, &playback, t));
            for outcome in outcomes {
                match outcome {
                    Outcome::Fire(target, value) => {
                        if let Some(c) = command_for(current, &target, value) {
                            commands.write(c);
                        }
                    }
                    Outcome::Learned(mappings) => learnt = Some(mappings),
                    Outcome::Waiting { .. } => {}
                }
            }
        }
        if let Some(mappings) = learnt {
            learned(editor.as_deref_mut(), mappings);
        }
    }
}

fn learned(editor: Option<&mut Editor>, mappings: Vec<MidiMapping>) {
    let Some(editor) = editor else {
        warn!("MIDI learn needs the console");
        return;
    };
    if let Some(m) = mappings.last() {
        info!("MIDI: {} → {}", m.control.label(), m.target.label());
    }
    // Authoring, so an undo step (unlike what the mapping then does).
    if let Err(e) = editor.doc.apply(Edit::SetMidi(mappings)) {
        warn!("MIDI learn refused: {e}");
    }
}

/// A continuous target's value now, in 0..=1, for soft takeover.
pub fn value_now(show: &show::Show, playback: &Playback, target: &MidiTarget) -> Option<f32> {
    let scene = show.scenes.get(playback.scene)?;
    match target {
        MidiTarget::TBar => Some(playback.tbar_position()),
        MidiTarget::Param { node, param, index } => {
            let kind = &scene.nodes.get(node)?.kind;
            let row = kind.spec().param(param)?;
            row.normalize(&(row.get)(kind, *index)?)
        }
        MidiTarget::VaceScale => {
            let row = vace_row()?;
            let id = scene
                .nodes
                .iter()
                .find(|(_, n)| matches!(n.kind, show::NodeKind::Scope(_)))?
                .0;
            let now = console::effective_params(scene, id)?.vace_context_scale;
            row.normalize(&Value::Float(now.unwrap_or(1.0)))
        }
        _ => None,
    }
}

/// What firing `target` (at `value`, for faders) asks of the show.
pub fn command_for(
    show: &show::Show,
    target: &MidiTarget,
    value: Option<f32>,
) -> Option<ShowCommand> {
    let scene = |name: &str| {
        let found = show.scenes.iter().position(|s| s.name == name);
        if found.is_none() {
            warn!("MIDI: the show has no scene “{name}”");
        }
        found
    };
    Some(match target {
        MidiTarget::Program(name) => ShowCommand::Cut(scene(name)?),
        MidiTarget::Preview(name) => ShowCommand::Preview(scene(name)?),
        MidiTarget::Take => ShowCommand::Take,
        MidiTarget::Auto => ShowCommand::Auto(None),
        MidiTarget::TBar => ShowCommand::TBar(value?, None),
        MidiTarget::Param { node, param, index } => ShowCommand::Live(LiveEdit::Param {
            scene: None,
            node: node.clone(),
            param: param.clone(),
            index: *index,
            value: ParamInput::Normalized(value?),
        }),
        MidiTarget::Preset(name) => ShowCommand::Live(LiveEdit::Preset {
            scene: None,
            name: name.clone(),
        }),
        MidiTarget::VaceScale => {
            let Ok(Value::Float(v)) = vace_row()?.coerce(&ParamInput::Normalized(value?)) else {
                return None;
            };
            ShowCommand::Live(LiveEdit::VaceScale {
                scene: None,
                value: v,
            })
        }
    })
}

fn vace_row() -> Option<&'static show::spec::ParamSpec> {
    show::spec::param("scope", "params.vace_context_scale")
}
