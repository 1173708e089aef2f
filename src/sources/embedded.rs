//! `embedded` as a Scope URL: one in-process [`scope_server::EmbeddedServer`] on loopback,
//! shared by every Scope node (and `bench-scope`) that asks for it, stopped when the last user
//! lets go. Resolved here, at the composition root, so the client never links the server.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use scope::{ResolvedUrl, UrlResolver};
use scope_server::{EmbeddedServer, ServerError, ServerOptions};

/// The URL that means "the in-process server".
pub const EMBEDDED: &str = "embedded";

/// The server, while anyone holds it.
struct Shared(Mutex<Weak<EmbeddedServer>>);

impl Shared {
    const fn new() -> Self {
        Shared(Mutex::new(Weak::new()))
    }

    fn server(&self) -> Result<Arc<EmbeddedServer>, ServerError> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(server) = slot.upgrade() {
            return Ok(server);
        }
        let server = Arc::new(EmbeddedServer::start(ServerOptions {
            port: 0,
            ..ServerOptions::default()
        })?);
        *slot = Arc::downgrade(&server);
        Ok(server)
    }

    fn resolve(&self, url: &str) -> Result<ResolvedUrl, String> {
        if url.trim() != EMBEDDED {
            return Ok(ResolvedUrl {
                url: url.to_owned(),
                guard: Box::new(()),
            });
        }
        let server = self
            .server()
            .map_err(|e| format!("cannot start the embedded server: {e}"))?;
        Ok(ResolvedUrl {
            url: server.url(),
            guard: Box::new(server),
        })
    }
}

static SHARED: Shared = Shared::new();

/// `embedded` becomes the shared server's URL (started if nobody holds it; keep the guard while
/// it is used); any other URL is returned as it is.
pub fn resolve_url(url: &str) -> Result<ResolvedUrl, String> {
    SHARED.resolve(url)
}

/// [`resolve_url`] for a [`scope::ScopeHandle`].
pub fn resolver() -> UrlResolver {
    Arc::new(resolve_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_while_anyone_holds_it() {
        let shared = Shared::new();
        let a = shared.resolve("embedded").unwrap();
        let b = shared.resolve(" embedded ").unwrap();
        assert_eq!(a.url, b.url);
        assert!(a.url.starts_with("http://127.0.0.1:"), "{}", a.url);
        let running = shared.0.lock().unwrap().clone();
        drop(a);
        assert!(running.upgrade().is_some(), "b still holds it");
        drop(b);
        assert!(running.upgrade().is_none(), "stopped with the last guard");

        let other = shared.resolve("http://10.0.0.2:8000").unwrap();
        assert_eq!(other.url, "http://10.0.0.2:8000");
        assert!(
            shared.0.lock().unwrap().upgrade().is_none(),
            "no server started"
        );
    }
}
