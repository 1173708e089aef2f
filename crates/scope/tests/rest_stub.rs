#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

//! The REST client against tiny in-test HTTP stubs that answer badly on purpose: every failure
//! must be a clear error naming the URL, never a panic.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use scope::rest::RestClient;
use scope::{ScopeConfig, ScopeError, ScopeEvent, ScopeHandle, ScopeState};
use serde_json::json;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn json_body(status: StatusCode, body: &'static str) -> impl IntoResponse {
    (status, [(header::CONTENT_TYPE, "application/json")], body)
}

#[tokio::test]
async fn malformed_answers_give_clear_errors() {
    let app = Router::new()
        .route("/health", get(|| async { json_body(StatusCode::OK, "{\"status\": \"healthy\", ") }))
        .route("/api/v1/pipeline/status", get(|| async { (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], "<html>proxy login</html>") }))
        .route("/api/v1/session/metrics", get(|| async { json_body(StatusCode::INTERNAL_SERVER_ERROR, r#"{"detail":"CUDA out of memory"}"#) }))
        .route("/api/v1/session/parameters", post(|| async {
            json_body(StatusCode::UNPROCESSABLE_ENTITY, r#"{"detail":[{"type":"less_than_equal","loc":["body","noise_scale"],"msg":"Input should be less than or equal to 1","input":3}]}"#)
        }))
        .route("/api/v1/pipelines/schemas", get(|| async { (StatusCode::BAD_GATEWAY, "upstream down") }))
        .route("/api/v1/session/frame", get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }));
    let base = serve(app).await;
    let rest = RestClient::new(&base, Duration::from_millis(500)).unwrap();

    let e = rest.health().await.unwrap_err();
    assert!(matches!(e, ScopeError::BadJson { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains(&format!("GET {base}/health: malformed JSON")),
        "{e}"
    );

    let e = rest.pipeline_status().await.unwrap_err();
    assert!(matches!(e, ScopeError::ContentType { .. }), "{e:?}");
    assert!(
        e.to_string().contains("text/html") && e.to_string().contains("proxy login"),
        "{e}"
    );

    let e = rest.session_metrics().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("GET {base}/api/v1/session/metrics: HTTP 500: CUDA out of memory")
    );

    let params = json!({"noise_scale": 3}).as_object().cloned().unwrap();
    let e = rest.set_session_parameters(&params).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "POST {base}/api/v1/session/parameters: HTTP 422: body.noise_scale: Input should be less than or equal to 1 (got 3)"
        )
    );

    let e = rest.pipeline_schemas().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("GET {base}/api/v1/pipelines/schemas: HTTP 502: upstream down")
    );

    // A route the stub lacks: axum's empty 404.
    let e = rest.model_status("longlive").await.unwrap_err();
    assert!(matches!(e, ScopeError::Status { status: 404, .. }), "{e:?}");
}

#[tokio::test]
async fn timeout_and_refused_name_the_url() {
    let app = Router::new().route(
        "/health",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let base = serve(app).await;
    let rest = RestClient::new(&base, Duration::from_millis(300)).unwrap();
    let e = rest.health().await.unwrap_err();
    assert!(matches!(e, ScopeError::Timeout { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("GET {base}/health: no answer within")),
        "{e}"
    );

    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let rest =
        RestClient::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2)).unwrap();
    let e = rest.health().await.unwrap_err();
    assert!(matches!(e, ScopeError::Connect { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains(&format!("http://127.0.0.1:{port}/health: cannot connect")),
        "{e}"
    );
    // The root cause, not reqwest's three nested wrappers.
    assert!(e.to_string().ends_with(": connection refused"), "{e}");
}

/// Status sequence served by the stub, one entry per poll (last one repeats).
fn status_route(seq: &'static [&'static str]) -> Router {
    let n = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/api/v1/pipeline/load",
            post(|| async {
                json_body(
                    StatusCode::OK,
                    r#"{"message":"Pipeline loading initiated successfully"}"#,
                )
            }),
        )
        .route(
            "/api/v1/pipeline/status",
            get(move || {
                let i = n.fetch_add(1, Ordering::SeqCst).min(seq.len() - 1);
                async move { json_body(StatusCode::OK, seq[i]) }
            }),
        )
        .route(
            "/api/v1/models/status",
            get(|| async { json_body(StatusCode::OK, r#"{"downloaded":true,"progress":null}"#) }),
        )
}

const NOT_LOADED: &str = r#"{"status":"not_loaded","pipeline_id":null,"load_params":null,"error":null,"loading_stage":null}"#;
const LOADING: &str = r#"{"status":"loading","pipeline_id":null,"load_params":null,"error":null,"loading_stage":"loading weights 50%"}"#;
const ERROR: &str =
    r#"{"status":"error","pipeline_id":null,"load_params":null,"error":null,"loading_stage":null}"#;
const LOADED: &str = r#"{"status":"loaded","pipeline_id":"longlive","load_params":{"width":512},"error":null,"loading_stage":null}"#;

#[tokio::test]
async fn load_polling_follows_real_semantics() {
    let empty = serde_json::Map::new();
    // loading → error (one poll) → not_loaded: a failure, reported as such.
    let base = serve(status_route(&[NOT_LOADED, LOADING, ERROR, NOT_LOADED])).await;
    let rest = RestClient::new(&base, Duration::from_secs(2)).unwrap();
    let e = rest
        .load_and_wait("longlive", &empty, Duration::from_secs(5), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, ScopeError::LoadFailed { .. }), "{e:?}");
    assert!(e.to_string().contains("\"error\""), "{e}");

    // loading → not_loaded without ever showing error (the poll missed it): still a failure.
    let base = serve(status_route(&[NOT_LOADED, LOADING, LOADING, NOT_LOADED])).await;
    let rest = RestClient::new(&base, Duration::from_secs(2)).unwrap();
    let e = rest
        .load_and_wait("longlive", &empty, Duration::from_secs(5), |_| {})
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("from \"loading\" to \"not_loaded\""),
        "{e}"
    );

    // loading with progress → loaded.
    let base = serve(status_route(&[NOT_LOADED, LOADING, LOADING, LOADED])).await;
    let rest = RestClient::new(&base, Duration::from_secs(2)).unwrap();
    let mut progress = Vec::new();
    let s = rest
        .load_and_wait("longlive", &empty, Duration::from_secs(5), |p| {
            if let scope::LoadProgress::Load(p) = p {
                progress.push(p);
            }
        })
        .await
        .unwrap();
    assert_eq!(s.pipeline_id.as_deref(), Some("longlive"));
    assert!(
        progress.contains(&Some(0.5)) && progress.last() == Some(&Some(1.0)),
        "{progress:?}"
    );
}

#[tokio::test]
async fn same_asset_content_is_uploaded_once() {
    let uploads = Arc::new(AtomicUsize::new(0));
    let counter = uploads.clone();
    let app = Router::new().route(
        "/api/v1/assets",
        post(move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
            counter.fetch_add(1, Ordering::SeqCst);
            let name = q.get("filename").cloned().unwrap_or_default();
            async move { axum::Json(json!({"name": name, "path": format!("/srv/scope/assets/{name}"), "size_mb": 0.0, "type": "image"})) }
        }),
    );
    let base = serve(app).await;
    let rest = RestClient::new(&base, Duration::from_secs(2)).unwrap();
    let dir = std::env::temp_dir().join(format!("scope-asset-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("ref one.png");
    let b = dir.join("copy.png");
    std::fs::write(&a, b"\x89PNG fake bytes").unwrap();
    std::fs::write(&b, b"\x89PNG fake bytes").unwrap();
    let pa = rest.upload_asset(&a).await.unwrap();
    let pb = rest.upload_asset(&b).await.unwrap();
    assert_eq!(pa, pb);
    assert!(
        pa.starts_with("/srv/scope/assets/ref_one-") && pa.ends_with(".png"),
        "{pa}"
    );
    assert_eq!(uploads.load(Ordering::SeqCst), 1);
    let e = rest.upload_asset(&dir.join("notes.txt")).await.unwrap_err();
    assert!(
        e.to_string().contains("notes.txt") && e.to_string().contains("not accepted"),
        "{e}"
    );
    let e = rest
        .upload_asset(&dir.join("missing.png"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("missing.png"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A server that loads fine but answers the offer with garbage SDP: the handle reports a clear
/// error and retries with backoff, never panics.
#[test]
fn bad_sdp_answer_is_an_error_not_a_panic() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = rt.block_on(serve(
        Router::new()
            .route("/health", get(|| async { axum::Json(json!({"status":"healthy","server_start_time": 1.0})) }))
            .route("/api/v1/pipeline/status", get(|| async {
                axum::Json(json!({"status":"loaded","pipeline_id":"passthrough","load_params":{}}))
            }))
            .route("/api/v1/webrtc/offer", post(|| async {
                axum::Json(json!({"sdp":"v=0\r\nthis is not sdp\r\n","type":"answer","sessionId":"s1"}))
            })),
    ));
    let handle = ScopeHandle::start(ScopeConfig {
        url: base.clone(),
        ..ScopeConfig::default()
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut events = Vec::new();
    while std::time::Instant::now() < deadline {
        events.extend(handle.poll_events());
        if events
            .iter()
            .any(|e| matches!(e, ScopeEvent::State(ScopeState::Reconnecting { .. })))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let errors: Vec<String> = events
        .iter()
        .filter_map(|e| {
            if let ScopeEvent::Error(s) = e {
                Some(s.clone())
            } else {
                None
            }
        })
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("bad SDP answer") && e.contains(&base)),
        "events: {events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            ScopeEvent::State(ScopeState::Reconnecting { attempt: 1 })
        )),
        "{events:?}"
    );
    drop(handle);
}
