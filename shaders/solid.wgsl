// solid.wgsl: p[0] = straight-alpha colour (r, g, b, a), sRGB-encoded.
// out = (r*a, g*a, b*a, a)

#import metadj::common::{finish, load_packs, P}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let c = P.p[0];
    return vec4<f32>(c.rgb * c.a, c.a);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
