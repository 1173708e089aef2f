// mask.wgsl: out = sample_at(0, p) * sample_at(1, p).a  (image times matte, all four channels).

#import metadj::common::{finish, load_packs, sample_at, in0, in1}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    return sample_at(0u, in0, pos.xy) * sample_at(1u, in1, pos.xy).a;
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
