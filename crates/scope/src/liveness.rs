//! When a session counts as stalled, and how long to wait before the next try.
//!
//! A Scope server never says that its output stopped (`docs/scope-api.md` §2, §7.2: OOM, the
//! pause bug and a killed server all just go quiet), so the client judges liveness from frame
//! arrivals alone. Two allowances: a new session gets a long first-frame grace (a restarted
//! server may still be warming up), a live one only a short one measured from the observed
//! frame rate.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Inter-frame gaps kept for the median (about 1 s at 30 fps).
const INTERVAL_HISTORY: usize = 32;

/// Arrival gaps of the last decoded frames; their median is the expected frame interval.
#[derive(Debug, Default)]
pub(crate) struct FrameIntervals {
    last: Option<Instant>,
    gaps: VecDeque<Duration>,
}

impl FrameIntervals {
    pub fn on_frame(&mut self, now: Instant) {
        if let Some(prev) = self.last {
            if self.gaps.len() == INTERVAL_HISTORY {
                self.gaps.pop_front();
            }
            self.gaps.push_back(now.saturating_duration_since(prev));
        }
        self.last = Some(now);
    }

    /// Median gap; `None` until two frames arrived.
    pub fn median(&self) -> Option<Duration> {
        let mut v: Vec<Duration> = self.gaps.iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        Some(v[v.len() / 2])
    }

    /// A new session has a new frame rate.
    pub fn reset(&mut self) {
        *self = FrameIntervals::default();
    }
}

/// What the watchdog sees on one tick.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Observation {
    pub now: Instant,
    /// Last decoded frame of this session.
    pub last_frame: Option<Instant>,
    /// Median inter-frame interval of this session.
    pub frame_interval: Option<Duration>,
    /// Last frame we encoded and sent (any session).
    pub last_sent: Option<Instant>,
    /// Our own pause is on.
    pub paused: bool,
    /// The pipeline only produces output for our input (video mode).
    pub needs_input: bool,
}

/// A stall verdict: how long the server was silent, and what it was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stall {
    pub silent: Duration,
    pub allowed: Duration,
    /// No frame at all yet (the first-frame grace ran out).
    pub first_frame: bool,
}

/// Decides when a session is stalled. Time during which we starve a video pipeline (our pause,
/// or no app frames to send) is not held against the server.
#[derive(Debug, Clone)]
pub(crate) struct Watchdog {
    started: Instant,
    first_frame_timeout: Duration,
    stall_threshold: Duration,
    /// Last tick on which the server owed us nothing (we were not feeding it).
    excused_at: Option<Instant>,
}

impl Watchdog {
    pub fn new(started: Instant, first_frame_timeout: Duration, stall_threshold: Duration) -> Self {
        Watchdog {
            started,
            first_frame_timeout,
            stall_threshold,
            excused_at: None,
        }
    }

    /// A runtime config change (no new session needed).
    pub fn set_limits(&mut self, first_frame_timeout: Duration, stall_threshold: Duration) {
        self.first_frame_timeout = first_frame_timeout;
        self.stall_threshold = stall_threshold;
    }

    /// Steady-state allowance: twice the usual frame gap (slow pipelines, bursty chunks), but
    /// never less than the configured threshold.
    pub fn allowance(&self, frame_interval: Option<Duration>) -> Duration {
        frame_interval
            .map(|i| i.saturating_mul(2))
            .unwrap_or_default()
            .max(self.stall_threshold)
    }

    pub fn check(&mut self, o: &Observation) -> Option<Stall> {
        let (reference, allowed) = match o.last_frame {
            None => (self.started, self.first_frame_timeout),
            Some(t) => (t.max(self.started), self.allowance(o.frame_interval)),
        };
        // Before the first frame only our pause excuses the server: a connection that never
        // comes up must still time out even though the encoder has not sent anything.
        let starved = o.last_frame.is_some()
            && o.last_sent
                .is_none_or(|t| o.now.saturating_duration_since(t) > allowed);
        if o.needs_input && (o.paused || starved) {
            self.excused_at = Some(o.now);
        }
        let reference = self.excused_at.map_or(reference, |e| e.max(reference));
        let silent = o.now.saturating_duration_since(reference);
        (silent > allowed).then_some(Stall {
            silent,
            allowed,
            first_frame: o.last_frame.is_none(),
        })
    }
}

/// Reconnect backoff: 1, 2, 4, 8, 8, … s. Reset once a session delivers its first frame, so
/// one bad stretch does not slow every later recovery.
#[derive(Debug, Default, Clone)]
pub(crate) struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// Counts one more attempt and returns its number and delay.
    pub fn next_delay(&mut self) -> (u32, Duration) {
        self.attempt = self.attempt.saturating_add(1);
        let delay = Duration::from_secs(1u64 << self.attempt.saturating_sub(1).min(3));
        (self.attempt, delay)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn backoff_is_1_2_4_8_capped() {
        let mut b = Backoff::default();
        let s: Vec<u64> = (1..=6).map(|_| b.next_delay().1.as_secs()).collect();
        assert_eq!(s, vec![1, 2, 4, 8, 8, 8]);
        assert_eq!(b.next_delay(), (7, Duration::from_secs(8)));
    }

    #[test]
    fn backoff_resets_on_success() {
        let mut b = Backoff::default();
        for _ in 0..4 {
            b.next_delay();
        }
        b.reset();
        assert_eq!(b.next_delay(), (1, Duration::from_secs(1)));
    }

    #[test]
    fn median_interval() {
        let mut f = FrameIntervals::default();
        let t = Instant::now();
        assert_eq!(f.median(), None);
        // Gaps 33, 33, 34, 500, 33 ms: one late frame does not move the median.
        for at in [0u32, 33, 66, 100, 600, 633] {
            f.on_frame(t + at * MS);
        }
        assert_eq!(f.median(), Some(33 * MS));
        f.reset();
        assert_eq!(f.median(), None);
    }

    fn obs(now: Instant, last_frame: Option<Instant>, last_sent: Option<Instant>) -> Observation {
        Observation {
            now,
            last_frame,
            frame_interval: Some(33 * MS),
            last_sent,
            paused: false,
            needs_input: true,
        }
    }

    #[test]
    fn first_frame_gets_the_grace_period() {
        let t = Instant::now();
        let mut w = Watchdog::new(t, 10_000 * MS, 500 * MS);
        // Server warming up: no frame for 3 s is fine, 10 s is not.
        assert_eq!(w.check(&obs(t + 3_000 * MS, None, None)), None);
        let s = w.check(&obs(t + 10_001 * MS, None, None));
        assert!(s.is_some_and(|s| s.first_frame && s.allowed == 10_000 * MS));
    }

    #[test]
    fn steady_state_stall_after_threshold() {
        let t = Instant::now();
        let mut w = Watchdog::new(t, 10_000 * MS, 500 * MS);
        let last = t + 2_000 * MS;
        let sent = |dt: u32| Some(t + dt * MS);
        assert_eq!(w.check(&obs(t + 2_400 * MS, Some(last), sent(2_390))), None);
        let s = w.check(&obs(t + 2_501 * MS, Some(last), sent(2_490)));
        assert_eq!(
            s,
            Some(Stall {
                silent: 501 * MS,
                allowed: 500 * MS,
                first_frame: false
            })
        );
    }

    #[test]
    fn slow_pipelines_get_twice_their_interval() {
        let w = Watchdog::new(Instant::now(), 10_000 * MS, 500 * MS);
        assert_eq!(w.allowance(Some(33 * MS)), 500 * MS);
        assert_eq!(w.allowance(Some(1_000 * MS)), 2_000 * MS);
        assert_eq!(w.allowance(None), 500 * MS);
    }

    #[test]
    fn starving_a_video_pipeline_is_not_a_stall() {
        let t = Instant::now();
        let mut w = Watchdog::new(t, 10_000 * MS, 500 * MS);
        let last = Some(t + 1_000 * MS);
        // The app stopped sending at 1.0 s: 3 s later still no stall.
        for dt in (1_000..4_000).step_by(20) {
            assert_eq!(w.check(&obs(t + dt * MS, last, last)), None, "at {dt} ms");
        }
        // Input resumes at 4.0 s; the server gets the full allowance from then.
        assert_eq!(
            w.check(&obs(t + 4_400 * MS, last, Some(t + 4_390 * MS))),
            None
        );
        assert!(
            w.check(&obs(t + 4_600 * MS, last, Some(t + 4_590 * MS)))
                .is_some()
        );
        // Text mode needs no input: silence is a stall.
        let mut w = Watchdog::new(t, 10_000 * MS, 500 * MS);
        let text = Observation {
            needs_input: false,
            ..obs(t + 1_600 * MS, last, last)
        };
        assert!(w.check(&text).is_some());
    }

    #[test]
    fn our_pause_excuses_the_server() {
        let t = Instant::now();
        let mut w = Watchdog::new(t, 10_000 * MS, 500 * MS);
        let paused = |now: u32| Observation {
            paused: true,
            ..obs(t + now * MS, None, None)
        };
        assert_eq!(w.check(&paused(20_000)), None);
    }
}
