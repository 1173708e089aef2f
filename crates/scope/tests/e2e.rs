//! The client against the embedded Scope server over real loopback WebRTC.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use std::time::{Duration, Instant};

use media::{PixelFormat, VideoFrame};
use scope::rest::RestClient;
use scope::{Codec, ScopeConfig, ScopeEvent, ScopeHandle, ScopeState, epoch};
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
        watchdog: Duration::from_secs(2),
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
