//! Encode → decode round trips for both codecs on real pixels.
#![allow(clippy::unwrap_used, reason = "test helpers may panic")]

use std::time::{Duration, Instant};

use media::{Codec, Decoder, Encoder, MediaError, PixelFormat, VideoFrame};

/// A smooth, moving test picture (gradients, a disc, a bar) as RGBA8.
fn picture(width: u32, height: u32, t: u32) -> VideoFrame {
    let mut data = Vec::with_capacity((width * height * 4) as usize);
    let cx = (40 + 7 * t) % width;
    let cy = height / 2;
    for y in 0..height {
        for x in 0..width {
            let dx = x as i64 - cx as i64;
            let dy = y as i64 - cy as i64;
            let inside = dx * dx + dy * dy < 60 * 60;
            let bar = (x + 3 * t) % 160 < 20;
            let (r, g, b) = if inside {
                (230, 140, 90)
            } else if bar {
                (240, 240, 240)
            } else {
                ((x * 255 / width) as u8, 177, (y * 255 / height) as u8)
            };
            data.extend_from_slice(&[r, g, b, 255]);
        }
    }
    VideoFrame::new(
        width,
        height,
        PixelFormat::Rgba8,
        data,
        Duration::ZERO,
        u64::from(t),
    )
    .unwrap()
}

/// PSNR over the RGB channels, computed in f64.
fn psnr(a: &VideoFrame, b: &VideoFrame) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let mut sse = 0.0f64;
    let mut n = 0.0f64;
    for (pa, pb) in a.data.chunks_exact(4).zip(b.data.chunks_exact(4)) {
        for c in 0..3 {
            let d = f64::from(pa[c]) - f64::from(pb[c]);
            sse += d * d;
            n += 1.0;
        }
    }
    if sse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / (sse / n)).log10()
}

/// The best PSNR a lossless codec could give: RGBA → I420 → RGBA alone (chroma subsampling).
fn conversion_psnr(frame: &VideoFrame) -> f64 {
    psnr(frame, &frame.to_i420().unwrap().to_rgba().unwrap())
}

fn round_trip(codec: Codec) {
    let (w, h) = (640, 360);
    let mut enc = Encoder::new(codec, w, h, 30, 2000).unwrap();
    let mut dec = Decoder::new(codec).unwrap();
    let mut worst = f64::INFINITY;
    let mut decoded = 0;
    let started = Instant::now();
    for t in 0..15 {
        let src = picture(w, h, t);
        let packet = enc.encode(&src, false).unwrap();
        assert!(!packet.is_empty(), "{codec}: empty packet at frame {t}");
        let out = dec.decode(&packet).unwrap().expect("a picture per packet");
        assert_eq!(
            (out.width, out.height, out.format),
            (w, h, PixelFormat::Rgba8)
        );
        let p = psnr(&src, &out);
        // Wrong-frame control: the same decoded picture against a later source must score much lower,
        // so a decoder that returned stale or garbage pictures could not pass.
        let other = psnr(&picture(w, h, t + 8), &out);
        assert!(
            other < p - 3.0,
            "{codec}: frame {t} PSNR {p:.1} vs wrong frame {other:.1}"
        );
        worst = worst.min(p);
        decoded += 1;
    }
    // Threshold: 10 dB below what chroma subsampling alone allows, and never under 30 dB
    // (a visibly good picture at 2 Mbit/s for this smooth content).
    let ceiling = conversion_psnr(&picture(w, h, 0));
    let threshold = (ceiling - 10.0).max(30.0);
    eprintln!(
        "{codec}: {decoded} frames, worst PSNR {worst:.2} dB (conversion ceiling {ceiling:.2}, threshold {threshold:.2}), {:?}",
        started.elapsed()
    );
    assert!(
        worst >= threshold,
        "{codec}: worst PSNR {worst:.2} dB < {threshold:.2} dB"
    );
}

#[test]
fn vp8_round_trip_640x360() {
    round_trip(Codec::Vp8);
}

#[test]
fn h264_round_trip_640x360() {
    round_trip(Codec::H264);
}

fn is_keyframe(codec: Codec, packet: &[u8]) -> bool {
    match codec {
        // VP8 frame tag: bit 0 of the first byte is 0 for key frames (RFC 6386 §9.1).
        Codec::Vp8 => packet.first().is_some_and(|b| b & 1 == 0),
        // H.264 Annex B: look for an IDR slice NAL (type 5) after a start code.
        Codec::H264 => packet
            .windows(4)
            .any(|w| w[0..3] == [0, 0, 1] && w[3] & 0x1f == 5),
    }
}

fn keyframe_forcing(codec: Codec) {
    let (w, h) = (320, 180);
    let mut enc = Encoder::new(codec, w, h, 30, 1000).unwrap();
    let packets: Vec<Vec<u8>> = (0..8)
        .map(|t| enc.encode(&picture(w, h, t), t == 5).unwrap())
        .collect();
    let kinds: Vec<bool> = packets.iter().map(|p| is_keyframe(codec, p)).collect();
    assert_eq!(
        kinds,
        [true, false, false, false, false, true, false, false],
        "{codec}"
    );
    // A decoder that joins late can start at the forced keyframe ...
    let mut late = Decoder::new(codec).unwrap();
    let out = late
        .decode(&packets[5])
        .unwrap()
        .expect("keyframe decodes alone");
    assert!(psnr(&picture(w, h, 5), &out) > 28.0);
    // ... but not at a delta frame.
    let mut late = Decoder::new(codec).unwrap();
    assert!(
        !matches!(late.decode(&packets[4]), Ok(Some(_))),
        "{codec}: delta frame decoded alone"
    );
}

#[test]
fn vp8_keyframe_forcing() {
    keyframe_forcing(Codec::Vp8);
}

#[test]
fn h264_keyframe_forcing() {
    keyframe_forcing(Codec::H264);
}

#[test]
fn size_change_restarts_with_a_keyframe() {
    for codec in [Codec::Vp8, Codec::H264] {
        let mut enc = Encoder::new(codec, 320, 180, 30, 1000).unwrap();
        let mut dec = Decoder::new(codec).unwrap();
        let a = enc.encode(&picture(320, 180, 0), false).unwrap();
        assert_eq!(
            dec.decode(&a).unwrap().map(|f| (f.width, f.height)),
            Some((320, 180))
        );
        let b = enc.encode(&picture(256, 144, 1), false).unwrap();
        assert!(is_keyframe(codec, &b), "{codec}");
        let out = dec.decode(&b).unwrap().unwrap();
        assert_eq!((out.width, out.height), (256, 144));
        assert!(psnr(&picture(256, 144, 1), &out) > 28.0);
        assert_eq!(enc.size(), (256, 144));
    }
}

#[test]
fn odd_sizes() {
    // VP8 handles odd sizes natively.
    let mut enc = Encoder::new(Codec::Vp8, 321, 181, 30, 1000).unwrap();
    let mut dec = Decoder::new(Codec::Vp8).unwrap();
    let src = picture(321, 181, 2);
    let out = dec
        .decode(&enc.encode(&src, false).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!((out.width, out.height), (321, 181));
    assert!(psnr(&src, &out) > 28.0);
    // H.264 (openh264) rejects them with a clear message instead of panicking.
    let err = Encoder::new(Codec::H264, 321, 181, 30, 1000).err().unwrap();
    assert!(matches!(err, MediaError::BadSize { .. }));
    assert!(
        err.to_string()
            .contains("H264 cannot handle a 321x181 picture"),
        "{err}"
    );
    let mut enc = Encoder::new(Codec::H264, 320, 180, 30, 1000).unwrap();
    let err = enc.encode(&picture(321, 181, 0), false).unwrap_err();
    assert!(err.to_string().contains("even"), "{err}");
    assert!(Encoder::new(Codec::Vp8, 0, 10, 30, 1000).is_err());
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for codec in [Codec::Vp8, Codec::H264] {
        let mut dec = Decoder::new(codec).unwrap();
        let junk: Vec<u8> = (0..500u32).map(|i| (i * 37 % 251) as u8).collect();
        // Either an error or no picture; never a panic or a bogus picture.
        assert!(!matches!(dec.decode(&junk), Ok(Some(_))), "{codec}");
    }
}

#[test]
fn i420_input_is_accepted() {
    let src = picture(320, 180, 3);
    let mut enc = Encoder::new(Codec::Vp8, 320, 180, 30, 1000).unwrap();
    let mut dec = Decoder::new(Codec::Vp8).unwrap();
    let out = dec
        .decode(&enc.encode(&src.to_i420().unwrap(), false).unwrap())
        .unwrap()
        .unwrap();
    assert!(psnr(&src, &out) > 28.0);
}

#[test]
fn decode_i420_relays_without_conversion() {
    for codec in [Codec::Vp8, Codec::H264] {
        let src = picture(320, 180, 4);
        let mut enc = Encoder::new(codec, 320, 180, 30, 1500).unwrap();
        let mut dec = Decoder::new(codec).unwrap();
        let yuv = dec
            .decode_i420(&enc.encode(&src, false).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            (yuv.format, yuv.width, yuv.height),
            (PixelFormat::I420, 320, 180)
        );
        assert_eq!(yuv.data.len(), 320 * 180 * 3 / 2);
        assert!(psnr(&src, &yuv.to_rgba().unwrap()) > 28.0, "{codec}");
        // Relay: the I420 picture goes straight into a second encoder.
        let mut relay = Encoder::new(codec, 320, 180, 30, 1500).unwrap();
        let mut dec2 = Decoder::new(codec).unwrap();
        let out = dec2
            .decode(&relay.encode(&yuv, false).unwrap())
            .unwrap()
            .unwrap();
        assert!(psnr(&src, &out) > 26.0, "{codec} relay");
    }
}

#[test]
fn periodic_keyframes_at_least_every_two_seconds() {
    for codec in [Codec::Vp8, Codec::H264] {
        let mut enc = Encoder::new(codec, 160, 120, 30, 300).unwrap();
        let keys: Vec<usize> = (0..130u32)
            .filter(|t| is_keyframe(codec, &enc.encode(&picture(160, 120, *t), false).unwrap()))
            .map(|t| t as usize)
            .collect();
        assert_eq!(keys.first(), Some(&0), "{codec}");
        for pair in keys.windows(2) {
            assert!(pair[1] - pair[0] <= 60, "{codec}: keyframes {keys:?}");
        }
        assert!(*keys.last().unwrap() >= 70, "{codec}: keyframes {keys:?}");
    }
}
