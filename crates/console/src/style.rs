//! Colours and pin shapes: one look per port type, so an operator reads a wire's type at a
//! glance (image = round and blue, matte = square and amber), wires coloured like their pins.

use egui::{Color32, Stroke};
use egui_snarl::ui::{PinInfo, PinShape};
use show::PortType;

pub const IMAGE: Color32 = Color32::from_rgb(80, 160, 255);
pub const MATTE: Color32 = Color32::from_rgb(240, 180, 60);
/// Errors and refusals: the one colour that means "look here".
pub const ERROR: Color32 = Color32::from_rgb(235, 70, 70);
/// The scene on program, as on a video switcher's tally light.
pub const PROGRAM: Color32 = Color32::from_rgb(200, 30, 30);
/// The scene in preview (studio mode), green as on a switcher.
pub const PREVIEW: Color32 = Color32::from_rgb(40, 170, 70);

/// A health light's colour.
pub fn health(h: crate::Health) -> Color32 {
    match h {
        crate::Health::Healthy => Color32::from_rgb(40, 150, 60),
        crate::Health::Watch => Color32::from_rgb(200, 140, 20),
        crate::Health::Critical => Color32::from_rgb(200, 40, 40),
    }
}

pub fn port_color(ty: PortType) -> Color32 {
    match ty {
        PortType::Image => IMAGE,
        PortType::Matte => MATTE,
    }
}

pub fn port_shape(ty: PortType) -> PinShape {
    match ty {
        PortType::Image => PinShape::Circle,
        PortType::Matte => PinShape::Square,
    }
}

pub fn port_label(ty: PortType) -> &'static str {
    match ty {
        PortType::Image => "image",
        PortType::Matte => "matte",
    }
}

/// The pin for a port of type `ty`; `spare` is a blend's empty "+" pin, drawn hollow.
pub fn pin_info(ty: PortType, spare: bool) -> PinInfo {
    let color = port_color(ty);
    let info = PinInfo::default()
        .with_shape(port_shape(ty))
        .with_wire_color(color);
    if spare {
        info.with_fill(Color32::TRANSPARENT)
            .with_stroke(Stroke::new(1.5, color))
    } else {
        info.with_fill(color)
            .with_stroke(Stroke::new(1.0, Color32::BLACK))
    }
}
