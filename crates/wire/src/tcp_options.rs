//! TCP options (RFC 9293 §3.1, RFC 7323 window scale and timestamps, RFC 2018 SACK).

use crate::{SeqNum, WireError};

mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
    pub const MD5_SIGNATURE: u8 = 19;
}

/// The TCP MD5 signature option's length (RFC 2385 §3.0): kind, length, a 16-byte digest.
pub const MD5_OPTION_LEN: usize = 18;
/// Option bytes a segment spends on the signature, padded to whole words as both layouts
/// place it (two NOPs in front of its 18 bytes, or in the BSDs' after an odd-aligned option).
pub const MD5_OPTION_SPACE: usize = 20;

/// `nop, nop, TS, 10`: the first word of timestamps sent alone.
const TIMESTAMPS_WORD: u32 = u32::from_be_bytes([kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]);

/// The option words of Linux's SYN layout as `parse_common` reads them (in the machine's
/// order), the values masked out: `mss 4 (value)`, `sackOK 2 TS 10`, then after the
/// timestamps `nop wscale 3 (shift)`.
const SYN_MSS: u32 = u32::from_ne_bytes([kind::MSS, 4, 0, 0]);
const SYN_MSS_MASK: u32 = u32::from_ne_bytes([0xff, 0xff, 0, 0]);
const SYN_MIDDLE: u32 = u32::from_ne_bytes([kind::SACK_PERMITTED, 2, kind::TIMESTAMPS, 10]);
const SYN_TAIL: u32 = u32::from_ne_bytes([kind::NOP, kind::WINDOW_SCALE, 3, 0]);
const SYN_TAIL_MASK: u32 = u32::from_ne_bytes([0xff, 0xff, 0xff, 0]);

/// At most four SACK blocks fit in the 40 option bytes (RFC 2018 §3).
pub const MAX_SACK_BLOCKS: usize = 4;

/// Up to four SACK blocks, each `[left, right)` in sequence space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SackBlocks {
    /// A whole word (the padding after a `u8` takes the same room): the blocks are often
    /// built in one place and copied to another, and a copy reads the count as a word, which
    /// waits for a one-byte store instead of being forwarded from it.
    len: u32,
    blocks: [(SeqNum, SeqNum); MAX_SACK_BLOCKS],
}

impl SackBlocks {
    /// None. Inlined across the crate boundary (a call for a few stores).
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a block; returns false when four are already held.
    pub fn push(&mut self, left: SeqNum, right: SeqNum) -> bool {
        if (self.len as usize) < MAX_SACK_BLOCKS {
            self.blocks[self.len as usize] = (left, right);
            self.len += 1;
            true
        } else {
            false
        }
    }
    /// The blocks as (left edge, right edge) pairs.
    pub fn as_slice(&self) -> &[(SeqNum, SeqNum)] {
        &self.blocks[..self.len as usize]
    }
    /// Whether there is no block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The number of blocks.
    pub fn len(&self) -> usize {
        self.len as usize
    }
}

/// How `TcpOptions::emit` orders and pads the options. Both are valid TCP; a peer or a
/// conformance script may expect one byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptionLayout {
    /// Linux's `tcp_options_write`: `mss, sackOK, TS, nop, wscale` on a SYN; NOPs in front.
    #[default]
    Linux,
    /// The BSDs' `tcp_addoptions`: `mss, nop, wscale, sackOK, TS` (each option aligned with
    /// NOPs in front of it as it needs) and EOL padding at the end.
    Bsd,
}

/// The options of one segment, by meaning. Emission uses `layout` (Linux's by default, so
/// that traces look like the ones engineers know); parsing accepts any order, skips unknown
/// kinds by length, and always reports the Linux layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// MSS (RFC 9293 §3.7.1), in SYNs.
    pub mss: Option<u16>,
    /// Window-scale shift (RFC 7323 §2), in SYNs.
    pub window_scale: Option<u8>,
    /// SACK permitted (RFC 2018), in SYNs.
    pub sack_permitted: bool,
    /// SACK blocks (RFC 2018).
    pub sack: SackBlocks,
    /// (TSval, TSecr), RFC 7323 §3.
    pub timestamps: Option<(u32, u32)>,
    /// A TCP MD5 signature option (RFC 2385): parsed, one is present (`tcp_md5` checks its
    /// digest against the packet); emitted, one is written with a zero digest, for
    /// `sign_tcp_md5` to fill in once the packet is complete.
    pub md5: bool,
    /// How the options are ordered and padded when written.
    pub layout: OptionLayout,
}

impl TcpOptions {
    /// Parses the option bytes of a header (everything after the fixed 20 bytes).
    #[inline(always)]
    pub fn parse(bytes: &[u8]) -> Result<TcpOptions, WireError> {
        match Self::parse_common(bytes) {
            Some(options) => Ok(options),
            None => Self::parse_general(bytes),
        }
    }

    /// The layouts nearly every segment carries, read at a glance; `None` for any other
    /// (which `parse` reads with the general loop). Built from values alone, never through
    /// memory that a call writes, so that a caller's segment gets the fields where it keeps
    /// them (a copy of the whole struct loaded it in 16-byte words across the narrower
    /// stores that had just built it, which waits for them to reach the cache).
    #[inline(always)]
    pub(crate) fn parse_common(bytes: &[u8]) -> Option<TcpOptions> {
        if bytes.is_empty() {
            return Some(TcpOptions::default());
        }
        // RFC 7323 Appendix A: nearly every segment of a connection with timestamps carries
        // exactly `nop, nop, TS`; read that layout without the general loop. The kinds and
        // lengths are compared a word at a time (byte by byte, the compiler made one
        // comparison and branch of each).
        if let Ok(&[k0, k1, k2, k3, v0, v1, v2, v3, e0, e1, e2, e3]) = <&[u8; 12]>::try_from(bytes) {
            if u32::from_be_bytes([k0, k1, k2, k3]) != TIMESTAMPS_WORD {
                return None;
            }
            // The result built whole, both values from one 64-bit word: assigned into `opts`
            // from two 32-bit halves, the pair was reloaded as one 64-bit word, a load that
            // waits for both smaller stores to reach the cache.
            let both = u64::from_be_bytes([v0, v1, v2, v3, e0, e1, e2, e3]);
            return Some(TcpOptions { timestamps: Some(((both >> 32) as u32, both as u32)), ..TcpOptions::default() });
        }
        // A SYN or SYN-ACK from Linux (and from synack): `mss, sackOK, TS, nop, wscale`.
        if let Ok(&[k0, k1, m0, m1, k4, k5, k6, k7, v0, v1, v2, v3, e0, e1, e2, e3, k16, k17, k18, shift]) =
            <&[u8; 20]>::try_from(bytes)
        {
            // Three words, the values masked out: `mss 4 (value)`, `sackOK 2 TS 10` and
            // `nop wscale 3 (shift)` (32-bit words, as the emitter stores them).
            let mss_word = u32::from_ne_bytes([k0, k1, m0, m1]) & SYN_MSS_MASK;
            let middle = u32::from_ne_bytes([k4, k5, k6, k7]);
            let tail = u32::from_ne_bytes([k16, k17, k18, shift]) & SYN_TAIL_MASK;
            if mss_word != SYN_MSS || middle != SYN_MIDDLE || tail != SYN_TAIL {
                return None;
            }
            let both = u64::from_be_bytes([v0, v1, v2, v3, e0, e1, e2, e3]);
            return Some(TcpOptions {
                mss: Some(u16::from_be_bytes([m0, m1])),
                window_scale: Some(shift),
                sack_permitted: true,
                timestamps: Some(((both >> 32) as u32, both as u32)),
                ..TcpOptions::default()
            });
        }
        None
    }

    /// `parse` for the layouts it does not read at a glance: any order, unknown kinds skipped.
    // Out of line: the segments of a connection seldom get here.
    #[inline(never)]
    fn parse_general(mut bytes: &[u8]) -> Result<TcpOptions, WireError> {
        let mut opts = TcpOptions::default();
        while let Some((&kind, rest)) = bytes.split_first() {
            match kind {
                kind::EOL => break,
                kind::NOP => {
                    bytes = rest;
                    continue;
                }
                _ => {}
            }
            let len = *rest.first().ok_or(WireError::Malformed("option length missing"))? as usize;
            if len < 2 {
                return Err(WireError::Malformed("option length below 2"));
            }
            if len > bytes.len() {
                return Err(WireError::Malformed("option runs past the header"));
            }
            let body = &bytes[2..len];
            match kind {
                kind::MSS => {
                    let b: [u8; 2] = body.try_into().map_err(|_| WireError::Malformed("MSS option length"))?;
                    opts.mss = Some(u16::from_be_bytes(b));
                }
                kind::WINDOW_SCALE => {
                    let [shift]: [u8; 1] =
                        body.try_into().map_err(|_| WireError::Malformed("window scale option length"))?;
                    opts.window_scale = Some(shift);
                }
                kind::SACK_PERMITTED => {
                    if !body.is_empty() {
                        return Err(WireError::Malformed("SACK-permitted option length"));
                    }
                    opts.sack_permitted = true;
                }
                kind::SACK => {
                    if body.is_empty() || body.len() % 8 != 0 || body.len() / 8 > MAX_SACK_BLOCKS {
                        return Err(WireError::Malformed("SACK option length"));
                    }
                    for block in body.chunks_exact(8) {
                        let left = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                        let right = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                        opts.sack.push(SeqNum(left), SeqNum(right));
                    }
                }
                kind::TIMESTAMPS => {
                    if body.len() != 8 {
                        return Err(WireError::Malformed("timestamps option length"));
                    }
                    let val = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    let ecr = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                    opts.timestamps = Some((val, ecr));
                }
                kind::MD5_SIGNATURE => {
                    if len != MD5_OPTION_LEN {
                        return Err(WireError::Malformed("MD5 signature option length"));
                    }
                    opts.md5 = true;
                }
                _ => {} // unknown: skipped by its length
            }
            bytes = &bytes[len..];
        }
        Ok(opts)
    }

    /// The number of option bytes `emit` writes, a multiple of four.
    pub fn buffer_len(&self) -> usize {
        if self.layout == OptionLayout::Bsd {
            return self.bsd_bytes().1;
        }
        let len = self.linux_len_before_sack();
        match self.linux_sack_blocks() {
            0 => len,
            blocks => len + 4 + 8 * blocks,
        }
    }

    /// Bytes of Linux's layout before the SACK blocks.
    fn linux_len_before_sack(&self) -> usize {
        let mut len = if self.md5 { MD5_OPTION_SPACE } else { 0 };
        if self.mss.is_some() {
            len += 4;
        }
        // SACK-permitted shares a word with timestamps (Linux: sackOK,TS) or with two NOPs.
        match (self.sack_permitted, self.timestamps.is_some()) {
            (true, true) => len += 12,
            (true, false) => len += 4,
            (false, true) => len += 12,
            (false, false) => {}
        }
        if self.window_scale.is_some() {
            len += 4;
        }
        len
    }

    /// How many SACK blocks Linux's layout writes: as many as fit in the 40 bytes after the
    /// other options (Linux's `tcp_established_options`).
    fn linux_sack_blocks(&self) -> usize {
        self.sack.len().min(40usize.saturating_sub(self.linux_len_before_sack() + 4) / 8)
    }

    /// Like `emit`, and also returns the sum of the big-endian 32-bit words written, for a
    /// checksum that then need not read them back. Timestamps alone (the common case on an
    /// established connection, `nop, nop, TS` in both layouts) are summed from their values.
    #[inline]
    pub fn emit_summed(&self, buf: &mut [u8]) -> Result<(usize, u64), WireError> {
        if let (None, None, false, true, Some((val, ecr)), false) =
            (self.mss, self.window_scale, self.sack_permitted, self.sack.is_empty(), self.timestamps, self.md5)
        {
            let out: &mut [u8; 12] =
                buf.get_mut(..12).and_then(|b| b.try_into().ok()).ok_or(WireError::BufferTooSmall)?;
            out[..4].copy_from_slice(&TIMESTAMPS_WORD.to_be_bytes());
            // Both values in one 64-bit store, as `parse_common` reads them: a packet parsed
            // soon after it was written (two endpoints in one process) is then read from the
            // store buffer, where a load across two 32-bit stores waits for the cache.
            out[4..].copy_from_slice(&(u64::from(val) << 32 | u64::from(ecr)).to_be_bytes());
            return Ok((12, TIMESTAMPS_WORD as u64 + val as u64 + ecr as u64));
        }
        // A SYN or SYN-ACK with every option, in Linux's layout: `mss, sackOK, TS, nop, wscale`.
        if let (OptionLayout::Linux, Some(mss), Some(shift), true, true, Some((val, ecr)), false) = (
            self.layout,
            self.mss,
            self.window_scale,
            self.sack_permitted,
            self.sack.is_empty(),
            self.timestamps,
            self.md5,
        ) {
            let out: &mut [u8; 20] =
                buf.get_mut(..20).and_then(|b| b.try_into().ok()).ok_or(WireError::BufferTooSmall)?;
            let mss_word = u32::from_be_bytes([kind::MSS, 4, 0, 0]) | mss as u32;
            let middle = u32::from_be_bytes([kind::SACK_PERMITTED, 2, kind::TIMESTAMPS, 10]);
            let tail = u32::from_be_bytes([kind::NOP, kind::WINDOW_SCALE, 3, shift]);
            out[..4].copy_from_slice(&mss_word.to_be_bytes());
            out[4..8].copy_from_slice(&middle.to_be_bytes());
            // The timestamps in one 64-bit store, as in the layout above and for its reason.
            out[8..16].copy_from_slice(&(u64::from(val) << 32 | u64::from(ecr)).to_be_bytes());
            out[16..].copy_from_slice(&tail.to_be_bytes());
            return Ok((20, [mss_word, middle, val, ecr, tail].iter().map(|&w| w as u64).sum()));
        }
        let len = self.emit_general(buf)?;
        let sum = buf[..len].chunks_exact(4).map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as u64).sum();
        Ok((len, sum))
    }

    /// Writes the options in Linux's order: `mss, sackOK, TS, nop, wscale` on a SYN;
    /// `nop, nop, TS` and `nop, nop, sack` otherwise (or in `layout`'s). `buf` must hold
    /// `buffer_len()` bytes. Returns how many were written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        self.emit_summed(buf).map(|(len, _)| len)
    }

    /// `emit` for all but timestamps alone.
    fn emit_general(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let need = self.buffer_len();
        if buf.len() < need {
            return Err(WireError::BufferTooSmall);
        }
        if self.layout == OptionLayout::Bsd {
            let (bytes, len) = self.bsd_bytes();
            buf[..len].copy_from_slice(&bytes[..len]);
            return Ok(len);
        }
        let blocks = &self.sack.as_slice()[..self.linux_sack_blocks()];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        // Linux's `tcp_options_write` puts the signature first: `nop, nop, md5`.
        if self.md5 {
            put(&[kind::NOP, kind::NOP, kind::MD5_SIGNATURE, MD5_OPTION_LEN as u8]);
            put(&[0; 16]);
        }
        if let Some(mss) = self.mss {
            let m = mss.to_be_bytes();
            put(&[kind::MSS, 4, m[0], m[1]]);
        }
        match (self.sack_permitted, self.timestamps) {
            (true, Some((val, ecr))) => {
                put(&[kind::SACK_PERMITTED, 2, kind::TIMESTAMPS, 10]);
                put(&val.to_be_bytes());
                put(&ecr.to_be_bytes());
            }
            (true, None) => put(&[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]),
            (false, Some((val, ecr))) => {
                put(&[kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]);
                put(&val.to_be_bytes());
                put(&ecr.to_be_bytes());
            }
            (false, None) => {}
        }
        if let Some(shift) = self.window_scale {
            put(&[kind::NOP, kind::WINDOW_SCALE, 3, shift]);
        }
        if !blocks.is_empty() {
            put(&[kind::NOP, kind::NOP, kind::SACK, 2 + 8 * blocks.len() as u8]);
            for &(left, right) in blocks {
                put(&left.0.to_be_bytes());
                put(&right.0.to_be_bytes());
            }
        }
        debug_assert_eq!(at, need);
        Ok(at)
    }

    /// The BSD layout: MSS word-aligned; window scale at offset 1 mod 4; SACK-permitted at an
    /// even offset; timestamps and SACK blocks at 2 mod 4 (so their 32-bit fields are
    /// aligned), NOPs filling in front; EOL then zeros to the next word. SACK blocks that
    /// would pass the 40-byte limit are left out.
    fn bsd_bytes(&self) -> ([u8; 40], usize) {
        let mut out = [0u8; 40];
        let mut len = 0usize;
        let pad_until = |out: &mut [u8; 40], len: &mut usize, ok: &dyn Fn(usize) -> bool| {
            while !ok(*len) && *len < 40 {
                out[*len] = kind::NOP;
                *len += 1;
            }
        };
        if let Some(mss) = self.mss {
            let m = mss.to_be_bytes();
            out[..4].copy_from_slice(&[kind::MSS, 4, m[0], m[1]]);
            len = 4;
        }
        if let Some(shift) = self.window_scale {
            pad_until(&mut out, &mut len, &|l| l % 4 == 1);
            out[len..len + 3].copy_from_slice(&[kind::WINDOW_SCALE, 3, shift]);
            len += 3;
        }
        if self.sack_permitted {
            pad_until(&mut out, &mut len, &|l| l % 2 == 0);
            out[len..len + 2].copy_from_slice(&[kind::SACK_PERMITTED, 2]);
            len += 2;
        }
        if let Some((val, ecr)) = self.timestamps {
            pad_until(&mut out, &mut len, &|l| l % 4 == 2);
            out[len..len + 2].copy_from_slice(&[kind::TIMESTAMPS, 10]);
            out[len + 2..len + 6].copy_from_slice(&val.to_be_bytes());
            out[len + 6..len + 10].copy_from_slice(&ecr.to_be_bytes());
            len += 10;
        }
        // FreeBSD's `tcp_addoptions`: the signature at 2 mod 4 (never at the very start), so
        // that the options around it end on a word.
        if self.md5 {
            pad_until(&mut out, &mut len, &|l| l != 0 && l % 4 == 2);
            if len + MD5_OPTION_LEN <= 40 {
                out[len..len + 2].copy_from_slice(&[kind::MD5_SIGNATURE, MD5_OPTION_LEN as u8]);
                len += MD5_OPTION_LEN;
            }
        }
        if !self.sack.is_empty() {
            pad_until(&mut out, &mut len, &|l| l % 4 == 2);
            let room = (40usize.saturating_sub(len + 2)) / 8;
            let blocks = &self.sack.as_slice()[..self.sack.len().min(room)];
            if !blocks.is_empty() {
                out[len..len + 2].copy_from_slice(&[kind::SACK, 2 + 8 * blocks.len() as u8]);
                len += 2;
                for &(left, right) in blocks {
                    out[len..len + 4].copy_from_slice(&left.0.to_be_bytes());
                    out[len + 4..len + 8].copy_from_slice(&right.0.to_be_bytes());
                    len += 8;
                }
            }
        }
        // EOL, then zeros, to the next word; `out` is zeroed already.
        (out, len.next_multiple_of(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two layouts read at a glance are recognised by their kind and length bytes alone:
    /// any other value in one of those (and only those) sends the bytes to the general loop.
    #[test]
    fn the_layouts_read_at_a_glance_are_checked_in_every_kind_and_length_byte() {
        let timestamps = [kind::NOP, kind::NOP, kind::TIMESTAMPS, 10, 1, 2, 3, 4, 5, 6, 7, 8];
        let syn = [kind::MSS, 4, 5, 180, kind::SACK_PERMITTED, 2, kind::TIMESTAMPS, 10, 1, 2, 3, 4, 5, 6, 7, 8];
        let syn: Vec<u8> = syn.iter().chain(&[kind::NOP, kind::WINDOW_SCALE, 3, 7]).copied().collect();
        let ts_fixed = [0, 1, 2, 3];
        let syn_fixed = [0, 1, 4, 5, 6, 7, 16, 17, 18];
        for (bytes, fixed) in [(&timestamps[..], &ts_fixed[..]), (&syn[..], &syn_fixed[..])] {
            let expected = TcpOptions::parse_general(bytes).unwrap();
            assert_eq!(TcpOptions::parse_common(bytes), Some(expected));
            for at in 0..bytes.len() {
                let mut changed = bytes.to_vec();
                changed[at] ^= 0x40;
                let common = TcpOptions::parse_common(&changed);
                if fixed.contains(&at) {
                    assert_eq!(common, None, "byte {at} of {bytes:?} changed");
                } else {
                    assert_eq!(common, Some(TcpOptions::parse_general(&changed).unwrap()), "byte {at} changed");
                }
            }
        }
    }

    #[test]
    fn unknown_options_are_skipped_by_length() {
        let bytes = [254, 4, 0xaa, 0xbb, kind::MSS, 4, 0x05, 0xb4];
        assert_eq!(TcpOptions::parse(&bytes).unwrap().mss, Some(1460));
    }

    #[test]
    fn option_length_zero_or_one_is_malformed() {
        assert!(TcpOptions::parse(&[kind::MSS, 0, 0, 0]).is_err());
        assert!(TcpOptions::parse(&[99, 1, 0, 0]).is_err());
    }

    #[test]
    fn option_running_past_the_header_is_malformed() {
        assert!(TcpOptions::parse(&[kind::TIMESTAMPS, 10, 0, 0]).is_err());
        assert!(TcpOptions::parse(&[kind::MSS]).is_err());
    }

    #[test]
    fn end_of_list_stops_parsing() {
        let bytes = [kind::EOL, kind::MSS, 0, 0];
        assert_eq!(TcpOptions::parse(&bytes).unwrap(), TcpOptions::default());
    }

    #[test]
    fn bsd_layout_matches_freebsd_segments() {
        let syn = TcpOptions {
            mss: Some(1460),
            window_scale: Some(6),
            sack_permitted: true,
            timestamps: Some((100, 0)),
            layout: OptionLayout::Bsd,
            ..Default::default()
        };
        let mut buf = [0u8; 40];
        let n = syn.emit(&mut buf).unwrap();
        assert_eq!(n, 20);
        // mss 1460, nop, wscale 6, sackOK, TS val 100 ecr 0
        assert_eq!(&buf[..10], &[2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2]);
        assert_eq!(&buf[10..12], &[8, 10]);
        let synack =
            TcpOptions { mss: Some(1460), sack_permitted: true, layout: OptionLayout::Bsd, ..Default::default() };
        assert_eq!(synack.buffer_len(), 8);
        assert_eq!(synack.emit(&mut buf).unwrap(), 8);
        // mss 1460, sackOK, eol, eol
        assert_eq!(&buf[..8], &[2, 4, 0x05, 0xb4, 4, 2, 0, 0]);
        let mut sack = SackBlocks::new();
        sack.push(crate::SeqNum(1), crate::SeqNum(2));
        let data = TcpOptions { timestamps: Some((1, 2)), sack, layout: OptionLayout::Bsd, ..Default::default() };
        assert_eq!(data.emit(&mut buf).unwrap(), 24);
        assert_eq!(&buf[..2], &[1, 1]);
        assert_eq!(&buf[12..16], &[1, 1, 5, 10]);
        let parsed = TcpOptions::parse(&buf[..24]).unwrap();
        assert_eq!(parsed, TcpOptions { layout: OptionLayout::Linux, ..data });
    }

    #[test]
    fn linux_syn_layout_round_trips() {
        let opts = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some((1, 0)),
            ..Default::default()
        };
        let mut buf = [0u8; 40];
        let n = opts.emit(&mut buf).unwrap();
        assert_eq!(n, 20);
        assert_eq!(&buf[..4], &[2, 4, 0x05, 0xb4]);
        assert_eq!(&buf[4..6], &[4, 2]);
        assert_eq!(&buf[16..20], &[1, 3, 3, 7]);
        assert_eq!(TcpOptions::parse(&buf[..n]).unwrap(), opts);
    }

    #[test]
    fn the_layouts_read_and_written_at_a_glance_agree_with_the_general_code() {
        for (mss, shift, ts) in [(0, 0, (0, 0)), (536, 14, (u32::MAX, 1)), (u16::MAX, u8::MAX, (7, u32::MAX))] {
            let syn = TcpOptions {
                mss: Some(mss),
                window_scale: Some(shift),
                sack_permitted: true,
                timestamps: Some(ts),
                ..Default::default()
            };
            let data = TcpOptions { timestamps: Some(ts), ..Default::default() };
            for opts in [syn, data] {
                let (mut fast, mut general) = ([0u8; 40], [0u8; 40]);
                let (len, sum) = opts.emit_summed(&mut fast).unwrap();
                assert_eq!(opts.emit_general(&mut general), Ok(len), "{opts:?}");
                assert_eq!(fast, general, "{opts:?}");
                let words: u64 =
                    general[..len].chunks_exact(4).map(|w| u32::from_be_bytes(w.try_into().unwrap()) as u64).sum();
                assert_eq!(sum, words, "{opts:?}");
                assert_eq!(TcpOptions::parse(&fast[..len]), Ok(opts));
                assert_eq!(TcpOptions::parse_general(&fast[..len]), Ok(opts));
            }
        }
    }
}
