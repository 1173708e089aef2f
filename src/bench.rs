//! `metadj-scope bench`: compositing throughput of N full-frame image layers with alpha, on the
//! GPU compositor and, side by side in the same run, on an ffmpeg `overlay` filter chain doing
//! the same composition (all layers over black).
//!
//! The layers are generated in memory and uploaded once; each frame renders one plan whose only
//! pass is a `Blend` of N external layers (the compositor splits blends wider than
//! [`show::plan::MAX_PASS_INPUTS`] into several passes). Wall time is measured over the frames
//! after a warm-up, with readback off; the measured run ends with one read-back frame so that
//! all queued GPU work is inside the timing (a software GPU may otherwise still be working).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bevy::asset::RenderAssetUsages;
use bevy::diagnostic::{DiagnosticPath, DiagnosticsStore};
use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::render::diagnostic::RenderDiagnosticsPlugin;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy::render::renderer::{RenderAdapterInfo, RenderDevice};
use bevy::render::settings::WgpuFeatures;
use serde::Serialize;
use show::NodeId;
use show::node::BlendMode;
use show::plan::{Affine, Operand, Pass, PassOp, RenderPlan, Sample, SlotId};

use crate::preview::{NodePreviews, PreviewPlugin};
use crate::render::harness::{finish_setup, headless_app};
use crate::render::{
    CompositorSettings, ExternalTextures, FrameClock, GPU_TIME_DIAGNOSTIC, LatestProgramFrame,
    PackedInputs, Program, ProgramReadback,
};
use crate::showfile::{CurrentShow, load_show};

/// Frames rendered before timing starts (pipeline compilation, first uploads).
const WARM_UP: u64 = 5;
/// How long one frame may take before the bench gives up on the GPU.
const FRAME_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Layer counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,8,16")]
    pub layers: Vec<u32>,
    /// Canvas and layer size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Timed frames per layer count (after a warm-up of a few frames).
    #[arg(long, default_value_t = 60)]
    pub frames: u32,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Texture format of the layers: `unorm` (what image, camera and Scope sources upload: the
    /// sRGB-encoded bytes read as they are) or `srgb` (the same bytes through the hardware's
    /// sRGB decode, which the shaders must then re-encode: slower on lavapipe).
    #[arg(long, value_enum, default_value_t = LayerFormat::Unorm)]
    pub format: LayerFormat,
    /// Skip the ffmpeg comparison.
    #[arg(long)]
    pub no_ffmpeg: bool,
    /// Read every layer with its own texel fetch: turns off the packing of static images
    /// (four layers per fetch), to measure the path camera and Scope frames take.
    #[arg(long)]
    pub no_pack: bool,
    /// Instead of the layer bench: the cost of node thumbnails on this show file's
    /// `--preview-scene` (program on that scene, thumbnails of up to 8 of its nodes).
    #[arg(long)]
    pub previews: Option<PathBuf>,
    /// Scene (name or 1-based number) for `--previews`.
    #[arg(long, default_value = "avatar")]
    pub preview_scene: String,
    /// Thumbnail size for `--previews`.
    #[arg(long, default_value = "160x90", value_parser = parse_size)]
    pub thumb_size: (u32, u32),
    /// Thumbnails are drawn every this many frames (`--previews`).
    #[arg(long, default_value_t = 3)]
    pub every: u32,
}

/// How the layer textures are stored.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerFormat {
    Srgb,
    Unorm,
}

impl LayerFormat {
    fn texture_format(self) -> TextureFormat {
        match self {
            LayerFormat::Srgb => TextureFormat::Rgba8UnormSrgb,
            LayerFormat::Unorm => TextureFormat::Rgba8Unorm,
        }
    }
}

/// Parses `WIDTHxHEIGHT` as [`crate::cli::Size`] does (any texture size).
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    s.parse::<crate::cli::Size>().map(|s| (s.width, s.height))
}

/// Results of one bench run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub adapter: String,
    pub backend: String,
    /// Whether the adapter offers timestamp queries.
    pub timestamp_queries_supported: bool,
    pub size: (u32, u32),
    pub format: LayerFormat,
    /// Whether static layers were read from packs (`--no-pack` turns it off).
    pub packing: bool,
    pub frames: u32,
    pub cpu_threads: usize,
    /// `/proc/loadavg` before and after the run: other work on a shared machine skews timings.
    pub load_before: Option<String>,
    pub load_after: Option<String>,
    pub ffmpeg_version: Option<String>,
    pub rows: Vec<BenchRow>,
}

/// One layer count.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub layers: u32,
    /// Wall-clock milliseconds per composited frame (readback off).
    pub wall_ms: f64,
    /// GPU milliseconds per frame from timestamp queries; `None` when not measured.
    pub gpu_ms: Option<f64>,
    pub fps: f64,
    /// Layers the timed frames read from packs (0: every layer fetched directly).
    pub packed_layers: usize,
    /// ffmpeg overlay chain frames/s (fixed start-up cost removed), if it ran.
    pub ffmpeg_fps: Option<f64>,
    /// `fps / ffmpeg_fps`.
    pub ratio: Option<f64>,
    /// Mean of the last read-back frame's RGB bytes: proves something was drawn.
    pub check_mean: f64,
    /// The same mean for ffmpeg's first frame: shows both composed the same picture (ffmpeg
    /// blends in yuv420, so expect a small difference, not equality).
    pub ffmpeg_check_mean: Option<f64>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "adapter: {} ({}), timestamp queries: {}; {} CPU threads; canvas {}x{}, {:?} layers ({}), {} timed frames",
            self.adapter,
            self.backend,
            if self.timestamp_queries_supported {
                "supported"
            } else {
                "not supported"
            },
            self.cpu_threads,
            self.size.0,
            self.size.1,
            self.format,
            if self.packing {
                "static layers packed"
            } else {
                "no packing"
            },
            self.frames
        )?;
        if let (Some(a), Some(b)) = (&self.load_before, &self.load_after) {
            writeln!(f, "load average before: {a}; after: {b}")?;
        }
        if let Some(v) = &self.ffmpeg_version {
            writeln!(f, "ffmpeg: {v}")?;
        }
        writeln!(
            f,
            "{:>6} | {:>6} | {:>9} | {:>6} | {:>7} | {:>10} | {:>6} | mean RGB GPU/ffmpeg",
            "layers", "packed", "ms/frame", "GPU ms", "fps", "ffmpeg fps", "ratio"
        )?;
        let opt = |v: Option<f64>, prec: usize| {
            v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.prec$}"))
        };
        for r in &self.rows {
            writeln!(
                f,
                "{:>6} | {:>6} | {:>9.1} | {:>6} | {:>7.2} | {:>10} | {:>6} | {:.1}/{}",
                r.layers,
                r.packed_layers,
                r.wall_ms,
                opt(r.gpu_ms, 2),
                r.fps,
                opt(r.ffmpeg_fps, 2),
                opt(r.ratio, 2),
                r.check_mean,
                opt(r.ffmpeg_check_mean, 1)
            )?;
        }
        Ok(())
    }
}

/// Runs the bench: every layer count on the compositor, then on ffmpeg.
pub fn run(args: &BenchArgs) -> anyhow::Result<BenchReport> {
    if args.layers.is_empty() || args.layers.contains(&0) {
        bail!(
            "--layers needs one or more counts >= 1, got {:?}",
            args.layers
        );
    }
    if args.frames == 0 {
        bail!("--frames must be at least 1");
    }
    let load_before = load_average();
    let size = args.size;
    let max_layers = args.layers.iter().copied().max().unwrap_or(1);
    let layers: Vec<Vec<u8>> = (0..max_layers).map(|i| layer_pixels(size, i)).collect();

    let mut app = headless_app(size);
    app.insert_resource(CompositorSettings {
        pack_static_images: !args.no_pack,
    });
    // GPU time of the compositor passes from timestamp queries, where the adapter has them.
    app.add_plugins(RenderDiagnosticsPlugin);
    finish_setup(&mut app);
    let (adapter, backend, timestamps) = adapter_info(&mut app);
    for (i, data) in layers.iter().enumerate() {
        let image = Image::new(
            Extent3d {
                width: size.0,
                height: size.1,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            data.clone(),
            args.format.texture_format(),
            RenderAssetUsages::default(),
        );
        let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
        app.world_mut()
            .resource_mut::<ExternalTextures>()
            .0
            .insert(layer_id(i), handle);
    }

    // The ffmpeg side reads the same layers as PNG files; it runs right after the GPU side of
    // each layer count, so both see about the same load from whatever else shares the machine.
    let mut ffmpeg = None;
    if !args.no_ffmpeg {
        let version = ffmpeg_version_line()?;
        let dir = TempDir::new()?;
        for (i, data) in layers.iter().enumerate() {
            let path = dir.0.join(format!("l{i}.png"));
            image::save_buffer(&path, data, size.0, size.1, image::ExtendedColorType::Rgba8)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        ffmpeg = Some((version, dir));
    }

    let mut rows = Vec::new();
    let mut frame = 0u64;
    for &n in &args.layers {
        app.world_mut().resource_mut::<Program>().plan = Some(blend_plan(size, n));
        for _ in 0..WARM_UP {
            frame += 1;
            capture(&mut app, frame)?;
        }
        app.world_mut().resource_mut::<ProgramReadback>().enabled = false;
        clear_gpu_time(&mut app);
        let start = Instant::now();
        for _ in 0..args.frames {
            frame += 1;
            app.world_mut().resource_mut::<FrameClock>().frame = frame;
            app.update();
        }
        frame += 1;
        let (updates, img) = capture(&mut app, frame)?;
        let elapsed = start.elapsed().as_secs_f64();
        let counted = f64::from(args.frames) + updates as f64;
        let wall_ms = elapsed * 1000.0 / counted;
        let check_mean = mean_rgb(&img);
        if check_mean < 1.0 {
            bail!(
                "{n} layers: the read-back frame is black (mean {check_mean:.2}); nothing was composited"
            );
        }
        let gpu_ms = gpu_time_ms(&app);
        let packed_layers = app.world().resource::<PackedInputs>().get();
        info!("bench: {n} layers ({packed_layers} packed): {wall_ms:.1} ms/frame");
        let fps = 1000.0 / wall_ms;
        let ffmpeg_fps = match &ffmpeg {
            Some((_, dir)) => Some(ffmpeg_fps(&dir.0, size, n, args.frames)?),
            None => None,
        };
        let ffmpeg_check_mean = match &ffmpeg {
            Some((_, dir)) => Some(ffmpeg_frame_mean(&dir.0, size, n)?),
            None => None,
        };
        rows.push(BenchRow {
            layers: n,
            wall_ms,
            gpu_ms,
            fps,
            packed_layers,
            ffmpeg_fps,
            ratio: ffmpeg_fps.map(|f| fps / f),
            check_mean,
            ffmpeg_check_mean,
        });
    }
    Ok(BenchReport {
        adapter,
        backend,
        timestamp_queries_supported: timestamps,
        size,
        format: args.format,
        packing: !args.no_pack,
        frames: args.frames,
        cpu_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_before,
        load_after: load_average(),
        ffmpeg_version: ffmpeg.map(|(v, _)| v),
        rows,
    })
}

/// Results of `bench --previews`: the program alone, then with thumbnails at the asked rate,
/// then with thumbnails every frame.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewBenchReport {
    pub adapter: String,
    pub canvas: (u32, u32),
    pub scene: String,
    pub thumbnails: usize,
    pub thumb_size: (u32, u32),
    pub every: u32,
    pub frames: u32,
    pub cpu_threads: usize,
    pub load_before: Option<String>,
    pub load_after: Option<String>,
    /// (what ran, wall ms/frame, GPU ms/frame when timestamp queries work).
    pub rows: Vec<(String, f64, Option<f64>)>,
}

impl fmt::Display for PreviewBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "adapter: {}; {} CPU threads; canvas {}x{}, scene {:?}, {} thumbnails at {}x{}; {} timed frames per row",
            self.adapter,
            self.cpu_threads,
            self.canvas.0,
            self.canvas.1,
            self.scene,
            self.thumbnails,
            self.thumb_size.0,
            self.thumb_size.1,
            self.frames
        )?;
        if let (Some(a), Some(b)) = (&self.load_before, &self.load_after) {
            writeln!(f, "load average before: {a}; after: {b}")?;
        }
        writeln!(f, "{:<34} | {:>9} | {:>6}", "run", "ms/frame", "GPU ms")?;
        for (name, wall, gpu) in &self.rows {
            let gpu = gpu.map_or_else(|| "n/a".to_owned(), |g| format!("{g:.2}"));
            writeln!(f, "{name:<34} | {wall:>9.2} | {gpu:>6}")?;
        }
        if let [base, amortised, every_frame, black, black_thumbs] = self.rows.as_slice() {
            writeln!(
                f,
                "over the program: every {} frames {:+.2} ms/frame, every frame {:+.2} ms/frame",
                self.every,
                amortised.1 - base.1,
                every_frame.1 - base.1
            )?;
            let per = black_thumbs.1 - black.1;
            let gpu = black_thumbs.2.zip(black.2).map(|(a, b)| a - b);
            writeln!(
                f,
                "over a black program (less noise): {per:.2} ms per preview frame (GPU {}), {:.2} ms/frame averaged every {} frames",
                gpu.map_or_else(|| "n/a".to_owned(), |g| format!("{g:.2}")),
                per / f64::from(self.every.max(1)),
                self.every
            )?;
        }
        Ok(())
    }
}

/// `bench --previews`: the scene on program with its sources replaced by static pictures of
/// their sizes (uploaded once), timed without previews, with thumbnails of up to 8 of its
/// nodes every `--every` frames, and every frame. Each run ends with a read-back frame so the
/// queued GPU work is inside its timing.
pub fn run_previews(args: &BenchArgs, path: &Path) -> anyhow::Result<PreviewBenchReport> {
    if args.frames == 0 {
        bail!("--frames must be at least 1");
    }
    let load_before = load_average();
    let loaded = Arc::new(load_show(path).map_err(|e| anyhow::anyhow!("{e}"))?);
    let scene = loaded.scene_index(&args.preview_scene).with_context(|| {
        format!(
            "no scene {:?}: {}",
            args.preview_scene,
            loaded.scene_names()
        )
    })?;
    let plan = loaded.plans[scene].clone();
    let nodes: Vec<NodeId> = loaded.show.scenes[scene]
        .nodes
        .keys()
        .take(8)
        .cloned()
        .collect();
    let mut app = headless_app(plan.canvas);
    app.add_plugins((PreviewPlugin, RenderDiagnosticsPlugin))
        .insert_resource(CurrentShow(loaded.clone()));
    finish_setup(&mut app);
    let (adapter, _, _) = adapter_info(&mut app);
    for (i, ext) in plan.externals.iter().enumerate() {
        let image = Image::new(
            Extent3d {
                width: ext.size.0,
                height: ext.size.1,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            layer_pixels(ext.size, i as u32),
            TextureFormat::Rgba8Unorm,
            RenderAssetUsages::default(),
        );
        let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
        app.world_mut()
            .resource_mut::<ExternalTextures>()
            .0
            .insert(ext.node.clone(), handle);
    }
    app.world_mut().resource_mut::<Program>().plan = Some(plan.clone());
    let n = nodes.len();
    let runs = [
        ("program only".to_owned(), true, None),
        (
            format!("+ {n} thumbnails every {} frames", args.every),
            true,
            Some(args.every),
        ),
        (format!("+ {n} thumbnails every frame"), true, Some(1)),
        ("black program only".to_owned(), false, None),
        (
            format!("black + {n} thumbnails every frame"),
            false,
            Some(1),
        ),
    ];
    let mut rows = Vec::new();
    let mut frame = 0u64;
    for (name, program, every) in runs {
        app.world_mut().resource_mut::<Program>().plan = program.then(|| plan.clone());
        *app.world_mut().resource_mut::<NodePreviews>() = NodePreviews {
            scene: every.map(|_| scene),
            nodes: nodes.clone(),
            thumb_size: args.thumb_size,
            viewer: None,
            scenes: Vec::new(),
            every: every.unwrap_or(1),
        };
        for _ in 0..WARM_UP {
            frame += 1;
            capture(&mut app, frame)?;
        }
        app.world_mut().resource_mut::<ProgramReadback>().enabled = false;
        clear_gpu_time(&mut app);
        let start = Instant::now();
        for _ in 0..args.frames {
            frame += 1;
            app.world_mut().resource_mut::<FrameClock>().frame = frame;
            app.update();
        }
        frame += 1;
        let (updates, _) = capture(&mut app, frame)?;
        let wall_ms =
            start.elapsed().as_secs_f64() * 1000.0 / (f64::from(args.frames) + updates as f64);
        let gpu_ms = gpu_time_ms(&app);
        info!("bench previews: {name}: {wall_ms:.2} ms/frame");
        rows.push((name, wall_ms, gpu_ms));
    }
    Ok(PreviewBenchReport {
        adapter,
        canvas: plan.canvas,
        scene: loaded.show.scenes[scene].name.clone(),
        thumbnails: nodes.len(),
        thumb_size: args.thumb_size,
        every: args.every,
        frames: args.frames,
        cpu_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        load_before,
        load_after: load_average(),
        rows,
    })
}

/// The 1/5/15-minute load averages (Linux), if readable.
fn load_average() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

fn layer_id(i: usize) -> NodeId {
    NodeId::new(format!("layer{i}"))
}

/// A full-frame straight-alpha layer: a diagonal colour gradient with an alpha that varies
/// across the frame (soft stripes and a disc), different per layer, so no layer is opaque and
/// none is empty.
fn layer_pixels(size: (u32, u32), i: u32) -> Vec<u8> {
    let (w, h) = size;
    let mut data = Vec::with_capacity(w as usize * h as usize * 4);
    let cx = w as f32 * (0.2 + 0.6 * ((i * 37 % 11) as f32 / 10.0));
    let cy = h as f32 * (0.2 + 0.6 * ((i * 53 % 7) as f32 / 6.0));
    let r2 = (h as f32 * 0.3).powi(2);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            let stripe = ((fx + fy * 0.5 + i as f32 * 90.0) / 120.0).sin() * 0.5 + 0.5;
            let disc = if (fx - cx).powi(2) + (fy - cy).powi(2) < r2 {
                0.5
            } else {
                0.0
            };
            let alpha = (0.1 + 0.4 * stripe + disc).min(1.0);
            data.extend_from_slice(&[
                (x * 255 / w.max(1)) as u8,
                (y * 255 / h.max(1)) as u8,
                ((i * 67 + 40) % 256) as u8,
                (alpha * 255.0) as u8,
            ]);
        }
    }
    data
}

/// One plan: a single `Blend` of the first `n` layers, all `Normal` at full opacity.
fn blend_plan(size: (u32, u32), n: u32) -> Arc<RenderPlan> {
    let full = |from: Operand| Sample {
        from,
        xform: Affine::canvas(size),
        crop: [0.0, 0.0, 1.0, 1.0],
    };
    let inputs: Vec<Sample> = (0..n as usize)
        .map(|i| full(Operand::External(layer_id(i))))
        .collect();
    // Wider than one pass allows: chain passes, each taking the previous result as layer 0.
    let mut passes = Vec::new();
    let mut rest = inputs.as_slice();
    let mut target = 0u32;
    while !rest.is_empty() {
        let mut pass_inputs = Vec::new();
        if !passes.is_empty() {
            pass_inputs.push(full(Operand::Slot(SlotId(target))));
        }
        let take = (show::plan::MAX_PASS_INPUTS - pass_inputs.len()).min(rest.len());
        pass_inputs.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        let next = if passes.is_empty() { 0 } else { 1 - target };
        passes.push(Pass {
            node: NodeId::new("blend"),
            op: PassOp::Blend(vec![(BlendMode::Normal, 1.0); pass_inputs.len()]),
            inputs: pass_inputs,
            target: SlotId(next),
        });
        target = next;
    }
    Arc::new(RenderPlan {
        canvas: size,
        slot_count: if passes.len() > 1 { 2 } else { 1 },
        passes,
        output: full(Operand::Slot(SlotId(target))),
        externals: Vec::new(),
        feeds: Vec::new(),
    })
}

/// Renders until frame `frame` is read back; returns how many updates that took and the image.
fn capture(app: &mut App, frame: u64) -> anyhow::Result<(u64, image::RgbaImage)> {
    app.world_mut().resource_mut::<ProgramReadback>().enabled = true;
    app.world_mut().resource_mut::<FrameClock>().frame = frame;
    let start = Instant::now();
    let mut updates = 0;
    loop {
        app.update();
        updates += 1;
        if let Some((n, img)) = &app.world().resource::<LatestProgramFrame>().0
            && *n == frame
        {
            return Ok((updates, img.clone()));
        }
        if start.elapsed() > FRAME_TIMEOUT {
            bail!("frame {frame} was not read back within {FRAME_TIMEOUT:?}");
        }
    }
}

fn mean_rgb(img: &image::RgbaImage) -> f64 {
    let sum: u64 = img
        .pixels()
        .map(|p| u64::from(p.0[0]) + u64::from(p.0[1]) + u64::from(p.0[2]))
        .sum();
    sum as f64 / (img.width() as f64 * img.height() as f64 * 3.0).max(1.0)
}

fn adapter_info(app: &mut App) -> (String, String, bool) {
    let world = app.sub_app(RenderApp).world();
    let (name, backend) = world.get_resource::<RenderAdapterInfo>().map_or_else(
        || ("unknown".to_owned(), "unknown".to_owned()),
        |a| (a.name.clone(), format!("{:?}", a.backend)),
    );
    let timestamps = world
        .get_resource::<RenderDevice>()
        .is_some_and(|d| d.features().contains(WgpuFeatures::TIMESTAMP_QUERY));
    (name, backend, timestamps)
}

fn ffmpeg_version_line() -> anyhow::Result<String> {
    let out = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .context("running ffmpeg -version (is ffmpeg installed?)")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("ffmpeg (unknown version)")
        .to_owned())
}

/// The ffmpeg equivalent: `n` PNG layers (each decoded once and repeated with the `loop`
/// filter) overlaid in order on black. Runs `frames` and 1 frame and divides the difference,
/// so process start-up and PNG decoding are not counted against ffmpeg.
fn ffmpeg_fps(dir: &Path, size: (u32, u32), n: u32, frames: u32) -> anyhow::Result<f64> {
    let long = ffmpeg_time(dir, size, n, frames + 1)?;
    let short = ffmpeg_time(dir, size, n, 1)?;
    // At tiny sizes start-up noise can exceed the frames' cost; then count everything.
    let per_frame = if long > short {
        (long - short) / f64::from(frames)
    } else {
        long / f64::from(frames + 1)
    };
    Ok(1.0 / per_frame)
}

/// The ffmpeg command line for `n` layers and `frames` output frames.
pub fn ffmpeg_args(dir: &Path, size: (u32, u32), n: u32, frames: u32) -> Vec<String> {
    let mut a: Vec<String> = [
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
    ]
    .map(str::to_owned)
    .into();
    a.push(format!("color=c=black:s={}x{}:r=30", size.0, size.1));
    for i in 0..n {
        a.push("-i".into());
        a.push(dir.join(format!("l{i}.png")).display().to_string());
    }
    let mut graph = String::new();
    let mut prev = "0:v".to_owned();
    for i in 1..=n {
        graph.push_str(&format!(
            "[{i}:v]loop=loop=-1:size=1:start=0,setpts=N/30/TB[l{i}];"
        ));
        let out = format!("o{i}");
        graph.push_str(&format!("[{prev}][l{i}]overlay=shortest=0[{out}]"));
        if i < n {
            graph.push(';');
        }
        prev = out;
    }
    a.push("-filter_complex".into());
    a.push(graph);
    a.push("-map".into());
    a.push(format!("[{prev}]"));
    a.extend([
        "-frames:v".to_owned(),
        frames.to_string(),
        "-f".into(),
        "null".into(),
        "-".into(),
    ]);
    a
}

/// Mean RGB of ffmpeg's first composited frame, written as a PNG.
fn ffmpeg_frame_mean(dir: &Path, size: (u32, u32), n: u32) -> anyhow::Result<f64> {
    let png = dir.join("ffmpeg-out.png");
    let mut args = ffmpeg_args(dir, size, n, 1);
    let len = args.len();
    // Replace `-f null -` with a PNG file.
    args.truncate(len - 3);
    args.extend(["-y".to_owned(), png.display().to_string()]);
    let out = Command::new("ffmpeg")
        .args(&args)
        .output()
        .context("running ffmpeg")?;
    if !out.status.success() {
        bail!(
            "ffmpeg failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let img = image::open(&png)
        .with_context(|| format!("reading {}", png.display()))?
        .to_rgba8();
    Ok(mean_rgb(&img))
}

fn ffmpeg_time(dir: &Path, size: (u32, u32), n: u32, frames: u32) -> anyhow::Result<f64> {
    let args = ffmpeg_args(dir, size, n, frames);
    let start = Instant::now();
    let out = Command::new("ffmpeg")
        .args(&args)
        .output()
        .context("running ffmpeg")?;
    let t = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "ffmpeg failed ({}): {}\ncommand: ffmpeg {}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            args.join(" ")
        );
    }
    Ok(t)
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("metadj-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            warn!("could not remove {}: {e}", self.0.display());
        }
    }
}

/// Forgets the GPU time measured so far (warm-up frames), so the average covers the run.
pub(crate) fn clear_gpu_time(app: &mut App) {
    let path = DiagnosticPath::new(GPU_TIME_DIAGNOSTIC);
    if let Some(d) = app
        .world_mut()
        .resource_mut::<DiagnosticsStore>()
        .get_mut(&path)
    {
        d.clear_history();
    }
}

/// The average GPU time per frame since [`clear_gpu_time`], in ms.
pub(crate) fn gpu_time_ms(app: &App) -> Option<f64> {
    app.world()
        .resource::<DiagnosticsStore>()
        .get(&DiagnosticPath::new(GPU_TIME_DIAGNOSTIC))
        .and_then(|d| d.average())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_blends_chain_passes() {
        // 40 layers: 16, then that result and 15 more, then that result and the last 9.
        let p = blend_plan((8, 8), 40);
        assert_eq!(p.passes.len(), 3);
        assert!(
            p.passes
                .iter()
                .all(|x| x.inputs.len() <= show::plan::MAX_PASS_INPUTS)
        );
        let externals: usize = p
            .passes
            .iter()
            .flat_map(|x| &x.inputs)
            .filter(|s| matches!(s.from, Operand::External(_)))
            .count();
        assert_eq!(externals, 40);
        // The output is what the last pass wrote.
        assert_eq!(p.output.from, Operand::Slot(p.passes[2].target));
        assert_eq!(blend_plan((8, 8), 16).passes.len(), 1);
    }
}
