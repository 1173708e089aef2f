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
