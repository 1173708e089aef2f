//! `bench-segment`: what the segment node costs. Inference time per model on the shipped photo
//! (tract, this build's optimisation), then a show scene played headless for a while with the
//! node and again with the node replaced by a model-free matte of the same input (same passes):
//! masks per second, mask age, and the frame time the node adds.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bevy::prelude::*;
use media::{PixelFormat, VideoFrame};
use segment::{ModelSource, Segmenter, TractSegmenter, Variant, model_input};
use show::node::{MatteFrom, NodeKind};

use crate::headless;
use crate::render::FrameClock;
use crate::showfile;
use crate::sources::segment::SegmentSource;

#[derive(Debug, clap::Args)]
pub struct BenchSegmentArgs {
    /// The show to play.
    #[arg(long, default_value = "scenes/demo.ron")]
    pub show: PathBuf,
    /// The scene with the segment node.
    #[arg(long, default_value = "cutout")]
    pub scene: String,
    /// Canvas size for the played scene.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = crate::bench::parse_size)]
    pub size: (u32, u32),
    /// Seconds each variant of the scene plays.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f32,
    /// Inference runs per model (after 3 warm-up runs).
    #[arg(long, default_value_t = 40)]
    pub runs: u32,
}

/// One played variant of the scene.
#[derive(Debug, Clone, Copy)]
pub struct PlayStats {
    pub frames: u64,
    pub fps: f64,
    pub mean_frame_ms: f64,
    pub masks_per_s: f64,
    pub mean_inference_ms: f64,
    pub mask_age_ms: f64,
}

#[derive(Debug)]
pub struct BenchSegmentReport {
    /// `(model, median ms, min ms)`.
    pub inference: Vec<(&'static str, f64, f64)>,
    pub with_node: PlayStats,
    pub without_node: PlayStats,
    pub size: (u32, u32),
    pub scene: String,
}

impl std::fmt::Display for BenchSegmentReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let profile = if cfg!(debug_assertions) {
            "dev build (tract at opt-level 3)"
        } else {
            "release build"
        };
        writeln!(f, "segmentation inference, tract, 1 thread, {profile}:")?;
        for (model, median, min) in &self.inference {
            writeln!(f, "  {model:<9} median {median:.1} ms, min {min:.1} ms")?;
        }
        let (w, h) = self.size;
        writeln!(f, "scene \"{}\" at {w}x{h}:", self.scene)?;
        for (name, s) in [
            ("with segment", &self.with_node),
            ("matte instead", &self.without_node),
        ] {
            writeln!(
                f,
                "  {name:<13} {:.1} fps ({} frames, {:.1} ms/frame), {:.1} masks/s, inference {:.1} ms, mask age {:.0} ms",
                s.fps, s.frames, s.mean_frame_ms, s.masks_per_s, s.mean_inference_ms, s.mask_age_ms
            )?;
        }
        writeln!(
            f,
            "  added frame time: {:.1} ms/frame",
            self.with_node.mean_frame_ms - self.without_node.mean_frame_ms
        )
    }
}

pub fn run(args: &BenchSegmentArgs) -> anyhow::Result<BenchSegmentReport> {
    let inference = [
        (Variant::General, "general"),
        (Variant::Landscape, "landscape"),
    ]
    .into_iter()
    .map(|(v, name)| time_model(v, args.runs).map(|(med, min)| (name, med, min)))
    .collect::<anyhow::Result<Vec<_>>>()?;
    let with_node = play(args, false)?;
    let without_node = play(args, true)?;
    Ok(BenchSegmentReport {
        inference,
        with_node,
        without_node,
        size: args.size,
        scene: args.scene.clone(),
    })
}

/// Median and minimum ms of one inference (input conversion included) on the shipped photo.
fn time_model(variant: Variant, runs: u32) -> anyhow::Result<(f64, f64)> {
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/test/astronaut.png");
    let img = image::open(&photo)
        .with_context(|| photo.display().to_string())?
        .to_rgba8();
    let frame = VideoFrame::new(
        img.width(),
        img.height(),
        PixelFormat::Rgba8,
        img.into_raw(),
        media::now(),
        0,
    )?;
    let mut seg = TractSegmenter::load(&ModelSource::Builtin(variant))?;
    let mut times = Vec::new();
    for i in 0..runs + 3 {
        let t0 = Instant::now();
        seg.run(&model_input(&frame, seg.size())?)?;
        if i >= 3 {
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    Ok((median, times.first().copied().unwrap_or(f64::NAN)))
}

/// Plays the scene for `args.seconds` (after its first mask), the frame clock at real time.
fn play(args: &BenchSegmentArgs, replace: bool) -> anyhow::Result<PlayStats> {
    let loaded = headless::load_at_size(&args.show, Some(args.size))?;
    let scene = loaded
        .scene_index(&args.scene)
        .with_context(|| format!("no scene {:?}", args.scene))?;
    let mut loaded = loaded.only_scene(scene);
    if replace {
        let mut show = loaded.show.clone();
        for scene in &mut show.scenes {
            for node in scene.nodes.values_mut() {
                if matches!(node.kind, NodeKind::Segment(_)) {
                    node.kind = NodeKind::Matte(MatteFrom::default());
                }
            }
        }
        loaded = showfile::from_show(&loaded.path, show)?;
    }
    let mut app = headless::player_app(Arc::new(loaded), 0);
    headless::wait_for_sources(&mut app)?;
    let start = Instant::now();
    let tick = |app: &mut App| {
        let mut clock = app.world_mut().resource_mut::<FrameClock>();
        clock.frame += 1;
        clock.time = start.elapsed().as_secs_f32();
        app.update();
    };
    // Warm up: the model loads and the first masks arrive (or 3 s for the model-free variant).
    while start.elapsed() < Duration::from_secs(3) || (!replace && masks(&mut app).0 == 0) {
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(60),
            "no mask within 60 s"
        );
        tick(&mut app);
    }
    let (m0, _) = masks(&mut app);
    let t0 = Instant::now();
    let mut frames = 0u64;
    let mut age_ms = Vec::new();
    while t0.elapsed().as_secs_f32() < args.seconds {
        tick(&mut app);
        frames += 1;
        if let (_, Some(age)) = masks(&mut app) {
            age_ms.push(age);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let (m1, _) = masks(&mut app);
    let world = app.world_mut();
    let mut q = world.query::<&SegmentSource>();
    let inference = q
        .iter(world)
        .next()
        .map_or(0.0, |s| s.stats().mean_inference.as_secs_f64() * 1000.0);
    Ok(PlayStats {
        frames,
        fps: frames as f64 / secs,
        mean_frame_ms: secs * 1000.0 / frames.max(1) as f64,
        masks_per_s: (m1 - m0) as f64 / secs,
        mean_inference_ms: inference,
        mask_age_ms: age_ms.iter().sum::<f64>() / age_ms.len().max(1) as f64,
    })
}

/// Masks received so far and the newest mask's age in ms (first segment node).
fn masks(app: &mut App) -> (u64, Option<f64>) {
    let world = app.world_mut();
    let mut q = world.query::<&SegmentSource>();
    q.iter(world).next().map_or((0, None), |s| {
        (
            s.masks_received(),
            s.last_mask().map(|m| m.age.as_secs_f64() * 1000.0),
        )
    })
}
