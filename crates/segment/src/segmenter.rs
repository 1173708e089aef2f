//! One inference, behind a trait so the worker, the node and its tests do not depend on the
//! runtime (tract by default; tests inject doubles with a known delay or output).

use crate::SegmentError;

/// Runs a person-segmentation model on one picture.
pub trait Segmenter: Send {
    /// The model's input (and output) size, `(width, height)`.
    fn size(&self) -> (u32, u32);

    /// `rgb`: `width × height × 3` floats, row-major RGB in `0..=1` (what [`crate::model_input`]
    /// makes). Returns `width × height` person probabilities in `0..=1`.
    fn run(&mut self, rgb: &[f32]) -> Result<Vec<f32>, SegmentError>;
}
