//! Extract: copies the main world's request for this frame into the render world, which never
//! reads the main world after this point.

use std::collections::{HashMap, HashSet};

use std::sync::Arc;

use bevy::prelude::*;
use bevy::render::Extract;
use show::{NodeId, RenderPlan, TappedPlan};

use super::{
    CompositeOutput, CompositorSettings, ExternalOpacity, ExternalTextures, FrameClock,
    PreviewReadback, PreviewRequest, Program, ProgramReadback, WarmPlans,
};

/// The main world's request for this frame.
#[derive(Resource, Default)]
pub(super) struct ExtractedProgram {
    pub(super) program: Program,
    pub(super) externals: HashMap<NodeId, AssetId<Image>>,
    pub(super) opacity: HashMap<NodeId, f32>,
    pub(super) clock: FrameClock,
    pub(super) readback: bool,
    pub(super) output: Option<AssetId<Image>>,
    pub(super) settings: CompositorSettings,
    /// This frame's preview plans, their target images by tapped node (empty when no
    /// previews are due), and whether the targets keep the taps' alpha.
    pub(super) previews: Vec<(Arc<TappedPlan>, Vec<(NodeId, AssetId<Image>)>, bool)>,
    /// The preview target images to read back this frame.
    pub(super) preview_readback: HashSet<AssetId<Image>>,
    /// [`WarmPlans`]: the plans whose pipelines are compiled ahead.
    pub(super) warm: Vec<Arc<RenderPlan>>,
}

/// Fills [`ExtractedProgram`]; a resource the main world lacks reads as its default (the
/// program keeps its last plan).
pub(super) fn extract_program(
    mut ex: ResMut<ExtractedProgram>,
    program: Extract<Option<Res<Program>>>,
    externals: Extract<Option<Res<ExternalTextures>>>,
    opacity: Extract<Option<Res<ExternalOpacity>>>,
    clock: Extract<Option<Res<FrameClock>>>,
    readback: Extract<Option<Res<ProgramReadback>>>,
    output: Extract<Option<Res<CompositeOutput>>>,
    settings: Extract<Option<Res<CompositorSettings>>>,
    preview: Extract<Option<Res<PreviewRequest>>>,
    preview_readback: Extract<Option<Res<PreviewReadback>>>,
    warm: Extract<Option<Res<WarmPlans>>>,
) {
    if let Some(w) = warm.as_ref() {
        ex.warm.clone_from(&w.0);
    }
    if let Some(p) = program.as_ref() {
        ex.program = Program::clone(p);
    }
    ex.externals.clear();
    if let Some(e) = externals.as_ref() {
        ex.externals
            .extend(e.0.iter().map(|(k, h)| (k.clone(), h.id())));
    }
    ex.opacity.clear();
    if let Some(o) = opacity.as_ref() {
        ex.opacity.extend(o.0.iter().map(|(k, v)| (k.clone(), *v)));
    }
    ex.clock = clock.as_deref().copied().unwrap_or_default();
    ex.readback = readback.as_ref().is_some_and(|r| r.on());
    ex.output = output.as_ref().map(|o| o.0.id());
    ex.settings = settings.as_deref().copied().unwrap_or_default();
    ex.previews.clear();
    ex.preview_readback.clear();
    let all = preview_readback.as_ref().is_some_and(|r| r.enabled);
    if let Some(p) = preview.as_ref() {
        for p in &p.previews {
            let targets: Vec<_> = p.targets.iter().map(|(n, h)| (n.clone(), h.id())).collect();
            if all || p.read_back {
                ex.preview_readback.extend(targets.iter().map(|(_, i)| *i));
            }
            ex.previews.push((p.plan.clone(), targets, p.alpha));
        }
    }
}
