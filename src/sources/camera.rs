//! Camera sources: one [`camera::CameraStream`] per camera node id of the show (every scene's,
//! so switching scenes never waits for a device), each on its own capture thread. The newest
//! frame is uploaded into the node's texture only when a new one arrived, and kept on the CPU in
//! [`CameraFrames`] so a Scope node fed by the camera sends it without a GPU readback.

use std::collections::{HashMap, HashSet};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use camera::{CameraRequest, CameraStatus, CameraStream, Device};
use media::VideoFrame;
use show::NodeId;
use show::node::{CameraDevice, NodeKind};

use crate::AppSystems;
use crate::latency::FrameArrivals;
use crate::playback::{MonitoredScenes, Playback};
use crate::render::ExternalTextures;
use crate::showfile::CurrentShow;
use crate::stats::StatusItems;

/// A running camera for one node id. Despawning the entity stops and joins its capture thread.
#[derive(Component)]
pub struct CameraSource {
    node: NodeId,
    stream: CameraStream,
    image: Handle<Image>,
    /// Size of the picture in `image` (`None` until the first frame).
    size: Option<(u32, u32)>,
    uploaded: u64,
}

impl CameraSource {
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    pub fn status(&self) -> CameraStatus {
        self.stream.status()
    }

    /// The capture stream (consumers that need every frame attach a sink to it).
    pub fn stream(&self) -> &CameraStream {
        &self.stream
    }

    /// Frames uploaded to the texture so far.
    pub fn frames_uploaded(&self) -> u64 {
        self.uploaded
    }

    pub fn image(&self) -> &Handle<Image> {
        &self.image
    }

    /// Shows `frame` (an earlier frame of this camera) instead of the newest: how a segment
    /// node holds the picture back to match its mask.
    pub(crate) fn show_frame(&mut self, images: &mut Assets<Image>, frame: &VideoFrame) {
        if let Some(mut image) = images.get_mut(&self.image) {
            upload(&mut image, frame);
            self.size = Some((frame.width, frame.height));
            self.uploaded += 1;
        }
    }
}

/// The newest CPU frame of every camera node, for Scope nodes fed straight from a camera.
#[derive(Resource, Debug, Default)]
pub struct CameraFrames(pub HashMap<NodeId, VideoFrame>);

/// Cameras whose picture a segment node holds back until the frame's mask is ready
/// ([`CameraSource::show_frame`]): their newest frames are not uploaded here.
#[derive(Resource, Debug, Default)]
pub struct HeldCameras(pub HashSet<NodeId>);

pub struct CameraSourcesPlugin;

impl Plugin for CameraSourcesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<CameraFrames>()
            .init_resource::<HeldCameras>()
            .init_resource::<ExternalTextures>()
            .init_resource::<MonitoredScenes>()
            .add_systems(
                Update,
                (reconcile_cameras, update_cameras, publish_cameras)
                    .chain()
                    .in_set(AppSystems::Sources)
                    .in_set(CameraSystems),
            );
    }
}

/// The camera systems, so consumers of [`CameraFrames`] can run after them.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct CameraSystems;

fn request(cam: &show::node::Camera) -> CameraRequest {
    CameraRequest {
        device: match &cam.device {
            CameraDevice::Index(i) => Device::Index(*i),
            CameraDevice::Name(n) => Device::Name(n.clone()),
            CameraDevice::Synthetic => Device::Synthetic,
            CameraDevice::SyntheticRoom => Device::SyntheticRoom,
        },
        width: cam.width.max(1),
        height: cam.height.max(1),
        fps: cam.fps.max(1),
    }
}

/// Camera requests by node id over every scene; the scene on screen wins a conflict.
fn wanted_cameras(show: &CurrentShow, current: usize) -> HashMap<NodeId, CameraRequest> {
    let scenes = &show.0.show.scenes;
    let mut wanted = HashMap::new();
    let order = scenes.get(current).into_iter().chain(scenes.iter());
    for scene in order {
        for (id, node) in &scene.nodes {
            if let NodeKind::Camera(cam) = &node.kind {
                wanted.entry(id.clone()).or_insert_with(|| request(cam));
            }
        }
    }
    wanted
}

/// On a new show: open cameras that are new or asked for differently, close the rest.
fn reconcile_cameras(
    mut commands: Commands,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    sources: Query<(Entity, &CameraSource)>,
    mut images: ResMut<Assets<Image>>,
    mut frames: ResMut<CameraFrames>,
    mut started: Local<bool>,
) {
    if *started && !show.is_changed() {
        return;
    }
    *started = true;
    let mut wanted = wanted_cameras(&show, playback.scene);
    for (entity, source) in &sources {
        let keep = wanted
            .get(&source.node)
            .is_some_and(|req| req == source.stream.request());
        if keep {
            wanted.remove(&source.node);
        } else {
            frames.0.remove(&source.node);
            commands.entity(entity).despawn();
        }
    }
    for (node, req) in wanted {
        info!("camera node \"{node}\": opening {}", req.device);
        let image = images.add(blank_image());
        commands.spawn(CameraSource {
            node,
            stream: camera::open(req),
            image,
            size: None,
            uploaded: 0,
        });
    }
}

/// A 1×1 transparent placeholder until the first frame (never published).
fn blank_image() -> Image {
    Image::new(
        Extent3d {
            width: 1,
            height: 1,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        vec![0; 4],
        TextureFormat::Rgba8Unorm,
        RenderAssetUsages::RENDER_WORLD,
    )
}

/// Writes a straight-alpha RGBA8 frame into `image`, keeping the asset (and, when the size is
/// unchanged, its pixel buffer and GPU texture), so a steady stream allocates nothing per frame.
pub(crate) fn upload(image: &mut Image, frame: &VideoFrame) {
    upload_rgba(image, frame.width, frame.height, &frame.data);
}

/// [`upload`] for a bare RGBA8 buffer of `width`×`height`.
pub(crate) fn upload_rgba(image: &mut Image, width: u32, height: u32, rgba: &[u8]) {
    let size = Extent3d {
        width,
        height,
        depth_or_array_layers: 1,
    };
    match &mut image.data {
        Some(data) if image.texture_descriptor.size == size && data.len() == rgba.len() => {
            data.copy_from_slice(rgba);
        }
        _ => {
            image.texture_descriptor.size = size;
            image.data = Some(rgba.to_vec());
        }
    }
}

/// Takes each camera's newest frame (if any arrived), uploads it and reports status.
fn update_cameras(
    mut sources: Query<&mut CameraSource>,
    held: Res<HeldCameras>,
    mut images: ResMut<Assets<Image>>,
    mut frames: ResMut<CameraFrames>,
    items: Option<ResMut<StatusItems>>,
    mut arrivals: Option<ResMut<FrameArrivals>>,
) {
    for mut source in &mut sources {
        let Some(frame) = source.stream.latest() else {
            continue;
        };
        let expected = frame.width as usize * frame.height as usize * 4;
        if frame.data.len() != expected {
            warn!(
                "camera node \"{}\": frame of {} bytes for {}x{}, skipped",
                source.node,
                frame.data.len(),
                frame.width,
                frame.height
            );
            continue;
        }
        if !held.0.contains(&source.node)
            && let Some(mut image) = images.get_mut(&source.image)
        {
            upload(&mut image, &frame);
            source.size = Some((frame.width, frame.height));
            source.uploaded += 1;
            if let Some(a) = arrivals.as_mut() {
                a.note(&source.node, media::epoch() + frame.captured);
            }
        }
        frames.0.insert(source.node.clone(), frame);
    }
    if let Some(mut items) = items {
        items.0.retain(|k, _| !k.starts_with("camera "));
        for source in &sources {
            let text = match source.stream.status() {
                CameraStatus::Live { device } => format!("live {device}"),
                CameraStatus::Synthetic { reason } if reason.is_empty() => "synthetic".to_owned(),
                CameraStatus::Synthetic { reason } => format!("synthetic ({reason})"),
            };
            items.0.insert(format!("camera {}", source.node), text);
        }
    }
}

/// Ids of `kind`-matching nodes in the scenes on screen (a transition's source and target) and
/// in the scenes the console shows off program ([`MonitoredScenes`]; its glanced-at tiles only
/// with `glances`).
pub(crate) fn on_screen(
    show: &CurrentShow,
    playback: &Playback,
    monitored: &MonitoredScenes,
    glances: bool,
    is_kind: impl Fn(&NodeKind) -> bool,
) -> HashSet<NodeId> {
    let scenes = &show.0.show.scenes;
    let from = playback.transition.as_ref().map(|t| t.from_scene);
    let glanced = monitored.glanced.iter().filter(|_| glances);
    from.into_iter()
        .chain([playback.scene])
        .chain(monitored.shown.iter().copied())
        .chain(glanced.copied())
        .filter_map(|i| scenes.get(i))
        .flat_map(|scene| {
            scene
                .nodes
                .iter()
                .filter(|(_, n)| is_kind(&n.kind))
                .map(|(id, _)| id.clone())
        })
        .collect()
}

/// Publishes the textures of on-screen cameras that have delivered a frame.
fn publish_cameras(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    monitored: Res<MonitoredScenes>,
    sources: Query<&CameraSource>,
    mut externals: ResMut<ExternalTextures>,
    mut published: Local<HashSet<NodeId>>,
) {
    let visible = on_screen(&show, &playback, &monitored, true, |k| {
        matches!(k, NodeKind::Camera(_))
    });
    // A synthetic camera draws every frame only where it is looked at or streamed to a Scope
    // node; in a multiview tile only, one frame in GLANCE_EVERY; elsewhere none.
    let looked_at = on_screen(&show, &playback, &monitored, false, |k| {
        matches!(k, NodeKind::Camera(_))
    });
    for s in &sources {
        let every = if looked_at.contains(&s.node) || s.stream.has_sink(SCOPE_SINK) {
            1
        } else if visible.contains(&s.node) {
            GLANCE_EVERY
        } else {
            0
        };
        s.stream.set_every(every);
    }
    let next = sources
        .iter()
        .filter(|s| s.size.is_some() && visible.contains(&s.node))
        .map(|s| (s.node.clone(), s.image.clone()))
        .collect();
    super::publish_if_changed(next, &mut published, &mut externals);
}

/// One frame in this many for a camera seen only in a multiview tile (twice a second).
pub(crate) const GLANCE_EVERY: u32 = 15;

/// The key prefix of a Scope node's feed from a camera (`sources::scope`).
pub(crate) const SCOPE_SINK: &str = "scope ";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::path::Path;
    use std::sync::Arc;

    use super::*;

    /// A node of a scene the multiview only glances at counts for cameras (their picture is
    /// cheap to keep live) but not for work like segmentation that asks `glances: false`.
    #[test]
    fn glanced_scenes_count_only_when_asked() {
        let text = r#"(version: 2, canvas: (64, 36), scenes: [
            (name: "a", nodes: {"s": (kind: solid(())), "out": (kind: output(()))}, edges: [(from: "s", to: "out")]),
            (name: "b", nodes: {"cam": (kind: camera((device: synthetic))), "out": (kind: output(()))}, edges: [(from: "cam", to: "out")]),
        ])"#;
        let origin = Path::new("t.ron");
        let parsed = show::io::load_str(text, origin).unwrap();
        let show = CurrentShow(Arc::new(
            crate::showfile::from_show(origin, parsed).unwrap(),
        ));
        let playback = Playback::new(0);
        let cams = |m: &MonitoredScenes, glances| {
            on_screen(&show, &playback, m, glances, |k| {
                matches!(k, NodeKind::Camera(_))
            })
        };
        let tile = MonitoredScenes {
            shown: vec![],
            glanced: vec![1],
        };
        assert!(cams(&tile, true).contains(&NodeId::from("cam")));
        assert!(cams(&tile, false).is_empty());
        let monitor = MonitoredScenes {
            shown: vec![1],
            glanced: vec![],
        };
        assert!(cams(&monitor, false).contains(&NodeId::from("cam")));
    }
}
