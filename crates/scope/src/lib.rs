//! Bevy-free Daydream Scope client: the REST API, a WebRTC worker that streams frames to a Scope
//! server and back, and [`ScopeHandle`], the app-facing handle. Contract: `scope-api.md`.

pub mod error;
pub mod rest;

pub use error::{Result, ScopeError};
pub use rest::RestClient;
