//! State shared between the app-facing handle, the worker task and the codec threads. Every lock
//! here is held for a few field updates only, never across I/O.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use media::VideoFrame;

use crate::liveness::FrameIntervals;
use crate::rest::PipelineSchema;
use crate::stats::{MeanTime, RateMeter, RttMatcher, RttWindow};

/// Lifecycle of a Scope node, reported as events and in [`ScopeStats`].
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ScopeState {
    #[default]
    Idle,
    /// Models downloading or pipeline loading; progress in 0..=1 when the server reports it.
    Loading {
        progress: Option<f32>,
    },
    Connecting,
    /// Frames are coming back.
    Live,
    /// No frame within the allowance (first-frame grace, or the steady-state stall threshold).
    Stalled,
    /// Waiting before reconnect attempt `attempt` (1, 2, 4, 8 s backoff).
    Reconnecting {
        attempt: u32,
    },
    /// Needs a config change (bad pipeline, failed load); the reason is human-readable.
    Failed {
        reason: String,
    },
}

/// Snapshot of the live measurements.
#[derive(Debug, Clone, Default)]
pub struct ScopeStats {
    pub state: ScopeState,
    /// Frames per second we encoded and sent (last 2 s).
    pub fps_in: f32,
    /// Frames per second decoded from the server (last 2 s).
    pub fps_out: f32,
    /// Round trip (taken for encoding → decoded), median and 95th percentile of the last 1024
    /// matched frames; `None` when the pipeline does not preserve timestamps (see `stats`).
    pub rtt_median: Option<Duration>,
    pub rtt_p95: Option<Duration>,
    /// Number of round-trip samples behind the quantiles.
    pub rtt_samples: usize,
    /// Time since the last decoded frame.
    pub frame_age: Option<Duration>,
    /// Mean client-side cost per frame, in milliseconds.
    pub encode_ms: f32,
    pub decode_ms: f32,
    pub frames_sent: u64,
    pub frames_received: u64,
    /// Size of the last decoded frame.
    pub output_size: Option<(u32, u32)>,
    pub session_id: Option<String>,
    pub reconnects: u32,
    /// What the server offers (`GET /api/v1/pipelines/schemas`), once asked; `None` before, or
    /// for a server without the route. Replaced, never edited, so a host can tell a new list
    /// by its pointer.
    pub pipelines: Option<Arc<BTreeMap<String, PipelineSchema>>>,
    /// What the server says of itself.
    pub server: ServerReport,
    /// The model download the server runs for this node's pipeline, while it runs.
    pub download: Option<ModelDownload>,
}

/// A model download on the server (`/api/v1/models/status`), part of a load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelDownload {
    pub fraction: Option<f32>,
    /// The file being fetched, where the server says.
    pub artifact: Option<String>,
}

/// The server's own numbers, polled while a session runs (`docs/scope-api.md` §1.1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerReport {
    /// Whether the last `/health` answered; `None` before the first.
    pub healthy: Option<bool>,
    /// `pipeline_fps` of this session in `/api/v1/session/metrics`.
    pub pipeline_fps: Option<f32>,
    /// `vram_gb` of `/api/v1/hardware/info` (`None` without CUDA).
    pub vram_gb: Option<f32>,
}

#[derive(Debug, Default)]
struct Metrics {
    fps_in: RateMeter,
    fps_out: RateMeter,
    rtt: RttWindow,
    matcher: RttMatcher,
    encode: MeanTime,
    decode: MeanTime,
    frames_sent: u64,
    frames_received: u64,
    last_frame_at: Option<Instant>,
    /// Arrival gaps of this session's frames (the watchdog's expected interval).
    intervals: FrameIntervals,
    last_sent_at: Option<Instant>,
    output_size: Option<(u32, u32)>,
}

/// The process-wide clock that `VideoFrame::captured` is measured on when we stamp frames.
pub fn epoch() -> Instant {
    media::epoch()
}

#[derive(Debug, Default)]
pub(crate) struct Shared {
    latest: Mutex<Option<VideoFrame>>,
    metrics: Mutex<Metrics>,
    paused: AtomicBool,
    state: Mutex<ScopeState>,
    session_id: Mutex<Option<String>>,
    reconnects: Mutex<u32>,
    pipelines: Mutex<Option<Arc<BTreeMap<String, PipelineSchema>>>>,
    server: Mutex<ServerReport>,
    download: Mutex<Option<ModelDownload>>,
}

/// Locks even if a holder panicked: these are plain counters, always consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, p: bool) {
        self.paused.store(p, Ordering::Relaxed);
    }

    pub fn set_state(&self, s: ScopeState) {
        *lock(&self.state) = s;
    }

    pub fn set_session(&self, id: Option<String>) {
        *lock(&self.session_id) = id;
    }

    /// Publishes the server's pipeline list, keeping the old pointer when nothing changed;
    /// returns the list published.
    pub fn set_pipelines(
        &self,
        list: BTreeMap<String, PipelineSchema>,
    ) -> Arc<BTreeMap<String, PipelineSchema>> {
        let mut p = lock(&self.pipelines);
        match p.as_ref() {
            Some(old) if **old == list => old.clone(),
            _ => p.insert(Arc::new(list)).clone(),
        }
    }

    /// Updates what the server said of itself.
    pub fn report(&self, f: impl FnOnce(&mut ServerReport)) {
        f(&mut lock(&self.server));
    }

    pub fn set_download(&self, download: Option<ModelDownload>) {
        *lock(&self.download) = download;
    }

    pub fn count_reconnect(&self) {
        *lock(&self.reconnects) += 1;
    }

    /// Encoder thread: a frame was taken at `taken` and will carry RTP offset `rtp_rel`.
    pub fn on_sent(&self, rtp_rel: u32, captured: Duration, taken: Instant, encode: Duration) {
        let mut m = lock(&self.metrics);
        m.matcher.on_sent(rtp_rel, captured, taken);
        m.fps_in.tick(taken);
        m.encode.add(encode);
        m.frames_sent += 1;
        m.last_sent_at = Some(taken);
    }

    /// Decoder thread: a frame was decoded; match it for the round trip and publish it.
    pub fn on_decoded(&self, mut frame: VideoFrame, rtp_ts: u32, decode_start: Instant) {
        let now = Instant::now();
        let mut m = lock(&self.metrics);
        m.decode.add(now - decode_start);
        m.fps_out.tick(now);
        m.frames_received += 1;
        m.last_frame_at = Some(now);
        m.intervals.on_frame(now);
        m.output_size = Some((frame.width, frame.height));
        frame.seq = m.frames_received;
        // The capture time of the matching input frame when known, else arrival time.
        frame.captured = match m.matcher.on_received(rtp_ts, now) {
            Some((rtt, captured)) => {
                m.rtt.push(rtt);
                captured
            }
            None => now.duration_since(epoch()),
        };
        drop(m);
        *lock(&self.latest) = Some(frame);
    }

    /// Newest decoded frame not yet taken.
    pub fn take_latest(&self) -> Option<VideoFrame> {
        lock(&self.latest).take()
    }

    pub fn last_frame_at(&self) -> Option<Instant> {
        lock(&self.metrics).last_frame_at
    }

    /// Median gap between this session's decoded frames.
    pub fn frame_interval(&self) -> Option<Duration> {
        lock(&self.metrics).intervals.median()
    }

    /// When the encoder last sent a frame.
    pub fn last_sent_at(&self) -> Option<Instant> {
        lock(&self.metrics).last_sent_at
    }

    /// New session: new RTP origin, so old matches are meaningless.
    pub fn reset_session(&self) {
        let mut m = lock(&self.metrics);
        m.matcher.reset();
        m.last_frame_at = None;
        m.intervals.reset();
    }

    pub fn stats(&self) -> ScopeStats {
        let now = Instant::now();
        let mut m = lock(&self.metrics);
        ScopeStats {
            state: lock(&self.state).clone(),
            fps_in: m.fps_in.fps(now),
            fps_out: m.fps_out.fps(now),
            rtt_median: m.rtt.quantile(0.5),
            rtt_p95: m.rtt.quantile(0.95),
            rtt_samples: m.rtt.len(),
            frame_age: m.last_frame_at.map(|t| now - t),
            encode_ms: m.encode.mean_ms(),
            decode_ms: m.decode.mean_ms(),
            frames_sent: m.frames_sent,
            frames_received: m.frames_received,
            output_size: m.output_size,
            session_id: lock(&self.session_id).clone(),
            reconnects: *lock(&self.reconnects),
            pipelines: lock(&self.pipelines).clone(),
            server: lock(&self.server).clone(),
            download: lock(&self.download).clone(),
        }
    }
}
