//! How the show appears in OBS's terms: stable ids, scene lists, inputs' settings, scene
//! items' visibility.

use super::*;

/// A stable UUID for a named thing (so clients can keep it across reconnects and reloads;
/// renaming gives a new one, as a new OBS source would).
pub fn uuid(kind: &str, name: &str) -> String {
    let h = Sha256::digest(format!("metadj-scope:{kind}:{name}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    // Version 8 (custom), RFC 4122 variant.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A node's scene item id: from its id, so it stays the same while other nodes come and go.
pub fn item_id(node: &NodeId) -> i64 {
    let h = Sha256::digest(format!("metadj-scope:item:{node}").as_bytes());
    let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) & 0x7fff_ffff;
    i64::from(n.max(1))
}

/// The input name of a node: `scene/node`.
pub fn input_name(scene: &str, node: &NodeId) -> String {
    format!("{scene}/{node}")
}

pub(super) fn scene_ref(name: &str) -> Value {
    json!({ "sceneName": name, "sceneUuid": uuid("scene", name) })
}

/// `scenes` as OBS lists them: the last scene first, `sceneIndex` 0 at the bottom.
pub(super) fn scene_list(show: &LoadedShow) -> Vec<Value> {
    let n = show.show.scenes.len();
    show.show
        .scenes
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| {
            let mut v = scene_ref(&s.name);
            v["sceneIndex"] = (n - 1 - i).into();
            v
        })
        .collect()
}

pub(super) fn param_json(v: &ParamValue) -> Value {
    match v {
        ParamValue::Float(x) => json!(x),
        ParamValue::Int(x) => json!(x),
        ParamValue::Bool(b) => json!(b),
        ParamValue::Color(c) => json!(c.to_array()),
        ParamValue::Vec2(x, y) => json!([x, y]),
        ParamValue::Choice(s) => json!(s),
        ParamValue::Text(s) => json!(s),
        ParamValue::Path(p) => json!(p.to_string_lossy()),
    }
}

/// A node's parameters as `inputSettings`: spec-table names, lists as arrays; unset optional
/// parameters are left out (as OBS leaves out defaults).
pub fn settings(kind: &NodeKind) -> Value {
    let mut out = Map::new();
    for row in kind.spec().params {
        let len = (row.len)(kind);
        if row.list {
            let items: Vec<Value> = (0..len)
                .map(|i| (row.get)(kind, i).map_or(Value::Null, |v| param_json(&v)))
                .collect();
            if len > 0 || !row.optional {
                out.insert(row.name.to_owned(), Value::Array(items));
            }
        } else if len > 0
            && let Some(v) = (row.get)(kind, 0)
        {
            out.insert(row.name.to_owned(), param_json(&v));
        }
    }
    Value::Object(out)
}

pub(super) fn all_settings(show: &LoadedShow) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for s in &show.show.scenes {
        for (id, node) in &s.nodes {
            out.insert(input_name(&s.name, id), settings(&node.kind));
        }
    }
    out
}

/// The blend layer a node feeds in its scene, if any: (blend node, layer index).
pub(super) fn layer_of(scene: &show::Scene, node: &NodeId) -> Option<(NodeId, usize)> {
    scene.edges.iter().find_map(|e| {
        let blend = scene.nodes.get(&e.to)?;
        if &e.from != node || !matches!(blend.kind, NodeKind::Blend(_)) {
            return None;
        }
        Some((e.to.clone(), e.port.parse().ok()?))
    })
}

/// Whether a scene item is enabled: the layer it feeds is visible (a node that feeds no blend
/// layer is always enabled).
pub(super) fn item_enabled(scene: &show::Scene, node: &NodeId) -> bool {
    match layer_of(scene, node) {
        Some((blend, layer)) => match scene.nodes.get(&blend).map(|n| &n.kind) {
            Some(NodeKind::Blend(b)) => b.layers.get(layer).is_none_or(|l| l.opacity > 0.0),
            _ => true,
        },
        None => true,
    }
}

pub(super) fn all_enabled(show: &LoadedShow) -> BTreeMap<(String, i64), bool> {
    let mut out = BTreeMap::new();
    for s in &show.show.scenes {
        for id in s.nodes.keys() {
            out.insert((s.name.clone(), item_id(id)), item_enabled(s, id));
        }
    }
    out
}
