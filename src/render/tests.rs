//! Quick end-to-end checks of the compositor on the real (software) GPU. The full per-formula
//! checks live in `tests/gpu.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use show::node::BlendMode;
use show::plan::{Affine, Operand, Pass, PassOp, RenderPlan, Sample, SlotId};
use show::scene::TransitionKind;
use show::{NodeId, Rgba};

use super::harness::{finish_setup, headless_app};
use super::{FrameClock, LatestProgramFrame, Program, ProgramReadback, ProgramTransition};

const CANVAS: (u32, u32) = (64, 32);

fn slot(s: u32) -> Sample {
    Sample {
        from: Operand::Slot(SlotId(s)),
        xform: Affine::canvas(CANVAS),
        crop: [0.0, 0.0, 1.0, 1.0],
    }
}

fn solid(target: u32, c: Rgba) -> Pass {
    Pass {
        node: NodeId::new(format!("solid{target}")),
        op: PassOp::Solid(c),
        inputs: Vec::new(),
        target: SlotId(target),
    }
}

fn plan(passes: Vec<Pass>, slot_count: u32, output: u32) -> Arc<RenderPlan> {
    Arc::new(RenderPlan {
        canvas: CANVAS,
        passes,
        slot_count,
        output: slot(output),
        externals: Vec::new(),
        feeds: Vec::new(),
    })
}

/// Renders frames until the one tagged `frame` comes back.
fn capture(app: &mut App, frame: u64) -> image::RgbaImage {
    app.world_mut().resource_mut::<ProgramReadback>().enabled = true;
    app.world_mut().resource_mut::<FrameClock>().frame = frame;
    let start = Instant::now();
    loop {
        app.update();
        if let Some((n, img)) = &app.world().resource::<LatestProgramFrame>().0
            && *n == frame
        {
            return img.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no frame back");
    }
}

fn close(a: [u8; 4], b: [u8; 4]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 1)
}

#[test]
fn blend_transition_and_readback() {
    let mut app = headless_app(CANVAS);
    finish_setup(&mut app);
    // Half-transparent red screened over opaque blue, layer 1 at 50 % opacity.
    let scene = plan(
        vec![
            solid(0, Rgba(0.0, 0.0, 1.0, 1.0)),
            solid(1, Rgba(1.0, 0.0, 0.0, 0.5)),
            Pass {
                node: NodeId::new("mix"),
                op: PassOp::Blend(vec![(BlendMode::Normal, 1.0), (BlendMode::Screen, 0.5)]),
                inputs: vec![slot(0), slot(1)],
                target: SlotId(2),
            },
        ],
        3,
        2,
    );
    app.world_mut().resource_mut::<Program>().plan = Some(scene.clone());
    let img = capture(&mut app, 1);
    assert_eq!(img.dimensions(), CANVAS);
    // as = 0.25, ab = 1: co = cb*(1-as) + as*screen(b=(0,0,1), s=(1,0,0)) = (0.25, 0, 1)
    let px = img.get_pixel(10, 10).0;
    assert!(close(px, [64, 0, 255, 255]), "{px:?}");

    // A fade halfway from solid green to the blend scene.
    let green = plan(vec![solid(0, Rgba(0.0, 1.0, 0.0, 1.0))], 1, 0);
    app.world_mut().resource_mut::<Program>().transition = Some(ProgramTransition {
        from: green,
        kind: TransitionKind::Fade,
        progress: 0.5,
    });
    let img = capture(&mut app, 2);
    let px = img.get_pixel(63, 31).0;
    assert!(close(px, [32, 128, 255 / 2 + 1, 255]), "{px:?}");
}

/// The pipeline variants the render world has been asked for so far (compiled or queued).
fn variants(app: &App) -> std::collections::HashSet<super::pipelines::VariantKey> {
    use bevy::render::RenderApp;
    app.sub_app(RenderApp)
        .world()
        .resource::<super::pipelines::PipelineVariants>()
        .keys()
}

/// Blue under `top`, mixed by a blend of two layers.
fn blend_plan(top: Rgba) -> Arc<RenderPlan> {
    plan(
        vec![
            solid(0, Rgba(0.0, 0.0, 1.0, 1.0)),
            solid(1, top),
            Pass {
                node: NodeId::new("mix"),
                op: PassOp::Blend(vec![(BlendMode::Normal, 1.0), (BlendMode::Screen, 0.5)]),
                inputs: vec![slot(0), slot(1)],
                target: SlotId(2),
            },
        ],
        3,
        2,
    )
}

fn single_plan(c: Rgba) -> Arc<RenderPlan> {
    plan(vec![solid(0, c)], 1, 0)
}

const TRANSITION_KINDS: [TransitionKind; 4] = [
    TransitionKind::Cut,
    TransitionKind::Fade,
    TransitionKind::FadeThrough(Rgba(0.0, 0.0, 0.0, 1.0)),
    TransitionKind::Wipe,
];

/// Every pipeline variant a transition needs is queued while the scene before it plays
/// (issue 9 item 5): the first use of each transition kind adds no variant, so its first
/// frame is drawn instead of the picture being held while a shader compiles. Both scene
/// shapes have their last pass fused into the output, which a transition undoes.
#[test]
fn transition_pipelines_are_queued_before_the_first_transition() {
    let mut frame = 0;
    for (a, b) in [
        (
            single_plan(Rgba(0.0, 1.0, 0.0, 1.0)),
            single_plan(Rgba(1.0, 0.0, 0.0, 1.0)),
        ),
        (
            blend_plan(Rgba(1.0, 0.0, 0.0, 0.5)),
            blend_plan(Rgba(0.0, 1.0, 0.0, 0.5)),
        ),
    ] {
        let mut app = headless_app(CANVAS);
        finish_setup(&mut app);
        app.world_mut().resource_mut::<Program>().plan = Some(a.clone());
        frame += 1;
        capture(&mut app, frame);
        switch_needs_no_new_variant(&mut app, &a, &b, &mut frame, false);
    }
}

/// Switches the program from `a` to `b` with each transition kind (half-way), `Cut` as a plain
/// cut when `plain_cut`, and checks none asks for a variant not asked for before.
fn switch_needs_no_new_variant(
    app: &mut App,
    a: &Arc<RenderPlan>,
    b: &Arc<RenderPlan>,
    frame: &mut u64,
    plain_cut: bool,
) {
    let warm = variants(app);
    for kind in TRANSITION_KINDS {
        *app.world_mut().resource_mut::<Program>() = Program {
            plan: Some(b.clone()),
            transition: (!plain_cut || kind != TransitionKind::Cut).then(|| ProgramTransition {
                from: a.clone(),
                kind,
                progress: 0.5,
            }),
        };
        *frame += 1;
        capture(app, *frame);
        let cold: Vec<_> = variants(app).difference(&warm).copied().collect();
        assert!(cold.is_empty(), "{kind:?} needed {cold:?}");
    }
}

/// A scene never shown before (a blend, while a single layer plays) needs no new pipeline
/// variant when it is first cut or transitioned to: the show's plans ([`super::WarmPlans`])
/// were queued while the first scene played (issue 9 item 5).
#[test]
fn a_scene_never_shown_has_its_pipelines_queued_before_it_is_taken() {
    let a = single_plan(Rgba(0.0, 1.0, 0.0, 1.0));
    let b = blend_plan(Rgba(1.0, 0.0, 0.0, 0.5));
    let mut app = headless_app(CANVAS);
    finish_setup(&mut app);
    app.world_mut().resource_mut::<super::WarmPlans>().0 = vec![a.clone(), b.clone()];
    app.world_mut().resource_mut::<Program>().plan = Some(a.clone());
    capture(&mut app, 1);
    switch_needs_no_new_variant(&mut app, &a, &b, &mut 1, true);
}

/// An image another scene reads that decodes after the show loaded: that scene is keyed again
/// with the image as it is (sRGB, its size), so its first cut still needs no new variant.
#[test]
fn a_late_image_keys_the_scenes_that_read_it_again() {
    use bevy::asset::RenderAssetUsages;
    use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

    let a = single_plan(Rgba(0.0, 1.0, 0.0, 1.0));
    let b = plan(
        vec![
            solid(0, Rgba(0.0, 0.0, 1.0, 1.0)),
            Pass {
                node: NodeId::new("mix"),
                op: PassOp::Blend(vec![(BlendMode::Normal, 1.0), (BlendMode::Screen, 1.0)]),
                inputs: vec![
                    slot(0),
                    Sample {
                        from: Operand::External(NodeId::new("logo")),
                        xform: Affine::canvas(CANVAS),
                        crop: [0.0, 0.0, 1.0, 1.0],
                    },
                ],
                target: SlotId(1),
            },
        ],
        2,
        1,
    );
    let mut app = headless_app(CANVAS);
    finish_setup(&mut app);
    app.world_mut().resource_mut::<super::WarmPlans>().0 = vec![a.clone(), b.clone()];
    app.world_mut().resource_mut::<Program>().plan = Some(a.clone());
    capture(&mut app, 1);
    // The image arrives only now.
    let image = Image::new(
        Extent3d {
            width: 4,
            height: 2,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        vec![200; 4 * 2 * 4],
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    );
    let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
    app.world_mut()
        .resource_mut::<super::ExternalTextures>()
        .0
        .insert(NodeId::new("logo"), handle);
    capture(&mut app, 2);
    capture(&mut app, 3);
    switch_needs_no_new_variant(&mut app, &a, &b, &mut 3, true);
}

#[test]
fn externals_are_premultiplied_and_missing_ones_transparent() {
    use bevy::asset::RenderAssetUsages;
    use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

    let mut app = headless_app(CANVAS);
    finish_setup(&mut app);
    let image = Image::new(
        Extent3d {
            width: 2,
            height: 1,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        vec![255, 64, 0, 128, 0, 0, 255, 255],
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    );
    let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
    app.world_mut()
        .resource_mut::<super::ExternalTextures>()
        .0
        .insert(NodeId::new("img"), handle);
    // The left half of the canvas shows texel 0 (u < 0.5), the right half texel 1; a missing
    // external is blended on top and must change nothing.
    let ext = |id: &str| Sample {
        from: Operand::External(NodeId::new(id)),
        xform: Affine::canvas(CANVAS),
        crop: [0.0, 0.0, 1.0, 1.0],
    };
    let scene = plan(
        vec![Pass {
            node: NodeId::new("mix"),
            op: PassOp::Blend(vec![(BlendMode::Normal, 1.0), (BlendMode::Normal, 1.0)]),
            inputs: vec![ext("img"), ext("missing")],
            target: SlotId(0),
        }],
        1,
        0,
    );
    app.world_mut().resource_mut::<Program>().plan = Some(scene);
    let img = capture(&mut app, 7);
    // Straight (255, 64, 0, 128/255) premultiplied, over black.
    let px = img.get_pixel(2, 5).0;
    assert!(close(px, [128, 32, 0, 255]), "{px:?}");
    let px = img.get_pixel(60, 5).0;
    assert!(close(px, [0, 0, 255, 255]), "{px:?}");
}

/// 1:1 maps read exact texels on both paths (texel fetch for the identity, the sampler for a
/// whole-texel shift), the crop window cuts a small image off, and a source's opacity fades it
/// on the GPU.
#[test]
fn one_to_one_maps_fetch_exact_texels_and_externals_fade_on_the_gpu() {
    use bevy::asset::RenderAssetUsages;
    use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

    let mut app = headless_app(CANVAS);
    finish_setup(&mut app);
    // 8×4 opaque texels, each colour naming its texel: (x·30, y·60, 200).
    let (w, h) = (8u32, 4u32);
    let data = (0..h)
        .flat_map(|y| (0..w).flat_map(move |x| [(x * 30) as u8, (y * 60) as u8, 200, 255]))
        .collect();
    let image = Image::new(
        Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        data,
        TextureFormat::Rgba8Unorm,
        RenderAssetUsages::default(),
    );
    let handle = app.world_mut().resource_mut::<Assets<Image>>().add(image);
    let id = NodeId::new("small");
    app.world_mut()
        .resource_mut::<super::ExternalTextures>()
        .0
        .insert(id.clone(), handle);
    // Canvas pixel (x, y) shows texel (x - dx, y - dy); outside the image: transparent.
    let render = |app: &mut App, (dx, dy): (u32, u32), frame: u64| {
        let sample = Sample {
            from: Operand::External(id.clone()),
            xform: Affine {
                m: [1.0 / w as f32, 0.0, 0.0, 1.0 / h as f32],
                t: [-(dx as f32) / w as f32, -(dy as f32) / h as f32],
            },
            crop: [0.0, 0.0, 1.0, 1.0],
        };
        let scene = plan(
            vec![Pass {
                node: NodeId::new("mix"),
                op: PassOp::Blend(vec![(BlendMode::Normal, 1.0)]),
                inputs: vec![sample],
                target: SlotId(0),
            }],
            1,
            0,
        );
        app.world_mut().resource_mut::<Program>().plan = Some(scene);
        capture(app, frame)
    };
    let texel = |x: u32, y: u32| [(x * 30) as u8, (y * 60) as u8, 200, 255];
    for (frame, shift) in [(1, (0, 0)), (2, (3, 1))] {
        let img = render(&mut app, shift, frame);
        for (x, y) in [(0, 0), (3, 1), (5, 2), (10, 4), (7, 3), (30, 20)] {
            let inside = x >= shift.0 && y >= shift.1 && x < shift.0 + w && y < shift.1 + h;
            let want = if inside {
                texel(x - shift.0, y - shift.1)
            } else {
                [0, 0, 0, 255]
            };
            let px = img.get_pixel(x, y).0;
            assert!(
                close(px, want),
                "shift {shift:?}, pixel ({x}, {y}): {px:?}, want {want:?}"
            );
        }
    }
    // Faded to 25 %: each channel a quarter of the texel's over black (rounded).
    app.world_mut()
        .resource_mut::<super::ExternalOpacity>()
        .0
        .insert(id.clone(), 0.25);
    let img = render(&mut app, (0, 0), 3);
    for (x, y) in [(0, 0), (7, 3)] {
        let t = texel(x, y);
        let want = [0, 1, 2].map(|c| (f64::from(t[c]) * 0.25).round() as u8);
        let px = img.get_pixel(x, y).0;
        assert!(
            close(px, [want[0], want[1], want[2], 255]),
            "faded ({x}, {y}): {px:?}"
        );
    }
}

/// Renders a generator pass alone into the output.
fn render_one(op: PassOp, canvas: (u32, u32), clock: FrameClock) -> image::RgbaImage {
    let mut app = headless_app(canvas);
    finish_setup(&mut app);
    let plan = Arc::new(RenderPlan {
        canvas,
        passes: vec![Pass {
            node: NodeId::new("gen"),
            op,
            inputs: Vec::new(),
            target: SlotId(0),
        }],
        slot_count: 1,
        output: Sample {
            from: Operand::Slot(SlotId(0)),
            xform: Affine::canvas(canvas),
            crop: [0.0, 0.0, 1.0, 1.0],
        },
        externals: Vec::new(),
        feeds: Vec::new(),
    });
    app.world_mut().resource_mut::<Program>().plan = Some(plan);
    app.world_mut().resource_mut::<FrameClock>().time = clock.time;
    let img = capture(&mut app, clock.frame);
    if let Ok(dir) = std::env::var("RENDER_DUMP") {
        let name = format!("{dir}/gen_{}.png", clock.frame);
        img.save(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    img
}

#[test]
fn test_pattern_bars_move_and_digits_burn_in() {
    use show::node::TestPattern;
    let canvas = (320, 180);
    let clock = FrameClock {
        time: 1.25,
        frame: 1_234_567,
    };
    let img = render_one(
        PassOp::TestPattern(TestPattern { speed: 0.1 }),
        canvas,
        clock,
    );
    // Bar index = floor(fract(x/W - 0.125) * 8): at x/W = 0.5 + 1/16, fract = 0.4375 -> bar 3
    // (green); below the burn-in band.
    let px = img.get_pixel(180, 150).0;
    assert_eq!(px, [0, 255, 0, 255]);
    // Inside the band, left of the first digit: black background.
    let px = img.get_pixel(8, 12).0;
    assert_eq!(px, [0, 0, 0, 255]);
    // Digit 1 (segments b, c) of the counter: the right edge of cell 0 is lit, the left is not.
    let (dh, x0, y0) = (0.08 * 180.0, 0.03 * 320.0, 0.04 * 180.0);
    let right = (x0 + 0.5 * dh * 0.93) as u32;
    let left = (x0 + 0.5 * dh * 0.05) as u32;
    let mid_top = (y0 + dh * 0.25) as u32;
    assert_eq!(img.get_pixel(right, mid_top).0, [255, 255, 255, 255]);
    assert_eq!(img.get_pixel(left, mid_top).0, [0, 0, 0, 255]);
}

/// A keying chain end to end: the green bar of a test pattern keyed out over a gradient,
/// cut by a feathered ellipse.
#[test]
fn chroma_key_mask_and_feather_chain() {
    use show::node::{ChromaKey, GarbageMatte, Gradient, MatteShape, TestPattern};
    let canvas = (320u32, 180u32);
    let s = |n: u32| Sample {
        from: Operand::Slot(SlotId(n)),
        xform: Affine::canvas(canvas),
        crop: [0.0, 0.0, 1.0, 1.0],
    };
    let pass = |op: PassOp, inputs: Vec<Sample>, target: u32| Pass {
        node: NodeId::new(format!("n{target}")),
        op,
        inputs,
        target: SlotId(target),
    };
    let passes = vec![
        pass(PassOp::TestPattern(TestPattern { speed: 0.0 }), vec![], 0),
        pass(PassOp::ChromaKey(ChromaKey::default()), vec![s(0)], 1),
        pass(
            PassOp::GarbageMatte(GarbageMatte {
                shape: MatteShape::Ellipse,
                center: (0.5, 0.5),
                size: (0.9, 0.9),
                softness: 0.0,
                invert: false,
            }),
            vec![],
            2,
        ),
        pass(PassOp::BlurH { radius: 6.0 }, vec![s(2)], 3),
        pass(PassOp::BlurV { radius: 6.0 }, vec![s(3)], 2),
        pass(PassOp::Mask, vec![s(1), s(2)], 3),
        pass(PassOp::Gradient(Gradient::default()), vec![], 0),
        pass(
            PassOp::Blend(vec![(BlendMode::Normal, 1.0), (BlendMode::Normal, 1.0)]),
            vec![s(0), s(3)],
            1,
        ),
    ];
    let mut app = headless_app(canvas);
    finish_setup(&mut app);
    let plan = Arc::new(RenderPlan {
        canvas,
        passes,
        slot_count: 4,
        output: s(1),
        externals: Vec::new(),
        feeds: Vec::new(),
    });
    app.world_mut().resource_mut::<Program>().plan = Some(plan);
    let img = capture(&mut app, 3);
    if let Ok(dir) = std::env::var("RENDER_DUMP") {
        img.save(format!("{dir}/chain.png"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Green bar (bar 3: x in [120, 160)) keyed out: the gradient shows (default gradient is
    // dark blue-violet, never green).
    let px = img.get_pixel(140, 100).0;
    assert!(px[1] < 40 && px[2] > px[1], "{px:?}");
    // Yellow bar inside the ellipse stays yellow.
    let px = img.get_pixel(60, 100).0;
    assert!(close(px, [255, 255, 0, 255]), "{px:?}");
    // Corner outside the ellipse: gradient only.
    let px = img.get_pixel(2, 178).0;
    assert!(px[0] < 80 && px[1] < 40, "{px:?}");
}

#[test]
fn rendered_scope_feed_is_read_back_at_its_size() {
    use show::node::TestPattern;
    use show::plan::{FeedFrom, ScopeFeed};
    let canvas = (64u32, 32u32);
    let mut app = headless_app(canvas);
    finish_setup(&mut app);
    let out = Sample {
        from: Operand::Slot(SlotId(0)),
        xform: Affine::canvas(canvas),
        crop: [0.0, 0.0, 1.0, 1.0],
    };
    let plan = Arc::new(RenderPlan {
        canvas,
        passes: vec![Pass {
            node: NodeId::new("bars"),
            op: PassOp::TestPattern(TestPattern { speed: 0.0 }),
            inputs: Vec::new(),
            target: SlotId(0),
        }],
        slot_count: 1,
        output: out.clone(),
        externals: Vec::new(),
        feeds: vec![ScopeFeed {
            scope: NodeId::new("scope"),
            from: FeedFrom::Rendered(out),
            size: (16, 8),
        }],
    });
    app.world_mut().resource_mut::<Program>().plan = Some(plan);
    let program = capture(&mut app, 5);
    let feeds = app.world().resource::<super::ScopeFeedFrames>();
    let (frame, img) = feeds.0.get(&NodeId::new("scope")).expect("feed frame");
    assert_eq!(*frame, 5);
    assert_eq!(img.dimensions(), (16, 8));
    // Feed pixel (x, 7) covers canvas x*4..x*4+4 at the bottom: bar floor(x/2), e.g. bar 5 red.
    assert_eq!(img.get_pixel(10, 7).0, [255, 0, 0, 255]);
    assert_eq!(img.get_pixel(6, 7).0, [0, 255, 0, 255]);
    // The program still shows the pattern (the feed keeps the slot from being fused away).
    assert_eq!(program.get_pixel(42, 30).0, [255, 0, 0, 255]);
}
