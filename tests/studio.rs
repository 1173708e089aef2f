//! Studio mode end to end, headless on lavapipe: commands put a scene in preview, the T-bar
//! mixes it onto the program by hand (pixels checked against the fade formula), the preview
//! scene's own picture is rendered for the monitor, and a Scope node in the preview scene is
//! live before Take, so the first program frame after it is the node's picture, not a fallback.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use image::RgbaImage;
use metadj_scope::PlayerPlugin;
use metadj_scope::control::ShowCommand;
use metadj_scope::headless::{capture_frame, wait_for_sources};
use metadj_scope::playback::Playback;
use metadj_scope::preview::{NodePreviews, PreviewImages, PreviewPlugin};
use metadj_scope::render::harness::{finish_setup, headless_app};
use metadj_scope::render::{FrameClock, PreviewFrames, PreviewReadback};
use metadj_scope::showfile;
use metadj_scope::sources::scope::ScopeSource;

const SOLIDS: &str = r#"(
    version: 1,
    canvas: (64, 36),
    scenes: [
        (name: "red", nodes: {"c": (kind: solid((color: (1.0, 0.0, 0.0, 1.0)))),
            "out": (kind: output(()))}, edges: [(from: "c", to: "out")]),
        (name: "blue", transition: (kind: fade, duration: 2.0),
            nodes: {"c": (kind: solid((color: (0.0, 0.2, 1.0, 1.0)))),
            "out": (kind: output(()))}, edges: [(from: "c", to: "out")]),
    ],
)"#;

const SCOPE: &str = r#"(
    version: 1,
    canvas: (64, 64),
    scenes: [
        (name: "black", nodes: {"c": (kind: solid((color: (0.0, 0.0, 0.0, 1.0)))),
            "out": (kind: output(()))}, edges: [(from: "c", to: "out")]),
        (name: "avatar", nodes: {
            "cam": (kind: camera((device: synthetic, width: 64, height: 64, fps: 30))),
            "scope": (kind: scope((url: "embedded", pipeline: "passthrough",
                load: (width: 64, height: 64), fallback: transparent))),
            "out": (kind: output(())),
        }, edges: [(from: "cam", to: "scope"), (from: "scope", to: "out")]),
    ],
)"#;

fn app(name: &str, text: &str) -> App {
    let dir = std::env::temp_dir().join(format!("metadj-studio-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("show.ron");
    std::fs::write(&path, text).unwrap();
    let loaded = Arc::new(showfile::load_show(&path).unwrap());
    let mut app = headless_app(loaded.show.canvas);
    app.add_plugins((
        PlayerPlugin {
            show: loaded,
            watch: false,
            start_scene: 0,
            live_clock: false,
        },
        PreviewPlugin,
    ));
    finish_setup(&mut app);
    wait_for_sources(&mut app).unwrap();
    app
}

fn command(app: &mut App, c: ShowCommand) {
    app.world_mut().write_message(c);
}

fn frame(app: &mut App, clock: &mut FrameClock) -> RgbaImage {
    clock.frame += 1;
    clock.time += 1.0 / 30.0;
    capture_frame(app, *clock).unwrap()
}

/// Bytes of `c` as the program writes them: round(255 * c), each channel.
fn bytes(c: [f64; 3]) -> [u8; 3] {
    c.map(|v| (v * 255.0).round() as u8)
}

fn assert_near(got: &image::Rgba<u8>, want: [u8; 3], what: &str) {
    let ok = got.0.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 1);
    assert!(ok, "{what}: got {:?}, want {want:?} (±1)", got.0);
}

#[test]
fn tbar_mixes_the_preview_onto_program_and_the_preview_is_rendered() {
    let mut app = app("tbar", SOLIDS);
    let mut clock = FrameClock::default();
    let (red, blue) = ([1.0, 0.0, 0.0], [0.0, 0.2, 1.0]);
    assert_near(
        frame(&mut app, &mut clock).get_pixel(10, 10),
        bytes(red),
        "start",
    );

    command(&mut app, ShowCommand::Preview(1));
    app.update();
    {
        let p = app.world().resource::<Playback>();
        assert_eq!((p.scene, p.preview), (0, Some(1)));
    }
    // The preview monitor's picture: scene 1 rendered on its own, while program stays red.
    app.world_mut().resource_mut::<PreviewReadback>().enabled = true;
    app.world_mut().resource_mut::<NodePreviews>().scenes = vec![(1, (32, 18))];
    let deadline = Instant::now() + Duration::from_secs(20);
    let preview = loop {
        let program = frame(&mut app, &mut clock);
        assert_near(
            program.get_pixel(10, 10),
            bytes(red),
            "program while previewing",
        );
        let image = app
            .world()
            .resource::<PreviewImages>()
            .scenes
            .get(&(1, (32, 18)))
            .cloned();
        let got = image.and_then(|h| {
            app.world()
                .resource::<PreviewFrames>()
                .0
                .get(&h.id())
                .map(|(_, i)| i.clone())
        });
        if let Some(img) = got {
            break img;
        }
        assert!(Instant::now() < deadline, "no preview picture");
    };
    assert_eq!(preview.dimensions(), (32, 18));
    assert_near(preview.get_pixel(16, 9), bytes(blue), "preview monitor");

    // Half-way on the T-bar: the scene's fade at t = 0.5, c = a + (b - a) t.
    command(&mut app, ShowCommand::TBar(0.5, None));
    let half = frame(&mut app, &mut clock);
    let mix: [f64; 3] = std::array::from_fn(|i| red[i] + (blue[i] - red[i]) * 0.5);
    assert_near(half.get_pixel(30, 20), bytes(mix), "T-bar at 0.5");
    // The clock does not move a hand-held mix.
    for _ in 0..5 {
        assert_near(
            frame(&mut app, &mut clock).get_pixel(30, 20),
            bytes(mix),
            "held",
        );
    }
    command(&mut app, ShowCommand::TBar(0.25, None));
    let quarter: [f64; 3] = std::array::from_fn(|i| red[i] + (blue[i] - red[i]) * 0.25);
    assert_near(
        frame(&mut app, &mut clock).get_pixel(5, 5),
        bytes(quarter),
        "T-bar back to 0.25",
    );

    // To the end: taken; the old program is now in preview.
    command(&mut app, ShowCommand::TBar(1.0, None));
    assert_near(
        frame(&mut app, &mut clock).get_pixel(10, 10),
        bytes(blue),
        "taken",
    );
    let p = app.world().resource::<Playback>();
    assert_eq!(
        (p.scene, p.preview, p.transition.is_none()),
        (1, Some(0), true)
    );
}

#[test]
fn a_scope_scene_in_preview_is_live_before_take() {
    let mut app = app("prewarm", SCOPE);
    let mut clock = FrameClock::default();
    command(&mut app, ShowCommand::Preview(1));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let program = frame(&mut app, &mut clock);
        assert_near(
            program.get_pixel(32, 32),
            [0, 0, 0],
            "black program before Take",
        );
        let world = app.world_mut();
        let live = world
            .query::<&ScopeSource>()
            .iter(world)
            .any(|s| s.stats().state == ::scope::ScopeState::Live && s.frames_received() > 3);
        if live {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the preview's Scope node never went live"
        );
    }
    command(&mut app, ShowCommand::Take);
    let first = frame(&mut app, &mut clock);
    // The transparent fallback would be black; the synthetic camera through the passthrough
    // pipeline is not.
    let lit = first
        .pixels()
        .filter(|p| p.0[..3].iter().any(|c| *c > 40))
        .count();
    assert!(
        lit > first.pixels().len() / 4,
        "first program frame after Take is the Scope picture ({lit} lit pixels)"
    );
}
