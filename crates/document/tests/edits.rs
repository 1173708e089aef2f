//! Edits on the demo show: what is accepted, what is refused and why, undo/redo, saving.

use std::path::{Path, PathBuf};

use document::{Clipboard, Document, Edit, EditError};
use show::node::{Blend, ChromaKey, Feather, NodeKind, Solid, Transform};
use show::scene::{Transition, TransitionKind};
use show::{NodeId, Rgba, Show};

fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/demo.ron")
}

fn demo() -> Document {
    let path = demo_path();
    let show = show::io::load(&path).expect("demo loads");
    Document::new(show, Some(path))
}

fn scene_index(doc: &Document, name: &str) -> usize {
    doc.show()
        .scenes
        .iter()
        .position(|s| s.name == name)
        .expect("scene")
}

fn id(s: &str) -> NodeId {
    NodeId::new(s)
}

#[test]
fn add_node_gets_a_fresh_id_that_is_never_reused() {
    let mut doc = demo();
    let a = doc
        .apply(Edit::AddNode {
            scene: 0,
            kind: NodeKind::Solid(Solid::default()),
            pos: (10.0, 20.0),
        })
        .expect("added")
        .created[0]
        .clone();
    assert!(doc.show().scenes[0].nodes.contains_key(&a));
    assert_eq!(doc.show().scenes[0].nodes[&a].pos, Some((10.0, 20.0)));
    doc.apply(Edit::RemoveNodes {
        scene: 0,
        ids: vec![a.clone()],
    })
    .expect("removed");
    let b = doc
        .apply(Edit::AddNode {
            scene: 0,
            kind: NodeKind::Solid(Solid::default()),
            pos: (0.0, 0.0),
        })
        .expect("added")
        .created[0]
        .clone();
    assert_ne!(a, b, "a deleted node's id must not come back");
}

#[test]
fn removing_a_node_removes_its_wires() {
    let mut doc = demo();
    let avatar = scene_index(&doc, "avatar");
    doc.apply(Edit::RemoveNodes {
        scene: avatar,
        ids: vec![id("key")],
    })
    .expect("removed");
    let s = &doc.show().scenes[avatar];
    assert!(!s.nodes.contains_key(&id("key")));
    assert!(
        s.edges
            .iter()
            .all(|e| e.from != id("key") && e.to != id("key"))
    );
    // The rest is untouched.
    assert!(
        s.edges
            .iter()
            .any(|e| e.from == id("cam") && e.to == id("scope"))
    );
}

#[test]
fn a_matte_cannot_go_into_an_image_input_and_the_reason_says_so() {
    let mut doc = demo();
    let feather = doc
        .apply(Edit::AddNode {
            scene: 0,
            kind: NodeKind::Feather(Feather::default()),
            pos: (0.0, 0.0),
        })
        .expect("added")
        .created[0]
        .clone();
    let before = doc.show().clone();
    let err = doc
        .apply(Edit::Connect {
            scene: 0,
            from: feather.clone(),
            to: id("mix"),
            port: "0".into(),
        })
        .expect_err("refused");
    assert!(matches!(err, EditError::TypeMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("a matte") && msg.contains("an image"), "{msg}");
    assert_eq!(doc.show(), &before, "a refused edit changes nothing");
}

#[test]
fn a_wire_that_closes_a_loop_is_refused() {
    let mut doc = demo();
    // title -> title_place already; title_place -> title would loop, but title has no input.
    // mix -> out; feed mix back into a transform that feeds mix.
    let err = doc
        .apply(Edit::Connect {
            scene: 0,
            from: id("mix"),
            to: id("title_place"),
            port: "in".into(),
        })
        .expect_err("loop");
    assert!(matches!(err, EditError::Cycle { .. }), "{err:?}");
    let err = doc
        .apply(Edit::Connect {
            scene: 0,
            from: id("title_place"),
            to: id("title_place"),
            port: "in".into(),
        })
        .expect_err("self loop");
    assert!(matches!(err, EditError::Cycle { .. }), "{err:?}");
}

#[test]
fn connecting_an_occupied_input_replaces_the_wire() {
    let mut doc = demo();
    let applied = doc
        .apply(Edit::Connect {
            scene: 0,
            from: id("bg"),
            to: id("title_place"),
            port: "in".into(),
        })
        .expect("replaced");
    let old = applied.replaced.expect("an old wire");
    assert_eq!(old.from, id("title"));
    let into: Vec<_> = doc.show().scenes[0]
        .edges
        .iter()
        .filter(|e| e.to == id("title_place"))
        .collect();
    assert_eq!(into.len(), 1);
    assert_eq!(into[0].from, id("bg"));
}

#[test]
fn unknown_ports_and_nodes_are_refused_by_name() {
    let mut doc = demo();
    let err = doc
        .apply(Edit::Connect {
            scene: 0,
            from: id("bg"),
            to: id("title_place"),
            port: "matte".into(),
        })
        .expect_err("no such port");
    assert_eq!(
        err.to_string(),
        "\"title_place\" (transform) has no input \"matte\" (inputs: in)"
    );
    let err = doc
        .apply(Edit::Connect {
            scene: 0,
            from: id("nope"),
            to: id("mix"),
            port: "0".into(),
        })
        .expect_err("no such node");
    assert_eq!(err.to_string(), "scene \"intro\" has no node \"nope\"");
    let err = doc
        .apply(Edit::Connect {
            scene: 0,
            from: id("out"),
            to: id("mix"),
            port: "0".into(),
        })
        .expect_err("output has no output");
    assert!(matches!(err, EditError::NoOutput { .. }));
}

#[test]
fn a_wire_dropped_one_past_the_last_layer_grows_the_blend() {
    let mut doc = demo();
    let solid = doc
        .apply(Edit::AddNode {
            scene: 0,
            kind: NodeKind::Solid(Solid {
                color: Rgba(1.0, 0.0, 0.0, 0.5),
            }),
            pos: (0.0, 0.0),
        })
        .expect("added")
        .created[0]
        .clone();
    doc.apply(Edit::Connect {
        scene: 0,
        from: solid.clone(),
        to: id("mix"),
        port: "2".into(),
    })
    .expect("grown");
    let NodeKind::Blend(b) = &doc.show().scenes[0].nodes[&id("mix")].kind else {
        panic!("mix is a blend");
    };
    assert_eq!(b.layers.len(), 3);
    // Two past the end is still refused.
    assert!(
        doc.apply(Edit::Connect {
            scene: 0,
            from: solid,
            to: id("mix"),
            port: "5".into(),
        })
        .is_err()
    );
}

#[test]
fn removing_a_layer_moves_the_upper_wires_down() {
    let mut doc = demo();
    let avatar = scene_index(&doc, "avatar");
    doc.apply(Edit::RemoveLayer {
        scene: avatar,
        node: id("mix"),
        index: 1,
    })
    .expect("removed");
    let s = &doc.show().scenes[avatar];
    let port_of = |from: &str| {
        s.edges
            .iter()
            .find(|e| e.from == id(from) && e.to == id("mix"))
            .map(|e| e.port.clone())
    };
    assert_eq!(port_of("bg").as_deref(), Some("0"));
    assert_eq!(port_of("place"), None);
    assert_eq!(port_of("vignette").as_deref(), Some("1"));
    assert!(show::validate(doc.show(), demo_path().parent().expect("dir")).is_empty());
}

#[test]
fn set_kind_refuses_a_different_kind_and_changes_a_shared_source_everywhere() {
    let mut doc = demo();
    let err = doc
        .apply(Edit::SetKind {
            scene: 0,
            node: id("mix"),
            kind: NodeKind::Transform(Transform::default()),
        })
        .expect_err("kind change");
    assert!(matches!(err, EditError::KindChange { .. }));
    // "bg" is the same image in "intro" and "avatar".
    let avatar = scene_index(&doc, "avatar");
    let NodeKind::Image(mut img) = doc.show().scenes[0].nodes[&id("bg")].kind.clone() else {
        panic!("bg is an image");
    };
    img.path = "../assets/title.png".into();
    doc.apply(Edit::SetKind {
        scene: 0,
        node: id("bg"),
        kind: NodeKind::Image(img.clone()),
    })
    .expect("set");
    assert_eq!(
        doc.show().scenes[avatar].nodes[&id("bg")].kind,
        NodeKind::Image(img)
    );
    assert!(show::validate(doc.show(), demo_path().parent().expect("dir")).is_empty());
}

#[test]
fn a_slider_drag_is_one_undo_step() {
    let mut doc = demo();
    let avatar = scene_index(&doc, "avatar");
    let start = doc.show().clone();
    doc.begin_gesture();
    for i in 0..30 {
        let kind = NodeKind::ChromaKey(ChromaKey {
            similarity: i as f32 / 100.0,
            ..ChromaKey::default()
        });
        doc.apply(Edit::SetKind {
            scene: avatar,
            node: id("key"),
            kind,
        })
        .expect("set");
    }
    doc.end_gesture();
    assert_eq!(doc.undo_steps(), 1);
    assert!(doc.undo());
    assert_eq!(doc.show(), &start);
    assert!(!doc.is_dirty());
    assert!(doc.redo());
    let NodeKind::ChromaKey(k) = &doc.show().scenes[avatar].nodes[&id("key")].kind else {
        panic!("key is a chroma key");
    };
    assert_eq!(k.similarity, 0.29);
    assert!(doc.is_dirty());
}

#[test]
fn history_keeps_at_least_200_steps() {
    let mut doc = demo();
    let start = doc.show().clone();
    for i in 0..210 {
        doc.apply(Edit::MoveNode {
            scene: 0,
            node: id("bg"),
            pos: (i as f32, 0.0),
        })
        .expect("moved");
    }
    let mut undone = 0;
    while doc.undo() {
        undone += 1;
    }
    assert_eq!(undone, 210.min(document::MAX_UNDO));
    if document::MAX_UNDO >= 210 {
        assert_eq!(doc.show(), &start);
    }
}

#[test]
fn scenes_add_duplicate_rename_reorder_delete() {
    let mut doc = demo();
    let n = doc.show().scenes.len();
    let at = doc
        .apply(Edit::AddScene {
            at: 1,
            name: "  break ".into(),
        })
        .expect("added")
        .scene
        .expect("index");
    assert_eq!(at, 1);
    assert_eq!(doc.show().scenes[1].name, "break");
    assert_eq!(
        doc.show().scenes[1].nodes.len(),
        1,
        "a new scene has its output"
    );
    assert_eq!(
        doc.apply(Edit::AddScene {
            at: 0,
            name: "break".into()
        }),
        Err(EditError::DuplicateSceneName("break".into()))
    );
    assert_eq!(
        doc.apply(Edit::RenameScene {
            scene: 1,
            name: " ".into()
        }),
        Err(EditError::EmptySceneName)
    );
    let avatar = scene_index(&doc, "avatar");
    doc.apply(Edit::DuplicateScene { scene: avatar })
        .expect("duplicated");
    assert_eq!(doc.show().scenes[avatar + 1].name, "avatar copy");
    assert_eq!(
        doc.show().scenes[avatar + 1].nodes,
        doc.show().scenes[avatar].nodes,
        "a copy keeps its ids: the camera and Scope stay one source"
    );
    doc.apply(Edit::RenameScene {
        scene: avatar + 1,
        name: "avatar 2".into(),
    })
    .expect("renamed");
    doc.apply(Edit::MoveScene {
        from: avatar + 1,
        to: 0,
    })
    .expect("moved");
    assert_eq!(doc.show().scenes[0].name, "avatar 2");
    doc.apply(Edit::RemoveScene { scene: 0 }).expect("removed");
    assert_eq!(doc.show().scenes.len(), n + 1);
    // Only the new scene's unconnected output is left to do.
    let errors = show::validate(doc.show(), demo_path().parent().expect("dir"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(
        *errors[0].kind,
        show::ErrorKind::MissingInput { .. }
    ));
    assert_eq!(errors[0].scene.as_deref(), Some("break"));
    while doc.show().scenes.len() > 1 {
        doc.apply(Edit::RemoveScene { scene: 0 }).expect("removed");
    }
    assert_eq!(
        doc.apply(Edit::RemoveScene { scene: 0 }),
        Err(EditError::LastScene)
    );
}

#[test]
fn transitions_refuse_nan_and_out_of_range_durations() {
    let mut doc = demo();
    for bad in [f32::NAN, f32::INFINITY, -1.0, 601.0] {
        let err = doc
            .apply(Edit::SetTransition {
                scene: 0,
                transition: Transition {
                    kind: TransitionKind::Fade,
                    duration: bad,
                },
            })
            .expect_err("refused");
        assert!(matches!(err, EditError::BadDuration { .. }));
    }
    doc.apply(Edit::SetTransition {
        scene: 0,
        transition: Transition {
            kind: TransitionKind::Wipe,
            duration: 2.5,
        },
    })
    .expect("set");
    assert_eq!(doc.show().scenes[0].transition.kind, TransitionKind::Wipe);
}

#[test]
fn copy_paste_within_and_across_scenes() {
    let mut doc = demo();
    let avatar = scene_index(&doc, "avatar");
    let clip = Clipboard::copy(
        &doc.show().scenes[avatar],
        &[id("cam"), id("scope"), id("key"), id("out")],
    );
    assert_eq!(clip.edges.len(), 2, "cam->scope and scope->key");
    // Into the same scene: every pasted node is new, the wires follow them.
    let created = doc
        .apply(Edit::Paste {
            scene: avatar,
            clip: clip.clone(),
            offset: (40.0, 40.0),
        })
        .expect("pasted")
        .created;
    assert_eq!(created.len(), 3, "the second output is skipped");
    let s = &doc.show().scenes[avatar];
    for c in &created {
        assert!(!["cam", "scope", "key"].contains(&c.as_str()));
    }
    assert_eq!(
        s.edges
            .iter()
            .filter(|e| created.contains(&e.from) && created.contains(&e.to))
            .count(),
        2
    );
    // Into a scene without them: the camera and Scope keep their ids (one source), the key is new.
    let test = scene_index(&doc, "test");
    let created = doc
        .apply(Edit::Paste {
            scene: test,
            clip,
            offset: (0.0, 0.0),
        })
        .expect("pasted")
        .created;
    assert!(created.contains(&id("cam")) && created.contains(&id("scope")));
    assert!(!created.contains(&id("key")));
    assert_eq!(
        doc.apply(Edit::Paste {
            scene: 0,
            clip: Clipboard::default(),
            offset: (0.0, 0.0)
        }),
        Err(EditError::EmptyClipboard)
    );
}

#[test]
fn nan_positions_are_refused() {
    let mut doc = demo();
    assert!(matches!(
        doc.apply(Edit::MoveNode {
            scene: 0,
            node: id("bg"),
            pos: (f32::NAN, 0.0)
        }),
        Err(EditError::BadPosition(..))
    ));
}

#[test]
fn save_is_atomic_keeps_a_backup_and_loads_back_equal() {
    let dir = std::env::temp_dir().join(format!("document-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("show.ron");
    let original = show::io::to_string(demo().show()).expect("text");
    std::fs::write(&path, &original).expect("write");
    let show = show::io::load(&path).expect("load");
    let mut doc = Document::new(show, Some(path.clone()));
    assert!(!doc.is_dirty());
    doc.apply(Edit::AddNode {
        scene: 0,
        kind: NodeKind::Blend(Blend::default()),
        pos: (1.5, -2.0),
    })
    .expect("added");
    assert!(doc.is_dirty());
    let text = doc.save().expect("saved");
    assert!(!doc.is_dirty());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    assert_eq!(
        std::fs::read_to_string(show::io::backup_path(&path)).expect("backup"),
        original
    );
    let back = show::io::load(&path).expect("loads back");
    assert_eq!(&back, doc.show());
    // Round trip: saving what was loaded gives the same text.
    assert_eq!(show::io::to_string(&back).expect("text"), text);
    // No temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_failed_save_keeps_the_document_dirty() {
    let mut doc = Document::new(
        show::io::load(&demo_path()).expect("demo"),
        Some(PathBuf::from("/proc/no-such-dir/show.ron")),
    );
    doc.apply(Edit::MoveNode {
        scene: 0,
        node: id("bg"),
        pos: (1.0, 1.0),
    })
    .expect("moved");
    let err = doc.save().expect_err("cannot save there");
    assert!(
        err.to_string().contains("/proc/no-such-dir/show.ron"),
        "{err}"
    );
    assert!(doc.is_dirty());
    let mut fresh = Document::new(Show::new((1920, 1080)), None);
    assert!(matches!(fresh.save(), Err(document::SaveError::NoPath)));
}

#[test]
fn an_external_reload_is_clean_and_undoable() {
    let mut doc = demo();
    let mut other = doc.show().clone();
    other.scenes[0].name = "opening".into();
    doc.replace_from_disk(other.clone());
    assert!(!doc.is_dirty());
    assert_eq!(doc.show(), &other);
    assert!(doc.undo());
    assert_eq!(doc.show().scenes[0].name, "intro");
    assert!(doc.is_dirty(), "what is on disk now differs");
}

#[test]
fn a_surface_edit_changes_the_show_without_an_undo_step() {
    let mut doc = demo();
    let scene = 0;
    let before = doc.undo_steps();
    doc.apply_live(Edit::RenameScene {
        scene,
        name: "from osc".into(),
    })
    .expect("accepted");
    assert_eq!(doc.show().scenes[scene].name, "from osc");
    assert!(doc.is_dirty());
    assert_eq!(doc.undo_steps(), before);
    assert!(!doc.can_undo());
}

#[test]
fn midi_mappings_follow_a_renamed_scene_and_go_with_a_removed_one() {
    use show::midi::{MidiControl, MidiMapping, MidiTarget};
    let mut doc = demo();
    let name = doc.show().scenes[1].name.clone();
    let pad = |n| MidiControl::Note {
        channel: 10,
        number: n,
    };
    doc.apply(Edit::SetMidi(vec![
        MidiMapping {
            control: pad(36),
            target: MidiTarget::Program(name),
            range: None,
        },
        MidiMapping {
            control: pad(37),
            target: MidiTarget::Take,
            range: None,
        },
    ]))
    .unwrap();
    doc.apply(Edit::RenameScene {
        scene: 1,
        name: "renamed".into(),
    })
    .unwrap();
    assert_eq!(
        doc.show().midi[0].target,
        MidiTarget::Program("renamed".into())
    );
    doc.apply(Edit::RemoveScene { scene: 1 }).unwrap();
    assert_eq!(doc.show().midi.len(), 1);
    assert_eq!(doc.show().midi[0].target, MidiTarget::Take);
    assert!(doc.undo());
    assert_eq!(
        doc.show().midi.len(),
        2,
        "undo brings the mapping back with the scene"
    );
}
