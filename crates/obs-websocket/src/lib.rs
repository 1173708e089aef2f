//! An obs-websocket v5 server (a wire-compatible subset, JSON only), so Bitfocus Companion,
//! Stream Deck plugins and any obs-websocket client can drive an app that is not OBS.
//!
//! The crate knows the protocol (handshake with authentication, requests, batches, event
//! subscriptions, close codes) and runs the network on its own tokio runtime; the app says
//! what requests mean through a [`Handler`] and publishes [`Event`]s with [`Server::emit`].
//! No Bevy here: the app's plugin bridges the two.

pub mod protocol;
mod server;

pub use server::{Error, Event, Handler, Reply, RequestError, Server, ServerConfig, Session};
