//! The operator console: the show's node graph, an inspector, the scenes and a viewer, drawn
//! with egui over a [`document::Document`].
//!
//! It holds no Bevy types: the host (the app's console plugin) hands it an egui context, the
//! document and what is live ([`Live`]), and carries out what it asks for ([`Action`]). The
//! console never changes the show itself: every change is an [`Edit`] through
//! [`Document::apply`], so undo, dirty tracking and validation see all of them.
//!
//! - `editing`: the top bar, the graph panel and edits from it.
//! - `graph`: the snarl projection of the edited scene; `graph_view`: drawing it.
//! - `palette`: adding nodes. `inspector`: parameters. `scenes`: the scene list.
//! - `studio`: studio mode (multiview, preview/program monitors, Take, Auto, T-bar).
//! - `scope_panel`: the live Scope controls (prompts, reference strength) and health;
//!   `pipeline_panel`: its pipeline and load settings from the server's schema.
//! - `viewer`: monitors and the node viewer. `dialogs`: quit and conflict questions.
//! - `outputs`: recordings and streams, started and stopped live.
//! - `midi_panel`: MIDI learn and mappings. `keymap`, `keys_window`: the operator's keys.
//! - `minimap`: the graph overview. `shortcuts`: keys. `style`: pin colours and shapes.

mod dialogs;
mod editing;
mod graph;
mod graph_view;
mod inspector;
mod inspector_lists;
pub mod keymap;
mod keys_window;
mod midi_panel;
mod minimap;
mod outputs;
mod palette;
mod pipeline_panel;
mod presets;
mod scenes;
mod scope_panel;
mod shortcuts;
mod studio;
mod style;
mod viewer;

use std::collections::HashMap;

use document::{Clipboard, Document};
use egui::{Id, LayerId, Pos2, Rect, UiBuilder};
use show::NodeId;
use show::scene::Transition;

#[doc(hidden)]
pub use graph::PinKey;
pub use outputs::{OutputLive, OutputState};
pub use palette::WireFrom;
pub use scope_panel::{SLIDER_INTERVAL, effective_params};

/// A traffic light, as an operator reads it at a glance; thresholds are the host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Health {
    #[default]
    Healthy,
    Watch,
    Critical,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Watch => "Watch",
            Health::Critical => "Critical",
        }
    }
}

/// One Scope node as the host sees it, for its panel.
#[derive(Debug, Clone, Default)]
pub struct ScopeLive {
    /// "Live", "Loading 43 %", "Stalled"...
    pub state: String,
    pub health: Health,
    /// The numbers behind it: fps, round trip, frame age, reconnects.
    pub detail: String,
    /// The pipelines its server offers, once known.
    pub pipelines: Option<std::sync::Arc<[show::pipeline::PipelineInfo]>>,
    /// Its VACE reference images by the path the show gives them.
    pub references: HashMap<std::path::PathBuf, Reference>,
}

/// A VACE reference image as the host knows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reference {
    /// Its picture (with its pixel size), once decoded.
    pub picture: Option<(egui::TextureId, [u32; 2])>,
    pub state: ReferenceState,
}

/// Whether the server has a reference image.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ReferenceState {
    /// Not sent yet (the node is loading, or the file was just added).
    #[default]
    Waiting,
    Uploaded,
    /// The upload failed; the reason names the file.
    Failed(String),
}

/// What is playing, as the host knows it. Read-only for the console.
#[derive(Debug, Default)]
pub struct Live<'a> {
    /// The scene on program (what the audience sees).
    pub program_scene: usize,
    /// The program picture, for the monitor.
    pub program: Option<Picture<'a>>,
    /// The scene in preview (studio mode), if any.
    pub preview_scene: Option<usize>,
    /// The preview scene's picture, for the preview monitor.
    pub preview: Option<Picture<'a>>,
    /// Small live pictures of whole scenes by index, for the multiview.
    pub scene_pictures: HashMap<usize, egui::TextureId>,
    /// Where the T-bar stands (0..1): the mix of a transition driven by hand.
    pub tbar: f32,
    /// A transition is running (Auto or T-bar).
    pub transitioning: bool,
    /// The output of the node picked for the viewer ([`Console::viewed_node`]).
    pub viewer: Option<Picture<'a>>,
    /// Small live pictures of node outputs in the edited scene, by node id.
    pub thumbnails: HashMap<NodeId, egui::TextureId>,
    /// Problems of the edited show by scene index and node id (validation messages). The program
    /// keeps playing the last valid show while there are any.
    pub node_errors: HashMap<(usize, NodeId), String>,
    /// A problem with the show as a whole (not tied to one node).
    pub show_error: Option<String>,
    /// One line of status (fps, Scope state) for the status bar.
    pub status: String,
    /// The Scope nodes that run, by node id.
    pub scope: HashMap<NodeId, ScopeLive>,
    /// The show's health: the worst of its parts (shown in the top bar, never on program).
    pub health: Health,
    /// "MIDI: unavailable", "MIDI: nanoKONTROL2"...
    pub midi_status: String,
    /// The target the next moved control will be mapped to, while learning.
    pub midi_learning: Option<show::midi::MidiTarget>,
    /// The recordings and streams, with their state.
    pub outputs: Vec<OutputLive>,
    /// Image files near the show file, relative to its folder, for the file pickers.
    pub media: std::sync::Arc<[std::path::PathBuf]>,
}

/// A texture the host renders, with its pixel size and, when available, its pixels (RGBA8,
/// row-major) so the viewer can show the value under the cursor.
#[derive(Debug, Clone, Copy)]
pub struct Picture<'a> {
    pub texture: egui::TextureId,
    pub size: [u32; 2],
    pub rgba: Option<&'a [u8]>,
}

/// What the console asks the host to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Put scene `n` on program (keys 1-9, or a click in the scenes panel). Live control, not an edit.
    Cut(usize),
    /// Put scene `n` in preview (Shift+1-9, a click in the multiview).
    Preview(usize),
    /// Cut the preview to program.
    Take,
    /// Transition the preview to program, with this transition or the preview scene's own.
    Auto(Option<Transition>),
    /// The T-bar moved to this position (0..=1), mixing with this transition or the scene's own.
    TBar(f32, Option<Transition>),
    /// Save the document to its file (Ctrl+S).
    Save,
    /// Close the app: asked for, and confirmed if there were unsaved changes.
    Quit,
    /// Replace the document with the version on disk (the operator chose theirs in a conflict).
    LoadExternal,
    /// Map the next MIDI control moved to this target (`None` cancels).
    MidiLearn(Option<show::midi::MidiTarget>),
    /// The operator changed the keys: save them (per machine).
    SaveKeymap(keymap::Keymap),
    /// The program window between fullscreen and windowed.
    ToggleFullscreen,
    /// Start (`on`) or stop the output with this name (a file or a URL).
    Output { name: String, on: bool },
}

/// How long a refusal stays on screen, in seconds: long enough to read, short enough not to
/// linger over the next action.
const TOAST_SECS: f64 = 6.0;

/// The console's own state: which scene is edited, the selection, open panels.
#[derive(Debug, Default)]
pub struct Console {
    edited_scene: usize,
    viewed: Option<NodeId>,
    thumbnails: bool,
    graph: graph::Graph,
    palette: palette::Palette,
    scenes: scenes::ScenesPanel,
    studio: studio::Studio,
    scope_panel: scope_panel::ScopePanel,
    midi: midi_panel::MidiPanel,
    keymap: keymap::Keymap,
    keys_window: keys_window::KeysWindow,
    /// The preview scene last frame: a new one becomes the edited scene.
    last_preview: Option<usize>,
    dialog: dialogs::Dialog,
    /// Survives switching scenes, so nodes can be pasted into another scene.
    clipboard: Clipboard,
    selected: Vec<NodeId>,
    /// The last refusal (an `EditError` message) and when it came.
    toast: Option<(String, f64)>,
}

impl Console {
    pub fn new() -> Self {
        Console {
            thumbnails: true,
            ..Default::default()
        }
    }

    /// Draws the console for one frame and returns what the host should do.
    pub fn ui(&mut self, ctx: &egui::Context, doc: &mut Document, live: &Live) -> Vec<Action> {
        let mut root = egui::Ui::new(
            ctx.clone(),
            Id::new("console_root"),
            UiBuilder::new()
                .layer_id(LayerId::background())
                .max_rect(ctx.content_rect()),
        );
        self.ui_in(&mut root, doc, live)
    }

    /// [`Console::ui`] inside a given `Ui` (for hosts that already have a root `Ui`).
    pub fn ui_in(&mut self, ui: &mut egui::Ui, doc: &mut Document, live: &Live) -> Vec<Action> {
        let ctx = ui.ctx().clone();
        let scene_count = doc.show().scenes.len();
        // Sending a scene to preview is how an operator says "this is the one I prepare".
        if live.preview_scene != self.last_preview {
            self.last_preview = live.preview_scene;
            if let Some(p) = live.preview_scene {
                self.edit_scene(p);
            }
        }
        self.edited_scene = self.edited_scene.min(scene_count.saturating_sub(1));
        let mut actions = shortcuts::handle(self, &ctx, doc, live);

        egui::Panel::top("console_top").show(ui, |ui| self.top_bar(ui, doc, live));
        egui::Panel::left("console_scenes")
            .resizable(true)
            .default_size(200.0)
            .size_range(160.0..=320.0)
            .show(ui, |ui| {
                let out = self.scenes.show(
                    ui,
                    doc,
                    self.edited_scene,
                    live.program_scene,
                    live.preview_scene,
                );
                actions.extend(out.actions);
                if let Some(e) = out.error {
                    self.refuse(&ctx, e);
                }
                if let Some(s) = out.edit {
                    self.edit_scene(s);
                }
                ui.separator();
                egui::CollapsingHeader::new("Outputs")
                    .default_open(true)
                    .show(ui, |ui| actions.extend(outputs::show(ui, &live.outputs)));
                egui::CollapsingHeader::new("MIDI")
                    .default_open(false)
                    .show(ui, |ui| {
                        let selected = self.selected.last().cloned();
                        let (more, error) = self.midi.show(
                            ui,
                            doc,
                            self.edited_scene,
                            selected.as_ref(),
                            &live.midi_status,
                            live.midi_learning.as_ref(),
                        );
                        actions.extend(more);
                        if let Some(e) = error {
                            self.refuse(&ctx, e);
                        }
                    });
            });
        egui::Panel::right("console_inspector")
            .resizable(true)
            .default_size(360.0)
            // Long list rows must not push the panel over the graph.
            .size_range(240.0..=420.0)
            .show(ui, |ui| {
                let mut live_scenes = vec![(live.program_scene, "program")];
                if let Some(p) = live.preview_scene.filter(|p| *p != live.program_scene) {
                    live_scenes.push((p, "preview"));
                }
                let panel = egui::ScrollArea::vertical()
                    .id_salt("scope_panel")
                    .max_height(ui.available_height() * 0.5)
                    .show(ui, |ui| {
                        self.scope_panel
                            .show(ui, doc, &live_scenes, &live.scope, &live.media)
                    });
                if let Some(e) = panel.inner {
                    self.refuse(&ctx, e);
                }
                let selected = self.selected.last().cloned();
                let out =
                    inspector::show(ui, doc, self.edited_scene, selected.as_ref(), &live.media);
                if let Some(v) = out.view {
                    self.viewed = Some(v);
                }
                if let Some(e) = out.error {
                    self.refuse(&ctx, e);
                }
            });
        egui::Panel::bottom("console_monitors")
            .resizable(true)
            .default_size(340.0)
            .size_range(220.0..=700.0)
            .show(ui, |ui| {
                ui.set_min_height(ui.available_height());
                let names: Vec<String> = doc.show().scenes.iter().map(|s| s.name.clone()).collect();
                actions.extend(self.studio.multiview(ui, &names, live));
                ui.separator();
                let h = (ui.available_height() - 24.0).max(40.0);
                let w = ui.available_width();
                let monitor_w = ((w - 150.0 - 48.0) / 3.0).max(40.0);
                ui.horizontal(|ui| {
                    let studio_w = 2.0 * monitor_w + 174.0;
                    let readiness = live
                        .preview_scene
                        .and_then(|i| doc.show().scenes.get(i))
                        .map(|scene| studio::readiness(scene, &live.scope));
                    actions.extend(self.studio.monitors(
                        ui,
                        live,
                        readiness,
                        egui::vec2(studio_w, h),
                    ));
                    ui.separator();
                    viewer::viewer(
                        ui,
                        self.viewed.as_ref(),
                        live.viewer.as_ref(),
                        egui::vec2(monitor_w, h),
                    );
                });
            });
        egui::CentralPanel::default().show(ui, |ui| self.graph_panel(ui, doc, live));

        if let Some(chosen) = self.palette.show(&ctx) {
            self.add_from_palette(&ctx, doc, chosen);
        }
        actions.extend(self.dialog.show(&ctx));
        if let Some(keymap) = self.keys_window.show(&ctx, &self.keymap) {
            self.keymap = keymap.clone();
            actions.push(Action::SaveKeymap(keymap));
        }
        // A gesture left open (a widget vanished mid-drag) must not swallow later edits.
        if doc.in_gesture()
            && !ctx.input(|i| i.pointer.any_down())
            && ctx.memory(|m| m.focused().is_none())
        {
            doc.end_gesture();
        }
        if self
            .toast
            .as_ref()
            .is_some_and(|(_, t)| ctx.input(|i| i.time) - t > TOAST_SECS)
        {
            self.toast = None;
        }
        actions
    }

    /// The operator's keys (the host loads them from the machine's settings).
    pub fn set_keymap(&mut self, keymap: keymap::Keymap) {
        self.keymap = keymap;
    }

    pub fn keymap(&self) -> &keymap::Keymap {
        &self.keymap
    }

    /// The scene shown in the graph view.
    pub fn edited_scene(&self) -> usize {
        self.edited_scene
    }

    /// The node whose output the viewer shows.
    pub fn viewed_node(&self) -> Option<&NodeId> {
        self.viewed.as_ref()
    }

    /// Whether node thumbnails are wanted (the host renders them only then).
    pub fn thumbnails_on(&self) -> bool {
        self.thumbnails
    }

    /// The selected nodes of the edited scene, last clicked last (the inspector shows it).
    pub fn selected(&self) -> &[NodeId] {
        &self.selected
    }

    /// The last refusal shown to the operator, if it is still on screen.
    pub fn message(&self) -> Option<&str> {
        self.toast.as_ref().map(|(m, _)| m.as_str())
    }

    /// The nodes of the edited scene currently visible in the graph view (thumbnails are
    /// rendered only for these).
    pub fn visible_nodes(&self) -> Vec<NodeId> {
        let view = self.graph.view_rect;
        self.graph
            .node_rects
            .iter()
            .filter(|(_, r)| r.intersects(view))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Pin centres on screen as drawn last frame, for tests that drag wires with the pointer.
    #[doc(hidden)]
    pub fn pin_positions(&self) -> Vec<(PinKey, Pos2)> {
        self.graph.pin_screen.clone()
    }

    /// A node's rect on screen as drawn last frame.
    #[doc(hidden)]
    pub fn node_rect(&self, id: &NodeId) -> Option<Rect> {
        self.graph
            .node_rects
            .iter()
            .find(|(n, _)| n == id)
            .map(|(_, r)| *r)
    }

    /// The window is being closed: quit at once when there is nothing unsaved, or ask.
    pub fn request_quit(&mut self, doc: &Document) -> Vec<Action> {
        if doc.is_dirty() {
            self.dialog = dialogs::Dialog::Quit;
            Vec::new()
        } else {
            vec![Action::Quit]
        }
    }

    /// The file changed on disk while the document has unsaved changes: ask which to keep.
    pub fn ask_external_conflict(&mut self) {
        self.dialog = dialogs::Dialog::Conflict;
    }
}
