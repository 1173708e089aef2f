//! The operator console: the show's node graph, an inspector, the scenes and a viewer, drawn
//! with egui over a [`document::Document`].
//!
//! It holds no Bevy types: the host (the app's console plugin) hands it an egui context, the
//! document and what is live ([`Live`]), and carries out what it asks for ([`Action`]).

use std::collections::HashMap;

use document::Document;
use show::NodeId;

/// What is playing, as the host knows it. Read-only for the console.
#[derive(Debug, Default)]
pub struct Live<'a> {
    /// The scene on program (what the audience sees).
    pub program_scene: usize,
    /// The program picture, for the monitor.
    pub program: Option<Picture<'a>>,
    /// The output of the node picked for the viewer ([`Console::viewed_node`]).
    pub viewer: Option<Picture<'a>>,
    /// Small live pictures of node outputs in the edited scene, by node id.
    pub thumbnails: HashMap<NodeId, egui::TextureId>,
    /// Problems of the edited show by scene index and node id (validation messages). The program
    /// keeps playing the last valid show while there are any.
    pub node_errors: HashMap<(usize, NodeId), String>,
    /// A problem with the show as a whole (not tied to one node).
    pub show_error: Option<String>,
    /// One line of status (fps, Scope state) for the status bar.
    pub status: String,
}

/// A texture the host renders, with its pixel size and, when available, its pixels (RGBA8,
/// row-major) so the viewer can show the value under the cursor.
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    pub texture: egui::TextureId,
    pub size: [u32; 2],
    pub rgba: Option<&'a [u8]>,
}

/// What the console asks the host to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Put scene `n` on program (keys 1-9, or a click in the scenes panel). Live control, not an edit.
    Cut(usize),
    /// Save the document to its file (Ctrl+S).
    Save,
    /// Close the app: asked for, and confirmed if there were unsaved changes.
    Quit,
    /// Replace the document with the version on disk (the operator chose theirs in a conflict).
    LoadExternal,
}

/// The console's own state: which scene is edited, the selection, open panels.
#[derive(Debug, Default)]
pub struct Console {
    edited_scene: usize,
    viewed: Option<NodeId>,
    thumbnails: bool,
}

impl Console {
    pub fn new() -> Self {
        Console {
            thumbnails: true,
            ..Default::default()
        }
    }

    /// Draws the console for one frame and returns what the host should do.
    pub fn ui(&mut self, ctx: &egui::Context, doc: &mut Document, live: &Live) -> Vec<Action> {
        let _ = (ctx, doc, live);
        Vec::new()
    }

    /// The scene shown in the graph view.
    pub fn edited_scene(&self) -> usize {
        self.edited_scene
    }

    /// The node whose output the viewer shows.
    pub fn viewed_node(&self) -> Option<&NodeId> {
        self.viewed.as_ref()
    }

    /// Whether node thumbnails are wanted (the host renders them only then).
    pub fn thumbnails_on(&self) -> bool {
        self.thumbnails
    }

    /// The nodes of the edited scene currently visible in the graph view (thumbnails are
    /// rendered only for these).
    pub fn visible_nodes(&self) -> Vec<NodeId> {
        Vec::new()
    }

    /// The window is being closed: quit at once when there is nothing unsaved, or ask.
    pub fn request_quit(&mut self, doc: &Document) -> Vec<Action> {
        if doc.is_dirty() {
            Vec::new()
        } else {
            vec![Action::Quit]
        }
    }

    /// The file changed on disk while the document has unsaved changes: ask which to keep.
    pub fn ask_external_conflict(&mut self) {}
}
