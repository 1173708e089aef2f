//! OSC control end to end: real UDP packets (encoded with rosc, as TouchOSC or Companion send
//! them) cut scenes in a running app; malformed packets are counted and change nothing.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

mod common;

use std::net::UdpSocket;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use common::{LIVE_SCENE, control_app};
use metadj_scope::editor::Editor;
use metadj_scope::osc::{OscListener, OscPlugin};
use metadj_scope::playback::Playback;
use metadj_scope::showfile::CurrentShow;
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};
use show::node::NodeKind;

fn app() -> App {
    let scene = |name: &str| {
        format!(
            r#"(name: "{name}", nodes: {{ "bg": (kind: solid(())), "out": (kind: output(())) }}, edges: [(from: "bg", to: "out")])"#
        )
    };
    app_for(&format!(
        "(version: 1, canvas: (64, 36), scenes: [{}, {}, {}])",
        scene("one"),
        scene("two"),
        scene("outro")
    ))
}

fn app_for(text: &str) -> App {
    app_with(text, None)
}

fn app_with(text: &str, feedback: Option<std::net::SocketAddr>) -> App {
    control_app(
        "osc",
        text,
        false,
        OscPlugin {
            addr: "127.0.0.1:0".parse().unwrap(),
            feedback,
        },
    )
}

fn send(to: std::net::SocketAddr, packet: &OscPacket) {
    let bytes = rosc::encoder::encode(packet).unwrap();
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(&bytes, to)
        .unwrap();
}

fn message(addr: &str, args: Vec<OscType>) -> OscPacket {
    OscPacket::Message(OscMessage {
        addr: addr.to_owned(),
        args,
    })
}

fn until(app: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(app) {
        assert!(start.elapsed() < Duration::from_secs(5), "{what}");
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn scene(app: &App) -> usize {
    app.world().resource::<Playback>().scene
}

#[test]
fn osc_messages_and_bundles_cut_scenes_and_bad_packets_are_counted() {
    let mut app = app();
    let addr = app.world().resource::<OscListener>().addr;
    assert!(addr.ip().is_loopback());

    send(addr, &message("/metadj/scene/2/program", vec![]));
    until(&mut app, "cut to scene 2 by number", |app| scene(app) == 1);

    // A bundle, as Companion sends a button press: by name.
    send(
        addr,
        &OscPacket::Bundle(OscBundle {
            timetag: OscTime::from((0, 1)),
            content: vec![message(
                "/metadj/scene/outro/program",
                vec![OscType::Int(1)],
            )],
        }),
    );
    until(&mut app, "cut to outro by name", |app| scene(app) == 2);

    // A release, garbage, an unknown address and a scene that does not exist change nothing.
    let rejected = app.world().resource::<OscListener>().rejected.clone();
    send(
        addr,
        &message("/metadj/scene/1/program", vec![OscType::Float(0.0)]),
    );
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"\x00garbage", addr)
        .unwrap();
    send(addr, &message("/nope", vec![]));
    send(addr, &message("/metadj/scene/9/program", vec![]));
    until(&mut app, "bad packets counted", |_| {
        rejected.load(Ordering::Relaxed) >= 2
    });
    for _ in 0..20 {
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(scene(&app), 2, "nothing bad moved the program");
    assert_eq!(rejected.load(Ordering::Relaxed), 2);

    // Still listening afterwards.
    send(
        addr,
        &message("/metadj/scene/1/program", vec![OscType::Bool(true)]),
    );
    until(&mut app, "cut back to scene 1", |app| scene(app) == 0);
}

#[test]
fn osc_drives_studio_mode_preview_tbar_and_take() {
    let mut app = app();
    let addr = app.world().resource::<OscListener>().addr;
    let studio = |app: &App| {
        let p = app.world().resource::<Playback>();
        (p.scene, p.preview, p.tbar_position())
    };
    send(addr, &message("/metadj/scene/outro/preview", vec![]));
    until(&mut app, "outro in preview", |app| {
        studio(app) == (0, Some(2), 0.0)
    });
    // A fader: 0.4 mixes by hand, 1.0 takes.
    send(addr, &message("/metadj/tbar", vec![OscType::Float(0.4)]));
    until(&mut app, "T-bar at 0.4", |app| {
        let (s, p, t) = studio(app);
        (s, p) == (2, Some(0)) && (t - 0.4).abs() < 1e-6
    });
    send(addr, &message("/metadj/tbar", vec![OscType::Float(1.0)]));
    until(&mut app, "taken by the T-bar", |app| {
        studio(app) == (2, Some(0), 0.0) && app.world().resource::<Playback>().transition.is_none()
    });
    // Take swaps back.
    send(addr, &message("/metadj/take", vec![OscType::Int(1)]));
    until(&mut app, "taken back", |app| {
        studio(app) == (0, Some(2), 0.0)
    });
}

#[test]
fn osc_sets_node_parameters_and_scope_prompts_without_undo_steps() {
    let mut app = app_for(&format!(
        r#"(version: 2, canvas: (64, 36), presets: (prompts: [(name: "ink", prompts: [(text: "ink drawing", weight: 1.0)])]),
        scenes: [{LIVE_SCENE}])"#
    ));
    let addr = app.world().resource::<OscListener>().addr;
    let opacity = |app: &App| match &app.world().resource::<CurrentShow>().0.show.scenes[0].nodes
        [&show::NodeId::new("mix")]
        .kind
    {
        NodeKind::Blend(b) => b.layers[1].opacity,
        other => panic!("{other:?}"),
    };
    let prompt = |app: &App| {
        let scene = &app.world().resource::<Editor>().doc.show().scenes[0];
        scene
            .scope
            .as_ref()
            .map(|s| (s.prompts[0].text.clone(), s.prompts[0].weight))
    };
    // Reached the compiled show (what renders), not only the document.
    send(
        addr,
        &message(
            "/metadj/node/mix/layers.opacity/1",
            vec![OscType::Float(0.25)],
        ),
    );
    until(&mut app, "opacity 0.25 on program", |app| {
        opacity(app) == 0.25
    });
    send(
        addr,
        &message(
            "/metadj/node/mix/layers.opacity/1/normalized",
            vec![OscType::Float(0.5)],
        ),
    );
    until(&mut app, "opacity 0.5 by a fader", |app| {
        opacity(app) == 0.5
    });
    // Out of range, a missing node and a missing item are refused and change nothing.
    for (addr_, v) in [
        ("/metadj/node/mix/layers.opacity/1", OscType::Float(7.0)),
        ("/metadj/node/nope/opacity", OscType::Float(0.1)),
        ("/metadj/node/mix/layers.opacity/9", OscType::Float(0.1)),
    ] {
        send(addr, &message(addr_, vec![v]));
    }
    send(
        addr,
        &message(
            "/metadj/scope/scope/prompt",
            vec![OscType::String("a neon fox".into()), OscType::Float(0.8)],
        ),
    );
    until(&mut app, "prompt set", |app| {
        prompt(app) == Some(("a neon fox".into(), 0.8))
    });
    assert_eq!(opacity(&app), 0.5, "refused values changed nothing");
    send(
        addr,
        &message(
            "/metadj/scope/scope/preset",
            vec![OscType::String("ink".into())],
        ),
    );
    until(&mut app, "preset recalled", |app| {
        prompt(app) == Some(("ink drawing".into(), 1.0))
    });
    send(
        addr,
        &message("/metadj/scope/scope/vace_scale", vec![OscType::Float(1.5)]),
    );
    until(&mut app, "VACE scale set", |app| {
        let doc = &app.world().resource::<Editor>().doc;
        doc.show().scenes[0]
            .scope
            .as_ref()
            .and_then(|s| s.vace_context_scale)
            == Some(1.5)
    });
    let doc = &app.world().resource::<Editor>().doc;
    assert!(doc.is_dirty(), "a surface's change is kept and saved");
    assert!(!doc.can_undo(), "performance is not an undo step");
}

#[test]
fn osc_address_patterns_match_the_shows_addresses_and_feedback_follows_the_show() {
    let feedback = UdpSocket::bind("127.0.0.1:0").unwrap();
    feedback
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let plain = |name: &str| {
        format!(
            r#"(name: "{name}", nodes: {{ "bg": (kind: solid(())), "out": (kind: output(())) }}, edges: [(from: "bg", to: "out")])"#
        )
    };
    let mut app = app_with(
        &format!(
            "(version: 2, canvas: (64, 36), scenes: [{LIVE_SCENE}, {}, {}])",
            plain("two"),
            plain("outro")
        ),
        Some(feedback.local_addr().unwrap()),
    );
    let addr = app.world().resource::<OscListener>().addr;
    // Everything that feedback said, by address (the latest value of each).
    let mut heard: std::collections::HashMap<String, Vec<OscType>> = Default::default();
    let mut listen = |app: &mut App, want: &str, args: &[OscType]| {
        let start = Instant::now();
        let mut buf = [0u8; 1536];
        while heard.get(want).map(Vec::as_slice) != Some(args) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{want} {args:?}: {heard:?}"
            );
            app.update();
            if let Ok((n, _)) = feedback.recv_from(&mut buf)
                && let Ok((_, OscPacket::Message(m))) = rosc::decoder::decode_udp(&buf[..n])
            {
                heard.insert(m.addr, m.args);
            }
        }
    };
    listen(
        &mut app,
        "/metadj/program",
        &[OscType::String("one".into()), OscType::Int(1)],
    );
    listen(
        &mut app,
        "/metadj/preview",
        &[OscType::String(String::new()), OscType::Int(0)],
    );
    // A pattern over the nodes: only the blend has a second layer.
    send(
        addr,
        &message(
            "/metadj/node/*/layers.opacity/1",
            vec![OscType::Float(0.25)],
        ),
    );
    until(&mut app, "pattern reached the blend", |app| {
        match &app.world().resource::<CurrentShow>().0.show.scenes[0].nodes
            [&show::NodeId::new("mix")]
            .kind
        {
            NodeKind::Blend(b) => b.layers[1].opacity == 0.25,
            _ => false,
        }
    });
    // A character class and alternatives over scene names.
    send(
        addr,
        &message("/metadj/scene/{outro,nothing}/preview", vec![]),
    );
    listen(
        &mut app,
        "/metadj/preview",
        &[OscType::String("outro".into()), OscType::Int(3)],
    );
    send(addr, &message("/metadj/scene/t?o/program", vec![]));
    listen(
        &mut app,
        "/metadj/program",
        &[OscType::String("two".into()), OscType::Int(2)],
    );
    send(addr, &message("/metadj/tbar", vec![OscType::Float(0.5)]));
    listen(&mut app, "/metadj/tbar", &[OscType::Float(0.5)]);
    // A pattern that matches nothing, and one that is not a pattern, change nothing.
    let rejected = app.world().resource::<OscListener>().rejected.clone();
    let before = app.world().resource::<Playback>().scene;
    send(addr, &message("/metadj/scene/*zzz/program", vec![]));
    send(addr, &message("/metadj/scene/[/program", vec![]));
    until(&mut app, "bad pattern counted", |_| {
        rejected.load(Ordering::Relaxed) == 1
    });
    assert_eq!(app.world().resource::<Playback>().scene, before);
}
