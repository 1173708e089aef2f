// garbage_matte.wgsl: rectangle or ellipse matte; the value goes in all four channels.
//
// Parameters: p[0] = (cx, cy, w, h) centre and full size in normalised canvas coordinates,
// p[1] = (shape (0 rect, 1 ellipse), softness (normalised units), invert (0/1), 0).
// q = (x/W - cx, y/H - cy), hw = w/2, hh = h/2
//   rect:    d = min(hw - |q.x|, hh - |q.y|)                          (> 0 inside)
//   ellipse: d = (1 - length(q.x/hw, q.y/hh)) * min(hw, hh)            (hw, hh > 0, else d = -1)
// m = sstep(-softness/2, softness/2, d); if invert: m = 1 - m
// out = (m, m, m, m)

#import metadj::common::{finish, load_packs, P, sstep}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let q = pos.xy * P.canvas.zw - P.p[0].xy;
    let h = P.p[0].zw * 0.5;
    let soft = P.p[1].y;
    var d: f32;
    if P.p[1].x > 0.5 {
        if h.x > 0.0 && h.y > 0.0 {
            d = (1.0 - length(q / h)) * min(h.x, h.y);
        } else {
            d = -1.0;
        }
    } else {
        d = min(h.x - abs(q.x), h.y - abs(q.y));
    }
    var m = sstep(-soft * 0.5, soft * 0.5, d);
    if P.p[1].z > 0.5 {
        m = 1.0 - m;
    }
    return vec4<f32>(m);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
