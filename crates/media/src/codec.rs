//! VP8 (libvpx) and H.264 (openh264) encoders and decoders behind one small API.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, EncoderConfig, FrameRate, IntraFramePeriod, Profile, RateControlMode, UsageType,
};
use openh264::formats::{YUVSlices, YUVSource};

use crate::convert::{chroma_size, pack_i420};
use crate::error::MediaError;
use crate::frame::{PixelFormat, VideoFrame};
use crate::vpx::{Vp8Decoder, Vp8Encoder};

/// RTCP feedback (`a=rtcp-fb` type, parameter) both codecs are offered and answered with:
/// bandwidth estimates, keyframe requests (FIR, PLI) and retransmission (NACK), as browsers
/// and aiortc negotiate them. The encoders honour keyframe requests.
pub const RTCP_FEEDBACK: [(&str, &str); 4] = [
    ("goog-remb", ""),
    ("ccm", "fir"),
    ("nack", ""),
    ("nack", "pli"),
];

/// The H.264 `a=fmtp` line both sides use: constrained baseline level 3.1 in packetization mode 1
/// (what the encoder produces and aiortc answers).
pub const H264_FMTP: &str =
    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";

/// The two codecs Scope servers negotiate (aiortc answers VP8 and H264).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Codec {
    /// libvpx; what the Scope web UI forces and the faster path on the real server.
    #[default]
    Vp8,
    /// openh264, constrained baseline.
    H264,
}

impl Codec {
    /// The RTP/SDP MIME type (`video/VP8`, `video/H264`).
    pub fn mime_type(self) -> &'static str {
        match self {
            Codec::Vp8 => "video/VP8",
            Codec::H264 => "video/H264",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::Vp8 => "VP8",
            Codec::H264 => "H264",
        })
    }
}

enum EncoderInner {
    Vp8(Vp8Encoder),
    H264(Box<openh264::encoder::Encoder>),
}

/// A real-time video encoder. Each [`Encoder::encode`] call returns one complete frame: a VP8
/// frame, or an H.264 Annex-B access unit (with SPS/PPS before every IDR).
///
/// Frames of a different size than the current one re-create the codec at the new size and start
/// with a keyframe, so a sender can follow size changes without renegotiation. A keyframe is also
/// emitted at least every 2 seconds (`2 × fps` frames) so receivers that missed one recover.
pub struct Encoder {
    codec: Codec,
    fps: u32,
    bitrate_kbps: u32,
    width: u32,
    height: u32,
    inner: EncoderInner,
    frames: u64,
}

fn check_size(codec: Codec, width: u32, height: u32) -> Result<(), MediaError> {
    let reason = if width == 0 || height == 0 {
        Some("width and height must be non-zero")
    } else if width > 8192 || height > 8192 {
        Some("width and height must be at most 8192")
    } else if codec == Codec::H264 && (!width.is_multiple_of(2) || !height.is_multiple_of(2)) {
        Some("openh264 needs even width and height (scale or crop to an even size first)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(MediaError::BadSize {
            codec,
            width,
            height,
            reason,
        }),
        None => Ok(()),
    }
}

fn h264_error(operation: &'static str, err: openh264::Error) -> MediaError {
    MediaError::Codec {
        codec: Codec::H264,
        operation,
        detail: err.to_string(),
    }
}

impl Encoder {
    /// Creates an encoder for `width`×`height` at `fps` and a target of `bitrate_kbps`.
    /// VP8 accepts any size from 1×1; H.264 needs even sizes.
    pub fn new(
        codec: Codec,
        width: u32,
        height: u32,
        fps: u32,
        bitrate_kbps: u32,
    ) -> Result<Self, MediaError> {
        let fps = fps.clamp(1, 240);
        let inner = Self::make(codec, width, height, fps, bitrate_kbps)?;
        Ok(Encoder {
            codec,
            fps,
            bitrate_kbps,
            width,
            height,
            inner,
            frames: 0,
        })
    }

    fn make(
        codec: Codec,
        width: u32,
        height: u32,
        fps: u32,
        bitrate_kbps: u32,
    ) -> Result<EncoderInner, MediaError> {
        check_size(codec, width, height)?;
        let keyframe_interval = fps * 2;
        match codec {
            Codec::Vp8 => Ok(EncoderInner::Vp8(Vp8Encoder::new(
                width,
                height,
                fps,
                bitrate_kbps,
                keyframe_interval,
            )?)),
            Codec::H264 => {
                let config = EncoderConfig::new()
                    .bitrate(BitRate::from_bps(bitrate_kbps.max(50).saturating_mul(1000)))
                    .max_frame_rate(FrameRate::from_hz(fps as f32))
                    .rate_control_mode(RateControlMode::Bitrate)
                    .usage_type(UsageType::CameraVideoRealTime)
                    .profile(Profile::Baseline)
                    .skip_frames(false)
                    .debug(false)
                    .intra_frame_period(IntraFramePeriod::from_num_frames(keyframe_interval));
                let encoder =
                    openh264::encoder::Encoder::with_api_config(OpenH264API::from_source(), config)
                        .map_err(|e| h264_error("encoder init", e))?;
                Ok(EncoderInner::H264(Box::new(encoder)))
            }
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The size of the last encoded (or configured) picture.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Encodes one frame (RGBA8 or I420). `force_keyframe` makes it a keyframe (answer to a PLI).
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
        force_keyframe: bool,
    ) -> Result<Vec<u8>, MediaError> {
        frame.check()?;
        let mut force_keyframe = force_keyframe;
        if (frame.width, frame.height) != (self.width, self.height) {
            self.inner = Self::make(
                self.codec,
                frame.width,
                frame.height,
                self.fps,
                self.bitrate_kbps,
            )?;
            self.width = frame.width;
            self.height = frame.height;
            self.frames = 0;
            force_keyframe = true;
        }
        let i420 = frame.to_i420()?;
        let out = match &mut self.inner {
            EncoderInner::Vp8(enc) => {
                debug_assert_eq!(enc.size(), (self.width, self.height));
                enc.encode(&i420.data, force_keyframe || self.frames == 0)?
            }
            EncoderInner::H264(enc) => {
                let (w, h) = (self.width as usize, self.height as usize);
                let (cw, ch) = chroma_size(self.width, self.height);
                let (y, uv) = i420.data.split_at(w * h);
                let (u, v) = uv.split_at(cw * ch);
                let source = YUVSlices::new((y, u, v), (w, h), (w, cw, cw));
                // The first frame is an IDR anyway, and forcing before the lazy init is a no-op.
                if force_keyframe && self.frames > 0 {
                    enc.force_intra_frame();
                }
                enc.encode(&source)
                    .map_err(|e| h264_error("encode", e))?
                    .to_vec()
            }
        };
        self.frames += 1;
        Ok(out)
    }
}

enum DecoderInner {
    Vp8(Vp8Decoder),
    H264(Box<openh264::decoder::Decoder>),
}

/// A video decoder producing RGBA8 frames (alpha 255).
///
/// Errors are per packet (a P-frame before the first keyframe, a corrupt packet): log them, keep
/// feeding packets and ask the sender for a keyframe.
pub struct Decoder {
    codec: Codec,
    inner: DecoderInner,
    seq: u64,
}

impl Decoder {
    pub fn new(codec: Codec) -> Result<Self, MediaError> {
        let inner = match codec {
            Codec::Vp8 => DecoderInner::Vp8(Vp8Decoder::new()?),
            Codec::H264 => DecoderInner::H264(Box::new(
                openh264::decoder::Decoder::new().map_err(|e| h264_error("decoder init", e))?,
            )),
        };
        Ok(Decoder {
            codec,
            inner,
            seq: 0,
        })
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Decodes one VP8 frame or H.264 Annex-B access unit into RGBA8. `Ok(None)` means the codec
    /// needs more data before it can show a picture. The returned frame's `captured` is zero and
    /// `seq` counts decoded pictures; callers stamp them with their own clock.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<VideoFrame>, MediaError> {
        match self.decode_i420(data)? {
            Some(frame) => Ok(Some(frame.to_rgba()?)),
            None => Ok(None),
        }
    }

    /// Like [`Decoder::decode`] but returns the codec's own I420 picture (tightly packed), which
    /// skips the colour conversion: a relay can hand it straight back to an [`Encoder`], and a
    /// renderer can convert on the GPU.
    pub fn decode_i420(&mut self, data: &[u8]) -> Result<Option<VideoFrame>, MediaError> {
        let picture = match &mut self.inner {
            DecoderInner::Vp8(dec) => dec.decode(data)?,
            DecoderInner::H264(dec) => {
                match dec.decode(data).map_err(|e| h264_error("decode", e))? {
                    None => None,
                    Some(yuv) => {
                        let (w, h) = yuv.dimensions();
                        let (sy, su, sv) = yuv.strides();
                        let (w32, h32) = (w as u32, h as u32);
                        Some((
                            w32,
                            h32,
                            pack_i420((yuv.y(), sy), (yuv.u(), su), (yuv.v(), sv), w32, h32),
                        ))
                    }
                }
            }
        };
        Ok(picture.map(|(width, height, i420)| {
            self.seq += 1;
            VideoFrame {
                width,
                height,
                format: PixelFormat::I420,
                data: Arc::new(i420),
                captured: Duration::ZERO,
                seq: self.seq,
            }
        }))
    }
}
