//! Pictures of single nodes that a control surface asks for (obs-websocket's
//! `GetSourceScreenshot` of an input, or of a scene that is not on program). Unlike the
//! console's thumbnails they are drawn on every frame while asked for, at the show's canvas,
//! and read back to the CPU.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bevy::prelude::*;
use show::NodeId;

use super::{PreviewState, reuse_or_make, tapped};
use crate::render::{Preview, PreviewFrames};
use crate::showfile::CurrentShow;

/// Which nodes to picture (set by a surface, only when it changes) and their newest pictures.
#[derive(Resource, Debug, Default)]
pub struct NodeSnapshots {
    /// `(scene index in [`CurrentShow`], node)`.
    pub wanted: Vec<(usize, NodeId)>,
    /// Per wanted node: ([`crate::render::FrameClock::frame`] it was drawn in, sRGB-encoded
    /// RGBA8 composited over black, as the program). A node that does not compile (or not
    /// yet drawn) has none.
    pub pictures: HashMap<(usize, NodeId), (u64, Arc<image::RgbaImage>)>,
}

/// The target image of each wanted node, between recompiles.
#[derive(Resource, Default)]
pub(super) struct SnapshotImages(HashMap<(usize, NodeId), Handle<Image>>);

/// Recompiles the snapshot plans (one per scene, tapped on its wanted nodes) when the request
/// or the show changed.
pub(super) fn update_snapshots(
    snapshots: Res<NodeSnapshots>,
    show: Option<Res<CurrentShow>>,
    mut images: ResMut<Assets<Image>>,
    mut targets: ResMut<SnapshotImages>,
    mut state: ResMut<PreviewState>,
) {
    let show_changed = show.as_ref().is_some_and(|s| s.is_changed());
    if !snapshots.is_changed() && !show_changed {
        return;
    }
    let mut by_scene: BTreeMap<usize, Vec<NodeId>> = BTreeMap::new();
    for (scene, node) in &snapshots.wanted {
        let nodes = by_scene.entry(*scene).or_default();
        if !nodes.contains(node) {
            nodes.push(node.clone());
        }
    }
    let mut next = HashMap::new();
    let mut list = Vec::new();
    for (scene, nodes) in by_scene {
        let Some(plan) = show.as_deref().and_then(|s| tapped(s, scene, &nodes)) else {
            continue;
        };
        let mut preview = Preview {
            plan: Arc::new(plan),
            targets: Vec::new(),
            read_back: true,
        };
        let canvas = preview.plan.plan.canvas;
        for node in nodes.into_iter().filter(|n| preview.plan.tap(n).is_some()) {
            let key = (scene, node.clone());
            let image = reuse_or_make(targets.0.remove(&key), canvas, &mut images);
            preview.targets.push((node, image.clone()));
            next.insert(key, image);
        }
        if !preview.targets.is_empty() {
            list.push(preview);
        }
    }
    targets.0 = next;
    state.snapshots = list;
}

/// Hands the read-back pictures of the wanted nodes to [`NodeSnapshots::pictures`].
pub(super) fn collect_snapshots(
    frames: Option<Res<PreviewFrames>>,
    targets: Res<SnapshotImages>,
    mut snapshots: ResMut<NodeSnapshots>,
) {
    let Some(frames) = frames else { return };
    if !frames.is_changed() && !targets.is_changed() {
        return;
    }
    // Not a change of what is wanted: `update_snapshots` must not recompile for it.
    let snapshots = snapshots.bypass_change_detection();
    snapshots
        .pictures
        .retain(|key, _| targets.0.contains_key(key));
    for (key, image) in &targets.0 {
        let Some((frame, picture)) = frames.0.get(&image.id()) else {
            continue;
        };
        if snapshots.pictures.get(key).is_none_or(|(f, _)| f < frame) {
            snapshots
                .pictures
                .insert(key.clone(), (*frame, Arc::new(picture.clone())));
        }
    }
}
