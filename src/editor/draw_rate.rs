//! How often the console window is drawn. On a machine whose GPU is busy with the program
//! (lavapipe draws every window on the CPU), drawing a 1600×900 console every frame costs the
//! program a third of its frame rate. The operator's hands say when the console matters: while
//! they use it (pointer, keys, wheel, a resize) it is drawn every frame; otherwise at
//! [`ConsoleRate::idle_fps`], which still shows the monitors and health moving. The UI itself
//! runs every frame, so no click or key is lost; only its drawing waits, and with it the
//! node previews it shows. A window no camera draws is not presented (Bevy skips acquiring
//! its swapchain), so it keeps its last picture.

use std::time::Duration;

use bevy::input::keyboard::KeyboardInput;
use bevy::input::mouse::{MouseButtonInput, MouseWheel};
use bevy::prelude::*;
use bevy::render::view::screenshot::Screenshot;
use bevy::window::{CursorMoved, PrimaryWindow, WindowResized};
use bevy_egui::PrimaryEguiContext;

use crate::preview::PreviewsShown;

/// Frames per second of an idle console unless `settings.ron` says otherwise.
pub const DEFAULT_IDLE_FPS: f32 = 2.0;
/// How long after the last input the console counts as in use.
const IN_USE_FOR: Duration = Duration::from_millis(750);

/// The console's draw rates.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct ConsoleRate {
    /// Draws per second while nobody touches the console (0.5–240); at or above the program's
    /// frame rate that is every frame.
    pub idle_fps: f32,
}

impl Default for ConsoleRate {
    fn default() -> Self {
        ConsoleRate {
            idle_fps: DEFAULT_IDLE_FPS,
        }
    }
}

impl ConsoleRate {
    /// A rate from the settings file, refused with the reason when it is not a usable number.
    pub fn from_setting(idle_fps: f32) -> Result<ConsoleRate, String> {
        if idle_fps.is_finite() && (0.5..=240.0).contains(&idle_fps) {
            Ok(ConsoleRate { idle_fps })
        } else {
            Err(format!(
                "console_idle_fps: {idle_fps} is not a rate from 0.5 to 240 frames per second"
            ))
        }
    }

    fn idle_interval(self) -> Duration {
        Duration::from_secs_f32(1.0 / self.idle_fps)
    }
}

/// When the console was last used and last drawn (on the real clock).
#[derive(Resource, Debug, Default)]
pub struct ConsoleDraws {
    last_input: Option<Duration>,
    last_drawn: Option<Duration>,
    /// Frames the console was drawn in and frames it was not (the `--exit-after` log says).
    pub drawn: u64,
    pub skipped: u64,
}

/// Whether to draw this frame: always while in use (or before the first draw), else once per
/// idle interval.
fn due(rate: ConsoleRate, draws: &ConsoleDraws, now: Duration) -> bool {
    let in_use = draws
        .last_input
        .is_some_and(|t| now.saturating_sub(t) < IN_USE_FOR);
    let idle_due = draws
        .last_drawn
        .is_none_or(|t| now.saturating_sub(t) >= rate.idle_interval());
    in_use || idle_due
}

/// Turns the console camera on for the frames it should draw.
pub(super) fn pace_console(
    rate: Res<ConsoleRate>,
    time: Res<Time<Real>>,
    mut draws: ResMut<ConsoleDraws>,
    window: Query<Entity, With<PrimaryWindow>>,
    mut camera: Query<&mut Camera, With<PrimaryEguiContext>>,
    mut previews_shown: ResMut<PreviewsShown>,
    screenshots: Query<(), With<Screenshot>>,
    (mut cursor, mut buttons, mut keys, mut wheel, mut resized): (
        MessageReader<CursorMoved>,
        MessageReader<MouseButtonInput>,
        MessageReader<KeyboardInput>,
        MessageReader<MouseWheel>,
        MessageReader<WindowResized>,
    ),
) {
    let now = time.elapsed();
    let console = window.single().ok();
    let mine = |w: Entity| Some(w) == console;
    // Every reader is drained each frame, so an old event never counts as new input.
    let touched = cursor.read().filter(|e| mine(e.window)).count()
        + buttons.read().filter(|e| mine(e.window)).count()
        + keys.read().filter(|e| mine(e.window)).count()
        + wheel.read().filter(|e| mine(e.window)).count()
        + resized.read().filter(|e| mine(e.window)).count()
        > 0;
    if touched {
        draws.last_input = Some(now);
    }
    // A screenshot needs the window drawn.
    let draw = due(*rate, &draws, now) || !screenshots.is_empty();
    for mut camera in &mut camera {
        if camera.is_active != draw {
            camera.is_active = draw;
        }
    }
    if previews_shown.0 != draw {
        previews_shown.0 = draw;
    }
    if draw {
        draws.last_drawn = Some(now);
        draws.drawn += 1;
    } else {
        draws.skipped += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn an_idle_console_draws_at_the_idle_rate_and_a_used_one_every_frame() {
        let rate = ConsoleRate { idle_fps: 2.0 };
        let mut d = ConsoleDraws::default();
        assert!(due(rate, &d, Duration::ZERO), "the first frame is drawn");
        d.last_drawn = Some(Duration::ZERO);
        assert!(!due(rate, &d, 170 * MS));
        assert!(!due(rate, &d, 499 * MS));
        assert!(due(rate, &d, 500 * MS));
        d.last_drawn = Some(500 * MS);
        d.last_input = Some(510 * MS);
        assert!(due(rate, &d, 520 * MS), "in use: every frame");
        assert!(
            due(rate, &d, 1200 * MS),
            "still in use 690 ms after the input"
        );
        d.last_drawn = Some(1200 * MS);
        assert!(
            !due(rate, &d, 1300 * MS),
            "idle again 790 ms after the input"
        );
    }

    /// A console app without a GPU: the primary window, the console camera, real Bevy input
    /// messages and a clock stepped by 100 ms a frame.
    fn console_app() -> (App, Entity) {
        let mut app = App::new();
        app.add_plugins((
            MinimalPlugins,
            bevy::input::InputPlugin,
            bevy::window::WindowPlugin::default(),
        ))
        .insert_resource(bevy::time::TimeUpdateStrategy::ManualDuration(100 * MS))
        .init_resource::<ConsoleRate>()
        .init_resource::<ConsoleDraws>()
        .init_resource::<PreviewsShown>()
        .add_systems(Update, pace_console);
        let window = app
            .world_mut()
            .query_filtered::<Entity, With<PrimaryWindow>>()
            .single(app.world())
            .unwrap();
        app.world_mut()
            .spawn((Camera::default(), PrimaryEguiContext));
        (app, window)
    }

    fn drawn(app: &mut App) -> bool {
        app.update();
        let active = app
            .world_mut()
            .query_filtered::<&Camera, With<PrimaryEguiContext>>()
            .single(app.world())
            .unwrap()
            .is_active;
        assert_eq!(app.world().resource::<PreviewsShown>().0, active);
        active
    }

    /// At 10 frames a second and 2 idle draws a second, an untouched console is drawn one
    /// frame in five; a pointer moving over it makes it draw every frame, for 750 ms after the
    /// last movement. Movement over another window does not count.
    #[test]
    fn the_console_camera_draws_every_frame_only_while_the_console_is_used() {
        let (mut app, window) = console_app();
        let frames: Vec<bool> = (0..12).map(|_| drawn(&mut app)).collect();
        assert_eq!(frames.iter().filter(|d| **d).count(), 3, "{frames:?}");
        let other = app.world_mut().spawn(bevy::window::Window::default()).id();
        let moved = |w: Entity| CursorMoved {
            window: w,
            position: Vec2::new(10.0, 10.0),
            delta: None,
        };
        app.world_mut().write_message(moved(other));
        let frames: Vec<bool> = (0..4).map(|_| drawn(&mut app)).collect();
        assert!(frames.iter().filter(|d| **d).count() <= 1, "{frames:?}");
        app.world_mut().write_message(moved(window));
        let frames: Vec<bool> = (0..8).map(|_| drawn(&mut app)).collect();
        assert!(frames[..7].iter().all(|d| *d), "{frames:?}");
        let draws = app.world().resource::<ConsoleDraws>();
        assert_eq!(draws.drawn + draws.skipped, 24);
    }

    #[test]
    fn the_setting_refuses_what_is_not_a_rate() {
        assert_eq!(
            ConsoleRate::from_setting(5.0),
            Ok(ConsoleRate { idle_fps: 5.0 })
        );
        for bad in [f32::NAN, f32::INFINITY, 0.0, -1.0, 0.1, 1e9] {
            let e = ConsoleRate::from_setting(bad).unwrap_err();
            assert!(e.starts_with("console_idle_fps:"), "{e}");
        }
    }
}
