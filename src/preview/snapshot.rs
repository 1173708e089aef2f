//! Pictures of single nodes that something other than the console asks for: obs-websocket's
//! `GetSourceScreenshot` of an input (or of a scene not on program), over black, and a
//! `--stream-alpha` node, with its alpha. Unlike the console's thumbnails they are drawn on
//! every frame while asked for, at the show's canvas, and read back to the CPU.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bevy::prelude::*;
use show::NodeId;

use super::{PreviewState, reuse_or_make, tapped};
use crate::render::{Preview, PreviewFrames};
use crate::showfile::CurrentShow;

/// One node's picture.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Snapshot {
    /// Scene index in [`CurrentShow`].
    pub scene: usize,
    pub node: NodeId,
    /// Keep the node's alpha (premultiplied) instead of compositing it over black.
    pub alpha: bool,
}

/// What each asker wants pictured, and the newest pictures.
#[derive(Resource, Debug, Default)]
pub struct NodeSnapshots {
    wanted: BTreeMap<&'static str, Vec<Snapshot>>,
    /// Per wanted snapshot: ([`crate::render::FrameClock::frame`] it was drawn in, sRGB-encoded
    /// RGBA8; alpha 255 unless [`Snapshot::alpha`]). A node that does not compile (or is not
    /// drawn yet) has none.
    pub pictures: HashMap<Snapshot, (u64, Arc<image::RgbaImage>)>,
}

impl NodeSnapshots {
    /// Makes `list` what `asker` wants. Marks the resource changed (which recompiles the
    /// snapshot plans) only when the list differs, so askers may call it every frame.
    pub fn request(
        snapshots: &mut ResMut<NodeSnapshots>,
        asker: &'static str,
        list: Vec<Snapshot>,
    ) {
        if snapshots.wanted.get(asker).map_or(&[][..], Vec::as_slice) != list.as_slice() {
            snapshots.wanted.insert(asker, list);
        }
    }

    fn all(&self) -> BTreeSet<&Snapshot> {
        self.wanted.values().flatten().collect()
    }
}

/// The target image of each wanted snapshot, between recompiles.
#[derive(Resource, Default)]
pub(super) struct SnapshotImages(HashMap<Snapshot, Handle<Image>>);

/// Recompiles the snapshot plans (one per scene and alpha, tapped on its wanted nodes) when
/// the request or the show changed.
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
    let mut groups: BTreeMap<(usize, bool), Vec<NodeId>> = BTreeMap::new();
    for s in snapshots.all() {
        groups
            .entry((s.scene, s.alpha))
            .or_default()
            .push(s.node.clone());
    }
    let mut next = HashMap::new();
    let mut list = Vec::new();
    for ((scene, alpha), nodes) in groups {
        let Some(plan) = show.as_deref().and_then(|s| tapped(s, scene, &nodes)) else {
            continue;
        };
        let mut preview = Preview {
            plan: Arc::new(plan),
            targets: Vec::new(),
            read_back: true,
            alpha,
        };
        let canvas = preview.plan.plan.canvas;
        for node in nodes.into_iter().filter(|n| preview.plan.tap(n).is_some()) {
            let key = Snapshot {
                scene,
                node: node.clone(),
                alpha,
            };
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

/// Hands the read-back pictures of the wanted snapshots to [`NodeSnapshots::pictures`].
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
