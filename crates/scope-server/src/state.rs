//! Server-wide state: pipeline manager, sessions, fault knobs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::faults::Faults;
use crate::pipeline::Stage;
use crate::rtc::Session;

/// Locks a mutex, recovering the data if a thread panicked while holding it (state stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadStatus {
    NotLoaded,
    Loading,
    Loaded,
    /// Reported by exactly one status poll, then `NotLoaded`.
    Error,
}

impl LoadStatus {
    fn as_str(self) -> &'static str {
        match self {
            LoadStatus::NotLoaded => "not_loaded",
            LoadStatus::Loading => "loading",
            LoadStatus::Loaded => "loaded",
            LoadStatus::Error => "error",
        }
    }
}

/// One requested pipeline instance; the key is `node_id` (new form) or the pipeline id (legacy).
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub key: String,
    pub pipeline_id: String,
    pub load_params: Map<String, Value>,
}

pub(crate) struct PipelineState {
    pub status: LoadStatus,
    /// Bumped by every load and unload so a stale load task cannot finish a newer request.
    pub generation: u64,
    pub instances: Vec<Instance>,
    pub loading_since: Option<Instant>,
    pub loading_duration: Duration,
}

pub(crate) struct Shared {
    pub faults: Mutex<Faults>,
    pub start_time: Mutex<f64>,
    pub pipeline: Mutex<PipelineState>,
    pub sessions: Mutex<HashMap<String, Arc<Session>>>,
    pub assets_dir: PathBuf,
    /// The newest data-channel parameter messages of every session, oldest first (at most
    /// [`KEPT_UPDATES`]): what a client really sent, for tests and tools.
    pub channel_updates: Mutex<std::collections::VecDeque<Map<String, Value>>>,
    /// Model downloads started (`POST /api/v1/models/download`), by pipeline id, while
    /// [`Faults::download_duration`] makes models missing.
    pub downloads: Mutex<HashMap<String, Instant>>,
}

/// How many data-channel updates [`Shared::channel_updates`] keeps.
pub const KEPT_UPDATES: usize = 1024;

impl Shared {
    pub fn new(faults: Faults, assets_dir: PathBuf) -> Self {
        Shared {
            faults: Mutex::new(faults),
            start_time: Mutex::new(unix_now()),
            pipeline: Mutex::new(PipelineState {
                status: LoadStatus::NotLoaded,
                generation: 0,
                instances: Vec::new(),
                loading_since: None,
                loading_duration: Duration::ZERO,
            }),
            sessions: Mutex::new(HashMap::new()),
            assets_dir,
            channel_updates: Mutex::new(std::collections::VecDeque::new()),
            downloads: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a load: the previous set is unloaded at once (so a failed load leaves nothing).
    /// Returns the generation, whether it will fail, and how long it takes.
    pub fn begin_load(&self, instances: Vec<Instance>) -> (u64, bool, Duration) {
        let (fail_fault, duration) = {
            let mut faults = lock(&self.faults);
            let fail = std::mem::take(&mut faults.fail_next_load);
            (fail, faults.load_duration)
        };
        let unknown = instances
            .iter()
            .any(|i| Stage::from_load(&i.pipeline_id, &i.load_params).is_none());
        let mut p = lock(&self.pipeline);
        p.generation += 1;
        p.status = LoadStatus::Loading;
        p.instances = instances;
        p.loading_since = Some(Instant::now());
        p.loading_duration = duration;
        (p.generation, fail_fault || unknown, duration)
    }

    pub fn finish_load(&self, generation: u64, fail: bool) {
        let mut p = lock(&self.pipeline);
        if p.generation != generation || p.status != LoadStatus::Loading {
            return;
        }
        p.loading_since = None;
        if fail {
            p.status = LoadStatus::Error;
            p.instances.clear();
        } else {
            p.status = LoadStatus::Loaded;
        }
    }

    pub fn unload(&self) {
        let mut p = lock(&self.pipeline);
        p.generation += 1;
        p.status = LoadStatus::NotLoaded;
        p.instances.clear();
        p.loading_since = None;
    }

    pub fn is_loaded(&self) -> bool {
        lock(&self.pipeline).status == LoadStatus::Loaded
    }

    /// `GET /api/v1/pipeline/status`; an `error` is reported once and then cleared.
    pub fn status_json(&self) -> Value {
        let mut p = lock(&self.pipeline);
        let status = p.status;
        if status == LoadStatus::Error {
            p.status = LoadStatus::NotLoaded;
        }
        let loaded = status == LoadStatus::Loaded;
        let first = p.instances.first().filter(|_| loaded);
        let loading_stage = match (status, p.loading_since) {
            (LoadStatus::Loading, Some(since)) => {
                let pct = progress(since, p.loading_duration) * 100.0;
                let ids: Vec<&str> = p.instances.iter().map(|i| i.pipeline_id.as_str()).collect();
                Value::String(format!("Loading {} ({pct:.0}%)", ids.join(", ")))
            }
            _ => Value::Null,
        };
        json!({
            "status": status.as_str(),
            "pipeline_id": first.map(|i| i.key.clone()),
            "load_params": first.map(|i| Value::Object(i.load_params.clone())),
            "loaded_lora_adapters": null,
            "error": null,
            "loading_stage": loading_stage,
            "produces_video": true,
            "produces_audio": false,
        })
    }

    /// `POST /api/v1/models/download`: `false` when that download already runs (the real
    /// server's 409).
    pub fn start_download(&self, pipeline_id: &str) -> bool {
        let Some(total) = lock(&self.faults).download_duration else {
            return true;
        };
        let mut downloads = lock(&self.downloads);
        match downloads.get(pipeline_id) {
            Some(since) if since.elapsed() < total => false,
            Some(_) => true,
            None => {
                downloads.insert(pipeline_id.to_owned(), Instant::now());
                true
            }
        }
    }

    /// `GET /api/v1/models/status`: with [`Faults::download_duration`], a pipeline other than
    /// passthrough is missing until its download has run that long, and reports its progress
    /// meanwhile; otherwise downloading while a slow load of that pipeline runs.
    pub fn models_status_json(&self, pipeline_id: &str) -> Value {
        let download = lock(&self.faults).download_duration;
        if let Some(total) = download
            && pipeline_id != "passthrough"
        {
            return match lock(&self.downloads).get(pipeline_id) {
                None => json!({ "downloaded": false, "progress": null }),
                Some(since) if since.elapsed() < total => json!({
                    "downloaded": false,
                    "progress": {
                        "is_downloading": true,
                        "percentage": (progress(*since, total) * 1000.0).round() / 10.0,
                        "current_artifact": format!("{pipeline_id}/diffusion_model.safetensors"),
                    },
                }),
                Some(_) => json!({ "downloaded": true, "progress": null }),
            };
        }
        let p = lock(&self.pipeline);
        match (p.status, p.loading_since) {
            (LoadStatus::Loading, Some(since))
                if !p.loading_duration.is_zero()
                    && p.instances.iter().any(|i| i.pipeline_id == pipeline_id) =>
            {
                json!({
                    "downloaded": false,
                    "progress": {
                        "is_downloading": true,
                        "percentage": (progress(since, p.loading_duration) * 1000.0).round() / 10.0,
                        "current_artifact": format!("{pipeline_id}/model.safetensors"),
                    },
                })
            }
            _ => json!({ "downloaded": true, "progress": null }),
        }
    }

    /// The processing chain for `pipeline_ids`, if every id names a loaded instance.
    pub fn chain(&self, pipeline_ids: &[String]) -> Option<Vec<Stage>> {
        let p = lock(&self.pipeline);
        if p.status != LoadStatus::Loaded || pipeline_ids.is_empty() {
            return None;
        }
        pipeline_ids
            .iter()
            .map(|id| {
                let inst = p.instances.iter().find(|i| &i.key == id)?;
                Stage::from_load(&inst.pipeline_id, &inst.load_params)
            })
            .collect()
    }

    pub fn sessions(&self) -> Vec<Arc<Session>> {
        let mut all: Vec<Arc<Session>> = lock(&self.sessions).values().cloned().collect();
        all.sort_by_key(|s| s.created);
        all
    }
}

fn progress(since: Instant, total: Duration) -> f64 {
    if total.is_zero() {
        return 1.0;
    }
    (since.elapsed().as_secs_f64() / total.as_secs_f64()).min(0.99)
}
