//! Graph rules an edit must keep: typed ports, no loops, one wire per input.

use std::collections::BTreeSet;

use show::node::NodeKind;
use show::{Edge, NodeId, PortType, Scene};

use crate::error::{EditError, PortLabel};

/// What connecting `from` into `to.port` would do, or why it is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// The wire already on that input, which the new one replaces.
    pub replaces: Option<Edge>,
    /// The port is one past a blend's last layer: the blend grows a layer to take it.
    pub grows_blend: bool,
}

/// Checks a wire from `from`'s output into input `port` of `to` without changing anything.
pub fn can_connect(
    scene: &Scene,
    from: &NodeId,
    to: &NodeId,
    port: &str,
) -> Result<Connection, EditError> {
    let node = |id: &NodeId| {
        scene.nodes.get(id).ok_or_else(|| EditError::NoNode {
            scene: scene.name.clone(),
            node: id.clone(),
        })
    };
    let (src, dst) = (node(from)?, node(to)?);
    let Some(from_type) = src.kind.output() else {
        return Err(EditError::NoOutput {
            node: from.clone(),
            kind: src.kind.name(),
        });
    };
    let inputs = dst.kind.inputs();
    let grows_blend = matches!(&dst.kind, NodeKind::Blend(b) if port == b.layers.len().to_string());
    let port_type = match inputs.iter().find(|(p, _)| p == port) {
        Some((_, t)) => *t,
        None if grows_blend => PortType::Image,
        None => {
            let ports: Vec<&str> = inputs.iter().map(|(p, _)| p.as_str()).collect();
            return Err(EditError::UnknownPort {
                node: to.clone(),
                kind: dst.kind.name(),
                port: port.to_owned(),
                ports: if ports.is_empty() {
                    "none".to_owned()
                } else {
                    ports.join(", ")
                },
            });
        }
    };
    if from_type != port_type {
        return Err(EditError::TypeMismatch {
            from: from.clone(),
            from_type: PortLabel(from_type),
            to: to.clone(),
            port: port.to_owned(),
            port_type: PortLabel(port_type),
        });
    }
    if would_cycle(scene, from, to) {
        return Err(EditError::Cycle {
            from: from.clone(),
            to: to.clone(),
        });
    }
    let replaces = scene
        .edges
        .iter()
        .find(|e| &e.to == to && e.port == port)
        .cloned();
    Ok(Connection {
        replaces,
        grows_blend,
    })
}

/// Whether a wire `from -> to` would close a loop: `from` is reachable from `to` (or is `to`).
pub fn would_cycle(scene: &Scene, from: &NodeId, to: &NodeId) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![to];
    while let Some(id) = stack.pop() {
        if id == from {
            return true;
        }
        if seen.insert(id) {
            stack.extend(scene.edges.iter().filter(|e| &e.from == id).map(|e| &e.to));
        }
    }
    false
}
