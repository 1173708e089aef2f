//! The worker with test doubles: frame ids travel with the masks, the newest frame wins when
//! the model is slow, the rate limit skips frames, and failures keep the worker going.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use media::{PixelFormat, VideoFrame};
use segment::{
    Mask, ModelSource, SegmentError, SegmentWorker, Segmenter, TractSegmenter, WorkerConfig,
    WorkerStatus,
};

/// Outputs the input's red value everywhere; fails when red is exactly 1.
struct Red {
    delay: Duration,
    runs: Arc<AtomicU64>,
}

impl Segmenter for Red {
    fn size(&self) -> (u32, u32) {
        (4, 4)
    }
    fn run(&mut self, rgb: &[f32]) -> Result<Vec<f32>, SegmentError> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(self.delay);
        if rgb[0] == 1.0 {
            return Err(SegmentError::Inference("red is 1".into()));
        }
        Ok(vec![rgb[0]; 16])
    }
}

fn frame(red: u8) -> VideoFrame {
    VideoFrame::new(
        8,
        8,
        PixelFormat::Rgba8,
        [red, 0, 0, 255].repeat(64),
        media::now(),
        0,
    )
    .unwrap()
}

fn worker(config: WorkerConfig, delay: Duration) -> (SegmentWorker, Arc<AtomicU64>) {
    let runs = Arc::new(AtomicU64::new(0));
    let r = runs.clone();
    let w = SegmentWorker::start(config, move || {
        Ok(Box::new(Red { delay, runs: r }) as Box<dyn Segmenter>)
    });
    (w, runs)
}

fn wait_masks(w: &SegmentWorker, n: usize) -> Vec<Mask> {
    let start = Instant::now();
    let mut got = Vec::new();
    while got.len() < n {
        got.extend(w.masks());
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} of {n} masks",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    got
}

#[test]
fn masks_carry_their_frame_id_and_content() {
    let (w, _) = worker(WorkerConfig::default(), Duration::ZERO);
    w.send(41, frame(51));
    let m = wait_masks(&w, 1).remove(0);
    assert_eq!((m.id, m.width, m.height), (41, 4, 4));
    assert_eq!(m.coverage, vec![51; 16]);
    assert_eq!(w.status(), WorkerStatus::Ready);
    w.send(42, frame(102));
    assert_eq!(wait_masks(&w, 1)[0].coverage, vec![102; 16]);
}

#[test]
fn a_slow_model_gets_the_newest_frame_and_drops_the_rest() {
    let (w, runs) = worker(WorkerConfig::default(), Duration::from_millis(150));
    w.send(1, frame(10));
    std::thread::sleep(Duration::from_millis(50)); // frame 1 is being segmented
    for id in 2..=10 {
        w.send(id, frame(10 + id as u8));
    }
    let ids: Vec<u64> = wait_masks(&w, 2).iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 10]);
    assert_eq!(runs.load(Ordering::Relaxed), 2);
    assert_eq!(w.stats().dropped, 8);
}

#[test]
fn rate_limit_smoothing_and_failures() {
    let config = WorkerConfig {
        every: 2,
        smoothing: 0.5,
        ..WorkerConfig::default()
    };
    let (w, _) = worker(config, Duration::ZERO);
    w.send(1, frame(200)); // skipped: odd id
    w.send(2, frame(100));
    assert_eq!(wait_masks(&w, 1)[0].id, 2);
    w.send(4, frame(255)); // fails: the last good mask stays the consumer's
    let start = Instant::now();
    while w.stats().failures == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no failure counted"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(w.masks().is_empty(), "a failed inference sends no mask");
    w.send(6, frame(200));
    let m = wait_masks(&w, 1).remove(0);
    assert_eq!(m.id, 6);
    assert_eq!(m.coverage[0], 150, "averaged with the previous mask");
    let stats = w.stats();
    assert_eq!((stats.masks, stats.skipped, stats.failures), (2, 1, 1));
}

#[test]
fn a_model_that_cannot_load_fails_the_worker_with_its_name() {
    let w = SegmentWorker::start(WorkerConfig::default(), || {
        TractSegmenter::load(&ModelSource::File("/nonexistent/model.onnx".into()))
            .map(|s| Box::new(s) as Box<dyn Segmenter>)
    });
    let start = Instant::now();
    while w.status() == WorkerStatus::Loading {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    let WorkerStatus::Failed(msg) = w.status() else {
        panic!("{:?}", w.status());
    };
    assert!(msg.contains("/nonexistent/model.onnx"), "{msg}");
}
