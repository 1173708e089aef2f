//! Node kinds and their parameters.
//!
//! Every parameter has a default, so a show file only names what it changes. Each kind's shader
//! lives in `shaders/<kind>.wgsl` and its inspector UI under the same name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::color::Rgba;
use crate::pipeline::LoadValue;

/// What flows along an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PortType {
    /// Premultiplied RGBA, sRGB-encoded.
    Image,
    /// One coverage value per pixel in `0..=1` (1 = keep).
    Matte,
}

/// A node's kind and parameters. The RON tag is the kind's name, e.g. `chroma_key((similarity: 0.4))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    // --- sources ---
    Solid(Solid),
    Gradient(Gradient),
    Image(ImageSource),
    TestPattern(TestPattern),
    Camera(Camera),
    Scope(ScopeNode),
    GarbageMatte(GarbageMatte),
    // --- processing ---
    Transform(Transform),
    Blend(Blend),
    ChromaKey(ChromaKey),
    LumaKey(LumaKey),
    Matte(MatteFrom),
    Invert(Invert),
    Feather(Feather),
    Segment(Segment),
    Mask(Mask),
    ColorAdjust(ColorAdjust),
    // --- sink ---
    Output(Output),
}

impl NodeKind {
    /// The kind's name as written in show files and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Solid(_) => "solid",
            NodeKind::Gradient(_) => "gradient",
            NodeKind::Image(_) => "image",
            NodeKind::TestPattern(_) => "test_pattern",
            NodeKind::Camera(_) => "camera",
            NodeKind::Scope(_) => "scope",
            NodeKind::GarbageMatte(_) => "garbage_matte",
            NodeKind::Transform(_) => "transform",
            NodeKind::Blend(_) => "blend",
            NodeKind::ChromaKey(_) => "chroma_key",
            NodeKind::LumaKey(_) => "luma_key",
            NodeKind::Matte(_) => "matte",
            NodeKind::Invert(_) => "invert",
            NodeKind::Feather(_) => "feather",
            NodeKind::Segment(_) => "segment",
            NodeKind::Mask(_) => "mask",
            NodeKind::ColorAdjust(_) => "color_adjust",
            NodeKind::Output(_) => "output",
        }
    }

    /// Named input ports with their types, in order. A blend has one port per layer:
    /// `"0"`, `"1"`, … (layer 0 at the bottom).
    pub fn inputs(&self) -> Vec<(String, PortType)> {
        use PortType::*;
        let one = |t: PortType| vec![("in".to_owned(), t)];
        match self {
            NodeKind::Solid(_)
            | NodeKind::Gradient(_)
            | NodeKind::Image(_)
            | NodeKind::TestPattern(_)
            | NodeKind::Camera(_)
            | NodeKind::GarbageMatte(_) => Vec::new(),
            // The Scope node's input is what it sends to the server (usually the camera).
            NodeKind::Scope(_) => one(Image),
            NodeKind::Transform(_)
            | NodeKind::ChromaKey(_)
            | NodeKind::LumaKey(_)
            | NodeKind::Matte(_)
            | NodeKind::ColorAdjust(_)
            | NodeKind::Segment(_)
            | NodeKind::Output(_) => one(Image),
            NodeKind::Invert(_) | NodeKind::Feather(_) => one(Matte),
            NodeKind::Mask(_) => vec![("in".to_owned(), Image), ("matte".to_owned(), Matte)],
            NodeKind::Blend(b) => (0..b.layers.len())
                .map(|i| (i.to_string(), Image))
                .collect(),
        }
    }

    /// The output port's type, or `None` for the output sink.
    pub fn output(&self) -> Option<PortType> {
        match self {
            NodeKind::Output(_) => None,
            NodeKind::GarbageMatte(_)
            | NodeKind::Matte(_)
            | NodeKind::Invert(_)
            | NodeKind::Feather(_)
            | NodeKind::Segment(_) => Some(PortType::Matte),
            _ => Some(PortType::Image),
        }
    }
}

/// A flat colour filling the canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Solid {
    pub color: Rgba,
}

impl Default for Solid {
    fn default() -> Self {
        Solid { color: Rgba::BLACK }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradientShape {
    #[default]
    Linear,
    Radial,
}

/// A two-colour gradient over the canvas. Positions are normalised canvas coordinates
/// (0,0 top-left, 1,1 bottom-right).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gradient {
    pub shape: GradientShape,
    pub from: Rgba,
    pub to: Rgba,
    /// Linear: where `from` is fully used. Radial: the centre.
    pub start: (f32, f32),
    /// Linear: where `to` is fully used. Radial: a point on the circle where `to` is reached.
    pub end: (f32, f32),
}

impl Default for Gradient {
    fn default() -> Self {
        Gradient {
            shape: GradientShape::Linear,
            from: Rgba(0.05, 0.05, 0.1, 1.0),
            to: Rgba(0.2, 0.1, 0.35, 1.0),
            start: (0.5, 0.0),
            end: (0.5, 1.0),
        }
    }
}

/// How a source of another size is placed in the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Whole source visible, letterboxed.
    #[default]
    Fit,
    /// Canvas covered, source cropped.
    Fill,
    /// Canvas covered, aspect ratio ignored.
    Stretch,
    /// Source pixels 1:1, centred.
    Original,
}

/// A still image (PNG or JPEG, alpha kept). Relative paths resolve against the show file's folder.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageSource {
    pub path: PathBuf,
    pub fit: Fit,
}

/// Moving bars with the frame counter and timestamp burned in: proves frames are live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestPattern {
    /// Bar movement in canvas widths per second.
    pub speed: f32,
}

impl Default for TestPattern {
    fn default() -> Self {
        TestPattern { speed: 0.1 }
    }
}

/// Which capture device a camera node opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraDevice {
    Index(u32),
    Name(String),
    /// Never opens a device: the synthetic pattern (tests, demo, rehearsal).
    Synthetic,
    /// Never opens a device: a real person (the shipped photo) swaying in a moving, non-green
    /// room, for person segmentation (tests, demo).
    SyntheticRoom,
}

impl Default for CameraDevice {
    fn default() -> Self {
        CameraDevice::Index(0)
    }
}

/// A live camera. When the device is absent or fails, a synthetic camera stands in and the node
/// keeps retrying in the background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Camera {
    pub device: CameraDevice,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub fit: Fit,
}

impl Default for Camera {
    fn default() -> Self {
        Camera {
            device: CameraDevice::default(),
            width: 1280,
            height: 720,
            fps: 30,
            fit: Fit::Fill,
        }
    }
}

/// One weighted text prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    pub text: String,
    #[serde(default = "one")]
    pub weight: f32,
}

fn one() -> f32 {
    1.0
}

/// Each prompt's share of the blend as Scope computes it (`docs/scope-api.md` §4.2): the
/// weights (a negative one counts as 0) normalised to sum 1, all zero meaning equal shares.
pub fn prompt_shares(prompts: &[Prompt]) -> Vec<f32> {
    let total: f32 = prompts.iter().map(|p| p.weight.max(0.0)).sum();
    prompts
        .iter()
        .map(|p| {
            if total > 0.0 {
                p.weight.max(0.0) / total
            } else {
                1.0 / prompts.len() as f32
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    #[default]
    Linear,
    Slerp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputMode {
    #[default]
    Video,
    Text,
}

/// Parameters fixed when a pipeline is loaded: changing one reloads the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScopeLoad {
    pub width: u32,
    pub height: u32,
    pub base_seed: u64,
    pub vace_enabled: bool,
    pub quantization: Option<String>,
    /// The pipeline's other load parameters, by the keys its server's schema names
    /// (`show::pipeline`); sent as they are.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, LoadValue>,
}

impl Default for ScopeLoad {
    fn default() -> Self {
        ScopeLoad {
            width: 512,
            height: 512,
            base_seed: 42,
            vace_enabled: true,
            quantization: None,
            extra: BTreeMap::new(),
        }
    }
}

/// Runtime parameters sent over the data channel. `None` leaves the server's value alone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScopeParams {
    pub prompts: Vec<Prompt>,
    pub interpolation: Interpolation,
    /// When set, prompt changes blend over this many pipeline chunks.
    pub transition_steps: Option<u32>,
    pub noise_scale: Option<f32>,
    pub denoising_steps: Option<Vec<u32>>,
    pub manage_cache: Option<bool>,
    /// Local image files; uploaded to the server as assets (cached by content hash).
    pub vace_ref_images: Vec<PathBuf>,
    pub vace_context_scale: Option<f32>,
    pub input_mode: InputMode,
}

/// What a Scope node shows while it is not `Live`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeFallback {
    /// Keep the last frame, then fade it out after `fade_after` seconds.
    Hold {
        fade_after: f32,
    },
    /// Show the node's input (the camera) instead.
    Input,
    Transparent,
}

impl Default for ScopeFallback {
    fn default() -> Self {
        ScopeFallback::Hold { fade_after: 3.0 }
    }
}

/// A Daydream Scope server turning the input into the avatar. Data only here; the network side
/// is in the `scope` crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScopeNode {
    /// `"embedded"` starts the built-in Scope-compatible server on loopback.
    pub url: String,
    pub pipeline: String,
    pub load: ScopeLoad,
    pub params: ScopeParams,
    pub fallback: ScopeFallback,
    pub fit: Fit,
}

impl Default for ScopeNode {
    fn default() -> Self {
        ScopeNode {
            url: "embedded".to_owned(),
            pipeline: "passthrough".to_owned(),
            load: ScopeLoad::default(),
            params: ScopeParams::default(),
            fallback: ScopeFallback::default(),
            fit: Fit::Fill,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatteShape {
    #[default]
    Rectangle,
    Ellipse,
}

/// A rectangle or ellipse matte, for cutting away parts of a key ("garbage").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GarbageMatte {
    pub shape: MatteShape,
    /// Centre in normalised canvas coordinates.
    pub center: (f32, f32),
    /// Full width and height in normalised canvas coordinates.
    pub size: (f32, f32),
    /// Edge softness, in normalised canvas units.
    pub softness: f32,
    pub invert: bool,
}

impl Default for GarbageMatte {
    fn default() -> Self {
        GarbageMatte {
            shape: MatteShape::Rectangle,
            center: (0.5, 0.5),
            size: (0.8, 0.8),
            softness: 0.02,
            invert: false,
        }
    }
}

/// Places the input in the canvas. Applied in this order: crop, fit, scale and rotate about the
/// anchor, then move by `position`. `fit` replaces the source's own fit when the input is a
/// source with its own size (image, camera, Scope); a canvas-sized input is already fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Transform {
    /// Offset in canvas pixels.
    pub position: (f32, f32),
    pub scale: (f32, f32),
    /// Degrees, clockwise.
    pub rotation: f32,
    /// Pivot in normalised coordinates of the fitted input (0.5, 0.5 = centre).
    pub anchor: (f32, f32),
    /// Fractions cut from each edge: left, top, right, bottom.
    pub crop: (f32, f32, f32, f32),
    pub fit: Fit,
}

impl Default for Transform {
    fn default() -> Self {
        Transform {
            position: (0.0, 0.0),
            scale: (1.0, 1.0),
            rotation: 0.0,
            anchor: (0.5, 0.5),
            crop: (0.0, 0.0, 0.0, 0.0),
            fit: Fit::Fit,
        }
    }
}

/// W3C Compositing and Blending Level 1 modes, plus add and subtract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlendMode {
    #[default]
    Normal,
    Multiply,
    Screen,
    Overlay,
    Darken,
    Lighten,
    ColorDodge,
    ColorBurn,
    HardLight,
    SoftLight,
    Difference,
    Exclusion,
    Hue,
    Saturation,
    Color,
    Luminosity,
    Add,
    Subtract,
}

impl BlendMode {
    pub const ALL: [BlendMode; 18] = [
        BlendMode::Normal,
        BlendMode::Multiply,
        BlendMode::Screen,
        BlendMode::Overlay,
        BlendMode::Darken,
        BlendMode::Lighten,
        BlendMode::ColorDodge,
        BlendMode::ColorBurn,
        BlendMode::HardLight,
        BlendMode::SoftLight,
        BlendMode::Difference,
        BlendMode::Exclusion,
        BlendMode::Hue,
        BlendMode::Saturation,
        BlendMode::Color,
        BlendMode::Luminosity,
        BlendMode::Add,
        BlendMode::Subtract,
    ];
}

/// One layer of a blend: how it combines with everything below it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Layer {
    pub mode: BlendMode,
    pub opacity: f32,
}

impl Default for Layer {
    fn default() -> Self {
        Layer {
            mode: BlendMode::Normal,
            opacity: 1.0,
        }
    }
}

/// Stacks its inputs bottom (port `"0"`) to top. Layer 0's mode is ignored (it composites over
/// transparent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Blend {
    pub layers: Vec<Layer>,
}

impl Default for Blend {
    fn default() -> Self {
        Blend {
            layers: vec![Layer::default(), Layer::default()],
        }
    }
}

/// Keys out a colour, OBS-style: distance from the key colour in chroma (CbCr) space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChromaKey {
    pub key_color: Rgba,
    /// Below this chroma distance a pixel is fully transparent. `0..=1`.
    pub similarity: f32,
    /// Width of the soft edge above `similarity`. `0..=1`.
    pub smoothness: f32,
    /// How strongly the key colour is removed from what remains. `0..=1`.
    pub spill: f32,
    pub opacity: f32,
    pub contrast: f32,
    pub brightness: f32,
    pub gamma: f32,
}

impl Default for ChromaKey {
    fn default() -> Self {
        ChromaKey {
            key_color: Rgba::GREEN,
            similarity: 0.4,
            smoothness: 0.08,
            spill: 0.1,
            opacity: 1.0,
            contrast: 0.0,
            brightness: 0.0,
            gamma: 0.0,
        }
    }
}

/// Keys by luma (Rec. 709): pixels below `low` or above `high` become transparent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LumaKey {
    pub low: f32,
    pub high: f32,
    /// Soft edge width around both thresholds.
    pub smoothness: f32,
    pub invert: bool,
}

impl Default for LumaKey {
    fn default() -> Self {
        LumaKey {
            low: 0.0,
            high: 0.9,
            smoothness: 0.05,
            invert: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatteSource {
    #[default]
    Alpha,
    Luma,
}

/// Turns an image into a matte (its alpha or its luma).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatteFrom {
    pub source: MatteSource,
}

/// `1 - matte`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Invert {}

/// Softens a matte with a separable Gaussian blur.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Feather {
    /// Blur radius in canvas pixels (about 3 sigma). `0..=64`.
    pub radius: f32,
}

impl Default for Feather {
    fn default() -> Self {
        Feather { radius: 8.0 }
    }
}

/// Which MediaPipe Selfie Segmentation model a `segment` node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentModel {
    /// 256×256 input, any aspect ratio.
    #[default]
    General,
    /// 256×144 input, for 16:9 pictures: fewer pixels, faster.
    Landscape,
}

impl SegmentModel {
    /// The model's input and mask size in pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            SegmentModel::General => (256, 256),
            SegmentModel::Landscape => (256, 144),
        }
    }
}

/// What a `segment` node outputs before its first mask arrives (model loading, first frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeforeMask {
    /// Everything kept: the picture shows uncut.
    #[default]
    Opaque,
    /// Nothing kept: the cut-out appears with the first mask.
    Clear,
}

/// How a `segment` node lines its mask up with the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentAlign {
    /// The input camera's picture is held back until the mask of that very frame is ready, so
    /// mask and picture always match (the picture is late by the inference time, and changes
    /// at the mask rate). Only a camera input can be held; other inputs use the newest mask.
    #[default]
    Hold,
    /// The newest mask over the newest picture: no added delay, but the mask trails motion by
    /// the inference time.
    Newest,
}

/// Person segmentation: a matte of the people in the input (no green screen needed), from
/// MediaPipe Selfie Segmentation run on the CPU off the frame path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Segment {
    pub model: SegmentModel,
    /// An ONNX file to run instead of the built-in model (same interface), relative to the show
    /// file's folder.
    pub model_file: Option<PathBuf>,
    /// Probability at the middle of the edge. `0..=1`.
    pub threshold: f32,
    /// Half-width of the soft edge around `threshold`. `0..=0.5`.
    pub softness: f32,
    /// Temporal smoothing: weight of the previous mask. `0..=0.95`; 0 = off.
    pub smoothing: f32,
    /// Segment every Nth input frame. `1..=30`.
    pub every: u32,
    pub before_first_mask: BeforeMask,
    pub align: SegmentAlign,
}

impl Default for Segment {
    fn default() -> Self {
        Segment {
            model: SegmentModel::General,
            model_file: None,
            threshold: 0.5,
            softness: 0.15,
            smoothing: 0.0,
            every: 1,
            before_first_mask: BeforeMask::Opaque,
            align: SegmentAlign::Hold,
        }
    }
}

/// Multiplies the image (port `"in"`) by the matte (port `"matte"`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Mask {}

/// Colour correction. All neutral by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColorAdjust {
    /// Added to each channel. `-1..=1`.
    pub brightness: f32,
    /// Multiplier around mid-grey. `0..=4`.
    pub contrast: f32,
    /// 0 = grey, 1 = unchanged. `0..=4`.
    pub saturation: f32,
    /// Output = input^(1/gamma). `0.1..=10`.
    pub gamma: f32,
    /// Degrees.
    pub hue_shift: f32,
    /// `0..=1`.
    pub opacity: f32,
}

impl Default for ColorAdjust {
    fn default() -> Self {
        ColorAdjust {
            brightness: 0.0,
            contrast: 1.0,
            saturation: 1.0,
            gamma: 1.0,
            hue_shift: 0.0,
            opacity: 1.0,
        }
    }
}

/// The program: what goes to the window, projector or PNG. One per scene.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Output {}
