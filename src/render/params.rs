//! Packing of one pass's uniforms: the `Params` struct of `shaders/common.wgsl`.
//!
//! Pure CPU code so the layout and the operation parameters can be unit-tested without a GPU.

use show::node::{BlendMode, GradientShape, MatteShape, MatteSource};
use show::plan::{MAX_PASS_INPUTS, PassOp, Sample};
use show::scene::TransitionKind;

/// `vec4` rows in `Params`: canvas, info, then four arrays of [`MAX_PASS_INPUTS`].
pub const PARAM_ROWS: usize = 2 + 4 * MAX_PASS_INPUTS;
/// Size of `Params` in bytes (what the shader binds).
pub const PARAM_BYTES: u64 = (PARAM_ROWS * 16) as u64;

const XF: usize = 2;
const TR: usize = XF + MAX_PASS_INPUTS;
const CROP: usize = TR + MAX_PASS_INPUTS;
const P: usize = CROP + MAX_PASS_INPUTS;

/// One pass's uniform values, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Params(pub [[f32; 4]; PARAM_ROWS]);

impl Params {
    /// Fills the rows every pass shares: canvas, clock and the inputs' sampling.
    pub fn new(canvas: (u32, u32), time: f32, frame: u64, inputs: &[Sample]) -> Self {
        let mut rows = [[0.0f32; 4]; PARAM_ROWS];
        let (w, h) = (canvas.0.max(1) as f32, canvas.1.max(1) as f32);
        rows[0] = [w, h, 1.0 / w, 1.0 / h];
        let n = inputs.len().min(MAX_PASS_INPUTS);
        rows[1] = [time, (frame % 10_000_000) as f32, n as f32, 0.0];
        for (i, s) in inputs.iter().take(MAX_PASS_INPUTS).enumerate() {
            rows[XF + i] = s.xform.m;
            rows[TR + i] = [s.xform.t[0], s.xform.t[1], 1.0, 0.0];
            rows[CROP + i] = s.crop;
        }
        // Unused inputs see an empty crop window, so they read as transparent.
        for i in n..MAX_PASS_INPUTS {
            rows[CROP + i] = [1.0, 1.0, -1.0, -1.0];
        }
        Params(rows)
    }

    /// Sets operation parameter row `i` (`p[i]` in the shaders).
    pub fn set(&mut self, i: usize, row: [f32; 4]) {
        if let Some(r) = self.0.get_mut(P + i) {
            *r = row;
        }
    }

    /// Sets input `i`'s gain: the opacity a straight-alpha input is sampled with.
    pub fn set_gain(&mut self, i: usize, gain: f32) {
        if let Some(r) = self.0.get_mut(TR + i) {
            r[2] = gain;
        }
    }

    /// Writes the operation rows for `op`, as documented at the top of its shader.
    pub fn set_op(&mut self, op: &PassOp) {
        match op {
            PassOp::Solid(c) => self.set(0, c.to_array()),
            PassOp::Gradient(g) => {
                self.set(0, g.from.to_array());
                self.set(1, g.to.to_array());
                self.set(2, [g.start.0, g.start.1, g.end.0, g.end.1]);
                let shape = match g.shape {
                    GradientShape::Linear => 0.0,
                    GradientShape::Radial => 1.0,
                };
                self.set(3, [shape, 0.0, 0.0, 0.0]);
            }
            PassOp::TestPattern(t) => self.set(0, [t.speed, 0.0, 0.0, 0.0]),
            PassOp::GarbageMatte(g) => {
                self.set(0, [g.center.0, g.center.1, g.size.0, g.size.1]);
                let shape = match g.shape {
                    MatteShape::Rectangle => 0.0,
                    MatteShape::Ellipse => 1.0,
                };
                self.set(1, [shape, g.softness, flag(g.invert), 0.0]);
            }
            PassOp::Copy | PassOp::Invert | PassOp::Mask => {}
            PassOp::Segment {
                threshold,
                softness,
            } => self.set(0, [*threshold, *softness, 0.0, 0.0]),
            PassOp::Blend(layers) => {
                let n = layers.len().min(MAX_PASS_INPUTS);
                // The layer count is the smaller of layers and inputs.
                self.0[1][2] = self.0[1][2].min(n as f32);
                for (i, (mode, opacity)) in layers.iter().take(MAX_PASS_INPUTS).enumerate() {
                    self.set(i, [blend_mode_index(*mode) as f32, *opacity, 0.0, 0.0]);
                }
            }
            PassOp::ChromaKey(k) => {
                self.set(0, k.key_color.to_array());
                self.set(1, [k.similarity, k.smoothness, k.spill, k.opacity]);
                self.set(2, [k.contrast, k.brightness, k.gamma, 0.0]);
            }
            PassOp::LumaKey {
                low,
                high,
                smoothness,
                invert,
            } => self.set(0, [*low, *high, *smoothness, flag(*invert)]),
            PassOp::Matte(source) => {
                let s = match source {
                    MatteSource::Alpha => 0.0,
                    MatteSource::Luma => 1.0,
                };
                self.set(0, [s, 0.0, 0.0, 0.0]);
            }
            PassOp::BlurH { radius } => self.set(0, [1.0, 0.0, *radius, 0.0]),
            PassOp::BlurV { radius } => self.set(0, [0.0, 1.0, *radius, 0.0]),
            PassOp::ColorAdjust(a) => {
                // A zero gamma would divide by zero in the shader; validation rejects it anyway.
                let gamma = if a.gamma > 0.0 { a.gamma } else { 1.0 };
                self.set(0, [a.brightness, a.contrast, a.saturation, gamma]);
                self.set(1, [a.hue_shift, a.opacity, 0.0, 0.0]);
            }
        }
    }

    /// Writes the rows of the final pass (see `shaders/program.wgsl`).
    pub fn set_program(&mut self, transition: Option<(&TransitionKind, f32)>) {
        let (kind, progress, color) = match transition {
            None => (0.0, 1.0, [0.0; 4]),
            Some((TransitionKind::Cut, t)) => (1.0, t, [0.0; 4]),
            Some((TransitionKind::Fade, t)) => (2.0, t, [0.0; 4]),
            Some((TransitionKind::FadeThrough(c), t)) => (3.0, t, c.to_array()),
            Some((TransitionKind::Wipe, t)) => (4.0, t, [0.0; 4]),
        };
        self.set(0, [kind, progress.clamp(0.0, 1.0), 0.0, 0.0]);
        self.set(1, color);
    }

    /// The transition kind [`Params::set_program`] wrote (the final pass bakes it in).
    pub fn program_kind(&self) -> u32 {
        self.0[P][0] as u32
    }

    /// The rows as bytes, in the layout the shader expects.
    pub fn write_bytes(&self, out: &mut Vec<u8>) {
        for row in &self.0 {
            for v in row {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

fn flag(b: bool) -> f32 {
    if b { 1.0 } else { 0.0 }
}

/// The mode numbers of `shaders/blend.wgsl`.
pub fn blend_mode_index(mode: BlendMode) -> u32 {
    match mode {
        BlendMode::Normal => 0,
        BlendMode::Multiply => 1,
        BlendMode::Screen => 2,
        BlendMode::Overlay => 3,
        BlendMode::Darken => 4,
        BlendMode::Lighten => 5,
        BlendMode::ColorDodge => 6,
        BlendMode::ColorBurn => 7,
        BlendMode::HardLight => 8,
        BlendMode::SoftLight => 9,
        BlendMode::Difference => 10,
        BlendMode::Exclusion => 11,
        BlendMode::Hue => 12,
        BlendMode::Saturation => 13,
        BlendMode::Color => 14,
        BlendMode::Luminosity => 15,
        BlendMode::Add => 16,
        BlendMode::Subtract => 17,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use show::plan::{Affine, Operand, SlotId};

    #[test]
    fn blend_modes_are_numbered_like_the_shader() {
        let idx: Vec<u32> = BlendMode::ALL
            .iter()
            .map(|m| blend_mode_index(*m))
            .collect();
        assert_eq!(idx, (0..18).collect::<Vec<u32>>());
    }

    #[test]
    fn layout_matches_wgsl_params() {
        assert_eq!(PARAM_BYTES, 1056);
        let s = Sample {
            from: Operand::Slot(SlotId(0)),
            xform: Affine::canvas((4, 2)),
            crop: [0.0, 0.0, 1.0, 1.0],
        };
        let mut p = Params::new((4, 2), 1.5, 10_000_003, &[s]);
        p.set_op(&PassOp::Blend(vec![
            (BlendMode::Screen, 0.5),
            (BlendMode::Add, 1.0),
        ]));
        assert_eq!(p.0[0], [4.0, 2.0, 0.25, 0.5]);
        // One input bounds the layer count even though two layers are listed.
        assert_eq!(p.0[1], [1.5, 3.0, 1.0, 0.0]);
        assert_eq!(p.0[XF], [0.25, 0.0, 0.0, 0.5]);
        assert_eq!(p.0[TR], [0.0, 0.0, 1.0, 0.0]);
        assert_eq!(p.0[CROP + 1], [1.0, 1.0, -1.0, -1.0]);
        assert_eq!(p.0[P], [2.0, 0.5, 0.0, 0.0]);
        p.set_gain(0, 0.25);
        assert_eq!(p.0[TR], [0.0, 0.0, 0.25, 0.0]);
        let mut bytes = Vec::new();
        p.write_bytes(&mut bytes);
        assert_eq!(bytes.len() as u64, PARAM_BYTES);
    }
}
