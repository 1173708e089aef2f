//! The MIDI panel with real clicks: learn asks the host, cancel stops it, a learned mapping is
//! listed and its × removes it as one undo step.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use console::Action;
use document::Edit;
use egui_kittest::kittest::Queryable;
use show::midi::{MidiControl, MidiMapping, MidiTarget};

#[test]
fn learn_cancel_list_and_remove_mappings() {
    let mut h = harness(demo());
    h.get_by_label("MIDI").click();
    h.run_steps(2);
    assert!(
        h.query_by_label("MIDI: unavailable").is_some(),
        "the state is shown"
    );
    assert!(h.query_by_label("No mappings yet").is_some());
    // The first target is Take: Learn asks the host to map the next control to it.
    h.get_by_label("Learn").click();
    h.run_steps(2);
    assert_eq!(
        h.state().actions,
        vec![Action::MidiLearn(Some(MidiTarget::Take))]
    );
    assert!(h.query_by_label("Move a control for Take…").is_some());
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert_eq!(h.state().actions.last(), Some(&Action::MidiLearn(None)));
    // The host learned a fader for the T-bar (as it does, by an edit of the show's list).
    let fader = MidiMapping {
        control: MidiControl::Cc {
            channel: 1,
            number: 7,
        },
        target: MidiTarget::TBar,
        range: None,
    };
    h.state_mut()
        .doc
        .apply(Edit::SetMidi(vec![fader.clone()]))
        .unwrap();
    h.run_steps(2);
    assert!(h.query_by_label("ch 1 CC 7 → T-bar").is_some());
    assert!(
        h.query_by_label("range").is_some(),
        "a fader's range is editable"
    );
    let steps = h.state().doc.undo_steps();
    h.get_by_label("×").click();
    h.run_steps(2);
    assert!(h.state().doc.show().midi.is_empty());
    assert_eq!(h.state().doc.undo_steps(), steps + 1);
    assert!(h.state_mut().doc.undo());
    assert_eq!(h.state().doc.show().midi, vec![fader]);
}

#[test]
fn right_click_on_a_scenes_go_learns_midi_for_it() {
    let mut h = harness(demo());
    let name = h.state().doc.show().scenes[1].name.clone();
    h.get_all_by_label("Go").nth(1).unwrap().click_secondary();
    h.run_steps(2);
    h.get_by_label("MIDI learn").click();
    h.run_steps(2);
    assert_eq!(
        h.state().actions,
        vec![Action::MidiLearn(Some(MidiTarget::Program(name)))]
    );
}

/// Take, Auto and the T-bar learn from a right-click too, also while they are off (nothing in
/// preview), as an operator sets a controller up before the show.
#[test]
fn right_click_on_take_auto_and_the_tbar_learns_midi_for_them() {
    let mut h = harness(demo());
    for (label, target) in [
        ("Take", MidiTarget::Take),
        ("Auto", MidiTarget::Auto),
        ("T-bar", MidiTarget::TBar),
    ] {
        h.get_by_label(label).click_secondary();
        h.run_steps(2);
        h.get_by_label("MIDI learn").click();
        h.run_steps(2);
        assert_eq!(
            h.state().actions.last(),
            Some(&Action::MidiLearn(Some(target))),
            "{label}"
        );
    }
}
