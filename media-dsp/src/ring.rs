//! Bounded single-producer single-consumer rings between the media thread and the event loop.
//!
//! `ring(capacity)` allocates once and returns two handles. Neither handle is `Clone`, so the type
//! system keeps each side to one thread: exactly one producer and one consumer. Push and pop never
//! allocate, lock or block, which is what the media thread needs.
//!
//! The storage is crossbeam's bounded lock-free queue. It is multi-producer capable, which costs a
//! compare-and-swap per operation that a dedicated SPSC ring would not need; Step 2 (the media-path
//! step) replaces the storage with our own SPSC ring and model-checks its orderings. The API here is
//! the one that stays.

use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

/// Creates a ring holding up to `capacity` items (at least 1) and splits it into its two ends.
pub fn ring<T: Send>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    let q = Arc::new(ArrayQueue::new(capacity.max(1)));
    (Producer { q: Arc::clone(&q) }, Consumer { q })
}

/// The sending end of a ring.
#[derive(Debug)]
pub struct Producer<T> {
    q: Arc<ArrayQueue<T>>,
}

/// The receiving end of a ring.
#[derive(Debug)]
pub struct Consumer<T> {
    q: Arc<ArrayQueue<T>>,
}

impl<T> Producer<T> {
    /// Appends `item`, or hands it back when the ring is full.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        self.q.push(item)
    }

    /// Free slots right now (the consumer may free more at any moment).
    pub fn free(&self) -> usize {
        self.q.capacity() - self.q.len()
    }

    /// Whether the consumer's handle has been dropped.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.q) == 1
    }
}

impl<T> Consumer<T> {
    /// Takes the oldest item, if any.
    pub fn pop(&mut self) -> Option<T> {
        self.q.pop()
    }

    /// Items waiting right now (the producer may add more at any moment).
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// Whether the producer's handle has been dropped.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.q) == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_full() {
        let (mut p, mut c) = ring::<u32>(3);
        assert!(c.pop().is_none());
        for i in 0..3 {
            p.push(i).unwrap();
        }
        assert_eq!(p.push(9), Err(9));
        assert_eq!(p.free(), 0);
        assert_eq!(c.pop(), Some(0));
        p.push(3).unwrap();
        assert_eq!((c.pop(), c.pop(), c.pop(), c.pop()), (Some(1), Some(2), Some(3), None));
    }

    #[test]
    fn two_threads_keep_order_and_lose_nothing() {
        const N: u64 = 200_000;
        let (mut p, mut c) = ring::<u64>(64);
        let t = std::thread::spawn(move || {
            for i in 0..N {
                let mut item = i;
                loop {
                    match p.push(item) {
                        Ok(()) => break,
                        Err(back) => {
                            item = back;
                            std::thread::yield_now();
                        }
                    }
                }
            }
        });
        let mut expect = 0;
        while expect < N {
            match c.pop() {
                Some(v) => {
                    assert_eq!(v, expect);
                    expect += 1;
                }
                None => std::thread::yield_now(),
            }
        }
        t.join().unwrap();
        assert!(c.is_abandoned());
    }
}
