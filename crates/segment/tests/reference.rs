//! The model through tract against the reference masks the original runtime (LiteRT) made from
//! the shipped photo (`assets/test/`, `tools/segmentation/reference_mask.py`), and the errors a
//! bad model file gives.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::path::{Path, PathBuf};

use media::{PixelFormat, VideoFrame};
use segment::{ModelSource, SegmentError, Segmenter, TractSegmenter, Variant, model_input};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn photo() -> VideoFrame {
    let img = image::open(repo().join("assets/test/astronaut.png"))
        .unwrap()
        .to_rgba8();
    VideoFrame::new(
        img.width(),
        img.height(),
        PixelFormat::Rgba8,
        img.into_raw(),
        media::now(),
        0,
    )
    .unwrap()
}

/// Intersection over union of `p > 0.5` and `reference > 127`.
fn iou(p: &[f32], reference: &[u8]) -> f64 {
    assert_eq!(p.len(), reference.len());
    let (mut inter, mut union) = (0u32, 0u32);
    for (a, b) in p.iter().zip(reference) {
        let (a, b) = (*a > 0.5, *b > 127);
        inter += u32::from(a && b);
        union += u32::from(a || b);
    }
    f64::from(inter) / f64::from(union.max(1))
}

fn reference(variant: &str) -> image::GrayImage {
    image::open(repo().join(format!("assets/test/astronaut_mask_{variant}.png")))
        .unwrap()
        .to_luma8()
}

#[test]
fn both_models_match_the_litert_reference_on_the_photo() {
    for (variant, name) in [
        (Variant::General, "general"),
        (Variant::Landscape, "landscape"),
    ] {
        let mut seg = TractSegmenter::load(&ModelSource::Builtin(variant)).unwrap();
        assert_eq!(seg.size(), variant.size());
        let want = reference(name);
        assert_eq!((want.width(), want.height()), variant.size());
        let probs = seg
            .run(&model_input(&photo(), seg.size()).unwrap())
            .unwrap();
        let score = iou(&probs, want.as_raw());
        eprintln!("{name}: IoU {score:.3} against the LiteRT reference");
        assert!(score >= 0.9, "{name}: IoU {score:.3}");
        // Not vacuous: the person is a large part of the picture, not all of it.
        let fraction = probs.iter().filter(|p| **p > 0.5).count() as f64 / probs.len() as f64;
        assert!((0.3..0.8).contains(&fraction), "{name}: {fraction}");
        // And a wrong mask scores low: the reference flipped upside down.
        let mut flipped = want.clone();
        image::imageops::flip_vertical_in_place(&mut flipped);
        assert!(
            iou(&probs, flipped.as_raw()) < 0.7,
            "{name}: IoU is discriminating"
        );
    }
}

#[test]
fn a_missing_or_corrupt_model_file_is_an_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("segment-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("nope.onnx");
    let err = TractSegmenter::load(&ModelSource::File(missing.clone())).unwrap_err();
    assert!(matches!(err, SegmentError::Read { .. }), "{err}");
    assert!(err.to_string().contains("nope.onnx"), "{err}");
    let corrupt = dir.join("corrupt.onnx");
    std::fs::write(&corrupt, b"not a model at all").unwrap();
    let err = TractSegmenter::load(&ModelSource::File(corrupt)).unwrap_err();
    assert!(matches!(err, SegmentError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("corrupt.onnx"), "{err}");
}
