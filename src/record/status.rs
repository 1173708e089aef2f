//! Each output's state and counters for the console's list, and turning outputs on and off
//! while the show plays. Turning one off never waits on the frame path: the worker (which
//! finishes the file or closes ffmpeg, up to seconds) is finished on a thread of its own.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use bevy::prelude::*;

use super::inlet::Inlet;

/// What an output is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputState {
    Off,
    /// Waiting for its first frame (a recording) or for ffmpeg.
    Starting,
    Running,
    /// Stopped on this error; turning it on again retries.
    Error(String),
}

/// One output as the console lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputStatus {
    /// The file or the URL: what the list shows and what [`ShowCommand::Output`] names.
    ///
    /// [`ShowCommand::Output`]: crate::control::ShowCommand::Output
    pub name: String,
    /// `record`, `stream`, `stream (NODE with alpha)`, `record (NODE with alpha)`.
    pub kind: String,
    pub state: OutputState,
    /// Output frames written so far (repeats included).
    pub frames: u64,
    /// Frames replaced by a newer one before the worker took them.
    pub dropped: u64,
    /// Encoded bytes written so far.
    pub bytes: u64,
    /// The file's size, for a recording.
    pub file_bytes: Option<u64>,
    /// For a listener: whether a client is connected.
    pub client: Option<bool>,
}

impl OutputStatus {
    pub(super) fn new(name: String, kind: String, state: OutputState) -> Self {
        OutputStatus {
            name,
            kind,
            state,
            frames: 0,
            dropped: 0,
            bytes: 0,
            file_bytes: None,
            client: None,
        }
    }

    /// Copies a running worker's counters.
    pub(super) fn counted(mut self, inlet: &Inlet) -> Self {
        self.frames = inlet.sent.load(Ordering::Relaxed);
        self.dropped = inlet.dropped.load(Ordering::Relaxed);
        self.bytes = inlet.sent_bytes.load(Ordering::Relaxed);
        self
    }
}

/// Finishes a worker without waiting for it (`finish` closes ffmpeg and waits, bounded).
pub(super) fn finish_in_background<T: Send + 'static>(
    what: String,
    worker: T,
    finish: impl FnOnce(T) -> String + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("output-finish".into())
        .spawn(move || info!("{}", finish(worker)));
    if let Err(e) = spawned {
        // The worker was moved into the closure that failed to start: it is dropped here,
        // which finishes it on this thread (a pause, never a lost file).
        warn!("{what}: cannot finish it on its own thread ({e}); finishing here");
    }
}

/// `path`, or the first `NAME-2.EXT`, `NAME-3.EXT`, ... that does not exist: a recording
/// started again never overwrites the last one.
pub(super) fn fresh_path(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (2u32..)
        .map(|n| path.with_file_name(format!("{stem}-{n}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn a_restarted_recording_takes_the_next_free_name() {
        let dir = std::env::temp_dir().join(format!("fresh-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = dir.join("show.mkv");
        assert_eq!(fresh_path(&first), first);
        std::fs::write(&first, b"x").unwrap();
        assert_eq!(fresh_path(&first), dir.join("show-2.mkv"));
        std::fs::write(dir.join("show-2.mkv"), b"x").unwrap();
        assert_eq!(fresh_path(&first), dir.join("show-3.mkv"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
