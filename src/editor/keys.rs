//! The operator's keymap file. Keys belong to the machine and its operator, not to the show, so
//! they live in the config folder (`crate::settings::config_dir`) as `keys.ron`.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use console::keymap::Keymap;

/// Where the keymap file is, if there is a home to put it in.
pub fn keymap_path() -> Option<PathBuf> {
    Some(crate::settings::config_dir()?.join("keys.ron"))
}

/// The keymap in `path`: the defaults when there is no file; the defaults and a warning that
/// names the file and line:column when it cannot be used (the file is left as it is).
pub fn load_keymap(path: &Path) -> Keymap {
    match std::fs::read_to_string(path) {
        Ok(text) => Keymap::from_ron(&text).unwrap_or_else(|e| {
            warn!("{}:{e}; using the default keys", path.display());
            Keymap::default()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Keymap::default(),
        Err(e) => {
            warn!("{}: {e}; using the default keys", path.display());
            Keymap::default()
        }
    }
}

/// Writes the keymap atomically (with a `.bak` of the previous file) on a thread of its own,
/// so the frame never waits for the disk.
pub fn save_keymap(path: PathBuf, keymap: &Keymap) {
    let text = keymap.to_ron();
    let spawned = std::thread::Builder::new()
        .name("keymap-save".into())
        .spawn(move || {
            let result = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| {
                    let backup = path.with_extension("ron.bak");
                    show::io::write_atomic(&path, text.as_bytes(), Some(&backup))
                });
            match result {
                Ok(()) => info!("keys saved to {}", path.display()),
                Err(e) => error!("cannot save the keys to {}: {e}", path.display()),
            }
        });
    if let Err(e) = spawned {
        error!("cannot save the keys: {e}");
    }
}

#[cfg(test)]
mod tests {
    use console::keymap::{Chord, KeyAction};

    use super::*;

    #[test]
    fn keymap_file_round_trips_and_a_bad_one_falls_back_to_defaults() {
        let dir = std::env::temp_dir().join(format!("metadj-keys-{}", std::process::id()));
        let path = dir.join("sub/keys.ron");
        assert_eq!(load_keymap(&path), Keymap::default(), "no file: defaults");
        let mut map = Keymap::default();
        map.bind(
            KeyAction::Take,
            Chord::plain(console::keymap::egui_key("T").unwrap()),
        );
        save_keymap(path.clone(), &map);
        let start = std::time::Instant::now();
        while load_keymap(&path) != map {
            assert!(start.elapsed() < std::time::Duration::from_secs(5), "saved");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::fs::write(&path, "(keys: [(take, ").unwrap();
        assert_eq!(load_keymap(&path), Keymap::default());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
