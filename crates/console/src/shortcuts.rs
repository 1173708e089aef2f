//! Keyboard shortcuts, read before any widget so they act on last frame's focus.
//!
//! Keys 1–9 put a scene on program, Shift+1–9 in preview. Only Ctrl+S works while typing: digits, Delete, Tab and Ctrl+Z/C/V belong to a focused
//! text field (a scene name, a prompt), never to the show.

use document::{Clipboard, Document, Edit};
use egui::{Event, Key, KeyboardShortcut, Modifiers};

use crate::graph::FrameTarget;
use crate::{Action, Console};

const DIGITS: [Key; 9] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
    Key::Num9,
];

/// Where pasted and duplicated nodes land, relative to the originals.
const PASTE_OFFSET: (f32, f32) = (40.0, 40.0);

pub(crate) fn handle(c: &mut Console, ctx: &egui::Context, doc: &mut Document) -> Vec<Action> {
    let mut actions = Vec::new();
    let shortcut = |m, k| KeyboardShortcut::new(m, k);
    let cmd = Modifiers::COMMAND;
    let cmd_shift = Modifiers::COMMAND | Modifiers::SHIFT;
    if ctx.input_mut(|i| i.consume_shortcut(&shortcut(cmd, Key::S))) {
        actions.push(Action::Save);
    }
    if ctx.text_edit_focused() || c.dialog != crate::dialogs::Dialog::None {
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
        let scenes = doc.show().scenes.len();
        for (n, key) in DIGITS.iter().enumerate().take(scenes) {
            // Shifted first: a plain-key match ignores an extra Shift.
            if shifted(ctx, *key) {
                actions.push(Action::Preview(n));
            } else if plain(*key) {
                actions.push(Action::Cut(n));
            }
        }
    }
    actions
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
