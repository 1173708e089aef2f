//! Constant-frame-rate pacing: which output slots a frame shown at a given show time fills.
//!
//! Slot `n` of the recording is shown at `start + n / fps`, `start` being the show time of the
//! first frame. A frame fills the first free slot at or before its time; slots it skipped over
//! repeat the previous frame. A frame whose slot is already written (the source runs faster
//! than the recording) is skipped. Pure arithmetic, so it is tested without a clock.

/// Beyond this many seconds of missing slots the timeline is rebased instead of repeating the
/// last frame for that long (a clock jump, or an encoder far behind real time).
pub(crate) const MAX_GAP_SECONDS: f64 = 10.0;

/// Slack so that a frame exactly on a slot boundary (`k / fps` in f32) lands in slot `k`.
const EPSILON: f64 = 1e-4;

/// Where the next frame goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pacer {
    fps: f64,
    /// Show time of slot 0; `None` until the first frame.
    start: Option<f64>,
    /// The first slot not written yet.
    next: u64,
}

/// What to do with one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Write the previous frame `repeats` more times, then this one.
    Write { repeats: u64 },
    /// Its slot is already written: the source runs faster than the recording.
    Skip,
}

impl Pacer {
    pub(crate) fn new(fps: u32) -> Pacer {
        Pacer {
            fps: f64::from(fps.max(1)),
            start: None,
            next: 0,
        }
    }

    /// Slots written so far.
    pub(crate) fn slots(&self) -> u64 {
        self.next
    }

    fn slot_at(&self, start: f64, time: f64) -> f64 {
        ((time - start) * self.fps + EPSILON).floor()
    }

    /// Places a frame shown at `time` (show clock, seconds).
    pub(crate) fn frame(&mut self, time: f64) -> Place {
        let start = *self.start.get_or_insert(time);
        let slot = self.slot_at(start, time);
        let next = self.next as f64;
        let max_gap = MAX_GAP_SECONDS * self.fps;
        if slot < next - self.fps || slot > next + max_gap || !slot.is_finite() {
            // The clock went back more than a second or jumped far ahead: continue the file
            // from here as if this frame came right after the last one.
            self.start = Some(time - next / self.fps);
            self.next += 1;
            return Place::Write { repeats: 0 };
        }
        if slot < next {
            return Place::Skip;
        }
        let repeats = (slot - next) as u64;
        self.next += repeats + 1;
        Place::Write { repeats }
    }

    /// No frame came and the show clock reads `now`: how many repeats of the last frame keep
    /// the recording up to `now - latency` (frames arrive that late from the GPU, and must not
    /// find their slots already taken by repeats).
    pub(crate) fn stalled(&mut self, now: f64, latency: f64) -> u64 {
        let Some(start) = self.start else { return 0 };
        let slot = self.slot_at(start, now - latency);
        let next = self.next as f64;
        if !slot.is_finite() || slot < next || slot > next + MAX_GAP_SECONDS * self.fps {
            return 0;
        }
        let repeats = (slot - next) as u64 + 1;
        self.next += repeats;
        repeats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_on_time_fill_one_slot_each() {
        let mut p = Pacer::new(30);
        for i in 0..90 {
            assert_eq!(
                p.frame(5.0 + f64::from(i as f32 / 30.0)),
                Place::Write { repeats: 0 },
                "frame {i}"
            );
        }
        assert_eq!(p.slots(), 90);
    }

    #[test]
    fn a_late_frame_repeats_the_last_and_a_fast_source_is_skipped() {
        let mut p = Pacer::new(10);
        assert_eq!(p.frame(0.0), Place::Write { repeats: 0 });
        // 0.35 s: slots 1 and 2 repeat frame 0, this one is slot 3.
        assert_eq!(p.frame(0.35), Place::Write { repeats: 2 });
        assert_eq!(p.frame(0.38), Place::Skip, "slot 3 is taken");
        assert_eq!(p.frame(0.41), Place::Write { repeats: 0 });
        assert_eq!(p.slots(), 5);
    }

    #[test]
    fn a_stall_repeats_up_to_the_clock_minus_latency() {
        let mut p = Pacer::new(10);
        assert_eq!(p.stalled(3.0, 0.2), 0, "nothing before the first frame");
        p.frame(1.0);
        assert_eq!(p.stalled(1.25, 0.2), 0);
        assert_eq!(p.stalled(1.5, 0.2), 3, "slots 1..=3");
        assert_eq!(p.stalled(1.5, 0.2), 0, "already filled");
        assert_eq!(
            p.frame(1.38),
            Place::Skip,
            "its slot was filled by the stall"
        );
        assert_eq!(p.frame(1.45), Place::Write { repeats: 0 });
    }

    #[test]
    fn clock_jumps_rebase_instead_of_repeating_for_ever() {
        let mut p = Pacer::new(30);
        p.frame(0.0);
        p.frame(1.0 / 30.0);
        assert_eq!(p.frame(1000.0), Place::Write { repeats: 0 });
        assert_eq!(p.frame(1000.0 + 1.0 / 30.0), Place::Write { repeats: 0 });
        assert_eq!(p.frame(2.0), Place::Write { repeats: 0 }, "backwards too");
        assert_eq!(p.slots(), 5);
        assert_eq!(p.stalled(1.0e9, 0.1), 0, "a far clock is not a stall");
    }
}
