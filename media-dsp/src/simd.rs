//! Vector kernels of the echo canceller: a scalar reference and an AVX2/FMA variant, picked once.
//!
//! This is the only module of `media-dsp` allowed to hold `unsafe` code. Each kernel exists twice:
//! the scalar one is the reference (and the fallback on CPUs without AVX2/FMA), the AVX2 one is the
//! fast path. Both accumulate in the same lanes in the same order (16 lanes: two 8-lane vectors,
//! added together before the horizontal sum), so they differ only by FMA rounding; the tests below
//! and `tests/echo.rs` hold them to that. Two vectors of accumulators, not one, because a single
//! FMA chain would wait 4 cycles per step on its own latency.
//!
//! The adaptive filter is an IPNLMS (improved proportionate NLMS): every tap gets its own step
//! `a + b·|w_k|`, so the few large taps of a sparse echo path (a hybrid behind a bulk delay) adapt
//! fast while the long empty stretch stays near zero. One fused pass per sample updates the taps
//! along the pre-whitened far end `u` and, in the same sweep, computes the next sample's whitened
//! prediction `w·z` and the step's normalisers (see `echo::nlms`): one trip through memory per
//! sample. Filters that do not change within a block (the foreground; the background as the
//! block ends, for its error power) give their eight outputs from one pass that loads each tap
//! vector once ([`Kernel::dot_block`]).

use crate::echo::BLOCK;

// The multi-channel G.722 kernel lives in its own file (see its module doc).
#[cfg(target_arch = "x86_64")]
pub mod g722;

/// Which implementation the kernels run; chosen once by [`Kernel::detect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Plain Rust in the AVX2 kernel's lane order; the reference.
    Scalar,
    /// AVX2 + FMA on x86-64, eight f32 lanes per vector. It carries a [`Detected`] proof, which
    /// only [`Kernel::detect`] and [`Kernel::available`] can make, so safe code outside this module
    /// cannot name the AVX2 kernel on a CPU without AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    Avx2Fma(Detected),
}

/// Proof that the CPU has AVX2 and FMA: its field is private, so it exists only where this module
/// checked the features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detected(());

/// Both kernels, for `available` on a CPU that has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
static BOTH: [Kernel; 2] = [Kernel::Scalar, Kernel::Avx2Fma(Detected(()))];

/// What a pass over the background filter returns.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Fused {
    /// `w · z`: the prediction in the whitened domain, where the adaptation error lives. (The
    /// raw-domain prediction `w·x` is only needed for the block's error power, which
    /// [`Kernel::dot_block`] gives once per block; leaving it out spares this pass a stream.)
    pub dot_z: f32,
    /// `Σ |w_k|` (the IPNLMS gain normaliser).
    pub l1: f32,
    /// `Σ |w_k| · z_k²` (the proportionate part of the step normaliser). Approximating it by
    /// `Σ|w|·|z|²/N` looked harmless (within 20% on white noise) but stalled convergence on
    /// sparse paths, where a handful of taps carry all the proportionate gain.
    pub s1: f32,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Kernel::Avx2Fma(Detected(()));
            }
        }
        Kernel::Scalar
    }

    /// Every kernel this CPU can run, the scalar reference first (for tests and benches).
    pub fn available() -> &'static [Kernel] {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return &BOTH;
            }
        }
        &[Kernel::Scalar]
    }

    /// The outputs of a fixed filter for a block: `out[i] = Σ_k w[k] · x[base - i + k]`, the
    /// window of the block's sample `i` (0 = oldest) starting at `base - i` in a history written
    /// backwards.
    ///
    /// # Panics
    /// If `w` is not a multiple of 16 long, `base < 7` or `x` is shorter than `base + w.len()`.
    #[inline]
    pub fn dot_block(self, w: &[f32], x: &[f32], base: usize) -> [f32; BLOCK] {
        assert!(w.len() % 16 == 0 && base >= BLOCK - 1 && x.len() >= base + w.len(), "dot_block bounds");
        match self {
            Kernel::Scalar => dot_block_scalar(w, x, base),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Avx2Fma` holds a `Detected`, which only `detect`/`available` make after
            // `is_x86_feature_detected!` confirmed AVX2 and FMA; the bounds were checked just above.
            Kernel::Avx2Fma(_) => unsafe { avx2::dot_block(w, x, base) },
        }
    }

    /// Whitened prediction `w·z`, `Σ|w|` and `Σ|w|·z²`, without updating.
    #[inline]
    pub fn prime(self, w: &[f32], z: &[f32]) -> Fused {
        check_lengths(w.len(), z.len());
        match self {
            Kernel::Scalar => prime_scalar(w, z),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: features detected at construction (see `dot_block`), lengths checked above.
            Kernel::Avx2Fma(_) => unsafe { avx2::prime(w, z) },
        }
    }

    /// IPNLMS update `w_k += (ca + cb·|w_k|) · u_k` along the (pre-whitened) regressor `u` (the
    /// step `c` folded into the gain constants `a`, `b` by the caller: one multiply less per tap),
    /// then `w·z`, `Σ|w|` and `Σ|w|·z²` of the updated taps over the next window (`z2` holds
    /// `z²`, so it is loaded rather than recomputed). The sums must be of the updated taps:
    /// from zero taps the first updates grow `Σ|w|` by orders of magnitude within a block, and a
    /// normaliser a step behind lets the proportionate gains run away.
    #[inline]
    pub fn fused(self, w: &mut [f32], u: &[f32], z: &[f32], z2: &[f32], ca: f32, cb: f32) -> Fused {
        check_lengths(w.len(), u.len());
        check_lengths(w.len(), z.len());
        check_lengths(w.len(), z2.len());
        match self {
            Kernel::Scalar => fused_scalar(w, u, z, z2, ca, cb),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: features detected at construction (see `dot_block`), all four lengths
            // checked equal and a multiple of 16 above.
            Kernel::Avx2Fma(_) => unsafe { avx2::fused(w, u, z, z2, ca, cb) },
        }
    }
}

/// The kernels read whole vectors; a wrong length is a bug in the caller, not a runtime condition.
#[inline]
fn check_lengths(a: usize, b: usize) {
    assert!(a == b && a % 16 == 0, "kernel lengths {a} and {b} must be equal multiples of 16");
}

/// Folds 16 lanes (two vectors) to one number in the AVX2 kernel's order.
#[inline]
fn hsum16(l: &[f32; 16]) -> f32 {
    let v: [f32; 8] = std::array::from_fn(|i| l[i] + l[i + 8]);
    let q = [v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]];
    let p = [q[0] + q[2], q[1] + q[3]];
    p[0] + p[1]
}

fn dot_block_scalar(w: &[f32], x: &[f32], base: usize) -> [f32; BLOCK] {
    let mut out = [0.0f32; BLOCK];
    for (i, o) in out.iter_mut().enumerate() {
        let xs = &x[base - i..base - i + w.len()];
        // One 8-lane accumulator per sample: the eight samples are the independent chains.
        let mut acc = [0.0f32; 16];
        for (wc, xc) in w.chunks_exact(8).zip(xs.chunks_exact(8)) {
            for l in 0..8 {
                acc[l] += wc[l] * xc[l];
            }
        }
        *o = hsum16(&acc);
    }
    out
}

fn prime_scalar(w: &[f32], z: &[f32]) -> Fused {
    let (mut dz, mut l1, mut s1) = ([0.0f32; 16], [0.0f32; 16], [0.0f32; 16]);
    for (wc, zc) in w.chunks_exact(16).zip(z.chunks_exact(16)) {
        for l in 0..16 {
            let aw = wc[l].abs();
            dz[l] += wc[l] * zc[l];
            l1[l] += aw;
            s1[l] += aw * (zc[l] * zc[l]);
        }
    }
    Fused { dot_z: hsum16(&dz), l1: hsum16(&l1), s1: hsum16(&s1) }
}

fn fused_scalar(w: &mut [f32], u: &[f32], z: &[f32], z2: &[f32], ca: f32, cb: f32) -> Fused {
    let (mut dz, mut l1, mut s1) = ([0.0f32; 16], [0.0f32; 16], [0.0f32; 16]);
    let streams = u.chunks_exact(16).zip(z.chunks_exact(16)).zip(z2.chunks_exact(16));
    for (wc, ((uc, zc), qc)) in w.chunks_exact_mut(16).zip(streams) {
        for l in 0..16 {
            let g = cb * wc[l].abs() + ca;
            let nw = g * uc[l] + wc[l];
            wc[l] = nw;
            let aw = nw.abs();
            dz[l] += nw * zc[l];
            l1[l] += aw;
            s1[l] += aw * qc[l];
        }
    }
    Fused { dot_z: hsum16(&dz), l1: hsum16(&l1), s1: hsum16(&s1) }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The AVX2/FMA bodies; callers guarantee the CPU features and the lengths.
    use std::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_andnot_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_fmadd_ps,
        _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm_add_ps, _mm_add_ss,
        _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps,
    };

    use super::{Fused, BLOCK};

    /// Horizontal sum of two accumulators in the lane order of `super::hsum16`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn hsum(v0: __m256, v1: __m256) -> f32 {
        let v = _mm256_add_ps(v0, v1);
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps::<1>(v);
        let q = _mm_add_ps(lo, hi); // [l0+l4, l1+l5, l2+l6, l3+l7]
        let p = _mm_add_ps(q, _mm_movehl_ps(q, q)); // [q0+q2, q1+q3, ..]
        let s = _mm_add_ss(p, _mm_shuffle_ps::<0b01>(p, p));
        _mm_cvtss_f32(s)
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA; `w.len()` is a multiple of 16, `base >= 7` and
    /// `x.len() >= base + w.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_block(w: &[f32], x: &[f32], base: usize) -> [f32; BLOCK] {
        // One accumulator per sample (8 independent chains hide the FMA latency; 16 would not fit
        // the 16 ymm registers next to the tap and history vectors).
        let mut acc = [_mm256_setzero_ps(); BLOCK];
        let n = w.len();
        let wp = w.as_ptr();
        // The oldest sample's window starts at `base`, the newest's at `base - 7`.
        // SAFETY: `base >= 7`, so the pointer stays inside `x`.
        let xp = unsafe { x.as_ptr().add(base - (BLOCK - 1)) };
        let mut j = 0;
        while j < n {
            // SAFETY: `j + 8 <= n = w.len()`.
            let wv = unsafe { _mm256_loadu_ps(wp.add(j)) };
            for (i, a) in acc.iter_mut().enumerate() {
                // SAFETY: sample i reads x[base - i + j .. + 8]; with `j + 8 <= n` and
                // `base + n <= x.len()` that stays inside `x` (xp is x + base - 7).
                let xv = unsafe { _mm256_loadu_ps(xp.add(BLOCK - 1 - i + j)) };
                *a = _mm256_fmadd_ps(wv, xv, *a);
            }
            j += 8;
        }
        std::array::from_fn(|i| hsum(acc[i], _mm256_setzero_ps()))
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA; the two slices have the same length, a multiple of 16.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn prime(w: &[f32], z: &[f32]) -> Fused {
        let sign = _mm256_set1_ps(-0.0);
        let zero = _mm256_setzero_ps();
        let (mut dz, mut l1, mut s1) = ([zero; 2], [zero; 2], [zero; 2]);
        let (wp, zp) = (w.as_ptr(), z.as_ptr());
        let mut k = 0;
        while k < w.len() {
            for h in 0..2 {
                let j = k + 8 * h;
                // SAFETY: `j + 8 <= len` for both slices (equal lengths, multiples of 16).
                let (wv, zv) = unsafe { (_mm256_loadu_ps(wp.add(j)), _mm256_loadu_ps(zp.add(j))) };
                let aw = _mm256_andnot_ps(sign, wv);
                dz[h] = _mm256_fmadd_ps(wv, zv, dz[h]);
                l1[h] = _mm256_add_ps(l1[h], aw);
                s1[h] = _mm256_fmadd_ps(aw, _mm256_mul_ps(zv, zv), s1[h]);
            }
            k += 16;
        }
        Fused { dot_z: hsum(dz[0], dz[1]), l1: hsum(l1[0], l1[1]), s1: hsum(s1[0], s1[1]) }
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA; all four slices have the same length, a multiple of 16.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn fused(w: &mut [f32], u: &[f32], z: &[f32], z2: &[f32], ca: f32, cb: f32) -> Fused {
        let sign = _mm256_set1_ps(-0.0);
        let (av, bv) = (_mm256_set1_ps(ca), _mm256_set1_ps(cb));
        let zero = _mm256_setzero_ps();
        let (mut dz, mut l1, mut s1) = ([zero; 2], [zero; 2], [zero; 2]);
        let n = w.len();
        let (wp, up, zp, qp) = (w.as_mut_ptr(), u.as_ptr(), z.as_ptr(), z2.as_ptr());
        let mut k = 0;
        while k < n {
            for h in 0..2 {
                let j = k + 8 * h;
                // SAFETY: the four slices have length `n`, a multiple of 16, and `j + 8 <= n`, so
                // the loads and the store stay in bounds; `w` is borrowed mutably and does not
                // overlap the shared `u`/`z`/`z2` borrows.
                unsafe {
                    let wv = _mm256_loadu_ps(wp.add(j));
                    let g = _mm256_fmadd_ps(bv, _mm256_andnot_ps(sign, wv), av);
                    let nw = _mm256_fmadd_ps(g, _mm256_loadu_ps(up.add(j)), wv);
                    _mm256_storeu_ps(wp.add(j), nw);
                    let aw = _mm256_andnot_ps(sign, nw);
                    dz[h] = _mm256_fmadd_ps(nw, _mm256_loadu_ps(zp.add(j)), dz[h]);
                    l1[h] = _mm256_add_ps(l1[h], aw);
                    s1[h] = _mm256_fmadd_ps(aw, _mm256_loadu_ps(qp.add(j)), s1[h]);
                }
            }
            k += 16;
        }
        Fused { dot_z: hsum(dz[0], dz[1]), l1: hsum(l1[0], l1[1]), s1: hsum(s1[0], s1[1]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator so the comparison covers many values.
    fn noise(seed: &mut u32, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 17;
                *seed ^= *seed << 5;
                #[allow(clippy::cast_precision_loss, reason = "a test signal; 24 bits are plenty")]
                let u = (*seed >> 8) as f32 / 16_777_216.0;
                (u - 0.5) * scale
            })
            .collect()
    }

    /// Sums of ~1000 products of ±0.25 and ±10 000 cancel a lot; compare against the size of the
    /// terms, not of the result.
    fn close(a: f32, b: f32, scale: f32) -> bool {
        (a - b).abs() <= 1e-5 * scale
    }

    #[test]
    fn every_kernel_matches_the_scalar_reference() {
        let mut seed = 0x1234_5678;
        for &n in &[16usize, 64, 1024] {
            let w = noise(&mut seed, n, 0.5);
            let xo = noise(&mut seed, n, 20_000.0);
            let zn = noise(&mut seed, n, 5_000.0);
            let z2: Vec<f32> = zn.iter().map(|v| v * v).collect();
            let hist = noise(&mut seed, n + 64, 20_000.0);
            #[allow(clippy::cast_precision_loss, reason = "n <= 1024")]
            let scale = 0.25 * 10_000.0 * n as f32;
            let r_prime = Kernel::Scalar.prime(&w, &zn);
            let r_block = Kernel::Scalar.dot_block(&w, &hist, 20);
            let mut rw = w.clone();
            let r_fused = Kernel::Scalar.fused(&mut rw, &xo, &zn, &z2, 1e-12, 2e-10);
            for &k in Kernel::available() {
                let p = k.prime(&w, &zn);
                assert!(close(p.dot_z, r_prime.dot_z, scale), "{k:?} prime");
                assert!((p.l1 - r_prime.l1).abs() <= 1e-4 * r_prime.l1, "{k:?} l1");
                assert!((p.s1 - r_prime.s1).abs() <= 1e-4 * r_prime.s1, "{k:?} s1");
                let b = k.dot_block(&w, &hist, 20);
                for (x, y) in b.iter().zip(&r_block) {
                    assert!(close(*x, *y, scale), "{k:?} dot_block {x} vs {y}");
                }
                let mut kw = w.clone();
                let f = k.fused(&mut kw, &xo, &zn, &z2, 1e-12, 2e-10);
                for (a, b) in kw.iter().zip(&rw) {
                    assert!((a - b).abs() <= 1e-6, "{k:?} tap update {a} vs {b}");
                }
                assert!(close(f.dot_z, r_fused.dot_z, scale), "{k:?} fused");
                assert!((f.l1 - r_fused.l1).abs() <= 1e-4 * r_fused.l1, "{k:?} fused l1");
                assert!((f.s1 - r_fused.s1).abs() <= 1e-4 * r_fused.s1, "{k:?} fused s1");
            }
        }
    }

    #[test]
    fn dot_block_is_eight_shifted_dot_products() {
        let w: Vec<f32> = (0..32u16).map(f32::from).collect();
        let x: Vec<f32> = (0..48u16).map(|v| f32::from(v % 7)).collect();
        for &k in Kernel::available() {
            let out = k.dot_block(&w, &x, 10);
            for (i, o) in out.iter().enumerate() {
                let want: f32 = w.iter().enumerate().map(|(j, wj)| wj * x[10 - i + j]).sum();
                assert_eq!(*o, want, "{k:?} sample {i}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "equal multiples of 16")]
    fn a_ragged_length_is_refused() {
        let _ = Kernel::Scalar.prime(&[0.0; 10], &[0.0; 10]);
    }
}
