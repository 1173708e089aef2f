// mask.wgsl: out = sample_at(0, p) * sample_at(1, p).a  (image times matte, all four channels).

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    return sample_at(0u, in0, pos.xy) * sample_at(1u, in1, pos.xy).a;
}
