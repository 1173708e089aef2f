//! App-level tests (one binary: each test binary links the whole engine).
//!
//! - every show in `scenes/` loads, validates and renders a frame on the GPU (lavapipe here);
//! - golden images of the demo scenes;
//! - live edits: a save reaches the app within a second, an invalid save keeps the last good
//!   show and reports the error;
//! - the CLI: `check` and `render` as a user runs them.
//!
//! Golden images live in `tests/golden/<show>-<scene>.png`. Regenerate them after an intended
//! visual change with `UPDATE_GOLDEN=1 cargo test --test app golden`, look at every changed
//! picture, and commit them. A missing golden fails the test (it is never created silently).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use image::RgbaImage;
use metadj_scope::headless;
use metadj_scope::showfile::{self, CurrentShow, ShowPlugin, ShowStatus};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_metadj-scope");

/// Small enough for lavapipe on 2 cores, big enough to see the layout.
const TEST_SIZE: (u32, u32) = (320, 180);

fn scene_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("scenes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no show files in scenes/");
    files
}

fn render_one(path: &Path, scene: usize, at: f32) -> RgbaImage {
    let loaded = headless::load_at_size(path, Some(TEST_SIZE)).unwrap();
    let mut out = None;
    headless::render_frames(loaded, scene, at, 30.0, 1, |_, img| {
        out = Some(img);
        Ok(())
    })
    .unwrap();
    out.unwrap()
}

/// A unique empty folder under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("metadj-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_show_in_scenes_loads_validates_and_renders() {
    for path in scene_files() {
        let loaded = showfile::load_show(&path)
            .unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()));
        assert!(!loaded.show.scenes.is_empty(), "{}", path.display());
        for (index, scene) in loaded.show.scenes.iter().enumerate() {
            let img = render_one(&path, index, 0.5);
            assert_eq!(
                img.dimensions(),
                TEST_SIZE,
                "{} scene {}",
                path.display(),
                scene.name
            );
            // The program is composited over black, so it is opaque everywhere.
            assert!(
                img.pixels().all(|p| p[3] == 255),
                "{} scene {}: program not opaque",
                path.display(),
                scene.name
            );
        }
    }
}

/// Scenes whose picture is deterministic: no camera or Scope node (those are live inputs).
fn deterministic_scenes(loaded: &showfile::LoadedShow) -> Vec<(usize, String)> {
    use show::node::NodeKind;
    loaded
        .show
        .scenes
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            !s.nodes
                .values()
                .any(|n| matches!(n.kind, NodeKind::Camera(_) | NodeKind::Scope(_)))
        })
        .map(|(i, s)| (i, s.name.clone()))
        .collect()
}

/// Tolerance: a channel may differ by up to 3/255 (rounding differences between GPUs and
/// drivers); at most 0.5 % of pixels may exceed that (edge rasterisation, sampling).
#[test]
fn demo_scenes_match_golden_images() {
    let path = Path::new(ROOT).join("scenes/demo.ron");
    let loaded = showfile::load_show(&path).unwrap();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let golden_dir = Path::new(ROOT).join("tests/golden");
    let scenes = deterministic_scenes(&loaded);
    assert!(
        scenes.len() >= 2,
        "the demo should have deterministic scenes"
    );
    let mut failures = Vec::new();
    for (index, name) in scenes {
        let img = render_one(&path, index, 1.0);
        let golden_path = golden_dir.join(format!("demo-{name}.png"));
        if update {
            std::fs::create_dir_all(&golden_dir).unwrap();
            img.save(&golden_path).unwrap();
            continue;
        }
        let golden = image::open(&golden_path)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (generate with UPDATE_GOLDEN=1)",
                    golden_path.display()
                )
            })
            .to_rgba8();
        assert_eq!(golden.dimensions(), img.dimensions(), "{name}");
        let over = img
            .pixels()
            .zip(golden.pixels())
            .filter(|(a, b)| (0..4).any(|c| a[c].abs_diff(b[c]) > 3))
            .count();
        let allowed = (img.width() * img.height()) as usize / 200;
        if over > allowed {
            let actual = std::env::temp_dir().join(format!("demo-{name}-actual.png"));
            img.save(&actual).unwrap();
            failures.push(format!(
                "{name}: {over} pixels differ by more than 3/255 (allowed {allowed}); got {}",
                actual.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const GOOD_SHOW: &str = r#"(
    version: 1,
    canvas: (64, 36),
    scenes: [
        (
            name: "one",
            nodes: {
                "bg": (kind: solid((color: (1.0, 0.0, 0.0, 1.0)))),
                "out": (kind: output(())),
            },
            edges: [(from: "bg", to: "out")],
        ),
    ],
)
"#;

fn watcher_app(path: &Path) -> App {
    let loaded = showfile::load_show(path).unwrap();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .configure_sets(Update, metadj_scope::AppSystems::LoadShow)
        .add_plugins(ShowPlugin {
            initial: std::sync::Arc::new(loaded),
            watch: true,
        });
    app.update();
    app
}

/// Updates `app` until `done` holds or `limit` passes; returns the time it took.
fn update_until(app: &mut App, limit: Duration, done: impl Fn(&App) -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        app.update();
        if done(app) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[test]
fn live_edit_reloads_within_a_second_and_keeps_the_last_good_show_on_error() {
    let dir = temp_dir("live");
    let path = dir.join("live.ron");
    std::fs::write(&path, GOOD_SHOW).unwrap();
    let mut app = watcher_app(&path);
    let scene_name = |app: &App| {
        app.world().resource::<CurrentShow>().0.show.scenes[0]
            .name
            .clone()
    };
    // Give the watcher a moment to register before the first save.
    std::thread::sleep(Duration::from_millis(100));

    // A good edit: the new plan arrives within a second.
    std::fs::write(&path, GOOD_SHOW.replace("\"one\"", "\"renamed\"")).unwrap();
    let took = update_until(&mut app, Duration::from_secs(1), |app| {
        scene_name(app) == "renamed"
    });
    assert!(took.is_some(), "the edit did not arrive within 1 s");
    let status = app.world().resource::<ShowStatus>();
    assert_eq!((status.generation, status.error.clone()), (1, None));

    // A syntax error: the last good show stays, the error names file, line and column.
    let broken = GOOD_SHOW.replace("\"renamed\"", "\"one\"").replace(
        "(kind: output(())),",
        "(kind: output(()),", // line 9: missing ')'
    );
    std::fs::write(&path, broken).unwrap();
    let took = update_until(&mut app, Duration::from_secs(1), |app| {
        app.world().resource::<ShowStatus>().error.is_some()
    });
    assert!(took.is_some(), "the bad edit was not reported within 1 s");
    let error = app.world().resource::<ShowStatus>().error.clone().unwrap();
    assert!(error.contains("live.ron:"), "{error}");
    assert_eq!(
        scene_name(&app),
        "renamed",
        "the last good show must keep playing"
    );

    // A graph error (dangling edge): reported with the node's name.
    std::fs::write(
        &path,
        GOOD_SHOW.replace(
            "(from: \"bg\", to: \"out\")",
            "(from: \"nope\", to: \"out\")",
        ),
    )
    .unwrap();
    let took = update_until(&mut app, Duration::from_secs(1), |app| {
        app.world()
            .resource::<ShowStatus>()
            .error
            .as_ref()
            .is_some_and(|e| e.contains("nope"))
    });
    assert!(
        took.is_some(),
        "dangling edge not reported: {:?}",
        app.world().resource::<ShowStatus>().error
    );
    assert_eq!(scene_name(&app), "renamed");

    // Fixing the file clears the error.
    std::fs::write(&path, GOOD_SHOW).unwrap();
    let took = update_until(&mut app, Duration::from_secs(1), |app| {
        scene_name(app) == "one"
    });
    assert!(took.is_some(), "the fix did not arrive within 1 s");
    assert_eq!(app.world().resource::<ShowStatus>().error, None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cli_check_reports_errors_with_location_and_fails() {
    let dir = temp_dir("check");
    let bad = dir.join("bad.ron");
    std::fs::write(
        &bad,
        GOOD_SHOW.replace("(kind: output(())),", "(kind: outptu(())),"),
    )
    .unwrap();
    let out = Command::new(BIN).arg("check").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "check passed a bad file: {stderr}");
    // `outptu` is on line 9 of the file.
    assert!(stderr.contains("bad.ron:9:"), "{stderr}");
    assert!(stderr.contains("outptu"), "{stderr}");

    let good = Command::new(BIN)
        .arg("check")
        .arg(Path::new(ROOT).join("scenes/demo.ron"))
        .output()
        .unwrap();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );

    let missing = Command::new(BIN)
        .args(["check", "/nonexistent/show.ron"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/show.ron"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cli_render_writes_pngs_of_the_requested_size() {
    let dir = temp_dir("render");
    let show = dir.join("red.ron");
    std::fs::write(&show, GOOD_SHOW).unwrap();
    let out = Command::new(BIN)
        .arg("render")
        .arg(&show)
        .args([
            "--scene", "one", "--frames", "2", "--size", "48x30", "--out",
        ])
        .arg(dir.join("f.png"))
        .env("XDG_RUNTIME_DIR", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for i in 0..2 {
        let img = image::open(dir.join(format!("f_{i:04}.png")))
            .unwrap()
            .to_rgba8();
        assert_eq!(img.dimensions(), (48, 30));
        // The scene is solid red.
        assert!(img.pixels().all(|p| p.0 == [255, 0, 0, 255]), "frame {i}");
    }

    let unknown = Command::new(BIN)
        .arg("render")
        .arg(&show)
        .args(["--scene", "nope", "--out"])
        .arg(dir.join("x.png"))
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no scene \"nope\"") && stderr.contains("one"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `render --scene intro` of the demo starts only what "intro" uses: no camera, no Scope
/// server (they belong to the avatar scene).
#[test]
fn cli_render_starts_only_the_sources_of_the_rendered_scene() {
    let dir = temp_dir("render-only");
    let out = Command::new(BIN)
        .args([
            "render",
            "scenes/demo.ron",
            "--scene",
            "intro",
            "--size",
            "64x36",
            "--out",
        ])
        .arg(dir.join("intro.png"))
        .env("XDG_RUNTIME_DIR", &dir)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for started in ["camera node", "Scope node", "Scope server listening"] {
        assert!(!stderr.contains(started), "{started:?} in:\n{stderr}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A blend of 70 generated layers needs more intermediate textures than the compositor has:
/// `check` refuses it with the reason instead of `render` waiting and a live edit freezing.
#[test]
fn cli_check_refuses_a_scene_needing_too_many_slots() {
    let dir = temp_dir("slots");
    let n = 70;
    let nodes: String = (0..n)
        .map(|i| format!("\"s{i}\": (kind: solid((color: (0.01, 0.0, 0.0, 0.5)))),\n"))
        .collect();
    let layers = vec!["(mode: add, opacity: 1.0)"; n].join(", ");
    let edges: String = (0..n)
        .map(|i| format!("(from: \"s{i}\", to: \"mix\", port: \"{i}\"),\n"))
        .collect();
    let scene = format!(
        "(name: \"big\", nodes: {{ {nodes} \"mix\": (kind: blend((layers: [{layers}]))), \"out\": (kind: output(())) }}, edges: [{edges} (from: \"mix\", to: \"out\")])"
    );
    let show = dir.join("big.ron");
    std::fs::write(&show, show_text(&[&scene])).unwrap();
    let out = Command::new(BIN).arg("check").arg(&show).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted: {stderr}");
    assert!(
        stderr.contains("scene \"big\" needs") && stderr.contains("nested blends"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A show with the given scenes (RON snippets) on a 64×36 canvas.
fn show_text(scenes: &[&str]) -> String {
    format!(
        "(version: 1, canvas: (64, 36), scenes: [{}])",
        scenes.join(",\n")
    )
}

fn solid_scene(name: &str, rgb: (f32, f32, f32), transition: &str) -> String {
    format!(
        r#"(name: "{name}", transition: {transition}, nodes: {{
            "bg": (kind: solid((color: ({}, {}, {}, 1.0)))),
            "out": (kind: output(())),
        }}, edges: [(from: "bg", to: "out")])"#,
        rgb.0, rgb.1, rgb.2
    )
}

fn assert_pixel(img: &RgbaImage, x: u32, y: u32, want: [f64; 3], what: &str) {
    let p = img.get_pixel(x, y);
    for c in 0..3 {
        let diff = (f64::from(p[c]) - want[c]).abs();
        assert!(
            diff <= 2.0,
            "{what}: pixel ({x},{y}) = {:?}, want {want:?} ± 2",
            p.0
        );
    }
}

/// Playback → Program → compositor: a fade a quarter of the way and a wipe halfway.
/// Time is paused so the transition stays exactly where the test puts it.
#[test]
fn transitions_mix_the_two_scenes_on_the_gpu() {
    use metadj_scope::playback::Playback;
    use metadj_scope::render::FrameClock;

    let dir = temp_dir("transition");
    let path = dir.join("t.ron");
    std::fs::write(
        &path,
        show_text(&[
            &solid_scene("red", (1.0, 0.0, 0.0), "(kind: cut)"),
            &solid_scene("blue", (0.0, 0.0, 1.0), "(kind: fade, duration: 2.0)"),
            &solid_scene("green", (0.0, 1.0, 0.0), "(kind: wipe, duration: 2.0)"),
        ]),
    )
    .unwrap();
    let loaded = std::sync::Arc::new(showfile::load_show(&path).unwrap());
    let mut app = headless::player_app(loaded.clone(), 0);
    app.world_mut().resource_mut::<Time<Virtual>>().pause();
    headless::wait_for_sources(&mut app).unwrap();
    let clock = |frame| FrameClock { time: 0.0, frame };

    let img = headless::capture_frame(&mut app, clock(1)).unwrap();
    assert_pixel(&img, 32, 18, [255.0, 0.0, 0.0], "red scene");

    // Fade red → blue at 25 %: a straight mix of the sRGB-encoded values.
    {
        let mut playback = app.world_mut().resource_mut::<Playback>();
        playback.switch_to(1, &loaded.plans, &loaded.show.scenes[1]);
        playback.advance(0.5);
    }
    let img = headless::capture_frame(&mut app, clock(2)).unwrap();
    assert_pixel(
        &img,
        32,
        18,
        [0.75 * 255.0, 0.0, 0.25 * 255.0],
        "fade at 25 %",
    );

    // Finish, then wipe blue → green halfway: the left side shows green, the right blue.
    app.world_mut().resource_mut::<Playback>().advance(2.0);
    {
        let mut playback = app.world_mut().resource_mut::<Playback>();
        playback.switch_to(2, &loaded.plans, &loaded.show.scenes[2]);
        playback.advance(1.0);
    }
    let img = headless::capture_frame(&mut app, clock(3)).unwrap();
    assert_pixel(&img, 4, 18, [0.0, 255.0, 0.0], "wipe, left side");
    assert_pixel(&img, 60, 18, [0.0, 0.0, 255.0], "wipe, right side");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Image sources: decoded off the main thread, premultiplied by the compositor, uploaded once
/// (the CPU copy is dropped after upload); a file that does not decode is reported with its
/// path and stays transparent.
#[test]
fn image_sources_upload_once_and_report_bad_files() {
    use metadj_scope::render::{ExternalTextures, FrameClock};
    use metadj_scope::sources::image::ImageSources;

    let dir = temp_dir("images");
    // 64×36 like the canvas, so fitting is 1:1: straight-alpha red at alpha 128.
    RgbaImage::from_pixel(64, 36, image::Rgba([255, 0, 0, 128]))
        .save(dir.join("half.png"))
        .unwrap();
    // `check` refuses an undecodable image, so the file goes bad after the show loaded (as a
    // file replaced during a show would): the runtime must still report it.
    RgbaImage::from_pixel(4, 4, image::Rgba([0, 0, 0, 255]))
        .save(dir.join("broken.png"))
        .unwrap();
    // One node id means one source across the show (textures are shared by id), so the two
    // files get their own ids.
    let scene = |name: &str, id: &str, file: &str| {
        format!(
            r#"(name: "{name}", nodes: {{
                "{id}": (kind: image((path: "{file}", fit: stretch))),
                "out": (kind: output(())),
            }}, edges: [(from: "{id}", to: "out")])"#
        )
    };
    let path = dir.join("images.ron");
    std::fs::write(
        &path,
        show_text(&[
            &scene("good", "pic", "half.png"),
            &scene("bad", "broken_pic", "broken.png"),
        ]),
    )
    .unwrap();
    let loaded = std::sync::Arc::new(showfile::load_show(&path).unwrap());
    std::fs::write(dir.join("broken.png"), b"not a png").unwrap();

    let mut app = headless::player_app(loaded.clone(), 0);
    headless::wait_for_sources(&mut app).unwrap();
    let img = headless::capture_frame(
        &mut app,
        FrameClock {
            time: 0.0,
            frame: 1,
        },
    )
    .unwrap();
    // Red at alpha 128/255 over black.
    assert_pixel(
        &img,
        32,
        18,
        [255.0 * 128.0 / 255.0, 0.0, 0.0],
        "half-transparent red",
    );
    let handle = app.world().resource::<ExternalTextures>().0[&show::NodeId::new("pic")].clone();
    for frame in 2..5 {
        headless::capture_frame(&mut app, FrameClock { time: 0.0, frame }).unwrap();
    }
    let images = app.world().resource::<Assets<Image>>();
    let uploaded = images.get(&handle).unwrap();
    assert_eq!(uploaded.size(), UVec2::new(64, 36));
    assert!(
        uploaded.data.is_none(),
        "the CPU copy should be gone after the single upload"
    );
    let errors: Vec<String> = app
        .world()
        .resource::<ImageSources>()
        .errors()
        .map(str::to_owned)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("broken.png"), "{errors:?}");

    let mut app = headless::player_app(loaded, 1);
    headless::wait_for_sources(&mut app).unwrap();
    let img = headless::capture_frame(
        &mut app,
        FrameClock {
            time: 0.0,
            frame: 1,
        },
    )
    .unwrap();
    assert_pixel(
        &img,
        32,
        18,
        [0.0, 0.0, 0.0],
        "undecodable image is transparent",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The windowed player (`--output-only`) under a virtual X display (`xvfb-run`, installed by
/// `make test`): it opens, shows the program scaled into the window, and quits by itself with
/// a screenshot.
#[test]
fn play_opens_a_window_showing_the_program() {
    let dir = temp_dir("play");
    let shot = dir.join("window.png");
    let show = Path::new(ROOT).join("scenes/demo.ron");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24"])
        .arg(BIN)
        .arg("play")
        .arg(&show)
        .arg("--output-only")
        // A window compiles its pipelines in the background: on lavapipe, with the other tests
        // running beside it, the first frame has taken more than 8 s (a black screenshot).
        .args(["--exit-after", "14", "--screenshot"])
        .arg(&shot)
        .env("XDG_RUNTIME_DIR", &dir)
        .output()
        .expect("xvfb-run is needed for this test (make test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let window = image::open(&shot).unwrap().to_rgba8();
    assert_eq!(window.dimensions(), (1280, 720));
    // The 16:9 canvas fills the 16:9 window; its centre matches the headless render's centre.
    let program = render_one(&show, 0, 0.0);
    let (w, h) = program.dimensions();
    let want = program.get_pixel(w / 2, h / 2);
    let got = window.get_pixel(640, 360);
    for c in 0..3 {
        assert!(
            want[c].abs_diff(got[c]) <= 8,
            "window centre {:?} vs program centre {:?}",
            got.0,
            want.0
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `play` without `--output-only` opens the console (the primary window, with the program
/// in a window of its own) and quits by itself: the screenshot is the console at its size,
/// with the red `PGM` badge of the scene on program in the scenes panel.
#[test]
fn play_opens_the_console() {
    let dir = temp_dir("console");
    let shot = dir.join("console.png");
    let show = Path::new(ROOT).join("scenes/demo.ron");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1920x1080x24"])
        .arg(BIN)
        .arg("play")
        .arg(&show)
        // As above: under load the console's first frame has taken more than 8 s.
        .args(["--exit-after", "14", "--screenshot"])
        .arg(&shot)
        .env("XDG_RUNTIME_DIR", &dir)
        .output()
        .expect("xvfb-run is needed for this test (make test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = image::open(&shot).unwrap().to_rgba8();
    assert_eq!(console.dimensions(), (1600, 900));
    // The PGM badge: strongly red pixels in the scenes panel's top left corner.
    let red = (0..200)
        .flat_map(|x| (30..80).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = console.get_pixel(x, y);
            p[0] > 150 && p[1] < 80 && p[2] < 80
        })
        .count();
    assert!(
        red > 50,
        "no PGM badge in the scenes panel ({red} red pixels)"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A screenshot that cannot be written fails `play` at once with the path, not after the run.
#[test]
fn play_refuses_an_unwritable_screenshot_path_up_front() {
    let start = Instant::now();
    let out = Command::new(BIN)
        .args([
            "play",
            "scenes/demo.ron",
            "--exit-after",
            "30",
            "--screenshot",
        ])
        .arg("/proc/no-such-dir/shot.png")
        .env("DISPLAY", ":12345")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("/proc/no-such-dir/shot.png"), "{stderr}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn cli_render_writes_jpeg_by_extension_and_refuses_unknown_ones() {
    let dir = temp_dir("render-jpeg");
    let show = dir.join("red.ron");
    std::fs::write(&show, GOOD_SHOW).unwrap();
    let out = Command::new(BIN)
        .arg("render")
        .arg(&show)
        .args(["--scene", "one", "--size", "48x30", "--out"])
        .arg(dir.join("f.jpg"))
        .env("XDG_RUNTIME_DIR", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(dir.join("f.jpg")).unwrap();
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "JPEG magic");
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (48, 30));

    for bad in ["f.bmp", "f.txt"] {
        let refused = Command::new(BIN)
            .arg("render")
            .arg(&show)
            .args(["--scene", "one", "--out"])
            .arg(dir.join(bad))
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{bad} accepted");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(".png, .jpg, .jpeg"), "{stderr}");
        assert!(!dir.join(bad).exists());
    }
    std::fs::remove_dir_all(dir).unwrap();
}
