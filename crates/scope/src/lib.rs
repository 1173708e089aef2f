//! Bevy-free Daydream Scope client: the REST API, a WebRTC worker that streams frames to a Scope
//! server and back, and [`ScopeHandle`], the app-facing handle. Contract: `docs/scope-api.md`.
//!
//! Threads per node: `scope-worker` (tokio runtime: REST, signalling, RTP, state machine),
//! `scope-encode` and `scope-decode` (codecs, per session). The app never blocks.

pub mod config;
pub mod error;
mod handle;
mod liveness;
pub mod rest;
mod rtc;
mod shared;
pub mod stats;
mod worker;

pub use config::{
    Codec, InputMode, Interpolation, Prompt, PromptTransition, RuntimeParams, ScopeConfig,
};
pub use error::{Result, ScopeError};
pub use handle::{FrameSender, ResolvedUrl, ScopeHandle, UrlResolver};
pub use rest::{LoadProgress, RestClient};
pub use shared::{ModelDownload, ScopeState, ScopeStats, ServerReport, epoch};
pub use worker::ScopeEvent;
