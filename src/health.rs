//! Healthy / Watch / Critical, for the console (never the projector): one light per Scope node
//! and one for the show, the worst of its parts.
//!
//! Thresholds, chosen so "Watch" is noticed before the audience notices:
//! - A Scope node is **Critical** when it failed, stalled, or is reconnecting, or when its
//!   round trip's median is above 2 s (frames keep coming, but the picture is that far behind
//!   the performer: shown as `Live, 6.0 s behind`); **Watch** while
//!   it loads or connects, when its output runs below 80 % of the rate it is fed, when its
//!   newest frame is older than 0.5 s, or when its round trip's p95 is above 1 s.
//! - The compositor is **Watch** below 80 % of its target frame rate, **Critical** below 50 %.

use std::time::Duration;

use console::{Health, ScopeLive};
use scope::{ScopeState, ScopeStats};

/// Output below this share of the input rate (or of the target frame rate) is worth a look.
pub const LOW_RATE: f32 = 0.8;
/// The compositor below this share of its target is failing the show.
pub const CRITICAL_RATE: f32 = 0.5;
/// A newest frame older than this is late.
pub const MAX_FRAME_AGE: Duration = Duration::from_millis(500);
/// A round trip whose p95 is above this is late.
pub const MAX_RTT_P95: Duration = Duration::from_secs(1);
/// A round trip whose median is above this leaves the avatar too far behind the performer to
/// pass as live (a server's queue backlog: BENCHMARKS.md "The 10-minute soak").
pub const MAX_RTT_MEDIAN: Duration = Duration::from_secs(2);

/// A Scope node's light and why.
pub fn scope(stats: &ScopeStats) -> (Health, &'static str) {
    match &stats.state {
        ScopeState::Failed { .. } => return (Health::Critical, "failed"),
        ScopeState::Stalled => return (Health::Critical, "no frames"),
        ScopeState::Reconnecting { .. } => return (Health::Critical, "reconnecting"),
        ScopeState::Idle | ScopeState::Loading { .. } | ScopeState::Connecting => {
            return (Health::Watch, "not live yet");
        }
        ScopeState::Live => {}
    }
    if behind(stats).is_some() {
        return (Health::Critical, "far behind the camera");
    }
    if stats.frame_age.is_some_and(|a| a > MAX_FRAME_AGE) {
        return (Health::Watch, "late frames");
    }
    if stats.fps_in > 1.0 && stats.fps_out < stats.fps_in * LOW_RATE {
        return (Health::Watch, "output slower than input");
    }
    if stats.rtt_p95.is_some_and(|r| r > MAX_RTT_P95) {
        return (Health::Watch, "slow round trip");
    }
    (Health::Healthy, "live")
}

/// How far a live node's picture is behind its input, when that is more than
/// [`MAX_RTT_MEDIAN`].
fn behind(stats: &ScopeStats) -> Option<Duration> {
    stats
        .rtt_median
        .filter(|r| stats.state == ScopeState::Live && *r > MAX_RTT_MEDIAN)
}

/// What the console's Scope panel shows for a node.
pub fn scope_live(stats: &ScopeStats) -> ScopeLive {
    let (health, why) = scope(stats);
    let ms = |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{} ms", d.as_millis()));
    let state = match (behind(stats), &stats.download) {
        (Some(r), _) => format!("Live, {:.1} s behind", r.as_secs_f32()),
        (None, Some(d)) => match d.fraction {
            Some(f) => format!("Downloading models {:.0} %", f * 100.0),
            None => "Downloading models".to_owned(),
        },
        (None, None) => state_name(&stats.state),
    };
    let mut detail = format!(
        "{why} · in {:.1} / out {:.1} fps · rtt {} (p95 {}) · age {} · {} reconnects",
        stats.fps_in,
        stats.fps_out,
        ms(stats.rtt_median),
        ms(stats.rtt_p95),
        ms(stats.frame_age),
        stats.reconnects
    );
    if let Some(file) = stats.download.as_ref().and_then(|d| d.artifact.as_ref()) {
        detail.push_str(&format!(" · fetching {file}"));
    }
    detail.push_str(&server_text(&stats.server));
    ScopeLive {
        state,
        health,
        detail,
        pipelines: None,
        references: Default::default(),
    }
}

/// What the server says of itself, for the detail line: its pipeline's rate, its GPU memory,
/// and whether it answers at all.
fn server_text(r: &scope::ServerReport) -> String {
    let mut out = String::new();
    if r.healthy == Some(false) {
        out.push_str(" · server not answering /health");
    }
    if let Some(fps) = r.pipeline_fps {
        out.push_str(&format!(" · server pipeline {fps:.1} fps"));
    }
    if let Some(gb) = r.vram_gb {
        out.push_str(&format!(" · VRAM {gb:.0} GB"));
    }
    out
}

/// A Scope state as the console and the logs name it.
pub fn state_name(state: &ScopeState) -> String {
    match state {
        ScopeState::Idle => "Idle".to_owned(),
        ScopeState::Loading { progress: Some(p) } => format!("Loading {:.0} %", p * 100.0),
        ScopeState::Loading { progress: None } => "Loading".to_owned(),
        ScopeState::Connecting => "Connecting".to_owned(),
        ScopeState::Live => "Live".to_owned(),
        ScopeState::Stalled => "Stalled".to_owned(),
        ScopeState::Reconnecting { attempt } => format!("Reconnecting (attempt {attempt})"),
        ScopeState::Failed { reason } => format!("Failed: {reason}"),
    }
}

/// The compositor's light from its measured and target frame rates.
pub fn compositor(fps: f32, target: f32) -> Health {
    if target <= 0.0 || !fps.is_finite() {
        Health::Healthy
    } else if fps < target * CRITICAL_RATE {
        Health::Critical
    } else if fps < target * LOW_RATE {
        Health::Watch
    } else {
        Health::Healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> ScopeStats {
        ScopeStats {
            state: ScopeState::Live,
            fps_in: 30.0,
            fps_out: 29.0,
            rtt_median: Some(Duration::from_millis(80)),
            rtt_p95: Some(Duration::from_millis(120)),
            frame_age: Some(Duration::from_millis(30)),
            ..Default::default()
        }
    }

    #[test]
    fn scope_lights_follow_the_stated_thresholds() {
        assert_eq!(scope(&live()).0, Health::Healthy);
        let slow = ScopeStats {
            fps_out: 30.0 * LOW_RATE - 0.1,
            ..live()
        };
        assert_eq!(scope(&slow).0, Health::Watch);
        let just_ok = ScopeStats {
            fps_out: 30.0 * LOW_RATE,
            ..live()
        };
        assert_eq!(scope(&just_ok).0, Health::Healthy);
        let late = ScopeStats {
            frame_age: Some(MAX_FRAME_AGE + Duration::from_millis(1)),
            ..live()
        };
        assert_eq!(scope(&late), (Health::Watch, "late frames"));
        // Frames arriving on time but 6 s old (a server's backlog) are not live.
        let backlog = ScopeStats {
            rtt_median: Some(Duration::from_millis(6009)),
            rtt_p95: Some(Duration::from_millis(7006)),
            ..live()
        };
        assert_eq!(scope(&backlog), (Health::Critical, "far behind the camera"));
        assert_eq!(scope_live(&backlog).state, "Live, 6.0 s behind");
        let within = ScopeStats {
            rtt_median: Some(MAX_RTT_MEDIAN),
            ..live()
        };
        assert_eq!(scope_live(&within).state, "Live");
        let stalled = ScopeStats {
            state: ScopeState::Stalled,
            ..live()
        };
        assert_eq!(scope(&stalled).0, Health::Critical);
        let loading = ScopeStats {
            state: ScopeState::Loading {
                progress: Some(0.43),
            },
            ..live()
        };
        assert_eq!(scope(&loading).0, Health::Watch);
        assert_eq!(scope_live(&loading).state, "Loading 43 %");
    }

    /// A model download shows as such, with the file, not as a plain load.
    #[test]
    fn a_model_download_is_named_with_its_file() {
        let downloading = ScopeStats {
            state: ScopeState::Loading {
                progress: Some(0.43),
            },
            download: Some(scope::ModelDownload {
                fraction: Some(0.43),
                artifact: Some("longlive/model.safetensors".into()),
            }),
            ..ScopeStats::default()
        };
        let l = scope_live(&downloading);
        assert_eq!(l.state, "Downloading models 43 %");
        assert!(
            l.detail.contains(" · fetching longlive/model.safetensors"),
            "{}",
            l.detail
        );
    }

    #[test]
    fn the_servers_own_numbers_are_in_the_detail_line() {
        let mut s = live();
        assert!(!scope_live(&s).detail.contains("server"));
        s.server = scope::ServerReport {
            healthy: Some(true),
            pipeline_fps: Some(5.94),
            vram_gb: Some(24.0),
        };
        let d = scope_live(&s).detail;
        assert!(
            d.ends_with(" · server pipeline 5.9 fps · VRAM 24 GB"),
            "{d}"
        );
        s.server.healthy = Some(false);
        assert!(
            scope_live(&s)
                .detail
                .contains("server not answering /health")
        );
    }

    #[test]
    fn compositor_light() {
        assert_eq!(compositor(60.0, 60.0), Health::Healthy);
        assert_eq!(compositor(47.0, 60.0), Health::Watch);
        assert_eq!(compositor(29.0, 60.0), Health::Critical);
        assert_eq!(compositor(f32::NAN, 60.0), Health::Healthy);
    }
}
