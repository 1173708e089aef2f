//! The app a control surface drives in tests: the show (from `text`), its document, playback
//! and the command path, on minimal plugins (no window, no GPU). Each test adds its surface.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bevy::app::Plugins;
use bevy::prelude::*;
use metadj_scope::AppSystems;
use metadj_scope::control::ControlPlugin;
use metadj_scope::editor::EditorPlugin;
use metadj_scope::playback::PlaybackPlugin;
use metadj_scope::render::{FrameClock, Program};
use metadj_scope::showfile::{self, ShowPlugin};

#[allow(
    dead_code,
    reason = "each test file compiles this module; not all use it"
)]
/// `live_clock`: transitions run on real time (for clients on other threads), else per frame.
/// One directory per app: tests run in parallel.
pub fn control_app<M>(name: &str, text: &str, live_clock: bool, surface: impl Plugins<M>) -> App {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("metadj-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("show.ron");
    std::fs::write(&path, text).unwrap();
    let loaded = Arc::new(showfile::load_show(&path).unwrap());
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .init_resource::<Program>()
        .init_resource::<FrameClock>();
    AppSystems::order(&mut app)
        .add_plugins((
            ShowPlugin {
                initial: loaded.clone(),
                watch: false,
            },
            EditorPlugin {
                show: loaded,
                ui: false,
            },
            PlaybackPlugin {
                start_scene: 0,
                live_clock,
            },
            ControlPlugin,
        ))
        .add_plugins(surface);
    app.update();
    app
}

/// A scene with what surfaces change: a blend of two solids and a Scope node (fed by a
/// camera) with a prompt. Its nodes: `bg`, `fg`, `cam`, `scope`, `mix`, `out`.
#[allow(
    dead_code,
    reason = "each test file compiles this module; not all use it"
)]
pub const LIVE_SCENE: &str = r#"(name: "one", nodes: {
        "bg": (kind: solid(())), "fg": (kind: solid(())),
        "cam": (kind: camera((device: synthetic, width: 64, height: 36, fps: 30))),
        "scope": (kind: scope((url: "embedded", pipeline: "passthrough", params: (prompts: [(text: "start", weight: 1.0)])))),
        "mix": (kind: blend((layers: [(mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0)]))),
        "out": (kind: output(())) },
       edges: [(from: "bg", to: "mix", port: "0"), (from: "fg", to: "mix", port: "1"), (from: "cam", to: "scope"),
               (from: "scope", to: "mix", port: "2"), (from: "mix", to: "out")])"#;

/// A small show for the windowed player: a solid colour (0.2, 0.4, 0.8).
#[allow(
    dead_code,
    reason = "each test file compiles this module; not all use it"
)]
pub const SOLID_SHOW: &str = r#"(
    version: 1,
    canvas: (160, 90),
    scenes: [
        (
            name: "one",
            nodes: {
                "bg": (kind: solid((color: (0.2, 0.4, 0.8, 1.0)))),
                "out": (kind: output(())),
            },
            edges: [(from: "bg", to: "out")],
        ),
    ],
)
"#;

/// A half-transparent red layer `fg` over a blue `bg`: a node's own picture with its alpha
/// (straight: red at alpha 128) against the program (purple, opaque).
#[allow(
    dead_code,
    reason = "each test file compiles this module; not all use it"
)]
pub const LAYERS_SHOW: &str = r#"(version: 2, canvas: (160, 90), scenes: [(name: "one",
    nodes: { "bg": (kind: solid((color: (0.0, 0.0, 1.0, 1.0)))),
             "fg": (kind: solid((color: (1.0, 0.0, 0.0, 0.5)))),
             "mix": (kind: blend(())), "out": (kind: output(())) },
    edges: [(from: "bg", to: "mix", port: "0"), (from: "fg", to: "mix", port: "1"),
            (from: "mix", to: "out")])])"#;

/// The demo show's `scene` rendered headless at `size`, with `outputs` (a recorder, streams)
/// added before set-up finishes, as outputs must be; its sources running.
#[allow(
    dead_code,
    reason = "each test file compiles this module; not all use it"
)]
pub fn headless_demo<M>(size: (u32, u32), scene: &str, outputs: impl Plugins<M>) -> App {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded =
        metadj_scope::headless::load_at_size(&root.join("scenes/demo.ron"), Some(size)).unwrap();
    let start_scene = loaded.scene_index(scene).unwrap();
    let mut app = metadj_scope::render::harness::headless_app(size);
    app.add_plugins((
        metadj_scope::PlayerPlugin {
            show: Arc::new(loaded),
            watch: false,
            start_scene,
            live_clock: false,
        },
        outputs,
    ));
    metadj_scope::render::harness::finish_setup(&mut app);
    metadj_scope::headless::wait_for_sources(&mut app).unwrap();
    app
}

/// Renders `n` frames of a 30 fps show clock after `*frame`, at about real-time pace (so an
/// output's worker keeps up, as in `play`).
#[allow(
    dead_code,
    reason = "each test file compiles this module; not all use it"
)]
pub fn play_frames(app: &mut App, frame: &mut u32, n: u32) {
    for _ in 0..n {
        *frame += 1;
        let clock = FrameClock {
            time: *frame as f32 / 30.0,
            frame: u64::from(*frame),
        };
        metadj_scope::headless::capture_frame(app, clock).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
