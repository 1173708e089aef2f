//! Raw video frames.

use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 4 bytes per pixel, straight alpha, sRGB-encoded.
    Rgba8,
    /// Planar 4:2:0: Y (w×h), then U and V (⌈w/2⌉×⌈h/2⌉ each), BT.601 limited range.
    I420,
}

/// One picture with its capture time, so latency can be measured end to end.
#[derive(Debug, Clone)]
pub struct VideoFrame {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    /// Tightly packed pixel data; shared so handing a frame to several consumers is free.
    pub data: Arc<Vec<u8>>,
    /// Capture time on the sender's monotonic clock (time since its `media` epoch).
    pub captured: Duration,
    /// Sequence number assigned by the producer.
    pub seq: u64,
}
