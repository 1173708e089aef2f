//! Live sources inside rendered scenes: the synthetic camera, and a Scope node against the
//! embedded server over real loopback WebRTC.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use metadj_scope::headless::render_frames;
use metadj_scope::showfile::load_show;

fn write_show(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sources-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("show.ron");
    std::fs::write(&path, text).unwrap();
    path
}

fn render_one(path: &Path) -> image::RgbaImage {
    let loaded = load_show(path).unwrap_or_else(|e| panic!("{e}"));
    let mut out = None;
    render_frames(loaded, 0, 0.0, 30.0, 1, |_, img| {
        out = Some(img);
        Ok(())
    })
    .unwrap();
    out.unwrap()
}

fn near(a: [u8; 3], b: [u8; 3], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tol)
}

fn rgb(img: &image::RgbaImage, x: u32, y: u32) -> [u8; 3] {
    let p = img.get_pixel(x, y).0;
    [p[0], p[1], p[2]]
}

#[test]
fn synthetic_camera_reaches_the_program() {
    let path = write_show(
        "camera",
        r#"(version: 1, canvas: (128, 72), scenes: [(name: "cam", nodes: {
            "cam": (kind: camera((device: synthetic, width: 128, height: 72, fps: 30))),
            "out": (kind: output(())),
        }, edges: [(from: "cam", to: "out")])])"#,
    );
    let img = render_one(&path);
    // Right edge, mid height: the chroma-green backdrop (the performer never gets there).
    // 8-bit sRGB in, 8-bit sRGB out through linear filtering: allow 2/255.
    assert!(
        near(rgb(&img, 126, 36), [0, 177, 64], 2),
        "{:?}",
        rgb(&img, 126, 36)
    );
}

#[test]
fn scope_node_returns_stylized_pixels_in_the_rendered_scene() {
    let path = write_show(
        "scope",
        r#"(version: 1, canvas: (128, 128), scenes: [(name: "avatar", nodes: {
            "cam": (kind: camera((device: synthetic, width: 128, height: 128, fps: 30))),
            "scope": (kind: scope((url: "embedded", pipeline: "stylize",
                load: (width: 128, height: 128), fallback: transparent))),
            "out": (kind: output(())),
        }, edges: [(from: "cam", to: "scope"), (from: "scope", to: "out")])])"#,
    );
    let img = render_one(&path);
    // (64, 100) is always on the performer's shirt (196, 52, 92) in the synthetic picture
    // (body centre y = 0.78 h, half-width 0.2 h, sway at most 0.18 w). The server posterizes and
    // tints it; VP8 changes values a little each way. Expected: any stylize output of an input
    // within ±12 of the shirt colour, then within ±10 after the return trip.
    let expected: HashSet<[u8; 3]> = (184..=208u8)
        .flat_map(|r| (40..=64u8).flat_map(move |g| (80..=104u8).map(move |b| (r, g, b))))
        .map(|(r, g, b)| scope_server::pipeline::stylize_pixel(r, g, b))
        .collect();
    let got = rgb(&img, 64, 100);
    assert!(
        expected.iter().any(|e| near(*e, got, 10)),
        "got {got:?}, expected one of {expected:?}"
    );
    // And it is not the untouched camera picture (the transparent fallback would be black).
    assert!(!near(got, [196, 52, 92], 20) && got != [0, 0, 0], "{got:?}");
}
