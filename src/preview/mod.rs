//! Live pictures of any node's output, for the console's node thumbnails and its viewer, and of
//! whole scenes, for studio mode's preview monitor and multiview.
//!
//! The console says what it wants in [`NodePreviews`]; [`PreviewPlugin`] compiles that scene
//! with taps on those nodes (pure and cheap, only when the request or the show changes), keeps
//! one target image per picture in [`PreviewImages`], and hands the render world a
//! [`PreviewRequest`] only on every `every`-th frame, so the GPU cost is amortised. Each image
//! shows its node's picture composited over black (like the program). Thumbnails are drawn
//! by the plan rescaled to the thumbnail size ([`TappedPlan::rescaled`]), so they cost a
//! thumbnail's pixels per pass, not the show's; the viewer by the plan at the show's canvas.
//! A whole scene is its output node tapped, drawn at the size asked for.
//! Nothing asked for costs nothing: no plan, no images, no request.

use std::collections::HashMap;
use std::sync::Arc;

use bevy::prelude::*;
use show::node::NodeKind;
use show::{NodeId, TappedPlan};

mod snapshot;

pub use snapshot::{NodeSnapshots, Snapshot};

use crate::playback::MonitoredScenes;
use crate::render::{Preview, PreviewRequest, preview_image};
use crate::showfile::CurrentShow;

/// What the console wants previewed: nodes of one scene of [`CurrentShow`] (which need not be
/// on program).
#[derive(Resource, Debug, Clone)]
pub struct NodePreviews {
    /// Scene index in [`CurrentShow`]; `None`: no previews.
    pub scene: Option<usize>,
    /// Nodes to show as thumbnails of `thumb_size`.
    pub nodes: Vec<NodeId>,
    pub thumb_size: (u32, u32),
    /// One node shown at the full canvas size.
    pub viewer: Option<NodeId>,
    /// Whole scenes' outputs (the preview monitor, the multiview) at a size each; the same
    /// scene may be asked for at two sizes.
    pub scenes: Vec<(usize, (u32, u32))>,
    /// Render previews every this many frames (0 counts as 1).
    pub every: u32,
}

impl Default for NodePreviews {
    fn default() -> Self {
        NodePreviews {
            scene: None,
            nodes: Vec::new(),
            thumb_size: (160, 90),
            viewer: None,
            scenes: Vec::new(),
            every: 3,
        }
    }
}

/// The images the previews are drawn into (sRGB RGBA8, sampleable: register them with egui).
/// Only nodes that have a picture are listed: an unknown node or one missing an input has none.
#[derive(Resource, Debug, Default)]
pub struct PreviewImages {
    pub thumbs: HashMap<NodeId, Handle<Image>>,
    pub viewer: Option<(NodeId, Handle<Image>)>,
    /// Pictures of [`NodePreviews::scenes`], by (scene, size); a scene that does not compile
    /// has none.
    pub scenes: HashMap<(usize, (u32, u32)), Handle<Image>>,
}

/// Whether anyone sees the previews this frame. The console clears it on frames it does not
/// draw, so their passes wait for a frame that shows them; snapshots (read back for surfaces
/// and streams) are drawn regardless.
#[derive(Resource, Debug)]
pub struct PreviewsShown(pub bool);

impl Default for PreviewsShown {
    fn default() -> Self {
        PreviewsShown(true)
    }
}

/// The compiled previews, between recompiles: the thumbnails' and the viewer's.
#[derive(Resource, Default)]
struct PreviewState {
    previews: Vec<Preview>,
    /// [`NodeSnapshots`]' plans, drawn on every frame.
    snapshots: Vec<Preview>,
    /// Frames since the last preview was requested.
    since: u32,
    /// Set when the plan changed, so the next frame draws at once.
    fresh: bool,
}

/// Adds [`NodePreviews`] (set by the console) and [`PreviewImages`] (read by it). Needs the
/// compositor (`crate::render::CompositorPlugin`) to draw.
pub struct PreviewPlugin;

impl Plugin for PreviewPlugin {
    fn build(&self, app: &mut App) {
        if !app.world().contains_resource::<Assets<Image>>() {
            app.init_asset::<Image>();
        }
        app.init_resource::<NodePreviews>()
            .init_resource::<PreviewImages>()
            .init_resource::<PreviewRequest>()
            .init_resource::<PreviewState>()
            .init_resource::<PreviewsShown>()
            .init_resource::<NodeSnapshots>()
            .init_resource::<snapshot::SnapshotImages>()
            .init_resource::<MonitoredScenes>()
            .add_systems(
                PostUpdate,
                (
                    monitor_scenes,
                    update_previews,
                    snapshot::update_snapshots,
                    request_previews,
                    snapshot::collect_snapshots,
                )
                    .chain(),
            );
    }
}

/// Whole-scene pictures at most this wide are tiles, glanced at (the multiview's).
const GLANCE_WIDTH: u32 = 320;

/// The scenes previews show are live: their sources publish frames too.
fn monitor_scenes(previews: Res<NodePreviews>, mut monitored: ResMut<MonitoredScenes>) {
    if !previews.is_changed() {
        return;
    }
    let mut shown: Vec<usize> = previews.scene.into_iter().collect();
    let (big, small): (Vec<_>, Vec<_>) = previews
        .scenes
        .iter()
        .partition(|(_, (w, _))| *w > GLANCE_WIDTH);
    shown.extend(big.iter().map(|(s, _)| *s));
    shown.sort_unstable();
    shown.dedup();
    let mut glanced: Vec<usize> = small
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| !shown.contains(s))
        .collect();
    glanced.sort_unstable();
    glanced.dedup();
    let next = MonitoredScenes { shown, glanced };
    if *monitored != next {
        *monitored = next;
    }
}

/// Recompiles the preview plan and reconciles the images when the request or the show changed.
fn update_previews(
    previews: Res<NodePreviews>,
    show: Option<Res<CurrentShow>>,
    mut images: ResMut<Assets<Image>>,
    mut out: ResMut<PreviewImages>,
    mut state: ResMut<PreviewState>,
) {
    let show_changed = show.as_ref().is_some_and(|s| s.is_changed());
    if !previews.is_changed() && !show_changed {
        return;
    }
    let mut list = Vec::new();
    let mut next = PreviewImages {
        scenes: scene_pictures(show.as_deref(), &previews, &mut out, &mut images, &mut list),
        ..default()
    };
    if let Some(plan) = show.as_deref().and_then(|s| compile_preview(s, &previews)) {
        let thumb = (previews.thumb_size.0.max(1), previews.thumb_size.1.max(1));
        for node in previews.nodes.iter().filter(|n| plan.tap(n).is_some()) {
            let old = out.thumbs.remove(node);
            next.thumbs
                .insert(node.clone(), reuse_or_make(old, thumb, &mut images));
        }
        next.viewer = previews
            .viewer
            .as_ref()
            .filter(|n| plan.tap(n).is_some())
            .map(|n| {
                // Another node's viewer image of the same size serves as well.
                let old = out.viewer.take().map(|(_, h)| h);
                (n.clone(), reuse_or_make(old, plan.plan.canvas, &mut images))
            });
        debug!(
            "previews: {} taps, {} passes, {} thumbnails, viewer {:?}",
            plan.taps.len(),
            plan.plan.passes.len(),
            next.thumbs.len(),
            next.viewer.as_ref().map(|(n, _)| n)
        );
        if !next.thumbs.is_empty() {
            list.push(Preview {
                plan: Arc::new(plan.rescaled(thumb)),
                targets: next
                    .thumbs
                    .iter()
                    .map(|(n, h)| (n.clone(), h.clone()))
                    .collect(),
                read_back: false,
                alpha: false,
            });
        }
        if let Some(v) = &next.viewer {
            list.push(Preview {
                plan: Arc::new(plan),
                targets: vec![v.clone()],
                read_back: false,
                alpha: false,
            });
        }
    }
    // Images no longer asked for are dropped with `out`'s old maps (their GPU textures go
    // with the last handle).
    *out = next;
    state.fresh = !list.is_empty();
    state.previews = list;
    state.since = 0;
}

/// Plans and images for whole-scene pictures: each scene compiled with a tap on its output
/// node and rescaled to the size asked for, so a multiview thumbnail costs a thumbnail's
/// pixels per pass.
fn scene_pictures(
    show: Option<&CurrentShow>,
    previews: &NodePreviews,
    out: &mut PreviewImages,
    images: &mut Assets<Image>,
    list: &mut Vec<Preview>,
) -> HashMap<(usize, (u32, u32)), Handle<Image>> {
    let mut pictures = HashMap::new();
    let Some(show) = show else {
        return pictures;
    };
    for &(scene, size) in &previews.scenes {
        let size = (size.0.max(1), size.1.max(1));
        if pictures.contains_key(&(scene, size)) {
            continue;
        }
        let Some(output) = show.0.show.scenes.get(scene).and_then(|s| {
            s.nodes
                .iter()
                .find(|(_, n)| matches!(n.kind, NodeKind::Output(_)))
                .map(|(id, _)| id.clone())
        }) else {
            continue;
        };
        let Some(plan) = tapped(show, scene, std::slice::from_ref(&output)) else {
            continue;
        };
        let image = reuse_or_make(out.scenes.remove(&(scene, size)), size, images);
        list.push(Preview {
            plan: Arc::new(plan.rescaled(size)),
            targets: vec![(output, image.clone())],
            read_back: false,
            alpha: false,
        });
        pictures.insert((scene, size), image);
    }
    pictures
}

/// The edited scene's plan with taps on every node asked for; `None` when nothing is asked for
/// or the scene does not compile.
fn compile_preview(show: &CurrentShow, previews: &NodePreviews) -> Option<TappedPlan> {
    let scene = previews.scene?;
    let mut taps: Vec<NodeId> = previews.nodes.clone();
    taps.extend(previews.viewer.clone());
    if taps.is_empty() {
        return None;
    }
    tapped(show, scene, &taps)
}

/// A scene of the current show compiled with `taps`, its sources sized as the program knows
/// them (the compiled plans' externals: no file is read here).
fn tapped(show: &CurrentShow, scene: usize, taps: &[NodeId]) -> Option<TappedPlan> {
    let loaded = &show.0;
    let sizes = |id: &NodeId| {
        loaded
            .plans
            .iter()
            .flat_map(|p| &p.externals)
            .find(|e| e.node == *id)
            .map(|e| e.size)
    };
    match show::compile_with_taps(&loaded.show, scene, &sizes, taps) {
        Ok(plan) => Some(plan),
        Err(e) => {
            warn!("previews of scene {scene}: {e}");
            None
        }
    }
}

/// `old` when it is already `size`, else a new target image of `size`.
fn reuse_or_make(
    old: Option<Handle<Image>>,
    size: (u32, u32),
    images: &mut Assets<Image>,
) -> Handle<Image> {
    match old {
        Some(h)
            if images
                .get(&h)
                .is_some_and(|i| (i.width(), i.height()) == size) =>
        {
            h
        }
        _ => images.add(preview_image(size)),
    }
}

/// Sets [`PreviewRequest`] on frames previews are due (every `every`-th, and at once after a
/// change, while shown) and clears its plan on the others, so the render world draws them only
/// then.
/// Snapshots are drawn on every frame.
fn request_previews(
    previews: Res<NodePreviews>,
    shown: Res<PreviewsShown>,
    mut state: ResMut<PreviewState>,
    mut request: ResMut<PreviewRequest>,
) {
    let mut due = false;
    if !state.previews.is_empty() {
        state.since += 1;
        due = shown.0 && (state.fresh || state.since >= previews.every.max(1));
        if due {
            state.since = 0;
            state.fresh = false;
        }
    }
    if !due && state.snapshots.is_empty() {
        if !request.previews.is_empty() {
            request.previews.clear();
        }
        return;
    }
    let mut list = if due {
        state.previews.clone()
    } else {
        Vec::new()
    };
    list.extend(state.snapshots.iter().cloned());
    request.previews = list;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The edited scene and the preview monitor are looked at; the multiview's tiles only
    /// glanced at (a scene both in a tile and on the monitor is looked at).
    #[test]
    fn small_scene_pictures_are_glances() {
        let mut app = App::new();
        app.init_resource::<MonitoredScenes>()
            .insert_resource(NodePreviews {
                scene: Some(2),
                scenes: vec![
                    (0, (160, 90)),
                    (1, (160, 90)),
                    (1, (640, 360)),
                    (3, (160, 90)),
                ],
                ..NodePreviews::default()
            })
            .add_systems(Update, monitor_scenes);
        app.update();
        let m = app.world().resource::<MonitoredScenes>();
        assert_eq!(m.shown, [1, 2]);
        assert_eq!(m.glanced, [0, 3]);
    }

    /// With `every = 3`, the request carries the plan on one frame in three (and at once after
    /// a change); with nothing asked for there is no request at all.
    #[test]
    fn previews_are_due_every_n_frames() {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, AssetPlugin::default()))
            .add_plugins(PreviewPlugin);
        app.update();
        assert!(app.world().resource::<PreviewRequest>().previews.is_empty());
        let plan = Arc::new(
            show::compile_with_taps(&demo_show(), 0, &|_| None, &[NodeId::new("a")]).unwrap(),
        );
        {
            let mut s = app.world_mut().resource_mut::<PreviewState>();
            s.previews = vec![Preview {
                plan,
                targets: Vec::new(),
                read_back: false,
                alpha: false,
            }];
            s.fresh = true;
        }
        let mut due = Vec::new();
        for _ in 0..7 {
            app.update();
            due.push(!app.world().resource::<PreviewRequest>().previews.is_empty());
        }
        assert_eq!(due, [true, false, false, true, false, false, true]);
        // While nobody sees them they wait, and are drawn on the next frame that shows them.
        app.world_mut().resource_mut::<PreviewsShown>().0 = false;
        let mut due = Vec::new();
        for _ in 0..5 {
            app.update();
            due.push(!app.world().resource::<PreviewRequest>().previews.is_empty());
        }
        app.world_mut().resource_mut::<PreviewsShown>().0 = true;
        app.update();
        due.push(!app.world().resource::<PreviewRequest>().previews.is_empty());
        assert_eq!(due, [false, false, false, false, false, true]);
    }

    fn demo_show() -> show::Show {
        show::io::load_str(
            r#"(version: 1, canvas: (16, 8), scenes: [(name: "s",
                nodes: {"a": (kind: solid(())), "out": (kind: output(()))},
                edges: [(from: "a", to: "out")])])"#,
            std::path::Path::new("x.ron"),
        )
        .unwrap()
    }
}
