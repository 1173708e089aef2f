//! Prepare, bind groups: for each of the frame's jobs, its bind group (cached by what it binds,
//! since most frames bind exactly what the last one did) and its pipeline variant.

use std::collections::HashMap;
use std::num::NonZeroU64;

use bevy::prelude::*;
use bevy::render::render_resource::{
    BindGroup, BindGroupEntry, BindingResource, BufferBinding, BufferId, CachedRenderPipelineId,
    PipelineCache, TextureView, TextureViewId,
};
use bevy::render::renderer::RenderDevice;
use show::plan::MAX_PASS_INPUTS;

use super::jobs::{Target, transition_variants};
use super::params::PARAM_BYTES;
use super::pipelines::{CompositorPipelines, MAX_PACKS, PipelineVariants, SAMPLER_BINDING};
use super::textures::{CompositorTextures, FrameJobs, WarmQueue};

/// Cached bind groups beyond which the cache starts afresh (views of dropped textures would
/// otherwise pile up).
const MAX_CACHED: usize = 256;

/// What a bind group binds.
#[derive(Clone, PartialEq, Eq, Hash)]
struct BindKey {
    buffer: BufferId,
    views: [TextureViewId; MAX_PASS_INPUTS],
    packs: [TextureViewId; MAX_PACKS],
}

/// Bind groups kept between frames.
#[derive(Resource, Default)]
pub(super) struct BindGroupCache {
    groups: HashMap<BindKey, BindGroup>,
    /// [`CompositorTextures::generation`] the groups were made for.
    generation: u64,
}

/// One pass, ready to record.
pub(super) struct ReadyPass {
    pub(super) pipeline: CachedRenderPipelineId,
    pub(super) group: BindGroup,
    pub(super) target: Target,
    /// Of the pass's uniform block in the uniform buffer.
    pub(super) offset: u32,
    pub(super) label: &'static str,
}

/// This frame's passes, in recording order.
#[derive(Resource, Default)]
pub(super) struct FramePasses(pub(super) Vec<ReadyPass>);

/// Turns [`FrameJobs`] into [`FramePasses`], reusing cached bind groups.
pub(super) fn prepare_compositor_bind_groups(
    frame: Res<FrameJobs>,
    textures: Res<CompositorTextures>,
    pipes: Option<Res<CompositorPipelines>>,
    cache: Res<PipelineCache>,
    device: Res<RenderDevice>,
    mut groups: ResMut<BindGroupCache>,
    mut variants: ResMut<PipelineVariants>,
    mut passes: ResMut<FramePasses>,
    mut warm: ResMut<WarmQueue>,
) {
    passes.0.clear();
    if groups.generation != textures.generation {
        groups.groups.clear();
        groups.generation = textures.generation;
    }
    let (Some(pipes), Some(buffer)) = (pipes, &frame.uniforms) else {
        return;
    };
    let layout = cache.get_bind_group_layout(&pipes.layout);
    if groups.groups.len() > MAX_CACHED {
        groups.groups.clear();
    }
    for (i, job) in frame.jobs.iter().enumerate() {
        let mut views: [&TextureView; MAX_PASS_INPUTS] = [&pipes.empty; MAX_PASS_INPUTS];
        for (slot, r) in views.iter_mut().zip(&job.resolved) {
            *slot = &r.view;
        }
        let mut pack_views: [&TextureView; MAX_PACKS] = [&pipes.empty_pack; MAX_PACKS];
        for (slot, v) in pack_views.iter_mut().zip(&job.packs) {
            *slot = v;
        }
        let key = BindKey {
            buffer: buffer.id(),
            views: views.map(|v| v.id()),
            packs: pack_views.map(|v| v.id()),
        };
        let group = groups
            .groups
            .entry(key)
            .or_insert_with(|| {
                let mut entries = vec![BindGroupEntry {
                    binding: 0,
                    resource: BindingResource::Buffer(BufferBinding {
                        buffer,
                        offset: 0,
                        size: NonZeroU64::new(PARAM_BYTES),
                    }),
                }];
                for (i, v) in views.iter().enumerate() {
                    entries.push(BindGroupEntry {
                        binding: 1 + i as u32,
                        resource: BindingResource::TextureView(v),
                    });
                }
                entries.push(BindGroupEntry {
                    binding: SAMPLER_BINDING,
                    resource: BindingResource::Sampler(&pipes.sampler),
                });
                for (k, v) in pack_views.iter().enumerate() {
                    entries.push(BindGroupEntry {
                        binding: SAMPLER_BINDING + 1 + k as u32,
                        resource: BindingResource::TextureView(v),
                    });
                }
                device.create_bind_group("compositor_pass", &layout, &entries)
            })
            .clone();
        passes.0.push(ReadyPass {
            pipeline: variants.get(job.key(), &pipes, &cache),
            group,
            target: job.target,
            offset: (i as u64 * pipes.stride) as u32,
            label: job.kind.shader().0,
        });
    }
    // Once this frame's own pipelines are ready, so on a few cores the warm-up never delays
    // the first picture: the transitions out of this frame, and the other scenes' passes.
    if passes
        .0
        .iter()
        .all(|p| cache.get_render_pipeline(p.pipeline).is_some())
    {
        let keys: Vec<_> = frame.jobs.iter().map(|j| (j.key(), j.target)).collect();
        for key in transition_variants(&keys)
            .into_iter()
            .chain(warm.keys.drain(..))
        {
            variants.get(key, &pipes, &cache);
        }
    }
}
