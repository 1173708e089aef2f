//! Shows, scenes, nodes and edges.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::color::Rgba;
use crate::id::NodeId;
use crate::node::{NodeKind, ScopeParams};
use crate::preset::Presets;

/// The current show-file format version. Older versions are migrated on load (see `io`).
pub const FORMAT_VERSION: u32 = 2;

/// A whole show: ordered scenes sharing one canvas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Show {
    pub version: u32,
    /// Output size in pixels; every source is fitted into it.
    #[serde(default = "default_canvas")]
    pub canvas: (u32, u32),
    pub scenes: Vec<Scene>,
    /// Prompt and pipeline presets (format version 2).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub presets: Presets,
    /// Controller mappings (optional in format version 2; older builds refuse the field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub midi: Vec<crate::midi::MidiMapping>,
    /// Highest numeric suffix handed out by [`Show::fresh_id`], so deleted ids are never reused.
    #[serde(default)]
    pub id_counter: u64,
    /// Where the show was loaded from (for error positions); not part of its content.
    #[serde(skip)]
    pub origin: Origin,
}

/// The file and text a show was parsed from. Provenance, not content: every `Origin` compares
/// equal, so a show equals itself after a save and reload.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub path: Option<PathBuf>,
    pub text: Option<Arc<str>>,
}

impl PartialEq for Origin {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Show {
    /// A show with one empty scene, for editors and tests.
    pub fn new(canvas: (u32, u32)) -> Self {
        Show {
            version: FORMAT_VERSION,
            canvas,
            scenes: Vec::new(),
            presets: Presets::default(),
            midi: Vec::new(),
            id_counter: 0,
            origin: Origin::default(),
        }
    }

    /// A node id that no scene uses and that was never handed out before: `kind_N` with `N`
    /// above every number given so far, so a deleted node's id never comes back.
    pub fn fresh_id(&mut self, kind_name: &str) -> NodeId {
        loop {
            self.id_counter += 1;
            let id = NodeId(format!("{kind_name}_{}", self.id_counter));
            if !self.scenes.iter().any(|s| s.nodes.contains_key(&id)) {
                return id;
            }
        }
    }
}

fn default_canvas() -> (u32, u32) {
    (1920, 1080)
}

/// One scene: a node graph, how it is entered, and its Scope state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct Node {
    pub kind: NodeKind,
    /// Editor position; not used for rendering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<(f32, f32)>,
}

/// Output of `from` goes into input port `port` of `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(default, deny_unknown_fields)]
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

fn is_empty(p: &Presets) -> bool {
    p.prompts.is_empty() && p.pipelines.is_empty()
}
