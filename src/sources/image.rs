//! Image-file sources: decoded once on the `image-decoder` thread, inserted into
//! `Assets<Image>` once (the GPU copy is made once; the CPU copy is dropped after upload), and
//! published in [`ExternalTextures`] for the scenes on screen.
//!
//! A file that cannot be read or decoded is logged with its path and stays transparent.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use crossbeam_channel::{Receiver, Sender};
use show::NodeId;
use show::node::NodeKind;

use crate::AppSystems;
use crate::playback::Playback;
use crate::render::ExternalTextures;
use crate::showfile::CurrentShow;

/// A decoded straight-alpha RGBA8 picture, or why there is none.
type Decoded = (PathBuf, Result<::image::RgbaImage, String>);

/// The state of every image file the current show uses, by resolved path.
#[derive(Resource)]
pub struct ImageSources {
    entries: HashMap<PathBuf, Entry>,
    requests: Sender<PathBuf>,
    results: Receiver<Decoded>,
}

enum Entry {
    /// Not sent yet (the request channel was full).
    Queued,
    Decoding,
    /// The picture and its pixel size.
    Ready(Handle<Image>, [u32; 2]),
    Failed(String),
}

impl ImageSources {
    /// Images still waiting to be decoded.
    pub fn pending(&self) -> usize {
        self.entries
            .values()
            .filter(|e| matches!(e, Entry::Queued | Entry::Decoding))
            .count()
    }

    /// One message per image that could not be loaded.
    pub fn errors(&self) -> impl Iterator<Item = &str> {
        self.entries.values().filter_map(|e| match e {
            Entry::Failed(msg) => Some(msg.as_str()),
            _ => None,
        })
    }

    /// The decoded picture of `path` (resolved against the show's folder), once it is in.
    pub fn handle(&self, path: &Path) -> Option<&Handle<Image>> {
        match self.entries.get(path) {
            Some(Entry::Ready(h, _)) => Some(h),
            _ => None,
        }
    }

    /// The decoded picture's pixel size.
    pub fn size(&self, path: &Path) -> Option<[u32; 2]> {
        match self.entries.get(path) {
            Some(Entry::Ready(_, size)) => Some(*size),
            _ => None,
        }
    }
}

pub struct ImageSourcesPlugin;

impl Plugin for ImageSourcesPlugin {
    fn build(&self, app: &mut App) {
        let (requests, request_rx) = crossbeam_channel::bounded::<PathBuf>(64);
        let (result_tx, results) = crossbeam_channel::bounded::<Decoded>(4);
        let spawned = std::thread::Builder::new()
            .name("image-decoder".into())
            .spawn(move || decode_worker(&request_rx, &result_tx));
        if let Err(e) = spawned {
            error!("cannot start the image-decoder thread, images stay transparent: {e}");
        }
        app.insert_resource(ImageSources {
            entries: HashMap::new(),
            requests,
            results,
        })
        .add_systems(
            Update,
            (request_images, receive_images, publish_images)
                .chain()
                .in_set(AppSystems::Sources),
        );
    }
}

/// Decodes files until the app drops its request sender.
fn decode_worker(requests: &Receiver<PathBuf>, results: &Sender<Decoded>) {
    for path in requests {
        let decoded = ::image::open(&path)
            .map(|img| img.to_rgba8())
            .map_err(|e| format!("image {}: {e}", path.display()));
        if results.send((path, decoded)).is_err() {
            return;
        }
    }
}

/// Every image path a show uses, resolved against its folder, with the node ids per scene.
fn image_nodes(show: &CurrentShow) -> Vec<Vec<(NodeId, PathBuf)>> {
    let loaded = &show.0;
    loaded
        .show
        .scenes
        .iter()
        .map(|scene| {
            scene
                .nodes
                .iter()
                .filter_map(|(id, node)| match &node.kind {
                    NodeKind::Image(img) => Some((id.clone(), loaded.base_dir.join(&img.path))),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Every VACE reference image of the show's Scope nodes (their own and every scene's), resolved
/// against its folder: decoded too, for the console's thumbnails.
pub fn reference_images(show: &CurrentShow) -> HashSet<PathBuf> {
    let loaded = &show.0;
    let mut out = HashSet::new();
    for scene in &loaded.show.scenes {
        let scene_refs = scene.scope.iter().flat_map(|p| &p.vace_ref_images);
        let node_refs = scene.nodes.values().flat_map(|n| match &n.kind {
            NodeKind::Scope(s) => s.params.vace_ref_images.as_slice(),
            _ => &[],
        });
        out.extend(scene_refs.chain(node_refs).map(|p| loaded.base_dir.join(p)));
    }
    out
}

/// On a new show: start decoding new files (every scene's, so switching never waits) and
/// forget files no scene uses any more.
fn request_images(show: Res<CurrentShow>, mut sources: ResMut<ImageSources>) {
    if show.is_changed() {
        let wanted: HashSet<PathBuf> = image_nodes(&show)
            .into_iter()
            .flatten()
            .map(|(_, p)| p)
            .chain(reference_images(&show))
            .collect();
        sources.entries.retain(|p, _| wanted.contains(p));
        for path in wanted {
            sources.entries.entry(path).or_insert(Entry::Queued);
        }
    }
    if !sources.entries.values().any(|e| matches!(e, Entry::Queued)) {
        return;
    }
    let sources = sources.as_mut();
    for (path, entry) in &mut sources.entries {
        if matches!(entry, Entry::Queued) && sources.requests.try_send(path.clone()).is_ok() {
            *entry = Entry::Decoding;
        }
    }
}

fn receive_images(mut sources: ResMut<ImageSources>, mut images: ResMut<Assets<Image>>) {
    let results: Vec<Decoded> = sources.results.try_iter().collect();
    for (path, decoded) in results {
        // A show reload may have dropped the file while it was decoding.
        let Some(entry) = sources.entries.get_mut(&path) else {
            continue;
        };
        *entry = match decoded {
            Ok(rgba) => {
                let size = Extent3d {
                    width: rgba.width(),
                    height: rgba.height(),
                    depth_or_array_layers: 1,
                };
                let image = Image::new(
                    size,
                    TextureDimension::D2,
                    rgba.into_raw(),
                    TextureFormat::Rgba8Unorm,
                    RenderAssetUsages::RENDER_WORLD,
                );
                Entry::Ready(images.add(image), [size.width, size.height])
            }
            Err(msg) => {
                error!("{msg} (it stays transparent)");
                Entry::Failed(msg)
            }
        };
    }
}

/// Puts the images of the scenes on screen (the transition's source, then the target, which
/// wins if both use the same node id) into [`ExternalTextures`].
fn publish_images(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    sources: Res<ImageSources>,
    mut externals: ResMut<ExternalTextures>,
    mut published: Local<HashSet<NodeId>>,
) {
    if !show.is_changed() && !playback.is_changed() && !sources.is_changed() {
        return;
    }
    let scenes = image_nodes(&show);
    let from = playback.transition.as_ref().map(|t| t.from_scene);
    let mut next: HashMap<NodeId, Handle<Image>> = HashMap::new();
    for index in from.into_iter().chain([playback.scene]) {
        for (id, path) in scenes.get(index).into_iter().flatten() {
            if let Some(handle) = sources.handle(path) {
                next.insert(id.clone(), handle.clone());
            }
        }
    }
    super::publish_if_changed(next, &mut published, &mut externals);
}
