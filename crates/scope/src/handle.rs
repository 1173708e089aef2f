//! [`ScopeHandle`]: what the app holds for one Scope node. Every method returns at once; the
//! network, codecs and waiting live on the worker thread.

use std::any::Any;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Receiver;
use media::{NewestSender, VideoFrame};
use tokio::sync::watch;

use crate::config::ScopeConfig;
use crate::shared::{ScopeState, ScopeStats, Shared};
use crate::worker::{ScopeEvent, Worker};

/// Events kept for the app between two `poll_events` calls; older ones are dropped when full
/// (the current state is always in `stats()`).
const EVENT_CAPACITY: usize = 256;

/// Turns a configured URL into one to connect to, so the app can give names to servers it runs
/// itself (`embedded`) without this crate knowing them. An `Err` is the reason, reported as
/// [`crate::ScopeError::BadUrl`] naming the configured URL.
pub type UrlResolver = Arc<dyn Fn(&str) -> Result<ResolvedUrl, String> + Send + Sync>;

/// What a [`UrlResolver`] returns.
pub struct ResolvedUrl {
    pub url: String,
    /// Kept while the node uses the URL, dropped when it stops (or moves to another URL): the
    /// resolver's server can stop when the last guard goes.
    pub guard: Box<dyn Any + Send>,
}

/// Queues frames for a Scope node's encoder from any thread (see [`ScopeHandle::frame_sender`]).
#[derive(Clone)]
pub struct FrameSender(NewestSender<VideoFrame>);

impl FrameSender {
    pub fn send(&self, frame: VideoFrame) {
        self.0.send(frame);
    }
}

/// A running Scope node. Dropping it stops the worker cleanly (`DELETE` the session, close the
/// peer connection), waiting at most a few seconds.
pub struct ScopeHandle {
    config: watch::Sender<ScopeConfig>,
    stop: watch::Sender<bool>,
    /// One frame waiting for the encoder at most: newest wins.
    frames_tx: NewestSender<VideoFrame>,
    events: Receiver<ScopeEvent>,
    shared: Arc<Shared>,
    done: Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ScopeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeHandle")
            .field("state", &self.shared.stats().state)
            .finish()
    }
}

impl ScopeHandle {
    /// Spawns the worker (`scope-worker` thread with its own tokio runtime) and starts loading
    /// the pipeline. Never fails: problems show up as [`ScopeState::Failed`] and events.
    pub fn start(config: ScopeConfig) -> ScopeHandle {
        Self::spawn(config, None)
    }

    /// [`ScopeHandle::start`], with URLs resolved by `resolver` (on the worker thread, once per
    /// configured URL).
    pub fn start_with(config: ScopeConfig, resolver: UrlResolver) -> ScopeHandle {
        Self::spawn(config, Some(resolver))
    }

    fn spawn(config: ScopeConfig, resolver: Option<UrlResolver>) -> ScopeHandle {
        let (config_tx, config_rx) = watch::channel(config);
        let (stop_tx, stop_rx) = watch::channel(false);
        let (frames_tx, frames_rx) = media::newest_channel(1);
        let (events_tx, events_rx) = crossbeam_channel::bounded(EVENT_CAPACITY);
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        let shared = Arc::new(Shared::default());
        let worker = Worker::new(
            shared.clone(),
            events_tx.clone(),
            frames_rx.clone(),
            config_rx,
            stop_rx,
            resolver,
        );
        let spawned = std::thread::Builder::new()
            .name("scope-worker".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("scope-rt")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => {
                        rt.block_on(worker.run());
                        // Lets webrtc's background tasks finish their close without blocking forever.
                        rt.shutdown_timeout(Duration::from_secs(1));
                    }
                    Err(e) => {
                        let reason = format!("cannot start tokio runtime: {e}");
                        worker.shared.set_state(ScopeState::Failed {
                            reason: reason.clone(),
                        });
                        let _ =
                            events_tx.try_send(ScopeEvent::State(ScopeState::Failed { reason }));
                    }
                }
                let _ = done_tx.send(());
            });
        let thread = match spawned {
            Ok(t) => Some(t),
            Err(e) => {
                let reason = format!("cannot spawn the scope-worker thread: {e}");
                shared.set_state(ScopeState::Failed { reason });
                None
            }
        };
        ScopeHandle {
            config: config_tx,
            stop: stop_tx,
            frames_tx,
            events: events_rx,
            shared,
            done: done_rx,
            thread,
        }
    }

    /// The full desired state; the worker diffs it against what it applied (only changed
    /// runtime keys go over the data channel; a load-param change reloads the pipeline).
    pub fn configure(&self, config: ScopeConfig) {
        self.shared.set_paused(config.paused());
        self.config.send_if_modified(|current| {
            if *current == config {
                false
            } else {
                *current = config;
                true
            }
        });
    }

    /// Queues a frame for encoding; replaces any frame not yet taken (newest wins).
    pub fn send_frame(&self, frame: VideoFrame) {
        self.frames_tx.send(frame);
    }

    /// A sender other threads (a camera's capture thread) can queue frames with, at their own
    /// rate; newest wins, as with [`ScopeHandle::send_frame`]. Frames sent after the handle is
    /// dropped go nowhere.
    pub fn frame_sender(&self) -> FrameSender {
        FrameSender(self.frames_tx.clone())
    }

    /// The newest decoded frame (RGBA8) not returned before, or `None` if none arrived since.
    /// Its `captured` is the capture time of the input frame it came from when the round trip
    /// could be matched (passthrough), else its arrival time; both on [`crate::epoch`].
    pub fn latest_frame(&self) -> Option<VideoFrame> {
        self.shared.take_latest()
    }

    /// When the newest decoded frame arrived (the one [`ScopeHandle::latest_frame`] returns).
    pub fn last_frame_at(&self) -> Option<std::time::Instant> {
        self.shared.last_frame_at()
    }

    /// Drains the events since the last call.
    pub fn poll_events(&self) -> Vec<ScopeEvent> {
        self.events.try_iter().collect()
    }

    pub fn stats(&self) -> ScopeStats {
        self.shared.stats()
    }
}

impl Drop for ScopeHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        // The worker bounds its cleanup (DELETE timeout + 2 s close); don't hang the app if a
        // server misbehaves beyond that.
        if self.done.recv_timeout(Duration::from_secs(8)).is_ok()
            && let Some(t) = self.thread.take()
        {
            let _ = t.join();
        }
    }
}
