//! Loading the show file, compiling its scenes, and live reload when it is saved.
//!
//! Reading, parsing, validating and compiling happen in [`load_show`], which the CLI calls once
//! up front (to fail fast) and the `show-loader` worker thread calls on every save. The worker
//! watches the show's folder (editors save by rename), debounces, and sends the result over a
//! bounded channel where the newest result wins. [`ShowPlugin`] only drains that channel: an
//! invalid edit keeps the last good show playing and puts the error in [`ShowStatus`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bevy::prelude::*;
use crossbeam_channel::Receiver;
use media::NewestSender;
use notify::{RecursiveMode, Watcher};
use show::node::NodeKind;
use show::{NodeId, RenderPlan, Show};

use crate::AppSystems;

/// How long the file must be quiet before it is reloaded: editors write in several steps.
const DEBOUNCE: Duration = Duration::from_millis(120);

/// A show that loaded, validated and compiled: what plays.
#[derive(Debug)]
pub struct LoadedShow {
    pub path: PathBuf,
    /// Folder relative media paths resolve against.
    pub base_dir: PathBuf,
    pub show: Show,
    /// One compiled plan per scene, same order as `show.scenes`.
    pub plans: Vec<Arc<RenderPlan>>,
}

impl LoadedShow {
    /// The index of a scene given by name or 1-based number.
    pub fn scene_index(&self, name: &str) -> Option<usize> {
        let scenes = &self.show.scenes;
        scenes.iter().position(|s| s.name == name).or_else(|| {
            name.parse::<usize>()
                .ok()
                .filter(|n| (1..=scenes.len()).contains(n))
                .map(|n| n - 1)
        })
    }

    /// The show cut down to scene `index` alone (as scene 0), so only the sources that scene
    /// uses start (a `render` of a title scene must not open the camera or a Scope session).
    pub fn only_scene(mut self, index: usize) -> LoadedShow {
        if index < self.show.scenes.len() && index < self.plans.len() {
            let scene = self.show.scenes.swap_remove(index);
            let plan = self.plans.swap_remove(index);
            self.show.scenes = vec![scene];
            self.plans = vec![plan];
        }
        self
    }

    /// Scene names, for error messages.
    pub fn scene_names(&self) -> String {
        let names: Vec<&str> = self.show.scenes.iter().map(|s| s.name.as_str()).collect();
        names.join(", ")
    }
}

/// Every error that kept a show file from loading, each already formatted as
/// `path:line:col: message` by the show crate.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadErrors(pub Vec<String>);

impl std::fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for LoadErrors {}

/// Reads, validates and compiles a show file. Blocking: call it from a worker or the CLI.
pub fn load_show(path: &Path) -> Result<LoadedShow, LoadErrors> {
    let show = show::io::load_all(path)
        .map_err(|errors| LoadErrors(errors.iter().map(ToString::to_string).collect()))?;
    from_show(path, show)
}

/// Validates and compiles an already parsed show loaded from `path`.
pub fn from_show(path: &Path, show: Show) -> Result<LoadedShow, LoadErrors> {
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let errors = show::validate(&show, &base_dir);
    if !errors.is_empty() {
        return Err(LoadErrors(errors.iter().map(ToString::to_string).collect()));
    }
    let mut plans = Vec::with_capacity(show.scenes.len());
    let mut errors = Vec::new();
    for (index, scene) in show.scenes.iter().enumerate() {
        let sizes = source_sizes(scene, &base_dir);
        match show::compile(&show, index, &|id: &NodeId| sizes.get(id).copied()) {
            Ok(plan) if plan.slot_count > show::plan::MAX_SLOTS => errors.push(format!(
                "{}: scene \"{}\" needs {} intermediate textures, more than the {} the \
                 compositor has: split its largest blend into nested blends",
                path.display(),
                scene.name,
                plan.slot_count,
                show::plan::MAX_SLOTS
            )),
            Ok(plan) => plans.push(Arc::new(plan)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    Ok(LoadedShow {
        path: path.to_path_buf(),
        base_dir,
        show,
        plans,
    })
}

/// Pixel sizes of a scene's external sources, as far as they are known before they run:
/// image headers (read without decoding), and the sizes camera and Scope nodes ask for.
fn source_sizes(scene: &show::Scene, base_dir: &Path) -> HashMap<NodeId, (u32, u32)> {
    scene
        .nodes
        .iter()
        .filter_map(|(id, node)| {
            let size = match &node.kind {
                NodeKind::Image(img) => image::image_dimensions(base_dir.join(&img.path)).ok()?,
                NodeKind::Camera(cam) => (cam.width, cam.height),
                NodeKind::Scope(scope) => (scope.load.width, scope.load.height),
                _ => return None,
            };
            Some((id.clone(), size))
        })
        .collect()
}

/// The last good show. Replaced (never mutated) on each successful reload.
#[derive(Resource, Clone)]
pub struct CurrentShow(pub Arc<LoadedShow>);

/// What the show file's last load attempt said.
#[derive(Resource, Debug, Default)]
pub struct ShowStatus {
    /// `Some` while the file on disk is invalid (the last good show keeps playing).
    pub error: Option<String>,
    /// How many times a new show was applied (0 = the initial one).
    pub generation: u64,
}

/// Present while the console edits the show: reloads from disk then go to its document (which
/// may have unsaved changes) instead of straight to the program.
#[derive(Resource, Debug, Default)]
pub struct EditorOwnsShow;

/// Loads the show and, when `watch` is set, reloads it on every save.
pub struct ShowPlugin {
    pub initial: Arc<LoadedShow>,
    pub watch: bool,
}

impl Plugin for ShowPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(CurrentShow(self.initial.clone()))
            .init_resource::<ShowStatus>();
        if !self.watch {
            return;
        }
        match ShowWatcher::start(self.initial.path.clone()) {
            Ok(watcher) => {
                app.insert_resource(watcher).add_systems(
                    Update,
                    apply_reloads
                        .in_set(AppSystems::LoadShow)
                        .run_if(not(resource_exists::<EditorOwnsShow>)),
                );
            }
            Err(e) => warn!("live reload is off: {e}"),
        }
    }
}

/// The `show-loader` worker's end of the channel. Dropping it stops the worker.
#[derive(Resource)]
pub struct ShowWatcher {
    results: Receiver<Result<LoadedShow, LoadErrors>>,
    /// The file's text as last seen by the worker, or as the console last wrote it: a file
    /// event whose text equals it is not a change.
    known_text: Arc<Mutex<Option<String>>>,
    // Held so the watcher lives as long as the resource; its drop closes the event channel,
    // which ends the worker thread.
    _watcher: notify::RecommendedWatcher,
}

impl ShowWatcher {
    /// Watches `path`'s folder and reloads `path` when it changes.
    pub fn start(path: PathBuf) -> Result<ShowWatcher, String> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let file_name = path
            .file_name()
            .map(ToOwned::to_owned)
            .ok_or_else(|| format!("{} is not a file path", path.display()))?;
        let (event_tx, event_rx) = crossbeam_channel::bounded::<()>(16);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                let ours = event
                    .paths
                    .iter()
                    .any(|p| p.file_name() == Some(file_name.as_os_str()));
                let relevant = event.kind.is_create() || event.kind.is_modify();
                if ours && relevant {
                    // A full channel already holds a pending "reload": dropping is fine.
                    let _ = event_tx.try_send(());
                }
            })
            .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        let (result_tx, results) = media::newest_channel(1);
        let known_text = Arc::new(Mutex::new(std::fs::read_to_string(&path).ok()));
        let known = known_text.clone();
        std::thread::Builder::new()
            .name("show-loader".into())
            .spawn(move || reload_worker(&path, &event_rx, &result_tx, &known))
            .map_err(|e| format!("cannot start the show-loader thread: {e}"))?;
        Ok(ShowWatcher {
            results,
            known_text,
            _watcher: watcher,
        })
    }

    /// The newest reload result, if one arrived since the last call.
    pub fn try_latest(&self) -> Option<Result<LoadedShow, LoadErrors>> {
        self.results.try_iter().last()
    }

    /// Tells the watcher the app itself is writing `text` to the file, so that write is not
    /// reported back as an external edit. Call it before writing.
    pub fn expect_text(&self, text: String) {
        if let Ok(mut known) = self.known_text.lock() {
            *known = Some(text);
        }
    }
}

/// Waits for file events, lets them settle for [`DEBOUNCE`], then reloads. Ends when the
/// watcher (and so the event sender) is dropped.
fn reload_worker(
    path: &Path,
    events: &Receiver<()>,
    results: &NewestSender<Result<LoadedShow, LoadErrors>>,
    known_text: &Mutex<Option<String>>,
) {
    while events.recv().is_ok() {
        // Debounce: keep waiting while events keep coming.
        loop {
            match events.recv_timeout(DEBOUNCE) {
                Ok(()) => continue,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => break,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
            }
        }
        // Skip saves that did not change the text (editors touch files; formatters re-save;
        // the console's own saves).
        let text = std::fs::read_to_string(path).ok();
        {
            let Ok(mut known) = known_text.lock() else {
                return;
            };
            if text.is_some() && *known == text {
                continue;
            }
            *known = text;
        }
        // Newest wins: if the app has not taken the previous result yet, replace it.
        results.send(load_show(path));
    }
}

/// Applies a finished reload: a good show replaces [`CurrentShow`]; a bad one only sets the
/// error (the last good show keeps playing).
fn apply_reloads(
    watcher: Res<ShowWatcher>,
    mut current: ResMut<CurrentShow>,
    mut status: ResMut<ShowStatus>,
) {
    let Some(result) = watcher.try_latest() else {
        return;
    };
    match result {
        Ok(loaded) => {
            info!(
                "reloaded {} ({} scenes)",
                loaded.path.display(),
                loaded.show.scenes.len()
            );
            current.0 = Arc::new(loaded);
            status.error = None;
            status.generation += 1;
        }
        Err(errors) => {
            for e in &errors.0 {
                error!("show not reloaded, keeping the last good one: {e}");
            }
            status.error = Some(errors.to_string());
        }
    }
}
