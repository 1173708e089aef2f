//! How rows read and write node fields: the [`Field`] conversions and the accessor macros.

use std::path::PathBuf;

use super::{ParamSpec, ParamType, Value};
use crate::color::Rgba;
use crate::node::{
    BeforeMask, BlendMode, CameraDevice, Fit, GradientShape, InputMode, Interpolation, MatteShape,
    MatteSource, NodeKind, SegmentAlign, SegmentModel,
};

/// A field type the table can read and write as a [`Value`].
pub(super) trait Field: Sized {
    /// `None` when the value cannot be shown as a `Value` (a `u64` seed above `i64::MAX`).
    fn read(&self) -> Option<Value>;
    /// `None` when `v` is the wrong type or does not fit the field.
    fn parse(v: Value) -> Option<Self>;
}

impl Field for f32 {
    fn read(&self) -> Option<Value> {
        Some(Value::Float(*self))
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Float(x) => Some(x),
            _ => None,
        }
    }
}

impl Field for bool {
    fn read(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Bool(x) => Some(x),
            _ => None,
        }
    }
}

impl Field for Rgba {
    fn read(&self) -> Option<Value> {
        Some(Value::Color(*self))
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Color(x) => Some(x),
            _ => None,
        }
    }
}

impl Field for (f32, f32) {
    fn read(&self) -> Option<Value> {
        Some(Value::Vec2(self.0, self.1))
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Vec2(x, y) => Some((x, y)),
            _ => None,
        }
    }
}

impl Field for u32 {
    fn read(&self) -> Option<Value> {
        Some(Value::Int(i64::from(*self)))
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Int(x) => u32::try_from(x).ok(),
            _ => None,
        }
    }
}

impl Field for u64 {
    fn read(&self) -> Option<Value> {
        i64::try_from(*self).ok().map(Value::Int)
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Int(x) => u64::try_from(x).ok(),
            _ => None,
        }
    }
}

impl Field for String {
    fn read(&self) -> Option<Value> {
        Some(Value::Text(self.clone()))
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Text(x) => Some(x),
            _ => None,
        }
    }
}

impl Field for PathBuf {
    fn read(&self) -> Option<Value> {
        Some(Value::Path(self.clone()))
    }
    fn parse(v: Value) -> Option<Self> {
        match v {
            Value::Path(x) => Some(x),
            _ => None,
        }
    }
}

/// The camera device as text: `"0"`, `"1"`, … is a device index, `"synthetic"` the built-in
/// pattern (`"synthetic_room"` its non-green room), anything else a device name. (So a device literally named `"synthetic"` or `"2"`
/// cannot be chosen here; write it in the show file.)
impl Field for CameraDevice {
    fn read(&self) -> Option<Value> {
        Some(Value::Text(match self {
            CameraDevice::Index(i) => i.to_string(),
            CameraDevice::Name(n) => n.clone(),
            CameraDevice::Synthetic => "synthetic".to_owned(),
            CameraDevice::SyntheticRoom => "synthetic_room".to_owned(),
        }))
    }
    fn parse(v: Value) -> Option<Self> {
        let Value::Text(s) = v else { return None };
        Some(if s == "synthetic" {
            CameraDevice::Synthetic
        } else if s == "synthetic_room" {
            CameraDevice::SyntheticRoom
        } else if let Ok(i) = s.parse::<u32>() {
            CameraDevice::Index(i)
        } else {
            CameraDevice::Name(s)
        })
    }
}

/// A fieldless enum as a `Choice` over its RON names; `$names` lists them for the row's type.
macro_rules! choice {
    ($t:ident, $names:ident { $($v:ident => $s:literal),+ $(,)? }) => {
        pub(super) const $names: &[&str] = &[$($s),+];
        impl Field for $t {
            fn read(&self) -> Option<Value> {
                Some(Value::Choice(match self { $($t::$v => $s),+ }))
            }
            fn parse(v: Value) -> Option<Self> {
                match v {
                    $(Value::Choice($s) => Some($t::$v),)+
                    _ => None,
                }
            }
        }
    };
}

choice!(Fit, FIT { Fit => "fit", Fill => "fill", Stretch => "stretch", Original => "original" });
choice!(GradientShape, GRADIENT_SHAPE { Linear => "linear", Radial => "radial" });
choice!(MatteShape, MATTE_SHAPE { Rectangle => "rectangle", Ellipse => "ellipse" });
choice!(MatteSource, MATTE_SOURCE { Alpha => "alpha", Luma => "luma" });
choice!(Interpolation, INTERPOLATION { Linear => "linear", Slerp => "slerp" });
choice!(InputMode, INPUT_MODE { Video => "video", Text => "text" });
choice!(SegmentModel, SEGMENT_MODEL { General => "general", Landscape => "landscape" });
choice!(BeforeMask, BEFORE_MASK { Opaque => "opaque", Clear => "clear" });
choice!(SegmentAlign, SEGMENT_ALIGN { Hold => "hold", Newest => "newest" });
choice!(BlendMode, BLEND_MODE {
    Normal => "normal", Multiply => "multiply", Screen => "screen", Overlay => "overlay",
    Darken => "darken", Lighten => "lighten", ColorDodge => "color_dodge",
    ColorBurn => "color_burn", HardLight => "hard_light", SoftLight => "soft_light",
    Difference => "difference", Exclusion => "exclusion", Hue => "hue",
    Saturation => "saturation", Color => "color", Luminosity => "luminosity", Add => "add",
    Subtract => "subtract",
});

pub(super) const FALLBACK: &[&str] = &["hold", "input", "transparent"];

/// A row's accessors and shape, made by the macros below.
pub(super) struct Acc {
    pub(super) len: fn(&NodeKind) -> usize,
    pub(super) get: fn(&NodeKind, usize) -> Option<Value>,
    pub(super) set: fn(&mut NodeKind, usize, Option<Value>) -> bool,
    pub(super) optional: bool,
    pub(super) list: bool,
    pub(super) item: &'static str,
}

/// A plain field: `scalar!(Kind, s => s.field)`.
macro_rules! scalar {
    ($v:ident, $s:ident => $e:expr) => {
        $crate::spec::access::Acc {
            len: |k| usize::from(matches!(k, $crate::node::NodeKind::$v(_))),
            get: |k, i| match k {
                $crate::node::NodeKind::$v($s) if i == 0 => $crate::spec::access::Field::read(&$e),
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                ($crate::node::NodeKind::$v($s), Some(v)) if i == 0 => match $crate::spec::access::Field::parse(v) {
                    Some(x) => {
                        $e = x;
                        true
                    }
                    None => false,
                },
                _ => false,
            },
            optional: false,
            list: false,
            item: "",
        }
    };
}

/// An `Option` field: `opt!(Kind, s => s.field)`.
macro_rules! opt {
    ($v:ident, $s:ident => $e:expr) => {
        $crate::spec::access::Acc {
            len: |k| usize::from(matches!(k, $crate::node::NodeKind::$v(_))),
            get: |k, i| match k {
                $crate::node::NodeKind::$v($s) if i == 0 => $e.as_ref().and_then($crate::spec::access::Field::read),
                _ => None,
            },
            set: |k, i, v| match k {
                $crate::node::NodeKind::$v($s) if i == 0 => match v {
                    None => {
                        $e = None;
                        true
                    }
                    Some(v) => match $crate::spec::access::Field::parse(v) {
                        Some(x) => {
                            $e = Some(x);
                            true
                        }
                        None => false,
                    },
                },
                _ => false,
            },
            optional: true,
            list: false,
            item: "",
        }
    };
}

/// A field of each item of a `Vec`: `list!(Kind, s => s.items, it => "field", it.field)`.
macro_rules! list {
    ($v:ident, $s:ident => $l:expr, $it:ident => $item:literal, $e:expr) => {
        $crate::spec::access::Acc {
            len: |k| match k {
                $crate::node::NodeKind::$v($s) => $l.len(),
                _ => 0,
            },
            get: |k, i| match k {
                $crate::node::NodeKind::$v($s) => $l
                    .get(i)
                    .and_then(|$it| $crate::spec::access::Field::read(&$e)),
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                ($crate::node::NodeKind::$v($s), Some(v)) => {
                    match ($l.get_mut(i), $crate::spec::access::Field::parse(v)) {
                        (Some($it), Some(x)) => {
                            $e = x;
                            true
                        }
                        _ => false,
                    }
                }
                _ => false,
            },
            optional: false,
            list: true,
            item: $item,
        }
    };
}

/// An `Option<Vec<_>>` whose items are the values: `optlist!(Kind, s => s.items)`.
macro_rules! optlist {
    ($v:ident, $s:ident => $l:expr) => {
        $crate::spec::access::Acc {
            len: |k| match k {
                $crate::node::NodeKind::$v($s) => $l.as_ref().map_or(0, Vec::len),
                _ => 0,
            },
            get: |k, i| match k {
                $crate::node::NodeKind::$v($s) => $l
                    .as_ref()
                    .and_then(|l| l.get(i))
                    .and_then($crate::spec::access::Field::read),
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                ($crate::node::NodeKind::$v($s), None) => {
                    $l = None;
                    true
                }
                ($crate::node::NodeKind::$v($s), Some(v)) => {
                    match (
                        $l.as_mut().and_then(|l| l.get_mut(i)),
                        $crate::spec::access::Field::parse(v),
                    ) {
                        (Some(slot), Some(x)) => {
                            *slot = x;
                            true
                        }
                        _ => false,
                    }
                }
                _ => false,
            },
            optional: true,
            list: true,
            item: "",
        }
    };
}

const RGBA: &[&str] = &["r", "g", "b", "a"];
const XY: &[&str] = &["x", "y"];

pub(super) const fn row(
    name: &'static str,
    label: &'static str,
    ty: ParamType,
    unit: &'static str,
    help: &'static str,
    acc: Acc,
) -> ParamSpec {
    let parts = match ty {
        ParamType::Color => RGBA,
        ParamType::Vec2 { .. } => XY,
        _ => &[],
    };
    ParamSpec {
        name,
        label,
        ty,
        unit,
        help,
        optional: acc.optional,
        list: acc.list,
        item: acc.item,
        parts,
        len: acc.len,
        get: acc.get,
        set: acc.set,
    }
}

impl ParamSpec {
    /// Other component names for a pair (`size.w`, `size.h`).
    pub(super) const fn with_parts(mut self, parts: &'static [&'static str]) -> Self {
        self.parts = parts;
        self
    }
}

pub(super) const fn float(min: f32, max: f32, step: f32) -> ParamType {
    ParamType::Float { min, max, step }
}

pub(super) const fn int(min: i64, max: i64) -> ParamType {
    ParamType::Int { min, max }
}

pub(super) const fn vec2(min: f32, max: f32) -> ParamType {
    ParamType::Vec2 { min, max }
}

/// `0..=1` with a fine slider: keys, opacities, softness.
pub(super) const UNIT: ParamType = float(0.0, 1.0, 0.01);

pub(super) use {list, opt, optlist, scalar};
