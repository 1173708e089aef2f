//! Events: what changed since the last frame, sent to the clients subscribed to it.

use super::*;

pub(super) fn emit_changes(
    obs: &mut ObsWebSocket,
    show: Arc<LoadedShow>,
    playback: &Playback,
    scopes: &[(NodeId, Value)],
) {
    let scenes = &show.show.scenes;
    let preview = playback.preview.unwrap_or(playback.scene);
    let scope_states: BTreeMap<String, String> = scopes
        .iter()
        .map(|(id, v)| (id.to_string(), v["state"].as_str().unwrap_or("").to_owned()))
        .collect();
    let last = obs.last.take();
    let show_changed = last.as_ref().is_none_or(|l| !Arc::ptr_eq(&l.show, &show));
    let (settings, enabled) = match (&last, show_changed) {
        (Some(l), false) => (l.settings.clone(), l.enabled.clone()),
        _ => (all_settings(&show), all_enabled(&show)),
    };
    let seen = Seen {
        show: show.clone(),
        program: playback.scene,
        preview,
        transition: playback.transition.is_some(),
        settings,
        enabled,
        scope_states,
    };
    if let Some(last) = last {
        let server = &obs.server;
        let scene_id = |i: usize| scenes.get(i).map(|s| scene_ref(&s.name));
        if last.program != seen.program
            && let Some(id) = scene_id(seen.program)
        {
            server.emit(Event::new(
                "CurrentProgramSceneChanged",
                subscription::SCENES,
                id,
            ));
        }
        if last.preview != seen.preview
            && let Some(id) = scene_id(seen.preview)
        {
            server.emit(Event::new(
                "CurrentPreviewSceneChanged",
                subscription::SCENES,
                id,
            ));
        }
        let names = |s: &LoadedShow| {
            s.show
                .scenes
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        };
        if show_changed && names(&last.show) != names(&show) {
            server.emit(Event::new(
                "SceneListChanged",
                subscription::SCENES,
                json!({ "scenes": scene_list(&show) }),
            ));
        }
        if last.transition != seen.transition {
            let name = "Scene";
            let data =
                json!({ "transitionName": name, "transitionUuid": uuid("transition", name) });
            let event = if seen.transition {
                "SceneTransitionStarted"
            } else {
                "SceneTransitionEnded"
            };
            server.emit(Event::new(event, subscription::TRANSITIONS, data));
        }
        if show_changed {
            for (name, settings) in &seen.settings {
                if last.settings.get(name) != Some(settings) {
                    server.emit(Event::new(
                        "InputSettingsChanged",
                        subscription::INPUTS,
                        json!({ "inputName": name, "inputUuid": uuid("input", name), "inputSettings": settings }),
                    ));
                }
            }
            for ((scene, item), on) in &seen.enabled {
                if last
                    .enabled
                    .get(&(scene.clone(), *item))
                    .is_some_and(|was| was != on)
                {
                    let mut data = scene_ref(scene);
                    data["sceneItemId"] = (*item).into();
                    data["sceneItemEnabled"] = (*on).into();
                    server.emit(Event::new(
                        "SceneItemEnableStateChanged",
                        subscription::SCENE_ITEMS,
                        data,
                    ));
                }
            }
        }
        if last.scope_states != seen.scope_states {
            server.emit(Event::new(
                "VendorEvent",
                subscription::VENDORS,
                json!({
                    "vendorName": VENDOR,
                    "eventType": "ScopeStateChanged",
                    "eventData": { "scopes": scopes.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>() },
                }),
            ));
        }
    }
    obs.last = Some(seen);
}
