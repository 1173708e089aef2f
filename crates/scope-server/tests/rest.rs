//! REST semantics of the embedded server against docs/scope-api.md §1.1 / §7.1, over real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers may panic"
)]

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scope_server::{EmbeddedServer, Faults, ServerOptions};
use serde_json::{Value, json};

fn start(faults: Faults) -> EmbeddedServer {
    EmbeddedServer::start(ServerOptions { port: 0, faults }).unwrap()
}

async fn get(url: &str) -> (StatusCode, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn send(method: reqwest::Method, url: &str, body: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .request(method, url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(url: &str, body: Value) -> (StatusCode, Value) {
    send(reqwest::Method::POST, url, &body.to_string()).await
}

/// Polls pipeline/status until it leaves `loading`, returning every status seen (bounded).
async fn poll_statuses(base: &str, polls_after: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = 0;
    while Instant::now() < deadline {
        let (_, s) = get(&format!("{base}/api/v1/pipeline/status")).await;
        let status = s["status"].as_str().unwrap().to_string();
        assert!(s["error"].is_null(), "error is always null: {s}");
        if status != "loading" {
            after += 1;
        }
        seen.push(status);
        if after > polls_after {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

#[tokio::test]
async fn health_schemas_and_load_lifecycle() {
    let server = start(Faults {
        load_duration: Duration::from_millis(400),
        ..Faults::default()
    });
    let base = server.url();
    assert!(base.starts_with("http://127.0.0.1:"));

    let (code, health) = get(&format!("{base}/health")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(health["status"], "healthy");
    assert!(health["server_start_time"].as_f64().unwrap() > 1.7e9);
    assert!(health["timestamp"].as_str().unwrap().contains('T'));

    let (_, schemas) = get(&format!("{base}/api/v1/pipelines/schemas")).await;
    assert!(schemas["pipelines"]["passthrough"]["supported_modes"].is_array());
    assert_eq!(
        schemas["pipelines"]["stylize"]["config_schema"]["properties"]["width"]["ui"]["is_load_param"],
        true
    );

    // Nothing loaded: the offer is refused with the real server's text.
    let (code, body) = post(
        &format!("{base}/api/v1/webrtc/offer"),
        json!({"sdp": "v=0", "type": "offer"}),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["detail"],
        "Pipeline not loaded. Please load pipeline first."
    );

    let (code, body) = post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"pipeline_ids": ["passthrough"], "load_params": {"width": 320, "height": 240}}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["message"], "Pipeline loading initiated successfully");
    // Asynchronous: right after the POST it is still loading, with progress on both routes.
    let (_, s) = get(&format!("{base}/api/v1/pipeline/status")).await;
    assert_eq!(s["status"], "loading");
    assert!(s["loading_stage"].as_str().unwrap().contains("passthrough"));
    let (_, m) = get(&format!(
        "{base}/api/v1/models/status?pipeline_id=passthrough"
    ))
    .await;
    assert_eq!(m["downloaded"], false);
    assert_eq!(m["progress"]["is_downloading"], true);
    assert!(m["progress"]["percentage"].as_f64().unwrap() < 100.0);

    let seen = poll_statuses(&base, 1).await;
    assert_eq!(seen.last().unwrap(), "loaded", "{seen:?}");
    let (_, s) = get(&format!("{base}/api/v1/pipeline/status")).await;
    assert_eq!(s["pipeline_id"], "passthrough");
    assert_eq!(s["load_params"]["width"], 320);
    // A malformed SDP is a 500 with the reason, and leaves no session behind.
    let (code, body) = post(
        &format!("{base}/api/v1/webrtc/offer"),
        json!({"sdp": "garbage", "type": "offer"}),
    )
    .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body["detail"].as_str().unwrap().contains("SDP"), "{body}");
    let (_, m) = get(&format!("{base}/api/v1/session/metrics")).await;
    assert_eq!(m, json!({"sessions": {}}));
    // models/status says downloaded for anything, even unregistered ids (a trap for clients).
    let (_, m) = get(&format!("{base}/api/v1/models/status?pipeline_id=no-such")).await;
    assert_eq!(m, json!({"downloaded": true, "progress": null}));

    // New-form load keyed by node_id.
    let (code, _) = post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"pipelines": [{"node_id": "n1", "pipeline_id": "stylize", "load_params": {}}]}),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let seen = poll_statuses(&base, 0).await;
    assert_eq!(seen.last().unwrap(), "loaded");
    let (_, s) = get(&format!("{base}/api/v1/pipeline/status")).await;
    assert_eq!(s["pipeline_id"], "n1");
}

#[tokio::test]
async fn failed_load_reports_error_once_and_unloads_the_previous_pipeline() {
    let server = start(Faults {
        load_duration: Duration::from_millis(50),
        ..Faults::default()
    });
    let base = server.url();
    post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"pipeline_ids": ["passthrough"]}),
    )
    .await;
    assert_eq!(poll_statuses(&base, 0).await.last().unwrap(), "loaded");

    server.faults().fail_next_load();
    post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"pipeline_ids": ["passthrough"]}),
    )
    .await;
    let seen = poll_statuses(&base, 3).await;
    let tail: Vec<&str> = seen
        .iter()
        .map(String::as_str)
        .skip_while(|s| *s == "loading")
        .collect();
    assert_eq!(
        tail,
        ["error", "not_loaded", "not_loaded", "not_loaded"],
        "{seen:?}"
    );
    assert!(seen.first().is_some_and(|s| s == "loading"));
    // The previous pipeline is gone too.
    let (code, _) = post(
        &format!("{base}/api/v1/webrtc/offer"),
        json!({"sdp": "v=0", "type": "offer"}),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        !server.faults().get().fail_next_load,
        "the fault is consumed"
    );

    // An unknown pipeline id fails the same way.
    post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"pipeline_ids": ["longlive"]}),
    )
    .await;
    let seen = poll_statuses(&base, 1).await;
    let tail: Vec<&str> = seen
        .iter()
        .map(String::as_str)
        .skip_while(|s| *s == "loading")
        .collect();
    assert_eq!(tail, ["error", "not_loaded"], "{seen:?}");
}

#[tokio::test]
async fn bad_requests_get_the_fastapi_shapes() {
    let server = start(Faults::default());
    let base = server.url();

    let (code, body) = post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"load_params": {}}),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("pipeline_ids"));
    let (code, body) = post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"pipeline_ids": "passthrough"}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "pipeline_ids"]));

    // Parameters: {} gets the pydantic defaults injected.
    let (code, body) = post(&format!("{base}/api/v1/session/parameters"), json!({})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(
        body["applied_parameters"],
        json!({"prompt_interpolation_method": "linear", "vace_context_scale": 1.0})
    );
    let (_, body) = post(
        &format!("{base}/api/v1/session/parameters"),
        json!({"noise_scale": 0.4, "vace_context_scale": 0.5, "custom": "kept", "transition": {"target_prompts": [{"text": "a"}]}}),
    )
    .await;
    assert_eq!(body["applied_parameters"]["vace_context_scale"], 0.5);
    assert_eq!(body["applied_parameters"]["custom"], "kept");
    assert_eq!(body["applied_parameters"]["transition"]["num_steps"], 4);

    // Bad types and ranges: 422 with a list of {type, loc, msg, input}.
    let (code, body) = post(
        &format!("{base}/api/v1/session/parameters"),
        json!({"noise_scale": "loud", "manage_cache": [], "vace_context_scale": 3}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = body["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 3, "{body}");
    for e in detail {
        assert!(
            e["type"].is_string() && e["msg"].is_string() && e.get("input").is_some(),
            "{e}"
        );
        assert_eq!(e["loc"][0], "body");
    }
    let locs: Vec<&Value> = detail.iter().map(|e| &e["loc"][1]).collect();
    assert!(locs.contains(&&json!("noise_scale")) && locs.contains(&&json!("vace_context_scale")));

    // Not JSON at all.
    let (code, body) = send(
        reqwest::Method::POST,
        &format!("{base}/api/v1/session/parameters"),
        "{nope",
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["detail"][0]["type"], "json_invalid");

    // Offer body validation comes before the "not loaded" check, like FastAPI.
    let (code, body) = post(
        &format!("{base}/api/v1/webrtc/offer"),
        json!({"type": "offer", "initialParameters": {"noise_scale": 2}}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let locs: Vec<&Value> = body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["loc"])
        .collect();
    assert!(locs.contains(&&json!(["body", "sdp"])), "{body}");
    assert!(
        locs.contains(&&json!(["body", "initialParameters", "noise_scale"])),
        "{body}"
    );

    // Sessions: DELETE of an unknown id is 204, PATCH is 404.
    let r = reqwest::Client::new()
        .delete(format!(
            "{base}/api/v1/webrtc/offer/00000000-0000-0000-0000-000000000000"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (code, body) = send(
        reqwest::Method::PATCH,
        &format!("{base}/api/v1/webrtc/offer/nope"),
        r#"{"candidates":[{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}]}"#,
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(body["detail"].is_string());

    let (code, body) = get(&format!("{base}/api/v1/session/metrics")).await;
    assert_eq!((code, body), (StatusCode::OK, json!({"sessions": {}})));
    let (_, body) = get(&format!("{base}/api/v1/session/parameters")).await;
    assert_eq!(body, json!({"parameters": {}}));
    let (code, _) = get(&format!("{base}/api/v1/no/such/route")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn asset_upload_returns_an_absolute_server_path() {
    let server = start(Faults::default());
    let base = server.url();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/assets?filename=ref%20one.png"))
        .header("content-type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let info: Value = r.json().await.unwrap();
    let path = std::path::PathBuf::from(info["path"].as_str().unwrap());
    assert!(path.is_absolute(), "{info}");
    assert!(path.ends_with("ref one.png"), "{info}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "stored bytes match");
    assert_eq!(info["name"], "ref one");
    assert_eq!(info["type"], "image");
    assert!(info["folder"].is_null() && info["created_at"].as_f64().is_some());

    // The exact path string is echoed back by later parameters.
    let (_, body) = post(
        &format!("{base}/api/v1/session/parameters"),
        json!({"vace_ref_images": [info["path"]]}),
    )
    .await;
    assert_eq!(
        body["applied_parameters"]["vace_ref_images"][0],
        info["path"]
    );

    let (_, listed) = get(&format!("{base}/api/v1/assets?type=image")).await;
    assert_eq!(listed["assets"][0]["path"], info["path"]);

    for (query, code) in [
        ("filename=evil.exe", StatusCode::BAD_REQUEST),
        ("filename=..%2F..%2Fetc%2Fx.png", StatusCode::BAD_REQUEST),
        ("other=1", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/assets?{query}"))
            .body(vec![1u8, 2, 3])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), code, "{query}");
    }
    let dir = path.parent().unwrap().to_path_buf();
    // A write that fails (here the name is taken by a directory) answers 500 naming the file
    // and leaves no partial file behind; the good asset stays as it was.
    std::fs::create_dir(dir.join("taken.png")).unwrap();
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/assets?filename=taken.png"))
        .body(vec![1u8, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("taken.png"),
        "{body}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| !n.ends_with(".part")), "{left:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    drop(server);
    assert!(!dir.exists(), "the temporary assets dir is removed on drop");
}

#[tokio::test]
async fn restart_fault_and_drop_frees_the_port() {
    let server = start(Faults {
        load_duration: Duration::ZERO,
        ..Faults::default()
    });
    let base = server.url();
    let (_, h1) = get(&format!("{base}/health")).await;
    post(
        &format!("{base}/api/v1/pipeline/load"),
        json!({"pipeline_ids": ["passthrough"]}),
    )
    .await;
    assert_eq!(poll_statuses(&base, 0).await.last().unwrap(), "loaded");

    server.faults().restart();
    let (_, h2) = get(&format!("{base}/health")).await;
    assert!(h2["server_start_time"].as_f64().unwrap() > h1["server_start_time"].as_f64().unwrap());
    let (_, s) = get(&format!("{base}/api/v1/pipeline/status")).await;
    assert_eq!(s["status"], "not_loaded");

    let port = server.port();
    drop(server);
    // Port freed: it can be bound again at once, and nothing answers on it any more.
    let rebound = std::net::TcpListener::bind(("127.0.0.1", port));
    assert!(rebound.is_ok(), "port {port} still busy: {rebound:?}");
}
