//! Image files near the show file, for the console's file pickers: listed on a thread of its
//! own (reading folders is file I/O, never done on the frame path), again when the show
//! changes, at most every few seconds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use crossbeam_channel::Receiver;

use crate::showfile::CurrentShow;

/// What the pickers offer, relative to the show's folder.
#[derive(Resource, Default)]
pub(super) struct MediaFiles {
    /// Shared with the console each frame without copying.
    pub list: std::sync::Arc<[PathBuf]>,
    scanned: Option<Instant>,
    pending: Option<Receiver<Vec<PathBuf>>>,
}

/// How often a changing show rescans.
const RESCAN: Duration = Duration::from_secs(5);
/// Files listed at most (a picker is not a file manager).
const MAX_FILES: usize = 500;
/// Folder levels walked below each root.
const DEPTH: usize = 3;

pub(super) fn scan_media(show: Res<CurrentShow>, mut media: ResMut<MediaFiles>) {
    if let Some(rx) = &media.pending
        && let Ok(list) = rx.try_recv()
    {
        media.list = list.into();
        media.pending = None;
    }
    let due = media
        .scanned
        .is_none_or(|t| show.is_changed() && t.elapsed() >= RESCAN);
    if !due || media.pending.is_some() {
        return;
    }
    media.scanned = Some(Instant::now());
    let dir = show.0.base_dir.clone();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let spawned = std::thread::Builder::new()
        .name("media-scan".into())
        .spawn(move || {
            let _ = tx.send(list_images(&dir));
        });
    match spawned {
        Ok(_) => media.pending = Some(rx),
        Err(e) => warn!("cannot list the images near the show: {e}"),
    }
}

/// PNG and JPEG files under `dir` and under its parent (a show in `scenes/` with its media in
/// `../assets/`, as the demo), relative to `dir`; hidden folders and build output skipped.
pub(super) fn list_images(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, Path::new(""), DEPTH, &mut out);
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut above = Vec::new();
        walk(parent, Path::new(".."), DEPTH, &mut above);
        // Files under `dir` itself were listed without the `../name/` detour.
        let name = dir.file_name().map(PathBuf::from).unwrap_or_default();
        let own = Path::new("..").join(name);
        out.extend(above.into_iter().filter(|p| !p.starts_with(&own)));
    }
    out.sort();
    out.dedup();
    out.truncate(MAX_FILES);
    out
}

fn walk(dir: &Path, shown: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if out.len() >= MAX_FILES {
            return;
        }
        let name = e.file_name();
        let text = name.to_string_lossy();
        if text.starts_with('.') || text == "target" {
            continue;
        }
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() && depth > 0 {
            walk(&e.path(), &shown.join(&name), depth - 1, out);
        } else if kind.is_file() {
            let ext = Path::new(&name)
                .extension()
                .map(|x| x.to_string_lossy().to_ascii_lowercase());
            if matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
                out.push(shown.join(&name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn images_beside_and_above_the_show_are_listed_relative_to_it() {
        let root = std::env::temp_dir().join(format!("media-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["scenes/refs", "assets", ".git", "target/debug"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in [
            "scenes/refs/face.PNG",
            "scenes/notes.txt",
            "assets/stage.jpg",
            ".git/x.png",
            "target/debug/y.png",
        ] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        let list = list_images(&root.join("scenes"));
        assert_eq!(
            list,
            [
                PathBuf::from("../assets/stage.jpg"),
                PathBuf::from("refs/face.PNG")
            ]
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
