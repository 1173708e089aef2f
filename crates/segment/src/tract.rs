//! The default runtime: tract-onnx, pure Rust (no system library), single-threaded.
//! ~19 ms per 256×256 frame in release on our machines (docs/deps.md §7).

use std::sync::Arc;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::DimLike;

use crate::{ModelSource, SegmentError, Segmenter};

/// A loaded and optimised model.
pub struct TractSegmenter {
    plan: Arc<TypedRunnableModel>,
    size: (u32, u32),
}

impl std::fmt::Debug for TractSegmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractSegmenter")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl TractSegmenter {
    /// Reads, checks and optimises the model (~130 ms: call it off the frame path). Fails with
    /// the model's name when it cannot be read, is not ONNX, or does not have the selfie model's
    /// interface (`[1, h, w, 3]` in, `[1, h, w, 1]` out).
    pub fn load(source: &ModelSource) -> Result<TractSegmenter, SegmentError> {
        let bytes = source.bytes()?;
        let corrupt = |reason: String| SegmentError::Corrupt {
            name: source.name(),
            reason,
        };
        let model = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(|e| corrupt(format!("{e:#}")))?
            .into_optimized()
            .map_err(|e| corrupt(format!("{e:#}")))?;
        let dims = |fact: &TypedFact| -> Option<Vec<usize>> {
            fact.shape.iter().map(|d| d.to_usize().ok()).collect()
        };
        let input = model
            .input_fact(0)
            .ok()
            .and_then(dims)
            .ok_or_else(|| corrupt("no input of fixed shape".into()))?;
        let output = model
            .output_fact(0)
            .ok()
            .and_then(dims)
            .ok_or_else(|| corrupt("no output of fixed shape".into()))?;
        let [1, h, w, 3] = input[..] else {
            return Err(corrupt(format!("input shape {input:?}, want [1, h, w, 3]")));
        };
        if output != [1, h, w, 1] {
            return Err(corrupt(format!(
                "output shape {output:?}, want [1, {h}, {w}, 1]"
            )));
        }
        let plan = model
            .into_runnable()
            .map_err(|e| corrupt(format!("{e:#}")))?;
        Ok(TractSegmenter {
            plan,
            size: (w as u32, h as u32),
        })
    }
}

impl Segmenter for TractSegmenter {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn run(&mut self, rgb: &[f32]) -> Result<Vec<f32>, SegmentError> {
        let (w, h) = (self.size.0 as usize, self.size.1 as usize);
        let fail = |e: TractError| SegmentError::Inference(format!("{e:#}"));
        let input = Tensor::from_shape(&[1, h, w, 3], rgb).map_err(fail)?;
        let out = self.plan.run(tvec!(input.into())).map_err(fail)?;
        let view = out
            .first()
            .ok_or_else(|| SegmentError::Inference("no output".into()))?
            .to_plain_array_view::<f32>()
            .map_err(fail)?;
        Ok(view.iter().copied().collect())
    }
}
