//! The segmentation thread. Callers (the app's systems, a camera's capture thread) hand it frames
//! with [`FrameInput::send`], which never blocks: the queue holds one frame and the newest wins,
//! so a slow model drops frames instead of falling behind. Each [`Mask`] carries the id of the
//! frame it was computed from, so the consumer can apply it to that frame.
//!
//! Temporal smoothing is an exponential moving average of the model's probabilities, done here
//! at model resolution: bilinear upsampling is linear, so averaging before upsampling gives
//! exactly what averaging the upsampled mattes on the GPU would, without a history texture.
//!
//! Failures never stop the show: a model that cannot load leaves the worker
//! [`WorkerStatus::Failed`] (the node keeps its before-first-mask picture); an inference that
//! fails is logged once and skipped, so the consumer keeps the last good mask.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use media::{NewestSender, VideoFrame, newest_channel};
use tracing::{error, info, warn};

use crate::{SegmentError, Segmenter, model_input};

/// How often an idle worker checks whether it should stop.
const POLL: Duration = Duration::from_millis(50);

/// How one worker runs.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    /// Names the thread and the log lines (the node id).
    pub name: String,
    /// Weight of the previous mask in the moving average, `0..1` (0 = none).
    pub smoothing: f32,
    /// Segment only frames whose id is a multiple of this (1 = every frame).
    pub every: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            name: "segment".into(),
            smoothing: 0.0,
            every: 1,
        }
    }
}

/// A coverage mask at model resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    /// Id of the frame it was computed from (as given to [`FrameInput::send`]).
    pub id: u64,
    pub width: u32,
    pub height: u32,
    /// Row-major person probability × 255, smoothed.
    pub coverage: Vec<u8>,
    /// The frame's capture time ([`media::now`] clock).
    pub captured: Duration,
    /// When the mask was done ([`media::now`] clock): `done - captured` is its age.
    pub done: Duration,
    /// Time spent converting the frame and running the model.
    pub inference: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerStatus {
    Loading,
    Ready,
    /// The model could not be loaded; the message names it.
    Failed(String),
}

/// Counters since the worker started.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WorkerStats {
    pub masks: u64,
    /// Frames replaced in the queue by a newer one before the model got to them.
    pub dropped: u64,
    /// Frames left out by the rate limit.
    pub skipped: u64,
    pub failures: u64,
    /// Mean time per mask.
    pub mean_inference: Duration,
}

#[derive(Debug)]
struct Shared {
    stop: AtomicBool,
    status: Mutex<WorkerStatus>,
    stats: Mutex<WorkerStats>,
}

impl Shared {
    fn stats(&self) -> std::sync::MutexGuard<'_, WorkerStats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_status(&self, status: WorkerStatus) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }
}

/// The worker's input; cheap to clone, usable from any thread (a camera's capture thread).
#[derive(Debug, Clone)]
pub struct FrameInput {
    tx: NewestSender<(u64, VideoFrame)>,
    shared: Arc<Shared>,
    every: u32,
}

impl FrameInput {
    /// Queues frame `id` without blocking, replacing a frame still waiting.
    pub fn send(&self, id: u64, frame: VideoFrame) {
        if !id.is_multiple_of(u64::from(self.every.max(1))) {
            self.shared.stats().skipped += 1;
            return;
        }
        let dropped = self.tx.send((id, frame));
        if dropped > 0 {
            self.shared.stats().dropped += dropped as u64;
        }
    }
}

/// A running segmentation thread. Dropping it stops the thread (after the inference in
/// progress, if any) without waiting for it.
#[derive(Debug)]
pub struct SegmentWorker {
    input: FrameInput,
    masks: Receiver<Mask>,
    shared: Arc<Shared>,
}

impl SegmentWorker {
    /// Starts the thread; `load` makes the segmenter there (loading takes ~100 ms), so this
    /// returns at once.
    pub fn start<F>(config: WorkerConfig, load: F) -> SegmentWorker
    where
        F: FnOnce() -> Result<Box<dyn Segmenter>, SegmentError> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            status: Mutex::new(WorkerStatus::Loading),
            stats: Mutex::new(WorkerStats::default()),
        });
        let (tx, rx) = newest_channel(1);
        let (mask_tx, masks) = newest_channel(4);
        let input = FrameInput {
            tx,
            shared: shared.clone(),
            every: config.every.max(1),
        };
        let thread_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("segment-{}", config.name))
            .spawn(move || run(&config, load, &rx, &mask_tx, &thread_shared));
        if let Err(e) = spawned {
            shared.set_status(WorkerStatus::Failed(format!("cannot start a thread: {e}")));
        }
        SegmentWorker {
            input,
            masks,
            shared,
        }
    }

    /// A handle for sending frames from elsewhere.
    pub fn input(&self) -> FrameInput {
        self.input.clone()
    }

    /// [`FrameInput::send`].
    pub fn send(&self, id: u64, frame: VideoFrame) {
        self.input.send(id, frame);
    }

    /// Every mask finished since the last call, oldest first (at most a few: older ones are
    /// dropped when nobody takes them).
    pub fn masks(&self) -> Vec<Mask> {
        self.masks.try_iter().collect()
    }

    pub fn status(&self) -> WorkerStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn stats(&self) -> WorkerStats {
        *self.shared.stats()
    }
}

impl Drop for SegmentWorker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn run<F>(
    config: &WorkerConfig,
    load: F,
    rx: &Receiver<(u64, VideoFrame)>,
    out: &NewestSender<Mask>,
    shared: &Shared,
) where
    F: FnOnce() -> Result<Box<dyn Segmenter>, SegmentError>,
{
    let started = Instant::now();
    let mut segmenter = match load() {
        Ok(s) => s,
        Err(e) => {
            error!("segment node \"{}\": {e}", config.name);
            shared.set_status(WorkerStatus::Failed(e.to_string()));
            return;
        }
    };
    info!(
        "segment node \"{}\": model ready in {} ms",
        config.name,
        started.elapsed().as_millis()
    );
    shared.set_status(WorkerStatus::Ready);
    let mut smooth = Smoother::new(config.smoothing);
    let mut warned = false;
    let mut total = Duration::ZERO;
    while !shared.stop.load(Ordering::Relaxed) {
        let (id, frame) = match rx.recv_timeout(POLL) {
            Ok(next) => next,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let t0 = Instant::now();
        let size = segmenter.size();
        let n = size.0 as usize * size.1 as usize;
        let probs = model_input(&frame, size)
            .and_then(|x| segmenter.run(&x))
            .and_then(|p| match p.len() {
                len if len == n => Ok(p),
                len => Err(SegmentError::Inference(format!(
                    "{len} values for a {}×{} mask",
                    size.0, size.1
                ))),
            });
        let probs = match probs {
            Ok(p) => p,
            Err(e) => {
                shared.stats().failures += 1;
                if !warned {
                    warned = true;
                    warn!(
                        "segment node \"{}\": {e}; keeping the last good mask (further failures are counted, not logged)",
                        config.name
                    );
                }
                continue;
            }
        };
        let inference = t0.elapsed();
        let coverage = smooth
            .push(probs)
            .iter()
            .map(|p| (p.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        {
            let mut stats = shared.stats();
            stats.masks += 1;
            total += inference;
            stats.mean_inference = total / stats.masks as u32;
        }
        out.send(Mask {
            id,
            width: size.0,
            height: size.1,
            coverage,
            captured: frame.captured,
            done: media::now(),
            inference,
        });
    }
}

/// Exponential moving average of successive masks of one size.
struct Smoother {
    weight: f32,
    state: Vec<f32>,
}

impl Smoother {
    fn new(weight: f32) -> Smoother {
        Smoother {
            weight: weight.clamp(0.0, 0.99),
            state: Vec::new(),
        }
    }

    /// `state = w·state + (1 − w)·mask`; the first mask (or one of another size) starts over.
    fn push(&mut self, mask: Vec<f32>) -> &[f32] {
        if self.weight == 0.0 || self.state.len() != mask.len() {
            self.state = mask;
        } else {
            let w = self.weight;
            for (s, m) in self.state.iter_mut().zip(mask) {
                *s = w * *s + (1.0 - w) * m;
            }
        }
        &self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_averages_and_restarts_on_a_new_size() {
        let mut s = Smoother::new(0.75);
        assert_eq!(s.push(vec![0.0, 1.0]), [0.0, 1.0]);
        assert_eq!(s.push(vec![1.0, 1.0]), [0.25, 1.0]);
        assert_eq!(s.push(vec![1.0; 3]), [1.0; 3]);
        let mut off = Smoother::new(0.0);
        off.push(vec![0.0]);
        assert_eq!(off.push(vec![1.0]), [1.0]);
    }
}
