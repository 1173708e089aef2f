//! Pack selection: which static images of a blend are read from pack textures, four to a texel
//! fetch (see `shaders/pack.wgsl`). Decides on the CPU which packs exist and which jobs read
//! them; the caller makes the textures.

use std::collections::{HashMap, HashSet};

use bevy::prelude::*;
use bevy::render::render_resource::{TextureId, TextureView};
use show::plan::Sample;

use super::FrameClock;
use super::jobs::{Job, Target};
use super::pass_kind::Kind;

/// Frames an external image must stay unchanged before it is packed: a camera or Scope feed
/// changes every frame and is never packed; an image file is packed on its third frame.
const STABLE_FRAMES: u64 = 3;

/// GPU memory packs may take together (each is canvas-sized, 16 bytes per pixel: 33 MB at
/// 1080p). Past it, further static images are read directly.
const MAX_PACK_BYTES: u64 = 512 << 20;

/// What a pack holds: the canvas and, per word, the image texture and how it is sampled.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct PackKey {
    canvas: (u32, u32),
    inputs: Vec<(TextureId, [u32; 10])>,
}

struct PackTexture {
    view: TextureView,
    /// A pack pass has been recorded into it (until then every frame records one).
    written: bool,
}

/// Packs kept between frames, and when each recently changed image last changed.
#[derive(Resource, Default)]
pub(super) struct StaticPacks {
    /// Packs of static inputs, kept while some pass reads them.
    packs: HashMap<PackKey, PackTexture>,
    /// Frames prepared so far.
    frame: u64,
    changed_at: HashMap<AssetId<Image>, u64>,
}

impl StaticPacks {
    /// Starts a frame: `uploaded` are the images uploaded in it, new or modified (a same-size
    /// upload keeps the texture, so its id does not tell).
    pub(super) fn start_frame<'a>(
        &mut self,
        uploaded: impl IntoIterator<Item = &'a AssetId<Image>>,
    ) {
        self.frame += 1;
        let now = self.frame;
        for id in uploaded {
            self.changed_at.insert(*id, now);
        }
        self.changed_at.retain(|_, at| now - *at < STABLE_FRAMES);
    }

    /// Drops every pack (packing turned off).
    pub(super) fn clear(&mut self) {
        self.packs.clear();
    }

    /// Notes that the packs written this frame have been recorded.
    pub(super) fn mark_written<'a>(&mut self, keys: impl IntoIterator<Item = &'a PackKey>) {
        for key in keys {
            if let Some(p) = self.packs.get_mut(key) {
                p.written = true;
            }
        }
    }

    /// Reads the static images of each blend from packs: finds the inputs that are external
    /// images unchanged for [`STABLE_FRAMES`], groups them by four, reuses or makes (with
    /// `new_pack`, a canvas-sized `Rgba32Uint` target) the pack holding each group, and
    /// inserts a pack pass before the blend for a pack not yet written. Packs no pass reads
    /// this frame are dropped, so an image that changes is read directly until it is stable
    /// again and then packed afresh. Returns the packs written this frame, indexed by
    /// [`Target::Pack`].
    pub(super) fn pack_static_inputs(
        &mut self,
        jobs: &mut Vec<Job>,
        clock: FrameClock,
        mut new_pack: impl FnMut((u32, u32)) -> TextureView,
    ) -> Vec<(PackKey, TextureView)> {
        let now = self.frame;
        let mut written = Vec::new();
        let mut used = HashSet::new();
        let mut out = Vec::with_capacity(jobs.len());
        for mut job in jobs.drain(..) {
            // (input, its image's texture) for the images that have not changed lately.
            let stable: Vec<(usize, TextureId)> = job
                .resolved
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let (asset, texture) = r.image?;
                    let at = self.changed_at.get(&asset);
                    at.is_none_or(|at| now - at >= STABLE_FRAMES)
                        .then_some((i, texture))
                })
                .collect();
            // One input alone costs one fetch either way.
            if job.kind != Kind::Blend || stable.len() < 2 {
                out.push(job);
                continue;
            }
            for group in stable.chunks(4) {
                let key = PackKey {
                    canvas: job.canvas,
                    inputs: group
                        .iter()
                        .map(|&(i, texture)| (texture, sample_bits(&job.inputs[i])))
                        .collect(),
                };
                if !self.packs.contains_key(&key) {
                    let held: u64 = self.packs.keys().map(|k| pack_bytes(k.canvas)).sum();
                    if held + pack_bytes(job.canvas) > MAX_PACK_BYTES {
                        continue;
                    }
                    let pack = PackTexture {
                        view: new_pack(job.canvas),
                        written: false,
                    };
                    self.packs.insert(key.clone(), pack);
                }
                let Some(pack) = self.packs.get(&key) else {
                    continue;
                };
                if !pack.written && !written.iter().any(|(k, _)| *k == key) {
                    out.push(Job::new(
                        Kind::Pack,
                        Target::Pack(written.len()),
                        group.iter().map(|&(i, _)| job.inputs[i].clone()).collect(),
                        group
                            .iter()
                            .map(|&(i, _)| job.resolved[i].clone())
                            .collect(),
                        job.canvas,
                        clock,
                    ));
                    debug!("packing {} static images into one texture", group.len());
                    written.push((key.clone(), pack.view.clone()));
                }
                job.packs.push(pack.view.clone());
                for &(i, _) in group {
                    job.pack_mask |= 1 << i;
                }
                used.insert(key);
            }
            out.push(job);
        }
        *jobs = out;
        self.packs.retain(|k, _| used.contains(k));
        written
    }
}

/// The bits of a sample's map and crop (a pack holds its inputs as sampled).
fn sample_bits(s: &Sample) -> [u32; 10] {
    let m = s.xform.m;
    let t = s.xform.t;
    let c = s.crop;
    [m[0], m[1], m[2], m[3], t[0], t[1], c[0], c[1], c[2], c[3]].map(f32::to_bits)
}

fn pack_bytes(canvas: (u32, u32)) -> u64 {
    u64::from(canvas.0) * u64::from(canvas.1) * 16
}
