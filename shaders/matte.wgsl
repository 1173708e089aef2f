// matte.wgsl: an image to a matte; the value goes in all four channels.
// c = sample_at(0, p) (premultiplied)
// p[0].x = source: 0 alpha: m = c.a;  1 luma: m = luma709(c.rgb) (luma of the image over black)
// out = (m, m, m, m)

#import metadj::common::{finish, load_packs, luma709, P, sample_at, in0}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let c = sample_at(0u, in0, pos.xy);
    var m = c.a;
    if P.p[0].x > 0.5 {
        m = luma709(c.rgb);
    }
    return vec4<f32>(clamp(m, 0.0, 1.0));
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
