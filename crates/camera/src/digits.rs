//! Seven-segment digits drawn into RGBA buffers, so frame counters need no font.

/// Segments a..g for 0-9, bit 0 = a (top), clockwise, g (middle) = bit 6.
const SEGMENTS: [u8; 10] = [0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f];

/// Draws `text` (digits, ':' and '.') with its top-left at (x, y); digit cells are `h` tall.
pub fn draw(
    buf: &mut [u8],
    width: u32,
    height: u32,
    x: i32,
    y: i32,
    h: i32,
    text: &str,
    color: [u8; 4],
) {
    let w = h / 2;
    let t = (h / 10).max(1);
    let mut cx = x;
    for ch in text.chars() {
        match ch {
            '0'..='9' => {
                let bits = SEGMENTS[(ch as u8 - b'0') as usize];
                let half = h / 2;
                let rects = [
                    (0, 0, w, t),               // a
                    (w - t, 0, t, half),        // b
                    (w - t, half, t, h - half), // c
                    (0, h - t, w, t),           // d
                    (0, half, t, h - half),     // e
                    (0, 0, t, half),            // f
                    (0, half - t / 2, w, t),    // g
                ];
                for (i, (rx, ry, rw, rh)) in rects.iter().enumerate() {
                    if bits & (1 << i) != 0 {
                        fill(buf, width, height, cx + rx, y + ry, *rw, *rh, color);
                    }
                }
                cx += w + t * 2;
            }
            ':' => {
                fill(buf, width, height, cx, y + h / 4, t, t, color);
                fill(buf, width, height, cx, y + 3 * h / 4, t, t, color);
                cx += t * 3;
            }
            '.' => {
                fill(buf, width, height, cx, y + h - t, t, t, color);
                cx += t * 3;
            }
            _ => cx += w,
        }
    }
}

/// Width in pixels that [`draw`] uses for `text`.
pub fn text_width(h: i32, text: &str) -> i32 {
    let (w, t) = (h / 2, (h / 10).max(1));
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                w + t * 2
            } else if c == ':' || c == '.' {
                t * 3
            } else {
                w
            }
        })
        .sum()
}

/// Fills a rectangle, clipped to the buffer.
pub fn fill(
    buf: &mut [u8],
    width: u32,
    height: u32,
    x: i32,
    y: i32,
    w: i32,
    h: i32,
    color: [u8; 4],
) {
    let (x0, y0) = (x.max(0), y.max(0));
    let (x1, y1) = ((x + w).min(width as i32), (y + h).min(height as i32));
    for yy in y0..y1 {
        let row = yy as usize * width as usize * 4;
        for xx in x0..x1 {
            let i = row + xx as usize * 4;
            buf[i..i + 4].copy_from_slice(&color);
        }
    }
}
