//! The media thread's side of a SIP leg: one bearer channel joined to an RTP stream. Each tick
//! the channel is sent 8 samples of the frame the jitter buffer played, decoded by the leg's
//! codec (`media_codec::LegCodec`: G.711 either law, G.722, G.729A) and re-encoded in the span's law; a
//! frame the buffer reports lost is concealed by the codec where it can, else by
//! `media_dsp::plc`, repeating the last pitch period and fading out. The 8 samples received
//! (echo-cancelled where the channel has a canceller) are decoded from the span's law once, and
//! those linear samples go to the DTMF receiver and to the codec, which adds them to the frame
//! being built; a full frame (the ptime) goes to the event loop, which adds the RTP header and
//! sends it.
//!
//! A tone (`tone`, set by `MediaCmd::RtpTone`) replaces the received samples before the DTMF
//! receiver and the codec see them, so the SIP side hears our ringback while the TDM side's
//! audio is dropped.
//!
//! DTMF (`media_dtmf`): digits the event loop received out of band replace the played audio with
//! their tones; while `dtmf.detect` is set, the received audio passes the in-band receiver and a
//! 40 ms delay line that mutes the digits it finds, whose edges the media thread reports.
//!
//! Everything here is fixed-size: the jitter buffer and the codec state are allocated by the
//! event loop and lent with the attach command, and handed back to be freed there when the leg is
//! detached (or, for the codec, replaced by `MediaCmd::RtpCodec` after a re-INVITE).

use hal::CHUNK;
use media_dsp::g711;
use media_dsp::jitter::{Arrival, JitterBuffer, Playout, CLOCK_PER_MS};
use media_dsp::plc::Plc;
use media_dsp::tones::ToneGenerator;

use crate::media_codec::{LegCodec, PayloadCodec};
use crate::media_dtmf::LegDtmf;

/// What the frame being played is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Play {
    /// A received frame, decoded into `play` (or concealed by the codec itself).
    Good,
    /// A lost frame the codec cannot conceal: `media_dsp::plc` repeats the last pitch period,
    /// fading out.
    Concealed,
    /// Nothing to play (before the start, or a silence): silence.
    Idle,
}

/// The largest frame carried: 60 ms at 8 kHz (480 octets of G.711 or G.722, 60 of G.729A).
pub const MAX_FRAME: usize = 480;

/// One frame of payload with its length, the 8 kHz samples it holds (the RTP timestamp step) and
/// the codec that encoded it; the last two are 0 and `None` in frames received, where the jitter
/// buffer reads the timestamps itself and the leg's codec decodes.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub len: u16,
    pub samples: u16,
    /// The payload's codec: a frame built just before a re-INVITE's new codec reached the media
    /// thread must not go out under the new payload type.
    pub codec: Option<PayloadCodec>,
    pub data: [u8; MAX_FRAME],
}

impl Frame {
    pub fn from_slice(bytes: &[u8]) -> Option<Frame> {
        let mut data = [0u8; MAX_FRAME];
        data.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Frame { len: u16::try_from(bytes.len()).ok()?, samples: 0, codec: None, data })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.data[..usize::from(self.len).min(MAX_FRAME)]
    }
}

/// An RTP packet's fields the jitter buffer needs, and its payload.
#[derive(Debug, Clone, Copy)]
pub struct Incoming {
    pub arrival: Arrival,
    pub frame: Frame,
}

/// One SIP leg's media in the media thread.
#[derive(Debug)]
pub struct RtpLeg {
    pub id: u32,
    pub node: usize,
    pub ts: u8,
    /// The span's law: what the channel sends and receives.
    pub span_law: g711::Law,
    /// The payload codec (lent by the event loop; it comes back with the jitter buffer).
    pub codec: Box<LegCodec>,
    /// Samples per packet (8 per ms of ptime).
    frame: usize,
    pub jb: Box<JitterBuffer>,
    /// The frame being built from the channel: its payload octets, and the samples it holds.
    tx: [u8; MAX_FRAME],
    tx_len: usize,
    tx_samples: usize,
    /// The frame being played to the channel (8 kHz linear), and what it is.
    play: [i16; MAX_FRAME],
    play_kind: Play,
    play_len: usize,
    play_pos: usize,
    plc: Plc,
    /// The media thread's clock in RTP units (8 kHz): 8 per tick.
    now_ts: u32,
    /// The channel's canceller (index into the media thread's), if it has one.
    pub echo: Option<usize>,
    /// DTMF both ways (see the module doc).
    pub dtmf: LegDtmf,
    /// A call-progress tone sent in the RTP in place of the channel's audio (`MediaCmd::RtpTone`:
    /// our ringback to a SIP caller whose ISDN callee plays none).
    pub tone: Option<ToneGenerator>,
}

/// Samples per frame of `frame_ms` (the ptime), within what a frame can carry, in whole
/// `quantum`s (a chunk, or G.729A's 10 ms frame).
fn frame_samples(frame_ms: u16, quantum: usize) -> usize {
    (usize::from(frame_ms) * 8).clamp(quantum, MAX_FRAME) / quantum * quantum
}

/// The period in ms of frames of `samples` 8 kHz samples.
fn frame_period_ms(samples: usize) -> u32 {
    // A frame is at most MAX_FRAME samples: the quotient fits.
    u32::try_from(samples).unwrap_or(u32::MAX) / CLOCK_PER_MS
}

impl RtpLeg {
    /// `frame_ms` is the ptime; silence fills what the jitter buffer cannot give. The jitter
    /// buffer is set to the period the leg plays at (`frame_ms` in whole codec frames).
    pub fn new(
        id: u32,
        node: usize,
        ts: u8,
        span_law: g711::Law,
        codec: Box<LegCodec>,
        frame_ms: u16,
        mut jb: Box<JitterBuffer>,
    ) -> RtpLeg {
        let frame = frame_samples(frame_ms, codec.quantum());
        jb.set_frame_ms(frame_period_ms(frame));
        RtpLeg {
            id,
            node,
            ts,
            span_law,
            codec,
            frame,
            jb,
            tx: [0; MAX_FRAME],
            tx_len: 0,
            tx_samples: 0,
            play: [0; MAX_FRAME],
            play_kind: Play::Idle,
            play_len: 0,
            play_pos: 0,
            plc: Plc::new(),
            now_ts: 0,
            echo: None,
            dtmf: LegDtmf::new(),
            tone: None,
        }
    }

    /// Puts `codec` in place of the leg's codec (a re-INVITE changed it) and returns the old one,
    /// to be freed by the event loop. The frame being built is dropped (it holds the old codec's
    /// octets) and the next packet starts a fresh one of `frame_ms`; the frame being played goes
    /// on, decoded already. A new ptime also changes the period the jitter buffer is popped at
    /// (it then starts the stream anew with the next packet).
    pub fn replace_codec(&mut self, codec: Box<LegCodec>, frame_ms: u16) -> Box<LegCodec> {
        self.frame = frame_samples(frame_ms, codec.quantum());
        self.jb.set_frame_ms(frame_period_ms(self.frame));
        self.tx_len = 0;
        self.tx_samples = 0;
        std::mem::replace(&mut self.codec, codec)
    }

    /// A packet from the event loop.
    pub fn receive(&mut self, p: &Incoming) {
        let _ = self.jb.push(self.now_ts, p.arrival, p.frame.bytes());
    }

    /// The 8 samples to send on the channel this tick.
    pub fn next_chunk(&mut self) -> [u8; CHUNK] {
        if self.play_pos >= self.play_len {
            let mut out = [0u8; MAX_FRAME];
            self.play_len = self.frame;
            self.play_pos = 0;
            let play = &mut self.play[..self.frame];
            self.play_kind = match self.jb.pop(self.now_ts, &mut out) {
                Playout::Frame { len, .. } => {
                    let n = self.codec.decode(&out[..len.min(MAX_FRAME)], play);
                    // A short frame is padded with silence.
                    play[n..].fill(0);
                    Play::Good
                }
                Playout::Missing if self.codec.conceal(play) => Play::Good,
                Playout::Missing => Play::Concealed,
                Playout::Empty => Play::Idle,
            };
        }
        let at = self.play_pos;
        self.play_pos += CHUNK;
        let mut pcm = [0i16; CHUNK];
        match self.play_kind {
            Play::Good => {
                pcm.copy_from_slice(&self.play[at..at + CHUNK]);
                self.plc.good(&mut pcm);
            }
            Play::Concealed => self.plc.conceal(&mut pcm),
            Play::Idle => {}
        }
        self.dtmf.player.fill(&mut pcm);
        let mut chunk = [0u8; CHUNK];
        g711::encode_chunk(self.span_law, &pcm, &mut chunk);
        chunk
    }

    /// The 8 samples the channel received this tick, linear (decoded once by the caller, or the
    /// canceller's output as it is); a full frame of payload when one is complete.
    pub fn take_chunk(&mut self, rx: &[i16; CHUNK]) -> Option<Frame> {
        self.now_ts = self.now_ts.wrapping_add(8);
        // The DTMF receiver and the codec take the same linear samples.
        let mut pcm = *rx;
        if let Some(tone) = &mut self.tone {
            tone.process(&mut pcm);
        }
        if self.dtmf.detect {
            self.dtmf.tx.echo_guard = self.dtmf.player.busy();
            self.dtmf.tx.process(&mut pcm, self.tx_samples);
        }
        self.tx_len += self.codec.encode(&pcm, &mut self.tx[self.tx_len..]);
        self.tx_samples += CHUNK;
        if self.tx_samples < self.frame {
            return None;
        }
        let mut f = Frame { len: 0, samples: 0, codec: Some(self.codec.codec()), data: [0; MAX_FRAME] };
        f.data[..self.tx_len].copy_from_slice(&self.tx[..self.tx_len]);
        f.len = u16::try_from(self.tx_len).unwrap_or(0);
        f.samples = u16::try_from(self.tx_samples).unwrap_or(0);
        self.tx_len = 0;
        self.tx_samples = 0;
        Some(f)
    }
}
