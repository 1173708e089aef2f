//! Rows of the processing kinds and the kind table itself. Ranges here are what
//! [`crate::validate()`] enforces; change them here only.

use super::access::{
    BEFORE_MASK, BLEND_MODE, FIT, MATTE_SHAPE, MATTE_SOURCE, SEGMENT_ALIGN, SEGMENT_MODEL, UNIT,
    float, int, list, opt, row, scalar, vec2,
};
use super::sources::{CAMERA, GRADIENT, IMAGE, SCOPE, SOLID, TEST_PATTERN};
use super::{Category, KindSpec, ParamSpec, ParamType};
use crate::node::NodeKind;

static GARBAGE_MATTE: &[ParamSpec] = &[
    row(
        "shape",
        "Shape",
        ParamType::Choice(MATTE_SHAPE),
        "",
        "Rectangle or ellipse.",
        scalar!(GarbageMatte, s => s.shape),
    ),
    // Unchecked before the table existed; ±10 canvases covers any on- or near-canvas use.
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
    // Unchecked before the table existed; ±16384 px is twice the largest canvas.
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
    // Unchecked before the table existed; ±10 input sizes, like gradient points.
    row(
        "anchor",
        "Anchor",
        vec2(-10.0, 10.0),
        "",
        "Pivot for scale and rotation; 0.5,0.5 = centre.",
        scalar!(Transform, s => s.anchor),
    ),
    row(
        "crop.left",
        "Crop left",
        UNIT,
        "",
        "Fraction cut from the left edge.",
        scalar!(Transform, s => s.crop.0),
    ),
    row(
        "crop.top",
        "Crop top",
        UNIT,
        "",
        "Fraction cut from the top edge.",
        scalar!(Transform, s => s.crop.1),
    ),
    row(
        "crop.right",
        "Crop right",
        UNIT,
        "",
        "Fraction cut from the right edge.",
        scalar!(Transform, s => s.crop.2),
    ),
    row(
        "crop.bottom",
        "Crop bottom",
        UNIT,
        "",
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

static SEGMENT: &[ParamSpec] = &[
    row(
        "model",
        "Model",
        ParamType::Choice(SEGMENT_MODEL),
        "",
        "General (256×256) or landscape (256×144, faster, for 16:9).",
        scalar!(Segment, s => s.model),
    ),
    row(
        "model_file",
        "Model file",
        ParamType::Path,
        "",
        "An ONNX model to run instead of the built-in one; unset = built in.",
        opt!(Segment, s => s.model_file),
    ),
    row(
        "threshold",
        "Threshold",
        UNIT,
        "",
        "Person probability at the middle of the edge.",
        scalar!(Segment, s => s.threshold),
    ),
    row(
        "softness",
        "Softness",
        float(0.0, 0.5, 0.01),
        "",
        "Half-width of the soft edge around the threshold; 0 = hard.",
        scalar!(Segment, s => s.softness),
    ),
    row(
        "smoothing",
        "Smoothing",
        float(0.0, 0.95, 0.01),
        "",
        "Weight of the previous mask (stops flicker); 0 = off.",
        scalar!(Segment, s => s.smoothing),
    ),
    row(
        "every",
        "Every Nth frame",
        int(1, 30),
        "frames",
        "Segment only every Nth input frame (saves CPU).",
        scalar!(Segment, s => s.every),
    ),
    row(
        "before_first_mask",
        "Before first mask",
        ParamType::Choice(BEFORE_MASK),
        "",
        "Keep everything (opaque) or nothing (clear) until the model answers.",
        scalar!(Segment, s => s.before_first_mask),
    ),
    row(
        "align",
        "Alignment",
        ParamType::Choice(SEGMENT_ALIGN),
        "",
        "Hold the camera picture back to match its mask, or use the newest mask.",
        scalar!(Segment, s => s.align),
    ),
];

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
const I_SEGMENT: usize = 12;
const I_TRANSFORM: usize = 13;
const I_COLOR_ADJUST: usize = 14;
const I_BLEND: usize = 15;
const I_MASK: usize = 16;
const I_OUTPUT: usize = 17;

/// Palette order: grouped by category, categories in [`Category`] order.
static KINDS: [KindSpec; 18] = [
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
    KindSpec {
        name: "segment",
        label: "Segment person",
        category: Category::Matte,
        help: "A matte of the people in the picture, no green screen (MediaPipe model on the CPU).",
        shader: Some("segment"),
        params: SEGMENT,
        make_default: || NodeKind::Segment(Default::default()),
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
        NodeKind::Segment(_) => &KINDS[I_SEGMENT],
        NodeKind::ColorAdjust(_) => &KINDS[I_COLOR_ADJUST],
        NodeKind::Output(_) => &KINDS[I_OUTPUT],
    }
}
