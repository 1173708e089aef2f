//! The MetaDJ Scope show model: pure data, no Bevy types.
//!
//! A [`Show`] is an ordered list of [`Scene`]s. Each scene is a node graph ([`Node`]s joined by
//! [`Edge`]s) plus its settings. [`validate`] reports every problem with its file position,
//! [`compile`] turns one scene into a [`RenderPlan`]: the list of GPU passes the compositor
//! executes. Shows are stored as versioned RON files ([`io`]).

pub mod color;
pub mod compile;
pub mod error;
pub mod id;
pub mod io;
pub mod midi;
pub mod node;
pub mod pipeline;
pub mod plan;
pub mod preset;
mod recover;
pub mod scene;
pub mod spec;
pub mod validate;

pub use color::Rgba;
pub use compile::{compile, compile_with_taps};
pub use error::{ErrorKind, ShowError};
pub use id::NodeId;
pub use node::{NodeKind, PortType};
pub use plan::{RenderPlan, TappedPlan};
pub use preset::Presets;
pub use scene::{Edge, Node, Scene, Show};
pub use validate::validate;
