//! A frame → the model's input: the whole picture stretched to the model size (as MediaPipe
//! does; the mask is stretched back the same way), RGB scaled to `0..=1`. The triangle filter
//! matches the reference masks' Pillow `BILINEAR` downscale (`tools/segmentation`).

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Rgba};
use media::{PixelFormat, VideoFrame};

use crate::SegmentError;

/// `size.0 × size.1 × 3` floats, row-major RGB in `0..=1`. Alpha is ignored (the inputs are
/// opaque camera or rendered pictures).
pub fn model_input(frame: &VideoFrame, size: (u32, u32)) -> Result<Vec<f32>, SegmentError> {
    let converted;
    let frame = match frame.format {
        PixelFormat::Rgba8 => frame,
        PixelFormat::I420 => {
            converted = frame.to_rgba()?;
            &converted
        }
    };
    frame.check()?;
    let view: ImageBuffer<Rgba<u8>, &[u8]> =
        ImageBuffer::from_raw(frame.width, frame.height, &frame.data[..]).ok_or(
            SegmentError::Inference("frame buffer smaller than its size".into()),
        )?;
    let to_floats = |px: &mut dyn Iterator<Item = &Rgba<u8>>| -> Vec<f32> {
        px.flat_map(|p| [p[0], p[1], p[2]].map(|c| f32::from(c) / 255.0))
            .collect()
    };
    if (frame.width, frame.height) == size {
        return Ok(to_floats(&mut view.pixels()));
    }
    let small = imageops::resize(&view, size.0, size.1, FilterType::Triangle);
    Ok(to_floats(&mut small.pixels()))
}
