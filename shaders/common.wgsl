// common.wgsl: shared by every pass shader, which imports what it uses from it
// (`#import metadj::common::{...}`) and defines its entry point `fs` as
// `load_packs(pos.xy); return finish(pass_main(pos));` around its own colour `pass_main`.
// The vertex stage is fullscreen.wgsl's.
//
// COLOUR CONVENTION: every value is premultiplied alpha with sRGB-encoded (non-linear) channels
// in 0..=1. Nothing is linearised, except the final write of `program.wgsl`.
//
// COORDINATES: `p = (x, y)` is the canvas pixel centre (x = column + 0.5, y = row + 0.5, origin
// top-left). `canvas = (W, H)`.
//
// SAMPLING input i at p (`sample_at(i, in<i>, p)`):
//   u = m0*x + m1*y + t0,  v = m2*x + m3*y + t1         (plan `Sample.xform`)
//   if u < u0 || u > u1 || v < v0 || v > v1  => (0,0,0,0)   (plan `Sample.crop` = [u0,v0,u1,v1])
//   c = bilinear sample at (u, v), clamp-to-edge addressing (a slot sampled at its own pixel
//       centres returns the stored texel exactly). When the map is the identity on texels
//       (u * size = x, v * size = y; the compositor checks), the texel floor(p) is fetched
//       directly instead: the same value, much cheaper on a software rasteriser. (Such a map
//       only leaves the texture where the crop test is on, which then discards the fetch.)
//   PACKED inputs (static images, see PACK_MASK) skip all of the above: c is the input's word
//       of a pack texture, which a `pack.wgsl` pass wrote once with exactly the steps above
//       (sampled, cropped, sRGB re-encoded, as 8 bits per channel)
//   if the texture's format is sRGB (Rgba8UnormSrgb): c.rgb = srgb_encode(c.rgb) (undoes the
//       hardware decode so values stay sRGB-encoded; filtering then happened on linear values)
//   if the input is straight alpha (external images, camera, Scope): c.a = c.a * gain
//       (`tr[i].z`, a source's own fade), then c.rgb = c.rgb * c.a
//   Missing / unset inputs are a 1x1 transparent texture: (0,0,0,0).
//
// Shared helpers:
//   finish(c)    = FINAL ? (clamp(c.rgb, 0, 1), 1) : c
//   luma709(c)   = 0.2126 r + 0.7152 g + 0.0722 b
//   unpremul(c)  = a > 0 ? clamp(c.rgb / a, 0, 1) : (0,0,0)
//   sstep(e0,e1,x) = e1 > e0 ? smoothstep(e0, e1, x) (t = clamp((x-e0)/(e1-e0),0,1); t*t*(3-2t))
//                            : (x >= e0 ? 1 : 0)

#define_import_path metadj::common

// Pipeline specialisation (shader defs set by the compositor per pipeline variant), so a
// software rasteriser does not pay for branches a pass never takes. Bit i is input i.
const N_INPUTS: u32 = #{N_INPUTS}u;
// The input is an sRGB texture: re-encode what the hardware decoded.
const SRGB_MASK: u32 = #{SRGB_MASK}u;
// The input has straight alpha (external sources): premultiply.
const STRAIGHT_MASK: u32 = #{STRAIGHT_MASK}u;
// The input can be sampled outside its crop window: test it.
const CROP_MASK: u32 = #{CROP_MASK}u;
// The input's map is the identity on texels: fetch texel floor(p), no sampler.
const LOAD_MASK: u32 = #{LOAD_MASK}u;
// The input is read from a pack: the k-th packed input (k counts the packed inputs below it) is
// word k % 4 of pack k / 4. A software rasteriser pays per texel fetch, not per byte, so one
// 16-byte fetch of four static layers costs about what one layer's fetch does.
const PACK_MASK: u32 = #{PACK_MASK}u;
// 1: this pass writes the program output directly (the plan's last pass, when the final pass
// would only copy it): out = (clamp(c.rgb, 0, 1), 1), i.e. over black.
const FINAL: u32 = #{FINAL}u;
// Per-kind selector (blend: the mode of each layer; program: the transition kind).
const MODES: array<u32, 16> = array<u32, 16>(
    #{MODE_0}u, #{MODE_1}u, #{MODE_2}u, #{MODE_3}u, #{MODE_4}u, #{MODE_5}u, #{MODE_6}u, #{MODE_7}u,
    #{MODE_8}u, #{MODE_9}u, #{MODE_10}u, #{MODE_11}u, #{MODE_12}u, #{MODE_13}u, #{MODE_14}u, #{MODE_15}u,
);

fn has(mask: u32, i: u32) -> bool {
    return ((mask >> i) & 1u) != 0u;
}

struct Params {
    // W, H, 1/W, 1/H
    canvas: vec4<f32>,
    // time in seconds, frame number mod 10^7, number of inputs, unused
    info: vec4<f32>,
    // per input: m0, m1, m2, m3
    xf: array<vec4<f32>, 16>,
    // per input: t0, t1, gain, unused
    tr: array<vec4<f32>, 16>,
    // per input: u0, v0, u1, v1
    crop: array<vec4<f32>, 16>,
    // operation parameters (meaning documented in each kind's file)
    p: array<vec4<f32>, 16>,
};

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var in0: texture_2d<f32>;
@group(0) @binding(2) var in1: texture_2d<f32>;
@group(0) @binding(3) var in2: texture_2d<f32>;
@group(0) @binding(4) var in3: texture_2d<f32>;
@group(0) @binding(5) var in4: texture_2d<f32>;
@group(0) @binding(6) var in5: texture_2d<f32>;
@group(0) @binding(7) var in6: texture_2d<f32>;
@group(0) @binding(8) var in7: texture_2d<f32>;
@group(0) @binding(9) var in8: texture_2d<f32>;
@group(0) @binding(10) var in9: texture_2d<f32>;
@group(0) @binding(11) var in10: texture_2d<f32>;
@group(0) @binding(12) var in11: texture_2d<f32>;
@group(0) @binding(13) var in12: texture_2d<f32>;
@group(0) @binding(14) var in13: texture_2d<f32>;
@group(0) @binding(15) var in14: texture_2d<f32>;
@group(0) @binding(16) var in15: texture_2d<f32>;
@group(0) @binding(17) var samp: sampler;
@group(0) @binding(18) var pack0: texture_2d<u32>;
@group(0) @binding(19) var pack1: texture_2d<u32>;
@group(0) @binding(20) var pack2: texture_2d<u32>;
@group(0) @binding(21) var pack3: texture_2d<u32>;

// This pixel's pack words, fetched once per pixel by `load_packs`.
var<private> packed: array<vec4<u32>, 4>;

fn load_packs(p: vec2<f32>) {
    let q = vec2<i32>(p);
    let n = countOneBits(PACK_MASK);
    if n > 0u { packed[0] = textureLoad(pack0, q, 0); }
    if n > 4u { packed[1] = textureLoad(pack1, q, 0); }
    if n > 8u { packed[2] = textureLoad(pack2, q, 0); }
    if n > 12u { packed[3] = textureLoad(pack3, q, 0); }
}

// The colour a pass writes: `c`, or over black when the pass writes the program (FINAL).
fn finish(c: vec4<f32>) -> vec4<f32> {
    if FINAL != 0u {
        return vec4<f32>(clamp(c.rgb, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
    }
    return c;
}

fn srgb_encode(c: vec3<f32>) -> vec3<f32> {
    let lo = c * 12.92;
    let hi = 1.055 * pow(max(c, vec3<f32>(0.0)), vec3<f32>(1.0 / 2.4)) - 0.055;
    return select(hi, lo, c <= vec3<f32>(0.0031308));
}

fn luma709(c: vec3<f32>) -> f32 {
    return dot(c, vec3<f32>(0.2126, 0.7152, 0.0722));
}

fn unpremul(c: vec4<f32>) -> vec3<f32> {
    if c.a > 0.0 {
        return clamp(c.rgb / c.a, vec3<f32>(0.0), vec3<f32>(1.0));
    }
    return vec3<f32>(0.0);
}

fn sstep(e0: f32, e1: f32, x: f32) -> f32 {
    if e1 > e0 {
        let t = clamp((x - e0) / (e1 - e0), 0.0, 1.0);
        return t * t * (3.0 - 2.0 * t);
    }
    return select(0.0, 1.0, x >= e0);
}

// Input i (bound as `tex`, i.e. `in<i>`) at canvas position p (see SAMPLING above) as stored:
// sRGB-encoded and cropped, the alpha of a straight input times its gain, not yet
// premultiplied. Always called with a constant i, so the flags fold away; the texture is a
// parameter because a switch over the bindings cost a software rasteriser ~20%.
fn fetch_at(i: u32, tex: texture_2d<f32>, p: vec2<f32>) -> vec4<f32> {
    var c: vec4<f32>;
    if has(PACK_MASK, i) {
        // Sampled, cropped and encoded when the pack was made.
        let k = countOneBits(PACK_MASK & ((1u << i) - 1u));
        c = unpack4x8unorm(packed[k / 4u][k % 4u]);
    } else {
        c = sample_stored(i, tex, p);
    }
    if has(STRAIGHT_MASK, i) {
        c.a = c.a * P.tr[i].z;
    }
    return c;
}

// Input i sampled, sRGB-encoded and cropped (the steps a pack stores).
fn sample_stored(i: u32, tex: texture_2d<f32>, p: vec2<f32>) -> vec4<f32> {
    let m = P.xf[i];
    let t = P.tr[i];
    let uv = vec2<f32>(m.x * p.x + m.y * p.y + t.x, m.z * p.x + m.w * p.y + t.y);
    var c: vec4<f32>;
    if has(LOAD_MASK, i) {
        var q = vec2<i32>(p);
        if has(CROP_MASK, i) {
            // Past the texture's edge the crop test discards the texel: keep the fetch inside.
            q = min(q, vec2<i32>(textureDimensions(tex)) - 1);
        }
        c = textureLoad(tex, q, 0);
    } else {
        c = textureSampleLevel(tex, samp, uv, 0.0);
    }
    if has(SRGB_MASK, i) {
        c = vec4<f32>(srgb_encode(c.rgb), c.a);
    }
    if has(CROP_MASK, i) {
        let cr = P.crop[i];
        let inside = uv.x >= cr.x && uv.x <= cr.z && uv.y >= cr.y && uv.y <= cr.w;
        c = select(vec4<f32>(0.0), c, inside);
    }
    return c;
}

// Input i (bound as `tex`) at canvas position p, premultiplied and sRGB-encoded.
fn sample_at(i: u32, tex: texture_2d<f32>, p: vec2<f32>) -> vec4<f32> {
    let c = fetch_at(i, tex, p);
    if has(STRAIGHT_MASK, i) {
        return vec4<f32>(c.rgb * c.a, c.a);
    }
    return c;
}
