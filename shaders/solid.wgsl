// solid.wgsl: p[0] = straight-alpha colour (r, g, b, a), sRGB-encoded.
// out = (r*a, g*a, b*a, a)

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let c = P.p[0];
    return vec4<f32>(c.rgb * c.a, c.a);
}
