//! obs-websocket end to end: a real client (the `obws` crate, as Companion-style tools use the
//! protocol) drives a running app over the network: scenes, preview, transitions, the T-bar,
//! node parameters, scene-item visibility and the Scope vendor requests reach the show through
//! the same commands as every other surface, and events come back. A wrong password is refused
//! with 4009; garbage and 100 connections leave the server serving and the show playing.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

mod common;

use std::time::{Duration, Instant};

use bevy::prelude::*;
use common::control_app;
use futures_util::StreamExt;
use metadj_scope::editor::Editor;
use metadj_scope::obs_ws::{ObsWebSocket, ObsWebSocketPlugin, item_id};
use metadj_scope::playback::Playback;
use metadj_scope::showfile::CurrentShow;
use obws::events::Event;
use obws::requests::general::CallVendorRequest;
use obws::requests::inputs::{InputId, SetSettings};
use obws::requests::scene_items::SetEnabled;
use obws::requests::scenes::SceneId;
use serde_json::{Value, json};
use show::NodeId;
use show::node::NodeKind;

const SHOW: &str = r#"(version: 2, canvas: (64, 36),
    presets: (prompts: [(name: "ink", prompts: [(text: "ink drawing", weight: 1.0)])]),
    scenes: [
        (name: "one", nodes: {
            "bg": (kind: solid(())), "fg": (kind: solid(())),
            "scope": (kind: scope((url: "embedded", pipeline: "passthrough", params: (prompts: [(text: "start", weight: 1.0)])))),
            "mix": (kind: blend((layers: [(mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0)]))),
            "out": (kind: output(())) },
          edges: [(from: "bg", to: "mix", port: "0"), (from: "fg", to: "mix", port: "1"),
                  (from: "scope", to: "mix", port: "2"), (from: "mix", to: "out")]),
        (name: "two", transition: (kind: fade, duration: 0.5),
          nodes: { "bg": (kind: solid(())), "out": (kind: output(())) }, edges: [(from: "bg", to: "out")]),
        (name: "outro", nodes: { "bg": (kind: solid(())), "out": (kind: output(())) }, edges: [(from: "bg", to: "out")]),
    ])"#;

fn app(password: Option<&str>) -> App {
    control_app(
        "obsws",
        SHOW,
        true,
        ObsWebSocketPlugin {
            addr: "127.0.0.1:0".parse().unwrap(),
            password: password.map(str::to_owned),
        },
    )
}

/// Runs `client` on its own thread and runtime while this thread plays the app, as a show
/// plays while a controller talks to it. Returns the app after the client finished.
fn drive<F, Fut>(mut app: App, client: F) -> App
where
    F: FnOnce(u16) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let port = app.world().resource::<ObsWebSocket>().addr().port();
    let thread = std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(client(port));
    });
    let start = Instant::now();
    while !thread.is_finished() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "client took over 60 s"
        );
        app.update();
        std::thread::sleep(Duration::from_millis(2));
    }
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
    app
}

/// The next event matching `want`, within 5 s.
async fn event(events: &mut obws::events::EventStream, want: impl Fn(&Event) -> bool) -> Event {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = events.next().await.expect("event stream open");
            if want(&e) {
                return e;
            }
        }
    })
    .await
    .expect("the event within 5 s")
}

async fn until_program(client: &obws::Client, name: &str) {
    let start = Instant::now();
    while client
        .scenes()
        .current_program_scene()
        .await
        .unwrap()
        .id
        .name
        != name
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "program never became {name}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn layer_opacity(app: &App, layer: usize) -> f32 {
    match &app.world().resource::<CurrentShow>().0.show.scenes[0].nodes[&NodeId::new("mix")].kind {
        NodeKind::Blend(b) => b.layers[layer].opacity,
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_obs_websocket_client_drives_scenes_studio_mode_parameters_and_scope() {
    let app = drive(app(None), |port| async move {
        let client = obws::Client::connect("127.0.0.1", port, None::<&str>)
            .await
            .unwrap();
        let mut events = client.events().unwrap();
        let version = client.general().version().await.unwrap();
        assert_eq!(version.rpc_version, 1);
        assert!(
            version
                .available_requests
                .iter()
                .any(|r| r == "SetTBarPosition")
        );

        // Scenes as OBS lists them: last first, index 0 at the bottom.
        let scenes = client.scenes().list().await.unwrap();
        let names: Vec<_> = scenes
            .scenes
            .iter()
            .map(|s| (s.id.name.as_str(), s.index))
            .collect();
        assert_eq!(names, [("outro", 0), ("two", 1), ("one", 2)]);
        assert_eq!(scenes.current_program_scene.unwrap().name, "one");
        assert!(client.ui().studio_mode_enabled().await.unwrap());

        // Program, with its event.
        client
            .scenes()
            .set_current_program_scene("outro")
            .await
            .unwrap();
        assert_eq!(
            client
                .scenes()
                .current_program_scene()
                .await
                .unwrap()
                .id
                .name,
            "outro"
        );
        let e = event(&mut events, |e| {
            matches!(e, Event::CurrentProgramSceneChanged { .. })
        })
        .await;
        assert!(matches!(e, Event::CurrentProgramSceneChanged { id } if id.name == "outro"));
        let missing = client
            .scenes()
            .set_current_program_scene("nope")
            .await
            .unwrap_err();
        assert!(
            matches!(
                missing,
                obws::error::Error::Api {
                    code: obws::responses::StatusCode::ResourceNotFound,
                    ..
                }
            ),
            "{missing:?}"
        );

        // Preview, then the T-bar mixes it in by hand (its transition starts) and 1 takes it.
        client
            .scenes()
            .set_current_preview_scene("two")
            .await
            .unwrap();
        assert_eq!(
            client
                .scenes()
                .current_preview_scene()
                .await
                .unwrap()
                .id
                .name,
            "two"
        );
        event(
            &mut events,
            |e| matches!(e, Event::CurrentPreviewSceneChanged { id } if id.name == "two"),
        )
        .await;
        client
            .transitions()
            .set_tbar_position(0.4, Some(false))
            .await
            .unwrap();
        event(&mut events, |e| {
            matches!(e, Event::SceneTransitionStarted { .. })
        })
        .await;
        client
            .transitions()
            .set_tbar_position(1.0, None)
            .await
            .unwrap();
        until_program(&client, "two").await;
        event(&mut events, |e| {
            matches!(e, Event::SceneTransitionEnded { .. })
        })
        .await;

        // The studio-mode transition: a picked Fade of 200 ms, then back with Cut.
        client.transitions().set_current("Fade").await.unwrap();
        client
            .transitions()
            .set_current_duration(time::Duration::milliseconds(200))
            .await
            .unwrap();
        let current = client.transitions().current().await.unwrap();
        assert_eq!(
            (current.id.name.as_str(), current.duration),
            ("Fade", Some(time::Duration::milliseconds(200)))
        );
        client.transitions().trigger().await.unwrap();
        event(&mut events, |e| {
            matches!(e, Event::SceneTransitionStarted { .. })
        })
        .await;
        until_program(&client, "outro").await;
        // A transition button pressed while one runs does nothing (as in OBS): wait for it.
        event(&mut events, |e| {
            matches!(e, Event::SceneTransitionEnded { .. })
        })
        .await;
        client.transitions().set_current("Cut").await.unwrap();
        client
            .scenes()
            .set_current_preview_scene("one")
            .await
            .unwrap();
        client.transitions().trigger().await.unwrap();
        until_program(&client, "one").await;

        // Nodes as scene items and inputs; settings are the node's spec parameters.
        let items = client
            .scene_items()
            .list(SceneId::Name("one"))
            .await
            .unwrap();
        assert_eq!(items.len(), 5);
        let fg = items.iter().find(|i| i.source_name == "one/fg").unwrap();
        assert_eq!(fg.id, item_id(&NodeId::new("fg")));
        let mix = client
            .inputs()
            .settings::<Value>(InputId::Name("one/mix"))
            .await
            .unwrap();
        assert_eq!(mix.kind, "blend");
        assert_eq!(mix.settings["layers.opacity"], json!([1.0, 1.0, 1.0]));
        client
            .inputs()
            .set_settings(SetSettings {
                input: InputId::Name("one/mix"),
                settings: &json!({ "layers.opacity": [1.0, 0.25, 1.0] }),
                overlay: None,
            })
            .await
            .unwrap();
        let e = event(
            &mut events,
            |e| matches!(e, Event::InputSettingsChanged { id, .. } if id.name == "one/mix"),
        )
        .await;
        let Event::InputSettingsChanged { settings, .. } = e else {
            unreachable!()
        };
        assert_eq!(settings["layers.opacity"], json!([1.0, 0.25, 1.0]));
        let bad = client
            .inputs()
            .set_settings(SetSettings {
                input: InputId::Name("one/mix"),
                settings: &json!({ "layers.opacity": [1.0, 7.0] }),
                overlay: None,
            })
            .await;
        assert!(bad.is_err(), "out of range is refused");
        // `overlay: false` resets what is not given to the defaults first, as OBS does.
        client
            .inputs()
            .set_settings(SetSettings {
                input: InputId::Name("one/mix"),
                settings: &json!({ "layers.mode": ["normal", "multiply", "normal"] }),
                overlay: Some(false),
            })
            .await
            .unwrap();
        let mix = client
            .inputs()
            .settings::<Value>(InputId::Name("one/mix"))
            .await
            .unwrap();
        assert_eq!(
            mix.settings["layers.mode"],
            json!(["normal", "multiply", "normal"])
        );
        assert_eq!(
            mix.settings["layers.opacity"],
            json!([1.0, 1.0, 1.0]),
            "the opacity not given is back at its default"
        );

        // A scene item's visibility is the opacity of the blend layer it feeds.
        client
            .scene_items()
            .set_enabled(SetEnabled {
                scene: SceneId::Name("one"),
                item_id: fg.id,
                enabled: false,
            })
            .await
            .unwrap();
        assert!(
            !client
                .scene_items()
                .enabled(SceneId::Name("one"), fg.id)
                .await
                .unwrap()
        );

        // What OBS has no words for: the Scope vendor requests.
        let status: obws::responses::general::VendorResponse<Value> = client
            .general()
            .call_vendor_request(CallVendorRequest {
                vendor_name: "metadj-scope",
                request_type: "scope_status",
                request_data: &json!({}),
            })
            .await
            .unwrap();
        assert!(status.response_data["scopes"].is_array());
        let _: obws::responses::general::VendorResponse<Value> = client
            .general()
            .call_vendor_request(CallVendorRequest {
                vendor_name: "metadj-scope",
                request_type: "send_prompt",
                request_data: &json!({ "text": "a painted fox", "weight": 0.5 }),
            })
            .await
            .unwrap();
        let unknown = client
            .general()
            .call_vendor_request::<_, Value>(CallVendorRequest {
                vendor_name: "metadj-scope",
                request_type: "dance",
                request_data: &json!({}),
            })
            .await;
        assert!(unknown.is_err());
        // Studio mode stays on, clearly.
        assert!(client.ui().set_studio_mode_enabled(false).await.is_err());
        assert!(client.ui().set_studio_mode_enabled(true).await.is_ok());
    });
    let playback = app.world().resource::<Playback>();
    assert_eq!(playback.scene, 0);
    assert_eq!(layer_opacity(&app, 1), 0.0, "fg hidden (after 0.25)");
    let scope = app.world().resource::<Editor>().doc.show().scenes[0]
        .scope
        .clone()
        .unwrap();
    assert_eq!(
        (scope.prompts[0].text.as_str(), scope.prompts[0].weight),
        ("a painted fox", 0.5)
    );
}

#[test]
fn passwords_garbage_and_a_crowd_leave_the_server_serving() {
    let app = drive(app(Some("s3cret")), |port| async move {
        // Wrong password: closed with AuthenticationFailed (4009).
        let wrong = obws::Client::connect("127.0.0.1", port, Some("guess")).await;
        match wrong {
            Err(obws::error::Error::Handshake(obws::client::HandshakeError::ConnectionClosed(
                Some(d),
            ))) => {
                assert_eq!(u16::from(d.code), 4009, "{}", d.reason);
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        // Garbage on raw sockets, and 100 clients connecting and going away.
        use tokio::io::AsyncWriteExt;
        for i in 0..100 {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            if i % 2 == 0 {
                s.write_all(b"GET / HTTP/1.1\r\n\r\n\x00\xff garbage")
                    .await
                    .unwrap();
            }
        }
        let mut crowd = Vec::new();
        for _ in 0..20 {
            crowd.push(
                obws::Client::connect("127.0.0.1", port, Some("s3cret"))
                    .await
                    .unwrap(),
            );
        }
        drop(crowd);
        // Still serving, and the right password drives the show.
        let client = obws::Client::connect("127.0.0.1", port, Some("s3cret"))
            .await
            .unwrap();
        client
            .scenes()
            .set_current_program_scene("two")
            .await
            .unwrap();
        until_program(&client, "two").await;
    });
    assert_eq!(
        app.world().resource::<Playback>().scene,
        1,
        "the show played on"
    );
}

/// `GetSourceScreenshot` of the program scene is the rendered program picture (lavapipe), as
/// PNG base64; of another scene or of a node, that scene's or node's own rendered picture; an
/// unknown source is refused with a status, not a dropped connection.
#[test]
fn a_screenshot_is_the_rendered_program_picture() {
    use metadj_scope::render::harness::{finish_setup, headless_app};
    let dir = std::env::temp_dir().join(format!("metadj-obsws-shot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("show.ron");
    // Straight sRGB (0.8, 0.2, 0.4): the PNG holds those values x255, within 1 step.
    std::fs::write(
        &path,
        r#"(version: 2, canvas: (64, 36), scenes: [(name: "pink",
            nodes: { "bg": (kind: solid((color: (0.8, 0.2, 0.4, 1.0)))), "out": (kind: output(())) },
            edges: [(from: "bg", to: "out")]),
          (name: "teal",
            nodes: { "bg": (kind: solid((color: (0.1, 0.6, 0.5, 1.0)))),
                     "dim": (kind: color_adjust((brightness: -0.1))), "out": (kind: output(())) },
            edges: [(from: "bg", to: "dim"), (from: "dim", to: "out")])])"#,
    )
    .unwrap();
    let loaded = std::sync::Arc::new(metadj_scope::showfile::load_show(&path).unwrap());
    let mut app = headless_app(loaded.show.canvas);
    app.add_plugins((
        metadj_scope::PlayerPlugin {
            show: loaded.clone(),
            watch: false,
            start_scene: 0,
            live_clock: true,
        },
        metadj_scope::editor::EditorPlugin {
            show: loaded,
            ui: false,
        },
        ObsWebSocketPlugin {
            addr: "127.0.0.1:0".parse().unwrap(),
            password: None,
        },
    ));
    finish_setup(&mut app);
    app.update();
    let _app = drive(app, |port| async move {
        let client = obws::Client::connect("127.0.0.1", port, None::<&str>)
            .await
            .unwrap();
        let shot = |name: &'static str| obws::requests::sources::TakeScreenshot {
            source: obws::requests::sources::SourceId::Name(name),
            format: "png",
            width: None,
            height: None,
            compression_quality: None,
        };
        let sources = client.sources();
        let picture = |uri: String| {
            let b64 = uri
                .strip_prefix("data:image/png;base64,")
                .unwrap_or_else(|| panic!("not a PNG data URI: {}", &uri[..40.min(uri.len())]));
            use base64::Engine;
            let png = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            image::load_from_memory(&png).unwrap().to_rgba8()
        };
        let check = |picture: &image::RgbaImage, rgb: [f64; 3], what: &str| {
            assert_eq!(picture.dimensions(), (64, 36), "{what}");
            let want = [rgb[0], rgb[1], rgb[2], 1.0].map(|c| (c * 255.0).round());
            for p in [picture.get_pixel(0, 0), picture.get_pixel(32, 18)] {
                for c in 0..4 {
                    assert!(
                        (f64::from(p[c]) - want[c]).abs() <= 1.0,
                        "{what}: {:?} vs {want:?}",
                        p.0
                    );
                }
            }
        };
        let pink = [0.8, 0.2, 0.4];
        let teal = [0.1, 0.6, 0.5];
        check(
            &picture(sources.take_screenshot(shot("pink")).await.unwrap()),
            pink,
            "program",
        );
        // A node of the program scene, by its own name and by `scene/node`.
        check(
            &picture(sources.take_screenshot(shot("bg")).await.unwrap()),
            pink,
            "bg",
        );
        // A scene off program, and nodes of it: the colour adjustment's brightness is an
        // offset on the sRGB-encoded channels (shaders/color_adjust.wgsl), 0.1 down.
        let dimmed = teal.map(|c| c - 0.1);
        check(
            &picture(sources.take_screenshot(shot("teal")).await.unwrap()),
            dimmed,
            "teal",
        );
        check(
            &picture(sources.take_screenshot(shot("teal/bg")).await.unwrap()),
            teal,
            "teal/bg",
        );
        check(
            &picture(sources.take_screenshot(shot("teal/dim")).await.unwrap()),
            dimmed,
            "teal/dim",
        );
        // JPEG at a size asked for, scaled to fit.
        let small = sources
            .take_screenshot(obws::requests::sources::TakeScreenshot {
                source: obws::requests::sources::SourceId::Name("teal/bg"),
                format: "jpg",
                width: Some(32),
                height: None,
                compression_quality: None,
            })
            .await
            .unwrap();
        assert!(small.starts_with("data:image/jpeg;base64,"));
        assert!(
            sources.take_screenshot(shot("nowhere")).await.is_err(),
            "an unknown source is refused"
        );
        // Still serving after the refusal.
        assert!(client.general().version().await.is_ok());
    });
}
