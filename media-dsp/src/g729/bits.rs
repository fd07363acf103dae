//! The 80-bit G.729 frame: 11 parameters packed most significant bit first, in the order of
//! ITU-T G.729 Table 8 that RFC 3551 §4.5.6 carries unchanged.

/// Width in bits of L0|L1, L2|L3, P1, P0, C1, S1, GA1|GB1, P2, C2, S2, GA2|GB2.
pub const BITSNO: [u32; 11] = [8, 10, 8, 1, 13, 4, 7, 5, 13, 4, 7];

/// Unpacks a 10-byte frame into the 11 parameters.
pub fn unpack(frame: &[u8; 10]) -> [i16; 11] {
    let mut acc: u128 = 0;
    for &b in frame {
        acc = (acc << 8) | u128::from(b);
    }
    let mut prm = [0i16; 11];
    let mut left = 80;
    for (p, &n) in prm.iter_mut().zip(BITSNO.iter()) {
        left -= n;
        // Each field is at most 13 bits wide, so it always fits an i16.
        *p = i16::try_from((acc >> left) & ((1u128 << n) - 1)).unwrap_or(0);
    }
    prm
}

/// Packs the 11 parameters into a 10-byte frame; bits above each field's width are dropped.
pub fn pack(prm: &[i16; 11]) -> [u8; 10] {
    let mut acc: u128 = 0;
    for (&p, &n) in prm.iter().zip(BITSNO.iter()) {
        acc = (acc << n) | (u128::from(p as u16) & ((1u128 << n) - 1));
    }
    let mut out = [0u8; 10];
    for (i, o) in out.iter_mut().enumerate() {
        *o = ((acc >> (72 - 8 * i)) & 0xff) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_unpack_round_trip() {
        let frame = [0x8b, 0x7b, 0xc0, 0xa0, 0x00, 0xfa, 0xc8, 0x51, 0x13, 0x7c];
        assert_eq!(pack(&unpack(&frame)), frame);
        let prm = unpack(&[0xff; 10]);
        assert_eq!(prm, [255, 1023, 255, 1, 8191, 15, 127, 31, 8191, 15, 127]);
        assert_eq!(BITSNO.iter().sum::<u32>(), 80);
    }
}
