//! Studio mode in the console, driven with real input events: preview by key and by the
//! multiview, Take and Auto with a picked transition, and the T-bar dragged by the pointer.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use console::Action;
use egui::accesskit::Role;
use egui::{Event, Key, Modifiers};
use egui_kittest::kittest::Queryable;
use show::scene::{Transition, TransitionKind};

fn tbar_moves(actions: &[Action]) -> Vec<f32> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::TBar(p, _) => Some(*p),
            _ => None,
        })
        .collect()
}

#[test]
fn shift_digit_previews_and_the_preview_is_edited() {
    let mut h = harness(demo());
    h.key_press_modifiers(Modifiers::SHIFT, Key::Num3);
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::Preview(2)]);
    // The host put it in preview: the console now edits that scene.
    h.state_mut().preview_scene = Some(2);
    h.run_steps(2);
    assert_eq!(h.state().console.edited_scene(), 2);
    // A plain digit still cuts.
    h.key_press(Key::Num2);
    h.run_steps(2);
    assert_eq!(h.state().actions.last(), Some(&Action::Cut(1)));
}

#[test]
fn multiview_click_previews_and_double_click_cuts() {
    // Frames 50 ms apart, so two clicks four frames apart make a double-click.
    let mut h = harness_with(egui_kittest::Harness::builder().with_step_dt(0.05), demo());
    let name = h.state().doc.show().scenes[3].name.clone();
    h.get_by_label(&format!("4 {name}")).click();
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::Preview(3)]);
    h.state_mut().actions.clear();
    let rect = h
        .get_by_label(&format!("2 {}", h.state().doc.show().scenes[1].name))
        .rect();
    let at = rect.center();
    h.hover_at(at);
    // Long enough after the first click that the pair is a double, not a triple, click.
    h.run_steps(20);
    for _ in 0..2 {
        press(&h, at, true);
        h.step();
        press(&h, at, false);
        h.step();
    }
    h.run_steps(2);
    assert!(
        h.state().actions.contains(&Action::Cut(1)),
        "{:?}",
        h.state().actions
    );
}

#[test]
fn take_and_auto_need_a_preview_and_auto_uses_the_picked_transition() {
    let mut h = harness(demo());
    h.get_by_label("Take").click();
    h.run_steps(2);
    assert!(
        h.state().actions.is_empty(),
        "nothing in preview: Take is off"
    );
    h.state_mut().preview_scene = Some(1);
    h.run_steps(2);
    h.get_by_label("Take").click();
    h.run_steps(2);
    h.get_by_label("Auto").click();
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::Take, Action::Auto(None)]);
    h.state_mut().actions.clear();
    h.get_by_role_and_label(Role::ComboBox, "Mix with").click();
    h.run_steps(2);
    h.get_by_label("Wipe").click();
    h.run_steps(2);
    h.get_by_label("Auto").click();
    h.run_steps(2);
    let wipe = Transition {
        kind: TransitionKind::Wipe,
        duration: 1.0,
    };
    assert_eq!(h.state().actions, vec![Action::Auto(Some(wipe))]);
}

#[test]
fn tbar_drag_mixes_up_to_one_take_and_holding_at_the_end_does_not_take_back() {
    let mut h = harness(demo());
    h.state_mut().preview_scene = Some(1);
    h.run_steps(2);
    let r = h.get_by_role_and_label(Role::Slider, "T-bar").rect();
    let x = r.center().x;
    let (bottom, top) = (r.max.y - 1.0, r.min.y - 20.0);
    let from = egui::pos2(x, bottom);
    h.hover_at(from);
    h.step();
    press(&h, from, true);
    h.step();
    for i in 1..=10 {
        let y = bottom + (top - bottom) * i as f32 / 10.0;
        h.hover_at(egui::pos2(x, y));
        h.step();
    }
    // Held past the end for a while, then released.
    h.run_steps(5);
    press(&h, egui::pos2(x, top), false);
    h.run_steps(3);
    let moves = tbar_moves(&h.state().actions);
    assert!(moves.len() >= 5, "{moves:?}");
    assert!(moves.windows(2).all(|w| w[0] < w[1]), "{moves:?}");
    assert_eq!(moves.last(), Some(&1.0), "{moves:?}");
    assert_eq!(moves.iter().filter(|p| **p >= 1.0).count(), 1, "{moves:?}");
    assert_eq!(h.state().tbar, 0.0);
    // Free again after the release: a new drag starts a new mix.
    h.event(Event::PointerMoved(from));
    h.step();
    let mid = egui::pos2(x, (bottom + top) / 2.0);
    drag(&mut h, from, mid);
    assert!(tbar_moves(&h.state().actions).len() > moves.len());
}

/// The preview monitor says whether its scene is ready to take: warming (with what is not
/// live yet) while its Scope node loads, ready once it is live; a scene without Scope nodes is
/// ready at once.
#[test]
fn the_preview_says_warming_until_its_scope_node_is_live() {
    let mut h = harness(demo());
    // The demo's "avatar" scene (index 1) has the Scope node "scope".
    h.state_mut().preview_scene = Some(1);
    h.state_mut().scope.insert(
        show::NodeId::from("scope"),
        console::ScopeLive {
            state: "Loading 43 %".into(),
            ..Default::default()
        },
    );
    h.run_steps(3);
    assert!(
        h.query_by_label("Preview · warming: scope: Loading 43 %")
            .is_some()
    );
    h.state_mut()
        .scope
        .get_mut(&show::NodeId::from("scope"))
        .unwrap()
        .state = "Live".into();
    h.run_steps(3);
    assert!(h.query_by_label("Preview · ready").is_some());
    // The intro has no Scope node.
    h.state_mut().preview_scene = Some(0);
    h.run_steps(3);
    assert!(h.query_by_label("Preview · ready").is_some());
}
