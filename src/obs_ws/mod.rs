//! obs-websocket v5 control: Bitfocus Companion, Stream Deck and any obs-websocket client
//! drive the show as if it were OBS in studio mode.
//!
//! The server (crate `obs-websocket`) runs on its own runtime. Each frame the state changes,
//! the app publishes a [`World`] (the show, program, preview, transition, Scope states) behind a
//! mutex; requests that read state answer from it with no round trip into Bevy. Requests that
//! change state send [`ShowCommand`]s through a channel, the same commands keys, the console and
//! OSC send, and then wait (at most a second, on the server's thread) for the frame that applied
//! them, so a `Get` right after a `Set` sees the change. Events come from comparing what was
//! published with what is published now, so changes from every surface reach clients.
//!
//! Mapping (see the README for the table): scenes are scenes; the nodes of a scene are its
//! scene items and its inputs, named `scene/node`; an input's settings are the node's
//! parameters from the spec table; a scene item is enabled when the blend layer it feeds has
//! opacity above 0; the transitions are `Scene` (each scene's own), `Cut`, `Fade` and `Wipe`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};
use obs_websocket::protocol::{status, subscription};
use obs_websocket::{Event, Handler, Reply, RequestError, Server, ServerConfig, Session};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use show::NodeId;
use show::node::NodeKind;
use show::scene::{Transition as SceneTransition, TransitionKind};
use show::spec::Value as ParamValue;

use crate::AppSystems;
use crate::control::{LiveEdit, ParamInput, ShowCommand};
use crate::editor::Editor;
use crate::playback::Playback;
use crate::preview::{NodeSnapshots, Snapshot};
use crate::render::{LatestProgramFrame, ProgramReadback};
use crate::showfile::{CurrentShow, LoadedShow};
use crate::sources::scope::ScopeStatuses;

mod events;
mod handler;
mod names;
mod requests;
mod screenshot;

use self::events::*;
use self::names::*;
pub use self::names::{input_name, item_id, settings, uuid};
use self::requests::*;
use self::screenshot::Shot;

/// This surface's name among those that ask for node pictures.
const ASKER: &str = "obs-websocket";

/// The vendor name of `CallVendorRequest` and `VendorEvent`.
pub const VENDOR: &str = "metadj-scope";

/// Requests this server answers (`GetVersion` lists them); everything else is 204.
pub const REQUESTS: &[&str] = &[
    "GetVersion",
    "GetStats",
    "GetSceneList",
    "GetCurrentProgramScene",
    "SetCurrentProgramScene",
    "GetCurrentPreviewScene",
    "SetCurrentPreviewScene",
    "GetStudioModeEnabled",
    "SetStudioModeEnabled",
    "TriggerStudioModeTransition",
    "SetTBarPosition",
    "GetTransitionKindList",
    "GetSceneTransitionList",
    "GetCurrentSceneTransition",
    "SetCurrentSceneTransition",
    "SetCurrentSceneTransitionDuration",
    "GetCurrentSceneTransitionCursor",
    "GetSceneItemList",
    "GetSceneItemEnabled",
    "SetSceneItemEnabled",
    "GetInputList",
    "GetInputSettings",
    "SetInputSettings",
    "GetSourceScreenshot",
    "CallVendorRequest",
    "Sleep",
];

/// Serves obs-websocket on `addr` (`127.0.0.1:4455` by default).
pub struct ObsWebSocketPlugin {
    pub addr: SocketAddr,
    pub password: Option<String>,
}

/// The running server and the app's end of it.
#[derive(Resource)]
pub struct ObsWebSocket {
    server: Server,
    published: Arc<Published>,
    commands: Receiver<ShowCommand>,
    /// What the last publish saw, to tell what changed.
    last: Option<Seen>,
}

impl ObsWebSocket {
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Clients connected now.
    pub fn sessions(&self) -> usize {
        self.server.sessions()
    }
}

impl Plugin for ObsWebSocketPlugin {
    fn build(&self, app: &mut App) {
        // Screenshots of nodes are drawn as previews (where the app draws at all).
        if app.world().contains_resource::<Assets<Image>>()
            && !app.is_plugin_added::<crate::preview::PreviewPlugin>()
        {
            app.add_plugins(crate::preview::PreviewPlugin);
        }
        let published = Arc::new(Published::default());
        let (tx, commands) = crossbeam_channel::bounded(256);
        let handler = Arc::new(App2Obs {
            published: published.clone(),
            commands: tx,
            transition: Mutex::new(Choice::default()),
        });
        let config = ServerConfig {
            addr: self.addr,
            password: self.password.clone(),
            ..ServerConfig::default()
        };
        match Server::start(config, handler) {
            Ok(server) => {
                info!("obs-websocket: ws://{}", server.local_addr());
                app.insert_resource(ObsWebSocket {
                    server,
                    published,
                    commands,
                    last: None,
                })
                .add_systems(Update, forward_commands.in_set(AppSystems::Input))
                .add_systems(Update, publish.in_set(AppSystems::Output));
            }
            Err(e) => warn!("obs-websocket is off: {e}"),
        }
    }
}

/// What requests read: the app's state as of the last frame that changed it.
#[derive(Default)]
struct Published {
    world: Mutex<World>,
    /// Signalled after every publish, for requests waiting on their command's frame.
    changed: Condvar,
}

impl Published {
    fn lock(&self) -> MutexGuard<'_, World> {
        // A poisoned lock only means a panic elsewhere; the data is still a whole snapshot.
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default, Clone)]
struct World {
    /// Frames published so far.
    frame: u64,
    show: Option<Arc<LoadedShow>>,
    program: usize,
    preview: Option<usize>,
    /// A running transition: its progress, and whether the T-bar drives it.
    transition: Option<(f32, bool)>,
    /// Whether parameters can change (the app has a document; not `--output-only`).
    editable: bool,
    fps: f32,
    scopes: Vec<(NodeId, Value)>,
    /// Pictures requests want, until when (drawn and read back while they do).
    shots: HashMap<Shot, Instant>,
    /// The newest picture of each wanted shot, with the frame it was rendered in.
    pictures: HashMap<Shot, (u64, Arc<image::RgbaImage>)>,
    /// Whether nodes can be pictured ([`NodeSnapshots`] exists).
    snapshots: bool,
}

impl World {
    /// Studio mode is always on here; with no preview chosen yet, preview shows the program
    /// scene, as OBS does when studio mode starts.
    fn preview_or_program(&self) -> usize {
        self.preview.unwrap_or(self.program)
    }
}

/// What publish compared last time.
struct Seen {
    show: Arc<LoadedShow>,
    program: usize,
    preview: usize,
    transition: bool,
    settings: BTreeMap<String, Value>,
    enabled: BTreeMap<(String, i64), bool>,
    scope_states: BTreeMap<String, String>,
}

/// The transition `TriggerStudioModeTransition` and the T-bar use.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Choice {
    /// The preview scene's own transition (the default, as the console's Auto).
    #[default]
    Scene,
    Cut,
    Fade(f32),
    Wipe(f32),
}

const TRANSITIONS: [&str; 4] = ["Scene", "Cut", "Fade", "Wipe"];

impl Choice {
    fn name(self) -> &'static str {
        match self {
            Choice::Scene => "Scene",
            Choice::Cut => "Cut",
            Choice::Fade(_) => "Fade",
            Choice::Wipe(_) => "Wipe",
        }
    }

    fn kind(name: &str) -> &'static str {
        match name {
            "Cut" => "cut_transition",
            "Fade" => "fade_transition",
            "Wipe" => "wipe_transition",
            _ => "metadj_scene_transition",
        }
    }

    fn duration(self) -> Option<f32> {
        match self {
            Choice::Fade(d) | Choice::Wipe(d) => Some(d),
            _ => None,
        }
    }

    /// What Auto and the T-bar get: `None` is the preview scene's own.
    fn transition(self) -> Option<SceneTransition> {
        let t = |kind, duration| Some(SceneTransition { kind, duration });
        match self {
            Choice::Scene => None,
            Choice::Cut => t(TransitionKind::Cut, 0.0),
            Choice::Fade(d) => t(TransitionKind::Fade, d),
            Choice::Wipe(d) => t(TransitionKind::Wipe, d),
        }
    }
}

/// Drains the commands clients sent into the one control path.
fn forward_commands(obs: Res<ObsWebSocket>, mut commands: MessageWriter<ShowCommand>) {
    for command in obs.commands.try_iter() {
        commands.write(command);
    }
}

/// Publishes this frame's state for requests, and sends events for what changed.
fn publish(
    mut obs: ResMut<ObsWebSocket>,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    editor: Option<Res<Editor>>,
    scopes: Option<Res<ScopeStatuses>>,
    time: Res<Time>,
    (latest, readback, mut snapshots): (
        Option<Res<LatestProgramFrame>>,
        Option<ResMut<ProgramReadback>>,
        Option<ResMut<NodeSnapshots>>,
    ),
    mut from_doc: Local<Option<(u64, Arc<LoadedShow>)>>,
) {
    // The document when there is one: a change a client asked for is in it the frame it is
    // applied, while the compiled show follows from a worker a few frames later (a Get right
    // after a Set must see the Set). Requests read only the show's data, not its plans.
    let loaded = match editor.as_deref() {
        Some(e) => {
            let revision = e.doc.revision();
            if from_doc.as_ref().is_none_or(|(r, _)| *r != revision) {
                let compiled = &show.0;
                let doc = LoadedShow {
                    path: compiled.path.clone(),
                    base_dir: compiled.base_dir.clone(),
                    show: e.doc.show().clone(),
                    plans: Vec::new(),
                };
                *from_doc = Some((revision, Arc::new(doc)));
            }
            from_doc
                .as_ref()
                .map_or_else(|| show.0.clone(), |(_, l)| l.clone())
        }
        None => show.0.clone(),
    };
    let scopes: Vec<(NodeId, Value)> = scopes
        .map(|s| {
            let mut v: Vec<_> =
                s.0.iter()
                    .map(|(id, st)| {
                        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
                        let status = json!({
                            "node": id.to_string(),
                            "state": crate::health::state_name(&st.state),
                            "fpsIn": st.fps_in,
                            "fpsOut": st.fps_out,
                            "rttMedianMs": ms(st.rtt_median),
                            "rttP95Ms": ms(st.rtt_p95),
                            "frameAgeMs": ms(st.frame_age),
                            "reconnects": st.reconnects,
                        });
                        (id.clone(), status)
                    })
                    .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        })
        .unwrap_or_default();
    let dt = time.delta_secs();
    let wants_picture;
    {
        let published = obs.published.clone();
        let mut world = published.lock();
        world.frame += 1;
        world.show = Some(loaded.clone());
        world.program = playback.scene;
        world.preview = playback.preview;
        world.transition = playback.transition.as_ref().map(|t| {
            (
                if t.manual {
                    playback.tbar_position()
                } else {
                    t.progress()
                },
                t.manual,
            )
        });
        world.editable = editor.is_some();
        if dt > 0.0 {
            // A one-second moving average.
            let fps = 1.0 / dt;
            world.fps = if world.fps == 0.0 {
                fps
            } else {
                world.fps + (fps - world.fps) * dt.min(1.0)
            };
        }
        world.scopes = scopes.clone();
        let now = Instant::now();
        world.shots.retain(|_, until| *until > now);
        let World {
            shots, pictures, ..
        } = &mut *world;
        pictures.retain(|shot, _| shots.contains_key(shot));
        wants_picture = shots.contains_key(&Shot::Program);
        if wants_picture
            && let Some((frame, picture)) = latest.as_ref().and_then(|l| l.0.as_ref())
            && pictures.get(&Shot::Program).is_none_or(|(f, _)| f != frame)
        {
            pictures.insert(Shot::Program, (*frame, Arc::new(picture.clone())));
        }
        world.snapshots = snapshots.is_some();
        if let Some(snapshots) = snapshots.as_mut() {
            let mut nodes: Vec<Snapshot> = world
                .shots
                .keys()
                .filter_map(|s| match s {
                    Shot::Node(scene, node) => Some(Snapshot {
                        scene: *scene,
                        node: node.clone(),
                        alpha: false,
                    }),
                    Shot::Program => None,
                })
                .collect();
            nodes.sort();
            NodeSnapshots::request(snapshots, ASKER, nodes);
            for (key, picture) in &snapshots.pictures {
                let shot = Shot::Node(key.scene, key.node.clone());
                if !key.alpha && world.shots.contains_key(&shot) {
                    world.pictures.insert(shot, picture.clone());
                }
            }
        }
        published.changed.notify_all();
    }
    // The readback copies every frame to the CPU: asked for only while a client wants pictures.
    if let Some(mut readback) = readback {
        ProgramReadback::ask(&mut readback, "obs-websocket", wants_picture);
    }
    emit_changes(&mut obs, loaded, &playback, &scopes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_well_formed() {
        let u = uuid("scene", "intro");
        assert_eq!(u, uuid("scene", "intro"));
        assert_ne!(u, uuid("scene", "outro"));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8");
        let id = NodeId("bg".into());
        assert!(item_id(&id) > 0);
        assert_eq!(item_id(&id), item_id(&NodeId("bg".into())));
    }

    #[test]
    fn choices_map_to_transitions() {
        assert_eq!(Choice::Scene.transition(), None);
        assert_eq!(
            Choice::Fade(0.5).transition(),
            Some(SceneTransition {
                kind: TransitionKind::Fade,
                duration: 0.5
            })
        );
        assert_eq!(
            Choice::Cut.transition().map(|t| t.kind),
            Some(TransitionKind::Cut)
        );
    }
}
