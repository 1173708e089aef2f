// chroma_key.wgsl: OBS-style chroma key (distance in BT.709 CbCr from the key colour).
//
// Parameters: p[0] = key colour (straight r, g, b; a ignored),
// p[1] = (similarity, smoothness, spill, opacity), p[2] = (contrast, brightness, gamma, 0).
// cbcr(C) = ((C.b - Y) / 1.8556, (C.r - Y) / 1.5748), Y = luma709(C)
// c = sample_at(0, p); C = unpremul(c)
// d     = |cbcr(C) - cbcr(key)|
// mask  = sstep(similarity, similarity + smoothness, d)
// spillv = spill > 0 ? clamp((d - similarity) / spill, 0, 1)^0.3 : 1
// C     = mix(luma709(C) (grey), C, spillv)          (desaturates key-coloured spill near the edge)
// cf    = contrast < 0 ? 1 / (1 - contrast) : 1 + contrast
// ge    = gamma < 0 ? 1 - gamma : 1 / (1 + gamma)
// C     = clamp(C^ge * cf + brightness, 0, 1)      (per channel)
// alpha = c.a * opacity * mask
// out   = (C * alpha, alpha)
// (OBS also box-filters the distance over 3x3 pixels; this key is per pixel.)

#import metadj::common::{finish, load_packs, luma709, P, sample_at, sstep, unpremul, in0}

fn cbcr(c: vec3<f32>) -> vec2<f32> {
    let y = luma709(c);
    return vec2<f32>((c.b - y) / 1.8556, (c.r - y) / 1.5748);
}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let c = sample_at(0u, in0, pos.xy);
    let k = P.p[1];
    let adj = P.p[2];
    var col = unpremul(c);
    let d = distance(cbcr(col), cbcr(P.p[0].rgb));
    let mask = sstep(k.x, k.x + k.y, d);
    var spillv = 1.0;
    if k.z > 0.0 {
        spillv = pow(clamp((d - k.x) / k.z, 0.0, 1.0), 0.3);
    }
    col = mix(vec3<f32>(luma709(col)), col, spillv);
    var cf = 1.0 + adj.x;
    if adj.x < 0.0 {
        cf = 1.0 / (1.0 - adj.x);
    }
    var ge = 1.0 / (1.0 + adj.z);
    if adj.z < 0.0 {
        ge = 1.0 - adj.z;
    }
    col = clamp(pow(col, vec3<f32>(ge)) * cf + adj.y, vec3<f32>(0.0), vec3<f32>(1.0));
    let alpha = clamp(c.a * k.w * mask, 0.0, 1.0);
    return vec4<f32>(col * alpha, alpha);
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
