//! HDLC framing of a D-channel at the bit level, as a telephony card's HDLC controller does it.
//!
//! A simulated span carries its D-channel as a real bit stream in the D timeslot (8 octets per
//! millisecond on a PRI, 2 on a BRI), so framing errors, aborts and corrupted frames reach the
//! Q.921 layer exactly as they would from copper. The [`HdlcEncoder`] turns whole frames into line
//! octets: flags between frames, an opening flag, the bit-stuffed frame and its FCS-16, a closing
//! flag. The [`HdlcDecoder`] does the reverse and reports each frame, or why it was rejected.
//! Bits go out least significant first within each octet, as on a real HDLC controller. Both sides
//! hold one frame in a fixed array and never allocate, because they run inside the 1 ms tick.

use crate::MAX_HDLC_FRAME;

/// Why a received frame was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HdlcError {
    /// The frame's check sequence did not match, or its length was not a whole number of octets.
    BadFcs,
    /// The sender abandoned the frame with seven or more consecutive 1s.
    Abort,
    /// The frame was longer than [`MAX_HDLC_FRAME`] plus the 2 FCS octets; it was discarded.
    TooLong,
    /// The frame had fewer than 4 octets including the FCS.
    TooShort,
}

/// Why [`HdlcEncoder::load`] refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// A frame is still being sent; wait for [`HdlcEncoder::is_idle`].
    Busy,
    /// The frame has no octets, and an empty frame cannot be told apart from idle flags.
    Empty,
    /// The frame is longer than [`MAX_HDLC_FRAME`].
    TooLong,
}

/// The flag that opens and closes every frame and fills the line between frames.
const FLAG: u8 = 0x7E;

/// Eight 1s, sent to abandon a frame: the receiver treats seven or more as an abort.
const ABORT: u8 = 0xFF;

/// Room for the largest frame and its two FCS octets.
const FRAME_BUF: usize = MAX_HDLC_FRAME + 2;

/// The value the (uncomplemented) CRC register holds after a good frame and its FCS.
const GOOD_FCS_RESIDUE: u16 = 0xF0B8;

/// The reflected CRC-CCITT polynomial x^16 + x^12 + x^5 + 1, bit-reversed for LSB-first data.
const POLY: u16 = 0x8408;

/// One table lookup per octet instead of eight shifts, computed at compile time so that nothing
/// is built at run time.
const FCS_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i: u16 = 0;
    while i < 256 {
        let mut crc = i;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit += 1;
        }
        table[i as usize] = crc;
        i += 1;
    }
    table
};

/// Advances the CRC register over one octet.
fn fcs_step(crc: u16, octet: u8) -> u16 {
    (crc >> 8) ^ FCS_TABLE[usize::from((crc ^ u16::from(octet)) & 0xFF)]
}

/// The FCS-16 of `data` as it is transmitted (already complemented): ITU-T X.25 / Q.921
/// CRC-CCITT, reflected, initial value 0xFFFF. It goes on the line low octet first.
pub fn fcs16(data: &[u8]) -> u16 {
    !data.iter().fold(0xFFFF, |crc, &octet| fcs_step(crc, octet))
}

/// What the encoder sends once any flag or abort pattern in progress has gone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxPhase {
    /// Flags, because no frame is loaded.
    Idle,
    /// A frame is loaded and its opening flag comes next.
    Opening,
    /// The frame's bits, stuffed, then the closing flag.
    Data,
    /// The abort pattern comes next, then flags.
    Abort,
}

/// Turns whole frames into an HDLC bit stream: flags, bit stuffing, FCS-16 and aborts.
#[derive(Debug, Clone)]
pub struct HdlcEncoder {
    /// The frame being sent, followed by its FCS.
    buf: [u8; FRAME_BUF],
    /// Octets of `buf` in use, FCS included.
    len: usize,
    /// Index of the next bit of `buf` to send.
    next_bit: usize,
    /// Consecutive 1s sent from the frame, to know when a 0 must be stuffed.
    ones: u8,
    /// A flag or abort pattern being sent, consumed LSB first.
    pattern: u8,
    /// Bits of `pattern` still to send; patterns always finish so a flag is never cut short.
    pattern_left: u8,
    phase: TxPhase,
}

impl Default for HdlcEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HdlcEncoder {
    /// An encoder with no frame loaded, which sends flags.
    pub fn new() -> Self {
        Self { buf: [0; FRAME_BUF], len: 0, next_bit: 0, ones: 0, pattern: 0, pattern_left: 0, phase: TxPhase::Idle }
    }

    /// True when no frame is being sent: the line carries flags and a new frame may be loaded.
    pub fn is_idle(&self) -> bool {
        self.phase == TxPhase::Idle
    }

    /// Starts sending `frame` (address+control+info, without FCS); computes the FCS-16 (ITU-T
    /// X.25/Q.921 CRC-CCITT, reflected, init 0xFFFF, complemented, sent LSB first, low octet
    /// first).
    ///
    /// The frame itself is checked before the encoder's state, so a frame that can never be sent
    /// is refused at once rather than after waiting out `Busy`. A 1-octet frame is sent as asked,
    /// although a receiver will reject it as too short, because a real controller does the same.
    pub fn load(&mut self, frame: &[u8]) -> Result<(), LoadError> {
        if frame.is_empty() {
            return Err(LoadError::Empty);
        }
        if frame.len() > MAX_HDLC_FRAME {
            return Err(LoadError::TooLong);
        }
        if !self.is_idle() {
            return Err(LoadError::Busy);
        }
        let len = frame.len();
        self.buf[..len].copy_from_slice(frame);
        self.buf[len..len + 2].copy_from_slice(&fcs16(frame).to_le_bytes());
        self.len = len + 2;
        self.next_bit = 0;
        self.ones = 0;
        self.phase = TxPhase::Opening;
        Ok(())
    }

    /// Produces the next `out.len()` octets of line bits, LSB first within each octet.
    pub fn fill(&mut self, out: &mut [u8]) {
        for octet in out.iter_mut() {
            let mut value = 0u8;
            for shift in 0..8 {
                value |= self.next_line_bit() << shift;
            }
            *octet = value;
        }
    }

    /// Abandons the frame in progress by sending an abort (eight 1s), then flags.
    ///
    /// A frame none of whose bits has gone out yet is simply dropped, because there is nothing on
    /// the line for the receiver to abandon. A flag already under way is finished first, so that
    /// the previous frame's closing flag is never turned into an abort of that frame.
    pub fn abort(&mut self) {
        match self.phase {
            TxPhase::Idle | TxPhase::Abort => {}
            TxPhase::Opening => self.phase = TxPhase::Idle,
            TxPhase::Data if self.next_bit == 0 => self.phase = TxPhase::Idle,
            TxPhase::Data => self.phase = TxPhase::Abort,
        }
    }

    /// The next bit on the line, 0 or 1.
    fn next_line_bit(&mut self) -> u8 {
        loop {
            if self.pattern_left > 0 {
                let bit = self.pattern & 1;
                self.pattern >>= 1;
                self.pattern_left -= 1;
                return bit;
            }
            match self.phase {
                TxPhase::Idle => self.start_pattern(FLAG),
                TxPhase::Opening => {
                    self.start_pattern(FLAG);
                    self.phase = TxPhase::Data;
                }
                TxPhase::Abort => {
                    self.start_pattern(ABORT);
                    self.phase = TxPhase::Idle;
                }
                TxPhase::Data => {
                    // The stuffed 0 is checked before the end of the frame because five 1s at the
                    // end of the FCS still need it, or they would merge with the closing flag.
                    if self.ones == 5 {
                        self.ones = 0;
                        return 0;
                    }
                    if self.next_bit == self.len * 8 {
                        // The closing flag starts now; the encoder counts as idle from here on,
                        // and the flag still goes out in full before any new frame.
                        self.start_pattern(FLAG);
                        self.phase = TxPhase::Idle;
                        continue;
                    }
                    let bit = (self.buf[self.next_bit / 8] >> (self.next_bit % 8)) & 1;
                    self.next_bit += 1;
                    self.ones = if bit == 1 { self.ones + 1 } else { 0 };
                    return bit;
                }
            }
        }
    }

    fn start_pattern(&mut self, pattern: u8) {
        self.pattern = pattern;
        self.pattern_left = 8;
    }
}

/// Whether the decoder is inside a frame or looking for a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    /// Looking for a flag: at start, after an abort and after a frame that was too long.
    Hunt,
    /// Between an opening flag and whatever ends the frame.
    Frame,
}

/// Turns an HDLC bit stream back into frames, reporting the ones that arrive damaged.
#[derive(Debug, Clone)]
pub struct HdlcDecoder {
    /// The destuffed octets of the frame being received, FCS included.
    buf: [u8; FRAME_BUF],
    /// Complete octets in `buf`.
    len: usize,
    /// The octet being assembled; bits enter at the top so the first one ends up at bit 0.
    octet: u8,
    /// Bits in `octet`.
    bits: u8,
    /// Consecutive 1s received and not yet known to be data: they could still be a flag's.
    ones: u8,
    /// A received 0 not yet known to be data: it could be the first bit of a flag.
    zero_pending: bool,
    /// The CRC register over the complete octets, so the check costs nothing at the flag.
    crc: u16,
    state: RxState,
}

impl Default for HdlcDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HdlcDecoder {
    /// A decoder hunting for its first flag.
    pub fn new() -> Self {
        Self {
            buf: [0; FRAME_BUF],
            len: 0,
            octet: 0,
            bits: 0,
            ones: 0,
            zero_pending: false,
            crc: 0xFFFF,
            state: RxState::Hunt,
        }
    }

    /// Feeds received line octets (LSB first); calls `sink` once per completed frame (without
    /// FCS) or per error, in order.
    // The sink's type is spelled out because it is the interface the spans are written against.
    #[allow(clippy::type_complexity)]
    pub fn feed(&mut self, octets: &[u8], sink: &mut dyn FnMut(Result<&[u8], HdlcError>)) {
        for &octet in octets {
            for shift in 0..8 {
                match self.line_bit((octet >> shift) & 1 == 1) {
                    None => {}
                    Some(Ok(len)) => sink(Ok(&self.buf[..len])),
                    Some(Err(error)) => sink(Err(error)),
                }
            }
        }
    }

    /// Forgets any partial frame (after loss of signal), without reporting it.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Takes one line bit; returns the length of a good frame now in `buf`, or an error. One bit
    /// ends at most one frame, so there is never more than one report.
    fn line_bit(&mut self, one: bool) -> Option<Result<usize, HdlcError>> {
        if one {
            // Saturating, because an all-ones line (AIS) sends 1s for as long as it lasts.
            self.ones = self.ones.saturating_add(1);
            if self.ones == 7 && self.state == RxState::Frame {
                // An abort right after a flag is just the line going to all-ones, not a frame
                // anybody started, so only a frame with at least one octet is reported.
                self.state = RxState::Hunt;
                if self.len > 0 {
                    return Some(Err(HdlcError::Abort));
                }
            }
            return None;
        }
        let run = self.ones;
        self.ones = 0;
        if run == 6 {
            // A flag: its leading 0 (if any is pending) and its six 1s are not data. A stuffed 0
            // just before may stand in for the leading 0, which is why nothing is taken back from
            // the frame and the pending bits are simply dropped.
            let report = if self.state == RxState::Frame { self.close() } else { None };
            self.open();
            return report;
        }
        if self.state == RxState::Hunt {
            return None;
        }
        // Here the run is at most 5, since seven 1s would have ended the frame, so the pending 0
        // and the 1s before this 0 are data.
        if self.zero_pending {
            if let Err(error) = self.push(false) {
                return Some(Err(error));
            }
        }
        for _ in 0..run {
            if let Err(error) = self.push(true) {
                return Some(Err(error));
            }
        }
        // After five 1s this 0 was stuffed by the sender and is dropped; otherwise it is data
        // unless a flag follows.
        self.zero_pending = run != 5;
        None
    }

    /// Appends one destuffed bit, or discards the frame if that made it too long to keep.
    fn push(&mut self, one: bool) -> Result<(), HdlcError> {
        self.octet = (self.octet >> 1) | if one { 0x80 } else { 0 };
        self.bits += 1;
        if self.bits == 8 {
            if self.len == FRAME_BUF {
                self.state = RxState::Hunt;
                return Err(HdlcError::TooLong);
            }
            self.buf[self.len] = self.octet;
            self.len += 1;
            self.crc = fcs_step(self.crc, self.octet);
            self.bits = 0;
        }
        Ok(())
    }

    /// Starts a frame after a flag.
    fn open(&mut self) {
        self.state = RxState::Frame;
        self.len = 0;
        self.octet = 0;
        self.bits = 0;
        self.zero_pending = false;
        self.crc = 0xFFFF;
    }

    /// Ends the frame at a closing flag and reports it, unless it is the nothing between two
    /// consecutive flags.
    fn close(&self) -> Option<Result<usize, HdlcError>> {
        if self.len == 0 && self.bits == 0 {
            None
        } else if self.len < 4 {
            Some(Err(HdlcError::TooShort))
        } else if self.bits != 0 || self.crc != GOOD_FCS_RESIDUE {
            Some(Err(HdlcError::BadFcs))
        } else {
            Some(Ok(self.len - 2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small xorshift generator, so the tests need no dependencies and are reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap()
        }

        fn octet(&mut self) -> u8 {
            self.next().to_le_bytes()[0]
        }
    }

    /// A random frame of 2 to MAX_HDLC_FRAME octets; half of them are biased towards the octets
    /// that need the most stuffing.
    fn random_frame(rng: &mut Rng) -> Vec<u8> {
        let len = 2 + rng.below(MAX_HDLC_FRAME - 1);
        let stuffy = rng.below(2) == 0;
        (0..len)
            .map(|_| if stuffy { [0xFF, 0x7E, 0x3F, 0xFC, rng.octet()][rng.below(5)] } else { rng.octet() })
            .collect()
    }

    type Report = Result<Vec<u8>, HdlcError>;

    fn decode(stream: &[u8], chunk: usize) -> Vec<Report> {
        let mut decoder = HdlcDecoder::new();
        let mut out = Vec::new();
        for piece in stream.chunks(chunk) {
            decoder.feed(piece, &mut |r| out.push(r.map(<[u8]>::to_vec)));
        }
        out
    }

    /// Encodes `frames` back to back, loading each as soon as the encoder is idle, with a few
    /// flags before and after.
    fn encode(frames: &[&[u8]]) -> Vec<u8> {
        let mut encoder = HdlcEncoder::new();
        let mut stream = vec![0; 4];
        encoder.fill(&mut stream);
        for frame in frames {
            while !encoder.is_idle() {
                let mut octet = [0];
                encoder.fill(&mut octet);
                stream.push(octet[0]);
            }
            encoder.load(frame).unwrap();
        }
        while !encoder.is_idle() {
            let mut octet = [0];
            encoder.fill(&mut octet);
            stream.push(octet[0]);
        }
        let mut tail = [0; 4];
        encoder.fill(&mut tail);
        stream.extend_from_slice(&tail);
        stream
    }

    /// Stuffs `data` into a bit list, independently of the encoder, for hand-built streams.
    fn push_stuffed(bits: &mut Vec<bool>, data: &[u8]) {
        let mut ones = 0;
        for &octet in data {
            for shift in 0..8 {
                let one = (octet >> shift) & 1 == 1;
                bits.push(one);
                ones = if one { ones + 1 } else { 0 };
                if ones == 5 {
                    bits.push(false);
                    ones = 0;
                }
            }
        }
    }

    fn push_octet(bits: &mut Vec<bool>, octet: u8) {
        bits.extend((0..8).map(|shift| (octet >> shift) & 1 == 1));
    }

    fn with_fcs(frame: &[u8]) -> Vec<u8> {
        let mut out = frame.to_vec();
        out.extend_from_slice(&fcs16(frame).to_le_bytes());
        out
    }

    /// Packs bits into octets LSB first, padding the last octet with 1s (an idle-ish tail).
    fn pack(bits: &[bool]) -> Vec<u8> {
        bits.chunks(8).map(|c| (0..8).fold(0u8, |acc, i| acc | (u8::from(*c.get(i).unwrap_or(&true)) << i))).collect()
    }

    #[test]
    fn fcs16_matches_x25_check_value() {
        assert_eq!(fcs16(b"123456789"), 0x906E);
        // The receiver's check relies on the residue of a frame followed by its own FCS.
        let mut crc = 0xFFFF;
        for &octet in &with_fcs(b"123456789") {
            crc = fcs_step(crc, octet);
        }
        assert_eq!(crc, GOOD_FCS_RESIDUE);
        assert_eq!(fcs16(&[]), 0x0000);
    }

    #[test]
    fn idle_encoder_sends_flags() {
        let mut encoder = HdlcEncoder::default();
        assert!(encoder.is_idle());
        let mut line = [0; 16];
        encoder.fill(&mut line);
        assert_eq!(line, [FLAG; 16]);
        assert!(decode(&line, 8).is_empty());
    }

    #[test]
    fn sabme_round_trip() {
        let sabme = [0x00, 0x01, 0x7F];
        let stream = encode(&[&sabme]);
        // Worked out by hand: four idle flags and the opening flag, 0x00 0x01, then 0x7F whose
        // seven 1s take a stuffed 0 after the fifth, the FCS 0x5464 low octet first, and the
        // closing flag, from which on the flags are one bit late against the octets.
        assert_eq!(fcs16(&sabme), 0x5464);
        let line = [0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x00, 0x01, 0xDF, 0xC8, 0xA8, 0xFC, 0xFC, 0xFC];
        assert_eq!(&stream[..line.len()], &line);
        assert_eq!(decode(&stream, 8), vec![Ok(sabme.to_vec())]);
        assert_eq!(decode(&stream, 1), vec![Ok(sabme.to_vec())]);
    }

    #[test]
    fn worst_case_stuffing_i_frame_round_trip() {
        // Q.921 address and control, then 260 octets of information alternating 0xFF and 0x7E.
        let mut frame = vec![0x00, 0x01, 0x00, 0x00];
        frame.extend((0..260).map(|i| if i % 2 == 0 { 0xFF } else { 0x7E }));
        assert_eq!(frame.len(), MAX_HDLC_FRAME);
        let stream = encode(&[&frame]);
        // Against an independent stuffer: each 0xFF 0x7E pair takes two stuffed 0s.
        let mut bits = Vec::new();
        for _ in 0..5 {
            push_octet(&mut bits, FLAG);
        }
        push_stuffed(&mut bits, &with_fcs(&frame));
        assert!(bits.len() >= 40 + (frame.len() + 2) * 8 + 260);
        push_octet(&mut bits, FLAG);
        let whole = bits.len() / 8;
        assert_eq!(&stream[..whole], &pack(&bits)[..whole]);
        assert_eq!(decode(&stream, 8), vec![Ok(frame.clone())]);
        assert_eq!(decode(&stream, 2), vec![Ok(frame)]);

        let ones = vec![0xFF; MAX_HDLC_FRAME];
        assert_eq!(decode(&encode(&[&ones]), 8), vec![Ok(ones)]);
    }

    /// Runs encoder and decoder tick by tick as a span would, `chunk` octets per tick, loading a
    /// frame whenever the encoder is idle (after a random pause if `pauses`).
    fn round_trip(chunk: usize, seed: u64, count: usize, pauses: bool) {
        let mut rng = Rng(seed);
        let frames: Vec<Vec<u8>> = (0..count).map(|_| random_frame(&mut rng)).collect();
        let mut encoder = HdlcEncoder::new();
        let mut decoder = HdlcDecoder::new();
        let mut received = Vec::new();
        let mut line = vec![0; chunk];
        let mut next = 0;
        let mut quiet_ticks = 0;
        while quiet_ticks < 4 {
            if encoder.is_idle() {
                if next < frames.len() && !(pauses && rng.below(3) == 0) {
                    assert_eq!(encoder.load(&frames[next]), Ok(()));
                    next += 1;
                    quiet_ticks = 0;
                } else if next == frames.len() {
                    quiet_ticks += 1;
                }
            } else {
                assert_eq!(encoder.load(&frames[0]), Err(LoadError::Busy));
            }
            encoder.fill(&mut line);
            decoder.feed(&line, &mut |r| received.push(r.map(<[u8]>::to_vec)));
        }
        let expected: Vec<Report> = frames.into_iter().map(Ok).collect();
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "frames differ after the round trip");
    }

    #[test]
    fn round_trip_random_frames_pri_chunks() {
        round_trip(8, 0x1234_5678_9ABC_DEF1, 300, false);
        round_trip(8, 0x0F0F_1234_0000_0001, 100, true);
    }

    #[test]
    fn round_trip_random_frames_bri_chunks() {
        round_trip(2, 0xDEAD_BEEF_0000_0001, 200, false);
        round_trip(2, 0x5555_AAAA_1234_0001, 100, true);
    }

    #[test]
    fn round_trip_random_frames_single_octets() {
        round_trip(1, 0xC0FF_EE00_0000_0001, 200, false);
        round_trip(1, 0x1111_2222_3333_4444, 100, true);
    }

    #[test]
    fn back_to_back_frames_decode_from_one_stream() {
        let mut rng = Rng(0xABCD_EF01_2345_6789);
        let frames: Vec<Vec<u8>> = (0..50).map(|_| random_frame(&mut rng)).collect();
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let stream = encode(&refs);
        let expected: Vec<Report> = frames.iter().cloned().map(Ok).collect();
        for chunk in [1, 2, 3, 8, 64] {
            assert!(decode(&stream, chunk) == expected, "chunk size {chunk}");
        }
    }

    #[test]
    fn consecutive_shared_and_zero_sharing_flags_are_accepted() {
        let a = [0x02, 0x01, 0x01, 0x05];
        let b = [0x00, 0x01, 0x7F, 0xFF, 0xFF];
        let expected = vec![Ok(a.to_vec()), Ok(b.to_vec())];

        // One flag closes the first frame and opens the second.
        let mut bits = Vec::new();
        push_octet(&mut bits, FLAG);
        push_stuffed(&mut bits, &with_fcs(&a));
        push_octet(&mut bits, FLAG);
        push_stuffed(&mut bits, &with_fcs(&b));
        push_octet(&mut bits, FLAG);
        assert_eq!(decode(&pack(&bits), 1), expected);

        // Several flags between frames.
        let mut bits = Vec::new();
        for _ in 0..3 {
            push_octet(&mut bits, FLAG);
        }
        push_stuffed(&mut bits, &with_fcs(&a));
        for _ in 0..5 {
            push_octet(&mut bits, FLAG);
        }
        push_stuffed(&mut bits, &with_fcs(&b));
        push_octet(&mut bits, FLAG);
        assert_eq!(decode(&pack(&bits), 8), expected);

        // Flags sharing their 0s (0111111011111101111110), which ISO 3309 allows.
        let mut bits = Vec::new();
        push_octet(&mut bits, FLAG);
        push_stuffed(&mut bits, &with_fcs(&a));
        bits.push(false);
        for _ in 0..3 {
            bits.extend([true; 6]);
            bits.push(false);
        }
        push_stuffed(&mut bits, &with_fcs(&b));
        push_octet(&mut bits, FLAG);
        assert_eq!(decode(&pack(&bits), 8), expected);
    }

    #[test]
    fn every_single_bit_error_is_caught() {
        let frame = [0x00, 0x01, 0x02, 0x04, 0x08, 0x01, 0xFF, 0x7E, 0x3F, 0x45, 0x81, 0xF8, 0x1F];
        let mut encoder = HdlcEncoder::new();
        let mut bits = Vec::new();
        for _ in 0..16 {
            bits.push(encoder.next_line_bit() == 1);
        }
        encoder.load(&frame).unwrap();
        // The opening flag takes the next 8 bits; the frame ends where the closing flag starts.
        let data_start = bits.len() + 8;
        while !encoder.is_idle() {
            bits.push(encoder.next_line_bit() == 1);
        }
        let data_end = bits.len() - 1;
        while bits.len() % 8 != 0 || bits.len() < data_end + 24 {
            bits.push(encoder.next_line_bit() == 1);
        }
        assert_eq!(decode(&pack(&bits), 8), vec![Ok(frame.to_vec())]);

        let mut errors = 0;
        for position in 0..bits.len() {
            let mut damaged = bits.clone();
            damaged[position] = !damaged[position];
            let reports = decode(&pack(&damaged), 8);
            for report in &reports {
                match report {
                    Ok(good) if (data_start..data_end).contains(&position) => {
                        panic!("bit {position} flipped inside the frame, yet {good:02x?} passed")
                    }
                    Ok(good) => assert_eq!(good, &frame, "bit {position} produced a wrong frame"),
                    Err(_) => errors += 1,
                }
            }
        }
        // Most single-bit errors inside the frame leave it a whole number of octets with a wrong
        // FCS, and each must have been reported as something.
        assert!(errors >= data_end - data_start - 16, "only {errors} errors reported");
    }

    #[test]
    fn abort_mid_frame_is_reported_and_the_next_frame_decodes() {
        let mut encoder = HdlcEncoder::new();
        let mut decoder = HdlcDecoder::new();
        let mut received = Vec::new();
        let mut line = [0; 8];
        let first = [0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        let second = [0x00, 0x01, 0x7F];
        encoder.load(&first).unwrap();
        encoder.fill(&mut line[..4]);
        encoder.abort();
        assert!(!encoder.is_idle(), "the abort pattern has yet to go out");
        while !encoder.is_idle() {
            encoder.fill(&mut line[4..5]);
        }
        encoder.fill(&mut line[5..]);
        decoder.feed(&line, &mut |r| received.push(r.map(<[u8]>::to_vec)));
        encoder.load(&second).unwrap();
        for _ in 0..4 {
            encoder.fill(&mut line);
            decoder.feed(&line, &mut |r| received.push(r.map(<[u8]>::to_vec)));
        }
        assert_eq!(received, vec![Err(HdlcError::Abort), Ok(second.to_vec())]);
    }

    #[test]
    fn abort_before_any_frame_bit_drops_the_frame_quietly() {
        let mut encoder = HdlcEncoder::new();
        encoder.load(&[0x00, 0x01, 0x7F]).unwrap();
        encoder.abort();
        assert!(encoder.is_idle());
        let mut line = [0; 8];
        encoder.fill(&mut line);
        assert_eq!(line, [FLAG; 8]);
    }

    #[test]
    fn too_long_is_reported_once() {
        let mut stream = vec![FLAG; 2];
        stream.extend((0..300).map(|i| if i % 2 == 0 { 0x55 } else { 0x00 }));
        stream.extend_from_slice(&[FLAG; 2]);
        assert_eq!(decode(&stream, 8), vec![Err(HdlcError::TooLong)]);

        // The longest legal frame is still accepted.
        let longest = vec![0xA5; MAX_HDLC_FRAME];
        assert_eq!(decode(&encode(&[&longest]), 8), vec![Ok(longest)]);
    }

    #[test]
    fn short_frames_are_too_short() {
        // A 1-octet frame is sent as asked and rejected by the receiver, as on real hardware.
        assert_eq!(decode(&encode(&[&[0x42]]), 8), vec![Err(HdlcError::TooShort)]);
        let mut bits = Vec::new();
        push_octet(&mut bits, FLAG);
        bits.extend([true, false, true]);
        push_octet(&mut bits, FLAG);
        push_octet(&mut bits, FLAG);
        assert_eq!(decode(&pack(&bits), 8), vec![Err(HdlcError::TooShort)]);
    }

    #[test]
    fn misaligned_frame_is_bad_fcs() {
        let mut bits = Vec::new();
        push_octet(&mut bits, FLAG);
        push_stuffed(&mut bits, &with_fcs(&[0x00, 0x01, 0x7F]));
        bits.push(false);
        push_octet(&mut bits, FLAG);
        push_octet(&mut bits, FLAG);
        assert_eq!(decode(&pack(&bits), 8), vec![Err(HdlcError::BadFcs)]);
    }

    #[test]
    fn load_rejects_empty_too_long_and_busy() {
        let mut encoder = HdlcEncoder::new();
        assert_eq!(encoder.load(&[]), Err(LoadError::Empty));
        assert_eq!(encoder.load(&[0; MAX_HDLC_FRAME + 1]), Err(LoadError::TooLong));
        assert!(encoder.is_idle());
        assert_eq!(encoder.load(&[0; MAX_HDLC_FRAME]), Ok(()));
        assert_eq!(encoder.load(&[0x00, 0x01, 0x7F]), Err(LoadError::Busy));
        assert!(!encoder.is_idle());
    }

    #[test]
    fn reset_forgets_a_partial_frame() {
        let frame = [0x00, 0x01, 0x00, 0x00, 9, 8, 7, 6, 5, 4, 3, 2, 1];
        let stream = encode(&[&frame, &frame]);
        let mut decoder = HdlcDecoder::new();
        let mut received = Vec::new();
        decoder.feed(&stream[..10], &mut |r| received.push(r.map(<[u8]>::to_vec)));
        decoder.reset();
        decoder.feed(&stream[10..], &mut |r| received.push(r.map(<[u8]>::to_vec)));
        // The first frame's tail is lost while hunting; its closing flag opens the second.
        assert_eq!(received, vec![Ok(frame.to_vec())]);
    }

    #[test]
    fn all_ones_gives_at_most_one_abort() {
        let ais = [0xFF; 1000];
        assert!(decode(&ais, 8).is_empty());

        // AIS arriving mid-frame abandons that frame once and never reports anything else.
        let frame = [0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8];
        let stream = encode(&[&frame]);
        let mut cut = stream[..9].to_vec();
        cut.extend_from_slice(&ais);
        assert_eq!(decode(&cut, 8), vec![Err(HdlcError::Abort)]);

        // AIS after idle flags is not a frame at all.
        let mut idle_then_ais = vec![FLAG; 8];
        idle_then_ais.extend_from_slice(&ais);
        assert!(decode(&idle_then_ais, 2).is_empty());
    }

    #[test]
    fn all_zeros_gives_at_most_one_report() {
        let zeros = [0x00; 1000];
        assert!(decode(&zeros, 8).is_empty());
        let mut after_flag = vec![FLAG; 2];
        after_flag.extend_from_slice(&zeros);
        assert_eq!(decode(&after_flag, 8), vec![Err(HdlcError::TooLong)]);
    }

    #[test]
    fn decoder_survives_random_noise() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let noise: Vec<u8> = (0..100_000).map(|_| rng.octet()).collect();
        let mut decoder = HdlcDecoder::new();
        let mut reports = 0usize;
        for piece in noise.chunks(8) {
            decoder.feed(piece, &mut |r| {
                if let Ok(frame) = r {
                    assert!((2..=MAX_HDLC_FRAME).contains(&frame.len()));
                }
                reports += 1;
            });
        }
        assert!(reports > 0);
    }
}
