//! The preview and program monitors and the node viewer: pictures the host renders, drawn keeping their
//! aspect, with the pixel value under the cursor in the viewer (for keying by eye).

use egui::load::SizedTexture;
use egui::{Rect, RichText, Ui, Vec2};

use crate::Picture;

/// Draws `picture` as large as fits `ui`, centred, keeping its aspect; returns where it went.
fn fitted(ui: &mut Ui, picture: &Picture, max: Vec2) -> egui::Response {
    let [w, h] = picture.size;
    let aspect = if h == 0 {
        16.0 / 9.0
    } else {
        w as f32 / h as f32
    };
    let size = if max.x / max.y.max(1.0) > aspect {
        Vec2::new(max.y * aspect, max.y)
    } else {
        Vec2::new(max.x, max.x / aspect)
    };
    ui.add(egui::Image::new(SizedTexture::new(picture.texture, size)).sense(egui::Sense::hover()))
}

fn placeholder(ui: &mut Ui, max: Vec2, text: &str) {
    let size = Vec2::new(max.x.min(max.y * 16.0 / 9.0), max.y);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter()
        .rect_filled(rect, 2.0, egui::Color32::from_gray(20));
    ui.put(rect, egui::Label::new(RichText::new(text).weak()));
}

/// A monitor (preview or program): its title in its tally colour, and its picture.
pub(crate) fn monitor(
    ui: &mut Ui,
    title: &str,
    tally: egui::Color32,
    picture: Option<&Picture>,
    empty: &str,
    max: Vec2,
) {
    ui.vertical(|ui| {
        ui.label(RichText::new(title).strong().color(tally));
        match picture {
            Some(p) => {
                fitted(ui, p, max);
            }
            None => placeholder(ui, max, empty),
        }
    });
}

/// The viewer: `live.viewer` for the viewed node, with "x,y: r g b a" under the cursor.
pub(crate) fn viewer(
    ui: &mut Ui,
    node: Option<&show::NodeId>,
    picture: Option<&Picture>,
    max: Vec2,
) {
    ui.vertical(|ui| {
        let title = node.map_or("Viewer".to_owned(), |n| format!("Viewer: {n}"));
        ui.label(RichText::new(title).strong());
        match (node, picture) {
            (Some(_), Some(p)) => {
                let r = fitted(ui, p, max);
                if let Some(pos) = r.hover_pos() {
                    ui.label(pixel_text(p, r.rect, pos));
                }
            }
            (Some(_), None) => placeholder(ui, max, "Waiting for the node's picture"),
            (None, _) => placeholder(ui, max, "Double-click a node or press View"),
        }
    });
}

/// The pixel under `pos` (drawn into `rect`), as "x,y: r g b a", or only "x,y" without pixels.
fn pixel_text(p: &Picture, rect: Rect, pos: egui::Pos2) -> String {
    let [w, h] = p.size;
    let u = ((pos.x - rect.min.x) / rect.width()).clamp(0.0, 1.0);
    let v = ((pos.y - rect.min.y) / rect.height()).clamp(0.0, 1.0);
    let x = ((u * w as f32) as u32).min(w.saturating_sub(1));
    let y = ((v * h as f32) as u32).min(h.saturating_sub(1));
    let at = (y as usize * w as usize + x as usize) * 4;
    match p.rgba.and_then(|px| px.get(at..at + 4)) {
        Some(c) => format!("{x},{y}: {} {} {} {}", c[0], c[1], c[2], c[3]),
        None => format!("{x},{y}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_under_cursor() {
        let px: Vec<u8> = (0..16).collect();
        let p = Picture {
            texture: egui::TextureId::default(),
            size: [2, 2],
            rgba: Some(&px),
        };
        let rect = Rect::from_min_size(egui::Pos2::ZERO, Vec2::new(20.0, 20.0));
        assert_eq!(
            pixel_text(&p, rect, egui::pos2(15.0, 15.0)),
            "1,1: 12 13 14 15"
        );
        assert_eq!(
            pixel_text(&p, rect, egui::pos2(1.0, 15.0)),
            "0,1: 8 9 10 11"
        );
    }
}
