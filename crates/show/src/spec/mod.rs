//! One table of facts per node kind: label, category, shader and every parameter's range,
//! default, unit and help. [`crate::validate()`] and the console inspector both read it, so a
//! range lives in exactly one place.
//!
//! Parameters are named by their path as validate reports them (`"crop.left"`,
//! `"params.noise_scale"`); list rows (`"layers.opacity"`) are reported per item as
//! `layers[1].opacity` (see [`ParamSpec::item_name`]).

mod access;
mod input;
mod sources;
mod table;

use std::path::PathBuf;

use crate::color::Rgba;
use crate::node::NodeKind;

pub use input::Input;
pub use table::kinds;

/// Where a kind sits in the palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Source,
    Key,
    Matte,
    Transform,
    Color,
    Composite,
    Output,
}

impl Category {
    /// Palette heading.
    pub fn label(&self) -> &'static str {
        match self {
            Category::Source => "Sources",
            Category::Key => "Keys",
            Category::Matte => "Mattes",
            Category::Transform => "Transform",
            Category::Color => "Colour",
            Category::Composite => "Composite",
            Category::Output => "Output",
        }
    }
}

/// Facts about one node kind.
#[derive(Debug)]
pub struct KindSpec {
    /// `NodeKind::name()`, the RON tag.
    pub name: &'static str,
    pub label: &'static str,
    pub category: Category,
    /// One line for the palette tooltip.
    pub help: &'static str,
    /// Stem of the kind's fragment shader under `shaders/`. `None` for external sources
    /// (image, camera, Scope), which are textures sampled by whatever consumes them.
    pub shader: Option<&'static str>,
    pub params: &'static [ParamSpec],
    pub make_default: fn() -> NodeKind,
}

impl KindSpec {
    /// The row named `name` (as in [`ParamSpec::name`]).
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The kind named `name` (as written in show files).
pub fn kind(name: &str) -> Option<&'static KindSpec> {
    kinds().iter().find(|k| k.name == name)
}

/// The row `name` of kind `kind`.
pub fn param(kind: &str, name: &str) -> Option<&'static ParamSpec> {
    self::kind(kind)?.param(name)
}

impl NodeKind {
    /// This kind's table entry.
    pub fn spec(&self) -> &'static KindSpec {
        table::spec_of(self)
    }
}

/// What a parameter holds and which values are valid.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// Valid in `min..=max` and finite; `step` is the slider's step.
    Float {
        min: f32,
        max: f32,
        step: f32,
    },
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// Straight-alpha sRGB, each channel in `0..=1`.
    Color,
    /// Both components in `min..=max` and finite.
    Vec2 {
        min: f32,
        max: f32,
    },
    /// One of these RON snake_case names.
    Choice(&'static [&'static str]),
    Text,
    /// A file path (relative to the show file's folder).
    Path,
}

/// One parameter value, as the table reads and writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Float(f32),
    Int(i64),
    Bool(bool),
    Color(Rgba),
    Vec2(f32, f32),
    Choice(&'static str),
    Text(String),
    Path(PathBuf),
}

/// One out-of-range part of a value, in validate's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The component (`"r"`, `"x"`, `"w"`) for colours and pairs, else `None`.
    pub part: Option<&'static str>,
    /// What is allowed, e.g. `"0..=1"`.
    pub range: String,
    /// What was given.
    pub got: String,
}

/// One parameter of one kind. Accessors are plain fn pointers so the table is `static`.
#[derive(Debug)]
pub struct ParamSpec {
    /// Path as validate reports it, e.g. `"crop.left"`, `"layers.opacity"`.
    pub name: &'static str,
    pub label: &'static str,
    pub ty: ParamType,
    /// Shown after the value: `"px"`, `"°"`, `"s"`, or `""`.
    pub unit: &'static str,
    pub help: &'static str,
    /// An `Option` field: `None` means "leave the server's value".
    pub optional: bool,
    /// One value per list item (blend layers, prompts, denoising steps).
    pub list: bool,
    /// For list rows, the field inside each item (`"opacity"` of `layers.opacity`), or `""` when
    /// the items are the values (`params.denoising_steps`).
    pub item: &'static str,
    /// Component names for `Color` and `Vec2` values as validate reports them (`color.r`,
    /// `size.w`); empty for other types.
    pub parts: &'static [&'static str],
    /// 1 for scalars, the item count for lists, 0 when `kind` is another kind (or the row
    /// does not apply, like `fallback.fade_after` when the fallback is not `hold`).
    pub len: fn(&NodeKind) -> usize,
    /// `None`: unset optional, wrong kind, or index out of range.
    pub get: fn(&NodeKind, usize) -> Option<Value>,
    /// `false`: wrong kind, type or index (or a value the field cannot hold, e.g. a negative
    /// size). `None` clears an optional; for an optional list it clears the whole list.
    pub set: fn(&mut NodeKind, usize, Option<Value>) -> bool,
}

impl ParamSpec {
    /// The value a fresh node of `kind` has here (`None` for unset optionals and empty lists).
    pub fn default_value(&self, kind: &KindSpec) -> Option<Value> {
        (self.get)(&(kind.make_default)(), 0)
    }

    /// `Ok` when `v` is valid for this row; else a message like `"must be in 0..=1, got 1.5"`.
    pub fn check(&self, v: &Value) -> Result<(), String> {
        match self.problems(v).first() {
            None => Ok(()),
            Some(p) => {
                let part = p.part.map_or(String::new(), |c| format!("{c} "));
                Err(format!("{part}must be in {}, got {}", p.range, p.got))
            }
        }
    }

    /// Every invalid part of `v` (empty when valid). Colours and pairs report each bad component.
    pub fn problems(&self, v: &Value) -> Vec<Problem> {
        let float = |part, x: f32, min: f32, max: f32| {
            (!(x.is_finite() && (min..=max).contains(&x))).then(|| Problem {
                part,
                range: format!("{min}..={max}"),
                got: format!("{x}"),
            })
        };
        let part = |i: usize| self.parts.get(i).copied();
        match (&self.ty, v) {
            (ParamType::Float { min, max, .. }, Value::Float(x)) => {
                float(None, *x, *min, *max).into_iter().collect()
            }
            (ParamType::Int { min, max }, Value::Int(x)) => (!(min..=max).contains(&x))
                .then(|| Problem {
                    part: None,
                    range: format!("{min}..={max}"),
                    got: format!("{x}"),
                })
                .into_iter()
                .collect(),
            (ParamType::Vec2 { min, max }, Value::Vec2(x, y)) => [*x, *y]
                .into_iter()
                .enumerate()
                .filter_map(|(i, c)| float(part(i), c, *min, *max))
                .collect(),
            (ParamType::Color, Value::Color(c)) => c
                .to_array()
                .into_iter()
                .enumerate()
                .filter_map(|(i, ch)| float(part(i), ch, 0.0, 1.0))
                .collect(),
            (ParamType::Choice(names), Value::Choice(s)) => (!names.contains(s))
                .then(|| Problem {
                    part: None,
                    range: format!("one of {}", names.join(", ")),
                    got: (*s).to_owned(),
                })
                .into_iter()
                .collect(),
            (ParamType::Bool, Value::Bool(_))
            | (ParamType::Text, Value::Text(_))
            | (ParamType::Path, Value::Path(_)) => Vec::new(),
            (ty, v) => vec![Problem {
                part: None,
                range: format!("a value of type {}", type_name(ty)),
                got: format!("{v:?}"),
            }],
        }
    }

    /// The name validate reports for item `index`: `name` for scalars, `layers[1].opacity` or
    /// `params.denoising_steps[2]` for list rows.
    pub fn item_name(&self, index: usize) -> String {
        if !self.list {
            return self.name.to_owned();
        }
        let list = self
            .name
            .strip_suffix(self.item)
            .and_then(|s| s.strip_suffix('.'))
            .unwrap_or(self.name);
        if self.item.is_empty() || list == self.name {
            format!("{}[{index}]", self.name)
        } else {
            format!("{list}[{index}].{}", self.item)
        }
    }
}

fn type_name(ty: &ParamType) -> &'static str {
    match ty {
        ParamType::Float { .. } => "float",
        ParamType::Int { .. } => "int",
        ParamType::Bool => "bool",
        ParamType::Color => "colour",
        ParamType::Vec2 { .. } => "pair",
        ParamType::Choice(_) => "choice",
        ParamType::Text => "text",
        ParamType::Path => "path",
    }
}
