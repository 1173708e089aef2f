// copy.wgsl: out = sample_at(0, p). Fits and transforms an input at no extra cost.

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    return sample_at(0u, in0, pos.xy);
}
