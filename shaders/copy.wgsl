// copy.wgsl: out = sample_at(0, p). Fits and transforms an input at no extra cost.

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    return sample_at(0u, pos.xy);
}
