//! The requests: each reads the published state or sends commands, and answers as OBS does.

use super::*;

/// The request handler: reads [`Published`], sends commands.
pub(super) struct App2Obs {
    pub(super) published: Arc<Published>,
    pub(super) commands: Sender<ShowCommand>,
    pub(super) transition: Mutex<Choice>,
}

pub(super) fn field<'a>(data: &'a Value, name: &str) -> Option<&'a Value> {
    data.get(name).filter(|v| !v.is_null())
}

pub(super) fn string_field<'a>(
    data: &'a Value,
    name: &str,
) -> Result<Option<&'a str>, RequestError> {
    match field(data, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RequestError::wrong_type(name, "a string")),
    }
}

pub(super) fn required<T>(v: Option<T>, name: &str) -> Result<T, RequestError> {
    v.ok_or_else(|| RequestError::missing(name))
}

pub(super) fn number_field(data: &Value, name: &str) -> Result<f64, RequestError> {
    let v = required(field(data, name), name)?;
    v.as_f64()
        .ok_or_else(|| RequestError::wrong_type(name, "a number"))
}

/// A JSON value as a control surface's parameter input.
pub(super) fn param_input(v: &Value, name: &str) -> Result<ParamInput, RequestError> {
    match v {
        Value::Bool(b) => Ok(ParamInput::Bool(*b)),
        Value::String(s) => Ok(ParamInput::Text(s.clone())),
        Value::Number(n) => Ok(match n.as_i64() {
            Some(i) => ParamInput::Int(i),
            None => ParamInput::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        _ => Err(RequestError::wrong_type(
            name,
            "a number, a boolean or a string",
        )),
    }
}

impl App2Obs {
    pub(super) fn world(&self) -> Result<World, RequestError> {
        let world = self.published.lock().clone();
        if world.show.is_none() {
            return Err(RequestError::new(
                status::NOT_READY,
                "the show is still loading",
            ));
        }
        Ok(world)
    }

    /// Sends `commands` and waits (at most a second) until a frame after them is published,
    /// so the reply and any `Get` after it see their effect.
    pub(super) fn send(&self, commands: Vec<ShowCommand>) -> Reply {
        let sent_at = self.published.lock().frame;
        for c in commands {
            self.commands.try_send(c).map_err(|_| {
                RequestError::new(
                    status::NOT_READY,
                    "the app is not taking commands (stalled?)",
                )
            })?;
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut world = self.published.lock();
        // Frame `sent_at + 1` may have drained the channel before our send; `+ 2` surely after.
        while world.frame < sent_at + 2 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            world = self
                .published
                .changed
                .wait_timeout(world, left)
                .map(|(w, _)| w)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        Ok(Value::Null)
    }

    /// The scene named by `sceneName` or `sceneUuid`.
    pub(super) fn scene(&self, world: &World, data: &Value) -> Result<usize, RequestError> {
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        let by_name = string_field(data, "sceneName")?;
        let by_uuid = string_field(data, "sceneUuid")?;
        let found = match (by_name, by_uuid) {
            (Some(name), _) => show.scenes.iter().position(|s| s.name == name),
            (None, Some(u)) => show.scenes.iter().position(|s| uuid("scene", &s.name) == u),
            (None, None) => return Err(RequestError::missing("sceneName")),
        };
        found.ok_or_else(|| {
            RequestError::not_found(format!(
                "No source was found by the name of `{}`.",
                by_name.or(by_uuid).unwrap_or_default()
            ))
        })
    }

    /// The node named by `inputName` (`scene/node`, or a node of the program scene) or
    /// `inputUuid`.
    pub(super) fn input(
        &self,
        world: &World,
        data: &Value,
    ) -> Result<(usize, NodeId), RequestError> {
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        let by_name = string_field(data, "inputName")?;
        let by_uuid = string_field(data, "inputUuid")?;
        let all = || {
            show.scenes.iter().enumerate().flat_map(|(i, s)| {
                s.nodes
                    .keys()
                    .map(move |id| (i, id.clone(), input_name(&s.name, id)))
            })
        };
        let found = match (by_name, by_uuid) {
            (Some(name), _) => all()
                .find(|(_, _, n)| n == name)
                .map(|(i, id, _)| (i, id))
                .or_else(|| {
                    let program = show.scenes.get(world.program)?;
                    let id = program.nodes.keys().find(|id| id.to_string() == name)?;
                    Some((world.program, id.clone()))
                }),
            (None, Some(u)) => all()
                .find(|(_, _, n)| uuid("input", n) == u)
                .map(|(i, id, _)| (i, id)),
            (None, None) => return Err(RequestError::missing("inputName")),
        };
        found.ok_or_else(|| {
            RequestError::not_found(format!(
                "No source was found by the name of `{}`.",
                by_name.or(by_uuid).unwrap_or_default()
            ))
        })
    }

    pub(super) fn editable(world: &World) -> Result<(), RequestError> {
        if world.editable {
            Ok(())
        } else {
            Err(RequestError::new(
                status::INVALID_RESOURCE_STATE,
                "this app plays without a document (--output-only): parameters cannot change",
            ))
        }
    }

    pub(super) fn transition_info(&self) -> Value {
        let choice = *self
            .transition
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let name = choice.name();
        json!({
            "transitionName": name,
            "transitionUuid": uuid("transition", name),
            "transitionKind": Choice::kind(name),
            "transitionFixed": choice.duration().is_none(),
            "transitionDuration": choice.duration().map(|d| (d * 1000.0).round() as u64),
            "transitionConfigurable": false,
            "transitionSettings": Value::Null,
        })
    }

    pub(super) fn choice(&self) -> Choice {
        *self
            .transition
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn vendor(&self, world: &World, data: &Value) -> Reply {
        let vendor = required(string_field(data, "vendorName")?, "vendorName")?;
        let request = required(string_field(data, "requestType")?, "requestType")?;
        if vendor != VENDOR {
            return Err(RequestError::not_found("No vendor was found by that name."));
        }
        let args = field(data, "requestData").cloned().unwrap_or(json!({}));
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        // `scene` (a name) picks a scene; the program scene otherwise.
        let scene = match string_field(&args, "scene")? {
            Some(name) => Some(
                show.scenes
                    .iter()
                    .position(|s| s.name == name)
                    .ok_or_else(|| RequestError::not_found(format!("no scene `{name}`")))?,
            ),
            None => None,
        };
        let target = &show.scenes[scene
            .unwrap_or(world.program)
            .min(show.scenes.len().saturating_sub(1))];
        let has_scope = |node: Option<&NodeId>| {
            target.nodes.iter().any(|(id, n)| {
                matches!(n.kind, NodeKind::Scope(_)) && node.is_none_or(|want| want == id)
            })
        };
        let response = match request {
            "scope_status" => {
                json!({ "scopes": world.scopes.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>() })
            }
            "send_prompt" | "recall_preset" | "set_vace_scale" => {
                Self::editable(world)?;
                let edit = match request {
                    "send_prompt" => {
                        let text = required(string_field(&args, "text")?, "text")?.to_owned();
                        let node = string_field(&args, "node")?.map(|n| NodeId(n.to_owned()));
                        let weight = match field(&args, "weight") {
                            None => None,
                            Some(w) => Some(
                                w.as_f64()
                                    .ok_or_else(|| RequestError::wrong_type("weight", "a number"))?
                                    as f32,
                            ),
                        };
                        if !has_scope(node.as_ref()) {
                            return Err(RequestError::not_found(format!(
                                "scene `{}` has no such Scope node",
                                target.name
                            )));
                        }
                        LiveEdit::Prompt {
                            scene,
                            node,
                            text,
                            weight,
                        }
                    }
                    "recall_preset" => {
                        let name = required(string_field(&args, "name")?, "name")?.to_owned();
                        if !show.presets.prompts.iter().any(|p| p.name == name) {
                            return Err(RequestError::not_found(format!(
                                "no prompt preset `{name}`"
                            )));
                        }
                        if !has_scope(None) {
                            return Err(RequestError::not_found(format!(
                                "scene `{}` has no Scope node",
                                target.name
                            )));
                        }
                        LiveEdit::Preset { scene, name }
                    }
                    _ => {
                        let value = number_field(&args, "value")? as f32;
                        if let Some(row) = show::spec::param("scope", "params.vace_context_scale") {
                            row.check(&ParamValue::Float(value)).map_err(|e| {
                                RequestError::new(
                                    status::REQUEST_FIELD_OUT_OF_RANGE,
                                    format!("value {e}"),
                                )
                            })?;
                        }
                        if !has_scope(None) {
                            return Err(RequestError::not_found(format!(
                                "scene `{}` has no Scope node",
                                target.name
                            )));
                        }
                        LiveEdit::VaceScale { scene, value }
                    }
                };
                self.send(vec![ShowCommand::Live(edit)])?;
                json!({})
            }
            _ => {
                return Err(RequestError::new(
                    status::UNKNOWN_REQUEST_TYPE,
                    format!(
                        "vendor {VENDOR} has no request `{request}` (send_prompt, recall_preset, set_vace_scale, scope_status)"
                    ),
                ));
            }
        };
        Ok(json!({ "vendorName": vendor, "requestType": request, "responseData": response }))
    }

    pub(super) fn set_input_settings(&self, world: &World, data: &Value) -> Reply {
        let (scene, node) = self.input(world, data)?;
        Self::editable(world)?;
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        let kind = &show.scenes[scene].nodes[&node].kind;
        let Value::Object(settings) = required(field(data, "inputSettings"), "inputSettings")?
        else {
            return Err(RequestError::wrong_type("inputSettings", "an object"));
        };
        let spec = kind.spec();
        let mut commands = Vec::new();
        for (name, value) in settings {
            let row = spec.param(name).ok_or_else(|| {
                RequestError::new(
                    status::INVALID_REQUEST_FIELD,
                    format!("{} has no parameter `{name}`", spec.name),
                )
            })?;
            let values: Vec<(usize, &Value)> = match (row.list, value) {
                (true, Value::Array(items)) => items.iter().enumerate().collect(),
                (true, _) => return Err(RequestError::wrong_type(name, "an array")),
                (false, v) => vec![(0, v)],
            };
            let len = (row.len)(kind);
            for (index, v) in values {
                if index >= len {
                    return Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        format!("{name}: the node has {len} items"),
                    ));
                }
                let input = param_input(v, name)?;
                row.coerce(&input)
                    .map_err(|e| RequestError::new(status::INVALID_REQUEST_FIELD, e))?;
                commands.push(ShowCommand::Live(LiveEdit::Param {
                    scene: Some(scene),
                    node: node.clone(),
                    param: name.clone(),
                    index,
                    value: input,
                }));
            }
        }
        let overlay = match field(data, "overlay") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(RequestError::wrong_type("overlay", "a boolean")),
        };
        if !overlay {
            // OBS resets the input to its defaults first. Here that is every number, switch
            // and choice not given (each list item's too); files, text and colours are kept,
            // since a default there is an empty file or a black colour, not a setting.
            let defaults = spec
                .params
                .iter()
                .filter(|row| !settings.contains_key(row.name))
                .flat_map(|row| {
                    let input = row.default_value(spec).and_then(|v| match v {
                        ParamValue::Float(f) => Some(ParamInput::Float(f64::from(f))),
                        ParamValue::Int(i) => Some(ParamInput::Int(i)),
                        ParamValue::Bool(b) => Some(ParamInput::Bool(b)),
                        ParamValue::Choice(c) => Some(ParamInput::Text(c.into())),
                        _ => None,
                    });
                    let node = node.clone();
                    (0..(row.len)(kind)).filter_map(move |index| {
                        let value = input.clone()?;
                        ((row.get)(kind, index) != row.coerce(&value).ok()).then(|| {
                            ShowCommand::Live(LiveEdit::Param {
                                scene: Some(scene),
                                node: node.clone(),
                                param: row.name.into(),
                                index,
                                value,
                            })
                        })
                    })
                });
            commands.extend(defaults);
        }
        self.send(commands)
    }
}
