// copy.wgsl: out = sample_at(0, p). Fits and transforms an input at no extra cost.

#import metadj::common::{finish, load_packs, sample_at, in0}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    return sample_at(0u, in0, pos.xy);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
