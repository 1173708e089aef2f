// luma_key.wgsl: keeps pixels whose luma is between two thresholds.
//
// Parameters: p[0] = (low, high, smoothness, invert (0/1)).
// c = sample_at(0, p); Y = luma709(unpremul(c)); s = smoothness
// keep = sstep(low - s/2, low + s/2, Y) * (1 - sstep(high - s/2, high + s/2, Y))
// if invert: keep = 1 - keep
// out = c * keep   (all four premultiplied channels)

#import metadj::common::{finish, load_packs, luma709, P, sample_at, sstep, unpremul, in0}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let c = sample_at(0u, in0, pos.xy);
    let k = P.p[0];
    let y = luma709(unpremul(c));
    let hs = k.z * 0.5;
    var keep = sstep(k.x - hs, k.x + hs, y) * (1.0 - sstep(k.y - hs, k.y + hs, y));
    if k.w > 0.5 {
        keep = 1.0 - keep;
    }
    return c * keep;
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
