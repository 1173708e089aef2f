//! Person segmentation for the `segment` node: MediaPipe Selfie Segmentation (converted once to
//! ONNX, see `tools/segmentation/`) run on the CPU by pure-Rust tract, on a worker thread that
//! never blocks its callers. No Bevy: frames in ([`media::VideoFrame`] with a frame id), small
//! coverage masks out (each carrying the id of the frame it was computed from).
//!
//! - `model`: which model ([`Variant`], a built-in or a file) and loading its bytes;
//! - `segmenter`: the [`Segmenter`] trait, one inference;
//! - `tract`: the default [`Segmenter`], tract-onnx;
//! - `input`: a frame → the model's input tensor (downscale, RGB 0..1);
//! - `worker`: [`SegmentWorker`], the thread, its bounded newest-wins queue, smoothing and stats.

mod error;
mod input;
mod model;
mod segmenter;
mod tract;
mod worker;

pub use error::SegmentError;
pub use input::model_input;
pub use model::{ModelSource, Variant};
pub use segmenter::Segmenter;
pub use tract::TractSegmenter;
pub use worker::{FrameInput, Mask, SegmentWorker, WorkerConfig, WorkerStats, WorkerStatus};
