//! A SIP leg's payload codec on the media thread: RTP payload <-> 8 kHz linear audio, for G.711
//! A-law and mu-law, G.722 and G.729A.
//!
//! The media thread works in 8 kHz linear samples between the channel and the codec: the
//! channel's chunk is G.711-decoded once ([`crate::media_rtp`]), the DTMF receiver and the codec
//! take the same samples. G.722 is wideband: towards RTP the 8 kHz audio is upsampled to 16 kHz
//! (`media_dsp::resample::Upsampler`) and encoded; from RTP the 16 kHz audio is decoded and
//! downsampled. The TDM side is narrowband, so the G.722 leg carries narrowband audio; what we gain
//! is not fidelity but a phone that need not be told to use G.711. G.722's RTP clock is 8000 Hz
//! (RFC 3551 §4.5.2: one tick per code octet), so its frame of `n` 8 kHz samples is `n` octets,
//! exactly as G.711. G.729A (`media_dsp::g729`) codes 80 samples (10 ms) into 10 octets, so the
//! encoder gathers ten chunks per frame and a packet of `n` samples is `n / 8` octets; its RTP
//! clock is 8000 Hz too. We run G.729A without Annex B (no VAD, no comfort noise: the SDP says
//! `annexb=no`); a 2-octet SID frame from a peer that sends one anyway decodes to nothing, which
//! the caller plays as silence.
//!
//! A lost frame: G.711 and G.722 frames are concealed by `media_dsp::plc` on the decoded audio
//! (the caller's part; [`LegCodec::conceal`] says `false`); the G.722 decoder simply goes on with
//! the next frame, as spandsp's users do. G.729A conceals with its own decoder's erasure path
//! (G.729 §4.4: the past excitation repeated with decaying gains), which knows the speech
//! model far better than a pitch repeater on its output.
//!
//! With `[board] transcoding = "hardware"` a G.729A leg is coded by the TC400B instead
//! ([`LegCodec::hardware_g729`], `State::G729Hw`): the leg's audio goes to the card in the line
//! law, 80 octets per 10 ms frame, through a `dahdi_driver::transcoder::G729Pair`. The card works
//! asynchronously, so its output trails its input by a frame or two, and the leg never waits:
//!
//! | State   | Event                    | Action                                              | Next             |
//! |---------|--------------------------|-----------------------------------------------------|------------------|
//! | priming | 80 law octets gathered   | write them, read ready frames, send G.729A silence  | flowing if ready |
//! | flowing | 80 law octets gathered   | write them, read ready frames, send the oldest      | priming if none  |
//! | any     | a G.729A payload arrives | write it, read ready audio, play what is ready (*)  | same             |
//! | any     | a frame is lost          | play decoded audio still queued, else caller's PLC  | same             |
//!
//! (*) Until the card's first audio the rest of the frame is silence (the caller's, as for a
//! SID); after it, what the card still owes is concealed by `media_dsp::plc`, as a late packet.
//!
//! So the encoded stream starts with silence frames for the card's latency and each later frame
//! goes out in the next 10 ms slot (its timestamp is the slot's: a constant delay, no gap); more
//! than [`HW_QUEUE`] frames waiting means the card ran ahead and the oldest is dropped. A failed
//! write or read is counted in the leg ([`LegCodec::hw_errors`]) and in all legs' total
//! ([`hw_errors`], the `spangate_g729_tc400b_errors_total` metric), never logged here. When the card
//! has no free channel the leg falls back to our software codec, logged once and counted
//! ([`hw_fallbacks`]); [`LegCodec::label`] says which one codes the leg (`G729 (tc400b)`).
//!
//! The state is one fixed-size struct: the event loop allocates it (`Box<LegCodec>`) when it
//! builds `MediaCmd::RtpAttach` or `MediaCmd::RtpCodec`, lends it to the media thread, and gets
//! it back to be freed (`MediaEvent::RtpDetached`, `MediaEvent::RtpCodecFreed`). Nothing the media
//! thread calls here allocates, locks or logs (the fallback's one log line is written where the
//! leg is built, on the event loop; the card's descriptors are closed there when it is freed).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use dahdi_driver::transcoder::{G729Pair, TranscoderError};
use hal::CHUNK;
use media_dsp::g711;
use media_dsp::g722;
use media_dsp::g729;
use media_dsp::plc::{self, Plc};
use media_dsp::resample::{Downsampler, Upsampler};

/// The payload codecs the media path carries, as the SDP negotiated them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadCodec {
    Pcma,
    Pcmu,
    G722,
    G729,
}

impl PayloadCodec {
    /// The SDP encoding name (the status page shows it).
    pub fn name(self) -> &'static str {
        match self {
            PayloadCodec::Pcma => "PCMA",
            PayloadCodec::Pcmu => "PCMU",
            PayloadCodec::G722 => "G722",
            PayloadCodec::G729 => "G729",
        }
    }
}

/// G.722 both ways with its resamplers.
#[derive(Debug, Clone)]
struct Wideband {
    enc: g722::Encoder,
    dec: g722::Decoder,
    up: Upsampler,
    down: Downsampler,
}

/// G.729A both ways, with the samples gathered towards the next encoded frame.
#[derive(Clone)]
struct Celp {
    enc: g729::Encoder,
    dec: g729::Decoder,
    pcm: [i16; g729::L_FRAME],
    filled: usize,
}

impl std::fmt::Debug for Celp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Celp").field("filled", &self.filled).finish_non_exhaustive()
    }
}

/// G.729A frames the card may hand back ahead of their slot before the oldest is dropped.
pub const HW_QUEUE: usize = 4;
/// Decoded samples held between the card and the player (120 ms: a packet's worth and its latency).
const HW_RING: usize = 960;
/// The most law octets one read from the decoder takes (60 ms, the largest packet).
const HW_READ: usize = 480;
/// Reads per frame operation: enough to drain a card a few frames behind, bounded so a card
/// that floods cannot hold the tick.
const HW_READS: usize = 4;

static HW_FALLBACKS: AtomicU64 = AtomicU64::new(0);
static HW_FALLBACK_LOGGED: AtomicBool = AtomicBool::new(false);
/// Every leg's card errors together (the media thread adds to it: one relaxed atomic add, no lock).
static HW_ERRORS: AtomicU64 = AtomicU64::new(0);

/// How many G.729 legs were coded in software because the card could not take them.
pub fn hw_fallbacks() -> u64 {
    HW_FALLBACKS.load(Ordering::Relaxed)
}

/// The TC400B's failed frame operations, refused frames and dropped output, all legs together
/// since the start ([`LegCodec::hw_errors`] is one leg's share).
pub fn hw_errors() -> u64 {
    HW_ERRORS.load(Ordering::Relaxed)
}

/// G.729A both ways on the TC400B (see the module doc's table).
#[derive(Debug)]
struct Tc400b {
    pair: G729Pair,
    law: g711::Law,
    /// Law octets gathered towards the next frame for the encoder.
    gather: [u8; G729Pair::LAW_FRAME],
    filled: usize,
    /// Encoded frames waiting for their slot, oldest at `q_head`.
    queue: [[u8; g729::FRAME_BYTES]; HW_QUEUE],
    q_head: usize,
    q_len: usize,
    /// What goes out while the card has nothing yet: G.729A of silence, made off the media thread.
    silence: [u8; g729::FRAME_BYTES],
    /// Decoded audio waiting to be played, oldest at `r_head`.
    ring: [i16; HW_RING],
    r_head: usize,
    r_len: usize,
    /// Conceals what the card still owes once audio has flowed (before, the leg is idle).
    plc: Plc,
    started: bool,
    /// Failed writes and reads, frames the card refused and output dropped for want of room.
    errors: u64,
}

impl Tc400b {
    /// Counts one error, in the leg and in the process-wide total.
    fn error(&mut self) {
        self.errors += 1;
        HW_ERRORS.fetch_add(1, Ordering::Relaxed);
    }

    fn push_frames(&mut self, data: &[u8]) {
        for f in data.chunks_exact(g729::FRAME_BYTES) {
            if self.q_len == HW_QUEUE {
                self.q_head = (self.q_head + 1) % HW_QUEUE;
                self.q_len -= 1;
                self.error();
            }
            let at = (self.q_head + self.q_len) % HW_QUEUE;
            self.queue[at].copy_from_slice(f);
            self.q_len += 1;
        }
    }

    fn push_audio(&mut self, law: &[u8]) {
        for &code in law {
            if self.r_len == HW_RING {
                self.error();
                return;
            }
            self.ring[(self.r_head + self.r_len) % HW_RING] = self.law.decode(code);
            self.r_len += 1;
        }
    }

    fn pop_audio(&mut self, out: &mut [i16]) -> usize {
        let n = self.r_len.min(out.len());
        for o in &mut out[..n] {
            *o = self.ring[self.r_head];
            self.r_head = (self.r_head + 1) % HW_RING;
        }
        self.r_len -= n;
        n
    }

    /// Writes `input` (whole frames, possibly none) to one of the card's two channels and queues
    /// what is ready: a few reads at most, as a read may bring one frame only and a late card owes
    /// several. Refused frames and failed operations count as errors.
    fn pump(&mut self, way: Way, input: &[u8]) {
        let mut input = input;
        for _ in 0..HW_READS {
            let mut out = [0u8; HW_READ];
            let done = match way {
                Way::Decode => self.pair.decode(input, &mut out),
                Way::Encode => self.pair.encode(input, &mut out[..HW_QUEUE * g729::FRAME_BYTES]),
            };
            match done {
                Ok(t) => {
                    if !t.accepted {
                        self.error();
                    }
                    if t.out_len == 0 {
                        return;
                    }
                    let ready = &out[..t.out_len.min(HW_READ)];
                    match way {
                        Way::Decode => self.push_audio(ready),
                        Way::Encode => self.push_frames(ready),
                    }
                }
                Err(_) => {
                    self.error();
                    return;
                }
            }
            input = &[];
        }
    }

    /// Writes a gathered law frame to the encoder and queues the frames that are ready.
    fn pump_encoder(&mut self) {
        let gather = self.gather;
        self.pump(Way::Encode, &gather);
    }
}

/// Which of the TC400B's channels [`Tc400b::pump`] drives.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// G.729A in, law out.
    Decode,
    /// Law in, G.729A out.
    Encode,
}

// The whole `LegCodec` is boxed once per leg on the event loop; a G.711 leg paying for the G.722
// state it does not use costs memory, never an allocation on the media thread.
#[allow(clippy::large_enum_variant)]
// Not `Clone`: the card's channels are file descriptors, one leg's each.
#[derive(Debug)]
enum State {
    G711(g711::Law),
    G722(Wideband),
    G729(Celp),
    G729Hw(Tc400b),
}

/// One leg's codec state, both directions (see the module doc).
#[derive(Debug)]
pub struct LegCodec {
    codec: PayloadCodec,
    state: State,
}

impl LegCodec {
    /// A codec in its reset state (allocate it on the event loop: `Box::new(LegCodec::new(c))`).
    pub fn new(codec: PayloadCodec) -> LegCodec {
        let state = match codec {
            PayloadCodec::Pcma => State::G711(g711::Law::Alaw),
            PayloadCodec::Pcmu => State::G711(g711::Law::Mulaw),
            PayloadCodec::G722 => State::G722(Wideband {
                enc: g722::Encoder::new(g722::Rate::Kbps64),
                dec: g722::Decoder::new(g722::Rate::Kbps64),
                up: Upsampler::new(),
                down: Downsampler::new(),
            }),
            PayloadCodec::G729 => State::G729(Celp {
                enc: g729::Encoder::new(),
                dec: g729::Decoder::new(),
                pcm: [0; g729::L_FRAME],
                filled: 0,
            }),
        };
        LegCodec { codec, state }
    }

    /// The codec for a leg: G.729A on the card when `hardware` (the board's `transcoding =
    /// "hardware"`) and the card has channels free, else ours. `law` is the line's.
    pub fn for_leg(codec: PayloadCodec, hardware: bool, law: g711::Law) -> LegCodec {
        if hardware && codec == PayloadCodec::G729 {
            LegCodec::hardware_g729(law)
        } else {
            LegCodec::new(codec)
        }
    }

    /// A G.729A leg on the TC400B, or ours when its channels cannot be had (see
    /// [`LegCodec::g729_on`]). Opens files: call it off the media thread.
    pub fn hardware_g729(law: g711::Law) -> LegCodec {
        let hal_law = match law {
            g711::Law::Alaw => hal::Law::Alaw,
            g711::Law::Mulaw => hal::Law::Mulaw,
        };
        LegCodec::g729_on(G729Pair::open(hal_law), law)
    }

    /// A G.729A leg on `pair`, or, when allocating it failed (every channel busy, no card), our
    /// software codec: logged the first time, counted every time ([`hw_fallbacks`]).
    pub fn g729_on(pair: Result<G729Pair, TranscoderError>, law: g711::Law) -> LegCodec {
        let pair = match pair {
            Ok(p) => p,
            Err(e) => {
                HW_FALLBACKS.fetch_add(1, Ordering::Relaxed);
                if !HW_FALLBACK_LOGGED.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "G.729 leg coded in software: the TC400B cannot take it ({e}); \
                         further fallbacks are only counted"
                    );
                }
                return LegCodec::new(PayloadCodec::G729);
            }
        };
        let silence = g729::Encoder::new().encode(&[0; g729::L_FRAME]);
        let state = State::G729Hw(Tc400b {
            pair,
            law,
            gather: [0; G729Pair::LAW_FRAME],
            filled: 0,
            queue: [[0; g729::FRAME_BYTES]; HW_QUEUE],
            q_head: 0,
            q_len: 0,
            silence,
            ring: [0; HW_RING],
            r_head: 0,
            r_len: 0,
            plc: Plc::new(),
            started: false,
            errors: 0,
        });
        LegCodec { codec: PayloadCodec::G729, state }
    }

    /// What the status page shows for the leg's codec: the SDP name, and who codes it when the
    /// card does (`G729 (tc400b)`).
    pub fn label(&self) -> &'static str {
        match self.state {
            State::G729Hw(_) => "G729 (tc400b)",
            _ => self.codec.name(),
        }
    }

    /// Whether the TC400B codes this leg.
    pub fn on_card(&self) -> bool {
        matches!(self.state, State::G729Hw(_))
    }

    /// The card's failed frame operations and dropped frames on this leg (0 in software).
    pub fn hw_errors(&self) -> u64 {
        match &self.state {
            State::G729Hw(h) => h.errors,
            _ => 0,
        }
    }

    pub fn codec(&self) -> PayloadCodec {
        self.codec
    }

    /// Payload octets for `samples` 8 kHz samples (one per sample for G.711 and G.722, 10 per
    /// 80 for G.729A).
    pub fn payload_len(&self, samples: usize) -> usize {
        match self.state {
            State::G711(_) | State::G722(_) => samples,
            State::G729(_) | State::G729Hw(_) => samples / g729::L_FRAME * g729::FRAME_BYTES,
        }
    }

    /// The samples a packet's length must be a multiple of: a chunk, or G.729A's 10 ms frame.
    pub fn quantum(&self) -> usize {
        match self.state {
            State::G711(_) | State::G722(_) => CHUNK,
            State::G729(_) | State::G729Hw(_) => g729::L_FRAME,
        }
    }

    /// Decodes one received payload into 8 kHz `out`; returns the samples written (fewer than
    /// `out` holds when the payload is short, never more).
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> usize {
        match &mut self.state {
            State::G711(law) => {
                let n = payload.len().min(out.len());
                g711::decode_into(*law, &payload[..n], &mut out[..n]);
                n
            }
            State::G722(w) => {
                // One code is two 16 kHz samples, which the half-band filter makes one 8 kHz sample.
                let n = payload.len().min(out.len());
                let mut wide = [0i16; 2];
                for (o, &code) in out.iter_mut().zip(&payload[..n]) {
                    w.dec.decode(&[code], &mut wide);
                    *o = w.down.push(wide[0], wide[1]);
                }
                n
            }
            State::G729(c) => {
                let mut n = 0;
                for (frame, pcm) in payload.chunks_exact(g729::FRAME_BYTES).zip(out.chunks_exact_mut(g729::L_FRAME)) {
                    let (Ok(frame), Ok(pcm)) =
                        (<&[u8; 10]>::try_from(frame), <&mut [i16; g729::L_FRAME]>::try_from(pcm))
                    else {
                        break;
                    };
                    c.dec.decode(Some(frame), pcm);
                    n += g729::L_FRAME;
                }
                n
            }
            State::G729Hw(h) => {
                // Whole frames only, at most what one read can bring back (a SID writes nothing).
                let frames = (payload.len() / g729::FRAME_BYTES).min(HW_READ / G729Pair::LAW_FRAME);
                h.pump(Way::Decode, &payload[..frames * g729::FRAME_BYTES]);
                let n = h.pop_audio(out);
                h.started |= n > 0;
                if !h.started {
                    // Nothing ever came back yet: the caller plays silence, as for a SID.
                    return n;
                }
                // The card is late (or its input was lost): conceal what it still owes, as for a
                // late packet, so the slot is not a hole.
                let mut blocks = 0;
                for (i, block) in out.chunks_exact_mut(plc::BLOCK).enumerate() {
                    let Ok(block) = <&mut [i16; plc::BLOCK]>::try_from(block) else { break };
                    if (i + 1) * plc::BLOCK <= n {
                        h.plc.good(block);
                    } else {
                        h.plc.conceal(block);
                    }
                    blocks += 1;
                }
                blocks * plc::BLOCK
            }
        }
    }

    /// Fills `out` for a frame the jitter buffer reports lost, when the codec conceals it itself;
    /// `false` leaves concealment to the caller's PLC on the decoded audio.
    pub fn conceal(&mut self, out: &mut [i16]) -> bool {
        match &mut self.state {
            State::G711(_) | State::G722(_) => false,
            State::G729(c) => {
                for part in out.chunks_mut(g729::L_FRAME) {
                    let mut pcm = [0i16; g729::L_FRAME];
                    c.dec.decode(None, &mut pcm);
                    part.copy_from_slice(&pcm[..part.len()]);
                }
                true
            }
            State::G729Hw(h) => {
                h.pump(Way::Decode, &[]);
                if h.r_len < out.len() {
                    return false;
                }
                h.pop_audio(out);
                for block in out.chunks_exact_mut(plc::BLOCK) {
                    if let Ok(block) = <&mut [i16; plc::BLOCK]>::try_from(block) {
                        h.plc.good(block);
                    }
                }
                true
            }
        }
    }

    /// Encodes one chunk of 8 kHz audio into `out`; returns the octets written (0 while G.729A is
    /// still gathering its frame's 80 samples). `out` must hold 8 octets (G.711, G.722) or 10
    /// (G.729A); with less, nothing is written and the audio is lost, never out of bounds.
    pub fn encode(&mut self, pcm: &[i16; CHUNK], out: &mut [u8]) -> usize {
        match &mut self.state {
            State::G711(law) => {
                let Some(out) = out.get_mut(..CHUNK).and_then(|o| <&mut [u8; CHUNK]>::try_from(o).ok()) else {
                    return 0;
                };
                g711::encode_chunk(*law, pcm, out);
                CHUNK
            }
            State::G722(w) => {
                let Some(out) = out.get_mut(..CHUNK).and_then(|o| <&mut [u8; CHUNK]>::try_from(o).ok()) else {
                    return 0;
                };
                let mut wide = [0i16; 2 * CHUNK];
                w.up.process(pcm, &mut wide);
                w.enc.encode_chunk(&wide, out);
                CHUNK
            }
            State::G729(c) => {
                c.pcm[c.filled..c.filled + CHUNK].copy_from_slice(pcm);
                c.filled += CHUNK;
                if c.filled < g729::L_FRAME {
                    return 0;
                }
                c.filled = 0;
                let frame = c.enc.encode(&c.pcm);
                let Some(out) = out.get_mut(..g729::FRAME_BYTES) else { return 0 };
                out.copy_from_slice(&frame);
                g729::FRAME_BYTES
            }
            State::G729Hw(h) => {
                let mut law = [0u8; CHUNK];
                g711::encode_chunk(h.law, pcm, &mut law);
                h.gather[h.filled..h.filled + CHUNK].copy_from_slice(&law);
                h.filled += CHUNK;
                if h.filled < G729Pair::LAW_FRAME {
                    return 0;
                }
                h.filled = 0;
                h.pump_encoder();
                let Some(out) = out.get_mut(..g729::FRAME_BYTES) else { return 0 };
                if h.q_len == 0 {
                    out.copy_from_slice(&h.silence);
                } else {
                    out.copy_from_slice(&h.queue[h.q_head]);
                    h.q_head = (h.q_head + 1) % HW_QUEUE;
                    h.q_len -= 1;
                }
                g729::FRAME_BYTES
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sine of `hz` at 8 kHz, amplitude `amp`, from sample `from`.
    fn sine(hz: f64, amp: f64, from: usize, n: usize) -> Vec<i16> {
        (from..from + n)
            .map(|i| {
                let v = amp * (2.0 * std::f64::consts::PI * hz * f64::from(u32::try_from(i).unwrap()) / 8000.0).sin();
                // Within ±amp < 32767.
                #[allow(clippy::cast_possible_truncation)]
                let v = v.round() as i16;
                v
            })
            .collect()
    }

    /// Frequency from zero crossings and RMS of `x` (8 kHz).
    fn tone(x: &[i16]) -> (f64, f64) {
        let crossings = x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        let len = f64::from(u32::try_from(x.len()).unwrap());
        let hz = f64::from(u32::try_from(crossings).unwrap()) / 2.0 / (len / 8000.0);
        let rms = (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / len).sqrt();
        (hz, rms)
    }

    /// Audio through one leg's encoder and another leg's decoder, 20 ms frames as on the wire.
    fn round_trip(codec: PayloadCodec, hz: f64) -> Vec<i16> {
        let (mut tx, mut rx) = (LegCodec::new(codec), LegCodec::new(codec));
        let input = sine(hz, 8000.0, 0, 8000);
        let mut out = Vec::new();
        for frame in input.chunks_exact(160) {
            let mut payload = [0u8; 168];
            let mut len = 0;
            for c in frame.chunks_exact(CHUNK) {
                len += tx.encode(c.try_into().unwrap(), &mut payload[len..]);
            }
            assert_eq!(len, tx.payload_len(160), "{codec:?}: one 20 ms payload");
            let mut pcm = [0i16; 160];
            assert_eq!(rx.decode(&payload[..len], &mut pcm), 160);
            out.extend_from_slice(&pcm);
        }
        out
    }

    #[test]
    fn every_codec_carries_a_tone() {
        // G.729A is a speech model, not a waveform coder: its level wanders more than G.711's.
        for (codec, max_db) in
            [(PayloadCodec::Pcma, 1.0), (PayloadCodec::Pcmu, 1.0), (PayloadCodec::G722, 1.0), (PayloadCodec::G729, 3.0)]
        {
            for hz in [300.0, 1000.0, 3000.0] {
                // Past the resamplers' and the coders' start-up.
                let out = round_trip(codec, hz);
                let (got, rms) = tone(&out[800..]);
                let db = 20.0 * (rms / (8000.0 / std::f64::consts::SQRT_2)).log10();
                assert!((got / hz - 1.0).abs() < 0.01, "{codec:?} {hz} Hz came out at {got:.1} Hz");
                assert!(db.abs() < max_db, "{codec:?} {hz} Hz came out at {db:.2} dB");
            }
        }
    }

    #[test]
    fn g729_packs_ten_octets_per_10_ms_and_conceals_itself() {
        let mut c = LegCodec::new(PayloadCodec::G729);
        assert_eq!((c.payload_len(160), c.quantum(), c.codec().name()), (20, 80, "G729"));
        let pcm: Vec<i16> = sine(1000.0, 8000.0, 0, 800);
        let mut written = Vec::new();
        let mut out = [0u8; 10];
        for chunk in pcm.chunks_exact(CHUNK) {
            written.push(c.encode(chunk.try_into().unwrap(), &mut out));
        }
        // Nothing for nine chunks, then one frame: ten times in 100 ms.
        assert_eq!(written.iter().filter(|&&n| n == 10).count(), 10);
        assert!(written.iter().all(|&n| n == 0 || n == 10));
        assert_eq!(written[9], 10);
        // A lost 20 ms frame right after good ones comes out as sound, not silence.
        let mut rx = LegCodec::new(PayloadCodec::G729);
        let mut tx = LegCodec::new(PayloadCodec::G729);
        let mut pcm20 = [0i16; 160];
        for k in 0..20 {
            let mut payload = [0u8; 20];
            let mut len = 0;
            for c in sine(1000.0, 8000.0, k * 160, 160).chunks_exact(CHUNK) {
                len += tx.encode(c.try_into().unwrap(), &mut payload[len..]);
            }
            assert_eq!(rx.decode(&payload[..len], &mut pcm20), 160);
        }
        assert!(rx.conceal(&mut pcm20));
        let (_, rms) = tone(&pcm20);
        assert!(rms > 1000.0, "the erasure path repeats the excitation: rms {rms:.0}");
        // A SID frame (Annex B, 2 octets) decodes to nothing; a partial frame's tail is dropped.
        assert_eq!(rx.decode(&[0x12, 0x34], &mut pcm20), 0);
        assert_eq!(rx.decode(&[0u8; 25], &mut pcm20), 160);
    }

    #[test]
    fn g722_is_not_g711_on_the_wire() {
        // The same audio gives different payloads: the leg really encodes G.722 (a G.711 frame
        // taken for G.722 would decode to noise).
        let pcm: [i16; CHUNK] = sine(1000.0, 8000.0, 0, CHUNK).try_into().unwrap();
        let (mut a, mut g) = (LegCodec::new(PayloadCodec::Pcma), LegCodec::new(PayloadCodec::G722));
        let (mut pa, mut pg) = ([0u8; CHUNK], [0u8; CHUNK]);
        assert_eq!(a.encode(&pcm, &mut pa), CHUNK);
        assert_eq!(g.encode(&pcm, &mut pg), CHUNK);
        assert_ne!(pa, pg);
        assert_eq!(g.codec().name(), "G722");
    }

    #[test]
    fn short_output_and_garbage_never_panic() {
        for codec in [PayloadCodec::Pcma, PayloadCodec::Pcmu, PayloadCodec::G722, PayloadCodec::G729] {
            let g729 = codec == PayloadCodec::G729;
            let mut c = LegCodec::new(codec);
            let mut small = [0i16; 3];
            assert_eq!(c.decode(&[0xff; 10], &mut small), if g729 { 0 } else { 3 });
            let mut out = [0i16; 480];
            let garbage: Vec<u8> = (0..=255).collect();
            assert_eq!(c.decode(&garbage, &mut out), if g729 { 480 } else { 256 });
            assert_eq!(c.decode(&[], &mut out), 0);
            assert_eq!(c.conceal(&mut out[..100]), g729, "only G.729A conceals itself");
            for _ in 0..10 {
                assert_eq!(c.encode(&[0; CHUNK], &mut [0u8; 4]), 0, "no room: nothing written");
            }
        }
    }
}
