//! `dahdi-vm-check`: the DAHDI backend against the real kernel modules, run inside the `cargo xtask
//! vm-test` guest. It creates two looped local spans (`dahdi_dynamic_loc`, same key), configures
//! them as E1 CCS/HDB3/CRC4 with a D-channel on 16, starts them, then sends HDLC frames and audio
//! across the loop and checks they arrive bit-exact, feeds noise into an HDLC receiver (events
//! through -ELAST), and removes one span to see the other go RED with an ALARM event. It also opens
//! `/dev/dahdi/transcode` and sees no transcoder listed and an allocation refused (no TC400B). It prints `VMCHECK` progress lines and one
//! final `SPANGATE-VMTEST RESULT pass|fail ...` line, which is what the host reads.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use dahdi_driver::backend::{AudioChannel, ChanPlace, Control, DChannel, DahdiBoard};
use hal::{Board as _, Channel as _, DChannel as _, SpanConfig, SpanKind};

type Res<T> = Result<T, String>;

fn step<T>(what: &str, r: std::io::Result<T>) -> Res<T> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn main() {
    let started = Instant::now();
    match run() {
        Ok(summary) => {
            println!("SPANGATE-VMTEST RESULT pass {summary} in {:.2}s", started.elapsed().as_secs_f64());
        }
        Err(e) => {
            println!("SPANGATE-VMTEST RESULT fail {e}");
            std::process::exit(1);
        }
    }
}

/// The kernel channel at `pos` of span `spanno`.
fn chan(map: &[ChanPlace], spanno: i32, pos: i32) -> Res<i32> {
    map.iter()
        .find(|p| p.spanno == spanno && p.chanpos == pos)
        .map(|p| p.channo)
        .ok_or_else(|| format!("no channel at position {pos} of span {spanno}"))
}

/// `/dev/dahdi/transcode` opens (dahdi_transcode is loaded) and `DAHDI_TC_GETINFO` enumerates
/// nothing: the guest has no TC400B, so the first call must answer ENOSYS, which `list` ends on.
fn transcoders() -> Res<usize> {
    let list = dahdi_driver::transcoder::list().map_err(|e| e.to_string())?;
    if !list.is_empty() {
        return Err(format!("a transcoder in a guest without a card: {list:?}"));
    }
    let no = dahdi_driver::transcoder::G729Pair::open(hal::Law::Alaw).err().map(|e| e.to_string());
    if no.as_deref() != Some("no DAHDI transcoder converts alaw to g729a") {
        return Err(format!("DAHDI_TC_ALLOCATE without a transcoder gave {no:?}, not ENODEV"));
    }
    println!(
        "VMCHECK transcode: /dev/dahdi/transcode open, 0 transcoders, allocate refused ({})",
        no.unwrap_or_default()
    );
    Ok(list.len())
}

fn run() -> Res<String> {
    let ctl = step("open /dev/dahdi/ctl", Control::open())?;
    let (version, echo) = step("DAHDI_GETVERSION", ctl.version())?;
    println!("VMCHECK version {version:?} echo {echo:?}");
    let transcoders = transcoders()?;

    // dahdi_dynamic_loc connects the spans that share a key: "1:0" and "1:1" are each other's line.
    let t = Instant::now();
    let mut spans = Vec::new();
    for addr in ["1:0", "1:1"] {
        step("DAHDI_DYNAMIC_DESTROY", ctl.dynamic_destroy("loc", addr))?;
        spans.push(step(&format!("DAHDI_DYNAMIC_CREATE loc {addr}"), ctl.dynamic_create("loc", addr, 31, 0))?);
    }
    let (a, b) = (spans[0], spans[1]);
    for s in ctl.spans() {
        println!(
            "VMCHECK span {} name={:?} desc={:?} chans={} alarms={:#x}",
            s.spanno, s.name, s.desc, s.totalchans, s.alarms
        );
    }
    let map = ctl.channel_map();
    let first = |s| map.iter().filter(|p| p.spanno == s).map(|p| p.channo).min().unwrap_or(-1);
    println!("VMCHECK created spans {a} and {b} in {:?}; first channels {} and {}", t.elapsed(), first(a), first(b));
    for s in [a, b] {
        let n = map.iter().filter(|p| p.spanno == s).count();
        if n != 31 {
            return Err(format!("span {s} has {n} channels, not 31"));
        }
    }

    // The board as the daemon would build it: our span N is the kernel's span N.
    let cfg = SpanConfig::defaults(SpanKind::E1);
    let spans: Vec<(u32, SpanConfig)> = [a, b].iter().map(|s| (u32::try_from(*s).unwrap_or(0), cfg.clone())).collect();
    let board = DahdiBoard::configure("loc-loop", &spans).map_err(|e| e.to_string())?;
    let info = board.info();
    println!(
        "VMCHECK board {} backend {} spans {} capabilities {:?}",
        info.model,
        info.backend,
        board.span_count(),
        info.capabilities
    );
    for (n, _) in &spans {
        let span = board.span(*n).ok_or_else(|| format!("board lost span {n}"))?;
        let st = span.status();
        if !st.running || !st.alarms.is_clear() {
            return Err(format!("span {n} after STARTUP: {st:?}"));
        }
    }
    step("DAHDI_ATTACH_ECHOCAN mg2", ctl.attach_echocan(chan(&map, a, 2)?, "mg2"))?;
    let proc_a = std::fs::read_to_string(format!("/proc/dahdi/{a}")).unwrap_or_default();
    println!("VMCHECK /proc/dahdi/{a}: {}", proc_a.lines().next().unwrap_or(""));
    // Dynamic spans have no line interface: the kernel keeps no line configuration for them, so
    // /proc shows none; the channel signalling and the attached canceller are what it shows.
    for want in ["16 DYN/loc/1:0/16 HDLCFCS", "1 DYN/loc/1:0/1 Clear", "(EC: MG2 - INACTIVE)"] {
        if !proc_a.contains(want) {
            return Err(format!("/proc/dahdi/{a} does not show {want}:\n{proc_a}"));
        }
    }
    for s in [a, b] {
        let info = step("DAHDI_SPANSTAT", ctl.span_info(s))?;
        println!(
            "VMCHECK span {s} started: alarms={:#x} numchans={} type={:?}",
            info.alarms, info.numchans, info.spantype
        );
        if info.numchans != 31 {
            return Err(format!("span {s}: {} configured channels, not 31", info.numchans));
        }
    }

    // Both checks run even when the first fails, so one guest boot tells about both.
    let audio = audio_tries(&map, a, b);
    let frames = hdlc_across(&map, a, b, 16);
    println!("VMCHECK hdlc on dchan 16: {frames:?}");
    let clear = hdlc_across(&map, a, b, 3);
    println!("VMCHECK hdlc on clear channel 3 in FCS mode: {clear:?}");
    if audio.is_err() || frames.is_err() || clear.is_err() {
        for s in [a, b] {
            let text = std::fs::read_to_string(format!("/proc/dahdi/{s}")).unwrap_or_default();
            let lines: Vec<&str> = text.lines().filter(|l| l.contains("/1 ") || l.contains("/16 ")).collect();
            println!("VMCHECK /proc/dahdi/{s}: {lines:?}");
        }
    }
    let (audio, frames, clear) = match (audio, frames, clear) {
        (Ok(a), Ok(f), Ok(c)) => (a, f, c),
        (a, f, c) => return Err(format!("audio: {a:?}; hdlc: {f:?}; hdlc on a clear channel: {c:?}")),
    };
    let events = garbage_gives_events(&map, a, b)?;
    let red = red_alarm_when_the_far_end_goes(&ctl, &board, &map, a)?;
    Ok(format!(
        "spans={a},{b} hdlc_frames={frames}+{clear} audio_bytes={audio} bit_exact=yes elast_events={events} \
         red_after_far_end_gone={red} transcoders={transcoders}"
    ))
}

/// Frames both ways between the two D-channels, each checked byte for byte.
///
/// A short frame with its flags and FCS fits in one 1 ms chunk, and under software emulation (TCG)
/// the dynamic span can drop a whole chunk when the guest's timer stalls: the frame is then gone
/// without a trace, as a line hit would lose it on a real span (LAPD's T200 resends it). So each frame
/// gets three sends, and the count of sends is printed; a frame that arrives changed is an error at
/// once, and a late copy of a frame already checked is skipped.
fn hdlc_across(map: &[ChanPlace], a: i32, b: i32, pos: i32) -> Res<usize> {
    let mut da = step("open D-channel a", DChannel::open(chan(map, a, pos)?))?;
    let mut db = step("open D-channel b", DChannel::open(chan(map, b, pos)?))?;
    // A Q.921 SABME (SAPI 0, TEI 0, command from the user side), then a maximal I-frame.
    let sabme = vec![0x00, 0x01, 0x7F];
    let long: Vec<u8> = (0..hal::MAX_HDLC_FRAME).map(|i| (i * 7 + 3).to_le_bytes()[0]).collect();
    let mut count = 0;
    let mut done: Vec<&[u8]> = Vec::new();
    for (frame, forward) in [(&sabme, true), (&long, true), (&sabme, false)] {
        let (tx, rx) = if forward { (&mut da, &mut db) } else { (&mut db, &mut da) };
        let t = Instant::now();
        let mut buf = [0u8; hal::MAX_HDLC_FRAME];
        let mut arrived = false;
        let mut sends = 0;
        while !arrived && sends < 3 {
            tx.send_frame(frame).map_err(|e| e.to_string())?;
            sends += 1;
            let sent_at = Instant::now();
            while sent_at.elapsed() < Duration::from_secs(2) {
                let Some(n) = rx.recv_frame(&mut buf).map_err(|e| e.to_string())? else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                if buf[..n] == frame[..] {
                    println!("VMCHECK D-channel {n}-byte frame across in {:?} ({sends} send(s))", t.elapsed());
                    arrived = true;
                    break;
                }
                if done.iter().any(|d| d[..] == buf[..n]) {
                    continue; // a late copy of a frame already checked
                }
                return Err(format!(
                    "D-channel frame changed: sent {:02x?}, got {:02x?}",
                    &frame[..frame.len().min(8)],
                    &buf[..n.min(8)]
                ));
            }
        }
        if !arrived {
            println!("VMCHECK tx bufinfo {:?} rx bufinfo {:?}", tx.bufinfo(), rx.bufinfo());
            return Err(format!(
                "D-channel frame of {} bytes never arrived in {sends} sends (events {:?})",
                frame.len(),
                rx.take_events()
            ));
        }
        done.push(frame);
        count += 1;
    }
    Ok(count)
}

/// `audio_across` up to three times. A guest emulated in software on a loaded host can stall past
/// the receive buffers' cushion and lose a block mid-pattern, which is the emulator's doing, not
/// the data path's; every failed attempt is printed, and three in a row fail.
fn audio_tries(map: &[ChanPlace], a: i32, b: i32) -> Res<usize> {
    let mut last = String::new();
    for attempt in 1..=3 {
        match audio_across(map, a, b) {
            Ok(n) => return Ok(n),
            Err(e) => {
                println!("VMCHECK audio attempt {attempt} failed: {e}");
                last = e;
            }
        }
    }
    Err(format!("three attempts failed, the last: {last}"))
}

/// A pseudo-random 4000-byte pattern (0.5 s of audio) from bearer 1 of span a to bearer 1 of span b,
/// found whole and unchanged in what b receives.
fn audio_across(map: &[ChanPlace], a: i32, b: i32) -> Res<usize> {
    let law = hal::Law::Alaw;
    let mut ta = step("open bearer a", AudioChannel::open(chan(map, a, 1)?, 1, law))?;
    let mut rb = step("open bearer b", AudioChannel::open(chan(map, b, 1)?, 1, law))?;
    // 32 blocks of 256 bytes (1 s) each way: the whole pattern fits in the transmit buffers, so a
    // late wake-up of this process under software emulation cannot underrun the line mid-pattern
    // (an underrun repeats idle code, which is the kernel's job, not a fault of the data path).
    step("buffers a", ta.set_buffers(32, 256))?;
    step("buffers b", rb.set_buffers(32, 256))?;
    let mut ec = step("open bearer 2 of a", AudioChannel::open(chan(map, a, 2)?, 2, law))?;
    step("DAHDI_ECHOCANCEL_PARAMS 128 taps on mg2", ec.echo_cancel(128))?;
    let mut seed = 0x1234_5678u32;
    let pattern: Vec<u8> = (0..4000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16).to_le_bytes()[0]
        })
        .collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut chunk = [0u8; hal::CHUNK];
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        // After the pattern, idle code keeps the stream going (and pushes out the last block).
        loop {
            let mut c = [hal::Law::Alaw.idle_code(); hal::CHUNK];
            if sent < pattern.len() {
                c.copy_from_slice(&pattern[sent..sent + hal::CHUNK]);
            }
            if ta.write_chunk(&c).is_err() {
                break;
            }
            sent += hal::CHUNK;
        }
        while rb.read_chunk(&mut chunk).is_ok() {
            got.extend_from_slice(&chunk);
        }
        if sent >= pattern.len() && got.len() > pattern.len() + 2000 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let at = got.windows(16).position(|w| w == &pattern[..16]);
    let Some(at) = at else {
        return Err(format!("pattern start never seen in {} bytes received ({} sent)", got.len(), sent));
    };
    let end = (at + pattern.len()).min(got.len());
    if got[at..end] != pattern[..end - at] {
        let diff = (at..end).find(|&i| got[i] != pattern[i - at]).unwrap_or(end);
        return Err(format!("audio differs at byte {} of the pattern", diff - at));
    }
    if end - at != pattern.len() {
        return Err(format!("only {} of {} pattern bytes arrived", end - at, pattern.len()));
    }
    println!("VMCHECK audio: {} bytes bit-exact after {} bytes of lead-in, {:?}", pattern.len(), at, t.elapsed());
    Ok(pattern.len())
}

/// Audio noise into an HDLC receiver: the kernel reports bad FCS / aborts as events, which a read
/// returns as -ELAST; the backend must fetch them with DAHDI_GETEVENT and count them.
fn garbage_gives_events(map: &[ChanPlace], a: i32, b: i32) -> Res<u64> {
    let mut noise = step("open bearer 4 of a", AudioChannel::open(chan(map, a, 4)?, 4, hal::Law::Alaw))?;
    step("buffers", noise.set_buffers(32, 256))?;
    let mut rx = step("open channel 4 of b as HDLC", DChannel::open(chan(map, b, 4)?))?;
    let mut seed = 0x9e37_79b9u32;
    let mut buf = [0u8; hal::MAX_HDLC_FRAME];
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        loop {
            let mut c = [0u8; hal::CHUNK];
            for x in &mut c {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *x = (seed >> 24).to_le_bytes()[0];
            }
            if noise.write_chunk(&c).is_err() {
                break;
            }
        }
        // Frames that happen to pass the FCS check are possible in noise; they are just taken.
        while rx.recv_frame(&mut buf).map_err(|e| e.to_string())?.is_some() {}
        if rx.events.bad_fcs + rx.events.aborts >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (bad, aborts) = (rx.events.bad_fcs, rx.events.aborts);
    println!("VMCHECK noise into HDLC: {bad} bad-FCS and {aborts} abort events via -ELAST, {} frames", rx.rx_frames);
    if bad + aborts == 0 {
        return Err("noise into an HDLC receiver raised no event".into());
    }
    Ok(bad + aborts)
}

/// Destroying span b leaves span a without received data: dahdi_dynamic raises RED after 1 s.
/// The span status must say so, and an open channel of a must see the ALARM event.
fn red_alarm_when_the_far_end_goes(ctl: &Control, board: &DahdiBoard, map: &[ChanPlace], a: i32) -> Res<bool> {
    let mut watch = step("open D-channel a", DChannel::open(chan(map, a, 16)?))?;
    step("DAHDI_DYNAMIC_DESTROY loc 1:1", ctl.dynamic_destroy("loc", "1:1"))?;
    let span = board.span(u32::try_from(a).unwrap_or(0)).ok_or("span a gone from the board")?;
    let t = Instant::now();
    let mut buf = [0u8; hal::MAX_HDLC_FRAME];
    while t.elapsed() < Duration::from_secs(10) {
        let _ = watch.recv_frame(&mut buf);
        let st = span.status();
        if st.alarms.red && watch.events.alarms > 0 {
            println!("VMCHECK span {a}: RED and an ALARM event {:?} after the far end went", t.elapsed());
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "span {a} status {:?}, {} ALARM events, 10 s after the far end went",
        span.status(),
        watch.events.alarms
    ))
}
