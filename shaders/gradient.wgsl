// gradient.wgsl: two-colour gradient, interpolated on premultiplied colours.
//
// Parameters: p[0] = from (straight r,g,b,a), p[1] = to (straight), p[2] = (sx, sy, ex, ey)
// start/end in normalised canvas coordinates, p[3].x = shape (0 linear, 1 radial).
// Distances are measured in canvas pixels: S = (sx*W, sy*H), E = (ex*W, ey*H), p = pixel centre.
//   linear: t = clamp(dot(p - S, E - S) / dot(E - S, E - S), 0, 1)   (0 if E == S)
//   radial: t = clamp(|p - S| / |E - S|, 0, 1)                        (0 if E == S)
// out = mix(premul(from), premul(to), t), premul(c) = (c.rgb * c.a, c.a)

#import metadj::common::{finish, load_packs, P}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let p = pos.xy;
    let a = P.p[0];
    let b = P.p[1];
    let s = P.p[2].xy * P.canvas.xy;
    let e = P.p[2].zw * P.canvas.xy;
    let d = e - s;
    let dd = dot(d, d);
    var t = 0.0;
    if dd > 0.0 {
        if P.p[3].x > 0.5 {
            t = clamp(length(p - s) / sqrt(dd), 0.0, 1.0);
        } else {
            t = clamp(dot(p - s, d) / dd, 0.0, 1.0);
        }
    }
    return mix(vec4<f32>(a.rgb * a.a, a.a), vec4<f32>(b.rgb * b.a, b.a), t);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
