//! Shows, scenes, nodes and edges.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::color::Rgba;
use crate::id::NodeId;
use crate::node::{NodeKind, ScopeParams};

/// The current show-file format version. Older versions are migrated on load (see `io`).
pub const FORMAT_VERSION: u32 = 1;

/// A whole show: ordered scenes sharing one canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Show {
    pub version: u32,
    /// Output size in pixels; every source is fitted into it.
    #[serde(default = "default_canvas")]
    pub canvas: (u32, u32),
    pub scenes: Vec<Scene>,
    /// Highest numeric suffix handed out by [`Show::fresh_id`], so deleted ids are never reused.
    #[serde(default)]
    pub id_counter: u64,
}

fn default_canvas() -> (u32, u32) {
    (1920, 1080)
}

/// One scene: a node graph, how it is entered, and its Scope state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub name: String,
    /// How the show switches *into* this scene.
    #[serde(default)]
    pub transition: Transition,
    /// Scope parameters this scene sets on its Scope nodes (over the node's own `params`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeParams>,
    /// Nodes by id. A `BTreeMap` keeps saved files in a stable order.
    pub nodes: BTreeMap<NodeId, Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// A node: its kind and parameters, plus where the editor draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub kind: NodeKind,
    /// Editor position; not used for rendering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<(f32, f32)>,
}

/// Output of `from` goes into input port `port` of `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    /// Input port name (`"in"`, `"matte"`, or a blend layer index `"0"`, `"1"`, …).
    #[serde(default = "default_port")]
    pub port: String,
}

fn default_port() -> String {
    "in".to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    #[default]
    Cut,
    Fade,
    /// Fade out to a colour, then in from it.
    FadeThrough(Rgba),
    /// A soft edge moving left to right.
    Wipe,
}

/// How a scene is entered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Transition {
    pub kind: TransitionKind,
    /// Seconds.
    pub duration: f32,
}

impl Default for Transition {
    fn default() -> Self {
        Transition {
            kind: TransitionKind::Cut,
            duration: 0.0,
        }
    }
}
