//! The console issue's "done when", as one walk-through with real input events: the demo's
//! avatar scene built from an empty show with the console alone (camera → Scope → chroma key
//! → transform → blend over a background image → output), changed, undone to nothing, redone,
//! saved, and the saved file loads back valid and compiles to the same render plan.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use console::{Action, PinKey};
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::kittest::{NodeT, Queryable};
use show::NodeId;
use show::node::NodeKind;

/// One scene with nothing but its output.
const EMPTY: &str = r#"(
    version: 2,
    canvas: (1280, 720),
    scenes: [(name: "avatar", nodes: {"out": (kind: output(()))}, edges: [])],
)"#;

/// Adds a node of the kind the palette finds for `search`, at `at`; its new id.
fn add(h: &mut egui_kittest::Harness<State>, search: &str, at: egui::Pos2) -> NodeId {
    let before: Vec<NodeId> = h.state().doc.show().scenes[0]
        .nodes
        .keys()
        .cloned()
        .collect();
    h.hover_at(at);
    h.step();
    h.key_press(Key::Tab);
    h.run_steps(2);
    type_text(h, search);
    h.key_press(Key::Enter);
    h.run_steps(3);
    let scene = &h.state().doc.show().scenes[0];
    let new: Vec<&NodeId> = scene.nodes.keys().filter(|k| !before.contains(k)).collect();
    assert_eq!(new.len(), 1, "{search}: {new:?}");
    new[0].clone()
}

fn wire(h: &mut egui_kittest::Harness<State>, from: &NodeId, to: &NodeId, port: &str) {
    let a = pin(h, &PinKey::Out(from.clone()));
    let b = pin(h, &PinKey::In(to.clone(), port.to_owned()));
    drag(h, a, b);
    let connected = h.state().doc.show().scenes[0]
        .edges
        .iter()
        .any(|e| e.from == *from && e.to == *to && e.port == port);
    assert!(connected, "{from} -> {to}.{port} not connected");
}

#[test]
fn the_avatar_scene_is_built_changed_undone_redone_and_saved_with_the_console_alone() {
    let dir = std::env::temp_dir().join(format!("console-walkthrough-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("built.ron");
    let empty = show::io::load_str(EMPTY, &path).unwrap();
    let mut h = harness(document::Document::new(empty.clone(), Some(path.clone())));

    // Build: each kind from the palette, placed across the canvas.
    let at = |i: f32, y: f32| egui::pos2(220.0 + 220.0 * i, y);
    let cam = add(&mut h, "camera", at(0.0, 80.0));
    let scope = add(&mut h, "scope", at(1.0, 80.0));
    let key = add(&mut h, "chroma", at(2.0, 80.0));
    let place = add(&mut h, "transform", at(3.0, 80.0));
    let bg = add(&mut h, "image", at(2.0, 330.0));
    let mix = add(&mut h, "blend", at(3.0, 330.0));
    h.get_by_label("Frame all").click();
    h.run_steps(4);
    let out = NodeId::from("out");
    wire(&mut h, &cam, &scope, "in");
    wire(&mut h, &scope, &key, "in");
    wire(&mut h, &key, &place, "in");
    wire(&mut h, &bg, &mix, "0");
    wire(&mut h, &place, &mix, "1");
    wire(&mut h, &mix, &out, "in");

    // The background's file, typed into the inspector's path field.
    click_node(&mut h, bg.as_str());
    let stage = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/stage.jpg");
    let field = h
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().label().as_deref() == Some("File"))
        .unwrap_or_else(|| panic!("no path field for {bg}"));
    field.click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    type_text(&mut h, &stage.display().to_string());
    h.key_press(Key::Enter);
    h.run_steps(3);
    let built = h.state().doc.show().clone();
    match &built.scenes[0].nodes[&bg].kind {
        NodeKind::Image(i) => assert_eq!(i.path, stage),
        other => panic!("{other:?}"),
    }
    let problems = show::validate(&built, &dir);
    assert!(problems.is_empty(), "the built scene: {problems:?}");

    // Change it: the key's similarity, one slider drag.
    click_node(&mut h, key.as_str());
    let slider = h.get_by_role_and_label(Role::Slider, "Similarity").rect();
    drag(
        &mut h,
        slider.left_center() + egui::vec2(4.0, 0.0),
        slider.center(),
    );
    let changed = h.state().doc.show().clone();
    assert_ne!(changed, built, "the drag changed the key");

    // Undo all of it with Ctrl+Z: back to the empty show; redo with Ctrl+Y.
    let steps = h.state().doc.undo_steps();
    assert!(
        steps >= 14,
        "{steps} undo steps for 6 nodes, 6 wires, a path and a drag"
    );
    for _ in 0..steps {
        h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
        h.run_steps(1);
    }
    assert_eq!(h.state().doc.show().scenes, empty.scenes, "all undone");
    for _ in 0..steps {
        h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
        h.run_steps(1);
    }
    assert_eq!(h.state().doc.show().scenes, changed.scenes, "all redone");

    // Save (Ctrl+S asks the host; the host saves the document).
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_steps(1);
    assert!(h.state().actions.contains(&Action::Save));
    h.state_mut().doc.save().unwrap();
    let saved = show::io::load(&path).unwrap();
    assert!(show::validate(&saved, &dir).is_empty(), "check passes");
    assert_eq!(saved.scenes, changed.scenes, "the file is what was built");
    // Sources at a fixed size, as the app gives them once their first frame is in.
    let plan = |s: &show::Show| show::compile(s, 0, &|_| Some((1280, 720))).unwrap();
    assert_eq!(plan(&saved), plan(&changed), "it plays identically");
    std::fs::remove_dir_all(dir).unwrap();
}
