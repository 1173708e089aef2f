//! The command line: one subcommand per way of running a show.
//!
//! Parsing lives here (clap derive); `main.rs` only dispatches, so tests can parse arguments
//! without starting anything.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, Subcommand};

/// MetaDJ Scope: a real-time node-graph video compositor for live AI-avatar shows.
#[derive(Debug, Parser)]
#[command(name = "metadj-scope", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play a show in the program window. Keys: 1-9 scene, F fullscreen, S stats, Esc/Q quit.
    Play(PlayArgs),
    /// Render frames of one scene to PNG files without opening a window.
    Render(RenderArgs),
    /// Validate a show file and print every error (exit code 1 if there are any).
    Check(CheckArgs),
    /// List the monitors (index, name, size, refresh rate) for `play --monitor N`.
    Monitors,
    /// List the capture devices (index, name, formats) for camera nodes.
    Cameras,
    /// Run the built-in Scope-compatible server (passthrough and stylize pipelines) until Ctrl-C.
    ScopeServer(ScopeServerArgs),
    /// Measure compositing of N full-frame image layers (ms/frame, GPU time, fps) against
    /// ffmpeg's overlay filter doing the same composition.
    Bench(crate::bench::BenchArgs),
    /// Stream a synthetic picture through a Scope server and report fps and round-trip latency.
    BenchScope(crate::bench_scope::BenchScopeArgs),
    /// Play one scene headless on the real clock and report compositor fps, GPU time, added
    /// latency per live source and each Scope node's round trip.
    BenchShow(crate::bench_show::BenchShowArgs),
    /// Time the segment node: inference per model, then a scene with the node played headless
    /// (masks/s, mask age, added frame time).
    BenchSegment(crate::bench_segment::BenchSegmentArgs),
}

#[derive(Debug, clap::Args)]
pub struct ScopeServerArgs {
    /// TCP port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
}

#[derive(Debug, clap::Args)]
pub struct PlayArgs {
    /// The show file (RON). Saving it while playing reloads it live.
    pub show: PathBuf,
    /// Only the program, in the one window (a dedicated projector machine): no console.
    #[arg(long)]
    pub output_only: bool,
    /// The program window borderless fullscreen on monitor N (the projector), cursor hidden;
    /// windowed when absent. See `metadj-scope monitors`.
    #[arg(long, value_name = "N", conflicts_with = "output_only")]
    pub output_monitor: Option<usize>,
    /// Where OSC control listens (UDP), or `off`. Loopback only: OSC has no authentication.
    /// [default: the settings file's `osc`, else 127.0.0.1:9000]
    #[arg(long, value_name = "ADDR|off", value_parser = parse_osc)]
    pub osc: Option<OscAddr>,
    /// Where OSC feedback goes (program, preview, T-bar, Scope state as they change), loopback.
    #[arg(long, value_name = "ADDR", value_parser = parse_osc_feedback)]
    pub osc_feedback: Option<std::net::SocketAddr>,
    /// Where the obs-websocket v5 server listens (TCP), or `off`. Beyond loopback only with
    /// `--obs-password`.
    /// [default: the settings file's `obs_websocket`, else 127.0.0.1:4455]
    #[arg(long, value_name = "ADDR|off", value_parser = parse_obs_websocket)]
    pub obs_websocket: Option<ObsWebSocketAddr>,
    /// The obs-websocket password (clients authenticate with it; none on loopback if absent).
    #[arg(long, value_name = "PASSWORD")]
    pub obs_password: Option<String>,
    /// Do not open MIDI input ports (controllers are otherwise connected as they appear).
    #[arg(long)]
    pub no_midi: bool,
    /// With `--output-only`: borderless fullscreen with the cursor hidden and no UI.
    #[arg(long)]
    pub fullscreen: bool,
    /// With `--output-only`: monitor index for `--fullscreen` and `F` (see `metadj-scope monitors`).
    #[arg(long, value_name = "N")]
    pub monitor: Option<usize>,
    /// Scene to start with (name or 1-based number); the first scene if absent.
    #[arg(long, value_name = "NAME")]
    pub scene: Option<String>,
    /// Quit after this many seconds (smoke tests, unattended runs).
    #[arg(long, value_name = "SECONDS")]
    pub exit_after: Option<f32>,
    /// With `--exit-after`: save a screenshot of the primary window (the console, or the program
    /// with `--output-only`) as `.png`/`.jpg` just before quitting.
    #[arg(long, value_name = "PATH", requires = "exit_after", value_parser = parse_out)]
    pub screenshot: Option<PathBuf>,
    /// Record the program to a Matroska file (H.264) while playing; finished on quit. Needs
    /// `ffmpeg` on PATH (without it the show plays unrecorded, with an error saying so).
    #[arg(long, value_name = "PATH.mkv", value_parser = parse_recording, group = "recording")]
    pub record: Option<PathBuf>,
    /// Frame rate of the recording: constant, on the show clock (a late frame repeats the last).
    #[arg(long, value_name = "FPS", default_value_t = 30, requires = "recording",
          value_parser = clap::value_parser!(u32).range(1..=240))]
    pub record_fps: u32,
    /// Who encodes the recording: ffmpeg's libx264 from raw frames, or the app's openh264.
    #[arg(long, value_enum, value_name = "ENCODER", default_value_t = crate::record::Encoding::default(),
          requires = "record")]
    pub record_encoder: crate::record::Encoding,
    /// Streams into OBS (boxed: these args are large enough).
    #[command(flatten)]
    pub streams: Box<StreamArgs>,
}

/// `play`'s stream flags, and the recording of a node (an output of one node, as the alpha
/// stream is).
#[derive(Debug, clap::Args)]
pub struct StreamArgs {
    /// Record one node's picture with its alpha (the keyed avatar alone, from whatever scene is
    /// on program; transparent while that scene has no such node) as VP8 with alpha in WebM.
    /// One recording at a time: not with --record.
    #[arg(long, value_name = "NODE=PATH.webm", value_parser = parse_alpha_recording,
          group = "recording")]
    pub record_alpha: Option<(show::NodeId, PathBuf)>,
    /// Stream the program (repeatable): H.264 in MPEG-TS, a keyframe every second, to
    /// `srt://127.0.0.1:PORT` (an SRT listener: OBS's Media Source reads
    /// `srt://127.0.0.1:PORT?mode=caller`) or `udp://127.0.0.1:PORT` (pushed). Loopback only
    /// without --stream-allow-remote; beyond it, give SRT a `passphrase=` (10-79 characters).
    #[arg(long, value_name = "URL")]
    pub stream: Vec<String>,
    /// Stream a picture with its alpha (repeatable): VP8 with alpha in WebM to
    /// `NODE=tcp://127.0.0.1:PORT?listen` (OBS reads `tcp://127.0.0.1:PORT`). NODE is a node
    /// id, sent from whichever scene is on program with its alpha (transparent while that
    /// scene has no such node), or `program` (opaque).
    #[arg(long, value_name = "NODE=URL")]
    pub stream_alpha: Vec<String>,
    /// Let stream URLs reach beyond this machine: anyone who reaches the port can watch (SRT's
    /// `passphrase=` encrypts and authenticates).
    #[arg(long)]
    pub stream_allow_remote: bool,
    /// Frame rate of the streams (constant while a client watches).
    #[arg(long, value_name = "FPS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=240))]
    pub stream_fps: u32,
}

/// `NODE=PATH.webm`: a node's recording with alpha is WebM.
fn parse_alpha_recording(s: &str) -> Result<(show::NodeId, PathBuf), String> {
    let (node, path) = s
        .split_once('=')
        .filter(|(n, p)| !n.trim().is_empty() && !p.is_empty())
        .ok_or_else(|| format!("{s}: give NODE=PATH.webm, e.g. place=avatar.webm"))?;
    let path = PathBuf::from(path);
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("webm"))
    {
        return Err(format!(
            "{s}: a recording with alpha is WebM (VP8); use a .webm name"
        ));
    }
    Ok((show::NodeId::from(node.trim()), path))
}

/// Recordings are Matroska: refuse another extension before anything starts.
pub fn parse_recording(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mkv"))
    {
        Ok(path)
    } else {
        Err(format!(
            "{s}: recordings are Matroska files; use a .mkv name"
        ))
    }
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The show file (RON).
    pub show: PathBuf,
    /// The scene to render (name or 1-based number).
    #[arg(long, value_name = "NAME")]
    pub scene: String,
    /// Scene time of the first frame, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub at: f32,
    /// Number of frames to render.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub frames: u32,
    /// Frame rate of a multi-frame render (time step between frames is 1/fps).
    #[arg(long, default_value_t = 30.0)]
    pub fps: f32,
    /// Output size (default: the show's canvas).
    #[arg(long, value_name = "WxH")]
    pub size: Option<Size>,
    /// Output picture: `.png`, or `.jpg`/`.jpeg` (no alpha). With `--frames` > 1, frame i goes to `STEM_iiii.png` next to it, or to
    /// `frame_iiii.png` inside it when PATH is an existing directory.
    #[arg(long, value_name = "PATH", value_parser = parse_out)]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The show file (RON).
    pub show: PathBuf,
}

/// Refuses an output extension no encoder handles before any rendering starts; an existing
/// directory is fine (frames go inside it as PNG).
fn parse_out(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if path.is_dir() {
        return Ok(path);
    }
    crate::write::PictureFormat::from_path(&path)
        .map(|_| path)
        .map_err(|e| e.to_string())
}

/// A `WIDTHxHEIGHT` pixel size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// Parses `WIDTHxHEIGHT` with each side in `sides` (for a command with tighter limits).
    pub fn parse_within(s: &str, sides: RangeInclusive<u32>) -> Result<Size, String> {
        let (width, height) = media::parse_size(s, sides)?;
        Ok(Size { width, height })
    }
}

impl FromStr for Size {
    type Err = String;

    /// Any texture size: WebGPU's guaranteed 2D texture limit on every adapter is 8192.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Size::parse_within(s, 1..=8192)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(
            "1280x720".parse::<Size>(),
            Ok(Size {
                width: 1280,
                height: 720
            })
        );
        assert!("1280".parse::<Size>().is_err());
        assert!("0x10".parse::<Size>().is_err());
        assert!("axb".parse::<Size>().is_err());
    }

    #[test]
    fn parses_render_command() {
        let cli = Cli::try_parse_from([
            "metadj-scope",
            "render",
            "s.ron",
            "--scene",
            "intro",
            "--frames",
            "3",
            "--size",
            "64x32",
            "--out",
            "o.png",
        ])
        .unwrap();
        let Command::Render(r) = cli.command else {
            panic!("not render")
        };
        assert_eq!(r.frames, 3);
        assert_eq!(r.size.map(|s| (s.width, s.height)), Some((64, 32)));
        assert!(
            Cli::try_parse_from(["metadj-scope", "render", "s.ron", "--out", "o.png"]).is_err(),
            "--scene is required"
        );
    }

    #[test]
    fn a_node_recording_is_node_equals_webm_and_one_recording_at_a_time() {
        let parse = |args: &[&str]| {
            let mut all = vec!["metadj-scope", "play", "s.ron"];
            all.extend(args);
            Cli::try_parse_from(all)
        };
        let Command::Play(p) =
            parse(&["--record-alpha", "place=avatar.webm", "--record-fps", "25"])
                .unwrap()
                .command
        else {
            panic!("play")
        };
        let (node, path) = p.streams.record_alpha.unwrap();
        assert_eq!(
            (node.as_str(), path.to_str()),
            ("place", Some("avatar.webm"))
        );
        assert_eq!(p.record_fps, 25);
        for bad in ["place=avatar.mkv", "avatar.webm", "=a.webm", "place="] {
            assert!(parse(&["--record-alpha", bad]).is_err(), "{bad}");
        }
        assert!(
            parse(&["--record", "o.mkv", "--record-alpha", "place=a.webm"]).is_err(),
            "one recording at a time"
        );
    }

    #[test]
    fn parses_record_options() {
        let cli = Cli::try_parse_from([
            "metadj-scope",
            "play",
            "s.ron",
            "--record",
            "out.mkv",
            "--record-fps",
            "25",
        ])
        .unwrap();
        let Command::Play(p) = cli.command else {
            panic!("not play")
        };
        assert_eq!(p.record.as_deref(), Some(std::path::Path::new("out.mkv")));
        assert_eq!(p.record_fps, 25);
        assert_eq!(p.record_encoder, crate::record::Encoding::default());
        let mp4 = Cli::try_parse_from(["metadj-scope", "play", "s.ron", "--record", "o.mp4"]);
        assert!(mp4.unwrap_err().to_string().contains(".mkv"));
        assert!(
            Cli::try_parse_from(["metadj-scope", "play", "s.ron", "--record-fps", "25"]).is_err(),
            "--record-fps needs --record"
        );
        for fps in ["0", "241"] {
            assert!(
                Cli::try_parse_from([
                    "metadj-scope",
                    "play",
                    "s.ron",
                    "--record",
                    "o.mkv",
                    "--record-fps",
                    fps
                ])
                .is_err()
            );
        }
    }
}

/// Where OSC listens; `None` when it is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OscAddr(pub Option<std::net::SocketAddr>);

/// `off`, or a loopback `ip:port` (OSC cannot authenticate a sender, so it never listens on
/// other interfaces).
fn parse_osc(s: &str) -> Result<OscAddr, String> {
    if s == "off" {
        return Ok(OscAddr(None));
    }
    let addr: std::net::SocketAddr = s
        .parse()
        .map_err(|e| format!("{s:?}: expected ip:port or off ({e})"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr}: OSC has no authentication, so it listens on loopback only (127.0.0.1:PORT)"
        ));
    }
    Ok(OscAddr(Some(addr)))
}

fn parse_osc_feedback(s: &str) -> Result<std::net::SocketAddr, String> {
    match parse_osc(s)? {
        OscAddr(Some(addr)) => Ok(addr),
        OscAddr(None) => Err("give an ip:port on loopback, or leave the option out".into()),
    }
}

#[cfg(test)]
mod osc_tests {
    use super::{Cli, Command, OscAddr, parse_osc};
    use clap::Parser;

    #[test]
    fn osc_listens_on_loopback_or_not_at_all() {
        assert_eq!(parse_osc("off"), Ok(OscAddr(None)));
        assert!(parse_osc("127.0.0.1:9001").is_ok_and(|a| a.0.is_some()));
        assert!(parse_osc("0.0.0.0:9000").is_err());
        assert!(parse_osc("nonsense").is_err());
        // Through clap, as `play` parses it: the default and `off`.
        let play = |args: &[&str]| match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(Command::Play(p)) => p.surfaces(&Default::default()).map(|s| s.osc),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            play(&["metadj-scope", "play", "s.ron"]),
            Ok(Some("127.0.0.1:9000".parse().unwrap()))
        );
        assert_eq!(
            play(&["metadj-scope", "play", "s.ron", "--osc", "off"]),
            Ok(None)
        );
    }
}

/// Where obs-websocket listens; `None` when it is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObsWebSocketAddr(pub Option<std::net::SocketAddr>);

fn parse_obs_websocket(s: &str) -> Result<ObsWebSocketAddr, String> {
    if s == "off" {
        return Ok(ObsWebSocketAddr(None));
    }
    s.parse()
        .map(|a| ObsWebSocketAddr(Some(a)))
        .map_err(|e| format!("{s:?}: expected ip:port or off ({e})"))
}

/// Where the control surfaces listen, from the command line over the settings file over the
/// defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Surfaces {
    pub obs_websocket: Option<std::net::SocketAddr>,
    pub obs_password: Option<String>,
    pub osc: Option<std::net::SocketAddr>,
    pub osc_feedback: Option<std::net::SocketAddr>,
}

impl PlayArgs {
    /// The surfaces' addresses. obs-websocket is refused beyond loopback without a password
    /// (anyone on the network could otherwise run the show); settings-file values are checked
    /// as the command line's are, and an error names the setting.
    pub fn surfaces(&self, settings: &crate::settings::Settings) -> Result<Surfaces, String> {
        let from_file = |name: &str, v: &Option<String>, default: &str| {
            let s = v.as_deref().unwrap_or(default);
            (format!("settings `{name}`"), s.to_owned())
        };
        let obs = match self.obs_websocket {
            Some(a) => a,
            None => {
                let (what, s) =
                    from_file("obs_websocket", &settings.obs_websocket, "127.0.0.1:4455");
                parse_obs_websocket(&s).map_err(|e| format!("{what}: {e}"))?
            }
        };
        let password = self
            .obs_password
            .clone()
            .or_else(|| settings.obs_password.clone())
            .filter(|p| !p.is_empty());
        if let Some(a) = obs.0
            && !a.ip().is_loopback()
            && password.is_none()
        {
            return Err(format!(
                "obs-websocket on {a}: listening beyond loopback needs a password (--obs-password or the settings file's obs_password)"
            ));
        }
        let osc = match self.osc {
            Some(a) => a,
            None => {
                let (what, s) = from_file("osc", &settings.osc, "127.0.0.1:9000");
                parse_osc(&s).map_err(|e| format!("{what}: {e}"))?
            }
        };
        let osc_feedback = match (self.osc_feedback, &settings.osc_feedback) {
            (Some(a), _) => Some(a),
            (None, Some(s)) => {
                Some(parse_osc_feedback(s).map_err(|e| format!("settings `osc_feedback`: {e}"))?)
            }
            (None, None) => None,
        };
        Ok(Surfaces {
            obs_websocket: obs.0,
            obs_password: password,
            osc: osc.0,
            osc_feedback,
        })
    }
}

#[cfg(test)]
mod obs_websocket_tests {
    use super::{Cli, Command};
    use crate::settings::Settings;
    use clap::Parser;

    #[test]
    fn obs_websocket_defaults_to_loopback_and_needs_a_password_beyond_it() {
        let none = Settings::default();
        let obs = |args: &[&str], settings: &Settings| {
            let mut all = vec!["metadj-scope", "play", "s.ron"];
            all.extend_from_slice(args);
            match Cli::try_parse_from(all).map(|c| c.command) {
                Ok(Command::Play(p)) => p.surfaces(settings).map(|s| s.obs_websocket),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(obs(&[], &none), Ok(Some("127.0.0.1:4455".parse().unwrap())));
        assert_eq!(obs(&["--obs-websocket", "off"], &none), Ok(None));
        assert!(
            obs(&["--obs-websocket", "0.0.0.0:4455"], &none)
                .unwrap_err()
                .contains("--obs-password")
        );
        assert!(
            obs(
                &["--obs-websocket", "0.0.0.0:4455", "--obs-password", "pw"],
                &none
            )
            .is_ok_and(|a| a.is_some())
        );
        assert!(
            Cli::try_parse_from(["metadj-scope", "play", "s.ron", "--obs-websocket", "x"]).is_err()
        );
        // The settings file: used where the command line is silent, checked the same way.
        let file = Settings {
            obs_websocket: Some("0.0.0.0:4460".into()),
            obs_password: Some("pw".into()),
            ..Settings::default()
        };
        assert_eq!(obs(&[], &file), Ok(Some("0.0.0.0:4460".parse().unwrap())));
        assert_eq!(obs(&["--obs-websocket", "off"], &file), Ok(None));
        let no_password = Settings {
            obs_password: None,
            ..file.clone()
        };
        assert!(obs(&[], &no_password).is_err());
        let bad = Settings {
            osc: Some("0.0.0.0:9000".into()),
            ..Settings::default()
        };
        let p = match Cli::try_parse_from(["metadj-scope", "play", "s.ron"]).map(|c| c.command) {
            Ok(Command::Play(p)) => p,
            other => panic!("{other:?}"),
        };
        assert!(p.surfaces(&bad).unwrap_err().starts_with("settings `osc`"));
    }
}
