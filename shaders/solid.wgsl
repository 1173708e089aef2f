// solid.wgsl: p[0] = straight-alpha colour (r, g, b, a), sRGB-encoded.
// out = (r*a, g*a, b*a, a)

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let c = P.p[0];
    return vec4<f32>(c.rgb * c.a, c.a);
}
