//! Real capture devices through nokhwa (feature `native`).

use crate::CameraError;

/// A capture device and what it can deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub index: String,
    pub name: String,
    pub description: String,
    pub formats: Vec<FormatInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatInfo {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Pixel format as the driver names it (MJPEG, YUYV, …).
    pub format: String,
}

/// Human-readable device list for `metadj-scope cameras`.
pub fn format_list(devices: &[DeviceInfo]) -> String {
    if devices.is_empty() {
        return "no cameras found (the synthetic camera is always available as `device: synthetic`)\n"
            .to_owned();
    }
    let mut out = String::new();
    for d in devices {
        out.push_str(&format!("{}: {}", d.index, d.name));
        if !d.description.is_empty() {
            out.push_str(&format!(" ({})", d.description));
        }
        out.push('\n');
        if d.formats.is_empty() {
            out.push_str("    formats: unknown (device busy?)\n");
        }
        for f in &d.formats {
            out.push_str(&format!(
                "    {}x{} @ {} fps {}\n",
                f.width, f.height, f.fps, f.format
            ));
        }
    }
    out
}

#[cfg(feature = "native")]
mod native {
    use nokhwa::Camera;
    use nokhwa::pixel_format::RgbAFormat;
    use nokhwa::utils::{
        ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
        Resolution,
    };

    use super::{DeviceInfo, FormatInfo};
    use crate::{CameraError, CameraRequest, Device};

    pub fn list() -> Result<Vec<DeviceInfo>, CameraError> {
        let infos =
            nokhwa::query(ApiBackend::Auto).map_err(|e| CameraError::Query(e.to_string()))?;
        Ok(infos
            .into_iter()
            .map(|info| {
                let formats = Camera::new(
                    info.index().clone(),
                    RequestedFormat::new::<RgbAFormat>(RequestedFormatType::None),
                )
                .and_then(|mut cam| cam.compatible_camera_formats())
                .map(|fs| {
                    fs.into_iter()
                        .map(|f| FormatInfo {
                            width: f.resolution().width(),
                            height: f.resolution().height(),
                            fps: f.frame_rate(),
                            format: f.format().to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
                DeviceInfo {
                    index: info.index().to_string(),
                    name: info.human_name(),
                    description: info.description().to_owned(),
                    formats,
                }
            })
            .collect())
    }

    /// An open, streaming device.
    pub struct OpenDevice {
        cam: Camera,
    }

    impl OpenDevice {
        pub fn open(req: &CameraRequest) -> Result<Self, CameraError> {
            let err = |e: &dyn std::fmt::Display| CameraError::Open {
                device: req.device.to_string(),
                reason: e.to_string(),
            };
            let index = match &req.device {
                Device::Index(i) => CameraIndex::Index(*i),
                Device::Name(name) => {
                    let want = name.to_lowercase();
                    let infos = nokhwa::query(ApiBackend::Auto).map_err(|e| err(&e))?;
                    infos
                        .into_iter()
                        .find(|i| i.human_name().to_lowercase().contains(&want))
                        .map(|i| i.index().clone())
                        .ok_or_else(|| err(&"no device with that name"))?
                }
                Device::Synthetic | Device::SyntheticRoom => return Err(err(&"synthetic")),
            };
            let format = CameraFormat::new(
                Resolution::new(req.width, req.height),
                FrameFormat::MJPEG,
                req.fps,
            );
            let mut cam = Camera::new(
                index,
                RequestedFormat::new::<RgbAFormat>(RequestedFormatType::Closest(format)),
            )
            .map_err(|e| err(&e))?;
            cam.open_stream().map_err(|e| err(&e))?;
            Ok(OpenDevice { cam })
        }

        /// Blocks until the next frame; RGBA8.
        pub fn frame(&mut self) -> Result<(u32, u32, Vec<u8>), String> {
            let buffer = self.cam.frame().map_err(|e| e.to_string())?;
            let image = buffer
                .decode_image::<RgbAFormat>()
                .map_err(|e| e.to_string())?;
            let (w, h) = image.dimensions();
            Ok((w, h, image.into_raw()))
        }

        pub fn name(&self) -> String {
            self.cam.info().human_name()
        }
    }
}

#[cfg(feature = "native")]
pub(crate) use native::OpenDevice;

/// Lists capture devices with their formats.
pub fn list() -> Result<Vec<DeviceInfo>, CameraError> {
    #[cfg(feature = "native")]
    {
        native::list()
    }
    #[cfg(not(feature = "native"))]
    {
        Err(CameraError::NotBuilt)
    }
}

/// Stand-in when built without device support: opening always fails clearly.
#[cfg(not(feature = "native"))]
pub(crate) struct OpenDevice;

#[cfg(not(feature = "native"))]
impl OpenDevice {
    pub fn open(_req: &crate::CameraRequest) -> Result<Self, CameraError> {
        Err(CameraError::NotBuilt)
    }

    pub fn frame(&mut self) -> Result<(u32, u32, Vec<u8>), String> {
        Err(CameraError::NotBuilt.to_string())
    }

    pub fn name(&self) -> String {
        String::new()
    }
}
