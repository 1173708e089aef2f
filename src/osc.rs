//! OSC control: TouchOSC, Bitfocus Companion and the like cut scenes by UDP.
//!
//! A `osc-listener` thread owns the socket (loopback by default), decodes packets (bundles
//! included) and hands the commands it understands to the app through a bounded channel; the
//! app turns them into [`ShowCommand`]s, the same commands keys and the console send.
//! Malformed packets and unknown addresses are counted and logged once per sender, never fatal.
//!
//! Addresses (1-based scene numbers, or scene names):
//! - `/metadj/scene/{n|name}/program` cuts that scene to program (no arguments, or a
//!   non-zero number / `T`: a button's press; `0`/`F`, a release, is ignored).
//! - `/metadj/scene/{n|name}/preview` puts it in preview (studio mode); same press rule.
//! - `/metadj/take` and `/metadj/auto` take the preview (cut, or its transition); same rule.
//! - `/metadj/tbar f` moves the T-bar to `f` in 0..=1 (1 takes, 0 cancels): a fader.
//! - `/metadj/node/{id}/{param}[/{item}] f|i|s|T|F` sets a parameter of a node of the program
//!   scene, by its spec-table name (`opacity`, `layers.opacity/1`), checked against its range;
//!   `…/normalized f` maps 0..=1 onto the range (for faders).
//! - `/metadj/scope/{id}/prompt s [f]` replaces the program scene's prompt (optional weight),
//!   `/metadj/scope/{id}/preset s` recalls a prompt preset, `/metadj/scope/{id}/vace_scale f`
//!   sets the reference strength.
//!
//! Address patterns (`*`, `?`, `[a-c]`, `{one,two}`, OSC 1.0) are matched against the show's
//! addresses (scene names and numbers, the program scene's nodes and parameters, its Scope
//! nodes), so `/metadj/node/*/opacity` reaches every node that has one.
//!
//! Feedback (`--osc-feedback HOST:PORT`, loopback): when they change, `/metadj/program s i`,
//! `/metadj/preview s i` (name, 1-based number; `"" 0` for none), `/metadj/tbar f` and
//! `/metadj/scope/{id}/state s`, so TouchOSC labels and faders follow the show.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};
use rosc::{OscPacket, OscType};

use crate::AppSystems;
use crate::control::{LiveEdit, ParamInput, ShowCommand};
use crate::health;
use crate::playback::Playback;
use crate::showfile::CurrentShow;
use crate::sources::scope::ScopeStatuses;

/// What an OSC message asked for, before it is matched against the show.
#[derive(Debug, Clone, PartialEq)]
pub enum OscRequest {
    /// A scene by 1-based number or by name.
    Program(SceneRef),
    Preview(SceneRef),
    Take,
    Auto,
    /// The T-bar's position, 0..=1.
    TBar(f32),
    /// A change to the program scene ([`LiveEdit`] with `scene: None`).
    Live(LiveEdit),
    /// An address pattern, matched against the show's addresses in the app.
    Pattern(rosc::OscMessage),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SceneRef {
    Number(usize),
    Name(String),
}

/// Listens for OSC on `addr` (`127.0.0.1:9000` by default; port 0 picks a free one) and, with
/// `feedback`, tells that address what changed.
pub struct OscPlugin {
    pub addr: SocketAddr,
    pub feedback: Option<SocketAddr>,
}

/// The running listener: where it listens, and what it could not use.
#[derive(Resource)]
pub struct OscListener {
    pub addr: SocketAddr,
    requests: Receiver<OscRequest>,
    /// Packets that did not decode or named an address we do not know.
    pub rejected: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    /// The listening socket, for feedback.
    socket: UdpSocket,
}

impl Drop for OscListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Plugin for OscPlugin {
    fn build(&self, app: &mut App) {
        match OscListener::start(self.addr) {
            Ok(listener) => {
                info!("OSC: listening on udp://{}", listener.addr);
                app.insert_resource(listener)
                    .add_systems(Update, apply_osc.in_set(AppSystems::Input));
                if let Some(to) = self.feedback {
                    info!("OSC: feedback to udp://{to}");
                    app.insert_resource(Feedback {
                        to,
                        sent: HashMap::new(),
                    })
                    .add_systems(Update, send_feedback.in_set(AppSystems::Output));
                }
            }
            Err(e) => warn!("OSC is off: cannot listen on udp://{}: {e}", self.addr),
        }
    }
}

impl OscListener {
    pub fn start(addr: SocketAddr) -> std::io::Result<OscListener> {
        let socket = UdpSocket::bind(addr)?;
        // Wakes up to notice `stop` even when nothing arrives.
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        let addr = socket.local_addr()?;
        let (tx, requests) = crossbeam_channel::bounded(64);
        let rejected = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (rejected.clone(), stop.clone());
        let feedback = socket.try_clone()?;
        // Feedback goes out of the listening port (where senders expect replies from). It
        // stays blocking: non-blocking would apply to the listener's reads too (one file
        // description), and a datagram of a few bytes does not wait for buffer space here.
        std::thread::Builder::new()
            .name("osc-listener".into())
            .spawn(move || listen(&socket, &tx, &r, &s))?;
        Ok(OscListener {
            addr,
            requests,
            rejected,
            stop,
            socket: feedback,
        })
    }
}

fn listen(socket: &UdpSocket, tx: &Sender<OscRequest>, rejected: &AtomicU64, stop: &AtomicBool) {
    let mut buf = vec![0u8; rosc::decoder::MTU];
    let mut warned: HashSet<SocketAddr> = HashSet::new();
    while !stop.load(Ordering::Relaxed) {
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => {
                warn!("OSC: receive failed: {e}");
                continue;
            }
        };
        let mut reject = |why: String| {
            rejected.fetch_add(1, Ordering::Relaxed);
            // Once per sender: a misconfigured controller must not flood the log.
            if warned.len() < 256 && warned.insert(from) {
                warn!("OSC from {from}: {why} (further problems from it are counted, not logged)");
            }
        };
        let packet = match rosc::decoder::decode_udp(&buf[..len]) {
            Ok((_, packet)) => packet,
            Err(e) => {
                reject(format!("not an OSC packet ({e})"));
                continue;
            }
        };
        let mut messages = Vec::new();
        flatten(packet, &mut messages);
        for msg in messages {
            if is_pattern(&msg.addr) {
                match rosc::address::Matcher::new(&msg.addr) {
                    Ok(_) => {
                        let _ = tx.try_send(OscRequest::Pattern(msg));
                    }
                    Err(e) => reject(format!("{}: not an address pattern ({e})", msg.addr)),
                }
                continue;
            }
            match parse(&msg.addr, &msg.args) {
                Ok(Some(request)) => {
                    // A full channel means the app is stalled: dropping a cut is better than
                    // blocking the socket.
                    let _ = tx.try_send(request);
                }
                Ok(None) => {}
                Err(why) => reject(why),
            }
        }
    }
}

fn is_pattern(addr: &str) -> bool {
    addr.contains(['*', '?', '[', ']', '{', '}'])
}

/// The concrete addresses `show` answers to, for matching patterns: scenes by number and name,
/// the program scene's nodes by parameter (and `/normalized`), its Scope nodes.
pub fn address_space(show: &show::Show, program: usize) -> Vec<String> {
    let mut out = vec![
        "/metadj/take".into(),
        "/metadj/auto".into(),
        "/metadj/tbar".into(),
    ];
    for (i, scene) in show.scenes.iter().enumerate() {
        for what in ["program", "preview"] {
            out.push(format!("/metadj/scene/{}/{what}", i + 1));
            out.push(format!("/metadj/scene/{}/{what}", scene.name));
        }
    }
    if let Some(scene) = show.scenes.get(program) {
        for (id, node) in &scene.nodes {
            for row in node.kind.spec().params {
                let items = (row.len)(&node.kind);
                let base = format!("/metadj/node/{id}/{}", row.name);
                if row.list {
                    for i in 0..items {
                        out.push(format!("{base}/{i}"));
                        out.push(format!("{base}/{i}/normalized"));
                    }
                } else if items > 0 {
                    out.push(format!("{base}/normalized"));
                    out.push(base);
                }
            }
            if matches!(node.kind, show::NodeKind::Scope(_)) {
                for what in ["prompt", "preset", "vace_scale"] {
                    out.push(format!("/metadj/scope/{id}/{what}"));
                }
            }
        }
    }
    out
}

/// The requests a pattern message stands for: every matching address, parsed with the
/// message's arguments; one per scene or command (a scene matched by number and by name is
/// one cut).
fn expand(msg: &rosc::OscMessage, space: &[String]) -> Vec<OscRequest> {
    let Ok(matcher) = rosc::address::Matcher::new(&msg.addr) else {
        return Vec::new();
    };
    let mut out: Vec<OscRequest> = Vec::new();
    for addr in space {
        let Ok(a) = rosc::address::OscAddress::new(addr.clone()) else {
            continue;
        };
        if matcher.match_address(&a)
            && let Ok(Some(request)) = parse(addr, &msg.args)
            && !out.contains(&request)
        {
            out.push(request);
        }
    }
    out
}

fn flatten(packet: OscPacket, out: &mut Vec<rosc::OscMessage>) {
    match packet {
        OscPacket::Message(m) => out.push(m),
        OscPacket::Bundle(b) => b.content.into_iter().for_each(|p| flatten(p, out)),
    }
}

/// What one message asks for: `Ok(None)` for a message that is understood but asks nothing
/// (a button release), `Err` with the reason for one we cannot use.
pub fn parse(addr: &str, args: &[OscType]) -> Result<Option<OscRequest>, String> {
    let parts: Vec<&str> = addr.trim_start_matches('/').split('/').collect();
    let scene_ref = |scene: &str| match scene.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(SceneRef::Number(n)),
        Ok(_) => Err(format!("{addr}: scene numbers start at 1")),
        Err(_) => Ok(SceneRef::Name(scene.to_owned())),
    };
    let request = match parts.as_slice() {
        ["metadj", "scene", scene, "program"] if !scene.is_empty() => {
            OscRequest::Program(scene_ref(scene)?)
        }
        ["metadj", "scene", scene, "preview"] if !scene.is_empty() => {
            OscRequest::Preview(scene_ref(scene)?)
        }
        ["metadj", "take"] => OscRequest::Take,
        ["metadj", "auto"] => OscRequest::Auto,
        ["metadj", "tbar"] => {
            let position = match args.first() {
                Some(OscType::Float(f)) => *f,
                Some(OscType::Double(f)) => *f as f32,
                Some(OscType::Int(i)) => *i as f32,
                _ => return Err(format!("{addr}: needs a number in 0..1")),
            };
            if !position.is_finite() {
                return Err(format!("{addr}: {position} is not a position in 0..1"));
            }
            return Ok(Some(OscRequest::TBar(position.clamp(0.0, 1.0))));
        }
        ["metadj", "node", node, param, rest @ ..] if !node.is_empty() && !param.is_empty() => {
            let (index, normalized) = match rest {
                [] => (0, false),
                ["normalized"] => (0, true),
                [i] | [i, "normalized"] => (
                    i.parse::<usize>()
                        .map_err(|_| format!("{addr}: {i} is not an item number"))?,
                    rest.len() == 2,
                ),
                _ => return Err(format!("unknown address {addr}")),
            };
            let value = match (args.first(), normalized) {
                (Some(a), true) => ParamInput::Normalized(
                    number(a)
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("{addr}: needs a number in 0..1"))?
                        as f32,
                ),
                (Some(OscType::Int(i)), _) => ParamInput::Int(i64::from(*i)),
                (Some(OscType::Long(i)), _) => ParamInput::Int(*i),
                (Some(OscType::Float(f)), _) => ParamInput::Float(f64::from(*f)),
                (Some(OscType::Double(f)), _) => ParamInput::Float(*f),
                (Some(OscType::Bool(b)), _) => ParamInput::Bool(*b),
                (Some(OscType::String(t)), _) => ParamInput::Text(t.clone()),
                _ => return Err(format!("{addr}: needs one value (f, i, s, T or F)")),
            };
            return Ok(Some(OscRequest::Live(LiveEdit::Param {
                scene: None,
                node: (*node).into(),
                param: (*param).to_owned(),
                index,
                value,
            })));
        }
        ["metadj", "scope", node, what] if !node.is_empty() => {
            let node = Some(show::NodeId::from(*node));
            let text = || match args.first() {
                Some(OscType::String(t)) => Ok(t.clone()),
                _ => Err(format!("{addr}: needs a string")),
            };
            let live = match *what {
                "prompt" => LiveEdit::Prompt {
                    scene: None,
                    node,
                    text: text()?,
                    weight: args.get(1).and_then(number).map(|w| w as f32),
                },
                "preset" => LiveEdit::Preset {
                    scene: None,
                    name: text()?,
                },
                "vace_scale" => LiveEdit::VaceScale {
                    scene: None,
                    value: args
                        .first()
                        .and_then(number)
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| format!("{addr}: needs a number"))?
                        as f32,
                },
                _ => return Err(format!("unknown address {addr}")),
            };
            return Ok(Some(OscRequest::Live(live)));
        }
        _ => return Err(format!("unknown address {addr}")),
    };
    Ok(pressed(args).then_some(request))
}

fn number(a: &OscType) -> Option<f64> {
    match a {
        OscType::Float(f) => Some(f64::from(*f)),
        OscType::Double(f) => Some(*f),
        OscType::Int(i) => Some(f64::from(*i)),
        OscType::Long(i) => Some(*i as f64),
        _ => None,
    }
}

/// A trigger's value: no argument, `T`, or a non-zero number presses; `F` or 0 releases.
fn pressed(args: &[OscType]) -> bool {
    match args.first() {
        None => true,
        Some(OscType::Bool(b)) => *b,
        Some(OscType::Int(i)) => *i != 0,
        Some(OscType::Float(f)) => *f != 0.0,
        Some(OscType::Double(f)) => *f != 0.0,
        Some(_) => true,
    }
}

/// Turns OSC requests into live-control commands, resolving scene names against the show.
fn apply_osc(
    listener: Res<OscListener>,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    mut commands: MessageWriter<ShowCommand>,
) {
    let scenes = &show.0.show.scenes;
    let index = |scene: &SceneRef| {
        let found = match scene {
            SceneRef::Number(n) => Some(n - 1).filter(|i| *i < scenes.len()),
            SceneRef::Name(name) => scenes.iter().position(|s| &s.name == name),
        };
        if found.is_none() {
            warn!("OSC: no scene {scene:?} (the show has {})", scenes.len());
        }
        found
    };
    let mut requests = Vec::new();
    for request in listener.requests.try_iter() {
        match request {
            OscRequest::Pattern(msg) => {
                let found = expand(&msg, &address_space(&show.0.show, playback.scene));
                if found.is_empty() {
                    debug!("OSC: {} matches nothing in this show", msg.addr);
                }
                requests.extend(found);
            }
            other => requests.push(other),
        }
    }
    let mut seen_scenes = HashSet::new();
    for request in requests {
        // Two names of one scene (number and name) in one pattern: one cut.
        if let OscRequest::Program(s) | OscRequest::Preview(s) = &request
            && let Some(i) = index(s)
            && !seen_scenes.insert((matches!(request, OscRequest::Program(_)), i))
        {
            continue;
        }
        let command = match request {
            OscRequest::Program(scene) => index(&scene).map(ShowCommand::Cut),
            OscRequest::Preview(scene) => index(&scene).map(ShowCommand::Preview),
            OscRequest::Take => Some(ShowCommand::Take),
            OscRequest::Auto => Some(ShowCommand::Auto(None)),
            OscRequest::TBar(position) => Some(ShowCommand::TBar(position, None)),
            OscRequest::Live(live) => Some(ShowCommand::Live(live)),
            OscRequest::Pattern(_) => None,
        };
        if let Some(command) = command {
            commands.write(command);
        }
    }
}

/// Where feedback goes, and what it was last told (so only changes are sent).
#[derive(Resource)]
struct Feedback {
    to: SocketAddr,
    sent: HashMap<String, Vec<OscType>>,
}

/// Sends what changed since last frame. A failed send is tried again next frame.
fn send_feedback(
    listener: Res<OscListener>,
    mut feedback: ResMut<Feedback>,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    scope: Option<Res<ScopeStatuses>>,
) {
    let scenes = &show.0.show.scenes;
    let scene = |i: Option<usize>| match i.and_then(|i| scenes.get(i).map(|s| (i, s))) {
        Some((i, s)) => vec![
            OscType::String(s.name.clone()),
            OscType::Int(i32::try_from(i + 1).unwrap_or(i32::MAX)),
        ],
        None => vec![OscType::String(String::new()), OscType::Int(0)],
    };
    let mut now = vec![
        ("/metadj/program".to_owned(), scene(Some(playback.scene))),
        ("/metadj/preview".to_owned(), scene(playback.preview)),
        (
            "/metadj/tbar".to_owned(),
            vec![OscType::Float(playback.tbar_position())],
        ),
    ];
    for (id, stats) in scope.iter().flat_map(|s| s.0.iter()) {
        now.push((
            format!("/metadj/scope/{id}/state"),
            vec![OscType::String(health::state_name(&stats.state))],
        ));
    }
    let Feedback { to, sent } = &mut *feedback;
    for (addr, args) in now {
        if sent.get(&addr) == Some(&args) {
            continue;
        }
        let packet = OscPacket::Message(rosc::OscMessage {
            addr: addr.clone(),
            args: args.clone(),
        });
        let Ok(bytes) = rosc::encoder::encode(&packet) else {
            continue;
        };
        match listener.socket.send_to(&bytes, *to) {
            Ok(_) => {
                sent.insert(addr, args);
            }
            // Nobody listening yet (ICMP port unreachable) is normal for feedback.
            Err(e) => debug!("OSC feedback to {to}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_to_requests_or_reasons() {
        assert_eq!(
            parse("/metadj/scene/2/program", &[]),
            Ok(Some(OscRequest::Program(SceneRef::Number(2))))
        );
        assert_eq!(
            parse("/metadj/scene/outro/program", &[OscType::Float(1.0)]),
            Ok(Some(OscRequest::Program(SceneRef::Name("outro".into()))))
        );
        // A button's release asks nothing.
        assert_eq!(
            parse("/metadj/scene/2/program", &[OscType::Int(0)]),
            Ok(None)
        );
        assert!(parse("/metadj/scene/0/program", &[]).is_err());
        assert_eq!(
            parse("/metadj/scene/3/preview", &[OscType::Bool(true)]),
            Ok(Some(OscRequest::Preview(SceneRef::Number(3))))
        );
        assert_eq!(parse("/metadj/take", &[]), Ok(Some(OscRequest::Take)));
        assert_eq!(parse("/metadj/auto", &[OscType::Int(0)]), Ok(None));
        assert_eq!(
            parse("/metadj/tbar", &[OscType::Float(0.25)]),
            Ok(Some(OscRequest::TBar(0.25)))
        );
        // A fader at 0 is a position, not a release; out of range clamps; NaN is refused.
        assert_eq!(
            parse("/metadj/tbar", &[OscType::Double(-3.0)]),
            Ok(Some(OscRequest::TBar(0.0)))
        );
        assert!(parse("/metadj/tbar", &[OscType::Float(f32::NAN)]).is_err());
        assert!(parse("/metadj/tbar", &[]).is_err());
        assert!(parse("/nope", &[]).is_err());
    }

    #[test]
    fn node_and_scope_addresses_carry_their_values() {
        let param = |node: &str, param: &str, index, value| {
            Ok(Some(OscRequest::Live(LiveEdit::Param {
                scene: None,
                node: node.into(),
                param: param.into(),
                index,
                value,
            })))
        };
        assert_eq!(
            parse("/metadj/node/key/threshold", &[OscType::Float(0.5)]),
            param("key", "threshold", 0, ParamInput::Float(0.5))
        );
        assert_eq!(
            parse(
                "/metadj/node/mix/layers.opacity/1/normalized",
                &[OscType::Int(1)]
            ),
            param("mix", "layers.opacity", 1, ParamInput::Normalized(1.0))
        );
        assert_eq!(
            parse(
                "/metadj/node/mix/layers.mode/2",
                &[OscType::String("add".into())]
            ),
            param("mix", "layers.mode", 2, ParamInput::Text("add".into()))
        );
        assert_eq!(
            parse("/metadj/node/k/invert", &[OscType::Bool(true)]),
            param("k", "invert", 0, ParamInput::Bool(true))
        );
        assert!(parse("/metadj/node/k/invert", &[]).is_err());
        assert!(parse("/metadj/node/k/x/one", &[OscType::Int(1)]).is_err());
        assert!(parse("/metadj/node/k/x/normalized", &[OscType::Float(f32::NAN)]).is_err());
        assert_eq!(
            parse(
                "/metadj/scope/scope/prompt",
                &[OscType::String("a neon fox".into()), OscType::Float(0.8)]
            ),
            Ok(Some(OscRequest::Live(LiveEdit::Prompt {
                scene: None,
                node: Some("scope".into()),
                text: "a neon fox".into(),
                weight: Some(0.8),
            })))
        );
        assert!(parse("/metadj/scope/scope/prompt", &[OscType::Int(3)]).is_err());
        assert_eq!(
            parse("/metadj/scope/scope/vace_scale", &[OscType::Double(1.5)]),
            Ok(Some(OscRequest::Live(LiveEdit::VaceScale {
                scene: None,
                value: 1.5,
            })))
        );
        assert!(parse("/metadj/scope/scope/what", &[]).is_err());
    }

    #[test]
    fn patterns_expand_to_one_request_per_target() {
        let show = show::io::load_str(
            r#"(version: 2, canvas: (64, 36), scenes: [
              (name: "one", nodes: { "a": (kind: solid(())), "b": (kind: blend((layers: [(mode: normal, opacity: 1.0), (mode: normal, opacity: 1.0)]))), "out": (kind: output(())) },
               edges: [(from: "a", to: "b", port: "0"), (from: "a", to: "b", port: "1"), (from: "b", to: "out")]),
              (name: "two", nodes: { "out": (kind: output(())) }, edges: [])])"#,
            std::path::Path::new("x.ron"),
        )
        .unwrap();
        let space = address_space(&show, 0);
        let msg = |addr: &str, args| rosc::OscMessage {
            addr: addr.into(),
            args,
        };
        let opacity = expand(
            &msg("/metadj/node/*/layers.opacity/*", vec![OscType::Float(0.5)]),
            &space,
        );
        assert_eq!(opacity.len(), 2, "both layers of the blend: {opacity:?}");
        // Scene 2 by number and by name are two addresses; `[12]` picks numbers only.
        let cuts = expand(&msg("/metadj/scene/[12]/program", vec![]), &space);
        assert_eq!(
            cuts,
            vec![
                OscRequest::Program(SceneRef::Number(1)),
                OscRequest::Program(SceneRef::Number(2))
            ]
        );
        assert!(expand(&msg("/metadj/nothing/*", vec![]), &space).is_empty());
    }
}
