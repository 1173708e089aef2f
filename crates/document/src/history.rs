//! Undo and redo by snapshots of the whole show.
//!
//! A show is small (the demo clones in about 10 µs), so a snapshot per step costs less than
//! keeping inverse operations correct: restoring a snapshot cannot drift from what was there.

use std::collections::VecDeque;

use show::Show;

/// Undo steps kept; older ones are forgotten first.
pub const MAX_UNDO: usize = 256;

#[derive(Debug, Default, Clone)]
pub(crate) struct History {
    undo: VecDeque<Show>,
    redo: Vec<Show>,
}

impl History {
    /// Records `before` as one step; a new step clears what could be redone.
    pub(crate) fn push(&mut self, before: Show) {
        if self.undo.len() == MAX_UNDO {
            self.undo.pop_front();
        }
        self.undo.push_back(before);
        self.redo.clear();
    }

    /// Swaps `current` with the last undo snapshot; `false` when there is none.
    pub(crate) fn undo(&mut self, current: &mut Show) -> bool {
        let Some(before) = self.undo.pop_back() else {
            return false;
        };
        self.redo.push(std::mem::replace(current, before));
        true
    }

    pub(crate) fn redo(&mut self, current: &mut Show) -> bool {
        let Some(after) = self.redo.pop() else {
            return false;
        };
        self.undo.push_back(std::mem::replace(current, after));
        true
    }

    pub(crate) fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub(crate) fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub(crate) fn undo_len(&self) -> usize {
        self.undo.len()
    }
}
