//! Errors of the `media` crate.

use crate::codec::Codec;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The frame's buffer does not match its declared size and format.
    #[error("{format} frame {width}x{height} needs {expected} bytes, got {actual}")]
    BadBuffer {
        format: &'static str,
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },
    /// Zero or otherwise unusable dimensions.
    #[error("{codec} cannot handle a {width}x{height} picture: {reason}")]
    BadSize {
        codec: Codec,
        width: u32,
        height: u32,
        reason: &'static str,
    },
    /// The codec library refused a call.
    #[error("{codec} {operation} failed: {detail}")]
    Codec {
        codec: Codec,
        operation: &'static str,
        detail: String,
    },
}
