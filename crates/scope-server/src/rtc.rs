//! The WebRTC answerer (webrtc 0.17), the only module that touches the `webrtc` crate.
//!
//! Per session: an RTP reader task (depacketize → bounded channel), a processor thread
//! (decode → input queue of 30 → chunks of 4 → pipeline chain → output queue), and a sender
//! thread (each call's frames spread by their input timestamps, newest-wins when behind →
//! encode → `write_sample`). Codec work stays off the async runtime.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use media::{Codec, Decoder, Encoder, H264_FMTP};
use serde_json::{Map, Value, json};
use tracing::{debug, info, warn};
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MIME_TYPE_H264, MIME_TYPE_VP8, MediaEngine};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::data_channel::RTCDataChannel;
use webrtc::data_channel::data_channel_state::RTCDataChannelState;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::interceptor::registry::Registry;
use webrtc::media::Sample;
use webrtc::media::io::sample_builder::SampleBuilder;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp::codecs::h264::H264Packet;
use webrtc::rtp::codecs::h264::H264Payloader;
use webrtc::rtp::codecs::vp8::Vp8Packet;
use webrtc::rtp::codecs::vp8::Vp8Payloader;
use webrtc::rtp::packetizer::Payloader;
use webrtc::rtp_transceiver::RTCPFeedback;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType,
};
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_local::TrackLocalWriter;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_remote::TrackRemote;

use crate::pacing::{self, Paced};
use crate::params::ParamQueue;
use crate::pipeline::{
    CHUNK, INPUT_QUEUE_MAX, InputQueue, OUTPUT_QUEUE_MAX, TimedFrame, run_chain,
};
use crate::state::{Shared, lock};

/// What the offer's first video m-line asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VideoOffer {
    pub sendrecv: bool,
    pub codecs: Vec<Codec>,
}

/// Reads the first `m=video` section of an SDP offer: its direction (session-level default,
/// `sendrecv` when absent) and which of our codecs it lists.
pub(crate) fn first_video(sdp: &str) -> Option<VideoOffer> {
    let mut session_dir = "sendrecv";
    let mut in_video = false;
    let mut seen_media = false;
    let mut dir: Option<&str> = None;
    let mut codecs = Vec::new();
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            if in_video {
                break;
            }
            seen_media = true;
            in_video = m.starts_with("video");
            continue;
        }
        let direction = match line {
            "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive" => Some(&line[2..]),
            _ => None,
        };
        if !seen_media {
            if let Some(d) = direction {
                session_dir = d;
            }
        } else if in_video {
            if direction.is_some() {
                dir = direction;
            } else if let Some(map) = line.strip_prefix("a=rtpmap:") {
                let name = map
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_ascii_uppercase();
                let codec = if name.starts_with("VP8/") {
                    Some(Codec::Vp8)
                } else if name.starts_with("H264/") {
                    Some(Codec::H264)
                } else {
                    None
                };
                if let Some(c) = codec.filter(|c| !codecs.contains(c)) {
                    codecs.push(c);
                }
            }
        }
    }
    if !in_video {
        return None;
    }
    Some(VideoOffer {
        sendrecv: dir.unwrap_or(session_dir) == "sendrecv",
        codecs,
    })
}

struct EncodedInput {
    codec: Codec,
    data: Bytes,
    rtp_timestamp: u32,
}

/// One WebRTC session (one peer connection).
pub(crate) struct Session {
    pub id: String,
    pub created: Instant,
    pc: Arc<RTCPeerConnection>,
    shared: Weak<Shared>,
    /// Merged parameters (initialParameters, then data-channel and REST updates).
    pub params: Mutex<Map<String, Value>>,
    pipeline_ids: Vec<String>,
    output_enabled: bool,
    channels: Mutex<Vec<Arc<RTCDataChannel>>>,
    /// Updates not yet applied, in arrival order (data channel and REST share it so order holds).
    pending: Mutex<ParamQueue>,
    input_tx: SyncSender<EncodedInput>,
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    connected: AtomicBool,
    closed: AtomicBool,
    stop: Arc<AtomicBool>,
    /// The client asked for a keyframe (PLI/FIR).
    keyframe_wanted: AtomicBool,
    /// Our decoder failed; ask the client for a keyframe.
    remote_keyframe_needed: AtomicBool,
    /// `{"paused": true}` arrived: like Scope v0.2.4, output stops for good (docs/scope-api.md §3).
    paused: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// The answer to an offer.
pub(crate) struct Answer {
    pub sdp: String,
    pub session_id: String,
}

/// Failures while answering; all become HTTP 500 with the text as `detail`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RtcError {
    #[error("invalid SDP offer: {0}")]
    BadOffer(webrtc::Error),
    #[error("WebRTC: {0}")]
    Webrtc(#[from] webrtc::Error),
    #[error("could not start a session thread: {0}")]
    Thread(std::io::Error),
    #[error("ICE gathering did not complete")]
    Gathering,
}

fn api_for_session() -> Result<webrtc::api::API, webrtc::Error> {
    let mut m = MediaEngine::default();
    let feedback = media::RTCP_FEEDBACK.map(|(typ, parameter)| RTCPFeedback {
        typ: typ.into(),
        parameter: parameter.into(),
    });
    // Payload types as aiortc answers them: VP8 97, H264 99 and 101.
    let codecs = [
        (MIME_TYPE_VP8, "", 97),
        (
            MIME_TYPE_H264,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
            99,
        ),
        (MIME_TYPE_H264, H264_FMTP, 101),
    ];
    for (mime, fmtp, pt) in codecs {
        m.register_codec(
            RTCRtpCodecParameters {
                capability: RTCRtpCodecCapability {
                    mime_type: mime.into(),
                    clock_rate: 90000,
                    channels: 0,
                    sdp_fmtp_line: fmtp.into(),
                    rtcp_feedback: feedback.to_vec(),
                },
                payload_type: pt,
                ..Default::default()
            },
            RTPCodecType::Video,
        )?;
    }
    let registry = register_default_interceptors(Registry::new(), &mut m)?;
    let mut s = SettingEngine::default();
    // The server binds 127.0.0.1 only, so only loopback candidates make sense (and no mDNS).
    s.set_include_loopback_candidate(true);
    s.set_network_types(vec![NetworkType::Udp4]);
    s.set_ip_filter(Box::new(|ip: IpAddr| ip.is_loopback()));
    s.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    // A peer that vanishes without closing (no data channel to notice) is dropped after ~3 s of
    // silence rather than webrtc-rs's 5 s + 25 s; clients keep ICE alive with media or keepalives.
    s.set_ice_timeouts(
        Some(Duration::from_secs(3)),
        Some(Duration::from_secs(5)),
        Some(Duration::from_secs(1)),
    );
    Ok(APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(s)
        .build())
}

/// Answers an offer and starts the session. `params` are the validated `initialParameters`.
pub(crate) async fn answer_offer(
    shared: &Arc<Shared>,
    sdp: String,
    params: Map<String, Value>,
) -> Result<Answer, RtcError> {
    let offer = RTCSessionDescription::offer(sdp.clone()).map_err(RtcError::BadOffer)?;
    let video = first_video(&sdp);
    let pipeline_ids: Vec<String> = params
        .get("pipeline_ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let chain_ok = shared.chain(&pipeline_ids).is_some();
    let out_codec = video.as_ref().and_then(|v| {
        [Codec::Vp8, Codec::H264]
            .into_iter()
            .find(|c| v.codecs.contains(c))
    });
    let output_enabled =
        video.as_ref().is_some_and(|v| v.sendrecv) && chain_ok && out_codec.is_some();
    info!(
        ?video,
        ?pipeline_ids,
        output_enabled,
        "offer: output only for a sendrecv first video m-line naming loaded pipelines"
    );

    let api = api_for_session()?;
    let pc = Arc::new(api.new_peer_connection(RTCConfiguration::default()).await?);

    // Add our track before applying the offer so it binds to the first video m-line.
    let track = match (&video, out_codec) {
        (Some(_), Some(codec)) => {
            let fmtp = if codec == Codec::H264 { H264_FMTP } else { "" };
            let track = Arc::new(TrackLocalStaticRTP::new(
                RTCRtpCodecCapability {
                    mime_type: codec.mime_type().into(),
                    clock_rate: 90000,
                    channels: 0,
                    sdp_fmtp_line: fmtp.into(),
                    rtcp_feedback: vec![],
                },
                "video".into(),
                "scope".into(),
            ));
            let sender = pc
                .add_track(Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>)
                .await?;
            Some((track, sender, codec))
        }
        _ => None,
    };

    let (input_tx, input_rx) = sync_channel(CHUNK * 8);
    let session = Arc::new(Session {
        id: uuid::Uuid::new_v4().to_string(),
        created: Instant::now(),
        pc: Arc::clone(&pc),
        shared: Arc::downgrade(shared),
        params: Mutex::new(params),
        pipeline_ids,
        output_enabled,
        channels: Mutex::new(Vec::new()),
        pending: Mutex::new(ParamQueue::default()),
        input_tx,
        frames_in: AtomicU64::new(0),
        frames_out: AtomicU64::new(0),
        connected: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        stop: Arc::new(AtomicBool::new(false)),
        keyframe_wanted: AtomicBool::new(false),
        remote_keyframe_needed: AtomicBool::new(false),
        paused: AtomicBool::new(false),
        threads: Mutex::new(Vec::new()),
    });
    let short = session.id.chars().take(8).collect::<String>();

    let (out_tx, out_rx) = sync_channel::<Paced>(OUTPUT_QUEUE_MAX);
    let weak = Arc::downgrade(&session);
    let processor = std::thread::Builder::new()
        .name(format!("scope-proc-{short}"))
        .spawn({
            let weak = weak.clone();
            move || process_loop(&weak, &input_rx, &out_tx)
        })
        .map_err(RtcError::Thread)?;
    lock(&session.threads).push(processor);

    if let Some((track, sender, codec)) = track {
        let sender_thread = std::thread::Builder::new()
            .name(format!("scope-send-{short}"))
            .spawn({
                let weak = weak.clone();
                let runtime = tokio::runtime::Handle::current();
                move || send_loop(&weak, &out_rx, codec, &track, &runtime)
            })
            .map_err(RtcError::Thread)?;
        lock(&session.threads).push(sender_thread);
        // Read RTCP so PLI/FIR reach us (and the interceptors keep running).
        let weak = weak.clone();
        tokio::spawn(async move {
            while let Ok((packets, _)) = sender.read_rtcp().await {
                let wants_key = packets.iter().any(|p| {
                    p.as_any().is::<PictureLossIndication>() || p.as_any().is::<FullIntraRequest>()
                });
                match weak.upgrade() {
                    Some(s) if wants_key => s.keyframe_wanted.store(true, Ordering::Relaxed),
                    Some(_) => {}
                    None => break,
                }
            }
        });
    }

    pc.on_track(Box::new({
        let weak = weak.clone();
        move |track, _, _| {
            let weak = weak.clone();
            Box::pin(async move {
                tokio::spawn(read_track(weak, track));
            })
        }
    }));
    pc.on_data_channel(Box::new({
        let weak = weak.clone();
        move |dc| {
            let weak = weak.clone();
            Box::pin(async move {
                if let Some(s) = weak.upgrade() {
                    s.attach_channel(dc);
                }
            })
        }
    }));
    pc.on_peer_connection_state_change(Box::new({
        let weak = weak.clone();
        move |state| {
            let weak = weak.clone();
            Box::pin(async move {
                let Some(s) = weak.upgrade() else { return };
                debug!(session = %s.id, ?state, "peer connection state");
                match state {
                    RTCPeerConnectionState::Connected => s.connected.store(true, Ordering::Relaxed),
                    RTCPeerConnectionState::Closed
                    | RTCPeerConnectionState::Failed
                    | RTCPeerConnectionState::Disconnected => {
                        tokio::spawn(async move { s.close().await });
                    }
                    _ => {}
                }
            })
        }
    }));

    lock(&shared.sessions).insert(session.id.clone(), Arc::clone(&session));
    match negotiate(&pc, offer).await {
        Ok(sdp) => Ok(Answer {
            sdp,
            session_id: session.id.clone(),
        }),
        Err(e) => {
            session.close().await;
            Err(e)
        }
    }
}

async fn negotiate(
    pc: &RTCPeerConnection,
    offer: RTCSessionDescription,
) -> Result<String, RtcError> {
    pc.set_remote_description(offer)
        .await
        .map_err(RtcError::BadOffer)?;
    let answer = pc.create_answer(None).await?;
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(answer).await?;
    // Non-trickle: answer only once every candidate is in (docs/scope-api.md §2 ICE).
    tokio::time::timeout(Duration::from_secs(5), gathered.recv())
        .await
        .map_err(|_| RtcError::Gathering)?;
    let local = pc.local_description().await.ok_or(RtcError::Gathering)?;
    let mut sdp = local.sdp;
    if !sdp.contains("a=end-of-candidates") {
        sdp.push_str("a=end-of-candidates\r\n");
    }
    Ok(sdp)
}

impl Session {
    /// Adds a client candidate (trickle via PATCH). An empty candidate is the end marker.
    pub async fn add_candidate(
        &self,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_mline_index: Option<u16>,
    ) -> Result<(), String> {
        if candidate.trim().is_empty() {
            return Ok(());
        }
        if !candidate.trim_start_matches("a=").starts_with("candidate:") {
            return Err(format!("unparsable candidate {candidate:?}"));
        }
        self.pc
            .add_ice_candidate(RTCIceCandidateInit {
                candidate,
                sdp_mid,
                sdp_mline_index,
                username_fragment: None,
            })
            .await
            .map_err(|e| e.to_string())
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Ends the session: unregisters it, closes the peer connection, joins its threads.
    pub async fn close(self: Arc<Self>) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.sessions).remove(&self.id);
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Err(e) = self.pc.close().await {
            debug!(session = %self.id, "closing peer connection: {e}");
        }
        let threads: Vec<JoinHandle<()>> = lock(&self.threads).drain(..).collect();
        let joined = tokio::task::spawn_blocking(move || {
            for t in threads {
                if t.join().is_err() {
                    warn!("a session thread panicked");
                }
            }
        })
        .await;
        if joined.is_err() {
            warn!(session = %self.id, "joining session threads failed");
        }
        info!(session = %self.id, "session closed");
    }

    fn attach_channel(self: &Arc<Self>, dc: Arc<RTCDataChannel>) {
        debug!(session = %self.id, label = dc.label(), "data channel");
        let weak = Arc::downgrade(self);
        dc.on_message(Box::new(move |msg| {
            let weak = weak.clone();
            Box::pin(async move {
                if let Some(s) = weak.upgrade() {
                    s.on_message(&msg.data);
                }
            })
        }));
        // webrtc-rs does not surface the peer's DTLS close_notify as a state change, but the
        // SCTP association dies with it and closes the channel: end the session then (scope-api
        // §2: the real server ends a session within ~1 s of the client closing its connection).
        let weak = Arc::downgrade(self);
        dc.on_close(Box::new(move || {
            let weak = weak.clone();
            Box::pin(async move {
                if let Some(s) = weak.upgrade() {
                    debug!(session = %s.id, "data channel closed, ending the session");
                    tokio::spawn(async move { s.close().await });
                }
            })
        }));
        lock(&self.channels).push(dc);
    }

    /// A data-channel message: a partial JSON object, queued for the pipeline (not validated).
    fn on_message(&self, data: &[u8]) {
        let update = match serde_json::from_slice::<Value>(data) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                warn!(session = %self.id, "ignoring non-object data-channel message: {other}");
                return;
            }
            Err(e) => {
                warn!(session = %self.id, "ignoring invalid JSON on the data channel: {e}");
                return;
            }
        };
        if update.get("paused") == Some(&Value::Bool(true)) {
            self.paused.store(true, Ordering::Relaxed);
        }
        if let Some(shared) = self.shared.upgrade() {
            let mut kept = lock(&shared.channel_updates);
            if kept.len() == crate::state::KEPT_UPDATES {
                kept.pop_front();
            }
            kept.push_back(update.clone());
        }
        if !lock(&self.pending).push_channel(update) {
            info!(session = %self.id, "parameter queue full, dropping update");
        }
    }

    /// A REST update: queued behind earlier data-channel updates (not subject to the
    /// 8-update limit) and announced on every open data channel.
    pub async fn apply_rest_update(&self, applied: &Map<String, Value>) {
        lock(&self.pending).push_rest(applied.clone());
        let msg = json!({ "type": "parameters_updated", "parameters": applied }).to_string();
        let channels: Vec<Arc<RTCDataChannel>> = lock(&self.channels).clone();
        for dc in channels {
            if dc.ready_state() == RTCDataChannelState::Open
                && let Err(e) = dc.send_text(msg.clone()).await
            {
                debug!(session = %self.id, "parameters_updated not sent: {e}");
            }
        }
    }

    /// Merges queued updates into the parameters (shallow `{**old, **new}`), oldest first.
    fn apply_pending(&self) {
        let mut pending = lock(&self.pending);
        pending.drain_into(&mut lock(&self.params));
    }

    /// The parameters as they will be once queued updates are applied.
    pub fn current_params(&self) -> Map<String, Value> {
        let params = lock(&self.params).clone();
        lock(&self.pending).preview(&params)
    }

    pub fn metrics_json(&self) -> Value {
        let elapsed = self.created.elapsed().as_secs_f64().max(1e-3);
        let frames_in = self.frames_in.load(Ordering::Relaxed);
        let frames_out = self.frames_out.load(Ordering::Relaxed);
        json!({
            "frames_in": frames_in,
            "frames_out": frames_out,
            "elapsed_seconds": (elapsed * 100.0).round() / 100.0,
            "fps_in": ((frames_in as f64 / elapsed) * 10.0).round() / 10.0,
            "fps_out": ((frames_out as f64 / elapsed) * 10.0).round() / 10.0,
            "pipeline_fps": ((frames_out as f64 / elapsed) * 10.0).round() / 10.0,
            "output_sinks": null,
            "input_source_enabled": false,
            "input_source_type": null,
            "relay_mode": false,
        })
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

enum Builder {
    Vp8(SampleBuilder<Vp8Packet>),
    H264(SampleBuilder<H264Packet>),
}

impl Builder {
    fn push(&mut self, p: webrtc::rtp::packet::Packet) {
        match self {
            Builder::Vp8(b) => b.push(p),
            Builder::H264(b) => b.push(p),
        }
    }

    fn pop(&mut self) -> Option<Sample> {
        match self {
            Builder::Vp8(b) => b.pop(),
            Builder::H264(b) => b.pop(),
        }
    }
}

/// Depacketizes the client's video into whole frames for the processor thread.
async fn read_track(weak: Weak<Session>, track: Arc<TrackRemote>) {
    let mime = track.codec().capability.mime_type.to_ascii_lowercase();
    let (codec, mut builder) = if mime == MIME_TYPE_VP8.to_ascii_lowercase() {
        (
            Codec::Vp8,
            Builder::Vp8(SampleBuilder::new(128, Vp8Packet::default(), 90000)),
        )
    } else if mime == MIME_TYPE_H264.to_ascii_lowercase() {
        (
            Codec::H264,
            Builder::H264(SampleBuilder::new(128, H264Packet::default(), 90000)),
        )
    } else {
        warn!("ignoring a {mime} track");
        return;
    };
    let mut last_pli: Option<Instant> = None;
    while let Ok((packet, _)) = track.read_rtp().await {
        let Some(s) = weak.upgrade() else { break };
        if s.stopped() {
            break;
        }
        builder.push(packet);
        while let Some(sample) = builder.pop() {
            let input = EncodedInput {
                codec,
                data: sample.data,
                rtp_timestamp: sample.packet_timestamp,
            };
            if let Err(TrySendError::Full(_)) = s.input_tx.try_send(input) {
                debug!(session = %s.id, "decoder behind, dropping an input frame");
            }
        }
        let pli_due = last_pli.is_none_or(|t| t.elapsed() > Duration::from_millis(300));
        if pli_due && s.remote_keyframe_needed.swap(false, Ordering::Relaxed) {
            last_pli = Some(Instant::now());
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: track.ssrc(),
            };
            if let Err(e) = s.pc.write_rtcp(&[Box::new(pli)]).await {
                debug!(session = %s.id, "PLI not sent: {e}");
            }
        }
    }
}

/// Maps 32-bit RTP timestamps (90 kHz, wrapping) to a presentation time from the first frame.
#[derive(Default)]
struct RtpClock {
    last: Option<u32>,
    ticks: i64,
}

impl RtpClock {
    fn pts(&mut self, rtp: u32) -> Duration {
        if let Some(last) = self.last {
            self.ticks += i64::from(rtp.wrapping_sub(last) as i32);
        }
        self.last = Some(rtp);
        Duration::from_micros((self.ticks.max(0) as u64) * 1000 / 90)
    }
}

fn process_loop(
    weak: &Weak<Session>,
    input_rx: &Receiver<EncodedInput>,
    out_tx: &SyncSender<Paced>,
) {
    let mut input = Input::default();
    loop {
        let received = input_rx.recv_timeout(Duration::from_millis(50));
        let Some(s) = weak.upgrade() else { return };
        if s.stopped() {
            return;
        }
        match received {
            Ok(first) if s.output_enabled => {
                input.decode(&s, first);
                // Everything that came in while the last call ran is decoded before the next
                // call, so that call samples from all of it, as the real server's separate
                // decoder lets it. Taking one frame per call instead left a slow pipeline
                // working through a channel of old frames (seconds behind).
                for more in input_rx.try_iter().take(INPUT_QUEUE_MAX) {
                    input.decode(&s, more);
                }
            }
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Parameter updates are applied between pipeline calls, like the real processor.
        s.apply_pending();
        if let Some(chunk) = input.queue.take_chunk() {
            let Some(shared) = s.shared.upgrade() else {
                continue;
            };
            let Some(chain) = shared.chain(&s.pipeline_ids) else {
                continue;
            };
            let slow = lock(&shared.faults).pipeline_delay;
            if !slow.is_zero() {
                std::thread::sleep(slow);
            }
            let frames = run_chain(&chain, chunk);
            for frame in pacing::pace_chunk(frames, Instant::now()) {
                if let Err(TrySendError::Full(_)) = out_tx.try_send(frame) {
                    debug!(session = %s.id, "output queue full, dropping a frame");
                }
            }
        }
    }
}

/// The processor's decoding side: the decoder, the RTP clock and the decoded frames waiting
/// for the next pipeline call.
#[derive(Default)]
struct Input {
    decoder: Option<Decoder>,
    clock: RtpClock,
    queue: InputQueue,
}

impl Input {
    fn decode(&mut self, s: &Session, input: EncodedInput) {
        if self
            .decoder
            .as_ref()
            .is_none_or(|d| d.codec() != input.codec)
        {
            self.decoder = match Decoder::new(input.codec) {
                Ok(d) => Some(d),
                Err(e) => {
                    warn!(session = %s.id, "no decoder: {e}");
                    None
                }
            };
        }
        let pts = self.clock.pts(input.rtp_timestamp);
        match self.decoder.as_mut().map(|d| d.decode_i420(&input.data)) {
            Some(Ok(Some(mut frame))) => {
                s.frames_in.fetch_add(1, Ordering::Relaxed);
                frame.captured = pts;
                if !self.queue.push(TimedFrame { frame, pts }) {
                    debug!(session = %s.id, "input queue full (30), dropping a new frame");
                }
            }
            Some(Ok(None)) | None => {}
            Some(Err(e)) => {
                debug!(session = %s.id, "decode failed, asking for a keyframe: {e}");
                s.remote_keyframe_needed.store(true, Ordering::Relaxed);
            }
        }
    }
}

fn send_loop(
    weak: &Weak<Session>,
    out_rx: &Receiver<Paced>,
    codec: Codec,
    track: &TrackLocalStaticRTP,
    runtime: &tokio::runtime::Handle,
) {
    let mut encoder: Option<Encoder> = None;
    let mut rtp_out = RtpOut::new(codec);
    let mut was_connected = false;
    loop {
        let received = out_rx.recv_timeout(Duration::from_millis(50));
        let Some(s) = weak.upgrade() else { return };
        if s.stopped() {
            return;
        }
        let first = match received {
            Ok(t) => t,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let (paced, skipped) = pacing::newest_due(first, Instant::now(), || out_rx.try_recv().ok());
        if skipped > 0 {
            debug!(session = %s.id, skipped, "output side behind, skipping to the newest frame");
        }
        while Instant::now() < paced.due {
            if s.stopped() {
                return;
            }
            std::thread::sleep((paced.due - Instant::now()).min(Duration::from_millis(20)));
        }
        let timed = paced.frame;

        if s.paused.load(Ordering::Relaxed) {
            continue;
        }
        let (stall, slow) = s.shared.upgrade().map_or((None, Duration::ZERO), |sh| {
            let f = lock(&sh.faults);
            (f.stall_after_frames, f.output_delay)
        });
        if !slow.is_zero() {
            std::thread::sleep(slow);
        }
        if stall.is_some_and(|n| s.frames_out.load(Ordering::Relaxed) >= n) {
            continue;
        }
        let frame = if codec == Codec::H264 {
            even_crop(&timed.frame)
        } else {
            timed.frame.clone()
        };
        let (w, h) = (frame.width, frame.height);
        if encoder.is_none() {
            let kbps = (w * h / 100).clamp(500, 8000);
            encoder = match Encoder::new(codec, w, h, 30, kbps) {
                Ok(e) => Some(e),
                Err(e) => {
                    warn!(session = %s.id, "cannot encode {w}x{h}: {e}");
                    continue;
                }
            };
        }
        let Some(enc) = encoder.as_mut() else {
            continue;
        };
        // Frames written before ICE/DTLS is up are lost: keep sending keyframes until connected
        // and start with one after, so the client can decode at once.
        let connected = s.connected.load(Ordering::Relaxed);
        let force =
            !connected || !was_connected || s.keyframe_wanted.swap(false, Ordering::Relaxed);
        was_connected = connected;
        let data = match enc.encode(&frame, force) {
            Ok(d) => d,
            Err(e) => {
                warn!(session = %s.id, "encode failed: {e}");
                continue;
            }
        };
        let packets = match rtp_out.packetize(&Bytes::from(data), timed.pts) {
            Ok(p) => p,
            Err(e) => {
                warn!(session = %s.id, "packetize failed: {e}");
                continue;
            }
        };
        let written = runtime.block_on(async {
            for packet in &packets {
                track.write_rtp(packet).await?;
            }
            Ok::<(), webrtc::Error>(())
        });
        match written {
            Ok(()) => {
                if connected {
                    s.frames_out.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) => debug!(session = %s.id, "write_rtp: {e}"),
        }
    }
}

/// Packetizes encoded frames itself so each frame's RTP timestamp is its input pts, as real
/// Scope's passthrough does. webrtc's sample writer stamps a frame with the sum of the earlier
/// frames' durations, i.e. one frame late when intervals vary, which skews clients' round-trip
/// matching by a frame.
struct RtpOut {
    payloader: Box<dyn Payloader + Send + Sync>,
    seq: u16,
    base: u32,
}

impl RtpOut {
    /// Typical path MTU minus IP/UDP/SRTP overhead, as webrtc's own packetizer uses.
    const MTU: usize = 1200;

    fn new(codec: Codec) -> Self {
        let payloader: Box<dyn Payloader + Send + Sync> = match codec {
            Codec::Vp8 => Box::<Vp8Payloader>::default(),
            Codec::H264 => Box::<H264Payloader>::default(),
        };
        // Random starts, as RFC 3550 asks; the track rewrites SSRC and payload type per binding.
        let r = uuid::Uuid::new_v4().as_u128();
        RtpOut {
            payloader,
            seq: r as u16,
            base: (r >> 16) as u32,
        }
    }

    fn packetize(
        &mut self,
        frame: &Bytes,
        pts: Duration,
    ) -> Result<Vec<webrtc::rtp::packet::Packet>, webrtc::rtp::Error> {
        let ticks = (pts.as_micros() * 90 / 1000) as u32;
        let timestamp = self.base.wrapping_add(ticks);
        let payloads = self.payloader.payload(Self::MTU, frame)?;
        let last = payloads.len().saturating_sub(1);
        Ok(payloads
            .into_iter()
            .enumerate()
            .map(|(i, payload)| {
                self.seq = self.seq.wrapping_add(1);
                webrtc::rtp::packet::Packet {
                    header: webrtc::rtp::header::Header {
                        version: 2,
                        marker: i == last,
                        sequence_number: self.seq,
                        timestamp,
                        ..Default::default()
                    },
                    payload,
                }
            })
            .collect())
    }
}

/// openh264 needs even sizes: drop the last column/row of odd-sized frames (passthrough of an
/// odd-sized camera). Frames that are already even are shared, not copied.
fn even_crop(frame: &media::VideoFrame) -> media::VideoFrame {
    let (w, h) = (frame.width & !1, frame.height & !1);
    if (w, h) == (frame.width, frame.height) || w == 0 || h == 0 {
        return frame.clone();
    }
    let Ok(rgba) = frame.to_rgba() else {
        return frame.clone();
    };
    let src_stride = frame.width as usize * 4;
    let mut data = Vec::with_capacity(w as usize * h as usize * 4);
    for row in rgba.data.chunks_exact(src_stride).take(h as usize) {
        data.extend_from_slice(&row[..w as usize * 4]);
    }
    media::VideoFrame {
        width: w,
        height: h,
        format: media::PixelFormat::Rgba8,
        data: Arc::new(data),
        captured: frame.captured,
        seq: frame.seq,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_video_direction_and_codecs() {
        let sdp = "v=0\r\na=sendrecv\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 102\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:102 H264/90000\r\nm=video 9 x 97\r\na=sendrecv\r\n";
        assert_eq!(
            first_video(sdp),
            Some(VideoOffer {
                sendrecv: false,
                codecs: vec![Codec::Vp8, Codec::H264]
            })
        );
        let sdp = "v=0\r\nm=audio 9 x 0\r\na=recvonly\r\nm=video 9 x 102\r\na=rtpmap:102 h264/90000\r\nm=application 9 x\r\n";
        assert_eq!(
            first_video(sdp),
            Some(VideoOffer {
                sendrecv: true,
                codecs: vec![Codec::H264]
            })
        );
        assert_eq!(first_video("v=0\r\nm=application 9 x\r\n"), None);
    }

    #[test]
    fn odd_frames_are_cropped_to_even_for_h264() {
        let data: Vec<u8> = (0..3 * 3 * 4).map(|i| i as u8).collect();
        let f = media::VideoFrame::new(3, 3, media::PixelFormat::Rgba8, data, Duration::ZERO, 0)
            .unwrap();
        let c = even_crop(&f);
        assert_eq!((c.width, c.height), (2, 2));
        assert_eq!(
            &c.data[..],
            &[0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17, 18, 19]
        );
    }

    #[test]
    fn rtp_clock_wraps() {
        let mut c = RtpClock::default();
        assert_eq!(c.pts(u32::MAX - 1499), Duration::ZERO);
        assert_eq!(c.pts(1500), Duration::from_micros(3000 * 1000 / 90));
    }
}
