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

use std::collections::BTreeMap;
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
use crate::render::{LatestProgramFrame, ProgramReadback};
use crate::showfile::{CurrentShow, LoadedShow};
use crate::sources::scope::ScopeStatuses;

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
    /// The readback was switched on here (for a screenshot), not by the recorder.
    readback_ours: bool,
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
                    readback_ours: false,
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
    /// Requests want the program picture until then (the readback runs while they do).
    screenshot_until: Option<Instant>,
    screenshot: Option<(u64, Arc<image::RgbaImage>)>,
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
    latest: Option<Res<LatestProgramFrame>>,
    readback: Option<ResMut<ProgramReadback>>,
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
        wants_picture = world.screenshot_until.is_some_and(|t| t > Instant::now());
        if wants_picture
            && let Some((frame, picture)) = latest.as_ref().and_then(|l| l.0.as_ref())
            && world.screenshot.as_ref().is_none_or(|(f, _)| f != frame)
        {
            world.screenshot = Some((*frame, Arc::new(picture.clone())));
        }
        if !wants_picture {
            world.screenshot = None;
        }
        published.changed.notify_all();
    }
    // The readback copies every frame to the CPU: on only while a client wants pictures
    // (and never switched off under the recorder, which turned it on itself).
    if let Some(mut readback) = readback {
        if wants_picture && !readback.enabled {
            readback.enabled = true;
            obs.readback_ours = true;
        } else if !wants_picture && obs.readback_ours {
            readback.enabled = false;
            obs.readback_ours = false;
        }
    }
    emit_changes(&mut obs, loaded, &playback, &scopes);
}

fn emit_changes(
    obs: &mut ObsWebSocket,
    show: Arc<LoadedShow>,
    playback: &Playback,
    scopes: &[(NodeId, Value)],
) {
    let scenes = &show.show.scenes;
    let preview = playback.preview.unwrap_or(playback.scene);
    let scope_states: BTreeMap<String, String> = scopes
        .iter()
        .map(|(id, v)| (id.to_string(), v["state"].as_str().unwrap_or("").to_owned()))
        .collect();
    let last = obs.last.take();
    let show_changed = last.as_ref().is_none_or(|l| !Arc::ptr_eq(&l.show, &show));
    let (settings, enabled) = match (&last, show_changed) {
        (Some(l), false) => (l.settings.clone(), l.enabled.clone()),
        _ => (all_settings(&show), all_enabled(&show)),
    };
    let seen = Seen {
        show: show.clone(),
        program: playback.scene,
        preview,
        transition: playback.transition.is_some(),
        settings,
        enabled,
        scope_states,
    };
    if let Some(last) = last {
        let server = &obs.server;
        let scene_id = |i: usize| scenes.get(i).map(|s| scene_ref(&s.name));
        if last.program != seen.program
            && let Some(id) = scene_id(seen.program)
        {
            server.emit(Event::new(
                "CurrentProgramSceneChanged",
                subscription::SCENES,
                id,
            ));
        }
        if last.preview != seen.preview
            && let Some(id) = scene_id(seen.preview)
        {
            server.emit(Event::new(
                "CurrentPreviewSceneChanged",
                subscription::SCENES,
                id,
            ));
        }
        let names = |s: &LoadedShow| {
            s.show
                .scenes
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        };
        if show_changed && names(&last.show) != names(&show) {
            server.emit(Event::new(
                "SceneListChanged",
                subscription::SCENES,
                json!({ "scenes": scene_list(&show) }),
            ));
        }
        if last.transition != seen.transition {
            let name = "Scene";
            let data =
                json!({ "transitionName": name, "transitionUuid": uuid("transition", name) });
            let event = if seen.transition {
                "SceneTransitionStarted"
            } else {
                "SceneTransitionEnded"
            };
            server.emit(Event::new(event, subscription::TRANSITIONS, data));
        }
        if show_changed {
            for (name, settings) in &seen.settings {
                if last.settings.get(name) != Some(settings) {
                    server.emit(Event::new(
                        "InputSettingsChanged",
                        subscription::INPUTS,
                        json!({ "inputName": name, "inputUuid": uuid("input", name), "inputSettings": settings }),
                    ));
                }
            }
            for ((scene, item), on) in &seen.enabled {
                if last
                    .enabled
                    .get(&(scene.clone(), *item))
                    .is_some_and(|was| was != on)
                {
                    let mut data = scene_ref(scene);
                    data["sceneItemId"] = (*item).into();
                    data["sceneItemEnabled"] = (*on).into();
                    server.emit(Event::new(
                        "SceneItemEnableStateChanged",
                        subscription::SCENE_ITEMS,
                        data,
                    ));
                }
            }
        }
        if last.scope_states != seen.scope_states {
            server.emit(Event::new(
                "VendorEvent",
                subscription::VENDORS,
                json!({
                    "vendorName": VENDOR,
                    "eventType": "ScopeStateChanged",
                    "eventData": { "scopes": scopes.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>() },
                }),
            ));
        }
    }
    obs.last = Some(seen);
}

/// A stable UUID for a named thing (so clients can keep it across reconnects and reloads;
/// renaming gives a new one, as a new OBS source would).
pub fn uuid(kind: &str, name: &str) -> String {
    let h = Sha256::digest(format!("metadj-scope:{kind}:{name}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    // Version 8 (custom), RFC 4122 variant.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A node's scene item id: from its id, so it stays the same while other nodes come and go.
pub fn item_id(node: &NodeId) -> i64 {
    let h = Sha256::digest(format!("metadj-scope:item:{node}").as_bytes());
    let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) & 0x7fff_ffff;
    i64::from(n.max(1))
}

/// The input name of a node: `scene/node`.
pub fn input_name(scene: &str, node: &NodeId) -> String {
    format!("{scene}/{node}")
}

fn scene_ref(name: &str) -> Value {
    json!({ "sceneName": name, "sceneUuid": uuid("scene", name) })
}

/// `scenes` as OBS lists them: the last scene first, `sceneIndex` 0 at the bottom.
fn scene_list(show: &LoadedShow) -> Vec<Value> {
    let n = show.show.scenes.len();
    show.show
        .scenes
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| {
            let mut v = scene_ref(&s.name);
            v["sceneIndex"] = (n - 1 - i).into();
            v
        })
        .collect()
}

fn param_json(v: &ParamValue) -> Value {
    match v {
        ParamValue::Float(x) => json!(x),
        ParamValue::Int(x) => json!(x),
        ParamValue::Bool(b) => json!(b),
        ParamValue::Color(c) => json!(c.to_array()),
        ParamValue::Vec2(x, y) => json!([x, y]),
        ParamValue::Choice(s) => json!(s),
        ParamValue::Text(s) => json!(s),
        ParamValue::Path(p) => json!(p.to_string_lossy()),
    }
}

/// A node's parameters as `inputSettings`: spec-table names, lists as arrays; unset optional
/// parameters are left out (as OBS leaves out defaults).
pub fn settings(kind: &NodeKind) -> Value {
    let mut out = Map::new();
    for row in kind.spec().params {
        let len = (row.len)(kind);
        if row.list {
            let items: Vec<Value> = (0..len)
                .map(|i| (row.get)(kind, i).map_or(Value::Null, |v| param_json(&v)))
                .collect();
            if len > 0 || !row.optional {
                out.insert(row.name.to_owned(), Value::Array(items));
            }
        } else if len > 0
            && let Some(v) = (row.get)(kind, 0)
        {
            out.insert(row.name.to_owned(), param_json(&v));
        }
    }
    Value::Object(out)
}

fn all_settings(show: &LoadedShow) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for s in &show.show.scenes {
        for (id, node) in &s.nodes {
            out.insert(input_name(&s.name, id), settings(&node.kind));
        }
    }
    out
}

/// The blend layer a node feeds in its scene, if any: (blend node, layer index).
fn layer_of(scene: &show::Scene, node: &NodeId) -> Option<(NodeId, usize)> {
    scene.edges.iter().find_map(|e| {
        let blend = scene.nodes.get(&e.to)?;
        if &e.from != node || !matches!(blend.kind, NodeKind::Blend(_)) {
            return None;
        }
        Some((e.to.clone(), e.port.parse().ok()?))
    })
}

/// Whether a scene item is enabled: the layer it feeds is visible (a node that feeds no blend
/// layer is always enabled).
fn item_enabled(scene: &show::Scene, node: &NodeId) -> bool {
    match layer_of(scene, node) {
        Some((blend, layer)) => match scene.nodes.get(&blend).map(|n| &n.kind) {
            Some(NodeKind::Blend(b)) => b.layers.get(layer).is_none_or(|l| l.opacity > 0.0),
            _ => true,
        },
        None => true,
    }
}

fn all_enabled(show: &LoadedShow) -> BTreeMap<(String, i64), bool> {
    let mut out = BTreeMap::new();
    for s in &show.show.scenes {
        for id in s.nodes.keys() {
            out.insert((s.name.clone(), item_id(id)), item_enabled(s, id));
        }
    }
    out
}

/// The request handler: reads [`Published`], sends commands.
struct App2Obs {
    published: Arc<Published>,
    commands: Sender<ShowCommand>,
    transition: Mutex<Choice>,
}

fn field<'a>(data: &'a Value, name: &str) -> Option<&'a Value> {
    data.get(name).filter(|v| !v.is_null())
}

fn string_field<'a>(data: &'a Value, name: &str) -> Result<Option<&'a str>, RequestError> {
    match field(data, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RequestError::wrong_type(name, "a string")),
    }
}

fn required<T>(v: Option<T>, name: &str) -> Result<T, RequestError> {
    v.ok_or_else(|| RequestError::missing(name))
}

fn number_field(data: &Value, name: &str) -> Result<f64, RequestError> {
    let v = required(field(data, name), name)?;
    v.as_f64()
        .ok_or_else(|| RequestError::wrong_type(name, "a number"))
}

/// A JSON value as a control surface's parameter input.
fn param_input(v: &Value, name: &str) -> Result<ParamInput, RequestError> {
    match v {
        Value::Bool(b) => Ok(ParamInput::Bool(*b)),
        Value::String(s) => Ok(ParamInput::Text(s.clone())),
        Value::Number(n) => Ok(match n.as_i64() {
            Some(i) => ParamInput::Int(i),
            None => ParamInput::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        _ => Err(RequestError::wrong_type(
            name,
            "a number, a boolean or a string",
        )),
    }
}

impl App2Obs {
    fn world(&self) -> Result<World, RequestError> {
        let world = self.published.lock().clone();
        if world.show.is_none() {
            return Err(RequestError::new(
                status::NOT_READY,
                "the show is still loading",
            ));
        }
        Ok(world)
    }

    /// Sends `commands` and waits (at most a second) until a frame after them is published,
    /// so the reply and any `Get` after it see their effect.
    fn send(&self, commands: Vec<ShowCommand>) -> Reply {
        let sent_at = self.published.lock().frame;
        for c in commands {
            self.commands.try_send(c).map_err(|_| {
                RequestError::new(
                    status::NOT_READY,
                    "the app is not taking commands (stalled?)",
                )
            })?;
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut world = self.published.lock();
        // Frame `sent_at + 1` may have drained the channel before our send; `+ 2` surely after.
        while world.frame < sent_at + 2 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            world = self
                .published
                .changed
                .wait_timeout(world, left)
                .map(|(w, _)| w)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        Ok(Value::Null)
    }

    /// The scene named by `sceneName` or `sceneUuid`.
    fn scene(&self, world: &World, data: &Value) -> Result<usize, RequestError> {
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        let by_name = string_field(data, "sceneName")?;
        let by_uuid = string_field(data, "sceneUuid")?;
        let found = match (by_name, by_uuid) {
            (Some(name), _) => show.scenes.iter().position(|s| s.name == name),
            (None, Some(u)) => show.scenes.iter().position(|s| uuid("scene", &s.name) == u),
            (None, None) => return Err(RequestError::missing("sceneName")),
        };
        found.ok_or_else(|| {
            RequestError::not_found(format!(
                "No source was found by the name of `{}`.",
                by_name.or(by_uuid).unwrap_or_default()
            ))
        })
    }

    /// The node named by `inputName` (`scene/node`, or a node of the program scene) or
    /// `inputUuid`.
    fn input(&self, world: &World, data: &Value) -> Result<(usize, NodeId), RequestError> {
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        let by_name = string_field(data, "inputName")?;
        let by_uuid = string_field(data, "inputUuid")?;
        let all = || {
            show.scenes.iter().enumerate().flat_map(|(i, s)| {
                s.nodes
                    .keys()
                    .map(move |id| (i, id.clone(), input_name(&s.name, id)))
            })
        };
        let found = match (by_name, by_uuid) {
            (Some(name), _) => all()
                .find(|(_, _, n)| n == name)
                .map(|(i, id, _)| (i, id))
                .or_else(|| {
                    let program = show.scenes.get(world.program)?;
                    let id = program.nodes.keys().find(|id| id.to_string() == name)?;
                    Some((world.program, id.clone()))
                }),
            (None, Some(u)) => all()
                .find(|(_, _, n)| uuid("input", n) == u)
                .map(|(i, id, _)| (i, id)),
            (None, None) => return Err(RequestError::missing("inputName")),
        };
        found.ok_or_else(|| {
            RequestError::not_found(format!(
                "No source was found by the name of `{}`.",
                by_name.or(by_uuid).unwrap_or_default()
            ))
        })
    }

    fn editable(world: &World) -> Result<(), RequestError> {
        if world.editable {
            Ok(())
        } else {
            Err(RequestError::new(
                status::INVALID_RESOURCE_STATE,
                "this app plays without a document (--output-only): parameters cannot change",
            ))
        }
    }

    fn transition_info(&self) -> Value {
        let choice = *self
            .transition
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let name = choice.name();
        json!({
            "transitionName": name,
            "transitionUuid": uuid("transition", name),
            "transitionKind": Choice::kind(name),
            "transitionFixed": choice.duration().is_none(),
            "transitionDuration": choice.duration().map(|d| (d * 1000.0).round() as u64),
            "transitionConfigurable": false,
            "transitionSettings": Value::Null,
        })
    }

    fn choice(&self) -> Choice {
        *self
            .transition
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn vendor(&self, world: &World, data: &Value) -> Reply {
        let vendor = required(string_field(data, "vendorName")?, "vendorName")?;
        let request = required(string_field(data, "requestType")?, "requestType")?;
        if vendor != VENDOR {
            return Err(RequestError::not_found("No vendor was found by that name."));
        }
        let args = field(data, "requestData").cloned().unwrap_or(json!({}));
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        // `scene` (a name) picks a scene; the program scene otherwise.
        let scene = match string_field(&args, "scene")? {
            Some(name) => Some(
                show.scenes
                    .iter()
                    .position(|s| s.name == name)
                    .ok_or_else(|| RequestError::not_found(format!("no scene `{name}`")))?,
            ),
            None => None,
        };
        let target = &show.scenes[scene
            .unwrap_or(world.program)
            .min(show.scenes.len().saturating_sub(1))];
        let has_scope = |node: Option<&NodeId>| {
            target.nodes.iter().any(|(id, n)| {
                matches!(n.kind, NodeKind::Scope(_)) && node.is_none_or(|want| want == id)
            })
        };
        let response = match request {
            "scope_status" => {
                json!({ "scopes": world.scopes.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>() })
            }
            "send_prompt" | "recall_preset" | "set_vace_scale" => {
                Self::editable(world)?;
                let edit = match request {
                    "send_prompt" => {
                        let text = required(string_field(&args, "text")?, "text")?.to_owned();
                        let node = string_field(&args, "node")?.map(|n| NodeId(n.to_owned()));
                        let weight = match field(&args, "weight") {
                            None => None,
                            Some(w) => Some(
                                w.as_f64()
                                    .ok_or_else(|| RequestError::wrong_type("weight", "a number"))?
                                    as f32,
                            ),
                        };
                        if !has_scope(node.as_ref()) {
                            return Err(RequestError::not_found(format!(
                                "scene `{}` has no such Scope node",
                                target.name
                            )));
                        }
                        LiveEdit::Prompt {
                            scene,
                            node,
                            text,
                            weight,
                        }
                    }
                    "recall_preset" => {
                        let name = required(string_field(&args, "name")?, "name")?.to_owned();
                        if !show.presets.prompts.iter().any(|p| p.name == name) {
                            return Err(RequestError::not_found(format!(
                                "no prompt preset `{name}`"
                            )));
                        }
                        if !has_scope(None) {
                            return Err(RequestError::not_found(format!(
                                "scene `{}` has no Scope node",
                                target.name
                            )));
                        }
                        LiveEdit::Preset { scene, name }
                    }
                    _ => {
                        let value = number_field(&args, "value")? as f32;
                        if let Some(row) = show::spec::param("scope", "params.vace_context_scale") {
                            row.check(&ParamValue::Float(value)).map_err(|e| {
                                RequestError::new(
                                    status::REQUEST_FIELD_OUT_OF_RANGE,
                                    format!("value {e}"),
                                )
                            })?;
                        }
                        if !has_scope(None) {
                            return Err(RequestError::not_found(format!(
                                "scene `{}` has no Scope node",
                                target.name
                            )));
                        }
                        LiveEdit::VaceScale { scene, value }
                    }
                };
                self.send(vec![ShowCommand::Live(edit)])?;
                json!({})
            }
            _ => {
                return Err(RequestError::new(
                    status::UNKNOWN_REQUEST_TYPE,
                    format!(
                        "vendor {VENDOR} has no request `{request}` (send_prompt, recall_preset, set_vace_scale, scope_status)"
                    ),
                ));
            }
        };
        Ok(json!({ "vendorName": vendor, "requestType": request, "responseData": response }))
    }

    fn set_input_settings(&self, world: &World, data: &Value) -> Reply {
        let (scene, node) = self.input(world, data)?;
        Self::editable(world)?;
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        let kind = &show.scenes[scene].nodes[&node].kind;
        let Value::Object(settings) = required(field(data, "inputSettings"), "inputSettings")?
        else {
            return Err(RequestError::wrong_type("inputSettings", "an object"));
        };
        let spec = kind.spec();
        let mut commands = Vec::new();
        for (name, value) in settings {
            let row = spec.param(name).ok_or_else(|| {
                RequestError::new(
                    status::INVALID_REQUEST_FIELD,
                    format!("{} has no parameter `{name}`", spec.name),
                )
            })?;
            let values: Vec<(usize, &Value)> = match (row.list, value) {
                (true, Value::Array(items)) => items.iter().enumerate().collect(),
                (true, _) => return Err(RequestError::wrong_type(name, "an array")),
                (false, v) => vec![(0, v)],
            };
            let len = (row.len)(kind);
            for (index, v) in values {
                if index >= len {
                    return Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        format!("{name}: the node has {len} items"),
                    ));
                }
                let input = param_input(v, name)?;
                row.coerce(&input)
                    .map_err(|e| RequestError::new(status::INVALID_REQUEST_FIELD, e))?;
                commands.push(ShowCommand::Live(LiveEdit::Param {
                    scene: Some(scene),
                    node: node.clone(),
                    param: name.clone(),
                    index,
                    value: input,
                }));
            }
        }
        self.send(commands)
    }

    fn screenshot(&self, world: &World, data: &Value) -> Reply {
        let format =
            required(string_field(data, "imageFormat")?, "imageFormat")?.to_ascii_lowercase();
        let picture_format = match format.as_str() {
            "png" => image::ImageFormat::Png,
            "jpg" | "jpeg" => image::ImageFormat::Jpeg,
            _ => {
                return Err(RequestError::new(
                    status::INVALID_REQUEST_FIELD,
                    "imageFormat: png, jpg or jpeg",
                ));
            }
        };
        let name = string_field(data, "sourceName")?;
        let by_uuid = string_field(data, "sourceUuid")?;
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        let program = show
            .scenes
            .get(world.program)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let is_program = match (name, by_uuid) {
            (Some(n), _) => n == program,
            (None, Some(u)) => u == uuid("scene", &program),
            (None, None) => return Err(RequestError::missing("sourceName")),
        };
        if !is_program {
            return Err(RequestError::new(
                status::INVALID_RESOURCE_STATE,
                format!("only the program scene (`{program}`) can be captured"),
            ));
        }
        let size = |f: &str| -> Result<Option<u32>, RequestError> {
            match field(data, f) {
                None => Ok(None),
                Some(v) => match v.as_u64() {
                    Some(n @ 8..=4096) => Ok(Some(n as u32)),
                    _ => Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        format!("{f} must be in 8..=4096"),
                    )),
                },
            }
        };
        let (w, h) = (size("imageWidth")?, size("imageHeight")?);
        // Ask for pictures, then wait for one rendered after the request.
        let asked = {
            let mut world = self.published.lock();
            world.screenshot_until = Some(Instant::now() + Duration::from_secs(2));
            world.screenshot.as_ref().map(|(f, _)| *f)
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        let picture = loop {
            let world = self.published.lock();
            if let Some((f, p)) = &world.screenshot
                && asked.is_none_or(|a| *f > a)
            {
                break p.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RequestError::new(
                    status::REQUEST_PROCESSING_FAILED,
                    "no program picture arrived within 2 s (is the compositor running?)",
                ));
            }
            drop(self.published.changed.wait_timeout(world, left));
        };
        let picture = match (w, h) {
            (None, None) => (*picture).clone(),
            _ => {
                // Scale to fit inside the asked size, keeping the aspect ratio.
                let (pw, ph) = (picture.width() as f32, picture.height() as f32);
                let s = [w.map(|w| w as f32 / pw), h.map(|h| h as f32 / ph)]
                    .into_iter()
                    .flatten()
                    .fold(f32::INFINITY, f32::min);
                let (nw, nh) = (
                    ((pw * s).round() as u32).max(1),
                    ((ph * s).round() as u32).max(1),
                );
                image::imageops::resize(&*picture, nw, nh, image::imageops::FilterType::Triangle)
            }
        };
        let mut bytes = std::io::Cursor::new(Vec::new());
        let encoded = if picture_format == image::ImageFormat::Jpeg {
            image::DynamicImage::ImageRgba8(picture)
                .to_rgb8()
                .write_to(&mut bytes, picture_format)
        } else {
            picture.write_to(&mut bytes, picture_format)
        };
        encoded.map_err(|e| RequestError::new(status::REQUEST_PROCESSING_FAILED, e.to_string()))?;
        let mime = if picture_format == image::ImageFormat::Png {
            "png"
        } else {
            "jpeg"
        };
        let data = base64::engine::general_purpose::STANDARD.encode(bytes.into_inner());
        Ok(json!({ "imageData": format!("data:image/{mime};base64,{data}") }))
    }
}

impl Handler for App2Obs {
    fn request(&self, request_type: &str, data: &Value, _session: &Session) -> Reply {
        if request_type == "GetVersion" {
            return Ok(json!({
                "obsVersion": obs_websocket::protocol::OBS_STUDIO_VERSION,
                "obsWebSocketVersion": obs_websocket::protocol::OBS_WEBSOCKET_VERSION,
                "rpcVersion": obs_websocket::protocol::RPC_VERSION,
                "availableRequests": REQUESTS,
                "supportedImageFormats": ["png", "jpg", "jpeg"],
                "platform": "metadj-scope",
                "platformDescription": format!("MetaDJ Scope {} ({})", env!("CARGO_PKG_VERSION"), std::env::consts::OS),
            }));
        }
        let world = self.world()?;
        let Some(loaded) = world.show.clone() else {
            return Err(RequestError::new(status::NOT_READY, "no show"));
        };
        let scenes = &loaded.show.scenes;
        let scene_name = |i: usize| scenes.get(i).map(|s| s.name.clone()).unwrap_or_default();
        let current = |prefix: &str, i: usize| {
            let name = scene_name(i);
            json!({
                "sceneName": name, "sceneUuid": uuid("scene", &name),
                format!("current{prefix}SceneName"): name, format!("current{prefix}SceneUuid"): uuid("scene", &name),
            })
        };
        match request_type {
            "GetStats" => Ok(json!({
                "cpuUsage": 0.0,
                "memoryUsage": 0.0,
                "availableDiskSpace": 0.0,
                "activeFps": world.fps,
                "averageFrameRenderTime": if world.fps > 0.0 { 1000.0 / world.fps } else { 0.0 },
                "renderSkippedFrames": 0,
                "renderTotalFrames": world.frame,
                "outputSkippedFrames": 0,
                "outputTotalFrames": world.frame,
            })),
            "GetSceneList" => {
                let program = scene_name(world.program);
                let preview = scene_name(world.preview_or_program());
                Ok(json!({
                    "currentProgramSceneName": program,
                    "currentProgramSceneUuid": uuid("scene", &program),
                    "currentPreviewSceneName": preview,
                    "currentPreviewSceneUuid": uuid("scene", &preview),
                    "scenes": scene_list(&loaded),
                }))
            }
            "GetCurrentProgramScene" => Ok(current("Program", world.program)),
            "GetCurrentPreviewScene" => Ok(current("Preview", world.preview_or_program())),
            "SetCurrentProgramScene" => {
                let i = self.scene(&world, data)?;
                self.send(vec![ShowCommand::Cut(i)])
            }
            "SetCurrentPreviewScene" => {
                let i = self.scene(&world, data)?;
                self.send(vec![ShowCommand::Preview(i)])
            }
            "GetStudioModeEnabled" => Ok(json!({ "studioModeEnabled": true })),
            "SetStudioModeEnabled" => match field(data, "studioModeEnabled") {
                None => Err(RequestError::missing("studioModeEnabled")),
                Some(Value::Bool(true)) => Ok(Value::Null),
                Some(Value::Bool(false)) => Err(RequestError::new(
                    status::CANNOT_ACT,
                    "studio mode is always on in MetaDJ Scope (program and preview)",
                )),
                Some(_) => Err(RequestError::wrong_type("studioModeEnabled", "a boolean")),
            },
            "TriggerStudioModeTransition" => {
                self.send(vec![ShowCommand::Auto(self.choice().transition())])
            }
            "SetTBarPosition" => {
                let position = number_field(data, "position")?;
                if !(0.0..=1.0).contains(&position) {
                    return Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        "position must be in 0..=1",
                    ));
                }
                // `release` is accepted and needs nothing: the T-bar takes at 1 and cancels at 0.
                self.send(vec![ShowCommand::TBar(
                    position as f32,
                    self.choice().transition(),
                )])
            }
            "GetTransitionKindList" => Ok(json!({
                "transitionKinds": TRANSITIONS.iter().map(|n| Choice::kind(n)).collect::<Vec<_>>()
            })),
            "GetSceneTransitionList" => {
                let current = self.transition_info();
                Ok(json!({
                    "currentSceneTransitionName": current["transitionName"],
                    "currentSceneTransitionUuid": current["transitionUuid"],
                    "currentSceneTransitionKind": current["transitionKind"],
                    "transitions": TRANSITIONS.iter().map(|n| json!({
                        "transitionName": n,
                        "transitionUuid": uuid("transition", n),
                        "transitionKind": Choice::kind(n),
                        "transitionFixed": matches!(*n, "Scene" | "Cut"),
                        "transitionConfigurable": false,
                    })).collect::<Vec<_>>(),
                }))
            }
            "GetCurrentSceneTransition" => Ok(self.transition_info()),
            "SetCurrentSceneTransition" => {
                let name = required(string_field(data, "transitionName")?, "transitionName")?;
                let mut choice = self
                    .transition
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let keep = choice.duration().unwrap_or(1.0);
                *choice = match name {
                    "Scene" => Choice::Scene,
                    "Cut" => Choice::Cut,
                    "Fade" => Choice::Fade(keep),
                    "Wipe" => Choice::Wipe(keep),
                    _ => {
                        return Err(RequestError::not_found(format!(
                            "No transition was found by the name of `{name}` (Scene, Cut, Fade, Wipe)."
                        )));
                    }
                };
                Ok(Value::Null)
            }
            "SetCurrentSceneTransitionDuration" => {
                let ms = number_field(data, "transitionDuration")?;
                if !(50.0..=20000.0).contains(&ms) {
                    return Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        "transitionDuration must be in 50..=20000",
                    ));
                }
                let mut choice = self
                    .transition
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let d = (ms / 1000.0) as f32;
                *choice = match *choice {
                    Choice::Fade(_) => Choice::Fade(d),
                    Choice::Wipe(_) => Choice::Wipe(d),
                    _ => {
                        return Err(RequestError::new(
                            status::INVALID_RESOURCE_STATE,
                            "The current scene transition has a fixed duration (pick Fade or Wipe first).",
                        ));
                    }
                };
                Ok(Value::Null)
            }
            "GetCurrentSceneTransitionCursor" => Ok(json!({
                "transitionCursor": world.transition.map_or(1.0, |(p, _)| p)
            })),
            "GetSceneItemList" => {
                let i = self.scene(&world, data)?;
                let s = &scenes[i];
                let items: Vec<Value> = s
                    .nodes
                    .iter()
                    .enumerate()
                    .map(|(index, (id, n))| {
                        let name = input_name(&s.name, id);
                        json!({
                            "sceneItemId": item_id(id),
                            "sceneItemIndex": index,
                            "sourceName": name,
                            "sourceUuid": uuid("input", &name),
                            "sourceType": "OBS_SOURCE_TYPE_INPUT",
                            "inputKind": n.kind.spec().name,
                            "isGroup": Value::Null,
                            "sceneItemEnabled": item_enabled(s, id),
                            "sceneItemLocked": false,
                            "sceneItemBlendMode": "OBS_BLEND_NORMAL",
                        })
                    })
                    .collect();
                Ok(json!({ "sceneItems": items }))
            }
            "GetSceneItemEnabled" | "SetSceneItemEnabled" => {
                let i = self.scene(&world, data)?;
                let s = &scenes[i];
                let want = required(field(data, "sceneItemId"), "sceneItemId")?
                    .as_i64()
                    .ok_or_else(|| RequestError::wrong_type("sceneItemId", "a number"))?;
                let id = s
                    .nodes
                    .keys()
                    .find(|id| item_id(id) == want)
                    .ok_or_else(|| {
                        RequestError::not_found(format!(
                            "No scene items were found in scene `{}` with the ID `{want}`.",
                            s.name
                        ))
                    })?;
                if request_type == "GetSceneItemEnabled" {
                    return Ok(json!({ "sceneItemEnabled": item_enabled(s, id) }));
                }
                let on = match required(field(data, "sceneItemEnabled"), "sceneItemEnabled")? {
                    Value::Bool(b) => *b,
                    _ => return Err(RequestError::wrong_type("sceneItemEnabled", "a boolean")),
                };
                Self::editable(&world)?;
                let (blend, layer) = layer_of(s, id).ok_or_else(|| {
                    RequestError::new(
                        status::INVALID_RESOURCE_STATE,
                        format!("`{id}` feeds no blend layer, so it has no visibility to switch"),
                    )
                })?;
                self.send(vec![ShowCommand::Live(LiveEdit::Param {
                    scene: Some(i),
                    node: blend,
                    param: "layers.opacity".into(),
                    index: layer,
                    value: ParamInput::Float(if on { 1.0 } else { 0.0 }),
                })])
            }
            "GetInputList" => {
                let kind = string_field(data, "inputKind")?;
                let inputs: Vec<Value> = scenes
                    .iter()
                    .flat_map(|s| s.nodes.iter().map(move |(id, n)| (s, id, n)))
                    .filter(|(_, _, n)| kind.is_none_or(|k| k == n.kind.spec().name))
                    .map(|(s, id, n)| {
                        let name = input_name(&s.name, id);
                        json!({
                            "inputName": name,
                            "inputUuid": uuid("input", &name),
                            "inputKind": n.kind.spec().name,
                            "unversionedInputKind": n.kind.spec().name,
                        })
                    })
                    .collect();
                Ok(json!({ "inputs": inputs }))
            }
            "GetInputSettings" => {
                let (i, id) = self.input(&world, data)?;
                let kind = &scenes[i].nodes[&id].kind;
                Ok(json!({ "inputSettings": settings(kind), "inputKind": kind.spec().name }))
            }
            "SetInputSettings" => self.set_input_settings(&world, data),
            "GetSourceScreenshot" => self.screenshot(&world, data),
            "CallVendorRequest" => self.vendor(&world, data),
            _ => Err(RequestError::new(
                status::UNKNOWN_REQUEST_TYPE,
                format!(
                    "MetaDJ Scope does not serve `{request_type}` (see GetVersion's availableRequests)"
                ),
            )),
        }
    }
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
