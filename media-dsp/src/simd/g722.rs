//! AVX2 kernel of the multi-channel G.722 coder: eight independent channels, one per 32-bit lane.
//!
//! G.722's ADPCM is a recursion: each code depends on the predictor state the previous code left,
//! so one channel cannot be spread over vector lanes. Eight channels can: every lane runs the same
//! block-by-block arithmetic of the Recommendation (`g722::adpcm`) on its own channel's state, and
//! nothing in G.722 branches on the data except through tables and selections, which become
//! permutes and blends. The scalar reference is the one-channel codec itself (`g722::Encoder`
//! and `g722::Decoder`, proven bit-exact against spandsp); `g722::lanes` runs it lane by lane on
//! CPUs without AVX2, and `tests/g722_lanes.rs` holds this kernel equal to it, code for code and
//! sample for sample, on signals that reach every saturation.
//!
//! Three facts of the Recommendation's number ranges let the lanes use 16-bit multiply-adds
//! (`vpmaddwd`) for the QMFs and sign tricks for the sign comparisons, each exact:
//! - every predictor register (signals, differences, coefficients) is limited to 16 bits, so
//!   `x >> 15` is the sign and two such values have equal signs exactly when `x ^ y >= 0`;
//! - the transmit QMF's input pairs are 16-bit samples, packed (older, newer) in a 32-bit lane as
//!   they lie in memory, and the coefficients of Table 11/G.722 are far below 2^15;
//! - the receive QMF's inputs rL ± rH stay within 16 bits because rL and rH are limited to
//!   -16384..16383 before they are added.
//!
//! Every function here is `#[target_feature(enable = "avx2")]`; the [`Avx2`] token, built only
//! after the CPU was seen to have AVX2, is what lets safe code call them.

use std::arch::x86_64::*;

use crate::g722::adpcm::{ILB, QM2, QM4, QM6, RL42, WL};

/// Channels per kernel call.
pub const LANES: usize = 8;

/// One 32-bit value per lane.
type Lanes = [i32; LANES];

/// The QMF coefficients of Table 11/G.722 (the same as `g722::qmf`).
const H: [i32; 24] = [
    3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11,
    3,
];

/// WL[RL42[ril]]: the lower band's log scale factor step for each 4-bit code, in one table.
const WL16: [i32; 16] = {
    let mut t = [0; 16];
    let mut i = 0;
    while i < 16 {
        t[i] = WL[RL42[i]];
        i += 1;
    }
    t
};

/// Proof that this CPU runs AVX2: the only way to reach the kernels.
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());

impl Avx2 {
    /// The token, if this CPU has AVX2.
    pub fn detect() -> Option<Avx2> {
        if std::is_x86_feature_detected!("avx2") {
            Some(Avx2(()))
        } else {
            None
        }
    }

    /// Encodes one millisecond (16 samples at 16 kHz) of each of the eight channels.
    pub fn encode_chunk(self, st: &mut EncoderState, pcm: &[[i16; 16]; LANES], out: &mut [[u8; 8]; LANES]) {
        // SAFETY: an `Avx2` exists only after `detect` saw AVX2 on this CPU.
        unsafe { encode_chunk(st, pcm, out) }
    }

    /// Decodes one millisecond (8 codes at 64 kbit/s) of each of the eight channels.
    pub fn decode_chunk(self, st: &mut DecoderState, codes: &[[u8; 8]; LANES], out: &mut [[i16; 16]; LANES]) {
        // SAFETY: as in `encode_chunk`.
        unsafe { decode_chunk(st, codes, out) }
    }
}

/// The predictor and scale factor of one sub-band for eight channels (`g722::adpcm::Band`, lane
/// by lane; RLT0/PLT0 and SPL are not kept: they are used up within the block that makes them).
#[derive(Clone, Debug)]
pub struct BandState {
    s: Lanes,
    sz: Lanes,
    r1: Lanes,
    r2: Lanes,
    p1: Lanes,
    p2: Lanes,
    a1: Lanes,
    a2: Lanes,
    d: [Lanes; 6],
    b: [Lanes; 6],
    nb: Lanes,
    det: Lanes,
}

impl BandState {
    const fn new(det: i32) -> BandState {
        let z = [0; LANES];
        BandState {
            s: z,
            sz: z,
            r1: z,
            r2: z,
            p1: z,
            p2: z,
            a1: z,
            a2: z,
            d: [z; 6],
            b: [z; 6],
            nb: z,
            det: [det; LANES],
        }
    }

    /// Puts one lane back to the reset state of G.722 §6.2.1.
    fn reset(&mut self, lane: usize, det: i32) {
        for v in [&mut self.s, &mut self.sz, &mut self.r1, &mut self.r2, &mut self.p1, &mut self.p2] {
            v[lane] = 0;
        }
        for v in [&mut self.a1, &mut self.a2, &mut self.nb] {
            v[lane] = 0;
        }
        for v in self.d.iter_mut().chain(self.b.iter_mut()) {
            v[lane] = 0;
        }
        self.det[lane] = det;
    }
}

/// Eight encoders' state: the transmit QMF's last 11 input pairs and the two bands.
#[derive(Clone, Debug)]
pub struct EncoderState {
    /// Input pairs (older sample in the low 16 bits), oldest first.
    pairs: [Lanes; 11],
    low: BandState,
    high: BandState,
}

impl EncoderState {
    /// Eight encoders in the reset state.
    pub const fn new() -> EncoderState {
        EncoderState { pairs: [[0; LANES]; 11], low: BandState::new(32), high: BandState::new(8) }
    }

    /// Puts one channel back to the reset state (a new call on that lane).
    pub fn reset(&mut self, lane: usize) {
        for p in &mut self.pairs {
            p[lane] = 0;
        }
        self.low.reset(lane, 32);
        self.high.reset(lane, 8);
    }
}

impl Default for EncoderState {
    fn default() -> Self {
        Self::new()
    }
}

/// Eight 64 kbit/s decoders' state: the receive QMF's history and the two bands.
#[derive(Clone, Debug)]
pub struct DecoderState {
    /// The last 10 pairs (xd of the code before, xd of the code) in the low and high 16 bits.
    pd: [Lanes; 10],
    /// The same for xs.
    ps: [Lanes; 10],
    low: BandState,
    high: BandState,
}

impl DecoderState {
    /// Eight decoders in the reset state.
    pub const fn new() -> DecoderState {
        DecoderState { pd: [[0; LANES]; 10], ps: [[0; LANES]; 10], low: BandState::new(32), high: BandState::new(8) }
    }

    /// Puts one channel back to the reset state.
    pub fn reset(&mut self, lane: usize) {
        for p in self.pd.iter_mut().chain(self.ps.iter_mut()) {
            p[lane] = 0;
        }
        self.low.reset(lane, 32);
        self.high.reset(lane, 8);
    }
}

impl Default for DecoderState {
    fn default() -> Self {
        Self::new()
    }
}

#[target_feature(enable = "avx2")]
#[inline]
fn ld(v: &Lanes) -> __m256i {
    // SAFETY: `v` is 32 readable bytes; the load has no alignment requirement.
    unsafe { _mm256_loadu_si256(v.as_ptr().cast()) }
}

#[target_feature(enable = "avx2")]
#[inline]
fn st(v: &mut Lanes, x: __m256i) {
    // SAFETY: `v` is 32 writable bytes; the store has no alignment requirement.
    unsafe { _mm256_storeu_si256(v.as_mut_ptr().cast(), x) }
}

#[target_feature(enable = "avx2")]
#[inline]
fn k(c: i32) -> __m256i {
    _mm256_set1_epi32(c)
}

/// A 16-bit pair for `vpmaddwd`: `lo` multiplies the low half of each lane, `hi` the high half.
const fn pair(lo: i32, hi: i32) -> i32 {
    (hi << 16) | (lo & 0xFFFF)
}

/// LIMIT: `x` limited to `lo..=hi`.
#[target_feature(enable = "avx2")]
#[inline]
fn clamp(x: __m256i, lo: i32, hi: i32) -> __m256i {
    _mm256_min_epi32(_mm256_max_epi32(x, k(lo)), k(hi))
}

/// 16-bit saturation.
#[target_feature(enable = "avx2")]
#[inline]
fn sat(x: __m256i) -> __m256i {
    clamp(x, -32768, 32767)
}

/// `(a * b) >> 15`, the Recommendation's fractional multiply.
#[target_feature(enable = "avx2")]
#[inline]
fn mul15(a: __m256i, b: __m256i) -> __m256i {
    _mm256_srai_epi32::<15>(_mm256_mullo_epi32(a, b))
}

/// `b` where the sign bit of `mask` is set, else `a`.
#[target_feature(enable = "avx2")]
#[inline]
fn select(a: __m256i, b: __m256i, mask: __m256i) -> __m256i {
    _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), _mm256_castsi256_ps(mask)))
}

/// `t[idx]` for a 16-entry table held as two vectors; `idx` must be 0..=15.
#[target_feature(enable = "avx2")]
#[inline]
fn lut16(t: &[__m256i; 2], idx: __m256i) -> __m256i {
    let lo = _mm256_permutevar8x32_epi32(t[0], idx);
    let hi = _mm256_permutevar8x32_epi32(t[1], idx);
    select(lo, hi, _mm256_slli_epi32::<28>(idx))
}

/// `t[idx]` for a 32-entry table; `idx` must be 0..=31.
#[target_feature(enable = "avx2")]
#[inline]
fn lut32(t: &[__m256i; 4], idx: __m256i) -> __m256i {
    let lo = lut16(&[t[0], t[1]], idx);
    let hi = lut16(&[t[2], t[3]], idx);
    select(lo, hi, _mm256_slli_epi32::<27>(idx))
}

/// `t[idx]` for a 64-entry table; `idx` must be 0..=63.
#[target_feature(enable = "avx2")]
#[inline]
fn lut64(t: &[__m256i; 8], idx: __m256i) -> __m256i {
    let lo = lut32(&[t[0], t[1], t[2], t[3]], idx);
    let hi = lut32(&[t[4], t[5], t[6], t[7]], idx);
    select(lo, hi, _mm256_slli_epi32::<26>(idx))
}

/// A table as vectors of eight entries (its length a multiple of 8).
#[target_feature(enable = "avx2")]
#[inline]
fn table<const N: usize, const V: usize>(t: &[i32; N]) -> [__m256i; V] {
    std::array::from_fn(|i| {
        let c = &t[8 * i..8 * i + 8];
        _mm256_setr_epi32(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7])
    })
}

/// 8x8 transpose of 32-bit lanes: `r[i][j]` becomes `r[j][i]`.
#[target_feature(enable = "avx2")]
#[inline]
fn transpose(r: [__m256i; 8]) -> [__m256i; 8] {
    let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
    let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
    let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
    let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
    let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    let u0 = _mm256_unpacklo_epi64(t0, t2);
    let u1 = _mm256_unpackhi_epi64(t0, t2);
    let u2 = _mm256_unpacklo_epi64(t1, t3);
    let u3 = _mm256_unpackhi_epi64(t1, t3);
    let u4 = _mm256_unpacklo_epi64(t4, t6);
    let u5 = _mm256_unpackhi_epi64(t4, t6);
    let u6 = _mm256_unpacklo_epi64(t5, t7);
    let u7 = _mm256_unpackhi_epi64(t5, t7);
    [
        _mm256_permute2x128_si256::<0x20>(u0, u4),
        _mm256_permute2x128_si256::<0x20>(u1, u5),
        _mm256_permute2x128_si256::<0x20>(u2, u6),
        _mm256_permute2x128_si256::<0x20>(u3, u7),
        _mm256_permute2x128_si256::<0x31>(u0, u4),
        _mm256_permute2x128_si256::<0x31>(u1, u5),
        _mm256_permute2x128_si256::<0x31>(u2, u6),
        _mm256_permute2x128_si256::<0x31>(u3, u7),
    ]
}

/// The tables every code needs, as vectors.
struct Tables {
    qm4: [__m256i; 2],
    wl: [__m256i; 2],
    ilb: [__m256i; 4],
    qm2: __m256i,
}

impl Tables {
    #[target_feature(enable = "avx2")]
    #[inline]
    fn new() -> Tables {
        Tables {
            qm4: table(&QM4),
            wl: table(&WL16),
            ilb: table(&ILB),
            qm2: _mm256_setr_epi32(QM2[0], QM2[1], QM2[2], QM2[3], 0, 0, 0, 0),
        }
    }
}

/// One band's state in registers for the length of a chunk.
struct Band {
    s: __m256i,
    sz: __m256i,
    r1: __m256i,
    r2: __m256i,
    p1: __m256i,
    p2: __m256i,
    a1: __m256i,
    a2: __m256i,
    d: [__m256i; 6],
    b: [__m256i; 6],
    nb: __m256i,
    det: __m256i,
}

impl Band {
    #[target_feature(enable = "avx2")]
    #[inline]
    fn load(b: &BandState) -> Band {
        Band {
            s: ld(&b.s),
            sz: ld(&b.sz),
            r1: ld(&b.r1),
            r2: ld(&b.r2),
            p1: ld(&b.p1),
            p2: ld(&b.p2),
            a1: ld(&b.a1),
            a2: ld(&b.a2),
            d: std::array::from_fn(|i| ld(&b.d[i])),
            b: std::array::from_fn(|i| ld(&b.b[i])),
            nb: ld(&b.nb),
            det: ld(&b.det),
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn store(&self, b: &mut BandState) {
        st(&mut b.s, self.s);
        st(&mut b.sz, self.sz);
        st(&mut b.r1, self.r1);
        st(&mut b.r2, self.r2);
        st(&mut b.p1, self.p1);
        st(&mut b.p2, self.p2);
        st(&mut b.a1, self.a1);
        st(&mut b.a2, self.a2);
        for i in 0..6 {
            st(&mut b.d[i], self.d[i]);
            st(&mut b.b[i], self.b[i]);
        }
        st(&mut b.nb, self.nb);
        st(&mut b.det, self.det);
    }

    /// Block 4 (`g722::adpcm::Band::block4`) on eight lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn block4(&mut self, dlt: __m256i) {
        let one = k(1);
        // RECONS and PARREC.
        let r0 = sat(_mm256_add_epi32(self.s, dlt));
        let p0 = sat(_mm256_add_epi32(self.sz, dlt));

        // UPPOL2. `p0 ^ p1 >= 0` is SG0 == SG1 (all three are 16-bit), and `_mm256_sign_epi32(v, m)`
        // is v where m > 0 and -v where m < 0; `| 1` keeps m off zero.
        let x01 = _mm256_xor_si256(p0, self.p1);
        let x02 = _mm256_xor_si256(p0, self.p2);
        let wd1 = sat(_mm256_slli_epi32::<2>(self.a1));
        let wd2 =
            _mm256_min_epi32(_mm256_sign_epi32(wd1, _mm256_or_si256(_mm256_xor_si256(x01, k(-1)), one)), k(32767));
        let wd3 = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_srai_epi32::<7>(wd2), _mm256_sign_epi32(k(128), _mm256_or_si256(x02, one))),
            mul15(self.a2, k(32512)),
        );
        let ap2 = clamp(wd3, -12288, 12288);

        // UPPOL1.
        let wd1 = _mm256_sign_epi32(k(192), _mm256_or_si256(x01, one));
        let wd2 = mul15(self.a1, k(32640));
        // The LIMITs on 15360 - APL2, WD1 + WD2 (here), WD2 + WD3 (UPZERO) and DLT + DLT (FILTEZ)
        // never act (`g722::adpcm`'s RANGES), so they are left out as in the scalar code.
        let limit = _mm256_sub_epi32(k(15360), ap2);
        let neg_limit = _mm256_sub_epi32(_mm256_setzero_si256(), limit);
        let ap1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(wd1, wd2), neg_limit), limit);

        // UPZERO: the differences are 16-bit too, so the same sign test applies.
        let step = _mm256_andnot_si256(_mm256_cmpeq_epi32(dlt, _mm256_setzero_si256()), k(128));
        let mut bp = [_mm256_setzero_si256(); 6];
        for ((bp, &d), &b) in bp.iter_mut().zip(&self.d).zip(&self.b) {
            let wd2 = _mm256_sign_epi32(step, _mm256_or_si256(_mm256_xor_si256(d, dlt), one));
            *bp = _mm256_add_epi32(wd2, mul15(b, k(32640)));
        }

        // DELAYA.
        self.d = [dlt, self.d[0], self.d[1], self.d[2], self.d[3], self.d[4]];
        self.b = bp;
        self.r2 = self.r1;
        self.r1 = r0;
        self.p2 = self.p1;
        self.p1 = p0;
        self.a1 = ap1;
        self.a2 = ap2;

        // FILTEP.
        let wd1 = mul15(self.a1, sat(_mm256_add_epi32(self.r1, self.r1)));
        let wd2 = mul15(self.a2, sat(_mm256_add_epi32(self.r2, self.r2)));
        let sp = sat(_mm256_add_epi32(wd1, wd2));

        // FILTEZ.
        let mut sz = _mm256_setzero_si256();
        for i in 0..6 {
            sz = _mm256_add_epi32(sz, mul15(self.b[i], _mm256_add_epi32(self.d[i], self.d[i])));
        }
        self.sz = sat(sz);

        // PREDIC.
        self.s = sat(_mm256_add_epi32(sp, self.sz));
    }

    /// LOGSCL + SCALEL for the 4-bit lower-band codes `ril`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn adapt_low(&mut self, t: &Tables, ril: __m256i) {
        let wd = mul15(self.nb, k(32512));
        self.nb = clamp(_mm256_add_epi32(wd, lut16(&t.wl, ril)), 0, 18432);
        self.det = scale(t, self.nb, 8);
    }

    /// LOGSCH + SCALEH for the 2-bit higher-band codes `ih`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn adapt_high(&mut self, t: &Tables, ih: __m256i) {
        let wd = mul15(self.nb, k(32512));
        // WH[RH2[ih]]: -214 for the inner codes 1 and 3, 798 for the outer 0 and 2.
        let odd = _mm256_slli_epi32::<31>(ih);
        let w = select(k(798), k(-214), odd);
        self.nb = clamp(_mm256_add_epi32(wd, w), 0, 22528);
        self.det = scale(t, self.nb, 10);
    }
}

/// SCALEL/SCALEH (`g722::adpcm::scale`): the antilog table, then a shift either way.
#[target_feature(enable = "avx2")]
#[inline]
fn scale(t: &Tables, nb: __m256i, shift: i32) -> __m256i {
    let mantissa = lut32(&t.ilb, _mm256_and_si256(_mm256_srai_epi32::<6>(nb), k(31)));
    let exponent = _mm256_sub_epi32(k(shift), _mm256_srai_epi32::<11>(nb));
    let right = _mm256_max_epi32(exponent, _mm256_setzero_si256());
    let left = _mm256_max_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), exponent), _mm256_setzero_si256());
    _mm256_slli_epi32::<2>(_mm256_sllv_epi32(_mm256_srlv_epi32(mantissa, right), left))
}

/// QUANTL (`g722::adpcm::quantl`): counts the decision levels at or below |el| and maps the
/// interval to its code with the closed forms of Table 7/G.722's ILP and ILN columns.
#[target_feature(enable = "avx2")]
#[inline]
fn quantl(el: __m256i, detl: __m256i) -> __m256i {
    // One's complement magnitude: el for el >= 0, -(el + 1) otherwise.
    let neg = _mm256_srai_epi32::<31>(el);
    let wd = _mm256_xor_si256(el, neg);
    // DETL is at most 16384 and the levels below 2^12, so the 16-bit multiply-add is exact; the
    // levels' high halves are zero, so only DETL's low half takes part.
    let mut above = _mm256_setzero_si256();
    for &q in &crate::g722::adpcm::Q6[1..30] {
        let level = _mm256_srai_epi32::<12>(_mm256_madd_epi16(detl, k(q)));
        above = _mm256_add_epi32(above, _mm256_cmpgt_epi32(level, wd));
    }
    // Interval i = 1 + (29 levels - those above |el|).
    let i = _mm256_add_epi32(k(30), above);
    // ILP[i] = 62 - i; ILN[i] = 34 - i, plus 30 for i = 1 and 2 (codes 63 and 62).
    let pos = _mm256_sub_epi32(k(62), i);
    let low = _mm256_and_si256(_mm256_cmpgt_epi32(k(3), i), k(30));
    let negc = _mm256_add_epi32(_mm256_sub_epi32(k(34), i), low);
    select(pos, negc, neg)
}

#[target_feature(enable = "avx2")]
unsafe fn encode_chunk(st_: &mut EncoderState, pcm: &[[i16; 16]; LANES], out: &mut [[u8; 8]; LANES]) {
    let t = Tables::new();
    // Row l = channel l's eight input pairs; after the transpose, row k = pair k of every lane.
    // SAFETY: each row is 16 i16 = 32 readable bytes; unaligned loads are allowed.
    let rows: [__m256i; 8] = std::array::from_fn(|l| unsafe { _mm256_loadu_si256(pcm[l].as_ptr().cast()) });
    let now = transpose(rows);
    // w[0..11] are the previous pairs, w[11 + k] the chunk's pair k: code k's window is
    // w[k..k + 12], oldest first.
    let mut w = [_mm256_setzero_si256(); 19];
    for (w, p) in w.iter_mut().zip(&st_.pairs) {
        *w = ld(p);
    }
    w[11..].copy_from_slice(&now);
    // For the pair m codes back (0 = this code's), xA + xB weighs its older sample by h(2m+1)
    // and its newer one by h(2m); xA - xB the same with the older one negated (G.722 §3.2).
    let sum: [__m256i; 12] = std::array::from_fn(|m| k(pair(H[2 * m + 1], H[2 * m])));
    let diff: [__m256i; 12] = std::array::from_fn(|m| k(pair(-H[2 * m + 1], H[2 * m])));
    let mut low = Band::load(&st_.low);
    let mut high = Band::load(&st_.high);
    let mut codes = [_mm256_setzero_si256(); 8];
    for (kk, code) in codes.iter_mut().enumerate() {
        let mut xs = _mm256_setzero_si256();
        let mut xd = _mm256_setzero_si256();
        for m in 0..12 {
            let p = w[kk + 11 - m];
            xs = _mm256_add_epi32(xs, _mm256_madd_epi16(p, sum[m]));
            xd = _mm256_add_epi32(xd, _mm256_madd_epi16(p, diff[m]));
        }
        let xl = _mm256_srai_epi32::<14>(xs);
        let xh = _mm256_srai_epi32::<14>(xd);

        // Lower band: SUBTRA, QUANTL, INVQAL, LOGSCL/SCALEL, block 4.
        let el = sat(_mm256_sub_epi32(xl, low.s));
        let ilow = quantl(el, low.det);
        let ril = _mm256_srli_epi32::<2>(ilow);
        let dlow = mul15(low.det, lut16(&t.qm4, ril));
        low.adapt_low(&t, ril);
        low.block4(dlow);

        // Higher band: SUBTRA, QUANTH, INVQAH, LOGSCH/SCALEH, block 4.
        let eh = sat(_mm256_sub_epi32(xh, high.s));
        let negh = _mm256_srai_epi32::<31>(eh);
        let wd = _mm256_xor_si256(eh, negh);
        let level = _mm256_srai_epi32::<12>(_mm256_mullo_epi32(k(564), high.det));
        // 2 for a non-negative difference, plus 1 for the inner interval.
        let ihigh =
            _mm256_add_epi32(_mm256_andnot_si256(negh, k(2)), _mm256_and_si256(_mm256_cmpgt_epi32(level, wd), k(1)));
        let dhigh = mul15(high.det, _mm256_permutevar8x32_epi32(t.qm2, ihigh));
        high.adapt_high(&t, ihigh);
        high.block4(dhigh);

        *code = _mm256_or_si256(_mm256_slli_epi32::<6>(ihigh), ilow);
    }
    low.store(&mut st_.low);
    high.store(&mut st_.high);
    for (p, &v) in st_.pairs.iter_mut().zip(&w[8..]) {
        st(p, v);
    }
    // Row l = channel l's eight codes, one per 32-bit lane: gather each lane's low byte into the
    // low four bytes of each half, then the two halves' words side by side.
    let bytes = _mm256_setr_epi8(
        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1,
    );
    let words = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
    for (o, row) in out.iter_mut().zip(transpose(codes)) {
        let packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(row, bytes), words);
        *o = _mm_cvtsi128_si64(_mm256_castsi256_si128(packed)).to_le_bytes();
    }
}

#[target_feature(enable = "avx2")]
unsafe fn decode_chunk(st_: &mut DecoderState, codes: &[[u8; 8]; LANES], out: &mut [[i16; 16]; LANES]) {
    let t = Tables::new();
    let qm6: [__m256i; 8] = table(&QM6);
    // Row l = channel l's eight codes widened to 32 bits; after the transpose, row k = code k.
    let rows: [__m256i; 8] =
        std::array::from_fn(|l| _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(i64::from_le_bytes(codes[l]))));
    let now = transpose(rows);
    // pd[0..10] the previous pairs, pd[10 + k] code k's: (xd before, xd now). Code k's window
    // is pd[10 + k - 2m], m = 0..5: two 16-bit values per lane, the newer in the high half.
    let mut pd = [_mm256_setzero_si256(); 18];
    let mut ps = [_mm256_setzero_si256(); 18];
    for (i, (d, s)) in st_.pd.iter().zip(&st_.ps).enumerate() {
        pd[i] = ld(d);
        ps[i] = ld(s);
    }
    // out1 weighs xd(j) by h(2j) over the 12 newest xd (j = 0 the newest), out2 xs(j) by h(2j+1)
    // (G.722 §4.4): pair m holds j = 2m + 1 low and j = 2m high.
    let c1: [__m256i; 6] = std::array::from_fn(|m| k(pair(H[4 * m + 2], H[4 * m])));
    let c2: [__m256i; 6] = std::array::from_fn(|m| k(pair(H[4 * m + 3], H[4 * m + 1])));
    let mut low = Band::load(&st_.low);
    let mut high = Band::load(&st_.high);
    let mut samples = [_mm256_setzero_si256(); 8];
    let lo16 = k(0xFFFF);
    for (kk, sample) in samples.iter_mut().enumerate() {
        let code = now[kk];
        let ilow = _mm256_and_si256(code, k(63));
        let ihigh = _mm256_srli_epi32::<6>(code);
        let ril = _mm256_srli_epi32::<2>(ilow);

        // Lower band: INVQBL for the output, INVQAL for the predictor.
        let wd = mul15(low.det, lut64(&qm6, ilow));
        let rl = clamp(_mm256_add_epi32(low.s, wd), -16384, 16383);
        let dlow = mul15(low.det, lut16(&t.qm4, ril));
        low.adapt_low(&t, ril);
        low.block4(dlow);

        // Higher band.
        let dhigh = mul15(high.det, _mm256_permutevar8x32_epi32(t.qm2, ihigh));
        let rh = clamp(_mm256_add_epi32(high.s, dhigh), -16384, 16383);
        high.adapt_high(&t, ihigh);
        high.block4(dhigh);

        // Receive QMF.
        let xd = _mm256_sub_epi32(rl, rh);
        let xs = _mm256_add_epi32(rl, rh);
        let prev_d = _mm256_srli_epi32::<16>(pd[9 + kk]);
        let prev_s = _mm256_srli_epi32::<16>(ps[9 + kk]);
        pd[10 + kk] = _mm256_or_si256(prev_d, _mm256_slli_epi32::<16>(xd));
        ps[10 + kk] = _mm256_or_si256(prev_s, _mm256_slli_epi32::<16>(xs));
        let mut out1 = _mm256_setzero_si256();
        let mut out2 = _mm256_setzero_si256();
        for m in 0..6 {
            out1 = _mm256_add_epi32(out1, _mm256_madd_epi16(pd[10 + kk - 2 * m], c1[m]));
            out2 = _mm256_add_epi32(out2, _mm256_madd_epi16(ps[10 + kk - 2 * m], c2[m]));
        }
        let o1 = sat(_mm256_srai_epi32::<11>(out1));
        let o2 = sat(_mm256_srai_epi32::<11>(out2));
        *sample = _mm256_or_si256(_mm256_and_si256(o1, lo16), _mm256_slli_epi32::<16>(o2));
    }
    low.store(&mut st_.low);
    high.store(&mut st_.high);
    for (i, (d, s)) in st_.pd.iter_mut().zip(st_.ps.iter_mut()).enumerate() {
        st(d, pd[8 + i]);
        st(s, ps[8 + i]);
    }
    for (o, row) in out.iter_mut().zip(transpose(samples)) {
        // SAFETY: each row of `out` is 16 i16 = 32 writable bytes; unaligned stores are allowed.
        unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), row) };
    }
}
