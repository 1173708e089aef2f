//! The app's end of a frame worker (the recorder, each stream): frames of one size through a
//! newest-wins channel and the show clock, shared with the worker, never blocking the caller.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use media::{NewestSender, PixelFormat, VideoFrame};

/// One program frame for a worker.
pub(super) struct Frame {
    /// Show clock, seconds.
    pub time: f64,
    /// RGBA8, the worker's size.
    pub rgba: Vec<u8>,
}

/// What the app and a worker share about the frames.
#[derive(Default)]
pub(super) struct Inlet {
    pub dropped: AtomicU64,
    pub wrong_size: AtomicU64,
    /// Output frames written so far (repeats included) and their bytes: the console's frame
    /// rate and bitrate.
    pub sent: AtomicU64,
    pub sent_bytes: AtomicU64,
    /// The output file's size, for a recording (its worker looks now and then).
    pub file_bytes: AtomicU64,
    /// The show clock (f64 bits), so a worker repeats the last frame when none come.
    clock: AtomicU64,
    /// Set by the worker when it stopped for good.
    error: Mutex<Option<String>>,
}

impl Inlet {
    /// Hands a frame to the worker: one the worker has not taken yet is replaced (counted as
    /// dropped); a frame of another size than `size` is left out and counted.
    pub fn push(&self, tx: &NewestSender<Frame>, size: (u32, u32), time: f64, rgba: Vec<u8>) {
        if rgba.len() != size.0 as usize * size.1 as usize * 4 {
            self.wrong_size.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.set_clock(time);
        let dropped = tx.send(Frame { time, rgba });
        self.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
    }

    /// The worker wrote one output frame of `bytes`.
    pub fn count_sent(&self, bytes: usize) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.sent_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The clock only moves forward (a frame pushed late does not set it back).
    pub fn set_clock(&self, time: f64) {
        // Non-negative f64s order as their bit patterns do.
        self.clock
            .fetch_max(time.max(0.0).to_bits(), Ordering::Relaxed);
    }

    pub fn clock(&self) -> f64 {
        f64::from_bits(self.clock.load(Ordering::Relaxed))
    }

    pub fn fail(&self, error: String) {
        if let Ok(mut slot) = self.error.lock() {
            *slot = Some(error);
        }
    }

    pub fn failed(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }
}

/// A worker's RGBA8 picture of `size` as its output wants it: I420 for the project's openh264
/// encoder (`i420`), else the RGBA itself (piped raw into ffmpeg).
pub(super) fn video_frame(
    size: (u32, u32),
    rgba: Vec<u8>,
    i420: bool,
) -> Result<VideoFrame, media::MediaError> {
    let frame = VideoFrame::new(size.0, size.1, PixelFormat::Rgba8, rgba, Duration::ZERO, 0)?;
    if i420 { frame.to_i420() } else { Ok(frame) }
}
