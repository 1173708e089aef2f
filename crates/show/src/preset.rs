//! Presets a performer recalls with one click: prompt presets (what the avatar is asked to be)
//! and pipeline presets (which model, loaded how). Part of the show file since format
//! version 2, validated like the nodes (the same parameter table).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::node::{Interpolation, NodeKind, Prompt, ScopeLoad, ScopeNode, ScopeParams};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Presets {
    pub prompts: Vec<PromptPreset>,
    pub pipelines: Vec<PipelinePreset>,
}

/// Prompts with their weights and blending, the VACE strength and references; recalled over a
/// Scope node's current state with the preset's own prompt transition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptPreset {
    pub name: String,
    pub prompts: Vec<Prompt>,
    pub interpolation: Interpolation,
    pub transition_steps: Option<u32>,
    pub vace_context_scale: Option<f32>,
    pub vace_ref_images: Vec<PathBuf>,
}

/// A pipeline and how to load it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelinePreset {
    pub name: String,
    pub pipeline: String,
    pub load: ScopeLoad,
}

impl PromptPreset {
    /// The preset taken from a Scope node's parameters.
    pub fn capture(name: &str, p: &ScopeParams) -> Self {
        PromptPreset {
            name: name.to_owned(),
            prompts: p.prompts.clone(),
            interpolation: p.interpolation,
            transition_steps: p.transition_steps,
            vace_context_scale: p.vace_context_scale,
            vace_ref_images: p.vace_ref_images.clone(),
        }
    }

    /// `base` with this preset's fields over it (the rest, like noise and input mode, stays).
    pub fn apply_to(&self, base: &ScopeParams) -> ScopeParams {
        ScopeParams {
            prompts: self.prompts.clone(),
            interpolation: self.interpolation,
            transition_steps: self.transition_steps,
            vace_context_scale: self.vace_context_scale,
            vace_ref_images: self.vace_ref_images.clone(),
            ..base.clone()
        }
    }

    /// A Scope node carrying the preset, so the node parameter table checks it.
    pub(crate) fn as_node(&self) -> NodeKind {
        NodeKind::Scope(ScopeNode {
            params: self.apply_to(&ScopeParams::default()),
            ..ScopeNode::default()
        })
    }
}

impl PipelinePreset {
    pub fn capture(name: &str, node: &ScopeNode) -> Self {
        PipelinePreset {
            name: name.to_owned(),
            pipeline: node.pipeline.clone(),
            load: node.load.clone(),
        }
    }

    /// `node` switched to this pipeline and load.
    pub fn apply_to(&self, node: &ScopeNode) -> ScopeNode {
        ScopeNode {
            pipeline: self.pipeline.clone(),
            load: self.load.clone(),
            ..node.clone()
        }
    }

    pub(crate) fn as_node(&self) -> NodeKind {
        NodeKind::Scope(self.apply_to(&ScopeNode::default()))
    }
}
