// invert.wgsl: out = (1 - m) in all four channels, m = sample_at(0, p).a (the matte value).

#import metadj::common::{finish, load_packs, sample_at, in0}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(1.0 - sample_at(0u, in0, pos.xy).a);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
