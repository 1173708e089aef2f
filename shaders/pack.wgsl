// pack.wgsl: stores up to four static inputs as `sample_stored` reads them (sampled, cropped,
// sRGB-encoded; straight alpha, no gain) in the four words of an Rgba32Uint texel:
// word i = pack4x8unorm(sample_stored(i, p)) (each channel round(255 * clamp(v, 0, 1))), unused
// words 0. Blend passes then read those inputs with one fetch per pixel (PACK_MASK in
// common.wgsl). The compositor runs this pass only when a pack is made or its inputs change.

#import metadj::common::{N_INPUTS, sample_stored, in0, in1, in2, in3}

@fragment
fn fs_pack(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<u32> {
    let p = pos.xy;
    var w = vec4<u32>(0u);
    if N_INPUTS > 0u { w.x = pack4x8unorm(sample_stored(0u, in0, p)); }
    if N_INPUTS > 1u { w.y = pack4x8unorm(sample_stored(1u, in1, p)); }
    if N_INPUTS > 2u { w.z = pack4x8unorm(sample_stored(2u, in2, p)); }
    if N_INPUTS > 3u { w.w = pack4x8unorm(sample_stored(3u, in3, p)); }
    return w;
}
