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

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};
use rosc::{OscPacket, OscType};

use crate::AppSystems;
use crate::control::{LiveEdit, ParamInput, ShowCommand};
use crate::showfile::CurrentShow;

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
}

#[derive(Debug, Clone, PartialEq)]
pub enum SceneRef {
    Number(usize),
    Name(String),
}

/// Listens for OSC on `addr` (`127.0.0.1:9000` by default; port 0 picks a free one).
pub struct OscPlugin {
    pub addr: SocketAddr,
}

/// The running listener: where it listens, and what it could not use.
#[derive(Resource)]
pub struct OscListener {
    pub addr: SocketAddr,
    requests: Receiver<OscRequest>,
    /// Packets that did not decode or named an address we do not know.
    pub rejected: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
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
        std::thread::Builder::new()
            .name("osc-listener".into())
            .spawn(move || listen(&socket, &tx, &r, &s))?;
        Ok(OscListener {
            addr,
            requests,
            rejected,
            stop,
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
    for request in listener.requests.try_iter() {
        let command = match request {
            OscRequest::Program(scene) => index(&scene).map(ShowCommand::Cut),
            OscRequest::Preview(scene) => index(&scene).map(ShowCommand::Preview),
            OscRequest::Take => Some(ShowCommand::Take),
            OscRequest::Auto => Some(ShowCommand::Auto(None)),
            OscRequest::TBar(position) => Some(ShowCommand::TBar(position, None)),
            OscRequest::Live(live) => Some(ShowCommand::Live(live)),
        };
        if let Some(command) = command {
            commands.write(command);
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
}
