//! Edits: every change a user can make to a show, as data.
//!
//! [`Edit::apply`] checks before it changes anything, so a refused edit leaves the show as it
//! was; [`crate::Document`] also applies to a copy, so even a bug here cannot half-apply.

use std::collections::BTreeMap;

use show::error::MAX_TRANSITION_SECS;
use show::midi::MidiTarget;
use show::node::{Layer, NodeKind, Output, ScopeParams};
use show::scene::Transition;
use show::{Edge, Node, NodeId, Scene, Show};

use crate::clipboard::Clipboard;
use crate::error::EditError;
use crate::graph::can_connect;

/// One change to the show. Scenes are addressed by index, nodes by id within that scene.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// A new node with a fresh id (never one used before in this show).
    AddNode {
        scene: usize,
        kind: NodeKind,
        pos: (f32, f32),
    },
    /// Removes nodes and every wire touching them.
    RemoveNodes {
        scene: usize,
        ids: Vec<NodeId>,
    },
    /// Wires `from`'s output into input `port` of `to`, replacing a wire already there. A blend
    /// grows a layer when `port` is one past its last layer.
    Connect {
        scene: usize,
        from: NodeId,
        to: NodeId,
        port: String,
    },
    Disconnect {
        scene: usize,
        to: NodeId,
        port: String,
    },
    /// New parameters for a node (same kind). A source shared by id with other scenes (camera,
    /// Scope, image) is one source, so it changes in every scene that has it.
    SetKind {
        scene: usize,
        node: NodeId,
        kind: NodeKind,
    },
    MoveNode {
        scene: usize,
        node: NodeId,
        pos: (f32, f32),
    },
    /// Removes a blend layer and its wire; the layers above move down one port.
    RemoveLayer {
        scene: usize,
        node: NodeId,
        index: usize,
    },
    /// Pastes copied nodes, moved by `offset`, with fresh ids.
    Paste {
        scene: usize,
        clip: Clipboard,
        offset: (f32, f32),
    },
    /// A new scene at `at`, holding only an output node.
    AddScene {
        at: usize,
        name: String,
    },
    /// A copy right after the original, named "<name> copy". It keeps the node ids, so shared
    /// sources (camera, Scope) stay one source across both scenes.
    DuplicateScene {
        scene: usize,
    },
    RenameScene {
        scene: usize,
        name: String,
    },
    MoveScene {
        from: usize,
        to: usize,
    },
    RemoveScene {
        scene: usize,
    },
    SetTransition {
        scene: usize,
        transition: Transition,
    },
    /// The Scope parameters this scene sets over its Scope nodes' own.
    SetSceneScope {
        scene: usize,
        scope: Option<ScopeParams>,
    },
    /// The show's prompt and pipeline presets, all at once (save, rename, delete).
    SetPresets(show::Presets),
    /// The show's MIDI mappings, all at once (learn, delete). A control maps to one target:
    /// learning it again replaces the old mapping.
    SetMidi(Vec<show::midi::MidiMapping>),
}

/// What an accepted edit did beyond the obvious.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Ids of the nodes it created, in order.
    pub created: Vec<NodeId>,
    /// The wire a connect replaced.
    pub replaced: Option<Edge>,
    /// The index of the scene it created or moved.
    pub scene: Option<usize>,
}

impl Edit {
    /// Applies the edit to `show`, or says why not (and leaves `show` alone).
    pub fn apply(self, show: &mut Show) -> Result<Applied, EditError> {
        let mut applied = Applied::default();
        match self {
            Edit::AddNode { scene, kind, pos } => {
                check_pos(pos)?;
                scene_mut(show, scene)?;
                let id = show.fresh_id(kind.name());
                let s = scene_mut(show, scene)?;
                s.nodes.insert(
                    id.clone(),
                    Node {
                        kind,
                        pos: Some(pos),
                    },
                );
                applied.created.push(id);
            }
            Edit::RemoveNodes { scene, ids } => {
                let s = scene_mut(show, scene)?;
                for id in &ids {
                    node(s, id)?;
                }
                for id in &ids {
                    s.nodes.remove(id);
                }
                s.edges
                    .retain(|e| !ids.contains(&e.from) && !ids.contains(&e.to));
            }
            Edit::Connect {
                scene,
                from,
                to,
                port,
            } => {
                let s = scene_mut(show, scene)?;
                let c = can_connect(s, &from, &to, &port)?;
                if c.grows_blend
                    && let Some(Node {
                        kind: NodeKind::Blend(b),
                        ..
                    }) = s.nodes.get_mut(&to)
                {
                    b.layers.push(Layer::default());
                }
                s.edges.retain(|e| !(e.to == to && e.port == port));
                s.edges.push(Edge { from, to, port });
                applied.replaced = c.replaces;
            }
            Edit::Disconnect { scene, to, port } => {
                let s = scene_mut(show, scene)?;
                node(s, &to)?;
                let before = s.edges.len();
                s.edges.retain(|e| !(e.to == to && e.port == port));
                if s.edges.len() == before {
                    return Err(EditError::NotConnected { node: to, port });
                }
            }
            Edit::SetKind {
                scene,
                node: id,
                kind,
            } => set_kind(show, scene, &id, kind)?,
            Edit::MoveNode {
                scene,
                node: id,
                pos,
            } => {
                check_pos(pos)?;
                let s = scene_mut(show, scene)?;
                node_mut(s, &id)?.pos = Some(pos);
            }
            Edit::RemoveLayer {
                scene,
                node: id,
                index,
            } => remove_layer(scene_mut(show, scene)?, &id, index)?,
            Edit::Paste {
                scene,
                clip,
                offset,
            } => applied.created = paste(show, scene, clip, offset)?,
            Edit::AddScene { at, name } => {
                let name = scene_name(show, None, &name)?;
                let at = at.min(show.scenes.len());
                let out = show.fresh_id("output");
                let mut nodes = BTreeMap::new();
                nodes.insert(
                    out,
                    Node {
                        kind: NodeKind::Output(Output {}),
                        pos: Some((400.0, 0.0)),
                    },
                );
                show.scenes.insert(
                    at,
                    Scene {
                        name,
                        transition: Transition::default(),
                        scope: None,
                        nodes,
                        edges: Vec::new(),
                    },
                );
                applied.scene = Some(at);
            }
            Edit::DuplicateScene { scene } => {
                let mut copy = scene_ref(show, scene)?.clone();
                copy.name = copy_name(show, &copy.name);
                show.scenes.insert(scene + 1, copy);
                applied.scene = Some(scene + 1);
            }
            Edit::RenameScene { scene, name } => {
                scene_ref(show, scene)?;
                let name = scene_name(show, Some(scene), &name)?;
                let old = std::mem::replace(&mut scene_mut(show, scene)?.name, name.clone());
                // A pad mapped to the scene follows it to its new name.
                for m in &mut show.midi {
                    if let MidiTarget::Program(s) | MidiTarget::Preview(s) = &mut m.target
                        && *s == old
                    {
                        s.clone_from(&name);
                    }
                }
            }
            Edit::MoveScene { from, to } => {
                scene_ref(show, from)?;
                scene_ref(show, to)?;
                let s = show.scenes.remove(from);
                show.scenes.insert(to, s);
                applied.scene = Some(to);
            }
            Edit::RemoveScene { scene } => {
                scene_ref(show, scene)?;
                if show.scenes.len() == 1 {
                    return Err(EditError::LastScene);
                }
                show.scenes.remove(scene);
            }
            Edit::SetTransition { scene, transition } => {
                let d = transition.duration;
                if !(d.is_finite() && (0.0..=MAX_TRANSITION_SECS).contains(&d)) {
                    return Err(EditError::BadDuration {
                        got: d,
                        max: MAX_TRANSITION_SECS,
                    });
                }
                scene_mut(show, scene)?.transition = transition;
            }
            Edit::SetSceneScope { scene, scope } => scene_mut(show, scene)?.scope = scope,
            Edit::SetPresets(presets) => show.presets = presets,
            Edit::SetMidi(midi) => show.midi = midi,
        }
        // Mappings to a scene, node or preset that is gone go with it (undo brings both back).
        let midi = std::mem::take(&mut show.midi);
        show.midi = midi
            .into_iter()
            .filter(|m| exists(show, &m.target))
            .collect();
        Ok(applied)
    }
}

/// Whether a MIDI target names something the show has.
fn exists(show: &Show, target: &MidiTarget) -> bool {
    match target {
        MidiTarget::Program(name) | MidiTarget::Preview(name) => {
            show.scenes.iter().any(|s| s.name == *name)
        }
        MidiTarget::Preset(name) => show.presets.prompts.iter().any(|p| p.name == *name),
        MidiTarget::Param { node, .. } => show.scenes.iter().any(|s| s.nodes.contains_key(node)),
        MidiTarget::Take | MidiTarget::Auto | MidiTarget::TBar | MidiTarget::VaceScale => true,
    }
}

fn check_pos((x, y): (f32, f32)) -> Result<(), EditError> {
    if x.is_finite() && y.is_finite() {
        Ok(())
    } else {
        Err(EditError::BadPosition(x, y))
    }
}

fn scene_ref(show: &Show, index: usize) -> Result<&Scene, EditError> {
    show.scenes.get(index).ok_or(EditError::NoScene(index))
}

fn scene_mut(show: &mut Show, index: usize) -> Result<&mut Scene, EditError> {
    show.scenes.get_mut(index).ok_or(EditError::NoScene(index))
}

fn node<'a>(scene: &'a Scene, id: &NodeId) -> Result<&'a Node, EditError> {
    scene.nodes.get(id).ok_or_else(|| EditError::NoNode {
        scene: scene.name.clone(),
        node: id.clone(),
    })
}

fn node_mut<'a>(scene: &'a mut Scene, id: &NodeId) -> Result<&'a mut Node, EditError> {
    let name = scene.name.clone();
    scene.nodes.get_mut(id).ok_or_else(|| EditError::NoNode {
        scene: name,
        node: id.clone(),
    })
}

/// Sources that run outside the compositor and are shared by id across scenes.
fn is_external(kind: &NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Camera(_) | NodeKind::Scope(_) | NodeKind::Image(_)
    )
}

fn set_kind(show: &mut Show, scene: usize, id: &NodeId, kind: NodeKind) -> Result<(), EditError> {
    let has = node(scene_ref(show, scene)?, id)?.kind.name();
    if has != kind.name() {
        return Err(EditError::KindChange {
            node: id.clone(),
            has,
            wanted: kind.name(),
        });
    }
    let shared = is_external(&kind);
    for (i, s) in show.scenes.iter_mut().enumerate() {
        if i != scene && !shared {
            continue;
        }
        let Some(n) = s.nodes.get_mut(id).filter(|n| n.kind.name() == kind.name()) else {
            continue;
        };
        n.kind = kind.clone();
        // Wires into layers a blend no longer has would dangle.
        if let NodeKind::Blend(b) = &kind {
            let layers = b.layers.len();
            s.edges
                .retain(|e| &e.to != id || e.port.parse::<usize>().is_ok_and(|p| p < layers));
        }
    }
    Ok(())
}

fn remove_layer(scene: &mut Scene, id: &NodeId, index: usize) -> Result<(), EditError> {
    let NodeKind::Blend(blend) = &mut node_mut(scene, id)?.kind else {
        return Err(EditError::NotABlend { node: id.clone() });
    };
    if index >= blend.layers.len() {
        return Err(EditError::NoLayer {
            node: id.clone(),
            index,
        });
    }
    if blend.layers.len() == 1 {
        return Err(EditError::LastLayer);
    }
    blend.layers.remove(index);
    scene
        .edges
        .retain(|e| !(&e.to == id && e.port == index.to_string()));
    for e in scene.edges.iter_mut().filter(|e| &e.to == id) {
        if let Ok(p) = e.port.parse::<usize>()
            && p > index
        {
            e.port = (p - 1).to_string();
        }
    }
    Ok(())
}

/// Pastes `clip` into `scene`. Internal nodes get fresh ids; an external source keeps its id
/// when the scene does not have it yet, so it stays the same camera or Scope session. A second
/// output is skipped (a scene has one).
fn paste(
    show: &mut Show,
    scene: usize,
    clip: Clipboard,
    (dx, dy): (f32, f32),
) -> Result<Vec<NodeId>, EditError> {
    check_pos((dx, dy))?;
    if clip.is_empty() {
        return Err(EditError::EmptyClipboard);
    }
    let target = scene_ref(show, scene)?;
    let mut has_output = target
        .nodes
        .values()
        .any(|n| matches!(n.kind, NodeKind::Output(_)));
    let taken: Vec<NodeId> = target.nodes.keys().cloned().collect();
    let mut ids = BTreeMap::new();
    let mut created = Vec::new();
    let mut nodes = Vec::new();
    for (old, mut n) in clip.nodes {
        if matches!(n.kind, NodeKind::Output(_)) {
            if has_output {
                continue;
            }
            has_output = true;
        }
        let keep =
            is_external(&n.kind) && !taken.contains(&old) && !ids.values().any(|v| v == &old);
        let id = if keep {
            old.clone()
        } else {
            show.fresh_id(n.kind.name())
        };
        let (x, y) = n.pos.unwrap_or((0.0, 0.0));
        n.pos = Some((x + dx, y + dy));
        ids.insert(old, id.clone());
        created.push(id.clone());
        nodes.push((id, n));
    }
    let s = scene_mut(show, scene)?;
    s.nodes.extend(nodes);
    for e in clip.edges {
        if let (Some(from), Some(to)) = (ids.get(&e.from), ids.get(&e.to)) {
            s.edges.push(Edge {
                from: from.clone(),
                to: to.clone(),
                port: e.port,
            });
        }
    }
    Ok(created)
}

/// A trimmed, non-empty scene name no other scene (other than `own`) has.
fn scene_name(show: &Show, own: Option<usize>, name: &str) -> Result<String, EditError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(EditError::EmptySceneName);
    }
    let taken = show
        .scenes
        .iter()
        .enumerate()
        .any(|(i, s)| Some(i) != own && s.name == name);
    if taken {
        return Err(EditError::DuplicateSceneName(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// "<name> copy", then "<name> copy 2", … whichever no scene has.
fn copy_name(show: &Show, name: &str) -> String {
    let free = |n: &str| !show.scenes.iter().any(|s| s.name == n);
    let first = format!("{name} copy");
    if free(&first) {
        return first;
    }
    (2..)
        .map(|i| format!("{name} copy {i}"))
        .find(|n| free(n))
        .unwrap_or(first)
}
