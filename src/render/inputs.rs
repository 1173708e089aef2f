//! What a pass reads: each sample's texture resolved from the plan's slots or the external
//! images, and the two shortcuts a sample's map may allow (no crop test, a plain texel fetch).
//! No GPU work happens here.

use std::collections::HashMap;

use bevy::prelude::*;
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::{
    TextureDimension, TextureId, TextureSampleType, TextureUsages, TextureView,
    TextureViewDimension,
};
use bevy::render::texture::GpuImage;
use show::NodeId;
use show::plan::{Operand, Sample};

/// What one input of a pass binds and how the shader must treat it.
#[derive(Clone)]
pub(super) struct Resolved {
    pub(super) view: TextureView,
    pub(super) size: (u32, u32),
    pub(super) srgb: bool,
    pub(super) straight: bool,
    /// Opacity the texture is sampled with (a source's own fade).
    pub(super) gain: f32,
    /// The external image behind the view, if any (what packing caches by).
    pub(super) image: Option<(AssetId<Image>, TextureId)>,
}

/// Resolves what a plan's samples read, from the slots of one plan and the external images.
#[derive(Clone, Copy)]
pub(super) struct Inputs<'a> {
    pub(super) slots: &'a [TextureView],
    pub(super) canvas: (u32, u32),
    pub(super) images: &'a RenderAssets<GpuImage>,
    pub(super) externals: &'a HashMap<NodeId, AssetId<Image>>,
    pub(super) opacity: &'a HashMap<NodeId, f32>,
    pub(super) empty: &'a TextureView,
}

impl Inputs<'_> {
    /// The transparent placeholder, for inputs that read nothing.
    pub(super) fn empty(&self) -> Resolved {
        Resolved {
            view: self.empty.clone(),
            size: (1, 1),
            srgb: false,
            straight: false,
            gain: 1.0,
            image: None,
        }
    }

    /// A slot of this plan, or an external image that is uploaded and sampleable; anything
    /// else reads as transparent.
    pub(super) fn resolve(&self, operand: &Operand) -> Resolved {
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

/// Whether some canvas pixel centre maps outside the sample's crop window (the map is affine,
/// so checking the four extreme pixel centres is enough).
pub(super) fn needs_crop_test(s: &Sample, canvas: (u32, u32)) -> bool {
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
pub(super) fn texel_identity(s: &Sample, size: (u32, u32)) -> bool {
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

#[cfg(test)]
mod tests {
    use show::plan::{Affine, SlotId};

    use super::*;

    const CANVAS: (u32, u32) = (64, 32);

    fn sample(xform: Affine, crop: [f32; 4]) -> Sample {
        Sample {
            from: Operand::Slot(SlotId(0)),
            xform,
            crop,
        }
    }

    /// A full-canvas sample needs neither a crop test nor a sampler; a crop window inside the
    /// canvas needs the test, and a shifted or scaled map is no texel identity.
    #[test]
    fn crop_and_identity_detection() {
        let full = sample(Affine::canvas(CANVAS), [0.0, 0.0, 1.0, 1.0]);
        assert!(!needs_crop_test(&full, CANVAS));
        assert!(texel_identity(&full, CANVAS));
        let cropped = sample(Affine::canvas(CANVAS), [0.25, 0.0, 1.0, 1.0]);
        assert!(needs_crop_test(&cropped, CANVAS));
        let mut shifted = Affine::canvas(CANVAS);
        shifted.t[0] += 0.5;
        assert!(!texel_identity(
            &sample(shifted, [0.0, 0.0, 1.0, 1.0]),
            CANVAS
        ));
        assert!(!texel_identity(&full, (128, 64)), "another texture size");
    }
}
