//! Scope nodes: one [`ScopeHandle`] per (server URL, node id) in the show, an entity each. A
//! handle lives across scene switches; each switch passes the new scene's full Scope settings
//! to `configure`, and the handle sends only what changed (reloading the pipeline only when a
//! load parameter changed). Frames go out straight from the camera's CPU frame when the node's
//! input is a camera; returned frames are uploaded into the node's texture.
//!
//! While the node is not `Live` its fallback applies: `hold` keeps the last frame for
//! `fade_after` seconds, then the node goes transparent; `input` shows the camera instead;
//! `transparent` shows nothing. The stats line always says which state the node is in.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use scope::{ScopeConfig, ScopeHandle, ScopeState};
use serde_json::{Map, Value, json};
use show::NodeId;
use show::node::{NodeKind, ScopeFallback, ScopeNode, ScopeParams};
use show::plan::FeedFrom;

use crate::AppSystems;
use crate::playback::Playback;
use crate::render::ExternalTextures;
use crate::showfile::CurrentShow;
use crate::sources::camera::{CameraSource, request_for};
use crate::stats::StatusItems;

/// Identifies a Scope connection across scenes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopeKey {
    pub url: String,
    pub node: NodeId,
}

/// A running Scope connection.
#[derive(Component)]
pub struct ScopeSource {
    pub key: ScopeKey,
    handle: ScopeHandle,
    config: ScopeConfig,
    fallback: ScopeFallback,
    image: Option<Handle<Image>>,
    last_frame_at: Option<Instant>,
    /// `seq` of the last camera frame sent, so each frame goes out once.
    last_sent: Option<u64>,
}

impl ScopeSource {
    /// Live and a returned frame is on its texture.
    pub fn is_showing_output(&self) -> bool {
        self.image.is_some() && matches!(self.handle.stats().state, ScopeState::Live)
    }
}

pub struct ScopeSourcesPlugin;

impl Plugin for ScopeSourcesPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            (
                reconcile_scopes,
                feed_scopes,
                receive_scope_frames,
                publish_scopes,
                scope_status,
            )
                .chain()
                .in_set(AppSystems::Sources),
        );
    }
}

/// The client configuration for a Scope node as scene `scene` shows it: the scene's own Scope
/// settings replace the node's `params` when the scene has them.
pub fn config_for(
    node: &ScopeNode,
    scene_params: Option<&ScopeParams>,
    base_dir: &Path,
) -> ScopeConfig {
    let p = scene_params.unwrap_or(&node.params);
    let mut load = Map::new();
    load.insert("width".into(), json!(node.load.width));
    load.insert("height".into(), json!(node.load.height));
    load.insert("base_seed".into(), json!(node.load.base_seed));
    load.insert("vace_enabled".into(), json!(node.load.vace_enabled));
    if let Some(q) = &node.load.quantization {
        load.insert("quantization".into(), json!(q));
    }
    let mut params = Map::new();
    if !p.prompts.is_empty() {
        let prompts: Vec<Value> = p
            .prompts
            .iter()
            .map(|pr| json!({"text": pr.text, "weight": pr.weight}))
            .collect();
        params.insert("prompts".into(), Value::Array(prompts));
    }
    let method = match p.interpolation {
        show::node::Interpolation::Linear => "linear",
        show::node::Interpolation::Slerp => "slerp",
    };
    params.insert("prompt_interpolation_method".into(), json!(method));
    if let Some(v) = p.noise_scale {
        params.insert("noise_scale".into(), json!(v));
    }
    if let Some(v) = &p.denoising_steps {
        params.insert("denoising_step_list".into(), json!(v));
    }
    if let Some(v) = p.manage_cache {
        params.insert("manage_cache".into(), json!(v));
    }
    if let Some(v) = p.vace_context_scale {
        params.insert("vace_context_scale".into(), json!(v));
    }
    ScopeConfig {
        url: node.url.clone(),
        pipeline_id: node.pipeline.clone(),
        load_params: load,
        params,
        ref_images: p.vace_ref_images.iter().map(|r| base_dir.join(r)).collect(),
        input_mode: match p.input_mode {
            show::node::InputMode::Video => scope::InputMode::Video,
            show::node::InputMode::Text => scope::InputMode::Text,
        },
        transition: p.transition_steps.map(|n| scope::PromptTransition {
            num_steps: n,
            method: match p.interpolation {
                show::node::Interpolation::Linear => scope::Interpolation::Linear,
                show::node::Interpolation::Slerp => scope::Interpolation::Slerp,
            },
        }),
        ..ScopeConfig::default()
    }
}

/// Scope nodes per scene: (node id, node).
fn scope_nodes(show: &CurrentShow) -> Vec<Vec<(NodeId, ScopeNode)>> {
    show.0
        .show
        .scenes
        .iter()
        .map(|scene| {
            scene
                .nodes
                .iter()
                .filter_map(|(id, node)| match &node.kind {
                    NodeKind::Scope(s) => Some((id.clone(), s.clone())),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Starts handles for new (url, node) pairs, stops unused ones, and (re)configures every
/// handle from the scene on screen (or the first scene that has its node).
fn reconcile_scopes(
    mut commands: Commands,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    mut scopes: Query<(Entity, &mut ScopeSource)>,
) {
    if !show.is_changed() && !playback.is_changed() {
        return;
    }
    let loaded = &show.0;
    let scenes = scope_nodes(&show);
    // The scene on screen decides a node's settings; other scenes only keep it alive.
    let mut order: Vec<usize> = vec![playback.scene];
    order.extend((0..scenes.len()).filter(|i| *i != playback.scene));
    let mut wanted: HashMap<ScopeKey, (ScopeConfig, ScopeFallback)> = HashMap::new();
    for index in order {
        let scene_params = loaded.show.scenes.get(index).and_then(|s| s.scope.as_ref());
        for (id, node) in scenes.get(index).into_iter().flatten() {
            let key = ScopeKey {
                url: node.url.clone(),
                node: id.clone(),
            };
            wanted.entry(key).or_insert_with(|| {
                (
                    config_for(node, scene_params, &loaded.base_dir),
                    node.fallback,
                )
            });
        }
    }
    let mut have = HashSet::new();
    for (entity, mut src) in &mut scopes {
        match wanted.get(&src.key) {
            None => commands.entity(entity).despawn(),
            Some((config, fallback)) => {
                have.insert(src.key.clone());
                src.fallback = *fallback;
                if src.config != *config {
                    src.handle.configure(config.clone());
                    src.config = config.clone();
                }
            }
        }
    }
    for (key, (config, fallback)) in wanted {
        if have.contains(&key) {
            continue;
        }
        info!(
            "Scope node \"{}\": connecting to {} ({})",
            key.node, key.url, config.pipeline_id
        );
        commands.spawn((
            Name::new(format!("scope: {}", key.node)),
            ScopeSource {
                handle: ScopeHandle::start(config.clone()),
                key,
                config,
                fallback,
                image: None,
                last_frame_at: None,
                last_sent: None,
            },
        ));
    }
}

/// Sends each Scope node the newest frame of the camera feeding it (per the plan's feeds).
/// Feeds rendered on the GPU (`FeedFrom::Rendered`) are not sent yet: they need a readback.
fn feed_scopes(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    cameras: Query<&CameraSource>,
    mut scopes: Query<&mut ScopeSource>,
) {
    let loaded = &show.0;
    let (Some(scene), Some(plan)) = (
        loaded.show.scenes.get(playback.scene),
        loaded.plans.get(playback.scene),
    ) else {
        return;
    };
    for feed in &plan.feeds {
        let FeedFrom::Camera(cam_id) = &feed.from else {
            continue;
        };
        let Some(NodeKind::Camera(cam)) = scene.nodes.get(cam_id).map(|n| &n.kind) else {
            continue;
        };
        let request = request_for(cam);
        let Some(frame) = cameras
            .iter()
            .find(|c| c.request == request)
            .and_then(|c| c.last.clone())
        else {
            continue;
        };
        let Some(NodeKind::Scope(node)) = scene.nodes.get(&feed.scope).map(|n| &n.kind) else {
            continue;
        };
        for mut src in &mut scopes {
            if src.key.node == feed.scope
                && src.key.url == node.url
                && src.last_sent != Some(frame.seq)
            {
                src.last_sent = Some(frame.seq);
                // Pausing is ours: a paused node simply stops sending (never `paused` on the wire).
                if !src.config.paused() {
                    src.handle.send_frame(frame.clone());
                }
            }
        }
    }
}

/// Uploads frames that came back from Scope.
fn receive_scope_frames(mut scopes: Query<&mut ScopeSource>, mut images: ResMut<Assets<Image>>) {
    for mut src in &mut scopes {
        for event in src.handle.poll_events() {
            debug!("Scope node \"{}\": {event:?}", src.key.node);
        }
        let Some(frame) = src.handle.latest_frame() else {
            continue;
        };
        let Ok(rgba) = frame.to_rgba() else {
            continue;
        };
        let image = Image::new(
            Extent3d {
                width: rgba.width,
                height: rgba.height,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            rgba.data.as_ref().clone(),
            TextureFormat::Rgba8Unorm,
            RenderAssetUsages::RENDER_WORLD,
        );
        match &src.image {
            Some(handle) => {
                let _ = images.insert(handle.id(), image);
            }
            None => src.image = Some(images.add(image)),
        }
        src.last_frame_at = Some(Instant::now());
    }
}

/// What a Scope node shows right now.
enum Shown {
    Output(Handle<Image>),
    Input,
    Nothing,
}

fn shown(src: &ScopeSource, state: &ScopeState) -> Shown {
    let live = matches!(state, ScopeState::Live);
    match (&src.image, live, src.fallback) {
        (Some(img), true, _) => Shown::Output(img.clone()),
        (_, false, ScopeFallback::Input) => Shown::Input,
        (Some(img), false, ScopeFallback::Hold { fade_after }) => {
            let fresh = src
                .last_frame_at
                .is_some_and(|t| t.elapsed() < Duration::from_secs_f32(fade_after.max(0.0)));
            if fresh {
                Shown::Output(img.clone())
            } else {
                Shown::Nothing
            }
        }
        // Live but no frame yet: show the input rather than a hole while starting.
        (None, true, _) => Shown::Input,
        _ => Shown::Nothing,
    }
}

/// Puts each on-screen Scope node's picture (or its fallback) into [`ExternalTextures`].
fn publish_scopes(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    scopes: Query<&ScopeSource>,
    cameras: Query<&CameraSource>,
    mut externals: ResMut<ExternalTextures>,
    mut published: Local<HashSet<NodeId>>,
) {
    let loaded = &show.0;
    let from = playback.transition.as_ref().map(|t| t.from_scene);
    let mut next: HashMap<NodeId, Handle<Image>> = HashMap::new();
    for index in from.into_iter().chain([playback.scene]) {
        let Some(scene) = loaded.show.scenes.get(index) else {
            continue;
        };
        let plan = loaded.plans.get(index);
        for (id, node) in &scene.nodes {
            let NodeKind::Scope(s) = &node.kind else {
                continue;
            };
            let Some(src) = scopes
                .iter()
                .find(|src| src.key.node == *id && src.key.url == s.url)
            else {
                continue;
            };
            let state = src.handle.stats().state;
            let handle = match shown(src, &state) {
                Shown::Output(h) => Some(h),
                Shown::Nothing => None,
                Shown::Input => plan
                    .and_then(|p| p.feeds.iter().find(|f| f.scope == *id))
                    .and_then(|f| match &f.from {
                        FeedFrom::Camera(cam) => match scene.nodes.get(cam).map(|n| &n.kind) {
                            Some(NodeKind::Camera(c)) => Some(request_for(c)),
                            _ => None,
                        },
                        FeedFrom::Rendered(_) => None,
                    })
                    .and_then(|req| cameras.iter().find(|c| c.request == req))
                    .and_then(|c| c.image.clone()),
            };
            if let Some(h) = handle {
                next.insert(id.clone(), h);
            }
        }
    }
    for id in published.drain() {
        if !next.contains_key(&id) {
            externals.0.remove(&id);
        }
    }
    for (id, handle) in next {
        published.insert(id.clone());
        if externals.0.get(&id) != Some(&handle) {
            externals.0.insert(id, handle);
        }
    }
}

/// State, fps in/out, round trip and frame age for the stats line.
fn scope_status(scopes: Query<&ScopeSource>, items: Option<ResMut<StatusItems>>) {
    // Only windows with a stats line have the resource.
    let Some(mut items) = items else { return };
    items.0.retain(|k, _| !k.starts_with("scope"));
    for src in &scopes {
        let s = src.handle.stats();
        let mut text = format!(
            "{:?}, in {:.0} / out {:.0} fps",
            s.state, s.fps_in, s.fps_out
        );
        if let Some(rtt) = s.rtt_median {
            text.push_str(&format!(", rtt {} ms", rtt.as_millis()));
        }
        if let Some(age) = s.frame_age {
            text.push_str(&format!(", frame age {} ms", age.as_millis()));
        }
        items.0.insert(format!("scope {}", src.key.node), text);
    }
}
