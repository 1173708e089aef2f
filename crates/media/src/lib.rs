//! Video frames and codecs shared by the Scope client (`scope`) and the embedded server
//! (`scope-server`). No Bevy, no networking.

pub mod frame;

pub use frame::{PixelFormat, VideoFrame};
