// blend.wgsl: stacks up to 16 inputs bottom (input 0) to top in one pass.
//
// Parameters: n = number of layers; p[i] = (mode_i, opacity_i, 0, 0) (the mode is also baked
// into the pipeline as MODES[i]).
// Mode numbers: 0 normal, 1 multiply, 2 screen, 3 overlay, 4 darken, 5 lighten, 6 color-dodge,
// 7 color-burn, 8 hard-light, 9 soft-light, 10 difference, 11 exclusion, 12 hue, 13 saturation,
// 14 color, 15 luminosity, 16 add, 17 subtract.
//
// acc = (0,0,0,0)                              (layer 0 goes over transparent)
// for i in 0..n:
//   s  = sample_at(i, p) * opacity_i           (all four premultiplied channels)
//   as = s.a, ab = acc.a
//   Cs = unpremul(s), Cb = unpremul(acc)        (straight colours, clamped to 0..1)
//   co = s.rgb*(1-ab) + acc.rgb*(1-as) + as*ab*B(Cb, Cs)
//   ao = as + ab*(1-as)
//   acc = (co, ao)
// out = clamp(acc, 0, 1)
// (Normal mode, and any layer where as = 0 or ab = 0, is computed as the identical source-over
// acc = s + acc*(1-as); for a straight-alpha input as mix(acc, (Cs, 1), as).)
//
// B per channel (W3C Compositing and Blending Level 1):
//   normal      Cs
//   multiply    Cb*Cs
//   screen      Cb + Cs - Cb*Cs
//   overlay     hard-light(Cs, Cb)  (i.e. hard-light with the roles swapped)
//   darken      min(Cb, Cs)
//   lighten     max(Cb, Cs)
//   color-dodge Cb == 0 ? 0 : (Cs == 1 ? 1 : min(1, Cb/(1-Cs)))
//   color-burn  Cb == 1 ? 1 : (Cs == 0 ? 0 : 1 - min(1, (1-Cb)/Cs))
//   hard-light  Cs <= 0.5 ? Cb*2Cs : screen(Cb, 2Cs-1)
//   soft-light  Cs <= 0.5 ? Cb - (1-2Cs)*Cb*(1-Cb) : Cb + (2Cs-1)*(D(Cb)-Cb),
//               D(x) = x <= 0.25 ? ((16x-12)x+4)x : sqrt(x)
//   difference  |Cb - Cs|
//   exclusion   Cb + Cs - 2*Cb*Cs
//   add         min(1, Cb + Cs)
//   subtract    max(0, Cb - Cs)
// Non-separable (whole colour), with Lum(C) = 0.3R + 0.59G + 0.11B:
//   hue         SetLum(SetSat(Cs, Sat(Cb)), Lum(Cb))
//   saturation  SetLum(SetSat(Cb, Sat(Cs)), Lum(Cb))
//   color       SetLum(Cs, Lum(Cb))
//   luminosity  SetLum(Cb, Lum(Cs))
//   Sat(C) = max(C) - min(C)
//   SetSat(C, s) = max(C) > min(C) ? (C - min(C)) * s / (max(C) - min(C)) : (0,0,0)
//   SetLum(C, l) = ClipColor(C + (l - Lum(C)))
//   ClipColor(C): L = Lum(C), n = min(C), x = max(C);
//                 if n < 0: C = L + (C - L) * L / (L - n);
//                 if x > 1: C = L + (C - L) * (1 - L) / (x - L)

#import metadj::common::{
    fetch_at, finish, has, load_packs, MODES, N_INPUTS, P, sample_at, STRAIGHT_MASK, unpremul, in0,
    in1, in2, in3, in4, in5, in6, in7, in8, in9, in10, in11, in12, in13, in14, in15}

fn lum(c: vec3<f32>) -> f32 {
    return dot(c, vec3<f32>(0.3, 0.59, 0.11));
}

fn clip_color(c_in: vec3<f32>) -> vec3<f32> {
    var c = c_in;
    let l = lum(c);
    let n = min(c.r, min(c.g, c.b));
    let x = max(c.r, max(c.g, c.b));
    if n < 0.0 {
        c = l + (c - l) * l / (l - n);
    }
    if x > 1.0 {
        c = l + (c - l) * (1.0 - l) / (x - l);
    }
    return c;
}

fn set_lum(c: vec3<f32>, l: f32) -> vec3<f32> {
    return clip_color(c + (l - lum(c)));
}

fn sat(c: vec3<f32>) -> f32 {
    return max(c.r, max(c.g, c.b)) - min(c.r, min(c.g, c.b));
}

fn set_sat(c: vec3<f32>, s: f32) -> vec3<f32> {
    let mx = max(c.r, max(c.g, c.b));
    let mn = min(c.r, min(c.g, c.b));
    if mx > mn {
        return (c - mn) * s / (mx - mn);
    }
    return vec3<f32>(0.0);
}

fn hard_light1(b: f32, s: f32) -> f32 {
    if s <= 0.5 {
        return b * 2.0 * s;
    }
    let s2 = 2.0 * s - 1.0;
    return b + s2 - b * s2;
}

fn soft_light1(b: f32, s: f32) -> f32 {
    if s <= 0.5 {
        return b - (1.0 - 2.0 * s) * b * (1.0 - b);
    }
    var d: f32;
    if b <= 0.25 {
        d = ((16.0 * b - 12.0) * b + 4.0) * b;
    } else {
        d = sqrt(b);
    }
    return b + (2.0 * s - 1.0) * (d - b);
}

fn dodge1(b: f32, s: f32) -> f32 {
    if b == 0.0 {
        return 0.0;
    }
    if s >= 1.0 {
        return 1.0;
    }
    return min(1.0, b / (1.0 - s));
}

fn burn1(b: f32, s: f32) -> f32 {
    if b >= 1.0 {
        return 1.0;
    }
    if s <= 0.0 {
        return 0.0;
    }
    return 1.0 - min(1.0, (1.0 - b) / s);
}

fn blend_fn(mode: u32, b: vec3<f32>, s: vec3<f32>) -> vec3<f32> {
    switch mode {
        case 1u: { return b * s; }
        case 2u: { return b + s - b * s; }
        case 3u: { return vec3<f32>(hard_light1(s.r, b.r), hard_light1(s.g, b.g), hard_light1(s.b, b.b)); }
        case 4u: { return min(b, s); }
        case 5u: { return max(b, s); }
        case 6u: { return vec3<f32>(dodge1(b.r, s.r), dodge1(b.g, s.g), dodge1(b.b, s.b)); }
        case 7u: { return vec3<f32>(burn1(b.r, s.r), burn1(b.g, s.g), burn1(b.b, s.b)); }
        case 8u: { return vec3<f32>(hard_light1(b.r, s.r), hard_light1(b.g, s.g), hard_light1(b.b, s.b)); }
        case 9u: { return vec3<f32>(soft_light1(b.r, s.r), soft_light1(b.g, s.g), soft_light1(b.b, s.b)); }
        case 10u: { return abs(b - s); }
        case 11u: { return b + s - 2.0 * b * s; }
        case 12u: { return set_lum(set_sat(s, sat(b)), lum(b)); }
        case 13u: { return set_lum(set_sat(b, sat(s)), lum(b)); }
        case 14u: { return set_lum(s, lum(b)); }
        case 15u: { return set_lum(b, lum(s)); }
        case 16u: { return min(vec3<f32>(1.0), b + s); }
        case 17u: { return max(vec3<f32>(0.0), b - s); }
        default: { return s; }
    }
}

// One layer (input i, bound as `tex`) composited onto `acc`. Called with constant `i`, so the
// mode and flags fold away.
fn layer(acc: vec4<f32>, i: u32, tex: texture_2d<f32>, p: vec2<f32>) -> vec4<f32> {
    let mode = MODES[i];
    if mode == 0u && has(STRAIGHT_MASK, i) {
        // Source-over of a straight colour: with s = (rgb·as, as), s + acc·(1-as) is
        // mix(acc, (rgb, 1), as). Half the arithmetic: the common case of image layers.
        let c = fetch_at(i, tex, p);
        return mix(acc, vec4<f32>(c.rgb, 1.0), c.a * P.p[i].y);
    }
    let s = sample_at(i, tex, p) * P.p[i].y;
    let ab = acc.a;
    let as_ = s.a;
    if mode == 0u || ab <= 0.0 || as_ <= 0.0 {
        // B = Cs (or a term that vanishes): the general formula reduces to source-over.
        return s + acc * (1.0 - as_);
    }
    let mixed = blend_fn(mode, unpremul(acc), unpremul(s));
    let co = s.rgb * (1.0 - ab) + acc.rgb * (1.0 - as_) + as_ * ab * mixed;
    return vec4<f32>(co, as_ + ab * (1.0 - as_));
}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let p = pos.xy;
    let n = N_INPUTS;
    var acc = vec4<f32>(0.0);
    if n > 0u { acc = layer(acc, 0u, in0, p); }
    if n > 1u { acc = layer(acc, 1u, in1, p); }
    if n > 2u { acc = layer(acc, 2u, in2, p); }
    if n > 3u { acc = layer(acc, 3u, in3, p); }
    if n > 4u { acc = layer(acc, 4u, in4, p); }
    if n > 5u { acc = layer(acc, 5u, in5, p); }
    if n > 6u { acc = layer(acc, 6u, in6, p); }
    if n > 7u { acc = layer(acc, 7u, in7, p); }
    if n > 8u { acc = layer(acc, 8u, in8, p); }
    if n > 9u { acc = layer(acc, 9u, in9, p); }
    if n > 10u { acc = layer(acc, 10u, in10, p); }
    if n > 11u { acc = layer(acc, 11u, in11, p); }
    if n > 12u { acc = layer(acc, 12u, in12, p); }
    if n > 13u { acc = layer(acc, 13u, in13, p); }
    if n > 14u { acc = layer(acc, 14u, in14, p); }
    if n > 15u { acc = layer(acc, 15u, in15, p); }
    return clamp(acc, vec4<f32>(0.0), vec4<f32>(1.0));
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
