//! Errors that point at the show file: `path:line:col: what is wrong`.

use std::fmt;
use std::path::PathBuf;

use crate::id::NodeId;

/// What went wrong, without where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read the show file: {0}")]
    Io(String),
    /// RON syntax or type errors (unknown node kind, missing field, wrong type, …).
    #[error("{0}")]
    Parse(String),
    #[error("format version {found} is newer than this program understands (up to {supported})")]
    TooNew { found: u32, supported: u32 },
    #[error("cannot migrate from format version {from}: {reason}")]
    Migration { from: u32, reason: String },
    #[error("the show has no scenes")]
    NoScenes,
    #[error("canvas must be between 16x16 and 8192x8192, got {0}x{1}")]
    BadCanvas(u32, u32),
    #[error("two scenes are named \"{0}\"")]
    DuplicateScene(String),
    #[error("node \"{node}\" ({kind}): {param} must be in {range}, got {got}")]
    BadParam {
        node: NodeId,
        kind: &'static str,
        param: String,
        range: String,
        got: String,
    },
    #[error("node \"{node}\" (scope): load.extra.{key}: {problem}")]
    BadLoadParam {
        node: NodeId,
        key: String,
        problem: String,
    },
    #[error("edge {from} -> {to}: there is no node \"{missing}\"")]
    DanglingEdge {
        from: NodeId,
        to: NodeId,
        missing: NodeId,
    },
    #[error(
        "edge {from} -> {to}: node \"{to}\" ({kind}) has no input port \"{port}\" (ports: {ports})"
    )]
    UnknownPort {
        from: NodeId,
        to: NodeId,
        kind: &'static str,
        port: String,
        ports: String,
    },
    #[error("edge {from} -> {to}: node \"{from}\" ({kind}) has no output")]
    NoOutputPort {
        from: NodeId,
        to: NodeId,
        kind: &'static str,
    },
    #[error(
        "edge {from} -> {to}.{port}: port type mismatch, {from} gives {given:?} but {to}.{port} takes {wanted:?}"
    )]
    PortType {
        from: NodeId,
        to: NodeId,
        port: String,
        given: crate::PortType,
        wanted: crate::PortType,
    },
    #[error("input {to}.{port} is connected twice (from \"{first}\" and \"{second}\")")]
    InputTwice {
        to: NodeId,
        port: String,
        first: NodeId,
        second: NodeId,
    },
    #[error("node \"{node}\" ({kind}): input \"{port}\" is not connected")]
    MissingInput {
        node: NodeId,
        kind: &'static str,
        port: String,
    },
    #[error("the graph has a cycle through {}", join(.0))]
    Cycle(Vec<NodeId>),
    #[error("a scene needs exactly one output node, found {0}")]
    OutputCount(usize),
    #[error("node \"{node}\" ({kind}): file not found: {path}")]
    MissingFile {
        node: NodeId,
        kind: &'static str,
        path: PathBuf,
    },
    /// The file exists but cannot be used as an image (directory, device, corrupt, too large).
    #[error("node \"{node}\" ({kind}): {path} {reason}")]
    BadImageFile {
        node: NodeId,
        kind: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// A segment node's model file exists but cannot be a model.
    #[error("node \"{node}\" (segment): model file {path} {reason}")]
    BadModelFile {
        node: NodeId,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "node \"{node}\" is {first} in scene \"{first_scene}\" but {second} here; source textures are shared by id across scenes, so give them different ids"
    )]
    SharedIdMismatch {
        node: NodeId,
        first: String,
        first_scene: String,
        second: String,
    },
    /// A NaN or infinite duration never finishes (the program stays black or stuck mid-way).
    #[error("transition duration must be in 0..={max} seconds, got {0}", max = MAX_TRANSITION_SECS)]
    BadTransitionDuration(f32),
    /// Ids key the node map, so a second definition would silently replace the first on load.
    #[error(
        "node \"{node}\" ({kind}): the id is used twice in this scene (ids must be unique; only the last one would be kept)"
    )]
    DuplicateNode { node: NodeId, kind: &'static str },
    #[error(
        "node \"{node}\" ({kind}): url {url:?} is not \"embedded\" or an http:// or https:// URL with a host: {reason}"
    )]
    BadScopeUrl {
        node: NodeId,
        kind: &'static str,
        url: String,
        reason: String,
    },
    #[error("scene index {0} does not exist")]
    NoSuchScene(usize),
    /// Presets are recalled by name, so a name must say which one.
    #[error("{what} preset {name:?}: {problem}")]
    BadPreset {
        what: &'static str,
        name: String,
        problem: String,
    },
    #[error("MIDI mapping {control}: {problem}")]
    BadMidi { control: String, problem: String },
}

impl ErrorKind {
    /// The node the problem belongs to, so an editor can mark it (for a wire: the node it
    /// goes into).
    pub fn node(&self) -> Option<&NodeId> {
        use ErrorKind::*;
        match self {
            BadParam { node, .. }
            | BadLoadParam { node, .. }
            | MissingInput { node, .. }
            | MissingFile { node, .. }
            | BadImageFile { node, .. }
            | BadModelFile { node, .. }
            | SharedIdMismatch { node, .. }
            | DuplicateNode { node, .. }
            | BadScopeUrl { node, .. } => Some(node),
            UnknownPort { to, .. }
            | PortType { to, .. }
            | InputTwice { to, .. }
            | NoOutputPort { to, .. } => Some(to),
            DanglingEdge { from, to, missing } => Some(if missing == to { from } else { to }),
            Cycle(nodes) => nodes.first(),
            Io(_)
            | Parse(_)
            | TooNew { .. }
            | Migration { .. }
            | NoScenes
            | BadCanvas(..)
            | DuplicateScene(_)
            | OutputCount(_)
            | BadTransitionDuration(_)
            | NoSuchScene(_)
            | BadPreset { .. }
            | BadMidi { .. } => None,
        }
    }
}

/// The largest image side [`crate::validate`] accepts: bigger is a decompression bomb, not art.
pub const MAX_IMAGE_SIDE: u32 = 16384;

/// The longest transition [`crate::validate`] accepts, in seconds: longer is a typo, not a show.
pub const MAX_TRANSITION_SECS: f32 = 600.0;

fn join(ids: &[NodeId]) -> String {
    ids.iter()
        .map(NodeId::as_str)
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// An error with where it happened: file, position and scene when known.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowError {
    pub file: Option<PathBuf>,
    /// 1-based line and column.
    pub pos: Option<(usize, usize)>,
    pub scene: Option<String>,
    /// Boxed: errors travel in `Result`s and should stay small.
    pub kind: Box<ErrorKind>,
}

impl ShowError {
    pub fn new(kind: ErrorKind) -> Self {
        ShowError {
            file: None,
            pos: None,
            scene: None,
            kind: Box::new(kind),
        }
    }
}

impl fmt::Display for ShowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.pos) {
            (Some(file), Some((line, col))) => write!(f, "{}:{line}:{col}: ", file.display())?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, Some((line, col))) => write!(f, "{line}:{col}: ")?,
            (None, None) => {}
        }
        if let Some(scene) = &self.scene {
            write!(f, "scene \"{scene}\": ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ShowError {}
