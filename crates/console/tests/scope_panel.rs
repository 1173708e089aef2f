//! The Scope panel driven with real input events: typing a prompt sends nothing until Enter,
//! which sends one scene-state edit; dragging the reference-strength slider for 2 s applies at
//! most 10 edits a second (one undo step) and the last value arrives.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::kittest::{NodeT, Queryable};
use show::NodeId;

/// The demo's "avatar" scene holds the Scope node.
const AVATAR: usize = 1;

fn params(h: &egui_kittest::Harness<State>) -> show::node::ScopeParams {
    let scene = &h.state().doc.show().scenes[AVATAR];
    console::effective_params(scene, &NodeId::from("scope")).unwrap()
}

#[test]
fn a_prompt_is_sent_on_enter_not_per_keystroke() {
    let mut h = harness(demo());
    h.state_mut().program_scene = AVATAR;
    h.run_steps(3);
    let before = h.state().doc.revision();
    let field = h
        .get_all_by_role(Role::TextInput)
        .find(|n| {
            n.accesskit_node().value().as_deref() == Some("neon cyberpunk dj, glowing outlines")
        })
        .unwrap();
    field.click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    type_text(&mut h, "chrome samurai, rim light");
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before, "typing sends nothing");
    assert!(h.query_by_label("not sent").is_some());
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before + 1, "Enter sends one edit");
    let p = params(&h);
    assert_eq!(p.prompts[0].text, "chrome samurai, rim light");
    assert!(h.query_by_label("not sent").is_none());
    // One undo step takes it back, and the panel follows the document.
    h.state_mut().doc.undo();
    h.run_steps(3);
    assert_eq!(
        params(&h).prompts[0].text,
        "neon cyberpunk dj, glowing outlines"
    );
    assert!(h.query_by_label("not sent").is_none());
}

#[test]
fn the_reference_strength_slider_is_coalesced_and_the_last_value_arrives() {
    // 60 frames a second, as a real console.
    let mut h = harness_with(
        egui_kittest::Harness::builder().with_step_dt(1.0 / 60.0),
        demo(),
    );
    h.state_mut().program_scene = AVATAR;
    h.run_steps(3);
    let r = h
        .get_by_role_and_label(Role::Slider, "Reference strength")
        .rect();
    let before = h.state().doc.revision();
    let (y, x0, x1) = (r.center().y, r.min.x + 2.0, r.max.x - 2.0);
    h.hover_at(egui::pos2(x0, y));
    h.step();
    press(&h, egui::pos2(x0, y), true);
    h.step();
    // 2 s of dragging: 120 frames, moving every frame.
    for i in 1..=120 {
        h.hover_at(egui::pos2(x0 + (x1 - x0) * i as f32 / 120.0, y));
        h.step();
    }
    press(&h, egui::pos2(x1, y), false);
    h.run_steps(3);
    let edits = h.state().doc.revision() - before;
    assert!((5..=21).contains(&edits), "{edits} edits in 2 s");
    assert_eq!(
        params(&h).vace_context_scale,
        Some(2.0),
        "the last value arrives"
    );
    // One drag, one undo step.
    h.state_mut().doc.undo();
    h.run_steps(2);
    assert_eq!(params(&h).vace_context_scale, None);
}

#[test]
fn a_click_recalls_a_preset_and_the_current_state_saves_as_one() {
    let mut h = harness(demo());
    h.state_mut().program_scene = AVATAR;
    h.run_steps(3);
    // The demo plays the "neon" preset's prompt: it is shown as the current one.
    let before = h.state().doc.revision();
    h.get_by_label("ink").click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before + 1, "one recall, one edit");
    let p = params(&h);
    let ink = h.state().doc.show().presets.prompts[1].clone();
    assert_eq!(p.prompts, ink.prompts);
    assert_eq!(
        (p.transition_steps, p.vace_context_scale),
        (Some(8), Some(0.8))
    );
    // Clicking the current preset again sends nothing.
    h.get_by_label("ink").click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before + 1);

    // Save the current state under a new name.
    let name_field = h
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().placeholder() == Some("preset name"))
        .unwrap();
    name_field.click();
    h.run_steps(2);
    type_text(&mut h, "ink copy");
    h.get_by_label("Save prompts").click();
    h.run_steps(3);
    let presets = &h.state().doc.show().presets.prompts;
    assert_eq!(presets.len(), 3);
    assert_eq!(presets[2].name, "ink copy");
    assert_eq!(presets[2].prompts, ink.prompts);
    // One undo step removes it again.
    h.state_mut().doc.undo();
    assert_eq!(h.state().doc.show().presets.prompts.len(), 2);
}

/// The runtime parameters of the scene's Scope state: noise set and dragged is one scene-state
/// edit per gesture (the node's own parameters untouched), denoising steps typed on one line
/// go on Enter, and a bad list is refused with the reason.
#[test]
fn runtime_parameters_edit_the_scenes_scope_state() {
    let mut h = harness(demo());
    h.state_mut().program_scene = AVATAR;
    h.run_steps(3);
    h.get_by_label("Runtime").click();
    h.run_steps(3);
    assert_eq!(params(&h).noise_scale, None);
    // Noise is unset (the server's default): "set" gives it the row's default.
    let before = h.state().doc.revision();
    let set = h
        .get_all_by_role(Role::CheckBox)
        .find(|n| n.accesskit_node().label().as_deref() == Some("set"))
        .unwrap();
    set.click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before + 1);
    assert!(params(&h).noise_scale.is_some(), "noise set");
    let node_params = match &h.state().doc.show().scenes[AVATAR].nodes[&NodeId::from("scope")].kind
    {
        show::node::NodeKind::Scope(s) => s.params.clone(),
        _ => unreachable!(),
    };
    assert_eq!(
        node_params.noise_scale, None,
        "the node's own state is untouched"
    );

    // Denoising steps: typed, sent on Enter.
    let field = h
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().placeholder() == Some("server default"))
        .unwrap();
    field.click();
    h.run_steps(2);
    type_text(&mut h, "1000, 750, 500");
    h.run_steps(2);
    let typed = h.state().doc.revision();
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), typed + 1);
    assert_eq!(params(&h).denoising_steps, Some(vec![1000, 750, 500]));

    // A step outside the table's range is refused with the reason.
    let field = h
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().value().as_deref() == Some("1000, 750, 500"))
        .unwrap();
    field.click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    type_text(&mut h, "1000, 2000");
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert_eq!(params(&h).denoising_steps, Some(vec![1000, 750, 500]));
    assert!(
        h.query_by_label_contains("not \"2000\"").is_some(),
        "no reason shown"
    );
}

/// The VACE references: each with its thumbnail and upload state; moved, removed and added
/// with clicks and a typed path, each one scene-state edit.
#[test]
fn references_show_their_state_and_are_reordered_removed_and_added() {
    use console::{Reference, ReferenceState};
    use std::path::PathBuf;
    let mut doc = demo();
    let mut scope = params_of(&doc);
    scope.vace_ref_images = vec![
        PathBuf::from("refs/face.png"),
        PathBuf::from("refs/side.png"),
    ];
    doc.apply(document::Edit::SetSceneScope {
        scene: AVATAR,
        scope: Some(scope),
    })
    .unwrap();
    let mut h = harness(doc);
    h.state_mut().program_scene = AVATAR;
    let mut live = console::ScopeLive {
        state: "Live".into(),
        ..Default::default()
    };
    live.references.insert(
        PathBuf::from("refs/face.png"),
        Reference {
            picture: Some((egui::TextureId::Managed(0), [640, 360])),
            state: ReferenceState::Uploaded,
        },
    );
    live.references.insert(
        PathBuf::from("refs/side.png"),
        Reference {
            picture: None,
            state: ReferenceState::Failed("asset refs/side.png: not a PNG".into()),
        },
    );
    h.state_mut().scope.insert(NodeId::from("scope"), live);
    h.run_steps(3);
    assert!(h.query_by_label("face.png").is_some());
    assert!(h.query_by_label("uploaded").is_some());
    assert!(
        h.query_by_label("failed: asset refs/side.png: not a PNG")
            .is_some()
    );
    let refs = |h: &egui_kittest::Harness<State>| params(h).vace_ref_images;
    // Later: face goes below side.
    let before = h.state().doc.revision();
    // The scenes panel has its own Down: the references' come after it.
    let downs: Vec<_> = h.get_all_by_label("Down").collect();
    downs[downs.len() - 2].click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before + 1);
    assert_eq!(
        refs(&h),
        [
            PathBuf::from("refs/side.png"),
            PathBuf::from("refs/face.png")
        ]
    );
    // Remove the first (side).
    let removes: Vec<_> = h.get_all_by_label("×").collect();
    // The prompt row has one too; the references' come after it.
    removes[removes.len() - 2].click();
    h.run_steps(3);
    assert_eq!(refs(&h), [PathBuf::from("refs/face.png")]);
    // Add one by its path.
    let field = h
        .get_all_by_role(Role::TextInput)
        .find(|n| n.accesskit_node().placeholder() == Some("image file, relative to the show"))
        .unwrap();
    field.click();
    h.run_steps(2);
    type_text(&mut h, "refs/back.png");
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert_eq!(
        refs(&h),
        [
            PathBuf::from("refs/face.png"),
            PathBuf::from("refs/back.png")
        ]
    );
}

fn params_of(doc: &document::Document) -> show::node::ScopeParams {
    console::effective_params(&doc.show().scenes[AVATAR], &NodeId::from("scope")).unwrap()
}
