//! The compose pass: records the frame's prepared passes, one fullscreen triangle each, and
//! the readback copies, in the `RenderGraph` schedule before any camera draws (so a sprite of
//! [`super::CompositeOutput`] shows this frame's program).

use std::collections::HashSet;

use bevy::prelude::*;
use bevy::render::diagnostic::RecordDiagnostics;
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::{
    LoadOp, Operations, PipelineCache, RenderPassColorAttachment, RenderPassDescriptor, StoreOp,
};
use bevy::render::renderer::RenderContext;
use bevy::render::texture::GpuImage;

use super::ReadbackDrops;
use super::bind_groups::FramePasses;
use super::extract::ExtractedProgram;
use super::jobs::Target;
use super::packing::StaticPacks;
use super::readback::{Readbacks, Tap};
use super::textures::{CompositorTextures, FrameJobs};

/// Records the prepared passes (and the readback copies). Draws nothing while a pipeline is
/// still compiling, so the output keeps the last complete frame.
pub(super) fn compose(
    mut ctx: RenderContext,
    frame: Res<FrameJobs>,
    passes: Res<FramePasses>,
    ex: Res<ExtractedProgram>,
    cache: Res<PipelineCache>,
    images: Res<RenderAssets<GpuImage>>,
    textures: Res<CompositorTextures>,
    mut packs: ResMut<StaticPacks>,
    mut readbacks: ResMut<Readbacks>,
    drops: Res<ReadbackDrops>,
) {
    let Some(output_view) = &frame.output_view else {
        return;
    };
    let mut pipelines = Vec::with_capacity(passes.0.len());
    for pass in &passes.0 {
        match cache.get_render_pipeline(pass.pipeline) {
            Some(p) => pipelines.push(p),
            // Still compiling (windowed apps compile in the background): keep the last frame.
            None => return,
        }
    }
    let device = ctx.render_device().clone();
    // GPU time of all compositor passes, when `RenderDiagnosticsPlugin` is added (see
    // [`super::GPU_TIME_DIAGNOSTIC`]).
    let recorder = ctx.diagnostic_recorder();
    let diagnostics = recorder.as_deref();
    let encoder = ctx.command_encoder();
    let span = diagnostics.time_span(encoder, "compositor");
    for (pass, pipeline) in passes.0.iter().zip(pipelines) {
        let view = match pass.target {
            Target::Slot(s) => match textures.slots.get(s) {
                Some(v) => v,
                None => continue,
            },
            Target::Output => output_view,
            Target::Feed(k) => match frame.feeds.get(k) {
                Some(f) => &f.view,
                None => continue,
            },
            Target::Pack(k) => match frame.packs.get(k) {
                Some((_, v)) => v,
                None => continue,
            },
            Target::PreviewSlot(set, s) => match textures.preview_slots(set).get(s) {
                Some(v) => v,
                None => continue,
            },
            Target::Preview(k) => match frame.previews.get(k) {
                Some(p) => &p.view,
                None => continue,
            },
        };
        let mut rp = encoder.begin_render_pass(&RenderPassDescriptor {
            label: Some(pass.label),
            color_attachments: &[Some(RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                // Every pass covers every pixel, so the old contents are never needed.
                ops: Operations {
                    load: LoadOp::Load,
                    store: StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        rp.set_pipeline(pipeline);
        rp.set_bind_group(0, Some(&*pass.group), &[pass.offset]);
        rp.draw(0..3, 0..1);
    }
    span.end(encoder);
    packs.mark_written(frame.packs.iter().map(|(k, _)| k));

    // Read-backs: the rendered feeds, the previews and the program output when asked for.
    let mut live = HashSet::new();
    for f in &frame.feeds {
        let tap = Tap::Feed(f.scope.clone());
        readbacks.copy(
            &device,
            encoder,
            tap.clone(),
            &f.texture,
            f.size,
            ex.clock.frame,
            &drops.0,
        );
        live.insert(tap);
    }
    for p in frame
        .previews
        .iter()
        .filter(|p| frame.preview_readback.contains(&p.image))
    {
        let tap = Tap::Preview(p.image);
        readbacks.copy(
            &device,
            encoder,
            tap.clone(),
            &p.texture,
            p.size,
            ex.clock.frame,
            &drops.0,
        );
        live.insert(tap);
    }
    if let Some(size) = frame.readback
        && let Some(out) = ex.output.and_then(|id| images.get(id))
    {
        readbacks.copy(
            &device,
            encoder,
            Tap::Program,
            &out.texture,
            size,
            ex.clock.frame,
            &drops.0,
        );
        live.insert(Tap::Program);
    }
    readbacks.keep_taps(&live);
}
