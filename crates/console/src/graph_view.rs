//! The graph view's egui side: the [`SnarlViewer`] that draws the edited scene's nodes and
//! turns snarl's callbacks into [`Edit`]s. It never changes the snarl itself: an accepted edit
//! bumps the document's revision and [`crate::graph::Graph::sync`] redraws from the model.

use egui::emath::TSTransform;
use egui::load::SizedTexture;
use egui::{Color32, Painter, Pos2, Rect, RichText, Stroke, Style, Ui, vec2};
use egui_snarl::ui::{
    AnyPins, NodeLayout, PinInfo, PinPlacement, PinWireInfo, SnarlPin, SnarlStyle, SnarlViewer,
    SnarlWidget,
};
use egui_snarl::{InPin, NodeId as SlabId, OutPin, Snarl};
use show::{NodeId, Scene};

use crate::Live;
use crate::graph::{Graph, PinKey, PinSink, input_count, port_of};
use crate::palette::WireFrom;
use crate::style;
use document::Edit;

/// Thumbnail size in a node body: 16:9, small enough to keep the graph readable.
const THUMB: egui::Vec2 = vec2(128.0, 72.0);

/// What the operator did in the graph this frame.
#[derive(Default)]
pub(crate) struct GraphOut {
    pub edits: Vec<Edit>,
    /// Open the palette at this graph position, maybe to connect a dropped wire.
    pub palette: Option<(Pos2, Option<WireFrom>)>,
    /// "View" picked in a node's menu.
    pub view: Option<NodeId>,
    /// "Delete" picked in a node's menu.
    pub delete: Option<NodeId>,
    /// The empty canvas was clicked (clears the selection).
    pub background_clicked: bool,
    /// Snarl's own selection (Shift-click, box select) after this frame.
    pub snarl_selected: Vec<NodeId>,
}

/// Draws the graph of `scene` and reports what the operator did.
pub(crate) fn show(
    graph: &mut Graph,
    ui: &mut Ui,
    scene: &Scene,
    scene_index: usize,
    live: &Live,
    thumbnails: bool,
    selected: &[NodeId],
) -> GraphOut {
    graph.pins.borrow_mut().clear();
    // Selectable text would take the pointer from snarl: a press on a title must drag the node.
    ui.style_mut().interaction.selectable_labels = false;
    let view = ui.available_rect_before_wrap();
    let frame = graph.frame.take().and_then(|target| {
        let framed = graph.framing(&target, view);
        if graph.node_rects.is_empty() {
            // Framed on guessed node sizes: frame again once they are measured.
            graph.frame = Some(target);
        }
        framed
    });
    let mut viewer = Viewer {
        scene,
        scene_index,
        live,
        thumbnails,
        selected,
        pins: graph.pins.clone(),
        out: GraphOut::default(),
        rects: Vec::new(),
        to_global: graph.to_global,
        frame,
    };
    let widget = SnarlWidget::new()
        .id_salt(("graph", scene_index))
        .style(graph_style());
    let response = widget.show(&mut graph.snarl, &mut viewer, ui);
    viewer.out.snarl_selected = widget
        .get_selected_nodes(ui)
        .into_iter()
        .filter_map(|slab| graph.snarl.get_node(slab).cloned())
        .collect();
    viewer.out.background_clicked = response.clicked_by(egui::PointerButton::Primary);
    graph.to_global = viewer.to_global;
    graph.view_rect = view;
    graph.node_rects = viewer
        .rects
        .iter()
        .map(|(id, r)| (id.clone(), viewer.to_global * *r))
        .collect();
    graph.pin_screen = graph
        .pins
        .borrow()
        .iter()
        .map(|(k, r)| (k.clone(), viewer.to_global * r.center()))
        .collect();
    crate::minimap::show(ui, graph);
    viewer.out
}

fn graph_style() -> SnarlStyle {
    SnarlStyle {
        node_layout: Some(NodeLayout::coil()),
        pin_placement: Some(PinPlacement::Edge),
        pin_size: Some(10.0),
        collapsible: Some(false),
        wire_width: Some(2.5),
        ..SnarlStyle::new()
    }
}

struct Viewer<'a, 'l> {
    scene: &'a Scene,
    scene_index: usize,
    live: &'a Live<'l>,
    thumbnails: bool,
    selected: &'a [NodeId],
    pins: PinSink,
    out: GraphOut,
    /// Node rects in graph coordinates.
    rects: Vec<(NodeId, Rect)>,
    to_global: TSTransform,
    /// A transform to jump to (frame all / selection).
    frame: Option<TSTransform>,
}

impl Viewer<'_, '_> {
    fn error(&self, id: &NodeId) -> Option<&str> {
        self.live
            .node_errors
            .get(&(self.scene_index, id.clone()))
            .map(String::as_str)
    }

    fn thumbnail(&self, id: &NodeId) -> Option<egui::TextureId> {
        self.thumbnails
            .then(|| self.live.thumbnails.get(id).copied())
            .flatten()
    }

    /// Asks the document to remove the wire into `pin` (a drag-off or a right-click).
    fn disconnect_input(&mut self, pin: &InPin, snarl: &Snarl<NodeId>) {
        let dst = snarl[pin.id.node].clone();
        if let Some((port, _, _)) = self.port(&dst, pin.id.input) {
            self.out.edits.push(Edit::Disconnect {
                scene: self.scene_index,
                to: dst,
                port,
            });
        }
    }

    fn port(&self, id: &NodeId, input: usize) -> Option<(String, show::PortType, bool)> {
        port_of(&self.scene.nodes.get(id)?.kind, input)
    }
}

/// A pin that remembers where it was drawn, so tests and the wire-drop menu can find it.
struct Pin {
    info: PinInfo,
    key: PinKey,
    sink: PinSink,
}

impl SnarlPin for Pin {
    fn draw(
        self,
        snarl_style: &SnarlStyle,
        style: &Style,
        rect: Rect,
        painter: &Painter,
    ) -> PinWireInfo {
        self.sink.borrow_mut().push((self.key, rect));
        PinInfo::draw(&self.info, snarl_style, style, rect, painter)
    }
}

impl SnarlViewer<NodeId> for Viewer<'_, '_> {
    fn title(&mut self, node: &NodeId) -> String {
        match self.scene.nodes.get(node) {
            Some(n) => format!("{node} · {}", n.kind.spec().label),
            None => node.to_string(),
        }
    }

    fn node_frame(
        &mut self,
        default: egui::Frame,
        node: SlabId,
        _: &[InPin],
        _: &[OutPin],
        snarl: &Snarl<NodeId>,
    ) -> egui::Frame {
        let id = &snarl[node];
        if self.error(id).is_some() {
            default.stroke(Stroke::new(2.0, style::ERROR))
        } else if self.selected.contains(id) {
            default.stroke(Stroke::new(2.0, Color32::WHITE))
        } else {
            default
        }
    }

    fn show_header(
        &mut self,
        node: SlabId,
        _: &[InPin],
        _: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        let id = snarl[node].clone();
        let mut text = RichText::new(self.title(&id)).strong();
        if self.error(&id).is_some() {
            text = text.color(style::ERROR);
        }
        ui.label(text);
    }

    fn inputs(&mut self, node: &NodeId) -> usize {
        self.scene
            .nodes
            .get(node)
            .map_or(0, |n| input_count(&n.kind))
    }

    fn show_input(
        &mut self,
        pin: &InPin,
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) -> impl SnarlPin + 'static {
        let id = snarl[pin.id.node].clone();
        let (port, ty, spare) = self
            .port(&id, pin.id.input)
            .unwrap_or_else(|| (String::new(), show::PortType::Image, false));
        let is_blend = matches!(
            self.scene.nodes.get(&id).map(|n| &n.kind),
            Some(show::NodeKind::Blend(_))
        );
        let label = match (spare, is_blend) {
            (true, _) => "+".to_owned(),
            (false, true) => format!("layer {port}"),
            (false, false) => port.clone(),
        };
        ui.label(RichText::new(label).small().color(style::port_color(ty)));
        Pin {
            info: style::pin_info(ty, spare),
            key: PinKey::In(id, port),
            sink: self.pins.clone(),
        }
    }

    fn outputs(&mut self, node: &NodeId) -> usize {
        self.scene
            .nodes
            .get(node)
            .map_or(0, |n| usize::from(n.kind.output().is_some()))
    }

    fn show_output(
        &mut self,
        pin: &OutPin,
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) -> impl SnarlPin + 'static {
        let id = snarl[pin.id.node].clone();
        let ty = self
            .scene
            .nodes
            .get(&id)
            .and_then(|n| n.kind.output())
            .unwrap_or(show::PortType::Image);
        ui.label(
            RichText::new(style::port_label(ty))
                .small()
                .color(style::port_color(ty)),
        );
        Pin {
            info: style::pin_info(ty, false),
            key: PinKey::Out(id),
            sink: self.pins.clone(),
        }
    }

    fn has_body(&mut self, node: &NodeId) -> bool {
        self.error(node).is_some() || self.thumbnail(node).is_some()
    }

    fn show_body(
        &mut self,
        node: SlabId,
        _: &[InPin],
        _: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        let id = snarl[node].clone();
        ui.vertical(|ui| {
            if let Some(texture) = self.thumbnail(&id) {
                ui.image(SizedTexture::new(texture, THUMB));
            }
            if let Some(message) = self.error(&id) {
                ui.set_max_width(200.0);
                ui.add(egui::Label::new(RichText::new(message).color(style::ERROR).small()).wrap());
            }
        });
    }

    fn final_node_rect(&mut self, node: SlabId, rect: Rect, _: &mut Ui, snarl: &mut Snarl<NodeId>) {
        self.rects.push((snarl[node].clone(), rect));
    }

    fn has_graph_menu(&mut self, _: Pos2, _: &mut Snarl<NodeId>) -> bool {
        true
    }

    fn show_graph_menu(&mut self, pos: Pos2, ui: &mut Ui, _: &mut Snarl<NodeId>) {
        // The palette is our own window (Tab opens it too), not snarl's context menu.
        self.out.palette = Some((pos, None));
        ui.close();
    }

    fn has_dropped_wire_menu(&mut self, _: AnyPins, _: &mut Snarl<NodeId>) -> bool {
        true
    }

    fn show_dropped_wire_menu(
        &mut self,
        pos: Pos2,
        ui: &mut Ui,
        src: AnyPins,
        snarl: &mut Snarl<NodeId>,
    ) {
        let wire = match src {
            AnyPins::Out(pins) => pins.first().and_then(|p| {
                let id = snarl[p.node].clone();
                let ty = self.scene.nodes.get(&id)?.kind.output()?;
                Some(WireFrom::Output(id, ty))
            }),
            AnyPins::In(pins) => pins.first().and_then(|p| {
                let id = snarl[p.node].clone();
                let (port, ty, _) = self.port(&id, p.input)?;
                Some(WireFrom::Input(id, port, ty))
            }),
        };
        self.out.palette = Some((pos, wire));
        ui.close();
    }

    fn has_node_menu(&mut self, _: &NodeId) -> bool {
        true
    }

    fn show_node_menu(
        &mut self,
        node: SlabId,
        _: &[InPin],
        _: &[OutPin],
        ui: &mut Ui,
        snarl: &mut Snarl<NodeId>,
    ) {
        let id = snarl[node].clone();
        if ui.button("View").clicked() {
            self.out.view = Some(id.clone());
            ui.close();
        }
        if ui.button("Delete").clicked() {
            self.out.delete = Some(id);
            ui.close();
        }
    }

    fn connect(&mut self, from: &OutPin, to: &InPin, snarl: &mut Snarl<NodeId>) {
        let (src, dst) = (snarl[from.id.node].clone(), snarl[to.id.node].clone());
        if let Some((port, _, _)) = self.port(&dst, to.id.input) {
            self.out.edits.push(Edit::Connect {
                scene: self.scene_index,
                from: src,
                to: dst,
                port,
            });
        }
    }

    fn disconnect(&mut self, _: &OutPin, to: &InPin, snarl: &mut Snarl<NodeId>) {
        self.disconnect_input(to, snarl);
    }

    fn drop_inputs(&mut self, pin: &InPin, snarl: &mut Snarl<NodeId>) {
        if !pin.remotes.is_empty() {
            self.disconnect_input(pin, snarl);
        }
    }

    fn drop_outputs(&mut self, pin: &OutPin, snarl: &mut Snarl<NodeId>) {
        let src = &snarl[pin.id.node];
        for e in self.scene.edges.iter().filter(|e| &e.from == src) {
            self.out.edits.push(Edit::Disconnect {
                scene: self.scene_index,
                to: e.to.clone(),
                port: e.port.clone(),
            });
        }
    }

    fn current_transform(&mut self, to_global: &mut TSTransform, _: &mut Snarl<NodeId>) {
        if let Some(t) = self.frame.take() {
            *to_global = t;
        }
        self.to_global = *to_global;
    }
}
