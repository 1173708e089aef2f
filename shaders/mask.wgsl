// mask.wgsl: out = sample_at(0, p) * sample_at(1, p).a  (image times matte, all four channels).

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    return sample_at(0u, pos.xy) * sample_at(1u, pos.xy).a;
}
