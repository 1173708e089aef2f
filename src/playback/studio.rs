//! Studio mode, as in OBS and vMix: a preview scene beside the program, and three ways to put
//! it on program.
//!
//! - **Take** cuts: the preview goes to program and the old program to preview. During a
//!   transition it finishes the transition at once.
//! - **Auto** runs a transition (the target scene's own, or one the operator picked) from
//!   program to preview; the two swap when it starts, so during it "program" is the incoming
//!   scene and "preview" the outgoing one.
//! - **The T-bar** drives the same transition by hand, forwards and back: moving it off 0
//!   starts it (a scene entered by a cut is mixed with a 1 s fade, since a cut has no middle),
//!   every position sets the mix, reaching 1 completes it (the swap stays) and returning to 0
//!   cancels it (the swap is undone). A surface without a release (a MIDI fader) therefore
//!   behaves like the console's slider. The T-bar does nothing while an Auto runs.

use std::sync::Arc;

use show::RenderPlan;
use show::scene::{Transition as SceneTransition, TransitionKind};

use super::{Playback, Transition};

/// The fade a T-bar uses for a scene entered by a cut.
const TBAR_FADE: SceneTransition = SceneTransition {
    kind: TransitionKind::Fade,
    duration: 1.0,
};

impl Playback {
    /// Puts `scene` in preview. A scene that does not exist is refused (`false`).
    pub fn set_preview(&mut self, scene: usize, scene_count: usize) -> bool {
        if scene >= scene_count {
            return false;
        }
        self.preview = Some(scene);
        true
    }

    /// Where the T-bar stands: the mix of a T-bar transition, 0 otherwise.
    pub fn tbar_position(&self) -> f32 {
        match &self.transition {
            Some(t) if t.manual => t.progress(),
            _ => 0.0,
        }
    }

    /// Take: cuts the preview to program (see the module docs).
    pub fn take(&mut self, plans: &[Arc<RenderPlan>]) {
        if self.transition.take().is_some() {
            return;
        }
        let cut = SceneTransition {
            kind: TransitionKind::Cut,
            duration: 0.0,
        };
        self.auto(plans, cut);
    }

    /// Auto: runs `with` from program to preview and swaps them (see the module docs).
    pub fn auto(&mut self, plans: &[Arc<RenderPlan>], with: SceneTransition) {
        if self.transition.is_some() {
            return;
        }
        let Some(target) = self.takeable(plans) else {
            return;
        };
        let old = self.scene;
        self.switch(target, plans, with);
        self.preview = Some(old);
    }

    /// The preview scene, when there is one to take (it exists and is not on program).
    fn takeable(&self, plans: &[Arc<RenderPlan>]) -> Option<usize> {
        self.preview
            .filter(|p| *p != self.scene && *p < plans.len())
    }

    /// Moves the T-bar to `position` (0..=1) for a transition `with` (see the module docs).
    pub fn tbar(&mut self, plans: &[Arc<RenderPlan>], position: f32, with: SceneTransition) {
        if !position.is_finite() {
            return;
        }
        let position = position.clamp(0.0, 1.0);
        match &mut self.transition {
            Some(t) if !t.manual => {}
            Some(t) => {
                if position >= 1.0 {
                    self.transition = None;
                } else if position <= 0.0 {
                    let from = t.from_scene;
                    self.transition = None;
                    self.preview = Some(self.scene);
                    self.scene = from;
                } else {
                    t.elapsed = position * t.duration;
                }
            }
            None => {
                if position <= 0.0 {
                    return;
                }
                let Some(target) = self.takeable(plans) else {
                    return;
                };
                let with = if with.kind == TransitionKind::Cut || with.duration <= 0.0 {
                    TBAR_FADE
                } else {
                    with
                };
                let old = self.scene;
                let Some(from_plan) = plans.get(old).cloned() else {
                    return;
                };
                self.scene = target;
                self.preview = Some(old);
                self.transition = (position < 1.0).then_some(Transition {
                    from_scene: old,
                    from_plan,
                    kind: with.kind,
                    duration: with.duration,
                    elapsed: position * with.duration,
                    manual: true,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playback::tests::plan;

    fn fade(duration: f32) -> SceneTransition {
        SceneTransition {
            kind: TransitionKind::Fade,
            duration,
        }
    }

    fn studio(program: usize, preview: usize) -> (Playback, Vec<Arc<RenderPlan>>) {
        let mut p = Playback::new(program);
        p.preview = Some(preview);
        (p, (0..4).map(plan).collect())
    }

    #[test]
    fn take_swaps_preview_and_program() {
        let (mut p, plans) = studio(0, 2);
        p.take(&plans);
        assert_eq!(
            (p.scene, p.preview, p.transition.is_none()),
            (2, Some(0), true)
        );
        p.take(&plans);
        assert_eq!((p.scene, p.preview), (0, Some(2)));
    }

    #[test]
    fn auto_runs_the_transition_then_take_finishes_one() {
        let (mut p, plans) = studio(0, 1);
        p.auto(&plans, fade(2.0));
        let t = p.transition.clone().unwrap();
        assert_eq!(
            (p.scene, p.preview, t.from_scene, t.manual),
            (1, Some(0), 0, false)
        );
        p.advance(1.0);
        assert!((p.transition.as_ref().unwrap().progress() - 0.5).abs() < 1e-6);
        // The T-bar does not fight a running Auto; Take completes it.
        p.tbar(&plans, 0.9, fade(2.0));
        assert!((p.transition.as_ref().unwrap().progress() - 0.5).abs() < 1e-6);
        p.take(&plans);
        assert_eq!(
            (p.scene, p.preview, p.transition.is_none()),
            (1, Some(0), true)
        );
    }

    #[test]
    fn tbar_mixes_by_hand_and_back() {
        let (mut p, plans) = studio(0, 3);
        p.tbar(&plans, 0.25, fade(2.0));
        assert_eq!((p.scene, p.preview), (3, Some(0)));
        assert!((p.tbar_position() - 0.25).abs() < 1e-6);
        // The clock does not move a hand-driven mix.
        p.advance(5.0);
        assert!((p.tbar_position() - 0.25).abs() < 1e-6);
        p.tbar(&plans, 0.6, fade(2.0));
        assert!((p.transition.as_ref().unwrap().progress() - 0.6).abs() < 1e-6);
        // Back to 0: nothing happened.
        p.tbar(&plans, 0.0, fade(2.0));
        assert_eq!(
            (p.scene, p.preview, p.transition.is_none()),
            (0, Some(3), true)
        );
        // Across to 1: taken, and the bar is back at rest.
        p.tbar(&plans, 0.5, fade(2.0));
        p.tbar(&plans, 1.0, fade(2.0));
        assert_eq!(
            (p.scene, p.preview, p.transition.is_none()),
            (3, Some(0), true)
        );
        assert_eq!(p.tbar_position(), 0.0);
    }

    #[test]
    fn tbar_on_a_cut_scene_fades_and_ignores_nan() {
        let (mut p, plans) = studio(1, 0);
        let cut = SceneTransition {
            kind: TransitionKind::Cut,
            duration: 0.0,
        };
        p.tbar(&plans, f32::NAN, cut);
        assert_eq!(p.transition, None);
        p.tbar(&plans, 0.5, cut);
        let t = p.transition.clone().unwrap();
        assert_eq!((t.kind, t.duration), (TransitionKind::Fade, 1.0));
    }

    #[test]
    fn nothing_to_take_without_a_distinct_preview() {
        let plans: Vec<_> = (0..2).map(plan).collect();
        let mut p = Playback::new(0);
        p.take(&plans);
        p.auto(&plans, fade(1.0));
        p.tbar(&plans, 0.5, fade(1.0));
        assert_eq!(p, Playback::new(0));
        assert!(!p.set_preview(2, 2));
        assert!(p.set_preview(0, 2));
        p.take(&plans);
        assert_eq!((p.scene, p.preview), (0, Some(0)));
    }

    #[derive(Debug, Clone)]
    enum Move {
        Preview(usize),
        Take,
        Auto,
        TBar(f32),
        Clock(f32),
        Cut(usize),
    }

    fn moves() -> impl proptest::strategy::Strategy<Value = Move> {
        use proptest::prelude::*;
        prop_oneof![
            (0usize..4).prop_map(Move::Preview),
            Just(Move::Take),
            Just(Move::Auto),
            prop_oneof![0.0f32..=1.0, Just(0.0), Just(1.0)].prop_map(Move::TBar),
            (0.0f32..0.8).prop_map(Move::Clock),
            (0usize..4).prop_map(Move::Cut),
        ]
    }

    fn scene(t: SceneTransition) -> show::Scene {
        show::Scene {
            name: "s".into(),
            transition: t,
            scope: None,
            nodes: Default::default(),
            edges: Vec::new(),
        }
    }

    proptest::proptest! {
        /// Any sequence of preview, Take, Auto, T-bar and clock moves ends in a consistent
        /// pair: program and preview are scenes of the show, a running transition comes from
        /// another scene with the plan of that scene, and a T-bar transition is always strictly
        /// between its ends.
        #[test]
        fn any_studio_sequence_stays_consistent(steps in proptest::collection::vec(moves(), 1..60)) {
            let plans: Vec<_> = (0..4).map(plan).collect();
            let mut p = Playback::new(0);
            for step in steps {
                match step {
                    Move::Preview(n) => { p.set_preview(n, plans.len()); }
                    Move::Take => p.take(&plans),
                    Move::Auto => p.auto(&plans, fade(1.0)),
                    Move::TBar(x) => p.tbar(&plans, x, fade(1.0)),
                    Move::Clock(dt) => p.advance(dt),
                    Move::Cut(n) => p.switch_to(n, &plans, &scene(fade(1.0))),
                }
                proptest::prop_assert!(p.scene < 4);
                proptest::prop_assert!(p.preview.is_none_or(|v| v < 4));
                if let Some(t) = &p.transition {
                    proptest::prop_assert!(t.from_scene < 4 && t.from_scene != p.scene);
                    proptest::prop_assert_eq!(&t.from_plan, &plans[t.from_scene]);
                    if t.manual {
                        proptest::prop_assert!(t.progress() > 0.0 && t.progress() < 1.0);
                    }
                }
            }
        }

        /// A T-bar pushed to 1 in any number of steps leaves the same state as an Auto that
        /// ran to its end.
        #[test]
        fn tbar_to_the_end_equals_auto(
            program in 0usize..4, preview in 0usize..4,
            path in proptest::collection::vec(0.0f32..1.0, 0..8),
        ) {
            let (mut by_hand, plans) = studio(program, preview);
            let (mut auto, _) = studio(program, preview);
            for x in path {
                by_hand.tbar(&plans, x, fade(1.0));
            }
            by_hand.tbar(&plans, 1.0, fade(1.0));
            auto.auto(&plans, fade(1.0));
            auto.advance(1.0);
            proptest::prop_assert_eq!(by_hand, auto);
        }
    }
}
