//! The rows. Ranges here are what [`crate::validate`] enforces; change them here only.

use std::path::PathBuf;

use super::{Category, KindSpec, ParamSpec, ParamType, Value};
use crate::color::Rgba;
use crate::node::{
    BlendMode, CameraDevice, Fit, GradientShape, InputMode, Interpolation, MatteShape, MatteSource,
    NodeKind, ScopeFallback,
};

/// A field type the table can read and write as a [`Value`].
trait Field: Sized {
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
/// pattern, anything else a device name. (So a device literally named `"synthetic"` or `"2"`
/// cannot be chosen here; write it in the show file.)
impl Field for CameraDevice {
    fn read(&self) -> Option<Value> {
        Some(Value::Text(match self {
            CameraDevice::Index(i) => i.to_string(),
            CameraDevice::Name(n) => n.clone(),
            CameraDevice::Synthetic => "synthetic".to_owned(),
        }))
    }
    fn parse(v: Value) -> Option<Self> {
        let Value::Text(s) = v else { return None };
        Some(if s == "synthetic" {
            CameraDevice::Synthetic
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
        const $names: &[&str] = &[$($s),+];
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
choice!(BlendMode, BLEND_MODE {
    Normal => "normal", Multiply => "multiply", Screen => "screen", Overlay => "overlay",
    Darken => "darken", Lighten => "lighten", ColorDodge => "color_dodge",
    ColorBurn => "color_burn", HardLight => "hard_light", SoftLight => "soft_light",
    Difference => "difference", Exclusion => "exclusion", Hue => "hue",
    Saturation => "saturation", Color => "color", Luminosity => "luminosity", Add => "add",
    Subtract => "subtract",
});

const FALLBACK: &[&str] = &["hold", "input", "transparent"];

/// A row's accessors and shape, made by the macros below.
struct Acc {
    len: fn(&NodeKind) -> usize,
    get: fn(&NodeKind, usize) -> Option<Value>,
    set: fn(&mut NodeKind, usize, Option<Value>) -> bool,
    optional: bool,
    list: bool,
    item: &'static str,
}

/// A plain field: `scalar!(Kind, s => s.field)`.
macro_rules! scalar {
    ($v:ident, $s:ident => $e:expr) => {
        Acc {
            len: |k| usize::from(matches!(k, NodeKind::$v(_))),
            get: |k, i| match k {
                NodeKind::$v($s) if i == 0 => Field::read(&$e),
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                (NodeKind::$v($s), Some(v)) if i == 0 => match Field::parse(v) {
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
        Acc {
            len: |k| usize::from(matches!(k, NodeKind::$v(_))),
            get: |k, i| match k {
                NodeKind::$v($s) if i == 0 => $e.as_ref().and_then(Field::read),
                _ => None,
            },
            set: |k, i, v| match k {
                NodeKind::$v($s) if i == 0 => match v {
                    None => {
                        $e = None;
                        true
                    }
                    Some(v) => match Field::parse(v) {
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
        Acc {
            len: |k| match k {
                NodeKind::$v($s) => $l.len(),
                _ => 0,
            },
            get: |k, i| match k {
                NodeKind::$v($s) => $l.get(i).and_then(|$it| Field::read(&$e)),
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                (NodeKind::$v($s), Some(v)) => match ($l.get_mut(i), Field::parse(v)) {
                    (Some($it), Some(x)) => {
                        $e = x;
                        true
                    }
                    _ => false,
                },
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
        Acc {
            len: |k| match k {
                NodeKind::$v($s) => $l.as_ref().map_or(0, Vec::len),
                _ => 0,
            },
            get: |k, i| match k {
                NodeKind::$v($s) => $l.as_ref().and_then(|l| l.get(i)).and_then(Field::read),
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                (NodeKind::$v($s), None) => {
                    $l = None;
                    true
                }
                (NodeKind::$v($s), Some(v)) => {
                    match ($l.as_mut().and_then(|l| l.get_mut(i)), Field::parse(v)) {
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

const fn row(
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
    const fn with_parts(mut self, parts: &'static [&'static str]) -> Self {
        self.parts = parts;
        self
    }
}

const fn float(min: f32, max: f32, step: f32) -> ParamType {
    ParamType::Float { min, max, step }
}

const fn int(min: i64, max: i64) -> ParamType {
    ParamType::Int { min, max }
}

const fn vec2(min: f32, max: f32) -> ParamType {
    ParamType::Vec2 { min, max }
}

/// `0..=1` with a fine slider: keys, opacities, softness.
const UNIT: ParamType = float(0.0, 1.0, 0.01);

static SOLID: &[ParamSpec] = &[row(
    "color",
    "Colour",
    ParamType::Color,
    "",
    "Fill colour (straight alpha).",
    scalar!(Solid, s => s.color),
)];

static GRADIENT: &[ParamSpec] = &[
    row(
        "shape",
        "Shape",
        ParamType::Choice(GRADIENT_SHAPE),
        "",
        "Linear ramp or radial circle.",
        scalar!(Gradient, s => s.shape),
    ),
    row(
        "from",
        "From",
        ParamType::Color,
        "",
        "Colour at the start point.",
        scalar!(Gradient, s => s.from),
    ),
    row(
        "to",
        "To",
        ParamType::Color,
        "",
        "Colour at the end point.",
        scalar!(Gradient, s => s.to),
    ),
    row(
        "start",
        "Start",
        vec2(-10.0, 10.0),
        "canvas",
        "Linear: where `from` is full. Radial: the centre. 0,0 = top-left, 1,1 = bottom-right.",
        scalar!(Gradient, s => s.start),
    ),
    row(
        "end",
        "End",
        vec2(-10.0, 10.0),
        "canvas",
        "Linear: where `to` is full. Radial: a point on the outer circle.",
        scalar!(Gradient, s => s.end),
    ),
];

static IMAGE: &[ParamSpec] = &[
    row(
        "path",
        "File",
        ParamType::Path,
        "",
        "PNG or JPEG, relative to the show file's folder.",
        scalar!(Image, s => s.path),
    ),
    row(
        "fit",
        "Fit",
        ParamType::Choice(FIT),
        "",
        "How the image is placed in the canvas.",
        scalar!(Image, s => s.fit),
    ),
];

static TEST_PATTERN: &[ParamSpec] = &[row(
    "speed",
    "Speed",
    float(-10.0, 10.0, 0.01),
    "widths/s",
    "Bar movement; negative runs right to left.",
    scalar!(TestPattern, s => s.speed),
)];

static CAMERA: &[ParamSpec] = &[
    row(
        "device",
        "Device",
        ParamType::Text,
        "",
        "\"0\", \"1\", … = device index; \"synthetic\" = built-in pattern; else a device name.",
        scalar!(Camera, s => s.device),
    ),
    row(
        "width",
        "Width",
        int(16, 7680),
        "px",
        "Requested capture width.",
        scalar!(Camera, s => s.width),
    ),
    row(
        "height",
        "Height",
        int(16, 4320),
        "px",
        "Requested capture height.",
        scalar!(Camera, s => s.height),
    ),
    row(
        "fps",
        "Frame rate",
        int(1, 240),
        "fps",
        "Requested capture frame rate.",
        scalar!(Camera, s => s.fps),
    ),
    row(
        "fit",
        "Fit",
        ParamType::Choice(FIT),
        "",
        "How the picture is placed in the canvas.",
        scalar!(Camera, s => s.fit),
    ),
];

static SCOPE: &[ParamSpec] = &[
    row(
        "url",
        "Server",
        ParamType::Text,
        "",
        "\"embedded\" (built-in, loopback) or an http(s):// server base URL.",
        scalar!(Scope, s => s.url),
    ),
    row(
        "pipeline",
        "Pipeline",
        ParamType::Text,
        "",
        "Pipeline id on the server.",
        scalar!(Scope, s => s.pipeline),
    ),
    row(
        "load.width",
        "Width",
        int(16, 4096),
        "px",
        "Generated width. Changing it reloads the pipeline.",
        scalar!(Scope, s => s.load.width),
    ),
    row(
        "load.height",
        "Height",
        int(16, 4096),
        "px",
        "Generated height. Changing it reloads the pipeline.",
        scalar!(Scope, s => s.load.height),
    ),
    row(
        "load.base_seed",
        "Seed",
        int(0, i64::MAX),
        "",
        "Random seed. Changing it reloads the pipeline.",
        scalar!(Scope, s => s.load.base_seed),
    ),
    row(
        "load.vace_enabled",
        "VACE",
        ParamType::Bool,
        "",
        "Condition on the input video and reference images. Reloads the pipeline.",
        scalar!(Scope, s => s.load.vace_enabled),
    ),
    row(
        "load.quantization",
        "Quantization",
        ParamType::Text,
        "",
        "Server quantization mode; unset = server default. Reloads the pipeline.",
        opt!(Scope, s => s.load.quantization),
    ),
    row(
        "params.prompts.text",
        "Prompt",
        ParamType::Text,
        "",
        "What to generate.",
        list!(Scope, s => s.params.prompts, p => "text", p.text),
    ),
    row(
        "params.prompts.weight",
        "Prompt weight",
        float(0.0, 100.0, 0.1),
        "",
        "Relative weight among the prompts.",
        list!(Scope, s => s.params.prompts, p => "weight", p.weight),
    ),
    row(
        "params.interpolation",
        "Prompt blending",
        ParamType::Choice(INTERPOLATION),
        "",
        "How weighted prompts are mixed.",
        scalar!(Scope, s => s.params.interpolation),
    ),
    row(
        "params.transition_steps",
        "Prompt transition",
        int(0, u32::MAX as i64),
        "chunks",
        "Prompt changes blend over this many chunks; unset = server default.",
        opt!(Scope, s => s.params.transition_steps),
    ),
    row(
        "params.noise_scale",
        "Noise",
        UNIT,
        "",
        "How far output may stray from the input; unset = server default.",
        opt!(Scope, s => s.params.noise_scale),
    ),
    row(
        "params.denoising_steps",
        "Denoising steps",
        int(0, 1000),
        "",
        "Timesteps of the denoising schedule; unset = server default.",
        optlist!(Scope, s => s.params.denoising_steps),
    ),
    row(
        "params.manage_cache",
        "Manage cache",
        ParamType::Bool,
        "",
        "Let the server reset its cache on big changes; unset = server default.",
        opt!(Scope, s => s.params.manage_cache),
    ),
    row(
        "params.vace_ref_images",
        "Reference image",
        ParamType::Path,
        "",
        "Image uploaded as a VACE reference, relative to the show file.",
        list!(Scope, s => s.params.vace_ref_images, p => "", *p),
    ),
    row(
        "params.vace_context_scale",
        "Reference strength",
        float(0.0, 2.0, 0.01),
        "",
        "How strongly VACE context steers the output; unset = server default.",
        opt!(Scope, s => s.params.vace_context_scale),
    ),
    row(
        "params.input_mode",
        "Input",
        ParamType::Choice(INPUT_MODE),
        "",
        "Video: transform the input. Text: prompts only.",
        scalar!(Scope, s => s.params.input_mode),
    ),
    row(
        "fallback",
        "When not live",
        ParamType::Choice(FALLBACK),
        "",
        "Hold the last frame, show the input, or show nothing.",
        Acc {
            len: |k| usize::from(matches!(k, NodeKind::Scope(_))),
            get: |k, i| match k {
                NodeKind::Scope(s) if i == 0 => Some(Value::Choice(match s.fallback {
                    ScopeFallback::Hold { .. } => "hold",
                    ScopeFallback::Input => "input",
                    ScopeFallback::Transparent => "transparent",
                })),
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                (NodeKind::Scope(s), Some(Value::Choice(c))) if i == 0 => {
                    s.fallback = match (c, s.fallback) {
                        ("hold", held @ ScopeFallback::Hold { .. }) => held,
                        ("hold", _) => ScopeFallback::default(),
                        ("input", _) => ScopeFallback::Input,
                        ("transparent", _) => ScopeFallback::Transparent,
                        _ => return false,
                    };
                    true
                }
                _ => false,
            },
            optional: false,
            list: false,
            item: "",
        },
    ),
    // Only present while the fallback is `hold` (len 0 otherwise).
    row(
        "fallback.fade_after",
        "Fade after",
        float(0.0, 3600.0, 0.1),
        "s",
        "Held frame fades out after this long.",
        Acc {
            len: |k| {
                usize::from(
                    matches!(k, NodeKind::Scope(s) if matches!(s.fallback, ScopeFallback::Hold { .. })),
                )
            },
            get: |k, i| match k {
                NodeKind::Scope(s) if i == 0 => match s.fallback {
                    ScopeFallback::Hold { fade_after } => Some(Value::Float(fade_after)),
                    _ => None,
                },
                _ => None,
            },
            set: |k, i, v| match (k, v) {
                (NodeKind::Scope(s), Some(Value::Float(x))) if i == 0 => match &mut s.fallback {
                    ScopeFallback::Hold { fade_after } => {
                        *fade_after = x;
                        true
                    }
                    _ => false,
                },
                _ => false,
            },
            optional: false,
            list: false,
            item: "",
        },
    ),
    row(
        "fit",
        "Fit",
        ParamType::Choice(FIT),
        "",
        "How the generated picture is placed in the canvas.",
        scalar!(Scope, s => s.fit),
    ),
];

static GARBAGE_MATTE: &[ParamSpec] = &[
    row(
        "shape",
        "Shape",
        ParamType::Choice(MATTE_SHAPE),
        "",
        "Rectangle or ellipse.",
        scalar!(GarbageMatte, s => s.shape),
    ),
    row(
        "center",
        "Centre",
        vec2(-10.0, 10.0),
        "canvas",
        "0,0 = top-left, 1,1 = bottom-right.",
        scalar!(GarbageMatte, s => s.center),
    ),
    row(
        "size",
        "Size",
        vec2(0.0, 4.0),
        "canvas",
        "Full width and height; 1 = canvas size.",
        scalar!(GarbageMatte, s => s.size),
    )
    .with_parts(&["w", "h"]),
    row(
        "softness",
        "Softness",
        UNIT,
        "canvas",
        "Edge blur width.",
        scalar!(GarbageMatte, s => s.softness),
    ),
    row(
        "invert",
        "Invert",
        ParamType::Bool,
        "",
        "Keep the outside instead of the inside.",
        scalar!(GarbageMatte, s => s.invert),
    ),
];

static TRANSFORM: &[ParamSpec] = &[
    row(
        "position",
        "Position",
        vec2(-16384.0, 16384.0),
        "px",
        "Offset from the placed position.",
        scalar!(Transform, s => s.position),
    ),
    row(
        "scale",
        "Scale",
        vec2(-100.0, 100.0),
        "×",
        "1 = fitted size; negative mirrors.",
        scalar!(Transform, s => s.scale),
    ),
    row(
        "rotation",
        "Rotation",
        float(-3600.0, 3600.0, 0.5),
        "°",
        "Clockwise, about the anchor.",
        scalar!(Transform, s => s.rotation),
    ),
    row(
        "anchor",
        "Anchor",
        vec2(-10.0, 10.0),
        "input",
        "Pivot for scale and rotation; 0.5,0.5 = centre.",
        scalar!(Transform, s => s.anchor),
    ),
    row(
        "crop.left",
        "Crop left",
        UNIT,
        "input",
        "Fraction cut from the left edge.",
        scalar!(Transform, s => s.crop.0),
    ),
    row(
        "crop.top",
        "Crop top",
        UNIT,
        "input",
        "Fraction cut from the top edge.",
        scalar!(Transform, s => s.crop.1),
    ),
    row(
        "crop.right",
        "Crop right",
        UNIT,
        "input",
        "Fraction cut from the right edge.",
        scalar!(Transform, s => s.crop.2),
    ),
    row(
        "crop.bottom",
        "Crop bottom",
        UNIT,
        "input",
        "Fraction cut from the bottom edge.",
        scalar!(Transform, s => s.crop.3),
    ),
    row(
        "fit",
        "Fit",
        ParamType::Choice(FIT),
        "",
        "Replaces a sized source's own fit.",
        scalar!(Transform, s => s.fit),
    ),
];

static BLEND: &[ParamSpec] = &[
    row(
        "layers.mode",
        "Mode",
        ParamType::Choice(BLEND_MODE),
        "",
        "How the layer combines with those below (ignored on layer 0).",
        list!(Blend, s => s.layers, l => "mode", l.mode),
    ),
    row(
        "layers.opacity",
        "Opacity",
        UNIT,
        "",
        "Layer strength; 0 = invisible.",
        list!(Blend, s => s.layers, l => "opacity", l.opacity),
    ),
];

static CHROMA_KEY: &[ParamSpec] = &[
    row(
        "key_color",
        "Key colour",
        ParamType::Color,
        "",
        "The backdrop colour to remove.",
        scalar!(ChromaKey, s => s.key_color),
    ),
    row(
        "similarity",
        "Similarity",
        UNIT,
        "",
        "Chroma distance below which pixels vanish.",
        scalar!(ChromaKey, s => s.similarity),
    ),
    row(
        "smoothness",
        "Smoothness",
        UNIT,
        "",
        "Soft edge width above similarity.",
        scalar!(ChromaKey, s => s.smoothness),
    ),
    row(
        "spill",
        "Spill",
        UNIT,
        "",
        "How much key colour is removed from what stays.",
        scalar!(ChromaKey, s => s.spill),
    ),
    row(
        "opacity",
        "Opacity",
        UNIT,
        "",
        "Overall opacity of the keyed image.",
        scalar!(ChromaKey, s => s.opacity),
    ),
    row(
        "contrast",
        "Contrast",
        float(-4.0, 4.0, 0.01),
        "",
        "0 = unchanged.",
        scalar!(ChromaKey, s => s.contrast),
    ),
    row(
        "brightness",
        "Brightness",
        float(-1.0, 1.0, 0.01),
        "",
        "0 = unchanged.",
        scalar!(ChromaKey, s => s.brightness),
    ),
    row(
        "gamma",
        "Gamma",
        float(-1.0, 1.0, 0.01),
        "",
        "0 = unchanged.",
        scalar!(ChromaKey, s => s.gamma),
    ),
];

static LUMA_KEY: &[ParamSpec] = &[
    row(
        "low",
        "Low",
        UNIT,
        "",
        "Pixels darker than this vanish.",
        scalar!(LumaKey, s => s.low),
    ),
    row(
        "high",
        "High",
        UNIT,
        "",
        "Pixels brighter than this vanish; at least `low`.",
        scalar!(LumaKey, s => s.high),
    ),
    row(
        "smoothness",
        "Smoothness",
        UNIT,
        "",
        "Soft edge width around both thresholds.",
        scalar!(LumaKey, s => s.smoothness),
    ),
    row(
        "invert",
        "Invert",
        ParamType::Bool,
        "",
        "Keep what would vanish.",
        scalar!(LumaKey, s => s.invert),
    ),
];

static MATTE: &[ParamSpec] = &[row(
    "source",
    "From",
    ParamType::Choice(MATTE_SOURCE),
    "",
    "Use the image's alpha or its luma as coverage.",
    scalar!(Matte, s => s.source),
)];

static FEATHER: &[ParamSpec] = &[row(
    "radius",
    "Radius",
    float(0.0, 64.0, 0.5),
    "px",
    "Blur radius (about 3 sigma).",
    scalar!(Feather, s => s.radius),
)];

static COLOR_ADJUST: &[ParamSpec] = &[
    row(
        "brightness",
        "Brightness",
        float(-1.0, 1.0, 0.01),
        "",
        "Added to each channel; 0 = unchanged.",
        scalar!(ColorAdjust, s => s.brightness),
    ),
    row(
        "contrast",
        "Contrast",
        float(0.0, 4.0, 0.01),
        "×",
        "Around mid-grey; 1 = unchanged.",
        scalar!(ColorAdjust, s => s.contrast),
    ),
    row(
        "saturation",
        "Saturation",
        float(0.0, 4.0, 0.01),
        "×",
        "0 = grey, 1 = unchanged.",
        scalar!(ColorAdjust, s => s.saturation),
    ),
    row(
        "gamma",
        "Gamma",
        float(0.1, 10.0, 0.01),
        "",
        "Output = input^(1/gamma); 1 = unchanged.",
        scalar!(ColorAdjust, s => s.gamma),
    ),
    row(
        "hue_shift",
        "Hue shift",
        float(-360.0, 360.0, 1.0),
        "°",
        "Rotates hues; 0 = unchanged.",
        scalar!(ColorAdjust, s => s.hue_shift),
    ),
    row(
        "opacity",
        "Opacity",
        UNIT,
        "",
        "Mix with the uncorrected input; 1 = full correction.",
        scalar!(ColorAdjust, s => s.opacity),
    ),
];

// Indices into KINDS for `spec_of`; out-of-bounds constant indices fail to compile.
const I_SOLID: usize = 0;
const I_GRADIENT: usize = 1;
const I_IMAGE: usize = 2;
const I_TEST_PATTERN: usize = 3;
const I_CAMERA: usize = 4;
const I_SCOPE: usize = 5;
const I_CHROMA_KEY: usize = 6;
const I_LUMA_KEY: usize = 7;
const I_GARBAGE_MATTE: usize = 8;
const I_MATTE: usize = 9;
const I_INVERT: usize = 10;
const I_FEATHER: usize = 11;
const I_TRANSFORM: usize = 12;
const I_COLOR_ADJUST: usize = 13;
const I_BLEND: usize = 14;
const I_MASK: usize = 15;
const I_OUTPUT: usize = 16;

/// Palette order: grouped by category, categories in [`Category`] order.
static KINDS: [KindSpec; 17] = [
    KindSpec {
        name: "solid",
        label: "Solid colour",
        category: Category::Source,
        help: "A flat colour filling the canvas.",
        shader: Some("solid"),
        params: SOLID,
        make_default: || NodeKind::Solid(Default::default()),
    },
    KindSpec {
        name: "gradient",
        label: "Gradient",
        category: Category::Source,
        help: "A two-colour linear or radial gradient.",
        shader: Some("gradient"),
        params: GRADIENT,
        make_default: || NodeKind::Gradient(Default::default()),
    },
    KindSpec {
        name: "image",
        label: "Image",
        category: Category::Source,
        help: "A still PNG or JPEG, alpha kept.",
        shader: None,
        params: IMAGE,
        make_default: || NodeKind::Image(Default::default()),
    },
    KindSpec {
        name: "test_pattern",
        label: "Test pattern",
        category: Category::Source,
        help: "Moving bars with frame counter and time: proves frames are live.",
        shader: Some("test_pattern"),
        params: TEST_PATTERN,
        make_default: || NodeKind::TestPattern(Default::default()),
    },
    KindSpec {
        name: "camera",
        label: "Camera",
        category: Category::Source,
        help: "A live camera; a synthetic one stands in while the device is missing.",
        shader: None,
        params: CAMERA,
        make_default: || NodeKind::Camera(Default::default()),
    },
    KindSpec {
        name: "scope",
        label: "Scope (AI)",
        category: Category::Source,
        help: "A Daydream Scope server turning the input into the avatar.",
        shader: None,
        params: SCOPE,
        make_default: || NodeKind::Scope(Default::default()),
    },
    KindSpec {
        name: "chroma_key",
        label: "Chroma key",
        category: Category::Key,
        help: "Keys out a backdrop colour (green screen).",
        shader: Some("chroma_key"),
        params: CHROMA_KEY,
        make_default: || NodeKind::ChromaKey(Default::default()),
    },
    KindSpec {
        name: "luma_key",
        label: "Luma key",
        category: Category::Key,
        help: "Keys out pixels darker or brighter than two thresholds.",
        shader: Some("luma_key"),
        params: LUMA_KEY,
        make_default: || NodeKind::LumaKey(Default::default()),
    },
    KindSpec {
        name: "garbage_matte",
        label: "Garbage matte",
        category: Category::Matte,
        help: "A rectangle or ellipse matte for cutting parts away.",
        shader: Some("garbage_matte"),
        params: GARBAGE_MATTE,
        make_default: || NodeKind::GarbageMatte(Default::default()),
    },
    KindSpec {
        name: "matte",
        label: "Matte from image",
        category: Category::Matte,
        help: "Turns an image's alpha or luma into a matte.",
        shader: Some("matte"),
        params: MATTE,
        make_default: || NodeKind::Matte(Default::default()),
    },
    KindSpec {
        name: "invert",
        label: "Invert matte",
        category: Category::Matte,
        help: "Swaps kept and cut areas of a matte.",
        shader: Some("invert"),
        params: &[],
        make_default: || NodeKind::Invert(Default::default()),
    },
    KindSpec {
        name: "feather",
        label: "Feather",
        category: Category::Matte,
        help: "Softens a matte's edges with a blur.",
        shader: Some("feather"),
        params: FEATHER,
        make_default: || NodeKind::Feather(Default::default()),
    },
    // A transform folds into whatever samples it; when it needs a pass of its own (a crop of
    // a non-plain input) that pass is `copy`.
    KindSpec {
        name: "transform",
        label: "Transform",
        category: Category::Transform,
        help: "Crops, fits, scales, rotates and moves its input.",
        shader: Some("copy"),
        params: TRANSFORM,
        make_default: || NodeKind::Transform(Default::default()),
    },
    KindSpec {
        name: "color_adjust",
        label: "Colour adjust",
        category: Category::Color,
        help: "Brightness, contrast, saturation, gamma and hue.",
        shader: Some("color_adjust"),
        params: COLOR_ADJUST,
        make_default: || NodeKind::ColorAdjust(Default::default()),
    },
    KindSpec {
        name: "blend",
        label: "Blend",
        category: Category::Composite,
        help: "Stacks its inputs, bottom (port 0) to top, with blend modes.",
        shader: Some("blend"),
        params: BLEND,
        make_default: || NodeKind::Blend(Default::default()),
    },
    KindSpec {
        name: "mask",
        label: "Mask",
        category: Category::Composite,
        help: "Cuts an image with a matte.",
        shader: Some("mask"),
        params: &[],
        make_default: || NodeKind::Mask(Default::default()),
    },
    // The output's input goes through the final `program` pass (transitions, over black).
    KindSpec {
        name: "output",
        label: "Output",
        category: Category::Output,
        help: "The program: what goes to the window, projector or PNG.",
        shader: Some("program"),
        params: &[],
        make_default: || NodeKind::Output(Default::default()),
    },
];

/// Every kind, in palette order.
pub fn kinds() -> &'static [KindSpec] {
    &KINDS
}

pub(super) fn spec_of(kind: &NodeKind) -> &'static KindSpec {
    match kind {
        NodeKind::Solid(_) => &KINDS[I_SOLID],
        NodeKind::Gradient(_) => &KINDS[I_GRADIENT],
        NodeKind::Image(_) => &KINDS[I_IMAGE],
        NodeKind::TestPattern(_) => &KINDS[I_TEST_PATTERN],
        NodeKind::Camera(_) => &KINDS[I_CAMERA],
        NodeKind::Scope(_) => &KINDS[I_SCOPE],
        NodeKind::GarbageMatte(_) => &KINDS[I_GARBAGE_MATTE],
        NodeKind::Transform(_) => &KINDS[I_TRANSFORM],
        NodeKind::Blend(_) => &KINDS[I_BLEND],
        NodeKind::ChromaKey(_) => &KINDS[I_CHROMA_KEY],
        NodeKind::LumaKey(_) => &KINDS[I_LUMA_KEY],
        NodeKind::Matte(_) => &KINDS[I_MATTE],
        NodeKind::Invert(_) => &KINDS[I_INVERT],
        NodeKind::Feather(_) => &KINDS[I_FEATHER],
        NodeKind::Mask(_) => &KINDS[I_MASK],
        NodeKind::ColorAdjust(_) => &KINDS[I_COLOR_ADJUST],
        NodeKind::Output(_) => &KINDS[I_OUTPUT],
    }
}
