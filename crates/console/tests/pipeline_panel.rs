//! The Scope panel's pipeline block, fed the embedded server's own schema answer: each field
//! kind gets its control, a changed setting is loaded with one edit on "Load", a value outside
//! the schema is refused with the reason, and picking another pipeline drops settings it does
//! not declare.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use egui::accesskit::{Role, Toggled};
use egui_kittest::kittest::{NodeT, Queryable};
use show::NodeId;
use show::node::{NodeKind, ScopeNode};
use show::pipeline::{LoadValue, PipelineInfo};

/// The demo's "avatar" scene holds the Scope node "scope" (pipeline `stylize`).
const AVATAR: usize = 1;

fn offered() -> Arc<[PipelineInfo]> {
    let answer = scope_server::schemas_json();
    let list = answer["pipelines"].as_object().unwrap();
    list.iter()
        .map(|(id, entry)| PipelineInfo::from_schema(id, entry))
        .collect()
}

fn node(h: &egui_kittest::Harness<State>) -> ScopeNode {
    match &h.state().doc.show().scenes[AVATAR].nodes[&NodeId::from("scope")].kind {
        NodeKind::Scope(s) => s.clone(),
        other => panic!("{other:?}"),
    }
}

fn with_server_list() -> egui_kittest::Harness<'static, State> {
    let mut h = harness(demo());
    h.state_mut().program_scene = AVATAR;
    h.state_mut().scope.insert(
        NodeId::from("scope"),
        console::ScopeLive {
            state: "Live".into(),
            pipelines: Some(offered()),
            ..Default::default()
        },
    );
    h.run_steps(3);
    h
}

fn open_load_settings(h: &mut egui_kittest::Harness<State>) {
    h.get_by_label("Load settings").click();
    h.run_steps(3);
}

#[test]
fn each_schema_field_gets_its_control_and_a_change_loads_on_load() {
    let mut h = with_server_list();
    // The demo sends prompts to a pipeline that takes none: the operator is told.
    assert!(
        h.query_by_label_contains("does not take prompts").is_some(),
        "no prompt warning"
    );
    open_load_settings(&mut h);
    // integer, number (min/max): spin buttons; boolean: a check box; enum: a combo box;
    // nullable: an "auto" check box, on while unset.
    for label in ["Width", "Height", "Gamma"] {
        h.get_by_role_and_label(Role::SpinButton, label);
    }
    let keep = h.get_by_role_and_label(Role::CheckBox, "Keep Green");
    assert_eq!(keep.accesskit_node().toggled(), Some(Toggled::True));
    h.get_by_role_and_label(Role::ComboBox, "Tint");
    let auto = h.get_by_role_and_label(Role::CheckBox, "auto");
    assert_eq!(auto.accesskit_node().toggled(), Some(Toggled::True));
    assert!(
        h.query_by_role_and_label(Role::SpinButton, "Levels")
            .is_none(),
        "an unset nullable field shows no value"
    );

    // Pick amber: nothing is sent until "Load".
    let before = h.state().doc.revision();
    h.get_by_role_and_label(Role::ComboBox, "Tint").click();
    h.run_steps(2);
    h.get_by_label("amber").click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before, "a draft, not an edit");
    assert!(h.query_by_label("not loaded").is_some());
    // Levels: set instead of auto.
    h.get_by_role_and_label(Role::CheckBox, "auto").click();
    h.run_steps(3);
    h.get_by_role_and_label(Role::SpinButton, "Levels");
    h.get_by_label("Load").click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before + 1, "one load, one edit");
    let s = node(&h);
    assert_eq!(s.load.extra["tint"], LoadValue::Text("amber".into()));
    assert_eq!(
        s.load.extra["levels"],
        LoadValue::Int(2),
        "the field's minimum"
    );
    assert_eq!((s.load.width, s.load.height), (640, 360), "the rest kept");
    assert!(h.query_by_label("not loaded").is_none());

    // Another pipeline: settings it does not declare are dropped.
    h.get_by_role_and_label(Role::ComboBox, "Pipeline").click();
    h.run_steps(2);
    h.get_by_label("Passthrough").click();
    h.run_steps(3);
    let s = node(&h);
    assert_eq!(s.pipeline, "passthrough");
    assert!(s.load.extra.is_empty(), "{:?}", s.load.extra);
    assert_eq!(s.load.width, 640);
}

#[test]
fn a_value_outside_the_schema_is_refused_with_the_reason() {
    let mut h = with_server_list();
    // A hand-edited file with gamma 9 (the schema allows 0.25..=4) and an unknown tint.
    let mut s = node(&h);
    s.load.extra.insert("gamma".into(), LoadValue::Float(9.0));
    s.load
        .extra
        .insert("tint".into(), LoadValue::Text("red".into()));
    h.state_mut()
        .doc
        .apply(document::Edit::SetKind {
            scene: AVATAR,
            node: NodeId::from("scope"),
            kind: NodeKind::Scope(s),
        })
        .unwrap();
    h.run_steps(3);
    open_load_settings(&mut h);
    assert!(
        h.query_by_label("Gamma must be 0.25..=4, got 9").is_some(),
        "no reason shown for gamma"
    );
    assert!(
        h.query_by_label_contains("must be one of violet, amber")
            .is_some()
    );
    // Changing another field makes a draft, and Load stays refused while a value is bad.
    h.get_by_role_and_label(Role::CheckBox, "Keep Green")
        .click();
    h.run_steps(3);
    assert!(h.query_by_label("not loaded").is_some());
    let before = h.state().doc.revision();
    h.get_by_label("Load").click();
    h.run_steps(3);
    assert_eq!(h.state().doc.revision(), before, "refused");
    assert_eq!(node(&h).load.extra["gamma"], LoadValue::Float(9.0));
}

#[test]
fn without_the_servers_list_the_pipeline_is_shown_and_not_guessed() {
    let mut h = harness(demo());
    h.state_mut().program_scene = AVATAR;
    h.run_steps(3);
    assert!(
        h.query_by_label("(the server's list is not in yet)")
            .is_some()
    );
    assert!(h.query_by_label("Load settings").is_none());
}
