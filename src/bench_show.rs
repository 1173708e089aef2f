//! `bench-show`: plays one scene of a show headless on the real clock, with its live sources
//! (camera, Scope), and reports what the health display shows live: compositor frame rate, GPU
//! time, added latency per live source, and each Scope node's round trip.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bevy::prelude::*;
use bevy::render::diagnostic::RenderDiagnosticsPlugin;
use serde::Serialize;

use crate::PlayerPlugin;
use crate::headless::wait_for_sources;
use crate::latency::{AddedLatency, LatencyPlugin};
use crate::render::harness::{finish_setup, headless_app};
use crate::showfile::load_show;
use crate::sources::scope::ScopeStatuses;

#[derive(clap::Args, Debug)]
pub struct BenchShowArgs {
    /// The show file (RON).
    pub show: PathBuf,
    /// The scene to play, by name.
    #[arg(long)]
    pub scene: String,
    /// How long to measure, after the sources are live.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f32,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct ShowBench {
    pub scene: String,
    pub seconds: f64,
    pub frames: u64,
    pub fps: f64,
    pub frame_ms: f64,
    /// `None` without timestamp queries.
    pub gpu_ms: Option<f64>,
    /// Median and p95 milliseconds, by source node.
    pub added_latency_ms: BTreeMap<String, (f64, f64)>,
    /// Median and p95 round trip milliseconds and output fps, by Scope node.
    pub scope: BTreeMap<String, ScopeBench>,
}

#[derive(Debug, Serialize)]
pub struct ScopeBench {
    pub state: String,
    /// Frames sent per second.
    pub fps_in: f32,
    pub fps_out: f32,
    pub rtt_ms: Option<(f64, f64)>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Plays the scene for `args.seconds` and measures it.
pub fn run(args: &BenchShowArgs) -> anyhow::Result<ShowBench> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds must be in (0, 3600], got {}", args.seconds);
    }
    let loaded = Arc::new(load_show(&args.show)?);
    let names: Vec<&str> = loaded.show.scenes.iter().map(|s| s.name.as_str()).collect();
    let scene = names
        .iter()
        .position(|n| *n == args.scene)
        .with_context(|| {
            format!(
                "{}: no scene {:?} (scenes: {})",
                args.show.display(),
                args.scene,
                names.join(", ")
            )
        })?;
    let mut app = headless_app(loaded.show.canvas);
    app.add_plugins((
        PlayerPlugin {
            show: loaded,
            watch: false,
            start_scene: scene,
            live_clock: true,
        },
        LatencyPlugin,
        RenderDiagnosticsPlugin,
    ));
    finish_setup(&mut app);
    wait_for_sources(&mut app)?;
    // Warm up: until live sources deliver (bounded), then a second more.
    let warm = Instant::now();
    while crate::sources::live_sources_pending(app.world_mut())
        && warm.elapsed() < Duration::from_secs(30)
    {
        app.update();
    }
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(1) {
        app.update();
    }
    crate::bench::clear_gpu_time(&mut app);
    let start = Instant::now();
    let limit = Duration::from_secs_f32(args.seconds);
    let mut frames = 0u64;
    while start.elapsed() < limit {
        app.update();
        frames += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    let world = app.world();
    let gpu_ms = crate::bench::gpu_time_ms(&app);
    let added_latency_ms = world
        .resource::<AddedLatency>()
        .all()
        .into_iter()
        .map(|(n, s)| (n.to_string(), (ms(s.median), ms(s.p95))))
        .collect();
    let scope = world
        .resource::<ScopeStatuses>()
        .0
        .iter()
        .map(|(n, s)| {
            let rtt = s.rtt_median.zip(s.rtt_p95).map(|(m, p)| (ms(m), ms(p)));
            let bench = ScopeBench {
                state: crate::health::state_name(&s.state),
                fps_in: s.fps_in,
                fps_out: s.fps_out,
                rtt_ms: rtt,
            };
            (n.to_string(), bench)
        })
        .collect();
    Ok(ShowBench {
        scene: args.scene.clone(),
        seconds,
        frames,
        fps: frames as f64 / seconds,
        frame_ms: seconds * 1e3 / frames.max(1) as f64,
        gpu_ms,
        added_latency_ms,
        scope,
    })
}

impl std::fmt::Display for ShowBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gpu = self
            .gpu_ms
            .map_or("n/a (no timestamp queries)".to_owned(), |g| {
                format!("{g:.2} ms")
            });
        writeln!(
            f,
            "scene {:?}: {} frames in {:.1} s = {:.1} fps ({:.1} ms/frame), GPU {gpu}",
            self.scene, self.frames, self.seconds, self.fps, self.frame_ms
        )?;
        for (node, (median, p95)) in &self.added_latency_ms {
            writeln!(
                f,
                "  added latency {node}: median {median:.1} ms, p95 {p95:.1} ms ({:.2} frame intervals)",
                median / self.frame_ms.max(1e-9)
            )?;
        }
        for (node, s) in &self.scope {
            let rtt = s.rtt_ms.map_or("n/a".to_owned(), |(m, p)| {
                format!("{m:.0} ms (p95 {p:.0} ms)")
            });
            writeln!(
                f,
                "  Scope {node}: {}, in {:.1} / out {:.1} fps, round trip {rtt}",
                s.state, s.fps_in, s.fps_out
            )?;
        }
        Ok(())
    }
}
