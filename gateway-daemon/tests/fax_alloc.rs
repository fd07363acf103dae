//! Proves that the fax watch on a SIP leg's media (ARCHITECTURE.md's invariant for `media_fax`)
//! allocates nothing: a counting global allocator watches this thread while a `LegFax` runs six
//! seconds of ticks in which CNG arrives from the line, including the tick that detects it and
//! switches the leg's echo canceller and jitter buffer to fax mode.

use gateway_daemon::media_fax::{FaxSide, LegFax};
use media_dsp::echo::{Config as EchoConfig, EchoCanceller};
use media_dsp::fax::FaxTone;
use media_dsp::g711::Law;
use media_dsp::jitter::{Config, JitterBuffer, Mode};

#[path = "../../media-dsp/tests/common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{counted, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// CNG's A-law chunk at tick `k`: 0.5 s of 1100 Hz every 3.5 s (T.30), -10 dBm0.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn cng_chunk(k: usize) -> [u8; 8] {
    let mut c = [Law::Alaw.encode(0); 8];
    if k % 3500 < 500 {
        for (i, b) in c.iter_mut().enumerate() {
            let n = (k * 8 + i) as f64;
            *b = Law::Alaw.encode((5000.0 * (std::f64::consts::TAU * 1100.0 * n / 8000.0).sin()) as i16);
        }
    }
    c
}

#[test]
fn the_fax_watch_and_its_switch_to_fax_mode_allocate_nothing() {
    let mut jb = Box::new(JitterBuffer::new(Config { frame_ms: 20, ..Config::default() }));
    let mut ec = EchoCanceller::new(EchoConfig::default());
    let mut fax = LegFax::new(Law::Alaw.encode(0));
    let (found, n) = counted(|| {
        let mut found = None;
        for k in 0..6000 {
            fax.to_tdm = [Law::Alaw.encode(0); 8];
            if let Some(d) = fax.tick(Law::Alaw, &cng_chunk(k), &mut jb, Some(&mut ec)) {
                found = Some((k, d));
            }
            if fax.unreported().is_some() {
                fax.reported();
            }
        }
        found
    });
    assert_eq!(n, 0, "allocations in the fax watch");
    let (k, d) = found.expect("CNG detected");
    assert!((500..600).contains(&k), "at the end of the first burst, not {k}");
    assert_eq!((d.tone, d.side), (FaxTone::Cng, FaxSide::Tdm));
    assert!(matches!(jb.mode(), Mode::Fixed { .. }) && ec.fax_mode());
}
