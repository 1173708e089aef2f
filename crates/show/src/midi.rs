//! MIDI mappings, saved with the show: their targets are this show's scenes and nodes, so a
//! show carried to another machine with the same controller plays the same.

use serde::{Deserialize, Serialize};

use crate::NodeId;

/// One control of a controller: a CC (fader, knob) or a note (pad, key), on a 1-based channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MidiControl {
    Cc { channel: u8, number: u8 },
    Note { channel: u8, number: u8 },
}

impl MidiControl {
    /// `"ch 1 CC 7"`, `"ch 10 note 36"`.
    pub fn label(&self) -> String {
        match self {
            MidiControl::Cc { channel, number } => format!("ch {channel} CC {number}"),
            MidiControl::Note { channel, number } => format!("ch {channel} note {number}"),
        }
    }
}

/// What a control does. Scenes are named (a renumbering keeps the mapping); parameters are
/// those of the program scene, by spec-table name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MidiTarget {
    Program(String),
    Preview(String),
    Take,
    Auto,
    TBar,
    Param {
        node: NodeId,
        param: String,
        #[serde(default)]
        index: usize,
    },
    VaceScale,
    /// Recalls the prompt preset of this name in the program scene.
    Preset(String),
}

impl MidiTarget {
    /// Whether a fader drives it (a CC moves it through its range) rather than a press.
    pub fn is_continuous(&self) -> bool {
        matches!(
            self,
            MidiTarget::TBar | MidiTarget::Param { .. } | MidiTarget::VaceScale
        )
    }

    pub fn label(&self) -> String {
        match self {
            MidiTarget::Program(s) => format!("program “{s}”"),
            MidiTarget::Preview(s) => format!("preview “{s}”"),
            MidiTarget::Take => "Take".into(),
            MidiTarget::Auto => "Auto".into(),
            MidiTarget::TBar => "T-bar".into(),
            MidiTarget::Param { node, param, index } if *index == 0 => format!("{node}.{param}"),
            MidiTarget::Param { node, param, index } => format!("{node}.{param}[{index}]"),
            MidiTarget::VaceScale => "reference strength".into(),
            MidiTarget::Preset(p) => format!("preset “{p}”"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MidiMapping {
    pub control: MidiControl,
    pub target: MidiTarget,
    /// The part of the target's range a fader sweeps, as fractions `(bottom, top)` of it (a
    /// fader for 40-60 % of a key's similarity); `None` is all of it. `bottom > top` reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(f32, f32)>,
}
