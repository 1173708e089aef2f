// segment.wgsl: a segment node's model-sized mask upsampled to a canvas matte with a soft edge.
//
// Parameters: p[0] = (threshold, softness, 0, 0).
// Input 0 is the mask texture (person probability in red, opaque), sampled bilinearly by the
// input's map (the camera's placement, or stretched over the canvas); outside its crop window
// it reads 0 (not kept).
// m = sstep(threshold - softness, threshold + softness, probability)   (softness 0: a hard step)
// out = m in all four channels (a matte)

#import metadj::common::{finish, load_packs, P, sample_at, sstep, in0}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let k = P.p[0];
    let probability = sample_at(0u, in0, pos.xy).r;
    return vec4<f32>(sstep(k.x - k.y, k.x + k.y, probability));
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
