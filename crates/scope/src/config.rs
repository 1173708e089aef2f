//! What the app wants from a Scope node, and the diff between two wishes: which keys go over the
//! data channel, and when a pipeline reload or a new session is unavoidable.

use std::path::PathBuf;
use std::time::Duration;

pub use media::Codec;
use serde::Serialize;
use serde_json::{Map, Value};

/// Whether the pipeline is fed our video or generates from text alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputMode {
    #[default]
    Video,
    Text,
}

impl InputMode {
    pub fn as_str(self) -> &'static str {
        match self {
            InputMode::Video => "video",
            InputMode::Text => "text",
        }
    }
}

/// How prompts are blended: across the list (`prompt_interpolation_method`) and over a
/// transition (`temporal_interpolation_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    #[default]
    Linear,
    Slerp,
}

/// Send prompt changes as a smooth `transition` over `num_steps` pipeline calls (chunks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptTransition {
    pub num_steps: u32,
    pub method: Interpolation,
}

/// One weighted prompt (`{"text", "weight"}`); weights are normalised by the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prompt {
    pub text: String,
    pub weight: f32,
}

/// The runtime parameters the app sets, under Scope's wire names (`docs/scope-api.md` §4.2:
/// `denoising_steps` travels as `denoising_step_list`). `None` leaves a key to the server.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RuntimeParams {
    /// Empty: no `prompts` key (the server keeps its own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<Prompt>,
    /// Always sent, so a change back to linear reaches the server (a key left out keeps its
    /// last value there).
    #[serde(rename = "prompt_interpolation_method")]
    pub interpolation: Interpolation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_scale: Option<f32>,
    #[serde(
        rename = "denoising_step_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub denoising_steps: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_cache: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vace_context_scale: Option<f32>,
}

impl RuntimeParams {
    /// The wire object, for [`ScopeConfig::params`].
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            // A struct of plain fields always serialises to an object.
            _ => Map::new(),
        }
    }
}

/// The full desired state of one Scope node. The app always passes all of it; the worker diffs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeConfig {
    /// HTTP base URL of the server (`http://127.0.0.1:8000`), or a name the handle's
    /// [`crate::UrlResolver`] turns into one (the app's `embedded`).
    pub url: String,
    pub pipeline_id: String,
    /// Load-time parameters (`height`, `width`, `base_seed`, `vace_enabled`, ...). A change
    /// reloads the pipeline.
    pub load_params: Map<String, Value>,
    /// Runtime parameters (`prompts`, `noise_scale`, ...; [`RuntimeParams::to_map`] builds the
    /// known ones): changes go over the data channel. A map, so keys the client has no field
    /// for still pass (Scope accepts any). `paused` is intercepted and never sent (it kills
    /// the stream on Scope v0.2.4).
    pub params: Map<String, Value>,
    /// Local reference images, uploaded (once per content) and sent as `vace_ref_images`.
    pub ref_images: Vec<PathBuf>,
    pub codec: Codec,
    pub input_mode: InputMode,
    /// Session flag, read by the server only at session start; a change means a new session.
    pub vace_use_input_video: Option<bool>,
    /// When set, prompt changes are sent as a `transition` instead of a jump.
    pub transition: Option<PromptTransition>,
    /// A live session is `Stalled` (then reconnected) when no frame arrived for
    /// max(2 × the observed median frame interval, this). Short, so a dead server is noticed
    /// within about half a second instead of holding a frozen picture as `Live`.
    pub stall_threshold: Duration,
    /// How long a stalled live session may stay silent before it is replaced by a new one.
    /// Longer than `stall_threshold`: the picture falls back at once, the reconnect waits.
    pub reconnect_after: Duration,
    /// How long a new session may take to deliver its first frame (offer, ICE, DTLS and a
    /// server that may still be warming up after a restart) before it counts as stalled.
    pub first_frame_timeout: Duration,
    /// Trickle our ICE candidates with PATCH instead of waiting for gathering to complete.
    pub trickle_ice: bool,
    /// Encoder hints.
    pub fps: u32,
    pub bitrate_kbps: u32,
    /// Forced keyframe period, on top of answering every PLI.
    pub keyframe_interval: Duration,
    /// Minimum gap between two data-channel messages (≈ one chunk), so the server's queue of 8
    /// updates is never overrun.
    pub param_interval: Duration,
    /// Bound on every HTTP request.
    pub request_timeout: Duration,
    /// Bound on pipeline load (model download included).
    pub load_timeout: Duration,
}

impl Default for ScopeConfig {
    fn default() -> Self {
        ScopeConfig {
            url: "http://127.0.0.1:8000".to_owned(),
            pipeline_id: "passthrough".to_owned(),
            load_params: Map::new(),
            params: Map::new(),
            ref_images: Vec::new(),
            codec: Codec::Vp8,
            input_mode: InputMode::Video,
            vace_use_input_video: None,
            transition: None,
            stall_threshold: Duration::from_millis(500),
            reconnect_after: Duration::from_secs(3),
            first_frame_timeout: Duration::from_secs(10),
            trickle_ice: false,
            fps: 30,
            bitrate_kbps: 2500,
            keyframe_interval: Duration::from_secs(2),
            param_interval: Duration::from_millis(130),
            request_timeout: Duration::from_secs(10),
            load_timeout: Duration::from_secs(600),
        }
    }
}

/// What a new config requires of the worker, from most to least disruptive.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigChange {
    /// Server, pipeline or load params changed: load again, then a new session.
    Reload,
    /// A session-start property changed (codec, session flags, ICE mode): a new offer.
    Reconnect,
    /// Only runtime keys changed: this partial object goes over the data channel
    /// (may be empty when nothing changed). `ref_images_changed` asks for an upload first.
    Runtime {
        update: Map<String, Value>,
        ref_images_changed: bool,
    },
}

impl ScopeConfig {
    /// Whether the node wants frames to stop going out (our pause; never the server's).
    pub fn paused(&self) -> bool {
        self.params
            .get("paused")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The `vace_enabled` session flag: explicit in params, else the load param.
    fn vace_enabled(&self) -> Option<bool> {
        self.params
            .get("vace_enabled")
            .or_else(|| self.load_params.get("vace_enabled"))
            .and_then(Value::as_bool)
    }

    /// Runtime parameters as they should go to the server: `paused` removed, session flags
    /// excluded (they travel in `initialParameters`).
    fn runtime_params(&self) -> Map<String, Value> {
        let mut p = self.params.clone();
        for key in [
            "paused",
            "pipeline_ids",
            "input_mode",
            "vace_enabled",
            "vace_use_input_video",
        ] {
            p.remove(key);
        }
        p
    }

    /// `initialParameters` for an offer: always `pipeline_ids`, `input_mode` and the VACE
    /// flags, plus every runtime parameter (so a reconnect re-applies the full state) and the
    /// uploaded reference images.
    pub fn initial_parameters(&self, ref_image_paths: &[String]) -> Map<String, Value> {
        let mut p = self.runtime_params();
        p.insert(
            "pipeline_ids".into(),
            Value::from(vec![self.pipeline_id.clone()]),
        );
        p.insert("input_mode".into(), Value::from(self.input_mode.as_str()));
        let vace = self.vace_enabled();
        p.insert("vace_enabled".into(), Value::from(vace.unwrap_or(false)));
        if vace == Some(true) || self.vace_use_input_video.is_some() {
            p.insert(
                "vace_use_input_video".into(),
                Value::from(
                    self.vace_use_input_video
                        .unwrap_or(self.input_mode == InputMode::Video),
                ),
            );
        }
        if !ref_image_paths.is_empty() {
            p.insert(
                "vace_ref_images".into(),
                Value::from(ref_image_paths.to_vec()),
            );
        }
        p
    }

    /// Classifies the change from `self` (applied) to `new` (wanted).
    pub fn diff(&self, new: &ScopeConfig) -> ConfigChange {
        if self.url != new.url
            || self.pipeline_id != new.pipeline_id
            || self.load_params != new.load_params
        {
            return ConfigChange::Reload;
        }
        if self.codec != new.codec
            || self.input_mode != new.input_mode
            || self.vace_enabled() != new.vace_enabled()
            || self.vace_use_input_video != new.vace_use_input_video
            || self.trickle_ice != new.trickle_ice
            || self.fps != new.fps
            || self.bitrate_kbps != new.bitrate_kbps
        {
            return ConfigChange::Reconnect;
        }
        let old_p = self.runtime_params();
        let new_p = new.runtime_params();
        let mut update = Map::new();
        for (k, v) in &new_p {
            if old_p.get(k) != Some(v) {
                update.insert(k.clone(), v.clone());
            }
        }
        // Removed keys cannot be unset with a shallow merge; the server keeps their last value.
        // (The prompts are taken out only when a transition carries them instead.)
        if let Some(t) = new.transition
            && let Some(prompts) = update.remove("prompts")
        {
            update.insert(
                "transition".into(),
                serde_json::json!({
                    "target_prompts": prompts,
                    "num_steps": t.num_steps,
                    "temporal_interpolation_method": t.method,
                }),
            );
        }
        ConfigChange::Runtime {
            update,
            ref_images_changed: self.ref_images != new.ref_images,
        }
    }
}

/// Merges `update` into the pending data-channel message. A `transition` and a plain `prompts`
/// exclude each other (the server lets `prompts` cancel a transition).
pub fn merge_pending(pending: &mut Map<String, Value>, update: Map<String, Value>) {
    for (k, v) in update {
        match k.as_str() {
            "transition" => {
                pending.remove("prompts");
            }
            "prompts" => {
                pending.remove("transition");
            }
            _ => {}
        }
        pending.insert(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> ScopeConfig {
        ScopeConfig {
            params: json!({"prompts":[{"text":"a cat","weight":1.0}],"noise_scale":0.5})
                .as_object()
                .cloned()
                .unwrap(),
            ..ScopeConfig::default()
        }
    }

    #[test]
    fn only_changed_runtime_keys() {
        let a = base();
        let mut b = a.clone();
        b.params.insert("noise_scale".into(), json!(0.7));
        b.params.insert("paused".into(), json!(true));
        assert_eq!(
            a.diff(&b),
            ConfigChange::Runtime {
                update: json!({"noise_scale":0.7}).as_object().cloned().unwrap(),
                ref_images_changed: false
            }
        );
        assert!(b.paused());
    }

    #[test]
    fn load_param_change_reloads() {
        let a = base();
        let mut b = a.clone();
        b.load_params.insert("width".into(), json!(512));
        assert_eq!(a.diff(&b), ConfigChange::Reload);
        let mut c = a.clone();
        c.codec = Codec::H264;
        assert_eq!(a.diff(&c), ConfigChange::Reconnect);
    }

    #[test]
    fn prompt_change_becomes_transition() {
        let a = base();
        let mut b = a.clone();
        b.transition = Some(PromptTransition {
            num_steps: 8,
            method: Interpolation::Slerp,
        });
        b.params
            .insert("prompts".into(), json!([{"text":"a dog","weight":1.0}]));
        let ConfigChange::Runtime { update, .. } = a.diff(&b) else {
            panic!("expected runtime")
        };
        assert_eq!(
            Value::Object(update),
            json!({"transition":{"target_prompts":[{"text":"a dog","weight":1.0}],"num_steps":8,"temporal_interpolation_method":"slerp"}})
        );
    }

    /// Without a transition a prompt change goes as plain `prompts` (it was once dropped on the
    /// way: the transition check took the prompts out of the update either way).
    #[test]
    fn prompt_change_without_a_transition_is_sent_as_it_is() {
        let a = base();
        let mut b = a.clone();
        let prompts = json!([{"text": "a dog", "weight": 0.75}, {"text": "a cat", "weight": 0.25}]);
        b.params.insert("prompts".into(), prompts.clone());
        let ConfigChange::Runtime { update, .. } = a.diff(&b) else {
            panic!("expected runtime")
        };
        assert_eq!(Value::Object(update), json!({ "prompts": prompts }));
    }

    #[test]
    fn initial_parameters_always_carry_session_flags() {
        let mut a = base();
        a.params.insert("paused".into(), json!(true));
        let p = a.initial_parameters(&["/srv/assets/ref.png".into()]);
        assert_eq!(p["pipeline_ids"], json!(["passthrough"]));
        assert_eq!(p["input_mode"], json!("video"));
        assert_eq!(p["vace_enabled"], json!(false));
        assert_eq!(p["vace_ref_images"], json!(["/srv/assets/ref.png"]));
        assert!(!p.contains_key("paused"));
        a.load_params.insert("vace_enabled".into(), json!(true));
        let p = a.initial_parameters(&[]);
        assert_eq!(p["vace_enabled"], json!(true));
        assert_eq!(p["vace_use_input_video"], json!(true));
    }

    /// Every field set: Scope's key names and values exactly; the JSON is written out by hand.
    #[test]
    fn runtime_params_use_scope_wire_keys() {
        let p = RuntimeParams {
            prompts: vec![
                Prompt {
                    text: "a fox".into(),
                    weight: 0.25,
                },
                Prompt {
                    text: "a cat".into(),
                    weight: 1.0,
                },
            ],
            interpolation: Interpolation::Slerp,
            noise_scale: Some(0.5),
            denoising_steps: Some(vec![1000, 750]),
            manage_cache: Some(false),
            vace_context_scale: Some(1.5),
        };
        let expected: Value = serde_json::from_str(
            r#"{
                "prompts": [{"text": "a fox", "weight": 0.25}, {"text": "a cat", "weight": 1.0}],
                "prompt_interpolation_method": "slerp",
                "noise_scale": 0.5,
                "denoising_step_list": [1000, 750],
                "manage_cache": false,
                "vace_context_scale": 1.5
            }"#,
        )
        .unwrap();
        assert_eq!(Value::Object(p.to_map()), expected);
    }

    /// Unset fields and an empty prompt list are absent; the interpolation method never is.
    #[test]
    fn unset_runtime_params_are_left_out() {
        let expected: Value =
            serde_json::from_str(r#"{"prompt_interpolation_method": "linear"}"#).unwrap();
        assert_eq!(Value::Object(RuntimeParams::default().to_map()), expected);
    }

    #[test]
    fn pending_merge_keeps_latest() {
        let mut pending = Map::new();
        merge_pending(
            &mut pending,
            json!({"prompts":[1],"noise_scale":0.1})
                .as_object()
                .cloned()
                .unwrap(),
        );
        merge_pending(
            &mut pending,
            json!({"transition":{},"noise_scale":0.2})
                .as_object()
                .cloned()
                .unwrap(),
        );
        assert_eq!(
            Value::Object(pending),
            json!({"transition":{},"noise_scale":0.2})
        );
    }
}
