//! The show keys with real key events: defaults (Space takes, `]` moves the T-bar, F1 recalls a
//! preset), rebinding in the Keys window (the host is asked to save), and nothing firing while
//! a text field has focus.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use console::Action;
use console::keymap::{Chord, KeyAction};
use egui::Key;
use egui_kittest::kittest::Queryable;

#[test]
fn default_keys_take_nudge_the_tbar_and_recall_presets() {
    let mut h = harness(demo());
    // No preview: Take and the T-bar have nothing to act on.
    h.key_press(Key::Space);
    h.run_steps(2);
    assert!(h.state().actions.is_empty(), "{:?}", h.state().actions);
    h.state_mut().preview_scene = Some(1);
    h.run_steps(2);
    h.key_press(Key::Space);
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::Take]);
    h.state_mut().actions.clear();
    h.key_press(Key::CloseBracket);
    h.run_steps(2);
    h.key_press(Key::CloseBracket);
    h.run_steps(2);
    let moves: Vec<f32> = h
        .state()
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::TBar(p, _) => Some(*p),
            _ => None,
        })
        .collect();
    assert_eq!(moves.len(), 2);
    assert!(
        (moves[0] - 0.1).abs() < 1e-6 && (moves[1] - 0.2).abs() < 1e-6,
        "{moves:?}"
    );
    // F1: the show's first prompt preset, in the program scene (scene 0 of the demo has no
    // Scope node; the avatar scene does).
    h.state_mut().program_scene = 1;
    h.run_steps(2);
    let first = h.state().doc.show().presets.prompts[0].clone();
    h.key_press(Key::F1);
    h.run_steps(2);
    let scope = h.state().doc.show().scenes[1].scope.clone().unwrap();
    assert_eq!(scope.prompts, first.prompts);
}

#[test]
fn keys_window_rebinds_and_asks_to_save_and_typing_never_fires_keys() {
    let mut h = harness(demo());
    h.state_mut().preview_scene = Some(1);
    h.get_by_label("Keys").click();
    h.run_steps(2);
    let take = console::keymap::Keymap::actions()
        .iter()
        .position(|a| *a == KeyAction::Take)
        .unwrap();
    h.get_all_by_label("Set").nth(take).unwrap().click();
    h.run_steps(2);
    assert!(h.query_by_label("press a key… (Esc cancels)").is_some());
    h.key_press(Key::T);
    h.run_steps(2);
    let saved = h.state().actions.iter().find_map(|a| match a {
        Action::SaveKeymap(k) => Some(k.clone()),
        _ => None,
    });
    let saved = saved.expect("the host is asked to save the keys");
    assert_eq!(saved.chord(KeyAction::Take), Some(&Chord::plain(Key::T)));
    assert_eq!(h.state().console.keymap(), &saved);
    h.state_mut().actions.clear();
    h.key_press(Key::Space);
    h.run_steps(2);
    assert!(
        !h.state().actions.contains(&Action::Take),
        "Space no longer takes"
    );
    h.key_press(Key::T);
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::Take]);
    // Typing a scene name: T and Space are text.
    h.get_all_by_label("Keys").next().unwrap().click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Reset to defaults").is_none(),
        "the window closed"
    );
    h.state_mut().actions.clear();
    h.get_by_label("Rename").click();
    h.run_steps(2);
    h.key_press(Key::T);
    h.key_press(Key::Space);
    type_text(&mut h, "t ");
    h.run_steps(2);
    assert!(h.state().actions.is_empty(), "{:?}", h.state().actions);
}
