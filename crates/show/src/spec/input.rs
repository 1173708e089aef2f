//! Values from control surfaces (OSC arguments, obs-websocket JSON, MIDI faders), which carry
//! plain numbers, flags and strings, made into a row's [`Value`] by the row's type.

use std::path::PathBuf;

use super::{ParamSpec, ParamType, Value};

/// A value as a control surface sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Float(f64),
    Int(i64),
    Bool(bool),
    Text(String),
    /// A fader position in `0..=1`, mapped onto the row's range (a choice's options, in order;
    /// a flag is on from 0.5).
    Normalized(f32),
}

impl ParamSpec {
    /// The value `input` stands for in this row, checked against the row's range; the message
    /// says what the row takes. Colours and pairs are not set from one number.
    pub fn coerce(&self, input: &Input) -> Result<Value, String> {
        let value = match (&self.ty, input) {
            (ParamType::Float { min, max, .. }, i) => Value::Float(match i {
                Input::Float(x) => *x as f32,
                Input::Int(n) => *n as f32,
                Input::Normalized(n) => min + n.clamp(0.0, 1.0) * (max - min),
                _ => return Err(self.takes("a number")),
            }),
            (ParamType::Int { min, max }, i) => Value::Int(match i {
                Input::Int(n) => *n,
                Input::Float(x) if x.is_finite() && x.fract() == 0.0 => *x as i64,
                // In f64: a seed's range spans all of i64. The cast saturates.
                Input::Normalized(n) if n.is_finite() => {
                    let (lo, hi) = (*min as f64, *max as f64);
                    (lo + f64::from(n.clamp(0.0, 1.0)) * (hi - lo)).round() as i64
                }
                _ => return Err(self.takes("a whole number")),
            }),
            (ParamType::Bool, i) => Value::Bool(match i {
                Input::Bool(b) => *b,
                Input::Int(n) => *n != 0,
                Input::Float(x) => *x >= 0.5,
                Input::Normalized(n) => *n >= 0.5,
                Input::Text(_) => return Err(self.takes("true or false")),
            }),
            (ParamType::Choice(names), i) => {
                let pick = match i {
                    Input::Text(s) => names.iter().find(|n| **n == s.as_str()),
                    Input::Int(n) => usize::try_from(*n).ok().and_then(|n| names.get(n)),
                    Input::Normalized(n) if n.is_finite() && !names.is_empty() => {
                        let last = names.len() - 1;
                        names.get((f64::from(n.clamp(0.0, 1.0)) * last as f64).round() as usize)
                    }
                    _ => None,
                };
                match pick {
                    Some(name) => Value::Choice(name),
                    None => return Err(self.takes(&format!("one of {}", names.join(", ")))),
                }
            }
            (ParamType::Text, Input::Text(s)) => Value::Text(s.clone()),
            (ParamType::Path, Input::Text(s)) => Value::Path(PathBuf::from(s)),
            (ParamType::Text | ParamType::Path, _) => return Err(self.takes("a string")),
            (ParamType::Color, _) => return Err(self.takes("a colour (set it in the console)")),
            (ParamType::Vec2 { .. }, _) => return Err(self.takes("a pair (set it in the console)")),
        };
        self.check(&value)
            .map(|()| value)
            .map_err(|e| format!("{} {e}", self.name))
    }

    /// Where `value` sits in this row's range, in `0..=1` (the inverse of
    /// [`Input::Normalized`]); `None` for rows without a range (text, colours, pairs).
    pub fn normalize(&self, value: &Value) -> Option<f32> {
        let frac = |x: f64, lo: f64, hi: f64| {
            (hi > lo).then(|| ((x - lo) / (hi - lo)).clamp(0.0, 1.0) as f32)
        };
        match (&self.ty, value) {
            (ParamType::Float { min, max, .. }, Value::Float(x)) => {
                frac(f64::from(*x), f64::from(*min), f64::from(*max))
            }
            (ParamType::Int { min, max }, Value::Int(x)) => {
                frac(*x as f64, *min as f64, *max as f64)
            }
            (ParamType::Bool, Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
            (ParamType::Choice(names), Value::Choice(c)) => {
                let i = names.iter().position(|n| n == c)?;
                frac(i as f64, 0.0, names.len().saturating_sub(1) as f64)
            }
            _ => None,
        }
    }

    fn takes(&self, what: &str) -> String {
        format!("{} takes {what}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    #[test]
    fn numbers_flags_and_names_become_the_rows_type() {
        let opacity = spec::param("blend", "layers.opacity").expect("row");
        assert_eq!(opacity.coerce(&Input::Float(0.25)), Ok(Value::Float(0.25)));
        assert_eq!(opacity.coerce(&Input::Int(1)), Ok(Value::Float(1.0)));
        assert!(
            opacity
                .coerce(&Input::Float(1.5))
                .unwrap_err()
                .contains("0..=1")
        );
        assert!(opacity.coerce(&Input::Float(f64::NAN)).is_err());
        assert!(opacity.coerce(&Input::Text("x".into())).is_err());
        let mode = spec::param("blend", "layers.mode").expect("row");
        assert_eq!(
            mode.coerce(&Input::Text("add".into())),
            Ok(Value::Choice("add"))
        );
        assert!(
            mode.coerce(&Input::Text("nope".into()))
                .unwrap_err()
                .contains("one of")
        );
    }

    #[test]
    fn normalized_maps_onto_the_range() {
        for row in spec::kinds().iter().flat_map(|k| k.params) {
            let (lo, hi) = (
                row.coerce(&Input::Normalized(0.0)),
                row.coerce(&Input::Normalized(1.0)),
            );
            match &row.ty {
                ParamType::Float { min, max, .. } => {
                    assert_eq!(lo, Ok(Value::Float(*min)), "{}", row.name);
                    let hi = match hi {
                        Ok(Value::Float(x)) => f64::from(x),
                        other => panic!("{}: {other:?}", row.name),
                    };
                    // f32 arithmetic: within one part in 10^6 of the top.
                    let tol = 1e-6 * f64::from(max.abs().max(1.0));
                    assert!((hi - f64::from(*max)).abs() <= tol, "{}: {hi}", row.name);
                }
                ParamType::Int { min, max } => {
                    assert_eq!(lo, Ok(Value::Int(*min)), "{}", row.name);
                    assert_eq!(hi, Ok(Value::Int(*max)), "{}", row.name);
                }
                ParamType::Choice(names) if names.len() > 1 => {
                    assert_eq!(lo, Ok(Value::Choice(names[0])), "{}", row.name);
                    assert_eq!(
                        hi,
                        Ok(Value::Choice(names[names.len() - 1])),
                        "{}",
                        row.name
                    );
                }
                _ => {}
            }
            // normalize is coerce's inverse at both ends of every ranged row.
            for n in [0.0, 1.0] {
                if let Ok(v) = row.coerce(&Input::Normalized(n)) {
                    let back = row.normalize(&v);
                    if matches!(row.ty, ParamType::Text | ParamType::Path) {
                        continue;
                    }
                    assert!(
                        back.is_none_or(|b| (b - n).abs() < 1e-5),
                        "{}: {back:?}",
                        row.name
                    );
                }
            }
        }
    }
}
