//! The client against the embedded Scope server over real loopback WebRTC.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use media::{PixelFormat, VideoFrame};
use scope::rest::RestClient;
use scope::{
    Codec, ResolvedUrl, ScopeConfig, ScopeEvent, ScopeHandle, ScopeState, UrlResolver, epoch,
};
use scope_server::{EmbeddedServer, ServerOptions};
use serde_json::json;

const W: u32 = 320;
const H: u32 = 240;

fn server() -> EmbeddedServer {
    EmbeddedServer::start(ServerOptions::default()).unwrap()
}

/// A frame whose left half is orange and right half blue, with a moving stripe.
fn frame(n: u64) -> VideoFrame {
    let mut data = vec![0u8; (W * H * 4) as usize];
    for y in 0..H {
        for x in 0..W {
            let i = ((y * W + x) * 4) as usize;
            let stripe = (x + n as u32 * 4) % W < 8;
            let px = if stripe {
                [255, 255, 255, 255]
            } else if x < W / 2 {
                [230, 120, 30, 255]
            } else {
                [30, 60, 200, 255]
            };
            data[i..i + 4].copy_from_slice(&px);
        }
    }
    VideoFrame::new(W, H, PixelFormat::Rgba8, data, epoch().elapsed(), n).unwrap()
}

/// Feeds frames at ~30 fps until `done` holds or `timeout` passes; collects events.
struct Pump {
    n: u64,
    frames: Vec<VideoFrame>,
    events: Vec<ScopeEvent>,
}

impl Pump {
    fn new() -> Self {
        Pump {
            n: 0,
            frames: (0..30).map(frame).collect(),
            events: Vec::new(),
        }
    }

    fn until(
        &mut self,
        h: &ScopeHandle,
        timeout: Duration,
        mut done: impl FnMut(&ScopeHandle, &[ScopeEvent]) -> bool,
    ) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            let f = &self.frames[(self.n % 30) as usize];
            h.send_frame(VideoFrame {
                captured: epoch().elapsed(),
                seq: self.n,
                ..f.clone()
            });
            self.n += 1;
            self.events.extend(h.poll_events());
            if done(h, &self.events) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(33));
        }
        false
    }

    fn states(&self) -> Vec<ScopeState> {
        self.events
            .iter()
            .filter_map(|e| {
                if let ScopeEvent::State(s) = e {
                    Some(s.clone())
                } else {
                    None
                }
            })
            .collect()
    }
}

fn config(url: &str) -> ScopeConfig {
    ScopeConfig {
        url: url.to_owned(),
        pipeline_id: "passthrough".into(),
        params: json!({"prompts":[{"text":"a red fox","weight":1.0}]})
            .as_object()
            .cloned()
            .unwrap(),
        stall_threshold: Duration::from_secs(2),
        ..ScopeConfig::default()
    }
}

fn rest(url: &str) -> RestClient {
    RestClient::new(url, Duration::from_secs(5)).unwrap()
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn live(h: &ScopeHandle, _: &[ScopeEvent]) -> bool {
    h.stats().state == ScopeState::Live && h.stats().frames_received > 0
}

/// Mean absolute difference per channel between two RGBA frames of equal size.
fn mean_abs_diff(a: &VideoFrame, b: &VideoFrame) -> f64 {
    let a = a.to_rgba().unwrap();
    let b = b.to_rgba().unwrap();
    let sum: u64 = a
        .data
        .iter()
        .zip(b.data.iter())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.data.len() as f64
}

fn connect_and_stream(codec: Codec) {
    let srv = server();
    let url = srv.url();
    let h = ScopeHandle::start(ScopeConfig {
        codec,
        ..config(&url)
    });
    let mut p = Pump::new();
    assert!(
        p.until(&h, Duration::from_secs(20), live),
        "never live: {:?}",
        p.events
    );
    let states = p.states();
    assert!(
        matches!(states.first(), Some(ScopeState::Loading { .. })),
        "{states:?}"
    );
    assert!(states.contains(&ScopeState::Connecting), "{states:?}");
    // Keep streaming ~2 s, then check what came back.
    p.until(&h, Duration::from_secs(2), |_, _| false);
    let got = h.latest_frame().expect("a decoded frame");
    assert_eq!((got.width, got.height), (W, H));
    // Passthrough: the picture survives two lossy encodes (left orange, right blue).
    let px = |x: u32, y: u32| {
        let i = ((y * W + x) * 4) as usize;
        [got.data[i], got.data[i + 1], got.data[i + 2]]
    };
    let left = px(W / 4, H / 2);
    let right = px(3 * W / 4 + 20, H / 2);
    assert!(left[0] > 180 && left[2] < 90, "left {left:?}");
    assert!(right[2] > 150 && right[0] < 90, "right {right:?}");
    let sent = frame(0);
    assert!(mean_abs_diff(&got, &sent) < 40.0);
    let s = h.stats();
    assert!(s.fps_in > 20.0 && s.fps_out > 15.0, "{s:?}");
    assert!(s.frames_sent > 60 && s.frames_received > 30, "{s:?}");
    // The server's own rate for this session reaches the stats (polled every 2 s).
    p.until(&h, Duration::from_secs(6), |h, _| {
        h.stats().server.pipeline_fps.is_some()
    });
    let server = h.stats().server;
    assert_eq!(server.healthy, Some(true));
    assert!(server.pipeline_fps.is_some_and(|f| f > 5.0), "{server:?}");
    assert_eq!(
        server.vram_gb, None,
        "the embedded server has no GPU to report"
    );
    let m = block(rest(&url).session_metrics()).unwrap();
    let session = m
        .sessions
        .get(s.session_id.as_deref().unwrap())
        .expect("server lists our session");
    assert!(session.frames_in > 30.0, "{m:?}");
    drop(h);
}

#[test]
fn vp8_frames_flow_both_ways() {
    connect_and_stream(Codec::Vp8);
}

#[test]
fn h264_frames_flow_both_ways() {
    connect_and_stream(Codec::H264);
}

#[test]
fn trickled_ice_connects() {
    let srv = server();
    let h = ScopeHandle::start(ScopeConfig {
        trickle_ice: true,
        ..config(&srv.url())
    });
    let mut p = Pump::new();
    assert!(
        p.until(&h, Duration::from_secs(20), live),
        "never live: {:?}",
        p.events
    );
}

fn server_params(url: &str) -> serde_json::Map<String, serde_json::Value> {
    block(rest(url).session_parameters()).unwrap()
}

#[test]
fn parameters_and_assets_reach_the_server() {
    let srv = server();
    let url = srv.url();
    let dir = std::env::temp_dir().join(format!("scope-e2e-assets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("ref.png");
    image_png(&png);
    let mut cfg = ScopeConfig {
        ref_images: vec![png.clone()],
        ..config(&url)
    };
    let h = ScopeHandle::start(cfg.clone());
    let mut p = Pump::new();
    assert!(
        p.until(&h, Duration::from_secs(20), live),
        "never live: {:?}",
        p.events
    );
    let server_path = p
        .events
        .iter()
        .find_map(|e| {
            if let ScopeEvent::AssetUploaded { server_path, .. } = e {
                Some(server_path.clone())
            } else {
                None
            }
        })
        .expect("upload event");
    assert!(
        std::path::Path::new(&server_path).is_absolute(),
        "{server_path}"
    );
    let params = server_params(&url);
    assert_eq!(params["vace_ref_images"], json!([server_path]));
    assert_eq!(params["pipeline_ids"], json!(["passthrough"]));
    assert_eq!(params["input_mode"], json!("video"));
    assert_eq!(params["vace_enabled"], json!(false));
    assert_eq!(
        params["prompts"],
        json!([{"text":"a red fox","weight":1.0}])
    );

    // A burst of 20 changes: coalesced, and the last value wins on the server.
    for i in 0..20 {
        cfg.params
            .insert("noise_scale".into(), json!(f64::from(i) / 100.0));
        h.configure(cfg.clone());
    }
    // A prompt change with a transition; `paused` stays on our side.
    cfg.transition = Some(scope::PromptTransition {
        num_steps: 6,
        method: scope::Interpolation::Slerp,
    });
    cfg.params.insert(
        "prompts".into(),
        json!([{"text":"a blue heron","weight":1.0}]),
    );
    h.configure(cfg.clone());
    let ok = p.until(&h, Duration::from_secs(5), |_, _| {
        let params = server_params(&url);
        params.get("noise_scale") == Some(&json!(0.19)) && params.contains_key("transition")
    });
    let params = server_params(&url);
    assert!(ok, "server parameters: {params:?}");
    assert_eq!(
        params["transition"],
        json!({"target_prompts":[{"text":"a blue heron","weight":1.0}],"num_steps":6,"temporal_interpolation_method":"slerp"})
    );

    // A REST update reaches us on the data channel as `parameters_updated`.
    let rest_update = json!({"noise_scale": 0.42}).as_object().cloned().unwrap();
    block(rest(&url).set_session_parameters(&rest_update)).unwrap();
    let told = p.until(&h, Duration::from_secs(5), |_, ev| {
        ev.iter().any(|e| {
            matches!(e, ScopeEvent::ServerMessage(v)
                if v["type"] == "parameters_updated" && v["parameters"]["noise_scale"] == json!(0.42))
        })
    });
    assert!(told, "{:?}", p.events);

    cfg.params.insert("paused".into(), json!(true));
    h.configure(cfg.clone());
    std::thread::sleep(Duration::from_millis(300));
    let sent = h.stats().frames_sent;
    p.until(&h, Duration::from_secs(1), |_, _| false);
    assert_eq!(h.stats().frames_sent, sent, "paused: nothing goes out");
    assert!(
        !server_params(&url).contains_key("paused"),
        "paused never reaches the server"
    );
    cfg.params.insert("paused".into(), json!(false));
    h.configure(cfg);
    assert!(
        p.until(&h, Duration::from_secs(5), |h, _| h.stats().frames_sent
            > sent + 10)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A small valid PNG (the server checks the extension, the content is opaque to it).
fn image_png(path: &std::path::Path) {
    // 1×1 red pixel PNG.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
        0x77, 0x53, 0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8,
        0xCF, 0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0, 0x00, 0x00, 0x00,
        0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    std::fs::write(path, PNG).unwrap();
}

#[test]
fn load_error_then_recovery_and_slow_load_progress() {
    let srv = server();
    srv.faults().fail_next_load();
    let mut cfg = config(&srv.url());
    let h = ScopeHandle::start(cfg.clone());
    let mut p = Pump::new();
    let failed = p.until(&h, Duration::from_secs(10), |h, _| {
        matches!(h.stats().state, ScopeState::Failed { .. })
    });
    assert!(failed, "{:?}", p.events);
    let ScopeState::Failed { reason } = h.stats().state else {
        unreachable!()
    };
    assert!(
        reason.contains("failed to load") && reason.contains(&srv.url()),
        "{reason}"
    );

    // A load-param change reloads; this time slowly, with progress.
    srv.faults().set_load_duration(Duration::from_millis(1500));
    cfg.load_params.insert("width".into(), json!(W));
    h.configure(cfg);
    assert!(p.until(&h, Duration::from_secs(20), live), "{:?}", p.events);
    let progress: Vec<f32> = p
        .states()
        .iter()
        .filter_map(|s| {
            if let ScopeState::Loading { progress: Some(x) } = s {
                Some(*x)
            } else {
                None
            }
        })
        .collect();
    assert!(
        progress.iter().any(|x| *x > 0.0 && *x < 1.0),
        "progress seen: {progress:?}"
    );
}

/// A pipeline whose models are missing: the client starts the download, reports it with the
/// file and a growing fraction while it runs (as the real server's `models/status` gives
/// them), then loads, and the download is gone from the stats once the node is live.
#[test]
fn a_missing_model_is_downloaded_with_its_progress_shown() {
    let srv = server();
    srv.faults()
        .set_download_duration(Some(Duration::from_millis(1500)));
    let mut cfg = config(&srv.url());
    cfg.pipeline_id = "stylize".into();
    let h = ScopeHandle::start(cfg);
    let mut p = Pump::new();
    let mut seen = Vec::new();
    let live_now = p.until(&h, Duration::from_secs(30), |h, ev| {
        if let Some(d) = h.stats().download {
            seen.push(d);
        }
        live(h, ev)
    });
    assert!(live_now, "{:?}", p.events);
    assert!(
        seen.iter()
            .all(|d| d.artifact.as_deref() == Some("stylize/diffusion_model.safetensors")),
        "{seen:?}"
    );
    let fractions: Vec<f32> = seen.iter().filter_map(|d| d.fraction).collect();
    assert!(
        fractions.iter().any(|f| *f > 0.0 && *f < 1.0)
            && fractions.windows(2).all(|w| w[0] <= w[1]),
        "{fractions:?}"
    );
    assert_eq!(h.stats().download, None);
    assert!(
        block(rest(&srv.url()).model_status("stylize"))
            .unwrap()
            .downloaded
    );
}

fn session_id(h: &ScopeHandle) -> Option<String> {
    h.stats().session_id
}

#[test]
fn stall_triggers_watchdog_and_reconnect() {
    let srv = server();
    let h = ScopeHandle::start(ScopeConfig {
        stall_threshold: Duration::from_secs(1),
        ..config(&srv.url())
    });
    let mut p = Pump::new();
    assert!(p.until(&h, Duration::from_secs(20), live), "{:?}", p.events);
    let first = session_id(&h).unwrap();
    srv.faults().stall_after_frames(Some(0));
    let stalled = p.until(&h, Duration::from_secs(10), |_, ev| {
        ev.contains(&ScopeEvent::State(ScopeState::Stalled))
            && ev.contains(&ScopeEvent::State(ScopeState::Reconnecting { attempt: 1 }))
    });
    assert!(stalled, "{:?}", p.events);
    srv.faults().stall_after_frames(None);
    let back = p.until(&h, Duration::from_secs(20), |h, _| {
        live(h, &[]) && session_id(h).is_some_and(|s| s != first)
    });
    assert!(back, "{:?}", p.events);
    assert!(h.stats().reconnects >= 1);
}

#[test]
fn dropped_connection_and_restart_reconnect() {
    let srv = server();
    let h = ScopeHandle::start(config(&srv.url()));
    let mut p = Pump::new();
    assert!(p.until(&h, Duration::from_secs(20), live), "{:?}", p.events);
    let first = session_id(&h).unwrap();
    srv.faults().drop_connections();
    let back = p.until(&h, Duration::from_secs(20), |h, ev| {
        ev.iter()
            .any(|e| matches!(e, ScopeEvent::State(ScopeState::Reconnecting { .. })))
            && live(h, &[])
            && session_id(h).is_some_and(|s| s != first)
    });
    assert!(back, "{:?}", p.events);

    // Restart: new start time, pipeline gone. The client notices, reloads and comes back.
    let second = session_id(&h).unwrap();
    p.events.clear();
    srv.faults().restart();
    let back = p.until(&h, Duration::from_secs(25), |h, ev| {
        ev.contains(&ScopeEvent::ServerRestarted)
            && live(h, &[])
            && session_id(h).is_some_and(|s| s != second)
    });
    assert!(back, "{:?}", p.events);
    assert!(
        p.states()
            .iter()
            .any(|s| matches!(s, ScopeState::Loading { .. })),
        "reloaded: {:?}",
        p.states()
    );
}

#[test]
fn drop_is_a_clean_stop() {
    let srv = server();
    let url = srv.url();
    let h = ScopeHandle::start(config(&url));
    let mut p = Pump::new();
    assert!(p.until(&h, Duration::from_secs(20), live), "{:?}", p.events);
    assert_eq!(srv.faults().session_count(), 1);
    let t = Instant::now();
    drop(h);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        t.elapsed()
    );
    let end = Instant::now() + Duration::from_secs(3);
    while srv.faults().session_count() > 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(srv.faults().session_count(), 0);
    assert!(
        block(rest(&url).session_metrics())
            .unwrap()
            .sessions
            .is_empty()
    );
}

/// A resolver gives a name to a server the client does not know (as the app does with
/// `embedded`): its guard lives while the node uses the name, goes when the node moves to
/// another URL, and a refusal fails the node with the configured URL in the reason.
#[test]
fn a_resolver_names_a_server_and_guards_it_while_used() {
    let srv = server();
    let used = Arc::new(());
    let resolver: UrlResolver = {
        let (url, used) = (srv.url(), used.clone());
        Arc::new(move |name: &str| match name {
            "local" => Ok(ResolvedUrl {
                url: url.clone(),
                guard: Box::new(used.clone()),
            }),
            "refused" => Err("no such server".into()),
            other => Ok(ResolvedUrl {
                url: other.to_owned(),
                guard: Box::new(()),
            }),
        })
    };
    // The test's and the resolver's own.
    let unused = 2;
    let h = ScopeHandle::start_with(config("local"), resolver);
    let mut p = Pump::new();
    assert!(p.until(&h, Duration::from_secs(20), live), "{:?}", p.events);
    assert_eq!(Arc::strong_count(&used), unused + 1);

    h.configure(config(&srv.url()));
    let second_session = |h: &ScopeHandle, events: &[ScopeEvent]| {
        let sessions = events
            .iter()
            .filter(|e| matches!(e, ScopeEvent::SessionStarted { .. }))
            .count();
        sessions == 2 && live(h, events)
    };
    assert!(
        p.until(&h, Duration::from_secs(20), second_session),
        "{:?}",
        p.events
    );
    assert_eq!(Arc::strong_count(&used), unused);

    h.configure(config("refused"));
    assert!(p.until(&h, Duration::from_secs(10), |h, _| matches!(
        h.stats().state,
        ScopeState::Failed { .. }
    )));
    let ScopeState::Failed { reason } = h.stats().state else {
        unreachable!()
    };
    assert_eq!(reason, "bad Scope URL \"refused\": no such server");
}

#[test]
fn unknown_pipeline_fails_with_the_list_of_available_ones() {
    let srv = server();
    let h = ScopeHandle::start(ScopeConfig {
        pipeline_id: "longlive".into(),
        ..config(&srv.url())
    });
    let mut p = Pump::new();
    assert!(p.until(&h, Duration::from_secs(10), |h, _| matches!(
        h.stats().state,
        ScopeState::Failed { .. }
    )));
    let ScopeState::Failed { reason } = h.stats().state else {
        unreachable!()
    };
    assert!(
        reason.contains("\"longlive\"") && reason.contains("passthrough"),
        "{reason}"
    );
    // The server's list is published even so, for the operator to pick one that exists.
    let list = h.stats().pipelines.expect("the server's pipelines");
    assert!(list.contains_key("passthrough") && list.contains_key("stylize"));
    let tint = &list["stylize"].extra["config_schema"]["properties"]["tint"];
    assert_eq!(tint["ui"]["is_load_param"], json!(true), "{tint}");
}

/// A load parameter from the pipeline's schema reaches the server's pipeline and changes the
/// picture that comes back: stylize's `tint: "amber"` against its default violet.
#[test]
fn a_schema_load_parameter_changes_the_returned_picture() {
    let srv = server();
    let mut frames = Vec::new();
    for tint in ["violet", "amber"] {
        let mut cfg = ScopeConfig {
            pipeline_id: "stylize".into(),
            ..config(&srv.url())
        };
        cfg.load_params = json!({"width": W, "height": H, "tint": tint})
            .as_object()
            .cloned()
            .unwrap();
        let h = ScopeHandle::start(cfg);
        let mut p = Pump::new();
        assert!(p.until(&h, Duration::from_secs(20), live), "{:?}", p.events);
        p.until(&h, Duration::from_secs(1), |_, _| false);
        frames.push(h.latest_frame().expect("a decoded frame"));
    }
    // The left half is orange (230, 120, 30); the median along a row of it is clear of the
    // moving white stripe.
    let px = |f: &VideoFrame| {
        let f = f.to_rgba().unwrap();
        let mut out = [0u8; 3];
        for (c, o) in out.iter_mut().enumerate() {
            let mut row: Vec<u8> = (20..W / 2 - 20)
                .map(|x| f.data[(((H / 2) * W + x) * 4) as usize + c])
                .collect();
            row.sort_unstable();
            *o = row[row.len() / 2];
        }
        out
    };
    let look = |tint| scope_server::pipeline::Look {
        tint,
        ..Default::default()
    };
    for (f, tint) in frames.iter().zip([
        scope_server::pipeline::Tint::Violet,
        scope_server::pipeline::Tint::Amber,
    ]) {
        let want = look(tint).pixel(230, 120, 30);
        let got = px(f);
        // Two lossy encodes of a flat area: within 12/255 per channel.
        for c in 0..3 {
            assert!(
                got[c].abs_diff(want[c]) <= 12,
                "{tint:?}: {got:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn output_follows_an_input_size_change() {
    let srv = server();
    let h = ScopeHandle::start(config(&srv.url()));
    let mut p = Pump::new();
    assert!(p.until(&h, Duration::from_secs(20), live), "{:?}", p.events);
    // Switch to 160×128 frames mid-stream: no renegotiation, passthrough follows.
    let small: Vec<VideoFrame> = (0..30)
        .map(|n| {
            let f = frame(n);
            let mut data = Vec::with_capacity(160 * 128 * 4);
            for y in 0..128 {
                let row = (y * W * 4) as usize;
                data.extend_from_slice(&f.data[row..row + 160 * 4]);
            }
            VideoFrame::new(160, 128, PixelFormat::Rgba8, data, epoch().elapsed(), n).unwrap()
        })
        .collect();
    p.frames = small;
    let switched = p.until(&h, Duration::from_secs(10), |h, _| {
        h.latest_frame()
            .is_some_and(|f| (f.width, f.height) == (160, 128))
    });
    assert!(switched, "{:?} {:?}", h.stats(), p.events);
}
