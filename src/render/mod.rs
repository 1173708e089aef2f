//! The GPU compositor: executes [`show::RenderPlan`]s as wgpu render passes.
//!
//! The main world says *what* to draw ([`Program`], [`ExternalTextures`], [`FrameClock`]); the
//! render world draws it in the [`RenderGraph`](bevy::render::renderer::RenderGraph) schedule,
//! before any camera, into [`CompositeOutput`]. Each plan pass is exactly one render pass of a
//! fullscreen triangle with the pass kind's shader from `shaders/`; a final pass mixes a running
//! transition and composites the program over black. Colour: premultiplied alpha, sRGB-encoded
//! values in `Rgba8Unorm` slots (see `shaders/common.wgsl`).
//!
//! Laid out by render phase, in frame order:
//!
//! - `plugin`: the plugin and the render-world schedule (every system's place, declared once);
//! - `resources`: the main world's side: requests in, pictures out, output sizing;
//! - `pass_kind`: pass kind → shader file (uniform packing per kind: `params`);
//! - `pipelines`: the objects every pass shares, and pipeline variants;
//! - `extract`: copying the main world's request into the render world;
//! - `inputs`: what a pass reads, and the sampling shortcuts that allows (CPU only);
//! - `jobs`: plan → render-pass jobs: skipping, fusing, feeds, the final pass, previews (CPU
//!   only);
//! - `packing`: which static images share a pack texture (CPU only);
//! - `textures`: `PrepareResources`: slots, feed targets, the output view, uniforms;
//! - `bind_groups`: `PrepareBindGroups`: a cached bind group and a pipeline per job;
//! - `compose`: recording the passes and the readback copies;
//! - `readback`: GPU → CPU copies of the program, of rendered Scope feeds and (when asked) of
//!   preview targets.
//!
//! Previews ([`PreviewRequest`]): tapped plans of any scene of the show, drawn after the
//! program into slots of their own, each tap scaled into its own target image.

mod bind_groups;
mod compose;
mod extract;
pub mod harness;
mod inputs;
mod jobs;
mod packing;
mod params;
mod pass_kind;
mod pipelines;
mod plugin;
mod readback;
mod resources;
mod textures;

pub use params::blend_mode_index;
pub use plugin::CompositorPlugin;
pub use resources::{
    CompositeOutput, CompositorSettings, ExternalOpacity, ExternalTextures, FrameClock,
    GPU_TIME_DIAGNOSTIC, LatestProgramFrame, PackedInputs, Preview, PreviewFrames, PreviewReadback,
    PreviewRequest, Program, ProgramReadback, ProgramTransition, ReadbackDrops, ScopeFeedFrames,
    WarmPlans, preview_image, set_output_size,
};

#[cfg(test)]
mod tests;
