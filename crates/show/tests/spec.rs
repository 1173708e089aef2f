//! The node-kind table: it covers every kind, its rows read and write what they say, and
//! validate enforces exactly the table's ranges.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use show::node::*;
use show::spec::{self, Category, KindSpec, ParamSpec, ParamType, Value};
use show::{ErrorKind, Node, NodeId, NodeKind, Rgba, Scene, Show, validate};

/// One default of every variant. The match is exhaustive, so a new variant fails to compile
/// here until it is added (and then `kinds()` must list it too).
fn every_variant() -> Vec<NodeKind> {
    let all = [
        NodeKind::Solid(Solid::default()),
        NodeKind::Gradient(Gradient::default()),
        NodeKind::Image(ImageSource::default()),
        NodeKind::TestPattern(TestPattern::default()),
        NodeKind::Camera(Camera::default()),
        NodeKind::Scope(ScopeNode::default()),
        NodeKind::GarbageMatte(GarbageMatte::default()),
        NodeKind::Transform(Transform::default()),
        NodeKind::Blend(Blend::default()),
        NodeKind::ChromaKey(ChromaKey::default()),
        NodeKind::LumaKey(LumaKey::default()),
        NodeKind::Matte(MatteFrom::default()),
        NodeKind::Invert(Invert::default()),
        NodeKind::Feather(Feather::default()),
        NodeKind::Segment(Segment::default()),
        NodeKind::Mask(Mask::default()),
        NodeKind::ColorAdjust(ColorAdjust::default()),
        NodeKind::Output(Output::default()),
    ];
    for k in &all {
        match k {
            NodeKind::Solid(_)
            | NodeKind::Gradient(_)
            | NodeKind::Image(_)
            | NodeKind::TestPattern(_)
            | NodeKind::Camera(_)
            | NodeKind::Scope(_)
            | NodeKind::GarbageMatte(_)
            | NodeKind::Transform(_)
            | NodeKind::Blend(_)
            | NodeKind::ChromaKey(_)
            | NodeKind::LumaKey(_)
            | NodeKind::Matte(_)
            | NodeKind::Invert(_)
            | NodeKind::Feather(_)
            | NodeKind::Segment(_)
            | NodeKind::Mask(_)
            | NodeKind::ColorAdjust(_)
            | NodeKind::Output(_) => {}
        }
    }
    all.into()
}

/// The kind's default with every optional set and every list non-empty, so each row has a value.
fn populated(spec: &KindSpec) -> NodeKind {
    let mut kind = (spec.make_default)();
    if let NodeKind::Segment(s) = &mut kind {
        s.model_file = Some("models/mine.onnx".into());
    }
    if let NodeKind::Scope(s) = &mut kind {
        s.load.quantization = Some("fp8".into());
        s.params.prompts = vec![
            Prompt {
                text: "a lighthouse".into(),
                weight: 1.0,
            },
            Prompt {
                text: "at dusk".into(),
                weight: 0.5,
            },
        ];
        s.params.transition_steps = Some(4);
        s.params.noise_scale = Some(0.7);
        s.params.denoising_steps = Some(vec![1000, 750, 500]);
        s.params.manage_cache = Some(true);
        s.params.vace_ref_images = vec!["ref.png".into()];
        s.params.vace_context_scale = Some(1.0);
    }
    kind
}

/// `kind` under id "n" in a one-scene show (with an output, so only "n"'s params matter).
fn show_with(kind: NodeKind) -> Show {
    let mut nodes = BTreeMap::new();
    nodes.insert(NodeId::new("n"), Node { kind, pos: None });
    let output = NodeKind::Output(Output::default());
    nodes.insert(
        NodeId::new("out"),
        Node {
            kind: output,
            pos: None,
        },
    );
    let mut show = Show::new((1920, 1080));
    show.scenes.push(Scene {
        name: "s".into(),
        transition: Default::default(),
        scope: None,
        nodes,
        edges: Vec::new(),
    });
    show
}

/// The parameter names validate reports for node "n", with their messages.
fn bad_params(kind: NodeKind) -> Vec<(String, String)> {
    validate(&show_with(kind), Path::new("."))
        .into_iter()
        .filter_map(|e| match *e.kind {
            ErrorKind::BadParam {
                ref node,
                ref param,
                ..
            } if node.as_str() == "n" => Some((param.clone(), e.to_string())),
            _ => None,
        })
        .collect()
}

/// Names cross-field rules report, besides the single parameter that broke them.
const CROSS_FIELD: [&str; 3] = ["crop.left+right", "crop.top+bottom", "high"];

fn reported_name(row: &ParamSpec, i: usize, part: Option<usize>) -> String {
    match part {
        Some(p) => format!("{}.{}", row.item_name(i), row.parts[p]),
        None => row.item_name(i),
    }
}

#[test]
fn kinds_cover_every_variant_once_in_palette_order() {
    let variants = every_variant();
    let names: Vec<&str> = variants.iter().map(NodeKind::name).collect();
    let table: Vec<&str> = spec::kinds().iter().map(|k| k.name).collect();
    assert_eq!(table.len(), names.len(), "{table:?}");
    assert_eq!(
        table.iter().collect::<BTreeSet<_>>(),
        names.iter().collect::<BTreeSet<_>>()
    );
    // Grouped by category, categories in declaration order.
    let order = [
        Category::Source,
        Category::Key,
        Category::Matte,
        Category::Transform,
        Category::Color,
        Category::Composite,
        Category::Output,
    ];
    let rank = |c: Category| order.iter().position(|o| *o == c).unwrap();
    let ranks: Vec<usize> = spec::kinds().iter().map(|k| rank(k.category)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    for c in order {
        assert!(!c.label().is_empty());
    }
}

#[test]
fn spec_of_every_variant_names_it_and_makes_it() {
    for kind in every_variant() {
        let spec = kind.spec();
        assert_eq!(spec.name, kind.name());
        assert_eq!((spec.make_default)(), kind, "{}", spec.name);
        assert!(std::ptr::eq(spec::kind(kind.name()).unwrap(), spec));
        assert!(!spec.label.is_empty() && !spec.help.is_empty());
        assert!(!spec.help.contains('\n'), "{}: help is one line", spec.name);
    }
    assert!(spec::kind("no_such_kind").is_none());
}

#[test]
fn every_shader_named_is_on_disk() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shaders");
    for k in spec::kinds() {
        if let Some(shader) = k.shader {
            let path = dir.join(format!("{shader}.wgsl"));
            assert!(path.is_file(), "{}: {} missing", k.name, path.display());
        }
    }
}

#[test]
fn rows_are_unique_and_described() {
    for k in spec::kinds() {
        let mut seen = BTreeSet::new();
        for row in k.params {
            assert!(seen.insert(row.name), "{}: {} twice", k.name, row.name);
            assert!(
                !row.label.is_empty() && !row.help.is_empty(),
                "{}",
                row.name
            );
            assert!(std::ptr::eq(spec::param(k.name, row.name).unwrap(), row));
            if let ParamType::Float { min, max, step } = row.ty {
                assert!(min < max && step > 0.0, "{}.{}", k.name, row.name);
            }
        }
    }
}

#[test]
fn every_value_of_a_default_or_populated_node_passes_its_check() {
    for k in spec::kinds() {
        let full = populated(k);
        for row in k.params {
            if let Some(v) = row.default_value(k) {
                assert_eq!(row.check(&v), Ok(()), "{}.{}", k.name, row.name);
            }
            let len = (row.len)(&full);
            assert!(len > 0 || row.name == "fallback.fade_after", "{}", row.name);
            for i in 0..len {
                let v = (row.get)(&full, i).unwrap();
                assert_eq!(row.check(&v), Ok(()), "{}.{}[{i}]", k.name, row.name);
            }
        }
        assert_eq!(bad_params(full), vec![], "{}", k.name);
    }
}

#[test]
fn get_set_round_trips_every_row() {
    for k in spec::kinds() {
        let mut kind = populated(k);
        for row in k.params {
            for i in 0..(row.len)(&kind) {
                let v = (row.get)(&kind, i).unwrap();
                assert!((row.set)(&mut kind, i, Some(v.clone())), "{}", row.name);
                assert_eq!((row.get)(&kind, i), Some(v), "{}.{}[{i}]", k.name, row.name);
            }
            if let Some(d) = row.default_value(k) {
                assert!((row.set)(&mut kind, 0, Some(d.clone())), "{}", row.name);
                assert_eq!((row.get)(&kind, 0), Some(d));
            }
        }
        assert_eq!(
            kind,
            populated(k),
            "{}: setting defaults changed the node",
            k.name
        );
    }
}

#[test]
fn rows_refuse_other_kinds_wrong_types_and_bad_indices() {
    let variants = every_variant();
    for k in spec::kinds() {
        for row in k.params {
            for other in variants.iter().filter(|v| v.name() != k.name) {
                let mut other = other.clone();
                assert_eq!((row.len)(&other), 0);
                assert_eq!((row.get)(&other, 0), None);
                assert!(!(row.set)(&mut other, 0, Some(Value::Bool(true))));
            }
            let mut kind = populated(k);
            let len = (row.len)(&kind);
            assert_eq!((row.get)(&kind, len), None, "{}", row.name);
            let v = (row.get)(&kind, 0);
            if let Some(v) = v {
                assert!(!(row.set)(&mut kind, len, Some(v)), "{}", row.name);
            }
            let wrong = match row.ty {
                ParamType::Bool => Value::Float(1.0),
                _ => Value::Bool(true),
            };
            assert!(
                !(row.set)(&mut kind, 0, Some(wrong.clone())),
                "{}",
                row.name
            );
            assert!(row.check(&wrong).is_err());
            if let ParamType::Choice(names) = row.ty {
                assert!(!names.is_empty());
                assert!(!(row.set)(&mut kind, 0, Some(Value::Choice("nope"))));
                assert!(row.check(&Value::Choice("nope")).is_err());
            }
            // Only optionals can be cleared.
            assert_eq!((row.set)(&mut kind, 0, None), row.optional, "{}", row.name);
            if row.optional {
                assert_eq!((row.get)(&kind, 0), None, "{}", row.name);
            }
        }
    }
}

/// Values outside `ty`'s range, as `(value, component)`; empty for non-numeric types.
fn out_of_range(ty: &ParamType) -> Vec<(Value, Option<usize>)> {
    match *ty {
        ParamType::Float { min, max, .. } => vec![
            (Value::Float(min - 1.0), None),
            (Value::Float(max + 1.0), None),
            (Value::Float(f32::NAN), None),
        ],
        ParamType::Int { min, max } => [min.checked_sub(1), max.checked_add(1)]
            .into_iter()
            .flatten()
            .map(|v| (Value::Int(v), None))
            .collect(),
        ParamType::Vec2 { min, max } => vec![
            (Value::Vec2(min - 1.0, min), Some(0)),
            (Value::Vec2(max, max + 1.0), Some(1)),
            (Value::Vec2(f32::INFINITY, min), Some(0)),
        ],
        ParamType::Color => vec![
            (Value::Color(Rgba(1.5, 0.0, 0.0, 1.0)), Some(0)),
            (Value::Color(Rgba(0.0, 0.0, 0.0, -0.5)), Some(3)),
        ],
        _ => Vec::new(),
    }
}

#[test]
fn out_of_range_values_are_reported_by_validate_under_the_row_name() {
    let mut tried = BTreeSet::new();
    for k in spec::kinds() {
        for row in k.params {
            let base = populated(k);
            for i in 0..(row.len)(&base) {
                for (v, part) in out_of_range(&row.ty) {
                    let mut kind = base.clone();
                    // Some fields cannot hold the value at all (a negative u32): nothing to check.
                    if !(row.set)(&mut kind, i, Some(v.clone())) {
                        continue;
                    }
                    assert!(row.check(&v).is_err(), "{} {v:?}", row.name);
                    let want = reported_name(row, i, part);
                    let got = bad_params(kind);
                    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
                    assert!(
                        names.contains(&want.as_str()),
                        "{want}: {v:?} gave {names:?}"
                    );
                    for n in &names {
                        assert!(*n == want || CROSS_FIELD.contains(n), "{want}: also {n}");
                    }
                    tried.insert(format!("{}.{}", k.name, row.name));
                }
            }
        }
    }
    // Every numeric row is exercised except ints whose range is the field's whole range.
    for k in spec::kinds() {
        for row in k.params {
            let numeric = matches!(
                row.ty,
                ParamType::Float { .. } | ParamType::Vec2 { .. } | ParamType::Color
            ) || matches!(row.ty, ParamType::Int { max, .. } if max < i64::from(u32::MAX));
            if numeric && (row.len)(&populated(k)) > 0 {
                let name = format!("{}.{}", k.name, row.name);
                assert!(tried.contains(&name), "{name} never tried");
            }
        }
    }
}

#[test]
fn chroma_key_similarity_range_is_what_validate_enforces() {
    let row = spec::param("chroma_key", "similarity").unwrap();
    assert!(matches!(
        row.ty,
        ParamType::Float {
            min: 0.0,
            max: 1.0,
            ..
        }
    ));
    assert_eq!(row.unit, "");
    assert!(row.check(&Value::Float(1.5)).unwrap_err().contains("0..=1"));
    let mut kind = (spec::kind("chroma_key").unwrap().make_default)();
    assert!((row.set)(&mut kind, 0, Some(Value::Float(1.5))));
    let got = bad_params(kind);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "similarity");
    assert!(
        got[0].1.ends_with("similarity must be in 0..=1, got 1.5"),
        "{}",
        got[0].1
    );
}

#[test]
fn list_rows_are_reported_per_item() {
    let opacity = spec::param("blend", "layers.opacity").unwrap();
    assert!(opacity.list && !opacity.optional);
    assert_eq!(opacity.item_name(1), "layers[1].opacity");
    let weight = spec::param("scope", "params.prompts.weight").unwrap();
    assert_eq!(weight.item_name(0), "params.prompts[0].weight");
    let steps = spec::param("scope", "params.denoising_steps").unwrap();
    assert!(steps.list && steps.optional);
    assert_eq!(steps.item_name(2), "params.denoising_steps[2]");
    assert_eq!(
        spec::param("transform", "crop.left").unwrap().item_name(0),
        "crop.left"
    );

    let mut kind = (spec::kind("blend").unwrap().make_default)();
    assert!((opacity.set)(&mut kind, 1, Some(Value::Float(2.0))));
    let got = bad_params(kind);
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .1
            .ends_with("layers[1].opacity must be in 0..=1, got 2"),
        "{got:?}"
    );
}

#[test]
fn mode_lists_all_eighteen_blend_modes() {
    let mode = spec::param("blend", "layers.mode").unwrap();
    let ParamType::Choice(names) = mode.ty else {
        panic!("{:?}", mode.ty)
    };
    assert_eq!(names.len(), BlendMode::ALL.len());
    let mut kind = NodeKind::Blend(Blend {
        layers: vec![Layer::default()],
    });
    for (name, want) in names.iter().zip(BlendMode::ALL) {
        assert!((mode.set)(&mut kind, 0, Some(Value::Choice(name))));
        let NodeKind::Blend(b) = &kind else { panic!() };
        assert_eq!(b.layers[0].mode, want);
        // The RON name is what the show file says.
        let ron = ron::to_string(&want).unwrap();
        assert_eq!(ron, *name);
    }
}

#[test]
fn camera_device_is_text() {
    let row = spec::param("camera", "device").unwrap();
    let mut kind = NodeKind::Camera(Camera::default());
    assert_eq!((row.get)(&kind, 0), Some(Value::Text("0".into())));
    for (text, want) in [
        ("2", CameraDevice::Index(2)),
        ("synthetic", CameraDevice::Synthetic),
        ("FaceTime HD", CameraDevice::Name("FaceTime HD".into())),
    ] {
        assert!((row.set)(&mut kind, 0, Some(Value::Text(text.into()))));
        let NodeKind::Camera(c) = &kind else { panic!() };
        assert_eq!(c.device, want);
        assert_eq!((row.get)(&kind, 0), Some(Value::Text(text.into())));
    }
}

#[test]
fn scope_fallback_choice_and_fade_after() {
    let fallback = spec::param("scope", "fallback").unwrap();
    let fade = spec::param("scope", "fallback.fade_after").unwrap();
    let mut kind = NodeKind::Scope(ScopeNode::default());
    assert_eq!((fade.get)(&kind, 0), Some(Value::Float(3.0)));
    assert!((fade.set)(&mut kind, 0, Some(Value::Float(10.0))));
    // Choosing `hold` again keeps the fade time.
    assert!((fallback.set)(&mut kind, 0, Some(Value::Choice("hold"))));
    assert_eq!((fade.get)(&kind, 0), Some(Value::Float(10.0)));
    assert!((fallback.set)(&mut kind, 0, Some(Value::Choice("input"))));
    assert_eq!((fade.len)(&kind), 0);
    assert_eq!((fade.get)(&kind, 0), None);
    assert!(!(fade.set)(&mut kind, 0, Some(Value::Float(1.0))));
    assert!((fallback.set)(&mut kind, 0, Some(Value::Choice("hold"))));
    assert_eq!((fade.get)(&kind, 0), Some(Value::Float(3.0)));
}

#[test]
fn optional_scope_params_default_to_unset() {
    let k = spec::kind("scope").unwrap();
    for name in [
        "params.noise_scale",
        "params.vace_context_scale",
        "params.transition_steps",
        "params.manage_cache",
        "params.denoising_steps",
        "load.quantization",
    ] {
        let row = k.param(name).unwrap();
        assert!(row.optional, "{name}");
        assert_eq!(row.default_value(k), None, "{name}");
    }
    let steps = k.param("params.denoising_steps").unwrap();
    let mut kind = populated(k);
    assert_eq!((steps.len)(&kind), 3);
    assert!((steps.set)(&mut kind, 1, None));
    assert_eq!((steps.len)(&kind), 0, "None clears the whole list");
}

#[test]
fn image_path_row_is_a_path() {
    let row = spec::param("image", "path").unwrap();
    assert_eq!(row.ty, ParamType::Path);
    let mut kind = NodeKind::Image(ImageSource::default());
    let path = Value::Path(PathBuf::from("a/b.png"));
    assert!((row.set)(&mut kind, 0, Some(path.clone())));
    assert_eq!((row.get)(&kind, 0), Some(path));
}

/// Every Float row of every kind, as (kind, row).
fn float_rows() -> Vec<(&'static KindSpec, &'static ParamSpec)> {
    spec::kinds()
        .iter()
        .flat_map(|k| k.params.iter().map(move |r| (k, r)))
        .filter(|(_, r)| matches!(r.ty, ParamType::Float { .. }))
        .collect()
}

fn any_float() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<f32>(),
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        -5000.0f32..5000.0,
        -2.0f32..2.0,
    ]
}

proptest! {
    #[test]
    fn validate_accepts_a_float_iff_its_row_check_does(
        pick in prop::sample::select(float_rows()),
        index in any::<prop::sample::Index>(),
        x in any_float(),
    ) {
        let (k, row) = pick;
        let mut kind = populated(k);
        let len = (row.len)(&kind);
        prop_assume!(len > 0);
        let i = index.index(len);
        prop_assert!((row.set)(&mut kind, i, Some(Value::Float(x))));
        let ok = row.check(&Value::Float(x)).is_ok();
        let name = row.item_name(i);
        let reported = bad_params(kind).iter().any(|(n, _)| *n == name);
        prop_assert_eq!(ok, !reported, "{} = {}", name, x);
    }
}
