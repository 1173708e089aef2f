//! The server's entry point: a request's type to its handler, everything else 204.

use super::*;

impl Handler for App2Obs {
    fn request(&self, request_type: &str, data: &Value, _session: &Session) -> Reply {
        if request_type == "GetVersion" {
            return Ok(json!({
                "obsVersion": obs_websocket::protocol::OBS_STUDIO_VERSION,
                "obsWebSocketVersion": obs_websocket::protocol::OBS_WEBSOCKET_VERSION,
                "rpcVersion": obs_websocket::protocol::RPC_VERSION,
                "availableRequests": REQUESTS,
                "supportedImageFormats": ["png", "jpg", "jpeg"],
                "platform": "metadj-scope",
                "platformDescription": format!("MetaDJ Scope {} ({})", env!("CARGO_PKG_VERSION"), std::env::consts::OS),
            }));
        }
        let world = self.world()?;
        let Some(loaded) = world.show.clone() else {
            return Err(RequestError::new(status::NOT_READY, "no show"));
        };
        let scenes = &loaded.show.scenes;
        let scene_name = |i: usize| scenes.get(i).map(|s| s.name.clone()).unwrap_or_default();
        let current = |prefix: &str, i: usize| {
            let name = scene_name(i);
            json!({
                "sceneName": name, "sceneUuid": uuid("scene", &name),
                format!("current{prefix}SceneName"): name, format!("current{prefix}SceneUuid"): uuid("scene", &name),
            })
        };
        match request_type {
            "GetStats" => Ok(json!({
                "cpuUsage": 0.0,
                "memoryUsage": 0.0,
                "availableDiskSpace": 0.0,
                "activeFps": world.fps,
                "averageFrameRenderTime": if world.fps > 0.0 { 1000.0 / world.fps } else { 0.0 },
                "renderSkippedFrames": 0,
                "renderTotalFrames": world.frame,
                "outputSkippedFrames": 0,
                "outputTotalFrames": world.frame,
            })),
            "GetSceneList" => {
                let program = scene_name(world.program);
                let preview = scene_name(world.preview_or_program());
                Ok(json!({
                    "currentProgramSceneName": program,
                    "currentProgramSceneUuid": uuid("scene", &program),
                    "currentPreviewSceneName": preview,
                    "currentPreviewSceneUuid": uuid("scene", &preview),
                    "scenes": scene_list(&loaded),
                }))
            }
            "GetCurrentProgramScene" => Ok(current("Program", world.program)),
            "GetCurrentPreviewScene" => Ok(current("Preview", world.preview_or_program())),
            "SetCurrentProgramScene" => {
                let i = self.scene(&world, data)?;
                self.send(vec![ShowCommand::Cut(i)])
            }
            "SetCurrentPreviewScene" => {
                let i = self.scene(&world, data)?;
                self.send(vec![ShowCommand::Preview(i)])
            }
            "GetStudioModeEnabled" => Ok(json!({ "studioModeEnabled": true })),
            "SetStudioModeEnabled" => match field(data, "studioModeEnabled") {
                None => Err(RequestError::missing("studioModeEnabled")),
                Some(Value::Bool(true)) => Ok(Value::Null),
                Some(Value::Bool(false)) => Err(RequestError::new(
                    status::CANNOT_ACT,
                    "studio mode is always on in MetaDJ Scope (program and preview)",
                )),
                Some(_) => Err(RequestError::wrong_type("studioModeEnabled", "a boolean")),
            },
            "TriggerStudioModeTransition" => {
                self.send(vec![ShowCommand::Auto(self.choice().transition())])
            }
            "SetTBarPosition" => {
                let position = number_field(data, "position")?;
                if !(0.0..=1.0).contains(&position) {
                    return Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        "position must be in 0..=1",
                    ));
                }
                // `release` is accepted and needs nothing: the T-bar takes at 1 and cancels at 0.
                self.send(vec![ShowCommand::TBar(
                    position as f32,
                    self.choice().transition(),
                )])
            }
            "GetTransitionKindList" => Ok(json!({
                "transitionKinds": TRANSITIONS.iter().map(|n| Choice::kind(n)).collect::<Vec<_>>()
            })),
            "GetSceneTransitionList" => {
                let current = self.transition_info();
                Ok(json!({
                    "currentSceneTransitionName": current["transitionName"],
                    "currentSceneTransitionUuid": current["transitionUuid"],
                    "currentSceneTransitionKind": current["transitionKind"],
                    "transitions": TRANSITIONS.iter().map(|n| json!({
                        "transitionName": n,
                        "transitionUuid": uuid("transition", n),
                        "transitionKind": Choice::kind(n),
                        "transitionFixed": matches!(*n, "Scene" | "Cut"),
                        "transitionConfigurable": false,
                    })).collect::<Vec<_>>(),
                }))
            }
            "GetCurrentSceneTransition" => Ok(self.transition_info()),
            "SetCurrentSceneTransition" => {
                let name = required(string_field(data, "transitionName")?, "transitionName")?;
                let mut choice = self
                    .transition
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let keep = choice.duration().unwrap_or(1.0);
                *choice = match name {
                    "Scene" => Choice::Scene,
                    "Cut" => Choice::Cut,
                    "Fade" => Choice::Fade(keep),
                    "Wipe" => Choice::Wipe(keep),
                    _ => {
                        return Err(RequestError::not_found(format!(
                            "No transition was found by the name of `{name}` (Scene, Cut, Fade, Wipe)."
                        )));
                    }
                };
                Ok(Value::Null)
            }
            "SetCurrentSceneTransitionDuration" => {
                let ms = number_field(data, "transitionDuration")?;
                if !(50.0..=20000.0).contains(&ms) {
                    return Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        "transitionDuration must be in 50..=20000",
                    ));
                }
                let mut choice = self
                    .transition
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let d = (ms / 1000.0) as f32;
                *choice = match *choice {
                    Choice::Fade(_) => Choice::Fade(d),
                    Choice::Wipe(_) => Choice::Wipe(d),
                    _ => {
                        return Err(RequestError::new(
                            status::INVALID_RESOURCE_STATE,
                            "The current scene transition has a fixed duration (pick Fade or Wipe first).",
                        ));
                    }
                };
                Ok(Value::Null)
            }
            "GetCurrentSceneTransitionCursor" => Ok(json!({
                "transitionCursor": world.transition.map_or(1.0, |(p, _)| p)
            })),
            "GetSceneItemList" => {
                let i = self.scene(&world, data)?;
                let s = &scenes[i];
                let items: Vec<Value> = s
                    .nodes
                    .iter()
                    .enumerate()
                    .map(|(index, (id, n))| {
                        let name = input_name(&s.name, id);
                        json!({
                            "sceneItemId": item_id(id),
                            "sceneItemIndex": index,
                            "sourceName": name,
                            "sourceUuid": uuid("input", &name),
                            "sourceType": "OBS_SOURCE_TYPE_INPUT",
                            "inputKind": n.kind.spec().name,
                            "isGroup": Value::Null,
                            "sceneItemEnabled": item_enabled(s, id),
                            "sceneItemLocked": false,
                            "sceneItemBlendMode": "OBS_BLEND_NORMAL",
                        })
                    })
                    .collect();
                Ok(json!({ "sceneItems": items }))
            }
            "GetSceneItemEnabled" | "SetSceneItemEnabled" => {
                let i = self.scene(&world, data)?;
                let s = &scenes[i];
                let want = required(field(data, "sceneItemId"), "sceneItemId")?
                    .as_i64()
                    .ok_or_else(|| RequestError::wrong_type("sceneItemId", "a number"))?;
                let id = s
                    .nodes
                    .keys()
                    .find(|id| item_id(id) == want)
                    .ok_or_else(|| {
                        RequestError::not_found(format!(
                            "No scene items were found in scene `{}` with the ID `{want}`.",
                            s.name
                        ))
                    })?;
                if request_type == "GetSceneItemEnabled" {
                    return Ok(json!({ "sceneItemEnabled": item_enabled(s, id) }));
                }
                let on = match required(field(data, "sceneItemEnabled"), "sceneItemEnabled")? {
                    Value::Bool(b) => *b,
                    _ => return Err(RequestError::wrong_type("sceneItemEnabled", "a boolean")),
                };
                Self::editable(&world)?;
                let (blend, layer) = layer_of(s, id).ok_or_else(|| {
                    RequestError::new(
                        status::INVALID_RESOURCE_STATE,
                        format!("`{id}` feeds no blend layer, so it has no visibility to switch"),
                    )
                })?;
                self.send(vec![ShowCommand::Live(LiveEdit::Param {
                    scene: Some(i),
                    node: blend,
                    param: "layers.opacity".into(),
                    index: layer,
                    value: ParamInput::Float(if on { 1.0 } else { 0.0 }),
                })])
            }
            "GetInputList" => {
                let kind = string_field(data, "inputKind")?;
                let inputs: Vec<Value> = scenes
                    .iter()
                    .flat_map(|s| s.nodes.iter().map(move |(id, n)| (s, id, n)))
                    .filter(|(_, _, n)| kind.is_none_or(|k| k == n.kind.spec().name))
                    .map(|(s, id, n)| {
                        let name = input_name(&s.name, id);
                        json!({
                            "inputName": name,
                            "inputUuid": uuid("input", &name),
                            "inputKind": n.kind.spec().name,
                            "unversionedInputKind": n.kind.spec().name,
                        })
                    })
                    .collect();
                Ok(json!({ "inputs": inputs }))
            }
            "GetInputSettings" => {
                let (i, id) = self.input(&world, data)?;
                let kind = &scenes[i].nodes[&id].kind;
                Ok(json!({ "inputSettings": settings(kind), "inputKind": kind.spec().name }))
            }
            "SetInputSettings" => self.set_input_settings(&world, data),
            "GetSourceScreenshot" => self.screenshot(&world, data),
            "CallVendorRequest" => self.vendor(&world, data),
            _ => Err(RequestError::new(
                status::UNKNOWN_REQUEST_TYPE,
                format!(
                    "MetaDJ Scope does not serve `{request_type}` (see GetVersion's availableRequests)"
                ),
            )),
        }
    }
}
