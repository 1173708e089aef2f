//! Camera nodes: one capture stream per distinct device request in the show (scenes that use
//! the same camera share it, so switching scenes never reopens a device), each an entity whose
//! newest frame is uploaded into its image only when a new frame arrived.

use std::collections::{HashMap, HashSet};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use camera::{CameraRequest, CameraStatus, CameraStream, Device};
use media::VideoFrame;
use show::NodeId;
use show::node::{CameraDevice, NodeKind};

use crate::AppSystems;
use crate::playback::Playback;
use crate::render::ExternalTextures;
use crate::showfile::CurrentShow;
use crate::stats::StatusItems;

/// A running camera.
#[derive(Component)]
pub struct CameraSource {
    pub request: CameraRequest,
    stream: CameraStream,
    /// Where its frames are uploaded (created with the first frame).
    pub image: Option<Handle<Image>>,
    /// The newest frame, kept for consumers that need CPU pixels (the Scope node's feed).
    pub last: Option<VideoFrame>,
}

impl CameraSource {
    pub fn status(&self) -> CameraStatus {
        self.stream.status()
    }
}

pub struct CameraSourcesPlugin;

impl Plugin for CameraSourcesPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            (
                reconcile_cameras,
                receive_camera_frames,
                publish_cameras,
                camera_status,
            )
                .chain()
                .in_set(AppSystems::Sources),
        );
    }
}

/// The capture request a camera node makes.
pub fn request_for(cam: &show::node::Camera) -> CameraRequest {
    CameraRequest {
        device: match &cam.device {
            CameraDevice::Index(i) => Device::Index(*i),
            CameraDevice::Name(n) => Device::Name(n.clone()),
            CameraDevice::Synthetic => Device::Synthetic,
        },
        width: cam.width,
        height: cam.height,
        fps: cam.fps,
    }
}

/// Camera node ids and their requests, per scene.
pub fn camera_nodes(show: &CurrentShow) -> Vec<Vec<(NodeId, CameraRequest)>> {
    show.0
        .show
        .scenes
        .iter()
        .map(|scene| {
            scene
                .nodes
                .iter()
                .filter_map(|(id, node)| match &node.kind {
                    NodeKind::Camera(cam) => Some((id.clone(), request_for(cam))),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Opens streams for requests the show has gained and closes those it no longer uses.
fn reconcile_cameras(
    mut commands: Commands,
    show: Res<CurrentShow>,
    cameras: Query<(Entity, &CameraSource)>,
) {
    if !show.is_changed() {
        return;
    }
    let wanted: HashSet<CameraRequest> = camera_nodes(&show)
        .into_iter()
        .flatten()
        .map(|(_, r)| r)
        .collect();
    let mut have = HashSet::new();
    for (entity, cam) in &cameras {
        if wanted.contains(&cam.request) {
            have.insert(cam.request.clone());
        } else {
            // Dropping the component joins the capture thread.
            commands.entity(entity).despawn();
        }
    }
    for request in wanted.difference(&have) {
        info!(
            "opening {} ({}x{} @ {} fps)",
            request.device, request.width, request.height, request.fps
        );
        commands.spawn((
            Name::new(format!("camera: {}", request.device)),
            CameraSource {
                request: request.clone(),
                stream: camera::open(request.clone()),
                image: None,
                last: None,
            },
        ));
    }
}

/// Uploads each camera's newest frame, if any arrived since the last update. Same-size frames
/// reuse the texture (Bevy writes into it instead of reallocating).
fn receive_camera_frames(mut cameras: Query<&mut CameraSource>, mut images: ResMut<Assets<Image>>) {
    for mut cam in &mut cameras {
        let Some(frame) = cam.stream.latest() else {
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
        match &cam.image {
            Some(handle) => {
                let _ = images.insert(handle.id(), image);
            }
            None => cam.image = Some(images.add(image)),
        }
        cam.last = Some(frame);
    }
}

/// Puts the cameras of the scenes on screen into [`ExternalTextures`] under their node ids.
fn publish_cameras(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    cameras: Query<&CameraSource>,
    mut externals: ResMut<ExternalTextures>,
    mut published: Local<HashSet<NodeId>>,
) {
    let scenes = camera_nodes(&show);
    let by_request: HashMap<&CameraRequest, &Handle<Image>> = cameras
        .iter()
        .filter_map(|c| c.image.as_ref().map(|h| (&c.request, h)))
        .collect();
    let from = playback.transition.as_ref().map(|t| t.from_scene);
    let mut next = HashMap::new();
    for index in from.into_iter().chain([playback.scene]) {
        for (id, request) in scenes.get(index).into_iter().flatten() {
            if let Some(handle) = by_request.get(request) {
                next.insert(id.clone(), (*handle).clone());
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

/// One stats-line entry per camera: live device or why the synthetic camera stands in.
fn camera_status(cameras: Query<&CameraSource>, items: Option<ResMut<StatusItems>>) {
    // Only windows with a stats line have the resource.
    let Some(mut items) = items else { return };
    items.0.retain(|k, _| !k.starts_with("camera"));
    for cam in &cameras {
        let text = match cam.status() {
            CameraStatus::Live { device } => format!("live ({device})"),
            CameraStatus::Synthetic { reason } if reason.is_empty() => "synthetic".to_owned(),
            CameraStatus::Synthetic { reason } => format!("synthetic: {reason}"),
        };
        items
            .0
            .insert(format!("camera {}", cam.request.device), text);
    }
}
