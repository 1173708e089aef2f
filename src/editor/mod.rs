//! The console host: runs the `console` crate's egui UI in the primary window over the
//! [`document::Document`], and makes its edits live.
//!
//! The document is the only writer of the show. Each change goes to the `show-compiler`
//! worker ([`compile`]); a show that compiles replaces [`CurrentShow`] (sources are reconciled
//! by node id, so a camera or Scope session the edit does not concern keeps running), one that
//! does not leaves the last good show on program and its problems on the nodes. Scene cuts from
//! the console are live control ([`ShowCommand`]), never edits. Saves and reloads from disk go
//! through the document too, so an external edit cannot overwrite unsaved work silently.

mod compile;
mod draw_rate;
mod keys;
mod media;
mod outputs;
mod pipelines;
mod references;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use bevy::camera::visibility::RenderLayers;
use bevy::diagnostic::{DiagnosticPath, DiagnosticsStore};
use bevy::prelude::*;
use bevy::window::{PrimaryWindow, WindowCloseRequested};
use bevy_egui::{
    EguiContexts, EguiGlobalSettings, EguiPrimaryContextPass, EguiTextureHandle, PrimaryEguiContext,
};
use console::{Action, Console, Live, Picture};
use crossbeam_channel::Receiver;
use document::Document;
use show::{NodeId, Show};

use crate::control::ShowCommand;
use crate::latency::AddedLatency;
use crate::midi::{MidiInput, MidiLearn};
use crate::output::OutputMode;
use crate::playback::{Playback, SceneKeys};
use crate::preview::{NodePreviews, PreviewImages, PreviewPlugin};
use crate::render::{CompositeOutput, GPU_TIME_DIAGNOSTIC, PreviewFrames, PreviewReadback};
use crate::showfile::{CurrentShow, EditorOwnsShow, LoadedShow, ShowWatcher};
use crate::sources::image::ImageSources;
use crate::sources::scope::{ScopeStatuses, ScopeUploads};
use crate::stats::{FrameStats, StatusItems};
use crate::{AppSystems, health};

pub use compile::{Compiled, Compiler};
pub use draw_rate::{ConsoleDraws, ConsoleRate};
pub use keys::{keymap_path, load_keymap, save_keymap};

/// Hosts the document (edits go live, saves, reloads from disk) and, with `ui`, the console
/// in the primary window. Without `ui` (headless tests) edits are made on [`Editor::doc`].
pub struct EditorPlugin {
    pub show: Arc<LoadedShow>,
    pub ui: bool,
}

/// The document being edited, the console's state, and what the host knows about both.
#[derive(Resource)]
pub struct Editor {
    pub doc: Document,
    /// Validation problems of the newest compiled revision, by scene index and node.
    pub node_errors: HashMap<(usize, NodeId), String>,
    /// A problem not tied to a node (the newest edit, a save, or the file on disk).
    pub show_error: Option<String>,
    /// The file's newer version, held while the operator decides (they have unsaved changes).
    pending_external: Option<Show>,
    /// The document revision last sent to the compiler.
    sent_revision: u64,
    compiler: Option<Compiler>,
    saves: Option<Receiver<Result<(Show, PathBuf), String>>>,
    save_requested: bool,
}

impl Editor {
    pub fn new(show: &LoadedShow) -> Self {
        let doc = Document::new(show.show.clone(), Some(show.path.clone()));
        let compiler = Compiler::start(show.path.clone())
            .map_err(|e| {
                error!("cannot start the show-compiler thread; edits will not go live: {e}")
            })
            .ok();
        Editor {
            sent_revision: doc.revision(),
            doc,
            node_errors: HashMap::new(),
            show_error: None,
            pending_external: None,
            compiler,
            saves: None,
            save_requested: false,
        }
    }
}

impl Editor {
    /// Whether a newer version of the file waits for the operator's decision.
    pub fn has_pending_external(&self) -> bool {
        self.pending_external.is_some()
    }

    /// Saves the document in the background (Ctrl+S in the console); see [`take_saves`].
    pub fn save(&mut self) {
        self.save_requested = true;
    }

    /// Sends a changed document to the compiler, once per revision.
    fn submit(&mut self) {
        let revision = self.doc.revision();
        if revision == self.sent_revision {
            return;
        }
        self.sent_revision = revision;
        if let Some(compiler) = &self.compiler {
            compiler.submit(revision, self.doc.show().clone());
        }
    }
}

impl Plugin for EditorPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Editor::new(&self.show))
            // egui widgets keep per-frame state in `Rc`s: the console lives on the main thread.
            .insert_non_send({
                let mut console = Console::new();
                if self.ui
                    && let Some(path) = keymap_path()
                {
                    console.set_keymap(load_keymap(&path));
                }
                console
            })
            .init_resource::<EditorOwnsShow>()
            .add_message::<MidiLearn>()
            .add_systems(
                Update,
                (
                    submit_edits,
                    take_external_reloads,
                    take_saves,
                    take_compiled,
                )
                    .chain()
                    .in_set(AppSystems::LoadShow),
            );
        // Node pictures for the console, and for surfaces and streams (nothing asked for
        // costs nothing); a surface may have added it first.
        let draws = self.ui || app.world().contains_resource::<Assets<Image>>();
        if draws && !app.is_plugin_added::<PreviewPlugin>() {
            app.add_plugins(PreviewPlugin);
        }
        if !self.ui {
            return;
        }
        app.world_mut().remove_resource::<SceneKeys>();
        // The console's own keys (1-9, Tab, Delete) are read from egui, never while typing.
        app.insert_resource(EguiGlobalSettings {
            auto_create_primary_context: false,
            enable_absorb_bevy_input_system: true,
            ..default()
        })
        .add_systems(Startup, spawn_console_camera)
        .init_resource::<ConsoleRate>()
        .init_resource::<draw_rate::ConsoleDraws>()
        .init_resource::<outputs::OutputsLive>()
        .init_resource::<media::MediaFiles>()
        .add_systems(
            Update,
            (
                close_requests.in_set(AppSystems::Input),
                (
                    window_title,
                    outputs::collect_outputs,
                    media::scan_media,
                    draw_rate::pace_console,
                )
                    .in_set(AppSystems::Output),
            ),
        )
        .add_systems(EguiPrimaryContextPass, console_ui);
    }
}

/// Sends the document to the compiler when it changed (in the console last frame, or by a
/// reload from disk).
fn submit_edits(mut editor: ResMut<Editor>) {
    editor.submit();
}

/// The console window's camera: it draws egui only (no render layer), so the program sprite
/// appears only in the program window and in the console's monitor.
fn spawn_console_camera(mut commands: Commands) {
    commands.spawn((
        Camera2d,
        Msaa::Off,
        PrimaryEguiContext,
        RenderLayers::none(),
    ));
}

/// The frame rate the show is judged against (the cameras' usual rate).
const TARGET_FPS: f32 = 30.0;

/// Width of a multiview tile's picture, in pixels (the console draws it at 128 points).
const TILE_WIDTH: u32 = 160;
/// Width of the preview monitor's picture, in pixels.
const MONITOR_WIDTH: u32 = 640;

/// `width` by the height that keeps the canvas's aspect.
fn fit_width(width: u32, (cw, ch): (u32, u32)) -> (u32, u32) {
    let h = (u64::from(width) * u64::from(ch) / u64::from(cw.max(1))).max(1);
    (width, u32::try_from(h).unwrap_or(u32::MAX))
}

/// Draws the console and carries out what it asks.
fn console_ui(
    mut contexts: EguiContexts,
    mut editor: ResMut<Editor>,
    mut console: NonSendMut<Console>,
    show: Res<CurrentShow>,
    playback: Res<Playback>,
    output: Res<CompositeOutput>,
    (stats, items, scope_statuses, latency, midi, diagnostics): (
        Res<FrameStats>,
        Res<StatusItems>,
        Res<ScopeStatuses>,
        Option<Res<AddedLatency>>,
        Option<Res<MidiInput>>,
        Option<Res<DiagnosticsStore>>,
    ),
    (preview_images, outputs_live, image_sources, uploads, media): (
        Res<PreviewImages>,
        Res<outputs::OutputsLive>,
        Option<Res<ImageSources>>,
        Option<Res<ScopeUploads>>,
        Res<media::MediaFiles>,
    ),
    mut preview_readback: Option<ResMut<PreviewReadback>>,
    preview_frames: Option<Res<PreviewFrames>>,
    mut previews: ResMut<NodePreviews>,
    mut registered: Local<HashSet<AssetId<Image>>>,
    (mut program_texture, mut pipeline_lists): (
        Local<Option<bevy_egui::egui::TextureId>>,
        Local<pipelines::PipelineLists>,
    ),
    (mut commands, mut learn): (MessageWriter<ShowCommand>, MessageWriter<MidiLearn>),
    (mut exit, mut output_mode): (MessageWriter<AppExit>, Option<ResMut<OutputMode>>),
) -> Result {
    let texture = *program_texture
        .get_or_insert_with(|| contexts.add_image(EguiTextureHandle::Weak(output.0.id())));
    // Pictures of the edited scene's nodes: registered with egui as they come, released as
    // they go (bevy_egui keys textures by asset id, so registering again is free).
    let mut live_ids: HashSet<AssetId<Image>> = HashSet::new();
    let mut thumbnails = HashMap::new();
    for (node, image) in &preview_images.thumbs {
        live_ids.insert(image.id());
        thumbnails.insert(
            node.clone(),
            contexts.add_image(EguiTextureHandle::Weak(image.id())),
        );
    }
    // The viewer's pixels come back from the GPU only while the viewer is open (for the value
    // under the cursor); thumbnails are never read back.
    let want_pixels = preview_images.viewer.is_some();
    if let Some(readback) = preview_readback.as_mut()
        && readback.enabled != want_pixels
    {
        readback.enabled = want_pixels;
    }
    let viewer = preview_images.viewer.as_ref().map(|(_, image)| {
        live_ids.insert(image.id());
        let pixels = preview_frames
            .as_ref()
            .and_then(|f| f.0.get(&image.id()))
            .map(|(_, rgba)| rgba);
        Picture {
            texture: contexts.add_image(EguiTextureHandle::Weak(image.id())),
            size: pixels.map_or([show.0.show.canvas.0, show.0.show.canvas.1], |p| {
                [p.width(), p.height()]
            }),
            rgba: pixels.map(|p| p.as_raw().as_slice()),
        }
    });
    // Studio mode: the preview scene and the multiview's tiles (the program scene's tile and a
    // preview of the program scene are the program picture itself).
    let (cw, ch) = show.0.show.canvas;
    let program_picture = Picture {
        texture,
        size: [cw, ch],
        rgba: None,
    };
    let tile = fit_width(TILE_WIDTH, (cw, ch));
    let monitor = fit_width(MONITOR_WIDTH, (cw, ch));
    let mut scene_pictures = HashMap::new();
    for ((scene, size), image) in &preview_images.scenes {
        if *size == tile {
            live_ids.insert(image.id());
            let id = contexts.add_image(EguiTextureHandle::Weak(image.id()));
            scene_pictures.insert(*scene, id);
        }
    }
    scene_pictures.insert(playback.scene, texture);
    let preview = match playback.preview {
        Some(p) if p == playback.scene => Some(program_picture),
        Some(p) => preview_images.scenes.get(&(p, monitor)).map(|image| {
            live_ids.insert(image.id());
            Picture {
                texture: contexts.add_image(EguiTextureHandle::Weak(image.id())),
                size: [monitor.0, monitor.1],
                rgba: None,
            }
        }),
        None => None,
    };
    // Reference images of the Scope nodes: thumbnails, registered like the node pictures.
    let mut references: HashMap<NodeId, _> = scope_statuses
        .0
        .iter()
        .map(|(id, stats)| {
            let refs = references::of_node(
                &show,
                id,
                stats,
                image_sources.as_deref(),
                uploads.as_deref(),
                &mut |handle| {
                    live_ids.insert(handle.id());
                    contexts.add_image(EguiTextureHandle::Weak(handle.id()))
                },
            );
            (id.clone(), refs)
        })
        .collect();
    for gone in registered.difference(&live_ids) {
        contexts.remove_image(*gone);
    }
    *registered = live_ids;
    let ctx = contexts.ctx_mut()?.clone();
    let mut status = format!("{:.1} fps  {:.1} ms", stats.fps(), stats.frame_ms());
    // The compositor's own GPU time (where the adapter has timestamp queries) and the frames
    // the display wanted but did not get: what an operator checks when the picture stutters.
    if let Some(gpu) = diagnostics
        .as_ref()
        .and_then(|d| d.get(&DiagnosticPath::new(GPU_TIME_DIAGNOSTIC)))
        .and_then(|d| d.smoothed())
    {
        status.push_str(&format!("  GPU {gpu:.1} ms"));
    }
    status.push_str(&format!("  dropped {}", stats.dropped));
    for (key, value) in &items.0 {
        status.push_str(&format!("  {key}: {value}"));
    }
    for (node, l) in latency.iter().flat_map(|l| l.all()) {
        status.push_str(&format!("  added {node}: {} ms", l.median.as_millis()));
    }
    let editor = &mut *editor;
    let scope: HashMap<NodeId, console::ScopeLive> = scope_statuses
        .0
        .iter()
        .map(|(id, s)| {
            let mut l = health::scope_live(s);
            l.pipelines = pipeline_lists.get(id, s.pipelines.as_ref());
            l.references = references.remove(id).unwrap_or_default();
            (id.clone(), l)
        })
        .collect();
    // The show's light: the worst of the compositor and the Scope nodes on program or preview.
    let shown = [Some(playback.scene), playback.preview];
    let shown_scopes = shown
        .iter()
        .flatten()
        .filter_map(|i| show.0.show.scenes.get(*i))
        .flat_map(|s| s.nodes.keys())
        .filter_map(|id| scope.get(id).map(|l| l.health));
    let show_health = shown_scopes
        .chain([health::compositor(stats.fps(), TARGET_FPS)])
        .max()
        .unwrap_or_default();
    let live = Live {
        scope,
        health: show_health,
        program_scene: playback.scene,
        program: Some(program_picture),
        preview_scene: playback.preview,
        preview,
        scene_pictures,
        tbar: playback.tbar_position(),
        transitioning: playback.transition.is_some(),
        viewer,
        thumbnails,
        node_errors: editor.node_errors.clone(),
        show_error: editor.show_error.clone(),
        status,
        midi_status: midi.as_ref().map_or("MIDI: off".into(), |m| {
            m.status.lock().map(|s| s.label()).unwrap_or_default()
        }),
        midi_learning: midi.as_ref().and_then(|m| m.mapper.learning.clone()),
        outputs: outputs_live.0.clone(),
        media: media.list.clone(),
    };
    let actions = console.ui(&ctx, &mut editor.doc, &live);
    // What to preview next: the edited scene's visible nodes (thumbnails on) and the viewer.
    let nodes = if console.thumbnails_on() {
        console.visible_nodes()
    } else {
        Vec::new()
    };
    let viewed = console.viewed_node().cloned();
    let scene = (!nodes.is_empty() || viewed.is_some()).then_some(console.edited_scene());
    let mut scenes: Vec<(usize, (u32, u32))> = Vec::new();
    if console.thumbnails_on() {
        let count = show.0.show.scenes.len();
        scenes.extend(
            (0..count)
                .filter(|s| *s != playback.scene)
                .map(|s| (s, tile)),
        );
    }
    if let Some(p) = playback.preview.filter(|p| *p != playback.scene) {
        scenes.push((p, monitor));
    }
    if scene != previews.scene
        || nodes != previews.nodes
        || viewed != previews.viewer
        || scenes != previews.scenes
    {
        previews.scene = scene;
        previews.nodes = nodes;
        previews.viewer = viewed;
        previews.scenes = scenes;
    }
    for action in actions {
        match action {
            Action::Cut(scene) => {
                commands.write(ShowCommand::Cut(scene));
            }
            Action::Preview(scene) => {
                commands.write(ShowCommand::Preview(scene));
            }
            Action::Take => {
                commands.write(ShowCommand::Take);
            }
            Action::Auto(with) => {
                commands.write(ShowCommand::Auto(with));
            }
            Action::TBar(position, with) => {
                commands.write(ShowCommand::TBar(position, with));
            }
            Action::Save => editor.save(),
            Action::Quit => {
                exit.write(AppExit::Success);
            }
            Action::MidiLearn(target) => {
                learn.write(MidiLearn(target));
            }
            Action::SaveKeymap(keymap) => match keymap_path() {
                Some(path) => save_keymap(path, &keymap),
                None => warn!("no home folder: the keys are not saved"),
            },
            Action::ToggleFullscreen => {
                if let Some(mode) = output_mode.as_mut() {
                    mode.fullscreen = !mode.fullscreen;
                }
            }
            Action::Output { name, on } => {
                commands.write(ShowCommand::Output { name, on });
            }
            Action::LoadExternal => {
                if let Some(theirs) = editor.pending_external.take() {
                    editor.doc.replace_from_disk(theirs);
                }
            }
        }
    }
    Ok(())
}

/// Writes the document in a worker (fsync can take a while). The watcher is told the text
/// first, so the write does not come back as an external edit.
fn start_save(editor: &mut Editor, watcher: Option<&ShowWatcher>) {
    let Some(path) = editor.doc.path().map(PathBuf::from) else {
        editor.show_error = Some("the show has no file yet".into());
        return;
    };
    let show = editor.doc.show().clone();
    let text = match show::io::to_string(&show) {
        Ok(t) => t,
        Err(e) => {
            editor.show_error = Some(format!("cannot save {}: {e}", path.display()));
            return;
        }
    };
    if let Some(watcher) = watcher {
        watcher.expect_text(text.clone());
    }
    let (tx, rx) = crossbeam_channel::bounded(1);
    editor.saves = Some(rx);
    let job = move || {
        let backup = show::io::backup_path(&path);
        let result = match show::io::write_atomic(&path, text.as_bytes(), Some(&backup)) {
            Ok(()) => Ok((show, path)),
            Err(e) => Err(format!("cannot save {}: {e}", path.display())),
        };
        // The app may have quit meanwhile: nobody to tell.
        let _ = tx.send(result);
    };
    if let Err(e) = std::thread::Builder::new()
        .name("show-save".into())
        .spawn(job)
    {
        editor.show_error = Some(format!("cannot start saving: {e}"));
    }
}

/// Starts a requested save; takes a finished one (the document is clean if nothing changed
/// meanwhile).
fn take_saves(mut editor: ResMut<Editor>, watcher: Option<Res<ShowWatcher>>) {
    if std::mem::take(&mut editor.save_requested) {
        start_save(&mut editor, watcher.as_deref());
    }
    let Some(result) = editor.saves.as_ref().and_then(|rx| rx.try_recv().ok()) else {
        return;
    };
    editor.saves = None;
    match result {
        Ok((content, path)) => {
            info!("saved {}", path.display());
            editor.doc.mark_saved(content, path);
            editor.show_error = None;
        }
        Err(e) => {
            error!("{e}");
            editor.show_error = Some(e);
        }
    }
}

/// A compiled edit goes on program; a failed one marks its nodes and leaves the program alone.
fn take_compiled(mut editor: ResMut<Editor>, mut current: ResMut<CurrentShow>) {
    let Some(compiler) = &editor.compiler else {
        return;
    };
    let Some(newest) = compiler.finished().pop() else {
        return;
    };
    match newest.result {
        Ok(loaded) => {
            current.0 = Arc::new(loaded);
            editor.node_errors.clear();
            editor.show_error = None;
        }
        Err(errors) => {
            let show = editor.doc.show();
            let mut by_node = HashMap::new();
            let mut other = Vec::new();
            for e in &errors {
                let scene = e
                    .scene
                    .as_ref()
                    .and_then(|name| show.scenes.iter().position(|s| &s.name == name));
                match (scene, e.kind.node()) {
                    (Some(scene), Some(node)) => {
                        by_node
                            .entry((scene, node.clone()))
                            .or_insert_with(|| e.kind.to_string());
                    }
                    _ => other.push(e.to_string()),
                }
            }
            editor.node_errors = by_node;
            editor.show_error = (!other.is_empty()).then(|| other.join("\n"));
            debug!(
                "revision {} not played: {} problem(s)",
                newest.revision,
                errors.len()
            );
        }
    }
}

/// The file changed on disk: load it into the document, or ask when that would lose unsaved
/// changes. An invalid file is reported and not loaded.
fn take_external_reloads(
    watcher: Option<Res<ShowWatcher>>,
    mut editor: ResMut<Editor>,
    mut console: NonSendMut<Console>,
) {
    let Some(result) = watcher.and_then(|w| w.try_latest()) else {
        return;
    };
    match result {
        Ok(loaded) => {
            info!("{} changed on disk", loaded.path.display());
            if editor.doc.is_dirty() {
                editor.pending_external = Some(loaded.show);
                console.ask_external_conflict();
            } else {
                editor.doc.replace_from_disk(loaded.show);
            }
        }
        Err(errors) => {
            editor.show_error = Some(format!(
                "the file on disk has errors and was not loaded:\n{errors}"
            ));
        }
    }
}

/// Closing the console asks about unsaved changes; the program window closes only with it
/// (a projector window closed by a stray click would black out the show).
fn close_requests(
    mut requests: MessageReader<WindowCloseRequested>,
    primary: Query<(), With<PrimaryWindow>>,
    editor: Res<Editor>,
    mut console: NonSendMut<Console>,
    mut exit: MessageWriter<AppExit>,
) {
    for request in requests.read() {
        if primary.contains(request.window) {
            if console.request_quit(&editor.doc).contains(&Action::Quit) {
                exit.write(AppExit::Success);
            }
        } else {
            info!("the program window closes with the console");
        }
    }
}

/// "MetaDJ Scope: demo.ron *" while there are unsaved changes.
fn window_title(editor: Res<Editor>, mut window: Single<&mut Window, With<PrimaryWindow>>) {
    let name = editor
        .doc
        .path()
        .and_then(|p| p.file_name())
        .map_or_else(|| "untitled".into(), |n| n.to_string_lossy());
    let dirty = if editor.doc.is_dirty() { " *" } else { "" };
    let title = format!("MetaDJ Scope: {name}{dirty}");
    if window.title != title {
        window.title = title;
    }
}
