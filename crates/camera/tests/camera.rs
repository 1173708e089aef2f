//! The camera stream as a consumer sees it: pixels, pacing, the no-device path.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::time::{Duration, Instant};

use camera::{CameraRequest, CameraStatus, Device, open};
use media::VideoFrame;

fn wait_frame(s: &camera::CameraStream) -> VideoFrame {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(f) = s.latest() {
            return f;
        }
        assert!(Instant::now() < deadline, "no frame within 5 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn px(f: &VideoFrame, x: u32, y: u32) -> [u8; 4] {
    let i = ((y * f.width + x) * 4) as usize;
    f.data[i..i + 4].try_into().unwrap()
}

/// Sum of absolute byte differences over a rectangle of two frames.
fn region_diff(a: &VideoFrame, b: &VideoFrame, x0: u32, y0: u32, x1: u32, y1: u32) -> u64 {
    let mut d = 0u64;
    for y in y0..y1 {
        for x in x0..x1 {
            let (p, q) = (px(a, x, y), px(b, x, y));
            d += p
                .iter()
                .zip(q)
                .map(|(a, b)| u64::from(a.abs_diff(b)))
                .sum::<u64>();
        }
    }
    d
}

fn synthetic(w: u32, h: u32, fps: u32) -> camera::CameraStream {
    open(CameraRequest {
        device: Device::Synthetic,
        width: w,
        height: h,
        fps,
    })
}

#[test]
fn synthetic_frames_have_the_requested_size_and_a_green_backdrop() {
    let s = synthetic(320, 180, 30);
    let f = wait_frame(&s);
    assert_eq!((f.width, f.height), (320, 180));
    assert_eq!(f.data.len(), 320 * 180 * 4);
    // Right edge, mid height: backdrop (the performer sways around the middle).
    assert_eq!(px(&f, 318, 90), [0, 177, 64, 255]);
    assert_eq!(
        s.status(),
        CameraStatus::Synthetic {
            reason: String::new()
        }
    );
}

#[test]
fn the_picture_moves_and_the_counter_changes() {
    let s = synthetic(320, 180, 30);
    let a = wait_frame(&s);
    std::thread::sleep(Duration::from_millis(400));
    let b = wait_frame(&s);
    assert!(b.seq > a.seq, "{} then {}", a.seq, b.seq);
    assert!(b.captured > a.captured);
    let (w, h) = (320, 180);
    // The bottom-left plate holds the counter and clock: it must differ between the frames.
    assert!(
        region_diff(&a, &b, 0, h / 2, w / 3, h) > 0,
        "counter did not change"
    );
    // The bars at the top scroll.
    assert!(
        region_diff(&a, &b, 0, 0, w, h / 14) > 0,
        "bars did not move"
    );
}

#[test]
fn frames_are_paced_at_the_requested_rate() {
    let s = synthetic(64, 36, 20);
    let first = wait_frame(&s).seq;
    std::thread::sleep(Duration::from_millis(1000));
    let last = wait_frame(&s).seq;
    let n = last - first;
    // 20 fps for ~1 s; loose bounds for a loaded 2-core machine.
    assert!((12..=24).contains(&n), "{n} frames in 1 s at 20 fps");
}

#[test]
fn newest_frame_wins_and_is_returned_once() {
    let s = synthetic(64, 36, 60);
    let _ = wait_frame(&s);
    std::thread::sleep(Duration::from_millis(200));
    let f = s.latest().unwrap();
    // Several frames were produced meanwhile; only the newest is kept, and only once.
    assert!(f.seq > 3);
    assert!(s.latest().is_none_or(|g| g.seq > f.seq));
}

#[test]
fn a_missing_device_falls_back_to_synthetic_with_a_clear_reason() {
    // No camera can exist on this machine (see docs/platform.md §7).
    let s = open(CameraRequest {
        device: Device::Index(7),
        width: 160,
        height: 90,
        fps: 30,
    });
    let f = wait_frame(&s);
    assert_eq!((f.width, f.height), (160, 90));
    let deadline = Instant::now() + Duration::from_secs(5);
    let reason = loop {
        match s.status() {
            CameraStatus::Synthetic { reason } if reason != "starting" => break reason,
            CameraStatus::Live { device } => panic!("unexpected device {device}"),
            _ => {}
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(reason.contains("camera 7"), "{reason}");
}

#[test]
fn drop_stops_the_thread_promptly() {
    let s = synthetic(64, 36, 1);
    let _ = wait_frame(&s);
    let t = Instant::now();
    drop(s);
    // At 1 fps the thread sleeps ~1 s between frames; drop must wake it, not wait.
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn device_list_formats_clearly() {
    let text = camera::format_list(&[]);
    assert!(text.starts_with("no cameras found"));
    // Here, listing works and finds nothing (no /dev/video*), or reports why it cannot.
    match camera::list() {
        Ok(devices) => assert!(devices.is_empty()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// A synthetic camera asked to draw one frame in N draws that many (sequence numbers still
/// count every tick, so the picture moves at its own pace), none after its first when asked
/// for 0, and every frame again at 1.
#[test]
fn a_synthetic_camera_draws_only_the_frames_asked_for() {
    let s = synthetic(64, 36, 60);
    let _ = wait_frame(&s);
    let drawn = |s: &camera::CameraStream, ms: u64| {
        let (tx, rx) = std::sync::mpsc::channel();
        s.add_sink(
            "count",
            Box::new(move |f: &VideoFrame| {
                let _ = tx.send(f.seq);
            }),
        );
        std::thread::sleep(Duration::from_millis(ms));
        s.remove_sink("count");
        rx.try_iter().collect::<Vec<u64>>()
    };
    s.set_every(0);
    std::thread::sleep(Duration::from_millis(50));
    assert!(drawn(&s, 500).is_empty(), "drawn while idle");
    s.set_every(10);
    let few = drawn(&s, 1000);
    assert!(
        (2..=8).contains(&few.len()),
        "{few:?} at one in 10 of 60 fps"
    );
    assert!(few.iter().all(|n| n % 10 == 0), "{few:?}");
    s.set_every(1);
    let all = drawn(&s, 500);
    assert!(all.len() >= 15, "{} frames in 0.5 s at 60 fps", all.len());
}
