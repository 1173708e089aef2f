//! Which model a node runs. The two committed MediaPipe models are built into the binary, so a
//! show never depends on where the app was started from; a show may name its own ONNX file
//! instead (same input and output shape), which is read when the worker starts.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::SegmentError;

/// The MediaPipe Selfie Segmentation variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// 256×256 input: any aspect ratio, squeezed.
    General,
    /// 256×144 input: for 16:9 pictures, ~0.56× the pixels, so faster.
    Landscape,
}

impl Variant {
    /// Input (and output) size in pixels, `(width, height)`.
    pub fn size(self) -> (u32, u32) {
        match self {
            Variant::General => (256, 256),
            Variant::Landscape => (256, 144),
        }
    }

    /// The committed file this variant's built-in bytes come from.
    pub fn file_name(self) -> &'static str {
        match self {
            Variant::General => "selfie_segmentation.onnx",
            Variant::Landscape => "selfie_segmentation_landscape.onnx",
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Variant::General => include_bytes!(
                "../../../assets/models/selfie_segmentation/selfie_segmentation.onnx"
            ),
            Variant::Landscape => include_bytes!(
                "../../../assets/models/selfie_segmentation/selfie_segmentation_landscape.onnx"
            ),
        }
    }
}

/// Where a model's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelSource {
    Builtin(Variant),
    /// An ONNX file with the selfie model's interface (NHWC RGB in, one probability channel out).
    File(PathBuf),
}

impl ModelSource {
    /// The name errors and logs use: the file name of a built-in, the path of a file.
    pub fn name(&self) -> String {
        match self {
            ModelSource::Builtin(v) => format!("{} (built in)", v.file_name()),
            ModelSource::File(p) => p.display().to_string(),
        }
    }

    /// The model file's bytes.
    pub fn bytes(&self) -> Result<Cow<'static, [u8]>, SegmentError> {
        match self {
            ModelSource::Builtin(v) => Ok(Cow::Borrowed(v.bytes())),
            ModelSource::File(path) => {
                std::fs::read(path)
                    .map(Cow::Owned)
                    .map_err(|source| SegmentError::Read {
                        path: path.clone(),
                        source,
                    })
            }
        }
    }
}
