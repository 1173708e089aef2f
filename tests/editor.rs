//! The console host end to end, headless on lavapipe: edits made through the document reach
//! the rendered program, a broken edit keeps the last good show on program with its problem on
//! the node, and sources an edit does not concern keep streaming (same camera, same Scope
//! session). Saves are atomic and are not reloaded as external edits; an external edit is
//! loaded into a clean document.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use document::Edit;
use image::RgbaImage;
use metadj_scope::editor::{Editor, EditorPlugin};
use metadj_scope::headless::{capture_frame, wait_for_sources};
use metadj_scope::render::FrameClock;
use metadj_scope::render::harness::{finish_setup, headless_app};
use metadj_scope::showfile::{self, CurrentShow, ShowPlugin};
use metadj_scope::sources::camera::CameraSource;
use metadj_scope::sources::scope::ScopeSource;
use metadj_scope::{AppSystems, PlayerPlugin};
use show::node::{NodeKind, Solid};
use show::{NodeId, Rgba};

const SHOW: &str = r#"(
    version: 1,
    canvas: (320, 180),
    scenes: [
        (
            name: "live",
            nodes: {
                "bg": (kind: solid((color: (1.0, 0.0, 0.0, 1.0)))),
                "cam": (kind: camera((device: synthetic, width: 320, height: 240, fps: 30))),
                "scope": (kind: scope((url: "embedded", pipeline: "passthrough",
                    load: (width: 64, height: 64), fit: fit))),
                "mix": (kind: blend(())),
                "out": (kind: output(())),
            },
            edges: [
                (from: "cam", to: "scope"),
                (from: "bg", to: "mix", port: "0"),
                (from: "scope", to: "mix", port: "1"),
                (from: "mix", to: "out"),
            ],
        ),
    ],
)
"#;

fn temp_show(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metadj-editor-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("show.ron");
    std::fs::write(&path, text).unwrap();
    path
}

fn editor_app(path: &Path) -> App {
    let loaded = Arc::new(showfile::load_show(path).unwrap());
    let mut app = headless_app(loaded.show.canvas);
    app.add_plugins((
        PlayerPlugin {
            show: loaded.clone(),
            watch: false,
            start_scene: 0,
            live_clock: false,
        },
        EditorPlugin {
            show: loaded,
            ui: false,
        },
    ));
    finish_setup(&mut app);
    app
}

fn id(s: &str) -> NodeId {
    NodeId::new(s)
}

/// Renders frames until `done` says the picture is the expected one, or `limit` passes.
fn render_until(
    app: &mut App,
    clock: &mut FrameClock,
    limit: Duration,
    done: impl Fn(&RgbaImage) -> bool,
) -> Option<(RgbaImage, Duration)> {
    let start = Instant::now();
    while start.elapsed() < limit {
        clock.frame += 1;
        clock.time += 1.0 / 30.0;
        let img = capture_frame(app, *clock).unwrap();
        if done(&img) {
            return Some((img, start.elapsed()));
        }
    }
    None
}

fn near(p: &image::Rgba<u8>, want: [u8; 3]) -> bool {
    p.0.iter()
        .zip(want)
        .all(|(got, want)| (i32::from(*got) - i32::from(want)).abs() <= 2)
}

fn set_bg(app: &mut App, color: Rgba) -> Result<document::Applied, document::EditError> {
    app.world_mut()
        .resource_mut::<Editor>()
        .doc
        .apply(Edit::SetKind {
            scene: 0,
            node: id("bg"),
            kind: NodeKind::Solid(Solid { color }),
        })
}

struct Streams {
    camera: (Entity, u64),
    scope: (Entity, Option<String>, u64),
}

fn streams(app: &mut App) -> Streams {
    let world = app.world_mut();
    let camera = world
        .query::<(Entity, &CameraSource)>()
        .iter(world)
        .map(|(e, c)| (e, c.frames_uploaded()))
        .next()
        .expect("a camera source");
    let scope = world
        .query::<(Entity, &ScopeSource)>()
        .iter(world)
        .map(|(e, s)| (e, s.stats().session_id, s.frames_received()))
        .next()
        .expect("a Scope source");
    Streams { camera, scope }
}

#[test]
fn an_edit_reaches_the_program_and_unrelated_streams_keep_running() {
    let path = temp_show("live", SHOW);
    let mut app = editor_app(&path);
    wait_for_sources(&mut app).unwrap();
    let mut clock = FrameClock {
        time: 0.0,
        frame: 0,
    };
    // The Scope picture is square and fitted: the canvas's left edge shows the background.
    let (x, y) = (4, 90);
    render_until(&mut app, &mut clock, Duration::from_secs(20), |img| {
        near(img.get_pixel(x, y), [255, 0, 0])
    })
    .expect("red background on program");
    let before = streams(&mut app);
    assert!(before.scope.1.is_some(), "the Scope node has a session");

    set_bg(&mut app, Rgba(0.0, 0.0, 1.0, 1.0)).unwrap();
    let (_, took) = render_until(&mut app, &mut clock, Duration::from_secs(10), |img| {
        near(img.get_pixel(x, y), [0, 0, 255])
    })
    .expect("the edit shows on program");
    eprintln!("edit on program after {took:?}");

    // Keep rendering a little so both sources deliver frames after the edit.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        clock.frame += 1;
        clock.time += 1.0 / 30.0;
        capture_frame(&mut app, clock).unwrap();
        let after = streams(&mut app);
        if after.camera.1 > before.camera.1 + 3 && after.scope.2 > before.scope.2 + 3 {
            assert_eq!(
                after.camera.0, before.camera.0,
                "the camera was not restarted"
            );
            assert_eq!(
                after.scope.0, before.scope.0,
                "the Scope node was not restarted"
            );
            assert_eq!(after.scope.1, before.scope.1, "same Scope session");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "frames stopped flowing after the edit"
        );
    }
}

#[test]
fn a_broken_edit_keeps_the_last_good_show_and_marks_the_node() {
    let path = temp_show(
        "broken",
        &SHOW
            .replace(r#""scope": (kind: scope"#, r#""scope2": (kind: scope"#)
            .replace(
                r#"(from: "cam", to: "scope"),"#,
                r#"(from: "cam", to: "scope2"),"#,
            )
            .replace(
                r#"(from: "scope", to: "mix""#,
                r#"(from: "scope2", to: "mix""#,
            ),
    );
    let mut app = editor_app(&path);
    let good = app.world().resource::<CurrentShow>().0.clone();
    // NaN is a parameter validate refuses: the program keeps the last good show.
    set_bg(&mut app, Rgba(f32::NAN, 0.0, 0.0, 1.0)).unwrap();
    let start = Instant::now();
    loop {
        app.update();
        let editor = app.world().resource::<Editor>();
        if let Some(msg) = editor.node_errors.get(&(0, id("bg"))) {
            assert!(msg.contains("color.r"), "{msg}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no error on the node"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let now = app.world().resource::<CurrentShow>().0.clone();
    assert!(
        Arc::ptr_eq(&good, &now),
        "the program keeps the last good show"
    );
    // Fixing it clears the mark and goes live.
    set_bg(&mut app, Rgba(0.0, 1.0, 0.0, 1.0)).unwrap();
    let start = Instant::now();
    loop {
        app.update();
        let world = app.world();
        let live = &world.resource::<CurrentShow>().0.show.scenes[0].nodes[&id("bg")].kind;
        if *live
            == NodeKind::Solid(Solid {
                color: Rgba(0.0, 1.0, 0.0, 1.0),
            })
        {
            assert!(world.resource::<Editor>().node_errors.is_empty());
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the fix did not go live"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The document, the file watcher and the program without a GPU.
fn watched_editor_app(path: &Path) -> App {
    let loaded = Arc::new(showfile::load_show(path).unwrap());
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .configure_sets(Update, AppSystems::LoadShow)
        .add_plugins((
            ShowPlugin {
                initial: loaded.clone(),
                watch: true,
            },
            EditorPlugin {
                show: loaded,
                ui: false,
            },
        ));
    app.add_message::<metadj_scope::control::ShowCommand>();
    app.update();
    app
}

fn update_until(app: &mut App, limit: Duration, done: impl Fn(&App) -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        app.update();
        if done(app) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn external_edits_load_into_a_clean_document_and_wait_when_it_has_unsaved_changes() {
    let path = temp_show("external", SHOW);
    let mut app = watched_editor_app(&path);
    // Clean document: the file's new version is loaded and played.
    std::fs::write(
        &path,
        SHOW.replace("(1.0, 0.0, 0.0, 1.0)", "(0.0, 1.0, 0.0, 1.0)"),
    )
    .unwrap();
    let green = NodeKind::Solid(Solid {
        color: Rgba(0.0, 1.0, 0.0, 1.0),
    });
    assert!(
        update_until(&mut app, Duration::from_secs(5), |app| {
            app.world().resource::<CurrentShow>().0.show.scenes[0].nodes[&id("bg")].kind == green
        }),
        "external edit not loaded"
    );
    {
        let editor = app.world().resource::<Editor>();
        assert!(!editor.doc.is_dirty());
        assert_eq!(editor.doc.show().scenes[0].nodes[&id("bg")].kind, green);
    }
    // Unsaved changes: the file's version waits; the document keeps the operator's work.
    set_bg(&mut app, Rgba(0.0, 0.0, 1.0, 1.0)).unwrap();
    let mine = app.world().resource::<Editor>().doc.show().clone();
    std::fs::write(
        &path,
        SHOW.replace("(1.0, 0.0, 0.0, 1.0)", "(1.0, 1.0, 1.0, 1.0)"),
    )
    .unwrap();
    assert!(
        update_until(&mut app, Duration::from_secs(5), |app| {
            app.world().resource::<Editor>().has_pending_external()
        }),
        "the external edit was not noticed"
    );
    assert_eq!(app.world().resource::<Editor>().doc.show(), &mine);
}

#[test]
fn the_consoles_own_save_is_atomic_and_not_reloaded_as_an_external_edit() {
    let path = temp_show("save", SHOW);
    let original = std::fs::read_to_string(&path).unwrap();
    let mut app = watched_editor_app(&path);
    set_bg(&mut app, Rgba(0.0, 0.0, 1.0, 1.0)).unwrap();
    app.world_mut().resource_mut::<Editor>().save();
    assert!(
        update_until(&mut app, Duration::from_secs(5), |app| {
            !app.world().resource::<Editor>().doc.is_dirty()
        }),
        "save did not finish"
    );
    let saved = show::io::load(&path).unwrap();
    assert_eq!(&saved, app.world().resource::<Editor>().doc.show());
    assert_eq!(
        std::fs::read_to_string(show::io::backup_path(&path)).unwrap(),
        original
    );
    // The watcher sees the write; it must not come back as an external edit (an undo step).
    let steps = app.world().resource::<Editor>().doc.undo_steps();
    update_until(&mut app, Duration::from_millis(800), |_| false);
    let editor = app.world().resource::<Editor>();
    assert_eq!(
        editor.doc.undo_steps(),
        steps,
        "own save reloaded as an edit"
    );
    assert!(!editor.has_pending_external());
    assert!(
        metadj_scope::showfile::load_show(&path).is_ok(),
        "the saved file passes check"
    );
}

/// What the performer's Scope panel does, checked where it matters, at the server: a sent
/// prompt is one data-channel update carrying its transition; a reference-strength drag that
/// edits the scene on every frame for 2 s reaches the server as at most 21 updates (the worker
/// coalesces), and the last value arrives.
#[test]
fn scope_edits_reach_the_server_as_one_update_and_a_drag_is_coalesced() {
    let srv = scope_server::EmbeddedServer::start(scope_server::ServerOptions::default()).unwrap();
    let text = SHOW.replace(r#"url: "embedded""#, &format!(r#"url: "{}""#, srv.url()));
    let path = temp_show("scope-live", &text);
    let mut app = editor_app(&path);
    wait_for_sources(&mut app).unwrap();
    let mut clock = FrameClock::default();
    let live = |app: &mut App| {
        let world = app.world_mut();
        world
            .query::<&ScopeSource>()
            .iter(world)
            .any(|s| s.stats().state == ::scope::ScopeState::Live && s.frames_received() > 3)
    };
    let run_for = |app: &mut App, clock: &mut FrameClock, d: Duration| {
        let start = Instant::now();
        while start.elapsed() < d {
            clock.frame += 1;
            clock.time += 1.0 / 60.0;
            capture_frame(app, *clock).unwrap();
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !live(&mut app) {
        assert!(Instant::now() < deadline, "Scope never went live");
        run_for(&mut app, &mut clock, Duration::from_millis(100));
    }
    run_for(&mut app, &mut clock, Duration::from_millis(500));
    let node_params = |app: &App| match &app.world().resource::<CurrentShow>().0.show.scenes[0]
        .nodes[&id("scope")]
        .kind
    {
        NodeKind::Scope(s) => s.params.clone(),
        _ => unreachable!("scope is a Scope node"),
    };
    let set = |app: &mut App, params: show::node::ScopeParams| {
        app.world_mut()
            .resource_mut::<Editor>()
            .doc
            .apply(Edit::SetSceneScope {
                scene: 0,
                scope: Some(params),
            })
            .unwrap();
    };

    let before = srv.faults().channel_updates().len();
    let mut params = node_params(&app);
    params.prompts = vec![show::node::Prompt {
        text: "chrome samurai, rim light".into(),
        weight: 1.0,
    }];
    params.transition_steps = Some(8);
    set(&mut app, params.clone());
    run_for(&mut app, &mut clock, Duration::from_millis(1500));
    let updates = srv.faults().channel_updates();
    let sent = &updates[before..];
    assert_eq!(sent.len(), 1, "one prompt send, one update: {sent:?}");
    // With a transition the prompts travel as its target (scope-api.md, prompt transitions).
    let transition = sent[0].get("transition").expect("a transition");
    assert_eq!(transition["num_steps"], 8, "{sent:?}");
    assert_eq!(
        transition["target_prompts"][0]["text"], "chrome samurai, rim light",
        "{sent:?}"
    );

    let before = updates.len();
    let start = Instant::now();
    let mut last = 0.0;
    let mut edits = 0;
    while start.elapsed() < Duration::from_secs(2) {
        edits += 1;
        last = (edits as f32 * 0.01).min(2.0);
        params.vace_context_scale = Some(last);
        set(&mut app, params.clone());
        run_for(&mut app, &mut clock, Duration::from_millis(16));
    }
    run_for(&mut app, &mut clock, Duration::from_secs(1));
    let updates = srv.faults().channel_updates();
    let sent = &updates[before..];
    eprintln!(
        "{edits} edits in 2 s reached the server as {} updates",
        sent.len()
    );
    assert!(edits > 30, "the drag made only {edits} edits");
    assert!((2..=21).contains(&sent.len()), "{} updates", sent.len());
    let got = sent.last().unwrap().get("vace_context_scale");
    let got = got.and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
    assert!(
        (got - f64::from(last)).abs() < 1e-6,
        "last value {got}, sent {last}"
    );

    // Recalling a prompt preset (as the panel does) sends only what differs: new prompts with
    // the preset's transition; the strength it shares with the current state is not sent.
    let preset = show::preset::PromptPreset {
        name: "ink".into(),
        prompts: vec![show::node::Prompt {
            text: "ink wash monk".into(),
            weight: 1.0,
        }],
        transition_steps: Some(5),
        vace_context_scale: Some(last),
        ..Default::default()
    };
    let before = updates.len();
    set(&mut app, preset.apply_to(&params));
    run_for(&mut app, &mut clock, Duration::from_millis(1500));
    let updates = srv.faults().channel_updates();
    let sent = &updates[before..];
    assert_eq!(sent.len(), 1, "{sent:?}");
    let keys: Vec<&String> = sent[0].keys().collect();
    assert_eq!(keys, ["transition"], "only what differs: {sent:?}");
    assert_eq!(sent[0]["transition"]["num_steps"], 5);
}
