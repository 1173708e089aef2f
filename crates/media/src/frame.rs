//! Raw video frames.

use std::sync::Arc;
use std::time::Duration;

use crate::convert::{i420_len, i420_to_rgba, rgba_to_i420};
use crate::error::MediaError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 4 bytes per pixel, straight alpha, sRGB-encoded.
    Rgba8,
    /// Planar 4:2:0: Y (w×h), then U and V (⌈w/2⌉×⌈h/2⌉ each), BT.601 limited range.
    I420,
}

impl PixelFormat {
    /// Bytes a tightly packed `width`×`height` picture of this format occupies.
    pub fn buffer_len(self, width: u32, height: u32) -> usize {
        match self {
            PixelFormat::Rgba8 => width as usize * height as usize * 4,
            PixelFormat::I420 => i420_len(width, height),
        }
    }

    fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgba8 => "RGBA8",
            PixelFormat::I420 => "I420",
        }
    }
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

impl VideoFrame {
    /// Wraps a buffer, checking that its length matches `format` at `width`×`height`.
    pub fn new(
        width: u32,
        height: u32,
        format: PixelFormat,
        data: Vec<u8>,
        captured: Duration,
        seq: u64,
    ) -> Result<Self, MediaError> {
        let frame = VideoFrame {
            width,
            height,
            format,
            data: Arc::new(data),
            captured,
            seq,
        };
        frame.check()?;
        Ok(frame)
    }

    /// Fails when the buffer length does not match the declared size and format.
    pub fn check(&self) -> Result<(), MediaError> {
        let expected = self.format.buffer_len(self.width, self.height);
        if self.data.len() == expected {
            Ok(())
        } else {
            Err(MediaError::BadBuffer {
                format: self.format.name(),
                width: self.width,
                height: self.height,
                expected,
                actual: self.data.len(),
            })
        }
    }

    /// This frame as RGBA8 (shares the buffer when it already is).
    pub fn to_rgba(&self) -> Result<VideoFrame, MediaError> {
        self.check()?;
        match self.format {
            PixelFormat::Rgba8 => Ok(self.clone()),
            PixelFormat::I420 => Ok(VideoFrame {
                format: PixelFormat::Rgba8,
                data: Arc::new(i420_to_rgba(&self.data, self.width, self.height)?),
                ..self.clone()
            }),
        }
    }

    /// This frame as I420 (shares the buffer when it already is).
    pub fn to_i420(&self) -> Result<VideoFrame, MediaError> {
        self.check()?;
        match self.format {
            PixelFormat::I420 => Ok(self.clone()),
            PixelFormat::Rgba8 => Ok(VideoFrame {
                format: PixelFormat::I420,
                data: Arc::new(rgba_to_i420(&self.data, self.width, self.height)?),
                ..self.clone()
            }),
        }
    }
}

/// The process-wide clock origin for [`VideoFrame::captured`], shared by cameras, the Scope
/// client and the app so capture times compare across them.
pub fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Time since [`epoch`]: what a producer stores in `captured`.
pub fn now() -> Duration {
    epoch().elapsed()
}
