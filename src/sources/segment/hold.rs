//! The frames a held camera picture is chosen from: the camera's last few frames, kept by its
//! capture thread, so the frame a mask was computed from can be shown with that mask.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use media::VideoFrame;

/// Frames kept: a mask's age is 40–75 ms in a show (BENCHMARKS.md), a few frames at 30 fps;
/// 12 cover 400 ms, for a slow model and a main loop that falls behind. Frames are shared with
/// the camera (`Arc`): the cost is keeping up to 12 frame buffers alive (44 MB at 1280×720).
const KEEP: usize = 12;

/// Recent frames of one camera, newest last. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub(super) struct Recent(Arc<Mutex<VecDeque<VideoFrame>>>);

impl Recent {
    /// Called on the capture thread for every frame.
    pub(super) fn push(&self, frame: &VideoFrame) {
        let mut frames = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if frames.len() == KEEP {
            frames.pop_front();
        }
        frames.push_back(frame.clone());
    }

    /// The frame with sequence number `seq`, if it is still kept.
    pub(super) fn find(&self, seq: u64) -> Option<VideoFrame> {
        let frames = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        frames.iter().rev().find(|f| f.seq == seq).cloned()
    }
}

#[cfg(test)]
mod tests {
    use media::PixelFormat;

    use super::*;

    #[test]
    fn keeps_the_last_frames_and_finds_them_by_seq() {
        let recent = Recent::default();
        for seq in 1..=20 {
            let f = VideoFrame::new(1, 1, PixelFormat::Rgba8, vec![0; 4], media::now(), seq);
            recent.push(&f.expect("frame"));
        }
        assert_eq!(recent.find(20).map(|f| f.seq), Some(20));
        assert_eq!(recent.find(9).map(|f| f.seq), Some(9));
        assert!(recent.find(8).is_none(), "only {KEEP} kept");
    }
}
