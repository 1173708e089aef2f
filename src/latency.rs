//! Added latency: for each live source, the time from a frame's arrival in the app (a camera's
//! capture, a Scope frame's decode) to the GPU finishing the first program frame that
//! contains it.
//!
//! Sources note what they uploaded in an update ([`FrameArrivals`]); at the end of the update
//! that list is filed under the update's number, which the render world receives with the
//! frame it draws. After submitting, the render world asks the GPU queue to report when the
//! work is done (a callback, never a wait) and sends back (number, time). The main world
//! pairs the two: one sample per source frame, windowed over the last [`WINDOW`].
//!
//! The end point is "GPU done, seen at the next device poll", not photons: the display's own
//! scan-out is outside what an app can measure.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::extract_resource::{ExtractResource, ExtractResourcePlugin};
use bevy::render::render_resource::PollType;
use bevy::render::renderer::{RenderDevice, RenderQueue};
use bevy::render::{Render, RenderApp, RenderSystems};
use crossbeam_channel::{Receiver, Sender};
use show::NodeId;

/// Samples older than this leave the statistics.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Updates whose GPU completion never came back are forgotten after this many.
const PENDING: usize = 240;

/// New frames uploaded during this update, by source node, with their arrival time.
#[derive(Resource, Debug, Default)]
pub struct FrameArrivals(pub Vec<(NodeId, Instant)>);

impl FrameArrivals {
    pub fn note(&mut self, node: &NodeId, arrived: Instant) {
        self.0.push((node.clone(), arrived));
    }
}

/// Median and 95th percentile of each source's added latency over the last [`WINDOW`].
#[derive(Resource, Debug, Default)]
pub struct AddedLatency {
    samples: HashMap<NodeId, VecDeque<(Instant, Duration)>>,
}

/// One source's numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyStats {
    pub median: Duration,
    pub p95: Duration,
    pub samples: usize,
}

impl AddedLatency {
    fn push(&mut self, node: NodeId, at: Instant, latency: Duration) {
        let window = self.samples.entry(node).or_default();
        window.push_back((at, latency));
        while window
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > WINDOW)
        {
            window.pop_front();
        }
    }

    pub fn get(&self, node: &NodeId) -> Option<LatencyStats> {
        let mut v: Vec<Duration> = self.samples.get(node)?.iter().map(|(_, d)| *d).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Some(LatencyStats {
            median: at(0.5),
            p95: at(0.95),
            samples: v.len(),
        })
    }

    /// Every source measured, by node id.
    pub fn all(&self) -> BTreeMap<NodeId, LatencyStats> {
        self.samples
            .keys()
            .filter_map(|n| self.get(n).map(|s| (n.clone(), s)))
            .collect()
    }
}

/// The number of the update being drawn, for the render world.
#[derive(Resource, Clone, Copy, Default, ExtractResource)]
struct LatencyFrame(u64);

#[derive(Resource, Default)]
struct Pending(BTreeMap<u64, Vec<(NodeId, Instant)>>);

#[derive(Resource)]
struct DoneReceiver(Receiver<(u64, Instant)>);

#[derive(Resource)]
struct DoneSender(Sender<(u64, Instant)>);

/// Measures [`AddedLatency`]; needs the compositor's render app.
pub struct LatencyPlugin;

impl Plugin for LatencyPlugin {
    fn build(&self, app: &mut App) {
        let (tx, rx) = crossbeam_channel::bounded(PENDING);
        app.init_resource::<FrameArrivals>()
            .init_resource::<AddedLatency>()
            .init_resource::<LatencyFrame>()
            .init_resource::<Pending>()
            .insert_resource(DoneReceiver(rx))
            .add_plugins(ExtractResourcePlugin::<LatencyFrame>::default())
            .add_systems(PostUpdate, file_arrivals)
            .add_systems(First, take_completions);
        if let Some(render) = app.get_sub_app_mut(RenderApp) {
            render
                .insert_resource(DoneSender(tx))
                .add_systems(Render, report_when_done.after(RenderSystems::Render));
        }
    }
}

/// Files this update's arrivals under its number.
fn file_arrivals(
    mut arrivals: ResMut<FrameArrivals>,
    mut frame: ResMut<LatencyFrame>,
    mut pending: ResMut<Pending>,
) {
    frame.0 += 1;
    if !arrivals.0.is_empty() {
        pending.0.insert(frame.0, std::mem::take(&mut arrivals.0));
    }
    while pending.0.len() > PENDING {
        pending.0.pop_first();
    }
}

/// Asks the queue to report when this frame's work is done; polls so earlier reports come.
fn report_when_done(
    frame: Option<Res<LatencyFrame>>,
    queue: Res<RenderQueue>,
    device: Res<RenderDevice>,
    sender: Res<DoneSender>,
) {
    let Some(frame) = frame else { return };
    let (n, tx) = (frame.0, sender.0.clone());
    queue.on_submitted_work_done(move || {
        // A full channel means the main world stopped reading: nothing to measure for.
        let _ = tx.try_send((n, Instant::now()));
    });
    if let Err(e) = device.poll(PollType::Poll) {
        warn!("latency: device poll failed: {e}");
    }
}

/// Pairs GPU completions with the arrivals of the frames they contained.
fn take_completions(
    rx: Res<DoneReceiver>,
    mut pending: ResMut<Pending>,
    mut latency: ResMut<AddedLatency>,
) {
    for (n, done) in rx.0.try_iter() {
        // Earlier numbers that never reported are not coming (a skipped frame).
        let Some(arrivals) = pending.0.remove(&n) else {
            continue;
        };
        for (node, arrived) in arrivals {
            latency.push(node, done, done.saturating_duration_since(arrived));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_windowed_quantiles() {
        let mut l = AddedLatency::default();
        let t0 = Instant::now();
        let node = NodeId::new("cam");
        for i in 0..100u64 {
            l.push(node.clone(), t0, Duration::from_millis(i + 1));
        }
        let s = l.get(&node).unwrap();
        assert_eq!(s.samples, 100);
        assert_eq!(s.median, Duration::from_millis(51));
        assert_eq!(s.p95, Duration::from_millis(95));
        // Eleven seconds later the old samples are gone.
        l.push(
            node.clone(),
            t0 + Duration::from_secs(11),
            Duration::from_millis(7),
        );
        let s = l.get(&node).unwrap();
        assert_eq!((s.samples, s.median), (1, Duration::from_millis(7)));
    }
}
