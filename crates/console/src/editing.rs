//! One frame's editing work on the console: the top bar, the graph panel and what its
//! events do to the document (selection, edits as undo steps, refusals shown as a toast).

use document::{Document, Edit};
use egui::RichText;
use show::NodeId;

use crate::{Console, Live, TOAST_SECS, WireFrom, graph, graph_view, palette, style};

impl Console {
    pub(crate) fn top_bar(&mut self, ui: &mut egui::Ui, doc: &mut Document, live: &Live) {
        ui.horizontal(|ui| {
            let name = doc
                .path()
                .and_then(|p| p.file_name())
                .map_or("untitled show".to_owned(), |n| {
                    n.to_string_lossy().into_owned()
                });
            let title = if doc.is_dirty() {
                format!("{name} *")
            } else {
                name
            };
            ui.label(RichText::new(title).strong());
            ui.separator();
            if ui
                .add_enabled(doc.can_undo(), egui::Button::new("Undo"))
                .on_hover_text("Ctrl+Z")
                .clicked()
            {
                doc.undo();
            }
            if ui
                .add_enabled(doc.can_redo(), egui::Button::new("Redo"))
                .on_hover_text("Ctrl+Shift+Z")
                .clicked()
            {
                doc.redo();
            }
            ui.separator();
            if ui.button("Frame all").on_hover_text("F").clicked() {
                self.graph.frame = Some(graph::FrameTarget::All);
            }
            ui.checkbox(&mut self.thumbnails, "Thumbnails");
            if ui
                .button("Keys")
                .on_hover_text("Show and change the show keys")
                .clicked()
            {
                self.keys_window.open = !self.keys_window.open;
            }
            ui.separator();
            let colour = style::health(live.health);
            ui.label(
                RichText::new(format!(" {} ", live.health.label()))
                    .strong()
                    .color(egui::Color32::WHITE)
                    .background_color(colour),
            )
            .on_hover_text("The show's health: the worst of the compositor and its Scope nodes");
            if let Some(e) = &live.show_error {
                ui.colored_label(style::ERROR, e);
            }
            if let Some((message, _)) = &self.toast {
                ui.colored_label(style::ERROR, message);
            }
            // One line, whatever the number of sources: a top bar that grows moves every
            // panel under it while the show plays. The whole line is in the tooltip.
            ui.add(egui::Label::new(RichText::new(&live.status).weak()).truncate())
                .on_hover_text(&live.status);
        });
    }

    pub(crate) fn graph_panel(&mut self, ui: &mut egui::Ui, doc: &mut Document, live: &Live) {
        let ctx = ui.ctx().clone();
        let Some(scene) = doc.show().scenes.get(self.edited_scene) else {
            return;
        };
        self.graph.sync(self.edited_scene, scene, doc.revision());
        // Undo or a removal elsewhere may have taken selected nodes away.
        self.selected.retain(|id| scene.nodes.contains_key(id));
        let scene = scene.clone();
        let out = graph_view::show(
            &mut self.graph,
            ui,
            &scene,
            self.edited_scene,
            live,
            self.thumbnails,
            &self.selected,
        );
        self.pointer_selection(&ctx, out.background_clicked);
        if out.snarl_selected != self.graph.snarl_selection {
            if !out.snarl_selected.is_empty() {
                self.selected = out.snarl_selected.clone();
            }
            self.graph.snarl_selection = out.snarl_selected;
        }
        self.apply_all(&ctx, doc, out.edits);
        if let Some(id) = out.view {
            self.viewed = Some(id);
        }
        if let Some(id) = out.delete {
            self.apply_all(
                &ctx,
                doc,
                vec![Edit::RemoveNodes {
                    scene: self.edited_scene,
                    ids: vec![id],
                }],
            );
        }
        if let Some((pos, wire)) = out.palette {
            let screen = self.graph.to_screen(pos);
            self.palette.open(&ctx, pos, screen, wire);
        }
        if !ctx.input(|i| i.pointer.any_down()) {
            let moves: Vec<Edit> = self
                .graph
                .moved()
                .into_iter()
                .map(|(node, p)| Edit::MoveNode {
                    scene: self.edited_scene,
                    node,
                    pos: (p.x, p.y),
                })
                .collect();
            self.apply_all(&ctx, doc, moves);
        }
    }

    /// Click selects a node, Shift/Ctrl-click adds or removes it, a click on the canvas
    /// clears; double-click views it.
    pub(crate) fn pointer_selection(&mut self, ctx: &egui::Context, background_clicked: bool) {
        if self.palette.is_open() {
            return;
        }
        let (clicked, double, pos, mods) = ctx.input(|i| {
            (
                i.pointer.primary_clicked(),
                i.pointer
                    .button_double_clicked(egui::PointerButton::Primary),
                i.pointer.interact_pos(),
                i.modifiers,
            )
        });
        let Some(pos) = pos.filter(|p| self.graph.view_rect.contains(*p)) else {
            return;
        };
        if !clicked {
            return;
        }
        match self.graph.node_at(pos) {
            Some(id) => {
                if mods.shift || mods.command {
                    if let Some(i) = self.selected.iter().position(|s| *s == id) {
                        self.selected.remove(i);
                    } else {
                        self.selected.push(id.clone());
                    }
                } else {
                    self.selected = vec![id.clone()];
                }
                if double {
                    self.viewed = Some(id);
                }
            }
            None if background_clicked && !mods.shift && !mods.command => self.selected.clear(),
            None => {}
        }
    }

    /// Applies edits as one undo step; a refusal is shown and the rest are skipped.
    pub(crate) fn apply_all(
        &mut self,
        ctx: &egui::Context,
        doc: &mut Document,
        edits: Vec<Edit>,
    ) -> Vec<NodeId> {
        let mut created = Vec::new();
        if edits.is_empty() {
            return created;
        }
        let group = edits.len() > 1 && !doc.in_gesture();
        if group {
            doc.begin_gesture();
        }
        for edit in edits {
            match doc.apply(edit) {
                Ok(a) => created.extend(a.created),
                Err(e) => {
                    self.refuse(ctx, e.to_string());
                    self.graph.invalidate();
                    break;
                }
            }
        }
        if group {
            doc.end_gesture();
        }
        created
    }

    pub(crate) fn add_from_palette(
        &mut self,
        ctx: &egui::Context,
        doc: &mut Document,
        chosen: palette::Chosen,
    ) {
        let scene = self.edited_scene;
        let kind = (chosen.kind.make_default)();
        doc.begin_gesture();
        let created = self.apply_all(
            ctx,
            doc,
            vec![Edit::AddNode {
                scene,
                kind: kind.clone(),
                pos: (chosen.pos.x, chosen.pos.y),
            }],
        );
        if let Some(new) = created.first().cloned() {
            let wire = match chosen.wire {
                Some(WireFrom::Output(from, ty)) => kind
                    .inputs()
                    .into_iter()
                    .find(|(_, t)| *t == ty)
                    .map(|(port, _)| Edit::Connect {
                        scene,
                        from,
                        to: new.clone(),
                        port,
                    }),
                Some(WireFrom::Input(to, port, _)) => Some(Edit::Connect {
                    scene,
                    from: new.clone(),
                    to,
                    port,
                }),
                None => None,
            };
            self.apply_all(ctx, doc, wire.into_iter().collect());
            self.selected = vec![new];
        }
        doc.end_gesture();
    }

    pub(crate) fn refuse(&mut self, ctx: &egui::Context, message: String) {
        self.toast = Some((message, ctx.input(|i| i.time)));
        ctx.request_repaint_after(std::time::Duration::from_secs_f64(TOAST_SECS + 0.1));
    }

    pub(crate) fn edit_scene(&mut self, scene: usize) {
        if scene != self.edited_scene {
            self.edited_scene = scene;
            self.selected.clear();
            self.palette.close();
        }
    }
}
