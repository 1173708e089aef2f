//! VP8 through libvpx's C API (`vpx_sys`). The only module of this crate with `unsafe`.
//!
//! Why raw FFI: `vpx-encode` hard-codes 8 encoder threads, has no speed control and no keyframe
//! forcing, and no safe VP8 *decoder* crate builds against Debian's libvpx. Every `unsafe` block
//! below calls libvpx with a context this module owns exclusively and buffers whose lengths were
//! checked by the safe caller.
#![allow(
    unsafe_code,
    reason = "libvpx FFI: the safe VP8 encoder/decoder wrappers live here"
)]

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_uint};
use std::ptr;

use vpx_sys::{
    VPX_DECODER_ABI_VERSION, VPX_DL_REALTIME, VPX_EFLAG_FORCE_KF, VPX_ENCODER_ABI_VERSION,
    VPX_ERROR_RESILIENT_DEFAULT, vp8e_enc_control_id::VP8E_SET_CPUUSED, vpx_codec_ctx_t,
    vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT, vpx_codec_dec_cfg_t, vpx_codec_enc_cfg_t,
    vpx_codec_err_t, vpx_codec_iter_t, vpx_image_t, vpx_img_fmt, vpx_kf_mode, vpx_rc_mode,
};

use crate::codec::Codec;
use crate::convert::{chroma_size, pack_i420};
use crate::error::MediaError;

fn error(
    operation: &'static str,
    err: vpx_codec_err_t,
    ctx: Option<&mut vpx_codec_ctx_t>,
) -> MediaError {
    // SAFETY: libvpx returns pointers to static NUL-terminated strings (or NULL for no detail).
    let mut detail = unsafe { CStr::from_ptr(vpx_sys::vpx_codec_err_to_string(err)) }
        .to_string_lossy()
        .into_owned();
    if let Some(ctx) = ctx {
        // SAFETY: ctx is an initialised context owned by the caller.
        let extra = unsafe { vpx_sys::vpx_codec_error_detail(ctx) };
        if !extra.is_null() {
            // SAFETY: non-NULL detail strings are NUL-terminated and live as long as ctx.
            let extra = unsafe { CStr::from_ptr(extra) }.to_string_lossy();
            detail = format!("{detail} ({extra})");
        }
    }
    MediaError::Codec {
        codec: Codec::Vp8,
        operation,
        detail,
    }
}

/// A libvpx VP8 encoder for one picture size.
pub(crate) struct Vp8Encoder {
    ctx: Box<vpx_codec_ctx_t>,
    width: u32,
    height: u32,
    pts: i64,
}

// SAFETY: the libvpx context is plain heap state with no thread affinity; `&mut self` on every
// call guarantees exclusive access.
unsafe impl Send for Vp8Encoder {}

impl Vp8Encoder {
    /// Real-time, one pass, CBR, no lag (each `encode` returns its own frame), error resilient
    /// (RTP may lose packets), a keyframe at least every `keyframe_interval` frames.
    pub(crate) fn new(
        width: u32,
        height: u32,
        fps: u32,
        bitrate_kbps: u32,
        keyframe_interval: u32,
    ) -> Result<Self, MediaError> {
        let mut cfg = MaybeUninit::<vpx_codec_enc_cfg_t>::zeroed();
        // SAFETY: fills the whole config struct with libvpx defaults.
        let err = unsafe {
            vpx_sys::vpx_codec_enc_config_default(vpx_sys::vpx_codec_vp8_cx(), cfg.as_mut_ptr(), 0)
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(error("config", err, None));
        }
        // SAFETY: initialised by vpx_codec_enc_config_default above.
        let mut cfg = unsafe { cfg.assume_init() };
        cfg.g_w = width;
        cfg.g_h = height;
        cfg.g_threads = 1;
        cfg.g_timebase.num = 1;
        cfg.g_timebase.den = fps.max(1) as c_int;
        cfg.g_lag_in_frames = 0;
        cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
        cfg.rc_end_usage = vpx_rc_mode::VPX_CBR;
        cfg.rc_target_bitrate = bitrate_kbps.max(50);
        cfg.rc_dropframe_thresh = 0;
        cfg.rc_min_quantizer = 4;
        cfg.rc_max_quantizer = 56;
        cfg.kf_mode = vpx_kf_mode::VPX_KF_AUTO;
        cfg.kf_min_dist = 0;
        cfg.kf_max_dist = keyframe_interval.max(1);

        let mut ctx: Box<vpx_codec_ctx_t> = Box::new(
            // SAFETY: an all-zero context is the documented "not yet initialised" state.
            unsafe { MaybeUninit::zeroed().assume_init() },
        );
        // SAFETY: ctx and cfg are valid; the ABI version matches the bindings.
        let err = unsafe {
            vpx_sys::vpx_codec_enc_init_ver(
                &mut *ctx,
                vpx_sys::vpx_codec_vp8_cx(),
                &cfg,
                0,
                VPX_ENCODER_ABI_VERSION as c_int,
            )
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(error("encoder init", err, Some(&mut *ctx)));
        }
        let encoder = Vp8Encoder {
            ctx,
            width,
            height,
            pts: 0,
        };
        let mut encoder = encoder;
        // Speed 8 of 16 in real-time mode: ~3× faster than the default at a small quality cost.
        // SAFETY: VP8E_SET_CPUUSED takes one int argument.
        let err = unsafe {
            vpx_sys::vpx_codec_control_(&mut *encoder.ctx, VP8E_SET_CPUUSED as c_int, 8 as c_int)
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(error("set cpu-used", err, Some(&mut *encoder.ctx)));
        }
        Ok(encoder)
    }

    pub(crate) fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Encodes one tightly packed I420 picture of this encoder's size into one VP8 frame.
    pub(crate) fn encode(
        &mut self,
        i420: &[u8],
        force_keyframe: bool,
    ) -> Result<Vec<u8>, MediaError> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cw, ch) = chroma_size(self.width, self.height);
        if i420.len() != w * h + 2 * cw * ch {
            return Err(MediaError::BadBuffer {
                format: "I420",
                width: self.width,
                height: self.height,
                expected: w * h + 2 * cw * ch,
                actual: i420.len(),
            });
        }
        let mut img = MaybeUninit::<vpx_image_t>::zeroed();
        let data = i420.as_ptr().cast_mut();
        // SAFETY: wraps (does not copy or free) our buffer; libvpx only reads it during encode.
        let wrapped = unsafe {
            vpx_sys::vpx_img_wrap(
                img.as_mut_ptr(),
                vpx_img_fmt::VPX_IMG_FMT_I420,
                self.width as c_uint,
                self.height as c_uint,
                1,
                data,
            )
        };
        if wrapped.is_null() {
            return Err(MediaError::Codec {
                codec: Codec::Vp8,
                operation: "wrap image",
                detail: "vpx_img_wrap returned NULL".into(),
            });
        }
        // SAFETY: vpx_img_wrap initialised img.
        let mut img = unsafe { img.assume_init() };
        // libvpx aligns odd sizes up when computing plane offsets; point at our packed planes.
        // SAFETY: offsets are within the length checked above.
        unsafe {
            img.planes[0] = data;
            img.planes[1] = data.add(w * h);
            img.planes[2] = data.add(w * h + cw * ch);
        }
        img.stride[0] = w as c_int;
        img.stride[1] = cw as c_int;
        img.stride[2] = cw as c_int;

        let flags = if force_keyframe {
            VPX_EFLAG_FORCE_KF as std::os::raw::c_long
        } else {
            0
        };
        // SAFETY: ctx is initialised; img points at a buffer that outlives this call.
        let err = unsafe {
            vpx_sys::vpx_codec_encode(
                &mut *self.ctx,
                &img,
                self.pts,
                1,
                flags,
                VPX_DL_REALTIME as std::os::raw::c_ulong,
            )
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(error("encode", err, Some(&mut *self.ctx)));
        }
        self.pts += 1;

        let mut out = Vec::new();
        let mut iter: vpx_codec_iter_t = ptr::null();
        loop {
            // SAFETY: iterates packets owned by ctx; valid until the next encode call.
            let pkt = unsafe { vpx_sys::vpx_codec_get_cx_data(&mut *self.ctx, &mut iter) };
            if pkt.is_null() {
                break;
            }
            // SAFETY: non-NULL packet pointer from libvpx.
            let pkt = unsafe { &*pkt };
            if pkt.kind == VPX_CODEC_CX_FRAME_PKT {
                // SAFETY: frame packets carry buf/sz describing a readable byte range.
                let frame = unsafe { pkt.data.frame };
                // SAFETY: as above.
                let bytes = unsafe {
                    std::slice::from_raw_parts(frame.buf.cast::<u8>(), frame.sz as usize)
                };
                out.extend_from_slice(bytes);
            }
        }
        Ok(out)
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: ctx was initialised in new() and is destroyed exactly once.
        unsafe {
            vpx_sys::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}

/// A libvpx VP8 decoder producing RGBA8.
pub(crate) struct Vp8Decoder {
    ctx: Box<vpx_codec_ctx_t>,
}

// SAFETY: same reasoning as for Vp8Encoder.
unsafe impl Send for Vp8Decoder {}

impl Vp8Decoder {
    pub(crate) fn new() -> Result<Self, MediaError> {
        let mut ctx: Box<vpx_codec_ctx_t> = Box::new(
            // SAFETY: an all-zero context is the documented "not yet initialised" state.
            unsafe { MaybeUninit::zeroed().assume_init() },
        );
        let cfg = vpx_codec_dec_cfg_t {
            threads: 1,
            w: 0,
            h: 0,
        };
        // SAFETY: ctx and cfg are valid; the ABI version matches the bindings.
        let err = unsafe {
            vpx_sys::vpx_codec_dec_init_ver(
                &mut *ctx,
                vpx_sys::vpx_codec_vp8_dx(),
                &cfg,
                0,
                VPX_DECODER_ABI_VERSION as c_int,
            )
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(error("decoder init", err, Some(&mut *ctx)));
        }
        Ok(Vp8Decoder { ctx })
    }

    /// Decodes one VP8 frame; returns `(width, height, packed I420)` of the last picture it produced.
    pub(crate) fn decode(
        &mut self,
        data: &[u8],
    ) -> Result<Option<(u32, u32, Vec<u8>)>, MediaError> {
        if data.is_empty() {
            return Ok(None);
        }
        let len = c_uint::try_from(data.len()).map_err(|_| MediaError::Codec {
            codec: Codec::Vp8,
            operation: "decode",
            detail: format!("frame of {} bytes is too large", data.len()),
        })?;
        // SAFETY: ctx is initialised; data is a valid slice for the call's duration.
        let err = unsafe {
            vpx_sys::vpx_codec_decode(&mut *self.ctx, data.as_ptr(), len, ptr::null_mut(), 0)
        };
        if err != vpx_codec_err_t::VPX_CODEC_OK {
            return Err(error("decode", err, Some(&mut *self.ctx)));
        }
        let mut result = None;
        let mut iter: vpx_codec_iter_t = ptr::null();
        loop {
            // SAFETY: iterates images owned by ctx; valid until the next decode call.
            let img = unsafe { vpx_sys::vpx_codec_get_frame(&mut *self.ctx, &mut iter) };
            if img.is_null() {
                break;
            }
            // SAFETY: non-NULL image from libvpx.
            let img = unsafe { &*img };
            if img.fmt != vpx_img_fmt::VPX_IMG_FMT_I420 || img.planes[0].is_null() {
                return Err(MediaError::Codec {
                    codec: Codec::Vp8,
                    operation: "decode",
                    detail: format!("unexpected image format {:?}", img.fmt),
                });
            }
            let (w, h) = (img.d_w, img.d_h);
            let (_, ch) = chroma_size(w, h);
            let strides = [
                img.stride[0] as usize,
                img.stride[1] as usize,
                img.stride[2] as usize,
            ];
            // SAFETY: libvpx planes hold at least stride×rows bytes for the displayed size.
            let (y, u, v) = unsafe {
                (
                    std::slice::from_raw_parts(img.planes[0], strides[0] * h as usize),
                    std::slice::from_raw_parts(img.planes[1], strides[1] * ch),
                    std::slice::from_raw_parts(img.planes[2], strides[2] * ch),
                )
            };
            let i420 = pack_i420((y, strides[0]), (u, strides[1]), (v, strides[2]), w, h);
            result = Some((w, h, i420));
        }
        Ok(result)
    }
}

impl Drop for Vp8Decoder {
    fn drop(&mut self) {
        // SAFETY: ctx was initialised in new() and is destroyed exactly once.
        unsafe {
            vpx_sys::vpx_codec_destroy(&mut *self.ctx);
        }
    }
}
