//! The console's outputs list: the recording's and each stream's state from `record`, with
//! frame rate and bitrate measured here over the last second or more.

use std::collections::HashMap;
use std::time::Instant;

use bevy::prelude::*;
use console::{OutputLive, OutputState};

use crate::record::{self, OutputStatus, Recording, Streams};

/// What the console shows; refreshed every [`EVERY`] seconds.
#[derive(Resource, Default)]
pub(super) struct OutputsLive(pub Vec<OutputLive>);

/// How often the list is refreshed (the rates are measured over this).
const EVERY: f32 = 1.0;

/// Counters seen at the last refresh, by output name.
#[derive(Default)]
pub(super) struct Seen {
    at: Option<Instant>,
    counts: HashMap<String, (u64, u64)>,
}

pub(super) fn collect_outputs(
    recording: Option<Res<Recording>>,
    streams: Option<Res<Streams>>,
    mut live: ResMut<OutputsLive>,
    mut seen: Local<Seen>,
) {
    let now = Instant::now();
    if seen
        .at
        .is_some_and(|t| now.duration_since(t).as_secs_f32() < EVERY)
    {
        return;
    }
    let dt = seen.at.map(|t| now.duration_since(t).as_secs_f64());
    seen.at = Some(now);
    let all: Vec<OutputStatus> = recording
        .iter()
        .map(|r| r.status())
        .chain(streams.iter().flat_map(|s| s.statuses()))
        .collect();
    let mut counts = HashMap::new();
    live.0 = all
        .into_iter()
        .map(|s| {
            let before = seen.counts.get(&s.name).copied();
            counts.insert(s.name.clone(), (s.frames, s.bytes));
            row(&s, before, dt)
        })
        .collect();
    seen.counts = counts;
}

/// One status as the console shows it; rates from the counters `before` (`dt` seconds ago).
fn row(s: &OutputStatus, before: Option<(u64, u64)>, dt: Option<f64>) -> OutputLive {
    let mut parts = Vec::new();
    if s.state == record::OutputState::Running {
        if let (Some((f0, b0)), Some(dt)) = (before, dt.filter(|d| *d > 0.0)) {
            let fps = s.frames.saturating_sub(f0) as f64 / dt;
            let mbit = s.bytes.saturating_sub(b0) as f64 * 8.0 / dt / 1e6;
            parts.push(format!("{fps:.1} fps"));
            parts.push(format!("{mbit:.2} Mb/s"));
        }
        parts.push(format!("{} dropped", s.dropped));
        if let Some(b) = s.file_bytes {
            parts.push(format!("{:.1} MB", b as f64 / 1e6));
        }
        match s.client {
            Some(true) => parts.push("client connected".into()),
            Some(false) => parts.push("waiting for a client".into()),
            None => {}
        }
    }
    OutputLive {
        name: s.name.clone(),
        kind: s.kind.clone(),
        state: match &s.state {
            record::OutputState::Off => OutputState::Off,
            record::OutputState::Starting => OutputState::Starting,
            record::OutputState::Running => OutputState::Running,
            record::OutputState::Error(e) => OutputState::Error(e.clone()),
        },
        detail: parts.join(" · "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_the_counters_over_the_interval() {
        let mut s = OutputStatus {
            name: "show.mkv".into(),
            kind: "record".into(),
            state: record::OutputState::Running,
            frames: 90,
            dropped: 2,
            bytes: 1_000_000,
            file_bytes: Some(2_500_000),
            client: None,
        };
        let r = row(&s, Some((30, 250_000)), Some(2.0));
        assert_eq!(r.state, OutputState::Running);
        assert_eq!(r.detail, "30.0 fps · 3.00 Mb/s · 2 dropped · 2.5 MB");
        // The first refresh has nothing to measure a rate against.
        assert_eq!(row(&s, None, None).detail, "2 dropped · 2.5 MB");
        s.state = record::OutputState::Error("ffmpeg exited".into());
        let r = row(&s, None, None);
        assert_eq!(r.state, OutputState::Error("ffmpeg exited".into()));
        assert!(r.detail.is_empty());
    }
}
