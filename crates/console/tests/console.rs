//! The console driven with real input events; each test checks the document afterwards.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use console::{Action, PinKey};
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use show::node::NodeKind;
use show::{Edge, NodeId};

fn count_kind(h: &egui_kittest::Harness<State>, scene: usize, name: &str) -> usize {
    h.state().doc.show().scenes[scene]
        .nodes
        .values()
        .filter(|n| n.kind.name() == name)
        .count()
}

#[test]
fn palette_tab_filter_enter_adds_node() {
    let mut h = harness(demo());
    assert_eq!(count_kind(&h, 0, "chroma_key"), 0);
    h.hover_at(egui::pos2(800.0, 300.0));
    h.key_press(Key::Tab);
    h.run_steps(2);
    type_text(&mut h, "chroma");
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert_eq!(count_kind(&h, 0, "chroma_key"), 1);
    // One undo step removes it again.
    h.state_mut().doc.undo();
    assert_eq!(count_kind(&h, 0, "chroma_key"), 0);
}

#[test]
fn palette_right_click_and_pick() {
    let mut h = harness(demo());
    let before = h.state().doc.show().scenes[0].nodes.len();
    // An empty spot of the canvas: below the graph, above the monitors.
    let view = h.state().console.node_rect(&NodeId::from("out")).unwrap();
    let spot = egui::pos2(view.center().x, view.max.y + 60.0);
    h.hover_at(spot);
    h.step();
    h.event(egui::Event::PointerButton {
        pos: spot,
        button: egui::PointerButton::Secondary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.event(egui::Event::PointerButton {
        pos: spot,
        button: egui::PointerButton::Secondary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.run_steps(3);
    h.get_by_label("Garbage matte").click();
    h.run_steps(3);
    let scene = &h.state().doc.show().scenes[0];
    assert_eq!(scene.nodes.len(), before + 1);
    assert_eq!(count_kind(&h, 0, "garbage_matte"), 1);
}

#[test]
fn wire_onto_blend_plus_grows_a_layer() {
    let mut h = harness(demo());
    let from = pin(&h, &PinKey::Out(NodeId::from("title")));
    let to = pin(&h, &PinKey::In(NodeId::from("mix"), "2".to_owned()));
    drag(&mut h, from, to);
    let scene = &h.state().doc.show().scenes[0];
    assert!(scene.edges.contains(&Edge {
        from: NodeId::from("title"),
        to: NodeId::from("mix"),
        port: "2".to_owned()
    }));
    let NodeKind::Blend(b) = &scene.nodes[&NodeId::from("mix")].kind else {
        panic!("mix is a blend");
    };
    assert_eq!(b.layers.len(), 3);
}

#[test]
fn matte_into_image_is_refused_with_the_reason() {
    let mut doc = demo();
    doc.apply(document::Edit::AddNode {
        scene: 0,
        kind: NodeKind::GarbageMatte(Default::default()),
        pos: (0.0, 400.0),
    })
    .unwrap();
    let matte = doc.show().scenes[0]
        .nodes
        .iter()
        .find(|(_, n)| n.kind.name() == "garbage_matte")
        .map(|(id, _)| id.clone())
        .unwrap();
    let before = doc.show().clone();
    let mut h = harness(doc);
    let from = pin(&h, &PinKey::Out(matte.clone()));
    let to = pin(
        &h,
        &PinKey::In(NodeId::from("title_place"), "in".to_owned()),
    );
    drag(&mut h, from, to);
    assert_eq!(h.state().doc.show(), &before, "model unchanged");
    let message = h.state().console.message().unwrap().to_owned();
    assert!(
        message.contains("cannot connect a matte output"),
        "{message}"
    );
    assert!(
        h.query_by_label_contains("cannot connect a matte output")
            .is_some()
    );
}

fn rotation(h: &egui_kittest::Harness<State>) -> f32 {
    match &h.state().doc.show().scenes[0].nodes[&NodeId::from("title_place")].kind {
        NodeKind::Transform(t) => t.rotation,
        _ => panic!("title_place is a transform"),
    }
}

#[test]
fn inspector_slider_is_one_undo_step() {
    let mut h = harness(demo());
    click_node(&mut h, "title_place");
    assert_eq!(h.state().console.selected(), &[NodeId::from("title_place")]);
    let steps = h.state().doc.undo_steps();
    let slider = h.get_by_role_and_label(Role::Slider, "Rotation");
    slider.focus();
    h.run_steps(2);
    for _ in 0..3 {
        h.key_press(Key::ArrowRight);
        h.step();
    }
    h.run_steps(2);
    let turned = rotation(&h);
    assert!(turned > 0.0, "rotation changed: {turned}");
    h.get_by_label("Undo").click();
    h.run_steps(2);
    assert_eq!(rotation(&h), 0.0);
    assert_eq!(
        h.state().doc.undo_steps(),
        steps,
        "the gesture was one step"
    );
    h.get_by_label("Redo").click();
    h.run_steps(2);
    assert_eq!(rotation(&h), turned);
}

#[test]
fn rename_scene_and_digit_keys() {
    let mut h = harness(demo());
    h.get_by_label("Rename").click();
    h.run_steps(2);
    // A "2" typed into the name field is text, not a cut to scene 2.
    h.key_press(Key::Num2);
    type_text(&mut h, "2");
    h.key_press(Key::Enter);
    h.run_steps(2);
    assert_eq!(h.state().doc.show().scenes[0].name, "intro2");
    assert!(
        !h.state()
            .actions
            .iter()
            .any(|a| matches!(a, Action::Cut(_))),
        "{:?}",
        h.state().actions
    );
    h.key_press(Key::Num2);
    h.run_steps(1);
    assert_eq!(h.state().actions, vec![Action::Cut(1)]);
}

#[test]
fn ctrl_s_saves_and_title_marks_dirty() {
    let mut h = harness(demo());
    assert!(h.query_by_label("demo.ron").is_some());
    h.key_press_modifiers(Modifiers::COMMAND, Key::S);
    h.run_steps(1);
    assert_eq!(h.state().actions, vec![Action::Save]);
    h.get_by_label("Duplicate").click();
    h.run_steps(2);
    assert!(h.state().doc.is_dirty());
    assert!(h.query_by_label("demo.ron *").is_some());
}

#[test]
fn copy_paste_between_scenes() {
    let mut h = harness(demo());
    click_node(&mut h, "bg");
    h.key_press_modifiers(Modifiers::COMMAND, Key::C);
    h.run_steps(1);
    h.get_by_label("outro").click();
    h.run_steps(3);
    assert_eq!(h.state().console.edited_scene(), 2);
    let before = h.state().doc.show().scenes[2].nodes.len();
    h.key_press_modifiers(Modifiers::COMMAND, Key::V);
    h.run_steps(2);
    let outro = &h.state().doc.show().scenes[2];
    assert_eq!(outro.nodes.len(), before + 1);
    assert_eq!(
        count_kind(&h, 2, "image"),
        2,
        "the stage image joined the outro's text"
    );
}

#[test]
fn inspecting_every_node_edits_nothing() {
    let mut h = harness(demo());
    let scenes = h.state().doc.show().scenes.len();
    for s in 0..scenes {
        let name = h.state().doc.show().scenes[s].name.clone();
        h.get_by_label(&name).click();
        h.run_steps(4);
        let ids: Vec<String> = h.state().doc.show().scenes[s]
            .nodes
            .keys()
            .map(|n| n.0.clone())
            .collect();
        for id in ids {
            click_node(&mut h, &id);
            h.run_steps(2);
            assert_eq!(h.state().console.selected(), &[NodeId::from(id.as_str())]);
        }
    }
    assert!(!h.state().doc.is_dirty(), "looking is not editing");
    assert_eq!(h.state().doc.undo_steps(), 0);
}

/// A file field's "…" lists the images the host found near the show; a click puts one in, as
/// one edit.
#[test]
fn a_file_is_picked_from_the_images_near_the_show() {
    let mut h = harness(demo());
    h.state_mut().media = vec![
        std::path::PathBuf::from("../assets/stage.jpg"),
        std::path::PathBuf::from("../assets/title.png"),
    ];
    h.run_steps(2);
    click_node(&mut h, "bg");
    let before = h.state().doc.revision();
    h.get_by_label("…").click();
    h.run_steps(2);
    h.get_by_label("../assets/title.png").click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before + 1);
    match &h.state().doc.show().scenes[0].nodes[&NodeId::from("bg")].kind {
        NodeKind::Image(i) => assert_eq!(i.path, std::path::PathBuf::from("../assets/title.png")),
        other => panic!("{other:?}"),
    }
}
