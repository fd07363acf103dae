//! Bounded single-producer single-consumer rings between the media thread and the event loop.
//!
//! `ring(capacity)` allocates once and returns two handles. Neither handle is `Clone`, so the type
//! system keeps each side to one thread: exactly one producer and one consumer. Push and pop never
//! allocate, lock or block, which is what the media thread needs.
//!
//! # How it works
//! `capacity` slots and two counters that only grow (wrapping): `tail`, the number of items ever
//! pushed, written only by the producer; `head`, the number ever popped, written only by the
//! consumer. Item `n` lives in slot `n % capacity`. The ring holds `tail - head` items, so it is
//! empty when they are equal and full when they differ by `capacity`. Because each counter has a
//! single writer, the counters need no compare-and-swap: one load of the other side's counter and
//! one store of one's own per operation, and each side caches the other's counter so that most
//! operations do not touch the other side's cache line at all.
//!
//! # Memory orderings
//! - The counters decide which side owns a slot; the slot's own lock (below) only makes the
//!   access safe code and is never contended.
//! - The producer writes the slot, then stores `tail` with **Release**; the consumer loads `tail`
//!   with **Acquire** before reading the slot. So a consumer that sees `tail = n + 1` also sees
//!   the item written into slot `n`.
//! - The consumer moves the item out of the slot, then stores `head` with **Release**; the producer
//!   loads `head` with **Acquire** before writing a slot. So a producer that sees the slot free
//!   also sees the consumer's read of it finished, and never overwrites an item being read.
//! - Each side loads its own counter with **Relaxed**: it is the only writer, so it always sees its
//!   own last store.
//!
//! These orderings are checked under every interleaving the C11 memory model allows by the
//! `loom` model checker (`RUSTFLAGS="--cfg loom" cargo test -p media-dsp --lib ring`, which
//! `cargo xtask test` runs), and `xtask bench ring` measures the ring against crossbeam's
//! `ArrayQueue`, the queue it replaced.
//!
//! Slots: each is a `Mutex<Option<T>>` that is only ever `try_lock`ed. The counters above give
//! each slot to one side at a time, so the `try_lock` always succeeds at once: it never waits and
//! never enters the kernel (one uncontended atomic exchange each way). It stands in for an
//! `UnsafeCell`, which would need unsafe code, and the project keeps unsafe code to `simd` and
//! dahdi-driver's `sys`. A failed `try_lock` would mean the protocol is broken; it is treated as
//! "full" / "empty", never as a wait.

use std::sync::TryLockError;

#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(loom)]
use loom::sync::{Arc, Mutex};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::{Arc, Mutex};

/// Pads a counter to its own cache line, so the producer's stores to `tail` do not slow the
/// consumer's loads of `head` (false sharing).
#[repr(align(64))]
#[derive(Debug)]
struct Padded(AtomicUsize);

struct Shared<T> {
    slots: Box<[Mutex<Option<T>>]>,
    /// Items ever popped; written by the consumer only.
    head: Padded,
    /// Items ever pushed; written by the producer only.
    tail: Padded,
}

impl<T> Shared<T> {
    fn slot(&self, n: usize) -> &Mutex<Option<T>> {
        &self.slots[n % self.slots.len()]
    }
}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("capacity", &self.slots.len()).finish_non_exhaustive()
    }
}

/// Creates a ring holding up to `capacity` items (at least 1) and splits it into its two ends.
pub fn ring<T: Send>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    let capacity = capacity.max(1);
    let slots = (0..capacity).map(|_| Mutex::new(None)).collect();
    let shared = Arc::new(Shared { slots, head: Padded(AtomicUsize::new(0)), tail: Padded(AtomicUsize::new(0)) });
    (
        Producer { shared: Arc::clone(&shared), tail: 0, head_seen: 0, capacity },
        Consumer { shared, head: 0, tail_seen: 0 },
    )
}

/// The sending end of a ring.
#[derive(Debug)]
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// Our own `tail` (the shared one is a copy for the consumer).
    tail: usize,
    /// The consumer's `head` as last loaded: the ring is surely not fuller than this says.
    head_seen: usize,
    capacity: usize,
}

/// The receiving end of a ring.
#[derive(Debug)]
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// Our own `head`.
    head: usize,
    /// The producer's `tail` as last loaded: at least this many items were pushed.
    tail_seen: usize,
}

impl<T> Producer<T> {
    /// Appends `item`, or hands it back when the ring is full.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        if self.tail.wrapping_sub(self.head_seen) == self.capacity {
            // Acquire: pairs with the consumer's Release store of `head`, so its read of the slot
            // we are about to reuse has finished.
            self.head_seen = self.shared.head.0.load(Ordering::Acquire);
            if self.tail.wrapping_sub(self.head_seen) == self.capacity {
                return Err(item);
            }
        }
        // Slot `tail` is ours: the consumer has emptied every slot below `head_seen`, and
        // `tail - head_seen < capacity`, so it will not touch this one until the store below
        // publishes it. The `try_lock` therefore succeeds at once.
        match self.shared.slot(self.tail).try_lock() {
            Ok(mut slot) => *slot = Some(item),
            Err(TryLockError::Poisoned(p)) => *p.into_inner() = Some(item),
            Err(TryLockError::WouldBlock) => return Err(item),
        }
        self.tail = self.tail.wrapping_add(1);
        // Release: publishes the slot's contents along with the new count.
        self.shared.tail.0.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// Free slots right now (the consumer may free more at any moment).
    pub fn free(&self) -> usize {
        // Acquire for the same reason as in `push`: a caller that sees a free slot may fill it.
        let head = self.shared.head.0.load(Ordering::Acquire);
        self.capacity - self.tail.wrapping_sub(head)
    }

    /// Whether the consumer's handle has been dropped.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.shared) == 1
    }
}

impl<T> Consumer<T> {
    /// Takes the oldest item, if any.
    pub fn pop(&mut self) -> Option<T> {
        if self.head == self.tail_seen {
            // Acquire: pairs with the producer's Release store of `tail`, so the item it counts
            // is visible in its slot.
            self.tail_seen = self.shared.tail.0.load(Ordering::Acquire);
            if self.head == self.tail_seen {
                return None;
            }
        }
        // `head < tail_seen`, so the producer filled slot `head` and published it, and will not
        // touch it again until the store below says it has been emptied: `try_lock` succeeds.
        let item = match self.shared.slot(self.head).try_lock() {
            Ok(mut slot) => slot.take(),
            Err(TryLockError::Poisoned(p)) => p.into_inner().take(),
            Err(TryLockError::WouldBlock) => None,
        }?;
        self.head = self.head.wrapping_add(1);
        // Release: the read above happens before the producer may reuse the slot.
        self.shared.head.0.store(self.head, Ordering::Release);
        Some(item)
    }

    /// Items waiting right now (the producer may add more at any moment).
    pub fn len(&self) -> usize {
        self.shared.tail.0.load(Ordering::Acquire).wrapping_sub(self.head)
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the producer's handle has been dropped.
    pub fn is_abandoned(&self) -> bool {
        Arc::strong_count(&self.shared) == 1
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_full() {
        let (mut p, mut c) = ring::<u32>(3);
        assert!(c.pop().is_none());
        assert!(c.is_empty());
        for i in 0..3 {
            p.push(i).unwrap();
        }
        assert_eq!(p.push(9), Err(9));
        assert_eq!((p.free(), c.len()), (0, 3));
        assert_eq!(c.pop(), Some(0));
        assert_eq!(p.free(), 1);
        p.push(3).unwrap();
        assert_eq!((c.pop(), c.pop(), c.pop(), c.pop()), (Some(1), Some(2), Some(3), None));
    }

    #[test]
    fn counters_wrap_around() {
        let (mut p, mut c) = ring::<usize>(4);
        // Start both counters just below the wrap, as if the ring had run for ages.
        let start = usize::MAX - 2;
        p.tail = start;
        p.head_seen = start;
        p.shared.tail.0.store(start, Ordering::Relaxed);
        p.shared.head.0.store(start, Ordering::Relaxed);
        c.head = start;
        c.tail_seen = start;
        for round in 0..10 {
            for i in 0..4 {
                p.push(round * 4 + i).unwrap();
            }
            assert!(p.push(99).is_err());
            for i in 0..4 {
                assert_eq!(c.pop(), Some(round * 4 + i));
            }
            assert_eq!(c.pop(), None);
        }
    }

    #[test]
    fn items_left_in_the_ring_are_dropped_once() {
        let token = std::sync::Arc::new(());
        {
            let (mut p, mut c) = ring(8);
            for _ in 0..5 {
                p.push(std::sync::Arc::clone(&token)).unwrap();
            }
            drop(c.pop());
            assert_eq!(std::sync::Arc::strong_count(&token), 5);
            drop(p);
            assert!(c.is_abandoned());
        }
        assert_eq!(std::sync::Arc::strong_count(&token), 1);
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

/// The model check: every interleaving of a producer and a consumer, with the ring small enough
/// to fill and wrap, must deliver every item once, in order, with its contents intact (loom
/// reports a data race on a slot if an ordering above were too weak).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    #[test]
    fn push_pop_across_threads_under_every_interleaving() {
        loom::model(|| {
            let (mut p, mut c) = ring::<Box<u32>>(2);
            let t = loom::thread::spawn(move || {
                for i in 0..3 {
                    let mut item = Box::new(i);
                    loop {
                        match p.push(item) {
                            Ok(()) => break,
                            Err(back) => {
                                item = back;
                                loom::thread::yield_now();
                            }
                        }
                    }
                }
            });
            let mut expect = 0;
            while expect < 3 {
                match c.pop() {
                    Some(v) => {
                        assert_eq!(*v, expect);
                        expect += 1;
                    }
                    None => loom::thread::yield_now(),
                }
            }
            t.join().unwrap();
        });
    }

    #[test]
    fn items_in_flight_are_dropped_when_both_ends_go() {
        loom::model(|| {
            let (mut p, c) = ring::<Box<u32>>(2);
            let t = loom::thread::spawn(move || {
                let _ = p.push(Box::new(1));
                let _ = p.push(Box::new(2));
            });
            drop(c);
            t.join().unwrap();
        });
    }
}
