//! Node drags, deletion, dialogs, errors in nodes, wire drops on empty canvas.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use console::{Action, PinKey};
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use show::NodeId;

#[test]
fn node_drag_is_one_move_step() {
    let mut h = harness(demo());
    let rect = h.state().console.node_rect(&NodeId::from("title")).unwrap();
    let grab = rect.left_top() + egui::vec2(rect.width() / 2.0, 10.0);
    drag(&mut h, grab, grab + egui::vec2(80.0, 40.0));
    let pos = h.state().doc.show().scenes[0].nodes[&NodeId::from("title")].pos;
    let (x, y) = pos.expect("a dragged node has a saved position");
    let steps = h.state().doc.undo_steps();
    assert_eq!(steps, 1, "one drag, one step");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.show().scenes[0].nodes[&NodeId::from("title")].pos,
        None
    );
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(
        h.state().doc.show().scenes[0].nodes[&NodeId::from("title")].pos,
        Some((x, y))
    );
}

#[test]
fn delete_key_removes_selected_nodes() {
    let mut h = harness(demo());
    click_node(&mut h, "title");
    h.key_press(Key::Delete);
    h.run_steps(2);
    let scene = &h.state().doc.show().scenes[0];
    assert!(!scene.nodes.contains_key(&NodeId::from("title")));
    assert!(!scene.edges.iter().any(|e| e.from.as_str() == "title"));
}

#[test]
fn ctrl_d_duplicates_selection() {
    let mut h = harness(demo());
    let before = h.state().doc.show().scenes[0].nodes.len();
    click_node(&mut h, "title_place");
    h.key_press_modifiers(Modifiers::COMMAND, Key::D);
    h.run_steps(2);
    assert_eq!(h.state().doc.show().scenes[0].nodes.len(), before + 1);
    assert_ne!(h.state().console.selected(), &[NodeId::from("title_place")]);
}

#[test]
fn go_button_cuts_and_click_only_selects() {
    let mut h = harness(demo());
    h.get_by_label("avatar").click();
    h.run_steps(2);
    assert_eq!(h.state().console.edited_scene(), 1);
    assert!(
        h.state().actions.is_empty(),
        "selecting a scene to edit is not a cut"
    );
    h.get_all_by_label("Go").nth(3).unwrap().click();
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::Cut(3)]);
}

#[test]
fn deleting_the_last_scene_is_refused() {
    let mut doc = demo();
    for _ in 1..doc.show().scenes.len() {
        doc.apply(document::Edit::RemoveScene { scene: 1 }).unwrap();
    }
    let mut h = harness(doc);
    h.get_by_label("Delete").click();
    h.run_steps(2);
    assert_eq!(h.state().doc.show().scenes.len(), 1);
    assert!(
        h.query_by_label("a show needs at least one scene")
            .is_some()
    );
}

#[test]
fn quit_with_unsaved_changes_asks() {
    let mut h = harness(demo());
    h.get_by_label("Duplicate").click();
    h.run_steps(2);
    let s = h.state_mut();
    let now = s.console.request_quit(&s.doc);
    assert!(now.is_empty(), "dirty: ask first");
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::Save, Action::Quit]);
    assert!(h.query_by_label("Discard").is_none(), "the dialog closed");
}

#[test]
fn quit_when_clean_is_immediate() {
    let mut h = harness(demo());
    let s = h.state_mut();
    assert_eq!(s.console.request_quit(&s.doc), vec![Action::Quit]);
}

#[test]
fn external_conflict_load_theirs() {
    let mut h = harness(demo());
    h.state_mut().console.ask_external_conflict();
    h.run_steps(2);
    assert!(h.query_by_label("The file changed on disk.").is_some());
    h.get_by_label("Load theirs").click();
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::LoadExternal]);
}

#[test]
fn node_error_is_shown_in_the_node() {
    let mut h = harness(demo());
    h.state_mut().node_errors.insert(
        (0, NodeId::from("bg")),
        "image file not found: ../assets/stage.jpg".to_owned(),
    );
    h.run_steps(3);
    assert!(h.query_by_label_contains("image file not found").is_some());
}

#[test]
fn wire_dropped_on_canvas_offers_matching_kinds_and_connects() {
    let mut h = harness(demo());
    let from = pin(&h, &PinKey::Out(NodeId::from("title")));
    let out = h.state().console.node_rect(&NodeId::from("out")).unwrap();
    let empty = egui::pos2(out.center().x, out.max.y + 80.0);
    drag(&mut h, from, empty);
    // An image output: a matte-only kind (invert) is not offered, a key is.
    assert!(h.query_by_label("Invert matte").is_none());
    h.get_by_label("Chroma key").click();
    h.run_steps(3);
    let scene = &h.state().doc.show().scenes[0];
    let (key, _) = scene
        .nodes
        .iter()
        .find(|(_, n)| n.kind.name() == "chroma_key")
        .expect("a chroma key was added");
    assert!(
        scene
            .edges
            .iter()
            .any(|e| e.from.as_str() == "title" && &e.to == key && e.port == "in")
    );
    // Adding and wiring it is one step.
    h.state_mut().doc.undo();
    assert!(
        !h.state().doc.show().scenes[0]
            .nodes
            .values()
            .any(|n| n.kind.name() == "chroma_key")
    );
}

#[test]
fn visible_nodes_are_reported() {
    let h = harness(demo());
    let mut visible = h.state().console.visible_nodes();
    visible.sort();
    let all: Vec<NodeId> = h.state().doc.show().scenes[0]
        .nodes
        .keys()
        .cloned()
        .collect();
    assert_eq!(visible, all, "frame-all shows every node");
}

fn layers(h: &egui_kittest::Harness<State>) -> usize {
    match &h.state().doc.show().scenes[0].nodes[&NodeId::from("mix")].kind {
        show::NodeKind::Blend(b) => b.layers.len(),
        _ => panic!("mix is a blend"),
    }
}

#[test]
fn inspector_adds_and_removes_blend_layers() {
    let mut h = harness(demo());
    click_node(&mut h, "mix");
    h.get_by_label("+ Add layer").click();
    h.run_steps(2);
    assert_eq!(layers(&h), 3);
    // Remove the bottom layer: its wire goes, the others move down one port.
    h.get_all_by_label("Remove").next().unwrap().click();
    h.run_steps(2);
    assert_eq!(layers(&h), 2);
    let scene = &h.state().doc.show().scenes[0];
    assert!(
        scene
            .edges
            .iter()
            .any(|e| e.from.as_str() == "title_place" && e.to.as_str() == "mix" && e.port == "0")
    );
    assert!(!scene.edges.iter().any(|e| e.from.as_str() == "bg"));
}

#[test]
fn escape_closes_the_palette_without_adding() {
    let mut h = harness(demo());
    let before = h.state().doc.show().clone();
    h.hover_at(egui::pos2(800.0, 300.0));
    h.key_press(Key::Tab);
    h.run_steps(2);
    assert!(h.query_by_label("Chroma key").is_some());
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(h.query_by_label("Chroma key").is_none());
    assert_eq!(h.state().doc.show(), &before);
}

#[test]
fn right_click_on_an_input_pin_disconnects_it() {
    let mut h = harness(demo());
    let at = pin(&h, &PinKey::In(NodeId::from("out"), "in".to_owned()));
    h.hover_at(at);
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Secondary,
            pressed,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(2);
    let scene = &h.state().doc.show().scenes[0];
    assert!(!scene.edges.iter().any(|e| e.to.as_str() == "out"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert!(
        h.state().doc.show().scenes[0]
            .edges
            .iter()
            .any(|e| e.to.as_str() == "out")
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run_steps(2);
    assert!(
        !h.state().doc.show().scenes[0]
            .edges
            .iter()
            .any(|e| e.to.as_str() == "out")
    );
}

#[test]
fn transition_duration_from_the_inspector() {
    let mut h = harness(demo());
    let slider = h.get_by_role_and_label(egui::accesskit::Role::Slider, "Duration");
    slider.focus();
    h.run_steps(2);
    h.key_press(Key::ArrowRight);
    h.run_steps(2);
    let t = h.state().doc.show().scenes[0].transition;
    assert!(t.duration > 1.0, "{t:?}");
}
