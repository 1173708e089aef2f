//! Compiles one scene into a [`RenderPlan`].
//!
//! The compiler walks back from the output node, so nodes nothing uses are never rendered, and
//! emits passes in dependency order. Placement costs no pass: fit modes and `transform` nodes
//! become the affine map a consumer samples its input with. Other fusions:
//! - a blend that feeds only one layer of another blend is spliced into it when the result is
//!   exactly the same: as the outer blend's bottom layer at opacity 1 (any inner modes), or as a
//!   `normal` layer at opacity 1 whose inner layers above the first are all `normal` (source-over
//!   is associative);
//! - a blend with more than [`MAX_PASS_INPUTS`] layers is split into passes whose first layer is
//!   the previous pass's result: exact, since layers stack one by one over the result below.
//!
//! Slot textures are given out by liveness: a slot is free again once no later pass reads it.
//!
//! Taps ([`compile_with_taps`]) read chosen nodes' pictures after the last pass, for previews:
//! their slots stay live to the end (as the output's and feeds' do), a tapped blend is never
//! spliced into its consumer, and a node folded into its consumer's sample (a transform, an
//! identity) is tapped through that sample.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{ErrorKind, ShowError};
use crate::id::NodeId;
use crate::node::{BlendMode, Fit, NodeKind, Segment, Transform};
use crate::plan::{
    Affine, ExternalSource, FeedFrom, MAX_PASS_INPUTS, Operand, Pass, PassOp, RenderPlan, Sample,
    ScopeFeed, SlotId, Tap, TappedPlan,
};
use crate::scene::{Scene, Show};
use crate::validate::find_cycle;

const FULL: [f32; 4] = [0.0, 0.0, 1.0, 1.0];

/// Compiles scene `scene_index` of `show`. `sizes` gives the pixel size of image, camera and
/// Scope sources where known; unknown ones are assumed canvas-sized (and recompiled later).
pub fn compile(
    show: &Show,
    scene_index: usize,
    sizes: &dyn Fn(&NodeId) -> Option<(u32, u32)>,
) -> Result<RenderPlan, ShowError> {
    compile_with_taps(show, scene_index, sizes, &[]).map(|t| t.plan)
}

/// Compiles like [`compile`], plus a [`Tap`] for each node of `taps` that exists and has a
/// picture, in that order (duplicates once). Tapped nodes the output does not use are compiled
/// too; one that cannot be (a missing input) is left out, as are unknown ids. The output node's
/// tap is the picture it receives. Without taps the plan is exactly [`compile`]'s.
pub fn compile_with_taps(
    show: &Show,
    scene_index: usize,
    sizes: &dyn Fn(&NodeId) -> Option<(u32, u32)>,
    taps: &[NodeId],
) -> Result<TappedPlan, ShowError> {
    let scene = show
        .scenes
        .get(scene_index)
        .ok_or_else(|| ShowError::new(ErrorKind::NoSuchScene(scene_index)))?;
    let err = |kind| ShowError {
        file: show.origin.path.clone(),
        pos: None,
        scene: Some(scene.name.clone()),
        kind: Box::new(kind),
    };
    if let Some(cycle) = find_cycle(scene) {
        return Err(err(ErrorKind::Cycle(cycle)));
    }
    let outputs: Vec<_> = scene
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n.kind, NodeKind::Output(_)))
        .collect();
    let [(out_id, _)] = outputs.as_slice() else {
        return Err(err(ErrorKind::OutputCount(outputs.len())));
    };
    let mut c = Compiler {
        scene,
        canvas: show.canvas,
        sizes,
        inputs: input_map(scene),
        consumers: consumer_count(scene),
        memo: BTreeMap::new(),
        passes: Vec::new(),
        externals: BTreeMap::new(),
        feeds: Vec::new(),
        tapped: taps.iter().cloned().collect(),
    };
    let output = c.input(out_id, "in").map_err(err)?;
    let mut tapped = Vec::new();
    for node in taps {
        if tapped.iter().any(|(n, _)| n == node) || !scene.nodes.contains_key(node) {
            continue;
        }
        if let Some(v) = c.tap(node) {
            tapped.push((node.clone(), v.sample));
        }
    }
    Ok(c.finish(output, tapped))
}

/// `(node, port) -> source node`.
fn input_map(scene: &Scene) -> BTreeMap<(NodeId, String), NodeId> {
    scene
        .edges
        .iter()
        .map(|e| ((e.to.clone(), e.port.clone()), e.from.clone()))
        .collect()
}

fn consumer_count(scene: &Scene) -> BTreeMap<NodeId, usize> {
    let mut n = BTreeMap::new();
    for e in &scene.edges {
        *n.entry(e.from.clone()).or_insert(0) += 1;
    }
    n
}

/// How a consumer reads a node's picture.
#[derive(Debug, Clone)]
struct Val {
    sample: Sample,
    /// Pixel size of the operand when this is the untransformed operand itself (a source's
    /// own texture or a canvas slot), so a transform can re-fit it from scratch.
    raw: Option<(u32, u32)>,
    /// When the value is a blend pass that may be spliced into a consumer blend.
    blend: Option<(usize, usize)>,
}

/// A pass with a virtual target (one per pass) before slots are assigned.
struct VPass {
    node: NodeId,
    op: PassOp,
    inputs: Vec<Sample>,
}

struct Compiler<'a> {
    scene: &'a Scene,
    canvas: (u32, u32),
    sizes: &'a dyn Fn(&NodeId) -> Option<(u32, u32)>,
    inputs: BTreeMap<(NodeId, String), NodeId>,
    consumers: BTreeMap<NodeId, usize>,
    memo: BTreeMap<NodeId, Val>,
    passes: Vec<VPass>,
    externals: BTreeMap<NodeId, (u32, u32)>,
    feeds: Vec<ScopeFeed>,
    /// Nodes to tap: their blends are not spliced away.
    tapped: BTreeSet<NodeId>,
}

impl Compiler<'_> {
    /// The picture of a tapped node, compiling what the output did not need. On failure
    /// everything that attempt added is taken back, so the plan is as if it was never asked.
    fn tap(&mut self, node: &NodeId) -> Option<Val> {
        let saved = (
            self.passes.len(),
            self.memo.clone(),
            self.externals.clone(),
            self.feeds.len(),
        );
        let result = match self.kind(node) {
            Ok(NodeKind::Output(_)) => self.input(node, "in"),
            Ok(_) => self.eval(node),
            Err(e) => Err(e),
        };
        match result {
            Ok(v) => Some(v),
            Err(_) => {
                self.passes.truncate(saved.0);
                self.memo = saved.1;
                self.externals = saved.2;
                self.feeds.truncate(saved.3);
                None
            }
        }
    }

    fn input(&mut self, node: &NodeId, port: &str) -> Result<Val, ErrorKind> {
        let kind = self.kind(node)?;
        let from = self
            .inputs
            .get(&(node.clone(), port.to_owned()))
            .cloned()
            .ok_or_else(|| ErrorKind::MissingInput {
                node: node.clone(),
                kind: kind.name(),
                port: port.into(),
            })?;
        self.eval(&from)
    }

    fn kind(&self, node: &NodeId) -> Result<&NodeKind, ErrorKind> {
        self.scene
            .nodes
            .get(node)
            .map(|n| &n.kind)
            .ok_or_else(|| ErrorKind::DanglingEdge {
                from: node.clone(),
                to: node.clone(),
                missing: node.clone(),
            })
    }

    fn eval(&mut self, node: &NodeId) -> Result<Val, ErrorKind> {
        if let Some(v) = self.memo.get(node) {
            return Ok(v.clone());
        }
        let kind = self.kind(node)?.clone();
        let val = match &kind {
            NodeKind::Solid(s) => self.generator(node, PassOp::Solid(s.color)),
            NodeKind::Gradient(g) => self.generator(node, PassOp::Gradient(g.clone())),
            NodeKind::TestPattern(t) => self.generator(node, PassOp::TestPattern(t.clone())),
            NodeKind::GarbageMatte(g) => self.generator(node, PassOp::GarbageMatte(g.clone())),
            NodeKind::Image(img) => self.external(node, img.fit),
            NodeKind::Camera(cam) => self.external(node, cam.fit),
            NodeKind::Scope(scope) => {
                self.feed(node, (scope.load.width, scope.load.height))?;
                self.external(node, scope.fit)
            }
            NodeKind::Transform(t) => {
                let input = self.input(node, "in")?;
                self.transform(node, &input, t)
            }
            NodeKind::Blend(b) => {
                let mut layers = Vec::new();
                let mut samples = Vec::new();
                for (i, layer) in b.layers.iter().enumerate() {
                    let v = self.input(node, &i.to_string())?;
                    let mode = if i == 0 {
                        BlendMode::Normal
                    } else {
                        layer.mode
                    };
                    self.push_layer(&mut layers, &mut samples, v, mode, layer.opacity, i == 0);
                }
                self.blend(node, layers, samples)
            }
            NodeKind::ChromaKey(k) => self.filter(node, PassOp::ChromaKey(k.clone()))?,
            NodeKind::LumaKey(k) => self.filter(node, PassOp::from(k.clone()))?,
            NodeKind::ColorAdjust(a) => self.filter(node, PassOp::ColorAdjust(a.clone()))?,
            NodeKind::Matte(m) => self.filter(node, PassOp::Matte(m.source))?,
            NodeKind::Invert(_) => self.filter(node, PassOp::Invert)?,
            NodeKind::Feather(f) => {
                let input = self.input(node, "in")?;
                if f.radius <= 0.0 {
                    input
                } else {
                    let h = self.pass(node, PassOp::BlurH { radius: f.radius }, vec![input.sample]);
                    self.pass(node, PassOp::BlurV { radius: f.radius }, vec![h.sample])
                }
            }
            NodeKind::Segment(seg) => self.segment(node, seg)?,
            NodeKind::Mask(_) => {
                let image = self.input(node, "in")?;
                let matte = self.input(node, "matte")?;
                self.pass(node, PassOp::Mask, vec![image.sample, matte.sample])
            }
            NodeKind::Output(_) => {
                return Err(ErrorKind::NoOutputPort {
                    from: node.clone(),
                    to: node.clone(),
                    kind: "output",
                });
            }
        };
        self.memo.insert(node.clone(), val.clone());
        Ok(val)
    }

    fn generator(&mut self, node: &NodeId, op: PassOp) -> Val {
        self.pass(node, op, Vec::new())
    }

    fn filter(&mut self, node: &NodeId, op: PassOp) -> Result<Val, ErrorKind> {
        let input = self.input(node, "in")?;
        Ok(self.pass(node, op, vec![input.sample]))
    }

    /// Emits a pass writing a fresh virtual slot and returns how to read it.
    fn pass(&mut self, node: &NodeId, op: PassOp, inputs: Vec<Sample>) -> Val {
        self.passes.push(VPass {
            node: node.clone(),
            op,
            inputs,
        });
        let slot = SlotId((self.passes.len() - 1) as u32);
        Val {
            sample: Sample {
                from: Operand::Slot(slot),
                xform: Affine::canvas(self.canvas),
                crop: FULL,
            },
            raw: Some(self.canvas),
            blend: None,
        }
    }

    fn external(&mut self, node: &NodeId, fit: Fit) -> Val {
        let size = (self.sizes)(node).unwrap_or(self.canvas);
        self.externals.insert(node.clone(), size);
        let xform = place(size, self.canvas, FULL, fit, &Transform::default());
        Val {
            sample: Sample {
                from: Operand::External(node.clone()),
                xform,
                crop: FULL,
            },
            raw: Some(size),
            blend: None,
        }
    }

    fn feed(&mut self, scope: &NodeId, size: (u32, u32)) -> Result<(), ErrorKind> {
        let Some(from) = self.inputs.get(&(scope.clone(), "in".to_owned())).cloned() else {
            return Ok(()); // text mode: nothing to send
        };
        let feed_from = if matches!(self.kind(&from)?, NodeKind::Camera(_)) {
            FeedFrom::Camera(from)
        } else {
            FeedFrom::Rendered(self.eval(&from)?.sample)
        };
        self.feeds.push(ScopeFeed {
            scope: scope.clone(),
            from: feed_from,
            size,
        });
        Ok(())
    }

    /// A segment node: its input goes to the model as a feed (a camera's own CPU frames, or the
    /// input rendered at the model size), and one pass upsamples the returned mask, published
    /// as the node's external texture. The mask covers exactly what the model saw, so it is
    /// sampled with the camera's own placement, or stretched over the canvas for a rendered
    /// input.
    fn segment(&mut self, node: &NodeId, seg: &Segment) -> Result<Val, ErrorKind> {
        let input = self.input(node, "in")?;
        let from = self.inputs.get(&(node.clone(), "in".to_owned())).cloned();
        let camera = match (&from, &input.sample.from) {
            (Some(cam), Operand::External(ext))
                if cam == ext && matches!(self.kind(cam)?, NodeKind::Camera(_)) =>
            {
                Some(cam.clone())
            }
            _ => None,
        };
        let size = seg.model.size();
        let (feed, xform, crop) = match camera {
            Some(cam) => (FeedFrom::Camera(cam), input.sample.xform, input.sample.crop),
            None => (
                FeedFrom::Rendered(input.sample.clone()),
                Affine::canvas(self.canvas),
                FULL,
            ),
        };
        self.feeds.push(ScopeFeed {
            scope: node.clone(),
            from: feed,
            size,
        });
        self.externals.insert(node.clone(), size);
        let mask = Sample {
            from: Operand::External(node.clone()),
            xform,
            crop,
        };
        let op = PassOp::Segment {
            threshold: seg.threshold,
            softness: seg.softness,
        };
        Ok(self.pass(node, op, vec![mask]))
    }

    fn transform(&mut self, node: &NodeId, input: &Val, t: &Transform) -> Val {
        let crop = [t.crop.0, t.crop.1, 1.0 - t.crop.2, 1.0 - t.crop.3];
        if let (Some(size), true) = (input.raw, is_plain(&input.sample, input.raw, self.canvas)) {
            // The operand itself: re-place it from its own pixels with this node's fit and crop.
            let xform = place(size, self.canvas, crop, t.fit, t);
            return Val {
                sample: Sample {
                    from: input.sample.from.clone(),
                    xform,
                    crop,
                },
                raw: None,
                blend: None,
            };
        }
        let cropped = t.crop != (0.0, 0.0, 0.0, 0.0);
        let base = if cropped {
            // A crop window can only be expressed in the operand's own UV: materialise first.
            self.pass(node, PassOp::Copy, vec![input.sample.clone()])
        } else {
            input.clone()
        };
        if cropped {
            return self.transform(node, &base, t);
        }
        // A canvas-sized picture: the placement maps canvas to canvas, composed with the
        // input's own map.
        let inner = place(self.canvas, self.canvas, FULL, Fit::Stretch, t);
        let to_canvas_px = Affine {
            m: [
                inner.m[0] * self.canvas.0 as f32,
                inner.m[1] * self.canvas.0 as f32,
                inner.m[2] * self.canvas.1 as f32,
                inner.m[3] * self.canvas.1 as f32,
            ],
            t: [
                inner.t[0] * self.canvas.0 as f32,
                inner.t[1] * self.canvas.1 as f32,
            ],
        };
        Val {
            sample: Sample {
                from: base.sample.from.clone(),
                xform: compose(&base.sample.xform, &to_canvas_px),
                crop: base.sample.crop,
            },
            raw: None,
            blend: None,
        }
    }

    /// Adds one input to a blend being built, splicing in an inner blend when that is exact.
    fn push_layer(
        &mut self,
        layers: &mut Vec<(BlendMode, f32)>,
        samples: &mut Vec<Sample>,
        v: Val,
        mode: BlendMode,
        opacity: f32,
        bottom: bool,
    ) {
        if let Some((start, 1)) = v.blend {
            let inner = &self.passes[start];
            let single_use = self.consumers.get(&inner.node).copied() == Some(1)
                && !self.tapped.contains(&inner.node);
            let all_normal = match &inner.op {
                PassOp::Blend(l) => l.iter().skip(1).all(|(m, _)| *m == BlendMode::Normal),
                _ => false,
            };
            let exact = opacity == 1.0 && (bottom || (mode == BlendMode::Normal && all_normal));
            // Only the last emitted pass can be taken back without renumbering slots.
            if single_use
                && exact
                && start + 1 == self.passes.len()
                && let Some(VPass {
                    op: PassOp::Blend(inner_layers),
                    inputs,
                    ..
                }) = self.passes.pop()
            {
                layers.extend(inner_layers);
                samples.extend(inputs);
                return;
            }
        }
        layers.push((mode, opacity));
        samples.push(v.sample);
    }

    fn blend(&mut self, node: &NodeId, layers: Vec<(BlendMode, f32)>, samples: Vec<Sample>) -> Val {
        let start = self.passes.len();
        let mut layers = layers.into_iter();
        let mut samples = samples.into_iter();
        let mut acc: Option<Val> = None;
        let mut count = 0;
        loop {
            let mut ls = Vec::new();
            let mut ss = Vec::new();
            if let Some(prev) = acc.take() {
                ls.push((BlendMode::Normal, 1.0));
                ss.push(prev.sample);
            }
            while ls.len() < MAX_PASS_INPUTS {
                match (layers.next(), samples.next()) {
                    (Some(l), Some(s)) => {
                        ls.push(l);
                        ss.push(s);
                    }
                    _ => break,
                }
            }
            let done = layers.len() == 0;
            let v = self.pass(node, PassOp::Blend(ls), ss);
            count += 1;
            if done {
                return Val {
                    blend: Some((start, count)),
                    ..v
                };
            }
            acc = Some(v);
        }
    }

    /// Assigns physical slots by liveness and builds the plan.
    fn finish(self, output: Val, taps: Vec<(NodeId, Sample)>) -> TappedPlan {
        let n = self.passes.len();
        // Last pass index reading each virtual slot; the output and feeds read after all.
        let mut last_read = vec![0usize; n];
        let mut note = |s: &Sample, at: usize| {
            if let Operand::Slot(SlotId(v)) = s.from {
                last_read[v as usize] = last_read[v as usize].max(at);
            }
        };
        for (i, p) in self.passes.iter().enumerate() {
            for s in &p.inputs {
                note(s, i);
            }
        }
        note(&output.sample, n);
        for (_, s) in &taps {
            note(s, n);
        }
        for f in &self.feeds {
            if let FeedFrom::Rendered(s) = &f.from {
                note(s, n);
            }
        }
        let mut physical = vec![0u32; n];
        let mut free: Vec<u32> = Vec::new();
        let mut slot_count = 0u32;
        // Slots holding virtual v, released once we pass last_read[v].
        let mut live: Vec<(usize, u32)> = Vec::new();
        for (i, target) in physical.iter_mut().enumerate() {
            live.retain(|&(v, phys)| {
                if last_read[v] < i {
                    free.push(phys);
                    false
                } else {
                    true
                }
            });
            free.sort_unstable_by(|a, b| b.cmp(a));
            let phys = free.pop().unwrap_or_else(|| {
                slot_count += 1;
                slot_count - 1
            });
            *target = phys;
            live.push((i, phys));
        }
        let map = |s: Sample| Sample {
            from: match s.from {
                Operand::Slot(SlotId(v)) => Operand::Slot(SlotId(physical[v as usize])),
                other => other,
            },
            ..s
        };
        let passes = self
            .passes
            .into_iter()
            .enumerate()
            .map(|(i, p)| Pass {
                node: p.node,
                op: p.op,
                inputs: p.inputs.into_iter().map(map).collect(),
                target: SlotId(physical[i]),
            })
            .collect();
        let feeds = self
            .feeds
            .into_iter()
            .map(|f| ScopeFeed {
                from: match f.from {
                    FeedFrom::Rendered(s) => FeedFrom::Rendered(map(s)),
                    camera => camera,
                },
                ..f
            })
            .collect();
        let plan = RenderPlan {
            canvas: self.canvas,
            passes,
            slot_count,
            output: map(output.sample),
            externals: self
                .externals
                .into_iter()
                .map(|(node, size)| ExternalSource { node, size })
                .collect(),
            feeds,
        };
        TappedPlan {
            plan,
            taps: taps
                .into_iter()
                .map(|(node, sample)| Tap {
                    node,
                    sample: map(sample),
                })
                .collect(),
        }
    }
}

/// Whether `s` is exactly the operand's own placement (so it can be re-placed from scratch).
fn is_plain(s: &Sample, raw: Option<(u32, u32)>, canvas: (u32, u32)) -> bool {
    match (&s.from, raw) {
        (Operand::Slot(_), Some(_)) => s.xform == Affine::canvas(canvas) && s.crop == FULL,
        (Operand::External(_), Some(_)) => s.crop == FULL,
        _ => false,
    }
}

/// `a ∘ b`: first `b` (canvas px → canvas px), then `a` (canvas px → UV).
fn compose(a: &Affine, b: &Affine) -> Affine {
    Affine {
        m: [
            a.m[0] * b.m[0] + a.m[1] * b.m[2],
            a.m[0] * b.m[1] + a.m[1] * b.m[3],
            a.m[2] * b.m[0] + a.m[3] * b.m[2],
            a.m[2] * b.m[1] + a.m[3] * b.m[3],
        ],
        t: [
            a.m[0] * b.t[0] + a.m[1] * b.t[1] + a.t[0],
            a.m[2] * b.t[0] + a.m[3] * b.t[1] + a.t[1],
        ],
    }
}

/// The map from canvas pixel centres to source UV for a source of `size` pixels, cropped to the
/// UV window `crop`, fitted into `canvas` by `fit`, then scaled and rotated about the anchor and
/// moved as `t` says.
///
/// Forward, a point `p` of the fitted picture lands at `A + R·S·(p − A) + position`, where `A`
/// is the anchor inside the fitted rectangle. This returns the inverse of that, followed by the
/// fitted rectangle → UV window map.
pub fn place(
    size: (u32, u32),
    canvas: (u32, u32),
    crop: [f32; 4],
    fit: Fit,
    t: &Transform,
) -> Affine {
    let (sw, sh) = (f64::from(size.0.max(1)), f64::from(size.1.max(1)));
    let (cw, ch) = (f64::from(canvas.0), f64::from(canvas.1));
    let (u0, v0, u1, v1) = (
        f64::from(crop[0]),
        f64::from(crop[1]),
        f64::from(crop[2]),
        f64::from(crop[3]),
    );
    // Cropped size in source pixels.
    let (pw, ph) = (sw * (u1 - u0).max(1e-6), sh * (v1 - v0).max(1e-6));
    let (fx, fy) = match fit {
        Fit::Fit => {
            let s = (cw / pw).min(ch / ph);
            (s, s)
        }
        Fit::Fill => {
            let s = (cw / pw).max(ch / ph);
            (s, s)
        }
        Fit::Stretch => (cw / pw, ch / ph),
        Fit::Original => (1.0, 1.0),
    };
    let (dw, dh) = (pw * fx, ph * fy);
    let (ox, oy) = ((cw - dw) / 2.0, (ch - dh) / 2.0);
    let (ax, ay) = (
        ox + f64::from(t.anchor.0) * dw,
        oy + f64::from(t.anchor.1) * dh,
    );
    let (sx, sy) = (f64::from(t.scale.0), f64::from(t.scale.1));
    let (sx, sy) = (nonzero(sx), nonzero(sy));
    let th = f64::from(t.rotation).to_radians();
    let (c, s) = (th.cos(), th.sin());
    // Inverse placement: q = p' − position − A; p = A + S⁻¹·R(−θ)·q.
    // R(−θ) = [[c, s], [−s, c]] (y points down, so positive θ turns clockwise on screen).
    let inv = [c / sx, s / sx, -s / sy, c / sy];
    let (px, py) = (f64::from(t.position.0), f64::from(t.position.1));
    // p = inv·(p' − position − A) + A
    let tx = ax - (inv[0] * (px + ax) + inv[1] * (py + ay));
    let ty = ay - (inv[2] * (px + ax) + inv[3] * (py + ay));
    // Fitted rectangle → UV window: u = u0 + (p.x − ox)/dw·(u1 − u0).
    let (ku, kv) = ((u1 - u0) / dw, (v1 - v0) / dh);
    Affine {
        m: [
            (ku * inv[0]) as f32,
            (ku * inv[1]) as f32,
            (kv * inv[2]) as f32,
            (kv * inv[3]) as f32,
        ],
        t: [(u0 + ku * (tx - ox)) as f32, (v0 + kv * (ty - oy)) as f32],
    }
}

fn nonzero(v: f64) -> f64 {
    if v.abs() < 1e-6 {
        1e-6_f64.copysign(v)
    } else {
        v
    }
}

#[cfg(test)]
mod tap_tests {
    use std::path::Path;

    use super::*;

    fn show(nodes: &str, edges: &str) -> Show {
        let text = format!(
            "(version: 1, canvas: (64, 32), scenes: [(name: \"s\", nodes: {{ {nodes} }}, edges: [ {edges} ])])"
        );
        crate::io::load_str(&text, Path::new("x.ron")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn id(s: &str) -> NodeId {
        NodeId::new(s)
    }

    /// The node of the last pass that writes `slot`: whose picture the slot holds at the end.
    fn last_writer(plan: &RenderPlan, slot: SlotId) -> Option<&NodeId> {
        plan.passes
            .iter()
            .rev()
            .find(|p| p.target == slot)
            .map(|p| &p.node)
    }

    /// solid → i1 → i2 → i3 → i4 → out: four one-input passes, so two slots are reused.
    fn chain() -> Show {
        show(
            r#""a": (kind: solid(())), "i1": (kind: invert(())), "i2": (kind: invert(())),
               "i3": (kind: invert(())), "i4": (kind: invert(())), "out": (kind: output(()))"#,
            r#"(from: "a", to: "i1"), (from: "i1", to: "i2"), (from: "i2", to: "i3"),
               (from: "i3", to: "i4"), (from: "i4", to: "out")"#,
        )
    }

    /// A tapped slot in the middle of a chain is never written again, where without the tap it
    /// would have been reused.
    #[test]
    fn taps_keep_their_slots_alive() {
        let s = chain();
        let plain = compile(&s, 0, &|_| None).unwrap();
        let slot_of = |plan: &RenderPlan, node: &str| {
            plan.passes
                .iter()
                .find(|p| p.node == id(node))
                .map(|p| p.target)
                .unwrap()
        };
        assert_ne!(
            last_writer(&plain, slot_of(&plain, "i1")),
            Some(&id("i1")),
            "untapped, i1's slot is reused"
        );
        let tapped = compile_with_taps(&s, 0, &|_| None, &[id("i1"), id("a"), id("i3")]).unwrap();
        assert_eq!(tapped.taps.len(), 3);
        for tap in &tapped.taps {
            let Operand::Slot(slot) = tap.sample.from else {
                panic!("{} reads a slot", tap.node);
            };
            assert_eq!(last_writer(&tapped.plan, slot), Some(&tap.node));
        }
        assert!(tapped.plan.slot_count > plain.slot_count);
        // The program itself is unchanged: same passes, in the same order.
        let ops: Vec<_> = tapped.plan.passes.iter().map(|p| &p.node).collect();
        let plain_ops: Vec<_> = plain.passes.iter().map(|p| &p.node).collect();
        assert_eq!(ops, plain_ops);
        // No taps: exactly `compile`'s plan.
        assert_eq!(
            compile_with_taps(&s, 0, &|_| None, &[]).unwrap().plan,
            plain
        );
    }

    /// A transform costs no pass: its tap is the moved sample its consumer reads.
    #[test]
    fn tap_on_a_fused_transform_is_its_sample() {
        let s = show(
            r#""a": (kind: solid(())), "t": (kind: transform((position: (8.0, 0.0)))),
               "i": (kind: invert(())), "out": (kind: output(()))"#,
            r#"(from: "a", to: "t"), (from: "t", to: "i"), (from: "i", to: "out")"#,
        );
        let tapped = compile_with_taps(&s, 0, &|_| None, &[id("t")]).unwrap();
        let invert = tapped
            .plan
            .passes
            .iter()
            .find(|p| p.node == id("i"))
            .unwrap();
        let tap = tapped.tap(&id("t")).unwrap();
        assert_eq!(tap.sample, invert.inputs[0]);
        assert_ne!(tap.sample.xform, Affine::canvas((64, 32)), "moved");
        assert_eq!(tapped.plan.passes.len(), 2, "still no pass of its own");
    }

    /// A blend tapped inside another is kept as its own pass so its picture exists; unknown
    /// ids, unusable nodes and duplicates give no tap; unused nodes and the output do.
    #[test]
    fn taps_of_blends_unused_and_missing_nodes() {
        let s = show(
            r#""a": (kind: solid(())), "b": (kind: solid(())),
               "inner": (kind: blend((layers: [(mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0)]))),
               "outer": (kind: blend((layers: [(mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0)]))),
               "lonely": (kind: solid(())), "broken": (kind: invert(())), "out": (kind: output(()))"#,
            r#"(from: "a", to: "inner", port: "0"), (from: "b", to: "inner", port: "1"),
               (from: "inner", to: "outer", port: "0"), (from: "b", to: "outer", port: "1"),
               (from: "outer", to: "out")"#,
        );
        let plain = compile(&s, 0, &|_| None).unwrap();
        assert!(
            plain.passes.iter().all(|p| p.node != id("inner")),
            "spliced"
        );
        let taps = [
            id("inner"),
            id("nope"),
            id("broken"),
            id("lonely"),
            id("out"),
            id("inner"),
        ];
        let tapped = compile_with_taps(&s, 0, &|_| None, &taps).unwrap();
        let names: Vec<_> = tapped.taps.iter().map(|t| t.node.as_str()).collect();
        assert_eq!(names, ["inner", "lonely", "out"]);
        let slot = |n: &str| match tapped.tap(&id(n)).unwrap().sample.from {
            Operand::Slot(s) => s,
            Operand::External(_) => panic!("{n} reads a slot"),
        };
        assert_eq!(last_writer(&tapped.plan, slot("inner")), Some(&id("inner")));
        assert_eq!(
            last_writer(&tapped.plan, slot("lonely")),
            Some(&id("lonely"))
        );
        assert_eq!(tapped.tap(&id("out")).unwrap().sample, tapped.plan.output);
    }
}

#[cfg(test)]
mod rescale_tests {
    use std::path::Path;

    use super::*;

    /// A rescaled plan reads its slots 1:1 on the new canvas, keeps the transform's placement
    /// in canvas fractions, and scales blur radii; rescaling to the same canvas changes nothing.
    #[test]
    fn rescaled_plan_keeps_the_picture() {
        let text = r#"(version: 1, canvas: (64, 32), scenes: [(name: "s", nodes: {
            "a": (kind: solid(())), "t": (kind: transform((position: (16.0, 8.0)))),
            "m": (kind: matte(())), "f": (kind: feather((radius: 8.0))), "out": (kind: output(()))},
            edges: [(from: "a", to: "t"), (from: "t", to: "m"), (from: "m", to: "f"), (from: "f", to: "out")])])"#;
        let show = crate::io::load_str(text, Path::new("x.ron")).unwrap_or_else(|e| panic!("{e}"));
        let plan = compile_with_taps(&show, 0, &|_| None, &[NodeId::new("t")]).unwrap();
        assert_eq!(plan.rescaled((64, 32)), plan);
        let small = plan.rescaled((16, 8));
        assert_eq!(small.plan.canvas, (16, 8));
        assert_eq!(small.plan.output.xform, Affine::canvas((16, 8)));
        let uv = |s: &Sample, x: f32, y: f32| {
            let m = s.xform.m;
            (
                m[0] * x + m[1] * y + s.xform.t[0],
                m[2] * x + m[3] * y + s.xform.t[1],
            )
        };
        // Canvas point (32, 16) of the big plan is (8, 4) of the small one: same UV.
        let (big, tap) = (&plan.taps[0].sample, &small.taps[0].sample);
        assert_eq!(uv(big, 32.0, 16.0), uv(tap, 8.0, 4.0));
        let radii: Vec<f32> = small
            .plan
            .passes
            .iter()
            .filter_map(|p| match p.op {
                PassOp::BlurH { radius } | PassOp::BlurV { radius } => Some(radius),
                _ => None,
            })
            .collect();
        assert_eq!(radii, [2.0, 2.0]);
    }
}
