//! Node previews on the real (software, lavapipe) GPU: a show built in code, thumbnails and
//! the viewer asked for through `NodePreviews`, the target images read back and compared with
//! colours computed here, independently, in f64.
//!
//! Colours are sRGB-encoded and premultiplied (the team's convention); previews, like the
//! program, are composited over black, so an expected byte is `round(255 * clamp(rgb))`.
//! Tolerance: 2/255 per channel (one LSB for 8-bit rounding, one for f32 arithmetic and an
//! 8-bit intermediate slot). Pixels within one target pixel of a shape's edge are not checked
//! (bilinear scaling blends them).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use metadj_scope::preview::{NodePreviews, PreviewImages, PreviewPlugin};
use metadj_scope::render::harness::{finish_setup, headless_app};
use metadj_scope::render::{
    FrameClock, LatestProgramFrame, PreviewFrames, PreviewReadback, Program, ProgramReadback,
};
use metadj_scope::showfile::{CurrentShow, LoadedShow, from_show};
use show::NodeId;
use show::plan::Operand;

const CANVAS: (u32, u32) = (64, 32);
const THUMB: (u32, u32) = (32, 16);
const TOL: f64 = 2.0;

/// Scene 0 "main": red background, a green solid scaled to half and moved 12 px right, blended
/// normal over it. Scene 1 "other": blue. Scene 2 "chain": a tapped invert whose slot a later
/// solid would reuse (`i1`, `i2`: brightness +0.3 each).
const SHOW: &str = r#"(version: 1, canvas: (64, 32), scenes: [
    (name: "main",
     nodes: {
        "bg": (kind: solid((color: (1.0, 0.0, 0.0, 1.0)))),
        "fg": (kind: solid((color: (0.0, 1.0, 0.0, 1.0)))),
        "place": (kind: transform((scale: (0.5, 0.5), position: (12.0, 0.0)))),
        "mix": (kind: blend((layers: [(mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0)]))),
        "out": (kind: output(())),
     },
     edges: [
        (from: "fg", to: "place"),
        (from: "bg", to: "mix", port: "0"),
        (from: "place", to: "mix", port: "1"),
        (from: "mix", to: "out"),
     ]),
    (name: "other",
     nodes: {"blue": (kind: solid((color: (0.0, 0.0, 1.0, 1.0)))), "out": (kind: output(()))},
     edges: [(from: "blue", to: "out")]),
    (name: "chain",
     nodes: {
        "a": (kind: solid((color: (0.2, 0.2, 0.2, 1.0)))),
        "i1": (kind: color_adjust((brightness: 0.3))),
        "i2": (kind: color_adjust((brightness: 0.3))),
        "late": (kind: solid((color: (0.0, 0.0, 1.0, 1.0)))),
        "mix": (kind: blend((layers: [(mode: normal, opacity: 1.0), (mode: normal, opacity: 0.5)]))),
        "out": (kind: output(())),
     },
     edges: [
        (from: "a", to: "i1"), (from: "i1", to: "i2"),
        (from: "i2", to: "mix", port: "0"), (from: "late", to: "mix", port: "1"),
        (from: "mix", to: "out"),
     ]),
])"#;

fn id(s: &str) -> NodeId {
    NodeId::new(s)
}

fn loaded() -> Arc<LoadedShow> {
    let path = Path::new("preview-test.ron");
    let show = show::io::load_str(SHOW, path).unwrap_or_else(|e| panic!("{e}"));
    Arc::new(from_show(path, show).unwrap_or_else(|e| panic!("{e}")))
}

/// Premultiplied sRGB colour over black → expected bytes.
fn bytes(rgb: [f64; 3]) -> [f64; 3] {
    rgb.map(|c| (255.0 * c.clamp(0.0, 1.0)).round())
}

/// Checks every pixel of `img` whose expected colour `want(canvas_x, canvas_y)` is known; the
/// point is the pixel centre mapped to canvas pixels.
fn check(name: &str, img: &image::RgbaImage, want: impl Fn(f64, f64) -> Option<[f64; 3]>) {
    let (sx, sy) = (
        f64::from(CANVAS.0) / f64::from(img.width()),
        f64::from(CANVAS.1) / f64::from(img.height()),
    );
    let mut checked = 0;
    for (x, y, p) in img.enumerate_pixels() {
        let (cx, cy) = ((f64::from(x) + 0.5) * sx, (f64::from(y) + 0.5) * sy);
        let Some(rgb) = want(cx, cy) else { continue };
        let w = bytes(rgb);
        for c in 0..3 {
            let got = f64::from(p[c]);
            assert!(
                (got - w[c]).abs() <= TOL,
                "{name}: pixel ({x}, {y}) channel {c}: got {got}, want {} (±{TOL})",
                w[c]
            );
        }
        assert_eq!(p[3], 255, "{name}: opaque (over black)");
        checked += 1;
    }
    assert!(
        checked > img.width() * img.height() / 3,
        "{name}: too few pixels checked"
    );
}

/// Where the moved green square is, by the transform's own definition: scale 0.5 about the
/// canvas centre, then 12 px right. `None` within `margin` canvas pixels of its edge.
fn in_square(x: f64, y: f64, margin: f64) -> Option<bool> {
    let (cx, cy) = (32.0 + 12.0, 16.0);
    let (hw, hh) = (16.0, 8.0);
    let dx = (x - cx).abs() - hw;
    let dy = (y - cy).abs() - hh;
    let d = dx.max(dy);
    (d.abs() > margin).then_some(d < 0.0)
}

struct Rig {
    app: App,
    frame: u64,
}

impl Rig {
    fn new() -> Rig {
        let mut app = headless_app(CANVAS);
        app.add_plugins(PreviewPlugin)
            .insert_resource(CurrentShow(loaded()));
        finish_setup(&mut app);
        app.world_mut().resource_mut::<ProgramReadback>().enabled = true;
        app.world_mut().resource_mut::<PreviewReadback>().enabled = true;
        Rig { app, frame: 0 }
    }

    fn program(&mut self, scene: usize) {
        let plan = self.app.world().resource::<CurrentShow>().0.plans[scene].clone();
        self.app.world_mut().resource_mut::<Program>().plan = Some(plan);
    }

    fn ask(&mut self, previews: NodePreviews) {
        *self.app.world_mut().resource_mut::<NodePreviews>() = previews;
    }

    /// Renders until the program and every preview image have come back from a frame after
    /// this call; returns (program, thumbnails by node, viewer).
    fn capture(&mut self) -> Captured {
        let after = self.frame;
        let start = Instant::now();
        loop {
            self.frame += 1;
            self.app.world_mut().resource_mut::<FrameClock>().frame = self.frame;
            self.app.update();
            let world = self.app.world();
            let frames = world.resource::<PreviewFrames>();
            let images = world.resource::<PreviewImages>();
            let fresh = |h: &Handle<Image>| {
                frames
                    .0
                    .get(&h.id())
                    .filter(|(n, _)| *n > after)
                    .map(|(_, img)| img.clone())
            };
            let thumbs: Option<Vec<(NodeId, image::RgbaImage)>> = images
                .thumbs
                .iter()
                .map(|(n, h)| Some((n.clone(), fresh(h)?)))
                .collect();
            let viewer = match &images.viewer {
                Some((n, h)) => fresh(h).map(|img| Some((n.clone(), img))),
                None => Some(None),
            };
            let program = world
                .resource::<LatestProgramFrame>()
                .0
                .as_ref()
                .filter(|(n, _)| *n > after)
                .map(|(_, img)| img.clone());
            if let (Some(thumbs), Some(viewer), Some(program)) = (thumbs, viewer, program)
                && (!images.thumbs.is_empty() || images.viewer.is_some())
            {
                return Captured {
                    program,
                    thumbs,
                    viewer,
                };
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "previews never came back"
            );
        }
    }
}

struct Captured {
    program: image::RgbaImage,
    thumbs: Vec<(NodeId, image::RgbaImage)>,
    viewer: Option<(NodeId, image::RgbaImage)>,
}

impl Captured {
    fn thumb(&self, node: &str) -> &image::RgbaImage {
        self.thumbs
            .iter()
            .find(|(n, _)| *n == id(node))
            .map(|(_, i)| i)
            .unwrap_or_else(|| panic!("no thumbnail of {node}"))
    }
}

const RED: [f64; 3] = [1.0, 0.0, 0.0];
const GREEN: [f64; 3] = [0.0, 1.0, 0.0];
const BLUE: [f64; 3] = [0.0, 0.0, 1.0];
const BLACK: [f64; 3] = [0.0, 0.0, 0.0];

/// The main scene's program: green square over red.
fn main_program(x: f64, y: f64) -> Option<[f64; 3]> {
    in_square(x, y, 1.0).map(|inside| if inside { GREEN } else { RED })
}

/// Thumbnails of a solid, a fused transform and the blend, and the blend's viewer, on the scene
/// that is on program: the solid is its colour everywhere, the transform is the moved square
/// over black, the viewer of the blend equals the program (the output is that blend).
#[test]
fn thumbnails_and_viewer_of_the_program_scene() {
    let mut rig = Rig::new();
    rig.program(0);
    rig.ask(NodePreviews {
        scene: Some(0),
        nodes: vec![id("bg"), id("place"), id("mix")],
        thumb_size: THUMB,
        viewer: Some(id("mix")),
        every: 1,
        ..Default::default()
    });
    let c = rig.capture();
    for (_, img) in &c.thumbs {
        assert_eq!(img.dimensions(), THUMB, "thumbnail size");
    }
    check("bg", c.thumb("bg"), |_, _| Some(RED));
    // Thumbnail pixels are two canvas pixels wide: keep two canvas pixels off the edges.
    check("place", c.thumb("place"), |x, y| {
        in_square(x, y, 2.0).map(|inside| if inside { GREEN } else { BLACK })
    });
    check("mix thumbnail", c.thumb("mix"), |x, y| {
        in_square(x, y, 2.0).map(|inside| if inside { GREEN } else { RED })
    });
    let (node, viewer) = c.viewer.as_ref().expect("a viewer");
    assert_eq!(*node, id("mix"));
    assert_eq!(viewer.dimensions(), CANVAS, "the viewer is canvas-sized");
    check("program", &c.program, main_program);
    check("mix viewer", viewer, main_program);
    for (v, p) in viewer.pixels().zip(c.program.pixels()) {
        for ch in 0..4 {
            assert!(
                (i16::from(v[ch]) - i16::from(p[ch])).abs() <= 1,
                "viewer {v:?} vs program {p:?}"
            );
        }
    }
}

/// Previews of a scene that is not on program render that scene, while the program keeps
/// showing its own, pixel for pixel; nodes that cannot be previewed get no image.
#[test]
fn preview_of_another_scene_leaves_the_program_alone() {
    let mut rig = Rig::new();
    rig.program(0);
    rig.ask(NodePreviews {
        scene: Some(0),
        nodes: vec![id("bg")],
        thumb_size: THUMB,
        viewer: None,
        every: 1,
        ..Default::default()
    });
    let before = rig.capture().program;
    check("program before", &before, main_program);
    rig.ask(NodePreviews {
        scene: Some(1),
        nodes: vec![id("blue"), id("missing")],
        thumb_size: THUMB,
        viewer: Some(id("out")),
        every: 2,
        ..Default::default()
    });
    let c = rig.capture();
    assert_eq!(c.thumbs.len(), 1, "no image for an unknown node");
    check("blue", c.thumb("blue"), |_, _| Some(BLUE));
    let (node, viewer) = c.viewer.as_ref().expect("the output node's viewer");
    assert_eq!(*node, id("out"));
    check("other scene's output", viewer, |_, _| Some(BLUE));
    assert_eq!(c.program, before, "program pixels unchanged");
    // Turning previews off frees the images.
    rig.ask(NodePreviews::default());
    rig.app.update();
    let images = rig.app.world().resource::<PreviewImages>();
    assert!(images.thumbs.is_empty() && images.viewer.is_none());
}

/// A tapped node in the middle of a chain, whose slot a later pass reuses when it is not
/// tapped, still shows its own picture.
#[test]
fn tapped_node_mid_chain_keeps_its_picture() {
    let show = loaded();
    // Without taps the plan really does reuse i1's slot for a later pass.
    let plain = &show.plans[2];
    let i1_slot = plain
        .passes
        .iter()
        .find(|p| p.node == id("i1"))
        .map(|p| p.target)
        .expect("i1 has a pass");
    let last = plain.passes.iter().rev().find(|p| p.target == i1_slot);
    assert_ne!(
        last.map(|p| &p.node),
        Some(&id("i1")),
        "i1's slot is reused"
    );
    let tapped = show::compile_with_taps(&show.show, 2, &|_| None, &[id("i1")]).expect("compiles");
    assert!(matches!(tapped.taps[0].sample.from, Operand::Slot(_)));

    let mut rig = Rig::new();
    rig.program(2);
    rig.ask(NodePreviews {
        scene: Some(2),
        nodes: vec![id("i1"), id("a"), id("i2")],
        thumb_size: THUMB,
        viewer: None,
        every: 3,
        ..Default::default()
    });
    let c = rig.capture();
    // a: opaque grey 0.2; colour adjust by brightness only: C + 0.3 (opaque, so no
    // premultiplication changes it).
    let (a, i1, i2) = (0.2, 0.2 + 0.3, 0.2 + 0.3 + 0.3);
    check("a", c.thumb("a"), |_, _| Some([a; 3]));
    check("i1", c.thumb("i1"), |_, _| Some([i1; 3]));
    check("i2", c.thumb("i2"), |_, _| Some([i2; 3]));
    // The program: i2 under blue at half opacity (source-over).
    let over = |b: f64, s: f64| s * 0.5 + b * (1.0 - 0.5);
    check("chain program", &c.program, |_, _| {
        Some([over(i2, 0.0), over(i2, 0.0), over(i2, 1.0)])
    });
}
