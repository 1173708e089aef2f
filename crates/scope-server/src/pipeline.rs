//! The two built-in pipelines and their input/output rules (docs/scope-api.md §3, §7.1 facts 7–8).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use media::{PixelFormat, VideoFrame};

/// Frames each pipeline call consumes (passthrough: `Requirements(input_size=4)`).
pub(crate) const CHUNK: usize = 4;
/// Input frames queued beyond this are dropped (the newest, like the real server).
pub(crate) const INPUT_QUEUE_MAX: usize = 30;
/// Output frames queued beyond this are dropped: max(30, 2 × frames per call).
pub(crate) const OUTPUT_QUEUE_MAX: usize = 30;
/// Default output size of `stylize` when loaded without `width`/`height`.
pub const STYLIZE_DEFAULT_SIZE: (u32, u32) = (512, 512);

/// A decoded input frame with its presentation time (from the RTP timestamp).
#[derive(Clone)]
pub(crate) struct TimedFrame {
    pub frame: VideoFrame,
    pub pts: Duration,
}

/// One loaded pipeline instance as a session uses it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stage {
    /// Returns its input unchanged, at the input size.
    Passthrough,
    /// Stretches to `width`×`height`, posterizes and tints (see [`stylize`]).
    Stylize { width: u32, height: u32, look: Look },
}

/// The `stylize` pipeline's load parameters besides its size (its `config_schema` in
/// `rest.rs` describes them; an unknown or out-of-range value falls back to the default, as
/// the real server ignores keys it does not know).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// Posterize levels per channel, 2..=8 (`levels`; null = 4).
    pub levels: u8,
    /// Applied to each channel before posterizing (`gamma`, 0.25..=4).
    pub gamma: f32,
    pub tint: Tint,
    /// Leave chroma-key green untouched (`keep_green`), so the key still finds it.
    pub keep_green: bool,
}

/// The colour the posterized picture is tinted with (`tint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tint {
    Violet,
    Amber,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            levels: 4,
            gamma: 1.0,
            tint: Tint::Violet,
            keep_green: true,
        }
    }
}

impl Look {
    fn from_load(p: &serde_json::Map<String, serde_json::Value>) -> Self {
        use serde_json::Value;
        let d = Look::default();
        Look {
            levels: p
                .get("levels")
                .and_then(Value::as_u64)
                .filter(|l| (2..=8).contains(l))
                .map_or(d.levels, |l| l as u8),
            gamma: p
                .get("gamma")
                .and_then(Value::as_f64)
                .filter(|g| (0.25..=4.0).contains(g))
                .map_or(d.gamma, |g| g as f32),
            tint: match p.get("tint").and_then(Value::as_str) {
                Some("amber") => Tint::Amber,
                _ => d.tint,
            },
            keep_green: p
                .get("keep_green")
                .and_then(Value::as_bool)
                .unwrap_or(d.keep_green),
        }
    }

    /// One channel after gamma and posterizing: `levels` steps spread over 0..=255.
    pub fn posterize(&self, v: u8) -> u8 {
        let v = if self.gamma == 1.0 {
            v
        } else {
            (255.0 * (f32::from(v) / 255.0).powf(1.0 / self.gamma)).round() as u8
        };
        let n = u32::from(self.levels);
        let q = (u32::from(v) * n / 256).min(n - 1);
        (q * 255 / (n - 1)) as u8
    }

    /// The look of one pixel. Neither tint ever turns a pixel key-green (violet keeps green
    /// at half, amber keeps green below red).
    pub fn pixel(&self, r: u8, g: u8, b: u8) -> [u8; 3] {
        if self.keep_green && is_key_green(r, g, b) {
            return [r, g, b];
        }
        let tint = |v: u8| (u16::from(v) * 3 / 4 + 64).min(255) as u8;
        let p = |v| self.posterize(v);
        match self.tint {
            Tint::Violet => [tint(p(r)), p(g) / 2, tint(p(b))],
            Tint::Amber => [tint(p(r).max(p(g))), p(g) / 2 + 32, p(b) / 4],
        }
    }
}

impl Stage {
    /// The stage for a pipeline id and its load params, or `None` for an unknown id.
    pub fn from_load(
        pipeline_id: &str,
        load_params: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<Stage> {
        match pipeline_id {
            "passthrough" => Some(Stage::Passthrough),
            "stylize" => {
                let dim = |key: &str, default: u32| {
                    load_params
                        .get(key)
                        .and_then(serde_json::Value::as_u64)
                        .and_then(|v| u32::try_from(v).ok())
                        .filter(|v| (1..=4096).contains(v))
                        .unwrap_or(default)
                };
                Some(Stage::Stylize {
                    width: dim("width", STYLIZE_DEFAULT_SIZE.0),
                    height: dim("height", STYLIZE_DEFAULT_SIZE.1),
                    look: Look::from_load(load_params),
                })
            }
            _ => None,
        }
    }

    fn apply(&self, frame: &VideoFrame) -> Option<VideoFrame> {
        match self {
            Stage::Passthrough => Some(frame.clone()),
            Stage::Stylize {
                width,
                height,
                look,
            } => stylize(frame, *width, *height, look),
        }
    }
}

/// The per-session input queue: bounded, dropping new frames when full, drained one chunk at a
/// time by sampling `CHUNK` frames uniformly across everything queued.
#[derive(Default)]
pub(crate) struct InputQueue {
    frames: VecDeque<TimedFrame>,
}

impl InputQueue {
    /// Queues a frame; `false` when the queue is full and the frame was dropped.
    pub fn push(&mut self, frame: TimedFrame) -> bool {
        if self.frames.len() >= INPUT_QUEUE_MAX {
            return false;
        }
        self.frames.push_back(frame);
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.frames.len()
    }

    /// A full chunk, if enough frames are queued; the queue is emptied either way it is taken.
    pub fn take_chunk(&mut self) -> Option<Vec<TimedFrame>> {
        let n = self.frames.len();
        if n < CHUNK {
            return None;
        }
        let chunk = (0..CHUNK)
            .filter_map(|i| self.frames.get(i * n / CHUNK).cloned())
            .collect();
        self.frames.clear();
        Some(chunk)
    }
}

/// Runs a chunk through the stages in order. Frames keep their input timestamps.
pub(crate) fn run_chain(stages: &[Stage], chunk: Vec<TimedFrame>) -> Vec<TimedFrame> {
    chunk
        .into_iter()
        .filter_map(|mut timed| {
            for stage in stages {
                timed.frame = stage.apply(&timed.frame)?;
            }
            Some(timed)
        })
        .collect()
}

/// Whether a pixel counts as chroma-key green and is left untouched by [`stylize`]:
/// `g > r + 40 && g > b + 40`.
pub fn is_key_green(r: u8, g: u8, b: u8) -> bool {
    i32::from(g) > i32::from(r) + 40 && i32::from(g) > i32::from(b) + 40
}

/// Posterize level for one channel with the default look: the top two bits, spread to 0, 85,
/// 170, 255.
pub fn posterize(v: u8) -> u8 {
    Look::default().posterize(v)
}

/// The default stylize look for one pixel: posterize, then a violet tint
/// `(3/4·R' + 64, G'/2, 3/4·B' + 64)` that never turns a pixel key-green; key green is kept.
pub fn stylize_pixel(r: u8, g: u8, b: u8) -> [u8; 3] {
    Look::default().pixel(r, g, b)
}

/// Stretches (nearest neighbour, no aspect preservation, like the diffusion pipelines' resize)
/// to `width`×`height` and applies the look to each pixel. Cheap enough for 30 fps on one core:
/// the look is a table per channel value once the key test is done.
pub fn stylize(frame: &VideoFrame, width: u32, height: u32, look: &Look) -> Option<VideoFrame> {
    let src = frame.to_rgba().ok()?;
    let (sw, sh) = (src.width as usize, src.height as usize);
    let (w, h) = (width as usize, height as usize);
    if sw == 0 || sh == 0 || w == 0 || h == 0 {
        return None;
    }
    let mut out = vec![0u8; w * h * 4];
    let columns: Vec<usize> = (0..w).map(|x| (x * sw / w).min(sw - 1) * 4).collect();
    for (y, row) in out.chunks_exact_mut(w * 4).enumerate() {
        let sy = (y * sh / h).min(sh - 1);
        let src_row = &src.data[sy * sw * 4..(sy + 1) * sw * 4];
        for (px, &sx) in row.chunks_exact_mut(4).zip(&columns) {
            let [r, g, b] = look.pixel(src_row[sx], src_row[sx + 1], src_row[sx + 2]);
            px.copy_from_slice(&[r, g, b, 255]);
        }
    }
    Some(VideoFrame {
        width,
        height,
        format: PixelFormat::Rgba8,
        data: Arc::new(out),
        captured: frame.captured,
        seq: frame.seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, rgb: [u8; 3], seq: u64) -> TimedFrame {
        let data = std::iter::repeat_n([rgb[0], rgb[1], rgb[2], 255], (w * h) as usize)
            .flatten()
            .collect();
        TimedFrame {
            frame: VideoFrame::new(w, h, PixelFormat::Rgba8, data, Duration::ZERO, seq).unwrap(),
            pts: Duration::from_millis(seq * 33),
        }
    }

    #[test]
    fn queue_drops_new_frames_beyond_30_and_samples_uniformly() {
        let mut q = InputQueue::default();
        let accepted = (0..35)
            .filter(|i| q.push(solid(2, 2, [0, 0, 0], *i)))
            .count();
        assert_eq!((q.len(), accepted), (30, 30));
        let seqs: Vec<u64> = q
            .take_chunk()
            .unwrap()
            .iter()
            .map(|f| f.frame.seq)
            .collect();
        assert_eq!(seqs, [0, 7, 15, 22]);
        assert_eq!(q.len(), 0);
        q.push(solid(2, 2, [0, 0, 0], 40));
        assert!(q.take_chunk().is_none());
    }

    #[test]
    fn stylize_keeps_green_and_tints_the_rest() {
        let green = solid(4, 2, [0, 177, 64], 0).frame;
        let out = stylize(&green, 8, 6, &Look::default()).unwrap();
        assert_eq!((out.width, out.height), (8, 6));
        assert_eq!(&out.data[..4], &[0, 177, 64, 255]);
        let skin = solid(4, 2, [230, 140, 90], 0).frame;
        let out = stylize(&skin, 3, 3, &Look::default()).unwrap();
        // 230→255→255 (capped), 140→170→85, 90→85→127
        assert_eq!(&out.data[..4], &[255, 85, 127, 255]);
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(15) {
                for b in (0..=255).step_by(15) {
                    let [r2, g2, b2] = stylize_pixel(r, g, b);
                    assert_eq!(
                        is_key_green(r2, g2, b2),
                        is_key_green(r, g, b),
                        "{r},{g},{b}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_load_parameters_change_the_look() {
        let load = |v: serde_json::Value| {
            let Some(Stage::Stylize { look, .. }) =
                Stage::from_load("stylize", v.as_object().unwrap())
            else {
                panic!("stylize")
            };
            look
        };
        assert_eq!(load(serde_json::json!({})), Look::default());
        // Out of range or of the wrong type: the default, as the real server ignores them.
        let ignored =
            serde_json::json!({"levels": 99, "gamma": "x", "tint": "red", "keep_green": 1});
        assert_eq!(load(ignored), Look::default());
        let amber = load(
            serde_json::json!({"levels": 2, "gamma": 2.0, "tint": "amber", "keep_green": false}),
        );
        assert_eq!(
            amber,
            Look {
                levels: 2,
                gamma: 2.0,
                tint: Tint::Amber,
                keep_green: false
            }
        );
        // Two levels: 0 or 255. Gamma 2 lifts 100 to 255·(100/255)^0.5 = 159.7 → 160 → 255.
        assert_eq!((amber.posterize(100), amber.posterize(60)), (255, 0));
        // 60 → 123.7 → 0; amber: (3/4·max(255, 0) + 64 capped, 0/2 + 32, 255/4)
        assert_eq!(amber.pixel(100, 60, 100), [255, 32, 63]);
        // keep_green off: key green is stylized too.
        assert_ne!(amber.pixel(0, 177, 64), [0, 177, 64]);
        // Default levels are the two-bit posterize.
        for v in 0..=255u8 {
            assert_eq!(Look::default().posterize(v), (v >> 6) * 85);
        }
        // No look turns a pixel that is not key green into one.
        for look in [
            Look::default(),
            amber,
            Look {
                tint: Tint::Amber,
                ..Look::default()
            },
        ] {
            for r in (0..=255).step_by(15) {
                for g in (0..=255).step_by(15) {
                    for b in (0..=255).step_by(15) {
                        if !is_key_green(r, g, b) {
                            let [r2, g2, b2] = look.pixel(r, g, b);
                            assert!(!is_key_green(r2, g2, b2), "{look:?} {r},{g},{b}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn chain_keeps_timestamps() {
        let chunk: Vec<TimedFrame> = (0..4).map(|i| solid(6, 4, [10, 20, 30], i)).collect();
        let out = run_chain(
            &[
                Stage::Passthrough,
                Stage::Stylize {
                    width: 3,
                    height: 2,
                    look: Look::default(),
                },
            ],
            chunk,
        );
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].pts, Duration::from_millis(99));
        assert_eq!((out[0].frame.width, out[0].frame.height), (3, 2));
    }
}
