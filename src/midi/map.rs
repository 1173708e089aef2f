//! From raw MIDI bytes to what they ask of the show: parsing, learn and soft takeover. Pure
//! (no ports, no Bevy), so it is tested on byte strings; no MIDI device can exist here.

use std::collections::HashMap;

use show::midi::{MidiControl, MidiMapping, MidiTarget};

/// A fader is picked up when it comes this close to the target's value (about 3/127).
pub const PICKUP: f32 = 0.025;

/// One channel-voice message we use. Others (clock, sysex, pitch bend) are ignored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MidiEvent {
    Cc {
        channel: u8,
        number: u8,
        value: u8,
    },
    NoteOn {
        channel: u8,
        number: u8,
        velocity: u8,
    },
    NoteOff {
        channel: u8,
        number: u8,
    },
}

/// Parses one complete message as a port delivers it; `None` for what we do not use or for
/// malformed bytes (a data byte with the high bit set, a short message).
pub fn parse(bytes: &[u8]) -> Option<MidiEvent> {
    let (&status, data) = bytes.split_first()?;
    let channel = (status & 0x0f) + 1;
    let (a, b) = match data {
        [a, b, ..] if a & 0x80 == 0 && b & 0x80 == 0 => (*a, *b),
        _ => return None,
    };
    match status & 0xf0 {
        0x80 => Some(MidiEvent::NoteOff { channel, number: a }),
        // Note on with velocity 0 is a note off (running-status senders use it).
        0x90 if b == 0 => Some(MidiEvent::NoteOff { channel, number: a }),
        0x90 => Some(MidiEvent::NoteOn {
            channel,
            number: a,
            velocity: b,
        }),
        0xb0 => Some(MidiEvent::Cc {
            channel,
            number: a,
            value: b,
        }),
        _ => None,
    }
}

impl MidiEvent {
    pub fn control(&self) -> MidiControl {
        match *self {
            MidiEvent::Cc {
                channel, number, ..
            } => MidiControl::Cc { channel, number },
            MidiEvent::NoteOn {
                channel, number, ..
            }
            | MidiEvent::NoteOff { channel, number } => MidiControl::Note { channel, number },
        }
    }
}

/// What one event does.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Fire a press target, or move a continuous one to `Some(0..=1)`.
    Fire(MidiTarget, Option<f32>),
    /// The control being learned: the show's mappings with it added (replacing its old one).
    Learned(Vec<MidiMapping>),
    /// A fader away from the target's value: ignored until it reaches it (soft takeover).
    Waiting { fader: f32, target: f32 },
}

/// Learn state and per-fader takeover state.
#[derive(Debug, Default)]
pub struct Mapper {
    /// The target the next control will be mapped to.
    pub learning: Option<MidiTarget>,
    faders: HashMap<MidiControl, Fader>,
    /// Button CCs (127 pressed, 0 released) fire on the rising edge only.
    pressed: HashMap<MidiControl, bool>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Fader {
    /// The value this fader last sent to the target, while it holds it.
    holding: Option<f32>,
    /// Its previous position, to notice it crossing the target's value between two messages.
    last: Option<f32>,
}

impl Mapper {
    /// Handles one event. `current` is a continuous target's value now (0..=1), so a fader
    /// that does not match it waits instead of jumping the show.
    pub fn handle(
        &mut self,
        event: MidiEvent,
        mappings: &[MidiMapping],
        current: impl Fn(&MidiTarget) -> Option<f32>,
    ) -> Vec<Outcome> {
        let control = event.control();
        if let Some(target) = self.learning.clone() {
            let usable = match event {
                MidiEvent::Cc { .. } => true,
                // A pad cannot drive a fader's target.
                MidiEvent::NoteOn { .. } => !target.is_continuous(),
                MidiEvent::NoteOff { .. } => false,
            };
            if usable {
                self.learning = None;
                let mut next: Vec<MidiMapping> = mappings
                    .iter()
                    .filter(|m| m.control != control)
                    .cloned()
                    .collect();
                next.push(MidiMapping {
                    control,
                    target,
                    range: None,
                });
                self.faders.remove(&control);
                return vec![Outcome::Learned(next)];
            }
            return Vec::new();
        }
        let mut out = Vec::new();
        for m in mappings.iter().filter(|m| m.control == control) {
            match (event, m.target.is_continuous()) {
                (MidiEvent::Cc { value, .. }, true) => {
                    let (lo, hi) = m.range.unwrap_or((0.0, 1.0));
                    let v = lo + f32::from(value) / 127.0 * (hi - lo);
                    let now = current(&m.target);
                    out.push(self.fader(control, v, now, &m.target));
                }
                (MidiEvent::Cc { value, .. }, false) => {
                    let down = value >= 64;
                    let was = self.pressed.insert(control, down).unwrap_or(false);
                    if down && !was {
                        out.push(Outcome::Fire(m.target.clone(), None));
                    }
                }
                (MidiEvent::NoteOn { .. }, false) => {
                    out.push(Outcome::Fire(m.target.clone(), None))
                }
                (MidiEvent::NoteOn { velocity, .. }, true) => {
                    // A velocity-sensitive pad on a fader target: jumps (it has no position).
                    out.push(Outcome::Fire(
                        m.target.clone(),
                        Some(f32::from(velocity) / 127.0),
                    ));
                }
                (MidiEvent::NoteOff { .. }, _) => {}
            }
        }
        out
    }

    fn fader(
        &mut self,
        control: MidiControl,
        v: f32,
        now: Option<f32>,
        target: &MidiTarget,
    ) -> Outcome {
        let f = self.faders.entry(control).or_default();
        let Some(now) = now else {
            // Nothing to take over from (the node is not in the program scene): follow.
            f.last = Some(v);
            return Outcome::Fire(target.clone(), Some(v));
        };
        // Someone else moved the target (the console, another surface, a scene change).
        if f.holding.is_some_and(|h| (h - now).abs() > PICKUP) {
            f.holding = None;
        }
        let crossed = f.last.is_some_and(|l| (l - now) * (v - now) <= 0.0);
        f.last = Some(v);
        if f.holding.is_some() || (v - now).abs() <= PICKUP || crossed {
            f.holding = Some(v);
            Outcome::Fire(target.clone(), Some(v))
        } else {
            Outcome::Waiting {
                fader: v,
                target: now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CC7: MidiControl = MidiControl::Cc {
        channel: 1,
        number: 7,
    };

    fn tbar() -> Vec<MidiMapping> {
        vec![MidiMapping {
            control: CC7,
            target: MidiTarget::TBar,
            range: None,
        }]
    }

    #[test]
    fn bytes_parse_to_events() {
        assert_eq!(
            parse(&[0xb0, 7, 100]),
            Some(MidiEvent::Cc {
                channel: 1,
                number: 7,
                value: 100
            })
        );
        assert_eq!(
            parse(&[0x99, 36, 90]),
            Some(MidiEvent::NoteOn {
                channel: 10,
                number: 36,
                velocity: 90
            })
        );
        assert_eq!(
            parse(&[0x90, 36, 0]),
            Some(MidiEvent::NoteOff {
                channel: 1,
                number: 36
            })
        );
        assert_eq!(
            parse(&[0x83, 1, 2]),
            Some(MidiEvent::NoteOff {
                channel: 4,
                number: 1
            })
        );
        // Clock, pitch bend, short and malformed messages are not ours.
        assert_eq!(parse(&[0xf8]), None);
        assert_eq!(parse(&[0xe0, 0, 64]), None);
        assert_eq!(parse(&[0xb0, 7]), None);
        assert_eq!(parse(&[0xb0, 0x87, 1]), None);
        assert_eq!(parse(&[]), None);
    }

    #[test]
    fn learn_maps_the_next_control_and_replaces_its_old_mapping() {
        let mut m = Mapper {
            learning: Some(MidiTarget::Take),
            ..Mapper::default()
        };
        // A note-off is not a control being moved.
        assert!(
            m.handle(parse(&[0x80, 36, 0]).unwrap(), &tbar(), |_| None)
                .is_empty()
        );
        let out = m.handle(parse(&[0xb0, 7, 127]).unwrap(), &tbar(), |_| None);
        assert_eq!(
            out,
            vec![Outcome::Learned(vec![MidiMapping {
                control: CC7,
                target: MidiTarget::Take,
                range: None,
            }])]
        );
        assert_eq!(m.learning, None);
        // A pad cannot be learned for a fader target; a CC can.
        m.learning = Some(MidiTarget::VaceScale);
        assert!(
            m.handle(parse(&[0x90, 36, 100]).unwrap(), &[], |_| None)
                .is_empty()
        );
        assert!(matches!(
            m.handle(parse(&[0xb1, 20, 3]).unwrap(), &[], |_| None)[..],
            [Outcome::Learned(_)]
        ));
    }

    #[test]
    fn a_fader_away_from_the_value_waits_until_it_reaches_it() {
        let mut m = Mapper::default();
        let at = |v: u8| parse(&[0xb0, 7, v]).unwrap();
        // The T-bar is at 0.5; the fader starts at the top: nothing happens.
        assert_eq!(
            m.handle(at(127), &tbar(), |_| Some(0.5)),
            vec![Outcome::Waiting {
                fader: 1.0,
                target: 0.5
            }]
        );
        assert!(matches!(
            m.handle(at(100), &tbar(), |_| Some(0.5))[..],
            [Outcome::Waiting { .. }]
        ));
        // It passes the value between two messages: picked up, and followed from then on.
        assert_eq!(
            m.handle(at(50), &tbar(), |_| Some(0.5)),
            vec![Outcome::Fire(MidiTarget::TBar, Some(50.0 / 127.0))]
        );
        assert_eq!(
            m.handle(at(10), &tbar(), |_| Some(50.0 / 127.0)),
            vec![Outcome::Fire(MidiTarget::TBar, Some(10.0 / 127.0))]
        );
        // Another surface moves the target to 0.9: the fader lets go until it gets there.
        assert!(matches!(
            m.handle(at(12), &tbar(), |_| Some(0.9))[..],
            [Outcome::Waiting { .. }]
        ));
        // Within the pickup distance counts as there.
        assert!(matches!(
            m.handle(at(113), &tbar(), |_| Some(0.9))[..],
            [Outcome::Fire(_, Some(_))]
        ));
    }

    #[test]
    fn buttons_fire_once_per_press() {
        let take = vec![
            MidiMapping {
                control: CC7,
                target: MidiTarget::Take,
                range: None,
            },
            MidiMapping {
                control: MidiControl::Note {
                    channel: 10,
                    number: 36,
                },
                target: MidiTarget::Program("intro".into()),
                range: None,
            },
        ];
        let mut m = Mapper::default();
        let fire = |m: &mut Mapper, bytes: &[u8]| m.handle(parse(bytes).unwrap(), &take, |_| None);
        assert_eq!(
            fire(&mut m, &[0xb0, 7, 127]),
            vec![Outcome::Fire(MidiTarget::Take, None)]
        );
        // Held, then released: nothing more.
        assert!(fire(&mut m, &[0xb0, 7, 127]).is_empty());
        assert!(fire(&mut m, &[0xb0, 7, 0]).is_empty());
        assert_eq!(fire(&mut m, &[0xb0, 7, 127]).len(), 1);
        assert_eq!(
            fire(&mut m, &[0x99, 36, 1]),
            vec![Outcome::Fire(MidiTarget::Program("intro".into()), None)]
        );
        assert!(fire(&mut m, &[0x89, 36, 0]).is_empty());
        // Another channel is another control.
        assert!(fire(&mut m, &[0x98, 36, 100]).is_empty());
    }

    #[test]
    fn a_range_maps_the_fader_onto_part_of_the_target() {
        let mut m = Mapper::default();
        let mapping = vec![MidiMapping {
            control: CC7,
            target: MidiTarget::VaceScale,
            range: Some((0.4, 0.6)),
        }];
        let at = |v: u8| parse(&[0xb0, 7, v]).unwrap();
        // The fader's bottom is 0.4 of the range, where the target is: picked up at once.
        assert_eq!(
            m.handle(at(0), &mapping, |_| Some(0.4)),
            vec![Outcome::Fire(MidiTarget::VaceScale, Some(0.4))]
        );
        let top = m.handle(at(127), &mapping, |_| Some(0.4));
        assert!(
            matches!(top[..], [Outcome::Fire(_, Some(v))] if (v - 0.6).abs() < 1e-6),
            "{top:?}"
        );
    }
}
