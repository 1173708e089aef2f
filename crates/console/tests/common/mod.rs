//! A harness that drives the real `Console::ui` with real input events.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use console::{Action, Console, Live, PinKey};
use document::Document;
use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use show::NodeId;

pub struct State {
    pub console: Console,
    pub doc: Document,
    pub actions: Vec<Action>,
    pub program_scene: usize,
    pub preview_scene: Option<usize>,
    /// The T-bar as the host reports it; tests that drive it play the host's part.
    pub tbar: f32,
    pub scope: HashMap<NodeId, console::ScopeLive>,
    pub node_errors: HashMap<(usize, NodeId), String>,
    /// A picture for the program monitor, the viewer and every thumbnail.
    pub picture: Option<(egui::TextureId, [u32; 2])>,
    /// What the host is learning a MIDI control for (it follows `Action::MidiLearn`).
    pub midi_learning: Option<show::midi::MidiTarget>,
    /// The recordings and streams the host reports.
    pub outputs: Vec<console::OutputLive>,
    /// The image files the host found near the show.
    pub media: Vec<PathBuf>,
}

pub fn demo_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenes/demo.ron"
    ))
}

pub fn demo() -> Document {
    let path = demo_path();
    let show = show::io::load(&path).unwrap();
    Document::new(show, Some(path))
}

pub fn harness(doc: Document) -> Harness<'static, State> {
    harness_with(Harness::builder(), doc)
}

pub fn harness_with(
    builder: egui_kittest::HarnessBuilder<State>,
    doc: Document,
) -> Harness<'static, State> {
    let state = State {
        console: Console::new(),
        doc,
        actions: Vec::new(),
        program_scene: 0,
        preview_scene: None,
        tbar: 0.0,
        scope: HashMap::new(),
        node_errors: HashMap::new(),
        picture: None,
        midi_learning: None,
        outputs: Vec::new(),
        media: Vec::new(),
    };
    let mut h = builder.with_size(egui::vec2(1600.0, 900.0)).build_ui_state(
        |ui, s: &mut State| {
            let picture = s.picture.map(|(texture, size)| console::Picture {
                texture,
                size,
                rgba: None,
            });
            let thumbnails = match s.picture {
                Some((t, _)) => s.doc.show().scenes[s.console.edited_scene()]
                    .nodes
                    .keys()
                    .map(|id| (id.clone(), t))
                    .collect(),
                None => HashMap::new(),
            };
            let scene_pictures = match s.picture {
                Some((t, _)) => (0..s.doc.show().scenes.len()).map(|i| (i, t)).collect(),
                None => HashMap::new(),
            };
            let live = Live {
                scene_pictures,
                program_scene: s.program_scene,
                program: picture,
                preview_scene: s.preview_scene,
                preview: picture,
                tbar: s.tbar,
                scope: s.scope.clone(),
                transitioning: s.tbar > 0.0,
                viewer: picture,
                thumbnails,
                node_errors: s.node_errors.clone(),
                status: "60 fps".to_owned(),
                midi_status: "MIDI: unavailable".to_owned(),
                midi_learning: s.midi_learning.clone(),
                outputs: s.outputs.clone(),
                media: s.media.clone().into(),
                ..Default::default()
            };
            let actions = s.console.ui(ui.ctx(), &mut s.doc, &live);
            // The host's part for the T-bar: the end or 0 ends the mix and the bar rests at 0.
            for a in &actions {
                match a {
                    Action::TBar(p, _) => s.tbar = if *p >= 1.0 || *p <= 0.0 { 0.0 } else { *p },
                    Action::MidiLearn(t) => s.midi_learning = t.clone(),
                    _ => {}
                }
            }
            s.actions.extend(actions);
        },
        state,
    );
    // Framing the scene takes a frame to measure the nodes.
    h.run_steps(4);
    h
}

pub fn pin(h: &Harness<State>, key: &PinKey) -> Pos2 {
    h.state()
        .console
        .pin_positions()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("no pin {key:?} on screen"))
}

pub fn press(h: &Harness<State>, pos: Pos2, pressed: bool) {
    h.event(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    });
}

/// Press at `from`, move in steps, release at `to`: a real pointer drag.
pub fn drag(h: &mut Harness<State>, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.step();
    press(h, from, true);
    h.step();
    for i in 1..=6 {
        let t = i as f32 / 6.0;
        h.hover_at(from + (to - from) * t);
        h.step();
    }
    press(h, to, false);
    h.step();
    h.run_steps(3);
}

pub fn click_at(h: &mut Harness<State>, pos: Pos2) {
    h.hover_at(pos);
    h.step();
    press(h, pos, true);
    h.step();
    press(h, pos, false);
    h.step();
    h.run_steps(2);
}

/// Clicks a node's header (its title row).
pub fn click_node(h: &mut Harness<State>, id: &str) {
    let rect = h
        .state()
        .console
        .node_rect(&NodeId::from(id))
        .unwrap_or_else(|| panic!("node {id} not on screen"));
    click_at(h, rect.left_top() + egui::vec2(rect.width() / 2.0, 12.0));
}

pub fn type_text(h: &mut Harness<State>, text: &str) {
    h.event(Event::Text(text.to_owned()));
    h.run_steps(2);
}
