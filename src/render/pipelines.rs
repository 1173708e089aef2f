//! Pipelines and their variants: the bind group layout, sampler and placeholder textures every
//! pass shares ([`CompositorPipelines`], made once at render startup), and one render pipeline
//! per [`VariantKey`], queued on first use ([`PipelineVariants`]).

use std::collections::HashMap;
use std::num::NonZeroU64;

use bevy::prelude::*;
use bevy::render::render_resource::{
    BindGroupLayoutDescriptor, BindGroupLayoutEntry, BindingType, BufferBindingType,
    CachedRenderPipelineId, ColorTargetState, ColorWrites, Extent3d, FilterMode, FragmentState,
    PipelineCache, RenderPipelineDescriptor, Sampler, SamplerBindingType, SamplerDescriptor,
    ShaderStages, TextureDataOrder, TextureDescriptor, TextureDimension, TextureFormat,
    TextureSampleType, TextureUsages, TextureView, TextureViewDescriptor, TextureViewDimension,
    VertexState,
};
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::shader::{Shader, ShaderDefVal};
use show::plan::MAX_PASS_INPUTS;

use super::params::PARAM_BYTES;
use super::pass_kind::{COMMON, FULLSCREEN, Kind};

/// Binding of the linear sampler (see `shaders/common.wgsl`).
pub(super) const SAMPLER_BINDING: u32 = 1 + MAX_PASS_INPUTS as u32;

/// Pack textures a pass can read (four inputs each), bound after the sampler.
pub(super) const MAX_PACKS: usize = MAX_PASS_INPUTS / 4;

/// Each kind's shader, made in the main world and handed to the render world. Keyed by kind,
/// so no ordering of [`Kind::ALL`] can bind one kind's pipeline to another's shader.
#[derive(Resource, Clone)]
pub(super) struct ShaderHandles {
    kinds: HashMap<Kind, Handle<Shader>>,
    vertex: Handle<Shader>,
    /// Held so the pipeline cache can resolve `#import metadj::common`.
    _common: Handle<Shader>,
}

impl ShaderHandles {
    /// Adds every kind's shader, the shared module and the vertex stage to `shaders`.
    pub(super) fn add(shaders: &mut Assets<Shader>) -> ShaderHandles {
        let kinds = Kind::ALL
            .iter()
            .map(|&k| {
                let (name, source) = k.shader();
                (
                    k,
                    shaders.add(Shader::from_wgsl(source, format!("shaders/{name}.wgsl"))),
                )
            })
            .collect();
        ShaderHandles {
            kinds,
            vertex: shaders.add(Shader::from_wgsl(FULLSCREEN, "shaders/fullscreen.wgsl")),
            _common: shaders.add(Shader::from_wgsl(COMMON, "shaders/common.wgsl")),
        }
    }
}

/// Pipelines and the objects every pass shares.
#[derive(Resource)]
pub(super) struct CompositorPipelines {
    pub(super) layout: BindGroupLayoutDescriptor,
    shaders: ShaderHandles,
    pub(super) sampler: Sampler,
    /// 1×1 transparent texture bound to unused or missing inputs.
    pub(super) empty: TextureView,
    /// 1×1 zero `Rgba32Uint` texture bound to unused pack bindings.
    pub(super) empty_pack: TextureView,
    /// Byte distance between two passes' uniform blocks (dynamic-offset aligned).
    pub(super) stride: u64,
}

/// Makes [`CompositorPipelines`] once the render device exists.
pub(super) fn init_compositor_pipelines(
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
    commands.insert_resource(CompositorPipelines {
        layout,
        shaders: shaders.clone(),
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
            TextureDataOrder::LayerMajor,
            texel,
        )
        .create_view(&TextureViewDescriptor::default())
}

/// A pipeline variant: the pass kind plus what its inputs need (see the constants at the top
/// of `shaders/common.wgsl`). Baking these in keeps never-taken branches out of the shader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct VariantKey {
    pub(super) kind: Kind,
    pub(super) n: u32,
    pub(super) srgb: u32,
    pub(super) straight: u32,
    pub(super) crop: u32,
    pub(super) load: u32,
    pub(super) pack: u32,
    pub(super) modes: [u32; MAX_PASS_INPUTS],
    /// Writes the program output (over black) instead of a slot.
    pub(super) last: bool,
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
pub(super) struct PipelineVariants(HashMap<VariantKey, CachedRenderPipelineId>);

impl PipelineVariants {
    /// The variants queued so far.
    #[cfg(test)]
    pub(super) fn keys(&self) -> std::collections::HashSet<VariantKey> {
        self.0.keys().copied().collect()
    }

    pub(super) fn get(
        &mut self,
        key: VariantKey,
        pipes: &CompositorPipelines,
        cache: &PipelineCache,
    ) -> CachedRenderPipelineId {
        *self.0.entry(key).or_insert_with(|| {
            // Every kind has a handle (see `ShaderHandles`); a missing one compiles nothing.
            let shader = pipes
                .shaders
                .kinds
                .get(&key.kind)
                .cloned()
                .unwrap_or_default();
            let defs = key.defs();
            let (entry, format) = match key.kind {
                Kind::Pack => ("fs_pack", TextureFormat::Rgba32Uint),
                _ => ("fs", TextureFormat::Rgba8Unorm),
            };
            cache.queue_render_pipeline(RenderPipelineDescriptor {
                label: Some(format!("compositor_{}", key.kind.shader().0).into()),
                layout: vec![pipes.layout.clone()],
                vertex: VertexState {
                    shader: pipes.shaders.vertex.clone(),
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
