//! The `show-compiler` worker: validates and compiles each edited show off the frame path.
//!
//! Validation reads image headers from disk, so it never runs in a Bevy system. The newest
//! edit wins: an edit made while one is compiling replaces any that is still waiting.

use std::path::PathBuf;

use crossbeam_channel::Receiver;
use media::NewestSender;
use show::{Show, ShowError};

use crate::showfile::{self, LoadedShow};

/// A finished compile of document revision `revision`.
pub struct Compiled {
    pub revision: u64,
    pub result: Result<LoadedShow, Vec<ShowError>>,
}

/// The app's end of the worker. Dropping it ends the worker thread.
pub struct Compiler {
    jobs: NewestSender<(u64, Show)>,
    results: Receiver<Compiled>,
}

impl Compiler {
    /// Starts the worker for a show saved at `path` (relative media paths resolve against its
    /// folder).
    pub fn start(path: PathBuf) -> std::io::Result<Compiler> {
        let (jobs, job_rx) = media::newest_channel::<(u64, Show)>(1);
        let (result_tx, results) = media::newest_channel(4);
        std::thread::Builder::new()
            .name("show-compiler".into())
            .spawn(move || {
                while let Ok((revision, show)) = job_rx.recv() {
                    result_tx.send(Compiled {
                        revision,
                        result: compile(&path, show),
                    });
                }
            })?;
        Ok(Compiler { jobs, results })
    }

    /// Queues `show` (document revision `revision`), replacing a queued one not yet started.
    pub fn submit(&self, revision: u64, show: Show) {
        self.jobs.send((revision, show));
    }

    /// Results that finished since the last call, oldest first.
    pub fn finished(&self) -> Vec<Compiled> {
        self.results.try_iter().collect()
    }
}

/// Validates with structured errors (so the console can mark nodes), then compiles.
fn compile(path: &std::path::Path, show: Show) -> Result<LoadedShow, Vec<ShowError>> {
    let base_dir = path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let errors = show::validate(&show, &base_dir);
    if !errors.is_empty() {
        return Err(errors);
    }
    showfile::from_show(path, show).map_err(|e| {
        e.0.into_iter()
            .map(|m| ShowError::new(show::ErrorKind::Parse(m)))
            .collect()
    })
}
