//! `metadj-scope bench-scope`: streams a synthetic moving picture through a Scope server and
//! measures what the node would see: fps in/out, round-trip latency (median, p95; see
//! `scope::stats` for the method), and the client's own encode/decode cost per frame.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use media::{PixelFormat, VideoFrame};
use scope::{
    Codec, RestClient, ScopeConfig, ScopeError, ScopeEvent, ScopeHandle, ScopeState, epoch,
};
use serde::Serialize;

use crate::cli::Size;
use crate::sources::embedded;

/// The codecs' useful range: macroblocks below 16, the H.264 level's frame size above.
fn codec_size(s: &str) -> Result<Size, String> {
    Size::parse_within(s, 16..=4096)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CodecArg {
    Vp8,
    H264,
}

/// Arguments of `bench-scope`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchScopeArgs {
    /// Scope server base URL, or `embedded` to start the in-process server on loopback.
    #[arg(long, default_value = "embedded")]
    pub url: String,
    /// Frame size sent to the server.
    #[arg(long, value_name = "WxH", default_value = "640x360", value_parser = codec_size)]
    pub size: Size,
    /// Frames per second sent.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Measured duration (after the first frame came back).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_enum, default_value = "vp8")]
    pub codec: CodecArg,
    /// Pipeline to load (round trip needs one that keeps timestamps, e.g. passthrough).
    #[arg(long, default_value = "passthrough")]
    pub pipeline: String,
}

/// What `bench-scope` measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchScopeReport {
    pub url: String,
    pub pipeline: String,
    pub codec: String,
    pub size: String,
    pub target_fps: u32,
    pub seconds: f64,
    pub frames_sent: u64,
    pub frames_received: u64,
    pub fps_in: f64,
    pub fps_out: f64,
    pub rtt_median_ms: Option<f64>,
    pub rtt_p95_ms: Option<f64>,
    pub rtt_samples: usize,
    pub encode_ms: f64,
    pub decode_ms: f64,
    /// Offer POST … first decoded frame (includes load when the pipeline was not loaded).
    pub time_to_first_frame_ms: f64,
    pub output_size: Option<String>,
    pub reconnects: u32,
    /// Decoded frames whose RTP-matched input frame was checked against the id coded in the
    /// pixels, and how many agreed (validates the round-trip method; see `stats`).
    pub rtt_match_checked: u64,
    pub rtt_match_agree: u64,
    /// Most common (pixel id − matched id) in frames: 0 when the server keeps timestamps
    /// exactly; +1 means it stamps each frame with the previous frame's time.
    pub rtt_match_offset: Option<i64>,
}

impl fmt::Display for BenchScopeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.1} ms"));
        writeln!(
            f,
            "bench-scope {} pipeline={} codec={} size={} @ {} fps for {:.1} s",
            self.url, self.pipeline, self.codec, self.size, self.target_fps, self.seconds
        )?;
        writeln!(
            f,
            "  frames sent {} / received {} (output {})",
            self.frames_sent,
            self.frames_received,
            self.output_size.as_deref().unwrap_or("none")
        )?;
        writeln!(f, "  fps in {:.1} / out {:.1}", self.fps_in, self.fps_out)?;
        writeln!(
            f,
            "  round trip median {} p95 {} ({} matched frames)",
            ms(self.rtt_median_ms),
            ms(self.rtt_p95_ms),
            self.rtt_samples
        )?;
        writeln!(
            f,
            "  client encode {:.2} ms/frame, decode {:.2} ms/frame",
            self.encode_ms, self.decode_ms
        )?;
        writeln!(
            f,
            "  round-trip match checked against pixel-coded frame ids: {}/{} agree (most common offset {:?} frames)",
            self.rtt_match_agree, self.rtt_match_checked, self.rtt_match_offset
        )?;
        write!(
            f,
            "  time to first frame {:.0} ms, reconnects {}",
            self.time_to_first_frame_ms, self.reconnects
        )
    }
}

/// Distinct pictures in the loop; each carries its id in the blue channel (`id × 8`).
const LOOP: u64 = 32;

/// A moving test picture: gradient, a bar sweeping across, blue = frame id × 8 (so the frame
/// that comes back can be identified from its pixels and checked against the RTP match).
fn synthetic(size: Size, n: u64) -> anyhow::Result<VideoFrame> {
    let (w, h) = (size.width as usize, size.height as usize);
    let mut data = vec![0u8; w * h * 4];
    let bar = (n as usize * 7) % w;
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 4;
            let on_bar = x.abs_diff(bar) < 12;
            data[i] = if on_bar { 255 } else { (x * 255 / w) as u8 };
            data[i + 1] = if on_bar { 255 } else { (y * 255 / h) as u8 };
            data[i + 2] = ((n % LOOP) * 8) as u8;
            data[i + 3] = 255;
        }
    }
    Ok(VideoFrame::new(
        size.width,
        size.height,
        PixelFormat::Rgba8,
        data,
        epoch().elapsed(),
        n,
    )?)
}

/// Bound on connecting and the first frame coming back.
const WARMUP: Duration = Duration::from_secs(60);

/// How long the up-front `/health` check may take: a server that cannot answer that cannot be
/// benchmarked, and the node would otherwise retry quietly until [`WARMUP`] runs out.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(3);

/// Fails at once, in one line, when nothing Scope-like answers at `url`.
fn preflight(url: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a tokio runtime for the health check")?;
    let rest = RestClient::new(url, PREFLIGHT_TIMEOUT)?;
    match rt.block_on(rest.health()) {
        Ok(_) => Ok(()),
        Err(ScopeError::Connect { reason, .. }) => bail!("cannot connect to {url}: {reason}"),
        Err(e) => bail!("{url} is not usable as a Scope server: {e}"),
    }
}

/// Runs the benchmark; blocks for about `seconds` plus connection time.
pub fn run(args: BenchScopeArgs) -> anyhow::Result<BenchScopeReport> {
    if args.fps == 0 || args.fps > 240 {
        bail!("--fps must be in 1..=240, got {}", args.fps);
    }
    // `resolved` keeps an embedded server running until the bench ends.
    let resolved = embedded::resolve_url(&args.url).map_err(anyhow::Error::msg)?;
    let url = resolved.url.clone();
    preflight(&url)?;
    let config = ScopeConfig {
        url: url.clone(),
        pipeline_id: args.pipeline.clone(),
        codec: match args.codec {
            CodecArg::Vp8 => Codec::Vp8,
            CodecArg::H264 => Codec::H264,
        },
        fps: args.fps,
        ..ScopeConfig::default()
    };
    // Pre-render a loop of frames so picture generation does not count as client cost.
    let frames: Vec<VideoFrame> = (0..LOOP)
        .map(|n| synthetic(args.size, n))
        .collect::<anyhow::Result<_>>()?;
    // captured time → frame number, to check the RTP match against the pixel-coded id.
    let sent_at: std::cell::RefCell<HashMap<Duration, u64>> = Default::default();
    let handle = ScopeHandle::start(config);
    let period = Duration::from_secs_f64(1.0 / f64::from(args.fps));
    let send = |n: u64| {
        let base = &frames[(n % LOOP) as usize];
        let captured = epoch().elapsed();
        sent_at.borrow_mut().insert(captured, n);
        handle.send_frame(VideoFrame {
            captured,
            seq: n,
            data: Arc::clone(&base.data),
            ..base.clone()
        });
    };

    // Warm-up: send until the first frame comes back (bounded).
    let t0 = Instant::now();
    let mut n = 0u64;
    let mut next = Instant::now();
    loop {
        let stats = handle.stats();
        if stats.frames_received > 0 {
            break;
        }
        if let ScopeState::Failed { reason } = &stats.state {
            bail!("Scope node failed: {reason}");
        }
        if t0.elapsed() > WARMUP {
            // The last error says why; the full event log is for the tracing output.
            let last_error = handle
                .poll_events()
                .into_iter()
                .rev()
                .find_map(|e| match e {
                    ScopeEvent::Error(e) => Some(e),
                    _ => None,
                });
            bail!(
                "no frame back from {url} within {WARMUP:?} (state {:?}; last error: {})",
                stats.state,
                scope::error::snippet(last_error.as_deref().unwrap_or("none"))
            );
        }
        send(n);
        n += 1;
        next += period;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let time_to_first_frame = t0.elapsed();

    let start = handle.stats();
    let mut check = MatchCheck::default();
    let measure = Instant::now();
    let end_at = measure + Duration::from_secs(args.seconds.max(1));
    while Instant::now() < end_at {
        send(n);
        n += 1;
        next += period;
        if let Some(f) = handle.latest_frame()
            && let Some(n) = sent_at.borrow().get(&f.captured)
            && let Some(id) = pixel_id(&f)
        {
            check.checked += 1;
            if id == n % LOOP {
                check.agree += 1;
            }
            // Signed distance (pixel id − matched id) in −16..16.
            let d = ((id + LOOP - n % LOOP) % LOOP) as i64;
            *check
                .offsets
                .entry(if d >= LOOP as i64 / 2 {
                    d - LOOP as i64
                } else {
                    d
                })
                .or_default() += 1;
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let elapsed = measure.elapsed().as_secs_f64();
    let end = handle.stats();
    drop(handle);
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
    Ok(BenchScopeReport {
        url: args.url,
        pipeline: args.pipeline,
        codec: format!("{:?}", args.codec).to_uppercase(),
        size: args.size.to_string(),
        target_fps: args.fps,
        seconds: elapsed,
        frames_sent: end.frames_sent - start.frames_sent,
        frames_received: end.frames_received - start.frames_received,
        fps_in: (end.frames_sent - start.frames_sent) as f64 / elapsed,
        fps_out: (end.frames_received - start.frames_received) as f64 / elapsed,
        rtt_median_ms: ms(end.rtt_median),
        rtt_p95_ms: ms(end.rtt_p95),
        rtt_samples: end.rtt_samples,
        encode_ms: f64::from(end.encode_ms),
        decode_ms: f64::from(end.decode_ms),
        time_to_first_frame_ms: time_to_first_frame.as_secs_f64() * 1000.0,
        output_size: end.output_size.map(|(w, h)| format!("{w}x{h}")),
        reconnects: end.reconnects,
        rtt_match_checked: check.checked,
        rtt_match_agree: check.agree,
        rtt_match_offset: check
            .offsets
            .iter()
            .max_by_key(|(_, c)| **c)
            .map(|(d, _)| *d),
    })
}

#[derive(Debug, Default)]
struct MatchCheck {
    checked: u64,
    agree: u64,
    offsets: HashMap<i64, u64>,
}

/// The frame id coded in the blue channel: median over the middle row (the bar is an outlier).
fn pixel_id(frame: &VideoFrame) -> Option<u64> {
    let rgba = frame.to_rgba().ok()?;
    let (w, h) = (rgba.width as usize, rgba.height as usize);
    let row = h / 2;
    let mut blue: Vec<u8> = (0..w).map(|x| rgba.data[(row * w + x) * 4 + 2]).collect();
    blue.sort_unstable();
    let median = f64::from(*blue.get(w / 2)?);
    Some(((median / 8.0).round() as u64) % LOOP)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dead server is reported at once, in one short line naming the URL.
    #[test]
    fn dead_server_fails_fast_with_one_line() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let t = Instant::now();
        let e = run(BenchScopeArgs {
            url: url.clone(),
            size: "64x64".parse().unwrap(),
            fps: 30,
            seconds: 1,
            json: false,
            codec: CodecArg::Vp8,
            pipeline: "passthrough".into(),
        })
        .unwrap_err();
        let took = t.elapsed();
        // What `main` prints.
        let text = format!("{e:#}");
        assert!(took < Duration::from_secs(5), "took {took:?}");
        assert!(
            text.contains(&url) && text.contains("connection refused"),
            "{text}"
        );
        assert!(text.len() < 300, "{} chars: {text}", text.len());
        assert_eq!(text, format!("cannot connect to {url}: connection refused"));
    }

    #[test]
    fn sizes_are_what_the_codecs_take() {
        assert_eq!(
            codec_size("640x360"),
            Ok(Size {
                width: 640,
                height: 360
            })
        );
        assert!(codec_size("8x8").unwrap_err().contains("16..=4096"));
        assert!(codec_size("8192x4096").is_err());
    }
}
