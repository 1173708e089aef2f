//! The inspector's list rows (blend layers, prompts, denoising steps, reference images):
//! the spec table can read and write items but not add or remove them, so that is here, per
//! list. A blend layer is removed with `Edit::RemoveLayer`, which also renumbers the wires.

use std::path::PathBuf;

use document::Edit;
use egui::{RichText, Ui};
use show::NodeId;
use show::node::{Layer, NodeKind, Prompt};
use show::spec::ParamSpec;

use crate::inspector::{Gestures, value_widget};

/// List rows (blend layers, prompts), grouped by their list: one block per list, one line
/// per item, with add and remove.
pub(crate) fn lists(ui: &mut Ui, g: &mut Gestures, scene: usize, id: &NodeId, kind: &NodeKind) {
    let spec = kind.spec();
    let mut groups: Vec<(&str, Vec<&ParamSpec>)> = Vec::new();
    for p in spec.params.iter().filter(|p| p.list) {
        let key = list_key(p);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    for (key, rows) in groups {
        let len = rows.iter().map(|p| (p.len)(kind)).max().unwrap_or(0);
        ui.separator();
        let title = if rows.len() == 1 {
            rows[0].label.to_owned()
        } else {
            heading(key)
        };
        ui.label(RichText::new(title).strong());
        for i in 0..len {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("{i}")).weak());
                // First in the row, so a long prompt cannot push it out of sight.
                let remove = ui.small_button("Remove").on_hover_text("Remove this item");
                for p in &rows {
                    let Some(mut v) = (p.get)(kind, i) else {
                        continue;
                    };
                    let (r, changed) =
                        value_widget(ui, p, &mut v, (id.as_str(), p.name, i), g.media);
                    let edit = changed
                        .then(|| {
                            let mut k = kind.clone();
                            (p.set)(&mut k, i, Some(v)).then_some(k)
                        })
                        .flatten()
                        .map(|k| Edit::SetKind {
                            scene,
                            node: id.clone(),
                            kind: k,
                        });
                    g.track(&r, edit);
                }
                if remove.clicked() {
                    let edit = list_remove(kind, key, i).map(|k| match k {
                        Removal::Layer => Edit::RemoveLayer {
                            scene,
                            node: id.clone(),
                            index: i,
                        },
                        Removal::Kind(k) => Edit::SetKind {
                            scene,
                            node: id.clone(),
                            kind: *k,
                        },
                    });
                    g.track(&remove, edit);
                }
            });
        }
        let add = ui.small_button(format!("+ Add {}", item_word(key)));
        if add.clicked() {
            let edit = list_add(kind, key).map(|k| Edit::SetKind {
                scene,
                node: id.clone(),
                kind: k,
            });
            g.track(&add, edit);
        }
    }
}

fn list_key(p: &ParamSpec) -> &'static str {
    p.name
        .strip_suffix(p.item)
        .and_then(|s| s.strip_suffix('.'))
        .filter(|_| !p.item.is_empty())
        .unwrap_or(p.name)
}

fn heading(key: &str) -> String {
    let last = key.rsplit('.').next().unwrap_or(key).replace('_', " ");
    let mut c = last.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

fn item_word(key: &str) -> &'static str {
    match key {
        "layers" => "layer",
        "params.prompts" => "prompt",
        "params.denoising_steps" => "step",
        "params.vace_ref_images" => "image",
        _ => "item",
    }
}

enum Removal {
    /// A blend layer: `Edit::RemoveLayer` also drops its wire and renumbers those above.
    Layer,
    Kind(Box<NodeKind>),
}

fn list_add(kind: &NodeKind, key: &str) -> Option<NodeKind> {
    let mut k = kind.clone();
    match (&mut k, key) {
        (NodeKind::Blend(b), "layers") => b.layers.push(Layer::default()),
        (NodeKind::Scope(s), "params.prompts") => s.params.prompts.push(Prompt {
            text: String::new(),
            weight: 1.0,
        }),
        (NodeKind::Scope(s), "params.denoising_steps") => {
            let steps = s.params.denoising_steps.get_or_insert_with(Vec::new);
            let next = steps.last().map_or(1000, |l| l / 2);
            steps.push(next);
        }
        (NodeKind::Scope(s), "params.vace_ref_images") => {
            s.params.vace_ref_images.push(PathBuf::new())
        }
        _ => return None,
    }
    Some(k)
}

fn list_remove(kind: &NodeKind, key: &str, i: usize) -> Option<Removal> {
    let mut k = kind.clone();
    match (&mut k, key) {
        (NodeKind::Blend(_), "layers") => return Some(Removal::Layer),
        (NodeKind::Scope(s), "params.prompts") if i < s.params.prompts.len() => {
            s.params.prompts.remove(i);
        }
        (NodeKind::Scope(s), "params.denoising_steps") => {
            let steps = s.params.denoising_steps.as_mut()?;
            (i < steps.len()).then(|| steps.remove(i))?;
            if steps.is_empty() {
                s.params.denoising_steps = None;
            }
        }
        (NodeKind::Scope(s), "params.vace_ref_images") if i < s.params.vace_ref_images.len() => {
            s.params.vace_ref_images.remove(i);
        }
        _ => return None,
    }
    Some(Removal::Kind(Box::new(k)))
}
