//! What the console shows of a Scope node's VACE reference images: each file's thumbnail
//! (decoded by the image sources, off the frame path) and whether the server has it.

use std::collections::HashMap;
use std::path::PathBuf;

use bevy::prelude::*;
use console::{Reference, ReferenceState};
use scope::{ScopeState, ScopeStats};
use show::NodeId;
use show::node::NodeKind;

use crate::showfile::CurrentShow;
use crate::sources::image::ImageSources;
use crate::sources::scope::ScopeUploads;

/// Every reference of `node` in the show (its own, and each scene's Scope state), by the path
/// the show gives; `register` turns a decoded picture into an egui texture.
pub(super) fn of_node(
    show: &CurrentShow,
    node: &NodeId,
    stats: &ScopeStats,
    images: Option<&ImageSources>,
    uploads: Option<&ScopeUploads>,
    register: &mut dyn FnMut(&Handle<Image>) -> bevy_egui::egui::TextureId,
) -> HashMap<PathBuf, Reference> {
    let loaded = &show.0;
    let mut paths: Vec<&PathBuf> = Vec::new();
    for scene in &loaded.show.scenes {
        let Some(n) = scene.nodes.get(node) else {
            continue;
        };
        if let NodeKind::Scope(s) = &n.kind {
            paths.extend(&s.params.vace_ref_images);
        }
        paths.extend(scene.scope.iter().flat_map(|p| &p.vace_ref_images));
    }
    let uploaded = uploads.and_then(|u| u.0.get(node));
    paths
        .into_iter()
        .map(|path| {
            let resolved = loaded.base_dir.join(path);
            let picture = images.and_then(|i| i.handle(&resolved)).map(|h| {
                let size = images.and_then(|i| i.size(&resolved)).unwrap_or([1, 1]);
                (register(h), size)
            });
            let state = match &stats.state {
                _ if uploaded.is_some_and(|u| u.contains(&resolved)) => ReferenceState::Uploaded,
                ScopeState::Failed { reason }
                    if reason.contains(&resolved.display().to_string()) =>
                {
                    ReferenceState::Failed(reason.clone())
                }
                _ => ReferenceState::Waiting,
            };
            (path.clone(), Reference { picture, state })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use std::sync::Arc;

    use super::*;

    const SHOW: &str = r#"(
    version: 2,
    canvas: (64, 64),
    scenes: [(
        name: "a",
        scope: (vace_ref_images: ["refs/face.png", "refs/side.png"]),
        nodes: {"ai": (kind: scope((params: (vace_ref_images: ["refs/own.png"])))), "out": (kind: output(()))},
        edges: [(from: "ai", to: "out")],
    )],
)"#;

    #[test]
    fn each_reference_says_whether_the_server_has_it() {
        // Real files: loading a show checks its images.
        let dir = std::env::temp_dir().join(format!("refs-state-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("refs")).unwrap();
        for f in ["face", "side", "own"] {
            let png = dir.join(format!("refs/{f}.png"));
            ::image::RgbaImage::new(4, 4).save(&png).unwrap();
        }
        let origin = dir.join("s.ron");
        let origin = origin.as_path();
        let parsed = show::io::load_str(SHOW, origin).unwrap();
        let show = CurrentShow(Arc::new(
            crate::showfile::from_show(origin, parsed).unwrap(),
        ));
        let node = NodeId::from("ai");
        let base = &show.0.base_dir;
        let mut uploads = ScopeUploads::default();
        uploads.0.insert(
            node.clone(),
            [base.join("refs/own.png")].into_iter().collect(),
        );
        let stats = ScopeStats {
            state: ScopeState::Failed {
                reason: format!(
                    "asset {}: cannot read",
                    base.join("refs/side.png").display()
                ),
            },
            ..ScopeStats::default()
        };
        let mut never = |_: &Handle<Image>| -> bevy_egui::egui::TextureId { unreachable!() };
        let refs = of_node(&show, &node, &stats, None, Some(&uploads), &mut never);
        assert_eq!(refs.len(), 3);
        let state = |p: &str| refs[&PathBuf::from(p)].state.clone();
        assert_eq!(state("refs/own.png"), ReferenceState::Uploaded);
        assert!(
            matches!(state("refs/side.png"), ReferenceState::Failed(r) if r.contains("side.png"))
        );
        assert_eq!(state("refs/face.png"), ReferenceState::Waiting);
        assert!(
            refs.values().all(|r| r.picture.is_none()),
            "nothing decoded here"
        );
    }
}
