//! The synthetic camera's "room" picture, for testing person segmentation honestly: a real
//! person (the shipped NASA portrait, `assets/test/astronaut.png`, cut out once by its LiteRT
//! reference mask) swaying in front of a moving, non-green room. Nothing here is keyable by
//! colour: only a person segmentation can cut the performer out.

use std::sync::OnceLock;

use image::RgbaImage;
use image::imageops::{self, FilterType};

/// The portrait and its person mask at the same size, decoded once per process.
struct Performer {
    photo: RgbaImage,
    mask: image::GrayImage,
}

fn performer() -> Option<&'static Performer> {
    static PERFORMER: OnceLock<Option<Performer>> = OnceLock::new();
    PERFORMER
        .get_or_init(|| {
            let photo =
                image::load_from_memory(include_bytes!("../../../assets/test/astronaut.png"))
                    .ok()?
                    .to_rgba8();
            let mask = image::load_from_memory(include_bytes!(
                "../../../assets/test/astronaut_mask_general.png"
            ))
            .ok()?
            .to_luma8();
            let mask = imageops::resize(&mask, photo.width(), photo.height(), FilterType::Triangle);
            Some(Performer { photo, mask })
        })
        .as_ref()
}

/// Fills `buf` (RGBA, `width`×`height`) with the room at `t` seconds: a warm wall whose light
/// bands drift, a window-like panel sliding across, and the performer in front, swaying.
pub fn draw(buf: &mut [u8], width: u32, height: u32, t: f64) {
    let (w, h) = (width as usize, height as usize);
    let drift = t * 0.07;
    let panel_x = ((t * 0.05).fract() * 1.4 - 0.2) * w as f64;
    for y in 0..h {
        let fy = y as f64 / h.max(1) as f64;
        for x in 0..w {
            let fx = x as f64 / w.max(1) as f64;
            let band = 0.5
                + 0.5 * ((fx * 9.0 + fy * 2.0 - drift * 6.0) * std::f64::consts::TAU / 3.0).sin();
            let shade = 0.75 + 0.25 * band - 0.25 * fy;
            let mut c = [200.0 * shade, 150.0 * shade, 120.0 * shade];
            // A blue-grey panel ("window"), a fifth of the width, sliding left to right.
            let px = x as f64 - panel_x;
            if (0.0..w as f64 * 0.2).contains(&px) && fy > 0.12 && fy < 0.55 {
                c = [
                    110.0 + 40.0 * band,
                    125.0 + 30.0 * band,
                    160.0 + 30.0 * band,
                ];
            }
            let i = (y * w + x) * 4;
            for (k, v) in c.iter().enumerate() {
                buf[i + k] = v.clamp(0.0, 255.0) as u8;
            }
            buf[i + 3] = 255;
        }
    }
    let Some(p) = performer() else {
        return;
    };
    // Performer: 90 % of the height, standing on the bottom edge, swaying left and right.
    let size = (h as f64 * 0.9).max(1.0);
    let left = w as f64 / 2.0 - size / 2.0 + (t * 0.8).sin() * w as f64 * 0.15;
    let top = h as f64 - size;
    let (pw, ph) = (f64::from(p.photo.width()), f64::from(p.photo.height()));
    for y in (top.max(0.0) as usize)..h {
        let v = ((y as f64 + 0.5 - top) / size * ph) as u32;
        if v >= p.photo.height() {
            continue;
        }
        for x in (left.max(0.0) as usize)..w {
            let u = ((x as f64 + 0.5 - left) / size * pw) as u32;
            if u >= p.photo.width() {
                break;
            }
            let m = u32::from(p.mask.get_pixel(u, v)[0]);
            if m == 0 {
                continue;
            }
            let src = p.photo.get_pixel(u, v);
            let i = (y * w + x) * 4;
            for k in 0..3 {
                let (a, b) = (u32::from(src[k]), u32::from(buf[i + k]));
                buf[i + k] = ((a * m + b * (255 - m) + 127) / 255) as u8;
            }
        }
    }
}
