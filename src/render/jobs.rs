//! Plan → jobs: the render passes one frame records, decided on the CPU before any GPU object
//! is made for them. Passes that cannot run are skipped (and logged once); the current plan's
//! last pass writes the output itself when nothing else needs its slot; each rendered Scope
//! feed and the final transition/over-black pass get a job of their own.

use std::collections::HashSet;

use bevy::prelude::*;
use bevy::render::render_resource::TextureView;
use show::plan::{Affine, FeedFrom, MAX_PASS_INPUTS, Operand, PassOp, RenderPlan, Sample, SlotId};

use super::inputs::{Inputs, Resolved, needs_crop_test, texel_identity};
use super::params::{Params, blend_mode_index};
use super::pass_kind::Kind;
use super::pipelines::VariantKey;
use super::{FrameClock, ProgramTransition};

/// Where a job draws.
#[derive(Clone, Copy)]
pub(super) enum Target {
    Slot(usize),
    Output,
    /// The `n`th rendered Scope feed of this frame.
    Feed(usize),
    /// The `n`th pack written this frame.
    Pack(usize),
    /// The `n`th preview target of this frame.
    Preview(usize),
    /// Slot `.1` of the `.0`th preview plan's slot set.
    PreviewSlot(usize, usize),
}

/// One render pass to record.
pub(super) struct Job {
    pub(super) kind: Kind,
    /// Per-kind selector baked into the pipeline (blend modes, transition kind).
    pub(super) modes: [u32; MAX_PASS_INPUTS],
    pub(super) target: Target,
    pub(super) inputs: Vec<Sample>,
    pub(super) resolved: Vec<Resolved>,
    pub(super) params: Params,
    /// Size of the target in pixels.
    pub(super) canvas: (u32, u32),
    /// Packs bound to pack0.. and the inputs read from them (bit i: input i).
    pub(super) packs: Vec<TextureView>,
    pub(super) pack_mask: u32,
    /// A preview target that keeps its alpha: not composited over black.
    pub(super) keep_alpha: bool,
}

impl Job {
    pub(super) fn new(
        kind: Kind,
        target: Target,
        inputs: Vec<Sample>,
        resolved: Vec<Resolved>,
        canvas: (u32, u32),
        clock: FrameClock,
    ) -> Job {
        let mut params = Params::new(canvas, clock.time, clock.frame, &inputs);
        for (i, r) in resolved.iter().enumerate() {
            params.set_gain(i, r.gain);
        }
        Job {
            kind,
            modes: [0; MAX_PASS_INPUTS],
            target,
            inputs,
            resolved,
            params,
            canvas,
            packs: Vec::new(),
            pack_mask: 0,
            keep_alpha: false,
        }
    }

    /// The pipeline variant this job needs.
    pub(super) fn key(&self) -> VariantKey {
        let canvas = self.canvas;
        let mut key = VariantKey {
            kind: self.kind,
            n: self.inputs.len().min(MAX_PASS_INPUTS) as u32,
            srgb: 0,
            straight: 0,
            crop: 0,
            load: 0,
            pack: self.pack_mask,
            modes: self.modes,
            last: match self.target {
                Target::Output | Target::Feed(_) => true,
                Target::Preview(_) => !self.keep_alpha,
                _ => false,
            },
        };
        for (i, (s, r)) in self.inputs.iter().zip(&self.resolved).enumerate() {
            let bit = 1 << i;
            if r.straight {
                key.straight |= bit;
            }
            if self.pack_mask & bit != 0 {
                // Sampling, sRGB and crop happened when the pack was written.
                continue;
            }
            if r.srgb {
                key.srgb |= bit;
            }
            if needs_crop_test(s, canvas) {
                key.crop |= bit;
            }
            // A blur reads its input at shifted positions, past the edges too: it keeps the
            // sampler's clamp-to-edge.
            if self.kind != Kind::Feather && texel_identity(s, r.size) {
                key.load |= bit;
            }
        }
        key
    }
}

/// What one frame draws, as far as jobs are concerned.
pub(super) struct FrameRequest<'a> {
    pub(super) plan: Option<&'a RenderPlan>,
    /// A transition whose `from` plan shares the canvas (and so the slots).
    pub(super) transition: Option<&'a ProgramTransition>,
    pub(super) canvas: (u32, u32),
    pub(super) clock: FrameClock,
    /// Size and sample of each rendered Scope feed, in [`Target::Feed`] order.
    pub(super) feeds: &'a [((u32, u32), &'a Sample)],
}

/// The frame's jobs: the `from` plan in slots [0, from_slots), the current plan after it, the
/// rendered feeds, then the final pass reading both outputs (input 0 = current, input 1 =
/// from). `current` and `from` resolve the two plans' inputs (`from.slots` is empty without a
/// transition).
pub(super) fn frame_jobs(
    frame: &FrameRequest,
    current: &Inputs,
    from: &Inputs,
    warned: &mut Warned,
) -> Vec<Job> {
    let (plan, transition, canvas, clock) =
        (frame.plan, frame.transition, frame.canvas, frame.clock);
    let from_slots = from.slots.len();
    let mut jobs = Vec::new();
    let mut program_inputs = Vec::new();
    let mut program_resolved = Vec::new();
    match plan {
        Some(p) => {
            program_inputs.push(p.output.clone());
            program_resolved.push(current.resolve(&p.output.from));
        }
        None => {
            // Nothing to show: one input that is empty everywhere (black output).
            program_inputs.push(Sample {
                from: Operand::Slot(SlotId(u32::MAX)),
                xform: Affine::canvas(canvas),
                crop: [1.0, 1.0, -1.0, -1.0],
            });
            program_resolved.push(current.empty());
        }
    }
    if let Some(t) = transition {
        plan_jobs(&t.from, Target::Slot, from, clock, &mut jobs, warned);
        program_inputs.push(t.from.output.clone());
        program_resolved.push(from.resolve(&t.from.output.from));
    }
    if let Some(p) = plan {
        plan_jobs(
            p,
            |s| Target::Slot(from_slots + s),
            current,
            clock,
            &mut jobs,
            warned,
        );
    }
    // Fewest passes: without a transition, when the plan's last pass writes the output slot
    // and the output maps it 1:1, that pass writes the program output itself (unless a feed
    // reads that slot too).
    let fused = match (plan, transition, jobs.last_mut()) {
        (Some(p), None, Some(last)) => {
            let fusable = matches!(p.output.from, Operand::Slot(s)
                    if matches!(last.target, Target::Slot(t) if t == from_slots + s.0 as usize))
                && !needs_crop_test(&p.output, canvas)
                && texel_identity(&p.output, canvas)
                && !p
                    .feeds
                    .iter()
                    .any(|f| matches!(&f.from, FeedFrom::Rendered(s) if s.from == p.output.from));
            if fusable {
                last.target = Target::Output;
            }
            fusable
        }
        _ => false,
    };
    // Each rendered feed: its sample over black at the feed's size. The sample maps canvas
    // pixels, so feed pixels are scaled to canvas pixels first.
    for (k, &(size, sample)) in frame.feeds.iter().enumerate() {
        let resolved = current.resolve(&sample.from);
        jobs.push(Job::new(
            Kind::Copy,
            Target::Feed(k),
            vec![scaled_to(sample, canvas, size)],
            vec![resolved],
            size,
            clock,
        ));
    }
    if !fused {
        let mut job = Job::new(
            Kind::Program,
            Target::Output,
            program_inputs,
            program_resolved,
            canvas,
            clock,
        );
        job.params
            .set_program(transition.map(|t| (&t.kind, t.progress)));
        job.modes[0] = job.params.program_kind();
        jobs.push(job);
    }
    jobs
}

/// The transition kinds the final pass bakes in (`Params::set_program`): cut, fade, fade
/// through a colour, wipe.
const TRANSITION_MODES: [u32; 4] = [1, 2, 3, 4];

/// The pipeline variants a transition out of this frame's program would need that this frame
/// does not use: the fused last pass writing a slot instead of the output, and the final pass
/// mixing two inputs for each transition kind (the other scene's output read as this one's
/// is). Queued while the scene plays, so the first use of a transition draws at once instead
/// of holding the picture while a shader compiles.
pub(super) fn transition_variants(frame: &[(VariantKey, Target)]) -> Vec<VariantKey> {
    let mut out = Vec::new();
    let mut program = None;
    for (key, target) in frame {
        match (key.kind, target) {
            (Kind::Program, _) => program = Some(*key),
            (_, Target::Output) => {
                out.push(VariantKey {
                    last: false,
                    ..*key
                });
                // What the final pass would have read: the fused pass's slot, 1:1.
                program.get_or_insert(VariantKey {
                    kind: Kind::Program,
                    n: 1,
                    srgb: 0,
                    straight: 0,
                    crop: 0,
                    load: 1,
                    pack: 0,
                    modes: [0; MAX_PASS_INPUTS],
                    last: true,
                });
            }
            _ => {}
        }
    }
    if let Some(base) = program {
        let twice = |mask: u32| (mask & 1) | ((mask & 1) << 1);
        for mode in TRANSITION_MODES {
            let mut key = VariantKey {
                n: 2,
                srgb: twice(base.srgb),
                straight: twice(base.straight),
                crop: twice(base.crop),
                load: twice(base.load),
                pack: 0,
                ..base
            };
            key.modes[0] = mode;
            out.push(key);
        }
    }
    out
}

/// `sample` (which maps canvas pixels) for a target of `size` pixels: target pixels are scaled
/// to canvas pixels first.
fn scaled_to(sample: &Sample, canvas: (u32, u32), size: (u32, u32)) -> Sample {
    let sx = canvas.0 as f32 / size.0 as f32;
    let sy = canvas.1 as f32 / size.1 as f32;
    let m = sample.xform.m;
    Sample {
        from: sample.from.clone(),
        xform: Affine {
            m: [m[0] * sx, m[1] * sy, m[2] * sx, m[3] * sy],
            t: sample.xform.t,
        },
        crop: sample.crop,
    }
}

/// Which preview plan a set of preview jobs draws, and how.
#[derive(Clone, Copy)]
pub(super) struct PreviewSet {
    /// The plan's slot set.
    pub(super) index: usize,
    /// Its first target in the frame's [`Target::Preview`] list.
    pub(super) first_target: usize,
    /// Keep the taps' alpha (premultiplied) instead of compositing over black.
    pub(super) alpha: bool,
}

/// The jobs of a preview plan: its passes into its own slots (`inputs.slots`), then per
/// target a copy of its tap scaled to its size (over black unless `of.alpha`) into
/// [`Target::Preview`]`(k)`, `k` counting from `of.first_target`. The plan's feeds and output
/// are not drawn.
pub(super) fn preview_jobs(
    plan: &RenderPlan,
    of: PreviewSet,
    targets: &[((u32, u32), &Sample)],
    inputs: &Inputs,
    clock: FrameClock,
    warned: &mut Warned,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    plan_jobs(
        plan,
        |s| Target::PreviewSlot(of.index, s),
        inputs,
        clock,
        &mut jobs,
        warned,
    );
    for (k, &(size, sample)) in targets.iter().enumerate() {
        let mut job = Job::new(
            Kind::Copy,
            Target::Preview(of.first_target + k),
            vec![scaled_to(sample, plan.canvas, size)],
            vec![inputs.resolve(&sample.from)],
            size,
            clock,
        );
        job.keep_alpha = of.alpha;
        jobs.push(job);
    }
    jobs
}

/// Appends the jobs of one plan. Passes that cannot run (a slot out of range, or a pass reading
/// the slot it writes) are skipped with a warning.
fn plan_jobs(
    plan: &RenderPlan,
    slot: impl Fn(usize) -> Target,
    inputs: &Inputs,
    clock: FrameClock,
    jobs: &mut Vec<Job>,
    warned: &mut Warned,
) {
    for pass in &plan.passes {
        let target = pass.target.0 as usize;
        let reads_target = pass
            .inputs
            .iter()
            .any(|s| s.from == Operand::Slot(pass.target));
        if target >= inputs.slots.len() || reads_target {
            if warned.first(format!("skip {}", pass.node)) {
                warn!(
                    "node {}: pass skipped (slot {} out of range or read while written)",
                    pass.node, pass.target.0
                );
            }
            continue;
        }
        let samples: Vec<Sample> = pass.inputs.iter().take(MAX_PASS_INPUTS).cloned().collect();
        let resolved = samples.iter().map(|s| inputs.resolve(&s.from)).collect();
        let mut job = Job::new(
            Kind::of(&pass.op),
            slot(target),
            samples,
            resolved,
            plan.canvas,
            clock,
        );
        job.params.set_op(&pass.op);
        if let PassOp::Blend(layers) = &pass.op {
            for (m, (mode, _)) in job.modes.iter_mut().zip(layers) {
                *m = blend_mode_index(*mode);
            }
            // Layers beyond the inputs (or inputs beyond the layers) are not drawn.
            job.inputs.truncate(layers.len());
            job.resolved.truncate(layers.len());
        }
        jobs.push(job);
    }
}

/// Keys of the plan problems already logged (one line per node and problem, not one per
/// frame). Bounded, so a show that keeps producing new problems cannot grow it without end
/// (past the bound, problems log again).
#[derive(Resource, Default)]
pub(super) struct Warned(HashSet<String>);

impl Warned {
    const MAX: usize = 1024;

    /// Whether `key` is new (and so should be logged); remembers it.
    pub(super) fn first(&mut self, key: String) -> bool {
        if self.0.len() >= Self::MAX {
            self.0.clear();
        }
        self.0.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each node's problem is logged once, and a second node's problem still is.
    #[test]
    fn plan_problems_warn_once_per_node() {
        let mut w = Warned::default();
        assert!(w.first("skip a".into()));
        assert!(!w.first("skip a".into()), "the same problem again");
        assert!(w.first("skip b".into()), "another node's problem");
    }

    fn key(kind: Kind, n: u32, load: u32, last: bool) -> VariantKey {
        VariantKey {
            kind,
            n,
            srgb: 0,
            straight: 0,
            crop: 0,
            load,
            pack: 0,
            modes: [0; MAX_PASS_INPUTS],
            last,
        }
    }

    /// A fused frame (the blend writes the output) warms the blend writing a slot and the
    /// final pass of every transition kind reading two slots 1:1.
    #[test]
    fn a_fused_frame_warms_its_slot_twin_and_every_transition() {
        let solid = key(Kind::Solid, 0, 0, false);
        let blend = key(Kind::Blend, 2, 0b11, true);
        let warm = transition_variants(&[(solid, Target::Slot(0)), (blend, Target::Output)]);
        assert_eq!(
            warm[0],
            VariantKey {
                last: false,
                ..blend
            }
        );
        let modes: Vec<u32> = warm[1..].iter().map(|k| k.modes[0]).collect();
        assert_eq!(modes, TRANSITION_MODES);
        for k in &warm[1..] {
            assert_eq!(
                (k.kind, k.n, k.load, k.last),
                (Kind::Program, 2, 0b11, true)
            );
        }
    }

    /// An unfused frame's final pass is the base: its input flags are doubled; feeds and
    /// previews (which also write over black) are not the program's.
    #[test]
    fn an_unfused_frame_warms_transitions_from_its_final_pass() {
        let mut program = key(Kind::Program, 1, 0, true);
        program.crop = 1;
        let copy = key(Kind::Copy, 1, 1, true);
        let warm = transition_variants(&[
            (copy, Target::Feed(0)),
            (copy, Target::Preview(0)),
            (program, Target::Output),
        ]);
        assert_eq!(warm.len(), TRANSITION_MODES.len());
        assert!(
            warm.iter()
                .all(|k| k.crop == 0b11 && k.load == 0 && k.n == 2)
        );
        assert!(transition_variants(&[(copy, Target::Feed(0))]).is_empty());
    }
}
