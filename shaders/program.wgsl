// program.wgsl: the final pass. Mixes the previous scene (input 1) into the current one
// (input 0) during a transition, composites over black and writes CompositeOutput.
//
// Parameters: p[0] = (kind, progress, 0, 0), p[1] = fade-through colour (straight r, g, b, a).
// a = sample_at(1, p) (from), b = sample_at(0, p) (to), t = progress, x = p.x / W
//   kind 0 (no transition): c = b
//   kind 1 cut:             c = t < 0.5 ? a : b
//   kind 2 fade:            c = mix(a, b, t)
//   kind 3 fade through k:  c = t < 0.5 ? mix(a, K, 2t) : mix(K, b, 2t - 1),  K = (k.rgb*k.a, k.a)
//   kind 4 wipe (soft edge, w = 0.05, moving left to right):
//                           e = t*(1 + 2w) - w;  c = mix(a, b, 1 - sstep(e - w, e + w, x))
// Over black: rgb = clamp(c.rgb, 0, 1) (premultiplied, so black adds nothing); out alpha = 1.
// The output texture is Rgba8UnormSrgb; this pass writes it through an Rgba8Unorm view, so the
// stored bytes are round(255 * rgb): exactly the sRGB-encoded composite, with no conversion.

#import metadj::common::{finish, load_packs, MODES, P, sample_at, sstep, in0, in1}

fn pass_main(pos: vec4<f32>) -> vec4<f32> {
    let p = pos.xy;
    let kind = MODES[0];
    let t = P.p[0].y;
    let b = sample_at(0u, in0, p);
    var c = b;
    if kind != 0u {
        let a = sample_at(1u, in1, p);
        switch kind {
            case 1u: { c = select(b, a, t < 0.5); }
            case 2u: { c = mix(a, b, t); }
            case 3u: {
                let k = vec4<f32>(P.p[1].rgb * P.p[1].a, P.p[1].a);
                if t < 0.5 {
                    c = mix(a, k, 2.0 * t);
                } else {
                    c = mix(k, b, 2.0 * t - 1.0);
                }
            }
            default: {
                let w = 0.05;
                let e = t * (1.0 + 2.0 * w) - w;
                c = mix(a, b, 1.0 - sstep(e - w, e + w, p.x * P.canvas.z));
            }
        }
    }
    // Always built with FINAL = 1, which composites over black.
    return c;
}

@fragment
fn fs(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    load_packs(pos.xy);
    return finish(pass_main(pos));
}
