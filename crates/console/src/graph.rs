//! The graph view's model side: a `Snarl<NodeId>` kept as a projection of the edited scene.
//!
//! The document is the truth; the snarl is rebuilt from it whenever the revision or the edited
//! scene changes. Snarl's slab ids are reused after removal, so they never leave this module:
//! everything outside talks in [`NodeId`]s.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use egui::emath::TSTransform;
use egui::{Pos2, Rect, pos2};
use egui_snarl::{InPinId, NodeId as SlabId, OutPinId, Snarl};
use show::node::NodeKind;
use show::{NodeId, PortType, Scene};

/// A pin as the model names it; what tests and the palette's wire drop refer to.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PinKey {
    /// The output of a node.
    Out(NodeId),
    /// Input `port` of a node (`"in"`, `"matte"`, a blend layer `"0"`…, or the spare `"+"` as
    /// the next layer's number).
    In(NodeId, String),
}

/// Pin rects in graph coordinates, filled while snarl draws the pins.
pub(crate) type PinSink = Rc<RefCell<Vec<(PinKey, Rect)>>>;

/// What [`Graph::frame`] should fit into the view on the next frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FrameTarget {
    All,
    Nodes(Vec<NodeId>),
    /// Keep the zoom, centre on this graph point (a minimap click).
    Center(Pos2),
}

impl FrameTarget {
    fn wants(&self, id: &NodeId) -> bool {
        match self {
            FrameTarget::All => true,
            FrameTarget::Nodes(ids) => ids.contains(id),
            FrameTarget::Center(_) => false,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Graph {
    pub snarl: Snarl<NodeId>,
    ids: HashMap<NodeId, SlabId>,
    /// (scene, revision) the snarl was last built from.
    synced: Option<(usize, u64)>,
    /// Positions as last synced: a node whose snarl position differs was dragged.
    synced_pos: HashMap<SlabId, Pos2>,
    /// Where nodes without a saved position were first placed, so they stay put.
    auto_pos: HashMap<NodeId, Pos2>,
    /// Graph → screen transform of the last frame.
    pub to_global: TSTransform,
    /// The graph view's screen rect of the last frame.
    pub view_rect: Rect,
    /// Node rects on screen, last frame.
    pub node_rects: Vec<(NodeId, Rect)>,
    pub pins: PinSink,
    /// Pin centres on screen, last frame.
    pub pin_screen: Vec<(PinKey, Pos2)>,
    pub frame: Option<FrameTarget>,
    /// Snarl's own selection (Shift-click, box select) as last seen, to notice its changes.
    pub snarl_selection: Vec<NodeId>,
}

impl Default for Graph {
    fn default() -> Self {
        Graph {
            snarl: Snarl::new(),
            ids: HashMap::new(),
            synced: None,
            synced_pos: HashMap::new(),
            auto_pos: HashMap::new(),
            to_global: TSTransform::IDENTITY,
            view_rect: Rect::NOTHING,
            node_rects: Vec::new(),
            pins: PinSink::default(),
            pin_screen: Vec::new(),
            frame: None,
            snarl_selection: Vec::new(),
        }
    }
}

impl Graph {
    /// Rebuilds the projection when the document or the edited scene changed.
    pub fn sync(&mut self, scene_index: usize, scene: &Scene, revision: u64) {
        if self.synced == Some((scene_index, revision)) {
            return;
        }
        if self.synced.map(|s| s.0) != Some(scene_index) {
            self.snarl = Snarl::new();
            self.ids.clear();
            self.auto_pos.clear();
            self.node_rects.clear();
            self.pin_screen.clear();
            self.frame = Some(FrameTarget::All);
        }
        self.synced = Some((scene_index, revision));
        let gone: Vec<(NodeId, SlabId)> = self
            .ids
            .iter()
            .filter(|(id, _)| !scene.nodes.contains_key(*id))
            .map(|(id, s)| (id.clone(), *s))
            .collect();
        for (id, slab) in gone {
            self.snarl.remove_node(slab);
            self.ids.remove(&id);
            self.auto_pos.remove(&id);
        }
        let layout = auto_layout(scene);
        for (id, node) in &scene.nodes {
            let auto = *self
                .auto_pos
                .entry(id.clone())
                .or_insert_with(|| layout.get(id).copied().unwrap_or(Pos2::ZERO));
            let pos = node.pos.map_or(auto, |(x, y)| pos2(x, y));
            match self.ids.get(id) {
                Some(slab) => {
                    if let Some(info) = self.snarl.get_node_info_mut(*slab) {
                        info.pos = pos;
                    }
                }
                None => {
                    let slab = self.snarl.insert_node(pos, id.clone());
                    self.ids.insert(id.clone(), slab);
                }
            }
        }
        let wires: Vec<(OutPinId, InPinId)> = self.snarl.wires().collect();
        for (out, inp) in wires {
            self.snarl.disconnect(out, inp);
        }
        for e in &scene.edges {
            let (Some(from), Some(to), Some(dst)) = (
                self.ids.get(&e.from),
                self.ids.get(&e.to),
                scene.nodes.get(&e.to),
            ) else {
                continue;
            };
            if let Some(input) = input_index(&dst.kind, &e.port) {
                self.snarl.connect(
                    OutPinId {
                        node: *from,
                        output: 0,
                    },
                    InPinId { node: *to, input },
                );
            }
        }
        self.synced_pos = self
            .snarl
            .nodes_pos_ids()
            .map(|(slab, pos, _)| (slab, pos))
            .collect();
    }

    /// Forgets the projection so the next [`Graph::sync`] rebuilds it (a drag was refused).
    pub fn invalidate(&mut self) {
        self.synced = self.synced.map(|(s, _)| (s, u64::MAX));
    }

    /// Nodes the operator dragged since the last sync, with their new positions.
    pub fn moved(&self) -> Vec<(NodeId, Pos2)> {
        self.snarl
            .nodes_pos_ids()
            .filter(|(slab, pos, _)| self.synced_pos.get(slab) != Some(pos))
            .map(|(_, pos, id)| (id.clone(), pos))
            .collect()
    }

    /// Screen position of the graph point `p`.
    pub fn to_screen(&self, p: Pos2) -> Pos2 {
        self.to_global * p
    }

    /// Graph position of the screen point `p`.
    pub fn to_graph(&self, p: Pos2) -> Pos2 {
        self.to_global.inverse() * p
    }

    /// The topmost node under screen point `p` (last drawn wins).
    pub fn node_at(&self, p: Pos2) -> Option<NodeId> {
        self.node_rects
            .iter()
            .rev()
            .find(|(_, r)| r.contains(p))
            .map(|(id, _)| id.clone())
    }

    /// The transform that fits `target` into `view` (screen), or `None` without nodes.
    pub fn framing(&self, target: &FrameTarget, view: Rect) -> Option<TSTransform> {
        if let FrameTarget::Center(p) = target {
            let scale = self.to_global.scaling;
            return Some(TSTransform::new(
                view.center().to_vec2() - p.to_vec2() * scale,
                scale,
            ));
        }
        let inverse = self.to_global.inverse();
        let bounds = self
            .node_rects
            .iter()
            .filter(|(id, _)| target.wants(id))
            .map(|(_, r)| inverse * *r)
            .chain(self.unseen_nodes(target))
            .fold(Rect::NOTHING, |a, r| a.union(r));
        if !bounds.is_finite() || !view.is_positive() {
            return None;
        }
        let bounds = bounds.expand(40.0);
        let scale = (view.width() / bounds.width())
            .min(view.height() / bounds.height())
            .clamp(0.2, 1.0);
        let translation = view.center().to_vec2() - bounds.center().to_vec2() * scale;
        Some(TSTransform::new(translation, scale))
    }

    /// Nodes not drawn yet (new scene): a guessed size at their position.
    fn unseen_nodes<'a>(&'a self, target: &'a FrameTarget) -> impl Iterator<Item = Rect> + 'a {
        self.snarl
            .nodes_pos_ids()
            .filter(move |(_, _, id)| {
                !self.node_rects.iter().any(|(n, _)| n == *id) && target.wants(id)
            })
            .map(|(_, pos, _)| Rect::from_min_size(pos, egui::vec2(180.0, 90.0)))
    }
}

/// The model's port behind snarl input `i` of `kind`: a named input, or for a blend the spare
/// pin one past its last layer. Returns the port, its type and whether it is the spare.
pub(crate) fn port_of(kind: &NodeKind, i: usize) -> Option<(String, PortType, bool)> {
    let inputs = kind.inputs();
    if let Some((name, ty)) = inputs.get(i) {
        return Some((name.clone(), *ty, false));
    }
    (matches!(kind, NodeKind::Blend(_)) && i == inputs.len())
        .then(|| (i.to_string(), PortType::Image, true))
}

/// Snarl inputs of `kind`: its ports, plus the spare "+" of a blend.
pub(crate) fn input_count(kind: &NodeKind) -> usize {
    kind.inputs().len() + usize::from(matches!(kind, NodeKind::Blend(_)))
}

fn input_index(kind: &NodeKind, port: &str) -> Option<usize> {
    kind.inputs().iter().position(|(p, _)| p == port)
}

/// Columns by depth from the sources, rows in id order: a readable first layout for shows
/// written by hand without positions.
fn auto_layout(scene: &Scene) -> HashMap<NodeId, Pos2> {
    let mut depth: BTreeMap<&NodeId, usize> = scene.nodes.keys().map(|id| (id, 0)).collect();
    for _ in 0..scene.nodes.len() {
        let mut changed = false;
        for e in &scene.edges {
            let d = depth.get(&e.from).copied().unwrap_or(0) + 1;
            if let Some(to) = depth.get_mut(&e.to)
                && *to < d
                && d <= scene.nodes.len()
            {
                *to = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows: HashMap<usize, usize> = HashMap::new();
    depth
        .into_iter()
        .map(|(id, d)| {
            let row = rows.entry(d).or_default();
            let pos = pos2(d as f32 * 260.0, *row as f32 * 170.0);
            *row += 1;
            (id.clone(), pos)
        })
        .collect()
}
