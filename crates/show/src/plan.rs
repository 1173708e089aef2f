//! Render plans: what the GPU executes for one scene.
//!
//! A plan is a flat list of passes in dependency order. Each pass writes one canvas-sized slot
//! texture and reads slots written earlier or *external* textures (images, camera and Scope
//! frames, which have their own sizes). Reading goes through a [`Sample`]: an affine map from
//! canvas pixels to the source's UV plus a crop window, so fit modes and transforms cost no pass
//! of their own. Slots are reused once nothing reads them any more.

use crate::color::Rgba;
use crate::id::NodeId;
use crate::node::{
    BlendMode, ChromaKey, ColorAdjust, GarbageMatte, Gradient, LumaKey, MatteSource, TestPattern,
};

/// The most textures one pass may read: WebGPU's default limit of sampled textures per shader
/// stage, so every adapter has it. Larger blends are split into several passes.
pub const MAX_PASS_INPUTS: usize = 16;

/// The most slot textures one plan may use: each is a canvas-sized texture (a 1080p slot is
/// 8 MB), and during a transition the compositor holds two plans' slots at once. A plan
/// needing more is refused when the show loads, with the reason.
pub const MAX_SLOTS: u32 = 32;

/// Index of a canvas-sized intermediate texture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(pub u32);

/// What a pass samples.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A slot written by an earlier pass (canvas-sized).
    Slot(SlotId),
    /// A source node's own texture (image file, camera, Scope output), at its own size.
    External(NodeId),
}

/// Maps a canvas pixel centre `p = (x, y)` to source UV: `uv = m * p + t`, i.e.
/// `u = m[0]*x + m[1]*y + t[0]`, `v = m[2]*x + m[3]*y + t[1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub m: [f32; 4],
    pub t: [f32; 2],
}

impl Affine {
    /// Canvas pixels to UV for a canvas-sized slot: the plain 1:1 mapping.
    pub fn canvas(canvas: (u32, u32)) -> Affine {
        Affine {
            m: [1.0 / canvas.0 as f32, 0.0, 0.0, 1.0 / canvas.1 as f32],
            t: [0.0, 0.0],
        }
    }
}

/// One texture read: where from, mapped how, and which UV window counts (outside it is
/// transparent).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub from: Operand,
    pub xform: Affine,
    /// UV rectangle `[u0, v0, u1, v1]` that is visible; outside samples are transparent.
    pub crop: [f32; 4],
}

/// What a pass computes.
#[derive(Debug, Clone, PartialEq)]
pub enum PassOp {
    // Generators: no inputs.
    Solid(Rgba),
    Gradient(Gradient),
    /// `time` and `frame` come from the frame uniforms.
    TestPattern(TestPattern),
    GarbageMatte(GarbageMatte),
    /// Copies (and so fits/transforms) its one input.
    Copy,
    /// Stacks inputs bottom to top; `layers[i]` goes with `inputs[i]`. Layer 0 is composited
    /// over transparent.
    Blend(Vec<(BlendMode, f32)>),
    ChromaKey(ChromaKey),
    LumaKey {
        low: f32,
        high: f32,
        smoothness: f32,
        invert: bool,
    },
    Matte(MatteSource),
    Invert,
    /// One direction of a separable Gaussian blur of a matte. `radius` in canvas pixels.
    BlurH {
        radius: f32,
    },
    BlurV {
        radius: f32,
    },
    /// `inputs[0]` (image) times `inputs[1]` (matte).
    Mask,
    /// A `segment` node's small mask (`inputs[0]`, an external texture with the probability in
    /// red) upsampled to a matte with a smooth edge: `smoothstep(threshold ± softness)`.
    Segment {
        threshold: f32,
        softness: f32,
    },
    ColorAdjust(ColorAdjust),
}

impl From<LumaKey> for PassOp {
    fn from(k: LumaKey) -> Self {
        PassOp::LumaKey {
            low: k.low,
            high: k.high,
            smoothness: k.smoothness,
            invert: k.invert,
        }
    }
}

/// One render pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// The node this pass belongs to (for errors, stats and previews).
    pub node: NodeId,
    pub op: PassOp,
    pub inputs: Vec<Sample>,
    pub target: SlotId,
}

/// External textures a plan reads, so the compositor knows what to load or connect.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalSource {
    pub node: NodeId,
    /// The source's size in pixels as the plan assumed it (for fit maths). The compositor
    /// recompiles the plan when a live source changes size.
    pub size: (u32, u32),
}

/// A compiled scene.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderPlan {
    pub canvas: (u32, u32),
    pub passes: Vec<Pass>,
    /// How many slot textures the passes use (slots are reused).
    pub slot_count: u32,
    /// The program picture.
    pub output: Sample,
    pub externals: Vec<ExternalSource>,
    /// Frames to send to Scope and segment nodes (compiled from their input edges).
    pub feeds: Vec<ScopeFeed>,
}

/// Where a Scope node's outgoing frames come from.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedFrom {
    /// Straight from a camera node's CPU frame: no GPU readback.
    Camera(NodeId),
    /// The input is rendered on the GPU at the pipeline's size and read back.
    Rendered(Sample),
}

/// What one Scope node sends to its server (or one segment node to its model) this frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeFeed {
    /// The Scope or segment node.
    pub scope: NodeId,
    pub from: FeedFrom,
    /// Pixel size the server expects (the pipeline's load size; a segment model's input size).
    pub size: (u32, u32),
}

/// Where a tapped node's picture can be read once every pass of the plan has run: its sample
/// (canvas-mapped, like [`RenderPlan::output`]), whose slot no pass writes after the node.
#[derive(Debug, Clone, PartialEq)]
pub struct Tap {
    pub node: NodeId,
    pub sample: Sample,
}

/// A scene compiled with taps, for previews of chosen nodes. A wrapper rather than a field of
/// [`RenderPlan`], so plans built by hand elsewhere keep compiling unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct TappedPlan {
    pub plan: RenderPlan,
    /// One per tapped node that exists and has a picture, in the order asked for.
    pub taps: Vec<Tap>,
}

impl TappedPlan {
    /// The tap of `node`, if it has one.
    pub fn tap(&self, node: &NodeId) -> Option<&Tap> {
        self.taps.iter().find(|t| t.node == *node)
    }
}

impl Sample {
    /// The same read for a canvas of `to` pixels instead of `from`: target pixels are scaled
    /// to the old canvas's first.
    pub fn rescaled(&self, from: (u32, u32), to: (u32, u32)) -> Sample {
        let sx = from.0 as f32 / to.0.max(1) as f32;
        let sy = from.1 as f32 / to.1.max(1) as f32;
        let m = self.xform.m;
        Sample {
            from: self.from.clone(),
            xform: Affine {
                m: [m[0] * sx, m[1] * sy, m[2] * sx, m[3] * sy],
                t: self.xform.t,
            },
            crop: self.crop,
        }
    }
}

impl RenderPlan {
    /// The same picture drawn on a canvas of `canvas` pixels (e.g. thumbnail-sized, so a
    /// preview costs a thumbnail's pixels, not the show's): every map is rescaled and blur
    /// radii, the only lengths in canvas pixels, with them. Generators work in normalised
    /// canvas coordinates already.
    pub fn rescaled(&self, canvas: (u32, u32)) -> RenderPlan {
        let canvas = (canvas.0.max(1), canvas.1.max(1));
        let from = self.canvas;
        let s = |x: &Sample| x.rescaled(from, canvas);
        let (kx, ky) = (
            canvas.0 as f32 / from.0.max(1) as f32,
            canvas.1 as f32 / from.1.max(1) as f32,
        );
        RenderPlan {
            canvas,
            passes: self
                .passes
                .iter()
                .map(|p| Pass {
                    node: p.node.clone(),
                    op: match &p.op {
                        PassOp::BlurH { radius } => PassOp::BlurH {
                            radius: radius * kx,
                        },
                        PassOp::BlurV { radius } => PassOp::BlurV {
                            radius: radius * ky,
                        },
                        op => op.clone(),
                    },
                    inputs: p.inputs.iter().map(s).collect(),
                    target: p.target,
                })
                .collect(),
            slot_count: self.slot_count,
            output: s(&self.output),
            externals: self.externals.clone(),
            feeds: self
                .feeds
                .iter()
                .map(|f| ScopeFeed {
                    from: match &f.from {
                        FeedFrom::Rendered(x) => FeedFrom::Rendered(s(x)),
                        camera => camera.clone(),
                    },
                    ..f.clone()
                })
                .collect(),
        }
    }
}

impl TappedPlan {
    /// [`RenderPlan::rescaled`], taps included.
    pub fn rescaled(&self, canvas: (u32, u32)) -> TappedPlan {
        let plan = self.plan.rescaled(canvas);
        let taps = self
            .taps
            .iter()
            .map(|t| Tap {
                node: t.node.clone(),
                sample: t.sample.rescaled(self.plan.canvas, plan.canvas),
            })
            .collect();
        TappedPlan { plan, taps }
    }
}
