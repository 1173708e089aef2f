//! The `segment` node in the show model: validation of its model file and parameters, and what
//! it compiles to (a feed of its input to the model and one upsampling pass of its mask).

#![allow(clippy::unwrap_used, reason = "tests")]

use std::path::Path;

use show::plan::{Affine, FeedFrom, Operand, PassOp};
use show::{NodeId, compile, io, validate};

fn show(input: &str, seg: &str) -> String {
    format!(
        r#"(version: 1, canvas: (320, 180), scenes: [(name: "s", nodes: {{
            "in": (kind: {input}), "seg": (kind: segment(({seg}))),
            "white": (kind: solid((color: (1.0, 1.0, 1.0, 1.0)))), "m": (kind: mask(())),
            "out": (kind: output(()))}},
          edges: [(from: "in", to: "seg"), (from: "white", to: "m", port: "in"),
                  (from: "seg", to: "m", port: "matte"), (from: "m", to: "out")])])"#
    )
}

fn messages(text: &str) -> Vec<String> {
    match io::load_str(text, Path::new("scenes/x.ron")) {
        Err(e) => vec![e.to_string()],
        Ok(show) => validate(&show, Path::new("."))
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

const SOLID: &str = "solid((color: (0.5, 0.5, 0.5, 1.0)))";
const CAMERA: &str = "camera((device: synthetic, width: 640, height: 480, fit: fill))";

#[test]
fn defaults_validate() {
    assert_eq!(messages(&show(SOLID, "")), Vec::<String>::new());
}

#[test]
fn a_missing_model_file_names_the_file_and_the_node() {
    let m = messages(&show(SOLID, r#"model_file: Some("models/gone.onnx")"#));
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].ends_with(r#"node "seg" (segment): file not found: models/gone.onnx"#),
        "{m:?}"
    );
    // A directory is no model either.
    let m = messages(&show(SOLID, r#"model_file: Some(".")"#));
    assert!(
        m[0].contains(r#"node "seg" (segment): model file . is not a regular file"#),
        "{m:?}"
    );
}

#[test]
fn bad_parameters_are_named_with_their_range() {
    for (param, want) in [
        ("threshold: NaN", "threshold must be in 0..=1, got NaN"),
        ("softness: 0.7", "softness must be in 0..=0.5, got 0.7"),
        ("smoothing: 1.0", "smoothing must be in 0..=0.95, got 1"),
        ("every: 0", "every must be in 1..=30, got 0"),
    ] {
        let m = messages(&show(SOLID, param));
        assert_eq!(m.len(), 1, "{param}: {m:?}");
        assert!(m[0].ends_with(want), "{param}: {m:?}");
    }
    let m = messages(&show(SOLID, "align: later"));
    assert!(m[0].contains("later"), "{m:?}");
}

#[test]
fn a_camera_input_feeds_its_own_frames_and_the_mask_follows_its_placement() {
    let s = io::load_str(&show(CAMERA, "model: landscape"), Path::new("x.ron")).unwrap();
    let plan = compile(&s, 0, &|_| Some((640, 480))).unwrap();
    let [feed] = plan.feeds.as_slice() else {
        panic!("{:?}", plan.feeds)
    };
    assert_eq!(feed.scope, NodeId::new("seg"));
    assert_eq!(feed.from, FeedFrom::Camera(NodeId::new("in")));
    assert_eq!(feed.size, (256, 144));
    let pass = plan
        .passes
        .iter()
        .find(|p| p.node == NodeId::new("seg"))
        .unwrap();
    assert!(
        matches!(pass.op, PassOp::Segment { threshold, softness } if threshold == 0.5 && softness == 0.15),
        "{:?}",
        pass.op
    );
    assert_eq!(pass.inputs[0].from, Operand::External(NodeId::new("seg")));
    // The mask covers the whole camera frame, so it is placed like the camera: 640×480 filling
    // 320×180 is scaled by 1/2 and cut 30 px at the top and bottom.
    let x = pass.inputs[0].xform;
    let want = [1.0 / 320.0, 0.0, 0.0, 1.0 / 240.0, 0.0, 0.125];
    let got = [x.m[0], x.m[1], x.m[2], x.m[3], x.t[0], x.t[1]];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

#[test]
fn any_other_input_is_rendered_at_the_model_size_and_the_mask_covers_the_canvas() {
    let s = io::load_str(&show(SOLID, ""), Path::new("x.ron")).unwrap();
    let plan = compile(&s, 0, &|_| None).unwrap();
    let [feed] = plan.feeds.as_slice() else {
        panic!("{:?}", plan.feeds)
    };
    assert!(
        matches!(feed.from, FeedFrom::Rendered(_)),
        "{:?}",
        feed.from
    );
    assert_eq!(feed.size, (256, 256));
    let pass = plan
        .passes
        .iter()
        .find(|p| p.node == NodeId::new("seg"))
        .unwrap();
    assert_eq!(pass.inputs[0].xform, Affine::canvas((320, 180)));
    assert!(plan.externals.iter().any(|e| e.node == NodeId::new("seg")));
}
