//! Show files: round trips, error messages, migration, compile properties.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use show::compile::place;
use show::node::{Fit, Transform};
use show::plan::{FeedFrom, Operand, PassOp};
use show::{ErrorKind, NodeId, Show, compile, io, validate};

fn scenes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes")
}

fn no_sizes(_: &NodeId) -> Option<(u32, u32)> {
    None
}

/// A scratch directory under the target dir, fresh per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("show-test-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_scene_file_round_trips() {
    let mut seen = 0;
    for entry in fs::read_dir(scenes_dir()).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("ron") {
            continue;
        }
        seen += 1;
        let a = io::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let errors = validate(&a, path.parent().unwrap());
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        let text = io::to_string(&a).unwrap();
        let b = io::load_str(&text, &path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            a,
            b,
            "{}: load -> save -> load changed the show",
            path.display()
        );
        assert_eq!(io::to_string(&b).unwrap(), text, "saving is not stable");
        for i in 0..a.scenes.len() {
            compile(&a, i, &no_sizes).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // The workspace ships at least the demo; a missing scenes/ dir means a broken checkout.
    assert!(
        seen > 0 || !scenes_dir().exists(),
        "no .ron files in {}",
        scenes_dir().display()
    );
}

const GOOD: &str = r#"(
    version: 1,
    canvas: (64, 32),
    scenes: [
        (
            name: "s",
            nodes: {
                "bg": (kind: solid((color: (0.0, 0.0, 1.0, 1.0)))),
                "fg": (kind: solid((color: (0.0, 1.0, 0.0, 1.0)))),
                "key": (kind: chroma_key((similarity: 0.4))),
                "mix": (kind: blend((layers: [(), ()]))),
                "out": (kind: output(())),
            },
            edges: [
                (from: "fg", to: "key"),
                (from: "bg", to: "mix", port: "0"),
                (from: "key", to: "mix", port: "1"),
                (from: "mix", to: "out"),
            ],
        ),
    ],
)
"#;

/// Loads `text` as `x.ron` and returns every message (parse or validation).
fn messages(text: &str) -> Vec<String> {
    match io::load_str(text, Path::new("scenes/x.ron")) {
        Err(e) => vec![e.to_string()],
        Ok(show) => validate(&show, Path::new("."))
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// 1-based line:col of the first `needle` in `text`.
fn pos_of(text: &str, needle: &str) -> String {
    pos_at(text, text.find(needle).unwrap())
}

/// 1-based line:col of byte offset `at` in `text`.
fn pos_at(text: &str, at: usize) -> String {
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{line}:{col}")
}

#[test]
fn good_show_has_no_errors() {
    assert_eq!(messages(GOOD), Vec::<String>::new());
}

#[test]
fn bad_parameter_names_file_line_column_node_and_range() {
    let text = GOOD.replace("similarity: 0.4", "similarity: 1.7");
    let expected = format!(
        "scenes/x.ron:{}: scene \"s\": node \"key\" (chroma_key): similarity must be in 0..=1, got 1.7",
        pos_of(&text, "similarity")
    );
    assert_eq!(messages(&text), vec![expected]);
}

#[test]
fn syntax_error_has_position() {
    let text = GOOD.replace(
        "(from: \"fg\", to: \"key\"),",
        "(from: \"fg\" to: \"key\"),",
    );
    let m = messages(&text);
    assert_eq!(m.len(), 1);
    let line = pos_of(&text, "(from: \"fg\" to")
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    assert!(m[0].starts_with(&format!("scenes/x.ron:{line}:")), "{m:?}");
}

/// Every parse error's `file:line:` prefix, as `check` prints them.
fn parse_lines(text: &str) -> Vec<String> {
    match io::load_str_all(text, Path::new("scenes/x.ron")) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|e| {
                let m = e.to_string();
                m.split(':').take(2).collect::<Vec<_>>().join(":")
            })
            .collect(),
    }
}

fn line_of(text: &str, needle: &str) -> String {
    let p = pos_of(text, needle);
    format!("scenes/x.ron:{}", p.split(':').next().unwrap())
}

/// Two wrong values (an unknown field, an unknown kind) are two errors, each at its own line;
/// a typo in a line that opens a block, or a syntax error, stays one (nothing past it can be
/// trusted), and nothing reported is caused by the search itself.
#[test]
fn check_reports_each_wrong_value_not_only_the_first() {
    let two = GOOD
        .replace("similarity: 0.4", "similarty: 0.4")
        .replace("(kind: blend((", "(kind: blnd((");
    assert_eq!(
        parse_lines(&two),
        vec![line_of(&two, "similarty"), line_of(&two, "blnd")]
    );
    let three = two.replace(
        "color: (0.0, 0.0, 1.0, 1.0)",
        "color: (0.0, 0.0, \"1\", 1.0)",
    );
    assert_eq!(
        parse_lines(&three),
        vec![
            line_of(&three, "\"1\""),
            line_of(&three, "similarty"),
            line_of(&three, "blnd")
        ]
    );
    let opener = GOOD.replace("nodes: {", "nodse: {");
    assert_eq!(parse_lines(&opener), vec![line_of(&opener, "nodse")]);
    let syntax = two.replace(
        "(from: \"fg\", to: \"key\"),",
        "(from: \"fg\" to: \"key\"),",
    );
    // RON reads the syntax first: that error is the one reported.
    assert_eq!(
        parse_lines(&syntax),
        vec![line_of(&syntax, "(from: \"fg\" to")]
    );
    // A wrong field on a line of its own inside a multi-line struct: blanking it must not
    // produce a "missing field" of its own.
    let multi = GOOD.replace(
        "(kind: chroma_key((similarity: 0.4))),",
        "(\n                    kind: chroma_key((similarity: 0.4)),\n                    knd: 3,\n                ),",
    );
    assert_eq!(parse_lines(&multi), vec![line_of(&multi, "knd")]);
    assert!(parse_lines(GOOD).is_empty());
}

#[test]
fn unknown_kind_is_named() {
    let text = GOOD.replace("chroma_key((", "chroma_kee((");
    let m = messages(&text);
    assert_eq!(m.len(), 1);
    let line = pos_of(&text, "chroma_kee")
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    assert!(m[0].starts_with(&format!("scenes/x.ron:{line}:")), "{m:?}");
    assert!(m[0].contains("chroma_kee"), "{m:?}");
}

#[test]
fn misspelt_parameter_is_an_error_not_ignored() {
    let m = messages(&GOOD.replace("similarity: 0.4", "similarty: 0.4"));
    assert_eq!(m.len(), 1);
    assert!(m[0].contains("similarty"), "{m:?}");
}

#[test]
fn dangling_edge() {
    let text = GOOD.replace(
        "(from: \"fg\", to: \"key\")",
        "(from: \"ghost\", to: \"key\")",
    );
    let m = messages(&text);
    // The edge is found by its `from:`.
    let want = format!(
        "scenes/x.ron:{}: scene \"s\": edge ghost -> key: there is no node \"ghost\"",
        pos_of(&text, "from: \"ghost\"")
    );
    assert!(m.contains(&want), "{m:?}\nwant {want}");
}

#[test]
fn unknown_port_lists_the_ports() {
    let m = messages(&GOOD.replace("to: \"mix\", port: \"1\"", "to: \"mix\", port: \"7\""));
    assert!(
        m.iter()
            .any(|m| m.contains("node \"mix\" (blend) has no input port \"7\" (ports: 0, 1)")),
        "{m:?}"
    );
}

#[test]
fn port_type_mismatch() {
    let text = GOOD.replace(
        r#""fg": (kind: solid((color: (0.0, 1.0, 0.0, 1.0)))),"#,
        r#""fg": (kind: garbage_matte(())),"#,
    );
    let m = messages(&text);
    assert!(
        m.iter()
            .any(|m| m.contains("port type mismatch, fg gives Matte but key.in takes Image")),
        "{m:?}"
    );
}

#[test]
fn input_connected_twice() {
    let text = GOOD.replace(
        "(from: \"mix\", to: \"out\"),",
        "(from: \"mix\", to: \"out\"),\n                (from: \"bg\", to: \"out\"),",
    );
    let m = messages(&text);
    assert!(
        m.iter()
            .any(|m| m.contains("input out.in is connected twice (from \"mix\" and \"bg\")")),
        "{m:?}"
    );
}

#[test]
fn missing_input() {
    let m = messages(&GOOD.replace("(from: \"fg\", to: \"key\"),", ""));
    assert!(
        m.iter()
            .any(|m| m.contains("node \"key\" (chroma_key): input \"in\" is not connected")),
        "{m:?}"
    );
}

#[test]
fn cycle_is_reported_and_compile_refuses() {
    let text = GOOD
        .replace(
            r#""key": (kind: chroma_key((similarity: 0.4))),"#,
            r#""key": (kind: chroma_key((similarity: 0.4))),
                "adj": (kind: color_adjust(())),"#,
        )
        .replace(
            "(from: \"fg\", to: \"key\"),",
            "(from: \"adj\", to: \"key\"),\n                (from: \"key\", to: \"adj\"),",
        );
    let m = messages(&text);
    assert!(
        m.iter()
            .any(|m| m.contains("the graph has a cycle through adj -> key -> adj")),
        "{m:?}"
    );
    let show = io::load_str(&text, Path::new("x.ron")).unwrap();
    let err = compile(&show, 0, &no_sizes).unwrap_err();
    assert!(matches!(*err.kind, ErrorKind::Cycle(_)), "{err}");
}

#[test]
fn output_count() {
    let m = messages(
        &GOOD
            .replace(r#""out": (kind: output(())),"#, "")
            .replace("(from: \"mix\", to: \"out\"),", ""),
    );
    assert!(
        m.iter()
            .any(|m| m.contains("a scene needs exactly one output node, found 0")),
        "{m:?}"
    );
}

#[test]
fn missing_file_names_the_path() {
    let text = GOOD.replace(
        r#""fg": (kind: solid((color: (0.0, 1.0, 0.0, 1.0)))),"#,
        r#""fg": (kind: image((path: "nope/missing.png"))),"#,
    );
    let m = messages(&text);
    let want = format!(
        "scenes/x.ron:{}: scene \"s\": node \"fg\" (image): file not found: nope/missing.png",
        pos_of(&text, "path:")
    );
    assert!(m.contains(&want), "{m:?}\nwant {want}");
}

#[test]
fn duplicate_scene_names() {
    let text = GOOD.replace("scenes: [\n", "scenes: [\n        (name: \"s\", nodes: {\"o\": (kind: output(())), \"c\": (kind: solid(()))}, edges: [(from: \"c\", to: \"o\")]),\n");
    let m = messages(&text);
    assert!(
        m.iter().any(|m| m.contains("two scenes are named \"s\"")),
        "{m:?}"
    );
}

#[test]
fn one_id_means_one_source_across_scenes() {
    let two = |path_b: &str| {
        format!(
            r#"(version: 1, canvas: (64, 64), scenes: [
            (name: "a", nodes: {{"bg": (kind: image((path: "x.png"))), "out": (kind: output(()))}}, edges: [(from: "bg", to: "out")]),
            (name: "b", nodes: {{"bg": (kind: image((path: "{path_b}"))), "out": (kind: output(()))}}, edges: [(from: "bg", to: "out")]),
        ])"#
        )
    };
    let errors = |text: &str| {
        let show = io::load_str(text, Path::new("x.ron")).unwrap();
        validate(&show, Path::new("."))
            .into_iter()
            .filter(|e| matches!(*e.kind, ErrorKind::SharedIdMismatch { .. }))
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    };
    assert!(errors(&two("x.png")).is_empty());
    let m = errors(&two("y.png"));
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].contains(
            "scene \"b\": node \"bg\" is image x.png in scene \"a\" but image y.png here"
        ),
        "{m:?}"
    );
}

#[test]
fn newer_version_is_refused() {
    let m = messages(&GOOD.replace("version: 1", "version: 9"));
    assert_eq!(
        m,
        vec!["scenes/x.ron: format version 9 is newer than this program understands (up to 2)"]
    );
}

#[test]
fn version_0_is_migrated() {
    // The prototype format: no version field, `resolution` instead of `canvas`.
    let v0 = GOOD
        .replace("version: 1,", "")
        .replace("canvas: (64, 32)", "resolution: (64, 32)");
    let show = io::load_str(&v0, Path::new("x.ron")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(show.version, show::scene::FORMAT_VERSION);
    assert_eq!(show.canvas, (64, 32));
    assert_eq!(show, io::load_str(GOOD, Path::new("x.ron")).unwrap());
}

#[test]
fn save_is_atomic_with_backup_and_round_trips() {
    let dir = scratch("save");
    let path = dir.join("show.ron");
    let mut show = io::load_str(GOOD, &path).unwrap();
    io::save(&path, &show).unwrap();
    let first = fs::read_to_string(&path).unwrap();
    show.canvas = (128, 64);
    io::save(&path, &show).unwrap();
    assert_eq!(fs::read_to_string(io::backup_path(&path)).unwrap(), first);
    assert_eq!(io::load(&path).unwrap(), show);
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn fresh_ids_are_never_reused() {
    let mut show = io::load_str(GOOD, Path::new("x.ron")).unwrap();
    let a = show.fresh_id("blend");
    let b = show.fresh_id("blend");
    assert_ne!(a, b);
    // Even if `a` is never added (or added and deleted), it does not come back.
    let c = show.fresh_id("blend");
    assert!(c != a && c != b);
}

// --- compile ---

fn load(text: &str) -> Show {
    io::load_str(text, Path::new("x.ron")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn unused_nodes_are_not_rendered_and_order_is_dependency_order() {
    let text = GOOD.replace(
        r#""out": (kind: output(())),"#,
        r#""out": (kind: output(())),
                "unused": (kind: solid(())),"#,
    );
    let plan = compile(&load(&text), 0, &no_sizes).unwrap();
    let nodes: Vec<_> = plan.passes.iter().map(|p| p.node.as_str()).collect();
    assert_eq!(nodes, ["bg", "fg", "key", "mix"]);
    assert!(!nodes.contains(&"unused"));
}

#[test]
fn transforms_and_fit_cost_no_pass() {
    let text = r#"(version: 1, canvas: (200, 200), scenes: [(name: "s", nodes: {
        "img": (kind: image((path: "a.png", fit: fit))),
        "t": (kind: transform((position: (10.0, 0.0)))),
        "out": (kind: output(())),
    }, edges: [(from: "img", to: "t"), (from: "t", to: "out")])])"#;
    let plan = compile(&load(text), 0, &|_| Some((100, 50))).unwrap();
    assert!(plan.passes.is_empty(), "{:?}", plan.passes);
    assert_eq!(plan.output.from, Operand::External(NodeId::new("img")));
    // 100x50 fitted into 200x200: 200x100 at y = 50, moved 10 px right.
    let m = plan.output.xform;
    let (x, y) = (110.5f32, 100.5f32);
    let u = m.m[0] * x + m.m[1] * y + m.t[0];
    let v = m.m[2] * x + m.m[3] * y + m.t[1];
    assert!(
        (u - 100.5 / 200.0).abs() < 1e-5 && (v - 50.5 / 100.0).abs() < 1e-5,
        "{u} {v}"
    );
}

#[test]
fn nested_normal_blends_fuse_into_one_pass() {
    let text = r#"(version: 1, canvas: (64, 64), scenes: [(name: "s", nodes: {
        "a": (kind: image((path: "a.png"))), "b": (kind: image((path: "b.png"))),
        "c": (kind: image((path: "c.png"))),
        "inner": (kind: blend((layers: [(), ()]))),
        "outer": (kind: blend((layers: [(), ()]))),
        "out": (kind: output(())),
    }, edges: [(from: "a", to: "inner", port: "0"), (from: "b", to: "inner", port: "1"),
               (from: "c", to: "outer", port: "0"), (from: "inner", to: "outer", port: "1"),
               (from: "outer", to: "out")])])"#;
    let plan = compile(&load(text), 0, &no_sizes).unwrap();
    assert_eq!(plan.passes.len(), 1, "{:?}", plan.passes);
    let PassOp::Blend(layers) = &plan.passes[0].op else {
        panic!()
    };
    assert_eq!(layers.len(), 3);
    // A multiply layer inside must not be fused (it would multiply with `c` instead of `a`).
    let text = text.replacen(
        "\"inner\": (kind: blend((layers: [(), ()])))",
        "\"inner\": (kind: blend((layers: [(), (mode: multiply)])))",
        1,
    );
    let plan = compile(&load(&text), 0, &no_sizes).unwrap();
    assert_eq!(plan.passes.len(), 2);
}

#[test]
fn large_blends_split_at_the_input_limit() {
    let mut nodes = String::new();
    let mut edges = String::new();
    for i in 0..20 {
        nodes.push_str(&format!("\"l{i}\": (kind: image((path: \"{i}.png\"))),"));
        edges.push_str(&format!("(from: \"l{i}\", to: \"mix\", port: \"{i}\"),"));
    }
    let layers = ["()"; 20].join(",");
    let text = format!(
        r#"(version: 1, canvas: (64, 64), scenes: [(name: "s", nodes: {{ {nodes}
        "mix": (kind: blend((layers: [{layers}]))), "out": (kind: output(())) }},
        edges: [{edges} (from: "mix", to: "out")])])"#
    );
    let plan = compile(&load(&text), 0, &no_sizes).unwrap();
    assert_eq!(plan.passes.len(), 2);
    assert_eq!(plan.passes[0].inputs.len(), 16);
    // The second pass starts from the first one's result, then the remaining 4 layers.
    assert_eq!(plan.passes[1].inputs.len(), 5);
    assert_eq!(
        plan.passes[1].inputs[0].from,
        Operand::Slot(plan.passes[0].target)
    );
}

#[test]
fn slots_are_reused_along_a_chain() {
    let mut nodes = String::from("\"src\": (kind: solid(())),");
    let mut edges = String::from("(from: \"src\", to: \"f0\"),");
    for i in 0..6 {
        nodes.push_str(&format!("\"f{i}\": (kind: color_adjust(())),"));
        if i > 0 {
            edges.push_str(&format!("(from: \"f{}\", to: \"f{i}\"),", i - 1));
        }
    }
    let text = format!(
        r#"(version: 1, canvas: (64, 64), scenes: [(name: "s", nodes: {{ {nodes} "out": (kind: output(())) }},
        edges: [{edges} (from: "f5", to: "out")])])"#
    );
    let plan = compile(&load(&text), 0, &no_sizes).unwrap();
    assert_eq!(plan.passes.len(), 7);
    assert_eq!(plan.slot_count, 2, "a chain ping-pongs between two slots");
}

#[test]
fn feather_is_two_blur_passes_and_scope_feeds_come_from_the_camera() {
    let text = r#"(version: 1, canvas: (64, 64), scenes: [(name: "s", nodes: {
        "cam": (kind: camera((device: synthetic))),
        "scope": (kind: scope(())),
        "m": (kind: matte(())), "f": (kind: feather((radius: 4.0))),
        "mask": (kind: mask(())), "out": (kind: output(())),
    }, edges: [(from: "cam", to: "scope"), (from: "scope", to: "m"), (from: "m", to: "f"),
               (from: "scope", to: "mask"), (from: "f", to: "mask", port: "matte"),
               (from: "mask", to: "out")])])"#;
    let plan = compile(&load(text), 0, &no_sizes).unwrap();
    let ops: Vec<_> = plan
        .passes
        .iter()
        .map(|p| std::mem::discriminant(&p.op))
        .collect();
    assert_eq!(ops.len(), 4, "{:?}", plan.passes);
    assert!(matches!(plan.passes[1].op, PassOp::BlurH { radius } if radius == 4.0));
    assert!(matches!(plan.passes[2].op, PassOp::BlurV { .. }));
    assert_eq!(plan.feeds.len(), 1);
    assert_eq!(plan.feeds[0].from, FeedFrom::Camera(NodeId::new("cam")));
    assert_eq!(plan.feeds[0].size, (512, 512));
    // The camera is only sent, never drawn: no texture needed for it.
    let ext: Vec<_> = plan.externals.iter().map(|e| e.node.as_str()).collect();
    assert_eq!(ext, ["scope"]);
}

// --- placement maths, checked against numbers worked out by hand ---

fn apply(a: &show::plan::Affine, x: f32, y: f32) -> (f32, f32) {
    (
        a.m[0] * x + a.m[1] * y + a.t[0],
        a.m[2] * x + a.m[3] * y + a.t[1],
    )
}

fn close(a: (f32, f32), b: (f32, f32)) -> bool {
    (a.0 - b.0).abs() < 1e-4 && (a.1 - b.1).abs() < 1e-4
}

#[test]
fn fit_fill_stretch_original() {
    let id = Transform::default();
    let full = [0.0, 0.0, 1.0, 1.0];
    // 100x50 into 200x200. Fit: scale 2 -> 200x100 at y 50..150.
    let a = place((100, 50), (200, 200), full, Fit::Fit, &id);
    assert!(close(apply(&a, 0.0, 50.0), (0.0, 0.0)));
    assert!(close(apply(&a, 200.0, 150.0), (1.0, 1.0)));
    // Fill: scale 4 -> 400x200 centred: x -100..300.
    let a = place((100, 50), (200, 200), full, Fit::Fill, &id);
    assert!(close(apply(&a, 0.0, 0.0), (0.25, 0.0)));
    // Stretch: whole canvas.
    let a = place((100, 50), (200, 200), full, Fit::Stretch, &id);
    assert!(close(apply(&a, 200.0, 200.0), (1.0, 1.0)));
    // Original: 100x50 centred at (50..150, 75..125).
    let a = place((100, 50), (200, 200), full, Fit::Original, &id);
    assert!(close(apply(&a, 50.0, 75.0), (0.0, 0.0)));
    // Crop the left half away: the right half fills the fit box.
    let a = place(
        (100, 50),
        (200, 200),
        [0.5, 0.0, 1.0, 1.0],
        Fit::Stretch,
        &id,
    );
    assert!(close(apply(&a, 0.0, 0.0), (0.5, 0.0)));
}

#[test]
fn rotation_scale_anchor_and_position() {
    // 100x100 on a 100x100 canvas, turned 90° clockwise about the centre: the top-middle of
    // the source ends up at the right-middle of the canvas.
    let t = Transform {
        rotation: 90.0,
        ..Transform::default()
    };
    let a = place(
        (100, 100),
        (100, 100),
        [0.0, 0.0, 1.0, 1.0],
        Fit::Stretch,
        &t,
    );
    assert!(
        close(apply(&a, 100.0, 50.0), (0.5, 0.0)),
        "{:?}",
        apply(&a, 100.0, 50.0)
    );
    // Scale 0.5 about the top-left anchor, then move by (10, 20): source (1,1) at (60, 70).
    let t = Transform {
        scale: (0.5, 0.5),
        anchor: (0.0, 0.0),
        position: (10.0, 20.0),
        ..Transform::default()
    };
    let a = place(
        (100, 100),
        (100, 100),
        [0.0, 0.0, 1.0, 1.0],
        Fit::Stretch,
        &t,
    );
    assert!(close(apply(&a, 60.0, 70.0), (1.0, 1.0)));
    assert!(close(apply(&a, 10.0, 20.0), (0.0, 0.0)));
}

// --- properties over random graphs ---

/// A random DAG: node i is a generator or takes inputs only from nodes before it. Blend layers
/// have opacity 0.5, which no fusion accepts, so each used node is exactly one pass.
#[derive(Debug, Clone)]
enum Gen {
    Solid,
    Adjust(usize),
    Blend(Vec<usize>),
}

fn graph() -> impl Strategy<Value = Vec<Gen>> {
    (2usize..14).prop_flat_map(|n| {
        let nodes: Vec<_> = (0..n)
            .map(|i| {
                if i == 0 {
                    Just(Gen::Solid).boxed()
                } else {
                    prop_oneof![
                        Just(Gen::Solid),
                        (0..i).prop_map(Gen::Adjust),
                        proptest::collection::vec(0..i, 1..5).prop_map(Gen::Blend),
                    ]
                    .boxed()
                }
            })
            .collect();
        nodes
    })
}

fn show_text(g: &[Gen], extra_edge: Option<(usize, usize)>) -> String {
    let mut nodes = String::new();
    let mut edges = String::new();
    for (i, n) in g.iter().enumerate() {
        match n {
            Gen::Solid => nodes.push_str(&format!("\"n{i}\": (kind: solid(())),")),
            Gen::Adjust(from) => {
                nodes.push_str(&format!("\"n{i}\": (kind: color_adjust(())),"));
                if extra_edge.map(|e| e.1) != Some(i) {
                    edges.push_str(&format!("(from: \"n{from}\", to: \"n{i}\"),"));
                }
            }
            Gen::Blend(ins) => {
                let layers = vec!["(mode: multiply, opacity: 0.5)"; ins.len()].join(",");
                nodes.push_str(&format!("\"n{i}\": (kind: blend((layers: [{layers}]))),"));
                for (port, from) in ins.iter().enumerate() {
                    if extra_edge.map(|e| e.1) == Some(i) && port == 0 {
                        continue;
                    }
                    edges.push_str(&format!(
                        "(from: \"n{from}\", to: \"n{i}\", port: \"{port}\"),"
                    ));
                }
            }
        }
    }
    if let Some((from, to)) = extra_edge {
        edges.push_str(&format!(
            "(from: \"n{from}\", to: \"n{to}\", port: \"{}\"),",
            if matches!(g[to], Gen::Blend(_)) {
                "0"
            } else {
                "in"
            }
        ));
    }
    let last = g.len() - 1;
    format!(
        "(version: 1, canvas: (32, 32), scenes: [(name: \"s\", nodes: {{ {nodes} \"out\": (kind: output(())) }}, edges: [{edges} (from: \"n{last}\", to: \"out\")])])"
    )
}

/// What the graph computes, as an expression over node ids.
fn graph_expr(g: &[Gen], i: usize) -> String {
    match &g[i] {
        Gen::Solid => format!("n{i}"),
        Gen::Adjust(f) => format!("n{i}({})", graph_expr(g, *f)),
        Gen::Blend(ins) => {
            let parts: Vec<_> = ins.iter().map(|f| graph_expr(g, *f)).collect();
            format!("n{i}({})", parts.join(","))
        }
    }
}

/// What the plan computes: runs it symbolically, slot by slot. A slot overwritten while still
/// needed shows up as a wrong expression.
fn plan_expr(plan: &show::RenderPlan) -> String {
    let mut slots: BTreeMap<u32, String> = BTreeMap::new();
    for (i, p) in plan.passes.iter().enumerate() {
        let ins: Vec<_> = p
            .inputs
            .iter()
            .map(|s| match &s.from {
                Operand::Slot(id) => slots
                    .get(&id.0)
                    .cloned()
                    .unwrap_or_else(|| panic!("pass {i} reads unwritten slot {}", id.0)),
                Operand::External(n) => n.to_string(),
            })
            .collect();
        let e = if ins.is_empty() {
            p.node.to_string()
        } else {
            format!("{}({})", p.node, ins.join(","))
        };
        slots.insert(p.target.0, e);
    }
    match &plan.output.from {
        Operand::Slot(id) => slots[&id.0].clone(),
        Operand::External(n) => n.to_string(),
    }
}

/// Nodes the output depends on.
fn ancestors(g: &[Gen], i: usize, acc: &mut Vec<usize>) {
    if acc.contains(&i) {
        return;
    }
    acc.push(i);
    match &g[i] {
        Gen::Solid => {}
        Gen::Adjust(f) => ancestors(g, *f, acc),
        Gen::Blend(ins) => ins.iter().for_each(|f| ancestors(g, *f, acc)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn plans_compute_what_the_graph_says(g in graph()) {
        let show = load(&show_text(&g, None));
        prop_assert!(validate(&show, Path::new(".")).is_empty());
        let plan = compile(&show, 0, &no_sizes).unwrap();
        prop_assert_eq!(plan_expr(&plan), graph_expr(&g, g.len() - 1));
        // Only what the output uses is rendered, each node once.
        let mut used = Vec::new();
        ancestors(&g, g.len() - 1, &mut used);
        prop_assert_eq!(plan.passes.len(), used.len());
        // Never more slots than passes; deterministic.
        prop_assert!(plan.slot_count as usize <= plan.passes.len().max(1));
        prop_assert_eq!(compile(&show, 0, &no_sizes).unwrap(), plan);
    }

    #[test]
    fn back_edges_are_cycles(g in graph(), pick in any::<prop::sample::Index>()) {
        // Redirect one input of a non-generator node to come from itself or a later node.
        let takers: Vec<usize> = g.iter().enumerate()
            .filter(|(_, n)| !matches!(n, Gen::Solid)).map(|(i, _)| i).collect();
        prop_assume!(!takers.is_empty());
        let to = takers[pick.index(takers.len())];
        let from = to + pick.index(g.len() - to);
        // `from` must reach `to`'s input from downstream of `to`: from >= to; a path to -> from
        // exists only if `from` depends on `to`, or it is `to` itself.
        let mut deps = Vec::new();
        ancestors(&g, from, &mut deps);
        prop_assume!(deps.contains(&to));
        let show = load(&show_text(&g, Some((from, to))));
        let errors = validate(&show, Path::new("."));
        prop_assert!(errors.iter().any(|e| matches!(*e.kind, ErrorKind::Cycle(_))), "{:?}", errors);
        prop_assert!(compile(&show, 0, &no_sizes).is_err());
    }
}

#[test]
fn duplicate_scene_name_points_at_the_duplicate() {
    let text = GOOD.replace(
        "    ],\n)",
        "        (name: \"s\", nodes: {\"o\": (kind: output(())), \"c\": (kind: solid(()))}, edges: [(from: \"c\", to: \"o\")]),\n    ],\n)",
    );
    let second = text.rfind("\"s\"").unwrap();
    let want = format!(
        "scenes/x.ron:{}: two scenes are named \"s\"",
        pos_at(&text, second)
    );
    let m = messages(&text);
    assert!(m.contains(&want), "{m:?}\nwant {want}");
}

/// `GOOD` with a transition into scene "s" of the given duration, written as RON text.
fn with_duration(duration: &str) -> String {
    GOOD.replace(
        "name: \"s\",",
        &format!("name: \"s\",\n            transition: (kind: fade, duration: {duration}),"),
    )
}

#[test]
fn transition_duration_must_be_finite_non_negative_and_sane() {
    for (written, shown) in [
        ("NaN", "NaN"),
        ("inf", "inf"),
        ("-inf", "-inf"),
        ("-0.5", "-0.5"),
        ("601.0", "601"),
        ("1e30", "1000000000000000000000000000000"),
    ] {
        let text = with_duration(written);
        let want = format!(
            "scenes/x.ron:{}: scene \"s\": transition duration must be in 0..=600 seconds, got {shown}",
            pos_of(&text, "duration:")
        );
        assert_eq!(messages(&text), vec![want], "duration {written}");
    }
    for ok in ["0.0", "0.5", "600.0"] {
        assert_eq!(messages(&with_duration(ok)), Vec::<String>::new(), "{ok}");
    }
}

#[test]
fn duplicate_node_id_in_a_scene_is_an_error_at_the_second() {
    let text = GOOD.replace(
        r#""fg": (kind: solid((color: (0.0, 1.0, 0.0, 1.0)))),"#,
        "\"fg\": (kind: solid((color: (0.0, 1.0, 0.0, 1.0)))),\n                \"fg\": (kind: solid(())),",
    );
    let second = text.rfind("\"fg\": (kind").unwrap();
    let want = format!(
        "scenes/x.ron:{}: scene \"s\": node \"fg\" (solid): the id is used twice in this scene (ids must be unique; only the last one would be kept)",
        pos_at(&text, second)
    );
    assert_eq!(messages(&text), vec![want]);
    // The same id in two scenes is fine (shared sources), and so is one in a comment or string.
    let commented = GOOD.replace(
        r#""bg": (kind:"#,
        "// \"fg\": (kind: solid(())),\n                \"bg\": (kind:",
    );
    assert_eq!(messages(&commented), Vec::<String>::new());
}

/// `GOOD` with a Scope node `ai` (text mode, no input) feeding the output instead of the mix.
fn with_scope_url(url: &str) -> String {
    GOOD.replace(
        r#""out": (kind: output(())),"#,
        &format!(
            "\"out\": (kind: output(())),\n                \"ai\": (kind: scope((url: \"{url}\", pipeline: \"passthrough\"))),"
        ),
    )
    .replace(
        "(from: \"mix\", to: \"out\"),",
        "(from: \"ai\", to: \"out\"),",
    )
}

#[test]
fn scope_url_must_be_embedded_or_http() {
    for good in [
        "embedded",
        "http://127.0.0.1:8000",
        "https://scope.example.com/",
        "http://[::1]:8000/base",
        "https://h",
    ] {
        let m: Vec<_> = messages(&with_scope_url(good))
            .into_iter()
            .filter(|m| m.contains("\"ai\""))
            .collect();
        assert!(m.is_empty(), "{good}: {m:?}");
    }
    for bad in [
        "ftp://host/x",
        "localhost:8000",
        "http://",
        "https:///path",
        "http://host:99999",
        "http://host:",
        "http://ho st",
        "HTTP:/host",
        "",
        "embeded",
    ] {
        let text = with_scope_url(bad);
        let m = messages(&text);
        let prefix = format!(
            "scenes/x.ron:{}: scene \"s\": node \"ai\" (scope): url \"{bad}\" is not \"embedded\" or an http:// or https:// URL with a host",
            pos_of(&text, "url:")
        );
        assert!(
            m.iter().any(|m| m.starts_with(&prefix)),
            "{bad}: {m:?}\nwant {prefix}"
        );
    }
}

#[test]
fn duplicate_node_id_is_reported_in_its_own_scene_and_strings_or_comments_do_not_count() {
    let text = r#"(version: 1, canvas: (64, 64), scenes: [
        (name: "a", nodes: {"bg": (kind: solid(())), /* "bg": */ "out": (kind: output(()))},
         edges: [(from: "bg", to: "out")]),
        (name: "b", nodes: {
            "ai": (kind: scope((params: (prompts: [(text: "nodes: {\"ai\": 1, \"ai\": 2}")])))),
            "out": (kind: output(())), "out": (kind: output(()))},
         edges: [(from: "ai", to: "out")]),
    ])"#;
    let second = text.rfind("\"out\": (kind").unwrap();
    let want = format!(
        "scenes/x.ron:{}: scene \"b\": node \"out\" (output): the id is used twice in this scene (ids must be unique; only the last one would be kept)",
        pos_at(text, second)
    );
    assert_eq!(messages(text), vec![want]);
}

/// Standard CRC-32 (as PNG chunks use), bit by bit: tests need only a few bytes.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG signature, an IHDR chunk claiming `w`x`h` and empty IDAT/IEND (only the header is read).
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(w.to_be_bytes());
    chunk.extend(h.to_be_bytes());
    chunk.extend([8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(13u32.to_be_bytes());
    out.extend(&chunk);
    out.extend(crc32(&chunk).to_be_bytes());
    // The decoder reads on to the first data chunk before it reports a size.
    for name in [&b"IDAT"[..], &b"IEND"[..]] {
        out.extend(0u32.to_be_bytes());
        out.extend(name);
        out.extend(crc32(name).to_be_bytes());
    }
    out
}

/// The messages for an image node at `path`, and the `path:` position they should carry.
fn image_messages(path: &Path) -> (Vec<String>, String) {
    let text = GOOD.replace(
        r#""fg": (kind: solid((color: (0.0, 1.0, 0.0, 1.0)))),"#,
        &format!(
            r#""fg": (kind: image((path: {:?}))),"#,
            path.display().to_string()
        ),
    );
    (messages(&text), pos_of(&text, "path:"))
}

fn assert_bad_image(path: &Path, reason: &str) {
    let (m, pos) = image_messages(path);
    let want = format!(
        "scenes/x.ron:{pos}: scene \"s\": node \"fg\" (image): {} {reason}",
        path.display()
    );
    assert!(m.iter().any(|m| m.starts_with(&want)), "{m:?}\nwant {want}");
}

#[test]
fn corrupt_png_is_rejected() {
    let path = scratch("corrupt-png").join("bad.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(b"this is not a chunk at all, just garbage");
    fs::write(&path, bytes).unwrap();
    assert_bad_image(&path, "is not a PNG or JPEG image this build can decode: ");
}

#[test]
fn decompression_bomb_png_is_rejected() {
    let path = scratch("bomb-png").join("bomb.png");
    fs::write(&path, png_header(60000, 60000)).unwrap();
    assert_bad_image(&path, "is 60000x60000, larger than the limit");
}

#[test]
fn directory_is_not_an_image() {
    let path = scratch("dir-image").join("folder.png");
    fs::create_dir_all(&path).unwrap();
    assert_bad_image(&path, "is a directory, not an image file");
}

#[test]
fn device_is_not_a_regular_file() {
    let path = Path::new("/dev/zero");
    if !path.exists() {
        return;
    }
    assert_bad_image(path, "is not a regular file");
}

#[test]
fn small_valid_png_passes() {
    let path = scratch("good-png").join("good.png");
    image::RgbaImage::new(4, 3).save(&path).unwrap();
    let (m, _) = image_messages(&path);
    assert!(m.is_empty(), "{m:?}");
}

#[test]
fn midi_mappings_are_checked_against_midi_and_the_show() {
    let text = r#"(version: 2, canvas: (64, 36),
    midi: [
        (control: cc(channel: 0, number: 7), target: t_bar),
        (control: note(channel: 10, number: 200), target: program("nope")),
        (control: note(channel: 10, number: 36), target: take),
        (control: note(channel: 10, number: 36), target: param(node: "bg", param: "nope")),
        (control: cc(channel: 2, number: 1), target: t_bar, range: Some((0.0, 1.5))),
    ],
    scenes: [(name: "one", nodes: { "bg": (kind: solid(())), "out": (kind: output(())) }, edges: [(from: "bg", to: "out")])])"#;
    let show = io::load_str(text, Path::new("x.ron")).unwrap();
    let msg: String = validate(&show, Path::new("."))
        .iter()
        .map(|e| format!("{e}\n"))
        .collect();
    for want in [
        "ch 0 CC 7: channel must be in 1..=16, got 0",
        "number must be in 0..=127, got 200",
        "no scene \"nope\"",
        "ch 10 note 36: is mapped twice",
        "node \"bg\" has no parameter \"nope\"",
        "ch 2 CC 1: range must be two fractions in 0..=1, got (0, 1.5)",
    ] {
        assert!(msg.contains(want), "{want:?} not in:\n{msg}");
    }
    // The problems point at the show's `midi:` line.
    assert!(msg.contains("x.ron:2:"), "{msg}");
}
