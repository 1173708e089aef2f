//! Video frames and codecs shared by the Scope client (`scope`) and the embedded server
//! (`scope-server`). No Bevy, no networking.
//!
//! Colour conversion is BT.601 limited range ("studio swing", Y 16..=235, Cb/Cr 16..=240), the
//! matrix libvpx, openh264 and WebRTC peers assume when a stream carries no colour metadata.

pub mod codec;
pub mod convert;
pub mod error;
pub mod frame;
pub mod newest;
pub mod size;
mod vpx;

pub use codec::{Codec, Decoder, Encoder, H264_FMTP, RTCP_FEEDBACK};
pub use convert::{i420_to_rgba, rgba_to_i420};
pub use error::MediaError;
pub use frame::{PixelFormat, VideoFrame, epoch, now};
pub use newest::{NewestSender, newest_channel};
pub use size::parse_size;
