//! A bounded channel whose sender never blocks: when it is full, the oldest message is dropped
//! (newest wins), the rule for live frames and for results nobody has taken yet.

use crossbeam_channel::{Receiver, Sender, TrySendError};

/// The sending end; it also holds a receiver, so it can drop the oldest message itself.
#[derive(Debug)]
pub struct NewestSender<T> {
    tx: Sender<T>,
    rx: Receiver<T>,
}

impl<T> Clone for NewestSender<T> {
    fn clone(&self) -> Self {
        NewestSender {
            tx: self.tx.clone(),
            rx: self.rx.clone(),
        }
    }
}

/// A channel of `capacity` (at least 1) messages where [`NewestSender::send`] replaces the
/// oldest one when it is full.
pub fn newest_channel<T>(capacity: usize) -> (NewestSender<T>, Receiver<T>) {
    let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
    (NewestSender { tx, rx: rx.clone() }, rx)
}

impl<T> NewestSender<T> {
    /// Queues `msg` without blocking. Returns how many older messages were dropped for it.
    pub fn send(&self, mut msg: T) -> usize {
        let mut dropped = 0;
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => return dropped,
                Err(TrySendError::Full(m)) => {
                    // A receiver may take one at the same time: then nothing is dropped here.
                    if self.rx.try_recv().is_ok() {
                        dropped += 1;
                    }
                    msg = m;
                }
                // Unreachable while `self.rx` lives; nothing to deliver to either way.
                Err(TrySendError::Disconnected(_)) => return dropped,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_channel_keeps_the_newest() {
        let (tx, rx) = newest_channel(2);
        assert_eq!(tx.send(1), 0);
        assert_eq!(tx.send(2), 0);
        assert_eq!(tx.send(3), 1, "1 dropped for 3");
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(tx.send(4), 0);
        assert_eq!(rx.try_recv(), Ok(4));
    }
}
