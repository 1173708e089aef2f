//! Property tests over random edit sequences on the demo show:
//! undo after an edit restores the show, redo after undo restores the edit, a refused edit
//! changes nothing, and an accepted edit never leaves structural damage (dangling or mistyped
//! wires, loops, doubled inputs, shared ids meaning two things): at most it names what is
//! still missing (an unconnected input, a scene without its one output).

use std::path::{Path, PathBuf};

use document::{Clipboard, Document, Edit};
use proptest::prelude::*;
use show::node::{
    Blend, ChromaKey, Feather, GarbageMatte, Invert, Mask, MatteFrom, NodeKind, Output, Solid,
    Transform,
};
use show::scene::{Transition, TransitionKind};
use show::{ErrorKind, NodeId};

fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/demo.ron")
}

/// An edit drawn as numbers, turned into a real [`Edit`] against the show as it is then.
#[derive(Debug, Clone)]
struct Op {
    code: u8,
    a: usize,
    b: usize,
    c: usize,
    x: f32,
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..16, 0usize..64, 0usize..64, 0usize..8, -500.0f32..500.0)
        .prop_map(|(code, a, b, c, x)| Op { code, a, b, c, x })
}

fn kinds() -> Vec<NodeKind> {
    vec![
        NodeKind::Solid(Solid::default()),
        NodeKind::Transform(Transform::default()),
        NodeKind::Blend(Blend::default()),
        NodeKind::ChromaKey(ChromaKey::default()),
        NodeKind::Feather(Feather::default()),
        NodeKind::Invert(Invert {}),
        NodeKind::Mask(Mask {}),
        NodeKind::Matte(MatteFrom::default()),
        NodeKind::GarbageMatte(GarbageMatte::default()),
        NodeKind::Output(Output {}),
    ]
}

fn to_edit(doc: &Document, op: &Op) -> Edit {
    let show = doc.show();
    let scene = op.a % show.scenes.len();
    let s = &show.scenes[scene];
    let ids: Vec<NodeId> = s.nodes.keys().cloned().collect();
    let pick = |i: usize| {
        ids.get(i % ids.len().max(1))
            .cloned()
            .unwrap_or_else(|| NodeId::new("none"))
    };
    match op.code {
        0 | 1 => Edit::AddNode {
            scene,
            kind: kinds()[op.b % kinds().len()].clone(),
            pos: (op.x, -op.x),
        },
        2 => Edit::RemoveNodes {
            scene,
            ids: vec![pick(op.b)],
        },
        3..=5 => {
            let to = pick(op.c + op.b);
            let ports = s.nodes.get(&to).map(|n| n.kind.inputs().len()).unwrap_or(0);
            let port = match s.nodes.get(&to).map(|n| &n.kind) {
                Some(NodeKind::Mask(_)) if op.c % 2 == 1 => "matte".to_owned(),
                Some(NodeKind::Blend(_)) => (op.c % (ports + 2)).to_string(),
                _ if op.c == 7 => "bogus".to_owned(),
                _ => "in".to_owned(),
            };
            Edit::Connect {
                scene,
                from: pick(op.b),
                to,
                port,
            }
        }
        6 => {
            let e = s.edges.get(op.b % s.edges.len().max(1));
            Edit::Disconnect {
                scene,
                to: e.map_or_else(|| NodeId::new("none"), |e| e.to.clone()),
                port: e.map(|e| e.port.clone()).unwrap_or_default(),
            }
        }
        7 => Edit::MoveNode {
            scene,
            node: pick(op.b),
            pos: (op.x, op.x * 0.5),
        },
        8 => {
            let node = pick(op.b);
            let kind = s
                .nodes
                .get(&node)
                .map(|n| match &n.kind {
                    NodeKind::Blend(b) => {
                        let mut b = b.clone();
                        b.layers.truncate(1 + op.c % 3);
                        NodeKind::Blend(b)
                    }
                    NodeKind::ChromaKey(k) => NodeKind::ChromaKey(ChromaKey {
                        similarity: (op.x.abs() / 500.0).min(1.0),
                        ..k.clone()
                    }),
                    other => other.clone(),
                })
                .unwrap_or(NodeKind::Solid(Solid::default()));
            Edit::SetKind { scene, node, kind }
        }
        9 => Edit::RemoveLayer {
            scene,
            node: pick(op.b),
            index: op.c,
        },
        10 => {
            let chosen: Vec<NodeId> = (0..=op.c % 3).map(|i| pick(op.b + i)).collect();
            let from = (op.b) % show.scenes.len();
            Edit::Paste {
                scene,
                clip: Clipboard::copy(&show.scenes[from], &chosen),
                offset: (op.x, op.x),
            }
        }
        11 => Edit::AddScene {
            at: op.b,
            name: format!("scene {}", op.c),
        },
        12 => Edit::DuplicateScene { scene },
        13 => Edit::MoveScene {
            from: scene,
            to: op.b % (show.scenes.len() + 1),
        },
        14 => Edit::RemoveScene { scene },
        _ => Edit::SetTransition {
            scene,
            transition: Transition {
                kind: TransitionKind::Fade,
                duration: op.x / 10.0,
            },
        },
    }
}

/// What may be wrong with a show after accepted edits: only things still to be done.
fn only_missing_pieces(doc: &Document) -> Result<(), String> {
    let dir = demo_path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let bad: Vec<String> = show::validate(doc.show(), &dir)
        .into_iter()
        .filter(|e| {
            !matches!(
                *e.kind,
                ErrorKind::MissingInput { .. } | ErrorKind::OutputCount(_)
            )
        })
        .map(|e| e.to_string())
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("\n"))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn undo_and_redo_invert_every_edit(ops in proptest::collection::vec(op(), 1..40)) {
        let show = show::io::load(&demo_path()).expect("demo");
        let mut doc = Document::new(show, None);
        let mut accepted = 0;
        for op in &ops {
            let edit = to_edit(&doc, op);
            let before = doc.show().clone();
            let steps = doc.undo_steps();
            match doc.apply(edit.clone()) {
                Ok(_) => {
                    accepted += 1;
                    let after = doc.show().clone();
                    if let Err(bad) = only_missing_pieces(&doc) {
                        return Err(TestCaseError::fail(format!("{edit:?} left:\n{bad}")));
                    }
                    if after == before {
                        prop_assert_eq!(doc.undo_steps(), steps, "a no-op edit is no undo step");
                        continue;
                    }
                    prop_assert!(doc.undo());
                    prop_assert_eq!(doc.show(), &before, "undo after {:?}", edit);
                    prop_assert!(doc.redo());
                    prop_assert_eq!(doc.show(), &after, "redo after {:?}", edit);
                }
                Err(_) => prop_assert_eq!(doc.show(), &before, "refused {:?} changed the show", edit),
            }
        }
        // Adding a node is always accepted: a long sequence that accepts nothing tests nothing.
        prop_assert!(ops.len() < 20 || accepted > 0);
        // Undoing everything returns to the file as loaded, which is clean again.
        while doc.undo() {}
        prop_assert!(!doc.is_dirty());
    }
}
