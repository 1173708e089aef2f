//! The plugin: main-world resources and systems, and the render world's schedule. Every
//! compositor system is placed here, once, in frame order:
//!
//! 1. `RenderStartup`: [`init_compositor_pipelines`];
//! 2. `ExtractSchedule`: [`extract_program`];
//! 3. `Render`, `PrepareResources`: [`prepare_compositor_textures`] (jobs, textures, uniforms);
//! 4. `Render`, `PrepareBindGroups`: [`prepare_compositor_bind_groups`];
//! 5. `RenderGraph`, before cameras: [`compose`] (passes and readback copies);
//! 6. `Render`, after `Render`: [`map_readbacks`]; the main world's `First`: [`receive_readback`].

use bevy::core_pipeline::schedule::camera_driver;
use bevy::prelude::*;
use bevy::render::renderer::{RenderGraph, RenderGraphSystems};
use bevy::render::{ExtractSchedule, Render, RenderApp, RenderStartup, RenderSystems};
use bevy::shader::Shader;

use super::bind_groups::{BindGroupCache, FramePasses, prepare_compositor_bind_groups};
use super::compose::compose;
use super::extract::{ExtractedProgram, extract_program};
use super::jobs::Warned;
use super::packing::StaticPacks;
use super::pipelines::{PipelineVariants, ShaderHandles, init_compositor_pipelines};
use super::readback::{
    ReadbackReceiver, ReadbackSender, Readbacks, map_readbacks, receive_readback,
};
use super::resources::{DEFAULT_CANVAS, output_image, resize_output};
use super::textures::{CompositorTextures, FrameJobs, WarmQueue, prepare_compositor_textures};
use super::{
    CompositeOutput, CompositorSettings, ExternalOpacity, ExternalTextures, FrameClock,
    LatestProgramFrame, PackedInputs, PreviewFrames, PreviewReadback, PreviewRequest, Program,
    ProgramReadback, ReadbackDrops, ScopeFeedFrames, WarmPlans,
};

/// Adds the compositor: resources, shaders, render-world passes and the readback.
pub struct CompositorPlugin;

impl Plugin for CompositorPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Program>()
            .init_resource::<WarmPlans>()
            .init_resource::<ExternalTextures>()
            .init_resource::<ExternalOpacity>()
            .init_resource::<FrameClock>()
            .init_resource::<ProgramReadback>()
            .init_resource::<LatestProgramFrame>()
            .init_resource::<ScopeFeedFrames>()
            .init_resource::<PreviewRequest>()
            .init_resource::<PreviewReadback>()
            .init_resource::<PreviewFrames>()
            .init_resource::<CompositorSettings>()
            .init_resource::<PackedInputs>()
            .init_resource::<ReadbackDrops>();
        if !app.world().contains_resource::<Assets<Image>>() {
            app.init_asset::<Image>();
        }
        let output = app
            .world_mut()
            .resource_mut::<Assets<Image>>()
            .add(output_image(DEFAULT_CANVAS));
        app.insert_resource(CompositeOutput(output))
            .add_systems(PostUpdate, resize_output)
            .add_systems(First, receive_readback);
        build_render_app(app);
    }
}

/// The render world's resources and systems (absent without `RenderPlugin`: nothing draws).
fn build_render_app(app: &mut App) {
    let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() else {
        warn!("no shader assets (RenderPlugin missing): the compositor will not draw");
        return;
    };
    let handles = ShaderHandles::add(&mut shaders);
    // Room for a few frames' copies (program and feeds arrive as separate messages).
    let (tx, rx) = media::newest_channel(8);
    let packed = app.world().resource::<PackedInputs>().clone();
    let drops = app.world().resource::<ReadbackDrops>().clone();
    let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
        return;
    };
    render_app
        .insert_resource(handles)
        .insert_resource(ReadbackSender(tx))
        .insert_resource(packed)
        .insert_resource(drops)
        .init_resource::<ExtractedProgram>()
        .init_resource::<CompositorTextures>()
        .init_resource::<StaticPacks>()
        .init_resource::<Warned>()
        .init_resource::<WarmQueue>()
        .init_resource::<FrameJobs>()
        .init_resource::<BindGroupCache>()
        .init_resource::<PipelineVariants>()
        .init_resource::<FramePasses>()
        .init_resource::<Readbacks>()
        .add_systems(RenderStartup, init_compositor_pipelines)
        .add_systems(ExtractSchedule, extract_program)
        .add_systems(
            Render,
            (
                prepare_compositor_textures.in_set(RenderSystems::PrepareResources),
                prepare_compositor_bind_groups.in_set(RenderSystems::PrepareBindGroups),
                map_readbacks.after(RenderSystems::Render),
            ),
        )
        .add_systems(
            RenderGraph,
            compose
                .in_set(RenderGraphSystems::Render)
                .before(camera_driver),
        );
    app.insert_resource(ReadbackReceiver(rx));
}
