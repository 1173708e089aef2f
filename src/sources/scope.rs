//! Scope nodes: one [`scope::ScopeHandle`] per Scope node id of the show (every scene's, so a
//! scene switch only sends the parameters that changed and never waits for a pipeline load).
//! The handle's worker thread does the network and codec work; these systems only hand it the
//! desired config and the newest input frame, and upload the frames it returns.
//!
//! Input frames are sent straight from a camera node's CPU frame when the plan's feed says
//! [`FeedFrom::Camera`] (no GPU readback); any other input ([`FeedFrom::Rendered`]) is rendered
//! at the feed's size and read back by the compositor into [`ScopeFeedFrames`], and sent from
//! there.
//!
//! While a node is not `Live`, its fallback policy decides what is shown: the last frame (held,
//! then faded out), the input instead, or nothing (transparent). The state is always on the
//! stats line, so a held frame is never silently frozen.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use media::{PixelFormat, VideoFrame};
use scope::{
    PromptTransition, RuntimeParams, ScopeConfig, ScopeEvent, ScopeHandle, ScopeState, ScopeStats,
};
use serde_json::Map;
use show::NodeId;
use show::node::{InputMode, Interpolation, NodeKind, ScopeFallback, ScopeNode, ScopeParams};
use show::plan::FeedFrom;

use crate::AppSystems;
use crate::latency::FrameArrivals;
use crate::playback::{MonitoredScenes, Playback};
use crate::render::{ExternalOpacity, ExternalTextures, ScopeFeedFrames};
use crate::showfile::CurrentShow;
use crate::sources::camera::{self, CameraFrames, CameraSource, CameraSystems, on_screen};
use crate::sources::prompt_blend;
use crate::stats::StatusItems;

/// How long a held frame takes to fade out once `fade_after` has passed.
const FADE: Duration = Duration::from_secs(1);

/// A Scope node's handle and what it shows.
#[derive(Component)]
pub struct ScopeSource {
    node: NodeId,
    handle: Detached,
    config: ScopeConfig,
    fallback: ScopeFallback,
    /// The camera this node is fed from, if any.
    input: Option<NodeId>,
    image: Handle<Image>,
    /// When the last frame the server returned (now in `image`) arrived.
    last_at: Option<Instant>,
    /// Opacity `image` is shown with (fading a held frame, on the GPU).
    shown_alpha: f32,
    /// Sequence (camera) or frame number (rendered feed) of the last input frame sent.
    sent_seq: Option<u64>,
    received: u64,
    /// Reference images the server has (uploaded this run), as resolved local paths.
    uploaded: HashSet<PathBuf>,
}

impl ScopeSource {
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    pub fn stats(&self) -> ScopeStats {
        self.handle
            .get()
            .map(ScopeHandle::stats)
            .unwrap_or_default()
    }

    /// Frames received from the server and uploaded so far.
    pub fn frames_received(&self) -> u64 {
        self.received
    }

    pub fn image(&self) -> &Handle<Image> {
        &self.image
    }
}

/// Owns a handle whose drop (DELETE the session, close the connection) may take seconds: it
/// happens on a short-lived thread instead of the frame.
struct Detached(Option<ScopeHandle>);

impl Detached {
    fn get(&self) -> Option<&ScopeHandle> {
        self.0.as_ref()
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let spawned = std::thread::Builder::new()
                .name("scope-stop".into())
                .spawn(move || drop(handle));
            if let Err(e) = spawned {
                warn!("cannot stop a Scope node in the background ({e}); it stops on exit");
            }
        }
    }
}

/// Each running Scope node's state, fps in/out, round-trip time and frame age, refreshed every
/// frame (for the stats line and anything else that reports on the show).
#[derive(Resource, Debug, Default)]
pub struct ScopeStatuses(pub HashMap<NodeId, ScopeStats>);

/// The reference images each Scope node's server has received (resolved local paths), for
/// the console's upload state.
#[derive(Resource, Debug, Default)]
pub struct ScopeUploads(pub HashMap<NodeId, HashSet<PathBuf>>);

pub struct ScopeSourcesPlugin;

impl Plugin for ScopeSourcesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<CameraFrames>()
            .init_resource::<ExternalTextures>()
            .init_resource::<MonitoredScenes>()
            .init_resource::<ExternalOpacity>()
            .init_resource::<ScopeStatuses>()
            .init_resource::<ScopeUploads>()
            .add_systems(
                Update,
                (
                    reconcile_scopes,
                    connect_camera_feeds,
                    update_scopes,
                    publish_scopes,
                )
                    .chain()
                    .in_set(AppSystems::Sources)
                    .after(CameraSystems),
            );
    }
}

/// The node's runtime parameters in the client's terms (`None` fields are left to the server).
fn runtime_params(p: &ScopeParams) -> RuntimeParams {
    RuntimeParams {
        prompts: p
            .prompts
            .iter()
            .map(|pr| scope::Prompt {
                text: pr.text.clone(),
                weight: pr.weight,
            })
            .collect(),
        interpolation: interpolation(p.interpolation),
        noise_scale: p.noise_scale,
        denoising_steps: p.denoising_steps.clone(),
        manage_cache: p.manage_cache,
        vace_context_scale: p.vace_context_scale,
    }
}

fn interpolation(i: Interpolation) -> scope::Interpolation {
    match i {
        Interpolation::Linear => scope::Interpolation::Linear,
        Interpolation::Slerp => scope::Interpolation::Slerp,
    }
}

/// The full desired state of a Scope node, with the scene's parameters over the node's own.
pub fn scope_config(
    node: &ScopeNode,
    scene_params: Option<&ScopeParams>,
    base_dir: &std::path::Path,
    fps: u32,
) -> ScopeConfig {
    let params = scene_params.unwrap_or(&node.params);
    let load: Map<String, serde_json::Value> = node
        .load
        .pairs()
        .into_iter()
        .map(|(k, v)| (k, v.to_json()))
        .collect();
    ScopeConfig {
        url: node.url.clone(),
        pipeline_id: node.pipeline.clone(),
        load_params: load,
        params: runtime_params(params).to_map(),
        ref_images: params
            .vace_ref_images
            .iter()
            .map(|p| base_dir.join(p))
            .collect(),
        input_mode: match params.input_mode {
            InputMode::Video => scope::InputMode::Video,
            InputMode::Text => scope::InputMode::Text,
        },
        transition: params.transition_steps.map(|n| PromptTransition {
            num_steps: n,
            method: interpolation(params.interpolation),
        }),
        fps: fps.max(1),
        ..ScopeConfig::default()
    }
}

struct Wanted {
    config: ScopeConfig,
    fallback: ScopeFallback,
    input: Option<NodeId>,
}

/// Pipeline calls a prompt change should blend over so that it ends with a visual transition
/// of `duration` seconds: the node's output rate over the frames one call returns. `None`
/// before the node has output (the change then applies at once, as a cut would).
fn lock_step(duration: f32, fps_out: f32, frames_per_call: u32) -> Option<u32> {
    if !(duration > 0.0 && fps_out > 0.0) || frames_per_call == 0 {
        return None;
    }
    let calls = (duration * fps_out / frames_per_call as f32).round();
    Some(calls.clamp(1.0, 1000.0) as u32)
}

/// Frames one call of `pipeline` returns: the schema's `input_size` where the server gives it,
/// else 4 (passthrough's and StreamDiffusion's, `docs/scope-api.md` §3).
fn frames_per_call(stats: &ScopeStats, pipeline: &str) -> u32 {
    stats
        .pipelines
        .as_ref()
        .and_then(|p| p.get(pipeline))
        .and_then(|s| s.extra.get("input_size"))
        .and_then(serde_json::Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(4)
}

/// A visual transition into the scene now on program, for the prompt change to keep step
/// with: its duration, and each live node's output rate and frames per call.
struct LockStep {
    duration: f32,
    rates: HashMap<NodeId, (f32, u32)>,
}

/// Every Scope node id of the show; the scene on screen (with its parameters) wins a conflict.
/// With `lock`, a node whose scene sets no prompt transition gets one that lasts as long as
/// the visual transition. With `bar` (the T-bar stands at `t` from scene `from`), a node in
/// both scenes gets both scenes' prompts, weighted by the bar ([`prompt_blend`]).
fn wanted_scopes(
    show: &CurrentShow,
    current: usize,
    lock: Option<&LockStep>,
    bar: Option<(usize, f32)>,
) -> HashMap<NodeId, Wanted> {
    let loaded = &show.0;
    let scenes = &loaded.show.scenes;
    // Inputs from the compiled plans (a node's first camera feed in any scene).
    let mut inputs: HashMap<&NodeId, &NodeId> = HashMap::new();
    for plan in &loaded.plans {
        for feed in &plan.feeds {
            if let FeedFrom::Camera(cam) = &feed.from {
                inputs.entry(&feed.scope).or_insert(cam);
            }
        }
    }
    let camera_fps = |cam: &NodeId| {
        scenes
            .iter()
            .find_map(|s| match s.nodes.get(cam).map(|n| &n.kind) {
                Some(NodeKind::Camera(c)) => Some(c.fps),
                _ => None,
            })
    };
    let mut wanted = HashMap::new();
    let order = scenes.get(current).into_iter().chain(scenes.iter());
    for (n, scene) in order.enumerate() {
        for (id, node) in &scene.nodes {
            let NodeKind::Scope(scope) = &node.kind else {
                continue;
            };
            wanted.entry(id.clone()).or_insert_with(|| {
                let input = inputs.get(id).map(|c| (*c).clone());
                let fps = input.as_ref().and_then(camera_fps).unwrap_or(30);
                let own = scene.scope.as_ref();
                // The first scene visited is the current one: under the bar, it mixes.
                let mixed = bar.filter(|_| n == 0).and_then(|(from, t)| {
                    let NodeKind::Scope(earlier) = &scenes.get(from)?.nodes.get(id)?.kind else {
                        return None;
                    };
                    let from_params = scenes[from].scope.as_ref().unwrap_or(&earlier.params);
                    let to_params = own.unwrap_or(&scope.params);
                    Some(ScopeParams {
                        prompts: prompt_blend::blend(&from_params.prompts, &to_params.prompts, t),
                        transition_steps: None,
                        ..to_params.clone()
                    })
                });
                let params = mixed.as_ref().or(own);
                let mut config = scope_config(scope, params, &loaded.base_dir, fps);
                if config.transition.is_none()
                    && mixed.is_none()
                    && let Some(l) = lock
                    && let Some(&(fps_out, per_call)) = l.rates.get(id)
                    && let Some(num_steps) = lock_step(l.duration, fps_out, per_call)
                {
                    let method = own.unwrap_or(&scope.params).interpolation;
                    config.transition = Some(PromptTransition {
                        num_steps,
                        method: interpolation(method),
                    });
                }
                Wanted {
                    config,
                    fallback: scope.fallback,
                    input,
                }
            });
        }
    }
    wanted
}

/// What [`reconcile_scopes`] last acted on.
#[derive(Default)]
struct Reconciled {
    scene: Option<usize>,
    /// The T-bar's source scene and step.
    bar: Option<(usize, u32)>,
    gate: prompt_blend::Gate,
}

/// On a new show or scene (or a new T-bar step): start new nodes, hand the full desired
/// config to the others (the worker sends only what changed), stop the nodes no scene has
/// any more.
fn reconcile_scopes(
    mut commands: Commands,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    mut sources: Query<(Entity, &mut ScopeSource)>,
    mut images: ResMut<Assets<Image>>,
    mut last: Local<Reconciled>,
) {
    let bar = playback
        .transition
        .as_ref()
        .filter(|t| t.manual)
        .map(|t| (t.from_scene, prompt_blend::step(t.progress())));
    let same = last.scene == Some(playback.scene) && !show.is_changed();
    if same && last.bar == bar {
        return;
    }
    // While the bar moves its prompts follow at most every `MIN_GAP`; a later frame sends
    // where the bar is by then.
    if bar.is_some() && !last.gate.open(Instant::now()) && same {
        return;
    }
    let switched = last.scene.is_some_and(|s| s != playback.scene);
    last.scene = Some(playback.scene);
    last.bar = bar;
    let bar = bar.map(|(from, step)| (from, step as f32 / prompt_blend::STEPS));
    // The scene's Scope state travels with the switch; under a transition run by the clock
    // the prompt change keeps step with it (a cut has no duration to match, and under the
    // T-bar the prompts follow the bar).
    let lock = playback
        .transition
        .as_ref()
        .filter(|t| switched && !t.manual && t.duration > 0.0)
        .map(|t| LockStep {
            duration: t.duration,
            rates: sources
                .iter()
                .filter_map(|(_, s)| {
                    let stats = s.handle.get()?.stats();
                    let per_call = frames_per_call(&stats, &s.config.pipeline_id);
                    Some((s.node.clone(), (stats.fps_out, per_call)))
                })
                .collect(),
        });
    let mut wanted = wanted_scopes(&show, playback.scene, lock.as_ref(), bar);
    for (entity, mut source) in &mut sources {
        let Some(w) = wanted.remove(&source.node) else {
            commands.entity(entity).despawn();
            continue;
        };
        if w.config != source.config {
            if let Some(handle) = source.handle.get() {
                handle.configure(w.config.clone());
            }
            source.config = w.config;
        }
        source.fallback = w.fallback;
        source.input = w.input;
    }
    for (node, w) in wanted {
        info!(
            "Scope node \"{node}\": starting ({} at {})",
            w.config.pipeline_id, w.config.url
        );
        let image = images.add(Image::new(
            Extent3d {
                width: 1,
                height: 1,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            vec![0; 4],
            TextureFormat::Rgba8Unorm,
            RenderAssetUsages::RENDER_WORLD,
        ));
        commands.spawn(ScopeSource {
            node,
            handle: Detached(Some(ScopeHandle::start_with(
                w.config.clone(),
                super::embedded::resolver(),
            ))),
            config: w.config,
            fallback: w.fallback,
            input: w.input,
            image,
            last_at: None,
            shown_alpha: 0.0,
            sent_seq: None,
            received: 0,
            uploaded: HashSet::new(),
        });
    }
}

/// Opacity of a held frame `age` after it arrived: 1 until `fade_after`, then down to 0 over
/// [`FADE`]. Applied on the GPU ([`ExternalOpacity`]); the texture is not touched.
fn hold_alpha(age: Duration, fade_after: f32) -> f32 {
    let over = age.as_secs_f32() - fade_after.max(0.0);
    1.0 - (over / FADE.as_secs_f32()).clamp(0.0, 1.0)
}

/// Sends new camera frames, takes returned frames, fades held frames, logs events and reports
/// status. Every call on the handle returns at once.
/// Connects each camera-fed Scope node to its camera's capture thread, so frames reach the
/// encoder at the camera's rate, not at the rate the app happens to render (6-9 fps for the
/// demo's avatar scene on lavapipe). Reconnects when either side is replaced; disconnects
/// nodes that are gone or no longer camera-fed.
fn connect_camera_feeds(
    scopes: Query<&ScopeSource>,
    cameras: Query<(Entity, &CameraSource)>,
    mut connected: Local<HashMap<NodeId, (Entity, scope::FrameSender)>>,
) {
    let key = |node: &NodeId| format!("{}{node}", camera::SCOPE_SINK);
    let mut wanted: HashMap<NodeId, (Entity, &ScopeSource)> = HashMap::new();
    for source in &scopes {
        let Some(cam) = source
            .input
            .as_ref()
            .filter(|_| source.config.input_mode == scope::InputMode::Video)
        else {
            continue;
        };
        if let Some((entity, _)) = cameras.iter().find(|(_, c)| c.node() == cam) {
            wanted.insert(source.node.clone(), (entity, source));
        }
    }
    connected.retain(|node, (camera, _)| {
        let keep = wanted.get(node).is_some_and(|(e, _)| e == camera);
        if !keep && let Ok((_, c)) = cameras.get(*camera) {
            c.stream().remove_sink(&key(node));
        }
        keep
    });
    for (node, (entity, source)) in wanted {
        if connected.contains_key(&node) {
            continue;
        }
        let (Some(handle), Ok((_, camera))) = (source.handle.get(), cameras.get(entity)) else {
            continue;
        };
        let sender = handle.frame_sender();
        let feed = sender.clone();
        camera
            .stream()
            .add_sink(key(&node), Box::new(move |frame| feed.send(frame.clone())));
        connected.insert(node, (entity, sender));
    }
}

fn update_scopes(
    feeds: Option<Res<ScopeFeedFrames>>,
    mut sources: Query<&mut ScopeSource>,
    mut images: ResMut<Assets<Image>>,
    mut statuses: ResMut<ScopeStatuses>,
    items: Option<ResMut<StatusItems>>,
    mut arrivals: Option<ResMut<FrameArrivals>>,
    mut uploads: ResMut<ScopeUploads>,
) {
    let now = Instant::now();
    let mut uploads_changed = false;
    for mut source in &mut sources {
        let source = &mut *source;
        let Some(handle) = source.handle.get() else {
            continue;
        };
        for event in handle.poll_events() {
            match event {
                ScopeEvent::Error(msg) => warn!("Scope node \"{}\": {msg}", source.node),
                ScopeEvent::State(ScopeState::Failed { reason }) => {
                    warn!("Scope node \"{}\" failed: {reason}", source.node);
                }
                ScopeEvent::State(state) => {
                    info!("Scope node \"{}\": {}", source.node, state_label(&state));
                }
                ScopeEvent::AssetUploaded { local, .. } => {
                    uploads_changed |= source.uploaded.insert(local);
                }
                ScopeEvent::ServerRestarted => {
                    uploads_changed |= !source.uploaded.is_empty();
                    source.uploaded.clear();
                }
                _ => {}
            }
        }
        // Input: a camera streams straight into the encoder (`connect_camera_feeds`); a
        // rendered input is the compositor's read-back feed, at the compositor's rate.
        if source.config.input_mode == scope::InputMode::Video
            && source.input.is_none()
            && let Some((n, img)) = feeds.as_ref().and_then(|f| f.0.get(&source.node))
            && source.sent_seq != Some(*n)
        {
            source.sent_seq = Some(*n);
            handle.send_frame(VideoFrame {
                width: img.width(),
                height: img.height(),
                format: PixelFormat::Rgba8,
                data: std::sync::Arc::new(img.as_raw().clone()),
                captured: media::now(),
                seq: *n,
            });
        }
        // Output.
        if let Some(frame) = handle.latest_frame() {
            if frame.data.len() == frame.width as usize * frame.height as usize * 4
                && let Some(mut image) = images.get_mut(&source.image)
            {
                camera::upload(&mut image, &frame);
                source.received += 1;
                if let (Some(a), Some(at)) = (arrivals.as_mut(), handle.last_frame_at()) {
                    a.note(&source.node, at);
                }
                source.shown_alpha = 1.0;
                source.last_at = Some(now);
            }
        } else if let (ScopeFallback::Hold { fade_after }, Some(at)) =
            (source.fallback, source.last_at)
            && handle.stats().state != ScopeState::Live
        {
            source.shown_alpha = hold_alpha(now.duration_since(at), fade_after);
        }
    }
    statuses.0 = sources
        .iter()
        .map(|s| (s.node.clone(), s.stats()))
        .collect();
    // Rebuilt only when an upload was reported or the nodes changed, not every frame.
    let nodes_changed = uploads.0.len() != statuses.0.len()
        || statuses.0.keys().any(|k| !uploads.0.contains_key(k));
    if uploads_changed || nodes_changed {
        uploads.0 = sources
            .iter()
            .map(|s| (s.node.clone(), s.uploaded.clone()))
            .collect();
    }
    if let Some(mut items) = items {
        items.0.retain(|k, _| !k.starts_with("scope "));
        for (node, stats) in &statuses.0 {
            items.0.insert(format!("scope {node}"), status_text(stats));
        }
    }
}

/// The console's name in lower case (a reason inside keeps its own case).
fn state_label(state: &ScopeState) -> String {
    let name = crate::health::state_name(state);
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `live, in 30.0 fps, out 29.8 fps, rtt 84 ms, age 12 ms`.
pub fn status_text(stats: &ScopeStats) -> String {
    let ms = |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{} ms", d.as_millis()));
    format!(
        "{}, in {:.1} fps, out {:.1} fps, rtt {}, age {}",
        state_label(&stats.state),
        stats.fps_in,
        stats.fps_out,
        ms(stats.rtt_median),
        ms(stats.frame_age)
    )
}

/// Publishes what each on-screen Scope node shows: its own frames while live or held, the
/// camera's texture under the `input` fallback, nothing (transparent) otherwise.
fn publish_scopes(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    monitored: Res<MonitoredScenes>,
    sources: Query<&ScopeSource>,
    cameras: Query<&CameraSource>,
    mut externals: ResMut<ExternalTextures>,
    mut opacity: ResMut<ExternalOpacity>,
    mut published: Local<HashSet<NodeId>>,
) {
    let visible = on_screen(&show, &playback, &monitored, true, |k| {
        matches!(k, NodeKind::Scope(_))
    });
    opacity.0.retain(|id, _| visible.contains(id));
    let mut next: HashMap<NodeId, Handle<Image>> = HashMap::new();
    for source in sources.iter().filter(|s| visible.contains(&s.node)) {
        let live = source.stats().state == ScopeState::Live;
        let own =
            (source.last_at.is_some() && source.shown_alpha > 0.0).then(|| source.image.clone());
        // A held frame fades on the GPU; a live one is shown as the server sent it.
        let held = !live && matches!(source.fallback, ScopeFallback::Hold { .. });
        if held && own.is_some() && source.shown_alpha < 1.0 {
            opacity.0.insert(source.node.clone(), source.shown_alpha);
        } else {
            opacity.0.remove(&source.node);
        }
        let shown = match source.fallback {
            _ if live => own,
            ScopeFallback::Hold { .. } => own,
            ScopeFallback::Input => source.input.as_ref().and_then(|cam| {
                cameras
                    .iter()
                    .find(|c| c.node() == cam && c.frames_uploaded() > 0)
                    .map(|c| c.image().clone())
            }),
            ScopeFallback::Transparent => None,
        };
        if let Some(handle) = shown {
            next.insert(source.node.clone(), handle);
        }
    }
    super::publish_if_changed(next, &mut published, &mut externals);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::path::Path;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::showfile::from_show;
    use crate::sources::camera::CameraSourcesPlugin;

    /// A synthetic camera into a passthrough Scope node into the output.
    macro_rules! camera_scope {
        () => {
            r#"nodes: {
            "cam": (kind: camera((device: synthetic, width: 128, height: 96, fps: 30))),
            "scope": (kind: scope((url: "embedded", pipeline: "passthrough",
                load: (width: 128, height: 96), fallback: transparent))),
            "out": (kind: output(())),
        },
        edges: [(from: "cam", to: "scope"), (from: "scope", to: "out")],"#
        };
    }

    const SHOW: &str = concat!(
        r#"(version: 1, canvas: (128, 96), scenes: [(name: "a", transition: (kind: cut), "#,
        camera_scope!(),
        ")])"
    );

    /// The same canvas with neither node.
    const SHOW_WITHOUT: &str = r#"(
    version: 1,
    canvas: (128, 96),
    scenes: [(
        name: "a",
        transition: (kind: cut),
        nodes: {
            "pattern": (kind: test_pattern((speed: 0.1))),
            "out": (kind: output(())),
        },
        edges: [(from: "pattern", to: "out")],
    )],
)"#;

    /// A Scope node fed by a node that is not a camera, so its input is the compositor's
    /// read-back feed.
    const SHOW_RENDERED: &str = r#"(
    version: 1,
    canvas: (128, 96),
    scenes: [(
        name: "a",
        transition: (kind: cut),
        nodes: {
            "pattern": (kind: test_pattern((speed: 0.1))),
            "scope": (kind: scope((url: "embedded", pipeline: "passthrough",
                load: (width: 128, height: 96), fallback: transparent))),
            "out": (kind: output(())),
        },
        edges: [(from: "pattern", to: "scope"), (from: "scope", to: "out")],
    )],
)"#;

    /// Two scenes share the Scope node with their own prompts; "b" fades in over 2 s and fixes
    /// no prompt transition.
    const TWO_SCENES: &str = concat!(
        r#"(version: 2, canvas: (128, 96), scenes: [(name: "a", transition: (kind: cut),
        scope: (prompts: [(text: "scene a", weight: 1.0)]), "#,
        camera_scope!(),
        r#"), (name: "b", transition: (kind: fade, duration: 2.0),
        scope: (prompts: [(text: "scene b", weight: 1.0)], interpolation: slerp), "#,
        camera_scope!(),
        ")])"
    );

    fn app_with(text: &str) -> App {
        let origin = Path::new("test.ron");
        let parsed = show::io::load_str(text, origin).unwrap();
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, bevy::asset::AssetPlugin::default()))
            .init_asset::<Image>()
            .insert_resource(CurrentShow(Arc::new(from_show(origin, parsed).unwrap())))
            .insert_resource(Playback::new(0))
            .add_plugins((CameraSourcesPlugin, ScopeSourcesPlugin));
        app
    }

    /// Updates `app` (running `each` first) until `node` publishes a texture.
    fn until_published(app: &mut App, node: &NodeId, mut each: impl FnMut(&mut App, u64)) {
        let deadline = Instant::now() + Duration::from_secs(60);
        for n in 1.. {
            each(app, n);
            app.update();
            if app
                .world()
                .resource::<ExternalTextures>()
                .0
                .contains_key(node)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no Scope frame within 60 s: {:?}",
                app.world().resource::<ScopeStatuses>().0.get(node)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn pixel(image: &Image, x: u32, y: u32) -> [u8; 4] {
        let w = image.texture_descriptor.size.width;
        let i = ((y * w + x) * 4) as usize;
        image.data.as_ref().unwrap()[i..i + 4].try_into().unwrap()
    }

    #[test]
    fn the_prompt_change_lasts_as_many_calls_as_the_transition() {
        // 2 s at 15 frames/s, 4 frames a call: 7.5 calls, rounded.
        assert_eq!(lock_step(2.0, 15.0, 4), Some(8));
        assert_eq!(lock_step(0.2, 5.0, 12), Some(1), "at least one call");
        assert_eq!(lock_step(2.0, 0.0, 4), None, "no output yet: at once");
        assert_eq!(lock_step(0.0, 15.0, 4), None);
        assert_eq!(lock_step(f32::NAN, 15.0, 4), None);
    }

    /// Switching to a scene under a 2 s fade sends its prompts as a transition over the calls
    /// the node returns in 2 s (checked at the server).
    #[test]
    fn a_timed_switch_keeps_the_prompt_change_in_step_with_the_transition() {
        let server = scope_server::EmbeddedServer::start(Default::default()).unwrap();
        let show = TWO_SCENES.replace("\"embedded\"", &format!("{:?}", server.url()));
        let mut app = app_with(&show);
        let scope = NodeId::from("scope");
        until_published(&mut app, &scope, |_, _| {});
        // Let the output rate settle.
        let settle = Instant::now() + Duration::from_millis(2500);
        while Instant::now() < settle {
            app.update();
            std::thread::sleep(Duration::from_millis(10));
        }
        let fps_out = app.world().resource::<ScopeStatuses>().0[&scope].fps_out;
        assert!(fps_out > 5.0, "output {fps_out} fps");
        let (plans, into) = {
            let s = &app.world().resource::<CurrentShow>().0;
            (s.plans.clone(), s.show.scenes[1].clone())
        };
        app.world_mut()
            .resource_mut::<Playback>()
            .switch_to(1, &plans, &into);
        let rest = scope::RestClient::new(&server.url(), Duration::from_secs(5)).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let transition = loop {
            app.update();
            let p = runtime.block_on(rest.session_parameters()).unwrap();
            if let Some(t) = p.get("transition") {
                break t.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no transition reached the server: {p:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(
            transition["target_prompts"],
            json!([{"text": "scene b", "weight": 1.0}])
        );
        assert_eq!(transition["temporal_interpolation_method"], json!("slerp"));
        let steps = transition["num_steps"].as_u64().unwrap();
        // The rate measured just before, give or take the jitter of a loaded machine.
        let expected = f64::from(fps_out) * 2.0 / 4.0;
        assert!(
            (steps as f64 - expected).abs() <= expected * 0.5 + 1.0,
            "{steps} calls for {expected:.1} expected"
        );
    }

    /// The T-bar pulled from "a" towards "b" sends both scenes' prompts weighted by where it
    /// stands, so the picture follows the hand; at the end only "b" is left (checked at the
    /// server, which merges each update into the session's parameters).
    #[test]
    fn the_prompts_follow_the_t_bar() {
        let server = scope_server::EmbeddedServer::start(Default::default()).unwrap();
        let show = TWO_SCENES.replace("\"embedded\"", &format!("{:?}", server.url()));
        let mut app = app_with(&show);
        let scope = NodeId::from("scope");
        until_published(&mut app, &scope, |_, _| {});
        let plans = app.world().resource::<CurrentShow>().0.plans.clone();
        app.world_mut().resource_mut::<Playback>().preview = Some(1);
        let rest = scope::RestClient::new(&server.url(), Duration::from_secs(5)).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let fade = show::scene::Transition {
            kind: show::scene::TransitionKind::Fade,
            duration: 1.0,
        };
        let mut prompts_at = |bar: f32, want: serde_json::Value| {
            app.world_mut()
                .resource_mut::<Playback>()
                .tbar(&plans, bar, fade);
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                app.update();
                let p = runtime.block_on(rest.session_parameters()).unwrap();
                if p.get("prompts") == Some(&want) {
                    return p;
                }
                assert!(
                    Instant::now() < deadline,
                    "at {bar}: {:?}, want {want}",
                    p.get("prompts")
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        let quarter = prompts_at(
            0.25,
            json!([{"text": "scene a", "weight": 0.75}, {"text": "scene b", "weight": 0.25}]),
        );
        assert_eq!(quarter["prompt_interpolation_method"], json!("slerp"));
        assert!(quarter.get("transition").is_none(), "{quarter:?}");
        prompts_at(
            0.5,
            json!([{"text": "scene a", "weight": 0.5}, {"text": "scene b", "weight": 0.5}]),
        );
        prompts_at(1.0, json!([{"text": "scene b", "weight": 1.0}]));
        assert_eq!(app.world().resource::<Playback>().scene, 1);
    }

    #[test]
    fn hold_keeps_the_frame_then_fades_it_out() {
        assert_eq!(hold_alpha(Duration::from_secs(1), 2.0), 1.0);
        assert_eq!(hold_alpha(Duration::from_millis(2500), 2.0), 0.5);
        assert_eq!(hold_alpha(Duration::from_secs(4), 2.0), 0.0);
    }

    #[test]
    fn scene_params_override_the_node_params() {
        let node = ScopeNode::default();
        let base = scope_config(&node, None, Path::new("/show"), 30);
        let scene = ScopeParams {
            prompts: vec![show::node::Prompt {
                text: "scene prompt".into(),
                weight: 0.5,
            }],
            ..ScopeParams::default()
        };
        let over = scope_config(&node, Some(&scene), Path::new("/show"), 30);
        assert_ne!(base.params, over.params);
        assert_eq!(
            over.params.get("prompts"),
            Some(&json!([{"text": "scene prompt", "weight": 0.5}]))
        );
        // Load parameters are the node's either way, so a scene switch never reloads.
        assert_eq!(base.load_params, over.load_params);
    }

    /// Camera → embedded Scope server (passthrough, real loopback WebRTC) → the node's texture:
    /// both textures carry the synthetic camera's green backdrop at the requested size.
    #[test]
    fn camera_frames_go_through_the_embedded_scope_server_into_textures() {
        let mut app = app_with(SHOW);
        let (cam, scope) = (NodeId::from("cam"), NodeId::from("scope"));
        until_published(&mut app, &scope, |_, _| {});
        let scope_image = app.world().resource::<ExternalTextures>().0[&scope].clone();
        let status = app.world().resource::<ScopeStatuses>().0[&scope].clone();
        assert_eq!(status.state, ScopeState::Live);
        let externals = app.world().resource::<ExternalTextures>();
        let cam_image = externals.0[&cam].clone();
        let images = app.world().resource::<Assets<Image>>();
        for (name, handle) in [("camera", &cam_image), ("scope", &scope_image)] {
            let image = images.get(handle).unwrap();
            let size = image.texture_descriptor.size;
            assert_eq!((size.width, size.height), (128, 96), "{name} size");
            // Right edge, mid height: the backdrop (the performer never sways that far).
            let p = pixel(image, 124, 48);
            let green = ::camera::GREEN_BACKDROP;
            for c in 0..3 {
                assert!(
                    p[c].abs_diff(green[c]) <= 24,
                    "{name} pixel {p:?} is not the green backdrop {green:?}"
                );
            }
        }
        // A show without the nodes stops them and unpublishes their textures.
        let origin = Path::new("test.ron");
        let without = show::io::load_str(SHOW_WITHOUT, origin).unwrap();
        app.insert_resource(CurrentShow(Arc::new(from_show(origin, without).unwrap())));
        app.update();
        app.update();
        let externals = app.world().resource::<ExternalTextures>();
        assert!(!externals.0.contains_key(&cam) && !externals.0.contains_key(&scope));
        let world = app.world_mut();
        assert_eq!(world.query::<&ScopeSource>().iter(world).count(), 0);
        assert_eq!(world.query::<&CameraSource>().iter(world).count(), 0);
    }

    /// A stalled server: the held frame stays published, unchanged, and fades out through its
    /// GPU opacity; once faded it is unpublished.
    #[test]
    fn a_held_frame_fades_on_the_gpu_then_goes() {
        let server = scope_server::EmbeddedServer::start(Default::default()).unwrap();
        let show = SHOW
            .replace("\"embedded\"", &format!("{:?}", server.url()))
            .replace("fallback: transparent", "fallback: hold(fade_after: 3.5)");
        let mut app = app_with(&show);
        let scope = NodeId::from("scope");
        until_published(&mut app, &scope, |_, _| {});
        assert!(
            !app.world()
                .resource::<ExternalOpacity>()
                .0
                .contains_key(&scope)
        );
        server.faults().stall_after_frames(Some(0));
        // The client marks the stall 0.5 s after the last frame; the held frame then fades
        // out as `fallback.fade_after` says.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut fading = Vec::new();
        loop {
            app.update();
            let world = app.world();
            let published = world.resource::<ExternalTextures>().0.get(&scope).cloned();
            let Some(handle) = published else { break };
            if let Some(&a) = world.resource::<ExternalOpacity>().0.get(&scope) {
                // The texture itself keeps its alpha: the fade is the compositor's.
                let image = world.resource::<Assets<Image>>().get(&handle).unwrap();
                assert_eq!(pixel(image, 124, 48)[3], 255);
                fading.push(a);
            }
            assert!(Instant::now() < deadline, "the held frame never went");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            fading.iter().any(|a| *a > 0.0 && *a < 0.9),
            "no fade seen: {fading:?}"
        );
        assert!(fading.windows(2).all(|w| w[1] <= w[0]), "{fading:?}");
        assert!(
            !app.world()
                .resource::<ExternalOpacity>()
                .0
                .contains_key(&scope)
        );
    }

    /// A non-camera input goes out from the compositor's read-back feed and comes back into the
    /// node's texture (the feed here is a flat colour standing in for the GPU readback).
    #[test]
    fn rendered_feed_frames_are_sent_to_scope() {
        let mut app = app_with(SHOW_RENDERED);
        let scope = NodeId::from("scope");
        const FEED: [u8; 4] = [200, 40, 120, 255];
        app.init_resource::<ScopeFeedFrames>();
        until_published(&mut app, &scope, |app, n| {
            let img = image::RgbaImage::from_pixel(128, 96, image::Rgba(FEED));
            app.world_mut()
                .resource_mut::<ScopeFeedFrames>()
                .0
                .insert(scope.clone(), (n, img));
        });
        let handle = app.world().resource::<ExternalTextures>().0[&scope].clone();
        let images = app.world().resource::<Assets<Image>>();
        let p = pixel(images.get(&handle).unwrap(), 64, 48);
        for c in 0..3 {
            assert!(
                p[c].abs_diff(FEED[c]) <= 16,
                "{p:?} is not the fed {FEED:?}"
            );
        }
    }
}
