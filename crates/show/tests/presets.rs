//! Presets in the show file: a version-1 file loads as version 2 with no presets and saves as
//! version 2; presets round-trip; bad presets are errors that name the preset and the field.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use show::preset::{PipelinePreset, PromptPreset};
use show::{io, validate};

const V1: &str = r#"(
    version: 1,
    canvas: (64, 64),
    // A comment that must survive the migration in memory.
    scenes: [(name: "s", nodes: {"bg": (kind: solid(())), "out": (kind: output(()))},
        edges: [(from: "bg", to: "out")])],
)"#;

fn with_presets(presets: &str) -> String {
    V1.replace("version: 1,", &format!("version: 2, presets: {presets},"))
}

fn problems(text: &str) -> Vec<String> {
    let show = io::load_str(text, Path::new("p.ron")).unwrap();
    validate(&show, Path::new("."))
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn a_version_1_file_is_migrated_and_saved_as_version_2() {
    let show = io::load_str(V1, Path::new("v1.ron")).unwrap();
    assert_eq!(show.version, 2);
    assert!(show.presets.prompts.is_empty() && show.presets.pipelines.is_empty());
    let text = io::to_string(&show).unwrap();
    assert!(text.contains("version: 2"), "{text}");
    assert_eq!(io::load_str(&text, Path::new("v2.ron")).unwrap(), show);
}

#[test]
fn presets_round_trip() {
    let text = with_presets(
        r#"(prompts: [(name: "calm", prompts: [(text: "ink wash monk", weight: 1.0)],
            transition_steps: 6, vace_context_scale: 0.8)],
           pipelines: [(name: "fast", pipeline: "longlive", load: (width: 384, height: 384))])"#,
    );
    let show = io::load_str(&text, Path::new("p.ron")).unwrap();
    assert_eq!(problems(&text), Vec::<String>::new());
    let calm = &show.presets.prompts[0];
    assert_eq!(
        (calm.name.as_str(), calm.transition_steps),
        ("calm", Some(6))
    );
    assert_eq!(calm.vace_context_scale, Some(0.8));
    let fast: &PipelinePreset = &show.presets.pipelines[0];
    assert_eq!((fast.pipeline.as_str(), fast.load.width), ("longlive", 384));
    let again = io::load_str(&io::to_string(&show).unwrap(), Path::new("p.ron")).unwrap();
    assert_eq!(again, show);
}

#[test]
fn bad_presets_name_the_preset_and_the_field() {
    let text = with_presets(
        r#"(prompts: [
              (name: "loud", prompts: [(text: "x", weight: -1.0)], vace_context_scale: 9.0),
              (name: "loud"),
              (name: " "),
           ],
           pipelines: [(name: "none", pipeline: "")])"#,
    );
    let p = problems(&text);
    let has = |needle: &str| p.iter().any(|m| m.contains(needle));
    assert!(
        has(r#"prompt preset "loud": prompts[0].weight must be in 0..=100, got -1"#),
        "{p:#?}"
    );
    assert!(
        has(r#"prompt preset "loud": vace_context_scale must be in 0..=2, got 9"#),
        "{p:#?}"
    );
    assert!(
        has(r#"prompt preset "loud": the name is used twice"#),
        "{p:#?}"
    );
    assert!(has(r#"prompt preset " ": needs a name"#), "{p:#?}");
    assert!(
        has(r#"pipeline preset "none": names no pipeline"#),
        "{p:#?}"
    );
    // Positions point at the presets, with the file name.
    assert!(p.iter().all(|m| m.starts_with("p.ron:")), "{p:#?}");
    // NaN is refused too.
    let nan = with_presets(r#"(prompts: [(name: "n", vace_context_scale: NaN)])"#);
    assert!(problems(&nan).iter().any(|m| m.contains("got NaN")));
}

#[test]
fn a_preset_applies_over_the_rest_of_the_state() {
    let base = show::node::ScopeParams {
        noise_scale: Some(0.3),
        vace_context_scale: Some(1.5),
        ..Default::default()
    };
    let preset = PromptPreset {
        name: "p".into(),
        prompts: vec![show::node::Prompt {
            text: "glass".into(),
            weight: 1.0,
        }],
        ..Default::default()
    };
    let out = preset.apply_to(&base);
    assert_eq!(out.prompts, preset.prompts);
    assert_eq!(
        out.noise_scale,
        Some(0.3),
        "fields a preset does not hold stay"
    );
    assert_eq!(
        out.vace_context_scale, None,
        "a preset's unset strength is the server's default"
    );
    assert_eq!(PromptPreset::capture("p", &out), preset);
}

/// A Scope node's and a pipeline preset's `extra` load values: saved and read back with their
/// types; a key that has its own field, or a number that is not finite, named at the node.
#[test]
fn extra_load_values_round_trip_and_bad_ones_are_named() {
    let scope = r#""ai": (kind: scope((load: (width: 640, extra: {"tint": "amber", "levels": 3, "keep_green": false})))),"#;
    let text = with_presets(
        r#"(pipelines: [(name: "warm", pipeline: "stylize", load: (extra: {"gamma": 1.5}))])"#,
    )
    .replace(
        r#""out": (kind: output(()))"#,
        &format!(r#"{scope} "out": (kind: output(()))"#),
    )
    .replace(
        r#"edges: [(from: "bg", to: "out")]"#,
        r#"edges: [(from: "bg", to: "out"), (from: "bg", to: "ai")]"#,
    );
    assert_eq!(problems(&text), Vec::<String>::new());
    let show = io::load_str(&text, Path::new("p.ron")).unwrap();
    let saved = io::to_string(&show).unwrap();
    assert!(saved.contains(r#""tint": "amber""#), "{saved}");
    assert_eq!(io::load_str(&saved, Path::new("p.ron")).unwrap(), show);

    let bad = text
        .replace(r#""levels": 3"#, r#""levels": 3, "width": 5"#)
        .replace(r#""gamma": 1.5"#, r#""gamma": inf"#);
    let p = problems(&bad);
    assert!(
        p.iter()
            .any(|e| e.contains(r#"node "ai" (scope): load.extra.width: write it as load.width"#)),
        "{p:?}"
    );
    assert!(
        p.iter().any(|e| e.contains(
            r#"pipeline preset "warm": load.extra.gamma: must be a finite number, got inf"#
        )),
        "{p:?}"
    );
}
