// test_pattern.wgsl: moving colour bars with the frame counter and timestamp burned in.
//
// Parameters: p[0].x = speed (canvas widths per second); info.x = time (s), info.y = frame mod 10^7.
// Bars: 8 opaque bars, colour index i = floor(fract(x/W - time*speed) * 8) (fract(v) = v - floor(v)),
//   colours: 0 white (1,1,1), 1 yellow (1,1,0), 2 cyan (0,1,1), 3 green (0,1,0),
//            4 magenta (1,0,1), 5 red (1,0,0), 6 blue (0,0,1), 7 black (0,0,0).
// Burn-in (drawn over the bars): digit height dh = 0.08 H, digit width 0.5 dh, pitch 0.7 dh,
//   top y0 = 0.04 H, left x0 = 0.03 W. A black box covers
//   [x0 - 0.2 dh, x0 + 16 pitch + 0.2 dh] x [y0 - 0.2 dh, y0 + 1.2 dh].
//   Cells 0..6: the frame counter, 7 digits zero-padded (frame mod 10^7).
//   Cells 9..15: the timestamp floor(time*100) mod 10^7 as 7 digits, a point between cells 13
//   and 14 (seconds with two decimals). Digits are white 7-segment glyphs, segment thickness
//   0.15 of the cell. Output is opaque.

#import metadj::common::{finish, load_packs, P}

// Segment bits a..g = bits 0..6 for digits 0..9.
fn seg_mask(d: u32) -> u32 {
    switch d {
        case 0u: { return 0x3Fu; }
        case 1u: { return 0x06u; }
        case 2u: { return 0x5Bu; }
        case 3u: { return 0x4Fu; }
        case 4u: { return 0x66u; }
        case 5u: { return 0x6Du; }
        case 6u: { return 0x7Du; }
        case 7u: { return 0x07u; }
        case 8u: { return 0x7Fu; }
        default: { return 0x6Fu; }
    }
}

// Whether local cell position q (0..1 each way, y down) lights a segment of digit d.
fn seven_seg(d: u32, q: vec2<f32>) -> bool {
    let t = 0.15;
    let m = seg_mask(d);
    let top = q.y < 0.5;
    let on_a = q.y < t;
    let on_d = q.y > 1.0 - t;
    let on_g = abs(q.y - 0.5) < t * 0.5;
    let left = q.x < t;
    let right = q.x > 1.0 - t;
    return ((m & 1u) != 0u && on_a)
        || ((m & 2u) != 0u && right && top)
        || ((m & 4u) != 0u && right && !top)
        || ((m & 8u) != 0u && on_d)
        || ((m & 16u) != 0u && left && !top)
        || ((m & 32u) != 0u && left && top)
        || ((m & 64u) != 0u && on_g);
}

// Decimal digit `place` (0 = most significant of 7) of n < 10^7.
fn digit_of(n: f32, place: u32) -> u32 {
    let div = pow(10.0, f32(6u - place));
    return u32(floor(n / div + 1e-4)) % 10u;
}

fn bar_color(i: u32) -> vec3<f32> {
    switch i {
        case 0u: { return vec3<f32>(1.0, 1.0, 1.0); }
        case 1u: { return vec3<f32>(1.0, 1.0, 0.0); }
        case 2u: { return vec3<f32>(0.0, 1.0, 1.0); }
        case 3u: { return vec3<f32>(0.0, 1.0, 0.0); }
        case 4u: { return vec3<f32>(1.0, 0.0, 1.0); }
        case 5u: { return vec3<f32>(1.0, 0.0, 0.0); }
        case 6u: { return vec3<f32>(0.0, 0.0, 1.0); }
        default: { return vec3<f32>(0.0, 0.0, 0.0); }
    }
}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let p = pos.xy;
    let w = P.canvas.x;
    let h = P.canvas.y;
    let time = P.info.x;
    let v = p.x / w - time * P.p[0].x;
    let i = min(u32(floor((v - floor(v)) * 8.0)), 7u);
    var col = bar_color(i);

    let dh = 0.08 * h;
    let dw = 0.5 * dh;
    let pitch = 0.7 * dh;
    let x0 = 0.03 * w;
    let y0 = 0.04 * h;
    let pad = 0.2 * dh;
    if p.x >= x0 - pad && p.x <= x0 + 16.0 * pitch + pad && p.y >= y0 - pad && p.y <= y0 + dh + pad {
        col = vec3<f32>(0.0);
        let cell_f = floor((p.x - x0) / pitch);
        if cell_f >= 0.0 && cell_f < 16.0 {
            let cell = u32(cell_f);
            let q = vec2<f32>((p.x - x0 - cell_f * pitch) / dw, (p.y - y0) / dh);
            let inside = q.x >= 0.0 && q.x <= 1.0 && q.y >= 0.0 && q.y <= 1.0;
            if inside && cell < 7u && seven_seg(digit_of(P.info.y, cell), q) {
                col = vec3<f32>(1.0);
            }
            let stamp = floor(time * 100.0) % 10000000.0;
            if inside && cell >= 9u && seven_seg(digit_of(stamp, cell - 9u), q) {
                col = vec3<f32>(1.0);
            }
            // The decimal point sits in the gap after cell 13.
            let dot_x = x0 + 13.0 * pitch + dw + (pitch - dw) * 0.5;
            if cell == 13u && abs(p.x - dot_x) < 0.06 * dh && abs(p.y - (y0 + dh - 0.06 * dh)) < 0.06 * dh {
                col = vec3<f32>(1.0);
            }
        }
    }
    return vec4<f32>(col, 1.0);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
