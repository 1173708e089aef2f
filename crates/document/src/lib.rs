//! The editable show.
//!
//! A [`Document`] owns one [`show::Show`] and is the only thing that changes it: every change is
//! an [`Edit`] applied to a copy, committed only when it succeeds, so a refused edit leaves the
//! show exactly as it was. Undo is by snapshots of the whole show ([`history`]), one per user
//! gesture. The document knows whether it differs from what is on disk and saves atomically.
//!
//! Live control (scene cuts, connection state, frame rates) is not document state: it never
//! enters the history.

mod clipboard;
mod document;
mod edit;
mod error;
mod graph;
mod history;

pub use clipboard::Clipboard;
pub use document::{Document, SaveError};
pub use edit::{Applied, Edit};
pub use error::EditError;
pub use graph::{Connection, can_connect, would_cycle};
pub use history::MAX_UNDO;
