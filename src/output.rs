//! The program window (or projector), fullscreen handling, quit keys and the monitor list.
//!
//! The window shows [`CompositeOutput`] as one sprite scaled to fit with black bars, so the
//! window can have any size while the canvas keeps its own. With `play --output-only` it is the
//! primary window; with the console it is a second window with no UI on it (the console is the
//! primary window), drawn by its own camera on its own render layer.

use bevy::camera::RenderTarget;
use bevy::camera::visibility::RenderLayers;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::window::{
    CursorOptions, ExitCondition, Monitor, MonitorSelection, PresentMode, PrimaryWindow,
    WindowMode, WindowRef,
};
use crossbeam_channel::Sender;
use std::path::PathBuf;

use crate::AppSystems;
use crate::render::CompositeOutput;
use crate::showfile::CurrentShow;

/// Where the program goes.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputMode {
    /// Borderless fullscreen (projector): cursor hidden, no UI.
    pub fullscreen: bool,
    /// The monitor used when fullscreen; `None` = the one the window is on.
    pub monitor: Option<usize>,
}

impl OutputMode {
    fn window_mode(self) -> WindowMode {
        if self.fullscreen {
            WindowMode::BorderlessFullscreen(self.selection())
        } else {
            WindowMode::Windowed
        }
    }

    fn selection(self) -> MonitorSelection {
        self.monitor
            .map_or(MonitorSelection::Current, MonitorSelection::Index)
    }
}

/// The `WindowPlugin` for `play`: one program window, fullscreen on the chosen monitor if asked.
pub fn window_plugin(mode: OutputMode, title: String) -> WindowPlugin {
    WindowPlugin {
        primary_window: Some(Window {
            title,
            mode: mode.window_mode(),
            position: match mode.monitor {
                Some(n) => WindowPosition::Centered(MonitorSelection::Index(n)),
                None => WindowPosition::Automatic,
            },
            resolution: (1280, 720).into(),
            // Frame pacing comes from the compositor, not the display (lavapipe is slow).
            present_mode: PresentMode::AutoNoVsync,
            ..default()
        }),
        primary_cursor_options: Some(CursorOptions {
            visible: !mode.fullscreen,
            ..default()
        }),
        ..default()
    }
}

/// The `WindowPlugin` for the console: the primary window is the operator's, windowed; the
/// app quits when the console decides (closing asks about unsaved changes).
pub fn console_window_plugin(title: String) -> WindowPlugin {
    WindowPlugin {
        primary_window: Some(Window {
            title,
            resolution: (1600, 900).into(),
            present_mode: PresentMode::AutoNoVsync,
            ..default()
        }),
        exit_condition: ExitCondition::DontExit,
        close_when_requested: false,
        ..default()
    }
}

/// Shows the program in its window. In output-only mode `F` toggles fullscreen and `Esc`/`Q`
/// quit; with the console those keys belong to the console (quitting asks about unsaved work).
pub struct OutputPlugin {
    pub mode: OutputMode,
    /// The console is the primary window: the program gets a window of its own.
    pub separate_window: bool,
}

/// The window the program is shown in.
#[derive(Component, Debug)]
pub struct ProgramWindow;

/// The render layer of the program window's camera and sprite, so the console's camera does
/// not draw the program sprite and the program camera draws nothing else.
const PROGRAM_LAYER: usize = 1;

impl Plugin for OutputPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.mode)
            .insert_resource(ClearColor(Color::BLACK))
            .add_systems(
                Update,
                (
                    apply_output_mode.in_set(AppSystems::Input),
                    (fit_program, check_monitor, auto_exit).in_set(AppSystems::Output),
                ),
            );
        if self.separate_window {
            app.add_systems(Startup, (spawn_program_window, spawn_program_view).chain());
        } else {
            app.add_systems(Startup, (mark_primary_window, spawn_program_view).chain())
                .add_systems(
                    Update,
                    output_keys
                        .in_set(AppSystems::Input)
                        .before(apply_output_mode),
                );
        }
    }
}

fn mark_primary_window(mut commands: Commands, primary: Single<Entity, With<PrimaryWindow>>) {
    commands.entity(*primary).insert(ProgramWindow);
}

/// The program's own window: fullscreen on the chosen monitor (the projector), or a window.
fn spawn_program_window(mut commands: Commands, mode: Res<OutputMode>) {
    commands.spawn((
        ProgramWindow,
        Window {
            title: "MetaDJ Scope: program".into(),
            mode: mode.window_mode(),
            position: match mode.monitor {
                Some(n) => WindowPosition::Centered(MonitorSelection::Index(n)),
                None => WindowPosition::Automatic,
            },
            resolution: (960, 540).into(),
            present_mode: PresentMode::AutoNoVsync,
            ..default()
        },
        CursorOptions {
            visible: !mode.fullscreen,
            ..default()
        },
    ));
}

/// Quits by itself after `after` seconds, optionally saving a window screenshot first.
#[derive(Resource, Debug, Clone)]
pub struct AutoExit {
    pub after: f32,
    pub screenshot: Option<PathBuf>,
}

/// Frames to wait for the screenshot to be written after requesting it.
const SCREENSHOT_FRAMES: u32 = 10;

/// Seconds of an `--exit-after` run not counted in its frame rate (pipelines compile first).
const WARM_UP_SECS: f32 = 5.0;

fn auto_exit(
    mut commands: Commands,
    auto: Option<Res<AutoExit>>,
    time: Res<Time<Real>>,
    mut requested: Local<Option<u32>>,
    mut counted: Local<u32>,
    mut exit: MessageWriter<AppExit>,
    console: Option<Res<crate::editor::ConsoleDraws>>,
) {
    let Some(auto) = auto else { return };
    let elapsed = time.elapsed_secs();
    if elapsed < auto.after {
        if elapsed >= WARM_UP_SECS {
            *counted += 1;
        }
        return;
    }
    if requested.is_none() && auto.after > WARM_UP_SECS {
        // What `BENCHMARKS.md` quotes for the console's cost: the app's frame rate after
        // warm-up, with or without the console.
        let secs = auto.after - WARM_UP_SECS;
        info!(
            "frame rate: {:.2} fps ({} frames in the last {secs:.1} s)",
            *counted as f32 / secs,
            *counted
        );
        if let Some(c) = console {
            info!(
                "console drawn in {} of {} frames",
                c.drawn,
                c.drawn + c.skipped
            );
        }
    }
    match (&auto.screenshot, *requested) {
        (Some(path), None) => {
            commands
                .spawn(Screenshot::primary_window())
                .observe(save_screenshot(path.clone()));
            *requested = Some(0);
        }
        (Some(path), Some(n)) if n < SCREENSHOT_FRAMES || !path.exists() => {
            *requested = Some(n + 1);
            if n > 20 * SCREENSHOT_FRAMES {
                error!("screenshot {} was not written", path.display());
                exit.write(AppExit::error());
            }
        }
        _ => {
            exit.write(AppExit::Success);
        }
    }
}

/// Saves the captured window atomically (so `auto_exit` only sees the path once it is whole)
/// and quits with an error, naming the path, if that fails.
fn save_screenshot(path: PathBuf) -> impl FnMut(On<ScreenshotCaptured>, MessageWriter<AppExit>) {
    move |captured, mut exit| {
        let saved = captured
            .image
            .clone()
            .try_into_dynamic()
            .map_err(|e| format!("cannot convert screenshot for {}: {e}", path.display()))
            .and_then(|img| {
                // The alpha channel holds brightness under HDR: drop it so the picture looks right.
                let rgba = ::image::DynamicImage::from(img.to_rgb8()).to_rgba8();
                crate::write::save_rgba(&path, rgba.as_raw(), rgba.width(), rgba.height())
                    .map_err(|e| e.to_string())
            });
        match saved {
            Ok(()) => info!("screenshot saved to {}", path.display()),
            Err(e) => {
                error!("{e}");
                exit.write(AppExit::error());
            }
        }
    }
}

/// The sprite showing the program.
#[derive(Component)]
struct ProgramView;

fn spawn_program_view(
    mut commands: Commands,
    output: Res<CompositeOutput>,
    window: Single<Entity, With<ProgramWindow>>,
) {
    commands.spawn((
        Camera2d,
        Msaa::Off,
        RenderTarget::Window(WindowRef::Entity(*window)),
        RenderLayers::layer(PROGRAM_LAYER),
    ));
    commands.spawn((
        ProgramView,
        Sprite {
            image: output.0.clone(),
            ..default()
        },
        RenderLayers::layer(PROGRAM_LAYER),
    ));
}

/// Scales the program sprite to the largest size that fits the window at the canvas's aspect.
fn fit_program(
    window: Single<&Window, With<ProgramWindow>>,
    show: Res<CurrentShow>,
    mut sprite: Single<&mut Sprite, With<ProgramView>>,
) {
    let (cw, ch) = show.0.show.canvas;
    let size = letterbox((cw as f32, ch as f32), (window.width(), window.height()));
    if sprite.custom_size != Some(size) {
        sprite.custom_size = Some(size);
    }
}

/// The largest `canvas`-shaped rectangle inside `window`.
pub fn letterbox(canvas: (f32, f32), window: (f32, f32)) -> Vec2 {
    if canvas.0 <= 0.0 || canvas.1 <= 0.0 {
        return Vec2::ZERO;
    }
    let scale = (window.0 / canvas.0).min(window.1 / canvas.1);
    Vec2::new(canvas.0 * scale, canvas.1 * scale)
}

/// Once winit has announced the monitors: a `--monitor` index that does not exist falls back
/// to the window's current monitor, with an error in the log.
fn check_monitor(
    monitors: Query<(), With<Monitor>>,
    mut mode: ResMut<OutputMode>,
    mut done: Local<bool>,
) {
    if *done || monitors.is_empty() {
        return;
    }
    *done = true;
    let count = monitors.iter().count();
    if let Some(n) = mode.monitor.filter(|n| *n >= count) {
        error!(
            "there is no monitor {n} ({count} found, see `metadj-scope monitors`); using the current one"
        );
        mode.monitor = None;
    }
}

fn output_keys(
    keys: Res<ButtonInput<KeyCode>>,
    mut mode: ResMut<OutputMode>,
    mut exit: MessageWriter<AppExit>,
) {
    if keys.just_pressed(KeyCode::Escape) || keys.just_pressed(KeyCode::KeyQ) {
        exit.write(AppExit::Success);
    }
    if keys.just_pressed(KeyCode::KeyF) {
        mode.fullscreen = !mode.fullscreen;
    }
}

fn apply_output_mode(
    mode: Res<OutputMode>,
    mut window: Single<(&mut Window, &mut CursorOptions), With<ProgramWindow>>,
) {
    if !mode.is_changed() || mode.is_added() {
        return;
    }
    let (window, cursor) = &mut *window;
    window.mode = mode.window_mode();
    cursor.visible = !mode.fullscreen;
}

/// One monitor as `metadj-scope monitors` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorInfo {
    /// The index `--monitor` takes.
    pub index: usize,
    pub name: String,
    pub size: (u32, u32),
    pub refresh_hz: Option<f32>,
    pub primary: bool,
}

impl std::fmt::Display for MonitorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}  {}x{}",
            self.index, self.name, self.size.0, self.size.1
        )?;
        match self.refresh_hz {
            Some(hz) => write!(f, " @ {hz:.2} Hz")?,
            None => write!(f, " @ ? Hz")?,
        }
        if self.primary {
            write!(f, "  (primary)")?;
        }
        Ok(())
    }
}

/// Lists the monitors by starting winit without a window for a few frames.
///
/// The order is winit's, the same order `--monitor N` (`MonitorSelection::Index`) uses.
pub fn list_monitors() -> anyhow::Result<Vec<MonitorInfo>> {
    if std::env::var_os("DISPLAY").is_none() {
        anyhow::bail!("no X display: DISPLAY is not set (run under xvfb-run for a virtual one)");
    }
    let (tx, rx) = crossbeam_channel::bounded(1);
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .set(bevy::log::LogPlugin {
                level: bevy::log::Level::ERROR,
                ..default()
            }),
    )
    .insert_resource(MonitorReport(tx))
    .add_systems(Update, report_monitors);
    let exit = app.run();
    if let AppExit::Error(code) = exit {
        anyhow::bail!("the window system failed (exit code {code})");
    }
    rx.try_recv()
        .map_err(|_| anyhow::anyhow!("the window system reported no monitors"))
}

#[derive(Resource)]
struct MonitorReport(Sender<Vec<MonitorInfo>>);

/// Waits a few frames for winit to announce the monitors, then reports them and quits.
fn report_monitors(
    monitors: Query<(Entity, &Monitor, Has<bevy::window::PrimaryMonitor>)>,
    report: Res<MonitorReport>,
    mut frames: Local<u32>,
    mut exit: MessageWriter<AppExit>,
) {
    *frames += 1;
    if monitors.is_empty() && *frames < 120 {
        return;
    }
    let mut found: Vec<_> = monitors.iter().collect();
    found.sort_by_key(|(entity, _, _)| *entity);
    let list = found
        .into_iter()
        .enumerate()
        .map(|(index, (_, m, primary))| MonitorInfo {
            index,
            name: m.name.clone().unwrap_or_else(|| "<no name>".into()),
            size: (m.physical_width, m.physical_height),
            refresh_hz: m.refresh_rate_millihertz.map(|mhz| mhz as f32 / 1000.0),
            primary,
        })
        .collect();
    let _ = report.0.try_send(list);
    exit.write(AppExit::Success);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor_app(monitor: Option<usize>, monitors: usize) -> App {
        let mut app = App::new();
        app.insert_resource(OutputMode {
            fullscreen: true,
            monitor,
        })
        .add_systems(Update, check_monitor);
        for i in 0..monitors {
            app.world_mut().spawn(Monitor {
                name: Some(format!("screen {i}")),
                physical_height: 1080,
                physical_width: 1920,
                physical_position: IVec2::new(1920 * i as i32, 0),
                refresh_rate_millihertz: Some(60_000),
                scale_factor: 1.0,
                video_modes: Vec::new(),
            });
        }
        app
    }

    /// `--monitor 5` with one monitor plays fullscreen on the current one instead of failing;
    /// an index that exists is kept; nothing is decided before winit announces monitors.
    #[test]
    fn a_missing_monitor_falls_back_to_the_current_one() {
        let mut app = monitor_app(Some(5), 1);
        app.update();
        let mode = *app.world().resource::<OutputMode>();
        assert_eq!(mode.monitor, None);
        assert_eq!(
            mode.window_mode(),
            WindowMode::BorderlessFullscreen(MonitorSelection::Current)
        );
        let mut app = monitor_app(Some(1), 2);
        app.update();
        assert_eq!(app.world().resource::<OutputMode>().monitor, Some(1));
        let mut app = monitor_app(Some(5), 0);
        app.update();
        assert_eq!(
            app.world().resource::<OutputMode>().monitor,
            Some(5),
            "no monitors announced yet: wait"
        );
        app.world_mut().spawn(Monitor {
            name: None,
            physical_height: 720,
            physical_width: 1280,
            physical_position: IVec2::ZERO,
            refresh_rate_millihertz: None,
            scale_factor: 1.0,
            video_modes: Vec::new(),
        });
        app.update();
        assert_eq!(app.world().resource::<OutputMode>().monitor, None);
    }

    #[test]
    fn letterbox_keeps_the_aspect() {
        assert_eq!(
            letterbox((1920.0, 1080.0), (1280.0, 1024.0)),
            Vec2::new(1280.0, 720.0)
        );
        let wide = letterbox((1920.0, 1080.0), (800.0, 300.0));
        assert!(
            (wide - Vec2::new(300.0 * 16.0 / 9.0, 300.0))
                .abs()
                .max_element()
                < 1e-3
        );
    }
}
