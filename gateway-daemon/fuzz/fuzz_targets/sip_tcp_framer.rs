//! Fuzz target: the TCP stream framer. The input is cut into pieces at the positions its
//! first bytes give; framing never panics, never returns more bytes than were pushed, and
//! gives the same messages and keep-alive pings whatever the cuts.
#![no_main]

use gateway_daemon::sip::StreamFramer;
use libfuzzer_sys::fuzz_target;

fn frame(pieces: &[&[u8]]) -> (Vec<Vec<u8>>, u32, bool) {
    let mut f = StreamFramer::new(2048);
    let mut out = Vec::new();
    let mut pings = 0;
    for p in pieces {
        f.push(p);
        loop {
            match f.next_message() {
                Some(Ok(m)) => out.push(m),
                Some(Err(_)) => return (out, pings, true),
                None => break,
            }
        }
        pings += f.take_pings();
    }
    (out, pings, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else { return };
    let step = usize::from(cut).max(1);
    let pieces: Vec<&[u8]> = stream.chunks(step).collect();
    let (a, a_pings, a_err) = frame(&pieces);
    let (b, b_pings, b_err) = frame(&[stream]);
    assert!(a.iter().map(Vec::len).sum::<usize>() <= stream.len());
    // Without an error both cuts must agree; an error (too large) may come at a different
    // point depending on how much was buffered.
    if !a_err && !b_err {
        assert_eq!(a, b);
        assert_eq!(a_pings, b_pings);
    }
});
