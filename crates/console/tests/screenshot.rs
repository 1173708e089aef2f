//! Renders the console over the demo show to `tests/snapshots/console_demo.png` (1600×900) for
//! a person to look at. Needs a GPU or lavapipe (software Vulkan):
//! `XDG_RUNTIME_DIR=$(mktemp -d) cargo test -p console --features screenshot --test screenshot`.

#![cfg(feature = "screenshot")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use egui_kittest::kittest::Queryable;
use show::NodeId;

#[test]
fn console_demo_screenshot() {
    let mut h = harness_with(egui_kittest::Harness::builder().wgpu(), demo());
    h.state_mut().node_errors.insert(
        (0, NodeId::from("bg")),
        "image file not found: ../assets/stage.jpg".to_owned(),
    );
    // A stand-in picture: a purple-to-teal gradient with a bright square, 16:9.
    let (w, h_px) = (320usize, 180usize);
    let mut pixels = Vec::with_capacity(w * h_px);
    for y in 0..h_px {
        for x in 0..w {
            let t = x as f32 / w as f32;
            let square = (140..180).contains(&x) && (70..110).contains(&y);
            pixels.push(if square {
                egui::Color32::from_rgb(0, 230, 90)
            } else {
                egui::Color32::from_rgb((120.0 * (1.0 - t)) as u8 + 20, 30, (160.0 * t) as u8 + 40)
            });
        }
    }
    let texture = h.ctx.load_texture(
        "stand-in",
        egui::ColorImage::new([w, h_px], pixels),
        egui::TextureOptions::LINEAR,
    );
    h.state_mut().picture = Some((texture.id(), [w as u32, h_px as u32]));
    h.state_mut().program_scene = 1;
    h.state_mut().preview_scene = Some(0);
    h.state_mut().scope.insert(
        NodeId::from("scope"),
        console::ScopeLive {
            state: "Live".into(),
            health: console::Health::Watch,
            detail: "late frames · in 30.0 / out 24.1 fps · rtt 84 ms (p95 130 ms) · age 612 ms · 0 reconnects".into(),
            pipelines: None,
            references: Default::default(),
        },
    );
    h.state_mut().tbar = 0.3;
    h.run_steps(4);
    click_node(&mut h, "title_place");
    h.get_by_label("View").click();
    h.run_steps(2);
    h.key_press(egui::Key::F);
    h.hover_at(egui::pos2(1590.0, 890.0));
    h.run_steps(4);
    let image = h.render().unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/console_demo.png"
    );
    std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
    image.save(path).unwrap();
}
