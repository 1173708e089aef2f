//! The capture thread: a real device when it can be opened, the synthetic picture otherwise.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use media::{PixelFormat, VideoFrame};
use tracing::{info, warn};

use crate::device::OpenDevice;
use crate::{CameraRequest, Device, synthetic};

/// What a camera stream is showing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraStatus {
    /// Frames come from the device.
    Live { device: String },
    /// The synthetic picture stands in; `reason` says why (empty when it was asked for).
    Synthetic { reason: String },
}

/// Called on the capture thread with every new frame (must not block: a newest-wins send).
pub type FrameSink = Box<dyn Fn(&VideoFrame) + Send + Sync>;

struct Slot {
    frame: Mutex<Option<VideoFrame>>,
    status: Mutex<CameraStatus>,
    /// Consumers fed at the camera's own rate, by key (a Scope node streams the camera to its
    /// encoder this way, however slowly the app renders).
    sinks: Mutex<Vec<(String, FrameSink)>>,
    /// Draw one synthetic frame in this many; 0: none ([`CameraStream::set_every`]).
    every: AtomicU32,
}

/// A running camera. Dropping it stops and joins its thread.
pub struct CameraStream {
    slot: Arc<Slot>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    request: CameraRequest,
}

/// Opens a camera. Never fails: see [`CameraStatus`].
pub fn open(request: CameraRequest) -> CameraStream {
    let slot = Arc::new(Slot {
        frame: Mutex::new(None),
        status: Mutex::new(CameraStatus::Synthetic {
            reason: "starting".into(),
        }),
        sinks: Mutex::new(Vec::new()),
        every: AtomicU32::new(1),
    });
    let (stop_tx, stop_rx) = bounded(1);
    let thread = {
        let slot = Arc::clone(&slot);
        let request = request.clone();
        std::thread::Builder::new()
            .name(format!("camera {}", request.device))
            .spawn(move || run(&request, &slot, &stop_rx))
            .map_err(|e| warn!("cannot start the camera thread: {e}"))
            .ok()
    };
    CameraStream {
        slot,
        stop: Some(stop_tx),
        thread,
        request,
    }
}

impl CameraStream {
    /// The newest frame not returned before (`None`: nothing new).
    pub fn latest(&self) -> Option<VideoFrame> {
        self.slot
            .frame
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Feeds `sink` every frame from now on, on the capture thread, replacing a sink with the
    /// same key.
    pub fn add_sink(&self, key: impl Into<String>, sink: FrameSink) {
        let key = key.into();
        let mut sinks = self
            .slot
            .sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        sinks.retain(|(k, _)| *k != key);
        sinks.push((key, sink));
    }

    /// Whether a sink whose key starts with `prefix` is fed.
    pub fn has_sink(&self, prefix: &str) -> bool {
        self.slot
            .sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(k, _)| k.starts_with(prefix))
    }

    /// Draws one synthetic frame in `every` (0: none after the first, so the texture always
    /// has one): a synthetic picture costs a good share of a core at 30 fps and comes back at
    /// once when asked for. A device keeps capturing either way (reopening one takes seconds).
    pub fn set_every(&self, every: u32) {
        self.slot.every.store(every, Ordering::Relaxed);
    }

    pub fn remove_sink(&self, key: &str) {
        self.slot
            .sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(k, _)| k != key);
    }

    pub fn status(&self) -> CameraStatus {
        self.slot
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn request(&self) -> &CameraRequest {
        &self.request
    }
}

impl Drop for CameraStream {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread at once.
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// First retry after 1 s, doubling to at most 30 s.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

fn run(req: &CameraRequest, slot: &Slot, stop: &Receiver<()>) {
    let mut stopped = false;
    let fps = req.fps.clamp(1, 240);
    let interval = Duration::from_secs_f64(1.0 / f64::from(fps));
    let mut seq = 0u64;
    let mut backoff = Duration::from_secs(1);
    let backdrop = match req.device {
        Device::SyntheticRoom => synthetic::Backdrop::Room,
        _ => synthetic::Backdrop::Green,
    };
    let hardware = !matches!(req.device, Device::Synthetic | Device::SyntheticRoom);
    let mut next_try = hardware.then(Instant::now);
    if next_try.is_none() {
        set_status(
            slot,
            CameraStatus::Synthetic {
                reason: String::new(),
            },
        );
    }
    let mut next_frame = Instant::now();
    while !stopped {
        if next_try.is_some_and(|t| Instant::now() >= t) {
            match OpenDevice::open(req) {
                Ok(mut dev) => {
                    let name = dev.name();
                    info!("{}: capturing from {name}", req.device);
                    set_status(slot, CameraStatus::Live { device: name });
                    backoff = Duration::from_secs(1);
                    let reason = loop {
                        if stop.try_recv() != Err(crossbeam_channel::TryRecvError::Empty) {
                            return;
                        }
                        match dev.frame() {
                            Ok((w, h, data)) => {
                                seq += 1;
                                publish(slot, w, h, data, seq);
                            }
                            Err(e) => break e,
                        }
                    };
                    warn!(
                        "{}: lost ({reason}); the synthetic camera stands in, retrying",
                        req.device
                    );
                    set_status(
                        slot,
                        CameraStatus::Synthetic {
                            reason: format!("{}: {reason}", req.device),
                        },
                    );
                }
                Err(e) => {
                    warn!(
                        "{e}; the synthetic camera stands in, retrying in {} s",
                        backoff.as_secs()
                    );
                    set_status(
                        slot,
                        CameraStatus::Synthetic {
                            reason: e.to_string(),
                        },
                    );
                }
            }
            next_try = Some(Instant::now() + backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        // Synthetic frame, paced by the clock (skipping frames if we fell behind).
        let now = Instant::now();
        let every = u64::from(slot.every.load(Ordering::Relaxed));
        // Frames skipped still count, so the picture moves at its own pace when drawn.
        let skip = seq > 0 && (every == 0 || !(seq + 1).is_multiple_of(every));
        if now >= next_frame && skip {
            seq += 1;
            next_frame = now + interval;
        } else if now >= next_frame {
            seq += 1;
            let t = media::now().as_secs_f64();
            let data = synthetic::render_with(backdrop, req.width, req.height, seq, t);
            publish(slot, req.width, req.height, data, seq);
            next_frame += interval;
            if next_frame < now {
                next_frame = now + interval;
            }
        }
        let wake = next_try.map_or(next_frame, |t| t.min(next_frame));
        match stop.recv_timeout(wake.saturating_duration_since(Instant::now())) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            _ => stopped = true,
        }
    }
}

fn publish(slot: &Slot, width: u32, height: u32, data: Vec<u8>, seq: u64) {
    let frame = VideoFrame {
        width,
        height,
        format: PixelFormat::Rgba8,
        data: Arc::new(data),
        captured: media::now(),
        seq,
    };
    for (_, sink) in slot
        .sinks
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        sink(&frame);
    }
    *slot.frame.lock().unwrap_or_else(PoisonError::into_inner) = Some(frame);
}

fn set_status(slot: &Slot, status: CameraStatus) {
    *slot.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
}
