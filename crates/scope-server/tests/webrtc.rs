//! WebRTC loopback against the embedded server with a minimal webrtc 0.17 offerer: frames come
//! back at the right size (passthrough follows size changes; stylize = load size, stylized
//! pixels), a recvonly offer connects but gets nothing, parameters flow both ways, teardown
//! empties the metrics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers may panic"
)]

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use media::{Codec, Decoder, Encoder, PixelFormat, VideoFrame};
use scope_server::pipeline::stylize_pixel;
use scope_server::{EmbeddedServer, Faults, ServerOptions};
use serde_json::{Value, json};
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MIME_TYPE_H264, MIME_TYPE_VP8, MediaEngine};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::data_channel::RTCDataChannel;
use webrtc::ice::network_type::NetworkType;
use webrtc::interceptor::registry::Registry;
use webrtc::media::Sample;
use webrtc::media::io::sample_builder::SampleBuilder;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp::codecs::h264::H264Packet;
use webrtc::rtp::codecs::vp8::Vp8Packet;
use webrtc::rtp_transceiver::RTCRtpTransceiverInit;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType,
};
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;

const GREEN: [u8; 3] = [0, 177, 64];
const SKIN: [u8; 3] = [230, 140, 90];

/// Chroma-green background with a warm block in the middle (like the synthetic camera).
fn camera_frame(w: u32, h: u32, seq: u64) -> VideoFrame {
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            let inside = x > w / 4 && x < 3 * w / 4 && y > h / 4 && y < 3 * h / 4;
            let c = if inside { SKIN } else { GREEN };
            data.extend_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
    VideoFrame::new(w, h, PixelFormat::Rgba8, data, Duration::ZERO, seq).unwrap()
}

fn pixel(f: &VideoFrame, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * f.width + x) * 4) as usize;
    [f.data[i], f.data[i + 1], f.data[i + 2]]
}

fn close_to(a: [u8; 3], b: [u8; 3], tol: i32) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (i32::from(*x) - i32::from(y)).abs() <= tol)
}

struct Offerer {
    pc: Arc<RTCPeerConnection>,
    track: Option<Arc<TrackLocalStaticSample>>,
    codec: Codec,
    received: Arc<Mutex<Vec<VideoFrame>>>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    dc_closed: Arc<AtomicBool>,
    messages: Arc<Mutex<Vec<String>>>,
    dc: Arc<RTCDataChannel>,
    want_key: Arc<AtomicBool>,
    connected: Arc<AtomicBool>,
}

async fn offerer(codec: Codec, direction: RTCRtpTransceiverDirection) -> Offerer {
    // Register only the codec under test, so the offer is VP8-only or H264-only.
    let mut m = MediaEngine::default();
    let capability = RTCRtpCodecCapability {
        mime_type: if codec == Codec::Vp8 {
            MIME_TYPE_VP8
        } else {
            MIME_TYPE_H264
        }
        .into(),
        clock_rate: 90000,
        sdp_fmtp_line: if codec == Codec::H264 {
            media::H264_FMTP.into()
        } else {
            String::new()
        },
        ..Default::default()
    };
    m.register_codec(
        RTCRtpCodecParameters {
            capability: capability.clone(),
            payload_type: if codec == Codec::Vp8 { 96 } else { 102 },
            ..Default::default()
        },
        RTPCodecType::Video,
    )
    .unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut m).unwrap();
    let mut s = SettingEngine::default();
    s.set_include_loopback_candidate(true);
    s.set_network_types(vec![NetworkType::Udp4]);
    s.set_ip_filter(Box::new(|ip: IpAddr| ip.is_loopback()));
    let api = APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(s)
        .build();
    let pc = Arc::new(
        api.new_peer_connection(RTCConfiguration::default())
            .await
            .unwrap(),
    );
    let want_key = Arc::new(AtomicBool::new(true));
    let track = if direction == RTCRtpTransceiverDirection::Sendrecv {
        let track = Arc::new(TrackLocalStaticSample::new(
            capability.clone(),
            "cam".into(),
            "test".into(),
        ));
        let sender = pc
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>)
            .await
            .unwrap();
        let want = Arc::clone(&want_key);
        tokio::spawn(async move {
            while let Ok((pkts, _)) = sender.read_rtcp().await {
                if pkts
                    .iter()
                    .any(|p| p.as_any().is::<PictureLossIndication>())
                {
                    want.store(true, Ordering::Relaxed);
                }
            }
        });
        Some(track)
    } else {
        pc.add_transceiver_from_kind(
            RTPCodecType::Video,
            Some(RTCRtpTransceiverInit {
                direction,
                send_encodings: vec![],
            }),
        )
        .await
        .unwrap();
        None
    };
    let received = Arc::new(Mutex::new(Vec::new()));
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let rx = Arc::clone(&received);
    let times = Arc::clone(&arrivals);
    let pc_for_pli = Arc::downgrade(&pc);
    pc.on_track(Box::new(move |track, _, _| {
        let rx = Arc::clone(&rx);
        let times = Arc::clone(&times);
        let pc_for_pli = pc_for_pli.clone();
        Box::pin(async move {
            tokio::spawn(async move {
                let mime = track.codec().capability.mime_type.to_ascii_lowercase();
                let codec = if mime.contains("vp8") {
                    Codec::Vp8
                } else {
                    Codec::H264
                };
                let mut decoder = Decoder::new(codec).unwrap();
                let mut vp8 = SampleBuilder::new(128, Vp8Packet::default(), 90000);
                let mut h264 = SampleBuilder::new(128, H264Packet::default(), 90000);
                while let Ok((p, _)) = track.read_rtp().await {
                    let mut samples = Vec::new();
                    if codec == Codec::Vp8 {
                        vp8.push(p);
                        while let Some(s) = vp8.pop() {
                            samples.push(s);
                        }
                    } else {
                        h264.push(p);
                        while let Some(s) = h264.pop() {
                            samples.push(s);
                        }
                    }
                    for s in samples {
                        match decoder.decode(&s.data) {
                            Ok(Some(f)) => {
                                rx.lock().unwrap().push(f);
                                times.lock().unwrap().push(Instant::now());
                            }
                            Ok(None) => {}
                            Err(_) => {
                                if let Some(pc) = pc_for_pli.upgrade() {
                                    let pli = PictureLossIndication {
                                        sender_ssrc: 0,
                                        media_ssrc: track.ssrc(),
                                    };
                                    let _ = pc.write_rtcp(&[Box::new(pli)]).await;
                                }
                            }
                        }
                    }
                }
            });
        })
    }));
    let dc = pc.create_data_channel("parameters", None).await.unwrap();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let msgs = Arc::clone(&messages);
    dc.on_message(Box::new(move |m| {
        msgs.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&m.data).into_owned());
        Box::pin(async {})
    }));
    let dc_closed = Arc::new(AtomicBool::new(false));
    let closed = Arc::clone(&dc_closed);
    dc.on_close(Box::new(move || {
        closed.store(true, Ordering::Relaxed);
        Box::pin(async {})
    }));
    let connected = Arc::new(AtomicBool::new(false));
    let c = Arc::clone(&connected);
    pc.on_peer_connection_state_change(Box::new(move |s| {
        if s == RTCPeerConnectionState::Connected {
            c.store(true, Ordering::Relaxed);
        }
        Box::pin(async {})
    }));
    Offerer {
        pc,
        track,
        codec,
        received,
        arrivals,
        dc_closed,
        messages,
        dc,
        want_key,
        connected,
    }
}

impl Offerer {
    /// Non-trickle signalling: gather everything, POST the offer, apply the answer, wait until
    /// the peer connection is up.
    async fn connect(&self, base: &str, initial: Value) -> (String, String) {
        let offer = self.pc.create_offer(None).await.unwrap();
        let mut gathered = self.pc.gathering_complete_promise().await;
        self.pc.set_local_description(offer).await.unwrap();
        let _ = tokio::time::timeout(Duration::from_secs(5), gathered.recv()).await;
        let sdp = self.pc.local_description().await.unwrap().sdp;
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/webrtc/offer"))
            .json(&json!({"sdp": sdp, "type": "offer", "initialParameters": initial}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["type"], "answer");
        let answer_sdp = answer["sdp"].as_str().unwrap().to_string();
        self.pc
            .set_remote_description(RTCSessionDescription::answer(answer_sdp.clone()).unwrap())
            .await
            .unwrap();
        // Frames written before ICE and DTLS are up are lost, and on a loaded machine that
        // takes over a second: tests that count frames start counting once connected.
        let t = Instant::now();
        while !self.connected.load(Ordering::Relaxed) {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "peer connection not up after {:?}",
                t.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (
            answer["sessionId"].as_str().unwrap().to_string(),
            answer_sdp,
        )
    }

    /// Sends camera frames at ~30 fps for `count` frames of size `size`, returns when done.
    async fn send_frames(
        &self,
        encoder: &mut Encoder,
        size: (u32, u32),
        count: u64,
        first_seq: u64,
    ) {
        let Some(track) = &self.track else { return };
        // A steady 30 fps schedule, so wall time matches the RTP timestamps.
        let start = tokio::time::Instant::now();
        for (i, seq) in (first_seq..first_seq + count).enumerate() {
            let key = self.want_key.swap(false, Ordering::Relaxed)
                || !self.connected.load(Ordering::Relaxed);
            let data = encoder
                .encode(&camera_frame(size.0, size.1, seq), key)
                .unwrap();
            track
                .write_sample(&Sample {
                    data: Bytes::from(data),
                    duration: Duration::from_millis(33),
                    ..Default::default()
                })
                .await
                .unwrap();
            tokio::time::sleep_until(start + Duration::from_millis(33) * (i as u32 + 1)).await;
        }
    }

    fn received_sizes(&self) -> Vec<(u32, u32)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|f| (f.width, f.height))
            .collect()
    }
}

async fn load(base: &str, body: Value) {
    let c = reqwest::Client::new();
    assert_eq!(
        c.post(format!("{base}/api/v1/pipeline/load"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s: Value = c
            .get(format!("{base}/api/v1/pipeline/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["status"] == "loaded" {
            return;
        }
        assert!(Instant::now() < deadline, "pipeline did not load: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn metrics(base: &str) -> Value {
    reqwest::get(format!("{base}/api/v1/session/metrics"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_no_sessions(base: &str) -> Duration {
    let t = Instant::now();
    loop {
        if metrics(base).await == json!({"sessions": {}}) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "session still listed: {}",
            metrics(base).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn server() -> EmbeddedServer {
    EmbeddedServer::start(ServerOptions {
        port: 0,
        faults: Faults {
            load_duration: Duration::ZERO,
            ..Faults::default()
        },
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_follows_input_size_and_parameters_flow() {
    let server = server();
    let base = server.url();
    load(
        &base,
        json!({"pipeline_ids": ["passthrough"], "load_params": {"width": 512, "height": 512}}),
    )
    .await;

    let o = offerer(Codec::Vp8, RTCRtpTransceiverDirection::Sendrecv).await;
    let (session, answer) = o
        .connect(
            &base,
            json!({"pipeline_ids": ["passthrough"], "input_mode": "video"}),
        )
        .await;
    assert!(
        answer.contains("a=end-of-candidates"),
        "non-trickle answer:\n{answer}"
    );
    assert!(answer.contains("a=candidate:"), "{answer}");
    assert!(
        answer.contains("VP8/90000") && !answer.contains("H264/90000"),
        "VP8-only offer:\n{answer}"
    );

    let mut enc = Encoder::new(Codec::Vp8, 320, 240, 30, 1000).unwrap();
    let started = Instant::now();
    o.send_frames(&mut enc, (320, 240), 45, 0).await;
    let first = o.received_sizes();
    // Chunked (4 frames) and paced by the input timestamps: the first frame needs a whole chunk,
    // later ones arrive spread out at the input rate, not in bursts of 4.
    let arrivals = o.arrivals.lock().unwrap().clone();
    let to_first = arrivals[0] - started;
    eprintln!("first frame back {to_first:?} after the first frame was sent");
    assert!(
        to_first >= Duration::from_millis(99),
        "{to_first:?}: output before a full chunk"
    );
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
    let mut sorted = gaps.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    assert!(
        median >= Duration::from_millis(15) && median <= Duration::from_millis(60),
        "median gap {median:?}: {gaps:?}"
    );
    assert!(
        first.len() >= 8,
        "frames back: {} after {:?}",
        first.len(),
        started.elapsed()
    );
    assert!(
        first.iter().all(|s| *s == (320, 240)),
        "passthrough = input size: {first:?}"
    );
    let f = o.received.lock().unwrap().last().cloned().unwrap();
    assert!(
        close_to(pixel(&f, 160, 120), SKIN, 24),
        "centre {:?}",
        pixel(&f, 160, 120)
    );
    assert!(
        close_to(pixel(&f, 5, 5), GREEN, 24),
        "corner {:?}",
        pixel(&f, 5, 5)
    );

    // A data-channel update reaches the server's parameters (merged shallowly)...
    o.dc.send_text(
        json!({"prompts": [{"text": "a cat", "weight": 1.0}], "noise_scale": 0.3}).to_string(),
    )
    .await
    .unwrap();
    let t = Instant::now();
    loop {
        let p: Value = reqwest::get(format!("{base}/api/v1/session/parameters"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if p["parameters"]["noise_scale"] == 0.3 {
            assert_eq!(p["parameters"]["prompts"][0]["text"], "a cat", "{p}");
            assert_eq!(
                p["parameters"]["input_mode"], "video",
                "merge is shallow: {p}"
            );
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "data-channel update never arrived: {p}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...and a REST update comes back on the data channel as parameters_updated.
    let r: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/session/parameters"))
        .json(&json!({"noise_scale": 0.6}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["applied_parameters"]["vace_context_scale"], 1.0);

    // Mid-stream size change: output follows without renegotiation.
    o.send_frames(&mut enc, (240, 160), 30, 100).await;
    let sizes = o.received_sizes();
    assert_eq!(sizes.last(), Some(&(240, 160)), "{sizes:?}");

    let params: Value = reqwest::get(format!("{base}/api/v1/session/parameters"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        params["parameters"]["prompts"][0]["text"], "a cat",
        "{params}"
    );
    assert_eq!(params["parameters"]["noise_scale"], 0.6, "{params}");
    assert_eq!(params["parameters"]["pipeline_ids"], json!(["passthrough"]));
    let messages = o.messages.lock().unwrap().clone();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"parameters_updated\"") && m.contains("0.6")),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("stream_stopped")),
        "{messages:?}"
    );

    let m = metrics(&base).await;
    let s = &m["sessions"][&session];
    assert!(s["frames_out"].as_u64().unwrap() >= 8, "{m}");
    assert!(
        s["frames_in"].as_u64().unwrap() >= s["frames_out"].as_u64().unwrap(),
        "{m}"
    );

    o.pc.close().await.unwrap();
    let gone = wait_no_sessions(&base).await;
    eprintln!("session gone {gone:?} after close");
    assert_eq!(server.faults().session_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stylize_outputs_load_size_with_keyable_green() {
    let server = server();
    let base = server.url();
    load(&base, json!({"pipelines": [{"node_id": "look", "pipeline_id": "stylize", "load_params": {"width": 256, "height": 144}}]})).await;
    let o = offerer(Codec::H264, RTCRtpTransceiverDirection::Sendrecv).await;
    let (session, answer) = o
        .connect(
            &base,
            json!({"pipeline_ids": ["look"], "input_mode": "video"}),
        )
        .await;
    assert!(
        answer.contains("H264/90000") && !answer.contains("VP8/90000"),
        "H264-only offer:\n{answer}"
    );
    let mut enc = Encoder::new(o.codec, 320, 240, 30, 1000).unwrap();
    o.send_frames(&mut enc, (320, 240), 45, 0).await;
    let sizes = o.received_sizes();
    assert!(sizes.len() >= 8, "frames back: {}", sizes.len());
    assert!(
        sizes.iter().all(|s| *s == (256, 144)),
        "stylize = load size: {sizes:?}"
    );
    let f = o.received.lock().unwrap().last().cloned().unwrap();
    let centre = pixel(&f, 128, 72);
    let expected = stylize_pixel(SKIN[0], SKIN[1], SKIN[2]);
    assert!(
        close_to(centre, expected, 24),
        "centre {centre:?} vs {expected:?}"
    );
    assert!(
        close_to(pixel(&f, 4, 4), GREEN, 24),
        "green kept: {:?}",
        pixel(&f, 4, 4)
    );

    // DELETE ends the session explicitly.
    let r = reqwest::Client::new()
        .delete(format!("{base}/api/v1/webrtc/offer/{session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(metrics(&base).await, json!({"sessions": {}}));
    o.pc.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recvonly_or_unnamed_pipeline_connects_but_gets_no_frames() {
    let server = server();
    let base = server.url();
    load(&base, json!({"pipeline_ids": ["passthrough"]})).await;

    // recvonly first video m-line: answered sendonly, connects, zero frames.
    let o = offerer(Codec::Vp8, RTCRtpTransceiverDirection::Recvonly).await;
    let (session, answer) = o
        .connect(
            &base,
            json!({"pipeline_ids": ["passthrough"], "input_mode": "video"}),
        )
        .await;
    assert!(answer.contains("a=sendonly"), "{answer}");
    // Trickled client candidates are accepted at any time (204); unparsable ones give 404.
    let patch = |body: Value| {
        reqwest::Client::new()
            .patch(format!("{base}/api/v1/webrtc/offer/{session}"))
            .json(&body)
            .send()
    };
    let ok = patch(
        json!({"candidates": [{"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}]}),
    );
    assert_eq!(ok.await.unwrap().status(), 204);
    let bad =
        patch(json!({"candidates": [{"candidate": "garbage", "sdpMid": "0", "sdpMLineIndex": 0}]}));
    assert_eq!(bad.await.unwrap().status(), 404);
    // sendrecv but without pipeline_ids: also connects, frames go in, nothing comes back.
    let p = offerer(Codec::Vp8, RTCRtpTransceiverDirection::Sendrecv).await;
    p.connect(&base, json!({"input_mode": "video"})).await;
    let mut enc = Encoder::new(Codec::Vp8, 160, 120, 30, 500).unwrap();
    p.send_frames(&mut enc, (160, 120), 45, 0).await;
    assert!(o.connected.load(Ordering::Relaxed) && p.connected.load(Ordering::Relaxed));
    assert_eq!(o.received_sizes().len(), 0);
    assert_eq!(p.received_sizes().len(), 0);
    assert!(o.messages.lock().unwrap().is_empty() && p.messages.lock().unwrap().is_empty());

    o.pc.close().await.unwrap();
    p.pc.close().await.unwrap();
    wait_no_sessions(&base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_and_drop_faults() {
    let server = server();
    let base = server.url();
    load(&base, json!({"pipeline_ids": ["passthrough"]})).await;
    server.faults().stall_after_frames(Some(6));
    let o = offerer(Codec::Vp8, RTCRtpTransceiverDirection::Sendrecv).await;
    let (session, _) = o
        .connect(
            &base,
            json!({"pipeline_ids": ["passthrough"], "input_mode": "video"}),
        )
        .await;
    let mut enc = Encoder::new(Codec::Vp8, 160, 120, 30, 500).unwrap();
    o.send_frames(&mut enc, (160, 120), 45, 0).await;
    let m = metrics(&base).await;
    assert_eq!(m["sessions"][&session]["frames_out"], 6, "{m}");
    let stalled = o.received_sizes().len();
    assert!(
        (1..=6).contains(&stalled),
        "{stalled} frames while stalled after 6"
    );
    assert!(
        o.messages.lock().unwrap().is_empty(),
        "a stall says nothing on the channel"
    );

    // Clearing the fault lets the same session resume.
    server.faults().stall_after_frames(None);
    o.send_frames(&mut enc, (160, 120), 30, 100).await;
    assert!(
        o.received_sizes().len() > stalled + 4,
        "resumed: {}",
        o.received_sizes().len()
    );

    // {"paused": true} stops the output for good, like Scope v0.2.4's bug (docs/scope-api.md §3):
    // a client must pause on its own side.
    o.dc.send_text(json!({"paused": true}).to_string())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = o.received_sizes().len();
    o.send_frames(&mut enc, (160, 120), 20, 200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(o.received_sizes().len(), before, "frames after paused");

    // Dropping the connection closes it from the server side.
    server.faults().drop_connections();
    let t = Instant::now();
    while !o.dc_closed.load(Ordering::Relaxed) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "client never saw the drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_no_sessions(&base).await;
    o.pc.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_client_candidates_via_patch() {
    let server = server();
    let base = server.url();
    load(&base, json!({"pipeline_ids": ["passthrough"]})).await;
    let o = offerer(Codec::Vp8, RTCRtpTransceiverDirection::Sendrecv).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    o.pc.on_ice_candidate(Box::new(move |c| {
        if let Some(c) = c {
            let _ = tx.send(c.to_json().unwrap());
        }
        Box::pin(async {})
    }));
    // Offer without candidates, before gathering has finished.
    let offer = o.pc.create_offer(None).await.unwrap();
    o.pc.set_local_description(offer.clone()).await.unwrap();
    assert!(!offer.sdp.contains("a=candidate:"));
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/webrtc/offer"))
        .json(&json!({"sdp": offer.sdp, "type": "offer", "initialParameters": {"pipeline_ids": ["passthrough"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = answer["sessionId"].as_str().unwrap().to_string();
    // PATCH the first candidate before the answer is applied, the rest after (like the web UI).
    let patch = |c: webrtc::ice_transport::ice_candidate::RTCIceCandidateInit| {
        reqwest::Client::new()
            .patch(format!("{base}/api/v1/webrtc/offer/{session}"))
            .json(&json!({"candidates": [{"candidate": c.candidate, "sdpMid": c.sdp_mid, "sdpMLineIndex": c.sdp_mline_index}]}))
            .send()
    };
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patch(first).await.unwrap().status(), 204);
    o.pc.set_remote_description(
        RTCSessionDescription::answer(answer["sdp"].as_str().unwrap().into()).unwrap(),
    )
    .await
    .unwrap();
    while let Ok(Some(c)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        assert_eq!(patch(c).await.unwrap().status(), 204);
    }
    let mut enc = Encoder::new(Codec::Vp8, 160, 120, 30, 500).unwrap();
    o.send_frames(&mut enc, (160, 120), 45, 0).await;
    assert!(
        o.received_sizes().len() >= 8,
        "frames back: {}",
        o.received_sizes().len()
    );
    o.pc.close().await.unwrap();
    wait_no_sessions(&base).await;
}
