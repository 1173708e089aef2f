// fullscreen.wgsl: the vertex stage of every pass: one triangle, vertices (-1,1), (-1,-3),
// (3,1), covers the target.

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    let uv = vec2<f32>(f32(i >> 1u), f32(i & 1u)) * 2.0;
    return vec4<f32>(uv * vec2<f32>(2.0, -2.0) + vec2<f32>(-1.0, 1.0), 0.0, 1.0);
}
