//! The prompts of a Scope node while the T-bar is part-way between two scenes. A timed
//! transition knows its length, so its prompt change is one Scope transition of as many calls
//! (`lock_step` in `scope.rs`); a hand on the T-bar does not, so the prompts follow the bar
//! instead: both scenes' prompts at once, weighted by where the bar stands. Scope blends a
//! weighted prompt list in embedding space (slerp for exactly two prompts,
//! `docs/scope-api.md` §4.2), so the picture moves with the bar, forwards and back.

use std::time::{Duration, Instant};

use show::node::{Prompt, prompt_shares};

/// Steps of the bar the prompts follow: a whole pull sends at most this many + 1 updates.
pub(super) const STEPS: f32 = 20.0;
/// At most one update per this long while the bar moves (Scope queues 8 updates and drops the
/// rest, `docs/scope-api.md` §4.1).
pub(super) const MIN_GAP: Duration = Duration::from_millis(100);

/// `from` at `1 - t` and `to` at `t`, each list as Scope shares it out ([`prompt_shares`]). A text in both lists is listed once with the
/// sum of its weights. At `t` = 0 or 1 only one side is left.
pub(super) fn blend(from: &[Prompt], to: &[Prompt], t: f32) -> Vec<Prompt> {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        1.0
    };
    let mut out: Vec<Prompt> = Vec::new();
    for (list, share) in [(from, 1.0 - t), (to, t)] {
        for (p, own) in list.iter().zip(prompt_shares(list)) {
            let weight = own * share;
            if weight <= 0.0 {
                continue;
            }
            match out.iter_mut().find(|q| q.text == p.text) {
                Some(q) => q.weight += weight,
                None => out.push(Prompt {
                    text: p.text.clone(),
                    weight,
                }),
            }
        }
    }
    out
}

/// The bar's position in [`STEPS`] (so a jittering hand does not send a stream of updates).
pub(super) fn step(t: f32) -> u32 {
    (t.clamp(0.0, 1.0) * STEPS).round() as u32
}

/// Limits updates while the bar moves to one per [`MIN_GAP`].
#[derive(Debug, Default)]
pub(super) struct Gate {
    last: Option<Instant>,
}

impl Gate {
    /// Whether an update may go now; if so, it counts as sent.
    pub(super) fn open(&mut self, now: Instant) -> bool {
        if self.last.is_some_and(|t| now.duration_since(t) < MIN_GAP) {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, weight: f32) -> Prompt {
        Prompt {
            text: text.into(),
            weight,
        }
    }

    fn close(a: &[Prompt], b: &[Prompt]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.text == y.text && (x.weight - y.weight).abs() < 1e-6)
    }

    #[test]
    fn the_blend_weights_each_scene_by_the_bar() {
        let a = [p("scene a", 1.0)];
        let b = [p("scene b", 3.0), p("neon", 1.0)];
        assert!(close(&blend(&a, &b, 0.0), &[p("scene a", 1.0)]));
        assert!(close(
            &blend(&a, &b, 0.25),
            &[p("scene a", 0.75), p("scene b", 0.1875), p("neon", 0.0625)]
        ));
        assert!(close(
            &blend(&a, &b, 1.0),
            &[p("scene b", 0.75), p("neon", 0.25)]
        ));
        let sum: f32 = blend(&a, &b, 0.6).iter().map(|p| p.weight).sum();
        assert!((sum - 1.0).abs() < 1e-6);
    }

    #[test]
    fn shared_texts_zero_weights_and_bad_positions() {
        let a = [p("same", 1.0)];
        let b = [p("same", 1.0), p("new", 1.0)];
        assert!(close(
            &blend(&a, &b, 0.5),
            &[p("same", 0.75), p("new", 0.25)]
        ));
        // All-zero weights count as equal, as Scope treats them.
        let z = [p("x", 0.0), p("y", 0.0)];
        assert!(close(&blend(&z, &[], 0.0), &[p("x", 0.5), p("y", 0.5)]));
        assert!(close(&blend(&a, &b, f32::NAN), &blend(&a, &b, 1.0)));
        assert!(close(&blend(&a, &b, -3.0), &a));
    }

    #[test]
    fn the_bar_moves_in_twentieths_and_at_most_ten_updates_a_second() {
        assert_eq!(step(0.0), 0);
        assert_eq!(step(0.51), 10);
        assert_eq!(step(0.524), 10);
        assert_eq!(step(1.0), 20);
        let t0 = Instant::now();
        let mut g = Gate::default();
        assert!(g.open(t0));
        assert!(!g.open(t0 + Duration::from_millis(50)));
        assert!(g.open(t0 + Duration::from_millis(100)));
    }
}
