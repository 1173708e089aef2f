//! Renders the console over the demo show to `tests/snapshots/console_demo.png` (1600×900) for
//! a person to look at. Needs a GPU or lavapipe: `cargo test -p console --features screenshot`.

#![cfg(feature = "screenshot")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use show::NodeId;

#[test]
fn console_demo_screenshot() {
    let mut h = harness_with(egui_kittest::Harness::builder().wgpu(), demo());
    h.state_mut().node_errors.insert(
        (0, NodeId::from("bg")),
        "image file not found: ../assets/stage.jpg".to_owned(),
    );
    h.run_steps(4);
    click_node(&mut h, "title_place");
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
