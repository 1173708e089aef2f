//! An embedded Daydream-Scope-compatible server: the REST routes and WebRTC answerer behaviour
//! of `docs/scope-api.md` §7.1, with two cheap pipelines (`passthrough`, `stylize`) and fault
//! knobs. Used by tests and as the offline default (`embedded` Scope URL,
//! `metadj-scope scope-server`). Binds 127.0.0.1 only, like the real CLI.
//!
//! Threads: `scope-server` (owns a 2-worker tokio runtime, `scope-server-rt-*`) serves HTTP and
//! signalling; each WebRTC session adds `scope-proc-*` (decode + pipeline) and `scope-send-*`
//! (pace + encode). Dropping [`EmbeddedServer`] closes every session, joins all of them and frees
//! the port.
//!
//! Behaviour worth knowing (docs/scope-api.md §7.1; deviations marked *):
//! - `pipeline/load` is asynchronous ([`Faults::load_duration`], 100 ms by default); a failed load
//!   (fault, or an unknown pipeline id) reports `error` for exactly one status poll, then
//!   `not_loaded`, and leaves nothing loaded.
//! - An offer gets frames back only if its first video m-line is `sendrecv` and
//!   `initialParameters.pipeline_ids` names loaded instance keys; otherwise it connects silently.
//!   VP8 is answered when offered, else H264 (constrained baseline; odd sizes are cropped to even).
//! - `passthrough`: chunks of 4, output = input size (follows changes), paced by the input RTP
//!   timestamps, input queue of 30 dropping new frames. `stylize`: output = load
//!   `width`×`height` (default 512×512), stretched, posterized and tinted violet except
//!   chroma-green pixels ([`pipeline::stylize_pixel`]); its load parameters `levels`, `gamma`,
//!   `tint` and `keep_green` change the look ([`pipeline::Look`], described in its schema,
//!   [`schemas_json`]).
//! - Data channel (any label): partial JSON merged shallowly between pipeline calls; more than 8
//!   waiting updates are dropped; `{"paused": true}` stops that session's output for good (the
//!   v0.2.4 bug). `parameters_updated` follows REST updates; `stream_stopped` is never sent.
//! - A session ends on `DELETE`, when the peer connection closes or fails, when its data channel
//!   closes (*: how webrtc-rs notices the peer's close), or after 3 s without ICE traffic (*).
//! - *`/api/v1/webrtc/ice-servers` is empty (loopback only); *`GET /session/parameters` without a
//!   session returns `{"parameters":{}}`; OSC, DMX, tempo, recording and graph routes are absent.

mod faults;
mod pacing;
mod params;
pub mod pipeline;
mod rest;
mod rtc;
mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::{info, warn};

pub use faults::{FaultHandle, Faults};
pub use rest::schemas_json;

use crate::state::Shared;

/// Options for [`EmbeddedServer::start`].
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Initial fault settings (change them later with [`EmbeddedServer::faults`]).
    pub faults: Faults,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot create the assets directory {path}: {source}")]
    Assets {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the server runtime or thread: {0}")]
    Runtime(std::io::Error),
    #[error("waiting for Ctrl-C failed: {0}")]
    Signal(std::io::Error),
}

/// A running server; dropping it shuts it down (sessions closed, threads joined, port freed).
pub struct EmbeddedServer {
    addr: SocketAddr,
    faults: FaultHandle,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    assets_dir: PathBuf,
}

impl EmbeddedServer {
    pub fn start(options: ServerOptions) -> Result<EmbeddedServer, ServerError> {
        let port = options.port;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|source| ServerError::Bind { port, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ServerError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { port, source })?;

        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "metadj-scope-assets-{}-{}-{nanos}",
            std::process::id(),
            addr.port()
        ));
        let assets_dir = std::fs::create_dir_all(&dir)
            .and_then(|()| dir.canonicalize())
            .map_err(|source| ServerError::Assets {
                path: dir.clone(),
                source,
            })?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("scope-server-rt")
            .enable_all()
            .build()
            .map_err(ServerError::Runtime)?;
        let shared = Arc::new(Shared::new(options.faults, assets_dir.clone()));
        let faults = FaultHandle {
            shared: Arc::clone(&shared),
            runtime: runtime.handle().clone(),
        };
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("scope-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let app = rest::router(Arc::clone(&shared));
                            let served = axum::serve(listener, app)
                                .with_graceful_shutdown(async {
                                    let _ = shutdown_rx.await;
                                })
                                .await;
                            if let Err(e) = served {
                                warn!("embedded Scope server stopped: {e}");
                            }
                        }
                        Err(e) => warn!("embedded Scope server could not use its socket: {e}"),
                    }
                    for session in shared.sessions() {
                        session.close().await;
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(ServerError::Runtime)?;
        info!("embedded Scope server listening on http://{addr}");
        Ok(EmbeddedServer {
            addr,
            faults,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
            assets_dir,
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn faults(&self) -> FaultHandle {
        self.faults.clone()
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("embedded Scope server thread panicked");
        }
        if let Err(e) = std::fs::remove_dir_all(&self.assets_dir) {
            warn!("could not remove {}: {e}", self.assets_dir.display());
        }
    }
}

/// Runs the server on 127.0.0.1:`port` until Ctrl-C (`metadj-scope scope-server [--port 8000]`).
pub fn run_standalone(port: u16) -> Result<(), ServerError> {
    let server = EmbeddedServer::start(ServerOptions {
        port,
        faults: Faults::default(),
    })?;
    info!(
        "Scope-compatible server at {} (pipelines: passthrough, stylize); Ctrl-C stops it",
        server.url()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    rt.block_on(tokio::signal::ctrl_c())
        .map_err(ServerError::Signal)?;
    info!("stopping the Scope-compatible server");
    drop(server);
    Ok(())
}
