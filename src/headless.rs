//! The `render` command: frames of one scene to PNG files, with no window.
//!
//! Runs the same player plugins as `play` inside the GPU side's headless app, with the frame
//! clock set per frame instead of from real time, and reads each frame back from the GPU.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bevy::prelude::*;
use show::node::NodeKind;

use crate::PlayerPlugin;
use crate::cli::RenderArgs;
use crate::render::{FrameClock, LatestProgramFrame, ProgramReadback};
use crate::showfile::{self, LoadedShow};
use crate::sources::image::ImageSources;

/// How long one step (decoding images, one frame) may take before giving up.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a headless render waits for cameras and Scope nodes to deliver.
const LIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Renders the frames `args` asks for and returns the files written.
pub fn render(args: &RenderArgs) -> anyhow::Result<Vec<PathBuf>> {
    let loaded = load_at_size(&args.show, args.size.map(|s| (s.width, s.height)))?;
    let scene = loaded.scene_index(&args.scene).with_context(|| {
        format!(
            "{}: no scene {:?} (scenes: {})",
            args.show.display(),
            args.scene,
            loaded.scene_names()
        )
    })?;
    let mut written = Vec::new();
    render_frames(
        loaded.only_scene(scene),
        0,
        args.at,
        args.fps,
        args.frames,
        |i, image| {
            let path = frame_path(&args.out, args.frames, i);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            crate::write::save_rgba(&path, image.as_raw(), image.width(), image.height())?;
            written.push(path);
            Ok(())
        },
    )?;
    Ok(written)
}

/// Loads a show, compiled for a `size` canvas instead of its own when given: the same picture
/// at another resolution, so parameters in canvas pixels are scaled with it.
pub fn load_at_size(path: &Path, size: Option<(u32, u32)>) -> anyhow::Result<LoadedShow> {
    let loaded = showfile::load_show(path)?;
    Ok(match size {
        Some(size) if size != loaded.show.canvas => {
            let mut show = loaded.show;
            rescale(&mut show, size);
            showfile::from_show(path, show)?
        }
        _ => loaded,
    })
}

/// Sets the canvas to `size`, scaling the parameters measured in canvas pixels (transform
/// offsets, feather radii); everything else is in normalised units already.
fn rescale(show: &mut show::Show, size: (u32, u32)) {
    let sx = size.0 as f32 / show.canvas.0.max(1) as f32;
    let sy = size.1 as f32 / show.canvas.1.max(1) as f32;
    show.canvas = size;
    for node in show.scenes.iter_mut().flat_map(|s| s.nodes.values_mut()) {
        match &mut node.kind {
            NodeKind::Transform(t) => t.position = (t.position.0 * sx, t.position.1 * sy),
            NodeKind::Feather(f) => f.radius *= sx.min(sy),
            _ => {}
        }
    }
}

/// Renders `frames` frames of `scene` starting at scene time `at`, `1/fps` apart, handing
/// each picture (canvas-sized, opaque) to `sink` with its index.
pub fn render_frames(
    loaded: LoadedShow,
    scene: usize,
    at: f32,
    fps: f32,
    frames: u32,
    mut sink: impl FnMut(u32, ::image::RgbaImage) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if fps.is_nan() || fps <= 0.0 {
        bail!("--fps must be positive, got {fps}");
    }
    let mut app = player_app(Arc::new(loaded), scene);
    wait_for_sources(&mut app)?;
    let first = (at * fps).round() as u64;
    for i in 0..frames {
        let clock = FrameClock {
            time: at + i as f32 / fps,
            frame: first + u64::from(i),
        };
        sink(i, capture_frame(&mut app, clock)?)?;
    }
    Ok(())
}

/// A windowless app playing `scene` of `show` with a caller-driven clock.
pub fn player_app(show: Arc<LoadedShow>, scene: usize) -> App {
    let mut app = crate::render::harness::headless_app(show.show.canvas);
    app.add_plugins(PlayerPlugin {
        show,
        watch: false,
        start_scene: scene,
        live_clock: false,
    });
    crate::render::harness::finish_setup(&mut app);
    app
}

/// Updates until every image is decoded, plus one frame to upload them.
pub fn wait_for_sources(app: &mut App) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        app.update();
        if app.world().resource::<ImageSources>().pending() == 0 {
            break;
        }
        if start.elapsed() > STEP_TIMEOUT {
            bail!("images still decoding after {STEP_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // Cameras and Scope nodes: wait for their first picture, but a show must still render when
    // a Scope server is down, so past the limit the node's fallback is what gets rendered.
    let start = Instant::now();
    while crate::sources::live_sources_pending(app.world_mut()) {
        if start.elapsed() > LIVE_TIMEOUT {
            warn!("live sources not ready after {LIVE_TIMEOUT:?}; rendering their fallbacks");
            break;
        }
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
    app.update();
    Ok(())
}

/// Sets the frame clock, renders, and returns the program picture of that frame.
pub fn capture_frame(app: &mut App, clock: FrameClock) -> anyhow::Result<::image::RgbaImage> {
    let world = app.world_mut();
    world.resource_mut::<ProgramReadback>().enabled = true;
    // Frames read back before this call (other clock values) must not be mistaken for it.
    world.resource_mut::<LatestProgramFrame>().0 = None;
    *world.resource_mut::<FrameClock>() = clock;
    let start = Instant::now();
    loop {
        app.update();
        let mut latest = app.world_mut().resource_mut::<LatestProgramFrame>();
        if let Some((n, _)) = &latest.0
            && *n == clock.frame
            && let Some((_, image)) = latest.0.take()
        {
            return Ok(image);
        }
        if start.elapsed() > STEP_TIMEOUT {
            bail!(
                "frame {} did not come back from the GPU within {STEP_TIMEOUT:?}",
                clock.frame
            );
        }
    }
}

/// Where frame `i` of `count` goes: `out` itself for a single frame; otherwise
/// `out/frame_iiii.png` if `out` is a directory, else `STEM_iiii.EXT` beside it.
pub fn frame_path(out: &Path, count: u32, i: u32) -> PathBuf {
    if count == 1 {
        return out.to_path_buf();
    }
    if out.is_dir() {
        return out.join(format!("frame_{i:04}.png"));
    }
    let stem = out
        .file_stem()
        .map_or_else(|| "frame".into(), |s| s.to_string_lossy().into_owned());
    let ext = out
        .extension()
        .map_or_else(|| "png".into(), |e| e.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}_{i:04}.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_paths() {
        let out = Path::new("/nonexistent/out.png");
        assert_eq!(frame_path(out, 1, 0), out);
        assert_eq!(
            frame_path(out, 3, 2),
            Path::new("/nonexistent/out_0002.png")
        );
        let dir = std::env::temp_dir();
        assert_eq!(frame_path(&dir, 2, 1), dir.join("frame_0001.png"));
    }
}
