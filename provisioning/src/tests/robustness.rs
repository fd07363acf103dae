//! Parsing never panics: every shipped board, truncated and with bytes flipped, gives a config or
//! well-formed diagnostics.

use super::shipped_boards;
use crate::parse_str;

/// xorshift64*, so a failure replays from the same sequence.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[track_caller]
fn survives(name: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Err(d) = parse_str(name, &text) {
        assert!(!d.is_empty());
        let lines = text.lines().count() + 1;
        for x in &d {
            assert!(x.line >= 1 && x.line <= lines && x.col >= 1, "{x} in:\n{text}");
            assert!(!x.message.is_empty() && !x.message.contains('\n') && !x.field.is_empty(), "{x}");
        }
    }
}

#[test]
fn truncated_boards_never_panic() {
    for (name, text) in shipped_boards() {
        let b = text.as_bytes();
        for cut in (0..b.len()).step_by(5) {
            survives(&name, &b[..cut]);
        }
    }
}

#[test]
fn mutated_boards_never_panic() {
    const INTERESTING: &[u8] = b"\"'[]{}=,.#-+:\n 0179aez\x00\xff\xc3";
    let mut rng = 0x5EED_u64;
    for (name, text) in shipped_boards() {
        let b = text.as_bytes();
        for _ in 0..400 {
            let mut m = b.to_vec();
            let flips = 1 + next(&mut rng) % 4;
            for _ in 0..flips {
                let pos = usize::try_from(next(&mut rng)).unwrap_or_default() % m.len();
                let [r0, r1, ..] = next(&mut rng).to_le_bytes();
                m[pos] = if r0 % 3 == 0 { r1 } else { INTERESTING[usize::from(r1) % INTERESTING.len()] };
            }
            survives(&name, &m);
        }
        // Whole lines dropped or repeated: keys go missing or appear twice.
        let lines: Vec<&str> = text.lines().collect();
        for i in 0..lines.len() {
            let dropped: Vec<&str> = lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| *l).collect();
            survives(&name, dropped.join("\n").as_bytes());
            let mut twice = lines.clone();
            twice.insert(i, lines[i]);
            survives(&name, twice.join("\n").as_bytes());
        }
    }
}

#[test]
fn pathological_inputs_never_panic() {
    let deep = format!("a = {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let deep_tables = format!("x = {}1{}\n", "{ y = ".repeat(3000), " }".repeat(3000));
    let cases = [
        "",
        "\u{feff}[board]\nmodel = \"é\"\n",
        deep.as_str(),
        deep_tables.as_str(),
        "[board]\nmodel = \"s\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\nbchan = \"1-4294967295\"\n",
        "[board]\nmodel = \"s\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\nbchan = 4000000000\n",
        "[board]\nmodel = \"s\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\nbchan = \"\\u00e9,\\t5\"\n",
        "[board]\nmodel = \"s\"\n[[board.span]]\nspan = 9223372036854775807\nkind = \"e1\"\ntiming = -9223372036854775808\n",
        "[board]\nmodel = \"s\"\nspan = [{ span = 1, kind = \"e1\", sim = { line = \"span:4294967296\" } }]\n",
        "[board]\nmodel = \"s\"\n[[board.span]]\nspan = 1\nkind = \"e1\"\n[board.span.sim]\nline = \"span:1\"\nfault = { frame_loss = inf }\n",
        "[board.span]\n[board]\n",
        "board.span = 3\nboard.model = 'x'\n",
        "[[board]]\nmodel = \"s\"\n",
    ];
    for c in cases {
        survives("p.toml", c.as_bytes());
    }
}
