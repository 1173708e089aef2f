//! Why an edit was refused. Each message is written for the operator who tried it.

use show::{NodeId, PortType};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("there is no scene {0}")]
    NoScene(usize),
    #[error("scene \"{scene}\" has no node \"{node}\"")]
    NoNode { scene: String, node: NodeId },
    #[error("\"{node}\" ({kind}) has no output to connect")]
    NoOutput { node: NodeId, kind: &'static str },
    #[error("\"{node}\" ({kind}) has no input \"{port}\" (inputs: {ports})")]
    UnknownPort {
        node: NodeId,
        kind: &'static str,
        port: String,
        ports: String,
    },
    #[error(
        "cannot connect {from_type} output of \"{from}\" to {port_type} input \"{port}\" of \"{to}\""
    )]
    TypeMismatch {
        from: NodeId,
        from_type: PortLabel,
        to: NodeId,
        port: String,
        port_type: PortLabel,
    },
    #[error("connecting \"{from}\" to \"{to}\" would make a loop")]
    Cycle { from: NodeId, to: NodeId },
    #[error("input \"{port}\" of \"{node}\" is not connected")]
    NotConnected { node: NodeId, port: String },
    #[error("\"{node}\" is a {has}; it cannot become a {wanted}")]
    KindChange {
        node: NodeId,
        has: &'static str,
        wanted: &'static str,
    },
    #[error("\"{node}\" is not a blend")]
    NotABlend { node: NodeId },
    #[error("\"{node}\" has no layer {index}")]
    NoLayer { node: NodeId, index: usize },
    #[error("a blend needs at least one layer")]
    LastLayer,
    #[error("a scene name cannot be empty")]
    EmptySceneName,
    #[error("there is already a scene named \"{0}\"")]
    DuplicateSceneName(String),
    #[error("a show needs at least one scene")]
    LastScene,
    #[error("transition duration must be a number of seconds in 0..={max}, got {got}")]
    BadDuration { got: f32, max: f32 },
    #[error("a node position must be finite, got ({0}, {1})")]
    BadPosition(f32, f32),
    #[error("the clipboard is empty")]
    EmptyClipboard,
}

/// A port type as an operator reads it ("image", "matte").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortLabel(pub PortType);

impl std::fmt::Display for PortLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            PortType::Image => "an image",
            PortType::Matte => "a matte",
        })
    }
}
