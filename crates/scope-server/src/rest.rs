//! The REST routes of docs/scope-api.md §1.1 with the real server's status codes and error shapes.

use std::path::{Component, Path};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Map, Value, json};

use crate::params;
use crate::pipeline::{CHUNK, STYLIZE_DEFAULT_SIZE};
use crate::rtc;
use crate::state::{Instance, Shared, lock, unix_now};

type AppState = Arc<Shared>;

const IMAGE_EXT: [&str; 5] = ["png", "jpg", "jpeg", "webp", "bmp"];
const VIDEO_EXT: [&str; 5] = ["mp4", "avi", "mov", "mkv", "webm"];
const AUDIO_EXT: [&str; 4] = ["wav", "mp3", "flac", "ogg"];

pub(crate) fn router(shared: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/hardware/info", get(hardware_info))
        .route("/api/v1/pipelines/schemas", get(schemas))
        .route("/api/v1/pipeline/load", post(load))
        .route("/api/v1/pipeline/status", get(status))
        .route("/api/v1/models/status", get(models_status))
        .route("/api/v1/models/download", post(models_download))
        .route("/api/v1/webrtc/ice-servers", get(ice_servers))
        .route("/api/v1/webrtc/offer", post(offer))
        .route(
            "/api/v1/webrtc/offer/{id}",
            patch(patch_candidates).delete(delete_session),
        )
        .route(
            "/api/v1/session/parameters",
            get(get_parameters).post(post_parameters),
        )
        .route("/api/v1/session/metrics", get(metrics))
        .route("/api/v1/assets", post(upload_asset).get(list_assets))
        .route("/api/v1/assets/{*path}", get(get_asset))
        .fallback(|| async { reply(StatusCode::NOT_FOUND, json!({"detail": "Not Found"})) })
        // Local uploads are not size-capped on the real server (50 MB only in cloud mode).
        .layer(DefaultBodyLimit::max(512 * 1024 * 1024))
        .layer(axum::middleware::map_response(cors))
        .with_state(shared)
}

async fn cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// An error reply built before the handler decides (kept small; becomes a JSON response).
struct ApiError(StatusCode, Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        reply(self.0, self.1)
    }
}

fn unprocessable_err(errors: Vec<Value>) -> ApiError {
    ApiError(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({ "detail": errors }),
    )
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn detail(status: StatusCode, text: impl Into<String>) -> Response {
    reply(status, json!({ "detail": text.into() }))
}

fn unprocessable(errors: Vec<Value>) -> Response {
    reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({ "detail": errors }),
    )
}

/// Parses a JSON body the way FastAPI does: not JSON at all → 422 `json_invalid`.
fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(unprocessable_err(vec![json!({
            "type": "missing", "loc": ["body"], "msg": "Field required", "input": null,
        })]));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "detail": params::json_invalid(&e) }),
        )
    })
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, like Python's `datetime.isoformat()`).
fn iso_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil-from-days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros()
    )
}

async fn health(State(s): State<AppState>) -> Response {
    let start = *lock(&s.start_time);
    reply(
        StatusCode::OK,
        json!({
            "status": "healthy",
            "timestamp": iso_now(),
            "server_start_time": start,
            "version": "0.2.4",
            "git_commit": "unknown (metadj-scope embedded server)",
        }),
    )
}

async fn hardware_info() -> Response {
    let absent = json!({"available": false, "reason": "not supported by the embedded server", "install_hint": null});
    reply(
        StatusCode::OK,
        json!({"vram_gb": null, "spout": absent, "ndi": absent, "syphon": absent}),
    )
}

fn schema(
    id: &str,
    name: &str,
    description: &str,
    default_size: Option<(u32, u32)>,
    more: Value,
) -> Value {
    let size_field = |default: Option<u32>, title: &str| {
        json!({
            "type": "integer", "title": title, "default": default, "minimum": 16, "maximum": 2048,
            "ui": {"is_load_param": true},
        })
    };
    let mut properties = json!({
        "height": size_field(default_size.map(|s| s.1), "Height"),
        "width": size_field(default_size.map(|s| s.0), "Width"),
    });
    if let (Some(p), Value::Object(more)) = (properties.as_object_mut(), more) {
        p.extend(more);
    }
    json!({
        "id": id, "name": name, "description": description, "version": "1.0.0",
        "supported_modes": ["video"], "default_mode": "video",
        "supports_prompts": false, "supports_lora": false, "supports_vace": false,
        "supports_cache_management": false, "supports_kv_cache_bias": false, "supports_quantization": false,
        "default_temporal_interpolation_method": null, "default_temporal_interpolation_steps": null,
        "default_spatial_interpolation_method": null,
        "estimated_vram_gb": null, "requires_models": false, "min_dimension": 16,
        "produces_video": true, "produces_audio": false, "usage": [],
        "inputs": ["video"], "outputs": ["video"],
        "config_schema": {
            "title": format!("{name}Config"), "type": "object",
            "properties": properties,
            "$defs": {"Tint": {"title": "Tint", "type": "string", "enum": ["violet", "amber"]}},
        },
        "mode_defaults": {"video": default_size.map(|(w, h)| json!({"height": h, "width": w})).unwrap_or(json!({}))},
        "plugin_name": null,
        "input_size": CHUNK,
    })
}

/// `stylize`'s look (`pipeline::Look`), in the shapes pydantic writes: a nullable integer, a
/// bounded number, an enum behind a `$ref`, a boolean.
fn stylize_fields() -> Value {
    let load = json!({"is_load_param": true});
    json!({
        "levels": {"anyOf": [{"type": "integer", "minimum": 2, "maximum": 8}, {"type": "null"}],
            "default": null, "title": "Levels",
            "description": "Posterize steps per channel (null: 4)", "ui": load},
        "gamma": {"type": "number", "minimum": 0.25, "maximum": 4.0, "default": 1.0, "title": "Gamma",
            "description": "Brightens (above 1) or darkens before posterizing", "ui": load},
        "tint": {"$ref": "#/$defs/Tint", "default": "violet",
            "description": "The colour of the look", "ui": load},
        "keep_green": {"type": "boolean", "default": true, "title": "Keep Green",
            "description": "Leave chroma-key green untouched so a key still finds it", "ui": load},
    })
}

async fn schemas() -> Response {
    reply(StatusCode::OK, schemas_json())
}

/// The answer to `GET /api/v1/pipelines/schemas`.
pub fn schemas_json() -> Value {
    json!({"pipelines": {
            "passthrough": schema("passthrough", "Passthrough",
                "Returns the input video without any processing (output = input size).", None, json!({})),
            "stylize": schema("stylize", "Stylize",
                "Posterize + violet tint that leaves chroma-green pixels untouched; output = load width x height.",
                Some(STYLIZE_DEFAULT_SIZE), stylize_fields()),
    }})
}

fn load_instances(body: &Value) -> Result<Vec<Instance>, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(unprocessable_err(vec![json!({
            "type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from", "input": body,
        })]));
    };
    let mut errors = Vec::new();
    let mut type_err = |loc: Value, kind: &str, msg: &str, input: &Value| {
        errors.push(json!({"type": kind, "loc": loc, "msg": msg, "input": input}));
    };
    let params_of = |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
    let mut instances = Vec::new();
    let bad_dict = |v: Option<&Value>| v.is_some_and(|v| !v.is_null() && !v.is_object());
    if bad_dict(obj.get("load_params")) {
        type_err(
            json!(["body", "load_params"]),
            "dict_type",
            "Input should be a valid dictionary",
            &obj["load_params"],
        );
    }
    match (
        obj.get("pipelines").filter(|v| !v.is_null()),
        obj.get("pipeline_ids").filter(|v| !v.is_null()),
    ) {
        (Some(Value::Array(list)), _) => {
            for (i, item) in list.iter().enumerate() {
                let field = |k: &str| item.get(k).and_then(Value::as_str).map(String::from);
                match (field("node_id"), field("pipeline_id")) {
                    (Some(node_id), Some(pipeline_id)) if !bad_dict(item.get("load_params")) => {
                        instances.push(Instance {
                            key: node_id,
                            pipeline_id,
                            load_params: params_of(item.get("load_params")),
                        })
                    }
                    _ => type_err(
                        json!(["body", "pipelines", i]),
                        "model_type",
                        "Input should have string node_id and pipeline_id and a dict load_params",
                        item,
                    ),
                }
            }
        }
        (Some(other), _) => type_err(
            json!(["body", "pipelines"]),
            "list_type",
            "Input should be a valid list",
            other,
        ),
        (None, Some(Value::Array(ids))) => {
            for (i, id) in ids.iter().enumerate() {
                match id.as_str() {
                    Some(id) => instances.push(Instance {
                        key: id.to_string(),
                        pipeline_id: id.to_string(),
                        load_params: params_of(obj.get("load_params")),
                    }),
                    None => type_err(
                        json!(["body", "pipeline_ids", i]),
                        "string_type",
                        "Input should be a valid string",
                        id,
                    ),
                }
            }
        }
        (None, Some(other)) => type_err(
            json!(["body", "pipeline_ids"]),
            "list_type",
            "Input should be a valid list",
            other,
        ),
        (None, None) => {}
    }
    if !errors.is_empty() {
        return Err(unprocessable_err(errors));
    }
    if instances.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            json!({"detail": "Either 'pipelines' or 'pipeline_ids' must be provided"}),
        ));
    }
    Ok(instances)
}

async fn load(State(s): State<AppState>, body: Bytes) -> Response {
    let instances = match json_body(&body).and_then(|v| load_instances(&v)) {
        Ok(i) => i,
        Err(r) => return r.into_response(),
    };
    let (generation, fail, duration) = s.begin_load(instances);
    tokio::spawn(async move {
        tokio::time::sleep(duration).await;
        s.finish_load(generation, fail);
    });
    reply(
        StatusCode::OK,
        json!({"message": "Pipeline loading initiated successfully"}),
    )
}

async fn status(State(s): State<AppState>) -> Response {
    reply(StatusCode::OK, s.status_json())
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn missing_query(name: &str) -> Response {
    unprocessable(vec![
        json!({"type": "missing", "loc": ["query", name], "msg": "Field required", "input": null}),
    ])
}

async fn models_status(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    match query_param(q.as_deref(), "pipeline_id") {
        Some(id) => reply(StatusCode::OK, s.models_status_json(&id)),
        None => missing_query("pipeline_id"),
    }
}

async fn models_download(State(s): State<AppState>, body: Bytes) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    match v.get("pipeline_id").and_then(Value::as_str) {
        Some(id) if !s.start_download(id) => reply(
            StatusCode::CONFLICT,
            json!({"detail": format!("Download already in progress for {id}")}),
        ),
        Some(id) => reply(
            StatusCode::OK,
            json!({"message": format!("Model download started for {id}")}),
        ),
        None => unprocessable(vec![json!({
            "type": "missing", "loc": ["body", "pipeline_id"], "msg": "Field required", "input": v,
        })]),
    }
}

/// Empty: the embedded server is loopback-only, and an unreachable STUN server would only slow
/// a client's gathering down offline (the real default is Google's STUN).
async fn ice_servers() -> Response {
    reply(StatusCode::OK, json!({"iceServers": []}))
}

async fn offer(State(s): State<AppState>, body: Bytes) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let mut errors = Vec::new();
    for key in ["sdp", "type"] {
        match v.get(key) {
            Some(Value::String(_)) => {}
            None | Some(Value::Null) => {
                errors.push(json!({"type": "missing", "loc": ["body", key], "msg": "Field required", "input": v}));
            }
            Some(other) => errors.push(json!({
                "type": "string_type", "loc": ["body", key], "msg": "Input should be a valid string", "input": other,
            })),
        }
    }
    let initial = match v.get("initialParameters").filter(|p| !p.is_null()) {
        Some(p) => match params::validate(p, &[json!("body"), json!("initialParameters")]) {
            Ok(m) => m,
            Err(mut e) => {
                errors.append(&mut e);
                Map::new()
            }
        },
        None => Map::new(),
    };
    if !errors.is_empty() {
        return unprocessable(errors);
    }
    if !s.is_loaded() {
        return detail(
            StatusCode::BAD_REQUEST,
            "Pipeline not loaded. Please load pipeline first.",
        );
    }
    let sdp = v
        .get("sdp")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match rtc::answer_offer(&s, sdp, initial).await {
        Ok(answer) => reply(
            StatusCode::OK,
            json!({"sdp": answer.sdp, "type": "answer", "sessionId": answer.session_id}),
        ),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn patch_candidates(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let Some(list) = v.get("candidates").and_then(Value::as_array) else {
        return unprocessable(vec![json!({
            "type": "missing", "loc": ["body", "candidates"], "msg": "Field required", "input": v,
        })]);
    };
    let session = lock(&s.sessions).get(&id).cloned();
    let Some(session) = session.filter(|s| !s.is_closed()) else {
        return detail(StatusCode::NOT_FOUND, format!("Session {id} not found"));
    };
    for c in list {
        let Some(candidate) = c.get("candidate").and_then(Value::as_str) else {
            return detail(
                StatusCode::NOT_FOUND,
                "Invalid candidate: missing 'candidate' string",
            );
        };
        let mid = c.get("sdpMid").and_then(Value::as_str).map(String::from);
        let index = c
            .get("sdpMLineIndex")
            .and_then(Value::as_u64)
            .and_then(|i| u16::try_from(i).ok());
        if let Err(e) = session
            .add_candidate(candidate.to_string(), mid, index)
            .await
        {
            return detail(StatusCode::NOT_FOUND, format!("Invalid candidate: {e}"));
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_session(State(s): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let session = lock(&s.sessions).get(&id).cloned();
    if let Some(session) = session {
        session.close().await;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn get_parameters(State(s): State<AppState>) -> Response {
    let params = s
        .sessions()
        .first()
        .map(|session| Value::Object(session.current_params()))
        .unwrap_or_else(|| json!({}));
    reply(StatusCode::OK, json!({"parameters": params}))
}

async fn post_parameters(State(s): State<AppState>, body: Bytes) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let applied = match params::validate(&v, &[json!("body")]) {
        Ok(m) => m,
        Err(e) => return unprocessable(e),
    };
    for session in s.sessions() {
        session.apply_rest_update(&applied).await;
    }
    reply(
        StatusCode::OK,
        json!({"status": "ok", "applied_parameters": applied}),
    )
}

async fn metrics(State(s): State<AppState>) -> Response {
    let mut sessions = Map::new();
    if let Some(first) = s.sessions().first() {
        sessions.insert(first.id.clone(), first.metrics_json());
    }
    reply(StatusCode::OK, json!({"sessions": sessions}))
}

fn asset_kind(name: &str) -> Option<&'static str> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    if IMAGE_EXT.contains(&ext.as_str()) {
        Some("image")
    } else if VIDEO_EXT.contains(&ext.as_str()) {
        Some("video")
    } else if AUDIO_EXT.contains(&ext.as_str()) {
        Some("audio")
    } else {
        None
    }
}

fn asset_info(path: &Path) -> Option<Value> {
    let name = path.file_name()?.to_str()?;
    let meta = std::fs::metadata(path).ok()?;
    let created = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or_else(unix_now);
    Some(json!({
        "name": Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or(name),
        "path": path.to_string_lossy(),
        "size_mb": ((meta.len() as f64 / (1024.0 * 1024.0)) * 100.0).round() / 100.0,
        "folder": null,
        "type": asset_kind(name)?,
        "created_at": created,
    }))
}

async fn upload_asset(State(s): State<AppState>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let Some(filename) = query_param(q.as_deref(), "filename") else {
        return missing_query("filename");
    };
    let escapes = Path::new(&filename)
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
        || filename.contains(['/', '\\'])
        || filename.trim().is_empty();
    if escapes {
        return detail(
            StatusCode::BAD_REQUEST,
            format!("Invalid filename {filename:?}: must stay inside the assets directory"),
        );
    }
    if asset_kind(&filename).is_none() {
        let allowed: Vec<String> = IMAGE_EXT
            .iter()
            .chain(&VIDEO_EXT)
            .chain(&AUDIO_EXT)
            .map(|e| format!(".{e}"))
            .collect();
        return detail(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid file type for {filename:?}. Allowed: {}",
                allowed.join(", ")
            ),
        );
    }
    let path = s.assets_dir.join(&filename);
    let written =
        tokio::task::spawn_blocking(move || write_atomic(&path, &body).map(|()| path)).await;
    match written {
        Ok(Ok(path)) => match asset_info(&path) {
            Some(info) => reply(StatusCode::OK, info),
            None => detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "stored asset could not be read back",
            ),
        },
        Ok(Err(e)) => detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("writing {filename}: {e}"),
        ),
        Err(e) => detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A temp file beside `path`, fsync, rename: a failed or cut upload never leaves a truncated
/// asset, nor replaces a good one with one. The temp name has no asset extension, so listings
/// never show it.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.{}.part", uuid::Uuid::new_v4()));
    let result = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

async fn list_assets(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let wanted = query_param(q.as_deref(), "type");
    let dir = s.assets_dir.clone();
    let listed = tokio::task::spawn_blocking(move || {
        let mut infos: Vec<Value> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| asset_info(&e.ok()?.path())).collect())
            .unwrap_or_default();
        infos.retain(|i| wanted.as_deref().is_none_or(|w| i["type"] == w));
        infos.sort_by(|a, b| {
            b["created_at"]
                .as_f64()
                .partial_cmp(&a["created_at"].as_f64())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        infos
    })
    .await
    .unwrap_or_default();
    reply(StatusCode::OK, json!({"assets": listed}))
}

async fn get_asset(State(s): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    let rel = Path::new(&path);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return detail(StatusCode::FORBIDDEN, "Access denied");
    }
    let full = s.assets_dir.join(rel);
    match tokio::task::spawn_blocking(move || std::fs::read(full)).await {
        Ok(Ok(bytes)) => {
            let mime = match Path::new(&path)
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("png") => "image/png",
                Some("jpg" | "jpeg") => "image/jpeg",
                Some("webp") => "image/webp",
                Some("bmp") => "image/bmp",
                _ => "application/octet-stream",
            };
            ([(header::CONTENT_TYPE, mime)], bytes).into_response()
        }
        _ => detail(StatusCode::NOT_FOUND, "Asset not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("my%20ref.png"), "my ref.png");
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(
            query_param(Some("x=1&filename=c%C3%A9.png"), "filename").as_deref(),
            Some("cé.png")
        );
    }

    #[test]
    fn iso_timestamp_shape() {
        let t = iso_now();
        assert_eq!(t.len(), 26, "{t}");
        assert!(t.starts_with("20"), "{t}");
    }
}
