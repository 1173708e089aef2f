//! Segment nodes: one [`segment::SegmentWorker`] per segment node id of the show (every
//! scene's, so a scene switch never reloads a model). The worker thread runs the model; these
//! systems only hand it frames and upload the small masks it returns as the node's external
//! texture, which the node's pass upsamples on the GPU (`shaders/segment.wgsl`).
//!
//! Frames reach the worker without touching the frame path: a camera input streams from the
//! camera's capture thread straight into the worker (like a Scope node's); any other input is
//! rendered at the model size and read back by the compositor ([`ScopeFeedFrames`]).
//!
//! Time alignment: a mask carries the id of its frame. With [`SegmentAlign::Hold`] and a camera
//! input, the camera's picture is held back ([`HeldCameras`]) and each mask is shown with the
//! very frame it was computed from; otherwise the newest mask is shown over the newest picture.

mod hold;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use media::{PixelFormat, VideoFrame};
use segment::{
    Mask, ModelSource, SegmentError, SegmentWorker, Segmenter, TractSegmenter, Variant,
    WorkerConfig, WorkerStatus,
};
use show::NodeId;
use show::node::{BeforeMask, NodeKind, SegmentAlign, SegmentModel};
use show::plan::FeedFrom;

use self::hold::Recent;
use crate::AppSystems;
use crate::playback::{MonitoredScenes, Playback};
use crate::render::{ExternalTextures, ScopeFeedFrames};
use crate::showfile::CurrentShow;
use crate::sources::camera::{
    CameraSource, CameraSystems, GLANCE_EVERY, HeldCameras, on_screen, upload_rgba,
};
use crate::stats::StatusItems;

/// Makes a segmenter for a model (on the worker thread). The default loads it into tract;
/// tests insert their own before adding the plugin (doubles with a known delay or output).
#[derive(Resource, Clone)]
pub struct SegmenterFactory(
    pub Arc<dyn Fn(&ModelSource) -> Result<Box<dyn Segmenter>, SegmentError> + Send + Sync>,
);

impl Default for SegmenterFactory {
    fn default() -> Self {
        SegmenterFactory(Arc::new(|model| {
            TractSegmenter::load(model).map(|s| Box::new(s) as Box<dyn Segmenter>)
        }))
    }
}

/// What one segment node runs; a change restarts its worker.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    model: ModelSource,
    worker: WorkerConfig,
    align: SegmentAlign,
    before: BeforeMask,
    /// The camera the node is fed from (its plan feed), if any.
    camera: Option<NodeId>,
}

/// A segment node's worker and mask texture.
#[derive(Component)]
pub struct SegmentSource {
    node: NodeId,
    wanted: Wanted,
    worker: SegmentWorker,
    /// The mask at model size (a 1×1 before-first-mask value until the first one).
    image: Handle<Image>,
    /// The camera entity whose capture thread feeds the worker.
    camera: Option<Entity>,
    /// Whether the node is on screen: only then do camera frames go to the model, so a
    /// segment node in another scene costs no CPU.
    on_screen: Arc<AtomicBool>,
    /// On screen only in a multiview tile: one camera frame in [`GLANCE_EVERY`] goes to the
    /// model (a model run per frame for a 160-pixel glance would cost the program,
    /// BENCHMARKS.md "The console").
    glance: Arc<AtomicBool>,
    recent: Recent,
    /// The last rendered feed frame sent: a new picture is sent, the same one (a still input,
    /// a paused clock) is not segmented again.
    sent: Option<Arc<Vec<u8>>>,
    masks: u64,
    last: Option<MaskInfo>,
    started: Instant,
}

/// About the newest mask shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskInfo {
    /// Id of the frame it was computed from (camera sequence number or compositor frame).
    pub id: u64,
    /// The camera frame shown with it while the picture is held (`Hold` with a camera input).
    pub held_frame: Option<u64>,
    /// Time from the frame's capture to the mask being done.
    pub age: std::time::Duration,
    pub inference: std::time::Duration,
}

impl SegmentSource {
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Masks received from the worker and uploaded so far.
    pub fn masks_received(&self) -> u64 {
        self.masks
    }

    /// Whether the node is on screen (program, preview or a tile), as of the last frame: only
    /// then is it sent frames, so only then can a mask be waited for.
    pub fn is_on_screen(&self) -> bool {
        self.on_screen.load(Ordering::Relaxed)
    }

    /// The newest mask, if any arrived.
    pub fn last_mask(&self) -> Option<MaskInfo> {
        self.last
    }

    pub fn status(&self) -> WorkerStatus {
        self.worker.status()
    }

    pub fn stats(&self) -> segment::WorkerStats {
        self.worker.stats()
    }

    /// Masks per second since the worker started.
    pub fn mask_rate(&self) -> f64 {
        self.masks as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    fn sink_key(&self) -> String {
        format!("segment {}", self.node)
    }
}

pub struct SegmentSourcesPlugin;

impl Plugin for SegmentSourcesPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<SegmenterFactory>()
            .init_resource::<HeldCameras>()
            .init_resource::<ExternalTextures>()
            .init_resource::<MonitoredScenes>()
            .add_systems(
                Update,
                (
                    reconcile_segments,
                    connect_cameras,
                    update_segments,
                    publish_segments,
                )
                    .chain()
                    .in_set(AppSystems::Sources)
                    .after(CameraSystems),
            );
    }
}

fn model_source(model: SegmentModel, file: Option<&Path>, base_dir: &Path) -> ModelSource {
    match file {
        Some(f) => ModelSource::File(base_dir.join(f)),
        None => ModelSource::Builtin(match model {
            SegmentModel::General => Variant::General,
            SegmentModel::Landscape => Variant::Landscape,
        }),
    }
}

/// Every segment node id of the show; the scene on screen wins a conflict.
fn wanted_segments(show: &CurrentShow, current: usize) -> HashMap<NodeId, Wanted> {
    let loaded = &show.0;
    let scenes = &loaded.show.scenes;
    let mut cameras: HashMap<&NodeId, &NodeId> = HashMap::new();
    for plan in &loaded.plans {
        for feed in &plan.feeds {
            if let FeedFrom::Camera(cam) = &feed.from {
                cameras.entry(&feed.scope).or_insert(cam);
            }
        }
    }
    let mut wanted = HashMap::new();
    for scene in scenes.get(current).into_iter().chain(scenes.iter()) {
        for (id, node) in &scene.nodes {
            let NodeKind::Segment(seg) = &node.kind else {
                continue;
            };
            wanted.entry(id.clone()).or_insert_with(|| Wanted {
                model: model_source(seg.model, seg.model_file.as_deref(), &loaded.base_dir),
                worker: WorkerConfig {
                    name: id.to_string(),
                    smoothing: seg.smoothing,
                    every: seg.every.max(1),
                },
                align: seg.align,
                before: seg.before_first_mask,
                camera: cameras.get(id).map(|c| (*c).clone()),
            });
        }
    }
    wanted
}

/// A 1×1 texture of the before-first-mask value.
fn before_image(before: BeforeMask) -> Image {
    let v = match before {
        BeforeMask::Opaque => 255,
        BeforeMask::Clear => 0,
    };
    Image::new(
        Extent3d {
            width: 1,
            height: 1,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        vec![v, v, v, 255],
        TextureFormat::Rgba8Unorm,
        RenderAssetUsages::RENDER_WORLD,
    )
}

/// On a new show or scene: start new nodes, restart changed ones, stop the rest.
fn reconcile_segments(
    mut commands: Commands,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    factory: Res<SegmenterFactory>,
    sources: Query<(Entity, &SegmentSource)>,
    cameras: Query<&CameraSource>,
    mut images: ResMut<Assets<Image>>,
    mut last_scene: Local<Option<usize>>,
) {
    if *last_scene == Some(playback.scene) && !show.is_changed() {
        return;
    }
    *last_scene = Some(playback.scene);
    let mut wanted = wanted_segments(&show, playback.scene);
    for (entity, source) in &sources {
        if wanted.get(&source.node) == Some(&source.wanted) {
            wanted.remove(&source.node);
            continue;
        }
        if let Some(cam) = source.camera.and_then(|e| cameras.get(e).ok()) {
            cam.stream().remove_sink(&source.sink_key());
        }
        commands.entity(entity).despawn();
    }
    for (node, w) in wanted {
        info!("segment node \"{node}\": starting ({})", w.model.name());
        let load = factory.0.clone();
        let model = w.model.clone();
        commands.spawn(SegmentSource {
            worker: SegmentWorker::start(w.worker.clone(), move || load(&model)),
            image: images.add(before_image(w.before)),
            node,
            wanted: w,
            camera: None,
            on_screen: Arc::new(AtomicBool::new(false)),
            glance: Arc::new(AtomicBool::new(false)),
            recent: Recent::default(),
            sent: None,
            masks: 0,
            last: None,
            started: Instant::now(),
        });
    }
}

/// Connects each camera-fed node to its camera's capture thread, so frames reach the model at
/// the camera's rate whatever the app's frame rate; reconnects when the camera is replaced.
fn connect_cameras(
    mut sources: Query<&mut SegmentSource>,
    cameras: Query<(Entity, &CameraSource)>,
) {
    for mut source in &mut sources {
        let Some(cam) = source.wanted.camera.clone() else {
            continue;
        };
        let Some((entity, camera)) = cameras.iter().find(|(_, c)| *c.node() == cam) else {
            source.camera = None;
            continue;
        };
        if source.camera == Some(entity) {
            continue;
        }
        let input = source.worker.input();
        let recent = source.recent.clone();
        let hold = source.wanted.align == SegmentAlign::Hold;
        let on_screen = source.on_screen.clone();
        let glance = source.glance.clone();
        camera.stream().add_sink(
            source.sink_key(),
            Box::new(move |frame| {
                if !on_screen.load(Ordering::Relaxed)
                    || (glance.load(Ordering::Relaxed)
                        && !frame.seq.is_multiple_of(u64::from(GLANCE_EVERY)))
                {
                    return;
                }
                if hold {
                    recent.push(frame);
                }
                input.send(frame.seq, frame.clone());
            }),
        );
        source.camera = Some(entity);
    }
}

/// Sends rendered feed frames, takes finished masks, uploads the newest (and, when holding,
/// the camera frame it belongs to) and reports status. Nothing here waits.
fn update_segments(
    feeds: Option<Res<ScopeFeedFrames>>,
    mut sources: Query<&mut SegmentSource>,
    mut cameras: Query<&mut CameraSource>,
    mut images: ResMut<Assets<Image>>,
    items: Option<ResMut<StatusItems>>,
) {
    for mut source in &mut sources {
        let source = &mut *source;
        // The rate limit is checked before a picture counts as sent, so a still input whose
        // frame number the limit skips is sent on a later frame.
        if source.wanted.camera.is_none()
            && let Some((n, img)) = feeds.as_ref().and_then(|f| f.0.get(&source.node))
            && n.is_multiple_of(u64::from(source.wanted.worker.every.max(1)))
            && source
                .sent
                .as_ref()
                .is_none_or(|d| d.as_slice() != img.as_raw().as_slice())
        {
            let data = Arc::new(img.as_raw().clone());
            source.sent = Some(data.clone());
            source.worker.send(
                *n,
                VideoFrame {
                    width: img.width(),
                    height: img.height(),
                    format: PixelFormat::Rgba8,
                    data,
                    captured: media::now(),
                    seq: *n,
                },
            );
        }
        let masks = source.worker.masks();
        source.masks += masks.len() as u64;
        let Some(mask) = masks.into_iter().last() else {
            continue;
        };
        let held_frame = match hold_frame(source, &mask, &mut cameras, &mut images) {
            Hold::Shown(seq) => Some(seq),
            Hold::Off => None,
            // Showing this mask over another frame would misalign them: keep the last pair.
            Hold::Missed => continue,
        };
        if let Some(mut image) = images.get_mut(&source.image) {
            upload_rgba(&mut image, mask.width, mask.height, &coverage_rgba(&mask));
        }
        source.last = Some(MaskInfo {
            id: mask.id,
            held_frame,
            age: mask.done.saturating_sub(mask.captured),
            inference: mask.inference,
        });
    }
    if let Some(mut items) = items {
        items.0.retain(|k, _| !k.starts_with("segment "));
        for source in &sources {
            items
                .0
                .insert(format!("segment {}", source.node), status_text(source));
        }
    }
}

/// What holding did with a mask.
enum Hold {
    /// Not holding (newest mode, or no camera input).
    Off,
    /// The camera now shows the mask's frame, with this sequence number.
    Shown(u64),
    /// The mask's frame is no longer kept: the mask must not be shown either.
    Missed,
}

/// While holding: shows the camera frame `mask` was computed from.
fn hold_frame(
    source: &SegmentSource,
    mask: &Mask,
    cameras: &mut Query<&mut CameraSource>,
    images: &mut Assets<Image>,
) -> Hold {
    let camera = source.camera.and_then(|e| cameras.get_mut(e).ok());
    let (SegmentAlign::Hold, Some(mut camera)) = (source.wanted.align, camera) else {
        return Hold::Off;
    };
    let Some(frame) = source.recent.find(mask.id) else {
        warn_once!(
            "segment node \"{}\": a mask came back after its camera frame was dropped; picture and mask keep the previous pair",
            source.node
        );
        return Hold::Missed;
    };
    camera.show_frame(images, &frame);
    Hold::Shown(frame.seq)
}

/// The mask as an opaque RGBA8 picture, probability in every colour channel.
fn coverage_rgba(mask: &Mask) -> Vec<u8> {
    mask.coverage.iter().flat_map(|&c| [c, c, c, 255]).collect()
}

/// `ready, 24.3 masks/s, inference 31 ms, age 48 ms, dropped 12`.
fn status_text(source: &SegmentSource) -> String {
    match source.status() {
        WorkerStatus::Loading => "loading model".into(),
        WorkerStatus::Failed(reason) => format!("failed: {reason}"),
        WorkerStatus::Ready => {
            let stats = source.stats();
            let age = source
                .last
                .map_or("-".to_owned(), |m| format!("{} ms", m.age.as_millis()));
            format!(
                "ready, {:.1} masks/s, inference {} ms, age {age}, dropped {}",
                source.mask_rate(),
                stats.mean_inference.as_millis(),
                stats.dropped
            )
        }
    }
}

/// Publishes every on-screen segment node's mask texture (its before-first-mask value until the
/// first mask), turns the camera feeds of the others off, and says which cameras are held.
fn publish_segments(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    monitored: Res<MonitoredScenes>,
    sources: Query<&SegmentSource>,
    mut externals: ResMut<ExternalTextures>,
    mut held: ResMut<HeldCameras>,
    mut published: Local<HashSet<NodeId>>,
) {
    let is_segment = |k: &NodeKind| matches!(k, NodeKind::Segment(_));
    let visible = on_screen(&show, &playback, &monitored, true, is_segment);
    let looked_at = on_screen(&show, &playback, &monitored, false, is_segment);
    for s in &sources {
        s.on_screen
            .store(visible.contains(&s.node), Ordering::Relaxed);
        s.glance
            .store(!looked_at.contains(&s.node), Ordering::Relaxed);
    }
    // Held: the cameras of on-screen `hold` nodes whose model has not failed (a failed model
    // never sends a mask; an off-screen node sends none either, and the camera may be on
    // screen without it). Two nodes holding one camera: the mask that arrives last decides.
    let next_held: HashSet<NodeId> = sources
        .iter()
        // Only for nodes looked at: a glanced node's few masks would hold the camera back.
        .filter(|s| looked_at.contains(&s.node) && s.wanted.align == SegmentAlign::Hold)
        .filter(|s| !matches!(s.status(), WorkerStatus::Failed(_)))
        .filter_map(|s| s.wanted.camera.clone())
        .collect();
    if held.0 != next_held {
        held.0 = next_held;
    }
    let next = sources
        .iter()
        .filter(|s| visible.contains(&s.node))
        .map(|s| (s.node.clone(), s.image.clone()))
        .collect();
    super::publish_if_changed(next, &mut published, &mut externals);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The show model's sizes (used to compile feeds) are the models' real input sizes.
    #[test]
    fn show_model_sizes_match_the_models() {
        for (show_model, variant) in [
            (SegmentModel::General, Variant::General),
            (SegmentModel::Landscape, Variant::Landscape),
        ] {
            assert_eq!(show_model.size(), variant.size());
            let ModelSource::Builtin(v) = model_source(show_model, None, Path::new(".")) else {
                panic!("built in");
            };
            assert_eq!(v, variant);
        }
    }
}
