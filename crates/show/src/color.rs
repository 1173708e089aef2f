//! Colours as plain data.

use serde::{Deserialize, Serialize};

/// A straight-alpha colour with sRGB-encoded channels in `0..=1` (what a colour picker shows).
///
/// The compositor premultiplies it; see the README's colour section.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rgba(pub f32, pub f32, pub f32, pub f32);

impl Rgba {
    pub const BLACK: Rgba = Rgba(0.0, 0.0, 0.0, 1.0);
    pub const WHITE: Rgba = Rgba(1.0, 1.0, 1.0, 1.0);
    pub const TRANSPARENT: Rgba = Rgba(0.0, 0.0, 0.0, 0.0);
    pub const GREEN: Rgba = Rgba(0.0, 1.0, 0.0, 1.0);

    pub fn to_array(self) -> [f32; 4] {
        [self.0, self.1, self.2, self.3]
    }
}

impl Default for Rgba {
    fn default() -> Self {
        Rgba::BLACK
    }
}
