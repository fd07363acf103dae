//! The fuzz targets' property, run as an ordinary test over the seed corpus and a few thousand
//! deterministic mutations of it: no parser and no import panics, and an import that succeeds
//! always gives a config provisioning accepts. (cargo-fuzz explores further: dahdi-driver/fuzz.)

use std::path::Path;

use dahdi_driver::conf::{chan_dahdi, import, modules, system_conf, Input};

/// xorshift64: a fixed sequence, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

const SPICE: &[&[u8]] = &[
    b"\n",
    b"#",
    b";",
    b"=",
    b",",
    b"-",
    b":",
    b"=>",
    b"[",
    b"]",
    b" ",
    b"\r",
    b"\0",
    b"1023",
    b"0",
    b"99999999999",
    b"#include x\n",
    b"span=",
    b"pseudo",
    b"\xff",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(4) {
            0 if !v.is_empty() => {
                let end = (at + rng.below(8)).min(v.len());
                v.drain(at.min(end)..end);
            }
            1 => {
                let s = SPICE[rng.below(SPICE.len())];
                v.splice(at..at, s.iter().copied());
            }
            2 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            _ => v.truncate(at),
        }
    }
    v
}

fn corpus(dir: &str) -> Vec<Vec<u8>> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(dir);
    let mut v: Vec<Vec<u8>> =
        std::fs::read_dir(d).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    v.sort();
    assert!(!v.is_empty(), "the {dir} seed corpus is empty");
    v
}

#[test]
fn parsers_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for seed in corpus("system_conf") {
        for _ in 0..400 {
            let _ = system_conf::parse("f", &mutate(&mut rng, &seed));
        }
    }
    for seed in corpus("chan_dahdi") {
        for _ in 0..400 {
            let m = mutate(&mut rng, &seed);
            let text = String::from_utf8_lossy(&m).into_owned();
            let mut loader = |p: &Path| Ok((p.display().to_string(), text.clone()));
            let _ = chan_dahdi::parse("/etc/asterisk/chan_dahdi.conf", &text, rng.below(2) == 0, &mut loader);
        }
    }
    for seed in corpus("modules") {
        for _ in 0..400 {
            let _ = modules::parse("m", &String::from_utf8_lossy(&mutate(&mut rng, &seed)));
        }
    }
}

#[test]
fn import_never_panics_and_its_output_always_validates() {
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    for seed in corpus("import") {
        for _ in 0..300 {
            let m = mutate(&mut rng, &seed);
            let text = String::from_utf8_lossy(&m);
            let (sys, chans) = text.split_once('\0').unwrap_or((&text, ""));
            if let Ok((toml, _)) =
                import(&Input::new("system.conf", sys), &Input::new("dahdi-channels.conf", chans), None, None)
            {
                assert!(provisioning::parse_str("i.toml", &toml).is_ok(), "{toml}");
            }
        }
    }
}
