//! Recording the program (`src/record/`): files that ffprobe and ffmpeg read back.
//!
//! - the Bevy plugin records a show rendered headless (the demo's `test` scene, moving bars):
//!   H.264, the program's size, fps × duration frames (±1), and decoded frames within a mean
//!   absolute difference of 6/255 of the rendered ones;
//! - the recorder on its own, both encodings: constant rate, repeats for a late or stalled
//!   source, drops counted when the encoder is behind;
//! - failures: ffmpeg killed mid-recording (the cut file still decodes), an unwritable path, a
//!   full disk (`/dev/full`), no ffmpeg (the message says what to install), and `play --record`
//!   as a user runs it.
//!
//! Needs `ffmpeg` and `ffprobe` on PATH (`make deps` installs them).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use metadj_scope::headless;
use metadj_scope::record::{Encoding, RecordOptions, RecordPlugin, Recorder, Recording};
use metadj_scope::render::FrameClock;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_metadj-scope");

/// Mean absolute RGB difference allowed between a decoded frame and the rendered one: H.264
/// at these rates and BT.601 4:2:0 round trips (chroma subsampling blurs sharp colour edges).
const MAX_MEAN_DIFF: f64 = 6.0;

/// A unique empty folder under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("metadj-record-{name}-{nanos}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What ffprobe says about the video stream: (codec, width, height, frames decoded).
fn probe(path: &Path) -> (String, u32, u32, u64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe is needed for these tests (make deps installs ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(
        f.len(),
        4,
        "ffprobe: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        f[0].to_string(),
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
    )
}

/// Frame `index` of the file as RGBA8, decoded by ffmpeg.
fn decode_frame(path: &Path, index: u64, size: (u32, u32)) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-vf", &format!("select=eq(n\\,{index})"), "-frames:v", "1"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout.len(),
        size.0 as usize * size.1 as usize * 4,
        "frame {index} of {}",
        path.display()
    );
    out.stdout
}

/// Mean absolute difference of the RGB channels, in 0..=255.
fn mean_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut sum = 0u64;
    let mut n = 0u64;
    for (pa, pb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for c in 0..3 {
            sum += u64::from(pa[c].abs_diff(pb[c]));
            n += 1;
        }
    }
    sum as f64 / n as f64
}

/// A smooth picture with a block moving one step per frame, so frames differ and the
/// encoder has real work.
fn synthetic(size: (u32, u32), i: u32) -> Vec<u8> {
    let (w, h) = size;
    let mut out = Vec::with_capacity(w as usize * h as usize * 4);
    let bx = (i * 4) % w;
    for y in 0..h {
        for x in 0..w {
            let inside = x >= bx && x < bx + w / 8 && y > h / 3 && y < h / 2;
            let (r, g, b) = if inside {
                (240, 230, 40)
            } else {
                ((x * 255 / w) as u8, (y * 255 / h) as u8, 128)
            };
            out.extend_from_slice(&[r, g, b, 255]);
        }
    }
    out
}

fn options(encoding: Encoding, fps: u32) -> RecordOptions {
    RecordOptions {
        fps,
        encoding,
        ..RecordOptions::default()
    }
}

/// The plugin in a headless player: 60 frames of the moving test pattern at 30 fps (2 s of
/// show time, the clock set per frame as `render` does) make a 60-frame file whose frames are
/// the rendered ones.
#[test]
fn plugin_records_a_headless_show_that_ffprobe_reads_back() {
    let dir = temp_dir("plugin");
    let file = dir.join("show.mkv");
    let size = (320, 180);
    let loaded =
        headless::load_at_size(&Path::new(ROOT).join("scenes/demo.ron"), Some(size)).unwrap();
    let scene = loaded.scene_index("test").unwrap();
    let show = std::sync::Arc::new(loaded);
    // `player_app` finishes set-up; the recorder plugin must be in before that, so build the
    // same app by hand.
    let mut app = metadj_scope::render::harness::headless_app(size);
    app.add_plugins((
        metadj_scope::PlayerPlugin {
            show,
            watch: false,
            start_scene: scene,
            live_clock: false,
        },
        RecordPlugin {
            path: file.clone(),
            options: options(Encoding::default(), 30),
            node: None,
            start: true,
        },
    ));
    metadj_scope::render::harness::finish_setup(&mut app);
    headless::wait_for_sources(&mut app).unwrap();
    let mut rendered = Vec::new();
    for i in 0..60u32 {
        let clock = FrameClock {
            time: i as f32 / 30.0,
            frame: u64::from(i) + 1,
        };
        rendered.push(headless::capture_frame(&mut app, clock).unwrap());
        // Real-time pace, as in `play`: the encoder is never behind, so every frame is in.
        std::thread::sleep(Duration::from_millis(10));
    }
    let stats = app
        .world_mut()
        .resource_mut::<Recording>()
        .finish()
        .expect("the recording was running")
        .unwrap();
    eprintln!("{stats}");
    let (codec, w, h, frames) = probe(&file);
    assert_eq!((codec.as_str(), w, h), ("h264", 320, 180));
    assert!(
        (59..=61).contains(&frames),
        "{frames} frames for 2 s at 30 fps"
    );
    assert_eq!(stats.frames, frames, "{stats}");
    for i in [5u64, 30, 59] {
        let decoded = decode_frame(&file, i, size);
        let d = mean_diff(&decoded, rendered[i as usize].as_raw());
        eprintln!("frame {i}: mean abs diff {d:.2}");
        assert!(d <= MAX_MEAN_DIFF, "frame {i}: mean abs diff {d:.2}");
        // And it is that frame, not a neighbour (the bars move).
        let other = rendered[(i as usize + 15) % 60].as_raw();
        assert!(
            mean_diff(&decoded, other) > d,
            "frame {i} matches another frame better"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The recording turned on, off and on again while the show plays, through the one control
/// path (`ShowCommand::Output`, as the console's Start/Stop sends it): off until started (no
/// readback meanwhile); off returns at once and the file is finished behind the show; on again
/// records into a new file next to it, the first left as it was.
#[test]
fn the_recording_is_stopped_and_started_again_live_into_a_new_file() {
    use metadj_scope::control::ShowCommand;
    use metadj_scope::record::OutputState;
    let dir = temp_dir("live-toggle");
    let file = dir.join("show.mkv");
    let size = (320, 180);
    // Off until started, as a machine's `record_to` is.
    let mut app = common::headless_demo(
        size,
        "test",
        RecordPlugin {
            path: file.clone(),
            options: options(Encoding::default(), 30),
            node: None,
            start: false,
        },
    );
    let mut frame = 0u32;
    let mut play = |app: &mut bevy::app::App, n: u32| common::play_frames(app, &mut frame, n);
    let state = |app: &bevy::app::App| app.world().resource::<Recording>().status();
    // (The headless harness keeps the readback on for its own captures: ask who asks.)
    let reading_back = |app: &bevy::app::App| {
        app.world()
            .resource::<metadj_scope::render::ProgramReadback>()
            .asked_by("record")
    };
    play(&mut app, 5);
    assert_eq!(state(&app).state, OutputState::Off);
    assert!(
        !reading_back(&app),
        "no readback for a recording that is off"
    );
    let name = state(&app).name;
    app.world_mut().write_message(ShowCommand::Output {
        name: name.clone(),
        on: true,
    });
    play(&mut app, 30);
    assert_eq!(state(&app).state, OutputState::Running);
    assert!(state(&app).frames > 0, "{:?}", state(&app));
    assert_eq!(
        state(&app).name,
        name,
        "the first start writes the file asked for"
    );
    assert!(
        reading_back(&app),
        "a running recording asks for the program"
    );
    app.world_mut().write_message(ShowCommand::Output {
        name: name.clone(),
        on: false,
    });
    let t = Instant::now();
    play(&mut app, 1);
    let took = t.elapsed();
    assert_eq!(state(&app).state, OutputState::Off);
    assert!(!reading_back(&app), "the readback stops with the recording");
    // One frame (render and readback included); finishing the file inline takes ffmpeg's
    // exit, which the show must never wait for.
    assert!(took < Duration::from_secs(2), "the stop took {took:?}");
    // The file is finished behind the show: it becomes readable to the end.
    let deadline = Instant::now() + Duration::from_secs(20);
    let first = loop {
        let frames = Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
            .arg(&file)
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u64>()
                    .ok()
            });
        if let Some(n) = frames.filter(|n| *n >= 20) {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "{} never finished",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    play(&mut app, 10);
    assert_eq!(state(&app).state, OutputState::Off, "off stays off");
    app.world_mut()
        .write_message(ShowCommand::Output { name, on: true });
    play(&mut app, 30);
    let second = dir.join("show-2.mkv");
    let now = state(&app);
    assert_eq!(now.name, second.display().to_string());
    assert_eq!(now.state, OutputState::Running);
    let stats = app
        .world_mut()
        .resource_mut::<Recording>()
        .finish()
        .expect("running again")
        .unwrap();
    let (_, w, h, frames) = probe(&second);
    assert_eq!((w, h), size);
    assert!(
        frames >= 20 && frames == stats.frames,
        "{frames} frames, {stats}"
    );
    assert_eq!(probe(&file).3, first, "the first file is left as it was");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `play --record-alpha fg=out.webm`: the node's own picture with its alpha, VP8 in WebM, as a
/// user runs it. A half-transparent red layer over blue decodes (libvpx, which keeps alpha)
/// as straight red at alpha 128; a node no scene has is refused before anything starts.
#[test]
fn cli_play_records_a_nodes_alpha_as_webm() {
    let dir = temp_dir("cli-alpha");
    let show = dir.join("layers.ron");
    std::fs::write(&show, common::LAYERS_SHOW).unwrap();
    let run = |target: &str| {
        Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 640x360x24"])
            .arg(BIN)
            .arg("play")
            .arg(&show)
            .args(["--output-only", "--exit-after", "10", "--no-midi"])
            .args(["--osc", "off", "--obs-websocket", "off"])
            .args(["--record-alpha", target])
            .env("XDG_RUNTIME_DIR", &dir)
            .env("METADJ_SCOPE_CONFIG", dir.join("config"))
            .output()
            .expect("xvfb-run is needed for this test (make test installs it)")
    };
    let refused = run(&format!("nobody={}", dir.join("x.webm").display()));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("no scene has a node `nobody`"), "{stderr}");

    let file = dir.join("fg.webm");
    let out = run(&format!("fg={}", file.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("recorded "), "no summary: {stderr}");
    let (codec, w, h, frames) = probe(&file);
    assert_eq!((codec.as_str(), w, h), ("vp8", 160, 90));
    assert!(frames >= 10, "{frames} frames");
    let decoded = Command::new("ffmpeg")
        .args(["-v", "error", "-c:v", "libvpx", "-i"])
        .arg(&file)
        .args([
            "-vf",
            &format!("select=eq(n\\,{})", frames - 1),
            "-frames:v",
            "1",
        ])
        .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .unwrap();
    assert_eq!(
        decoded.stdout.len(),
        160 * 90 * 4,
        "{}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    // fg premultiplied is (128, 0, 0, 128); straight, (255, 0, 0, 128).
    let mean = |c: usize| {
        decoded
            .stdout
            .chunks_exact(4)
            .map(|p| f64::from(p[c]))
            .sum::<f64>()
            / (160.0 * 90.0)
    };
    let (r, g, b, a) = (mean(0), mean(1), mean(2), mean(3));
    eprintln!("record-alpha fg: mean rgba {r:.1} {g:.1} {b:.1} {a:.1}");
    assert!((a - 128.0).abs() <= MAX_MEAN_DIFF, "alpha {a:.1}");
    assert!((r - 255.0).abs() <= MAX_MEAN_DIFF && g <= MAX_MEAN_DIFF && b <= MAX_MEAN_DIFF);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Both encodings: 2 s of frames pushed in real time make 60 frames at 30 fps, each the frame
/// pushed for its slot.
#[test]
fn both_encodings_write_constant_rate_h264() {
    for encoding in [Encoding::OpenH264, Encoding::X264] {
        let dir = temp_dir("encodings");
        let file = dir.join("synthetic.mkv");
        let size = (160, 90);
        let rec = Recorder::start_with(&file, size, options(encoding, 30)).unwrap();
        for i in 0..60 {
            rec.push(f64::from(i) / 30.0, synthetic(size, i));
            // ffmpeg takes 130 ms (idle) to 500 ms (busy machine) to start reading: frames
            // pushed meanwhile would be dropped (each replaced by a repeat). The show clock
            // stays at frame 0 while waiting, so this wait adds no repeats.
            let pause = if i == 0 { 1000 } else { 20 };
            std::thread::sleep(Duration::from_millis(pause));
        }
        let stats = rec.finish().unwrap();
        eprintln!("{encoding}: {stats}");
        assert_eq!(
            (stats.frames, stats.written, stats.repeated),
            (60, 60, 0),
            "{stats}"
        );
        assert_eq!(stats.dropped, 0, "{stats}");
        assert!(stats.bytes > 1000, "{stats}");
        let (codec, w, h, frames) = probe(&file);
        assert_eq!(
            (codec.as_str(), w, h, frames),
            ("h264", 160, 90, 60),
            "{encoding}"
        );
        for i in [0u32, 31, 59] {
            let d = mean_diff(
                &decode_frame(&file, u64::from(i), size),
                &synthetic(size, i),
            );
            eprintln!("{encoding} frame {i}: mean abs diff {d:.2}");
            assert!(
                d <= MAX_MEAN_DIFF,
                "{encoding} frame {i}: mean abs diff {d:.2}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// A source that stops sending: the show clock goes on, so the recording goes on with the last
/// frame; the next frame lands in the slot of its show time.
#[test]
fn a_stalled_source_is_filled_with_repeats_on_the_show_clock() {
    let dir = temp_dir("stall");
    let file = dir.join("stall.mkv");
    let size = (64, 32);
    let rec = Recorder::start_with(&file, size, options(Encoding::OpenH264, 30)).unwrap();
    rec.push(0.0, synthetic(size, 0));
    // A frame of another size (a live edit changed the canvas) is left out and counted.
    rec.push(0.01, synthetic((32, 16), 0));
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1000) {
        rec.set_clock(start.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_millis(5));
    }
    // The worker has been repeating frame 0 up to the clock minus its latency allowance.
    rec.push(1.0, synthetic(size, 1));
    std::thread::sleep(Duration::from_millis(100));
    let stats = rec.finish().unwrap();
    eprintln!("{stats}");
    assert_eq!(
        (stats.frames, stats.written, stats.repeated),
        (31, 2, 29),
        "{stats}"
    );
    assert_eq!(stats.wrong_size, 1, "{stats}");
    assert_eq!(probe(&file).3, 31);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Frames pushed far faster than the encoder takes them: the newest wins, the others are
/// counted as dropped, and the file still has one frame per slot of show time.
#[test]
fn an_encoder_behind_drops_and_counts_but_keeps_the_timeline() {
    let dir = temp_dir("behind");
    let file = dir.join("behind.mkv");
    let size = (640, 360);
    let rec = Recorder::start_with(&file, size, options(Encoding::OpenH264, 30)).unwrap();
    let frames: Vec<Vec<u8>> = (0..8).map(|i| synthetic(size, i)).collect();
    let start = Instant::now();
    for i in 0..90u32 {
        rec.push(f64::from(i) / 30.0, frames[i as usize % 8].clone());
    }
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "push blocked: {:?}",
        start.elapsed()
    );
    let stats = rec.finish().unwrap();
    eprintln!("{stats}");
    assert!(stats.dropped > 0, "{stats}");
    assert_eq!(stats.frames, 90, "{stats}");
    assert_eq!(stats.written + stats.dropped + stats.skipped, 90, "{stats}");
    assert_eq!(stats.written + stats.repeated, 90, "{stats}");
    assert_eq!(probe(&file).3, 90);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `kill -9` of ffmpeg mid-recording: the recording stops with an error naming the file, the
/// show side never blocks, and the cut file still decodes up to its last flushed cluster.
#[test]
fn ffmpeg_killed_mid_recording_stops_with_an_error_and_the_cut_file_decodes() {
    for encoding in [Encoding::OpenH264, Encoding::X264] {
        let dir = temp_dir("kill");
        let file = dir.join("cut.mkv");
        let size = (160, 90);
        let rec = Recorder::start_with(&file, size, options(encoding, 30)).unwrap();
        let mut i = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(2600) {
            rec.push(f64::from(i) / 30.0, synthetic(size, i));
            i += 1;
            std::thread::sleep(Duration::from_millis(33));
        }
        let pid = rec.ffmpeg_pid().unwrap();
        let killed = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let start = Instant::now();
        while rec.failed().is_none() {
            let t = Instant::now();
            rec.push(f64::from(i) / 30.0, synthetic(size, i));
            assert!(t.elapsed() < Duration::from_millis(50), "push blocked");
            i += 1;
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the failure went unnoticed"
            );
            std::thread::sleep(Duration::from_millis(33));
        }
        let message = rec.failed().unwrap();
        assert!(message.contains(&file.display().to_string()), "{message}");
        let err = rec.finish().unwrap_err().to_string();
        eprintln!("{encoding}: {err}");
        assert!(err.contains("cut.mkv"), "{err}");
        let (codec, w, h, frames) = probe(&file);
        assert_eq!((codec.as_str(), w, h), ("h264", 160, 90));
        // 2.6 s were written with a cluster flushed every second: at least the first 1 s.
        assert!(
            frames >= 30,
            "{encoding}: only {frames} frames decode from the cut file"
        );
        let d = mean_diff(&decode_frame(&file, 10, size), &synthetic(size, 10));
        assert!(d <= MAX_MEAN_DIFF, "{encoding}: cut file frame 10: {d:.2}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn an_unwritable_path_is_an_error_naming_it() {
    let path = Path::new("/nonexistent-metadj-dir/out.mkv");
    let err = Recorder::start(path, (64, 32), 30)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot write recording /nonexistent-metadj-dir/out.mkv"),
        "{err}"
    );
    let odd = Recorder::start(&std::env::temp_dir().join("odd.mkv"), (63, 32), 30)
        .err()
        .unwrap()
        .to_string();
    assert!(odd.contains("63x32") && odd.contains("even"), "{odd}");
}

/// ffmpeg fails to write (a full disk: `/dev/full` refuses every write with ENOSPC): the
/// recording stops with an error naming the file and what ffmpeg said.
#[test]
fn a_full_disk_stops_the_recording_with_an_error_naming_the_file() {
    let path = Path::new("/dev/full");
    let size = (320, 180);
    let rec = Recorder::start_with(path, size, options(Encoding::X264, 30)).unwrap();
    let start = Instant::now();
    let mut i = 0;
    while rec.failed().is_none() {
        rec.push(f64::from(i) / 30.0, synthetic(size, i));
        i += 1;
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no failure on a full disk"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = rec.finish().unwrap_err().to_string();
    eprintln!("{err}");
    assert!(err.contains("recording /dev/full stopped"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
}

#[test]
fn without_ffmpeg_the_message_says_what_to_install() {
    let dir = temp_dir("no-ffmpeg");
    let opts = RecordOptions {
        ffmpeg: dir.join("ffmpeg"),
        ..RecordOptions::default()
    };
    let err = Recorder::start_with(&dir.join("o.mkv"), (64, 32), opts)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("recording unavailable"), "{err}");
    assert!(err.contains("install ffmpeg"), "{err}");
    assert!(err.contains("apt-get install ffmpeg"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `play --record` as a user runs it (under xvfb-run): the file is finished on quit; with no
/// ffmpeg on PATH the show still plays and the log says what to install.
#[test]
fn cli_play_records_and_plays_on_without_ffmpeg() {
    let dir = temp_dir("cli");
    let show = dir.join("solid.ron");
    std::fs::write(&show, common::SOLID_SHOW).unwrap();
    // `path`: the app's PATH (xvfb-run itself keeps the caller's, it needs its tools).
    let run = |file: &Path, path: Option<&Path>| {
        let mut cmd = Command::new("xvfb-run");
        cmd.args(["-a", "-s", "-screen 0 640x360x24"]);
        if let Some(path) = path {
            cmd.arg("env").arg(format!("PATH={}", path.display()));
        }
        cmd.arg(BIN)
            .arg("play")
            .arg(&show)
            .args(["--exit-after", "6", "--record"])
            .arg(file)
            .args(["--record-fps", "25"])
            .env("XDG_RUNTIME_DIR", &dir)
            .env_remove(metadj_scope::record::FFMPEG_ENV)
            .output()
            .expect("xvfb-run is needed for this test (make test installs it)")
    };
    let file = dir.join("play.mkv");
    let out = run(&file, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("recorded "), "no summary: {stderr}");
    let (codec, w, h, frames) = probe(&file);
    assert_eq!((codec.as_str(), w, h), ("h264", 160, 90));
    // Recording starts with the first program frame, a few seconds in on lavapipe.
    assert!(frames >= 10, "{frames} frames");
    let blue = decode_frame(&file, frames - 1, (160, 90));
    let want: Vec<u8> = std::iter::repeat_n([51u8, 102, 204, 255], 160 * 90)
        .flatten()
        .collect();
    let d = mean_diff(&blue, &want);
    assert!(d <= MAX_MEAN_DIFF, "last frame: {d:.2}");

    // No ffmpeg on PATH: an empty folder.
    let empty = dir.join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let missing = run(&dir.join("none.mkv"), Some(&empty));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        missing.status.success(),
        "the show must still play: {stderr}"
    );
    assert!(stderr.contains("install ffmpeg"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The cost of recording (BENCHMARKS.md "Recording"): `cargo test --release --test record --
/// --ignored --nocapture measure`. Per size and encoding: 10 s of frames pushed in real time
/// (8 pre-made frames with a moving block, cycled), then the worker's and ffmpeg's CPU time per
/// frame; then the headless frame rate of the demo's `test` scene with and without recording.
#[test]
#[ignore = "a measurement, not a check: minutes of CPU"]
fn measure_recording_cost() {
    let dir = temp_dir("measure");
    // The plugin copies each read-back frame for the worker on the main thread.
    let frame = vec![7u8; 1920 * 1080 * 4];
    let start = Instant::now();
    for _ in 0..50 {
        std::hint::black_box(frame.clone());
    }
    println!(
        "RESULT copy of a 1080p frame: {:.2} ms",
        start.elapsed().as_secs_f64() * 1000.0 / 50.0
    );
    for size in [(1280u32, 720u32), (1920, 1080)] {
        let frames: Vec<Vec<u8>> = (0..8).map(|i| synthetic(size, i * 7)).collect();
        for encoding in [Encoding::OpenH264, Encoding::X264] {
            let file = dir.join(format!("m-{}x{}.mkv", size.0, size.1));
            let rec = Recorder::start_with(&file, size, options(encoding, 30)).unwrap();
            let start = Instant::now();
            let n = 300u32;
            for i in 0..n {
                let due = Duration::from_secs_f64(f64::from(i) / 30.0);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
                rec.push(f64::from(i) / 30.0, frames[i as usize % 8].clone());
            }
            let stats = rec.finish().unwrap();
            let per = |d: Option<Duration>| {
                d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0 / stats.frames as f64)
            };
            println!(
                "RESULT {}x{} {encoding}: worker CPU {:.1} ms/frame, busy {:.1} ms/frame, ffmpeg CPU {:.1} ms/frame, {} written, {} repeated, {} dropped, {:.1} MB",
                size.0,
                size.1,
                per(stats.worker_cpu),
                stats.busy.as_secs_f64() * 1000.0 / stats.frames as f64,
                per(stats.ffmpeg_cpu),
                stats.written,
                stats.repeated,
                stats.dropped,
                stats.bytes as f64 / 1e6
            );
        }
        for encoding in [None, Some(Encoding::OpenH264), Some(Encoding::X264)] {
            let loaded =
                headless::load_at_size(&Path::new(ROOT).join("scenes/demo.ron"), Some(size))
                    .unwrap();
            let scene = loaded.scene_index("test").unwrap();
            let file = dir.join("render.mkv");
            let rec = encoding.map(|e| Recorder::start_with(&file, size, options(e, 30)).unwrap());
            let mut start = None;
            let n = 90;
            headless::render_frames(loaded, scene, 0.0, 30.0, n, |i, img| {
                if i == 10 {
                    start = Some(Instant::now());
                }
                if let Some(r) = &rec {
                    r.push(f64::from(i) / 30.0, img.into_raw());
                }
                Ok(())
            })
            .unwrap();
            let fps = f64::from(n - 10) / start.unwrap().elapsed().as_secs_f64();
            let stats = rec.map(|r| r.finish().unwrap());
            println!(
                "RESULT render {}x{} recording {:?}: {fps:.1} frames/s{}",
                size.0,
                size.1,
                encoding,
                stats.map_or(String::new(), |s| format!(" ({} dropped)", s.dropped))
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `kill -9` of the app itself while it records: ffmpeg sees its input end and finishes the
/// file, which then has its duration and every frame written so far.
#[test]
fn cli_play_killed_leaves_a_finished_file() {
    let dir = temp_dir("cli-kill");
    let show = dir.join("solid.ron");
    std::fs::write(&show, common::SOLID_SHOW).unwrap();
    let file = dir.join("killed.mkv");
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 640x360x24"])
        .arg(BIN)
        .arg("play")
        .arg(&show)
        .args(["--exit-after", "120", "--record"])
        .arg(&file)
        .env("XDG_RUNTIME_DIR", &dir)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("xvfb-run is needed for this test (make test installs it)");
    // Recording for about 3 s: the file holds at least one flushed cluster.
    let start = Instant::now();
    while std::fs::metadata(&file).map_or(0, |m| m.len()) < 2000 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no recording started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    // The app is a child of the xvfb-run this test started (beside Xvfb): kill it by id.
    let children = Command::new("pgrep")
        .args(["-P", &child.id().to_string()])
        .output()
        .unwrap();
    let app = String::from_utf8_lossy(&children.stdout)
        .split_whitespace()
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(BIN.as_bytes()))
        })
        .map(str::to_string)
        .expect("the app among xvfb-run's children");
    let killed = Command::new("kill").args(["-9", &app]).status().unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    // ffmpeg finishes on its own once its input is closed.
    let start = Instant::now();
    while Command::new("pgrep")
        .args(["-f", &file.display().to_string()])
        .status()
        .unwrap()
        .success()
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "ffmpeg still running"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (codec, w, h, frames) = probe(&file);
    assert_eq!((codec.as_str(), w, h), ("h264", 160, 90));
    assert!(frames >= 60, "{frames} frames after about 3 s");
    let duration = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let seconds: f64 = String::from_utf8_lossy(&duration.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(
        (seconds - frames as f64 / 30.0).abs() < 0.2,
        "duration {seconds} s for {frames} frames"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
