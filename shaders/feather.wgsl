// feather.wgsl: the `feather` node, one direction of a separable Gaussian blur (all four channels;
// the plan runs it as PassOp::BlurH then PassOp::BlurV).
//
// Parameters: p[0] = (dx, dy, radius, 0), (dx, dy) = (1, 0) horizontal or (0, 1) vertical.
// r = min(ceil(radius), 64); if radius < 0.5: out = sample_at(0, p).
// sigma = radius / 3; w_k = exp(-k^2 / (2 sigma^2)) for k = -r..=r
// out = sum_k w_k * sample_at(0, p + k*(dx, dy)) / sum_k w_k

#import metadj::common::{finish, load_packs, P, sample_at, in0}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let p = pos.xy;
    let dir = P.p[0].xy;
    let radius = P.p[0].z;
    if radius < 0.5 {
        return sample_at(0u, in0, p);
    }
    let r = i32(min(ceil(radius), 64.0));
    let sigma = radius / 3.0;
    let k2 = 1.0 / (2.0 * sigma * sigma);
    var sum = vec4<f32>(0.0);
    var wsum = 0.0;
    for (var k = -r; k <= r; k = k + 1) {
        let fk = f32(k);
        let w = exp(-fk * fk * k2);
        sum = sum + w * sample_at(0u, in0, p + fk * dir);
        wsum = wsum + w;
    }
    return sum / wsum;
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
