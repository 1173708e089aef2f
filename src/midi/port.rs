//! MIDI input ports: a `midi-ports` thread connects every input port it finds, rescans every
//! few seconds (midir has no hot-plug events) and forwards each message's bytes into a
//! bounded channel. Without a MIDI system (no ALSA sequencer, as in containers) it says so once
//! and retries rarely.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::Sender;
use tracing::{info, warn};

/// How often the scanner looks again.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// For ports that came or went.
    pub rescan: Duration,
    /// For a MIDI system that was missing (libasound prints a line to stderr each time).
    pub retry_unavailable: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            rescan: Duration::from_secs(3),
            retry_unavailable: Duration::from_secs(60),
        }
    }
}

/// What the console shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum MidiStatus {
    #[default]
    Starting,
    /// No MIDI system: the reason, as the backend gave it.
    Unavailable(String),
    /// Connected input ports, by name.
    Ports(Vec<String>),
    /// MIDI is off (`--midi off`).
    Off,
}

impl MidiStatus {
    pub fn label(&self) -> String {
        match self {
            MidiStatus::Starting => "MIDI: starting".into(),
            MidiStatus::Unavailable(_) => "MIDI: unavailable".into(),
            MidiStatus::Ports(p) if p.is_empty() => "MIDI: no ports".into(),
            MidiStatus::Ports(p) => format!("MIDI: {}", p.join(", ")),
            MidiStatus::Off => "MIDI: off".into(),
        }
    }
}

/// A source of MIDI input ports (midir here; a fake in tests).
pub trait MidiBackend: Send + 'static {
    /// Names of the input ports now, or why there is no MIDI system.
    fn ports(&mut self) -> Result<Vec<String>, String>;
    /// Opens `port`, forwarding each message to `tx`; dropping the handle closes it.
    fn connect(&mut self, port: &str, tx: Sender<Vec<u8>>) -> Result<Box<dyn Send>, String>;
}

/// Runs the port scanner until `stop`.
pub fn spawn(
    mut backend: impl MidiBackend,
    tx: Sender<Vec<u8>>,
    status: Arc<Mutex<MidiStatus>>,
    stop: Arc<AtomicBool>,
    timing: Timing,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("midi-ports".into())
        .spawn(move || {
            let mut open: HashMap<String, Box<dyn Send>> = HashMap::new();
            let mut said_unavailable = false;
            while !stop.load(Ordering::Relaxed) {
                let wait = match backend.ports() {
                    Err(why) => {
                        if !said_unavailable {
                            warn!("MIDI unavailable: {why} (MIDI controllers will not work)");
                            said_unavailable = true;
                        }
                        open.clear();
                        set(&status, MidiStatus::Unavailable(why));
                        timing.retry_unavailable
                    }
                    Ok(ports) => {
                        said_unavailable = false;
                        open.retain(|name, _| {
                            let keep = ports.contains(name);
                            if !keep {
                                info!("MIDI: {name} disconnected");
                            }
                            keep
                        });
                        for name in &ports {
                            if open.contains_key(name) {
                                continue;
                            }
                            match backend.connect(name, tx.clone()) {
                                Ok(handle) => {
                                    info!("MIDI: {name} connected");
                                    open.insert(name.clone(), handle);
                                }
                                Err(e) => warn!("MIDI: cannot open {name}: {e}"),
                            }
                        }
                        let mut names: Vec<String> = open.keys().cloned().collect();
                        names.sort();
                        set(&status, MidiStatus::Ports(names));
                        timing.rescan
                    }
                };
                // Sleep in short steps so `stop` is noticed quickly.
                let step = wait.min(Duration::from_millis(100));
                let mut slept = Duration::ZERO;
                while slept < wait && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(step);
                    slept += step;
                }
            }
        })
        .map(|_| ())
}

fn set(status: &Mutex<MidiStatus>, next: MidiStatus) {
    if let Ok(mut s) = status.lock()
        && *s != next
    {
        *s = next;
    }
}

/// The system's MIDI through midir (ALSA sequencer on Linux).
pub struct Midir;

impl MidiBackend for Midir {
    fn ports(&mut self) -> Result<Vec<String>, String> {
        let input = midir::MidiInput::new("metadj-scope").map_err(|e| e.to_string())?;
        Ok(input
            .ports()
            .iter()
            .filter_map(|p| input.port_name(p).ok())
            // Our own ports (and ALSA's "Midi Through") would echo what we send.
            .filter(|n| !n.contains("metadj-scope") && !n.starts_with("Midi Through"))
            .collect())
    }

    fn connect(&mut self, port: &str, tx: Sender<Vec<u8>>) -> Result<Box<dyn Send>, String> {
        let mut input = midir::MidiInput::new("metadj-scope").map_err(|e| e.to_string())?;
        input.ignore(midir::Ignore::All);
        let found = input
            .ports()
            .into_iter()
            .find(|p| input.port_name(p).is_ok_and(|n| n == port))
            .ok_or_else(|| format!("port {port} is gone"))?;
        let connection = input
            .connect(
                &found,
                "metadj-scope-in",
                // midir's thread: never block it; a full channel drops the message.
                move |_, bytes, _| {
                    let _ = tx.try_send(bytes.to_vec());
                },
                (),
            )
            .map_err(|e| e.to_string())?;
        Ok(Box::new(connection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ports that come and go, as a hot-plugged controller does.
    struct Fake {
        scans: Arc<Mutex<Vec<Result<Vec<String>, String>>>>,
    }

    impl MidiBackend for Fake {
        fn ports(&mut self) -> Result<Vec<String>, String> {
            let mut s = self.scans.lock().unwrap();
            if s.len() > 1 {
                s.remove(0)
            } else {
                s[0].clone()
            }
        }
        fn connect(&mut self, _: &str, tx: Sender<Vec<u8>>) -> Result<Box<dyn Send>, String> {
            tx.send(vec![0xb0, 1, 2]).map_err(|e| e.to_string())?;
            Ok(Box::new(()))
        }
    }

    #[test]
    fn the_midir_backend_reports_a_missing_midi_system_instead_of_failing() {
        // This machine has no ALSA sequencer (no /dev/snd/seq). Where one exists, ports list.
        let result = Midir.ports();
        if !std::path::Path::new("/dev/snd/seq").exists() {
            let why = result.expect_err("no sequencer here");
            assert!(!why.is_empty());
        }
    }

    #[test]
    fn scanner_reports_unavailable_then_connects_a_plugged_port_and_drops_it_when_gone() {
        let scans = Arc::new(Mutex::new(vec![
            Err("no sequencer".to_owned()),
            Ok(vec!["pad".to_owned()]),
            Ok(vec!["pad".to_owned()]),
            Ok(vec![]),
        ]));
        let status = Arc::new(Mutex::new(MidiStatus::Starting));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = crossbeam_channel::bounded(8);
        let timing = Timing {
            rescan: Duration::from_millis(20),
            retry_unavailable: Duration::from_millis(20),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let watch = {
            let (status, seen, stop) = (status.clone(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let s = status.lock().unwrap().clone();
                    let mut seen = seen.lock().unwrap();
                    if seen.last() != Some(&s) {
                        seen.push(s);
                    }
                    drop(seen);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        spawn(Fake { scans }, tx, status.clone(), stop.clone(), timing).unwrap();
        // The port's first message arrives once it is connected.
        let bytes = rx.recv_timeout(Duration::from_secs(5)).expect("connected");
        assert_eq!(bytes, vec![0xb0, 1, 2]);
        let start = std::time::Instant::now();
        while *status.lock().unwrap() != MidiStatus::Ports(vec![]) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{:?}",
                status.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        watch.join().unwrap();
        let seen = seen.lock().unwrap();
        assert!(
            seen.contains(&MidiStatus::Unavailable("no sequencer".into())),
            "{seen:?}"
        );
        assert!(
            seen.contains(&MidiStatus::Ports(vec!["pad".into()])),
            "{seen:?}"
        );
        assert_eq!(
            MidiStatus::Unavailable(String::new()).label(),
            "MIDI: unavailable"
        );
        // Only one connection for a port seen on several scans.
        assert!(rx.try_recv().is_err());
    }
}
