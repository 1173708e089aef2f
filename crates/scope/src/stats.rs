//! Live measurements: fps in/out, round-trip latency, codec time.
//!
//! **Round trip.** A frame's RTP timestamp is the only thing that survives the server, and only
//! for pipelines that keep input timestamps (passthrough does: aiortc re-stamps output with a
//! random origin but keeps the input pts, so timestamp *differences* survive, not absolute
//! values). We therefore number our samples with deliberately irregular RTP durations (the real
//! capture gap plus a 0–63 tick pseudo-random dither, < 0.7 ms), remember each frame's RTP
//! offset and send instant, and on receive look for the single offset that maps received
//! timestamps onto sent ones. The dither makes a wrong offset fail within a few frames; once one
//! offset has explained 6 frames it is locked, and every received frame then yields
//! `now − send instant` of the same frame. Matching allows ±2 ticks and follows a slow drift, so
//! a server that converts timestamps through a lossy clock (µs rounding) still matches.
//!
//! Limits: pipelines that generate their own timing (diffusion at measured throughput) never
//! lock, so the round trip stays `None`; a server that re-times frames breaks the match the same
//! way; a server that shifts timestamps by whole frames (stamping frame k with frame k−1's
//! time) is indistinguishable from a constant extra frame of latency; only the last 512 sent
//! frames can be matched.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How many sent frames are remembered for matching.
const SENT_HISTORY: usize = 512;
/// Round-trip samples kept for the median/p95 (20 s at 30 fps, so a bench run is covered).
const RTT_HISTORY: usize = 1024;

/// Ticks of slack when matching (lossy server clocks).
const TOLERANCE: u32 = 2;
/// Confirmations before an offset is trusted.
const CONFIRMATIONS: u32 = 6;

/// Deterministic dither in 0..64 ticks for frame `seq` (a 32-bit mix; no RNG dependency).
pub fn dither_ticks(seq: u64) -> u32 {
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    (x & 0x3F) as u32
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Instant,
    captured: Duration,
}

#[derive(Debug)]
enum Lock {
    /// Candidate offsets (received ts − sent ts) that explained every frame so far, and how many.
    Searching {
        candidates: Vec<u32>,
        confirmations: u32,
    },
    Locked {
        offset: u32,
        misses: u32,
    },
}

/// Matches received frames to sent frames by RTP timestamp (see the module doc).
#[derive(Debug)]
pub struct RttMatcher {
    sent: HashMap<u32, Sent>,
    order: VecDeque<u32>,
    lock: Lock,
}

impl Default for RttMatcher {
    fn default() -> Self {
        RttMatcher {
            sent: HashMap::new(),
            order: VecDeque::new(),
            lock: Lock::Searching {
                candidates: Vec::new(),
                confirmations: 0,
            },
        }
    }
}

impl RttMatcher {
    /// Records a sent frame whose RTP timestamp is `rtp_rel` (our own numbering; the
    /// packetizer adds a constant random origin).
    pub fn on_sent(&mut self, rtp_rel: u32, captured: Duration, at: Instant) {
        if self.sent.insert(rtp_rel, Sent { at, captured }).is_none() {
            self.order.push_back(rtp_rel);
        }
        while self.order.len() > SENT_HISTORY {
            if let Some(old) = self.order.pop_front() {
                self.sent.remove(&old);
            }
        }
    }

    /// The sent frame whose timestamp is within the tolerance of `key`, sent before `now`.
    fn find(&self, key: u32, now: Instant) -> Option<(u32, Sent)> {
        (0..=2 * TOLERANCE).find_map(|i| {
            // Order: exact first, then ±1, ±2.
            let delta = (i as i64 + 1) / 2 * if i % 2 == 0 { 1 } else { -1 };
            let k = key.wrapping_add(delta as u32);
            self.sent.get(&k).filter(|s| s.at <= now).map(|s| (k, *s))
        })
    }

    /// A frame with RTP timestamp `rtp_ts` arrived at `now`: returns its round trip and the
    /// capture time of the matching sent frame, once the offset is known.
    pub fn on_received(&mut self, rtp_ts: u32, now: Instant) -> Option<(Duration, Duration)> {
        match &self.lock {
            Lock::Locked { offset, misses } => {
                let (offset, misses) = (*offset, *misses);
                match self.find(rtp_ts.wrapping_sub(offset), now) {
                    Some((k, s)) => {
                        // Follow drift: re-anchor on the exact match.
                        self.lock = Lock::Locked {
                            offset: rtp_ts.wrapping_sub(k),
                            misses: 0,
                        };
                        Some((now - s.at, s.captured))
                    }
                    None => {
                        self.lock = if misses >= 30 {
                            Lock::Searching {
                                candidates: Vec::new(),
                                confirmations: 0,
                            }
                        } else {
                            Lock::Locked {
                                offset,
                                misses: misses + 1,
                            }
                        };
                        None
                    }
                }
            }
            Lock::Searching {
                candidates,
                confirmations,
            } => {
                if candidates.is_empty() {
                    let candidates = self
                        .sent
                        .iter()
                        .filter(|(_, s)| s.at <= now)
                        .map(|(ts, _)| rtp_ts.wrapping_sub(*ts))
                        .collect();
                    self.lock = Lock::Searching {
                        candidates,
                        confirmations: 0,
                    };
                    return None;
                }
                let confirmations = confirmations + 1;
                let survivors: Vec<u32> = candidates
                    .iter()
                    .filter_map(|off| {
                        self.find(rtp_ts.wrapping_sub(*off), now)
                            .map(|(k, _)| rtp_ts.wrapping_sub(k))
                    })
                    .collect();
                let mut survivors = survivors;
                survivors.sort_unstable();
                survivors.dedup();
                if survivors.len() == 1 && confirmations >= CONFIRMATIONS {
                    let offset = survivors[0];
                    self.lock = Lock::Locked { offset, misses: 0 };
                    let (_, s) = self.find(rtp_ts.wrapping_sub(offset), now)?;
                    return Some((now - s.at, s.captured));
                }
                self.lock = Lock::Searching {
                    candidates: survivors,
                    confirmations,
                };
                None
            }
        }
    }

    /// Forgets everything (new session: new RTP origin).
    pub fn reset(&mut self) {
        *self = RttMatcher::default();
    }
}

/// Frame rate over a sliding window of arrival instants.
#[derive(Debug, Default)]
pub struct RateMeter {
    times: VecDeque<Instant>,
}

impl RateMeter {
    const WINDOW: Duration = Duration::from_secs(2);

    pub fn tick(&mut self, now: Instant) {
        self.times.push_back(now);
        self.trim(now);
    }

    fn trim(&mut self, now: Instant) {
        while self
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) > Self::WINDOW)
        {
            self.times.pop_front();
        }
    }

    /// Frames per second over the last two seconds.
    pub fn fps(&mut self, now: Instant) -> f32 {
        self.trim(now);
        match (self.times.front(), self.times.len()) {
            (Some(first), n) if n >= 2 => {
                let span = now.duration_since(*first).max(Duration::from_millis(500));
                (n - 1) as f32 / span.as_secs_f32()
            }
            _ => 0.0,
        }
    }
}

/// Round-trip samples, newest last.
#[derive(Debug, Default)]
pub struct RttWindow {
    samples: VecDeque<Duration>,
}

impl RttWindow {
    pub fn push(&mut self, d: Duration) {
        self.samples.push_back(d);
        while self.samples.len() > RTT_HISTORY {
            self.samples.pop_front();
        }
    }

    /// The `q` quantile (0..=1), nearest rank.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.samples.is_empty() {
            return None;
        }
        let mut v: Vec<Duration> = self.samples.iter().copied().collect();
        v.sort_unstable();
        let idx = ((q.clamp(0.0, 1.0) * (v.len() - 1) as f64).round()) as usize;
        v.get(idx).copied()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }
}

/// Running mean of a per-frame cost.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeanTime {
    total: Duration,
    count: u64,
}

impl MeanTime {
    pub fn add(&mut self, d: Duration) {
        self.total += d;
        self.count += 1;
    }

    pub fn mean_ms(&self) -> f32 {
        if self.count == 0 {
            0.0
        } else {
            self.total.as_secs_f32() * 1000.0 / self.count as f32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates a passthrough server: random origin, constant latency, dropped frames.
    #[test]
    fn locks_onto_offset_despite_drops() {
        let t0 = Instant::now();
        let mut m = RttMatcher::default();
        let origin: u32 = 0xFFFF_F000; // wraps during the run
        let mut rel = 0u32;
        let mut sent = Vec::new();
        for seq in 0..120u64 {
            let at = t0 + Duration::from_millis(33 * seq);
            m.on_sent(rel, Duration::from_millis(33 * seq), at);
            sent.push((rel, at));
            rel = rel.wrapping_add(3000 + dither_ticks(seq));
        }
        let latency = Duration::from_millis(200);
        let mut matched = 0;
        for (i, (rel, at)) in sent.iter().enumerate().skip(10) {
            if i % 7 == 0 {
                continue; // dropped by the server
            }
            if let Some((rtt, _)) = m.on_received(origin.wrapping_add(*rel), *at + latency) {
                assert_eq!(rtt, latency);
                matched += 1;
            }
        }
        assert!(matched > 80, "matched {matched}");
    }

    /// A server that converts timestamps through whole microseconds (drifting by up to a tick
    /// per frame) still matches.
    #[test]
    fn follows_lossy_server_clock() {
        let t0 = Instant::now();
        let mut m = RttMatcher::default();
        let mut rel = 0u32;
        let mut out_ts = 12_345u32;
        let mut matched = 0;
        for seq in 0..200u64 {
            let at = t0 + Duration::from_millis(33 * seq);
            m.on_sent(rel, Duration::ZERO, at);
            let step = 3000 + dither_ticks(seq);
            // Server: ticks → whole µs → ticks, truncating (loses up to one tick per frame).
            let us = u64::from(step) * 1000 / 90;
            let back = (Duration::from_micros(us).as_secs_f64() * 90_000.0) as u32;
            if let Some((rtt, _)) = m.on_received(out_ts, at + Duration::from_millis(150)) {
                assert_eq!(rtt, Duration::from_millis(150));
                matched += 1;
            }
            rel = rel.wrapping_add(step);
            out_ts = out_ts.wrapping_add(back);
        }
        assert!(matched > 180, "matched {matched}");
    }

    /// Identical spacing cannot be disambiguated: the matcher must not guess.
    #[test]
    fn regular_spacing_never_locks() {
        let t0 = Instant::now();
        let mut m = RttMatcher::default();
        for seq in 0..60u32 {
            m.on_sent(seq * 3000, Duration::ZERO, t0);
        }
        for seq in 20..60u32 {
            assert!(
                m.on_received(77 + seq * 3000, t0 + Duration::from_secs(1))
                    .is_none()
            );
        }
    }

    #[test]
    fn quantiles() {
        let mut w = RttWindow::default();
        for ms in 1..=100 {
            w.push(Duration::from_millis(ms));
        }
        assert_eq!(w.quantile(0.5), Some(Duration::from_millis(51)));
        assert_eq!(w.quantile(0.95), Some(Duration::from_millis(95)));
    }
}
