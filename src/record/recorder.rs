//! The recorder: a worker thread that paces frames to a constant rate, encodes them and feeds
//! ffmpeg. Plain Rust (no Bevy) so it is tested on its own; [`super::RecordPlugin`] drives it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use media::{Codec, Encoder, NewestSender, VideoFrame, newest_channel};

use super::inlet::{Frame, Inlet, video_frame};

use super::ffmpeg::{self, Ffmpeg, Killer};
use super::pacing::{Pacer, Place};
use super::{Encoding, RecordError};

/// Frames waiting for the worker: enough to ride out ffmpeg's start-up and short stalls
/// (~130 ms at 30 fps) without dropping, few enough to bound memory (33 MB at 1080p). When
/// it is full the oldest frame is replaced by the newest and counted as dropped.
const QUEUE: usize = 4;

/// How long a frame may take from rendering to the worker before a stalled source is filled
/// with repeats (the GPU readback is 1–3 frames behind the show clock), at least; twice the
/// recent worst delay when that is more (a slow software renderer).
const LATENCY: Duration = Duration::from_millis(300);

/// How long [`Recorder::finish`] waits for the worker and for ffmpeg to finish the file.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Names the ffmpeg program to record with instead of `ffmpeg` from `PATH`.
pub const FFMPEG_ENV: &str = "METADJ_SCOPE_FFMPEG";

/// How a recording is made.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Output frames per second (constant).
    pub fps: u32,
    pub encoding: Encoding,
    /// The ffmpeg program (a name looked up on `PATH`, or a path); default: `$METADJ_SCOPE_FFMPEG`
    /// or `ffmpeg`.
    pub ffmpeg: PathBuf,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            fps: 30,
            encoding: Encoding::default(),
            ffmpeg: std::env::var_os(FFMPEG_ENV).map_or_else(|| "ffmpeg".into(), PathBuf::from),
        }
    }
}

/// What a finished recording holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordStats {
    pub path: PathBuf,
    pub fps: u32,
    /// Output frames in the file (`written + repeated`).
    pub frames: u64,
    /// Distinct program frames encoded.
    pub written: u64,
    /// Slots filled by repeating the previous frame (a late or stalled source).
    pub repeated: u64,
    /// Frames replaced by a newer one before the worker took them (the encoder fell behind).
    pub dropped: u64,
    /// Frames whose slot was already written (the program runs faster than `fps`).
    pub skipped: u64,
    /// Frames of another size than the recording's, left out.
    pub wrong_size: u64,
    pub bytes: u64,
    /// CPU time of the worker thread (conversion, encoding, pipe writes), Linux only.
    pub worker_cpu: Option<Duration>,
    /// CPU time of the ffmpeg child, Linux only.
    pub ffmpeg_cpu: Option<Duration>,
    /// Wall time the worker spent producing output frames (encode + write), summed.
    pub busy: Duration,
}

impl RecordStats {
    /// Seconds of video in the file.
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.fps.max(1))
    }
}

impl std::fmt::Display for RecordStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} frames ({:.1} s at {} fps): {} written, {} repeated, {} dropped, {} skipped, {:.1} MB",
            self.path.display(),
            self.frames,
            self.seconds(),
            self.fps,
            self.written,
            self.repeated,
            self.dropped,
            self.skipped,
            self.bytes as f64 / 1e6
        )?;
        if self.wrong_size > 0 {
            write!(f, ", {} of another size left out", self.wrong_size)?;
        }
        Ok(())
    }
}

/// A recording in progress. Dropping it finishes the file (as [`Recorder::finish`]).
pub struct Recorder {
    path: PathBuf,
    size: (u32, u32),
    tx: NewestSender<Frame>,
    shared: Arc<Inlet>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    worker: Option<JoinHandle<Result<RecordStats, RecordError>>>,
    killer: Killer,
}

impl Recorder {
    /// Starts recording `size` frames to `path` (Matroska, H.264) at `fps`, with the default
    /// encoding and `ffmpeg` from `PATH`.
    pub fn start(path: &Path, size: (u32, u32), fps: u32) -> Result<Recorder, RecordError> {
        Recorder::start_with(
            path,
            size,
            RecordOptions {
                fps,
                ..RecordOptions::default()
            },
        )
    }

    /// Starts recording with explicit options.
    pub fn start_with(
        path: &Path,
        size: (u32, u32),
        options: RecordOptions,
    ) -> Result<Recorder, RecordError> {
        let fps = options.fps;
        if !(1..=240).contains(&fps) {
            return Err(RecordError::BadFps(fps));
        }
        let (w, h) = size;
        if w == 0 || h == 0 || !w.is_multiple_of(2) || !h.is_multiple_of(2) || w > 8192 || h > 8192
        {
            return Err(RecordError::BadSize {
                path: path.to_path_buf(),
                width: w,
                height: h,
            });
        }
        // Fail here, naming the file, rather than in ffmpeg's words later; an existing file is
        // left as it is until ffmpeg starts.
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|source| RecordError::Create {
                path: path.to_path_buf(),
                source,
            })?;
        let forget = |e: RecordError| {
            if !existed {
                let _ = std::fs::remove_file(path);
            }
            e
        };
        let encoder = match options.encoding {
            Encoding::OpenH264 => Some(
                Encoder::new(Codec::H264, w, h, fps, bitrate_kbps(size, fps)).map_err(
                    |source| {
                        forget(RecordError::Encode {
                            path: path.to_path_buf(),
                            source,
                        })
                    },
                )?,
            ),
            Encoding::X264 | Encoding::Vp8Alpha => None,
        };
        let args = ffmpeg::args(options.encoding, size, fps, path);
        let ff = Ffmpeg::spawn(&options.ffmpeg, &args, path).map_err(forget)?;
        let killer = ff.killer();
        let (tx, rx) = newest_channel(QUEUE);
        let shared = Arc::new(Inlet::default());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let worker = Worker {
            path: path.to_path_buf(),
            size,
            fps,
            rx,
            shared: shared.clone(),
            stop: stop.clone(),
            ff: Some(ff),
            encoder,
            straight_alpha: options.encoding == Encoding::Vp8Alpha,
            stats: RecordStats {
                path: path.to_path_buf(),
                fps,
                ..RecordStats::default()
            },
        };
        let worker = std::thread::Builder::new()
            .name("record".into())
            .spawn(move || worker.run())
            .map_err(|source| RecordError::Spawn {
                program: PathBuf::from("record worker thread"),
                source,
            })?;
        tracing::info!(
            "recording {} ({w}x{h}, {fps} fps, {})",
            path.display(),
            options.encoding
        );
        Ok(Recorder {
            path: path.to_path_buf(),
            size,
            tx,
            shared,
            stop,
            worker: Some(worker),
            killer,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Hands a program frame (RGBA8, shown at show time `time`) to the worker. Never blocks;
    /// a frame the worker has not taken yet is replaced (and counted as dropped). Frames of
    /// another size are left out and counted.
    pub fn push(&self, time: f64, rgba: Vec<u8>) {
        self.shared.push(&self.tx, self.size, time, rgba);
    }

    /// Tells the worker the show clock's time, so it keeps writing (repeats) when no frames
    /// come. The clock only moves forward (a frame pushed late does not set it back).
    pub fn set_clock(&self, time: f64) {
        self.shared.set_clock(time);
    }

    /// The error the recording stopped on, if it did; it is then also returned by `finish`.
    pub fn failed(&self) -> Option<String> {
        self.shared.failed()
    }

    /// The counters the worker keeps (for the console's outputs list).
    pub(super) fn inlet(&self) -> &super::inlet::Inlet {
        &self.shared
    }

    /// ffmpeg's process id (tests cut a recording by killing it).
    pub fn ffmpeg_pid(&self) -> Option<u32> {
        self.killer.pid()
    }

    /// Writes what is queued, closes the file and waits (bounded) for ffmpeg to finish it.
    pub fn finish(mut self) -> Result<RecordStats, RecordError> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<RecordStats, RecordError> {
        self.stop.store(true, Ordering::Relaxed);
        let Some(worker) = self.worker.take() else {
            return Err(RecordError::Finished(self.path.clone()));
        };
        // The worker waits for ffmpeg with its own timeout; this one covers a write stuck
        // because ffmpeg stopped reading.
        let start = Instant::now();
        while !worker.is_finished() {
            if start.elapsed() > FINISH_TIMEOUT * 2 {
                self.killer.kill();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut stats = worker
            .join()
            .map_err(|_| RecordError::Panicked(self.path.clone()))??;
        stats.dropped = self.shared.dropped.load(Ordering::Relaxed);
        stats.wrong_size = self.shared.wrong_size.load(Ordering::Relaxed);
        stats.bytes = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        Ok(stats)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.worker.is_some() {
            match self.finish_inner() {
                Ok(stats) => tracing::info!("recorded {stats}"),
                Err(e) => tracing::error!("{e}"),
            }
        }
    }
}

/// H.264 bitrate for openh264: 0.15 bit per pixel (≈ 9 Mbit/s at 1080p30), high enough that
/// a recording of a show is close to the program.
pub(crate) fn bitrate_kbps(size: (u32, u32), fps: u32) -> u32 {
    let bits = f64::from(size.0) * f64::from(size.1) * f64::from(fps) * 0.15;
    (bits / 1000.0).clamp(500.0, 50_000.0) as u32
}

struct Worker {
    path: PathBuf,
    size: (u32, u32),
    fps: u32,
    rx: Receiver<Frame>,
    shared: Arc<Inlet>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    ff: Option<Ffmpeg>,
    encoder: Option<Encoder>,
    /// Undo premultiplied alpha before writing (a node's picture with its alpha).
    straight_alpha: bool,
    stats: RecordStats,
}

impl Worker {
    fn run(mut self) -> Result<RecordStats, RecordError> {
        let cpu_start = ffmpeg::proc_stat("/proc/thread-self/stat").map(|s| s.1);
        let result = self.record();
        let cpu_end = ffmpeg::proc_stat("/proc/thread-self/stat").map(|s| s.1);
        self.stats.worker_cpu = cpu_start.zip(cpu_end).map(|(a, b)| b.saturating_sub(a));
        let finished = match (result, self.ff.take()) {
            (Ok(()), Some(ff)) => ff.finish(FINISH_TIMEOUT).map(|cpu| {
                self.stats.ffmpeg_cpu = cpu;
            }),
            (Ok(()), None) => Ok(()),
            (Err(e), _) => Err(e),
        };
        match finished {
            Ok(()) => Ok(self.stats),
            Err(e) => {
                self.shared.fail(e.to_string());
                Err(e)
            }
        }
    }

    fn record(&mut self) -> Result<(), RecordError> {
        let mut pacer = Pacer::new(self.fps);
        // The last frame written: RGBA for x264, I420 for openh264 (converted once).
        let mut last: Option<VideoFrame> = None;
        let tick = Duration::from_secs_f64(1.0 / f64::from(self.fps));
        // Recent worst delay from the show clock to a frame's arrival, decaying.
        let mut lag = 0.0f64;
        let shared = self.shared.clone();
        let clock = move || shared.clock();
        loop {
            let frame = match self.rx.recv_timeout(tick) {
                Ok(f) => Some(f),
                Err(RecvTimeoutError::Timeout) if self.stop.load(Ordering::Relaxed) => break,
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let Some(frame) = frame else {
                let allowance = LATENCY.as_secs_f64().max(2.0 * lag);
                let repeats = pacer.stalled(clock(), allowance);
                if let Some(l) = &last {
                    for _ in 0..repeats {
                        self.output(l)?;
                        self.stats.repeated += 1;
                    }
                }
                continue;
            };
            lag = (lag * 0.95).max(clock() - frame.time);
            match pacer.frame(frame.time) {
                Place::Skip => self.stats.skipped += 1,
                Place::Write { repeats } => {
                    if let Some(l) = &last {
                        for _ in 0..repeats {
                            self.output(l)?;
                            self.stats.repeated += 1;
                        }
                    }
                    let picture = self.prepare(frame.rgba)?;
                    self.output(&picture)?;
                    self.stats.written += 1;
                    last = Some(picture);
                }
            }
        }
        self.stats.frames = pacer.slots();
        Ok(())
    }

    /// The frame as the output wants it: I420 for openh264, RGBA for ffmpeg's x264.
    fn prepare(&self, mut rgba: Vec<u8>) -> Result<VideoFrame, RecordError> {
        if self.straight_alpha {
            super::stream::unpremultiply(&mut rgba);
        }
        video_frame(self.size, rgba, self.encoder.is_some()).map_err(|e| self.encode_error(e))
    }

    fn encode_error(&self, source: media::MediaError) -> RecordError {
        RecordError::Encode {
            path: self.path.clone(),
            source,
        }
    }

    /// Encodes (openh264) and writes one output frame.
    fn output(&mut self, frame: &VideoFrame) -> Result<(), RecordError> {
        let start = Instant::now();
        let encoded;
        let bytes: &[u8] = match &mut self.encoder {
            Some(enc) => {
                encoded = enc
                    .encode(frame, false)
                    .map_err(|source| RecordError::Encode {
                        path: self.path.clone(),
                        source,
                    })?;
                &encoded
            }
            None => &frame.data,
        };
        let Some(ff) = &mut self.ff else {
            return Err(RecordError::Finished(self.path.clone()));
        };
        if let Err(e) = ff.write(bytes) {
            let ff = self.ff.take();
            return Err(match ff {
                Some(ff) => ff.broke(e),
                None => RecordError::Finished(self.path.clone()),
            });
        }
        self.shared.count_sent(bytes.len());
        // About once a second at 30 fps: the file's size for the console (a stat, on this
        // thread, never the app's).
        if self.shared.sent.load(Ordering::Relaxed) % 30 == 1 {
            let len = std::fs::metadata(&self.path).map_or(0, |m| m.len());
            self.shared.file_bytes.store(len, Ordering::Relaxed);
        }
        self.stats.busy += start.elapsed();
        Ok(())
    }
}
