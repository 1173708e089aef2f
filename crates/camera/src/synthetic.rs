//! The synthetic camera's picture: a performer on chroma green, so keys downstream have
//! something to key (or, as [`Backdrop::Room`], a real person in a moving room, for person
//! segmentation); moving bars, a frame counter and a clock prove the picture is live.

use crate::{digits, room};

/// What the synthetic performer stands in front of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backdrop {
    /// A drawn figure on chroma green.
    Green,
    /// The shipped photo's person in a moving, non-green room.
    Room,
}

/// The chroma-green backdrop, in sRGB bytes (a typical green-screen colour).
pub const GREEN: [u8; 4] = [0, 177, 64, 255];

/// Renders frame `seq` at `t` seconds into a new `width`×`height` RGBA buffer (green backdrop).
pub fn render(width: u32, height: u32, seq: u64, t: f64) -> Vec<u8> {
    render_with(Backdrop::Green, width, height, seq, t)
}

/// [`render`] in front of `backdrop`.
pub fn render_with(backdrop: Backdrop, width: u32, height: u32, seq: u64, t: f64) -> Vec<u8> {
    let mut buf = GREEN.repeat(width as usize * height as usize);
    match backdrop {
        Backdrop::Green => figure(&mut buf, width, height, t),
        Backdrop::Room => room::draw(&mut buf, width, height, t),
    }
    live_marks(&mut buf, width, height, seq, t);
    buf
}

/// The drawn performer: body (ellipse) and head (circle), swaying left and right.
fn figure(buf: &mut [u8], width: u32, height: u32, t: f64) {
    let (w, h) = (width as i32, height as i32);

    let sway = (t * 0.8).sin() * f64::from(w) * 0.18;
    let cx = f64::from(w) / 2.0 + sway;
    let head_r = f64::from(h) * 0.09;
    let head_cy = f64::from(h) * 0.36 + (t * 2.1).sin() * f64::from(h) * 0.01;
    let body_cy = f64::from(h) * 0.78;
    let (body_rx, body_ry) = (f64::from(h) * 0.2, f64::from(h) * 0.3);
    const SKIN: [u8; 4] = [232, 178, 140, 255];
    const SHIRT: [u8; 4] = [196, 52, 92, 255];
    for y in 0..h {
        let fy = f64::from(y) + 0.5;
        let row = y as usize * width as usize * 4;
        for x in 0..w {
            let fx = f64::from(x) + 0.5;
            let (dx, dy) = ((fx - cx) / body_rx, (fy - body_cy) / body_ry);
            let color = if (fx - cx).powi(2) + (fy - head_cy).powi(2) < head_r * head_r {
                SKIN
            } else if dx * dx + dy * dy < 1.0 {
                SHIRT
            } else {
                continue;
            };
            let i = row + x as usize * 4;
            buf[i..i + 4].copy_from_slice(&color);
        }
    }
}

/// Scrolling colour bars along the top, the frame counter and a clock bottom left.
fn live_marks(buf: &mut [u8], width: u32, height: u32, seq: u64, t: f64) {
    let (w, h) = (width as i32, height as i32);
    // Colour bars along the top, scrolling.
    const BARS: [[u8; 4]; 7] = [
        [235, 235, 235, 255],
        [235, 235, 16, 255],
        [16, 235, 235, 255],
        [16, 235, 16, 255],
        [235, 16, 235, 255],
        [235, 16, 16, 255],
        [16, 16, 235, 255],
    ];
    let bar_h = (h / 14).max(2);
    let bar_w = (w / 7).max(1);
    let offset = ((t * f64::from(w) * 0.1) as i32).rem_euclid(w.max(1));
    for (i, c) in BARS.iter().enumerate() {
        let x = (i as i32 * bar_w + offset).rem_euclid(w.max(1));
        digits::fill(buf, width, height, x, 0, bar_w, bar_h, *c);
        digits::fill(buf, width, height, x - w, 0, bar_w, bar_h, *c);
    }

    // Frame counter and clock on a dark plate, bottom left.
    let dh = (h / 14).max(7);
    let secs = t.max(0.0);
    let clock = format!(
        "{:02}:{:02}.{:03}",
        (secs / 60.0) as u64 % 60,
        secs as u64 % 60,
        (secs.fract() * 1000.0) as u64
    );
    let counter = format!("{:06}", seq % 1_000_000);
    let pad = dh / 3;
    let plate_w = digits::text_width(dh, &counter).max(digits::text_width(dh, &clock)) + 2 * pad;
    let plate_y = h - 2 * dh - 3 * pad;
    digits::fill(
        buf,
        width,
        height,
        pad,
        plate_y,
        plate_w,
        2 * dh + 2 * pad,
        [20, 20, 24, 255],
    );
    let white = [250, 250, 250, 255];
    digits::draw(
        buf,
        width,
        height,
        2 * pad,
        plate_y + pad / 2,
        dh,
        &counter,
        white,
    );
    digits::draw(
        buf,
        width,
        height,
        2 * pad,
        plate_y + pad + dh,
        dh,
        &clock,
        white,
    );
}
