//! The operator's keys: which chord does what, with defaults, loaded from and saved to a
//! per-machine file by the host (keys belong to the operator's keyboard, not to the show).
//!
//! Keys never fire while a text field has focus ([`crate::shortcuts`]).

use serde::{Deserialize, Serialize};

/// What a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAction {
    /// Scene `n` (1-based) to program.
    Program(u8),
    /// Scene `n` (1-based) to preview.
    Preview(u8),
    Take,
    Auto,
    /// The T-bar up or down by [`TBAR_STEP`].
    TBarUp,
    TBarDown,
    /// Prompt preset `n` (1-based, in the show's order) in the program scene.
    Preset(u8),
    /// The program window between fullscreen and windowed.
    Fullscreen,
}

/// The key egui calls `name` (`"A"`, `"1"`, `"Space"`), for hosts without egui in scope.
pub fn egui_key(name: &str) -> Option<egui::Key> {
    egui::Key::from_name(name)
}

/// How far one T-bar key moves the bar.
pub const TBAR_STEP: f32 = 0.1;

impl KeyAction {
    pub fn label(&self) -> String {
        match self {
            KeyAction::Program(n) => format!("Scene {n} to program"),
            KeyAction::Preview(n) => format!("Scene {n} to preview"),
            KeyAction::Take => "Take".into(),
            KeyAction::Auto => "Auto".into(),
            KeyAction::TBarUp => "T-bar up".into(),
            KeyAction::TBarDown => "T-bar down".into(),
            KeyAction::Preset(n) => format!("Prompt preset {n}"),
            KeyAction::Fullscreen => "Program window fullscreen".into(),
        }
    }
}

/// A key with modifiers, by egui's key name (`"1"`, `"Space"`, `"F1"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chord {
    pub key: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shift: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ctrl: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alt: bool,
}

impl Chord {
    pub fn plain(key: egui::Key) -> Self {
        Chord {
            key: key.name().to_owned(),
            shift: false,
            ctrl: false,
            alt: false,
        }
    }

    pub fn key(&self) -> Option<egui::Key> {
        egui::Key::from_name(&self.key)
    }

    pub fn modifiers(&self) -> egui::Modifiers {
        egui::Modifiers {
            shift: self.shift,
            ctrl: self.ctrl,
            command: self.ctrl,
            alt: self.alt,
            mac_cmd: false,
        }
    }

    pub fn label(&self) -> String {
        let mut s = String::new();
        for (on, name) in [
            (self.ctrl, "Ctrl+"),
            (self.alt, "Alt+"),
            (self.shift, "Shift+"),
        ] {
            if on {
                s.push_str(name);
            }
        }
        s + &self.key
    }
}

/// Every binding; one chord does one thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keymap {
    pub keys: Vec<(KeyAction, Chord)>,
}

const DIGITS: [egui::Key; 9] = [
    egui::Key::Num1,
    egui::Key::Num2,
    egui::Key::Num3,
    egui::Key::Num4,
    egui::Key::Num5,
    egui::Key::Num6,
    egui::Key::Num7,
    egui::Key::Num8,
    egui::Key::Num9,
];

const F_KEYS: [egui::Key; 9] = [
    egui::Key::F1,
    egui::Key::F2,
    egui::Key::F3,
    egui::Key::F4,
    egui::Key::F5,
    egui::Key::F6,
    egui::Key::F7,
    egui::Key::F8,
    egui::Key::F9,
];

impl Default for Keymap {
    /// 1–9 cut, Shift+1–9 preview (as the console always had), Space takes, Enter runs Auto,
    /// `[`/`]` nudge the T-bar, F1–F9 recall prompt presets, F11 fullscreens the program.
    fn default() -> Self {
        let mut keys = Vec::new();
        for (n, key) in (1u8..).zip(DIGITS) {
            keys.push((KeyAction::Program(n), Chord::plain(key)));
            let shifted = Chord {
                shift: true,
                ..Chord::plain(key)
            };
            keys.push((KeyAction::Preview(n), shifted));
        }
        keys.push((KeyAction::Take, Chord::plain(egui::Key::Space)));
        keys.push((KeyAction::Auto, Chord::plain(egui::Key::Enter)));
        keys.push((KeyAction::TBarUp, Chord::plain(egui::Key::CloseBracket)));
        keys.push((KeyAction::TBarDown, Chord::plain(egui::Key::OpenBracket)));
        for (n, key) in (1u8..).zip(F_KEYS) {
            keys.push((KeyAction::Preset(n), Chord::plain(key)));
        }
        keys.push((KeyAction::Fullscreen, Chord::plain(egui::Key::F11)));
        Keymap { keys }
    }
}

impl Keymap {
    /// Parses a keymap file's text; the error names line:column and what is wrong. Unknown key
    /// names are errors too, so a typo does not silently unbind a key.
    pub fn from_ron(text: &str) -> Result<Keymap, String> {
        let map: Keymap = ron::from_str(text).map_err(|e| {
            let p = e.span.start;
            format!("{}:{}: {}", p.line, p.col, e.code)
        })?;
        if let Some((_, bad)) = map.keys.iter().find(|(_, c)| c.key().is_none()) {
            return Err(format!(
                "unknown key name {:?} (egui's names: \"A\", \"1\", \"Space\", \"F1\")",
                bad.key
            ));
        }
        Ok(map)
    }

    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new().depth_limit(3);
        ron::ser::to_string_pretty(self, config).unwrap_or_default()
    }

    pub fn chord(&self, action: KeyAction) -> Option<&Chord> {
        self.keys.iter().find(|(a, _)| *a == action).map(|(_, c)| c)
    }

    /// Binds `chord` to `action`, taking it from whatever had it (one chord, one action).
    pub fn bind(&mut self, action: KeyAction, chord: Chord) {
        self.keys.retain(|(a, c)| *a != action && *c != chord);
        self.keys.push((action, chord));
    }

    /// The actions in the order the keys window lists them: the studio keys first.
    pub fn actions() -> Vec<KeyAction> {
        let mut all: Vec<KeyAction> = Keymap::default().keys.into_iter().map(|(a, _)| a).collect();
        all.sort_by_key(|a| match a {
            KeyAction::Take | KeyAction::Auto | KeyAction::TBarUp | KeyAction::TBarDown => 0,
            KeyAction::Fullscreen => 1,
            KeyAction::Program(_) | KeyAction::Preview(_) => 2,
            KeyAction::Preset(_) => 3,
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_bind_moves_a_chord() {
        let map = Keymap::default();
        assert_eq!(Keymap::from_ron(&map.to_ron()), Ok(map.clone()));
        let mut map = map;
        // Space moves from Take to Auto: Take is unbound, Enter (Auto's old key) is free.
        map.bind(KeyAction::Auto, Chord::plain(egui::Key::Space));
        assert_eq!(map.chord(KeyAction::Take), None);
        assert_eq!(
            map.chord(KeyAction::Auto).map(Chord::label),
            Some("Space".into())
        );
        assert_eq!(map.keys.len(), Keymap::default().keys.len() - 1);
    }

    #[test]
    fn bad_files_say_where_and_what() {
        let e = Keymap::from_ron("(keys: [(take, (key: \"Spase\"))])").unwrap_err();
        assert!(e.contains("Spase"), "{e}");
        let e = Keymap::from_ron("(keys: [(tayk, (key: \"Space\"))])").unwrap_err();
        assert!(e.starts_with("1:"), "{e}");
        assert!(Keymap::from_ron("(keys: [], extra: 1)").is_err());
    }
}
