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
    Stylize { width: u32, height: u32 },
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
                })
            }
            _ => None,
        }
    }

    fn apply(&self, frame: &VideoFrame) -> Option<VideoFrame> {
        match self {
            Stage::Passthrough => Some(frame.clone()),
            Stage::Stylize { width, height } => stylize(frame, *width, *height),
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

/// Posterize level for one channel: the top two bits, spread to 0, 85, 170, 255.
pub fn posterize(v: u8) -> u8 {
    (v >> 6) * 85
}

/// The stylize look for one non-green pixel: posterize, then a violet tint
/// `(3/4·R' + 64, G'/2, 3/4·B' + 64)` that never turns a pixel key-green.
pub fn stylize_pixel(r: u8, g: u8, b: u8) -> [u8; 3] {
    if is_key_green(r, g, b) {
        return [r, g, b];
    }
    let tint = |v: u8| (u16::from(posterize(v)) * 3 / 4 + 64).min(255) as u8;
    [tint(r), posterize(g) / 2, tint(b)]
}

/// Stretches (nearest neighbour, no aspect preservation, like the diffusion pipelines' resize)
/// to `width`×`height` and applies [`stylize_pixel`]. Cheap enough for 30 fps on one core.
pub fn stylize(frame: &VideoFrame, width: u32, height: u32) -> Option<VideoFrame> {
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
            let [r, g, b] = stylize_pixel(src_row[sx], src_row[sx + 1], src_row[sx + 2]);
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
        let out = stylize(&green, 8, 6).unwrap();
        assert_eq!((out.width, out.height), (8, 6));
        assert_eq!(&out.data[..4], &[0, 177, 64, 255]);
        let skin = solid(4, 2, [230, 140, 90], 0).frame;
        let out = stylize(&skin, 3, 3).unwrap();
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
    fn chain_keeps_timestamps() {
        let chunk: Vec<TimedFrame> = (0..4).map(|i| solid(6, 4, [10, 20, 30], i)).collect();
        let out = run_chain(
            &[
                Stage::Passthrough,
                Stage::Stylize {
                    width: 3,
                    height: 2,
                },
            ],
            chunk,
        );
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].pts, Duration::from_millis(99));
        assert_eq!((out[0].frame.width, out[0].frame.height), (3, 2));
    }
}
