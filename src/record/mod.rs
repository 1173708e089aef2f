//! Recording the program to disk (`play --record out.mkv`): H.264 in Matroska.
//!
//! Program frames come from the compositor's asynchronous readback ([`LatestProgramFrame`]),
//! so the render thread never waits. [`RecordPlugin`] hands each new one, tagged with the show
//! time it was rendered at, to a [`Recorder`]: a worker thread behind a one-frame channel where
//! the newest frame wins. The worker paces frames to a constant rate (`pacing`: a late frame
//! repeats the last one, a faster program is skipped), encodes them and pipes them into an
//! `ffmpeg` child that muxes Matroska with a cluster flushed every second (`ffmpeg`), so a file
//! cut by a crash still plays up to its last second. Any failure stops the recording with an
//! error naming the file; the show plays on.

mod ffmpeg;
mod inlet;
mod node_picture;
mod pacing;
mod recorder;
mod status;
pub mod stream;

use std::collections::VecDeque;
use std::path::PathBuf;

use bevy::prelude::*;

use crate::AppSystems;
use crate::render::{FrameClock, LatestProgramFrame, ProgramReadback};

pub use recorder::{FFMPEG_ENV, RecordOptions, RecordStats, Recorder};
pub use status::{OutputState, OutputStatus};
pub use stream::{
    StreamKind, StreamOptions, StreamPlugin, StreamSpec, StreamUrl, Streamer, Streams,
};

/// Who encodes the H.264. openh264 is the default: measured on the 2-core machine it costs
/// less CPU per frame than ffmpeg's libx264 ultrafast fed raw RGBA (1080p30: 21 against 26 ms;
/// BENCHMARKS.md "Recording") and fits one core at 1080p30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Encoding {
    /// The project's openh264 encoder on the recorder's worker thread; ffmpeg only muxes
    /// (`-c copy`).
    #[default]
    #[value(name = "openh264")]
    OpenH264,
    /// Raw RGBA frames to ffmpeg's libx264 (`-preset ultrafast -tune zerolatency`): more CPU in
    /// all, but spread over ffmpeg's threads.
    #[value(name = "x264")]
    X264,
    /// A node's picture with its alpha: raw RGBA (premultiplied alpha undone) to ffmpeg's
    /// libvpx, VP8 with alpha in WebM (`play --record-alpha NODE=FILE.webm`).
    #[value(skip)]
    Vp8Alpha,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::OpenH264 => "openh264 + ffmpeg mux",
            Encoding::X264 => "ffmpeg libx264 ultrafast",
            Encoding::Vp8Alpha => "ffmpeg libvpx VP8 with alpha",
        })
    }
}

/// Why a recording did not start or stopped; every variant that concerns a file names it.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "recording unavailable: `{}` not found; install ffmpeg (Debian/Ubuntu: \
         `sudo apt-get install ffmpeg`, or `make deps`) to record",
        program.display()
    )]
    FfmpegMissing { program: PathBuf },
    #[error("recording unavailable: cannot start {}: {source}", program.display())]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write recording {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot record {}: the program is {width}x{height}; H.264 needs an even width and \
         height of at most 8192",
        path.display()
    )]
    BadSize {
        path: PathBuf,
        width: u32,
        height: u32,
    },
    #[error("the recording frame rate must be 1..=240, got {0}")]
    BadFps(u32),
    #[error("recording {} stopped: {source}", path.display())]
    Encode {
        path: PathBuf,
        source: media::MediaError,
    },
    #[error("recording {} stopped: {detail}", path.display())]
    Mux { path: PathBuf, detail: String },
    #[error(
        "recording {}: ffmpeg did not finish the file within {seconds} s and was killed (the \
         file plays up to its last complete second)",
        path.display()
    )]
    Timeout { path: PathBuf, seconds: f32 },
    #[error("recording {} was already finished", .0.display())]
    Finished(PathBuf),
    #[error("recording {}: the worker thread panicked", .0.display())]
    Panicked(PathBuf),
}

/// Records the program to `path` while the app runs; the file is finished when the app exits.
pub struct RecordPlugin {
    pub path: PathBuf,
    pub options: RecordOptions,
    /// Record this node's picture with its alpha (in whatever scene is on program,
    /// transparent while that scene has no such node) instead of the program.
    pub node: Option<show::NodeId>,
    /// Start at once (`--record`), or stay off until started from the console.
    pub start: bool,
}

impl Plugin for RecordPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Recording {
            path: self.path.clone(),
            options: self.options.clone(),
            state: if self.start {
                State::Waiting
            } else {
                State::Stopped
            },
            frames: ProgramFrames::default(),
            warned_size: false,
            error: None,
            node: self.node.clone(),
            blank: None,
        });
        app.add_systems(Update, feed_recorder.in_set(AppSystems::Output))
            .add_systems(Last, finish_on_exit);
    }
}

/// Show times of the last frames rendered, to stamp frames read back a few frames later.
const TIMES_KEPT: usize = 32;

/// The read-back frames a worker is fed (the program for the recorder, the program or a node
/// for each stream): which show time each recent frame was rendered at, since a read-back
/// frame arrives a few frames later, and which frame was handed on last.
#[derive(Debug, Default)]
pub(crate) struct ProgramFrames {
    /// (frame, show time) of recent frames.
    times: VecDeque<(u64, f32)>,
    /// [`FrameClock::frame`] of the last frame handed on.
    last: Option<u64>,
}

impl ProgramFrames {
    /// Notes this frame's show time; returns the newest read-back frame not handed on yet,
    /// with the show time it was rendered at.
    pub(crate) fn next<'a>(
        &mut self,
        clock: &FrameClock,
        latest: Option<(u64, &'a image::RgbaImage)>,
    ) -> Option<(f32, &'a image::RgbaImage)> {
        if self.times.back().is_none_or(|&(f, _)| f != clock.frame) {
            if self.times.len() == TIMES_KEPT {
                self.times.pop_front();
            }
            self.times.push_back((clock.frame, clock.time));
        }
        let (frame, image) = latest?;
        if self.last == Some(frame) {
            return None;
        }
        self.last = Some(frame);
        let time = self
            .times
            .iter()
            .find(|(f, _)| *f == frame)
            .map_or(clock.time, |&(_, t)| t);
        Some((time, image))
    }
}

enum State {
    /// Starts on the first program frame (its size is the recording's).
    Waiting,
    Running(Recorder),
    /// Finished, failed or unavailable.
    Stopped,
}

/// The recording's worker handle and the bookkeeping that feeds it.
#[derive(Resource)]
pub struct Recording {
    path: PathBuf,
    options: RecordOptions,
    state: State,
    frames: ProgramFrames,
    warned_size: bool,
    /// Why it stopped, when it stopped on an error.
    error: Option<String>,
    /// The node recorded with its alpha; `None`: the program.
    node: Option<show::NodeId>,
    /// A transparent canvas while the node is not in the scene on program.
    blank: Option<image::RgbaImage>,
}

/// This surface's name among those that ask for node pictures.
const ASKER: &str = "record";

impl Recording {
    /// State and counters, for the console.
    pub fn status(&self) -> OutputStatus {
        let name = self.path.display().to_string();
        let kind = match &self.node {
            None => "record".to_owned(),
            Some(n) => format!("record ({n} with alpha)"),
        };
        match &self.state {
            State::Waiting => OutputStatus::new(name, kind, OutputState::Starting),
            State::Running(r) => {
                let mut s = OutputStatus::new(name, kind, OutputState::Running).counted(r.inlet());
                s.file_bytes = Some(
                    r.inlet()
                        .file_bytes
                        .load(std::sync::atomic::Ordering::Relaxed),
                );
                s
            }
            State::Stopped => {
                let state = self
                    .error
                    .clone()
                    .map_or(OutputState::Off, OutputState::Error);
                OutputStatus::new(name, kind, state)
            }
        }
    }

    /// Starts recording again (to a new file when the last one exists: never over it), or
    /// stops, finishing the file on a thread of its own so the show never waits for ffmpeg.
    pub fn set_on(&mut self, on: bool) {
        match (&self.state, on) {
            (State::Stopped, true) => {
                self.path = status::fresh_path(&self.path);
                self.error = None;
                self.frames = ProgramFrames::default();
                self.warned_size = false;
                self.state = State::Waiting;
                info!(
                    "recording to {} when the next frame comes",
                    self.path.display()
                );
            }
            (State::Waiting, false) => self.state = State::Stopped,
            (State::Running(_), false) => {
                if let State::Running(r) = std::mem::replace(&mut self.state, State::Stopped) {
                    status::finish_in_background(self.path.display().to_string(), r, |r| {
                        match r.finish() {
                            Ok(stats) => format!("recorded {stats}"),
                            Err(e) => e.to_string(),
                        }
                    });
                }
            }
            _ => {}
        }
    }

    /// Whether frames are being recorded now.
    pub fn is_running(&self) -> bool {
        matches!(self.state, State::Running(_))
    }

    /// Finishes the file (waiting, bounded, for ffmpeg) and logs the summary. `None` when no
    /// recording was running.
    pub fn finish(&mut self) -> Option<Result<RecordStats, RecordError>> {
        let State::Running(recorder) = std::mem::replace(&mut self.state, State::Stopped) else {
            return None;
        };
        let result = recorder.finish();
        match &result {
            Ok(stats) => info!("recorded {stats}"),
            Err(e) => error!("{e}"),
        }
        Some(result)
    }
}

/// Hands the newest read-back program frame (or node picture) to the recorder, starting it on
/// the first one.
fn feed_recorder(
    mut rec: ResMut<Recording>,
    clock: Res<FrameClock>,
    latest: Res<LatestProgramFrame>,
    (playback, show, mut snapshots, mut readback): (
        Option<Res<crate::playback::Playback>>,
        Option<Res<crate::showfile::CurrentShow>>,
        Option<ResMut<crate::preview::NodeSnapshots>>,
        ResMut<ProgramReadback>,
    ),
) {
    let rec = &mut *rec;
    // The program's readback copies every frame: asked for while the program is recorded.
    let wanted = rec.node.is_none() && !matches!(rec.state, State::Stopped);
    ProgramReadback::ask(&mut readback, ASKER, wanted);
    let source = match &rec.node {
        None => latest.0.as_ref().map(|(f, i)| (*f, i)),
        Some(node) => {
            let pictures = node_picture::NodePictures::new(playback.as_deref(), show.as_deref());
            pictures.request(
                ASKER,
                [node].into_iter(),
                snapshots.as_mut(),
                &mut rec.blank,
            );
            pictures.picture(node, snapshots.as_deref(), rec.blank.as_ref(), clock.frame)
        }
    };
    let next = rec.frames.next(&clock, source);
    if let State::Running(r) = &rec.state {
        r.set_clock(f64::from(clock.time));
        if let Some(e) = r.failed() {
            error!("{e}; the show plays on without recording");
            rec.error = Some(e);
            rec.finish();
            return;
        }
    }
    let Some((time, image)) = next else {
        return;
    };
    if matches!(rec.state, State::Waiting) {
        rec.state = match Recorder::start_with(&rec.path, image.dimensions(), rec.options.clone()) {
            Ok(r) => State::Running(r),
            Err(e) => {
                error!("{e}; the show plays on without recording");
                rec.error = Some(e.to_string());
                State::Stopped
            }
        };
    }
    let State::Running(r) = &rec.state else {
        return;
    };
    if image.dimensions() != r.size() && !rec.warned_size {
        rec.warned_size = true;
        warn!(
            "the program is now {}x{}; {} stays {}x{} and leaves these frames out",
            image.width(),
            image.height(),
            rec.path.display(),
            r.size().0,
            r.size().1
        );
    }
    r.push(f64::from(time), image.as_raw().clone());
}

/// Finishes the file when the app quits (Esc, window closed, `--exit-after`).
fn finish_on_exit(mut exit: MessageReader<AppExit>, mut rec: ResMut<Recording>) {
    if exit.read().next().is_some() {
        rec.finish();
    }
}
