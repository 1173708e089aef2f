//! Keyboard shortcuts, read before any widget so they act on last frame's focus.
//!
//! Show keys come from the [`Keymap`] (defaults: 1–9 program, Shift+1–9 preview, Space take,
//! Enter auto, `[`/`]` T-bar, F1–F9 presets). Only Ctrl+S works while typing: digits, Delete,
//! Tab and Ctrl+Z/C/V belong to a focused text field (a scene name, a prompt), never to the show.

use document::{Clipboard, Document, Edit};
use egui::{Event, Key, KeyboardShortcut, Modifiers};

use crate::graph::FrameTarget;
use crate::keymap::{KeyAction, TBAR_STEP};
use crate::{Action, Console, Live};

/// Where pasted and duplicated nodes land, relative to the originals.
const PASTE_OFFSET: (f32, f32) = (40.0, 40.0);

pub(crate) fn handle(
    c: &mut Console,
    ctx: &egui::Context,
    doc: &mut Document,
    live: &Live,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let shortcut = |m, k| KeyboardShortcut::new(m, k);
    let cmd = Modifiers::COMMAND;
    let cmd_shift = Modifiers::COMMAND | Modifiers::SHIFT;
    if ctx.input_mut(|i| i.consume_shortcut(&shortcut(cmd, Key::S))) {
        actions.push(Action::Save);
    }
    if ctx.text_edit_focused()
        || c.dialog != crate::dialogs::Dialog::None
        || c.keys_window.is_capturing()
    {
        return actions;
    }
    let (redo, undo, copy, paste, duplicate) = ctx.input_mut(|i| {
        let redo = i.consume_shortcut(&shortcut(cmd_shift, Key::Z))
            || i.consume_shortcut(&shortcut(cmd, Key::Y));
        let undo = i.consume_shortcut(&shortcut(cmd, Key::Z));
        let copy = i.consume_shortcut(&shortcut(cmd, Key::C))
            || i.events.iter().any(|e| matches!(e, Event::Copy));
        let paste = i.consume_shortcut(&shortcut(cmd, Key::V))
            || i.events.iter().any(|e| matches!(e, Event::Paste(_)));
        let duplicate = i.consume_shortcut(&shortcut(cmd, Key::D));
        (redo, undo, copy, paste, duplicate)
    });
    if redo {
        doc.redo();
    } else if undo {
        doc.undo();
    }
    let scene = c.edited_scene;
    if copy
        && !c.selected.is_empty()
        && let Some(s) = doc.show().scenes.get(scene)
    {
        c.clipboard = Clipboard::copy(s, &c.selected);
    }
    // Paste pastes the clipboard; duplicate pastes a fresh copy of the selection (leaving the
    // clipboard alone). Both select what they created.
    let clip = if paste && !c.clipboard.is_empty() {
        Some(c.clipboard.clone())
    } else if duplicate && !c.selected.is_empty() {
        doc.show()
            .scenes
            .get(scene)
            .map(|s| Clipboard::copy(s, &c.selected))
    } else {
        None
    };
    if let Some(clip) = clip {
        let created = c.apply_all(
            ctx,
            doc,
            vec![Edit::Paste {
                scene,
                clip,
                offset: PASTE_OFFSET,
            }],
        );
        if !created.is_empty() {
            c.selected = created;
        }
    }
    let plain = |k| ctx.input_mut(|i| i.consume_key(Modifiers::NONE, k));
    if (plain(Key::Delete) || plain(Key::Backspace)) && !c.selected.is_empty() {
        let ids = std::mem::take(&mut c.selected);
        c.apply_all(ctx, doc, vec![Edit::RemoveNodes { scene, ids }]);
    }
    if plain(Key::F) {
        c.graph.frame = Some(FrameTarget::All);
    }
    if ctx.input_mut(|i| i.consume_key(Modifiers::SHIFT, Key::F)) && !c.selected.is_empty() {
        c.graph.frame = Some(FrameTarget::Nodes(c.selected.clone()));
    }
    if !c.palette.is_open() && plain(Key::Tab) {
        let pointer = ctx.input(|i| i.pointer.hover_pos());
        let screen = pointer
            .filter(|p| c.graph.view_rect.contains(*p))
            .unwrap_or_else(|| c.graph.view_rect.center());
        let at = c.graph.to_graph(screen);
        c.palette.open(ctx, at, screen, None);
    }
    if !c.palette.is_open() {
        // Shifted chords first: a plain-key match ignores an extra Shift.
        let mut keys = c.keymap.keys.clone();
        keys.sort_by_key(|(_, chord)| !chord.shift);
        for (action, chord) in keys {
            let Some(key) = chord.key() else { continue };
            let hit = if chord.shift && !chord.ctrl && !chord.alt {
                shifted(ctx, key)
            } else {
                ctx.input_mut(|i| i.consume_key(chord.modifiers(), key))
            };
            if hit && let Some(a) = key_action(c, ctx, doc, live, action) {
                actions.push(a);
            }
        }
    }
    actions
}

/// What a key's action asks for; `None` when it names something the show does not have (or
/// it was done here: a preset is an edit of the program scene).
fn key_action(
    c: &mut Console,
    ctx: &egui::Context,
    doc: &mut Document,
    live: &Live,
    action: KeyAction,
) -> Option<Action> {
    let scenes = doc.show().scenes.len();
    let scene = |n: u8| Some(usize::from(n).checked_sub(1)?).filter(|i| *i < scenes);
    let picked = c.studio.picked;
    match action {
        KeyAction::Program(n) => scene(n).map(Action::Cut),
        KeyAction::Preview(n) => scene(n).map(Action::Preview),
        KeyAction::Take => live.preview_scene.map(|_| Action::Take),
        KeyAction::Auto => live.preview_scene.map(|_| Action::Auto(picked)),
        KeyAction::TBarUp => live
            .preview_scene
            .map(|_| Action::TBar((live.tbar + TBAR_STEP).min(1.0), picked)),
        KeyAction::TBarDown => live
            .preview_scene
            .map(|_| Action::TBar((live.tbar - TBAR_STEP).max(0.0), picked)),
        KeyAction::Fullscreen => Some(Action::ToggleFullscreen),
        KeyAction::Preset(n) => {
            let program = live.program_scene;
            let preset = doc
                .show()
                .presets
                .prompts
                .get(usize::from(n).checked_sub(1)?)?
                .clone();
            let s = doc.show().scenes.get(program)?;
            let (id, _) = s
                .nodes
                .iter()
                .find(|(_, n)| matches!(n.kind, show::NodeKind::Scope(_)))?;
            let params = crate::effective_params(s, id)?;
            if let Err(e) = doc.apply(Edit::SetSceneScope {
                scene: program,
                scope: Some(preset.apply_to(&params)),
            }) {
                c.refuse(ctx, e.to_string());
            }
            None
        }
    }
}

/// Shift and `key`, matched by the key's place on the keyboard as well: Shift+1 is "!" on
/// most layouts, and the operator means the key marked 1.
fn shifted(ctx: &egui::Context, key: Key) -> bool {
    ctx.input_mut(|i| {
        let at = i.events.iter().position(|e| {
            matches!(e, Event::Key { key: k, physical_key, pressed: true, repeat: false, modifiers, .. }
                if modifiers.shift_only() && (*k == key || *physical_key == Some(key)))
        });
        at.map(|at| i.events.remove(at)).is_some()
    })
}
