//! Render-world readback: copies of the program output and of rendered Scope feeds go into a
//! small ring of mappable buffers per tap and are mapped asynchronously, so the render thread
//! never waits for the GPU. Each completed copy is sent to the main world (newest wins there);
//! a copy that finds every buffer of its ring still in flight is dropped and counted. The main
//! world's end ([`receive_readback`]) turns the copies into pictures.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bevy::prelude::*;
use bevy::render::render_resource::{
    Buffer, BufferAsyncError, BufferDescriptor, BufferUsages, CommandEncoder, Extent3d, MapMode,
    PollType, TexelCopyBufferInfo, TexelCopyBufferLayout, Texture,
};
use bevy::render::renderer::RenderDevice;
use crossbeam_channel::{Receiver, TryRecvError};
use media::NewestSender;
use show::NodeId;

use super::{LatestProgramFrame, PreviewFrames, ScopeFeedFrames};

/// Buffers per tap: one being written by the GPU, one being mapped, one spare. More would only
/// add latency; fewer would drop frames whenever the GPU is a frame behind.
pub(super) const RING_LEN: usize = 3;

/// What a copy reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Tap {
    Program,
    /// The rendered input of this Scope node.
    Feed(NodeId),
    /// A preview target image.
    Preview(AssetId<Image>),
}

/// Copies dropped because their tap's ring had no free buffer (shared with the main world's
/// [`super::ReadbackDrops`]).
pub(super) type DropCounter = Arc<AtomicU64>;

/// A fixed number of reusable buffers of one picture size. Generic over the buffer so the
/// bookkeeping is testable without a GPU.
#[derive(Debug)]
pub(super) struct Ring<B> {
    size: (u32, u32),
    free: Vec<B>,
    /// Buffers made for this size, free or in flight.
    made: usize,
}

impl<B> Ring<B> {
    pub(super) fn new(size: (u32, u32)) -> Ring<B> {
        Ring {
            size,
            free: Vec::new(),
            made: 0,
        }
    }

    /// A buffer for a `size` picture: a free one, a new one while fewer than [`RING_LEN`]
    /// exist, or `None` when all are in flight. A new size starts a new ring; buffers of the
    /// old size are not taken back.
    pub(super) fn take(&mut self, size: (u32, u32), make: impl FnOnce() -> B) -> Option<B> {
        if self.size != size {
            *self = Ring::new(size);
        }
        if let Some(b) = self.free.pop() {
            return Some(b);
        }
        if self.made < RING_LEN {
            self.made += 1;
            return Some(make());
        }
        None
    }

    /// Returns a buffer whose copy has been read (or failed). One of another size is dropped.
    pub(super) fn give_back(&mut self, size: (u32, u32), buffer: B) {
        if size == self.size && self.free.len() < self.made {
            self.free.push(buffer);
        }
    }

    /// Forgets a buffer that will never come back (its mapping was lost).
    pub(super) fn lose(&mut self, size: (u32, u32)) {
        if size == self.size {
            self.made = self.made.saturating_sub(1);
        }
    }
}

/// One copy between its recording and its arrival in the main world.
struct InFlight {
    tap: Tap,
    frame: u64,
    buffer: Buffer,
    size: (u32, u32),
    padded_row: usize,
}

/// The rings and the copies in flight.
#[derive(Resource, Default)]
pub(super) struct Readbacks {
    rings: HashMap<Tap, Ring<Buffer>>,
    /// Recorded this frame; mapped once the frame is submitted.
    recorded: Vec<InFlight>,
    /// Being mapped, oldest first.
    mapping: Vec<(InFlight, Receiver<Result<(), BufferAsyncError>>)>,
}

impl Readbacks {
    /// Records a copy of all of `texture` (RGBA8, `size`) for `tap`, tagged with `frame`.
    pub(super) fn copy(
        &mut self,
        device: &RenderDevice,
        encoder: &mut CommandEncoder,
        tap: Tap,
        texture: &Texture,
        size: (u32, u32),
        frame: u64,
        drops: &DropCounter,
    ) {
        let ring = self
            .rings
            .entry(tap.clone())
            .or_insert_with(|| Ring::new(size));
        let Some(buffer) = ring.take(size, || readback_buffer(device, size)) else {
            drops.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let padded_row = RenderDevice::align_copy_bytes_per_row(size.0 as usize * 4);
        encoder.copy_texture_to_buffer(
            texture.as_image_copy(),
            TexelCopyBufferInfo {
                buffer: &buffer,
                layout: TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded_row as u32),
                    rows_per_image: None,
                },
            },
            Extent3d {
                width: size.0,
                height: size.1,
                depth_or_array_layers: 1,
            },
        );
        self.recorded.push(InFlight {
            tap,
            frame,
            buffer,
            size,
            padded_row,
        });
    }

    /// Drops the rings of taps not in `live` (a feed that left the plan, readback turned off).
    pub(super) fn keep_taps(&mut self, live: &HashSet<Tap>) {
        self.rings.retain(|t, _| live.contains(t));
    }
}

/// A mappable buffer for a `size` RGBA8 picture with padded rows.
pub(super) fn readback_buffer(device: &RenderDevice, size: (u32, u32)) -> Buffer {
    let padded_row = RenderDevice::align_copy_bytes_per_row(size.0 as usize * 4);
    device.create_buffer(&BufferDescriptor {
        label: Some("compositor_readback"),
        size: (padded_row * size.1 as usize) as u64,
        usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Render-world end of the readback channel (newest wins when the main world falls behind).
#[derive(Resource)]
pub(super) struct ReadbackSender(pub(super) NewestSender<ReadbackMessage>);

/// After the frame is submitted: starts mapping this frame's copies, polls the device without
/// waiting, and sends every copy whose mapping has completed to the main world.
pub(super) fn map_readbacks(
    mut readbacks: ResMut<Readbacks>,
    device: Res<RenderDevice>,
    sender: Res<ReadbackSender>,
) {
    let Readbacks {
        rings,
        recorded,
        mapping,
    } = &mut *readbacks;
    for f in recorded.drain(..) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        f.buffer.slice(..).map_async(MapMode::Read, move |r| {
            // The receiver lives in `mapping` until this arrives or its ring is gone.
            let _ = tx.send(r);
        });
        mapping.push((f, rx));
    }
    if mapping.is_empty() {
        return;
    }
    if let Err(e) = device.poll(PollType::Poll) {
        warn!("readback: device poll failed: {e}");
    }
    let mut waiting = Vec::with_capacity(mapping.len());
    for (f, rx) in mapping.drain(..) {
        let outcome = match rx.try_recv() {
            Err(TryRecvError::Empty) => {
                waiting.push((f, rx));
                continue;
            }
            Ok(r) => r,
            Err(TryRecvError::Disconnected) => {
                warn!("readback: a mapping was lost");
                if let Some(ring) = rings.get_mut(&f.tap) {
                    ring.lose(f.size);
                }
                continue;
            }
        };
        match outcome {
            Ok(()) => {
                let bytes = f.buffer.slice(..).get_mapped_range().to_vec();
                f.buffer.unmap();
                sender.0.send(ReadbackMessage {
                    frame: f.frame,
                    tap: f.tap.clone(),
                    picture: ReadbackFrame {
                        width: f.size.0,
                        height: f.size.1,
                        padded_row: f.padded_row,
                        bytes,
                    },
                });
            }
            Err(e) => warn!("readback: mapping failed: {e}"),
        }
        if let Some(ring) = rings.get_mut(&f.tap) {
            ring.give_back(f.size, f.buffer);
        }
    }
    *mapping = waiting;
}

// --- Main world ---

/// One picture copied out of the GPU, rows still padded to the copy alignment.
pub(super) struct ReadbackFrame {
    width: u32,
    height: u32,
    padded_row: usize,
    bytes: Vec<u8>,
}

impl ReadbackFrame {
    /// Strips the row padding.
    fn into_image(self) -> Option<image::RgbaImage> {
        let row = self.width as usize * 4;
        if self.padded_row < row || self.bytes.len() < self.padded_row * self.height as usize {
            return None;
        }
        let mut out = Vec::with_capacity(row * self.height as usize);
        for r in self
            .bytes
            .chunks(self.padded_row)
            .take(self.height as usize)
        {
            out.extend_from_slice(&r[..row]);
        }
        image::RgbaImage::from_raw(self.width, self.height, out)
    }
}

/// One picture read back from a rendered frame.
pub(super) struct ReadbackMessage {
    /// [`super::FrameClock::frame`] the frame was rendered with.
    frame: u64,
    tap: Tap,
    picture: ReadbackFrame,
}

/// Main-world end of the readback channel.
#[derive(Resource)]
pub(super) struct ReadbackReceiver(pub(super) Receiver<ReadbackMessage>);

/// Applies what the render world sent, oldest first, so the newest frame wins.
pub(super) fn receive_readback(
    rx: Option<Res<ReadbackReceiver>>,
    mut latest: ResMut<LatestProgramFrame>,
    mut feeds: ResMut<ScopeFeedFrames>,
    mut previews: ResMut<PreviewFrames>,
) {
    let Some(rx) = rx else { return };
    while let Ok(msg) = rx.0.try_recv() {
        let frame = msg.frame;
        match (msg.tap, msg.picture.into_image()) {
            (Tap::Program, Some(img)) => latest.0 = Some((frame, img)),
            (Tap::Feed(node), Some(img)) => {
                feeds.0.insert(node, (frame, img));
            }
            (Tap::Preview(image), Some(img)) => {
                previews.0.insert(image, (frame, img));
            }
            (tap, None) => {
                warn!("read-back frame {frame} ({tap:?}) had an unexpected size; dropped")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_reuses_at_most_ring_len_buffers() {
        let mut made = 0;
        let mut ring = Ring::new((4, 4));
        let mut taken: Vec<u32> = (0..RING_LEN)
            .map(|_| {
                ring.take((4, 4), || {
                    made += 1;
                    made
                })
                .expect("a buffer while fewer than RING_LEN exist")
            })
            .collect();
        // All in flight: the next copy is dropped, nothing new is made.
        assert_eq!(ring.take((4, 4), || 99), None);
        ring.give_back((4, 4), taken.remove(0));
        assert_eq!(ring.take((4, 4), || 99), Some(1), "the returned buffer");
        assert_eq!(made, RING_LEN as u32);
    }

    #[test]
    fn ring_restarts_on_a_new_size_and_refuses_old_buffers() {
        let mut ring = Ring::new((4, 4));
        let old = ring.take((4, 4), || 1).expect("first buffer");
        assert_eq!(ring.take((8, 8), || 2), Some(2));
        ring.give_back((4, 4), old);
        assert_eq!(
            ring.take((8, 8), || 3),
            Some(3),
            "old-size buffer not reused"
        );
        // A lost mapping frees its place in the ring.
        ring.take((8, 8), || 4).expect("third buffer");
        assert_eq!(ring.take((8, 8), || 5), None);
        ring.lose((8, 8));
        assert_eq!(ring.take((8, 8), || 6), Some(6));
    }
}
