//! Our G.711 against spandsp's, every code and every linear input, through a C oracle process.
//!
//! `tests/c/g711_oracle.c` prints spandsp's 256 decodes and 65 536 encodes of both laws; spandsp is
//! GPL/LGPL code, so it runs as a separate program and is never linked into ours. The oracle is
//! built with gcc once into `target/peers/` and rebuilt only when its source is newer. A missing
//! gcc or spandsp header fails the test with the Debian package to install: this test never skips.

use media_dsp::g711::{self, Law};

#[path = "common/oracle.rs"]
mod oracle;

const ORACLE: oracle::Oracle = oracle::Oracle { name: "g711_oracle", lib: "spandsp", package: "libspandsp-dev" };

/// spandsp's answers: (A-law decodes, mu-law decodes, A-law encodes, mu-law encodes).
fn spandsp_tables() -> (Vec<i16>, Vec<i16>, Vec<u8>, Vec<u8>) {
    let b = ORACLE.run(&[], &[]);
    assert_eq!(b.len(), 2 * 256 * 2 + 2 * 65_536, "oracle output size");
    let (dec, enc) = b.split_at(1024);
    let dec: Vec<i16> = dec.chunks_exact(2).map(|p| i16::from_le_bytes([p[0], p[1]])).collect();
    let (alaw_enc, ulaw_enc) = enc.split_at(65_536);
    (dec[..256].to_vec(), dec[256..].to_vec(), alaw_enc.to_vec(), ulaw_enc.to_vec())
}

/// Compares every entry and reports the first few differences, not just the first.
fn check<T: PartialEq + std::fmt::Debug>(what: &str, ours: impl Iterator<Item = (String, T)>, theirs: &[T]) {
    let mut bad = Vec::new();
    let mut n = 0;
    for ((input, o), t) in ours.zip(theirs) {
        n += 1;
        if o != *t {
            bad.push(format!("{input}: ours {o:?}, spandsp {t:?}"));
        }
    }
    assert_eq!(n, theirs.len(), "{what}: compared {n} of {} entries", theirs.len());
    assert!(bad.is_empty(), "{what}: {} differences, first: {:?}", bad.len(), &bad[..bad.len().min(8)]);
}

#[test]
fn every_code_and_every_sample_matches_spandsp() {
    let (alaw_dec, ulaw_dec, alaw_enc, ulaw_enc) = spandsp_tables();
    for (law, theirs) in [(Law::Alaw, &alaw_dec), (Law::Mulaw, &ulaw_dec)] {
        check(&format!("{law:?} decode"), (0..=255u8).map(|c| (format!("{c:#04x}"), law.decode(c))), theirs);
    }
    for (law, theirs) in [(Law::Alaw, &alaw_enc), (Law::Mulaw, &ulaw_enc)] {
        check(&format!("{law:?} encode"), (i16::MIN..=i16::MAX).map(|x| (x.to_string(), law.encode(x))), theirs);
        // The buffer form must give the same bytes as the one-sample form.
        let samples: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let mut out = vec![0u8; samples.len()];
        g711::encode_into(law, &samples, &mut out);
        assert!(out == *theirs, "{law:?} encode_into differs from spandsp");
    }
}
