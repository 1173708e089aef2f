//! Per-machine settings: what belongs to this computer and its operator rather than to a show
//! (where the control surfaces listen, the obs-websocket password, the keys, the streams into
//! the OBS that runs here). They live in the
//! config folder: `$METADJ_SCOPE_CONFIG`, else `$XDG_CONFIG_HOME/metadj-scope`, else
//! `~/.config/metadj-scope`. The command line overrides the settings file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The config folder, if there is a home to put it in.
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("METADJ_SCOPE_CONFIG")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME").map(|d| PathBuf::from(d).join("metadj-scope"))
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/metadj-scope")))
}

/// `settings.ron`. Every field is optional; the ones given are used where the command line
/// says nothing. Addresses are written as on the command line (`"127.0.0.1:4455"` or `"off"`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub obs_websocket: Option<String>,
    /// Kept here rather than on the command line, where `ps` would show it.
    pub obs_password: Option<String>,
    pub osc: Option<String>,
    pub osc_feedback: Option<String>,
    /// Streams started with every `play`, as `--stream` takes them; `--stream` or
    /// `--stream-alpha` on the command line replace both lists.
    pub streams: Vec<String>,
    /// As `--stream-alpha` takes them: `NODE=URL`.
    pub stream_alpha: Vec<String>,
    /// Where this machine records the program (a `.mkv`): offered in the console's outputs
    /// list, off until started there. `--record` starts one at once instead.
    pub record_to: Option<std::path::PathBuf>,
    /// How often an idle console window is drawn, per second (default 2; it is drawn every
    /// frame while in use). Higher costs the program frame rate where the GPU is slow.
    pub console_idle_fps: Option<f32>,
}

impl Settings {
    /// The settings in `path`: empty when there is no file; an error naming the file and
    /// line:column when it cannot be used (a show should not start listening where the
    /// operator did not ask).
    pub fn load(path: &Path) -> Result<Settings, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        ron::from_str(&text).map_err(|e| {
            let p = e.span.start;
            format!("{}:{}:{}: {}", path.display(), p.line, p.col, e.code)
        })
    }

    /// This machine's settings (`config_dir()/settings.ron`).
    pub fn load_default() -> Result<Settings, String> {
        config_dir().map_or(Ok(Settings::default()), |d| {
            Settings::load(&d.join("settings.ron"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_load_missing_good_and_bad_files() {
        let dir = std::env::temp_dir().join(format!("metadj-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.ron");
        assert_eq!(Settings::load(&path), Ok(Settings::default()));
        std::fs::write(
            &path,
            r#"(obs_websocket: Some("0.0.0.0:4455"), obs_password: Some("pw"))"#,
        )
        .unwrap();
        let s = Settings::load(&path).unwrap();
        assert_eq!(s.obs_websocket.as_deref(), Some("0.0.0.0:4455"));
        assert_eq!(s.osc, None);
        assert!(s.streams.is_empty());
        std::fs::write(
            &path,
            r#"(streams: ["srt://127.0.0.1:9710"], stream_alpha: ["place=tcp://127.0.0.1:9712?listen"])"#,
        )
        .unwrap();
        let s = Settings::load(&path).unwrap();
        assert_eq!(s.streams, ["srt://127.0.0.1:9710"]);
        assert_eq!(s.stream_alpha, ["place=tcp://127.0.0.1:9712?listen"]);
        std::fs::write(&path, "(osc: Some(\"x\"),\n obs_pasword: None)").unwrap();
        let e = Settings::load(&path).unwrap_err();
        assert!(e.contains("settings.ron:2:"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
