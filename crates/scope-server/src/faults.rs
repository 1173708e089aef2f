//! Fault knobs so tests can make the server misbehave the way real Scope servers do.

use std::sync::Arc;
use std::time::Duration;

use crate::state::{Shared, lock, unix_now};

/// Fault settings. All default to a healthy server.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// While set, every session stops sending video once it has sent this many frames. The peer
    /// connection stays up and nothing is said on the data channel, like a real OOM'd pipeline.
    /// Clearing it lets stalled sessions resume.
    pub stall_after_frames: Option<u64>,
    /// The next `pipeline/load` fails: `loading` → `error` (one poll) → `not_loaded`, with the
    /// previous pipeline unloaded. Consumed by that load.
    pub fail_next_load: bool,
    /// How long a load takes. While loading, `pipeline/status` shows a `loading_stage` with a
    /// percentage and `models/status` reports download progress.
    pub load_duration: Duration,
    /// Each output frame takes at least this long to go out, as on a server whose encoder is
    /// starved of CPU.
    pub output_delay: Duration,
    /// Each pipeline call takes at least this long, as on a GPU slower than the frames that
    /// come in.
    pub pipeline_delay: Duration,
    /// While set, the models of every pipeline but passthrough are missing until a download
    /// (`POST /api/v1/models/download`) has run this long; `models/status` reports its
    /// progress meanwhile, as a first start of a real server does.
    pub download_duration: Option<Duration>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            stall_after_frames: None,
            fail_next_load: false,
            load_duration: Duration::from_millis(100),
            output_delay: Duration::ZERO,
            pipeline_delay: Duration::ZERO,
            download_duration: None,
        }
    }
}

/// Changes the faults of a running [`crate::EmbeddedServer`] (cheap to clone, usable from any thread).
#[derive(Clone)]
pub struct FaultHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) runtime: tokio::runtime::Handle,
}

impl FaultHandle {
    pub fn get(&self) -> Faults {
        lock(&self.shared.faults).clone()
    }

    /// The data-channel parameter messages the server received (every session, oldest first,
    /// the newest 1024).
    pub fn channel_updates(&self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        lock(&self.shared.channel_updates).iter().cloned().collect()
    }

    pub fn set(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }

    pub fn stall_after_frames(&self, frames: Option<u64>) {
        lock(&self.shared.faults).stall_after_frames = frames;
    }

    pub fn fail_next_load(&self) {
        lock(&self.shared.faults).fail_next_load = true;
    }

    pub fn set_load_duration(&self, duration: Duration) {
        lock(&self.shared.faults).load_duration = duration;
    }

    pub fn set_output_delay(&self, delay: Duration) {
        lock(&self.shared.faults).output_delay = delay;
    }

    pub fn set_pipeline_delay(&self, delay: Duration) {
        lock(&self.shared.faults).pipeline_delay = delay;
    }

    pub fn set_download_duration(&self, duration: Option<Duration>) {
        lock(&self.shared.faults).download_duration = duration;
    }

    /// Closes every peer connection now (the client sees its connection close and must reconnect).
    pub fn drop_connections(&self) {
        for session in self.shared.sessions() {
            self.runtime.spawn(async move { session.close().await });
        }
    }

    /// Behaves like a server restart: a new `server_start_time`, all sessions dropped, the
    /// pipeline unloaded. The HTTP port stays open.
    pub fn restart(&self) {
        {
            let mut start = lock(&self.shared.start_time);
            // Strictly newer even if the clock is coarse.
            *start = unix_now().max(*start + 0.001);
        }
        self.shared.unload();
        self.drop_connections();
    }

    /// Number of live WebRTC sessions (for tests).
    pub fn session_count(&self) -> usize {
        lock(&self.shared.sessions).len()
    }
}
