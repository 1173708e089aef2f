//! MetaDJ Scope: a real-time node-graph video compositor for live AI-avatar shows.

pub mod bench;
pub mod render;
