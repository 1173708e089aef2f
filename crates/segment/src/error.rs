//! Why a model could not be loaded or run. Every message names the model file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error("segmentation model {path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not an ONNX model tract can load, or not one with the selfie model's shape.
    #[error("segmentation model {name}: not a usable model: {reason}")]
    Corrupt { name: String, reason: String },
    #[error("segmentation input frame: {0}")]
    Frame(#[from] media::MediaError),
    #[error("segmentation inference failed: {0}")]
    Inference(String),
}
