//! Rows of the source kinds (solid … Scope).

use super::access::{
    Acc, FALLBACK, FIT, GRADIENT_SHAPE, INPUT_MODE, INTERPOLATION, UNIT, float, int, list, opt,
    optlist, row, scalar, vec2,
};
use super::{ParamSpec, ParamType, Value};
use crate::node::{NodeKind, ScopeFallback};

pub(super) static SOLID: &[ParamSpec] = &[row(
    "color",
    "Colour",
    ParamType::Color,
    "",
    "Fill colour (straight alpha).",
    scalar!(Solid, s => s.color),
)];

pub(super) static GRADIENT: &[ParamSpec] = &[
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

pub(super) static IMAGE: &[ParamSpec] = &[
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

pub(super) static TEST_PATTERN: &[ParamSpec] = &[row(
    "speed",
    "Speed",
    float(-10.0, 10.0, 0.01),
    "widths/s",
    "Bar movement; negative runs right to left.",
    scalar!(TestPattern, s => s.speed),
)];

pub(super) static CAMERA: &[ParamSpec] = &[
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

pub(super) static SCOPE: &[ParamSpec] = &[
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
