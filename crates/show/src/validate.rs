//! Checks a show and reports every problem, each pointing at its place in the file.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::error::{ErrorKind, MAX_IMAGE_SIDE, MAX_TRANSITION_SECS, ShowError};
use crate::id::NodeId;
use crate::node::NodeKind;
use crate::scene::{Scene, Show};

/// Every error in the show (empty when it is fine to play). `base_dir` resolves relative file
/// paths (the show file's folder).
pub fn validate(show: &Show, base_dir: &Path) -> Vec<ShowError> {
    let loc = Locator::new(show);
    let mut errors = Vec::new();
    let (w, h) = show.canvas;
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        errors.push(loc.error(ErrorKind::BadCanvas(w, h), None, loc.find_top("canvas")));
    }
    if show.scenes.is_empty() {
        errors.push(loc.error(ErrorKind::NoScenes, None, loc.find_top("scenes")));
    }
    // How many earlier scenes share each scene's name, so positions point at the right one.
    let mut nth = Vec::with_capacity(show.scenes.len());
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for scene in &show.scenes {
        let seen = names.entry(scene.name.as_str()).or_default();
        nth.push(*seen);
        if *seen > 0 {
            let kind = ErrorKind::DuplicateScene(scene.name.clone());
            errors.push(loc.error(kind, None, loc.find_scene(&scene.name, *seen)));
        }
        *seen += 1;
    }
    // Duplicate ids are gone from the parsed map, so they are found in the text.
    let duplicates = loc.duplicate_node_keys();
    for (i, scene) in show.scenes.iter().enumerate() {
        for (pos, id) in duplicates.get(i).into_iter().flatten() {
            let kind = ErrorKind::DuplicateNode {
                kind: scene.nodes.get(id).map_or("unknown", |n| n.kind.name()),
                node: id.clone(),
            };
            errors.push(loc.error(kind, Some(&scene.name), Some(*pos)));
        }
    }
    // External sources (images, cameras, Scope nodes) are published by node id, and two scenes
    // are on screen during a transition: one id must mean one source throughout the show.
    let mut sources: BTreeMap<&NodeId, (String, &str)> = BTreeMap::new();
    for (scene, &nth) in show.scenes.iter().zip(&nth) {
        for (id, node) in &scene.nodes {
            let Some(what) = external_identity(&node.kind) else {
                continue;
            };
            match sources.get(id) {
                Some((first, first_scene)) if *first != what => {
                    let kind = ErrorKind::SharedIdMismatch {
                        node: id.clone(),
                        first: first.clone(),
                        first_scene: (*first_scene).to_owned(),
                        second: what,
                    };
                    errors.push(loc.error(
                        kind,
                        Some(&scene.name),
                        loc.find_node(&scene.name, nth, id, None),
                    ));
                }
                Some(_) => {}
                None => {
                    sources.insert(id, (what, &scene.name));
                }
            }
        }
    }
    for kind in check_presets(&show.presets) {
        errors.push(loc.error(kind, None, loc.find_top("presets")));
    }
    for kind in check_midi(show) {
        errors.push(loc.error(kind, None, loc.find_top("midi")));
    }
    for (scene, &nth) in show.scenes.iter().zip(&nth) {
        for (kind, place) in check_scene(scene, base_dir) {
            let pos = match &place {
                Place::Scene => loc.find_scene(&scene.name, nth),
                Place::Transition => loc.find_transition_duration(&scene.name, nth),
                Place::Node(id, field) => loc.find_node(&scene.name, nth, id, field.as_deref()),
                Place::Edge(from, to) => loc.find_edge(&scene.name, nth, from, to),
            };
            errors.push(loc.error(kind, Some(&scene.name), pos));
        }
    }
    errors
}

/// Where in a scene an error belongs.
enum Place {
    Scene,
    /// The scene's transition duration.
    Transition,
    Node(NodeId, Option<String>),
    Edge(NodeId, NodeId),
}

fn check_scene(scene: &Scene, base_dir: &Path) -> Vec<(ErrorKind, Place)> {
    let mut out = Vec::new();
    let outputs = scene
        .nodes
        .values()
        .filter(|n| matches!(n.kind, NodeKind::Output(_)))
        .count();
    if outputs != 1 {
        out.push((ErrorKind::OutputCount(outputs), Place::Scene));
    }
    let duration = scene.transition.duration;
    if !(duration.is_finite() && (0.0..=MAX_TRANSITION_SECS).contains(&duration)) {
        let kind = ErrorKind::BadTransitionDuration(duration);
        out.push((kind, Place::Transition));
    }
    for (id, node) in &scene.nodes {
        for (param, range, got) in check_params(&node.kind) {
            let field = param.split('.').next().unwrap_or(&param).to_owned();
            let kind = ErrorKind::BadParam {
                node: id.clone(),
                kind: node.kind.name(),
                param,
                range,
                got,
            };
            out.push((kind, Place::Node(id.clone(), Some(field))));
        }
        if let NodeKind::Scope(s) = &node.kind {
            for (key, problem) in crate::pipeline::extra_problems(&s.load.extra) {
                let kind = ErrorKind::BadLoadParam {
                    node: id.clone(),
                    key,
                    problem,
                };
                out.push((kind, Place::Node(id.clone(), Some("load".into()))));
            }
        }
        if let NodeKind::Scope(s) = &node.kind
            && let Err(reason) = check_scope_url(&s.url)
        {
            let kind = ErrorKind::BadScopeUrl {
                node: id.clone(),
                kind: node.kind.name(),
                url: s.url.clone(),
                reason: reason.to_owned(),
            };
            out.push((kind, Place::Node(id.clone(), Some("url".into()))));
        }
        if let NodeKind::Segment(seg) = &node.kind
            && let Some(path) = &seg.model_file
            && let Err(reason) = check_model(&base_dir.join(path))
        {
            let kind = match reason {
                None => ErrorKind::MissingFile {
                    node: id.clone(),
                    kind: node.kind.name(),
                    path: path.clone(),
                },
                Some(reason) => ErrorKind::BadModelFile {
                    node: id.clone(),
                    path: path.clone(),
                    reason,
                },
            };
            out.push((kind, Place::Node(id.clone(), Some("model_file".into()))));
        }
        for path in files(&node.kind) {
            let full = base_dir.join(path);
            let kind = match check_image(&full) {
                Ok(()) => continue,
                Err(None) => ErrorKind::MissingFile {
                    node: id.clone(),
                    kind: node.kind.name(),
                    path: path.to_path_buf(),
                },
                Err(Some(reason)) => ErrorKind::BadImageFile {
                    node: id.clone(),
                    kind: node.kind.name(),
                    path: path.to_path_buf(),
                    reason,
                },
            };
            out.push((kind, Place::Node(id.clone(), Some("path".into()))));
        }
    }

    let mut connected: BTreeMap<(&NodeId, &str), &NodeId> = BTreeMap::new();
    for e in &scene.edges {
        let place = || Place::Edge(e.from.clone(), e.to.clone());
        let (Some(from), Some(to)) = (scene.nodes.get(&e.from), scene.nodes.get(&e.to)) else {
            let missing = if scene.nodes.contains_key(&e.from) {
                &e.to
            } else {
                &e.from
            };
            let kind = ErrorKind::DanglingEdge {
                from: e.from.clone(),
                to: e.to.clone(),
                missing: missing.clone(),
            };
            out.push((kind, place()));
            continue;
        };
        let inputs = to.kind.inputs();
        let Some((_, wanted)) = inputs.iter().find(|(p, _)| *p == e.port) else {
            let ports: Vec<_> = inputs.iter().map(|(p, _)| p.as_str()).collect();
            let kind = ErrorKind::UnknownPort {
                from: e.from.clone(),
                to: e.to.clone(),
                kind: to.kind.name(),
                port: e.port.clone(),
                ports: if ports.is_empty() {
                    "none".into()
                } else {
                    ports.join(", ")
                },
            };
            out.push((kind, place()));
            continue;
        };
        let Some(given) = from.kind.output() else {
            let kind = ErrorKind::NoOutputPort {
                from: e.from.clone(),
                to: e.to.clone(),
                kind: from.kind.name(),
            };
            out.push((kind, place()));
            continue;
        };
        if given != *wanted {
            let kind = ErrorKind::PortType {
                from: e.from.clone(),
                to: e.to.clone(),
                port: e.port.clone(),
                given,
                wanted: *wanted,
            };
            out.push((kind, place()));
        }
        if let Some(first) = connected.insert((&e.to, e.port.as_str()), &e.from) {
            let kind = ErrorKind::InputTwice {
                to: e.to.clone(),
                port: e.port.clone(),
                first: first.clone(),
                second: e.from.clone(),
            };
            out.push((kind, place()));
        }
    }
    for (id, node) in &scene.nodes {
        // A Scope node without input runs in text mode.
        if matches!(node.kind, NodeKind::Scope(_)) {
            continue;
        }
        for (port, _) in node.kind.inputs() {
            if !connected.contains_key(&(id, port.as_str())) {
                let kind = ErrorKind::MissingInput {
                    node: id.clone(),
                    kind: node.kind.name(),
                    port,
                };
                out.push((kind, Place::Node(id.clone(), None)));
            }
        }
    }
    if let Some(cycle) = find_cycle(scene) {
        let first = cycle[0].clone();
        out.push((ErrorKind::Cycle(cycle), Place::Node(first, None)));
    }
    out
}

/// A cycle as the list of node ids around it, if the scene has one.
pub(crate) fn find_cycle(scene: &Scene) -> Option<Vec<NodeId>> {
    let mut next: BTreeMap<&NodeId, Vec<&NodeId>> = BTreeMap::new();
    for e in &scene.edges {
        next.entry(&e.from).or_default().push(&e.to);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark: BTreeMap<&NodeId, Mark> = scene.nodes.keys().map(|k| (k, Mark::New)).collect();
    for start in scene.nodes.keys() {
        if mark.get(start) != Some(&Mark::New) {
            continue;
        }
        // Iterative DFS; `path` holds the open nodes with their next-child index.
        let mut path: Vec<(&NodeId, usize)> = vec![(start, 0)];
        mark.insert(start, Mark::Open);
        while let Some((node, i)) = path.last_mut() {
            let children = next.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(&child) = children.get(*i) {
                *i += 1;
                match mark.get(child).copied() {
                    Some(Mark::New) => {
                        mark.insert(child, Mark::Open);
                        path.push((child, 0));
                    }
                    Some(Mark::Open) => {
                        let at = path.iter().position(|(n, _)| *n == child).unwrap_or(0);
                        let mut cycle: Vec<NodeId> =
                            path[at..].iter().map(|(n, _)| (*n).clone()).collect();
                        cycle.push(child.clone());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                let done = *node;
                mark.insert(done, Mark::Done);
                path.pop();
            }
        }
    }
    None
}

/// What an external source shows, for comparing same-id nodes across scenes.
fn external_identity(kind: &NodeKind) -> Option<String> {
    match kind {
        NodeKind::Image(img) => Some(format!("image {}", img.path.display())),
        NodeKind::Camera(c) => Some(format!(
            "camera {:?} {}x{}@{}",
            c.device, c.width, c.height, c.fps
        )),
        NodeKind::Scope(s) => Some(format!("scope {}", s.url)),
        NodeKind::Segment(s) => Some(format!("segment {:?} {:?}", s.model, s.model_file)),
        _ => None,
    }
}

/// Files a node needs, relative to the show's folder.
/// `Err(None)` when the file does not exist, `Err(Some(reason))` when it is no usable image.
/// Metadata comes first so a device like /dev/zero is never read; only the header is decoded.
fn check_image(path: &Path) -> Result<(), Option<String>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
        Err(e) => return Err(Some(format!("cannot be read: {e}"))),
    };
    if meta.is_dir() {
        return Err(Some("is a directory, not an image file".into()));
    }
    if !meta.is_file() {
        return Err(Some("is not a regular file".into()));
    }
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Some(format!("cannot be read: {e}")))?;
    let (w, h) = reader.into_dimensions().map_err(|e| {
        Some(format!(
            "is not a PNG or JPEG image this build can decode: {e}"
        ))
    })?;
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(Some(format!(
            "is {w}x{h}, larger than the limit of {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}"
        )));
    }
    Ok(())
}

/// Like [`check_image`] for a segment node's model file: present, a regular file, not empty.
/// Whether it is a usable ONNX model is known only once the model is loaded (off the frame
/// path, when the node starts); that error names the file too.
fn check_model(path: &Path) -> Result<(), Option<String>> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(None),
        Err(e) => Err(Some(format!("cannot be read: {e}"))),
        Ok(m) if !m.is_file() => Err(Some("is not a regular file".into())),
        Ok(m) if m.len() == 0 => Err(Some("is empty".into())),
        Ok(_) => Ok(()),
    }
}

fn files(kind: &NodeKind) -> Vec<&Path> {
    match kind {
        NodeKind::Image(img) => vec![img.path.as_path()],
        NodeKind::Scope(s) => s
            .params
            .vace_ref_images
            .iter()
            .map(|p| p.as_path())
            .collect(),
        _ => Vec::new(),
    }
}

/// The most a transform may crop from two opposite edges together: a sliver must remain.
const MAX_CROP_SUM: f32 = 0.99;

/// Out-of-range parameters as `(name, range, value)`. Single-parameter ranges come from the
/// kind's [`crate::spec`] table; rules that relate several fields follow it.
/// Channels 1-16 and numbers 0-127 as MIDI has them, each control mapped once, and targets
/// that exist in the show (a renamed scene would otherwise leave a pad that does nothing).
fn check_midi(show: &Show) -> Vec<ErrorKind> {
    use crate::midi::{MidiControl, MidiTarget};
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for m in &show.midi {
        let (MidiControl::Cc { channel, number } | MidiControl::Note { channel, number }) =
            m.control;
        let mut bad = |problem: String| {
            out.push(ErrorKind::BadMidi {
                control: m.control.label(),
                problem,
            });
        };
        if !(1..=16).contains(&channel) {
            bad(format!("channel must be in 1..=16, got {channel}"));
        }
        if number > 127 {
            bad(format!("number must be in 0..=127, got {number}"));
        }
        if !seen.insert(m.control) {
            bad("is mapped twice".into());
        }
        if let Some((lo, hi)) = m.range
            && !(lo.is_finite()
                && hi.is_finite()
                && (0.0..=1.0).contains(&lo)
                && (0.0..=1.0).contains(&hi))
        {
            bad(format!(
                "range must be two fractions in 0..=1, got ({lo}, {hi})"
            ));
        }
        let scene = |name: &String| show.scenes.iter().any(|s| s.name == *name);
        match &m.target {
            MidiTarget::Program(name) | MidiTarget::Preview(name) if !scene(name) => {
                bad(format!("no scene {name:?}"));
            }
            MidiTarget::Preset(name) if !show.presets.prompts.iter().any(|p| p.name == *name) => {
                bad(format!("no prompt preset {name:?}"));
            }
            MidiTarget::Param { node, param, .. } => {
                let kinds: Vec<_> = show
                    .scenes
                    .iter()
                    .filter_map(|s| s.nodes.get(node))
                    .collect();
                if kinds.is_empty() {
                    bad(format!("no node \"{node}\" in any scene"));
                } else if !kinds.iter().any(|n| n.kind.spec().param(param).is_some()) {
                    bad(format!("node \"{node}\" has no parameter {param:?}"));
                }
            }
            _ => {}
        }
    }
    out
}

/// Names unique and not blank; values checked by the Scope node's parameter table (a preset
/// holds nothing a Scope node could not).
fn check_presets(presets: &crate::Presets) -> Vec<ErrorKind> {
    let mut out = Vec::new();
    let bad = |what, name: &str, problem: String| ErrorKind::BadPreset {
        what,
        name: name.to_owned(),
        problem,
    };
    let prompts = presets
        .prompts
        .iter()
        .map(|p| ("prompt", &p.name, p.as_node()));
    let pipelines = presets
        .pipelines
        .iter()
        .map(|p| ("pipeline", &p.name, p.as_node()));
    let mut seen: BTreeMap<(&str, &str), ()> = BTreeMap::new();
    for (what, name, node) in prompts.chain(pipelines) {
        if name.trim().is_empty() {
            out.push(bad(what, name, "needs a name".into()));
        } else if seen.insert((what, name.as_str()), ()).is_some() {
            out.push(bad(what, name, "the name is used twice".into()));
        }
        for (param, range, got) in check_params(&node) {
            let param = param.trim_start_matches("params.").to_owned();
            out.push(bad(
                what,
                name,
                format!("{param} must be in {range}, got {got}"),
            ));
        }
        if let NodeKind::Scope(s) = &node
            && what == "pipeline"
        {
            if s.pipeline.trim().is_empty() {
                out.push(bad(what, name, "names no pipeline".into()));
            }
            for (key, problem) in crate::pipeline::extra_problems(&s.load.extra) {
                out.push(bad(what, name, format!("load.extra.{key}: {problem}")));
            }
        }
    }
    out
}

fn check_params(kind: &NodeKind) -> Vec<(String, String, String)> {
    let mut bad = Vec::new();
    for row in kind.spec().params {
        for i in 0..(row.len)(kind) {
            let Some(value) = (row.get)(kind, i) else {
                continue;
            };
            for p in row.problems(&value) {
                let name = match p.part {
                    Some(part) => format!("{}.{part}", row.item_name(i)),
                    None => row.item_name(i),
                };
                bad.push((name, p.range, p.got));
            }
        }
    }
    // Cross-field rules: each relates two or more fields, so no single row can hold it.
    match kind {
        NodeKind::LumaKey(k) => {
            // `high` may not be below `low`; reported only when `high` is in its own range.
            if let Some(row) = crate::spec::param("luma_key", "high")
                && let crate::spec::ParamType::Float { max, .. } = row.ty
                && row.check(&crate::spec::Value::Float(k.high)).is_ok()
            {
                let low = k.low.clamp(0.0, max);
                if k.high < low {
                    let range = format!("{low}..={max}");
                    bad.push(("high".into(), range, format!("{}", k.high)));
                }
            }
        }
        NodeKind::Transform(t) => {
            let (l, tp, r, b) = t.crop;
            for (name, sum) in [("crop.left+right", l + r), ("crop.top+bottom", tp + b)] {
                if !(sum.is_finite() && (0.0..=MAX_CROP_SUM).contains(&sum)) {
                    bad.push((name.into(), format!("0..={MAX_CROP_SUM}"), format!("{sum}")));
                }
            }
        }
        // Not ranges at all: a blend without layers draws nothing, a Scope node needs a pipeline.
        NodeKind::Blend(b) if b.layers.is_empty() => {
            bad.push(("layers".into(), "1 or more layers".into(), "none".into()));
        }
        NodeKind::Scope(s) if s.pipeline.trim().is_empty() => {
            bad.push(("pipeline".into(), "a pipeline id".into(), "\"\"".into()));
        }
        _ => {}
    }
    bad
}

/// Why `url` cannot reach a Scope server, if it cannot. Mirrors what the `scope` crate accepts at
/// run time (`embedded`, or an `http(s)://host[:port][/path]` base URL), so a bad URL fails here
/// rather than being retried forever.
fn check_scope_url(url: &str) -> Result<(), &'static str> {
    let url = url.trim();
    if url == EMBEDDED {
        return Ok(());
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("the scheme must be http:// or https://")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains a space or control character");
    }
    // Request paths are appended to the base, so a query or fragment would end up in the middle.
    if url.contains(['?', '#']) {
        return Err("a server base URL cannot have a query or fragment");
    }
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed [ in the IPv6 host")?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("bad IPv6 host");
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err("unexpected text after the IPv6 host"),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("no host");
    }
    if !host
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'))
    {
        return Err("the host has characters a host name cannot have");
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0))
    {
        return Err("the port must be a number in 1..=65535");
    }
    Ok(())
}

/// The Scope URL that means the built-in server (the app's `sources::embedded::EMBEDDED`).
const EMBEDDED: &str = "embedded";

/// Finds things in the source text by their written form. The parsed model has no spans, and
/// show files are small, so a forward text search from the scene's name is enough.
struct Locator<'a> {
    file: Option<&'a Path>,
    text: Option<&'a str>,
}

impl<'a> Locator<'a> {
    fn new(show: &'a Show) -> Self {
        Locator {
            file: show.origin.path.as_deref(),
            text: show.origin.text.as_deref(),
        }
    }

    fn error(&self, kind: ErrorKind, scene: Option<&str>, pos: Option<usize>) -> ShowError {
        ShowError {
            file: self.file.map(Path::to_path_buf),
            pos: pos.and_then(|p| self.line_col(p)),
            scene: scene.map(str::to_owned),
            kind: Box::new(kind),
        }
    }

    fn line_col(&self, offset: usize) -> Option<(usize, usize)> {
        let before = self.text?.get(..offset)?;
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, col))
    }

    /// Offset of the first `pattern` at or after `from` that is not inside a `//` comment.
    fn find_from(&self, from: usize, pattern: &str) -> Option<usize> {
        let text = self.text?;
        let mut at = from;
        while let Some(i) = text.get(at..)?.find(pattern) {
            let pos = at + i;
            let line_start = text[..pos].rfind('\n').map_or(0, |n| n + 1);
            if !text[line_start..pos].contains("//") {
                return Some(pos);
            }
            at = pos + pattern.len();
        }
        None
    }

    fn find_top(&self, field: &str) -> Option<usize> {
        self.find_from(0, &format!("{field}:"))
    }

    /// The `nth` (from 0) scene named `name`: scene names may repeat (which is an error).
    fn find_scene(&self, name: &str, nth: usize) -> Option<usize> {
        let text = self.text?;
        let quoted = format!("\"{name}\"");
        let mut at = 0;
        let mut skip = nth;
        while let Some(pos) = self.find_from(at, &quoted) {
            if text[..pos].trim_end().ends_with("name:") {
                if skip == 0 {
                    return Some(pos);
                }
                skip -= 1;
            }
            at = pos + quoted.len();
        }
        None
    }

    /// The scene's `duration:` inside its `transition:`, else the scene's name.
    fn find_transition_duration(&self, scene: &str, nth: usize) -> Option<usize> {
        let start = self.find_scene(scene, nth);
        let transition = self.find_from(start.unwrap_or(0), "transition:");
        // Only `Scene` has a `transition` field, so the next one after the name is this scene's
        // unless this scene has none (then the duration is the default and cannot be wrong).
        let next_scene = start.and_then(|s| self.find_from(s + 1, "name:"));
        match transition {
            Some(t) if next_scene.is_none_or(|n| t < n) => {
                self.find_from(t, "duration:").or(Some(t))
            }
            _ => start,
        }
    }

    fn find_node(
        &self,
        scene: &str,
        nth: usize,
        node: &NodeId,
        field: Option<&str>,
    ) -> Option<usize> {
        let start = self.find_scene(scene, nth).unwrap_or(0);
        let key = format!("\"{node}\"");
        let text = self.text?;
        let mut at = start;
        let node_pos = loop {
            let pos = self.find_from(at, &key)?;
            if text[pos + key.len()..].trim_start().starts_with(':') {
                break pos;
            }
            at = pos + key.len();
        };
        let Some(field) = field else {
            return Some(node_pos);
        };
        // The field must be inside this node's entry: before the next node key (`"x": (`).
        let end = text[node_pos + key.len()..]
            .find("\": (")
            .map_or(text.len(), |i| node_pos + key.len() + i);
        match self.find_from(node_pos, &format!("{field}:")) {
            Some(p) if p < end => Some(p),
            _ => Some(node_pos),
        }
    }

    fn find_edge(&self, scene: &str, nth: usize, from: &NodeId, to: &NodeId) -> Option<usize> {
        let start = self.find_scene(scene, nth).unwrap_or(0);
        let pattern = format!("from: \"{from}\", to: \"{to}\"");
        self.find_from(start, &pattern)
            .or_else(|| self.find_from(start, &format!("from: \"{from}\"")))
    }

    /// For each scene's `nodes: { .. }` map, in file order, the offset and id of every key
    /// that repeats an earlier key of the same map. Only `Scene` has a `nodes` field, so the
    /// k-th such map is the k-th scene's. Skips strings and comments.
    fn duplicate_node_keys(&self) -> Vec<Vec<(usize, NodeId)>> {
        let Some(text) = self.text else {
            return Vec::new();
        };
        let bytes = text.as_bytes();
        let mut maps: Vec<Vec<(usize, NodeId)>> = Vec::new();
        // Open brackets; `true` marks a `nodes` map, whose keys are in `keys`.
        let mut stack: Vec<bool> = Vec::new();
        let mut keys: HashSet<&str> = HashSet::new();
        let mut after_nodes = false;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    let end = i.min(bytes.len());
                    let in_nodes = stack.last() == Some(&true);
                    if in_nodes
                        && text
                            .get(end + 1..)
                            .is_some_and(|t| t.trim_start().starts_with(':'))
                    {
                        let key = &text[start + 1..end];
                        if !keys.insert(key)
                            && let Some(map) = maps.last_mut()
                        {
                            map.push((start, NodeId::new(key)));
                        }
                    }
                    after_nodes = false;
                }
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/'))
                    {
                        i += 1;
                    }
                    i += 1;
                }
                b'{' if after_nodes => {
                    stack.push(true);
                    keys.clear();
                    maps.push(Vec::new());
                    after_nodes = false;
                }
                b'(' | b'[' | b'{' => {
                    stack.push(false);
                    after_nodes = false;
                }
                b')' | b']' | b'}' => {
                    stack.pop();
                    after_nodes = false;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let start = i;
                    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_')
                    {
                        i += 1;
                    }
                    after_nodes =
                        &text[start..i] == "nodes" && text[i..].trim_start().starts_with(':');
                    continue;
                }
                b':' | b' ' | b'\t' | b'\r' | b'\n' => {}
                _ => after_nodes = false,
            }
            i += 1;
        }
        maps
    }
}
