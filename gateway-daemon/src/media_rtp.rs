//! The media thread's side of a SIP leg: one bearer channel joined to an RTP stream. Each tick
//! the channel is sent 8 samples of the frame the jitter buffer played (G.711, re-encoded between
//! the payload's law and the span's; a frame the buffer reports lost is concealed by
//! `media_dsp::plc`, repeating the last pitch period and fading out), and 8 samples received
//! (echo-cancelled where the channel has a canceller) are added to the frame being built; a full
//! frame (the ptime) goes to the event loop, which adds the RTP header and sends it.
//!
//! DTMF (`media_dtmf`): digits the event loop received out of band replace the played audio with
//! their tones; while `dtmf.detect` is set, the received audio passes the in-band receiver and a
//! 40 ms delay line that mutes the digits it finds, whose edges the media thread reports.
//!
//! Everything here is fixed-size: the jitter buffer is allocated by the event loop and lent with
//! the attach command, and handed back to be freed there when the leg is detached.

use hal::CHUNK;
use media_dsp::g711;
use media_dsp::jitter::{Arrival, JitterBuffer, Playout};
use media_dsp::plc::Plc;

use crate::media_dtmf::LegDtmf;

/// What the frame being played is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Play {
    /// A received frame (in `play`, payload law).
    Good,
    /// A lost frame: loss concealment repeats the last pitch period, fading out.
    Concealed,
    /// Nothing to play (before the start, or a silence): idle code.
    Idle,
}

/// The largest frame carried: 60 ms of G.711.
pub const MAX_FRAME: usize = 480;

/// One frame of G.711 payload with its length.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub len: u16,
    pub data: [u8; MAX_FRAME],
}

impl Frame {
    pub fn from_slice(bytes: &[u8]) -> Option<Frame> {
        let mut data = [0u8; MAX_FRAME];
        data.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Frame { len: u16::try_from(bytes.len()).ok()?, data })
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
    span_law: g711::Law,
    payload_law: g711::Law,
    /// Samples per packet (8 per ms of ptime).
    frame: usize,
    pub jb: Box<JitterBuffer>,
    /// The frame being built from the channel.
    tx: [u8; MAX_FRAME],
    tx_len: usize,
    /// The frame being played to the channel (payload law), and what it is.
    play: [u8; MAX_FRAME],
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
}

fn recode(from: g711::Law, to: g711::Law, bytes: &mut [u8]) {
    if from == to {
        return;
    }
    for b in bytes {
        *b = to.encode(from.decode(*b));
    }
}

impl RtpLeg {
    /// `frame_ms` is the ptime; the span's idle code fills what the jitter buffer cannot give.
    pub fn new(
        id: u32,
        node: usize,
        ts: u8,
        span_law: g711::Law,
        payload_law: g711::Law,
        frame_ms: u16,
        jb: Box<JitterBuffer>,
    ) -> RtpLeg {
        let frame = (usize::from(frame_ms) * 8).clamp(CHUNK, MAX_FRAME);
        RtpLeg {
            id,
            node,
            ts,
            span_law,
            payload_law,
            frame,
            jb,
            tx: [0; MAX_FRAME],
            tx_len: 0,
            play: [0; MAX_FRAME],
            play_kind: Play::Idle,
            play_len: 0,
            play_pos: 0,
            plc: Plc::new(),
            now_ts: 0,
            echo: None,
            dtmf: LegDtmf::new(payload_law),
        }
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
            self.play_kind = match self.jb.pop(self.now_ts, &mut out) {
                Playout::Frame { len, .. } => {
                    let n = len.min(self.frame);
                    self.play[..n].copy_from_slice(&out[..n]);
                    // A short frame is padded with silence (the payload law's zero).
                    self.play[n..self.frame].fill(self.payload_law.encode(0));
                    Play::Good
                }
                Playout::Missing => Play::Concealed,
                Playout::Empty => Play::Idle,
            };
        }
        let mut pcm = [0i16; CHUNK];
        let at = self.play_pos;
        self.play_pos += CHUNK;
        match self.play_kind {
            Play::Good => {
                for (p, &c) in pcm.iter_mut().zip(&self.play[at..at + CHUNK]) {
                    *p = self.payload_law.decode(c);
                }
                self.plc.good(&mut pcm);
            }
            Play::Concealed => self.plc.conceal(&mut pcm),
            Play::Idle => {}
        }
        self.dtmf.player.fill(&mut pcm);
        let mut chunk = [0u8; CHUNK];
        for (c, &p) in chunk.iter_mut().zip(&pcm) {
            *c = self.span_law.encode(p);
        }
        chunk
    }

    /// The 8 samples the channel received this tick; a full frame, in the payload's law, when
    /// one is complete.
    pub fn take_chunk(&mut self, rx: &[u8; CHUNK]) -> Option<Frame> {
        self.now_ts = self.now_ts.wrapping_add(8);
        let mut c = *rx;
        recode(self.span_law, self.payload_law, &mut c);
        if self.dtmf.detect {
            self.dtmf.tx.echo_guard = self.dtmf.player.busy();
            let pcm = rx.map(|b| self.span_law.decode(b));
            self.dtmf.tx.process(&pcm, &mut c, self.tx_len, self.payload_law.encode(0));
        }
        self.tx[self.tx_len..self.tx_len + CHUNK].copy_from_slice(&c);
        self.tx_len += CHUNK;
        if self.tx_len < self.frame {
            return None;
        }
        self.tx_len = 0;
        let mut f = Frame { len: 0, data: [0; MAX_FRAME] };
        f.data[..self.frame].copy_from_slice(&self.tx[..self.frame]);
        f.len = u16::try_from(self.frame).unwrap_or(0);
        Some(f)
    }
}
