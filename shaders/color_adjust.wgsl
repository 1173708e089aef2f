// color_adjust.wgsl: colour correction on the un-premultiplied colour, then re-premultiplied.
//
// Parameters: p[0] = (brightness, contrast, saturation, gamma), p[1] = (hue_shift degrees, opacity, 0, 0).
// c = sample_at(0, p); C = unpremul(c)
// C = C + brightness
// C = (C - 0.5) * contrast + 0.5
// C = Y + (C - Y) * saturation,  Y = luma709(C)
// C = clamp(C, 0, 1)^(1/gamma)
// hue: rotation by theta = hue_shift (radians) about the grey axis k = (1,1,1)/sqrt(3):
//   C = C cos(theta) + (k x C) sin(theta) + k (k . C)(1 - cos(theta))
// C = clamp(C, 0, 1); alpha = c.a * opacity
// out = (C * alpha, alpha)

#import metadj::common::{finish, load_packs, luma709, P, sample_at, unpremul, in0}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let c = sample_at(0u, in0, pos.xy);
    let a = P.p[0];
    var col = unpremul(c) + a.x;
    col = (col - 0.5) * a.y + 0.5;
    let y = luma709(col);
    col = y + (col - y) * a.z;
    col = pow(clamp(col, vec3<f32>(0.0), vec3<f32>(1.0)), vec3<f32>(1.0 / a.w));
    let theta = radians(P.p[1].x);
    let k = vec3<f32>(0.57735026919);
    let ct = cos(theta);
    col = col * ct + cross(k, col) * sin(theta) + k * dot(k, col) * (1.0 - ct);
    col = clamp(col, vec3<f32>(0.0), vec3<f32>(1.0));
    let alpha = clamp(c.a * P.p[1].y, 0.0, 1.0);
    return vec4<f32>(col * alpha, alpha);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
