//! Typed REST client for the Scope HTTP API (`docs/scope-api.md` §1), following the server's code,
//! not its docs: `error` lasts one poll, `loading` → `not_loaded` is a failure, and the asset
//! path the server returns is the exact string later parameters must carry.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Result, ScopeError, render_detail, snippet};

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Health {
    pub status: String,
    /// Unix time the server process started; a change means the server restarted and every
    /// session and loaded pipeline is gone.
    pub server_start_time: f64,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub git_commit: Option<String>,
}

/// One entry of `GET /api/v1/pipelines/schemas` (the fields the client uses; the rest is kept).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PipelineSchema {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub supported_modes: Vec<String>,
    #[serde(default)]
    pub default_mode: Option<String>,
    #[serde(default)]
    pub supports_prompts: bool,
    #[serde(default)]
    pub supports_vace: bool,
    #[serde(default)]
    pub requires_models: bool,
    /// Everything else (config_schema, mode_defaults, ...), untyped.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct SchemasAnswer {
    pipelines: BTreeMap<String, PipelineSchema>,
}

/// The `status` field of `GET /api/v1/pipeline/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadState {
    NotLoaded,
    Loading,
    Loaded,
    Error,
}

/// `GET /api/v1/pipeline/status`.
#[derive(Debug, Clone, Deserialize)]
pub struct PipelineStatus {
    pub status: LoadState,
    #[serde(default)]
    pub pipeline_id: Option<String>,
    #[serde(default)]
    pub load_params: Option<Map<String, Value>>,
    /// Always null on v0.2.4; kept in case a server fills it.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub loading_stage: Option<String>,
}

impl PipelineStatus {
    /// Load progress in 0..=1 when the server's `loading_stage` carries a percentage
    /// (e.g. `"loading weights 40%"`).
    pub fn progress(&self) -> Option<f32> {
        let stage = self.loading_stage.as_deref()?;
        let pct = stage.find('%')?;
        let digits: String = stage[..pct]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let value: f32 = digits.parse().ok()?;
        Some((value / 100.0).clamp(0.0, 1.0))
    }
}

/// How far a load has come, as the server reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadProgress {
    /// The pipeline's models are downloading (`/api/v1/models/status`): the fraction done and
    /// the file being fetched, where the server says.
    Download {
        fraction: Option<f32>,
        artifact: Option<String>,
    },
    /// The pipeline is loading (`loading_stage`), the fraction done where it says.
    Load(Option<f32>),
}

/// `GET /api/v1/models/status`.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelStatus {
    pub downloaded: bool,
    #[serde(default)]
    pub progress: Option<DownloadProgress>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DownloadProgress {
    #[serde(default)]
    pub is_downloading: bool,
    #[serde(default)]
    pub percentage: f64,
    #[serde(default)]
    pub current_artifact: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// `POST /api/v1/assets` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct AssetInfo {
    #[serde(default)]
    pub name: String,
    /// Absolute path on the server: the exact string parameters must carry.
    pub path: String,
}

/// One session of `GET /api/v1/session/metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SessionMetric {
    pub frames_in: f64,
    pub frames_out: f64,
    pub elapsed_seconds: f64,
    pub fps_in: f64,
    pub fps_out: f64,
    /// The pipeline's own rate (chunks × frames per chunk per second).
    pub pipeline_fps: Option<f64>,
}

/// `GET /api/v1/hardware/info` (the part the client shows).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HardwareInfo {
    /// The server's GPU memory; `null` without CUDA.
    pub vram_gb: Option<f64>,
}

/// `GET /api/v1/session/metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SessionMetrics {
    #[serde(default)]
    pub sessions: BTreeMap<String, SessionMetric>,
}

#[derive(Debug, Deserialize)]
struct ParametersAnswer {
    parameters: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct AppliedAnswer {
    #[serde(default)]
    applied_parameters: Map<String, Value>,
}

/// `POST /api/v1/webrtc/offer` body.
#[derive(Debug, Clone, Serialize)]
pub struct OfferRequest {
    pub sdp: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "initialParameters")]
    pub initial_parameters: Map<String, Value>,
}

/// `POST /api/v1/webrtc/offer` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct OfferAnswer {
    pub sdp: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "sessionId")]
    pub session_id: String,
}

/// One trickled ICE candidate for `PATCH /api/v1/webrtc/offer/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid")]
    pub sdp_mid: Option<String>,
    #[serde(rename = "sdpMLineIndex")]
    pub sdp_mline_index: Option<u16>,
}

/// Extensions the server accepts for uploads (`docs/scope-api.md` §1.1).
const ASSET_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "webp", "bmp", "mp4", "avi", "mov", "mkv", "webm", "wav", "mp3", "flac",
    "ogg",
];

enum Body {
    None,
    Json(Value),
    Bytes(Vec<u8>),
}

/// Async client for one Scope server. Cheap to share behind an `Arc`; the asset cache lives here
/// so the same file content is uploaded once per server.
pub struct RestClient {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
    /// sha256 of the file content → server path.
    assets: Mutex<HashMap<[u8; 32], String>>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .finish()
    }
}

impl RestClient {
    /// `base` is the server's http base URL (`http://127.0.0.1:8000`); `timeout` bounds every
    /// request.
    pub fn new(base: &str, timeout: Duration) -> Result<Self> {
        let trimmed = base.trim().trim_end_matches('/');
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(ScopeError::BadUrl {
                url: base.to_owned(),
                reason: "must start with http:// or https://".to_owned(),
            });
        }
        if trimmed.len() <= "https://".len() {
            return Err(ScopeError::BadUrl {
                url: base.to_owned(),
                reason: "no host".to_owned(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| ScopeError::BadUrl {
                url: base.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(RestClient {
            base: trimmed.to_owned(),
            http,
            timeout,
            assets: Mutex::new(HashMap::new()),
        })
    }

    /// The normalised base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends one request and returns the status and body text, mapping transport failures.
    async fn send(&self, method: Method, path: &str, body: Body) -> Result<(u16, String, String)> {
        let url = self.url(path);
        let name = method_name(&method);
        let mut req = self.http.request(method, &url);
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Bytes(b) => req
                .header("content-type", "application/octet-stream")
                .body(b),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| self.transport(name, &url, &e))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = resp
            .text()
            .await
            .map_err(|e| self.transport(name, &url, &e))?;
        if !(200..300).contains(&status) {
            let detail = match serde_json::from_str::<Value>(&text) {
                Ok(v) => match v.get("detail") {
                    Some(d) => render_detail(d),
                    None => snippet(&text),
                },
                Err(_) => snippet(&text),
            };
            return Err(ScopeError::Status {
                method: name,
                url,
                status,
                detail,
            });
        }
        Ok((status, content_type, text))
    }

    fn transport(&self, method: &'static str, url: &str, e: &reqwest::Error) -> ScopeError {
        let url = url.to_owned();
        if e.is_timeout() {
            ScopeError::Timeout {
                method,
                url,
                timeout: self.timeout,
            }
        } else if e.is_connect() {
            ScopeError::Connect {
                method,
                url,
                reason: connect_cause(e),
            }
        } else {
            ScopeError::Transport {
                method,
                url,
                reason: error_chain(e),
            }
        }
    }

    async fn json<T: DeserializeOwned>(&self, method: Method, path: &str, body: Body) -> Result<T> {
        let name = method_name(&method);
        let (_, content_type, text) = self.send(method, path, body).await?;
        if !content_type.to_ascii_lowercase().contains("json") {
            return Err(ScopeError::ContentType {
                method: name,
                url: self.url(path),
                content_type,
                snippet: snippet(&text),
            });
        }
        serde_json::from_str(&text).map_err(|e| ScopeError::BadJson {
            method: name,
            url: self.url(path),
            reason: e.to_string(),
            snippet: snippet(&text),
        })
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<Health> {
        self.json(Method::GET, "/health", Body::None).await
    }

    /// `GET /api/v1/hardware/info`.
    pub async fn hardware_info(&self) -> Result<HardwareInfo> {
        self.json(Method::GET, "/api/v1/hardware/info", Body::None)
            .await
    }

    /// `GET /api/v1/pipelines/schemas`, keyed by pipeline id.
    pub async fn pipeline_schemas(&self) -> Result<BTreeMap<String, PipelineSchema>> {
        let answer: SchemasAnswer = self
            .json(Method::GET, "/api/v1/pipelines/schemas", Body::None)
            .await?;
        Ok(answer.pipelines)
    }

    /// `POST /api/v1/pipeline/load` (legacy form: the instance key is the pipeline id). Returns
    /// at once; use [`RestClient::wait_loaded`] or [`RestClient::load_and_wait`].
    pub async fn load_pipeline(
        &self,
        pipeline_ids: &[String],
        load_params: &Map<String, Value>,
    ) -> Result<()> {
        let body = serde_json::json!({ "pipeline_ids": pipeline_ids, "load_params": load_params });
        self.send(Method::POST, "/api/v1/pipeline/load", Body::Json(body))
            .await?;
        Ok(())
    }

    /// `GET /api/v1/pipeline/status`.
    pub async fn pipeline_status(&self) -> Result<PipelineStatus> {
        self.json(Method::GET, "/api/v1/pipeline/status", Body::None)
            .await
    }

    /// Polls the status after a load request until `pipeline` is loaded.
    ///
    /// Real semantics: `error` is reported for exactly one poll and then becomes `not_loaded`,
    /// so both `error` and `loading` → `not_loaded` are failures. `not_loaded` before any
    /// `loading` is tolerated for `start_grace` (the load task may not have started yet).
    pub async fn wait_loaded(
        &self,
        pipeline: &str,
        poll: Duration,
        timeout: Duration,
        mut on_progress: impl FnMut(Option<f32>),
    ) -> Result<PipelineStatus> {
        let start = Instant::now();
        let start_grace = Duration::from_secs(3);
        let mut seen_loading = false;
        loop {
            let status = self.pipeline_status().await?;
            let fail = |reason: String| ScopeError::LoadFailed {
                url: self.url("/api/v1/pipeline/status"),
                pipeline: pipeline.to_owned(),
                reason,
            };
            match status.status {
                LoadState::Loaded if status.pipeline_id.as_deref() == Some(pipeline) => {
                    on_progress(Some(1.0));
                    return Ok(status);
                }
                LoadState::Loaded if seen_loading => {
                    return Err(fail(format!(
                        "server loaded {:?} instead",
                        status.pipeline_id.unwrap_or_default()
                    )));
                }
                LoadState::Loaded => {}
                LoadState::Loading => {
                    seen_loading = true;
                    on_progress(status.progress());
                }
                LoadState::Error => {
                    return Err(fail(match status.error {
                        Some(e) => format!("server reported error: {e}"),
                        None => {
                            "server reported status \"error\" (see the server log for the cause)"
                                .to_owned()
                        }
                    }));
                }
                LoadState::NotLoaded if seen_loading => {
                    return Err(fail(
                        "status went from \"loading\" to \"not_loaded\" (the load failed; the \
                         previous pipeline is unloaded too)"
                            .to_owned(),
                    ));
                }
                LoadState::NotLoaded if start.elapsed() > start_grace => {
                    return Err(fail(format!(
                        "still \"not_loaded\" {start_grace:?} after the load request"
                    )));
                }
                LoadState::NotLoaded => {}
            }
            if start.elapsed() > timeout {
                return Err(fail(format!("not loaded after {timeout:?}")));
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Loads `pipeline` with `load_params` unless the server already has exactly it loaded with
    /// those parameters; downloads missing models first.
    pub async fn load_and_wait(
        &self,
        pipeline: &str,
        load_params: &Map<String, Value>,
        timeout: Duration,
        on_progress: impl FnMut(LoadProgress),
    ) -> Result<PipelineStatus> {
        self.load_and_wait_known(pipeline, load_params, timeout, on_progress, None)
            .await
    }

    /// [`RestClient::load_and_wait`] with the server's pipeline list already asked for
    /// (`known`), so it is not asked again; `None` asks.
    pub async fn load_and_wait_known(
        &self,
        pipeline: &str,
        load_params: &Map<String, Value>,
        timeout: Duration,
        mut on_progress: impl FnMut(LoadProgress),
        known: Option<&BTreeMap<String, PipelineSchema>>,
    ) -> Result<PipelineStatus> {
        let current = self.pipeline_status().await?;
        if current.status == LoadState::Loaded
            && current.pipeline_id.as_deref() == Some(pipeline)
            && params_contain(current.load_params.as_ref(), load_params)
        {
            return Ok(current);
        }
        // `models/status` says "downloaded" for unknown ids, so ask the schemas whether the
        // pipeline exists at all (servers without the route skip this check).
        let asked = match known {
            Some(list) => Ok(std::borrow::Cow::Borrowed(list)),
            None => self.pipeline_schemas().await.map(std::borrow::Cow::Owned),
        };
        match asked {
            Ok(schemas) if !schemas.contains_key(pipeline) => {
                return Err(ScopeError::LoadFailed {
                    url: self.url("/api/v1/pipelines/schemas"),
                    pipeline: pipeline.to_owned(),
                    reason: format!(
                        "the server does not offer it (available: {})",
                        schemas.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            Ok(_) | Err(ScopeError::Status { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
        self.ensure_models(pipeline, timeout, &mut on_progress)
            .await?;
        self.load_pipeline(&[pipeline.to_owned()], load_params)
            .await?;
        self.wait_loaded(pipeline, Duration::from_millis(100), timeout, |p| {
            on_progress(LoadProgress::Load(p));
        })
        .await
    }

    /// `GET /api/v1/models/status?pipeline_id=`.
    pub async fn model_status(&self, pipeline: &str) -> Result<ModelStatus> {
        let path = format!(
            "/api/v1/models/status?pipeline_id={}",
            query_escape(pipeline)
        );
        self.json(Method::GET, &path, Body::None).await
    }

    /// `POST /api/v1/models/download`; a 409 (already downloading) counts as success.
    pub async fn download_models(&self, pipeline: &str) -> Result<()> {
        let body = serde_json::json!({ "pipeline_id": pipeline });
        match self
            .send(Method::POST, "/api/v1/models/download", Body::Json(body))
            .await
        {
            Ok(_) => Ok(()),
            Err(ScopeError::Status { status: 409, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Downloads the pipeline's models if the server says they are missing, reporting progress
    /// in 0..=1.
    pub async fn ensure_models(
        &self,
        pipeline: &str,
        timeout: Duration,
        on_progress: &mut impl FnMut(LoadProgress),
    ) -> Result<()> {
        if self.model_status(pipeline).await?.downloaded {
            return Ok(());
        }
        self.download_models(pipeline).await?;
        let start = Instant::now();
        loop {
            let status = self.model_status(pipeline).await?;
            if status.downloaded {
                return Ok(());
            }
            if let Some(p) = &status.progress {
                if let Some(err) = &p.error {
                    return Err(ScopeError::ModelDownload {
                        url: self.base.clone(),
                        pipeline: pipeline.to_owned(),
                        reason: err.clone(),
                    });
                }
                on_progress(LoadProgress::Download {
                    fraction: p
                        .percentage
                        .is_finite()
                        .then(|| (p.percentage / 100.0).clamp(0.0, 1.0) as f32),
                    artifact: p.current_artifact.clone(),
                });
            }
            if start.elapsed() > timeout {
                return Err(ScopeError::ModelDownload {
                    url: self.base.clone(),
                    pipeline: pipeline.to_owned(),
                    reason: format!("not finished after {timeout:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Uploads a local file as an asset and returns the server's absolute path. The same content
    /// is uploaded once per client (cached by sha256), whatever the local file name.
    pub async fn upload_asset(&self, path: &Path) -> Result<String> {
        let asset_err = |reason: String| ScopeError::Asset {
            path: path.to_owned(),
            reason,
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if !ASSET_EXTENSIONS.contains(&ext.as_str()) {
            return Err(asset_err(format!(
                "extension {ext:?} is not accepted by Scope (use one of {})",
                ASSET_EXTENSIONS.join(", ")
            )));
        }
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| asset_err(e.to_string()))?;
        let hash: [u8; 32] = Sha256::digest(&bytes).into();
        if let Some(p) = self.assets.lock().ok().and_then(|m| m.get(&hash).cloned()) {
            return Ok(p);
        }
        // Content-addressed name: distinct contents never overwrite each other on the server.
        let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("asset");
        let stem: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let filename = format!("{stem}-{hex}.{ext}");
        let info: AssetInfo = self
            .json(
                Method::POST,
                &format!("/api/v1/assets?filename={}", query_escape(&filename)),
                Body::Bytes(bytes),
            )
            .await?;
        if let Ok(mut m) = self.assets.lock() {
            m.insert(hash, info.path.clone());
        }
        Ok(info.path)
    }

    /// `GET /api/v1/session/parameters` (the first active session's merged parameters).
    pub async fn session_parameters(&self) -> Result<Map<String, Value>> {
        let answer: ParametersAnswer = self
            .json(Method::GET, "/api/v1/session/parameters", Body::None)
            .await?;
        Ok(answer.parameters)
    }

    /// `POST /api/v1/session/parameters` (broadcast to every session; the server validates and
    /// injects defaults, unlike the data channel).
    pub async fn set_session_parameters(
        &self,
        params: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let answer: AppliedAnswer = self
            .json(
                Method::POST,
                "/api/v1/session/parameters",
                Body::Json(Value::Object(params.clone())),
            )
            .await?;
        Ok(answer.applied_parameters)
    }

    /// `GET /api/v1/session/metrics`.
    pub async fn session_metrics(&self) -> Result<SessionMetrics> {
        self.json(Method::GET, "/api/v1/session/metrics", Body::None)
            .await
    }

    /// `POST /api/v1/webrtc/offer`.
    pub async fn offer(&self, request: &OfferRequest) -> Result<OfferAnswer> {
        let body = serde_json::to_value(request).map_err(|e| ScopeError::Webrtc {
            url: self.base.clone(),
            reason: e.to_string(),
        })?;
        let answer: OfferAnswer = self
            .json(Method::POST, "/api/v1/webrtc/offer", Body::Json(body))
            .await?;
        if answer.kind != "answer" || !answer.sdp.starts_with("v=0") {
            return Err(ScopeError::BadSdp {
                url: self.url("/api/v1/webrtc/offer"),
                reason: format!(
                    "type {:?}, sdp starts {:?}",
                    answer.kind,
                    snippet(&answer.sdp)
                ),
            });
        }
        Ok(answer)
    }

    /// `PATCH /api/v1/webrtc/offer/{id}` with trickled candidates.
    pub async fn patch_candidates(
        &self,
        session_id: &str,
        candidates: &[IceCandidate],
    ) -> Result<()> {
        let body = serde_json::json!({ "candidates": candidates });
        let path = format!("/api/v1/webrtc/offer/{}", query_escape(session_id));
        self.send(Method::PATCH, &path, Body::Json(body)).await?;
        Ok(())
    }

    /// `DELETE /api/v1/webrtc/offer/{id}` (204 even for unknown ids).
    pub async fn delete_session(&self, session_id: &str) -> Result<()> {
        let path = format!("/api/v1/webrtc/offer/{}", query_escape(session_id));
        self.send(Method::DELETE, &path, Body::None).await?;
        Ok(())
    }
}

/// True when every key of `wanted` has the same value in `have`.
fn params_contain(have: Option<&Map<String, Value>>, wanted: &Map<String, Value>) -> bool {
    match have {
        Some(have) => wanted.iter().all(|(k, v)| have.get(k) == Some(v)),
        None => wanted.is_empty(),
    }
}

fn method_name(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        _ => "HTTP",
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// The root cause of a failed connect in a few words ("connection refused"): reqwest wraps it
/// in three layers that repeat the URL, which buries the one fact an operator needs.
fn connect_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut last = e.to_string();
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                std::io::ErrorKind::TimedOut => "connect timed out".to_owned(),
                std::io::ErrorKind::HostUnreachable => "host unreachable".to_owned(),
                std::io::ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
                _ => io.to_string(),
            };
        }
        last = err.to_string();
        cur = err.source();
    }
    last
}

/// Percent-encodes a query or path component.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_from_stage() {
        let s = PipelineStatus {
            status: LoadState::Loading,
            pipeline_id: None,
            load_params: None,
            error: None,
            loading_stage: Some("loading weights 40%".into()),
        };
        assert_eq!(s.progress(), Some(0.4));
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            RestClient::new("localhost:8000", Duration::from_secs(1)),
            Err(ScopeError::BadUrl { .. })
        ));
        assert!(matches!(
            RestClient::new("http://", Duration::from_secs(1)),
            Err(ScopeError::BadUrl { .. })
        ));
    }

    #[test]
    fn escapes() {
        assert_eq!(query_escape("a b/c.png"), "a%20b%2Fc.png");
    }
}
