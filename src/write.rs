//! Writing pictures to disk so that a failed write never leaves a truncated file or destroys
//! the previous good one: encode in memory, write a temp file beside the target, fsync,
//! rename over the target, fsync the directory.

use std::path::{Path, PathBuf};

use image::ImageEncoder;

/// The picture formats `render --out` and `play --screenshot` write, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureFormat {
    Png,
    Jpeg,
}

/// The extensions [`PictureFormat::from_path`] accepts, for error messages.
pub const SUPPORTED_EXTENSIONS: &str = ".png, .jpg, .jpeg";

/// JPEG quality: high enough that renders are usable as stills.
const JPEG_QUALITY: u8 = 92;

/// Why a picture was not written; every variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{}: unsupported picture extension (supported: {SUPPORTED_EXTENSIONS})", .0.display())]
    Unsupported(PathBuf),
    #[error("cannot encode {}: {reason}", path.display())]
    Encode { path: PathBuf, reason: String },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PictureFormat {
    /// The format for `path`'s extension (case-insensitive).
    pub fn from_path(path: &Path) -> Result<Self, WriteError> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("png") => Ok(Self::Png),
            Some("jpg" | "jpeg") => Ok(Self::Jpeg),
            _ => Err(WriteError::Unsupported(path.to_path_buf())),
        }
    }
}

/// Encodes RGBA8 pixels (`width`×`height`) as `format`; JPEG drops the alpha channel.
pub fn encode_rgba(
    rgba: &[u8],
    width: u32,
    height: u32,
    format: PictureFormat,
) -> Result<Vec<u8>, String> {
    let expected = width as usize * height as usize * 4;
    if rgba.len() != expected || expected == 0 {
        return Err(format!(
            "{width}x{height} RGBA needs {expected} bytes, got {}",
            rgba.len()
        ));
    }
    let mut out = Vec::new();
    let result =
        match format {
            PictureFormat::Png => image::codecs::png::PngEncoder::new(&mut out).write_image(
                rgba,
                width,
                height,
                image::ExtendedColorType::Rgba8,
            ),
            PictureFormat::Jpeg => {
                let rgb: Vec<u8> = rgba
                    .chunks_exact(4)
                    .flat_map(|p| [p[0], p[1], p[2]])
                    .collect();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                    .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
            }
        };
    result.map_err(|e| e.to_string())?;
    Ok(out)
}

/// Encodes RGBA8 pixels in the format `path`'s extension names and writes them atomically.
/// On any failure the previous file at `path` (if any) is untouched.
pub fn save_rgba(path: &Path, rgba: &[u8], width: u32, height: u32) -> Result<(), WriteError> {
    let format = PictureFormat::from_path(path)?;
    let bytes = encode_rgba(rgba, width, height, format).map_err(|reason| WriteError::Encode {
        path: path.to_path_buf(),
        reason,
    })?;
    write_atomic(path, &bytes)
}

/// Checks up front that a picture can be written at `path` (its folder exists and takes a
/// file), so a command that would write it at the end fails before it starts, not after.
pub fn check_writable(path: &Path) -> Result<(), WriteError> {
    PictureFormat::from_path(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let probe = dir.join(format!(".metadj-write-check-{}", std::process::id()));
    std::fs::File::create(&probe)
        .map(drop)
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes `bytes` atomically (see [`show::io::write_atomic`]), without a backup.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    show::io::write_atomic(path, bytes, None).map_err(|source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use std::fs;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("metadj-write-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            PictureFormat::from_path(Path::new("a.PNG")).unwrap(),
            PictureFormat::Png
        );
        assert_eq!(
            PictureFormat::from_path(Path::new("a.jpeg")).unwrap(),
            PictureFormat::Jpeg
        );
        for bad in ["a.bmp", "a.txt", "a"] {
            let e = PictureFormat::from_path(Path::new(bad)).unwrap_err();
            assert!(e.to_string().contains(SUPPORTED_EXTENSIONS), "{e}");
        }
    }

    #[test]
    fn unwritable_directory_fails_naming_the_path_and_leaves_no_temp_file() {
        let dir = temp_dir("unwritable");
        let file = dir.join("regular");
        fs::write(&file, b"x").unwrap();
        // The parent is a regular file, so nothing can be created under it.
        let target = file.join("out.png");
        let e = save_rgba(&target, &[0; 16], 2, 2).unwrap_err();
        assert!(e.to_string().contains(&*target.to_string_lossy()), "{e}");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(names, vec![file]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failed_write_keeps_the_previous_file() {
        let dir = temp_dir("keep");
        let target = dir.join("out.png");
        save_rgba(&target, &[255; 16], 2, 2).unwrap();
        let good = fs::read(&target).unwrap();
        // 3x3 needs 36 bytes: the encode step fails.
        let e = save_rgba(&target, &[0; 16], 3, 3).unwrap_err();
        assert!(e.to_string().contains(&*target.to_string_lossy()), "{e}");
        assert_eq!(fs::read(&target).unwrap(), good);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temp file left");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn jpeg_is_jpeg() {
        let dir = temp_dir("jpeg");
        let target = dir.join("out.jpg");
        save_rgba(&target, &[200; 4 * 8 * 4], 8, 4).unwrap();
        let bytes = fs::read(&target).unwrap();
        assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (8, 4));
        fs::remove_dir_all(dir).unwrap();
    }
}
