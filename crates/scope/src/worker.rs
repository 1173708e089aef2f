//! The worker: one named thread with its own tokio runtime per Scope node. It owns the REST
//! client and the session, runs the state machine (load → connect → live, watchdog, backoff,
//! restart detection) and applies config diffs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use media::VideoFrame;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::config::{ConfigChange, ScopeConfig, merge_pending};
use crate::error::ScopeError;
use crate::handle::{ResolvedUrl, UrlResolver};
use crate::liveness::{Backoff, Observation, Watchdog};
use crate::rest::{LoadProgress, LoadState, RestClient};
use crate::rtc::{Session, SessionEvent, SessionSpec};
use crate::shared::{ModelDownload, ScopeState, Shared};

/// Something the app should know about.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeEvent {
    /// The node changed state.
    State(ScopeState),
    /// A non-fatal problem (a failed request, a codec error); the worker carries on.
    Error(String),
    /// A new WebRTC session was answered.
    SessionStarted { session_id: String },
    /// `/health` reported a different `server_start_time`: the server restarted.
    ServerRestarted,
    /// A reference image was uploaded; `server_path` is what the parameters carry.
    AssetUploaded { local: PathBuf, server_path: String },
    /// A JSON message from the server on the data channel (`parameters_updated`, ...).
    ServerMessage(Value),
}

/// What to do next.
enum Phase {
    Load,
    Connect,
    Backoff { reload: bool },
    WaitConfig,
    Stop,
}

pub(crate) struct Worker {
    pub shared: Arc<Shared>,
    pub events: Sender<ScopeEvent>,
    pub frames_in: Receiver<VideoFrame>,
    pub config: watch::Receiver<ScopeConfig>,
    pub stop: watch::Receiver<bool>,
    rest: Option<Arc<RestClient>>,
    resolver: Option<UrlResolver>,
    /// The configured URL last resolved, what it resolved to, and its guard.
    resolved: Option<(String, ResolvedUrl)>,
    start_time: Option<f64>,
    asset_paths: Vec<String>,
    assets_for: Vec<PathBuf>,
    backoff: Backoff,
    /// The last `/health` after a backoff failed: the server is down, not just misbehaving.
    unreachable: bool,
    state: ScopeState,
}

/// What one background poll of a live session's server brings back: `/health`, and
/// `/session/metrics` when it answered.
type ServerAnswers = (
    Result<crate::rest::Health, ScopeError>,
    Option<crate::rest::SessionMetrics>,
);

/// How often a live session's server is asked for `/health` (restart detection) and its
/// metrics (the console's pipeline rate).
const HEALTH_INTERVAL: Duration = Duration::from_secs(2);

/// How often `/health` is probed while backing off (a cheap GET; a refused connection on
/// loopback costs microseconds), so a server that comes back is used at once.
const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Transport-level failures and server-side hiccups are worth retrying; a server that is not
/// Scope-shaped (HTML, malformed JSON, 404/422) or a bad local setting needs a config change.
fn retryable(e: &ScopeError) -> bool {
    match e {
        ScopeError::Connect { .. }
        | ScopeError::Timeout { .. }
        | ScopeError::Transport { .. }
        | ScopeError::BadSdp { .. }
        | ScopeError::Webrtc { .. } => true,
        ScopeError::Status { status, .. } => *status >= 500 || *status == 400 || *status == 409,
        _ => false,
    }
}

impl Worker {
    pub fn new(
        shared: Arc<Shared>,
        events: Sender<ScopeEvent>,
        frames_in: Receiver<VideoFrame>,
        config: watch::Receiver<ScopeConfig>,
        stop: watch::Receiver<bool>,
        resolver: Option<UrlResolver>,
    ) -> Self {
        Worker {
            shared,
            events,
            frames_in,
            config,
            stop,
            rest: None,
            resolver,
            resolved: None,
            start_time: None,
            asset_paths: Vec::new(),
            assets_for: Vec::new(),
            backoff: Backoff::default(),
            unreachable: false,
            state: ScopeState::Idle,
        }
    }

    fn emit(&self, e: ScopeEvent) {
        let _ = self.events.try_send(e);
    }

    fn set_state(&mut self, s: ScopeState) {
        if self.state != s {
            self.state = s.clone();
            self.shared.set_state(s.clone());
            self.emit(ScopeEvent::State(s));
        }
    }

    fn current(&mut self) -> ScopeConfig {
        let cfg = self.config.borrow_and_update().clone();
        self.shared.set_paused(cfg.paused());
        cfg
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// The URL to connect to for `cfg.url`: resolved once per configured URL, its guard kept
    /// until the node is configured with another.
    fn resolve(&mut self, cfg: &ScopeConfig) -> Result<String, ScopeError> {
        let Some(resolver) = &self.resolver else {
            return Ok(cfg.url.clone());
        };
        if let Some((configured, r)) = &self.resolved
            && *configured == cfg.url
        {
            return Ok(r.url.clone());
        }
        // Let go of the old guard first, so a server nobody else uses stops now.
        self.resolved = None;
        let r = resolver(&cfg.url).map_err(|reason| ScopeError::BadUrl {
            url: cfg.url.clone(),
            reason,
        })?;
        let url = r.url.clone();
        self.resolved = Some((cfg.url.clone(), r));
        Ok(url)
    }

    /// The REST client for `url`, re-created when the URL changes (new asset cache too).
    fn rest(&mut self, cfg: &ScopeConfig) -> Result<Arc<RestClient>, ScopeError> {
        let url = self.resolve(cfg)?;
        if let Some(r) = &self.rest
            && r.base() == url.trim().trim_end_matches('/')
        {
            return Ok(r.clone());
        }
        let r = Arc::new(RestClient::new(&url, cfg.request_timeout)?);
        self.rest = Some(r.clone());
        self.start_time = None;
        self.assets_for.clear();
        Ok(r)
    }

    pub async fn run(mut self) {
        let mut phase = Phase::Load;
        loop {
            if self.stopping() {
                phase = Phase::Stop;
            }
            phase = match phase {
                Phase::Load => self.load().await,
                Phase::Connect => self.session().await,
                Phase::Backoff { reload } => self.backoff(reload).await,
                Phase::WaitConfig => self.wait_config().await,
                Phase::Stop => break,
            };
        }
        self.shared.set_session(None);
        self.set_state(ScopeState::Idle);
    }

    fn fail(&mut self, e: &ScopeError) -> Phase {
        self.emit(ScopeEvent::Error(e.to_string()));
        if retryable(e) {
            Phase::Backoff { reload: false }
        } else {
            self.set_state(ScopeState::Failed {
                reason: e.to_string(),
            });
            Phase::WaitConfig
        }
    }

    /// Health (restart detection), models, pipeline load, reference-image uploads.
    async fn load(&mut self) -> Phase {
        let cfg = self.current();
        let rest = match self.rest(&cfg) {
            Ok(r) => r,
            Err(e) => return self.fail(&e),
        };
        self.set_state(ScopeState::Loading { progress: None });
        let shared = self.shared.clone();
        let events = self.events.clone();
        let mut last_progress: Option<f32> = None;
        let work = async {
            let health = rest.health().await?;
            shared.report(|r| r.healthy = Some(true));
            if let Ok(hw) = rest.hardware_info().await {
                shared.report(|r| r.vram_gb = hw.vram_gb.map(|g| g as f32));
            }
            // The console's pipeline list (a server without the route simply offers none),
            // also what the load checks the pipeline against.
            let known = match rest.pipeline_schemas().await {
                Ok(list) => Some(shared.set_pipelines(list)),
                Err(e) => {
                    tracing::debug!("scope: no pipeline list from {}: {e}", rest.base());
                    None
                }
            };
            let mut on_progress = |progress: LoadProgress| {
                let p = match progress {
                    LoadProgress::Download { fraction, artifact } => {
                        shared.set_download(Some(ModelDownload { fraction, artifact }));
                        fraction
                    }
                    LoadProgress::Load(p) => {
                        shared.set_download(None);
                        p
                    }
                };
                let changed = match (p, last_progress) {
                    (Some(a), Some(b)) => (a - b).abs() >= 0.01,
                    (a, b) => a.is_some() != b.is_some(),
                };
                if changed {
                    last_progress = p;
                    let s = ScopeState::Loading { progress: p };
                    shared.set_state(s.clone());
                    let _ = events.try_send(ScopeEvent::State(s));
                }
            };
            rest.load_and_wait_known(
                &cfg.pipeline_id,
                &cfg.load_params,
                cfg.load_timeout,
                &mut on_progress,
                known.as_deref(),
            )
            .await?;
            Ok::<_, ScopeError>(health.server_start_time)
        };
        let mut stop = self.stop.clone();
        let mut config = self.config.clone();
        let result = tokio::select! {
            r = work => Some(r),
            _ = stop.changed() => return Phase::Stop,
            _ = wait_reload(&mut config, &cfg) => None,
        };
        // A download is part of a load: over with it, however it ended.
        self.shared.set_download(None);
        let Some(result) = result else {
            return Phase::Load;
        };
        match result {
            Ok(start) => {
                if self.start_time.is_some_and(|t| t != start) {
                    self.emit(ScopeEvent::ServerRestarted);
                }
                self.start_time = Some(start);
            }
            Err(e) => return self.fail(&e),
        }
        if let Err(e) = self.upload_refs(&rest, &cfg.ref_images).await {
            return self.fail(&e);
        }
        Phase::Connect
    }

    /// Uploads reference images (cached by content in the REST client).
    async fn upload_refs(&mut self, rest: &RestClient, refs: &[PathBuf]) -> Result<(), ScopeError> {
        if self.assets_for == refs {
            return Ok(());
        }
        let mut paths = Vec::new();
        for local in refs {
            let server_path = rest.upload_asset(local).await?;
            self.emit(ScopeEvent::AssetUploaded {
                local: local.clone(),
                server_path: server_path.clone(),
            });
            paths.push(server_path);
        }
        self.asset_paths = paths;
        self.assets_for = refs.to_vec();
        Ok(())
    }

    async fn wait_config(&mut self) -> Phase {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = stop.changed() => Phase::Stop,
            r = self.config.changed() => if r.is_ok() { Phase::Load } else { Phase::Stop },
        }
    }

    /// Waits out the backoff, then decides between a new session and a reload. While waiting
    /// it probes `/health` and cuts the wait short when a server that did not answer does again,
    /// or reports a new start time: a restarted server must not sit idle for up to 8 s.
    async fn backoff(&mut self, reload: bool) -> Phase {
        let (attempt, delay) = self.backoff.next_delay();
        self.shared.count_reconnect();
        self.set_state(ScopeState::Reconnecting { attempt });
        let cfg = self.current();
        let rest = match self.rest(&cfg) {
            Ok(r) => r,
            Err(e) => return self.fail(&e),
        };
        let mut stop = self.stop.clone();
        let mut config = self.config.clone();
        let known_start = self.start_time;
        let mut down = self.unreachable;
        let probe = async {
            loop {
                tokio::time::sleep(PROBE_INTERVAL).await;
                match tokio::time::timeout(PROBE_INTERVAL * 4, rest.health()).await {
                    Ok(Ok(h)) if down || known_start.is_some_and(|t| t != h.server_start_time) => {
                        return;
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) | Err(_) => down = true,
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = probe => tracing::info!("{}: server answers again; reconnecting before the {delay:?} backoff ends", rest.base()),
            _ = stop.changed() => return Phase::Stop,
            _ = wait_reload(&mut config, &cfg) => return Phase::Load,
        }
        let health = match rest.health().await {
            Ok(h) => h,
            Err(e) => {
                self.unreachable = true;
                self.emit(ScopeEvent::Error(e.to_string()));
                return Phase::Backoff { reload };
            }
        };
        self.unreachable = false;
        if self
            .start_time
            .is_some_and(|t| t != health.server_start_time)
        {
            self.emit(ScopeEvent::ServerRestarted);
            // A restarted server lost its sessions and pipelines; assets may be gone too.
            self.rest = None;
            return Phase::Load;
        }
        if reload {
            return Phase::Load;
        }
        match rest.pipeline_status().await {
            Ok(s)
                if s.status == LoadState::Loaded
                    && s.pipeline_id.as_deref() == Some(cfg.pipeline_id.as_str()) =>
            {
                Phase::Connect
            }
            Ok(_) => Phase::Load,
            Err(e) => {
                self.emit(ScopeEvent::Error(e.to_string()));
                Phase::Backoff { reload }
            }
        }
    }

    /// One WebRTC session, from offer to stall/stop/reconfigure.
    async fn session(&mut self) -> Phase {
        let mut applied = self.current();
        let rest = match self.rest(&applied) {
            Ok(r) => r,
            Err(e) => return self.fail(&e),
        };
        self.set_state(ScopeState::Connecting);
        self.shared.reset_session();
        // Drop a stale queued frame so the first one we send is current.
        while self.frames_in.try_recv().is_ok() {}
        let spec = SessionSpec {
            codec: applied.codec,
            trickle: applied.trickle_ice,
            initial_parameters: applied.initial_parameters(&self.asset_paths),
            fps: applied.fps,
            bitrate_kbps: applied.bitrate_kbps,
            keyframe_interval: applied.keyframe_interval,
            gather_timeout: applied.request_timeout,
        };
        let mut stop = self.stop.clone();
        let connect = Session::connect(
            rest.clone(),
            spec,
            self.shared.clone(),
            self.frames_in.clone(),
        );
        let mut session = tokio::select! {
            r = connect => match r {
                Ok(s) => s,
                Err(ScopeError::Status { status: 400, detail, url, method }) => {
                    // "Pipeline not loaded": the server lost it (restart, or someone else loaded).
                    self.emit(ScopeEvent::Error(format!("{method} {url}: HTTP 400: {detail}")));
                    return Phase::Backoff { reload: true };
                }
                Err(e) => return self.fail(&e),
            },
            _ = stop.changed() => return Phase::Stop,
        };
        self.shared.set_session(Some(session.id.clone()));
        self.emit(ScopeEvent::SessionStarted {
            session_id: session.id.clone(),
        });

        let mut watchdog = Watchdog::new(
            Instant::now(),
            applied.first_frame_timeout,
            applied.stall_threshold,
        );
        let mut pending: Map<String, Value> = Map::new();
        let mut channel_open = false;
        let mut last_send = Instant::now()
            .checked_sub(applied.param_interval)
            .unwrap_or_else(Instant::now);
        let mut last_health = Instant::now();
        let mut health: Option<tokio::task::JoinHandle<ServerAnswers>> = None;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        // When this session was last marked stalled; a frame after it makes it live again.
        let mut stalled_at: Option<Instant> = None;
        let next = loop {
            tokio::select! {
                _ = stop.changed() => break Phase::Stop,
                r = self.config.changed() => {
                    if r.is_err() { break Phase::Stop; }
                    let wanted = self.current();
                    match applied.diff(&wanted) {
                        ConfigChange::Reload => break Phase::Load,
                        ConfigChange::Reconnect => break Phase::Connect,
                        ConfigChange::Runtime { mut update, ref_images_changed } => {
                            if ref_images_changed {
                                match self.upload_refs(&rest, &wanted.ref_images).await {
                                    Ok(()) => { update.insert("vace_ref_images".into(), Value::from(self.asset_paths.clone())); }
                                    Err(e) => self.emit(ScopeEvent::Error(e.to_string())),
                                }
                            }
                            merge_pending(&mut pending, update);
                            applied = wanted;
                            watchdog.set_limits(applied.first_frame_timeout, applied.stall_threshold);
                        }
                    }
                }
                ev = session.events.recv() => match ev {
                    Some(SessionEvent::ChannelOpen) => channel_open = true,
                    Some(SessionEvent::Message(text)) => match serde_json::from_str::<Value>(&text) {
                        Ok(v) => self.emit(ScopeEvent::ServerMessage(v)),
                        Err(e) => self.emit(ScopeEvent::Error(format!("{}: data channel sent non-JSON ({e}): {}", rest.base(), crate::error::snippet(&text)))),
                    },
                    Some(SessionEvent::Error(e)) => self.emit(ScopeEvent::Error(e)),
                    Some(SessionEvent::Closed(reason)) => {
                        self.emit(ScopeEvent::Error(format!("{}: session {}: {reason}", rest.base(), session.id)));
                        self.set_state(ScopeState::Stalled);
                        break Phase::Backoff { reload: false };
                    }
                    None => break Phase::Backoff { reload: false },
                },
                _ = tick.tick() => {
                    // Coalesced parameters: at most one message per interval, so a burst of
                    // changes becomes one merged object and the server's queue of 8 holds.
                    if channel_open && !pending.is_empty() && last_send.elapsed() >= applied.param_interval {
                        match session.send_parameters(&pending).await {
                            Ok(()) => { pending.clear(); last_send = Instant::now(); }
                            Err(e) => self.emit(ScopeEvent::Error(e.to_string())),
                        }
                    }
                    let last_frame = self.shared.last_frame_at();
                    let fresh = last_frame.is_some_and(|t| stalled_at.is_none_or(|s| t > s));
                    if fresh && self.state != ScopeState::Live {
                        stalled_at = None;
                        // A frame is the only proof the whole chain works: only now is the
                        // backoff earned back.
                        self.backoff.reset();
                        self.set_state(ScopeState::Live);
                    }
                    let seen = Observation {
                        now: Instant::now(),
                        last_frame,
                        frame_interval: self.shared.frame_interval(),
                        last_sent: self.shared.last_sent_at(),
                        paused: self.shared.paused(),
                        needs_input: applied.input_mode == crate::config::InputMode::Video,
                    };
                    if let Some(stall) = watchdog.check(&seen) {
                        // Stalled shows at once (the node falls back), but a live session is
                        // only torn down after `reconnect_after`: a loaded server that is late
                        // by a chunk recovers by itself, and a new session costs seconds.
                        if stalled_at.is_none() {
                            let what = if stall.first_frame { "no first frame" } else { "no frame" };
                            let message = format!(
                                "{}: {what} from session {} for {:?} (allowed {:?})",
                                rest.base(), session.id, stall.silent, stall.allowed);
                            tracing::warn!("{message}");
                            self.emit(ScopeEvent::Error(message));
                            self.set_state(ScopeState::Stalled);
                            stalled_at = Some(seen.now);
                        }
                        if stall.first_frame || stall.silent >= applied.reconnect_after {
                            break Phase::Backoff { reload: false };
                        }
                    }
                    // Restart detection and the server's own numbers run in the background,
                    // so a hanging server never delays the watchdog or parameter sends.
                    if let Some(task) = health.take_if(|t| t.is_finished())
                        && let Ok((h, metrics)) = task.await
                    {
                        self.shared.report(|r| {
                            r.healthy = Some(h.is_ok());
                            if let Some(m) = metrics.as_ref().and_then(|m| m.sessions.get(&session.id)) {
                                r.pipeline_fps = m.pipeline_fps.map(|f| f as f32);
                            }
                        });
                        if let Ok(h) = h
                            && self.start_time.is_some_and(|t| t != h.server_start_time)
                        {
                            self.emit(ScopeEvent::ServerRestarted);
                            self.rest = None;
                            break Phase::Load;
                        }
                    }
                    if health.is_none() && last_health.elapsed() > HEALTH_INTERVAL {
                        last_health = Instant::now();
                        let rest = rest.clone();
                        health = Some(tokio::spawn(async move {
                            let h = rest.health().await;
                            let metrics = rest.session_metrics().await.ok();
                            (h, metrics)
                        }));
                    }
                }
            }
        };
        if let Some(task) = health {
            task.abort();
        }
        // After a restart the old session id means nothing; otherwise say goodbye explicitly.
        let delete = self.rest.is_some();
        session.close(delete).await;
        self.shared.set_session(None);
        next
    }
}

/// Resolves when the config changes in a way that needs a reload (or the handle is gone).
async fn wait_reload(config: &mut watch::Receiver<ScopeConfig>, current: &ScopeConfig) {
    loop {
        if config.changed().await.is_err() {
            return std::future::pending().await;
        }
        let wanted = config.borrow().clone();
        if current.diff(&wanted) == ConfigChange::Reload {
            return;
        }
    }
}
