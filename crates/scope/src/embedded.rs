//! `embedded` as a Scope URL: one in-process `scope_server::EmbeddedServer` on loopback, shared
//! by every node (and the bench) that asks for it, stopped when the last user lets go.

use std::sync::{Arc, Mutex, Weak};

use scope_server::{EmbeddedServer, ServerError, ServerOptions};

/// The URL that means "the in-process server".
pub const EMBEDDED: &str = "embedded";

/// Resolves `embedded` to a running shared server's URL (keep the returned `Arc` alive as long as
/// it is used); any other URL is returned as is.
pub fn resolve_url(url: &str) -> Result<(String, Option<Arc<EmbeddedServer>>), ServerError> {
    if url.trim() != EMBEDDED {
        return Ok((url.to_owned(), None));
    }
    static SHARED: Mutex<Weak<EmbeddedServer>> = Mutex::new(Weak::new());
    let mut slot = SHARED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(server) = slot.upgrade() {
        return Ok((server.url(), Some(server)));
    }
    let server = Arc::new(EmbeddedServer::start(ServerOptions {
        port: 0,
        ..ServerOptions::default()
    })?);
    *slot = Arc::downgrade(&server);
    Ok((server.url(), Some(server)))
}
