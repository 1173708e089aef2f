//! Pydantic-like validation of the `Parameters` model (docs/scope-api.md §4.2, §4.4): REST bodies and
//! `initialParameters` are validated and get defaults injected; data-channel messages are not.

use serde_json::{Map, Value, json};

type Errors = Vec<Value>;

fn err(
    errors: &mut Errors,
    kind: &str,
    loc: &[Value],
    msg: &str,
    input: &Value,
    ctx: Option<Value>,
) {
    let mut e = json!({ "type": kind, "loc": loc, "msg": msg, "input": input });
    if let (Some(ctx), Some(obj)) = (ctx, e.as_object_mut()) {
        obj.insert("ctx".into(), ctx);
    }
    errors.push(e);
}

fn loc_with(loc: &[Value], key: impl Into<Value>) -> Vec<Value> {
    let mut l = loc.to_vec();
    l.push(key.into());
    l
}

/// A float in lax mode (numbers, numeric strings), with optional inclusive bounds.
fn float(
    v: &Value,
    loc: &[Value],
    min: Option<f64>,
    max: Option<f64>,
    errors: &mut Errors,
) -> Option<Value> {
    let parsed = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let Some(x) = parsed else {
        let msg = if v.is_string() {
            "Input should be a valid number, unable to parse string as a number"
        } else {
            "Input should be a valid number"
        };
        err(
            errors,
            if v.is_string() {
                "float_parsing"
            } else {
                "float_type"
            },
            loc,
            msg,
            v,
            None,
        );
        return None;
    };
    if let Some(min) = min.filter(|m| x < *m) {
        let msg = format!("Input should be greater than or equal to {min}");
        err(
            errors,
            "greater_than_equal",
            loc,
            &msg,
            v,
            Some(json!({ "ge": min })),
        );
        return None;
    }
    if let Some(max) = max.filter(|m| x > *m) {
        let msg = format!("Input should be less than or equal to {max}");
        err(
            errors,
            "less_than_equal",
            loc,
            &msg,
            v,
            Some(json!({ "le": max })),
        );
        return None;
    }
    Some(json!(x))
}

fn int(v: &Value, loc: &[Value], min: Option<i64>, errors: &mut Errors) -> Option<Value> {
    let parsed = match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let Some(x) = parsed else {
        err(
            errors,
            "int_type",
            loc,
            "Input should be a valid integer",
            v,
            None,
        );
        return None;
    };
    if let Some(min) = min.filter(|m| x < *m) {
        let msg = format!("Input should be greater than or equal to {min}");
        err(
            errors,
            "greater_than_equal",
            loc,
            &msg,
            v,
            Some(json!({ "ge": min })),
        );
        return None;
    }
    Some(json!(x))
}

fn boolean(v: &Value, loc: &[Value], errors: &mut Errors) -> Option<Value> {
    match v {
        Value::Bool(_) => Some(v.clone()),
        Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
            Some(json!(n.as_i64() == Some(1)))
        }
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Some(json!(true)),
            "false" | "0" | "no" | "off" | "f" | "n" => Some(json!(false)),
            _ => {
                err(
                    errors,
                    "bool_parsing",
                    loc,
                    "Input should be a valid boolean, unable to interpret input",
                    v,
                    None,
                );
                None
            }
        },
        _ => {
            err(
                errors,
                "bool_type",
                loc,
                "Input should be a valid boolean",
                v,
                None,
            );
            None
        }
    }
}

fn string(v: &Value, loc: &[Value], errors: &mut Errors) -> Option<Value> {
    if v.is_string() {
        Some(v.clone())
    } else {
        err(
            errors,
            "string_type",
            loc,
            "Input should be a valid string",
            v,
            None,
        );
        None
    }
}

fn literal(v: &Value, loc: &[Value], allowed: &[&str], errors: &mut Errors) -> Option<Value> {
    if v.as_str().is_some_and(|s| allowed.contains(&s)) {
        Some(v.clone())
    } else {
        let expected = allowed
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" or ");
        let msg = format!("Input should be {expected}");
        err(
            errors,
            "literal_error",
            loc,
            &msg,
            v,
            Some(json!({ "expected": expected })),
        );
        None
    }
}

fn list(
    v: &Value,
    loc: &[Value],
    errors: &mut Errors,
    item: &dyn Fn(&Value, &[Value], &mut Errors) -> Option<Value>,
) -> Option<Value> {
    let Some(items) = v.as_array() else {
        err(
            errors,
            "list_type",
            loc,
            "Input should be a valid list",
            v,
            None,
        );
        return None;
    };
    let before = errors.len();
    let out: Vec<Value> = items
        .iter()
        .enumerate()
        .filter_map(|(i, x)| item(x, &loc_with(loc, i), errors))
        .collect();
    (errors.len() == before).then_some(Value::Array(out))
}

/// A nested model: required/optional fields with validators and defaults; extra keys kept.
type FieldCheck = fn(&Value, &[Value], &mut Errors) -> Option<Value>;

fn model(
    v: &Value,
    loc: &[Value],
    errors: &mut Errors,
    fields: &[(&str, bool, FieldCheck)],
    defaults: &[(&str, Value)],
) -> Option<Value> {
    let Some(obj) = v.as_object() else {
        err(
            errors,
            "model_type",
            loc,
            "Input should be a valid dictionary or object to extract fields from",
            v,
            None,
        );
        return None;
    };
    let before = errors.len();
    let mut out = Map::new();
    for (name, required, check) in fields {
        match obj.get(*name) {
            Some(Value::Null) | None if *required => {
                err(
                    errors,
                    "missing",
                    &loc_with(loc, *name),
                    "Field required",
                    v,
                    None,
                );
            }
            Some(Value::Null) | None => {}
            Some(x) => {
                if let Some(x) = check(x, &loc_with(loc, *name), errors) {
                    out.insert((*name).to_string(), x);
                }
            }
        }
    }
    for (name, default) in defaults {
        out.entry((*name).to_string())
            .or_insert_with(|| default.clone());
    }
    (errors.len() == before).then_some(Value::Object(out))
}

fn prompt_item(v: &Value, loc: &[Value], errors: &mut Errors) -> Option<Value> {
    model(
        v,
        loc,
        errors,
        &[
            ("text", true, string),
            ("weight", false, |v, l, e| float(v, l, Some(0.0), None, e)),
        ],
        &[("weight", json!(1.0))],
    )
}

fn prompts(v: &Value, loc: &[Value], errors: &mut Errors) -> Option<Value> {
    list(v, loc, errors, &prompt_item)
}

fn interpolation(v: &Value, loc: &[Value], errors: &mut Errors) -> Option<Value> {
    literal(v, loc, &["linear", "slerp"], errors)
}

fn transition(v: &Value, loc: &[Value], errors: &mut Errors) -> Option<Value> {
    model(
        v,
        loc,
        errors,
        &[
            ("target_prompts", true, prompts),
            ("num_steps", false, |v, l, e| int(v, l, Some(0), e)),
            ("temporal_interpolation_method", false, interpolation),
        ],
        &[
            ("num_steps", json!(4)),
            ("temporal_interpolation_method", json!("linear")),
        ],
    )
}

fn lora_scale(v: &Value, loc: &[Value], errors: &mut Errors) -> Option<Value> {
    model(
        v,
        loc,
        errors,
        &[
            ("path", true, string),
            ("scale", true, |v, l, e| {
                float(v, l, Some(-10.0), Some(10.0), e)
            }),
        ],
        &[],
    )
}

/// Validates a `Parameters` body. `loc` is where it sits (`["body"]` or
/// `["body","initialParameters"]`). Returns the dumped model (`exclude_none`, defaults injected,
/// unknown keys passed through) or the pydantic-style error list.
pub fn validate(v: &Value, loc: &[Value]) -> Result<Map<String, Value>, Errors> {
    let mut errors = Vec::new();
    let Some(obj) = v.as_object() else {
        err(
            &mut errors,
            "model_attributes_type",
            loc,
            "Input should be a valid dictionary or object to extract fields from",
            v,
            None,
        );
        return Err(errors);
    };
    let mut out = Map::new();
    for (key, value) in obj {
        if value.is_null() {
            continue;
        }
        let l = loc_with(loc, key.as_str());
        let e = &mut errors;
        let checked = match key.as_str() {
            "input_mode" => literal(value, &l, &["text", "video"], e),
            "denoising_step_list" => list(value, &l, e, &|v, l, e| int(v, l, None, e)),
            "pipeline_ids" | "vace_ref_images" | "images" => list(value, &l, e, &string),
            "prompts" => prompts(value, &l, e),
            "prompt_interpolation_method" => interpolation(value, &l, e),
            "transition" => transition(value, &l, e),
            "noise_scale" => float(value, &l, Some(0.0), Some(1.0), e),
            "kv_cache_attention_bias" => float(value, &l, Some(0.01), Some(1.0), e),
            "vace_context_scale" => float(value, &l, Some(0.0), Some(2.0), e),
            "noise_controller"
            | "manage_cache"
            | "reset_cache"
            | "vace_enabled"
            | "vace_use_input_video"
            | "paused"
            | "recording" => boolean(value, &l, e),
            "lora_scales" => list(value, &l, e, &lora_scale),
            "first_frame_image" | "last_frame_image" | "node_id" => string(value, &l, e),
            _ => Some(value.clone()),
        };
        if let Some(checked) = checked {
            out.insert(key.clone(), checked);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    out.entry("prompt_interpolation_method")
        .or_insert_with(|| json!("linear"));
    out.entry("vace_context_scale")
        .or_insert_with(|| json!(1.0));
    Ok(out)
}

/// Parameter updates waiting for the next pipeline call, in arrival order. Data-channel updates
/// are dropped while `UPDATE_QUEUE` are waiting (the real per-processor queue of 8); REST updates
/// share the queue so their order relative to channel updates holds.
#[derive(Debug, Default)]
pub struct ParamQueue {
    pending: std::collections::VecDeque<Map<String, Value>>,
}

/// Queue size of the real server's pipeline processor.
pub const UPDATE_QUEUE: usize = 8;

impl ParamQueue {
    /// Queues a data-channel update; `false` when it was dropped because the queue is full.
    pub fn push_channel(&mut self, update: Map<String, Value>) -> bool {
        if self.pending.len() >= UPDATE_QUEUE {
            return false;
        }
        self.pending.push_back(update);
        true
    }

    pub fn push_rest(&mut self, update: Map<String, Value>) {
        self.pending.push_back(update);
    }

    /// Shallow-merges every waiting update into `params` (`{**old, **new}`), oldest first.
    pub fn drain_into(&mut self, params: &mut Map<String, Value>) {
        for update in self.pending.drain(..) {
            params.extend(update);
        }
    }

    /// `params` as they will be once the waiting updates are applied.
    pub fn preview(&self, params: &Map<String, Value>) -> Map<String, Value> {
        let mut out = params.clone();
        for update in &self.pending {
            out.extend(update.clone());
        }
        out
    }
}

/// The body-level 422 for text that is not JSON at all.
pub fn json_invalid(error: &serde_json::Error) -> Value {
    json!([{
        "type": "json_invalid",
        "loc": ["body", error.column()],
        "msg": "JSON decode error",
        "input": {},
        "ctx": { "error": error.to_string() },
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Vec<Value> {
        vec![json!("body")]
    }

    #[test]
    fn empty_body_gets_defaults() {
        let out = validate(&json!({}), &body()).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"prompt_interpolation_method":"linear","vace_context_scale":1.0})
        );
    }

    #[test]
    fn bad_types_give_a_list_with_locations() {
        let errors = validate(
            &json!({"noise_scale":"abc","prompts":[{"weight":1}],"manage_cache":3}),
            &body(),
        )
        .unwrap_err();
        let locs: Vec<&Value> = errors.iter().map(|e| &e["loc"]).collect();
        assert!(
            locs.contains(&&json!(["body", "noise_scale"])),
            "{errors:?}"
        );
        assert!(
            locs.contains(&&json!(["body", "prompts", 0, "text"])),
            "{errors:?}"
        );
        assert!(
            locs.contains(&&json!(["body", "manage_cache"])),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .all(|e| e["msg"].is_string() && e["type"].is_string())
        );
    }

    #[test]
    fn channel_updates_beyond_eight_are_dropped_and_order_holds() {
        let mut q = ParamQueue::default();
        let upd = |k: &str, v: i64| json!({ k: v }).as_object().cloned().unwrap();
        for i in 0..10 {
            assert_eq!(q.push_channel(upd("n", i)), i < 8, "update {i}");
        }
        q.push_rest(upd("n", 100));
        let mut params = upd("keep", 1);
        assert_eq!(q.preview(&params)["n"], 100);
        q.drain_into(&mut params);
        assert_eq!(Value::Object(params.clone()), json!({"keep": 1, "n": 100}));
        assert!(q.push_channel(upd("n", 5)));
        q.drain_into(&mut params);
        assert_eq!(params["n"], 5);
    }

    #[test]
    fn ranges_and_nones_and_extras() {
        let errors = validate(&json!({"vace_context_scale": 2.5}), &body()).unwrap_err();
        assert_eq!(errors[0]["type"], "less_than_equal");
        let out = validate(
            &json!({"noise_scale": null, "my_key": [1], "transition": {"target_prompts": []}}),
            &body(),
        )
        .unwrap();
        assert!(!out.contains_key("noise_scale"));
        assert_eq!(out["my_key"], json!([1]));
        assert_eq!(out["transition"]["num_steps"], 4);
    }
}
