//! A windowless app with the compositor: used by GPU tests, the bench and `render`.

use std::time::Duration;

use bevy::app::{PluginsState, ScheduleRunnerPlugin};
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::pipelined_rendering::PipelinedRenderingPlugin;
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;

use super::CompositorPlugin;

/// DefaultPlugins without winit or a window, run by the caller's `app.update()` (or
/// `ScheduleRunnerPlugin` if run), pipelines compiled synchronously so the first frames render,
/// rendering not pipelined. Call [`finish_setup`] after adding further plugins and before the
/// first `app.update()`.
pub fn headless_app(canvas: (u32, u32)) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .set(RenderPlugin {
                synchronous_pipeline_compilation: true,
                ..default()
            })
            .disable::<WinitPlugin>()
            // Render in the same update as the main world: a read-back frame is then ready one
            // update after it was requested instead of two.
            .disable::<PipelinedRenderingPlugin>(),
    )
    .add_plugins(ScheduleRunnerPlugin::run_loop(Duration::ZERO))
    .add_plugins(CompositorPlugin);
    super::set_output_size(&mut app, canvas);
    app
}

/// Completes plugin set-up (the render device is created asynchronously) so that plain
/// `app.update()` calls render. Call once after adding every plugin, before the first update;
/// `app.run()` does this itself.
pub fn finish_setup(app: &mut App) {
    if app.plugins_state() == PluginsState::Cleaned {
        return;
    }
    while app.plugins_state() == PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();
}
