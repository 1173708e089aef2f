//! Live control: the typed commands every input surface sends (keyboard, console, OSC, MIDI,
//! obs-websocket), applied in one place, in order, within the frame.
//!
//! Commands are performance, not edits: they never enter the document's undo history. The
//! [`LiveEdit`]s change the show (a parameter, a prompt) through the document, as edits that are
//! not undo steps.

use bevy::prelude::*;
use document::Edit;
use show::NodeId;
use show::node::{NodeKind, Prompt};
use show::scene::Transition as SceneTransition;
pub use show::spec::Input as ParamInput;

use crate::AppSystems;
use crate::editor::Editor;
use crate::playback::Playback;
use crate::record::{Recording, Streams};
use crate::showfile::CurrentShow;

/// One live-control command.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ShowCommand {
    /// Put the scene with this index on program, with its transition.
    Cut(usize),
    /// Put the scene with this index in preview (studio mode).
    Preview(usize),
    /// Cut the preview to program; finishes a running transition at once.
    Take,
    /// Transition the preview to program: with this transition, or the preview scene's own.
    Auto(Option<SceneTransition>),
    /// Move the T-bar to a position in 0..=1 (1 completes, 0 cancels), mixing with this
    /// transition or the preview scene's own.
    TBar(f32, Option<SceneTransition>),
    /// A change to the show from a control surface.
    Live(LiveEdit),
    /// Turns an output (the recording by its file, a stream by its URL) on or off.
    Output { name: String, on: bool },
}

/// A change a control surface makes to the show. `scene: None` is the program scene.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEdit {
    /// One parameter by its spec-table name (`opacity`, `layers.opacity` with `index`).
    Param {
        scene: Option<usize>,
        node: NodeId,
        param: String,
        index: usize,
        value: ParamInput,
    },
    /// Replaces the scene's prompts with this one (weight 1 unless given), as the console's
    /// Send does. `node: None` is the scene's first Scope node.
    Prompt {
        scene: Option<usize>,
        node: Option<NodeId>,
        text: String,
        weight: Option<f32>,
    },
    /// Recalls the show's prompt preset of this name in the scene.
    Preset { scene: Option<usize>, name: String },
    /// The VACE reference strength (`params.vace_context_scale`).
    VaceScale { scene: Option<usize>, value: f32 },
}

pub struct ControlPlugin;

impl Plugin for ControlPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<ShowCommand>()
            .add_systems(Update, apply_commands.in_set(AppSystems::Control));
    }
}

/// The one place commands take effect. A command naming something that does not exist is
/// logged and ignored: a control surface can never stop the show.
fn apply_commands(
    mut commands: MessageReader<ShowCommand>,
    show: Res<CurrentShow>,
    mut playback: ResMut<Playback>,
    mut editor: Option<ResMut<Editor>>,
    (mut recording, mut streams): (Option<ResMut<Recording>>, Option<ResMut<Streams>>),
) {
    let loaded = &show.0;
    let scenes = &loaded.show.scenes;
    let missing = |n: usize| {
        warn!("no scene {} (the show has {})", n + 1, scenes.len());
    };
    // The transition into the preview scene unless one was picked.
    let into_preview = |playback: &Playback, with: &Option<SceneTransition>| {
        with.or_else(|| {
            playback
                .preview
                .and_then(|p| scenes.get(p))
                .map(|s| s.transition)
        })
    };
    for command in commands.read() {
        match command {
            ShowCommand::Cut(target) => {
                let Some(scene) = scenes.get(*target) else {
                    missing(*target);
                    continue;
                };
                info!("scene {}: {}", target + 1, scene.name);
                playback.switch_to(*target, &loaded.plans, scene);
            }
            ShowCommand::Preview(target) => {
                if playback.set_preview(*target, scenes.len()) {
                    info!("preview: scene {} ({})", target + 1, scenes[*target].name);
                } else {
                    missing(*target);
                }
            }
            ShowCommand::Take => playback.take(&loaded.plans),
            ShowCommand::Auto(with) => {
                if let Some(with) = into_preview(&playback, with) {
                    playback.auto(&loaded.plans, with);
                }
            }
            ShowCommand::TBar(position, with) => {
                if let Some(with) = into_preview(&playback, with) {
                    playback.tbar(&loaded.plans, *position, with);
                }
            }
            ShowCommand::Live(live) => {
                let Some(editor) = editor.as_mut() else {
                    warn!("{live:?} ignored: this app has no document to change");
                    continue;
                };
                let doc = &mut editor.doc;
                let result = live_edit(doc.show(), playback.scene, live)
                    .and_then(|edit| doc.apply_live(edit).map_err(|e| e.to_string()));
                if let Err(e) = result {
                    warn!("control: {e}");
                }
            }
            ShowCommand::Output { name, on } => {
                let verb = if *on { "on" } else { "off" };
                if let Some(r) = recording.as_mut().filter(|r| r.status().name == *name) {
                    info!("recording {name}: {verb}");
                    r.set_on(*on);
                } else if streams.as_mut().is_some_and(|s| s.set_on(name, *on)) {
                    info!("stream {name}: {verb}");
                } else {
                    warn!("no output {name:?} to turn {verb}");
                }
            }
        }
    }
}

/// The document edit a surface's change stands for, or why there is none.
pub fn live_edit(show: &show::Show, program: usize, live: &LiveEdit) -> Result<Edit, String> {
    let scene_of = |scene: &Option<usize>| {
        let i = scene.unwrap_or(program);
        show.scenes
            .get(i)
            .map(|s| (i, s))
            .ok_or_else(|| format!("no scene {} (the show has {})", i + 1, show.scenes.len()))
    };
    match live {
        LiveEdit::Param {
            scene,
            node,
            param,
            index,
            value,
        } => {
            let (i, s) = scene_of(scene)?;
            let n = s
                .nodes
                .get(node)
                .ok_or_else(|| format!("no node “{node}” in scene “{}”", s.name))?;
            let spec = n.kind.spec();
            let row = spec.param(param).ok_or_else(|| {
                format!("node “{node}” ({}) has no parameter “{param}”", spec.name)
            })?;
            if *index >= (row.len)(&n.kind) {
                return Err(format!("node “{node}”: {} has no item {index}", row.name));
            }
            let value = row
                .coerce(value)
                .map_err(|e| format!("node “{node}”: {e}"))?;
            let mut kind = n.kind.clone();
            if !(row.set)(&mut kind, *index, Some(value)) {
                return Err(format!(
                    "node “{node}”: {} cannot hold that value",
                    row.name
                ));
            }
            Ok(Edit::SetKind {
                scene: i,
                node: node.clone(),
                kind,
            })
        }
        LiveEdit::Prompt {
            scene,
            node,
            text,
            weight,
        } => {
            let (i, s) = scene_of(scene)?;
            let mut params = scope_params(s, node.as_ref())?;
            let weight = weight.unwrap_or(1.0);
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(format!(
                    "prompt weight must be a finite number ≥ 0, got {weight}"
                ));
            }
            params.prompts = vec![Prompt {
                text: text.clone(),
                weight,
            }];
            Ok(Edit::SetSceneScope {
                scene: i,
                scope: Some(params),
            })
        }
        LiveEdit::Preset { scene, name } => {
            let (i, s) = scene_of(scene)?;
            let params = scope_params(s, None)?;
            let preset = show
                .presets
                .prompts
                .iter()
                .find(|p| p.name == *name)
                .ok_or_else(|| format!("no prompt preset “{name}”"))?;
            Ok(Edit::SetSceneScope {
                scene: i,
                scope: Some(preset.apply_to(&params)),
            })
        }
        LiveEdit::VaceScale { scene, value } => {
            let (i, s) = scene_of(scene)?;
            let mut params = scope_params(s, None)?;
            let row = show::spec::param("scope", "params.vace_context_scale")
                .ok_or("no VACE scale row in the spec table")?;
            row.check(&show::spec::Value::Float(*value))
                .map_err(|e| format!("VACE scale {e}"))?;
            params.vace_context_scale = Some(*value);
            Ok(Edit::SetSceneScope {
                scene: i,
                scope: Some(params),
            })
        }
    }
}

/// The Scope parameters `node` (or the scene's first Scope node) plays with in `scene`.
fn scope_params(
    scene: &show::scene::Scene,
    node: Option<&NodeId>,
) -> Result<show::node::ScopeParams, String> {
    let id = match node {
        Some(id) => id.clone(),
        None => scene
            .nodes
            .iter()
            .find(|(_, n)| matches!(n.kind, NodeKind::Scope(_)))
            .map(|(id, _)| id.clone())
            .ok_or_else(|| format!("scene “{}” has no Scope node", scene.name))?,
    };
    console::effective_params(scene, &id)
        .ok_or_else(|| format!("“{id}” is not a Scope node of scene “{}”", scene.name))
}
