//! Streaming into OBS (`src/record/stream.rs`): real ffmpeg clients connect as OBS's Media
//! Source would (SRT caller, UDP listener, TCP client), decode frames and compare pixels.
//!
//! Tolerance: flat colours through YUV 4:2:0 (BT.601 limited range, H.264 or VP8) come back
//! within a mean absolute difference of 6/255 per channel; alpha (VP8's alpha plane) within
//! 6/255 too.
//!
//! Needs `ffmpeg` on PATH (`make deps` installs it), built with libsrt and libvpx (Debian's is).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use metadj_scope::record::stream::StreamError;
use metadj_scope::record::{StreamKind, StreamOptions, StreamUrl, Streamer};

const BIN: &str = env!("CARGO_BIN_EXE_metadj-scope");

/// Mean absolute difference allowed per channel (0..=255) on flat colours.
const MAX_MEAN_DIFF: f64 = 6.0;

/// The library's logs in the test's output (`RUST_LOG=metadj_scope=debug` shows ffmpeg's).
fn logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("metadj_scope=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Sets `done` when dropped, so a failing test's pusher thread ends and the scope returns.
struct Done<'a>(&'a AtomicBool);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A port nobody uses now (UDP for SRT and UDP streams, TCP for TCP ones).
fn free_port(tcp: bool) -> u16 {
    if tcp {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    } else {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }
}

/// A flat picture, or, with `alpha`, four vertical bands: opaque red, half-transparent green
/// (premultiplied, as the compositor makes it), transparent, opaque blue.
fn picture(size: (u32, u32), alpha: bool) -> Vec<u8> {
    let (w, h) = size;
    let mut out = Vec::with_capacity(w as usize * h as usize * 4);
    for _ in 0..h {
        for x in 0..w {
            let px: [u8; 4] = if !alpha {
                [51, 102, 204, 255]
            } else {
                match x * 4 / w {
                    0 => [220, 40, 40, 255],
                    1 => [20, 100, 20, 128],
                    2 => [0, 0, 0, 0],
                    _ => [40, 40, 220, 255],
                }
            };
            out.extend_from_slice(&px);
        }
    }
    out
}

/// What a decoded straight-alpha pixel should be for [`picture`]'s premultiplied one.
fn straight(p: &[u8]) -> [u8; 4] {
    let a = u32::from(p[3]);
    if a == 0 {
        return [0, 0, 0, 0];
    }
    let c = |v: u8| ((u32::from(v) * 255 + a / 2) / a).min(255) as u8;
    [c(p[0]), c(p[1]), c(p[2]), p[3]]
}

/// Mean absolute difference of channels `channels` over pixels where `mask` holds.
fn mean_diff(
    a: &[u8],
    b: &[u8],
    channels: std::ops::Range<usize>,
    mask: impl Fn(&[u8]) -> bool,
) -> f64 {
    assert_eq!(a.len(), b.len());
    let (mut sum, mut n) = (0u64, 0u64);
    for (pa, pb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        if !mask(pb) {
            continue;
        }
        for c in channels.clone() {
            sum += u64::from(pa[c].abs_diff(pb[c]));
            n += 1;
        }
    }
    sum as f64 / n.max(1) as f64
}

/// Pushes `rgba` into the stream at 30 fps on the show clock until `done`.
fn pusher<'a>(
    scope: &'a std::thread::Scope<'a, '_>,
    stream: &'a Streamer,
    rgba: Vec<u8>,
    done: &'a AtomicBool,
) {
    scope.spawn(move || {
        let start = Instant::now();
        let mut i = 0u32;
        while !done.load(Ordering::Relaxed) {
            let t = Instant::now();
            stream.push(start.elapsed().as_secs_f64(), rgba.clone());
            assert!(t.elapsed() < Duration::from_millis(50), "push blocked");
            i += 1;
            let due = Duration::from_secs_f64(f64::from(i) / 30.0);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    });
}

/// An ffmpeg client reading `url` (with `input` options before `-i`), decoding `frames` frames
/// to RGBA; `None` if it got none within `timeout`. Returns the last frame and how long the
/// client took to its first byte of output.
fn client(
    url: &str,
    input: &[&str],
    frames: u32,
    size: (u32, u32),
    timeout: Duration,
) -> Option<(Vec<u8>, Duration)> {
    let start = Instant::now();
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-v", "error"])
        .args(input)
        .args(["-i", url, "-frames:v", &frames.to_string()])
        .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg is needed for these tests (make deps installs it)");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut first = None;
        let mut all = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            first.get_or_insert_with(|| start.elapsed());
            all.extend_from_slice(&buf[..n]);
        }
        (all, first)
    });
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > timeout {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (all, first) = reader.join().unwrap();
    let frame = size.0 as usize * size.1 as usize * 4;
    if all.len() < frame {
        return None;
    }
    let last = all.len() / frame * frame;
    Some((all[last - frame..last].to_vec(), first.unwrap_or_default()))
}

/// [`client`] again while it gets nothing, until `timeout` (the time to the first frame counts
/// from the first try): a listener ffmpeg that was just started again takes a moment to bind
/// its port, and a TCP client that comes first is refused at once (OBS's Media Source retries
/// too).
fn client_retrying(
    url: &str,
    input: &[&str],
    frames: u32,
    size: (u32, u32),
    timeout: Duration,
) -> Option<(Vec<u8>, Duration)> {
    let start = Instant::now();
    loop {
        let tried = start.elapsed();
        let left = timeout.checked_sub(tried)?;
        if let Some((frame, first)) = client(url, input, frames, size, left) {
            return Some((frame, tried + first));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Options that make an MPEG-TS client start in about a second (OBS's Media Source probes
/// similarly little).
const TS_INPUT: &[&str] = &["-analyzeduration", "1000000", "-probesize", "1000000"];

/// The program over an SRT listener: nothing is encoded until OBS (an ffmpeg SRT caller)
/// connects; it decodes the pushed colour; it leaves, ffmpeg is restarted, and a second client
/// gets frames again, while pushes never block.
#[test]
fn srt_listener_serves_a_client_then_another_and_encodes_nothing_without_one() {
    let size = (160, 90);
    let port = free_port(false);
    let url = StreamUrl::parse(&format!("srt://127.0.0.1:{port}"), false).unwrap();
    let stream = Streamer::start(url, StreamKind::Program, size, StreamOptions::default()).unwrap();
    let done = AtomicBool::new(false);
    let want = picture(size, false);
    logs();
    std::thread::scope(|s| {
        let _done = Done(&done);
        pusher(s, &stream, want.clone(), &done);
        std::thread::sleep(Duration::from_millis(1500));
        // The probe frame only.
        assert!(
            stream.encoded() <= 1,
            "{} encoded with no client",
            stream.encoded()
        );
        assert_eq!(stream.connections(), 0);
        let caller = format!("srt://127.0.0.1:{port}?mode=caller");
        for round in 1..=2u64 {
            let (frame, first) = client(&caller, TS_INPUT, 15, size, Duration::from_secs(20))
                .unwrap_or_else(|| panic!("client {round} got no frame"));
            let d = mean_diff(&frame, &want, 0..3, |_| true);
            eprintln!("SRT client {round}: first frame after {first:?}, mean abs diff {d:.2}");
            assert!(d <= MAX_MEAN_DIFF, "client {round}: mean abs diff {d:.2}");
            assert_eq!(stream.connections(), round);
            // The client left: ffmpeg ends and listens again.
            let start = Instant::now();
            while stream.restarts() < round {
                assert!(start.elapsed() < Duration::from_secs(10), "no restart");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        assert!(stream.failed().is_none());
        done.store(true, Ordering::Relaxed);
    });
    let stats = stream.finish();
    eprintln!("{stats}");
    assert!(stats.idle > 0, "{stats}");
}

/// The program pushed over UDP: a client listening on the port (as OBS's Media Source does
/// with `udp://127.0.0.1:PORT`) decodes the colour; a second one later does too.
#[test]
fn udp_push_reaches_a_listening_client() {
    let size = (160, 90);
    let port = free_port(false);
    let url = StreamUrl::parse(&format!("udp://127.0.0.1:{port}"), false).unwrap();
    let stream = Streamer::start(url, StreamKind::Program, size, StreamOptions::default()).unwrap();
    let done = AtomicBool::new(false);
    let want = picture(size, false);
    logs();
    std::thread::scope(|s| {
        let _done = Done(&done);
        pusher(s, &stream, want.clone(), &done);
        let listen = format!("udp://127.0.0.1:{port}?overrun_nonfatal=1");
        for round in 1..=2 {
            let (frame, first) = client(&listen, TS_INPUT, 45, size, Duration::from_secs(20))
                .unwrap_or_else(|| panic!("UDP client {round} got no frame"));
            let d = mean_diff(&frame, &want, 0..3, |_| true);
            eprintln!("UDP client {round}: first frame after {first:?}, mean abs diff {d:.2}");
            assert!(d <= MAX_MEAN_DIFF, "mean abs diff {d:.2}");
        }
        assert_eq!(stream.restarts(), 0, "UDP never waits for a client");
        done.store(true, Ordering::Relaxed);
    });
    eprintln!("{}", stream.finish());
}

/// VP8 with alpha in WebM over a TCP listener: a client decoding with libvpx (ffmpeg's own vp8
/// decoder drops alpha) gets the colours where opaque and the alpha everywhere; after it
/// leaves, another client gets frames again.
#[test]
fn alpha_stream_over_tcp_keeps_the_alpha() {
    let size = (160, 90);
    let port = free_port(true);
    let url = StreamUrl::parse(&format!("tcp://127.0.0.1:{port}?listen"), false).unwrap();
    let stream = Streamer::start(url, StreamKind::Alpha, size, StreamOptions::default()).unwrap();
    let done = AtomicBool::new(false);
    let sent = picture(size, true);
    let want: Vec<u8> = sent.chunks_exact(4).flat_map(straight).collect();
    logs();
    std::thread::scope(|s| {
        let _done = Done(&done);
        pusher(s, &stream, sent.clone(), &done);
        std::thread::sleep(Duration::from_millis(1000));
        // Raw frames until the pipe to the waiting ffmpeg is full (64 KiB: one or two);
        // libvpx runs only once a client is there.
        assert!(
            stream.encoded() <= 3,
            "{} sent with no client",
            stream.encoded()
        );
        let tcp = format!("tcp://127.0.0.1:{port}");
        for round in 1..=2u64 {
            let (frame, first) =
                client_retrying(&tcp, &["-c:v", "libvpx"], 10, size, Duration::from_secs(20))
                    .unwrap_or_else(|| panic!("client {round} got no frame"));
            // Away from the bands' edges (4:2:0 chroma and the alpha plane blur them).
            let inner = |x: usize| (x % 40) >= 6 && (x % 40) < 34;
            let cols: Vec<bool> = (0..size.0 as usize).map(inner).collect();
            let masked = |buf: &[u8]| -> Vec<u8> {
                buf.chunks_exact(4)
                    .enumerate()
                    .flat_map(|(i, p)| {
                        if cols[i % size.0 as usize] {
                            p.to_vec()
                        } else {
                            vec![0, 0, 0, 0]
                        }
                    })
                    .collect()
            };
            let (f, w) = (masked(&frame), masked(&want));
            let alpha = mean_diff(&f, &w, 3..4, |_| true);
            let colour = mean_diff(&f, &w, 0..3, |p| p[3] == 255);
            eprintln!(
                "TCP alpha client {round}: first frame after {first:?}, alpha diff {alpha:.2}, \
                 opaque colour diff {colour:.2}"
            );
            assert!(alpha <= MAX_MEAN_DIFF, "alpha mean abs diff {alpha:.2}");
            assert!(colour <= MAX_MEAN_DIFF, "colour mean abs diff {colour:.2}");
            // The transparent band is transparent, the opaque ones opaque.
            let a_at = |x: usize| frame[(45 * size.0 as usize + x) * 4 + 3];
            assert!(a_at(100) < 10 && a_at(20) > 245 && a_at(140) > 245);
            assert!(a_at(60).abs_diff(128) <= 10, "half alpha: {}", a_at(60));
            let start = Instant::now();
            while stream.restarts() < round {
                assert!(start.elapsed() < Duration::from_secs(10), "no restart");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        done.store(true, Ordering::Relaxed);
    });
    eprintln!("{}", stream.finish());
}

/// A port already taken: ffmpeg fails, the error names the URL, ffmpeg is tried again with a
/// backoff (counted), and pushing never blocks.
#[test]
fn a_taken_port_is_retried_and_never_blocks() {
    let size = (64, 32);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let url = StreamUrl::parse(&format!("tcp://127.0.0.1:{port}?listen"), false).unwrap();
    let stream = Streamer::start(url, StreamKind::Alpha, size, StreamOptions::default()).unwrap();
    let done = AtomicBool::new(false);
    logs();
    std::thread::scope(|s| {
        let _done = Done(&done);
        pusher(s, &stream, picture(size, true), &done);
        let start = Instant::now();
        while stream.restarts() < 2 {
            assert!(start.elapsed() < Duration::from_secs(15), "no retries");
            std::thread::sleep(Duration::from_millis(50));
        }
        done.store(true, Ordering::Relaxed);
    });
    assert!(stream.failed().is_none(), "a taken port is not fatal");
    let stats = stream.finish();
    eprintln!("{stats}");
    assert_eq!(stats.connections, 0);
}

#[test]
fn without_ffmpeg_the_error_names_the_url_and_what_to_install() {
    let url = StreamUrl::parse("srt://127.0.0.1:9", false).unwrap();
    let options = StreamOptions {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ..StreamOptions::default()
    };
    let err = Streamer::start(url, StreamKind::Program, (64, 32), options)
        .err()
        .unwrap();
    assert!(matches!(err, StreamError::FfmpegMissing { .. }));
    let msg = err.to_string();
    assert!(msg.contains("srt://127.0.0.1:9?mode=listener"), "{msg}");
    assert!(msg.contains("install ffmpeg"), "{msg}");
}

/// A fresh directory for one test's files (and its `XDG_RUNTIME_DIR`).
fn scratch(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("{name}-{nanos}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `play --stream srt://…` as a user runs it (under xvfb-run): an SRT caller decodes the
/// show's colour, the show keeps playing after it leaves, and the app quits cleanly.
#[test]
fn cli_play_streams_the_program_over_srt() {
    let dir = scratch("metadj-stream-cli");
    let show = dir.join("solid.ron");
    std::fs::write(&show, common::SOLID_SHOW).unwrap();
    let port = free_port(false);
    let app = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 640x360x24"])
        .arg(BIN)
        .arg("play")
        .arg(&show)
        .args(["--output-only", "--exit-after", "25", "--no-midi"])
        .args(["--osc", "off", "--obs-websocket", "off"])
        .args(["--stream", &format!("srt://127.0.0.1:{port}")])
        .env("XDG_RUNTIME_DIR", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xvfb-run is needed for this test (make test installs it)");
    let want = picture((160, 90), false);
    let caller = format!("srt://127.0.0.1:{port}?mode=caller");
    // The app takes a few seconds to start on lavapipe; SRT callers retry until it listens.
    let start = Instant::now();
    let mut got = None;
    while got.is_none() && start.elapsed() < Duration::from_secs(18) {
        got = client(&caller, TS_INPUT, 15, (160, 90), Duration::from_secs(8));
    }
    let (frame, _) = got.expect("no frame from play --stream");
    let d = mean_diff(&frame, &want, 0..3, |_| true);
    eprintln!("play --stream: mean abs diff {d:.2}");
    assert!(d <= MAX_MEAN_DIFF, "mean abs diff {d:.2}");
    let out = app.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("a client connected"), "{stderr}");
    assert!(stderr.contains("the client left"), "{stderr}");
    assert!(stderr.contains("1 connection(s)"), "{stderr}");
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

/// `play --stream-alpha NODE=…` (here from the settings file's `stream_alpha`) sends that
/// node's own picture with its alpha, not the program: a half-transparent red layer over an
/// opaque blue one arrives as straight red at alpha one half (the program there is opaque
/// purple). A node no scene has is refused up front, naming it.
#[test]
fn cli_play_streams_a_nodes_alpha_over_tcp() {
    let dir = scratch("metadj-stream-node");
    let show = dir.join("layers.ron");
    std::fs::write(&show, common::LAYERS_SHOW).unwrap();
    // The stream comes from the command line, or from the machine's settings file.
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let play = |flags: &[String]| {
        Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 640x360x24"])
            .arg(BIN)
            .arg("play")
            .arg(&show)
            .args(["--output-only", "--exit-after", "25", "--no-midi"])
            .args(["--osc", "off", "--obs-websocket", "off"])
            .args(flags)
            .env("XDG_RUNTIME_DIR", &dir)
            .env("METADJ_SCOPE_CONFIG", &config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("xvfb-run is needed for this test (make test installs it)")
    };
    let nobody = format!("nobody=tcp://127.0.0.1:{}?listen", free_port(true));
    let refused = play(&["--stream-alpha".into(), nobody])
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("no scene has a node `nobody`"), "{stderr}");

    let port = free_port(true);
    std::fs::write(
        config.join("settings.ron"),
        format!(r#"(stream_alpha: ["fg=tcp://127.0.0.1:{port}?listen"])"#),
    )
    .unwrap();
    let app = play(&[]);
    let tcp = format!("tcp://127.0.0.1:{port}");
    // The app takes a few seconds to start on lavapipe: retry until it listens.
    let start = Instant::now();
    let mut got = None;
    while got.is_none() && start.elapsed() < Duration::from_secs(18) {
        got = client(
            &tcp,
            &["-c:v", "libvpx"],
            10,
            (160, 90),
            Duration::from_secs(8),
        );
        if got.is_none() {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let (frame, _) = got.expect("no frame from play --stream-alpha fg=…");
    // fg premultiplied is (128, 0, 0, 128); straight, (255, 0, 0, 128).
    let want: Vec<u8> = std::iter::repeat_n([255u8, 0, 0, 128], 160 * 90)
        .flatten()
        .collect();
    let alpha = mean_diff(&frame, &want, 3..4, |_| true);
    let colour = mean_diff(&frame, &want, 0..3, |_| true);
    eprintln!("play --stream-alpha fg: alpha diff {alpha:.2}, colour diff {colour:.2}");
    assert!(alpha <= MAX_MEAN_DIFF, "alpha mean abs diff {alpha:.2}");
    assert!(colour <= MAX_MEAN_DIFF, "colour mean abs diff {colour:.2}");
    let out = app.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("a client connected"), "{stderr}");
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

/// Frames from a client decoding `url` to grey (1 byte a pixel), each with its arrival time.
fn watch(
    url: &str,
    input: &[&str],
    size: (u32, u32),
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<(Instant, f64)>,
) {
    let mut child = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-v",
            "error",
            "-fflags",
            "nobuffer",
            "-flags",
            "low_delay",
        ])
        .args(input)
        .args(["-i", url, "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let frame = size.0 as usize * size.1 as usize;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; frame];
        while stdout.read_exact(&mut buf).is_ok() {
            let mean = buf.iter().map(|&v| f64::from(v)).sum::<f64>() / frame as f64;
            if tx.send((Instant::now(), mean)).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The cost and latency of streaming (BENCHMARKS.md "Streaming"): `cargo test --test stream
/// -- --ignored --nocapture measure`. Latency: the picture pushed into the stream turns from
/// black to white; the time until a client decodes a white frame (push to decoded picture:
/// encode, ffmpeg, transport, client demux and decode; not the render or the readback).
/// Cost: the headless frame rate of the demo's `test` scene at 720p without a stream, with an
/// SRT stream nobody watches, and with one a client decodes.
#[test]
#[ignore = "a measurement, not a check: minutes of CPU"]
fn measure_streaming() {
    logs();
    let size = (1280u32, 720u32);
    let black = vec![0u8; size.0 as usize * size.1 as usize * 4];
    let white: Vec<u8> = black.iter().map(|_| 255u8).collect();
    let latency = std::env::var_os("MEASURE_SKIP_LATENCY").is_none();
    for (name, tcp) in [("srt", false), ("udp", false)]
        .into_iter()
        .filter(|_| latency)
    {
        let port = free_port(tcp);
        let (url, client_url) = match name {
            "srt" => (
                format!("srt://127.0.0.1:{port}"),
                format!("srt://127.0.0.1:{port}?mode=caller"),
            ),
            _ => (
                format!("udp://127.0.0.1:{port}"),
                format!("udp://127.0.0.1:{port}?overrun_nonfatal=1"),
            ),
        };
        let stream = Streamer::start(
            StreamUrl::parse(&url, false).unwrap(),
            StreamKind::Program,
            size,
            StreamOptions::default(),
        )
        .unwrap();
        let (mut child, rx) = watch(&client_url, TS_INPUT, size);
        let start = Instant::now();
        let mut lat = Vec::new();
        let mut i = 0u32;
        let mut white_since: Option<Instant> = None;
        let mut switches = 0;
        while switches < 12 && start.elapsed() < Duration::from_secs(60) {
            let now = Instant::now();
            // Every 1.5 s after the first 4 s: switch colour.
            let phase = (start.elapsed().as_secs_f64() - 4.0) / 1.5;
            let want_white = phase >= 0.0 && (phase as u32).is_multiple_of(2);
            if want_white && white_since.is_none() {
                white_since = Some(now);
                switches += 1;
            }
            if !want_white {
                white_since = None;
            }
            let pic = if want_white { &white } else { &black };
            stream.push(start.elapsed().as_secs_f64(), pic.clone());
            while let Ok((at, mean)) = rx.try_recv() {
                if let Some(t0) = white_since
                    && mean > 128.0
                    && lat.len() < switches
                {
                    lat.push(at.duration_since(t0).as_secs_f64() * 1000.0);
                }
            }
            i += 1;
            if let Some(wait) =
                Duration::from_secs_f64(f64::from(i) / 30.0).checked_sub(start.elapsed())
            {
                std::thread::sleep(wait);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let stats = stream.finish();
        let per = stats.worker_cpu.map_or(f64::NAN, |d| {
            d.as_secs_f64() * 1000.0 / stats.encoded.max(1) as f64
        });
        lat.sort_by(f64::total_cmp);
        println!(
            "RESULT {name} 720p30 push→decoded latency ms: {lat:?} (median {:.0}); worker CPU {per:.1} ms/frame; {stats}",
            lat.get(lat.len() / 2).copied().unwrap_or(f64::NAN)
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for mode in ["none", "srt, no client", "srt, a client"] {
        let loaded =
            metadj_scope::headless::load_at_size(&root.join("scenes/demo.ron"), Some(size))
                .unwrap();
        let scene = loaded.scene_index("test").unwrap();
        let port = free_port(false);
        let stream = (mode != "none").then(|| {
            Streamer::start(
                StreamUrl::parse(&format!("srt://127.0.0.1:{port}"), false).unwrap(),
                StreamKind::Program,
                size,
                StreamOptions::default(),
            )
            .unwrap()
        });
        let mut child = None;
        if let Some(s) = stream.as_ref().filter(|_| mode == "srt, a client") {
            // The listener opens once ffmpeg has its probe frame; then the client calls in.
            s.push(0.0, black.clone());
            std::thread::sleep(Duration::from_millis(1500));
            child = Some(watch(
                &format!("srt://127.0.0.1:{port}?mode=caller"),
                TS_INPUT,
                size,
            ));
            let t = Instant::now();
            while !s.is_live() && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let mut t0 = None;
        let n = 100;
        metadj_scope::headless::render_frames(loaded, scene, 0.0, 30.0, n, |i, img| {
            if i == 10 {
                t0 = Some(Instant::now());
            }
            if let Some(s) = &stream {
                s.push(f64::from(i) / 30.0, img.into_raw());
            }
            if let Some((_, rx)) = &child {
                while rx.try_recv().is_ok() {}
            }
            Ok(())
        })
        .unwrap();
        let fps = f64::from(n - 10) / t0.unwrap().elapsed().as_secs_f64();
        if let Some((c, _)) = &mut child {
            let _ = c.kill();
            let _ = c.wait();
        }
        let stats = stream.map(Streamer::finish);
        println!(
            "RESULT render 720p with stream {mode}: {fps:.1} frames/s{}",
            stats.map_or(String::new(), |s| format!(" ({s})"))
        );
    }
}

/// A program stream stopped and started again while the show plays, through the one control
/// path (`ShowCommand::Output`, as the console's Stop/Start sends it): off returns at once
/// (ffmpeg is closed behind the show) and on again starts a new ffmpeg that sends frames.
#[test]
fn a_stream_is_stopped_and_started_again_live() {
    use metadj_scope::control::ShowCommand;
    use metadj_scope::record::{OutputState, StreamPlugin, Streams};
    let url = format!("udp://127.0.0.1:{}", free_port(false));
    let specs =
        metadj_scope::record::stream::specs(std::slice::from_ref(&url), &[], false).unwrap();
    let mut app = common::headless_demo(
        (160, 90),
        "test",
        StreamPlugin {
            streams: specs,
            options: StreamOptions::default(),
        },
    );
    let mut frame = 0u32;
    let mut play = |app: &mut bevy::app::App, n: u32| common::play_frames(app, &mut frame, n);
    let status = |app: &bevy::app::App| app.world().resource::<Streams>().statuses()[0].clone();
    // Frames go out once ffmpeg has taken the first (UDP pushes, no client needed).
    let until_sending = |app: &mut bevy::app::App,
                         play: &mut dyn FnMut(&mut bevy::app::App, u32)| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while status(app).frames < 10 {
            assert!(Instant::now() < deadline, "{:?}", status(app));
            play(app, 1);
        }
    };
    until_sending(&mut app, &mut play);
    assert_eq!(status(&app).state, OutputState::Running);
    let name = status(&app).name;
    app.world_mut().write_message(ShowCommand::Output {
        name: name.clone(),
        on: false,
    });
    let t = Instant::now();
    play(&mut app, 1);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "the stop took {:?}",
        t.elapsed()
    );
    assert_eq!(status(&app).state, OutputState::Off);
    play(&mut app, 5);
    assert_eq!(status(&app).state, OutputState::Off, "off stays off");
    app.world_mut()
        .write_message(ShowCommand::Output { name, on: true });
    play(&mut app, 1);
    until_sending(&mut app, &mut play);
    assert_eq!(
        status(&app).state,
        OutputState::Running,
        "a new ffmpeg sends again"
    );
}
