//! The media thread's fax tone watch on a SIP leg: CNG and CED/ANS/ANSam detection on both
//! directions of the call, and the switch of the leg's media to fax mode on the first tone.
//!
//! Each `RtpLeg` owns a [`LegFax`]: one `media_dsp::fax::FaxDetector` on the audio the B-channel
//! received (a fax on the TDM side, after the echo canceller where the channel has one) and one on
//! the audio sent to the B-channel (decoded RTP: a fax on the SIP side). On the first tone heard,
//! once per attach (per call):
//! - the channel's echo canceller goes to fax mode (`EchoCanceller::set_fax_mode`: bypassed, NLP
//!   off, filters frozen: the G.164/G.165 tone-disabler behaviour, without waiting for phase
//!   reversals nor releasing on silence);
//! - the leg's jitter buffer goes fixed (`jitter::Mode::Fixed`) at its current target delay, at
//!   least [`FAX_JITTER_MS`]: a T.30 modem tolerates a constant delay, never a changing one;
//! - a `MediaEvent::Fax` tells the event loop, which re-INVITEs the SIP leg to G.711 A-law
//!   (`sipnet_fax`). If the event ring is full the report waits for the next tick.
//!
//! The detectors then stop (a call switches once). Everything is fixed-size and lives inside the
//! leg: no allocation, no lock, no log.

use hal::CHUNK;
use media_dsp::echo::EchoCanceller;
use media_dsp::fax::{FaxDetector, FaxTone};
use media_dsp::g711;
use media_dsp::jitter::{JitterBuffer, Mode};

/// The smallest fixed jitter-buffer delay a leg takes in fax mode, in ms: a T.30 pass-through over
/// G.711 is spoiled by a late packet (a lost modem frame), not by a constant delay.
pub const FAX_JITTER_MS: u32 = 60;

/// Which direction of the call carried the tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaxSide {
    /// Received on the B-channel: the fax is on the TDM side.
    Tdm,
    /// Received in RTP and sent to the B-channel: the fax is on the SIP side.
    Ip,
}

/// What the leg's watch found and did, for the event loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaxDetection {
    pub tone: FaxTone,
    pub side: FaxSide,
    /// The jitter buffer's fixed delay from now on.
    pub jitter_ms: u32,
    /// Whether the channel has an echo canceller (now in fax mode).
    pub echo: bool,
}

/// One leg's fax watch (see the module doc).
#[derive(Debug, Clone)]
pub struct LegFax {
    tdm: FaxDetector,
    ip: FaxDetector,
    /// The chunk sent to the B-channel this tick (span law), set by the media thread.
    pub to_tdm: [u8; CHUNK],
    /// The detection, once made.
    detected: Option<FaxDetection>,
    /// Not yet in the event ring (it was full).
    unreported: bool,
}

impl LegFax {
    pub fn new(idle: u8) -> LegFax {
        LegFax {
            tdm: FaxDetector::new(),
            ip: FaxDetector::new(),
            to_tdm: [idle; CHUNK],
            detected: None,
            unreported: false,
        }
    }

    /// The detection, once made.
    pub fn detected(&self) -> Option<FaxDetection> {
        self.detected
    }

    /// One tick: `from_tdm` arrived on the channel (span law, echo-cancelled where it can be),
    /// `self.to_tdm` was sent to it. On the first tone the canceller and jitter buffer switch to
    /// fax mode (see the module doc) and the detection is returned.
    pub fn tick(
        &mut self,
        law: g711::Law,
        from_tdm: &[u8; CHUNK],
        jb: &mut JitterBuffer,
        ec: Option<&mut EchoCanceller>,
    ) -> Option<FaxDetection> {
        if self.detected.is_some() {
            return None;
        }
        let (mut rx, mut tx) = ([0i16; CHUNK], [0i16; CHUNK]);
        g711::decode_chunk(law, from_tdm, &mut rx);
        g711::decode_chunk(law, &self.to_tdm, &mut tx);
        self.tdm.process(&rx);
        self.ip.process(&tx);
        let (tone, side) = match (self.tdm.poll_event(), self.ip.poll_event()) {
            (Some(e), _) => (e.tone, FaxSide::Tdm),
            (None, Some(e)) => (e.tone, FaxSide::Ip),
            (None, None) => return None,
        };
        let jitter_ms = jb.target_delay_ms().max(FAX_JITTER_MS);
        jb.set_mode(Mode::Fixed { delay_ms: jitter_ms });
        let echo = ec.is_some();
        if let Some(ec) = ec {
            ec.set_fax_mode(true);
        }
        let d = FaxDetection { tone, side, jitter_ms, echo };
        self.detected = Some(d);
        self.unreported = true;
        Some(d)
    }

    /// The detection still to be reported, if any (the event ring was full last time).
    pub fn unreported(&self) -> Option<FaxDetection> {
        self.detected.filter(|_| self.unreported)
    }

    /// The detection went into the event ring.
    pub fn reported(&mut self) {
        self.unreported = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use media_dsp::echo::Config;
    use media_dsp::jitter::Config as JbConfig;

    /// A-law chunks of `hz` at about -10 dBm0 for `ms`, from sample `start`.
    fn tone(hz: f64, ms: usize, start: usize) -> Vec<[u8; CHUNK]> {
        let law = g711::Law::Alaw;
        (0..ms)
            .map(|k| {
                let mut c = [0u8; CHUNK];
                for (i, b) in c.iter_mut().enumerate() {
                    let n = start + k * CHUNK + i;
                    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, reason = "test signal")]
                    let v = (5000.0 * (std::f64::consts::TAU * hz * n as f64 / 8000.0).sin()) as i16;
                    *b = law.encode(v);
                }
                c
            })
            .collect()
    }

    fn silence(ms: usize) -> Vec<[u8; CHUNK]> {
        vec![[g711::Law::Alaw.encode(0); CHUNK]; ms]
    }

    /// Runs `from_tdm` and `to_tdm` (chunk lists of equal length) through a watch; the tick of the
    /// first detection and the detection.
    fn watch(
        fax: &mut LegFax,
        jb: &mut JitterBuffer,
        ec: &mut EchoCanceller,
        from_tdm: &[[u8; CHUNK]],
        to_tdm: &[[u8; CHUNK]],
    ) -> Option<(usize, FaxDetection)> {
        let mut first = None;
        for (k, (rx, tx)) in from_tdm.iter().zip(to_tdm).enumerate() {
            fax.to_tdm = *tx;
            if let Some(d) = fax.tick(g711::Law::Alaw, rx, jb, Some(&mut *ec)) {
                assert!(first.is_none(), "a second detection at tick {k}: {d:?}");
                first = Some((k, d));
            }
        }
        first
    }

    /// CNG from the TDM side (0.5 s of 1100 Hz, then its 3 s pause): reported when the burst ends,
    /// once; the canceller is in fax mode and the jitter buffer fixed at 60 ms; the second burst
    /// changes nothing.
    #[test]
    fn cng_from_the_line_switches_the_leg_to_fax_mode_once() {
        let mut fax = LegFax::new(0xD5);
        let mut jb = JitterBuffer::new(JbConfig::default());
        let mut ec = EchoCanceller::new(Config::default());
        let mut rx = silence(200);
        rx.extend(tone(1100.0, 500, 0));
        rx.extend(silence(3000));
        rx.extend(tone(1100.0, 500, 0));
        rx.extend(silence(500));
        let tx = silence(rx.len());
        let (at, d) = watch(&mut fax, &mut jb, &mut ec, &rx, &tx).expect("CNG detected");
        assert!((700..800).contains(&at), "reported at {at} ms, the burst ended at 700");
        assert_eq!((d.tone, d.side, d.echo), (FaxTone::Cng, FaxSide::Tdm, true));
        assert_eq!(d.jitter_ms, jb.target_delay_ms().max(FAX_JITTER_MS));
        assert_eq!(jb.mode(), Mode::Fixed { delay_ms: d.jitter_ms });
        assert!(d.jitter_ms >= FAX_JITTER_MS);
        assert!(ec.fax_mode() && ec.stats().bypassed);
        assert_eq!(fax.detected(), Some(d));
        assert_eq!(fax.unreported(), Some(d));
        fax.reported();
        assert_eq!(fax.unreported(), None);
    }

    /// CED (2100 Hz) in the audio sent to the line: a fax answering on the SIP side, reported after
    /// 400 ms of tone as ANS from the IP side.
    #[test]
    fn an_answer_tone_from_rtp_is_a_fax_on_the_sip_side() {
        let mut fax = LegFax::new(0xD5);
        let mut jb = JitterBuffer::new(JbConfig::default());
        let mut ec = EchoCanceller::new(Config::default());
        let mut tx = silence(200);
        tx.extend(tone(2100.0, 3000, 0));
        let rx = silence(tx.len());
        let (at, d) = watch(&mut fax, &mut jb, &mut ec, &rx, &tx).expect("CED detected");
        assert!((590..700).contains(&at), "reported at {at} ms, 400 ms after the start at 200");
        assert_eq!((d.tone, d.side), (FaxTone::Ans, FaxSide::Ip));
        assert!(ec.fax_mode());
    }

    /// A steady 1000 Hz tone, speech-band noise bursts and silence never switch a leg: the leg's
    /// canceller and jitter buffer stay as they were.
    #[test]
    fn tones_that_are_not_fax_leave_the_leg_alone() {
        let mut fax = LegFax::new(0xD5);
        let mut jb = JitterBuffer::new(JbConfig::default());
        let mut ec = EchoCanceller::new(Config::default());
        let rx = tone(1000.0, 2000, 0);
        // 1100 Hz that never stops is not CNG (no cadence).
        let tx = tone(1100.0, 2000, 0);
        assert_eq!(watch(&mut fax, &mut jb, &mut ec, &rx, &tx), None);
        assert_eq!(jb.mode(), Mode::Adaptive);
        assert!(!ec.fax_mode());
        assert_eq!(fax.detected(), None);
    }
}
