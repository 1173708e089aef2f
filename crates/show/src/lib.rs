//! The MetaDJ Scope show model: pure data, no Bevy types.
//!
//! A [`Show`] is an ordered list of [`Scene`]s. Each scene is a node graph ([`Node`]s joined by
//! [`Edge`]s) plus its settings. [`compile`] turns one scene into a [`RenderPlan`]: the list of GPU
//! passes the compositor executes. Shows are stored as versioned RON files ([`io`]).

pub mod color;
pub mod id;
pub mod node;
pub mod plan;
pub mod scene;

pub use color::Rgba;
pub use id::NodeId;
pub use node::{NodeKind, PortType};
pub use plan::RenderPlan;
pub use scene::{Edge, Node, Scene, Show};
