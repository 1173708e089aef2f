//! Everything that touches the `webrtc` crate (0.17.2) lives here, so a later move to the 0.2x
//! line stays contained. One [`Session`] = one peer connection = one Scope session.
//!
//! Offer shape (`docs/scope-api.md` §2): a `sendrecv` video m-line first (our track, one codec
//! registered so the server cannot pick another), then the data channel, created before
//! `createOffer`. The encoder and decoder run on two named threads per session, never on the
//! tokio runtime.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};
use media::{Codec, Decoder, Encoder, VideoFrame};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MIME_TYPE_H264, MIME_TYPE_VP8, MediaEngine};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::data_channel::RTCDataChannel;
use webrtc::data_channel::data_channel_init::RTCDataChannelInit;
use webrtc::data_channel::data_channel_message::DataChannelMessage;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::interceptor::registry::Registry;
use webrtc::media::Sample;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp::codecs::h264::H264Packet;
use webrtc::rtp::codecs::vp8::Vp8Packet;
use webrtc::rtp::packetizer::Depacketizer;
use webrtc::rtp_transceiver::RTCPFeedback;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType,
};
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;
use webrtc::track::track_remote::TrackRemote;

use crate::error::{Result, ScopeError};
use crate::rest::{IceCandidate, OfferRequest, RestClient};
use crate::shared::Shared;
use crate::stats::dither_ticks;

/// RTP video clock.
const CLOCK: f64 = 90_000.0;

/// What a session needs to know at start.
#[derive(Debug, Clone)]
pub(crate) struct SessionSpec {
    pub codec: Codec,
    pub trickle: bool,
    pub initial_parameters: Map<String, Value>,
    pub fps: u32,
    pub bitrate_kbps: u32,
    pub keyframe_interval: Duration,
    /// Gathering timeout for a complete (non-trickle) offer.
    pub gather_timeout: Duration,
}

/// Things a session reports to the worker.
#[derive(Debug)]
pub(crate) enum SessionEvent {
    /// The peer connection failed or closed: the session is dead.
    Closed(String),
    /// A text message from the server on the data channel.
    Message(String),
    /// Our data channel opened: parameter updates may go out.
    ChannelOpen,
    /// A codec error worth surfacing (rate-limited by the threads).
    Error(String),
}

/// One live Scope session.
pub(crate) struct Session {
    pub id: String,
    pc: Arc<RTCPeerConnection>,
    dc: Arc<RTCDataChannel>,
    rest: Arc<RestClient>,
    alive: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    pub events: mpsc::Receiver<SessionEvent>,
}

fn rtc_err(url: &str, e: impl std::fmt::Display) -> ScopeError {
    ScopeError::Webrtc {
        url: url.to_owned(),
        reason: e.to_string(),
    }
}

/// True when the server host is this machine: gather loopback candidates only (fast, and the
/// only ones that work in a sandbox).
fn is_loopback_url(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let host_port = rest.split('/').next().unwrap_or("");
    let host = if let Some(stripped) = host_port.strip_prefix('[') {
        stripped.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// ICE settings for a server at `url`. mDNS is off: Scope answers with plain IP candidates and
/// never sends `.local` ones, so the multicast socket (224.0.0.251:5353 on every interface) would
/// only add traffic and a firewall prompt. For a loopback server only loopback host candidates
/// are gathered.
fn setting_engine(url: &str) -> SettingEngine {
    let mut setting = SettingEngine::default();
    setting.set_network_types(vec![NetworkType::Udp4]);
    setting.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    if is_loopback_url(url) {
        setting.set_include_loopback_candidate(true);
        setting.set_ip_filter(Box::new(|ip: IpAddr| ip.is_loopback()));
    }
    setting
}

fn codec_parameters(codec: Codec) -> RTCRtpCodecParameters {
    let feedback = media::RTCP_FEEDBACK.map(|(typ, parameter)| RTCPFeedback {
        typ: typ.into(),
        parameter: parameter.into(),
    });
    match codec {
        Codec::Vp8 => RTCRtpCodecParameters {
            capability: RTCRtpCodecCapability {
                mime_type: MIME_TYPE_VP8.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: feedback.to_vec(),
            },
            payload_type: 96,
            ..Default::default()
        },
        Codec::H264 => RTCRtpCodecParameters {
            capability: RTCRtpCodecCapability {
                mime_type: MIME_TYPE_H264.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: media::H264_FMTP.into(),
                rtcp_feedback: feedback.to_vec(),
            },
            payload_type: 102,
            ..Default::default()
        },
    }
}

impl Session {
    /// Creates the peer connection, offers, applies the answer and starts the media threads.
    /// Every step is bounded by the REST client's timeout or `spec.gather_timeout`.
    pub async fn connect(
        rest: Arc<RestClient>,
        spec: SessionSpec,
        shared: Arc<Shared>,
        frames_in: Receiver<VideoFrame>,
    ) -> Result<Session> {
        let url = rest.base().to_owned();
        let mut media_engine = MediaEngine::default();
        media_engine
            .register_codec(codec_parameters(spec.codec), RTPCodecType::Video)
            .map_err(|e| rtc_err(&url, e))?;
        let registry = register_default_interceptors(Registry::new(), &mut media_engine)
            .map_err(|e| rtc_err(&url, e))?;
        let setting = setting_engine(&url);
        let api = APIBuilder::new()
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_setting_engine(setting)
            .build();
        // No STUN/TURN: Scope servers are reached on a LAN or loopback; host candidates suffice
        // and a public STUN server would only slow gathering down offline.
        let pc = Arc::new(
            api.new_peer_connection(RTCConfiguration::default())
                .await
                .map_err(|e| rtc_err(&url, e))?,
        );
        match Self::negotiate(&pc, rest.clone(), spec, shared, frames_in).await {
            Ok(session) => Ok(session),
            Err(e) => {
                let _ = pc.close().await;
                Err(e)
            }
        }
    }

    async fn negotiate(
        pc: &Arc<RTCPeerConnection>,
        rest: Arc<RestClient>,
        spec: SessionSpec,
        shared: Arc<Shared>,
        frames_in: Receiver<VideoFrame>,
    ) -> Result<Session> {
        let url = rest.base().to_owned();
        let (ev_tx, ev_rx) = mpsc::channel::<SessionEvent>(64);
        let alive = Arc::new(AtomicBool::new(true));
        let connected = Arc::new(AtomicBool::new(false));
        let keyframe_wanted = Arc::new(AtomicBool::new(false));
        let runtime = tokio::runtime::Handle::current();

        // Video first: add_track makes a sendrecv transceiver, the m-line Scope requires.
        let track = Arc::new(TrackLocalStaticSample::new(
            codec_parameters(spec.codec).capability,
            "video".to_owned(),
            "metadj-scope".to_owned(),
        ));
        let sender = pc
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>)
            .await
            .map_err(|e| rtc_err(&url, e))?;

        // PLI/FIR from the server ⇒ next encoded frame is a keyframe.
        {
            let keyframe_wanted = keyframe_wanted.clone();
            let alive = alive.clone();
            tokio::spawn(async move {
                while alive.load(Ordering::Relaxed) {
                    let Ok((packets, _)) = sender.read_rtcp().await else {
                        break;
                    };
                    for p in packets {
                        let any = p.as_any();
                        if any.downcast_ref::<PictureLossIndication>().is_some()
                            || any.downcast_ref::<FullIntraRequest>().is_some()
                        {
                            keyframe_wanted.store(true, Ordering::Relaxed);
                        }
                    }
                }
            });
        }

        let dc = pc
            .create_data_channel(
                "parameters",
                Some(RTCDataChannelInit {
                    ordered: Some(true),
                    ..Default::default()
                }),
            )
            .await
            .map_err(|e| rtc_err(&url, e))?;
        {
            let tx = ev_tx.clone();
            dc.on_open(Box::new(move || {
                let _ = tx.try_send(SessionEvent::ChannelOpen);
                Box::pin(async {})
            }));
            let tx = ev_tx.clone();
            dc.on_message(Box::new(move |msg: DataChannelMessage| {
                if msg.is_string {
                    let text = String::from_utf8_lossy(&msg.data).into_owned();
                    let _ = tx.try_send(SessionEvent::Message(text));
                }
                Box::pin(async {})
            }));
        }

        {
            let tx = ev_tx.clone();
            let connected = connected.clone();
            pc.on_peer_connection_state_change(Box::new(move |state: RTCPeerConnectionState| {
                match state {
                    RTCPeerConnectionState::Connected => connected.store(true, Ordering::Relaxed),
                    // `Disconnected` may recover by itself; the watchdog covers it if not.
                    RTCPeerConnectionState::Disconnected => {
                        connected.store(false, Ordering::Relaxed)
                    }
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        connected.store(false, Ordering::Relaxed);
                        let _ =
                            tx.try_send(SessionEvent::Closed(format!("peer connection {state}")));
                    }
                    _ => {}
                }
                Box::pin(async {})
            }));
        }

        // Receive path: RTP → frame assembler (async task) → decoder thread.
        let (sample_tx, sample_rx) = crossbeam_channel::bounded::<(Bytes, u32)>(30);
        let mut threads = Vec::new();
        {
            let pc_weak = Arc::downgrade(pc);
            let alive = alive.clone();
            let shared = shared.clone();
            let keyframe_request = Arc::new(AtomicBool::new(false));
            let codec = spec.codec;
            let tx = ev_tx.clone();
            let decoder_keyframe_request = keyframe_request.clone();
            let decoder_alive = alive.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("scope-decode".into())
                    .spawn(move || {
                        decode_loop(
                            codec,
                            sample_rx,
                            shared,
                            decoder_alive,
                            decoder_keyframe_request,
                            tx,
                        )
                    })
                    .map_err(|e| rtc_err(&url, e))?,
            );
            pc.on_track(Box::new(move |remote: Arc<TrackRemote>, _, _| {
                let alive = alive.clone();
                let sample_tx = sample_tx.clone();
                let keyframe_request = keyframe_request.clone();
                let pc_weak = pc_weak.clone();
                Box::pin(async move {
                    if remote.kind() != RTPCodecType::Video {
                        return;
                    }
                    tokio::spawn(read_track(
                        remote,
                        sample_tx,
                        alive,
                        keyframe_request,
                        pc_weak,
                    ));
                })
            }));
        }

        // Send path: encoder thread, started now, sends only once the connection is up.
        {
            let enc = EncodeCtx {
                codec: spec.codec,
                fps: spec.fps,
                bitrate_kbps: spec.bitrate_kbps,
                keyframe_interval: spec.keyframe_interval,
                track,
                runtime: runtime.clone(),
                frames: frames_in,
                shared: shared.clone(),
                alive: alive.clone(),
                connected: connected.clone(),
                keyframe_wanted,
                events: ev_tx.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name("scope-encode".into())
                    .spawn(move || enc.run())
                    .map_err(|e| rtc_err(&url, e))?,
            );
        }

        let session = Session {
            id: String::new(),
            pc: pc.clone(),
            dc,
            rest: rest.clone(),
            alive,
            threads,
            events: ev_rx,
        };
        session.offer(spec).await
    }

    /// Offer/answer exchange, complete or trickled.
    async fn offer(mut self, spec: SessionSpec) -> Result<Session> {
        let url = self.rest.base().to_owned();
        let (cand_tx, mut cand_rx) = mpsc::unbounded_channel::<IceCandidate>();
        if spec.trickle {
            self.pc.on_ice_candidate(Box::new(move |c| {
                if let Some(c) = c.and_then(|c| c.to_json().ok()) {
                    let candidate = if c.candidate.starts_with("candidate:") {
                        c.candidate
                    } else {
                        format!("candidate:{}", c.candidate)
                    };
                    let _ = cand_tx.send(IceCandidate {
                        candidate,
                        sdp_mid: c.sdp_mid,
                        sdp_mline_index: c.sdp_mline_index,
                    });
                }
                Box::pin(async {})
            }));
        }
        let offer = self
            .pc
            .create_offer(None)
            .await
            .map_err(|e| rtc_err(&url, e))?;
        let mut gathered = self.pc.gathering_complete_promise().await;
        self.pc
            .set_local_description(offer)
            .await
            .map_err(|e| rtc_err(&url, e))?;
        if !spec.trickle
            && tokio::time::timeout(spec.gather_timeout, gathered.recv())
                .await
                .is_err()
        {
            return Err(rtc_err(
                &url,
                format!("ICE gathering not complete after {:?}", spec.gather_timeout),
            ));
        }
        let local = self
            .pc
            .local_description()
            .await
            .ok_or_else(|| rtc_err(&url, "no local description after set_local_description"))?;
        let answer = self
            .rest
            .offer(&OfferRequest {
                sdp: local.sdp,
                kind: "offer".into(),
                initial_parameters: spec.initial_parameters,
            })
            .await?;
        self.id = answer.session_id.clone();
        if spec.trickle {
            // Flush what was gathered so far before the answer (as the web UI does), then keep
            // PATCHing the rest in the background until gathering completes.
            let mut first = Vec::new();
            while let Ok(c) = cand_rx.try_recv() {
                first.push(c);
            }
            if !first.is_empty() {
                self.rest.patch_candidates(&self.id, &first).await?;
            }
            let rest = self.rest.clone();
            let id = self.id.clone();
            tokio::spawn(async move {
                while let Some(c) = cand_rx.recv().await {
                    if let Err(e) = rest.patch_candidates(&id, &[c]).await {
                        tracing::warn!("trickle ICE: {e}");
                    }
                }
            });
        }
        let desc = RTCSessionDescription::answer(answer.sdp).map_err(|e| ScopeError::BadSdp {
            url: format!("{url}/api/v1/webrtc/offer"),
            reason: e.to_string(),
        })?;
        if let Err(e) = self.pc.set_remote_description(desc).await {
            let _ = self.rest.delete_session(&self.id).await;
            return Err(ScopeError::BadSdp {
                url: format!("{url}/api/v1/webrtc/offer"),
                reason: e.to_string(),
            });
        }
        Ok(self)
    }

    /// Sends one JSON object on the data channel.
    pub async fn send_parameters(&self, update: &Map<String, Value>) -> Result<()> {
        let text = Value::Object(update.clone()).to_string();
        self.dc
            .send_text(text)
            .await
            .map(|_| ())
            .map_err(|e| rtc_err(self.rest.base(), e))
    }

    /// Clean stop: `DELETE` the session (bounded by the REST timeout), close the peer
    /// connection, join the codec threads.
    pub async fn close(mut self, delete: bool) {
        self.alive.store(false, Ordering::Relaxed);
        if delete
            && !self.id.is_empty()
            && let Err(e) = self.rest.delete_session(&self.id).await
        {
            tracing::debug!("DELETE session {}: {e}", self.id);
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), self.pc.close()).await;
        let threads = std::mem::take(&mut self.threads);
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
    }
}

/// Reads RTP from the server's track, assembles whole frames and hands them to the decoder.
/// Sends a PLI when the decoder asks for a keyframe (at most every 300 ms).
async fn read_track(
    remote: Arc<TrackRemote>,
    samples: Sender<(Bytes, u32)>,
    alive: Arc<AtomicBool>,
    keyframe_request: Arc<AtomicBool>,
    pc: std::sync::Weak<RTCPeerConnection>,
) {
    let mime = remote.codec().capability.mime_type.to_ascii_lowercase();
    let mut assembler = if mime == MIME_TYPE_H264.to_ascii_lowercase() {
        FrameAssembler::new(Box::new(H264Packet::default()))
    } else {
        FrameAssembler::new(Box::new(Vp8Packet::default()))
    };
    let mut last_pli = Instant::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or_else(Instant::now);
    while alive.load(Ordering::Relaxed) {
        let packet = match tokio::time::timeout(Duration::from_millis(200), remote.read_rtp()).await
        {
            Ok(Ok((p, _))) => p,
            Ok(Err(_)) => break,
            Err(_) => continue,
        };
        let (frame, lost) = assembler.push(&packet);
        if lost {
            keyframe_request.store(true, Ordering::Relaxed);
        }
        if let Some(frame) = frame
            && let Err(TrySendError::Full(_)) = samples.try_send(frame)
        {
            keyframe_request.store(true, Ordering::Relaxed);
        }
        if keyframe_request.load(Ordering::Relaxed)
            && last_pli.elapsed() > Duration::from_millis(300)
        {
            keyframe_request.store(false, Ordering::Relaxed);
            last_pli = Instant::now();
            if let Some(pc) = pc.upgrade() {
                let pli = PictureLossIndication {
                    sender_ssrc: 0,
                    media_ssrc: remote.ssrc(),
                };
                let _ = pc.write_rtcp(&[Box::new(pli)]).await;
            }
        }
    }
}

/// Collects the RTP packets of one frame (same timestamp) and emits the depacketized frame as
/// soon as the marker packet closes a gap-free run. Unlike `SampleBuilder` it does not wait for
/// the next frame's first packet, which would add a whole frame interval of latency.
struct FrameAssembler {
    depacketizer: Box<dyn Depacketizer + Send>,
    timestamp: Option<u32>,
    packets: Vec<(u16, Bytes)>,
    end_seq: Option<u16>,
}

impl FrameAssembler {
    fn new(depacketizer: Box<dyn Depacketizer + Send>) -> Self {
        FrameAssembler {
            depacketizer,
            timestamp: None,
            packets: Vec::new(),
            end_seq: None,
        }
    }

    /// Returns a finished frame (bitstream, RTP timestamp) and whether an unfinished frame was
    /// abandoned (loss: the caller should ask for a keyframe).
    fn push(&mut self, packet: &webrtc::rtp::packet::Packet) -> (Option<(Bytes, u32)>, bool) {
        let ts = packet.header.timestamp;
        let seq = packet.header.sequence_number;
        let mut lost = false;
        match self.timestamp {
            Some(cur) if cur == ts => {}
            Some(cur) if (ts.wrapping_sub(cur) as i32) < 0 => return (None, false), // late packet
            _ => {
                lost = !self.packets.is_empty();
                self.timestamp = Some(ts);
                self.packets.clear();
                self.end_seq = None;
            }
        }
        if self.packets.iter().any(|(s, _)| *s == seq) {
            return (None, lost); // duplicate (retransmission)
        }
        self.packets.push((seq, packet.payload.clone()));
        if packet.header.marker {
            self.end_seq = Some(seq);
        }
        let Some(end) = self.end_seq else {
            return (None, lost);
        };
        // Distance of each packet back from the marker packet; complete when they are 0..n.
        let span = self
            .packets
            .iter()
            .map(|(s, _)| end.wrapping_sub(*s))
            .max()
            .unwrap_or(0);
        if span >= 0x8000 || usize::from(span) + 1 != self.packets.len() {
            return (None, lost);
        }
        self.packets
            .sort_by_key(|(s, _)| std::cmp::Reverse(end.wrapping_sub(*s)));
        let packets = std::mem::take(&mut self.packets);
        self.end_seq = None;
        let head_ok = packets
            .first()
            .is_some_and(|(_, p)| self.depacketizer.is_partition_head(p));
        if !head_ok {
            return (None, true);
        }
        let mut out = Vec::new();
        for (_, payload) in &packets {
            match self.depacketizer.depacketize(payload) {
                Ok(b) => out.extend_from_slice(&b),
                Err(_) => return (None, true),
            }
        }
        if out.is_empty() {
            (None, true)
        } else {
            (Some((Bytes::from(out), ts)), lost)
        }
    }
}

/// Decoder thread: bitstream → RGBA frame → the shared "latest frame" slot.
fn decode_loop(
    codec: Codec,
    samples: Receiver<(Bytes, u32)>,
    shared: Arc<Shared>,
    alive: Arc<AtomicBool>,
    keyframe_request: Arc<AtomicBool>,
    events: mpsc::Sender<SessionEvent>,
) {
    let mut decoder = match Decoder::new(codec) {
        Ok(d) => d,
        Err(e) => {
            let _ = events.try_send(SessionEvent::Error(format!("{codec} decoder: {e}")));
            return;
        }
    };
    let mut last_error_report = Instant::now()
        .checked_sub(Duration::from_secs(10))
        .unwrap_or_else(Instant::now);
    while alive.load(Ordering::Relaxed) {
        let (data, rtp_ts) = match samples.recv_timeout(Duration::from_millis(100)) {
            Ok(s) => s,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let start = Instant::now();
        match decoder.decode(&data) {
            Ok(Some(frame)) => shared.on_decoded(frame, rtp_ts, start),
            Ok(None) => {}
            Err(e) => {
                keyframe_request.store(true, Ordering::Relaxed);
                if last_error_report.elapsed() > Duration::from_secs(5) {
                    last_error_report = Instant::now();
                    tracing::debug!("{codec} decode error (asking for a keyframe): {e}");
                }
            }
        }
    }
}

struct EncodeCtx {
    codec: Codec,
    fps: u32,
    bitrate_kbps: u32,
    keyframe_interval: Duration,
    track: Arc<TrackLocalStaticSample>,
    runtime: tokio::runtime::Handle,
    frames: Receiver<VideoFrame>,
    shared: Arc<Shared>,
    alive: Arc<AtomicBool>,
    connected: Arc<AtomicBool>,
    keyframe_wanted: Arc<AtomicBool>,
    events: mpsc::Sender<SessionEvent>,
}

impl EncodeCtx {
    /// Surfaces an encoder error at most every 5 s (a bad frame size fails every frame).
    fn report(&self, last: &mut Option<Instant>, message: String) {
        if last.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
            *last = Some(Instant::now());
            let _ = self.events.try_send(SessionEvent::Error(message));
        }
    }

    /// Encoder thread: newest app frame → encode → RTP, only while connected and not paused.
    fn run(self) {
        let mut encoder: Option<Encoder> = None;
        let mut rtp_rel: u32 = 0;
        let mut last_captured: Option<Duration> = None;
        let mut last_key = Instant::now();
        let mut seq: u64 = 0;
        let nominal = 1.0 / f64::from(self.fps.max(1));
        let mut last_error: Option<Instant> = None;
        while self.alive.load(Ordering::Relaxed) {
            if !self.connected.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            let frame = match self.frames.recv_timeout(Duration::from_millis(100)) {
                Ok(f) => f,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if self.shared.paused() {
                continue;
            }
            let taken = Instant::now();
            if encoder.is_none() {
                match Encoder::new(
                    self.codec,
                    frame.width,
                    frame.height,
                    self.fps,
                    self.bitrate_kbps,
                ) {
                    Ok(e) => encoder = Some(e),
                    Err(e) => {
                        self.report(&mut last_error, format!("{} encoder: {e}", self.codec));
                        continue;
                    }
                }
            }
            let Some(enc) = encoder.as_mut() else {
                continue;
            };
            let force = self.keyframe_wanted.swap(false, Ordering::Relaxed)
                || last_key.elapsed() >= self.keyframe_interval;
            let data = match enc.encode(&frame, force) {
                Ok(d) => d,
                Err(e) => {
                    self.report(&mut last_error, format!("{} encode: {e}", self.codec));
                    continue;
                }
            };
            if force {
                last_key = Instant::now();
            }
            let encode_time = taken.elapsed();
            // RTP duration = the real capture gap (so pacing survives the server) plus a small
            // dither that makes our timestamps identifiable on return (see `stats`).
            let gap = match last_captured {
                Some(prev)
                    if frame.captured > prev && frame.captured - prev < Duration::from_secs(1) =>
                {
                    (frame.captured - prev).as_secs_f64()
                }
                _ => nominal,
            };
            last_captured = Some(frame.captured);
            let ticks = (gap * CLOCK).round() as u64 + u64::from(dither_ticks(seq));
            // Rounded up to the next nanosecond so the packetizer's truncation gives `ticks`.
            let duration = Duration::from_nanos((ticks * 1_000_000_000).div_ceil(90_000));
            // Same arithmetic as the packetizer, so our numbering matches its timestamps.
            let advanced = (duration.as_secs_f64() * CLOCK) as u32;
            seq += 1;
            self.shared
                .on_sent(rtp_rel, frame.captured, taken, encode_time);
            let sample = Sample {
                data: Bytes::from(data),
                duration,
                ..Default::default()
            };
            if let Err(e) = self.runtime.block_on(self.track.write_sample(&sample)) {
                tracing::debug!("write_sample: {e}");
            }
            rtp_rel = rtp_rel.wrapping_add(advanced);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_url("http://127.0.0.1:8000"));
        assert!(is_loopback_url("http://localhost:8000/"));
        assert!(is_loopback_url("http://[::1]:8000"));
        assert!(!is_loopback_url("http://192.168.1.20:8000"));
    }

    /// Inodes of this process's UDP sockets bound to local port `port` (Linux `/proc`).
    fn own_udp_sockets_on(port: u16) -> Vec<String> {
        let own: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter_map(|l| {
                let l = l.to_string_lossy().into_owned();
                Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
            })
            .collect();
        let suffix = format!(":{port:04X}");
        ["/proc/self/net/udp", "/proc/self/net/udp6"]
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
            .filter_map(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                let (local, inode) = (cols.get(1)?, cols.get(9)?);
                (local.ends_with(&suffix) && own.contains(*inode)).then(|| (*inode).to_owned())
            })
            .collect()
    }

    /// A loopback offer: no mDNS socket is opened, no `.local` candidate is offered, and every
    /// host candidate is 127.0.0.1.
    #[test]
    fn loopback_offer_has_no_mdns_and_only_loopback_candidates() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (sdp, mdns_sockets) = rt.block_on(async {
            let mut media_engine = MediaEngine::default();
            media_engine
                .register_codec(codec_parameters(Codec::Vp8), RTPCodecType::Video)
                .unwrap();
            let api = APIBuilder::new()
                .with_media_engine(media_engine)
                .with_setting_engine(setting_engine("http://127.0.0.1:8000"))
                .build();
            let pc = api
                .new_peer_connection(RTCConfiguration::default())
                .await
                .unwrap();
            pc.create_data_channel("parameters", None).await.unwrap();
            let offer = pc.create_offer(None).await.unwrap();
            let mut gathered = pc.gathering_complete_promise().await;
            pc.set_local_description(offer).await.unwrap();
            let _ = tokio::time::timeout(Duration::from_secs(5), gathered.recv()).await;
            let sdp = pc.local_description().await.unwrap().sdp;
            let sockets = own_udp_sockets_on(5353);
            pc.close().await.unwrap();
            (sdp, sockets)
        });
        assert!(
            mdns_sockets.is_empty(),
            "mDNS sockets open: {mdns_sockets:?}"
        );
        let candidates: Vec<&str> = sdp
            .lines()
            .filter(|l| l.starts_with("a=candidate:"))
            .collect();
        assert!(!candidates.is_empty(), "{sdp}");
        for c in &candidates {
            let address = c.split_whitespace().nth(4).unwrap_or("");
            assert!(!address.ends_with(".local"), "mDNS candidate: {c}");
            assert_eq!(address, "127.0.0.1", "non-loopback candidate: {c}");
        }
    }

    #[test]
    fn assembles_vp8_frame_from_packets() {
        use webrtc::rtp::packet::Packet;
        let mut a = FrameAssembler::new(Box::new(Vp8Packet::default()));
        let mk = |seq: u16, ts: u32, marker: bool, first: bool, body: &[u8]| {
            let mut payload = vec![if first { 0x10 } else { 0x00 }];
            payload.extend_from_slice(body);
            let mut p = Packet::default();
            p.header.sequence_number = seq;
            p.header.timestamp = ts;
            p.header.marker = marker;
            p.payload = Bytes::from(payload);
            p
        };
        // Out of order within a frame, across the u16 wrap.
        assert!(a.push(&mk(65535, 10, false, true, b"abcd")).0.is_none());
        assert!(a.push(&mk(1, 10, true, false, b"ijkl")).0.is_none());
        let (frame, lost) = a.push(&mk(0, 10, false, false, b"efgh"));
        assert_eq!(frame, Some((Bytes::from_static(b"abcdefghijkl"), 10)));
        assert!(!lost);
        // A frame missing a packet is abandoned when the next one starts.
        assert!(a.push(&mk(2, 20, false, true, b"xxxx")).0.is_none());
        let (frame, lost) = a.push(&mk(5, 30, true, true, b"yyyy"));
        assert_eq!(frame, Some((Bytes::from_static(b"yyyy"), 30)));
        assert!(lost);
    }
}
