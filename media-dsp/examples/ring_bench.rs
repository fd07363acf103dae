//! `cargo xtask bench ring`, both sides: items per second through our SPSC ring and through
//! crossbeam's `ArrayQueue` (the multi-producer queue it replaced), one producer thread and one
//! consumer thread, the same item type (a 16-byte message, like a media command) and capacity.
//!
//! Prints `ring NAME ITEMS_PER_SECOND` for `ours` and `crossbeam`, alternating `REPS` times
//! (argument, default 5) so both see the same machine load; xtask takes the medians.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_queue::ArrayQueue;
use media_dsp::ring::ring;

const ITEMS: u64 = 5_000_000;
const CAPACITY: usize = 256;

fn ours() -> f64 {
    let (mut p, mut c) = ring::<(u64, u64)>(CAPACITY);
    let start = Instant::now();
    let t = std::thread::spawn(move || {
        for i in 0..ITEMS {
            let mut item = (i, !i);
            while let Err(back) = p.push(item) {
                item = back;
                std::hint::spin_loop();
            }
        }
    });
    let mut sum = 0u64;
    let mut got = 0;
    while got < ITEMS {
        if let Some((a, _)) = c.pop() {
            sum = sum.wrapping_add(a);
            got += 1;
        } else {
            std::hint::spin_loop();
        }
    }
    t.join().expect("producer");
    black_box(sum);
    #[allow(clippy::cast_precision_loss)]
    let rate = ITEMS as f64 / start.elapsed().as_secs_f64();
    rate
}

fn crossbeam() -> f64 {
    let q = Arc::new(ArrayQueue::<(u64, u64)>::new(CAPACITY));
    let start = Instant::now();
    let pq = Arc::clone(&q);
    let t = std::thread::spawn(move || {
        for i in 0..ITEMS {
            let mut item = (i, !i);
            while let Err(back) = pq.push(item) {
                item = back;
                std::hint::spin_loop();
            }
        }
    });
    let mut sum = 0u64;
    let mut got = 0;
    while got < ITEMS {
        if let Some((a, _)) = q.pop() {
            sum = sum.wrapping_add(a);
            got += 1;
        } else {
            std::hint::spin_loop();
        }
    }
    t.join().expect("producer");
    black_box(sum);
    #[allow(clippy::cast_precision_loss)]
    let rate = ITEMS as f64 / start.elapsed().as_secs_f64();
    rate
}

fn main() {
    let reps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    for _ in 0..reps {
        println!("ring ours {:.0}", ours());
        println!("ring crossbeam {:.0}", crossbeam());
    }
}
