//! Render-world side of the compositor: pipelines, slot textures, the per-frame passes and the
//! readback copy.
//!
//! Per frame the `compose` system (in the `RenderGraph` schedule, before cameras draw) turns the
//! extracted plans into a list of jobs, uploads only the uniform blocks that changed, reuses
//! cached bind groups, and records one render pass per job. Slot textures live as long as the
//! canvas size and slot count allow; packs of static images (see `pack_static_inputs`) as long
//! as a pass reads them and their images do not change.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU64;
use std::sync::atomic::Ordering;

use bevy::core_pipeline::schedule::camera_driver;
use bevy::prelude::*;
use bevy::render::diagnostic::RecordDiagnostics;
use bevy::render::render_asset::{ExtractedAssets, RenderAssets};
use bevy::render::render_resource::{
    BindGroup, BindGroupEntry, BindGroupLayoutDescriptor, BindGroupLayoutEntry, BindingResource,
    BindingType, Buffer, BufferBinding, BufferBindingType, BufferDescriptor, BufferId,
    BufferUsages, CachedRenderPipelineId, ColorTargetState, ColorWrites, Extent3d, FilterMode,
    FragmentState, LoadOp, Operations, PipelineCache, RenderPassColorAttachment,
    RenderPassDescriptor, RenderPipelineDescriptor, SamplerBindingType, SamplerDescriptor,
    ShaderStages, StoreOp, Texture, TextureDescriptor, TextureDimension, TextureFormat, TextureId,
    TextureSampleType, TextureUsages, TextureView, TextureViewDescriptor, TextureViewDimension,
    TextureViewId, VertexState,
};
use bevy::render::renderer::{
    RenderContext, RenderDevice, RenderGraph, RenderGraphSystems, RenderQueue,
};
use bevy::render::texture::GpuImage;
use bevy::render::{Extract, ExtractSchedule, Render, RenderApp, RenderStartup, RenderSystems};
use bevy::shader::{Shader, ShaderDefVal};
use show::NodeId;
use show::plan::{FeedFrom, MAX_PASS_INPUTS, Operand, PassOp, RenderPlan, Sample};

use super::params::{PARAM_BYTES, Params, blend_mode_index};
use super::readback::{self, ReadbackSender, Readbacks};
use super::{
    CompositeOutput, CompositorSettings, ExternalOpacity, ExternalTextures, FrameClock,
    PackedInputs, Program, ProgramReadback, ReadbackDrops, ReadbackReceiver,
};

/// Most canvas-sized slot textures both plans of a transition may use together (a guard
/// against a broken plan exhausting memory; compiled scenes need a handful).
const MAX_SLOTS: usize = 64;

/// Binding of the linear sampler (see `shaders/common.wgsl`).
const SAMPLER_BINDING: u32 = 1 + MAX_PASS_INPUTS as u32;

/// Pack textures a pass can read (four inputs each), bound after the sampler.
const MAX_PACKS: usize = MAX_PASS_INPUTS / 4;

/// Frames an external image must stay unchanged before it is packed: a camera or Scope feed
/// changes every frame and is never packed; an image file is packed on its third frame.
const STABLE_FRAMES: u64 = 3;

/// GPU memory packs may take together (each is canvas-sized, 16 bytes per pixel: 33 MB at
/// 1080p). Past it, further static images are read directly.
const MAX_PACK_BYTES: u64 = 512 << 20;

const COMMON: &str = include_str!("../../shaders/common.wgsl");

/// One render pipeline (and one shader file) per kind of pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Copy,
    Solid,
    Gradient,
    TestPattern,
    GarbageMatte,
    Blend,
    ChromaKey,
    LumaKey,
    Matte,
    Invert,
    /// The `feather` node's separable blur (`PassOp::BlurH` / `BlurV`).
    Feather,
    Mask,
    ColorAdjust,
    /// The final pass: transition, over black, into the sRGB output.
    Program,
    /// Stores static inputs in a pack texture (not a plan pass; see `pack_static_inputs`).
    Pack,
}

impl Kind {
    const ALL: [Kind; 15] = [
        Kind::Copy,
        Kind::Solid,
        Kind::Gradient,
        Kind::TestPattern,
        Kind::GarbageMatte,
        Kind::Blend,
        Kind::ChromaKey,
        Kind::LumaKey,
        Kind::Matte,
        Kind::Invert,
        Kind::Feather,
        Kind::Mask,
        Kind::ColorAdjust,
        Kind::Program,
        Kind::Pack,
    ];

    fn of(op: &PassOp) -> Kind {
        match op {
            PassOp::Solid(_) => Kind::Solid,
            PassOp::Gradient(_) => Kind::Gradient,
            PassOp::TestPattern(_) => Kind::TestPattern,
            PassOp::GarbageMatte(_) => Kind::GarbageMatte,
            PassOp::Copy => Kind::Copy,
            PassOp::Blend(_) => Kind::Blend,
            PassOp::ChromaKey(_) => Kind::ChromaKey,
            PassOp::LumaKey { .. } => Kind::LumaKey,
            PassOp::Matte(_) => Kind::Matte,
            PassOp::Invert => Kind::Invert,
            PassOp::BlurH { .. } | PassOp::BlurV { .. } => Kind::Feather,
            PassOp::Mask => Kind::Mask,
            PassOp::ColorAdjust(_) => Kind::ColorAdjust,
        }
    }

    /// `(file name, WGSL source)` of the kind's fragment shader.
    fn shader(self) -> (&'static str, &'static str) {
        match self {
            Kind::Copy => ("copy", include_str!("../../shaders/copy.wgsl")),
            Kind::Solid => ("solid", include_str!("../../shaders/solid.wgsl")),
            Kind::Gradient => ("gradient", include_str!("../../shaders/gradient.wgsl")),
            Kind::TestPattern => (
                "test_pattern",
                include_str!("../../shaders/test_pattern.wgsl"),
            ),
            Kind::GarbageMatte => (
                "garbage_matte",
                include_str!("../../shaders/garbage_matte.wgsl"),
            ),
            Kind::Blend => ("blend", include_str!("../../shaders/blend.wgsl")),
            Kind::ChromaKey => ("chroma_key", include_str!("../../shaders/chroma_key.wgsl")),
            Kind::LumaKey => ("luma_key", include_str!("../../shaders/luma_key.wgsl")),
            Kind::Matte => ("matte", include_str!("../../shaders/matte.wgsl")),
            Kind::Invert => ("invert", include_str!("../../shaders/invert.wgsl")),
            Kind::Feather => ("feather", include_str!("../../shaders/feather.wgsl")),
            Kind::Mask => ("mask", include_str!("../../shaders/mask.wgsl")),
            Kind::ColorAdjust => (
                "color_adjust",
                include_str!("../../shaders/color_adjust.wgsl"),
            ),
            Kind::Program => ("program", include_str!("../../shaders/program.wgsl")),
            Kind::Pack => ("pack", include_str!("../../shaders/pack.wgsl")),
        }
    }

    /// The full module: `common.wgsl` followed by the kind's file.
    fn module_source(self) -> String {
        format!("{COMMON}\n{}", self.shader().1)
    }
}

/// Each kind's shader, made in the main world and handed to the render world. Keyed by kind,
/// so no ordering of [`Kind::ALL`] can bind one kind's pipeline to another's shader.
#[derive(Resource, Clone)]
struct ShaderHandles(HashMap<Kind, Handle<Shader>>);

pub(super) fn build(app: &mut App) {
    let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>() else {
        warn!("no shader assets (RenderPlugin missing): the compositor will not draw");
        return;
    };
    let handles = Kind::ALL
        .iter()
        .map(|&k| {
            let shader =
                Shader::from_wgsl(k.module_source(), format!("shaders/{}.wgsl", k.shader().0));
            (k, shaders.add(shader))
        })
        .collect();
    // Room for a few frames' copies (program and feeds arrive as separate messages).
    let (tx, rx) = media::newest_channel(8);
    let packed = app.world().resource::<PackedInputs>().clone();
    let drops = app.world().resource::<ReadbackDrops>().clone();
    let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
        return;
    };
    render_app
        .insert_resource(ShaderHandles(handles))
        .insert_resource(ReadbackSender(tx))
        .insert_resource(packed)
        .insert_resource(drops)
        .init_resource::<Extracted>()
        .init_resource::<SlotState>()
        .init_resource::<Readbacks>()
        .init_resource::<Variants>()
        .init_resource::<FrameJobs>()
        .add_systems(RenderStartup, init_pipelines)
        .add_systems(ExtractSchedule, extract)
        .add_systems(Render, prepare.in_set(RenderSystems::PrepareBindGroups))
        .add_systems(
            RenderGraph,
            compose
                .in_set(RenderGraphSystems::Render)
                .before(camera_driver),
        )
        .add_systems(Render, readback::map_readbacks.after(RenderSystems::Render));
    app.insert_resource(ReadbackReceiver(rx));
}

/// The main world's request for this frame.
#[derive(Resource, Default)]
struct Extracted {
    program: Program,
    externals: HashMap<NodeId, AssetId<Image>>,
    opacity: HashMap<NodeId, f32>,
    clock: FrameClock,
    readback: bool,
    output: Option<AssetId<Image>>,
    settings: CompositorSettings,
}

fn extract(
    mut ex: ResMut<Extracted>,
    program: Extract<Option<Res<Program>>>,
    externals: Extract<Option<Res<ExternalTextures>>>,
    opacity: Extract<Option<Res<ExternalOpacity>>>,
    clock: Extract<Option<Res<FrameClock>>>,
    readback: Extract<Option<Res<ProgramReadback>>>,
    output: Extract<Option<Res<CompositeOutput>>>,
    settings: Extract<Option<Res<CompositorSettings>>>,
) {
    if let Some(p) = program.as_ref() {
        ex.program = Program::clone(p);
    }
    ex.externals.clear();
    if let Some(e) = externals.as_ref() {
        ex.externals
            .extend(e.0.iter().map(|(k, h)| (k.clone(), h.id())));
    }
    ex.opacity.clear();
    if let Some(o) = opacity.as_ref() {
        ex.opacity.extend(o.0.iter().map(|(k, v)| (k.clone(), *v)));
    }
    ex.clock = clock.as_deref().copied().unwrap_or_default();
    ex.readback = readback.as_ref().is_some_and(|r| r.enabled);
    ex.output = output.as_ref().map(|o| o.0.id());
    ex.settings = settings.as_deref().copied().unwrap_or_default();
}

/// Pipelines and the objects every pass shares.
#[derive(Resource)]
struct Pipelines {
    layout: BindGroupLayoutDescriptor,
    shaders: HashMap<Kind, Handle<Shader>>,
    sampler: bevy::render::render_resource::Sampler,
    /// 1×1 transparent texture bound to unused or missing inputs.
    empty: TextureView,
    /// 1×1 zero `Rgba32Uint` texture bound to unused pack bindings.
    empty_pack: TextureView,
    /// Byte distance between two passes' uniform blocks (dynamic-offset aligned).
    stride: u64,
}

fn init_pipelines(
    mut commands: Commands,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
    shaders: Res<ShaderHandles>,
) {
    let mut entries = vec![BindGroupLayoutEntry {
        binding: 0,
        visibility: ShaderStages::FRAGMENT,
        ty: BindingType::Buffer {
            ty: BufferBindingType::Uniform,
            has_dynamic_offset: true,
            min_binding_size: NonZeroU64::new(PARAM_BYTES),
        },
        count: None,
    }];
    for i in 0..MAX_PASS_INPUTS as u32 {
        entries.push(BindGroupLayoutEntry {
            binding: 1 + i,
            visibility: ShaderStages::FRAGMENT,
            ty: BindingType::Texture {
                sample_type: TextureSampleType::Float { filterable: true },
                view_dimension: TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        });
    }
    entries.push(BindGroupLayoutEntry {
        binding: SAMPLER_BINDING,
        visibility: ShaderStages::FRAGMENT,
        ty: BindingType::Sampler(SamplerBindingType::Filtering),
        count: None,
    });
    for k in 0..MAX_PACKS as u32 {
        entries.push(BindGroupLayoutEntry {
            binding: SAMPLER_BINDING + 1 + k,
            visibility: ShaderStages::FRAGMENT,
            ty: BindingType::Texture {
                sample_type: TextureSampleType::Uint,
                view_dimension: TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        });
    }
    let layout = BindGroupLayoutDescriptor::new("compositor_pass", &entries);
    let sampler = device.create_sampler(&SamplerDescriptor {
        label: Some("compositor_linear_clamp"),
        mag_filter: FilterMode::Linear,
        min_filter: FilterMode::Linear,
        ..default()
    });
    let empty = one_texel(&device, &queue, TextureFormat::Rgba8Unorm, &[0; 4]);
    let empty_pack = one_texel(&device, &queue, TextureFormat::Rgba32Uint, &[0; 16]);
    let align = u64::from(device.limits().min_uniform_buffer_offset_alignment).max(16);
    let stride = PARAM_BYTES.div_ceil(align) * align;
    commands.insert_resource(Pipelines {
        layout,
        shaders: shaders.0.clone(),
        sampler,
        empty,
        empty_pack,
        stride,
    });
}

/// A 1×1 sampled texture holding `texel`.
fn one_texel(
    device: &RenderDevice,
    queue: &RenderQueue,
    format: TextureFormat,
    texel: &[u8],
) -> TextureView {
    device
        .create_texture_with_data(
            queue,
            &TextureDescriptor {
                label: Some("compositor_empty"),
                size: Extent3d {
                    width: 1,
                    height: 1,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: TextureDimension::D2,
                format,
                usage: TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            },
            bevy::render::render_resource::TextureDataOrder::LayerMajor,
            texel,
        )
        .create_view(&TextureViewDescriptor::default())
}

/// GPU objects kept between frames.
#[derive(Resource, Default)]
struct SlotState {
    /// Canvas size the slots were made for.
    size: (u32, u32),
    slots: Vec<TextureView>,
    uniforms: Option<Buffer>,
    /// What the uniform buffer holds now, so unchanged blocks are not uploaded again.
    uploaded: Vec<u8>,
    bind_groups: HashMap<BindKey, BindGroup>,
    /// An `Rgba8Unorm` view of the output texture, so the final pass stores encoded bytes as is.
    output_view: Option<(TextureId, TextureView)>,
    /// Render targets of `FeedFrom::Rendered` Scope feeds.
    feeds: HashMap<NodeId, FeedTarget>,
    /// Packs of static inputs, kept while some pass reads them.
    packs: HashMap<PackKey, PackTexture>,
    /// Frames prepared so far, and the frame each recently changed image last changed in.
    frame: u64,
    changed_at: HashMap<AssetId<Image>, u64>,
    /// Plan problems already logged (one line per node and problem, not one per frame).
    warned: Warned,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct BindKey {
    buffer: BufferId,
    views: [TextureViewId; MAX_PASS_INPUTS],
    packs: [TextureViewId; MAX_PACKS],
}

/// What a pack holds: the canvas and, per word, the image texture and how it is sampled.
#[derive(Clone, PartialEq, Eq, Hash)]
struct PackKey {
    canvas: (u32, u32),
    inputs: Vec<(TextureId, [u32; 10])>,
}

struct PackTexture {
    view: TextureView,
    /// A pack pass has been recorded into it (until then every frame records one).
    written: bool,
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

/// A pipeline variant: the pass kind plus what its inputs need (see the constants at the top
/// of `shaders/common.wgsl`). Baking these in keeps never-taken branches out of the shader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct VariantKey {
    kind: Kind,
    n: u32,
    srgb: u32,
    straight: u32,
    crop: u32,
    load: u32,
    pack: u32,
    modes: [u32; MAX_PASS_INPUTS],
    /// Writes the program output (over black) instead of a slot.
    last: bool,
}

impl VariantKey {
    fn defs(&self) -> Vec<ShaderDefVal> {
        let mut defs = vec![
            ShaderDefVal::UInt("N_INPUTS".into(), self.n),
            ShaderDefVal::UInt("SRGB_MASK".into(), self.srgb),
            ShaderDefVal::UInt("STRAIGHT_MASK".into(), self.straight),
            ShaderDefVal::UInt("CROP_MASK".into(), self.crop),
            ShaderDefVal::UInt("LOAD_MASK".into(), self.load),
            ShaderDefVal::UInt("PACK_MASK".into(), self.pack),
            ShaderDefVal::UInt("FINAL".into(), u32::from(self.last)),
        ];
        for (i, m) in self.modes.iter().enumerate() {
            defs.push(ShaderDefVal::UInt(format!("MODE_{i}"), *m));
        }
        defs
    }
}

/// Render pipelines by variant, queued on first use.
#[derive(Resource, Default)]
struct Variants(HashMap<VariantKey, CachedRenderPipelineId>);

impl Variants {
    fn get(
        &mut self,
        key: VariantKey,
        pipes: &Pipelines,
        cache: &PipelineCache,
    ) -> CachedRenderPipelineId {
        *self.0.entry(key).or_insert_with(|| {
            // Every kind has a handle (see `ShaderHandles`); a missing one compiles nothing.
            let shader = pipes.shaders.get(&key.kind).cloned().unwrap_or_default();
            let defs = key.defs();
            let (entry, format) = match key.kind {
                Kind::Pack => ("fs_pack", TextureFormat::Rgba32Uint),
                _ => ("fs", TextureFormat::Rgba8Unorm),
            };
            cache.queue_render_pipeline(RenderPipelineDescriptor {
                label: Some(format!("compositor_{}", key.kind.shader().0).into()),
                layout: vec![pipes.layout.clone()],
                vertex: VertexState {
                    shader: shader.clone(),
                    shader_defs: defs.clone(),
                    entry_point: Some("vs".into()),
                    ..default()
                },
                fragment: Some(FragmentState {
                    shader,
                    shader_defs: defs,
                    entry_point: Some(entry.into()),
                    targets: vec![Some(ColorTargetState {
                        format,
                        blend: None,
                        write_mask: ColorWrites::ALL,
                    })],
                }),
                ..default()
            })
        })
    }
}

/// Where a job draws.
#[derive(Clone, Copy)]
enum Target {
    Slot(usize),
    Output,
    /// The `n`th rendered Scope feed of this frame.
    Feed(usize),
    /// The `n`th pack written this frame.
    Pack(usize),
}

/// One render pass to record.
struct Job {
    kind: Kind,
    /// Per-kind selector baked into the pipeline (blend modes, transition kind).
    modes: [u32; MAX_PASS_INPUTS],
    target: Target,
    inputs: Vec<Sample>,
    resolved: Vec<Resolved>,
    params: Params,
    /// Size of the target in pixels.
    canvas: (u32, u32),
    /// Packs bound to pack0.. and the inputs read from them (bit i: input i).
    packs: Vec<TextureView>,
    pack_mask: u32,
}

/// What one input of a pass binds and how the shader must treat it.
#[derive(Clone)]
struct Resolved {
    view: TextureView,
    size: (u32, u32),
    srgb: bool,
    straight: bool,
    /// Opacity the texture is sampled with (a source's own fade).
    gain: f32,
    /// The external image behind the view, if any (what packing caches by).
    image: Option<(AssetId<Image>, TextureId)>,
}

impl Job {
    fn new(
        kind: Kind,
        target: Target,
        inputs: Vec<Sample>,
        resolved: Vec<Resolved>,
        canvas: (u32, u32),
        clock: FrameClock,
    ) -> Job {
        let mut params = Params::new(canvas, clock.time, clock.frame, &inputs);
        for (i, r) in resolved.iter().enumerate() {
            params.set_gain(i, r.gain);
        }
        Job {
            kind,
            modes: [0; MAX_PASS_INPUTS],
            target,
            inputs,
            resolved,
            params,
            canvas,
            packs: Vec::new(),
            pack_mask: 0,
        }
    }

    fn key(&self) -> VariantKey {
        let canvas = self.canvas;
        let mut key = VariantKey {
            kind: self.kind,
            n: self.inputs.len().min(MAX_PASS_INPUTS) as u32,
            srgb: 0,
            straight: 0,
            crop: 0,
            load: 0,
            pack: self.pack_mask,
            modes: self.modes,
            last: matches!(self.target, Target::Output | Target::Feed(_)),
        };
        for (i, (s, r)) in self.inputs.iter().zip(&self.resolved).enumerate() {
            let bit = 1 << i;
            if r.straight {
                key.straight |= bit;
            }
            if self.pack_mask & bit != 0 {
                // Sampling, sRGB and crop happened when the pack was written.
                continue;
            }
            if r.srgb {
                key.srgb |= bit;
            }
            if needs_crop_test(s, canvas) {
                key.crop |= bit;
            }
            // A blur reads its input at shifted positions, past the edges too: it keeps the
            // sampler's clamp-to-edge.
            if self.kind != Kind::Feather && texel_identity(s, r.size) {
                key.load |= bit;
            }
        }
        key
    }
}

/// Whether some canvas pixel centre maps outside the sample's crop window (the map is affine,
/// so checking the four extreme pixel centres is enough).
fn needs_crop_test(s: &Sample, canvas: (u32, u32)) -> bool {
    let (w, h) = (canvas.0 as f32, canvas.1 as f32);
    let m = s.xform.m;
    let t = s.xform.t;
    let [u0, v0, u1, v1] = s.crop;
    [
        (0.5, 0.5),
        (w - 0.5, 0.5),
        (0.5, h - 0.5),
        (w - 0.5, h - 0.5),
    ]
    .iter()
    .any(|&(x, y)| {
        let u = m[0] * x + m[1] * y + t[0];
        let v = m[2] * x + m[3] * y + t[1];
        !(u >= u0 && u <= u1 && v >= v0 && v <= v1)
    })
}

/// Whether the sample maps canvas pixel (x, y) onto texel (x, y): the shader then fetches the
/// texel without a sampler (see `shaders/common.wgsl`).
fn texel_identity(s: &Sample, size: (u32, u32)) -> bool {
    let (sw, sh) = (size.0 as f32, size.1 as f32);
    let m = s.xform.m;
    let t = s.xform.t;
    (m[0] * sw - 1.0).abs() < 1e-5
        && (m[3] * sh - 1.0).abs() < 1e-5
        && m[1] == 0.0
        && m[2] == 0.0
        && (t[0] * sw).abs() < 1e-3
        && (t[1] * sh).abs() < 1e-3
}

/// Resolves what a plan's samples read, from the slots of one plan and the external images.
struct Inputs<'a> {
    slots: &'a [TextureView],
    canvas: (u32, u32),
    images: &'a RenderAssets<GpuImage>,
    externals: &'a HashMap<NodeId, AssetId<Image>>,
    opacity: &'a HashMap<NodeId, f32>,
    empty: &'a TextureView,
}

impl Inputs<'_> {
    fn empty(&self) -> Resolved {
        Resolved {
            view: self.empty.clone(),
            size: (1, 1),
            srgb: false,
            straight: false,
            gain: 1.0,
            image: None,
        }
    }

    fn resolve(&self, operand: &Operand) -> Resolved {
        match operand {
            Operand::Slot(s) => match self.slots.get(s.0 as usize) {
                Some(v) => Resolved {
                    view: v.clone(),
                    size: self.canvas,
                    srgb: false,
                    straight: false,
                    gain: 1.0,
                    image: None,
                },
                None => self.empty(),
            },
            Operand::External(id) => {
                let gpu = self
                    .externals
                    .get(id)
                    .and_then(|a| Some((*a, self.images.get(*a)?)))
                    .filter(|(_, g)| sampleable(g));
                match gpu {
                    Some((asset, g)) => Resolved {
                        view: g.texture_view.clone(),
                        size: (
                            g.texture_descriptor.size.width,
                            g.texture_descriptor.size.height,
                        ),
                        srgb: g.texture_descriptor.format.is_srgb(),
                        straight: true,
                        gain: self.opacity.get(id).copied().unwrap_or(1.0),
                        image: Some((asset, g.texture.id())),
                    },
                    None => self.empty(),
                }
            }
        }
    }
}

/// Whether an image can be bound as a filterable 2D float texture (anything else would fail
/// validation, so it reads as transparent instead).
fn sampleable(g: &GpuImage) -> bool {
    let d = &g.texture_descriptor;
    d.dimension == TextureDimension::D2
        && d.size.depth_or_array_layers == 1
        && d.sample_count == 1
        && d.usage.contains(TextureUsages::TEXTURE_BINDING)
        && d.format.sample_type(None, None) == Some(TextureSampleType::Float { filterable: true })
        && g.texture_view_descriptor
            .as_ref()
            .is_none_or(|v| v.dimension.is_none_or(|d| d == TextureViewDimension::D2))
}

/// Appends the jobs of one plan. Passes that cannot run (a slot out of range, or a pass reading
/// the slot it writes) are skipped with a warning.
fn plan_jobs(
    plan: &RenderPlan,
    slot_base: usize,
    inputs: &Inputs,
    clock: FrameClock,
    jobs: &mut Vec<Job>,
    warned: &mut Warned,
) {
    for pass in &plan.passes {
        let target = pass.target.0 as usize;
        let reads_target = pass
            .inputs
            .iter()
            .any(|s| s.from == Operand::Slot(pass.target));
        if target >= inputs.slots.len() || reads_target {
            if warned.first(format!("skip {}", pass.node)) {
                warn!(
                    "node {}: pass skipped (slot {} out of range or read while written)",
                    pass.node, pass.target.0
                );
            }
            continue;
        }
        let samples: Vec<Sample> = pass.inputs.iter().take(MAX_PASS_INPUTS).cloned().collect();
        let resolved = samples.iter().map(|s| inputs.resolve(&s.from)).collect();
        let mut job = Job::new(
            Kind::of(&pass.op),
            Target::Slot(slot_base + target),
            samples,
            resolved,
            plan.canvas,
            clock,
        );
        job.params.set_op(&pass.op);
        if let PassOp::Blend(layers) = &pass.op {
            for (m, (mode, _)) in job.modes.iter_mut().zip(layers) {
                *m = blend_mode_index(*mode);
            }
            // Layers beyond the inputs (or inputs beyond the layers) are not drawn.
            job.inputs.truncate(layers.len());
            job.resolved.truncate(layers.len());
        }
        jobs.push(job);
    }
}

/// Keys of the problems already logged. Bounded, so a show that keeps producing new problems
/// cannot grow it without end (past the bound, problems log again).
#[derive(Default)]
struct Warned(HashSet<String>);

impl Warned {
    const MAX: usize = 1024;

    /// Whether `key` is new (and so should be logged); remembers it.
    fn first(&mut self, key: String) -> bool {
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        self.0.insert(key)
    }
}

/// This frame's passes, ready to record.
#[derive(Resource, Default)]
struct FrameJobs {
    passes: Vec<ReadyPass>,
    output_view: Option<TextureView>,
    /// Output texture size, when this frame is to be read back.
    readback: Option<(u32, u32)>,
    /// Rendered Scope feeds, indexed by [`Target::Feed`]; all are read back.
    feeds: Vec<FrameFeed>,
    /// Packs written this frame, indexed by [`Target::Pack`].
    packs: Vec<(PackKey, TextureView)>,
}

struct FrameFeed {
    scope: NodeId,
    size: (u32, u32),
    texture: Texture,
    view: TextureView,
}

struct ReadyPass {
    pipeline: CachedRenderPipelineId,
    group: BindGroup,
    target: Target,
    offset: u32,
    label: &'static str,
}

/// Builds this frame's passes from the extracted plans: resolves inputs, picks pipeline
/// variants, uploads changed uniforms and reuses bind groups.
fn prepare(
    ex: Res<Extracted>,
    pipes: Option<Res<Pipelines>>,
    cache: Res<PipelineCache>,
    images: Res<RenderAssets<GpuImage>>,
    uploaded: Res<ExtractedAssets<GpuImage>>,
    device: Res<RenderDevice>,
    queue: Res<RenderQueue>,
    packed: Res<PackedInputs>,
    mut state: ResMut<SlotState>,
    mut variants: ResMut<Variants>,
    mut frame: ResMut<FrameJobs>,
) {
    frame.passes.clear();
    frame.output_view = None;
    frame.readback = None;
    frame.feeds.clear();
    frame.packs.clear();
    // Which images changed (a same-size upload keeps the texture, so its id does not tell):
    // `added` lists every image uploaded this frame, new or modified.
    state.frame += 1;
    let now = state.frame;
    for id in &uploaded.added {
        state.changed_at.insert(*id, now);
    }
    state.changed_at.retain(|_, at| now - *at < STABLE_FRAMES);
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
    let output_view = match &state.output_view {
        Some((id, view)) if *id == out.texture.id() => view.clone(),
        _ => {
            if !out
                .texture_descriptor
                .view_formats
                .contains(&TextureFormat::Rgba8Unorm)
            {
                return;
            }
            let view = out.texture.create_view(&TextureViewDescriptor {
                label: Some("compositor_output_unorm"),
                format: Some(TextureFormat::Rgba8Unorm),
                ..default()
            });
            state.output_view = Some((out.texture.id(), view.clone()));
            view
        }
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
        if state
            .warned
            .first(format!("slots {plan_slots} {from_slots}"))
        {
            warn!(
                "a plan needs {plan_slots} (+{from_slots}) slot textures, more than {MAX_SLOTS}; not drawn"
            );
        }
        return;
    }
    ensure_slots(&device, &mut state, canvas, from_slots + plan_slots);
    let feeds = plan.map_or(Vec::new(), |p| rendered_feeds(&device, &mut state, p));

    // Jobs: the `from` plan in slots [0, from_slots), the current plan after it, then the final
    // pass reading both outputs (input 0 = current, input 1 = from).
    let mut jobs = Vec::new();
    let mut warned = std::mem::take(&mut state.warned);
    let mut program_inputs = Vec::new();
    let mut program_resolved = Vec::new();
    let current = Inputs {
        slots: &state.slots[from_slots..from_slots + plan_slots],
        canvas,
        images: &images,
        externals: &ex.externals,
        opacity: &ex.opacity,
        empty: &pipes.empty,
    };
    match plan {
        Some(p) => {
            program_inputs.push(p.output.clone());
            program_resolved.push(current.resolve(&p.output.from));
        }
        None => {
            // Nothing to show: one input that is empty everywhere (black output).
            program_inputs.push(Sample {
                from: Operand::Slot(show::plan::SlotId(u32::MAX)),
                xform: show::plan::Affine::canvas(canvas),
                crop: [1.0, 1.0, -1.0, -1.0],
            });
            program_resolved.push(current.empty());
        }
    }
    if let Some(t) = transition {
        let inputs = Inputs {
            slots: &state.slots[..from_slots],
            ..current
        };
        plan_jobs(&t.from, 0, &inputs, ex.clock, &mut jobs, &mut warned);
        program_inputs.push(t.from.output.clone());
        program_resolved.push(inputs.resolve(&t.from.output.from));
    }
    if let Some(p) = plan {
        plan_jobs(p, from_slots, &current, ex.clock, &mut jobs, &mut warned);
    }
    // Fewest passes: without a transition, when the plan's last pass writes the output slot
    // and the output maps it 1:1, that pass writes the program output itself (unless a feed
    // reads that slot too).
    let fused = match (plan, transition, jobs.last_mut()) {
        (Some(p), None, Some(last)) => {
            let fusable = matches!(p.output.from, Operand::Slot(s)
                    if matches!(last.target, Target::Slot(t) if t == from_slots + s.0 as usize))
                && !needs_crop_test(&p.output, canvas)
                && texel_identity(&p.output, canvas)
                && !p
                    .feeds
                    .iter()
                    .any(|f| matches!(&f.from, FeedFrom::Rendered(s) if s.from == p.output.from));
            if fusable {
                last.target = Target::Output;
            }
            fusable
        }
        _ => false,
    };
    // Each rendered feed: its sample over black at the feed's size. The sample maps canvas
    // pixels, so feed pixels are scaled to canvas pixels first.
    for (k, (feed, sample)) in feeds.iter().enumerate() {
        let sx = canvas.0 as f32 / feed.size.0 as f32;
        let sy = canvas.1 as f32 / feed.size.1 as f32;
        let m = sample.xform.m;
        let scaled = Sample {
            from: sample.from.clone(),
            xform: show::plan::Affine {
                m: [m[0] * sx, m[1] * sy, m[2] * sx, m[3] * sy],
                t: sample.xform.t,
            },
            crop: sample.crop,
        };
        let resolved = current.resolve(&sample.from);
        jobs.push(Job::new(
            Kind::Copy,
            Target::Feed(k),
            vec![scaled],
            vec![resolved],
            feed.size,
            ex.clock,
        ));
    }
    if !fused {
        let mut job = Job::new(
            Kind::Program,
            Target::Output,
            program_inputs,
            program_resolved,
            canvas,
            ex.clock,
        );
        job.params
            .set_program(transition.map(|t| (&t.kind, t.progress)));
        job.modes[0] = job.params.program_kind();
        jobs.push(job);
    }
    state.warned = warned;
    let packs = if ex.settings.pack_static_images {
        pack_static_inputs(&device, &mut state, &mut jobs, ex.clock)
    } else {
        state.packs.clear();
        Vec::new()
    };
    let count = jobs.iter().map(|j| j.pack_mask.count_ones() as usize).sum();
    packed.0.store(count, Ordering::Relaxed);

    let Some(buffer) = upload_uniforms(&device, &queue, &mut state, &jobs, pipes.stride) else {
        return;
    };
    let layout = cache.get_bind_group_layout(&pipes.layout);
    if state.bind_groups.len() > 256 {
        state.bind_groups.clear();
    }
    for (i, job) in jobs.iter().enumerate() {
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
        let group = state
            .bind_groups
            .entry(key)
            .or_insert_with(|| {
                let mut entries = vec![BindGroupEntry {
                    binding: 0,
                    resource: BindingResource::Buffer(BufferBinding {
                        buffer: &buffer,
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
        frame.passes.push(ReadyPass {
            pipeline: variants.get(job.key(), &pipes, &cache),
            group,
            target: job.target,
            offset: (i as u64 * pipes.stride) as u32,
            label: job.kind.shader().0,
        });
    }
    frame.output_view = Some(output_view);
    frame.readback = ex.readback.then_some(out_size);
    frame.feeds = feeds.into_iter().map(|(f, _)| f).collect();
    frame.packs = packs;
}

/// Reads the static images of each blend from packs, four to a texel fetch: finds the inputs
/// that are external images unchanged for [`STABLE_FRAMES`], groups them by four, reuses or
/// makes the pack holding each group, and inserts a pack pass before the blend for a pack
/// not yet written. Packs no pass reads this frame are dropped, so an image that changes is
/// read directly until it is stable again and then packed afresh. Returns the packs written
/// this frame, indexed by [`Target::Pack`].
fn pack_static_inputs(
    device: &RenderDevice,
    state: &mut SlotState,
    jobs: &mut Vec<Job>,
    clock: FrameClock,
) -> Vec<(PackKey, TextureView)> {
    let now = state.frame;
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
                let at = state.changed_at.get(&asset);
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
            if !state.packs.contains_key(&key) {
                let held: u64 = state.packs.keys().map(|k| pack_bytes(k.canvas)).sum();
                if held + pack_bytes(job.canvas) > MAX_PACK_BYTES {
                    continue;
                }
                state
                    .packs
                    .insert(key.clone(), new_pack(device, job.canvas));
            }
            let Some(pack) = state.packs.get(&key) else {
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
    state.packs.retain(|k, _| used.contains(k));
    written
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

/// A canvas-sized `Rgba32Uint` pack texture, not yet written.
fn new_pack(device: &RenderDevice, canvas: (u32, u32)) -> PackTexture {
    PackTexture {
        view: canvas_target(device, "compositor_pack", canvas, TextureFormat::Rgba32Uint),
        written: false,
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

/// The current plan's `FeedFrom::Rendered` feeds with their render targets (made or resized
/// as needed; targets of feeds no longer in the plan are dropped).
fn rendered_feeds(
    device: &RenderDevice,
    state: &mut SlotState,
    plan: &RenderPlan,
) -> Vec<(FrameFeed, Sample)> {
    let mut out = Vec::new();
    for feed in &plan.feeds {
        let FeedFrom::Rendered(sample) = &feed.from else {
            continue;
        };
        let size = (feed.size.0.clamp(1, 8192), feed.size.1.clamp(1, 8192));
        let target = state
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
    state
        .feeds
        .retain(|id, _| out.iter().any(|(f, _)| f.scope == *id));
    out
}

/// Records the prepared passes (and the readback copy) before any camera draws.
fn compose(
    mut ctx: RenderContext,
    frame: Res<FrameJobs>,
    ex: Res<Extracted>,
    cache: Res<PipelineCache>,
    images: Res<RenderAssets<GpuImage>>,
    mut state: ResMut<SlotState>,
    mut readbacks: ResMut<Readbacks>,
    drops: Res<ReadbackDrops>,
) {
    let Some(output_view) = &frame.output_view else {
        return;
    };
    let mut pipelines = Vec::with_capacity(frame.passes.len());
    for pass in &frame.passes {
        match cache.get_render_pipeline(pass.pipeline) {
            Some(p) => pipelines.push(p),
            // Still compiling (windowed apps compile in the background): keep the last frame.
            None => return,
        }
    }
    let slots = state.slots.clone();
    let device = ctx.render_device().clone();
    // GPU time of all compositor passes, when `RenderDiagnosticsPlugin` is added (see
    // [`super::GPU_TIME_DIAGNOSTIC`]).
    let recorder = ctx.diagnostic_recorder();
    let diagnostics = recorder.as_deref();
    let encoder = ctx.command_encoder();
    let span = diagnostics.time_span(encoder, "compositor");
    for (pass, pipeline) in frame.passes.iter().zip(pipelines) {
        let view = match pass.target {
            Target::Slot(s) => &slots[s],
            Target::Output => output_view,
            Target::Feed(k) => match frame.feeds.get(k) {
                Some(f) => &f.view,
                None => continue,
            },
            Target::Pack(k) => match frame.packs.get(k) {
                Some((_, v)) => v,
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
    for (key, _) in &frame.packs {
        if let Some(p) = state.packs.get_mut(key) {
            p.written = true;
        }
    }

    // Read-backs: the rendered feeds, then the program output when asked for.
    let mut live = HashSet::new();
    for f in &frame.feeds {
        let tap = Some(f.scope.clone());
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
    if let Some(size) = frame.readback
        && let Some(out) = ex.output.and_then(|id| images.get(id))
    {
        readbacks.copy(
            &device,
            encoder,
            None,
            &out.texture,
            size,
            ex.clock.frame,
            &drops.0,
        );
        live.insert(None);
    }
    readbacks.keep_taps(&live);
}

/// Makes sure `count` canvas-sized slots exist; reallocates only when the canvas size changes
/// or more slots are needed than ever before.
fn ensure_slots(device: &RenderDevice, state: &mut SlotState, canvas: (u32, u32), count: usize) {
    if state.size != canvas {
        state.slots.clear();
        state.bind_groups.clear();
        state.size = canvas;
    }
    while state.slots.len() < count {
        state.slots.push(canvas_target(
            device,
            "compositor_slot",
            canvas,
            TextureFormat::Rgba8Unorm,
        ));
    }
}

/// Writes the jobs' uniform blocks, uploading only blocks whose bytes changed. Returns the
/// buffer to bind.
fn upload_uniforms(
    device: &RenderDevice,
    queue: &RenderQueue,
    state: &mut SlotState,
    jobs: &[Job],
    stride: u64,
) -> Option<Buffer> {
    let needed = stride * jobs.len() as u64;
    let fits = state.uniforms.as_ref().is_some_and(|b| b.size() >= needed);
    if !fits {
        let size = needed.max(stride * 16).next_power_of_two();
        state.uniforms = Some(device.create_buffer(&BufferDescriptor {
            label: Some("compositor_params"),
            size,
            usage: BufferUsages::UNIFORM | BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }));
        state.uploaded.clear();
        state.bind_groups.clear();
    }
    let buffer = state.uniforms.clone()?;
    let mut block = Vec::with_capacity(PARAM_BYTES as usize);
    for (i, job) in jobs.iter().enumerate() {
        block.clear();
        job.params.write_bytes(&mut block);
        let start = i * stride as usize;
        let end = start + block.len();
        if state.uploaded.get(start..end) == Some(&block[..]) {
            continue;
        }
        queue.write_buffer(&buffer, start as u64, &block);
        if state.uploaded.len() < end {
            state.uploaded.resize(end, 0);
        }
        state.uploaded[start..end].copy_from_slice(&block);
    }
    Some(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No two kinds share a shader file, every file exists, and each kind's module is built
    /// from its own file (the table is keyed by kind, not by position).
    #[test]
    fn every_kind_has_its_own_shader_file() {
        let names: HashSet<&str> = Kind::ALL.iter().map(|k| k.shader().0).collect();
        assert_eq!(names.len(), Kind::ALL.len(), "two kinds share a shader");
        for kind in Kind::ALL {
            let (name, source) = kind.shader();
            let path = format!("{}/shaders/{name}.wgsl", env!("CARGO_MANIFEST_DIR"));
            let on_disk = std::fs::read_to_string(&path).expect("shader file");
            assert_eq!(on_disk, source, "{path}");
            assert!(kind.module_source().ends_with(source), "{name}");
        }
    }

    /// Each node's problem is logged once, and a second node's problem still is.
    #[test]
    fn plan_problems_warn_once_per_node() {
        let mut w = Warned::default();
        assert!(w.first("skip a".into()));
        assert!(!w.first("skip a".into()), "the same problem again");
        assert!(w.first("skip b".into()), "another node's problem");
    }

    /// Every shader module parses and validates (catches WGSL mistakes without a GPU).
    #[test]
    fn shaders_validate() {
        for kind in Kind::ALL {
            let mut src = kind.module_source();
            for def in [
                "N_INPUTS",
                "SRGB_MASK",
                "STRAIGHT_MASK",
                "CROP_MASK",
                "LOAD_MASK",
                "PACK_MASK",
                "FINAL",
            ] {
                src = src.replace(&format!("#{{{def}}}"), "3");
            }
            for i in 0..MAX_PASS_INPUTS {
                src = src.replace(&format!("#{{MODE_{i}}}"), "1");
            }
            let module = naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("{}: {}", kind.shader().0, e.emit_to_string(&src)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::default(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {e:?}", kind.shader().0));
        }
    }
}
