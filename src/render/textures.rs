//! Prepare, resources: the GPU objects a frame draws into and binds. Canvas-sized slot
//! textures live as long as the canvas size and slot count allow, Scope feed targets as long
//! as their feed, the uniform buffer until the jobs outgrow it; only uniform blocks that
//! changed are uploaded. [`prepare_compositor_textures`] also builds the frame's jobs (see
//! [`super::jobs`]), since which textures exist decides what they read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bevy::prelude::*;
use bevy::render::render_asset::{ExtractedAssets, RenderAssets};
use bevy::render::render_resource::{
    Buffer, BufferDescriptor, BufferUsages, Extent3d, Texture, TextureDescriptor, TextureDimension,
    TextureFormat, TextureId, TextureUsages, TextureView, TextureViewDescriptor,
};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::texture::GpuImage;
use show::NodeId;
use show::TappedPlan;
use show::plan::{FeedFrom, RenderPlan, Sample};

use super::PackedInputs;
use super::extract::ExtractedProgram;
use super::inputs::Inputs;
use super::jobs::{
    FrameRequest, Job, PreviewSet, Warned, frame_jobs, preview_jobs, transition_variants,
};
use super::packing::{PackKey, StaticPacks};
use super::params::PARAM_BYTES;
use super::pipelines::{CompositorPipelines, VariantKey};

/// Most canvas-sized slot textures both plans of a transition may use together (a guard
/// against a broken plan exhausting memory; compiled scenes need a handful).
const MAX_SLOTS: usize = 2 * show::plan::MAX_SLOTS as usize;

/// Frames in a row without previews after which their slots are freed (previews turned off).
const PREVIEW_IDLE_FRAMES: u32 = 120;

/// GPU objects kept between frames.
#[derive(Resource, Default)]
pub(super) struct CompositorTextures {
    /// Canvas size the slots were made for.
    size: (u32, u32),
    pub(super) slots: Vec<TextureView>,
    uniforms: Option<Buffer>,
    /// What the uniform buffer holds now, so unchanged blocks are not uploaded again.
    uploaded: Vec<u8>,
    /// Bumped whenever slots or the uniform buffer are replaced, so bind groups naming the old
    /// ones are dropped rather than kept alive.
    pub(super) generation: u64,
    /// An `Rgba8Unorm` view of the output texture, so the final pass stores encoded bytes as is.
    output_view: Option<(TextureId, TextureView)>,
    /// Render targets of `FeedFrom::Rendered` Scope feeds.
    feeds: HashMap<NodeId, FeedTarget>,
    /// `Rgba8Unorm` views of preview target images, by image (made again when its texture is).
    preview_views: HashMap<AssetId<Image>, (TextureId, TextureView)>,
    /// Each preview plan's slots, by its index in the request: (their size, the slots).
    preview_sets: Vec<((u32, u32), Vec<TextureView>)>,
    /// Frames in a row without previews.
    preview_idle: u32,
}

/// Where one rendered Scope feed is drawn (and read back from).
struct FeedTarget {
    size: (u32, u32),
    texture: Texture,
    view: TextureView,
}

impl FeedTarget {
    fn new(device: &RenderDevice, size: (u32, u32)) -> FeedTarget {
        let texture = device.create_texture(&TextureDescriptor {
            label: Some("compositor_feed"),
            size: Extent3d {
                width: size.0,
                height: size.1,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: TextureDimension::D2,
            format: TextureFormat::Rgba8Unorm,
            usage: TextureUsages::RENDER_ATTACHMENT | TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = texture.create_view(&TextureViewDescriptor::default());
        FeedTarget {
            size,
            texture,
            view,
        }
    }
}

/// This frame's jobs and what they draw into; empty when nothing is to be drawn.
#[derive(Resource, Default)]
pub(super) struct FrameJobs {
    pub(super) jobs: Vec<Job>,
    /// The buffer holding the jobs' uniform blocks, one per [`CompositorPipelines::stride`].
    pub(super) uniforms: Option<Buffer>,
    pub(super) output_view: Option<TextureView>,
    /// Output texture size, when this frame is to be read back.
    pub(super) readback: Option<(u32, u32)>,
    /// Rendered Scope feeds, indexed by [`super::jobs::Target::Feed`]; all are read back.
    pub(super) feeds: Vec<FrameFeed>,
    /// Packs written this frame, indexed by [`super::jobs::Target::Pack`].
    pub(super) packs: Vec<(PackKey, TextureView)>,
    /// Preview targets drawn this frame, indexed by [`super::jobs::Target::Preview`].
    pub(super) previews: Vec<FramePreview>,
    /// The preview target images to read back.
    pub(super) preview_readback: HashSet<AssetId<Image>>,
}

/// Pipeline variants of [`super::WarmPlans`] waiting to be queued (once the frame's own
/// pipelines are ready), and what they were made from.
#[derive(Resource, Default)]
pub(super) struct WarmQueue {
    pub(super) keys: Vec<VariantKey>,
    /// The plans (by address: a reload makes new ones) and the external textures the keys
    /// were made with. A key depends on its inputs' format and size, and images decode after
    /// a show loads, so the plans are keyed again when either changes.
    made_from: Option<(Vec<usize>, u64)>,
}

/// One preview target image of this frame.
pub(super) struct FramePreview {
    pub(super) image: AssetId<Image>,
    pub(super) size: (u32, u32),
    pub(super) texture: Texture,
    pub(super) view: TextureView,
}

pub(super) struct FrameFeed {
    pub(super) scope: NodeId,
    pub(super) size: (u32, u32),
    pub(super) texture: Texture,
    pub(super) view: TextureView,
}

/// Builds this frame's jobs from the extracted plans and makes what they need: slots, feed
/// targets, packs, the output view and the uploaded uniforms.
pub(super) fn prepare_compositor_textures(
    ex: Res<ExtractedProgram>,
    pipes: Option<Res<CompositorPipelines>>,
    images: Res<RenderAssets<GpuImage>>,
    uploaded: Res<ExtractedAssets<GpuImage>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
    packed: Res<PackedInputs>,
    mut textures: ResMut<CompositorTextures>,
    mut packs: ResMut<StaticPacks>,
    mut warned: ResMut<Warned>,
    mut frame: ResMut<FrameJobs>,
    mut warm: ResMut<WarmQueue>,
) {
    *frame = FrameJobs::default();
    packs.start_frame(&uploaded.added);
    let Some(pipes) = pipes else { return };
    let Some(out) = ex.output.and_then(|id| images.get(id)) else {
        return;
    };
    let out_size = (
        out.texture_descriptor.size.width,
        out.texture_descriptor.size.height,
    );
    let plan = ex.program.plan.as_deref();
    let canvas = plan.map_or(out_size, |p| p.canvas);
    if canvas != out_size {
        // The output is being resized for a new canvas; draw once it has arrived.
        return;
    }
    let Some(output_view) = textures.output_view(out) else {
        return;
    };
    // A transition from a plan with another canvas size cannot share the slots: show the target.
    let transition = ex
        .program
        .transition
        .as_ref()
        .filter(|t| plan.is_some() && t.from.canvas == canvas);
    let from_slots = transition.map_or(0, |t| t.from.slot_count as usize);
    let plan_slots = plan.map_or(0, |p| p.slot_count as usize);
    if from_slots + plan_slots > MAX_SLOTS {
        if warned.first(format!("slots {plan_slots} {from_slots}")) {
            warn!(
                "a plan needs {plan_slots} (+{from_slots}) slot textures, more than {MAX_SLOTS}; not drawn"
            );
        }
        return;
    }
    textures.ensure_slots(&device, canvas, from_slots + plan_slots);
    let feeds = plan.map_or(Vec::new(), |p| textures.rendered_feeds(&device, p));
    // Previews draw after the program in slot sets of their own, each at its plan's canvas.
    let previews: Vec<_> = ex
        .previews
        .iter()
        .filter(|(p, _, _)| {
            let fits = p.plan.slot_count as usize <= MAX_SLOTS;
            if !fits && warned.first(format!("preview slots {}", p.plan.slot_count)) {
                warn!(
                    "a preview plan needs {} slot textures, more than {MAX_SLOTS}; not drawn",
                    p.plan.slot_count
                );
            }
            fits
        })
        .collect();
    let sets: Vec<_> = previews
        .iter()
        .map(|(p, _, _)| (p.plan.canvas, p.plan.slot_count as usize))
        .collect();
    textures.ensure_preview_slots(&device, &sets);
    // Per preview: its targets, from `start` in the frame's list.
    let mut preview_targets = Vec::new();
    let mut ranges = Vec::new();
    for (plan, targets, _) in &previews {
        let start = preview_targets.len();
        preview_targets.extend(textures.preview_targets(&ex, plan, targets, &images, &mut warned));
        ranges.push(start..preview_targets.len());
    }
    textures.keep_preview_views(&ex);

    let current = Inputs {
        slots: &textures.slots[from_slots..from_slots + plan_slots],
        canvas,
        images: &images,
        externals: &ex.externals,
        opacity: &ex.opacity,
        empty: &pipes.empty,
    };
    let from = Inputs {
        slots: &textures.slots[..from_slots],
        ..current
    };
    let feed_samples: Vec<((u32, u32), &Sample)> = feeds.iter().map(|(f, s)| (f.size, s)).collect();
    let request = FrameRequest {
        plan,
        transition,
        canvas,
        clock: ex.clock,
        feeds: &feed_samples,
    };
    let mut jobs = frame_jobs(&request, &current, &from, &mut warned);
    warm_plans(&ex, &current, &pipes.empty, &mut warm);
    let written = if ex.settings.pack_static_images {
        packs.pack_static_inputs(&mut jobs, ex.clock, |size| {
            canvas_target(&device, "compositor_pack", size, TextureFormat::Rgba32Uint)
        })
    } else {
        packs.clear();
        Vec::new()
    };
    let count = jobs.iter().map(|j| j.pack_mask.count_ones() as usize).sum();
    packed.0.store(count, Ordering::Relaxed);
    // Preview jobs are not packed: drawn only every few frames, they would make the packs
    // of the program churn.
    let samples: Vec<((u32, u32), &Sample)> =
        preview_targets.iter().map(|(f, s)| (f.size, s)).collect();
    for (set, ((plan, _, alpha), range)) in previews.iter().zip(&ranges).enumerate() {
        let inputs = Inputs {
            slots: textures.preview_slots(set),
            canvas: plan.plan.canvas,
            ..current
        };
        let of = PreviewSet {
            index: set,
            first_target: range.start,
            alpha: *alpha,
        };
        jobs.extend(preview_jobs(
            &plan.plan,
            of,
            &samples[range.clone()],
            &inputs,
            ex.clock,
            &mut warned,
        ));
    }

    let Some(buffer) = textures.upload_uniforms(&device, &queue, &jobs, pipes.stride) else {
        return;
    };
    *frame = FrameJobs {
        jobs,
        uniforms: Some(buffer),
        output_view: Some(output_view),
        readback: ex.readback.then_some(out_size),
        feeds: feeds.into_iter().map(|(f, _)| f).collect(),
        packs: written,
        previews: preview_targets.into_iter().map(|(f, _)| f).collect(),
        preview_readback: ex.preview_readback.clone(),
    };
}

/// Queues the variants of the warm plans when they or the external textures changed: each
/// plan's jobs as a cut to it would draw them (its slots stand in as copies of one view: only
/// their size counts for a key), and what a transition into or out of it adds. Static image
/// packs are left to their first use. Plans on another canvas than the program's are skipped
/// (a switch to them re-sizes everything anyway).
fn warm_plans(ex: &ExtractedProgram, current: &Inputs, empty: &TextureView, warm: &mut WarmQueue) {
    let address = |p: &Arc<RenderPlan>| Arc::as_ptr(p) as usize;
    let textures = external_inputs(current);
    let unchanged = warm.made_from.as_ref().is_some_and(|(plans, t)| {
        *t == textures && plans.iter().copied().eq(ex.warm.iter().map(address))
    });
    if unchanged {
        return;
    }
    warm.made_from = Some((ex.warm.iter().map(address).collect(), textures));
    for plan in &ex.warm {
        if plan.canvas != current.canvas || plan.slot_count as usize > MAX_SLOTS {
            continue;
        }
        let slots = vec![empty.clone(); plan.slot_count as usize];
        let inputs = Inputs {
            slots: &slots,
            ..*current
        };
        let request = FrameRequest {
            plan: Some(plan),
            transition: None,
            canvas: current.canvas,
            clock: ex.clock,
            feeds: &[],
        };
        // Its problems are the program's to report, when it is on.
        let mut quiet = Warned::default();
        let keys: Vec<_> = frame_jobs(&request, &inputs, &inputs, &mut quiet)
            .iter()
            .map(|j| (j.key(), j.target))
            .collect();
        warm.keys.extend(keys.iter().map(|(k, _)| *k));
        warm.keys.extend(transition_variants(&keys));
    }
}

/// A fingerprint of the external textures that resolve (node, texture, size, format),
/// independent of the map's order.
fn external_inputs(inputs: &Inputs) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let hasher = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
    inputs
        .externals
        .iter()
        .filter_map(|(node, asset)| {
            let g = inputs.images.get(*asset)?;
            let size = g.texture_descriptor.size;
            Some(hasher.hash_one((
                node,
                g.texture.id(),
                size.width,
                size.height,
                g.texture_descriptor.format,
            )))
        })
        .fold(0, |all, one| all ^ one)
}

impl CompositorTextures {
    /// An `Rgba8Unorm` view of the output (made again only when its texture changes); `None`
    /// when the output does not allow one.
    fn output_view(&mut self, out: &GpuImage) -> Option<TextureView> {
        if let Some((id, view)) = &self.output_view
            && *id == out.texture.id()
        {
            return Some(view.clone());
        }
        if !out
            .texture_descriptor
            .view_formats
            .contains(&TextureFormat::Rgba8Unorm)
        {
            return None;
        }
        let view = out.texture.create_view(&TextureViewDescriptor {
            label: Some("compositor_output_unorm"),
            format: Some(TextureFormat::Rgba8Unorm),
            ..default()
        });
        self.output_view = Some((out.texture.id(), view.clone()));
        Some(view)
    }

    /// Makes sure `count` canvas-sized slots exist; reallocates only when the canvas size
    /// changes or more slots are needed than ever before.
    fn ensure_slots(&mut self, device: &RenderDevice, canvas: (u32, u32), count: usize) {
        if self.size != canvas {
            self.slots.clear();
            self.generation += 1;
            self.size = canvas;
        }
        while self.slots.len() < count {
            self.slots.push(canvas_target(
                device,
                "compositor_slot",
                canvas,
                TextureFormat::Rgba8Unorm,
            ));
        }
    }

    /// The plan's `FeedFrom::Rendered` feeds with their render targets (made or resized as
    /// needed; targets of feeds no longer in the plan are dropped).
    fn rendered_feeds(
        &mut self,
        device: &RenderDevice,
        plan: &RenderPlan,
    ) -> Vec<(FrameFeed, Sample)> {
        let mut out = Vec::new();
        for feed in &plan.feeds {
            let FeedFrom::Rendered(sample) = &feed.from else {
                continue;
            };
            let size = (feed.size.0.clamp(1, 8192), feed.size.1.clamp(1, 8192));
            let target = self
                .feeds
                .entry(feed.scope.clone())
                .and_modify(|t| {
                    if t.size != size {
                        *t = FeedTarget::new(device, size);
                    }
                })
                .or_insert_with(|| FeedTarget::new(device, size));
            out.push((
                FrameFeed {
                    scope: feed.scope.clone(),
                    size,
                    texture: target.texture.clone(),
                    view: target.view.clone(),
                },
                sample.clone(),
            ));
        }
        self.feeds
            .retain(|id, _| out.iter().any(|(f, _)| f.scope == *id));
        out
    }

    /// The preview's targets that can be drawn, with their taps' samples. Skipped: a node
    /// without a tap in the plan (warned once), an image not (yet) on the GPU or without an
    /// `Rgba8Unorm` view format, and an image the frame also reads or is the program output
    /// (a pass may not read what it writes).
    fn preview_targets(
        &mut self,
        ex: &ExtractedProgram,
        plan: &TappedPlan,
        targets: &[(NodeId, AssetId<Image>)],
        images: &RenderAssets<GpuImage>,
        warned: &mut Warned,
    ) -> Vec<(FramePreview, Sample)> {
        let mut out = Vec::new();
        for (node, image) in targets {
            let Some(tap) = plan.tap(node) else {
                if warned.first(format!("preview tap {node}")) {
                    warn!("preview of node {node}: the preview plan has no tap for it; skipped");
                }
                continue;
            };
            let read = ex.output == Some(*image) || ex.externals.values().any(|a| a == image);
            let Some(gpu) = images.get(*image).filter(|_| !read) else {
                continue;
            };
            let Some(view) = self.preview_view(*image, gpu) else {
                if warned.first(format!("preview view {node}")) {
                    warn!("preview of node {node}: its image has no Rgba8Unorm view; skipped");
                }
                continue;
            };
            let size = (
                gpu.texture_descriptor.size.width,
                gpu.texture_descriptor.size.height,
            );
            out.push((
                FramePreview {
                    image: *image,
                    size,
                    texture: gpu.texture.clone(),
                    view,
                },
                tap.sample.clone(),
            ));
        }
        out
    }

    /// Drops the views of images no preview of this frame draws into (kept on frames without
    /// previews, which come between the frames with them).
    fn keep_preview_views(&mut self, ex: &ExtractedProgram) {
        if ex.previews.is_empty() {
            return;
        }
        self.preview_views.retain(|id, _| {
            ex.previews
                .iter()
                .any(|(_, targets, _)| targets.iter().any(|(_, i)| i == id))
        });
    }

    /// Makes sure preview set `i` has `sets[i].1` slots of size `sets[i].0`; a set changing
    /// size is made again, sets beyond `sets` are dropped. Frames without previews (they come
    /// every few frames) keep everything, until [`PREVIEW_IDLE_FRAMES`] such frames in a row.
    fn ensure_preview_slots(&mut self, device: &RenderDevice, sets: &[((u32, u32), usize)]) {
        if sets.is_empty() {
            self.preview_idle += 1;
            if self.preview_idle > PREVIEW_IDLE_FRAMES && !self.preview_sets.is_empty() {
                self.preview_sets.clear();
                self.preview_views.clear();
                self.generation += 1;
            }
            return;
        }
        self.preview_idle = 0;
        self.preview_sets.truncate(sets.len());
        if self.preview_sets.len() < sets.len() {
            self.preview_sets
                .resize_with(sets.len(), || ((0, 0), Vec::new()));
        }
        for (set, &(size, count)) in self.preview_sets.iter_mut().zip(sets) {
            if set.0 != size {
                set.1.clear();
                set.0 = size;
                self.generation += 1;
            }
            while set.1.len() < count {
                set.1.push(canvas_target(
                    device,
                    "compositor_preview_slot",
                    size,
                    TextureFormat::Rgba8Unorm,
                ));
            }
        }
    }

    /// The slots of preview plan `set` (empty when it has none).
    pub(super) fn preview_slots(&self, set: usize) -> &[TextureView] {
        self.preview_sets
            .get(set)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// An `Rgba8Unorm` view of a preview target (cached per texture), as for the output.
    fn preview_view(&mut self, image: AssetId<Image>, gpu: &GpuImage) -> Option<TextureView> {
        if let Some((id, view)) = self.preview_views.get(&image)
            && *id == gpu.texture.id()
        {
            return Some(view.clone());
        }
        let d = &gpu.texture_descriptor;
        let usable = d.view_formats.contains(&TextureFormat::Rgba8Unorm)
            && d.usage.contains(TextureUsages::RENDER_ATTACHMENT)
            && d.dimension == TextureDimension::D2;
        if !usable {
            return None;
        }
        let view = gpu.texture.create_view(&TextureViewDescriptor {
            label: Some("compositor_preview_unorm"),
            format: Some(TextureFormat::Rgba8Unorm),
            ..default()
        });
        self.preview_views
            .insert(image, (gpu.texture.id(), view.clone()));
        Some(view)
    }

    /// Writes the jobs' uniform blocks, uploading only blocks whose bytes changed. Returns the
    /// buffer to bind.
    fn upload_uniforms(
        &mut self,
        device: &RenderDevice,
        queue: &RenderQueue,
        jobs: &[Job],
        stride: u64,
    ) -> Option<Buffer> {
        let needed = stride * jobs.len() as u64;
        let fits = self.uniforms.as_ref().is_some_and(|b| b.size() >= needed);
        if !fits {
            let size = needed.max(stride * 16).next_power_of_two();
            self.uniforms = Some(device.create_buffer(&BufferDescriptor {
                label: Some("compositor_params"),
                size,
                usage: BufferUsages::UNIFORM | BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }));
            self.uploaded.clear();
            self.generation += 1;
        }
        let buffer = self.uniforms.clone()?;
        let mut block = Vec::with_capacity(PARAM_BYTES as usize);
        for (i, job) in jobs.iter().enumerate() {
            block.clear();
            job.params.write_bytes(&mut block);
            let start = i * stride as usize;
            let end = start + block.len();
            if self.uploaded.get(start..end) == Some(&block[..]) {
                continue;
            }
            queue.write_buffer(&buffer, start as u64, &block);
            if self.uploaded.len() < end {
                self.uploaded.resize(end, 0);
            }
            self.uploaded[start..end].copy_from_slice(&block);
        }
        Some(buffer)
    }
}

/// A canvas-sized texture passes draw into and read from.
fn canvas_target(
    device: &RenderDevice,
    label: &'static str,
    canvas: (u32, u32),
    format: TextureFormat,
) -> TextureView {
    device
        .create_texture(&TextureDescriptor {
            label: Some(label),
            size: Extent3d {
                width: canvas.0.max(1),
                height: canvas.1.max(1),
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: TextureDimension::D2,
            format,
            usage: TextureUsages::RENDER_ATTACHMENT | TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        })
        .create_view(&TextureViewDescriptor::default())
}
