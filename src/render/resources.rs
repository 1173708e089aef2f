//! The main world's side of the compositor: what it asks to be drawn, what it gets back, and
//! the size of [`CompositeOutput`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{TextureFormat, TextureUsages};
use show::scene::TransitionKind;
use show::{NodeId, RenderPlan, TappedPlan};

/// Path in Bevy's `DiagnosticsStore` of the GPU time (ms) of all compositor passes of a frame,
/// recorded when `bevy::render::diagnostic::RenderDiagnosticsPlugin` is added and the adapter
/// supports timestamp queries (`elapsed_cpu` next to it is the CPU time to record them).
pub const GPU_TIME_DIAGNOSTIC: &str = "render/compositor/elapsed_gpu";

/// Size of [`CompositeOutput`] until a plan names its canvas.
pub(super) const DEFAULT_CANVAS: (u32, u32) = (1920, 1080);

/// What the program shows: the current scene's plan and, while switching, the transition from
/// the previous one.
#[derive(Resource, Default, Clone)]
pub struct Program {
    pub plan: Option<Arc<RenderPlan>>,
    pub transition: Option<ProgramTransition>,
}

/// Every plan the program may switch to (the show's scenes): their pipeline variants are
/// compiled in the background while the program plays, so a first cut or transition to a
/// scene never shown before draws at once instead of holding the picture while shaders
/// compile.
#[derive(Resource, Default, Clone)]
pub struct WarmPlans(pub Vec<Arc<RenderPlan>>);

/// A running scene switch: `from` is mixed into [`Program::plan`] by `progress` (0..=1).
#[derive(Clone, Debug)]
pub struct ProgramTransition {
    pub from: Arc<RenderPlan>,
    pub kind: TransitionKind,
    pub progress: f32,
}

/// Textures for the plans' [`show::plan::Operand::External`] ids (images, camera and Scope
/// frames): straight alpha, `Rgba8Unorm` or `Rgba8UnormSrgb`, any size. A missing or not yet
/// uploaded texture reads as transparent.
#[derive(Resource, Default, Clone)]
pub struct ExternalTextures(pub HashMap<NodeId, Handle<Image>>);

/// Opacity an external texture is sampled with, 0..=1 (absent: 1). A source fades this way
/// on the GPU instead of rewriting its pixels.
#[derive(Resource, Default, Clone)]
pub struct ExternalOpacity(pub HashMap<NodeId, f32>);

/// How the compositor may trade memory for speed.
#[derive(Resource, Clone, Copy, Debug)]
pub struct CompositorSettings {
    /// Blend inputs that are images unchanged for a few frames are read from pack textures,
    /// four per texel fetch (see `shaders/pack.wgsl`): the same pixels, about a quarter of the
    /// fetches, at 16 bytes per canvas pixel per four images. Camera and Scope frames change
    /// every frame and are never packed.
    pub pack_static_images: bool,
}

impl Default for CompositorSettings {
    fn default() -> Self {
        CompositorSettings {
            pack_static_images: true,
        }
    }
}

/// How many pass inputs the last prepared frame read from packs (tests, benchmarks).
#[derive(Resource, Default, Clone)]
pub struct PackedInputs(pub(super) Arc<AtomicUsize>);

impl PackedInputs {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// Time and frame number the test pattern burns in; also tags read-back frames.
#[derive(Resource, Default, Clone, Copy, Debug, PartialEq)]
pub struct FrameClock {
    pub time: f32,
    pub frame: u64,
}

/// The composited program: canvas-sized, opaque, `Rgba8UnormSrgb`; usable as a sprite texture.
#[derive(Resource, Clone)]
pub struct CompositeOutput(pub Handle<Image>);

/// While `enabled`, or while anyone asks ([`ProgramReadback::ask`]), every rendered frame is
/// copied back to the CPU into [`LatestProgramFrame`]. Asking by name lets each consumer (the
/// recorder, streams, obs-websocket) stop without cutting off another.
#[derive(Resource, Default, Clone, Debug)]
pub struct ProgramReadback {
    /// On for good (tests, benches, headless renders).
    pub enabled: bool,
    askers: std::collections::BTreeSet<&'static str>,
}

impl ProgramReadback {
    /// `asker` wants frames (`on`) or no longer does. Marks the resource changed only when
    /// that changes anything.
    pub fn ask(this: &mut bevy::prelude::ResMut<Self>, asker: &'static str, on: bool) {
        if this.askers.contains(asker) != on {
            if on {
                this.askers.insert(asker);
            } else {
                this.askers.remove(asker);
            }
        }
    }

    /// Whether `asker` asks for frames now.
    pub fn asked_by(&self, asker: &str) -> bool {
        self.askers.contains(asker)
    }

    /// Whether frames are read back.
    pub fn on(&self) -> bool {
        self.enabled || !self.askers.is_empty()
    }
}

/// The newest read-back program frame: ([`FrameClock::frame`] it was rendered with, pixels as
/// sRGB-encoded RGBA8, alpha 255).
#[derive(Resource, Default)]
pub struct LatestProgramFrame(pub Option<(u64, image::RgbaImage)>);

/// Read-back copies dropped because the GPU had not yet handed back an earlier copy of the
/// same picture (the render thread never waits for one). Counts since start.
#[derive(Resource, Default, Clone)]
pub struct ReadbackDrops(pub(super) Arc<AtomicU64>);

impl ReadbackDrops {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The newest GPU-rendered input of each Scope node whose feed is
/// [`show::plan::FeedFrom::Rendered`] in the current plan: the feed's sample composited over
/// black at the feed's size, sRGB-encoded RGBA8, with the frame number it was rendered in.
/// Rendered and read back every frame such feeds exist.
#[derive(Resource, Default)]
pub struct ScopeFeedFrames(pub HashMap<NodeId, (u64, image::RgbaImage)>);

/// What the console wants rendered besides the program: tapped plans of one scene of the
/// current show. The render world draws them on every frame `previews` is not empty (so the
/// main world amortises the cost by setting it only on some frames), after the program and in
/// slots of their own (one set per plan, at that plan's canvas size): the program and Scope
/// feeds are untouched, and the preview plans' own feeds and outputs are not rendered.
#[derive(Resource, Default, Clone)]
pub struct PreviewRequest {
    pub previews: Vec<Preview>,
}

/// One preview plan and the images its taps are drawn into.
#[derive(Clone)]
pub struct Preview {
    /// Compiled with [`show::compile::compile_with_taps`], at any canvas size
    /// ([`show::TappedPlan::rescaled`] draws thumbnails at their own size, for a fraction of the
    /// cost).
    pub plan: Arc<TappedPlan>,
    /// One image per tap, of any size, made by [`preview_image`]: the tap's picture scaled to
    /// it (bilinear), composited over black like the program (unless `alpha`), so what an egui texture of it
    /// shows is what the program would show for that node. A node without a tap, or an image
    /// not yet on the GPU, is skipped (a missing tap warns once).
    pub targets: Vec<(NodeId, Handle<Image>)>,
    /// Read the targets back into [`PreviewFrames`] (as [`PreviewReadback`] does for all).
    pub read_back: bool,
    /// Keep each tap's alpha (premultiplied, sRGB-encoded colour) instead of compositing it
    /// over black: a node's picture for a stream with alpha.
    pub alpha: bool,
}

/// When `enabled`, every rendered preview target is copied back into [`PreviewFrames`] (tests,
/// tools; the console samples the images directly); else only those of previews marked
/// [`Preview::read_back`].
#[derive(Resource, Default, Clone, Copy, Debug)]
pub struct PreviewReadback {
    pub enabled: bool,
}

/// The newest read-back picture of each preview target image: ([`FrameClock::frame`] it was
/// rendered with, sRGB-encoded RGBA8, alpha 255).
#[derive(Resource, Default)]
pub struct PreviewFrames(pub HashMap<AssetId<Image>, (u64, image::RgbaImage)>);

/// A preview target of `size`: `Rgba8UnormSrgb`, sampleable (egui) and copyable, written
/// through an `Rgba8Unorm` view like [`CompositeOutput`].
pub fn preview_image(size: (u32, u32)) -> Image {
    output_image(size)
}

/// A canvas-sized render target the final pass writes and the readback copies.
pub(super) fn output_image(size: (u32, u32)) -> Image {
    let mut image = Image::new_target_texture(
        size.0.max(1),
        size.1.max(1),
        TextureFormat::Rgba8UnormSrgb,
        None,
    );
    image.texture_descriptor.usage |= TextureUsages::COPY_SRC;
    // The final pass writes the sRGB-encoded composite through a plain view, byte for byte.
    image.texture_descriptor.view_formats = &[TextureFormat::Rgba8Unorm];
    image.asset_usage = RenderAssetUsages::default();
    image
}

/// Keeps [`CompositeOutput`] at the plan's canvas size: reallocated only when that changes.
pub(super) fn resize_output(
    program: Res<Program>,
    output: Res<CompositeOutput>,
    mut images: ResMut<Assets<Image>>,
) {
    let Some(plan) = &program.plan else { return };
    let (w, h) = plan.canvas;
    let current = images.get(&output.0).map(|i| (i.width(), i.height()));
    if current != Some((w.max(1), h.max(1)))
        && let Err(e) = images.insert(output.0.id(), output_image((w, h)))
    {
        warn!("could not resize the program output: {e}");
    }
}

/// Sets [`CompositeOutput`]'s size now (before any plan arrives), e.g. for a headless app.
pub fn set_output_size(app: &mut App, size: (u32, u32)) {
    let handle = app.world().resource::<CompositeOutput>().0.clone();
    let mut images = app.world_mut().resource_mut::<Assets<Image>>();
    if let Err(e) = images.insert(handle.id(), output_image(size)) {
        warn!("could not size the program output: {e}");
    }
}
