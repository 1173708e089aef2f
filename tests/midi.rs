//! MIDI control end to end through the byte seam (no MIDI device can exist here): raw
//! messages, as a controller sends them, learn a mapping, cut and preview scenes, take, move the
//! T-bar with soft takeover, set a parameter and recall a prompt preset in a running app.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a panic with its message is the failure report"
)]

mod common;

use std::time::{Duration, Instant};

use bevy::prelude::*;
use common::{LIVE_SCENE, control_app};
use metadj_scope::editor::Editor;
use metadj_scope::midi::{MidiInput, MidiLearn, MidiPlugin};
use metadj_scope::playback::Playback;
use metadj_scope::showfile::CurrentShow;
use show::midi::{MidiControl, MidiTarget};
use show::node::NodeKind;

const MAPPINGS: &str = r#"midi: [
        (control: cc(channel: 1, number: 7), target: t_bar),
        (control: note(channel: 10, number: 37), target: preview("outro")),
        (control: note(channel: 10, number: 38), target: take),
        (control: cc(channel: 1, number: 20), target: param(node: "mix", param: "layers.opacity", index: 1)),
        (control: note(channel: 10, number: 39), target: preset("ink")),
    ]"#;

fn app() -> App {
    let plain = |name: &str| {
        format!(
            r#"(name: "{name}", nodes: {{ "bg": (kind: solid(())), "out": (kind: output(())) }}, edges: [(from: "bg", to: "out")])"#
        )
    };
    let show = format!(
        r#"(version: 2, canvas: (64, 36),
        presets: (prompts: [(name: "ink", prompts: [(text: "ink drawing", weight: 1.0)])]),
        {MAPPINGS}, scenes: [{LIVE_SCENE}, {}, {}])"#,
        plain("two"),
        plain("outro")
    );
    control_app("midi", &show, false, MidiPlugin { ports: false })
}

/// Sends one raw message and runs frames until `done`.
fn send(app: &mut App, bytes: &[u8], what: &str, done: impl Fn(&App) -> bool) {
    app.world()
        .resource::<MidiInput>()
        .tx
        .send(bytes.to_vec())
        .unwrap();
    let start = Instant::now();
    loop {
        app.update();
        if done(app) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn studio(app: &App) -> (usize, Option<usize>, f32) {
    let p = app.world().resource::<Playback>();
    (p.scene, p.preview, p.tbar_position())
}

#[test]
fn a_controllers_bytes_learn_and_drive_scenes_tbar_parameters_and_presets() {
    let mut app = app();
    // Learn: the console asks, the next control is mapped (and saved with the show).
    app.world_mut()
        .write_message(MidiLearn(Some(MidiTarget::Program("two".into()))));
    send(&mut app, &[0x99, 36, 100], "learned", |app| {
        app.world()
            .resource::<Editor>()
            .doc
            .show()
            .midi
            .iter()
            .any(|m| {
                m.control
                    == MidiControl::Note {
                        channel: 10,
                        number: 36,
                    }
                    && m.target == MidiTarget::Program("two".into())
            })
    });
    assert_eq!(studio(&app).0, 0, "the learning press itself does not fire");
    assert!(
        app.world().resource::<Editor>().doc.can_undo(),
        "learn is an undo step"
    );
    send(&mut app, &[0x89, 36, 0], "release", |_| true);
    send(&mut app, &[0x99, 36, 90], "cut to two", |app| {
        studio(app).0 == 1
    });
    send(
        &mut app,
        &[0x99, 36, 0],
        "release (note on, velocity 0)",
        |_| true,
    );
    send(&mut app, &[0x99, 37, 90], "outro in preview", |app| {
        studio(app) == (1, Some(2), 0.0)
    });
    // The fader starts at the top while the T-bar is at 0: soft takeover ignores it...
    send(&mut app, &[0xb0, 7, 127], "ignored", |_| true);
    for _ in 0..5 {
        app.update();
    }
    assert_eq!(
        studio(&app),
        (1, Some(2), 0.0),
        "a fader away from the T-bar waits"
    );
    // ...until it comes down to it; then it mixes.
    send(&mut app, &[0xb0, 7, 1], "picked up", |_| true);
    send(&mut app, &[0xb0, 7, 64], "T-bar at 64/127", |app| {
        (studio(app).2 - 64.0 / 127.0).abs() < 1e-6
    });
    send(&mut app, &[0xb0, 7, 127], "taken by the fader", |app| {
        let p = app.world().resource::<Playback>();
        p.scene == 2 && p.transition.is_none()
    });
    // The console previews scene one; a pad takes it.
    app.world_mut()
        .write_message(metadj_scope::control::ShowCommand::Preview(0));
    send(&mut app, &[0x99, 38, 90], "taken", |app| studio(app).0 == 0);
    // A knob on a layer's opacity (picked up at the top, where the opacity is).
    let opacity = |app: &App| match &app.world().resource::<CurrentShow>().0.show.scenes[0].nodes
        [&show::NodeId::new("mix")]
        .kind
    {
        NodeKind::Blend(b) => b.layers[1].opacity,
        other => panic!("{other:?}"),
    };
    send(&mut app, &[0xb0, 20, 127], "at the top", |_| true);
    send(&mut app, &[0xb0, 20, 0], "opacity 0", |app| {
        opacity(app) == 0.0
    });
    // A pad recalls a prompt preset in the program scene.
    send(&mut app, &[0x99, 39, 90], "preset recalled", |app| {
        app.world().resource::<Editor>().doc.show().scenes[0]
            .scope
            .as_ref()
            .is_some_and(|s| s.prompts[0].text == "ink drawing")
    });
    // Garbage and other channels change nothing.
    send(&mut app, &[0xff, 0xfe], "garbage", |_| true);
    send(&mut app, &[0xb5, 20, 64], "other channel", |_| true);
    for _ in 0..5 {
        app.update();
    }
    assert_eq!(opacity(&app), 0.0);
}
