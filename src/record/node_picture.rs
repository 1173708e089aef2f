//! A node's picture with its alpha, for a worker that streams or records one node (the keyed
//! avatar alone): drawn by [`NodeSnapshots`] while the node is in the scene on program, a
//! transparent canvas while it is not (so the output keeps its timeline).

use bevy::prelude::*;
use show::NodeId;

use crate::playback::Playback;
use crate::preview::{NodeSnapshots, Snapshot};
use crate::showfile::CurrentShow;

/// What one frame's askers need to pick their pictures.
pub(crate) struct NodePictures<'a> {
    scene: usize,
    show: Option<&'a CurrentShow>,
}

impl<'a> NodePictures<'a> {
    pub fn new(playback: Option<&Playback>, show: Option<&'a CurrentShow>) -> Self {
        NodePictures {
            scene: playback.map_or(0, |p| p.scene),
            show,
        }
    }

    /// Whether `node` is in the scene on program.
    pub fn on_program(&self, node: &NodeId) -> bool {
        self.show
            .and_then(|s| s.0.show.scenes.get(self.scene))
            .is_some_and(|s| s.nodes.contains_key(node))
    }

    fn key(&self, node: &NodeId) -> Snapshot {
        Snapshot {
            scene: self.scene,
            node: node.clone(),
            alpha: true,
        }
    }

    /// Asks for `nodes`' pictures as `asker` (those in the scene on program), and keeps
    /// `blank` a transparent canvas exactly while one of them is missing from it.
    pub fn request<'n>(
        &self,
        asker: &'static str,
        nodes: impl Iterator<Item = &'n NodeId>,
        snapshots: Option<&mut ResMut<NodeSnapshots>>,
        blank: &mut Option<image::RgbaImage>,
    ) {
        let nodes: Vec<&NodeId> = nodes.collect();
        let mut wanted: Vec<Snapshot> = nodes
            .iter()
            .filter(|n| self.on_program(n))
            .map(|n| self.key(n))
            .collect();
        wanted.sort();
        wanted.dedup();
        if let Some(snapshots) = snapshots {
            NodeSnapshots::request(snapshots, asker, wanted);
        }
        let needs_blank = nodes.iter().any(|n| !self.on_program(n));
        match self.show.map(|s| s.0.show.canvas) {
            Some(canvas) if needs_blank => {
                if blank.as_ref().is_none_or(|b| b.dimensions() != canvas) {
                    *blank = Some(image::RgbaImage::new(canvas.0, canvas.1));
                }
            }
            _ => *blank = None,
        }
    }

    /// `node`'s newest picture (the frame it was drawn in, and it), or the blank canvas as a
    /// new picture of `frame` while the node is not on program.
    pub fn picture<'p>(
        &self,
        node: &NodeId,
        snapshots: Option<&'p NodeSnapshots>,
        blank: Option<&'p image::RgbaImage>,
        frame: u64,
    ) -> Option<(u64, &'p image::RgbaImage)> {
        if self.on_program(node) {
            snapshots
                .and_then(|s| s.pictures.get(&self.key(node)))
                .map(|(f, i)| (*f, &**i))
        } else {
            blank.map(|b| (frame, b))
        }
    }
}
