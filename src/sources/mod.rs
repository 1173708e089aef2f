//! Source nodes that need runtime state outside the plan: decoded images (here), camera and
//! Scope frames (`camera.rs`, `scope.rs`). Each fills its own node ids in
//! [`crate::render::ExternalTextures`] and leaves the others' alone.

pub mod camera;
pub mod image;
pub mod scope;

use bevy::prelude::*;

/// All source plugins.
pub struct SourcesPlugin;

impl Plugin for SourcesPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            image::ImageSourcesPlugin,
            camera::CameraSourcesPlugin,
            scope::ScopeSourcesPlugin,
        ));
    }
}
