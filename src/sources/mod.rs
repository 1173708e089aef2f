//! Source nodes that need runtime state outside the plan: decoded images (here), camera and
//! Scope frames (`camera.rs`, `scope.rs`), segmentation masks (`segment/`). Each fills its own node ids in
//! [`crate::render::ExternalTextures`] and leaves the others' alone. `embedded.rs` gives Scope
//! nodes the in-process server.

pub mod camera;
pub mod embedded;
pub mod image;
mod prompt_blend;
pub mod scope;
pub mod segment;

use std::collections::{HashMap, HashSet};

use bevy::prelude::*;
use show::NodeId;

use crate::render::ExternalTextures;

/// All source plugins.
pub struct SourcesPlugin;

impl Plugin for SourcesPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            image::ImageSourcesPlugin,
            camera::CameraSourcesPlugin,
            scope::ScopeSourcesPlugin,
            segment::SegmentSourcesPlugin,
        ));
    }
}

/// Makes this source's entries in `externals` (the ids in `published`) equal `next`. Writes
/// only when something differs, so the resource's change flag means a real change.
fn publish_if_changed(
    next: HashMap<NodeId, Handle<Image>>,
    published: &mut HashSet<NodeId>,
    externals: &mut ResMut<ExternalTextures>,
) {
    let unchanged = next.len() == published.len()
        && next
            .iter()
            .all(|(id, h)| externals.0.get(id) == Some(h) && published.contains(id));
    if unchanged {
        return;
    }
    for id in published.drain() {
        externals.0.remove(&id);
    }
    for (id, handle) in next {
        published.insert(id.clone());
        externals.0.insert(id, handle);
    }
}

/// Whether a live source (camera, Scope node) has not delivered its first picture yet. A
/// headless render waits for these (bounded) so it shows what a live show would.
pub fn live_sources_pending(world: &mut World) -> bool {
    let cameras_waiting = world
        .query::<&camera::CameraSource>()
        .iter(world)
        .any(|c| c.frames_uploaded() == 0);
    let scopes_waiting = world
        .query::<&scope::ScopeSource>()
        .iter(world)
        .any(|s| s.frames_received() == 0 || !matches!(s.stats().state, ::scope::ScopeState::Live));
    // A segment node on screen waits for its first mask unless its model failed to load
    // (one in a scene nobody sees is sent no frames, so it never has one).
    let segments_waiting = world
        .query::<&segment::SegmentSource>()
        .iter(world)
        .any(|s| {
            s.is_on_screen()
                && s.masks_received() == 0
                && !matches!(s.status(), ::segment::WorkerStatus::Failed(_))
        });
    cameras_waiting || scopes_waiting || segments_waiting
}
