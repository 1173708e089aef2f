//! Added latency measured end to end on lavapipe: a probe source whose frames "arrived" a known
//! 200 ms before they were uploaded measures 200 ms plus at most two captured frames; a synthetic camera
//! measures a small, positive latency.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use metadj_scope::headless::{capture_frame, wait_for_sources};
use metadj_scope::latency::{AddedLatency, FrameArrivals, LatencyPlugin};
use metadj_scope::render::FrameClock;
use metadj_scope::render::harness::{finish_setup, headless_app};
use metadj_scope::{AppSystems, PlayerPlugin, showfile};
use show::NodeId;

const SHOW: &str = r#"(version: 2, canvas: (64, 36), scenes: [(name: "s", nodes: {
    "cam": (kind: camera((device: synthetic, width: 64, height: 36, fps: 30))),
    "out": (kind: output(()))}, edges: [(from: "cam", to: "out")])])"#;

const INJECTED: Duration = Duration::from_millis(200);

/// A source whose every frame arrived exactly [`INJECTED`] before this update.
fn probe(mut arrivals: ResMut<FrameArrivals>) {
    arrivals.note(&NodeId::new("probe"), Instant::now() - INJECTED);
}

#[test]
fn an_injected_delay_is_measured_and_a_camera_adds_little() {
    let dir = std::env::temp_dir().join(format!("metadj-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("show.ron");
    std::fs::write(&path, SHOW).unwrap();
    let loaded = Arc::new(showfile::load_show(&path).unwrap());
    let mut app = headless_app(loaded.show.canvas);
    app.add_plugins((
        PlayerPlugin {
            show: loaded,
            watch: false,
            start_scene: 0,
            live_clock: false,
        },
        LatencyPlugin,
    ))
    .add_systems(Update, probe.in_set(AppSystems::Sources));
    finish_setup(&mut app);
    wait_for_sources(&mut app).unwrap();
    let start = Instant::now();
    let mut captures = 0u32;
    let mut clock = FrameClock::default();
    while start.elapsed() < Duration::from_secs(3) {
        clock.frame += 1;
        clock.time += 1.0 / 30.0;
        capture_frame(&mut app, clock).unwrap();
        captures += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    let per_capture = start.elapsed() / captures;
    let latency = app.world().resource::<AddedLatency>();
    let probe = latency.get(&NodeId::new("probe")).expect("probe measured");
    eprintln!("probe {probe:?}, {per_capture:?} per captured frame");
    assert!(probe.samples > 10, "{probe:?}");
    assert!(probe.median >= INJECTED, "{probe:?}");
    assert!(
        probe.median <= INJECTED + 2 * per_capture,
        "{probe:?} with {per_capture:?} per captured frame"
    );
    let cam = latency.get(&NodeId::new("cam")).expect("camera measured");
    eprintln!("camera {cam:?}");
    assert!(
        cam.samples > 10 && cam.median < Duration::from_millis(500),
        "{cam:?}"
    );
}

#[test]
fn bench_show_reports_rate_and_latency_and_names_a_missing_scene() {
    let dir = std::env::temp_dir().join(format!("metadj-bench-show-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("show.ron");
    std::fs::write(&path, SHOW).unwrap();
    let args = |scene: &str| metadj_scope::bench_show::BenchShowArgs {
        show: path.clone(),
        scene: scene.into(),
        seconds: 1.5,
        json: true,
    };
    let r = metadj_scope::bench_show::run(&args("s")).unwrap();
    assert!(r.frames > 5 && r.fps > 3.0, "{r}");
    let (median, p95) = r.added_latency_ms["cam"];
    assert!(median > 0.0 && median <= p95 && p95 < 1000.0, "{r}");
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["added_latency_ms"]["cam"].is_array(), "{json}");
    let e = metadj_scope::bench_show::run(&args("nope"))
        .unwrap_err()
        .to_string();
    assert!(e.contains(r#"no scene "nope" (scenes: s)"#), "{e}");
}
