//! A small map of the whole graph in the view's corner, shown only when some nodes are out of
//! view; a click there centres the view on that spot.

use egui::{Color32, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, vec2};

use crate::graph::{FrameTarget, Graph};

const SIZE: egui::Vec2 = vec2(180.0, 110.0);

pub(crate) fn show(ui: &mut Ui, graph: &mut Graph) {
    let view = graph.view_rect;
    if !view.is_positive() || graph.node_rects.is_empty() {
        return;
    }
    let inverse = graph.to_global.inverse();
    let nodes: Vec<Rect> = graph.node_rects.iter().map(|(_, r)| inverse * *r).collect();
    let seen = inverse * view;
    let bounds = nodes.iter().fold(Rect::NOTHING, |a, r| a.union(*r));
    if seen.contains_rect(bounds) {
        return;
    }
    let world = bounds.union(seen);
    let map = Rect::from_min_size(view.max - SIZE - vec2(8.0, 8.0), SIZE);
    let scale = (map.width() / world.width()).min(map.height() / world.height());
    let to_map = |p: Pos2| map.min + (p - world.min) * scale;
    // Its own layer above the graph's, so nodes do not cover it and it gets the pointer first.
    let area = egui::Area::new(ui.id().with("minimap"))
        .fixed_pos(map.min)
        .order(egui::Order::Middle)
        .show(ui.ctx(), |ui| {
            let (rect, response) = ui.allocate_exact_size(SIZE, Sense::click_and_drag());
            let painter = ui.painter_at(rect);
            painter.rect_filled(rect, 4.0, Color32::from_black_alpha(180));
            for r in &nodes {
                painter.rect_filled(
                    Rect::from_min_max(to_map(r.min), to_map(r.max)),
                    1.0,
                    Color32::from_gray(150),
                );
            }
            painter.rect_stroke(
                Rect::from_min_max(to_map(seen.min), to_map(seen.max)),
                0.0,
                Stroke::new(1.0, Color32::WHITE),
                StrokeKind::Inside,
            );
            response
        });
    let response = area.inner;
    if let Some(p) = response
        .interact_pointer_pos()
        .filter(|_| response.clicked() || response.dragged())
    {
        let target = world.min + (p - map.min) / scale;
        graph.frame = Some(FrameTarget::Center(target));
    }
}
