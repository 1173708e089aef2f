//! What a Scope server says its pipelines take when loaded, as the console shows it.
//!
//! A pipeline's load parameters are described by the server (`config_schema` in
//! `GET /api/v1/pipelines/schemas`, a pydantic JSON Schema, `docs/scope-api.md` §1.1), so a
//! pipeline or plugin this app has never seen still gets the right controls. [`LoadField`]s are
//! read from that schema; the values live in [`ScopeLoad`](crate::node::ScopeLoad): the ones the
//! app knows by name as typed fields, the rest in its `extra` map of [`LoadValue`]s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::node::ScopeLoad;

/// A load parameter's value beyond the typed ones (`true`, `4`, `0.5`, `"fp8"` in RON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LoadValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl LoadValue {
    pub fn to_json(&self) -> Value {
        match self {
            LoadValue::Bool(b) => Value::from(*b),
            LoadValue::Int(i) => Value::from(*i),
            LoadValue::Float(f) => Value::from(*f),
            LoadValue::Text(s) => Value::from(s.as_str()),
        }
    }

    fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(LoadValue::Bool(*b)),
            Value::Number(n) => n
                .as_i64()
                .map(LoadValue::Int)
                .or_else(|| n.as_f64().map(LoadValue::Float)),
            Value::String(s) => Some(LoadValue::Text(s.clone())),
            _ => None,
        }
    }
}

impl std::fmt::Display for LoadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadValue::Bool(b) => write!(f, "{b}"),
            LoadValue::Int(i) => write!(f, "{i}"),
            LoadValue::Float(x) => write!(f, "{x}"),
            LoadValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// What values a load parameter takes.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    /// One of these strings.
    Choice(Vec<String>),
    Text,
}

/// One load parameter of a pipeline, from its `config_schema`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadField {
    /// The key sent in `load_params`.
    pub key: String,
    pub title: String,
    pub help: String,
    pub kind: FieldKind,
    /// May be left unset (`null`): the server then picks.
    pub nullable: bool,
    pub default: Option<LoadValue>,
}

/// A pipeline a server offers, with what the console needs to pick and load it.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineInfo {
    pub id: String,
    pub name: String,
    pub supports_vace: bool,
    pub supports_prompts: bool,
    /// Its load parameters, in the schema's order.
    pub fields: Vec<LoadField>,
}

impl LoadField {
    /// Why `value` cannot be loaded, if it cannot (`None` = unset).
    pub fn check(&self, value: Option<&LoadValue>) -> Result<(), String> {
        let Some(value) = value else {
            return if self.nullable || self.default.is_some() {
                Ok(())
            } else {
                Err(format!("{} needs a value", self.title))
            };
        };
        let out_of = |got: String, min: Option<String>, max: Option<String>| {
            let range = match (min, max) {
                (Some(a), Some(b)) => format!("{a}..={b}"),
                (Some(a), None) => format!("{a} or more"),
                (None, Some(b)) => format!("{b} or less"),
                (None, None) => String::new(),
            };
            format!("{} must be {range}, got {got}", self.title)
        };
        match (&self.kind, value) {
            (FieldKind::Integer { min, max }, LoadValue::Int(i)) => {
                if min.is_some_and(|m| *i < m) || max.is_some_and(|m| *i > m) {
                    return Err(out_of(
                        i.to_string(),
                        min.map(|m| m.to_string()),
                        max.map(|m| m.to_string()),
                    ));
                }
                Ok(())
            }
            (FieldKind::Number { min, max }, LoadValue::Float(_) | LoadValue::Int(_)) => {
                let x = match value {
                    LoadValue::Float(x) => *x,
                    LoadValue::Int(i) => *i as f64,
                    _ => unreachable!("matched above"),
                };
                if !x.is_finite() {
                    return Err(format!("{} must be a finite number, got {x}", self.title));
                }
                if min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m) {
                    return Err(out_of(
                        x.to_string(),
                        min.map(|m| m.to_string()),
                        max.map(|m| m.to_string()),
                    ));
                }
                Ok(())
            }
            (FieldKind::Boolean, LoadValue::Bool(_)) | (FieldKind::Text, LoadValue::Text(_)) => {
                Ok(())
            }
            (FieldKind::Choice(options), LoadValue::Text(s)) => {
                if options.contains(s) {
                    Ok(())
                } else {
                    Err(format!(
                        "{} must be one of {}, got {s:?}",
                        self.title,
                        options.join(", ")
                    ))
                }
            }
            (kind, v) => Err(format!("{} takes {}, got {v}", self.title, kind.noun())),
        }
    }
}

impl FieldKind {
    fn noun(&self) -> &'static str {
        match self {
            FieldKind::Integer { .. } => "a whole number",
            FieldKind::Number { .. } => "a number",
            FieldKind::Boolean => "true or false",
            FieldKind::Choice(_) => "one of its choices",
            FieldKind::Text => "text",
        }
    }
}

impl PipelineInfo {
    /// Reads one entry of `GET /api/v1/pipelines/schemas`.
    pub fn from_schema(id: &str, entry: &Value) -> Self {
        let flag = |k: &str| entry.get(k).and_then(Value::as_bool).unwrap_or(false);
        let name = entry.get("name").and_then(Value::as_str).unwrap_or(id);
        let schema = entry.get("config_schema").unwrap_or(&Value::Null);
        Self::new(
            id,
            name,
            flag("supports_vace"),
            flag("supports_prompts"),
            schema,
        )
    }

    /// A pipeline with the load fields of its `config_schema`. Fields marked
    /// `ui.is_load_param: true` are load parameters; a schema that marks none of its fields
    /// (a server without the marks) offers them all. Fields of a shape this cannot show
    /// (objects, arrays) are left out rather than guessed.
    pub fn new(
        id: &str,
        name: &str,
        supports_vace: bool,
        supports_prompts: bool,
        schema: &Value,
    ) -> Self {
        let defs = schema
            .get("$defs")
            .or_else(|| schema.get("definitions"))
            .unwrap_or(&Value::Null);
        let props = schema.get("properties").and_then(Value::as_object);
        let marked = |p: &Value| {
            p.get("ui")
                .and_then(|u| u.get("is_load_param"))
                .and_then(Value::as_bool)
        };
        let any_marked = props.is_some_and(|ps| ps.values().any(|p| marked(p).is_some()));
        let fields = props
            .into_iter()
            .flatten()
            .filter(|(_, p)| !any_marked || marked(p) == Some(true))
            .filter_map(|(key, p)| field(key, p, defs))
            .collect();
        PipelineInfo {
            id: id.to_owned(),
            name: if name.is_empty() { id } else { name }.to_owned(),
            supports_vace,
            supports_prompts,
            fields,
        }
    }

    pub fn field(&self, key: &str) -> Option<&LoadField> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// One property of a JSON Schema as a field, resolving `$ref` and `anyOf: [T, null]`.
fn field(key: &str, p: &Value, defs: &Value) -> Option<LoadField> {
    let mut nullable = false;
    let mut shape = p;
    if let Some(any) = p.get("anyOf").and_then(Value::as_array) {
        let (nulls, others): (Vec<&Value>, Vec<&Value>) = any
            .iter()
            .partition(|v| v.get("type").and_then(Value::as_str) == Some("null"));
        nullable = !nulls.is_empty();
        match others.as_slice() {
            [one] => shape = one,
            _ => return None,
        }
    }
    if let Some(r) = shape.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next()?;
        shape = defs.get(name)?;
    }
    let ty = shape.get("type").and_then(Value::as_str);
    let kind = if let Some(options) = shape.get("enum").and_then(Value::as_array) {
        let options: Vec<String> = options
            .iter()
            .filter_map(|o| o.as_str().map(str::to_owned))
            .collect();
        if options.is_empty() {
            return None;
        }
        FieldKind::Choice(options)
    } else {
        let bound = |k: &str, exclusive: &str| {
            shape
                .get(k)
                .or_else(|| shape.get(exclusive))
                .and_then(Value::as_f64)
        };
        match ty {
            Some("integer") => FieldKind::Integer {
                min: bound("minimum", "exclusiveMinimum").map(|m| m.ceil() as i64),
                max: bound("maximum", "exclusiveMaximum").map(|m| m.floor() as i64),
            },
            Some("number") => FieldKind::Number {
                min: bound("minimum", "exclusiveMinimum"),
                max: bound("maximum", "exclusiveMaximum"),
            },
            Some("boolean") => FieldKind::Boolean,
            Some("string") => FieldKind::Text,
            _ => return None,
        }
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(LoadField {
        key: key.to_owned(),
        title: text(p, "title")
            .or_else(|| text(shape, "title"))
            .unwrap_or_else(|| key.to_owned()),
        help: text(p, "description")
            .or_else(|| text(shape, "description"))
            .unwrap_or_default(),
        kind,
        nullable,
        default: p.get("default").and_then(LoadValue::from_json),
    })
}

/// The keys [`ScopeLoad`] holds as typed fields; every other key lives in its `extra` map.
pub const TYPED_KEYS: [&str; 5] = [
    "width",
    "height",
    "base_seed",
    "vace_enabled",
    "quantization",
];

impl ScopeLoad {
    /// The value sent for `key` (`None` = not sent, the server's default).
    pub fn get(&self, key: &str) -> Option<LoadValue> {
        match key {
            "width" => Some(LoadValue::Int(i64::from(self.width))),
            "height" => Some(LoadValue::Int(i64::from(self.height))),
            "base_seed" => i64::try_from(self.base_seed).ok().map(LoadValue::Int),
            "vace_enabled" => Some(LoadValue::Bool(self.vace_enabled)),
            "quantization" => self.quantization.clone().map(LoadValue::Text),
            other => self.extra.get(other).cloned(),
        }
    }

    /// Sets `key`; `None` unsets it where it can be unset. Refuses a value of the wrong type
    /// for a typed field.
    pub fn set(&mut self, key: &str, value: Option<LoadValue>) -> Result<(), String> {
        let int = |v: &Option<LoadValue>| match v {
            Some(LoadValue::Int(i)) => Some(*i),
            _ => None,
        };
        let wrong = || {
            format!(
                "{key} cannot be {}",
                value.as_ref().map_or("unset".to_owned(), |v| v.to_string())
            )
        };
        match key {
            "width" | "height" => {
                let v = int(&value)
                    .and_then(|i| u32::try_from(i).ok())
                    .ok_or_else(wrong)?;
                if key == "width" {
                    self.width = v;
                } else {
                    self.height = v;
                }
            }
            "base_seed" => {
                self.base_seed = int(&value)
                    .and_then(|i| u64::try_from(i).ok())
                    .ok_or_else(wrong)?;
            }
            "vace_enabled" => match value {
                Some(LoadValue::Bool(b)) => self.vace_enabled = b,
                _ => return Err(wrong()),
            },
            "quantization" => match value {
                Some(LoadValue::Text(s)) => self.quantization = Some(s),
                None => self.quantization = None,
                _ => return Err(wrong()),
            },
            other => match value {
                Some(v) => {
                    self.extra.insert(other.to_owned(), v);
                }
                None => {
                    self.extra.remove(other);
                }
            },
        }
        Ok(())
    }

    /// Every value sent in `load_params`, typed fields first.
    pub fn pairs(&self) -> Vec<(String, LoadValue)> {
        TYPED_KEYS
            .iter()
            .filter_map(|k| self.get(k).map(|v| ((*k).to_owned(), v)))
            .chain(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect()
    }
}

/// Problems of a node's `extra` load values that need no server to see, as (key, why): a
/// blank key, a key that has a typed field, a number that is not finite.
pub fn extra_problems(extra: &BTreeMap<String, LoadValue>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in extra {
        if key.trim().is_empty() {
            out.push((key.clone(), "a key cannot be blank".to_owned()));
        } else if TYPED_KEYS.contains(&key.as_str()) {
            out.push((key.clone(), format!("write it as load.{key}, not in extra")));
        } else if let LoadValue::Float(x) = value
            && !x.is_finite()
        {
            out.push((key.clone(), format!("must be a finite number, got {x}")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shapes pydantic writes: plain types with bounds, `anyOf` with null, an enum behind a
    /// `$ref`, and a field not marked as a load parameter.
    fn entry() -> Value {
        json!({
            "name": "Stylize", "supports_vace": false, "supports_prompts": true,
            "config_schema": {
                "$defs": {"Palette": {"enum": ["violet", "amber"], "type": "string", "title": "Palette"}},
                "properties": {
                    "width": {"type": "integer", "minimum": 16, "maximum": 2048, "default": 640, "title": "Width", "ui": {"is_load_param": true}},
                    "strength": {"type": "number", "exclusiveMinimum": 0.0, "maximum": 1.0, "default": 0.5, "ui": {"is_load_param": true}},
                    "dither": {"type": "boolean", "default": false, "ui": {"is_load_param": true}},
                    "palette": {"$ref": "#/$defs/Palette", "default": "violet", "ui": {"is_load_param": true}},
                    "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Seed", "ui": {"is_load_param": true}},
                    "noise": {"type": "number", "ui": {"is_load_param": false}},
                    "layers": {"type": "array", "ui": {"is_load_param": true}},
                },
            },
        })
    }

    #[test]
    fn reads_each_kind_of_field_from_a_pydantic_schema() {
        let p = PipelineInfo::from_schema("stylize", &entry());
        assert_eq!(p.name, "Stylize");
        assert!(p.supports_prompts && !p.supports_vace);
        let mut keys: Vec<&str> = p.fields.iter().map(|f| f.key.as_str()).collect();
        // Runtime-only and unshowable fields are left out. (The order is the schema's where
        // serde_json preserves it, else sorted.)
        keys.sort_unstable();
        assert_eq!(keys, ["dither", "palette", "seed", "strength", "width"]);
        let f = |k| p.field(k).unwrap();
        assert_eq!(
            f("width").kind,
            FieldKind::Integer {
                min: Some(16),
                max: Some(2048)
            }
        );
        assert_eq!(f("width").default, Some(LoadValue::Int(640)));
        assert_eq!(
            f("strength").kind,
            FieldKind::Number {
                min: Some(0.0),
                max: Some(1.0)
            }
        );
        assert_eq!(f("dither").kind, FieldKind::Boolean);
        assert_eq!(
            f("palette").kind,
            FieldKind::Choice(vec!["violet".into(), "amber".into()])
        );
        assert!(f("seed").nullable && f("seed").default.is_none());
        assert_eq!(
            f("seed").kind,
            FieldKind::Integer {
                min: None,
                max: None
            }
        );
    }

    #[test]
    fn unmarked_schemas_offer_every_field() {
        let e = json!({"config_schema": {"properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}});
        let p = PipelineInfo::from_schema("x", &e);
        assert_eq!(p.name, "x");
        assert_eq!(p.fields.len(), 2);
        assert!(PipelineInfo::from_schema("y", &json!({})).fields.is_empty());
    }

    #[test]
    fn checks_values_against_the_field() {
        let p = PipelineInfo::from_schema("stylize", &entry());
        let f = |k| p.field(k).unwrap();
        assert!(f("width").check(Some(&LoadValue::Int(640))).is_ok());
        let e = f("width").check(Some(&LoadValue::Int(4096))).unwrap_err();
        assert_eq!(e, "Width must be 16..=2048, got 4096");
        assert!(f("width").check(Some(&LoadValue::Float(1.5))).is_err());
        assert!(
            f("strength")
                .check(Some(&LoadValue::Float(f64::NAN)))
                .is_err()
        );
        assert!(f("strength").check(Some(&LoadValue::Int(1))).is_ok());
        let e = f("palette")
            .check(Some(&LoadValue::Text("red".into())))
            .unwrap_err();
        assert!(e.contains("violet, amber"), "{e}");
        assert!(f("seed").check(None).is_ok());
        let needs = LoadField {
            default: None,
            nullable: false,
            ..f("width").clone()
        };
        assert!(needs.check(None).is_err());
    }

    #[test]
    fn typed_and_extra_keys_round_trip() {
        let mut load = ScopeLoad::default();
        load.set("width", Some(LoadValue::Int(800))).unwrap();
        load.set("palette", Some(LoadValue::Text("amber".into())))
            .unwrap();
        load.set("quantization", Some(LoadValue::Text("fp8".into())))
            .unwrap();
        assert!(load.set("width", Some(LoadValue::Int(-1))).is_err());
        assert!(load.set("vace_enabled", None).is_err());
        assert_eq!(load.width, 800);
        assert_eq!(load.get("palette"), Some(LoadValue::Text("amber".into())));
        let keys: Vec<String> = load.pairs().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "width",
                "height",
                "base_seed",
                "vace_enabled",
                "quantization",
                "palette"
            ]
        );
        load.set("palette", None).unwrap();
        load.set("quantization", None).unwrap();
        assert!(load.extra.is_empty() && load.quantization.is_none());
    }

    #[test]
    fn extra_values_read_back_from_ron_with_their_types() {
        let text = r#"(width: 640, extra: {"dither": true, "levels": 4, "strength": 0.5, "palette": "amber"})"#;
        let load: ScopeLoad = ron::from_str(text).unwrap();
        assert_eq!(load.extra["dither"], LoadValue::Bool(true));
        assert_eq!(load.extra["levels"], LoadValue::Int(4));
        assert_eq!(load.extra["strength"], LoadValue::Float(0.5));
        assert_eq!(load.extra["palette"], LoadValue::Text("amber".into()));
        let back: ScopeLoad = ron::from_str(&ron::to_string(&load).unwrap()).unwrap();
        assert_eq!(back, load);
        let mut bad = BTreeMap::new();
        bad.insert("width".to_owned(), LoadValue::Int(3));
        bad.insert("gain".to_owned(), LoadValue::Float(f64::INFINITY));
        assert_eq!(extra_problems(&bad).len(), 2);
    }
}
