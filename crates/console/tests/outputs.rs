//! The outputs list driven with real clicks: each output with its state and numbers, Stop and
//! Start ask the host, an error shows its reason.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use console::{Action, OutputLive, OutputState};
use egui_kittest::kittest::Queryable;

fn outputs() -> Vec<OutputLive> {
    vec![
        OutputLive {
            name: "/shows/tonight.mkv".into(),
            kind: "record".into(),
            state: OutputState::Running,
            detail: "30.0 fps · 2.41 Mb/s · 0 dropped · 12.3 MB".into(),
        },
        OutputLive {
            name: "srt://127.0.0.1:9710?mode=listener".into(),
            kind: "stream".into(),
            state: OutputState::Error("ffmpeg: port 9710 is taken".into()),
            detail: String::new(),
        },
    ]
}

#[test]
fn outputs_are_listed_and_started_and_stopped_from_the_list() {
    let mut h = harness(demo());
    h.state_mut().outputs = outputs();
    h.run_steps(3);
    assert!(h.query_by_label("/shows/tonight.mkv").is_some());
    assert!(h.query_by_label(" running ").is_some());
    assert!(
        h.query_by_label("30.0 fps · 2.41 Mb/s · 0 dropped · 12.3 MB")
            .is_some()
    );
    assert!(h.query_by_label(" error ").is_some());
    assert!(h.query_by_label("ffmpeg: port 9710 is taken").is_some());
    // The running recording offers Stop, the failed stream Start.
    h.get_by_label("Stop").click();
    h.run_steps(2);
    h.get_by_label("Start").click();
    h.run_steps(2);
    let asked: Vec<&Action> = h
        .state()
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Output { .. }))
        .collect();
    assert_eq!(
        asked,
        [
            &Action::Output {
                name: "/shows/tonight.mkv".into(),
                on: false
            },
            &Action::Output {
                name: "srt://127.0.0.1:9710?mode=listener".into(),
                on: true
            },
        ]
    );
}

#[test]
fn without_outputs_the_list_says_how_to_add_one() {
    let mut h = harness(demo());
    h.run_steps(3);
    assert!(h.query_by_label_contains("--record FILE").is_some());
}
