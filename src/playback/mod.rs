//! The active scene, scene switching with transitions, and the frame clock.
//!
//! Switching rule (a switch while a transition runs): going back to the scene the transition
//! comes *from* reverses it from where it is (same kind and duration): fades and fades
//! through a colour continue without a jump, a wipe continues from the mirrored edge; any other target starts a new
//! transition from the scene that is dominant on screen at that moment (the old source before
//! the midpoint, the old target after it), so the picture jumps by at most half a mix.
//! Selecting the scene already being shown (or transitioned to) does nothing.
//!
//! Studio mode (a preview scene beside the program, Take, Auto and the T-bar) is in [`studio`].

use std::sync::Arc;

use bevy::prelude::*;
use show::RenderPlan;
use show::scene::TransitionKind;

use crate::AppSystems;
use crate::control::ShowCommand;
use crate::render::{FrameClock, Program, ProgramTransition, WarmPlans};
use crate::showfile::CurrentShow;

mod studio;

/// Which scene plays and how far a transition into it has got.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct Playback {
    /// Index of the scene being shown (or transitioned to): the program.
    pub scene: usize,
    pub transition: Option<Transition>,
    /// The scene in preview (studio mode), shown in the console and taken to program by
    /// Take, Auto or the T-bar. `None`: no studio mode, scenes go straight to program.
    pub preview: Option<usize>,
}

/// A running transition into [`Playback::scene`].
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from_scene: usize,
    /// The plan the transition started from, kept even if a reload changes the show.
    pub from_plan: Arc<RenderPlan>,
    pub kind: TransitionKind,
    /// Seconds.
    pub duration: f32,
    /// Seconds since the start.
    pub elapsed: f32,
    /// Driven by the T-bar ([`Playback::tbar`]), not by the clock.
    pub manual: bool,
}

impl Transition {
    pub fn progress(&self) -> f32 {
        if self.duration <= 0.0 {
            1.0
        } else {
            (self.elapsed / self.duration).clamp(0.0, 1.0)
        }
    }
}

impl Playback {
    pub fn new(scene: usize) -> Self {
        Playback {
            scene,
            transition: None,
            preview: None,
        }
    }

    /// Starts switching to `target`, following the rule in the module docs. Taking the preview
    /// scene this way swaps it with the program, as Take does.
    pub fn switch_to(&mut self, target: usize, plans: &[Arc<RenderPlan>], into: &show::Scene) {
        let old = self.scene;
        self.switch(target, plans, into.transition);
        if self.scene != old && self.preview == Some(self.scene) {
            self.preview = Some(old);
        }
    }

    fn switch(&mut self, target: usize, plans: &[Arc<RenderPlan>], with: show::scene::Transition) {
        if target == self.scene || target >= plans.len() {
            return;
        }
        // Reverse: play the running mix backwards from where it is now (same kind and
        // duration, whatever the target's own transition, so nothing jumps).
        if let Some(t) = &self.transition
            && t.from_scene == target
        {
            let Some(plan) = plans.get(self.scene) else {
                return;
            };
            let progress = t.progress();
            // Reversing a transition that had not started yet is already complete.
            self.transition = (progress > 0.0).then(|| Transition {
                from_scene: self.scene,
                from_plan: plan.clone(),
                kind: t.kind,
                duration: t.duration,
                elapsed: (1.0 - progress) * t.duration,
                manual: false,
            });
            self.scene = target;
            return;
        }
        let (kind, duration) = (with.kind, with.duration);
        if kind == TransitionKind::Cut || duration <= 0.0 {
            self.scene = target;
            self.transition = None;
            return;
        }
        let from_scene = match &self.transition {
            Some(t) if t.progress() < 0.5 => t.from_scene,
            _ => self.scene,
        };
        let from_plan = match &self.transition {
            Some(t) if t.from_scene == from_scene => t.from_plan.clone(),
            _ => match plans.get(from_scene) {
                Some(p) => p.clone(),
                None => return,
            },
        };
        self.scene = target;
        self.transition = Some(Transition {
            from_scene,
            from_plan,
            kind,
            duration,
            elapsed: 0.0,
            manual: false,
        });
    }

    /// Advances a running transition by `dt` seconds; ends it when done. A T-bar transition
    /// stays where the bar is.
    pub fn advance(&mut self, dt: f32) {
        if let Some(t) = &mut self.transition
            && !t.manual
        {
            t.elapsed += dt;
            if t.progress() >= 1.0 {
                self.transition = None;
            }
        }
    }
}

/// Scenes the console shows off program: their live sources are published as well, so those
/// pictures are live.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct MonitoredScenes {
    /// Looked at: the preview monitor, the edited scene's thumbnails and viewer.
    pub shown: Vec<usize>,
    /// Only glanced at, in small tiles (the multiview). Costly per-frame work that the
    /// picture does not need to be live for (segmentation) is not started for these.
    pub glanced: Vec<usize>,
}

/// Drives [`FrameClock`] from real time; absent when a caller (the `render` command) sets the
/// clock itself.
#[derive(Resource, Debug, Default)]
pub struct LiveClock;

/// Keys `1`–`9` cut to scenes (through [`ShowCommand`]); [`Program`] follows [`Playback`] each frame.
pub struct PlaybackPlugin {
    /// The scene to start with.
    pub start_scene: usize,
    /// Whether the clock runs on real time (`play`) or is set by the caller (`render`).
    pub live_clock: bool,
}

impl Plugin for PlaybackPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Playback::new(self.start_scene))
            .insert_resource(SceneKeys)
            .add_systems(
                Update,
                (
                    scene_keys
                        .in_set(AppSystems::Input)
                        .run_if(resource_exists::<SceneKeys>),
                    (keep_scene_on_reload, advance_transition, update_program)
                        .chain()
                        .in_set(AppSystems::Playback),
                ),
            );
        if self.live_clock {
            app.init_resource::<LiveClock>().add_systems(
                Update,
                tick_clock
                    .in_set(AppSystems::Playback)
                    .run_if(resource_exists::<LiveClock>),
            );
        }
    }
}

const SCENE_KEYS: [KeyCode; 9] = [
    KeyCode::Digit1,
    KeyCode::Digit2,
    KeyCode::Digit3,
    KeyCode::Digit4,
    KeyCode::Digit5,
    KeyCode::Digit6,
    KeyCode::Digit7,
    KeyCode::Digit8,
    KeyCode::Digit9,
];

/// Keys `1`–`9` send [`ShowCommand::Cut`], `PageDown`/`→` and `PageUp`/`←` cut to the next
/// and previous scene (so a show of more than nine scenes reaches them all); absent while the
/// console owns the keyboard.
#[derive(Resource, Debug, Clone, Copy)]
pub struct SceneKeys;

fn scene_keys(
    keys: Option<Res<ButtonInput<KeyCode>>>,
    playback: Res<Playback>,
    show: Res<CurrentShow>,
    mut commands: MessageWriter<ShowCommand>,
) {
    let Some(keys) = keys else { return };
    if let Some(c) = key_command(&keys, playback.scene, show.0.show.scenes.len()) {
        commands.write(c);
    }
}

/// The cut the keys pressed this frame ask for, with `current` on program of `count` scenes.
fn key_command(keys: &ButtonInput<KeyCode>, current: usize, count: usize) -> Option<ShowCommand> {
    if let Some(target) = SCENE_KEYS.iter().position(|k| keys.just_pressed(*k)) {
        return Some(ShowCommand::Cut(target));
    }
    let any = |ks: [KeyCode; 2]| ks.iter().any(|k| keys.just_pressed(*k));
    if any([KeyCode::PageDown, KeyCode::ArrowRight]) && current + 1 < count {
        return Some(ShowCommand::Cut(current + 1));
    }
    if any([KeyCode::PageUp, KeyCode::ArrowLeft]) && current > 0 {
        return Some(ShowCommand::Cut(current - 1));
    }
    None
}

/// After a reload, stay on the scene with the same name (scenes may have been reordered).
fn keep_scene_on_reload(
    show: Res<CurrentShow>,
    mut playback: ResMut<Playback>,
    mut last_names: Local<Vec<String>>,
) {
    if !show.is_changed() {
        return;
    }
    let names: Vec<String> = show.0.show.scenes.iter().map(|s| s.name.clone()).collect();
    if let Some(old) = last_names.get(playback.scene) {
        let index = names
            .iter()
            .position(|n| n == old)
            .unwrap_or(playback.scene.min(names.len().saturating_sub(1)));
        playback.scene = index;
    }
    if let Some(t) = &mut playback.transition
        && let Some(old) = last_names.get(t.from_scene)
    {
        t.from_scene = names.iter().position(|n| n == old).unwrap_or(usize::MAX);
    }
    // A preview scene that was deleted leaves studio mode's preview empty, never another scene.
    if let Some(p) = playback.preview
        && let Some(old) = last_names.get(p)
    {
        playback.preview = names.iter().position(|n| n == old);
    }
    *last_names = names;
}

fn advance_transition(time: Res<Time>, mut playback: ResMut<Playback>) {
    if playback.transition.is_some() {
        playback.advance(time.delta_secs());
    }
}

/// Writes the plans to draw into [`Program`], only when they change.
fn update_program(
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    mut program: ResMut<Program>,
    warm: Option<ResMut<WarmPlans>>,
) {
    if !show.is_changed() && !playback.is_changed() {
        return;
    }
    // Every scene of a new show can be switched to: compile its pipelines ahead.
    if show.is_changed()
        && let Some(mut warm) = warm
    {
        warm.0.clone_from(&show.0.plans);
    }
    let plan = show.0.plans.get(playback.scene).cloned();
    let transition = playback.transition.as_ref().map(|t| ProgramTransition {
        from: t.from_plan.clone(),
        kind: t.kind,
        progress: t.progress(),
    });
    program.plan = plan;
    program.transition = transition;
}

fn tick_clock(time: Res<Time>, mut clock: ResMut<FrameClock>) {
    clock.time = time.elapsed_secs();
    clock.frame += 1;
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn keys_cut_by_number_and_step_through_every_scene() {
        let press = |k: KeyCode, current, count| {
            let mut keys = ButtonInput::<KeyCode>::default();
            keys.press(k);
            key_command(&keys, current, count)
        };
        assert_eq!(press(KeyCode::Digit3, 0, 12), Some(ShowCommand::Cut(2)));
        // Scene 10 of 12 and beyond by stepping.
        assert_eq!(press(KeyCode::PageDown, 9, 12), Some(ShowCommand::Cut(10)));
        assert_eq!(
            press(KeyCode::ArrowRight, 10, 12),
            Some(ShowCommand::Cut(11))
        );
        assert_eq!(
            press(KeyCode::PageDown, 11, 12),
            None,
            "no scene after the last"
        );
        assert_eq!(
            press(KeyCode::ArrowLeft, 11, 12),
            Some(ShowCommand::Cut(10))
        );
        assert_eq!(press(KeyCode::PageUp, 0, 12), None);
    }
    use show::scene::Transition as SceneTransition;

    pub(super) fn plan(n: u32) -> Arc<RenderPlan> {
        Arc::new(RenderPlan {
            canvas: (n, n),
            passes: Vec::new(),
            slot_count: 0,
            output: show::plan::Sample {
                from: show::plan::Operand::Slot(show::plan::SlotId(0)),
                xform: show::plan::Affine::canvas((n, n)),
                crop: [0.0, 0.0, 1.0, 1.0],
            },
            externals: Vec::new(),
            feeds: Vec::new(),
        })
    }

    fn scene(kind: TransitionKind, duration: f32) -> show::Scene {
        show::Scene {
            name: "s".into(),
            transition: SceneTransition { kind, duration },
            scope: None,
            nodes: Default::default(),
            edges: Vec::new(),
        }
    }

    #[test]
    fn cut_switches_at_once() {
        let plans = [plan(1), plan(2)];
        let mut p = Playback::new(0);
        p.switch_to(1, &plans, &scene(TransitionKind::Cut, 2.0));
        assert_eq!(p, Playback::new(1));
    }

    #[test]
    fn fade_runs_its_duration_then_ends() {
        let plans = [plan(1), plan(2)];
        let mut p = Playback::new(0);
        p.switch_to(1, &plans, &scene(TransitionKind::Fade, 2.0));
        p.advance(0.5);
        let t = p.transition.clone().unwrap();
        assert_eq!((p.scene, t.from_scene), (1, 0));
        assert!((t.progress() - 0.25).abs() < 1e-6);
        assert_eq!(t.from_plan, plans[0]);
        p.advance(1.6);
        assert_eq!(p.transition, None);
    }

    #[test]
    fn switching_back_reverses_without_a_jump() {
        let plans = [plan(1), plan(2)];
        let mut p = Playback::new(0);
        p.switch_to(1, &plans, &scene(TransitionKind::Wipe, 1.0));
        p.advance(0.3);
        p.switch_to(0, &plans, &scene(TransitionKind::Wipe, 1.0));
        let t = p.transition.clone().unwrap();
        // On screen: 30 % of scene 1 over scene 0 before; after: scene 1 -> 0 at 70 %.
        assert_eq!((p.scene, t.from_scene), (0, 1));
        assert!((t.progress() - 0.7).abs() < 1e-6);
        assert_eq!(t.from_plan, plans[1]);
    }

    #[test]
    fn third_target_starts_from_the_dominant_scene() {
        let plans = [plan(1), plan(2), plan(3)];
        let fade = scene(TransitionKind::Fade, 1.0);
        let mut p = Playback::new(0);
        p.switch_to(1, &plans, &fade);
        p.advance(0.2);
        p.switch_to(2, &plans, &fade);
        let t = p.transition.clone().unwrap();
        assert_eq!((p.scene, t.from_scene, t.elapsed), (2, 0, 0.0));

        let mut p = Playback::new(0);
        p.switch_to(1, &plans, &fade);
        p.advance(0.8);
        p.switch_to(2, &plans, &fade);
        let t = p.transition.clone().unwrap();
        assert_eq!((p.scene, t.from_scene), (2, 1));
        assert_eq!(t.from_plan, plans[1]);
    }

    #[test]
    fn selecting_the_current_scene_or_a_missing_one_does_nothing() {
        let plans = [plan(1), plan(2)];
        let fade = scene(TransitionKind::Fade, 1.0);
        let mut p = Playback::new(0);
        p.switch_to(0, &plans, &fade);
        p.switch_to(5, &plans, &fade);
        assert_eq!(p, Playback::new(0));
    }

    /// What is on screen as weights per scene (a transition mixes two).
    fn weights(p: &Playback, n: usize) -> Vec<f32> {
        let mut w = vec![0.0; n];
        match &p.transition {
            Some(t) => {
                w[t.from_scene] += 1.0 - t.progress();
                w[p.scene] += t.progress();
            }
            None => w[p.scene] = 1.0,
        }
        w
    }

    proptest::proptest! {
        /// Any sequence of key presses and frame times keeps a valid state, and a switch
        /// changes the picture by at most half a mix (none at all when reversing).
        #[test]
        fn random_switching_stays_valid(
            steps in proptest::collection::vec((0usize..4, 0.0f32..0.7, proptest::bool::ANY), 1..40)
        ) {
            let plans: Vec<_> = (0..3).map(plan).collect();
            let fade = scene(TransitionKind::Fade, 1.0);
            let mut p = Playback::new(0);
            for (target, dt, press) in steps {
                if press {
                    let before = weights(&p, 3);
                    let reversing = p.transition.as_ref().is_some_and(|t| t.from_scene == target);
                    p.switch_to(target, &plans, &fade);
                    let after = weights(&p, 3);
                    let jump = before.iter().zip(&after).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
                    proptest::prop_assert!(jump <= 0.5 + 1e-5, "jump {jump}");
                    if reversing {
                        proptest::prop_assert!(jump < 1e-5, "reversal jumped by {jump}");
                    }
                } else {
                    p.advance(dt);
                }
                proptest::prop_assert!(p.scene < 3);
                if let Some(t) = &p.transition {
                    proptest::prop_assert!(t.from_scene < 3 && t.from_scene != p.scene);
                    proptest::prop_assert!((0.0..1.0).contains(&t.progress()));
                    proptest::prop_assert_eq!(&t.from_plan, &plans[t.from_scene]);
                }
            }
        }
    }
}
