//! The document: the show being edited, its history, and where it is saved.

use std::path::{Path, PathBuf};

use show::Show;

use crate::edit::{Applied, Edit};
use crate::error::EditError;
use crate::history::History;

/// Why a save failed. The show in memory is untouched and still unsaved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the show has no file yet: choose where to save it")]
    NoPath,
    #[error("{0}")]
    Show(#[from] show::ShowError),
    #[error("cannot save {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The show being edited. The only writer of its [`Show`].
#[derive(Debug, Clone)]
pub struct Document {
    show: Show,
    path: Option<PathBuf>,
    /// The content as last loaded or saved: the document is dirty while it differs.
    saved: Show,
    history: History,
    /// The show before the current gesture began (a drag is one undo step, however many edits).
    gesture: Option<Show>,
    /// Bumped on every change of content, so hosts know when to recompile.
    revision: u64,
}

impl Document {
    /// A document for `show`, as loaded from `path` (so it starts clean).
    pub fn new(show: Show, path: Option<PathBuf>) -> Self {
        Document {
            saved: show.clone(),
            show,
            path,
            history: History::default(),
            gesture: None,
            revision: 0,
        }
    }

    pub fn show(&self) -> &Show {
        &self.show
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Changes whenever the show's content does (edit, undo, redo, reload).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether the show differs from the file it was loaded from or last saved to.
    pub fn is_dirty(&self) -> bool {
        self.show != self.saved
    }

    /// Applies one edit. Outside a gesture it is one undo step; an edit that changes nothing
    /// adds no step. A refused edit changes nothing.
    pub fn apply(&mut self, edit: Edit) -> Result<Applied, EditError> {
        let record = self.gesture.is_none();
        self.change(edit, record)
    }

    /// Applies an edit from a control surface (OSC, MIDI, obs-websocket): it changes the show
    /// and makes it dirty like any edit, but is not an undo step, because it is performance,
    /// not authoring. Undo restores whole earlier states, so an undo taken after it also takes
    /// back what it changed.
    pub fn apply_live(&mut self, edit: Edit) -> Result<Applied, EditError> {
        self.change(edit, false)
    }

    fn change(&mut self, edit: Edit, record: bool) -> Result<Applied, EditError> {
        let mut next = self.show.clone();
        let applied = edit.apply(&mut next)?;
        if next != self.show {
            // Line and column positions refer to the text that was loaded, not to this show.
            next.origin.text = None;
            let before = std::mem::replace(&mut self.show, next);
            if record {
                self.history.push(before);
            }
            self.revision += 1;
        }
        Ok(applied)
    }

    /// Starts a gesture (a slider or node drag): the edits until [`Document::end_gesture`] are
    /// one undo step. Starting again while one is open keeps the first start.
    pub fn begin_gesture(&mut self) {
        if self.gesture.is_none() {
            self.gesture = Some(self.show.clone());
        }
    }

    /// Ends a gesture, recording it as one step if it changed anything.
    pub fn end_gesture(&mut self) {
        if let Some(before) = self.gesture.take()
            && before != self.show
        {
            self.history.push(before);
        }
    }

    pub fn in_gesture(&self) -> bool {
        self.gesture.is_some()
    }

    pub fn undo(&mut self) -> bool {
        self.end_gesture();
        let done = self.history.undo(&mut self.show);
        if done {
            self.revision += 1;
        }
        done
    }

    pub fn redo(&mut self) -> bool {
        self.end_gesture();
        let done = self.history.redo(&mut self.show);
        if done {
            self.revision += 1;
        }
        done
    }

    pub fn can_undo(&self) -> bool {
        self.history.can_undo() || self.gesture.as_ref().is_some_and(|g| *g != self.show)
    }

    pub fn can_redo(&self) -> bool {
        self.history.can_redo()
    }

    /// Undo steps available (for tests and the UI's tooltip).
    pub fn undo_steps(&self) -> usize {
        self.history.undo_len()
    }

    /// Replaces the show with one read from disk (an external editor saved the file). It is an
    /// undo step, so the operator can go back to what they had; the document is clean after.
    pub fn replace_from_disk(&mut self, show: Show) {
        self.end_gesture();
        if show == self.show {
            self.saved = show;
            return;
        }
        self.saved = show.clone();
        let before = std::mem::replace(&mut self.show, show);
        self.history.push(before);
        self.revision += 1;
    }

    /// Records that `content` was written to `path` by someone else (a save worker): the
    /// document is clean if it still equals `content`.
    pub fn mark_saved(&mut self, content: Show, path: PathBuf) {
        self.show.origin.path = Some(path.clone());
        self.path = Some(path);
        self.saved = content;
    }

    /// Saves to the document's file atomically (temp file, fsync, rename; the previous file
    /// kept as `.bak`). Returns the text written, so a file watcher can tell this save from an
    /// external edit.
    pub fn save(&mut self) -> Result<String, SaveError> {
        let path = self.path.clone().ok_or(SaveError::NoPath)?;
        self.save_as(&path)
    }

    /// Saves to `path`, which becomes the document's file.
    pub fn save_as(&mut self, path: &Path) -> Result<String, SaveError> {
        self.end_gesture();
        let text = show::io::to_string(&self.show)?;
        show::io::write_atomic(path, text.as_bytes(), Some(&show::io::backup_path(path))).map_err(
            |source| SaveError::Io {
                path: path.to_path_buf(),
                source,
            },
        )?;
        self.path = Some(path.to_path_buf());
        self.show.origin.path = Some(path.to_path_buf());
        self.saved = self.show.clone();
        Ok(text)
    }
}
