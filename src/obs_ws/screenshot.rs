//! `GetSourceScreenshot`: the program picture (with its running transition) for the program
//! scene; any other scene's output or any input's node is drawn by a snapshot
//! ([`crate::preview::NodeSnapshots`]) for as long as requests wait for it.

use super::*;

/// A picture a request waits for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Shot {
    /// What the program output shows.
    Program,
    /// A node of a scene, drawn alone (a scene's picture is its output node's).
    Node(usize, NodeId),
}

/// How long a request waits for its picture.
const WAIT: Duration = Duration::from_secs(2);

impl App2Obs {
    pub(super) fn screenshot(&self, world: &World, data: &Value) -> Reply {
        let format =
            required(string_field(data, "imageFormat")?, "imageFormat")?.to_ascii_lowercase();
        let picture_format = match format.as_str() {
            "png" => image::ImageFormat::Png,
            "jpg" | "jpeg" => image::ImageFormat::Jpeg,
            _ => {
                return Err(RequestError::new(
                    status::INVALID_REQUEST_FIELD,
                    "imageFormat: png, jpg or jpeg",
                ));
            }
        };
        let size = |f: &str| -> Result<Option<u32>, RequestError> {
            match field(data, f) {
                None => Ok(None),
                Some(v) => match v.as_u64() {
                    Some(n @ 8..=4096) => Ok(Some(n as u32)),
                    _ => Err(RequestError::new(
                        status::REQUEST_FIELD_OUT_OF_RANGE,
                        format!("{f} must be in 8..=4096"),
                    )),
                },
            }
        };
        let (w, h) = (size("imageWidth")?, size("imageHeight")?);
        let shot = self.shot(world, data)?;
        if matches!(shot, Shot::Node(..)) && !world.snapshots {
            return Err(RequestError::new(
                status::INVALID_RESOURCE_STATE,
                "only the program scene can be captured in this mode",
            ));
        }
        let picture = self.wait_for(&shot)?;
        let picture = match (w, h) {
            (None, None) => (*picture).clone(),
            _ => {
                // Scale to fit inside the asked size, keeping the aspect ratio.
                let (pw, ph) = (picture.width() as f32, picture.height() as f32);
                let s = [w.map(|w| w as f32 / pw), h.map(|h| h as f32 / ph)]
                    .into_iter()
                    .flatten()
                    .fold(f32::INFINITY, f32::min);
                let (nw, nh) = (
                    ((pw * s).round() as u32).max(1),
                    ((ph * s).round() as u32).max(1),
                );
                image::imageops::resize(&*picture, nw, nh, image::imageops::FilterType::Triangle)
            }
        };
        let mut bytes = std::io::Cursor::new(Vec::new());
        let encoded = if picture_format == image::ImageFormat::Jpeg {
            image::DynamicImage::ImageRgba8(picture)
                .to_rgb8()
                .write_to(&mut bytes, picture_format)
        } else {
            picture.write_to(&mut bytes, picture_format)
        };
        encoded.map_err(|e| RequestError::new(status::REQUEST_PROCESSING_FAILED, e.to_string()))?;
        let mime = if picture_format == image::ImageFormat::Png {
            "png"
        } else {
            "jpeg"
        };
        let data = base64::engine::general_purpose::STANDARD.encode(bytes.into_inner());
        Ok(json!({ "imageData": format!("data:image/{mime};base64,{data}") }))
    }

    /// The source `sourceName` / `sourceUuid` names: a scene (by its name) or an input (by
    /// `scene/node`, or a node of the program scene).
    fn shot(&self, world: &World, data: &Value) -> Result<Shot, RequestError> {
        let name = string_field(data, "sourceName")?;
        let by_uuid = string_field(data, "sourceUuid")?;
        if name.is_none() && by_uuid.is_none() {
            return Err(RequestError::missing("sourceName"));
        }
        let show = &world
            .show
            .as_ref()
            .ok_or_else(|| RequestError::new(status::NOT_READY, "no show"))?
            .show;
        if let Ok(scene) = self.scene(world, &json!({ "sceneName": name, "sceneUuid": by_uuid })) {
            if scene == world.program {
                return Ok(Shot::Program);
            }
            let output = show.scenes[scene]
                .nodes
                .iter()
                .find(|(_, n)| matches!(n.kind, NodeKind::Output(_)))
                .map(|(id, _)| id.clone())
                .ok_or_else(|| {
                    RequestError::new(
                        status::INVALID_RESOURCE_STATE,
                        format!("scene `{}` has no output node", show.scenes[scene].name),
                    )
                })?;
            return Ok(Shot::Node(scene, output));
        }
        let (scene, node) =
            self.input(world, &json!({ "inputName": name, "inputUuid": by_uuid }))?;
        Ok(Shot::Node(scene, node))
    }

    /// Asks the app for `shot`, then waits for a picture of it rendered after the request.
    fn wait_for(&self, shot: &Shot) -> Result<Arc<image::RgbaImage>, RequestError> {
        let deadline = Instant::now() + WAIT;
        let asked = {
            let mut world = self.published.lock();
            let until = world.shots.entry(shot.clone()).or_insert(deadline);
            *until = (*until).max(deadline);
            world.pictures.get(shot).map(|(f, _)| *f)
        };
        loop {
            let world = self.published.lock();
            if let Some((f, p)) = world.pictures.get(shot)
                && asked.is_none_or(|a| *f > a)
            {
                return Ok(p.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RequestError::new(
                    status::REQUEST_PROCESSING_FAILED,
                    "no picture arrived within 2 s (is the compositor running, does the node compile?)",
                ));
            }
            drop(self.published.changed.wait_timeout(world, left));
        }
    }
}
