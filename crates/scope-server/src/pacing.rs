//! When each output frame goes out. A pipeline call returns its frames at once; they are
//! spread by their input timestamps from the moment the call returned, so a chunk plays at the
//! rate it was filmed. The spreading starts afresh with every call: a clock anchored once (on
//! the first frame) would keep whatever delay that frame had, and every later slow call would
//! add its own, so latency could only ratchet upwards. And it is newest-wins when the output
//! side falls behind: the real server drops *new* frames once its output queue is full, so a
//! slow encoder there sits on a full queue of stale picture (30 frames at 5 fps is 6 s); here
//! a frame that is already late is skipped when a newer one waits.

use std::time::{Duration, Instant};

use crate::pipeline::TimedFrame;

/// A frame due longer ago than this is late: skipped if a newer one waits, else sent at once.
pub(crate) const LATE: Duration = Duration::from_millis(100);

/// An output frame and when it is due.
pub(crate) struct Paced {
    pub frame: TimedFrame,
    pub due: Instant,
}

/// The frames of one call, each due at `ready` plus its timestamp's distance from the
/// chunk's earliest (a chunk spans at most a second of timestamps; more is a jump, sent at
/// once).
pub(crate) fn pace_chunk(frames: Vec<TimedFrame>, ready: Instant) -> Vec<Paced> {
    let first = frames.iter().map(|f| f.pts).min().unwrap_or_default();
    frames
        .into_iter()
        .map(|frame| {
            let after = frame.pts.saturating_sub(first);
            let due = if after <= Duration::from_secs(1) {
                ready + after
            } else {
                ready
            };
            Paced { frame, due }
        })
        .collect()
}

/// Takes the frame to send next: `first`, or while it is late the next of those waiting
/// (`newer` yields them oldest first). Returns it with the number of frames skipped.
pub(crate) fn newest_due(
    first: Paced,
    now: Instant,
    mut newer: impl FnMut() -> Option<Paced>,
) -> (Paced, u64) {
    let mut frame = first;
    let mut skipped = 0;
    while frame.due + LATE < now {
        match newer() {
            Some(next) => {
                frame = next;
                skipped += 1;
            }
            None => break,
        }
    }
    (frame, skipped)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use media::{PixelFormat, VideoFrame};

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn timed(pts: Duration) -> TimedFrame {
        let frame = VideoFrame::new(2, 2, PixelFormat::Rgba8, vec![0; 16], pts, 0).unwrap();
        TimedFrame { frame, pts }
    }

    fn chunk(pts_ms: &[u32], ready: Instant) -> VecDeque<Paced> {
        pace_chunk(pts_ms.iter().map(|p| timed(*p * MS)).collect(), ready).into()
    }

    #[test]
    fn a_chunk_is_spread_by_its_timestamps_from_when_it_is_ready() {
        let t0 = Instant::now();
        let due: Vec<Instant> = chunk(&[1000, 1033, 1066, 1100], t0)
            .iter()
            .map(|p| p.due)
            .collect();
        assert_eq!(due, [t0, t0 + 33 * MS, t0 + 66 * MS, t0 + 100 * MS]);
    }

    /// A slow call followed by a fast one: the fast one's frames are due when it returns, not
    /// at the delay the slow one had (no ratchet).
    #[test]
    fn each_call_is_paced_afresh() {
        let t0 = Instant::now();
        let slow = chunk(&[0, 33, 66, 100], t0 + 900 * MS);
        let fast = chunk(&[133, 166, 200, 233], t0 + 1100 * MS);
        assert_eq!(slow[0].due, t0 + 900 * MS);
        assert_eq!(fast[0].due, t0 + 1100 * MS);
        assert_eq!(fast[3].due, t0 + 1200 * MS);
    }

    #[test]
    fn a_timestamp_jump_inside_a_chunk_is_sent_at_once() {
        let t0 = Instant::now();
        let c = chunk(&[0, 5000], t0);
        assert_eq!(c[1].due, t0);
    }

    /// An output side that takes 200 ms a frame: each send takes the newest waiting frame
    /// that is not yet late, so the frame sent is never more than an encode behind.
    #[test]
    fn a_slow_output_side_skips_to_the_newest_frame() {
        let t0 = Instant::now();
        let mut waiting = chunk(&[0, 33, 66, 100, 133, 166, 200, 233, 266, 300], t0);
        let now = t0 + 300 * MS;
        let first = waiting.pop_front().unwrap();
        let (sent, skipped) = newest_due(first, now, || waiting.pop_front());
        // Late when due + 100 ms < now, i.e. due before t0 + 200 ms: 0..166 are late.
        assert_eq!(sent.frame.pts, 200 * MS);
        assert_eq!(skipped, 6);
        assert_eq!(waiting.len(), 3);
    }

    #[test]
    fn a_late_frame_with_nothing_newer_is_still_sent() {
        let t0 = Instant::now();
        let mut c = chunk(&[0], t0);
        let (sent, skipped) = newest_due(c.pop_front().unwrap(), t0 + 900 * MS, || None);
        assert_eq!((sent.frame.pts, skipped), (Duration::ZERO, 0));
    }
}
