//! Copied nodes with the wires between them.

use std::collections::BTreeMap;

use show::{Edge, Node, NodeId, Scene};

/// A set of nodes and their inner edges (wires to nodes outside the set are left behind).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clipboard {
    pub nodes: BTreeMap<NodeId, Node>,
    pub edges: Vec<Edge>,
}

impl Clipboard {
    /// Copies `ids` (those that exist) from `scene`.
    pub fn copy(scene: &Scene, ids: &[NodeId]) -> Clipboard {
        let nodes: BTreeMap<NodeId, Node> = ids
            .iter()
            .filter_map(|id| scene.nodes.get(id).map(|n| (id.clone(), n.clone())))
            .collect();
        let edges = scene
            .edges
            .iter()
            .filter(|e| nodes.contains_key(&e.from) && nodes.contains_key(&e.to))
            .cloned()
            .collect();
        Clipboard { nodes, edges }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}
