//! RGBA8 ⇄ I420 conversion, BT.601 limited range, 8-bit fixed point.
//!
//! Forward: `Y = 16 + (66R + 129G + 25B)/256`, `Cb = 128 + (−38R − 74G + 112B)/256`,
//! `Cr = 128 + (112R − 94G − 18B)/256`, chroma from the mean of each 2×2 block (edge blocks of odd
//! sizes average the pixels that exist). Inverse: `C = Y−16, D = Cb−128, E = Cr−128`,
//! `R = (298C + 409E)/256`, `G = (298C − 100D − 208E)/256`, `B = (298C + 516D)/256`, clamped.
//! Alpha is dropped going to I420 and set to 255 coming back (codecs carry no alpha).

use crate::error::MediaError;

/// Chroma plane dimensions for a `width`×`height` picture (rounded up).
pub fn chroma_size(width: u32, height: u32) -> (usize, usize) {
    (width.div_ceil(2) as usize, height.div_ceil(2) as usize)
}

/// Length of a tightly packed I420 buffer.
pub fn i420_len(width: u32, height: u32) -> usize {
    let (cw, ch) = chroma_size(width, height);
    width as usize * height as usize + 2 * cw * ch
}

fn check_len(
    format: &'static str,
    width: u32,
    height: u32,
    expected: usize,
    actual: usize,
) -> Result<(), MediaError> {
    if expected == actual {
        Ok(())
    } else {
        Err(MediaError::BadBuffer {
            format,
            width,
            height,
            expected,
            actual,
        })
    }
}

#[inline]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Converts tightly packed RGBA8 to tightly packed I420.
pub fn rgba_to_i420(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, MediaError> {
    let (w, h) = (width as usize, height as usize);
    check_len("RGBA8", width, height, w * h * 4, rgba.len())?;
    let (cw, ch) = chroma_size(width, height);
    let mut out = vec![0u8; i420_len(width, height)];
    let (y_plane, uv) = out.split_at_mut(w * h);
    let (u_plane, v_plane) = uv.split_at_mut(cw * ch);

    for (src_row, dst_row) in rgba.chunks_exact(w * 4).zip(y_plane.chunks_exact_mut(w)) {
        for (px, y) in src_row.chunks_exact(4).zip(dst_row.iter_mut()) {
            let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
            *y = clamp_u8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
        }
    }

    for cy in 0..ch {
        let rows = if 2 * cy + 1 < h { 2 } else { 1 };
        for cx in 0..cw {
            let cols = if 2 * cx + 1 < w { 2 } else { 1 };
            let (mut r, mut g, mut b) = (0i32, 0i32, 0i32);
            for dy in 0..rows {
                let base = ((2 * cy + dy) * w + 2 * cx) * 4;
                for dx in 0..cols {
                    let p = &rgba[base + dx * 4..base + dx * 4 + 3];
                    r += i32::from(p[0]);
                    g += i32::from(p[1]);
                    b += i32::from(p[2]);
                }
            }
            let n = (rows * cols) as i32;
            let (r, g, b) = ((r + n / 2) / n, (g + n / 2) / n, (b + n / 2) / n);
            u_plane[cy * cw + cx] = clamp_u8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
            v_plane[cy * cw + cx] = clamp_u8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
        }
    }
    Ok(out)
}

/// Converts tightly packed I420 to RGBA8 (alpha 255).
pub fn i420_to_rgba(i420: &[u8], width: u32, height: u32) -> Result<Vec<u8>, MediaError> {
    check_len("I420", width, height, i420_len(width, height), i420.len())?;
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = chroma_size(width, height);
    let (y_plane, uv) = i420.split_at(w * h);
    let (u_plane, v_plane) = uv.split_at(cw * ch);
    let mut out = vec![0u8; w * h * 4];
    planes_to_rgba(
        (y_plane, w),
        (u_plane, cw),
        (v_plane, cw),
        width,
        height,
        &mut out,
    );
    Ok(out)
}

/// Converts strided I420 planes into a tightly packed RGBA8 buffer of `width * height * 4`
/// bytes. Callers guarantee the planes cover the picture.
fn planes_to_rgba(
    (y_plane, y_stride): (&[u8], usize),
    (u_plane, u_stride): (&[u8], usize),
    (v_plane, v_stride): (&[u8], usize),
    width: u32,
    height: u32,
    out: &mut [u8],
) {
    let w = width as usize;
    for (row, dst_row) in out
        .chunks_exact_mut(w * 4)
        .enumerate()
        .take(height as usize)
    {
        let y_row = &y_plane[row * y_stride..row * y_stride + w];
        let u_row = &u_plane[(row / 2) * u_stride..];
        let v_row = &v_plane[(row / 2) * v_stride..];
        for (col, (px, &y)) in dst_row.chunks_exact_mut(4).zip(y_row.iter()).enumerate() {
            let c = 298 * (i32::from(y) - 16);
            let d = i32::from(u_row[col / 2]) - 128;
            let e = i32::from(v_row[col / 2]) - 128;
            px[0] = clamp_u8((c + 409 * e + 128) >> 8);
            px[1] = clamp_u8((c - 100 * d - 208 * e + 128) >> 8);
            px[2] = clamp_u8((c + 516 * d + 128) >> 8);
            px[3] = 255;
        }
    }
}

/// Copies strided I420 planes (as decoders hand them out) into one tightly packed buffer.
/// Callers guarantee each plane holds `stride × rows` bytes with `stride ≥` its width.
pub(crate) fn pack_i420(
    (y_plane, y_stride): (&[u8], usize),
    (u_plane, u_stride): (&[u8], usize),
    (v_plane, v_stride): (&[u8], usize),
    width: u32,
    height: u32,
) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = chroma_size(width, height);
    let mut out = Vec::with_capacity(i420_len(width, height));
    for row in 0..h {
        out.extend_from_slice(&y_plane[row * y_stride..row * y_stride + w]);
    }
    for (plane, stride) in [(u_plane, u_stride), (v_plane, v_stride)] {
        for row in 0..ch {
            out.extend_from_slice(&plane[row * stride..row * stride + cw]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference BT.601 limited-range conversion in f64, independent of the fixed-point code.
    fn reference_yuv(r: f64, g: f64, b: f64) -> (f64, f64, f64) {
        let y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
        let u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
        let v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
        (y, u, v)
    }

    #[test]
    fn solid_colours_match_the_f64_reference() {
        for &(r, g, b) in &[
            (0u8, 0u8, 0u8),
            (255, 255, 255),
            (255, 0, 0),
            (0, 177, 64),
            (12, 200, 99),
        ] {
            let rgba: Vec<u8> = std::iter::repeat_n([r, g, b, 255], 4 * 2)
                .flatten()
                .collect();
            let yuv = rgba_to_i420(&rgba, 4, 2).unwrap();
            let (ey, eu, ev) = reference_yuv(f64::from(r), f64::from(g), f64::from(b));
            assert!(
                (f64::from(yuv[0]) - ey).abs() <= 1.0,
                "Y {r},{g},{b}: {} vs {ey}",
                yuv[0]
            );
            assert!(
                (f64::from(yuv[8]) - eu).abs() <= 1.0,
                "U {r},{g},{b}: {} vs {eu}",
                yuv[8]
            );
            assert!(
                (f64::from(yuv[10]) - ev).abs() <= 1.0,
                "V {r},{g},{b}: {} vs {ev}",
                yuv[10]
            );
            let back = i420_to_rgba(&yuv, 4, 2).unwrap();
            for (got, want) in back[..3].iter().zip([r, g, b]) {
                assert!(
                    (i32::from(*got) - i32::from(want)).abs() <= 3,
                    "{r},{g},{b} -> {:?}",
                    &back[..4]
                );
            }
            assert_eq!(back[3], 255);
        }
    }

    #[test]
    fn odd_sizes_round_up_chroma() {
        let rgba = vec![128u8; 3 * 3 * 4];
        let yuv = rgba_to_i420(&rgba, 3, 3).unwrap();
        assert_eq!(yuv.len(), 9 + 2 * 4);
        assert_eq!(i420_to_rgba(&yuv, 3, 3).unwrap().len(), 36);
    }

    #[test]
    fn wrong_length_is_an_error() {
        let err = rgba_to_i420(&[0u8; 10], 2, 2).unwrap_err();
        assert!(err.to_string().contains("needs 16 bytes, got 10"), "{err}");
    }
}
