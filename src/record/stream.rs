//! Streaming into OBS (`play --stream URL`, `--stream-alpha NODE=URL`): what OBS's Media
//! Source reads natively, a libavformat URL.
//!
//! The recorder's machinery with a network at the end: frames from the asynchronous readback go
//! through a newest-wins channel to a worker thread that paces them, encodes them and pipes them
//! into an `ffmpeg` child that muxes and sends:
//! - the program: H.264 from openh264 on the worker (baseline, so no B-frames; a keyframe every
//!   second) copied into MPEG-TS, over SRT (listener: OBS calls in) or UDP (push);
//! - a picture with alpha: raw RGBA to ffmpeg's libvpx, VP8 with alpha in WebM, over a TCP
//!   listener.
//!
//! A listening ffmpeg blocks in `accept` once it has probed its input, and exits when its
//! client leaves. So the worker writes ffmpeg just enough to probe (one frame), then waits for
//! it to log that its output is open (a client connected) before it encodes anything more:
//! with no client, frames are dropped unencoded. When ffmpeg exits (the client left, the port
//! is taken) it is started again after a backoff, and the restarts are counted. Nothing here
//! ever blocks the show: the worker is the only thing that waits.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use media::{Codec, Encoder, NewestSender, VideoFrame, newest_channel};
use show::NodeId;

use super::ffmpeg::{self, Ffmpeg, Killer};
use super::inlet::{Frame, Inlet, video_frame};
use super::node_picture::NodePictures;
use super::pacing::{Pacer, Place};
use super::recorder::{FFMPEG_ENV, bitrate_kbps};
use super::status::{OutputState, OutputStatus, finish_in_background};
use super::{ProgramFrames, RecordError};
use crate::AppSystems;
use crate::playback::Playback;
use crate::preview::NodeSnapshots;
use crate::render::{FrameClock, LatestProgramFrame, ProgramReadback};
use crate::showfile::CurrentShow;

/// Frames waiting for the worker; the newest wins. Short: a stream wants the latest picture.
const QUEUE: usize = 2;

/// How long a frame may take from rendering to the worker before a stalled source is filled with
/// repeats (the readback is 1–3 frames behind the show clock).
const LATENCY: Duration = Duration::from_millis(300);

/// A late frame repeats the last one at most this many times: a stream catches up by skipping,
/// never by a burst of repeats that a player would buffer as latency.
const MAX_REPEATS: u64 = 2;

/// Restart delays after ffmpeg exits: the first, and the most after failures in a row.
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// An ffmpeg that served at least this long resets the backoff (a client came and went).
const HEALTHY_RUN: Duration = Duration::from_secs(3);

/// What a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// H.264 (openh264) in MPEG-TS: the program for OBS, any player.
    Program,
    /// VP8 with alpha (ffmpeg's libvpx) in WebM: a picture OBS shows cut out.
    Alpha,
}

/// The transport of a stream URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Srt,
    Udp,
    Tcp,
}

/// A checked stream URL, as ffmpeg is given it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamUrl {
    url: String,
    scheme: Scheme,
    /// ffmpeg waits for one client and exits when it leaves (SRT listener, TCP `?listen`).
    listens: bool,
}

impl std::fmt::Display for StreamUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A passphrase is not for logs.
        match self.url.find("passphrase=") {
            Some(i) => {
                let rest = &self.url[i..];
                let end = rest.find('&').unwrap_or(rest.len());
                write!(f, "{}passphrase=***{}", &self.url[..i], &rest[end..])
            }
            None => f.write_str(&self.url),
        }
    }
}

impl StreamUrl {
    /// Checks `s` (`srt://HOST:PORT[?…]`, `udp://HOST:PORT[?…]`, `tcp://HOST:PORT[?…]`).
    /// SRT without a `mode` listens (OBS calls in); UDP gets `pkt_size=1316` (7 TS packets)
    /// unless given. A host other than loopback needs `allow_remote`: a stream has no
    /// authentication besides SRT's `passphrase=`.
    pub fn parse(s: &str, allow_remote: bool) -> Result<StreamUrl, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("{s}: not a stream URL (srt://, udp:// or tcp://)"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "srt" => Scheme::Srt,
            "udp" => Scheme::Udp,
            "tcp" => Scheme::Tcp,
            other => {
                return Err(format!(
                    "{s}: `{other}://` streams are not supported; use srt://, udp:// or tcp://"
                ));
            }
        };
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| format!("{s}: the URL needs a port (HOST:PORT)"))?;
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(format!("{s}: `{port}` is not a port (1-65535)")),
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = bare.eq_ignore_ascii_case("localhost")
            || bare
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback && !allow_remote {
            return Err(format!(
                "{s}: {host} is not this machine; streams have no authentication (SRT has \
                 `passphrase=`), so sending beyond loopback needs --stream-allow-remote"
            ));
        }
        let params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        let has = |key: &str| params.iter().any(|p| p.split('=').next() == Some(key));
        let mut extra = Vec::new();
        let listens = match scheme {
            Scheme::Srt => {
                if !has("mode") {
                    extra.push("mode=listener");
                }
                params.contains(&"mode=listener") || !has("mode")
            }
            Scheme::Udp => {
                if !has("pkt_size") {
                    extra.push("pkt_size=1316");
                }
                false
            }
            Scheme::Tcp => has("listen") && !params.contains(&"listen=0"),
        };
        let all: Vec<&str> = params.iter().copied().chain(extra).collect();
        let url = if all.is_empty() {
            format!("{}://{authority}", scheme_name(scheme))
        } else {
            format!("{}://{authority}?{}", scheme_name(scheme), all.join("&"))
        };
        Ok(StreamUrl {
            url,
            scheme,
            listens,
        })
    }

    /// The URL ffmpeg is given (with a passphrase, if any; [`Display`](std::fmt::Display)
    /// hides it).
    pub fn as_str(&self) -> &str {
        &self.url
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether ffmpeg waits for a client (and ends when it leaves).
    pub fn listens(&self) -> bool {
        self.listens
    }
}

fn scheme_name(s: Scheme) -> &'static str {
    match s {
        Scheme::Srt => "srt",
        Scheme::Udp => "udp",
        Scheme::Tcp => "tcp",
    }
}

/// `NODE=URL` of `--stream-alpha`: the node whose picture (with its alpha) is sent.
pub fn parse_alpha_target(s: &str, allow_remote: bool) -> Result<(String, StreamUrl), String> {
    let (node, url) = s
        .split_once('=')
        .filter(|(node, _)| !node.is_empty() && !node.contains("://"))
        .ok_or_else(|| {
            format!("{s}: expected NODE=URL, e.g. avatar=tcp://127.0.0.1:9002?listen")
        })?;
    Ok((node.to_string(), StreamUrl::parse(url, allow_remote)?))
}

/// The streams of `play --stream URL… --stream-alpha NODE=URL…`, checked.
pub fn specs(
    program: &[String],
    alpha: &[String],
    allow_remote: bool,
) -> Result<Vec<StreamSpec>, String> {
    let mut out = Vec::new();
    for s in program {
        let url = StreamUrl::parse(s, allow_remote).map_err(|e| format!("--stream {e}"))?;
        out.push(StreamSpec {
            url,
            kind: StreamKind::Program,
            node: None,
        });
    }
    for s in alpha {
        let (node, url) =
            parse_alpha_target(s, allow_remote).map_err(|e| format!("--stream-alpha {e}"))?;
        out.push(StreamSpec {
            url,
            kind: StreamKind::Alpha,
            node: (node != "program").then_some(NodeId::new(node)),
        });
    }
    Ok(out)
}

/// Why a stream did not start or stopped for good; each names its URL.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(
        "stream {url} unavailable: `{}` not found; install ffmpeg (Debian/Ubuntu: \
         `sudo apt-get install ffmpeg`, or `make deps`) to stream",
        program.display()
    )]
    FfmpegMissing { url: String, program: PathBuf },
    #[error("stream {url} unavailable: cannot start {}: {source}", program.display())]
    Spawn {
        url: String,
        program: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot stream {url}: the picture is {width}x{height}; it needs an even width and \
         height of at most 8192"
    )]
    BadSize {
        url: String,
        width: u32,
        height: u32,
    },
    #[error("the stream frame rate must be 1..=240, got {0}")]
    BadFps(u32),
    #[error("stream {url} stopped: {source}")]
    Encode {
        url: String,
        source: media::MediaError,
    },
}

/// How a stream is made.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Frames per second (constant while a client watches).
    pub fps: u32,
    /// The ffmpeg program; default `$METADJ_SCOPE_FFMPEG` or `ffmpeg`.
    pub ffmpeg: PathBuf,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            fps: 30,
            ffmpeg: std::env::var_os(FFMPEG_ENV).map_or_else(|| "ffmpeg".into(), PathBuf::from),
        }
    }
}

/// What a stream did, so far or in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamStats {
    pub url: String,
    /// Frames encoded and written to ffmpeg (repeats included).
    pub encoded: u64,
    /// Slots filled by repeating the last frame (a late or stalled source).
    pub repeated: u64,
    /// Frames replaced in the channel before the worker took them.
    pub dropped: u64,
    /// Frames the worker took while no client was connected: not encoded.
    pub idle: u64,
    /// Frames whose slot was already sent (the program runs faster than the stream).
    pub skipped: u64,
    /// Frames of another size than the stream's, left out.
    pub wrong_size: u64,
    /// Times ffmpeg was started again (a client left, the port was taken, ffmpeg failed).
    pub restarts: u64,
    /// Times ffmpeg opened its output (a client connected, for a listener).
    pub connections: u64,
    /// CPU time of the worker thread (conversion, encoding, writes), Linux only.
    pub worker_cpu: Option<Duration>,
}

impl std::fmt::Display for StreamStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stream {}: {} frames sent ({} repeated), {} connection(s), {} restart(s), {} \
             dropped, {} skipped, {} not encoded with no client",
            self.url,
            self.encoded,
            self.repeated,
            self.connections,
            self.restarts,
            self.dropped,
            self.skipped,
            self.idle
        )
    }
}

#[derive(Default)]
struct Shared {
    inlet: Inlet,
    encoded: AtomicU64,
    connections: AtomicU64,
    restarts: AtomicU64,
    /// Whether a client is connected now (ffmpeg's output is open).
    live: AtomicBool,
    /// The running ffmpeg, to kill it from [`Streamer::finish`] (a worker stuck in a write).
    killer: Mutex<Option<Killer>>,
}

/// A stream in progress. Dropping it stops the stream.
pub struct Streamer {
    url: StreamUrl,
    size: (u32, u32),
    tx: NewestSender<Frame>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<StreamStats>>,
}

impl Streamer {
    /// Starts streaming `size` pictures of `kind` to `url`. Fails when ffmpeg cannot be
    /// started at all; later failures (port taken, client gone) restart ffmpeg instead.
    pub fn start(
        url: StreamUrl,
        kind: StreamKind,
        size: (u32, u32),
        options: StreamOptions,
    ) -> Result<Streamer, StreamError> {
        let fps = options.fps;
        if !(1..=240).contains(&fps) {
            return Err(StreamError::BadFps(fps));
        }
        let (w, h) = size;
        if w == 0 || h == 0 || !w.is_multiple_of(2) || !h.is_multiple_of(2) || w > 8192 || h > 8192
        {
            return Err(StreamError::BadSize {
                url: url.to_string(),
                width: w,
                height: h,
            });
        }
        let encoder = match kind {
            StreamKind::Program => Some(
                Encoder::new(Codec::H264, w, h, fps, bitrate_kbps(size, fps)).map_err(
                    |source| StreamError::Encode {
                        url: url.to_string(),
                        source,
                    },
                )?,
            ),
            StreamKind::Alpha => None,
        };
        let args = args(kind, size, fps, &url);
        let ff = spawn(&options.ffmpeg, &args, &url)?;
        let shared = Arc::new(Shared::default());
        if let Ok(mut k) = shared.killer.lock() {
            *k = Some(ff.killer());
        }
        let (tx, rx) = newest_channel(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            url: url.clone(),
            kind,
            size,
            fps,
            program: options.ffmpeg.clone(),
            args,
            rx,
            shared: shared.clone(),
            stop: stop.clone(),
            ff: Some(Child::new(ff)),
            encoder,
            since_key: u32::MAX,
            backoff: BACKOFF_MIN,
            restart_at: None,
            stats: StreamStats {
                url: url.to_string(),
                ..StreamStats::default()
            },
        };
        let worker = std::thread::Builder::new()
            .name("stream".into())
            .spawn(move || worker.run())
            .map_err(|source| StreamError::Spawn {
                url: url.to_string(),
                program: PathBuf::from("stream worker thread"),
                source,
            })?;
        let how = match kind {
            StreamKind::Program => "H.264 in MPEG-TS",
            StreamKind::Alpha => "VP8 with alpha in WebM",
        };
        let wait = if url.listens() {
            ", waiting for a client"
        } else {
            ""
        };
        tracing::info!("streaming {url} ({w}x{h}, {fps} fps, {how}){wait}");
        Ok(Streamer {
            url,
            size,
            tx,
            shared,
            stop,
            worker: Some(worker),
        })
    }

    pub fn url(&self) -> &StreamUrl {
        &self.url
    }

    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Hands a picture (RGBA8, shown at show time `time`; premultiplied alpha is undone for
    /// the alpha stream) to the worker. Never blocks.
    pub fn push(&self, time: f64, rgba: Vec<u8>) {
        self.shared.inlet.push(&self.tx, self.size, time, rgba);
    }

    /// The show clock, so the worker repeats the last frame when none come.
    pub fn set_clock(&self, time: f64) {
        self.shared.inlet.set_clock(time);
    }

    /// The error the stream stopped on for good, if it did.
    pub fn failed(&self) -> Option<String> {
        self.shared.inlet.failed()
    }

    /// Frames encoded and sent so far.
    pub fn encoded(&self) -> u64 {
        self.shared.encoded.load(Ordering::Relaxed)
    }

    /// Times ffmpeg opened its output so far (clients connected, for a listener).
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Times ffmpeg was started again so far.
    pub fn restarts(&self) -> u64 {
        self.shared.restarts.load(Ordering::Relaxed)
    }

    /// Whether a client is connected now (for UDP: ffmpeg is sending).
    pub fn is_live(&self) -> bool {
        self.shared.live.load(Ordering::Relaxed)
    }

    /// The running ffmpeg's process id.
    pub fn ffmpeg_pid(&self) -> Option<u32> {
        self.shared
            .killer
            .lock()
            .ok()
            .and_then(|k| k.as_ref().and_then(Killer::pid))
    }

    /// Stops the stream: closes ffmpeg's input, kills it if it does not end within a second.
    pub fn finish(mut self) -> StreamStats {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> StreamStats {
        self.stop.store(true, Ordering::Relaxed);
        let Some(worker) = self.worker.take() else {
            return StreamStats::default();
        };
        let start = Instant::now();
        while !worker.is_finished() {
            // A listener with no client never reads its input; a stuck write needs a kill.
            if start.elapsed() > Duration::from_secs(2)
                && let Ok(k) = self.shared.killer.lock()
                && let Some(k) = k.as_ref()
            {
                k.kill();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut stats = worker.join().unwrap_or_else(|_| StreamStats {
            url: self.url.to_string(),
            ..StreamStats::default()
        });
        stats.dropped = self.shared.inlet.dropped.load(Ordering::Relaxed);
        stats.wrong_size = self.shared.inlet.wrong_size.load(Ordering::Relaxed);
        stats
    }
}

impl Drop for Streamer {
    fn drop(&mut self) {
        if self.worker.is_some() {
            let stats = self.finish_inner();
            tracing::info!("{stats}");
        }
    }
}

/// One `--stream` or `--stream-alpha`.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    pub url: StreamUrl,
    pub kind: StreamKind,
    /// The node whose picture is sent, in whatever scene is on program (transparent while
    /// that scene has no such node); `None`: the program.
    pub node: Option<NodeId>,
}

impl StreamSpec {
    /// A node stream's node that no scene of `show` has, with the message to refuse it with.
    pub fn check_node(&self, show: &show::Show) -> Result<(), String> {
        match &self.node {
            Some(node) if !show.scenes.iter().any(|s| s.nodes.contains_key(node)) => Err(format!(
                "--stream-alpha {node}={}: no scene has a node `{node}`",
                self.url
            )),
            _ => Ok(()),
        }
    }
}

/// Streams the program while the app runs; each stream starts on the first program frame (its
/// size is the stream's) and stops when the app quits.
pub struct StreamPlugin {
    pub streams: Vec<StreamSpec>,
    pub options: StreamOptions,
}

impl Plugin for StreamPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Streams {
            entries: self
                .streams
                .iter()
                .map(|spec| Entry {
                    spec: spec.clone(),
                    state: EntryState::Waiting,
                    warned_size: false,
                    frames: ProgramFrames::default(),
                    error: None,
                })
                .collect(),
            options: self.options.clone(),
            blank: None,
        })
        .add_systems(Update, feed_streams.in_set(AppSystems::Output))
        .add_systems(Last, stop_on_exit);
    }
}

enum EntryState {
    Waiting,
    Running(Streamer),
    Stopped,
}

struct Entry {
    spec: StreamSpec,
    state: EntryState,
    warned_size: bool,
    /// This stream's source frames and their show times.
    frames: ProgramFrames,
    /// Why it stopped, when it stopped on an error.
    error: Option<String>,
}

/// The app's streams.
#[derive(Resource)]
pub struct Streams {
    entries: Vec<Entry>,
    options: StreamOptions,
    /// A transparent canvas: a node stream's picture while the scene on program has no such
    /// node.
    blank: Option<image::RgbaImage>,
}

impl Streams {
    /// The running streams.
    pub fn running(&self) -> impl Iterator<Item = &Streamer> {
        self.entries.iter().filter_map(|e| match &e.state {
            EntryState::Running(s) => Some(s),
            _ => None,
        })
    }

    /// Each stream's state and counters, for the console.
    pub fn statuses(&self) -> Vec<OutputStatus> {
        self.entries
            .iter()
            .map(|e| {
                let name = e.spec.url.to_string();
                let kind = match &e.spec.node {
                    None => "stream".to_owned(),
                    Some(n) => format!("stream ({n} with alpha)"),
                };
                match &e.state {
                    EntryState::Waiting => OutputStatus::new(name, kind, OutputState::Starting),
                    EntryState::Running(s) => {
                        let mut st = OutputStatus::new(name, kind, OutputState::Running)
                            .counted(&s.shared.inlet);
                        st.client = e.spec.url.listens().then(|| s.is_live());
                        st
                    }
                    EntryState::Stopped => {
                        let state = e.error.clone().map_or(OutputState::Off, OutputState::Error);
                        OutputStatus::new(name, kind, state)
                    }
                }
            })
            .collect()
    }

    /// Starts the stream to `url` again, or stops it (ffmpeg closed on a thread of its own).
    /// `false` when no stream has that URL.
    pub fn set_on(&mut self, url: &str, on: bool) -> bool {
        let Some(e) = self.entries.iter_mut().find(|e| e.spec.url.as_str() == url) else {
            return false;
        };
        match (&e.state, on) {
            (EntryState::Stopped, true) => {
                e.error = None;
                e.frames = ProgramFrames::default();
                e.warned_size = false;
                e.state = EntryState::Waiting;
            }
            (EntryState::Waiting, false) => e.state = EntryState::Stopped,
            (EntryState::Running(_), false) => {
                if let EntryState::Running(s) = std::mem::replace(&mut e.state, EntryState::Stopped)
                {
                    finish_in_background(url.to_owned(), s, |s| s.finish().to_string());
                }
            }
            _ => {}
        }
        true
    }

    /// Stops every stream and logs what each did.
    pub fn stop(&mut self) -> Vec<StreamStats> {
        let mut all = Vec::new();
        for e in &mut self.entries {
            if let EntryState::Running(s) = std::mem::replace(&mut e.state, EntryState::Stopped) {
                let stats = s.finish();
                info!("{stats}");
                all.push(stats);
            }
        }
        all
    }
}

/// This surface's name among those that ask for node pictures.
const ASKER: &str = "streams";

/// Hands each stream the newest read-back picture of its source (the program, or its node in
/// the scene on program), starting it on the first one.
fn feed_streams(
    mut streams: ResMut<Streams>,
    clock: Res<FrameClock>,
    latest: Res<LatestProgramFrame>,
    playback: Option<Res<Playback>>,
    show: Option<Res<CurrentShow>>,
    mut snapshots: Option<ResMut<NodeSnapshots>>,
    mut readback: ResMut<ProgramReadback>,
) {
    let streams = &mut *streams;
    // The program's readback copies every frame: asked for while a program stream runs.
    let program = streams
        .entries
        .iter()
        .any(|e| e.spec.node.is_none() && !matches!(e.state, EntryState::Stopped));
    ProgramReadback::ask(&mut readback, ASKER, program);
    let pictures = NodePictures::new(playback.as_deref(), show.as_deref());
    let nodes = streams.entries.iter().filter_map(|e| e.spec.node.as_ref());
    pictures.request(ASKER, nodes, snapshots.as_mut(), &mut streams.blank);
    for e in &mut streams.entries {
        if let EntryState::Running(s) = &e.state {
            s.set_clock(f64::from(clock.time));
            if let Some(why) = s.failed() {
                // The worker logged why.
                e.error = Some(why);
                e.state = EntryState::Stopped;
            }
        }
        let source = match &e.spec.node {
            None => latest.0.as_ref().map(|(f, i)| (*f, i)),
            Some(node) => pictures.picture(
                node,
                snapshots.as_deref(),
                streams.blank.as_ref(),
                clock.frame,
            ),
        };
        let Some((time, image)) = e.frames.next(&clock, source) else {
            continue;
        };
        if matches!(e.state, EntryState::Waiting) {
            e.state = match Streamer::start(
                e.spec.url.clone(),
                e.spec.kind,
                image.dimensions(),
                streams.options.clone(),
            ) {
                Ok(s) => EntryState::Running(s),
                Err(err) => {
                    error!("{err}; the show plays on without this stream");
                    e.error = Some(err.to_string());
                    EntryState::Stopped
                }
            };
        }
        let EntryState::Running(s) = &e.state else {
            continue;
        };
        if image.dimensions() != s.size() && !e.warned_size {
            e.warned_size = true;
            warn!(
                "the picture is now {}x{}; stream {} stays {}x{} and leaves these frames out",
                image.width(),
                image.height(),
                s.url(),
                s.size().0,
                s.size().1
            );
        }
        s.push(f64::from(time), image.as_raw().clone());
    }
}

fn stop_on_exit(mut exit: MessageReader<AppExit>, mut streams: ResMut<Streams>) {
    if exit.read().next().is_some() {
        streams.stop();
    }
}

/// The ffmpeg command line of a `kind` stream of `size` pictures at `fps` to `url`.
/// `level+info` so the worker sees `Output #0` (the output is open: a client connected).
pub(crate) fn args(kind: StreamKind, size: (u32, u32), fps: u32, url: &StreamUrl) -> Vec<String> {
    let s = |v: &str| v.to_string();
    let mut a: Vec<String> = ["-hide_banner", "-nostats", "-loglevel", "level+info"]
        .map(String::from)
        .into();
    // Probe no more than the first frame: ffmpeg then opens its output (waiting for a client).
    a.extend([s("-probesize"), s("32"), s("-analyzeduration"), s("0")]);
    a.extend([s("-fflags"), s("nobuffer+genpts")]);
    match kind {
        StreamKind::Program => {
            a.extend([s("-f"), s("h264"), s("-framerate"), fps.to_string()]);
            a.extend([s("-i"), s("pipe:0"), s("-c:v"), s("copy")]);
            // As the recording: BT.601 limited range, sRGB primaries and transfer.
            a.extend([
                s("-bsf:v"),
                s(
                    "h264_metadata=colour_primaries=1:transfer_characteristics=13:\
                     matrix_coefficients=6:video_full_range_flag=0",
                ),
            ]);
            // No mux delay: each frame leaves as soon as it is in.
            a.extend([s("-f"), s("mpegts"), s("-muxdelay"), s("0")]);
            a.extend([s("-muxpreload"), s("0"), s("-flush_packets"), s("1")]);
        }
        StreamKind::Alpha => {
            a.extend(ffmpeg::vp8_alpha_input_and_codec(size, fps));
            a.extend([s("-g"), fps.to_string(), s("-threads"), s("2")]);
            // One frame per cluster, flushed as written: a cluster is sent when it closes.
            a.extend([s("-f"), s("webm"), s("-live"), s("1")]);
            a.extend([s("-cluster_size_limit"), s("1")]);
            a.extend([s("-flush_packets"), s("1")]);
        }
    }
    a.push(url.as_str().to_string());
    a
}

fn spawn(
    program: &std::path::Path,
    args: &[String],
    url: &StreamUrl,
) -> Result<Ffmpeg, StreamError> {
    Ffmpeg::spawn(program, args, std::path::Path::new(&url.to_string())).map_err(|e| match e {
        RecordError::FfmpegMissing { program } => StreamError::FfmpegMissing {
            url: url.to_string(),
            program,
        },
        RecordError::Spawn { program, source } => StreamError::Spawn {
            url: url.to_string(),
            program,
            source,
        },
        other => StreamError::Spawn {
            url: url.to_string(),
            program: program.to_path_buf(),
            source: std::io::Error::other(other.to_string()),
        },
    })
}

/// One ffmpeg run and where it is.
struct Child {
    ff: Ffmpeg,
    started: Instant,
    /// Whether the probe frame has been written.
    probed: bool,
    /// Whether ffmpeg opened its output (a client connected).
    live: bool,
}

impl Child {
    fn new(ff: Ffmpeg) -> Child {
        Child {
            ff,
            started: Instant::now(),
            probed: false,
            live: false,
        }
    }
}

struct Worker {
    url: StreamUrl,
    kind: StreamKind,
    size: (u32, u32),
    fps: u32,
    program: PathBuf,
    args: Vec<String>,
    rx: Receiver<Frame>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    ff: Option<Child>,
    encoder: Option<Encoder>,
    /// Frames since the last keyframe.
    since_key: u32,
    backoff: Duration,
    /// When to start ffmpeg again, while none runs.
    restart_at: Option<Instant>,
    stats: StreamStats,
}

impl Worker {
    fn run(mut self) -> StreamStats {
        let cpu_start = ffmpeg::proc_stat("/proc/thread-self/stat").map(|s| s.1);
        if let Err(e) = self.stream() {
            tracing::error!("{e}; the show plays on without this stream");
            self.shared.inlet.fail(e.to_string());
        }
        if let Some(child) = self.ff.take() {
            // A listener with no client never finishes; it is killed after the timeout.
            let _ = child.ff.finish(Duration::from_secs(1));
        }
        let cpu_end = ffmpeg::proc_stat("/proc/thread-self/stat").map(|s| s.1);
        self.stats.worker_cpu = cpu_start.zip(cpu_end).map(|(a, b)| b.saturating_sub(a));
        self.stats.encoded = self.shared.encoded.load(Ordering::Relaxed);
        self.stats.connections = self.shared.connections.load(Ordering::Relaxed);
        self.stats.restarts = self.shared.restarts.load(Ordering::Relaxed);
        self.stats
    }

    fn stream(&mut self) -> Result<(), StreamError> {
        let mut pacer = Pacer::new(self.fps);
        let mut last: Option<VideoFrame> = None;
        let tick = Duration::from_secs_f64(1.0 / f64::from(self.fps));
        let mut lag = 0.0f64;
        let shared = self.shared.clone();
        let clock = move || shared.inlet.clock();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            self.supervise()?;
            let frame = match self.rx.recv_timeout(tick) {
                Ok(f) => Some(f),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            let Some(frame) = frame else {
                let allowance = LATENCY.as_secs_f64().max(2.0 * lag);
                let repeats = pacer.stalled(clock(), allowance).min(MAX_REPEATS);
                if let Some(l) = last.take() {
                    for _ in 0..repeats {
                        self.output(&l)?;
                        self.stats.repeated += 1;
                    }
                    last = Some(l);
                }
                continue;
            };
            lag = (lag * 0.95).max(clock() - frame.time);
            if !self.wants_frames() {
                // No client: nothing is encoded. The pacer follows, so the stream starts on
                // time when one connects.
                self.stats.idle += 1;
                pacer.frame(frame.time);
                last = None;
                continue;
            }
            match pacer.frame(frame.time) {
                Place::Skip => self.stats.skipped += 1,
                Place::Write { repeats } => {
                    if let Some(l) = last.take() {
                        for _ in 0..repeats.min(MAX_REPEATS) {
                            self.output(&l)?;
                            self.stats.repeated += 1;
                        }
                    }
                    let picture = self.prepare(frame.rgba)?;
                    self.output(&picture)?;
                    last = Some(picture);
                }
            }
        }
    }

    /// Whether frames should be encoded now: ffmpeg needs its probe frame, or a client is
    /// connected. Raw frames for libvpx are always written: a listening ffmpeg needs a second
    /// frame after a client connects before it opens its output, and it encodes nothing
    /// before (it waits in `accept`, so the write blocks once the pipe is full and the worker
    /// waits with it; the frames meanwhile are dropped in the channel).
    fn wants_frames(&self) -> bool {
        self.ff
            .as_ref()
            .is_some_and(|c| !c.probed || c.live || self.kind == StreamKind::Alpha)
    }

    /// Notices ffmpeg's output opening or ffmpeg ending; starts it again when due.
    fn supervise(&mut self) -> Result<(), StreamError> {
        if let Some(child) = &mut self.ff {
            if !child.live && child.ff.ready() {
                child.live = true;
                self.shared.live.store(true, Ordering::Relaxed);
                self.shared.connections.fetch_add(1, Ordering::Relaxed);
                // A fresh picture first: the probe frame may be old.
                self.since_key = u32::MAX;
                if self.url.listens() {
                    tracing::info!("stream {}: a client connected", self.url);
                }
            }
            if let Some(why) = child.ff.exited() {
                self.ended(why);
            }
        }
        if self.ff.is_none() && self.restart_at.is_some_and(|t| Instant::now() >= t) {
            self.restart_at = None;
            match spawn(&self.program, &self.args, &self.url) {
                Ok(ff) => {
                    if let Ok(mut k) = self.shared.killer.lock() {
                        *k = Some(ff.killer());
                    }
                    self.ff = Some(Child::new(ff));
                    self.shared.restarts.fetch_add(1, Ordering::Relaxed);
                    self.since_key = u32::MAX;
                }
                Err(e @ StreamError::FfmpegMissing { .. }) => return Err(e),
                Err(e) => {
                    tracing::error!("{e}");
                    self.schedule_restart();
                }
            }
        }
        Ok(())
    }

    /// ffmpeg is gone: say why (a client leaving is expected), and start it again later.
    fn ended(&mut self, why: String) {
        let Some(child) = self.ff.take() else { return };
        self.shared.live.store(false, Ordering::Relaxed);
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        let ran = child.started.elapsed();
        if ran >= HEALTHY_RUN {
            self.backoff = BACKOFF_MIN;
        }
        if child.live && self.url.listens() {
            tracing::info!(
                "stream {}: the client left ({why}); listening again",
                self.url
            );
        } else {
            tracing::error!(
                "stream {} failed: {why}; trying again in {:.1} s (the show plays on)",
                self.url,
                self.backoff.as_secs_f32()
            );
        }
        self.schedule_restart();
    }

    fn schedule_restart(&mut self) {
        self.restart_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }

    /// The picture as the output wants it: I420 for openh264, straight RGBA for libvpx.
    fn prepare(&self, mut rgba: Vec<u8>) -> Result<VideoFrame, StreamError> {
        if self.kind == StreamKind::Alpha {
            unpremultiply(&mut rgba);
        }
        video_frame(self.size, rgba, self.encoder.is_some()).map_err(|e| self.encode_error(e))
    }

    fn encode_error(&self, source: media::MediaError) -> StreamError {
        StreamError::Encode {
            url: self.url.to_string(),
            source,
        }
    }

    /// Encodes and writes one frame. A failed write means ffmpeg ended: that is noticed, not
    /// returned (the stream restarts).
    fn output(&mut self, frame: &VideoFrame) -> Result<(), StreamError> {
        if !self.wants_frames() {
            return Ok(());
        }
        let encoded;
        let bytes: &[u8] = match &mut self.encoder {
            Some(enc) => {
                let key = self.since_key >= self.fps;
                encoded = enc
                    .encode(frame, key)
                    .map_err(|source| StreamError::Encode {
                        url: self.url.to_string(),
                        source,
                    })?;
                self.since_key = if key { 1 } else { self.since_key + 1 };
                &encoded
            }
            None => &frame.data,
        };
        let Some(child) = &mut self.ff else {
            return Ok(());
        };
        let probe = !child.probed;
        match child.ff.write(bytes) {
            Ok(()) => {
                child.probed = true;
                self.shared.encoded.fetch_add(1, Ordering::Relaxed);
                self.shared.inlet.count_sent(bytes.len());
                // The h264 parser ends a frame at the next start code: an access unit
                // delimiter completes the probe frame without another picture.
                if probe && self.kind == StreamKind::Program {
                    let _ = child.ff.write(&[0, 0, 0, 1, 9, 0xf0]);
                }
            }
            Err(e) => {
                let why = child
                    .ff
                    .exited()
                    .unwrap_or_else(|| format!("cannot write: {e}"));
                self.ended(why);
            }
        }
        Ok(())
    }
}

/// Premultiplied RGBA (the compositor's) to straight alpha (what libvpx's yuva420p carries).
pub(super) fn unpremultiply(rgba: &mut [u8]) {
    for p in rgba.chunks_exact_mut(4) {
        let a = u32::from(p[3]);
        if a == 0 {
            p[..3].fill(0);
        } else if a < 255 {
            for c in &mut p[..3] {
                *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_listener_mode_and_packet_size_and_stay_on_loopback() {
        let srt = StreamUrl::parse("srt://127.0.0.1:9000", false).unwrap();
        assert_eq!(srt.as_str(), "srt://127.0.0.1:9000?mode=listener");
        assert!(srt.listens());
        let caller = StreamUrl::parse("srt://127.0.0.1:9000?mode=caller", false).unwrap();
        assert!(!caller.listens());
        let udp = StreamUrl::parse("udp://127.0.0.1:9001", false).unwrap();
        assert_eq!(udp.as_str(), "udp://127.0.0.1:9001?pkt_size=1316");
        assert!(!udp.listens());
        let tcp = StreamUrl::parse("tcp://localhost:9002?listen", false).unwrap();
        assert!(tcp.listens());
        let remote = StreamUrl::parse("srt://192.168.1.5:9000", false).unwrap_err();
        assert!(remote.contains("--stream-allow-remote"), "{remote}");
        assert!(StreamUrl::parse("srt://192.168.1.5:9000", true).is_ok());
        assert!(StreamUrl::parse("rtmp://127.0.0.1:1935/x", false).is_err());
        assert!(StreamUrl::parse("udp://127.0.0.1", false).is_err());
        assert!(StreamUrl::parse("udp://[::1]:9000", false).is_ok());
        let secret = StreamUrl::parse(
            "srt://127.0.0.1:9000?passphrase=hunter2hunter2&latency=20",
            false,
        )
        .unwrap();
        assert!(secret.as_str().contains("hunter2"));
        assert_eq!(
            secret.to_string(),
            "srt://127.0.0.1:9000?passphrase=***&latency=20&mode=listener"
        );
    }

    #[test]
    fn alpha_targets_name_a_node() {
        let (node, url) = parse_alpha_target("avatar=tcp://127.0.0.1:9002?listen", false).unwrap();
        assert_eq!(node, "avatar");
        assert!(url.listens());
        assert!(parse_alpha_target("tcp://127.0.0.1:9002?listen=1", false).is_err());
    }

    #[test]
    fn specs_check_every_flag_and_name_it() {
        let ok = specs(
            &["srt://127.0.0.1:9000".into()],
            &["program=tcp://127.0.0.1:9002?listen".into()],
            false,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].kind, StreamKind::Alpha);
        let node = specs(&[], &["avatar=tcp://127.0.0.1:9002?listen".into()], false).unwrap();
        assert_eq!(node[0].node, Some(NodeId::new("avatar")));
        assert_eq!(ok[1].node, None, "`program` is the program");
        let remote = specs(&["udp://10.0.0.2:9000".into()], &[], false).unwrap_err();
        assert!(
            remote.starts_with("--stream udp://10.0.0.2:9000"),
            "{remote}"
        );
    }

    #[test]
    fn premultiplied_alpha_is_undone() {
        let mut p = [64, 32, 0, 128, 9, 9, 9, 0, 10, 20, 30, 255];
        unpremultiply(&mut p);
        assert_eq!(p, [128, 64, 0, 128, 0, 0, 0, 0, 10, 20, 30, 255]);
    }

    #[test]
    fn program_streams_copy_h264_into_mpegts() {
        let url = StreamUrl::parse("udp://127.0.0.1:9001", false).unwrap();
        let a = args(StreamKind::Program, (64, 32), 30, &url).join(" ");
        assert!(
            a.contains("-f h264 -framerate 30 -i pipe:0 -c:v copy"),
            "{a}"
        );
        assert!(a.ends_with("-f mpegts -muxdelay 0 -muxpreload 0 -flush_packets 1 udp://127.0.0.1:9001?pkt_size=1316"), "{a}");
        let a = args(StreamKind::Alpha, (64, 32), 30, &url).join(" ");
        assert!(
            a.contains("-c:v libvpx -pix_fmt yuva420p -auto-alt-ref 0"),
            "{a}"
        );
    }
}
