//! Camera capture on its own thread, with a synthetic camera standing in when no device can be
//! opened.
//!
//! [`open`] never fails: a missing, busy or unplugged device is reported in [`CameraStatus`]
//! and the log, the synthetic picture takes its place at the requested size and rate, and the
//! device is retried in the background. Consumers take the newest frame with
//! [`CameraStream::latest`]; older frames are simply replaced (newest wins).

mod device;
mod digits;
mod room;
mod stream;
mod synthetic;

pub use device::{DeviceInfo, FormatInfo, format_list, list};
pub use stream::{CameraStatus, CameraStream, open};
pub use synthetic::{
    Backdrop, GREEN as GREEN_BACKDROP, render as render_synthetic,
    render_with as render_synthetic_with,
};

/// Which device a camera opens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Device {
    Index(u32),
    /// The first device whose name contains this text (case-insensitive).
    Name(String),
    /// Never opens hardware.
    Synthetic,
    /// Never opens hardware: a real person in a moving, non-green room (for segmentation).
    SyntheticRoom,
}

/// What to open and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CameraRequest {
    pub device: Device,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    #[error("camera support is not built in (build with the `native` feature)")]
    NotBuilt,
    #[error("cannot list cameras: {0}")]
    Query(String),
    #[error("{device}: {reason}")]
    Open { device: String, reason: String },
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Index(i) => write!(f, "camera {i}"),
            Device::Name(n) => write!(f, "camera \"{n}\""),
            Device::Synthetic => f.write_str("synthetic camera"),
            Device::SyntheticRoom => f.write_str("synthetic camera (room)"),
        }
    }
}
