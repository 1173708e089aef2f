//! Reading and writing show files.
//!
//! Files are RON with a `version` field. Older versions are migrated in memory on load (and
//! written back in the current format on the next save); newer ones are refused.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ron::extensions::Extensions;
use serde::Deserialize;

use crate::error::ErrorKind;
pub use crate::error::ShowError;
use crate::scene::{FORMAT_VERSION, Origin, Show};

pub(crate) fn options() -> ron::Options {
    // `Some(..)` may be left out by hand, and is left out on save.
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME)
}

/// Reads and parses a show file. Structure and parameters are checked by [`crate::validate`].
pub fn load(path: &Path) -> Result<Show, ShowError> {
    let text = fs::read_to_string(path).map_err(|e| ShowError {
        file: Some(path.to_path_buf()),
        ..ShowError::new(ErrorKind::Io(e.to_string()))
    })?;
    load_str(&text, path)
}

/// Like [`load`], but a file that does not parse reports every wrong value RON lets it find,
/// not only the first (see [`crate::recover`]); `check` and loading for play use this.
pub fn load_all(path: &Path) -> Result<Show, Vec<ShowError>> {
    let text = fs::read_to_string(path).map_err(|e| {
        vec![ShowError {
            file: Some(path.to_path_buf()),
            ..ShowError::new(ErrorKind::Io(e.to_string()))
        }]
    })?;
    load_str_all(&text, path)
}

/// [`load_str`] with every wrong value it can find reported.
pub fn load_str_all(text: &str, origin: &Path) -> Result<Show, Vec<ShowError>> {
    load_str(text, origin).map_err(|first| {
        let later = crate::recover::later_errors(text, origin, &first);
        std::iter::once(first).chain(later).collect()
    })
}

/// Parses show-file text; `origin` names it in errors and resolves relative paths.
pub fn load_str(text: &str, origin: &Path) -> Result<Show, ShowError> {
    let at = |kind: ErrorKind, pos: Option<(usize, usize)>| ShowError {
        file: Some(origin.to_path_buf()),
        pos,
        scene: None,
        kind: Box::new(kind),
    };
    let parse_err = |e: ron::error::SpannedError| {
        at(
            ErrorKind::Parse(e.code.to_string()),
            Some((e.span.start.line, e.span.start.col)),
        )
    };

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        version: u32,
    }
    let version = options()
        .from_str::<Probe>(text)
        .map_err(parse_err)?
        .version;
    let show: Show = match version {
        FORMAT_VERSION => options().from_str(text).map_err(parse_err)?,
        v if v > FORMAT_VERSION => {
            return Err(at(
                ErrorKind::TooNew {
                    found: v,
                    supported: FORMAT_VERSION,
                },
                None,
            ));
        }
        v => {
            let migrated = migrate(text, v)
                .map_err(|reason| at(ErrorKind::Migration { from: v, reason }, None))?;
            if migrated == text {
                // Nothing moved: positions still name the user's text.
                return finish(options().from_str(text).map_err(parse_err)?, text, origin);
            }
            // Positions in errors now refer to the migrated text; say so rather than mislead.
            options().from_str(&migrated).map_err(|e| {
                at(
                    ErrorKind::Parse(format!("{} (after migrating from version {v})", e.code)),
                    None,
                )
            })?
        }
    };
    finish(show, text, origin)
}

/// The parsed show in the current version, with where it came from.
fn finish(mut show: Show, text: &str, origin: &Path) -> Result<Show, ShowError> {
    show.version = FORMAT_VERSION;
    show.origin = Origin {
        path: Some(origin.to_path_buf()),
        text: Some(Arc::from(text)),
    };
    Ok(show)
}

/// Upgrades an older file's text to the current format.
///
/// Version 0 (the prototype format) called the canvas `resolution` and had no `version` field;
/// version 1 had no presets.
/// Migration edits the text itself (top-level fields only), so comments survive and line
/// numbers in later errors still match the user's file.
fn migrate(text: &str, from: u32) -> Result<String, String> {
    match from {
        0 => Ok(migrate_0(text)?),
        // Version 2 only added `presets`, which defaults to none: a version-1 file is read as
        // it is and takes the current version on load.
        1 => Ok(text.to_owned()),
        _ => Err(format!("no migration is known from version {from}")),
    }
}

fn migrate_0(text: &str) -> Result<String, String> {
    let fields = top_level_fields(text);
    let open = text
        .find('(')
        .ok_or("the top level is not a show `( ... )`")?;
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    for (at, name) in &fields {
        if name == "resolution" {
            out.push_str(&text[last..*at]);
            out.push_str("canvas");
            last = at + name.len();
        }
    }
    out.push_str(&text[last..]);
    if !fields.iter().any(|(_, n)| n == "version") {
        out.insert_str(open + 1, &format!("version: {FORMAT_VERSION}, "));
    }
    Ok(out)
}

/// Byte offsets and names of the identifiers followed by `:` directly inside the outermost
/// parentheses, skipping strings and `//` comments.
fn top_level_fields(text: &str) -> Vec<(usize, String)> {
    let bytes = text.as_bytes();
    let mut fields = Vec::new();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            c if depth == 1 && (c.is_ascii_alphabetic() || c == b'_') => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let name = &text[start..i];
                if text[i..].trim_start().starts_with(':') {
                    fields.push((start, name.to_owned()));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    fields
}

/// The text a show saves as: stable, readable, hand-editable.
pub fn to_string(show: &Show) -> Result<String, ShowError> {
    let config = ron::ser::PrettyConfig::default()
        .struct_names(false)
        .depth_limit(6)
        .separate_tuple_members(false)
        .extensions(Extensions::IMPLICIT_SOME)
        .indentor("    ");
    ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME)
        .to_string_pretty(show, config)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| ShowError::new(ErrorKind::Parse(e.to_string())))
}

/// Saves atomically: writes a temp file beside `path`, fsyncs it, keeps the previous file as
/// `path.bak`, then renames into place. A crash at any point leaves a complete file behind.
pub fn save(path: &Path, show: &Show) -> Result<(), ShowError> {
    let text = to_string(show)?;
    write_atomic(path, text.as_bytes(), Some(&backup_path(path))).map_err(|e| ShowError {
        file: Some(path.to_path_buf()),
        ..ShowError::new(ErrorKind::Io(e.to_string()))
    })
}

/// Writes `bytes` to a temp file beside `path`, fsyncs it, copies the previous file to `backup`
/// (when given and there is one), renames the temp file over `path` and fsyncs the directory:
/// readers see the old file or the whole new one, never a truncated one. On failure the temp
/// file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8], backup: Option<&Path>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if let Some(backup) = backup
            && path.exists()
        {
            fs::copy(path, backup)?;
        }
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        // Best effort: the temp file may not exist if creating it was what failed.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename itself durable (best effort: not every file system syncs directories).
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Where [`save`] keeps the previous version of `path`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".bak");
    PathBuf::from(p)
}
