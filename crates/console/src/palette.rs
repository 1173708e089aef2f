//! The palette: a searchable list of node kinds, grouped by category, for adding nodes.
//!
//! Tab or a right-click on empty canvas opens it at the pointer; dropping a wire on empty
//! canvas opens it filtered to the kinds that can take that wire, and the new node is wired.

use egui::{Id, Key, Pos2, RichText};
use show::spec::{Category, KindSpec, kinds};
use show::{NodeId, PortType};

/// The loose end of a wire dropped on empty canvas.
#[derive(Debug, Clone, PartialEq)]
pub enum WireFrom {
    /// Dragged from a node's output: the new node needs an input of this type.
    Output(NodeId, PortType),
    /// Dragged from input `port` of a node: the new node needs an output of this type.
    Input(NodeId, String, PortType),
}

/// Palette order: the signal flows top to bottom, sources first.
const CATEGORIES: [Category; 7] = [
    Category::Source,
    Category::Key,
    Category::Matte,
    Category::Transform,
    Category::Color,
    Category::Composite,
    Category::Output,
];

#[derive(Debug, Default)]
pub(crate) struct Palette {
    open: Option<Open>,
}

#[derive(Debug)]
struct Open {
    graph_pos: Pos2,
    screen_pos: Pos2,
    filter: String,
    wire: Option<WireFrom>,
    /// The frame it opened in: that frame's click must not close it again.
    frame: u64,
}

/// A kind picked from the palette, to add at `pos` (graph coordinates).
pub(crate) struct Chosen {
    pub kind: &'static KindSpec,
    pub pos: Pos2,
    pub wire: Option<WireFrom>,
}

impl Palette {
    pub fn open(
        &mut self,
        ctx: &egui::Context,
        graph_pos: Pos2,
        screen_pos: Pos2,
        wire: Option<WireFrom>,
    ) {
        self.open = Some(Open {
            graph_pos,
            screen_pos,
            filter: String::new(),
            wire,
            frame: ctx.cumulative_frame_nr(),
        });
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    pub fn close(&mut self) {
        self.open = None;
    }

    /// Draws the palette when open; returns the kind picked this frame.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<Chosen> {
        let open = self.open.as_mut()?;
        let mut chosen = None;
        let mut close = ctx.input(|i| i.key_pressed(Key::Escape));
        let area = egui::Area::new(Id::new("console_palette"))
            .fixed_pos(open.screen_pos)
            .order(egui::Order::Foreground)
            .constrain(true)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_width(220.0);
                    let edit = ui.add(
                        egui::TextEdit::singleline(&mut open.filter)
                            .hint_text("Add node…")
                            .id(Id::new("console_palette_filter")),
                    );
                    if ctx.cumulative_frame_nr() == open.frame {
                        edit.request_focus();
                    }
                    let matching: Vec<&'static KindSpec> = kinds()
                        .iter()
                        .filter(|k| accepts(k, open.wire.as_ref()) && matches(k, &open.filter))
                        .collect();
                    if edit.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                        chosen = CATEGORIES
                            .iter()
                            .flat_map(|c| matching.iter().filter(move |k| k.category == *c))
                            .next()
                            .copied();
                    }
                    egui::ScrollArea::vertical()
                        .max_height(360.0)
                        .show(ui, |ui| {
                            for category in CATEGORIES {
                                let mut in_category = matching
                                    .iter()
                                    .filter(|k| k.category == category)
                                    .peekable();
                                if in_category.peek().is_none() {
                                    continue;
                                }
                                ui.label(RichText::new(category.label()).small().weak());
                                for kind in in_category {
                                    if ui.button(kind.label).on_hover_text(kind.help).clicked() {
                                        chosen = Some(*kind);
                                    }
                                }
                            }
                            if matching.is_empty() {
                                ui.label(RichText::new("No node kind matches").weak());
                            }
                        });
                });
            });
        let clicked_outside = ctx.input(|i| i.pointer.any_click())
            && ctx.cumulative_frame_nr() != open.frame
            && !ctx
                .pointer_interact_pos()
                .is_some_and(|p| area.response.rect.contains(p));
        close |= clicked_outside && chosen.is_none();
        let result = chosen.map(|kind| Chosen {
            kind,
            pos: open.graph_pos,
            wire: open.wire.clone(),
        });
        if close || result.is_some() {
            self.open = None;
        }
        result
    }
}

/// Whether a new node of `kind` can take the dropped wire.
fn accepts(kind: &KindSpec, wire: Option<&WireFrom>) -> bool {
    let node = (kind.make_default)();
    match wire {
        None => true,
        Some(WireFrom::Output(_, ty)) => node.inputs().iter().any(|(_, t)| t == ty),
        Some(WireFrom::Input(_, _, ty)) => node.output() == Some(*ty),
    }
}

fn matches(kind: &KindSpec, filter: &str) -> bool {
    let filter = filter.trim().to_lowercase();
    filter.is_empty()
        || [kind.label, kind.name, kind.category.label()]
            .iter()
            .any(|s| s.to_lowercase().contains(&filter))
}
