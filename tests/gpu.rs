//! GPU compositor checks on the real (software, lavapipe) GPU.
//!
//! Every check renders hand-built [`RenderPlan`]s through `render::harness::headless_app`, reads
//! the program back and compares chosen pixels with the formula computed here, independently,
//! in f64:
//! - blend modes: W3C Compositing and Blending Level 1, §5.8 (general formula on premultiplied
//!   alpha, `co = cs(1-ab) + cb(1-as) + as*ab*B(Cb,Cs)`, `ao = as + ab(1-as)`), the separable
//!   (§10.1) and non-separable (§10.2) `B`; add / subtract as the separable
//!   `B = min(1, Cb+Cs)` / `max(0, Cb-Cs)` (linear dodge / subtract);
//! - keys, colour adjust, matte, blur, transitions: the formulas stated in `crates/show` and the
//!   shader headers.
//!
//! All values are sRGB-encoded and premultiplied (the team's colour convention); the program is
//! composited over black, so an output byte is `round(255 * clamp(rgb))`.
//!
//! Tolerance: 2/255 per channel unless a check says otherwise. One LSB goes to the 8-bit
//! rounding of the output, one to f32 arithmetic and an 8-bit intermediate slot where a plan
//! has more than one pass.
//!
//! Each test owns one app (Vulkan start-up is the expensive part) and renders all its cases in it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use metadj_scope::render::harness::{finish_setup, headless_app};
use metadj_scope::render::{
    CompositorSettings, ExternalOpacity, ExternalTextures, FrameClock, LatestProgramFrame,
    PackedInputs, Program, ProgramReadback, ProgramTransition,
};
use show::node::{BlendMode, ChromaKey, ColorAdjust, MatteSource, TestPattern};
use show::plan::{Affine, Operand, Pass, PassOp, RenderPlan, Sample, SlotId};
use show::scene::TransitionKind;
use show::{NodeId, Rgba};

/// Per-channel tolerance in 8-bit steps.
const TOL: f64 = 2.0;

/// A headless compositor app plus a frame counter.
struct Rig {
    app: App,
    canvas: (u32, u32),
    frame: u64,
}

impl Rig {
    fn new(canvas: (u32, u32)) -> Rig {
        let mut app = headless_app(canvas);
        finish_setup(&mut app);
        Rig {
            app,
            canvas,
            frame: 0,
        }
    }

    /// Registers a straight-alpha RGBA8 image as the external texture `id`.
    fn external(&mut self, id: &str, img: &Straight, format: TextureFormat) {
        let image = Image::new(
            Extent3d {
                width: img.w,
                height: img.h,
                depth_or_array_layers: 1,
            },
            TextureDimension::D2,
            img.data.clone(),
            format,
            RenderAssetUsages::default(),
        );
        let handle = self
            .app
            .world_mut()
            .resource_mut::<Assets<Image>>()
            .add(image);
        self.app
            .world_mut()
            .resource_mut::<ExternalTextures>()
            .0
            .insert(NodeId::new(id), handle);
    }

    /// Renders `plan` (no transition) and returns the read-back program.
    fn render(&mut self, plan: Arc<RenderPlan>) -> image::RgbaImage {
        let mut p = self.app.world_mut().resource_mut::<Program>();
        p.plan = Some(plan);
        p.transition = None;
        self.capture()
    }

    /// Renders frames until the one tagged with the next frame number comes back.
    fn capture(&mut self) -> image::RgbaImage {
        self.frame += 1;
        let frame = self.frame;
        self.app
            .world_mut()
            .resource_mut::<ProgramReadback>()
            .enabled = true;
        self.app.world_mut().resource_mut::<FrameClock>().frame = frame;
        let start = Instant::now();
        loop {
            self.app.update();
            if let Some((n, img)) = &self.app.world().resource::<LatestProgramFrame>().0
                && *n == frame
            {
                let want = self
                    .app
                    .world()
                    .resource::<Program>()
                    .plan
                    .as_ref()
                    .map_or(self.canvas, |p| p.canvas);
                assert_eq!(img.dimensions(), want, "read-back size");
                return img.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "frame {frame} never came back"
            );
        }
    }
}

/// A straight-alpha RGBA8 picture (what an image file or a camera delivers).
#[derive(Clone)]
struct Straight {
    w: u32,
    h: u32,
    data: Vec<u8>,
}

impl Straight {
    fn px(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.w + x) * 4) as usize;
        [
            self.data[i],
            self.data[i + 1],
            self.data[i + 2],
            self.data[i + 3],
        ]
    }

    /// Premultiplied f64 colour of a texel.
    fn premul(&self, x: u32, y: u32) -> [f64; 4] {
        premul(self.px(x, y))
    }
}

fn premul(p: [u8; 4]) -> [f64; 4] {
    let a = f64::from(p[3]) / 255.0;
    [
        f64::from(p[0]) / 255.0 * a,
        f64::from(p[1]) / 255.0 * a,
        f64::from(p[2]) / 255.0 * a,
        a,
    ]
}

/// Deterministic xorshift, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A channel value, biased towards the branch points of the formulas (0, 0.25, 0.5, 1).
    fn channel(&mut self) -> u8 {
        match self.next() % 10 {
            0 => 0,
            1 => 255,
            2 => 128,
            3 => 64,
            _ => (self.next() % 256) as u8,
        }
    }

    fn alpha(&mut self) -> u8 {
        match self.next() % 6 {
            0 => 255,
            1 => 0,
            _ => (self.next() % 256) as u8,
        }
    }
}

fn random_image(w: u32, h: u32, seed: u64) -> Straight {
    let mut rng = Rng(seed);
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    for _ in 0..w * h {
        data.extend_from_slice(&[rng.channel(), rng.channel(), rng.channel(), rng.alpha()]);
    }
    Straight { w, h, data }
}

fn ext(id: &str, canvas: (u32, u32)) -> Sample {
    Sample {
        from: Operand::External(NodeId::new(id)),
        xform: Affine::canvas(canvas),
        crop: [0.0, 0.0, 1.0, 1.0],
    }
}

fn slot(s: u32, canvas: (u32, u32)) -> Sample {
    Sample {
        from: Operand::Slot(SlotId(s)),
        xform: Affine::canvas(canvas),
        crop: [0.0, 0.0, 1.0, 1.0],
    }
}

fn pass(op: PassOp, inputs: Vec<Sample>, target: u32) -> Pass {
    Pass {
        node: NodeId::new(format!("n{target}")),
        op,
        inputs,
        target: SlotId(target),
    }
}

/// A plan whose program is slot `output`.
fn plan(canvas: (u32, u32), passes: Vec<Pass>, output: u32) -> Arc<RenderPlan> {
    let slot_count = passes.iter().map(|p| p.target.0 + 1).max().unwrap_or(1);
    Arc::new(RenderPlan {
        canvas,
        passes,
        slot_count,
        output: slot(output, canvas),
        externals: Vec::new(),
        feeds: Vec::new(),
    })
}

/// 8-bit round trip of an intermediate slot.
fn q(v: f64) -> f64 {
    (v.clamp(0.0, 1.0) * 255.0).round() / 255.0
}

fn q4(c: [f64; 4]) -> [f64; 4] {
    c.map(q)
}

/// Collects mismatches so one run reports all of them.
#[derive(Default)]
struct Check {
    failures: Vec<String>,
    checked: usize,
    /// Largest per-channel difference seen, in 8-bit steps (printed with `--nocapture`).
    max_err: f64,
}

impl Check {
    /// Compares a read-back pixel with a premultiplied expected colour composited over black.
    fn px(&mut self, what: &str, img: &image::RgbaImage, x: u32, y: u32, want: [f64; 4], tol: f64) {
        let got = img.get_pixel(x, y).0;
        let want_b = [0, 1, 2].map(|i| want[i].clamp(0.0, 1.0) * 255.0);
        self.checked += 1;
        let err = (0..3)
            .map(|i| (f64::from(got[i]) - want_b[i]).abs())
            .fold(0.0, f64::max);
        self.max_err = self.max_err.max(err);
        let bad = err > tol || got[3] != 255;
        if bad {
            self.failures.push(format!(
                "{what} at ({x},{y}): got {:?}, want [{:.2}, {:.2}, {:.2}, 255] (tolerance {tol})",
                got, want_b[0], want_b[1], want_b[2]
            ));
        }
    }

    fn fail(&mut self, msg: String) {
        self.checked += 1;
        self.failures.push(msg);
    }

    fn finish(self, name: &str) {
        assert!(self.checked > 0, "{name}: nothing was checked");
        println!(
            "{name}: {} checks, largest difference {:.2}/255",
            self.checked, self.max_err
        );
        assert!(
            self.failures.is_empty(),
            "{name}: {} of {} checks failed:\n{}",
            self.failures.len(),
            self.checked,
            self.failures
                .iter()
                .take(40)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// W3C blend modes in f64.

fn lum(c: [f64; 3]) -> f64 {
    0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]
}

fn clip_color(c: [f64; 3]) -> [f64; 3] {
    let l = lum(c);
    let n = c[0].min(c[1]).min(c[2]);
    let x = c[0].max(c[1]).max(c[2]);
    let mut c = c;
    if n < 0.0 {
        c = c.map(|v| l + (v - l) * l / (l - n));
    }
    if x > 1.0 {
        c = c.map(|v| l + (v - l) * (1.0 - l) / (x - l));
    }
    c
}

fn set_lum(c: [f64; 3], l: f64) -> [f64; 3] {
    let d = l - lum(c);
    clip_color(c.map(|v| v + d))
}

fn sat(c: [f64; 3]) -> f64 {
    c[0].max(c[1]).max(c[2]) - c[0].min(c[1]).min(c[2])
}

/// W3C SetSat: the max channel becomes `s`, the min 0, the mid scaled; all 0 if grey.
fn set_sat(c: [f64; 3], s: f64) -> [f64; 3] {
    let mut idx = [0usize, 1, 2];
    idx.sort_by(|&a, &b| c[a].total_cmp(&c[b]));
    let (imin, imid, imax) = (idx[0], idx[1], idx[2]);
    let mut out = [0.0; 3];
    if c[imax] > c[imin] {
        out[imid] = (c[imid] - c[imin]) * s / (c[imax] - c[imin]);
        out[imax] = s;
    }
    out
}

fn separable(mode: BlendMode, cb: f64, cs: f64) -> f64 {
    let multiply = |b: f64, s: f64| b * s;
    let screen = |b: f64, s: f64| b + s - b * s;
    let hard_light = |b: f64, s: f64| {
        if s <= 0.5 {
            multiply(b, 2.0 * s)
        } else {
            screen(b, 2.0 * s - 1.0)
        }
    };
    match mode {
        BlendMode::Normal => cs,
        BlendMode::Multiply => multiply(cb, cs),
        BlendMode::Screen => screen(cb, cs),
        BlendMode::Overlay => hard_light(cs, cb),
        BlendMode::Darken => cb.min(cs),
        BlendMode::Lighten => cb.max(cs),
        BlendMode::ColorDodge => {
            if cb == 0.0 {
                0.0
            } else if cs == 1.0 {
                1.0
            } else {
                (cb / (1.0 - cs)).min(1.0)
            }
        }
        BlendMode::ColorBurn => {
            if cb == 1.0 {
                1.0
            } else if cs == 0.0 {
                0.0
            } else {
                1.0 - ((1.0 - cb) / cs).min(1.0)
            }
        }
        BlendMode::HardLight => hard_light(cb, cs),
        BlendMode::SoftLight => {
            if cs <= 0.5 {
                cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb)
            } else {
                let d = if cb <= 0.25 {
                    ((16.0 * cb - 12.0) * cb + 4.0) * cb
                } else {
                    cb.sqrt()
                };
                cb + (2.0 * cs - 1.0) * (d - cb)
            }
        }
        BlendMode::Difference => (cb - cs).abs(),
        BlendMode::Exclusion => cb + cs - 2.0 * cb * cs,
        BlendMode::Add => (cb + cs).min(1.0),
        BlendMode::Subtract => (cb - cs).max(0.0),
        BlendMode::Hue | BlendMode::Saturation | BlendMode::Color | BlendMode::Luminosity => {
            unreachable!("non-separable")
        }
    }
}

fn blend_fn(mode: BlendMode, cb: [f64; 3], cs: [f64; 3]) -> [f64; 3] {
    match mode {
        BlendMode::Hue => set_lum(set_sat(cs, sat(cb)), lum(cb)),
        BlendMode::Saturation => set_lum(set_sat(cb, sat(cs)), lum(cb)),
        BlendMode::Color => set_lum(cs, lum(cb)),
        BlendMode::Luminosity => set_lum(cb, lum(cs)),
        m => [0, 1, 2].map(|i| separable(m, cb[i], cs[i])),
    }
}

fn unpremul(c: [f64; 4]) -> [f64; 3] {
    if c[3] > 0.0 {
        [0, 1, 2].map(|i| (c[i] / c[3]).clamp(0.0, 1.0))
    } else {
        [0.0; 3]
    }
}

/// W3C §5.8 general formula: `s` (premultiplied) over `b` (premultiplied) with mode `mode`.
fn composite(mode: BlendMode, b: [f64; 4], s: [f64; 4]) -> [f64; 4] {
    let (ab, as_) = (b[3], s[3]);
    let mixed = blend_fn(mode, unpremul(b), unpremul(s));
    let mut out = [0.0; 4];
    for i in 0..3 {
        out[i] = s[i] * (1.0 - ab) + b[i] * (1.0 - as_) + as_ * ab * mixed[i];
    }
    out[3] = as_ + ab * (1.0 - as_);
    out
}

/// A stack of premultiplied layers with modes and opacities, bottom first, over transparent.
fn stack(layers: &[([f64; 4], BlendMode, f32)]) -> [f64; 4] {
    let mut acc = [0.0; 4];
    for &(c, mode, opacity) in layers {
        let s = c.map(|v| v * f64::from(opacity));
        acc = composite(mode, acc, s);
    }
    acc.map(|v| v.clamp(0.0, 1.0))
}

#[test]
fn all_blend_modes_match_w3c_formula() {
    let canvas = (32, 32);
    let mut rig = Rig::new(canvas);
    let backdrop = random_image(32, 32, 0x1234_5678_9abc_def1);
    let source = random_image(32, 32, 0x0fed_cba9_8765_4321);
    let third = random_image(32, 32, 0x5555_aaaa_3333_cccc);
    rig.external("b", &backdrop, TextureFormat::Rgba8Unorm);
    rig.external("s", &source, TextureFormat::Rgba8Unorm);
    rig.external("t", &third, TextureFormat::Rgba8Unorm);
    let mut check = Check::default();
    // Every mode over a random backdrop at a few opacity pairs; every pixel is a case.
    for mode in BlendMode::ALL {
        for (ob, os) in [(1.0f32, 1.0f32), (0.8, 0.6), (1.0, 0.25)] {
            let p = plan(
                canvas,
                vec![pass(
                    PassOp::Blend(vec![(BlendMode::Normal, ob), (mode, os)]),
                    vec![ext("b", canvas), ext("s", canvas)],
                    0,
                )],
                0,
            );
            let img = rig.render(p);
            for y in 0..32 {
                for x in 0..32 {
                    let want = stack(&[
                        (backdrop.premul(x, y), BlendMode::Normal, ob),
                        (source.premul(x, y), mode, os),
                    ]);
                    check.px(
                        &format!(
                            "{mode:?} b={:?}*{ob} s={:?}*{os}",
                            backdrop.px(x, y),
                            source.px(x, y)
                        ),
                        &img,
                        x,
                        y,
                        want,
                        TOL,
                    );
                }
            }
        }
    }
    // Three layers in one pass: the result of one mode is the backdrop of the next.
    for (m1, m2) in [
        (BlendMode::Multiply, BlendMode::Screen),
        (BlendMode::Overlay, BlendMode::Hue),
        (BlendMode::Luminosity, BlendMode::Subtract),
        (BlendMode::Add, BlendMode::ColorBurn),
    ] {
        let layers = vec![(BlendMode::Normal, 0.9f32), (m1, 0.7f32), (m2, 0.5f32)];
        let p = plan(
            canvas,
            vec![pass(
                PassOp::Blend(layers.clone()),
                vec![ext("b", canvas), ext("s", canvas), ext("t", canvas)],
                0,
            )],
            0,
        );
        let img = rig.render(p);
        for y in 0..32 {
            for x in 0..32 {
                let want = stack(&[
                    (backdrop.premul(x, y), layers[0].0, layers[0].1),
                    (source.premul(x, y), layers[1].0, layers[1].1),
                    (third.premul(x, y), layers[2].0, layers[2].1),
                ]);
                check.px(&format!("stack {m1:?}+{m2:?}"), &img, x, y, want, TOL);
            }
        }
    }
    // A full pass of 16 layers (every binding, every mode slot of the pipeline), modes and
    // opacities varying, straight-alpha externals all through.
    let ids: Vec<String> = (0..16).map(|i| format!("w{i}")).collect();
    let wide: Vec<Straight> = (0..16u64)
        .map(|i| random_image(32, 32, 0x9e37_79b9_7f4a_7c15 ^ (i * 0x1000_0001)))
        .collect();
    for (id, img) in ids.iter().zip(&wide) {
        rig.external(id, img, TextureFormat::Rgba8Unorm);
    }
    let modes = [
        BlendMode::Normal,
        BlendMode::Screen,
        BlendMode::Normal,
        BlendMode::Multiply,
        BlendMode::SoftLight,
        BlendMode::Normal,
        BlendMode::Difference,
        BlendMode::Color,
    ];
    let layers: Vec<(BlendMode, f32)> = (0..16)
        .map(|i| (modes[i % modes.len()], 1.0 - 0.05 * i as f32))
        .collect();
    let p = plan(
        canvas,
        vec![pass(
            PassOp::Blend(layers.clone()),
            ids.iter().map(|id| ext(id, canvas)).collect(),
            0,
        )],
        0,
    );
    assert_eq!(p.passes[0].inputs.len(), show::plan::MAX_PASS_INPUTS);
    let img = rig.render(p);
    for y in 0..32 {
        for x in 0..32 {
            let stacked: Vec<_> = wide
                .iter()
                .zip(&layers)
                .map(|(w, &(m, o))| (w.premul(x, y), m, o))
                .collect();
            check.px("16 layers in one pass", &img, x, y, stack(&stacked), TOL);
        }
    }
    check.finish("blend modes");
}

/// Checks every pixel of a 32x32 frame against `want` at the default tolerance.
fn every_pixel(
    check: &mut Check,
    what: &str,
    img: &image::RgbaImage,
    want: impl Fn(u32, u32) -> [f64; 4],
) {
    for y in 0..32 {
        for x in 0..32 {
            check.px(what, img, x, y, want(x, y), TOL);
        }
    }
}

/// Static images are read from pack textures (four per texel fetch) once they have been
/// unchanged for a few frames. The packed frame must match the f64 formula and the unpacked
/// render, crop and bilinear magnification included; an image rewritten in place (same size,
/// so the same GPU texture) must show its new pixels at once and after it is packed again.
#[test]
fn static_images_are_packed_and_follow_changes() {
    let canvas = (32, 32);
    let mut rig = Rig::new(canvas);
    let mut full: Vec<Straight> = (0..5u64)
        .map(|i| random_image(32, 32, 0x2545_f491_4f6c_dd1d ^ (i << 20)))
        .collect();
    let small = random_image(16, 16, 0x0bad_cafe_f00d_1234);
    let ids: Vec<String> = (0..5).map(|i| format!("p{i}")).collect();
    for (id, img) in ids.iter().zip(&full) {
        rig.external(id, img, TextureFormat::Rgba8Unorm);
    }
    rig.external("small", &small, TextureFormat::Rgba8Unorm);
    let mut inputs: Vec<Sample> = ids.iter().map(|id| ext(id, canvas)).collect();
    // The right half of p4 is cropped away (u > 0.5 from canvas column 16 on).
    inputs[4].crop = [0.0, 0.0, 0.5, 1.0];
    // A 16x16 image over the 32x32 canvas: magnified 2x, bilinear between texels.
    inputs.push(ext("small", canvas));
    let layers = vec![
        (BlendMode::Normal, 1.0f32),
        (BlendMode::Multiply, 0.8),
        (BlendMode::Normal, 0.7),
        (BlendMode::Screen, 0.9),
        (BlendMode::Normal, 1.0),
        (BlendMode::Overlay, 0.6),
    ];
    let want = |full: &[Straight], layers: &[(BlendMode, f32)], x: u32, y: u32| {
        let mut st: Vec<_> = (0..5)
            .map(|i| {
                let c = if i == 4 && x >= 16 {
                    [0.0; 4]
                } else {
                    full[i].premul(x, y)
                };
                (c, layers[i].0, layers[i].1)
            })
            .collect();
        let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        st.push((
            bilinear(&small, px / 2.0, py / 2.0),
            layers[5].0,
            layers[5].1,
        ));
        stack(&st)
    };
    let packed = |rig: &Rig| rig.app.world().resource::<PackedInputs>().get();
    let p = plan(
        canvas,
        vec![pass(PassOp::Blend(layers.clone()), inputs, 0)],
        0,
    );
    let mut check = Check::default();

    let mut img = rig.render(p.clone());
    for _ in 0..5 {
        img = rig.capture();
    }
    assert_eq!(packed(&rig), 6, "all six static images are read from packs");
    every_pixel(&mut check, "packed", &img, |x, y| {
        want(&full, &layers, x, y)
    });

    // The same frame with every image fetched directly: the pack only changes the storage.
    rig.app
        .world_mut()
        .resource_mut::<CompositorSettings>()
        .pack_static_images = false;
    let direct = rig.capture();
    rig.capture();
    assert_eq!(packed(&rig), 0, "packing turned off");
    for (x, y, d) in direct.enumerate_pixels() {
        let pk = img.get_pixel(x, y).0;
        if (0..4).any(|i| pk[i].abs_diff(d.0[i]) > 1) {
            check.fail(format!("packed {pk:?} vs direct {:?} at ({x},{y})", d.0));
        }
    }
    rig.app
        .world_mut()
        .resource_mut::<CompositorSettings>()
        .pack_static_images = true;
    for _ in 0..5 {
        rig.capture();
    }
    assert_eq!(packed(&rig), 6, "packed again");

    // A source's own fade (a held Scope frame fading out) applies to a packed image too: its
    // straight alpha times the gain, i.e. the layer's opacity times the gain.
    rig.app
        .world_mut()
        .resource_mut::<ExternalOpacity>()
        .0
        .insert(NodeId::new("p1"), 0.5);
    let img = rig.capture();
    assert_eq!(packed(&rig), 6, "a fade does not unpack");
    let mut faded = layers.clone();
    faded[1].1 *= 0.5;
    every_pixel(&mut check, "packed and faded", &img, |x, y| {
        want(&full, &faded, x, y)
    });
    rig.app
        .world_mut()
        .resource_mut::<ExternalOpacity>()
        .0
        .clear();

    // p2 rewritten in place: the next frame shows it (a stale pack would not).
    full[2] = random_image(32, 32, 0x7777_1234_abcd_0001);
    let handle = rig.app.world().resource::<ExternalTextures>().0[&NodeId::new("p2")].clone();
    rig.app
        .world_mut()
        .resource_mut::<Assets<Image>>()
        .get_mut(&handle)
        .expect("p2 image")
        .data = Some(full[2].data.clone());
    let img = rig.capture();
    every_pixel(&mut check, "right after a change", &img, |x, y| {
        want(&full, &layers, x, y)
    });
    let mut img = rig.capture();
    for _ in 0..5 {
        img = rig.capture();
    }
    assert_eq!(
        packed(&rig),
        6,
        "the changed image is packed again once stable"
    );
    every_pixel(&mut check, "repacked after a change", &img, |x, y| {
        want(&full, &layers, x, y)
    });
    check.finish("packing");
}

/// A blend whose inputs are slots written by generator passes, and an sRGB-format external:
/// the values stored must come back unchanged (no double sRGB conversion).
#[test]
fn srgb_external_and_solid_slots_keep_encoded_values() {
    let canvas = (32, 32);
    let mut rig = Rig::new(canvas);
    let img = random_image(32, 32, 77);
    rig.external("srgb", &img, TextureFormat::Rgba8UnormSrgb);
    let mut check = Check::default();
    let p = plan(
        canvas,
        vec![
            pass(PassOp::Solid(Rgba(0.2, 0.6, 0.9, 0.5)), vec![], 0),
            pass(
                PassOp::Blend(vec![(BlendMode::Normal, 1.0), (BlendMode::Multiply, 1.0)]),
                vec![slot(0, canvas), ext("srgb", canvas)],
                1,
            ),
        ],
        1,
    );
    let out = rig.render(p);
    let solid = q4([0.2 * 0.5, 0.6 * 0.5, 0.9 * 0.5, 0.5]);
    for y in 0..32 {
        for x in 0..32 {
            let want = composite(BlendMode::Multiply, solid, img.premul(x, y));
            check.px("solid ⊗ sRGB external", &out, x, y, want, TOL);
        }
    }
    check.finish("sRGB external");
}

// ---------------------------------------------------------------------------------------------
// Keys, colour adjust, mattes.

fn luma709(c: [f64; 3]) -> f64 {
    0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
}

fn smoothstep(e0: f64, e1: f64, x: f64) -> f64 {
    if e1 > e0 {
        let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
        t * t * (3.0 - 2.0 * t)
    } else if x >= e0 {
        1.0
    } else {
        0.0
    }
}

/// BT.709 (Cb, Cr) of an sRGB-encoded colour.
fn cbcr(c: [f64; 3]) -> [f64; 2] {
    let y = luma709(c);
    [(c[2] - y) / 1.8556, (c[0] - y) / 1.5748]
}

/// OBS-style chroma key as `show::node::ChromaKey` and `shaders/chroma_key.wgsl` state it.
fn chroma_key(k: &ChromaKey, px: [u8; 4]) -> [f64; 4] {
    let p = premul(px);
    let c = unpremul(p);
    let key = [
        f64::from(k.key_color.0),
        f64::from(k.key_color.1),
        f64::from(k.key_color.2),
    ];
    let (a, b) = (cbcr(c), cbcr(key));
    let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let sim = f64::from(k.similarity);
    let mask = smoothstep(sim, sim + f64::from(k.smoothness), d);
    let spill = f64::from(k.spill);
    let spillv = if spill > 0.0 {
        ((d - sim) / spill).clamp(0.0, 1.0).powf(0.3)
    } else {
        1.0
    };
    let y = luma709(c);
    let contrast = f64::from(k.contrast);
    let cf = if contrast < 0.0 {
        1.0 / (1.0 - contrast)
    } else {
        1.0 + contrast
    };
    let gamma = f64::from(k.gamma);
    let ge = if gamma < 0.0 {
        1.0 - gamma
    } else {
        1.0 / (1.0 + gamma)
    };
    let col = c.map(|v| {
        let v = y + (v - y) * spillv;
        (v.powf(ge) * cf + f64::from(k.brightness)).clamp(0.0, 1.0)
    });
    let alpha = (p[3] * f64::from(k.opacity) * mask).clamp(0.0, 1.0);
    [col[0] * alpha, col[1] * alpha, col[2] * alpha, alpha]
}

fn luma_key(low: f64, high: f64, smooth: f64, invert: bool, px: [u8; 4]) -> [f64; 4] {
    let p = premul(px);
    let y = luma709(unpremul(p));
    let h = smooth / 2.0;
    let mut keep = smoothstep(low - h, low + h, y) * (1.0 - smoothstep(high - h, high + h, y));
    if invert {
        keep = 1.0 - keep;
    }
    p.map(|v| v * keep)
}

fn color_adjust(a: &ColorAdjust, px: [u8; 4]) -> [f64; 4] {
    let p = premul(px);
    let mut c = unpremul(p).map(|v| v + f64::from(a.brightness));
    c = c.map(|v| (v - 0.5) * f64::from(a.contrast) + 0.5);
    let y = luma709(c);
    c = c.map(|v| y + (v - y) * f64::from(a.saturation));
    c = c.map(|v| v.clamp(0.0, 1.0).powf(1.0 / f64::from(a.gamma)));
    // Rodrigues rotation about the grey axis.
    let th = f64::from(a.hue_shift).to_radians();
    let k = 1.0 / 3f64.sqrt();
    let kxc = [k * (c[2] - c[1]), k * (c[0] - c[2]), k * (c[1] - c[0])];
    let kdc = k * (c[0] + c[1] + c[2]);
    let c = [0, 1, 2].map(|i| {
        (c[i] * th.cos() + kxc[i] * th.sin() + k * kdc * (1.0 - th.cos())).clamp(0.0, 1.0)
    });
    let alpha = (p[3] * f64::from(a.opacity)).clamp(0.0, 1.0);
    [c[0] * alpha, c[1] * alpha, c[2] * alpha, alpha]
}

/// A 1-pixel-per-case strip image from a list of straight colours (rest transparent).
fn strip(w: u32, h: u32, colours: &[[u8; 4]]) -> Straight {
    let mut data = vec![0u8; (w * h * 4) as usize];
    for (i, c) in colours.iter().enumerate() {
        data[i * 4..i * 4 + 4].copy_from_slice(c);
    }
    Straight { w, h, data }
}

#[test]
fn keys_adjust_and_mattes_match_formulas() {
    let canvas = (32, 32);
    let mut rig = Rig::new(canvas);
    let mut check = Check::default();
    let coord = |i: usize| ((i % 32) as u32, (i / 32) as u32);

    // Chroma key: the key colour (inside), far colours (outside), and colours between
    // similarity and similarity + smoothness (edge), found by searching the CbCr distance.
    let key = ChromaKey {
        key_color: Rgba(0.0, 177.0 / 255.0, 64.0 / 255.0, 1.0),
        similarity: 0.12,
        smoothness: 0.08,
        spill: 0.1,
        opacity: 0.9,
        contrast: 0.2,
        brightness: 0.05,
        gamma: -0.3,
    };
    let key_rgb = [0.0, 177.0 / 255.0, 64.0 / 255.0];
    let dist = |c: [u8; 4]| {
        let a = cbcr([0, 1, 2].map(|i| f64::from(c[i]) / 255.0));
        let b = cbcr(key_rgb);
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    };
    let mut inside = vec![[0, 177, 64, 255], [0, 177, 64, 128], [10, 180, 70, 255]];
    let mut outside = vec![[230, 180, 150, 255], [255, 0, 0, 200], [20, 20, 200, 255]];
    let mut edge = Vec::new();
    let mut rng = Rng(99);
    while edge.len() < 60 {
        let c = [
            rng.channel(),
            rng.channel(),
            rng.channel(),
            rng.alpha().max(1),
        ];
        let d = dist(c);
        if d > 0.125 && d < 0.195 {
            edge.push(c);
        } else if d < 0.115 && inside.len() < 40 {
            inside.push(c);
        } else if d > 0.21 && outside.len() < 40 {
            outside.push(c);
        }
    }
    let mut cases: Vec<([u8; 4], &str)> = Vec::new();
    cases.extend(inside.iter().map(|&c| (c, "inside")));
    cases.extend(outside.iter().map(|&c| (c, "outside")));
    cases.extend(edge.iter().map(|&c| (c, "edge")));
    let img = strip(32, 32, &cases.iter().map(|c| c.0).collect::<Vec<_>>());
    rig.external("ck", &img, TextureFormat::Rgba8Unorm);
    let out = rig.render(plan(
        canvas,
        vec![pass(
            PassOp::ChromaKey(key.clone()),
            vec![ext("ck", canvas)],
            0,
        )],
        0,
    ));
    for (i, (c, kind)) in cases.iter().enumerate() {
        let (x, y) = coord(i);
        let want = chroma_key(&key, *c);
        if *kind == "inside" && want[3] != 0.0 {
            check.fail(format!("test set-up: {c:?} is not inside the key"));
        }
        check.px(&format!("chroma key {kind} {c:?}"), &out, x, y, want, TOL);
    }
    // The key colour itself must vanish entirely; a far colour must keep its alpha.
    let px = out.get_pixel(0, 0).0;
    if px != [0, 0, 0, 255] {
        check.fail(format!("chroma key colour not removed: {px:?}"));
    }

    // Luma key: a grey ramp plus random colours, with and without invert.
    let mut colours: Vec<[u8; 4]> = (0..=255u32)
        .step_by(3)
        .map(|v| [v as u8, v as u8, v as u8, 255])
        .collect();
    let mut rng = Rng(4242);
    while colours.len() < 32 * 32 {
        colours.push([rng.channel(), rng.channel(), rng.channel(), rng.alpha()]);
    }
    let ramp = strip(32, 32, &colours);
    rig.external("lk", &ramp, TextureFormat::Rgba8Unorm);
    for (low, high, smooth, invert) in [(0.2f32, 0.8f32, 0.1f32, false), (0.3, 0.6, 0.0, true)] {
        let out = rig.render(plan(
            canvas,
            vec![pass(
                PassOp::LumaKey {
                    low,
                    high,
                    smoothness: smooth,
                    invert,
                },
                vec![ext("lk", canvas)],
                0,
            )],
            0,
        ));
        for (i, c) in colours.iter().enumerate() {
            let (x, y) = coord(i);
            let want = luma_key(
                f64::from(low),
                f64::from(high),
                f64::from(smooth),
                invert,
                *c,
            );
            // A hard threshold (smoothness 0) is a step: skip lumas within f32 noise of it.
            let yv = luma709(unpremul(premul(*c)));
            if smooth == 0.0
                && ((yv - f64::from(low)).abs() < 1e-4 || (yv - f64::from(high)).abs() < 1e-4)
            {
                continue;
            }
            check.px(
                &format!("luma key {low}..{high} s{smooth} inv {invert} {c:?}"),
                &out,
                x,
                y,
                want,
                TOL,
            );
        }
        // Inside / outside / edge spelled out on the grey ramp (index = value / 3).
        let grey = |v: u32| out.get_pixel(v / 3 % 32, v / 3 / 32).0[0];
        if !invert {
            let (dark, mid, bright) = (grey(0), grey(126), grey(252));
            if dark != 0 || bright != 0 || mid != 126 {
                check.fail(format!(
                    "luma key ramp: black {dark} (want 0), 126 {mid} (want 126), 252 {bright} (want 0)"
                ));
            }
        }
    }

    // Colour adjust on random colours, two settings.
    let rnd = random_image(32, 32, 31337);
    rig.external("ca", &rnd, TextureFormat::Rgba8Unorm);
    for adj in [
        ColorAdjust {
            brightness: 0.1,
            contrast: 1.3,
            saturation: 0.6,
            gamma: 1.8,
            hue_shift: 40.0,
            opacity: 0.75,
        },
        ColorAdjust {
            brightness: -0.2,
            contrast: 0.7,
            saturation: 2.0,
            gamma: 0.6,
            hue_shift: -120.0,
            opacity: 1.0,
        },
    ] {
        let out = rig.render(plan(
            canvas,
            vec![pass(
                PassOp::ColorAdjust(adj.clone()),
                vec![ext("ca", canvas)],
                0,
            )],
            0,
        ));
        for y in 0..32 {
            for x in 0..32 {
                let want = color_adjust(&adj, rnd.px(x, y));
                check.px(
                    &format!("colour adjust {adj:?} {:?}", rnd.px(x, y)),
                    &out,
                    x,
                    y,
                    want,
                    TOL,
                );
            }
        }
    }
    // A pure hue rotation by 120° maps red to green (exact for the grey-axis rotation).
    let out = rig.render(plan(
        canvas,
        vec![
            pass(PassOp::Solid(Rgba(1.0, 0.0, 0.0, 1.0)), vec![], 0),
            pass(
                PassOp::ColorAdjust(ColorAdjust {
                    hue_shift: 120.0,
                    ..ColorAdjust::default()
                }),
                vec![slot(0, canvas)],
                1,
            ),
        ],
        1,
    ));
    check.px("hue 120° of red", &out, 5, 5, [0.0, 1.0, 0.0, 1.0], TOL);

    // Matte (alpha and luma) -> invert -> mask an image: 4 passes with 8-bit slots between.
    let picture = random_image(32, 32, 2024);
    let matte_src = random_image(32, 32, 2025);
    rig.external("pic", &picture, TextureFormat::Rgba8Unorm);
    rig.external("msrc", &matte_src, TextureFormat::Rgba8Unorm);
    for source in [MatteSource::Alpha, MatteSource::Luma] {
        for invert in [false, true] {
            let mut passes = vec![pass(PassOp::Matte(source), vec![ext("msrc", canvas)], 0)];
            let mut matte_slot = 0;
            if invert {
                passes.push(pass(PassOp::Invert, vec![slot(0, canvas)], 1));
                matte_slot = 1;
            }
            passes.push(pass(
                PassOp::Mask,
                vec![ext("pic", canvas), slot(matte_slot, canvas)],
                2,
            ));
            let out = rig.render(plan(canvas, passes, 2));
            for y in 0..32 {
                for x in 0..32 {
                    let m = premul(matte_src.px(x, y));
                    let mut v = q(match source {
                        MatteSource::Alpha => m[3],
                        MatteSource::Luma => luma709([m[0], m[1], m[2]]),
                    });
                    if invert {
                        v = q(1.0 - v);
                    }
                    let want = picture.premul(x, y).map(|c| c * v);
                    check.px(
                        &format!("mask by {source:?} matte, invert {invert}"),
                        &out,
                        x,
                        y,
                        want,
                        TOL,
                    );
                }
            }
        }
    }
    check.finish("keys, adjust, mattes");
}

// ---------------------------------------------------------------------------------------------
// Geometry: blur, affine sampling, crop, missing inputs.

/// Gaussian weights of `shaders/feather.wgsl`'s stated kernel (radius ≈ 3 sigma), normalised.
fn gauss(radius: f64) -> Vec<f64> {
    let r = radius.ceil().min(64.0) as i64;
    let sigma = radius / 3.0;
    let w: Vec<f64> = (-r..=r)
        .map(|k| (-((k * k) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = w.iter().sum();
    w.into_iter().map(|v| v / sum).collect()
}

/// One separable blur direction over a matte grid (clamp-to-edge), rounded to 8 bits.
fn blur_dir(m: &[f64], w: usize, h: usize, radius: f64, horizontal: bool) -> Vec<f64> {
    let k = gauss(radius);
    let r = (k.len() / 2) as i64;
    let mut out = vec![0.0; m.len()];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for (j, wk) in k.iter().enumerate() {
                let d = j as i64 - r;
                let (sx, sy) = if horizontal {
                    ((x as i64 + d).clamp(0, w as i64 - 1), y as i64)
                } else {
                    (x as i64, (y as i64 + d).clamp(0, h as i64 - 1))
                };
                s += wk * m[sy as usize * w + sx as usize];
            }
            out[y * w + x] = q(s);
        }
    }
    out
}

/// Bilinear sample of a straight-alpha image at texel coordinates (X, Y) (texel centres at
/// k + 0.5), clamp to edge; filtered straight, then premultiplied (as the shader states).
fn bilinear(img: &Straight, x: f64, y: f64) -> [f64; 4] {
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - x0, fy - y0);
    let at = |xi: f64, yi: f64| {
        let xi = xi.clamp(0.0, f64::from(img.w - 1)) as u32;
        let yi = yi.clamp(0.0, f64::from(img.h - 1)) as u32;
        img.px(xi, yi).map(|v| f64::from(v) / 255.0)
    };
    let mut c = [0.0; 4];
    for (xi, yi, wgt) in [
        (x0, y0, (1.0 - tx) * (1.0 - ty)),
        (x0 + 1.0, y0, tx * (1.0 - ty)),
        (x0, y0 + 1.0, (1.0 - tx) * ty),
        (x0 + 1.0, y0 + 1.0, tx * ty),
    ] {
        let p = at(xi, yi);
        for i in 0..4 {
            c[i] += wgt * p[i];
        }
    }
    [c[0] * c[3], c[1] * c[3], c[2] * c[3], c[3]]
}

#[test]
fn blur_affine_crop_and_missing_inputs() {
    let canvas = (32, 32);
    let mut rig = Rig::new(canvas);
    let mut check = Check::default();

    // Blur an impulse matte: symmetric about the impulse, matches the normalised kernel.
    let mut colours = vec![[0u8; 4]; 32 * 32];
    colours[16 * 32 + 16] = [255, 255, 255, 255];
    let impulse = strip(32, 32, &colours);
    rig.external("imp", &impulse, TextureFormat::Rgba8Unorm);
    let radius = 4.0f32;
    let out = rig.render(plan(
        canvas,
        vec![
            pass(
                PassOp::Matte(MatteSource::Alpha),
                vec![ext("imp", canvas)],
                0,
            ),
            pass(PassOp::BlurH { radius }, vec![slot(0, canvas)], 1),
            pass(PassOp::BlurV { radius }, vec![slot(1, canvas)], 0),
        ],
        0,
    ));
    let m: Vec<f64> = (0..32 * 32)
        .map(|i| if i == 16 * 32 + 16 { 1.0 } else { 0.0 })
        .collect();
    let want = blur_dir(
        &blur_dir(&m, 32, 32, f64::from(radius), true),
        32,
        32,
        f64::from(radius),
        false,
    );
    let mut total = 0.0;
    for y in 0..32u32 {
        for x in 0..32u32 {
            let v = want[(y * 32 + x) as usize];
            check.px("blurred impulse", &out, x, y, [v, v, v, v], TOL);
            total += f64::from(out.get_pixel(x, y).0[0]);
        }
    }
    for d in 1..6u32 {
        let c = |x: u32, y: u32| out.get_pixel(x, y).0[0];
        let (l, r, u, dn) = (c(16 - d, 16), c(16 + d, 16), c(16, 16 - d), c(16, 16 + d));
        if l != r || u != dn || l != u {
            check.fail(format!(
                "blur not symmetric at distance {d}: left {l} right {r} up {u} down {dn}"
            ));
        }
    }
    if peak_not_at_impulse(&out) {
        check.fail("blur peak is not at the impulse".into());
    }
    // Weights sum to 1: the blurred impulse keeps its energy (255), up to the rounding of the
    // 8-bit intermediate (at most 0.5 per non-zero pixel, checked loosely here).
    if (total - 255.0).abs() > 20.0 {
        check.fail(format!("blurred impulse sums to {total}, want about 255"));
    }
    // A uniform matte stays uniform, borders included (normalised weights, clamp to edge).
    let out = rig.render(plan(
        canvas,
        vec![
            pass(PassOp::Solid(Rgba(1.0, 1.0, 1.0, 0.6)), vec![], 0),
            pass(PassOp::BlurH { radius: 9.0 }, vec![slot(0, canvas)], 1),
            pass(PassOp::BlurV { radius: 9.0 }, vec![slot(1, canvas)], 0),
        ],
        0,
    ));
    for (x, y) in [(0, 0), (31, 0), (0, 31), (31, 31), (16, 16), (3, 20)] {
        check.px("blurred uniform 0.6", &out, x, y, [0.6; 4], TOL);
    }

    // Affine: a rotation by 90° with 2x magnification plus offset, into a 20x24 source,
    // and a crop window. In texel space: X = 0.5*y + 2.25, Y = 29.75 - 0.5*x (pixel centres
    // x, y), so samples land on texel centres, half-way or quarter-way between them, where
    // bilinear weights are exact.
    let src = random_image(20, 24, 8080);
    rig.external("rot", &src, TextureFormat::Rgba8Unorm);
    let (sw, sh) = (20.0f64, 24.0f64);
    let crop = [0.3f32, 0.0, 1.0, 1.0];
    let xform = Affine {
        m: [0.0, (0.5 / sw) as f32, (-0.5 / sh) as f32, 0.0],
        t: [(2.25 / sw) as f32, (29.75 / sh) as f32],
    };
    let out = rig.render(plan(
        canvas,
        vec![pass(
            PassOp::Copy,
            vec![Sample {
                from: Operand::External(NodeId::new("rot")),
                xform,
                crop,
            }],
            0,
        )],
        0,
    ));
    let mut inside = 0;
    let mut cropped = 0;
    for y in 0..32u32 {
        for x in 0..32u32 {
            let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let tx = 0.5 * py + 2.25;
            let ty = 29.75 - 0.5 * px;
            let (u, v) = (tx / sw, ty / sh);
            // Skip samples within f32 noise of the crop edges.
            let near = |a: f64, b: f64| (a - b).abs() < 0.01;
            if near(u, f64::from(crop[0])) || near(u, 1.0) || near(v, 0.0) || near(v, 1.0) {
                continue;
            }
            let visible = u >= f64::from(crop[0]) && u <= 1.0 && (0.0..=1.0).contains(&v);
            let want = if visible {
                inside += 1;
                bilinear(&src, tx, ty)
            } else {
                cropped += 1;
                [0.0; 4]
            };
            check.px(
                &format!("affine texel ({tx}, {ty}) visible {visible}"),
                &out,
                x,
                y,
                want,
                TOL,
            );
        }
    }
    assert!(
        inside > 100 && cropped > 100,
        "set-up: {inside} inside, {cropped} cropped"
    );
    // Two pixels spelled out: canvas pixel (20, 20) (centre (20.5, 20.5)) lands on texel
    // centre (12.5, 19.5), i.e. texel (12, 19); canvas (10, 20) lands on Y = 24.5 > 24: cropped.
    let want = src.premul(12, 19);
    check.px(
        "affine texel (12, 19) at canvas (20, 20)",
        &out,
        20,
        20,
        want,
        1.0,
    );
    check.px(
        "cropped by v > 1 at canvas (10, 20)",
        &out,
        10,
        20,
        [0.0; 4],
        0.0,
    );

    // Missing externals read as transparent: alone, and blended over a solid.
    let out = rig.render(plan(
        canvas,
        vec![pass(PassOp::Copy, vec![ext("nobody", canvas)], 0)],
        0,
    ));
    check.px("missing external alone", &out, 7, 7, [0.0; 4], 0.0);
    let out = rig.render(plan(
        canvas,
        vec![
            pass(PassOp::Solid(Rgba(0.25, 0.5, 0.75, 1.0)), vec![], 0),
            pass(
                PassOp::Blend(vec![(BlendMode::Normal, 1.0), (BlendMode::Screen, 1.0)]),
                vec![slot(0, canvas), ext("nobody", canvas)],
                1,
            ),
        ],
        1,
    ));
    check.px(
        "missing external over a solid",
        &out,
        30,
        1,
        [0.25, 0.5, 0.75, 1.0],
        TOL,
    );
    check.finish("blur, affine, crop, missing");
}

fn peak_not_at_impulse(img: &image::RgbaImage) -> bool {
    let peak = img.get_pixel(16, 16).0[0];
    img.pixels().any(|p| p.0[0] > peak)
}

// ---------------------------------------------------------------------------------------------
// Transitions and the test pattern.

#[test]
fn transitions_and_test_pattern() {
    let canvas = (32, 16);
    let mut rig = Rig::new(canvas);
    let mut check = Check::default();
    let from_c = Rgba(0.9, 0.2, 0.1, 1.0);
    let to_c = Rgba(0.1, 0.4, 0.8, 0.5);
    let solid_plan = |c: Rgba| plan(canvas, vec![pass(PassOp::Solid(c), vec![], 0)], 0);
    let pm = |c: Rgba| {
        let a = f64::from(c.3);
        [
            f64::from(c.0) * a,
            f64::from(c.1) * a,
            f64::from(c.2) * a,
            a,
        ]
    };
    let (a, b) = (pm(from_c), pm(to_c));
    let mix = |x: [f64; 4], y: [f64; 4], t: f64| [0, 1, 2, 3].map(|i| x[i] + (y[i] - x[i]) * t);
    let through = Rgba(1.0, 1.0, 1.0, 1.0);
    let k = pm(through);
    let from = solid_plan(from_c);
    let to = solid_plan(to_c);
    for (kind, name) in [
        (TransitionKind::Cut, "cut"),
        (TransitionKind::Fade, "fade"),
        (TransitionKind::FadeThrough(through), "fade through white"),
        (TransitionKind::Wipe, "wipe"),
    ] {
        for t in [0.0f32, 0.5, 1.0] {
            {
                let mut p = rig.app.world_mut().resource_mut::<Program>();
                p.plan = Some(to.clone());
                p.transition = Some(ProgramTransition {
                    from: from.clone(),
                    kind,
                    progress: t,
                });
            }
            let out = rig.capture();
            let what = format!("{name} at {t}");
            let t = f64::from(t);
            match kind {
                TransitionKind::Cut => {
                    // A cut switches at the midpoint; at 0 the old scene, at 1 the new one.
                    let want = if t < 0.5 { a } else { b };
                    for x in [0, 16, 31] {
                        check.px(&what, &out, x, 8, want, TOL);
                    }
                }
                TransitionKind::Fade => {
                    for x in [0, 16, 31] {
                        check.px(&what, &out, x, 8, mix(a, b, t), TOL);
                    }
                }
                TransitionKind::FadeThrough(_) => {
                    let want = if t < 0.5 {
                        mix(a, k, 2.0 * t)
                    } else {
                        mix(k, b, 2.0 * t - 1.0)
                    };
                    for x in [0, 16, 31] {
                        check.px(&what, &out, x, 8, want, TOL);
                    }
                }
                TransitionKind::Wipe => {
                    // Left to right: at 0 all old, at 1 all new, half-way the left edge
                    // shows the new scene, the right the old, and the soft edge is symmetric
                    // about the centre (columns 15 and 16 mix to a+b together).
                    let (left, right) = if t == 0.0 {
                        (a, a)
                    } else if t == 1.0 {
                        (b, b)
                    } else {
                        (b, a)
                    };
                    check.px(&what, &out, 0, 8, left, TOL);
                    check.px(&what, &out, 31, 8, right, TOL);
                    if t == 0.5 {
                        let l = out.get_pixel(15, 8).0;
                        let r = out.get_pixel(16, 8).0;
                        for ch in 0..3 {
                            let sum = f64::from(l[ch]) + f64::from(r[ch]);
                            let want = (a[ch] + b[ch]) * 255.0;
                            if (sum - want).abs() > 2.0 * TOL {
                                check.fail(format!(
                                    "{what}: edge not centred, columns 15+16 channel {ch} = {sum}, want {want:.1}"
                                ));
                            }
                        }
                        // Monotonic from new to old across the edge (red grows: a.r > b.r).
                        let reds: Vec<u8> = (0..32).map(|x| out.get_pixel(x, 8).0[0]).collect();
                        if reds.windows(2).any(|w| w[1] < w[0]) {
                            check.fail(format!("{what}: edge not monotonic: {reds:?}"));
                        }
                    }
                }
            }
        }
    }

    // The test pattern moves: different clock, different picture; same clock, same picture.
    let tp = plan(
        (160, 90),
        vec![pass(
            PassOp::TestPattern(TestPattern { speed: 0.1 }),
            vec![],
            0,
        )],
        0,
    );
    let mut rig_frames = Vec::new();
    for time in [0.0f32, 2.5, 2.5] {
        rig.app.world_mut().resource_mut::<FrameClock>().time = time;
        let mut p = rig.app.world_mut().resource_mut::<Program>();
        p.plan = Some(tp.clone());
        p.transition = None;
        let img = rig.capture();
        rig_frames.push(img);
    }
    let differing = |x: &image::RgbaImage, y: &image::RgbaImage| {
        x.pixels().zip(y.pixels()).filter(|(p, q)| p != q).count()
    };
    let moved = differing(&rig_frames[0], &rig_frames[1]);
    if moved < 500 {
        check.fail(format!(
            "test pattern barely changed between frames: {moved} pixels"
        ));
    }
    // Frames 2 and 3 have the same time but different frame numbers: only the burned-in
    // counter may differ, and it must.
    let counter = differing(&rig_frames[1], &rig_frames[2]);
    if counter == 0 || counter > moved {
        check.fail(format!(
            "frame counter: {counter} pixels differ between frames 2 and 3 (bars moved {moved})"
        ));
    }
    check.finish("transitions and test pattern");
}
