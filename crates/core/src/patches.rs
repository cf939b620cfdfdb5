//! A chunk kept as a stored block with small writes laid over it, so that a small write into a
//! large file (an append followed by `fsync`, a database page) commits only its own bytes
//! instead of uploading the whole block again. The writer folds the patches into a new block
//! once they pass [`MAX_PATCHES`] or [`MAX_PATCH_BYTES`], so metadata stays small.
//!
//! Encoded as bytes (the chunk's `data`, next to its block `hash`): the length of the block's
//! bytes still in use (u64), then each patch as offset (u32), length (u32) and its bytes, all
//! little-endian. Later patches win where they overlap.

use crate::{BLOCK_SIZE, Error, Result};

/// The most patches one chunk holds.
pub const MAX_PATCHES: usize = 32;
/// The most patched bytes one chunk holds.
pub const MAX_PATCH_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Patches {
    /// How many bytes of the block are still the chunk's (a truncate shortens it; bytes past
    /// it read as zeros unless a patch covers them).
    pub base_len: u64,
    /// Offset in the chunk and bytes, in the order written.
    pub patches: Vec<(u64, Vec<u8>)>,
}

impl Patches {
    pub fn new(base_len: u64) -> Self {
        Patches {
            base_len,
            patches: Vec::new(),
        }
    }

    /// Bytes held in patches.
    pub fn bytes(&self) -> usize {
        self.patches.iter().map(|(_, p)| p.len()).sum()
    }

    /// Whether `more` patches of `bytes` bytes still fit.
    pub fn room_for(&self, more: usize, bytes: usize) -> bool {
        self.patches.len() + more <= MAX_PATCHES && self.bytes() + bytes <= MAX_PATCH_BYTES
    }

    pub fn push(&mut self, offset: u64, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.patches.push((offset, bytes));
        }
    }

    /// The chunk's `len` bytes: the block's bytes in use, zeros after them, the patches over.
    pub fn apply(&self, block: &[u8], len: usize) -> Vec<u8> {
        let base = block.len().min(self.base_len as usize).min(len);
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&block[..base]);
        out.resize(len, 0);
        for (offset, bytes) in &self.patches {
            let start = (*offset as usize).min(len);
            let end = (start + bytes.len()).min(len);
            out[start..end].copy_from_slice(&bytes[..end - start]);
        }
        out
    }

    /// Drops everything at or past `keep`, as a truncate does.
    pub fn cut(&mut self, keep: u64) {
        self.base_len = self.base_len.min(keep);
        self.patches.retain(|(offset, _)| *offset < keep);
        for (offset, bytes) in &mut self.patches {
            bytes.truncate((keep - *offset) as usize);
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.bytes() + 8 * self.patches.len());
        out.extend_from_slice(&self.base_len.to_le_bytes());
        for (offset, bytes) in &self.patches {
            out.extend_from_slice(&(*offset as u32).to_le_bytes());
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        out
    }

    /// [`Patches::decode`], also refusing patches past the limits: for what a writer sends
    /// (what is stored is read with any limit it was written under).
    pub fn decode_within_limits(raw: &[u8]) -> Result<Self> {
        let patches = Patches::decode(raw)?;
        if !patches.room_for(0, 0) {
            return Err(Error::invalid(
                "chunks",
                "malformed chunk patches: too many patched bytes; store the block again",
            ));
        }
        Ok(patches)
    }

    /// Reads what [`Patches::encode`] wrote, refusing anything out of a block's bounds.
    pub fn decode(raw: &[u8]) -> Result<Self> {
        let bad = |why: &str| Error::invalid("chunks", format!("malformed chunk patches: {why}"));
        let mut rest = raw;
        let mut take = |n: usize| -> Result<&[u8]> {
            if rest.len() < n {
                return Err(bad("cut short"));
            }
            let (part, after) = rest.split_at(n);
            rest = after;
            Ok(part)
        };
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let base = take(8)?;
        let base_len = u64::from_le_bytes([base[0], base[1], base[2], base[3], base[4], base[5], base[6], base[7]]);
        if base_len > BLOCK_SIZE {
            return Err(bad("the block part is longer than a block"));
        }
        let mut patches = Patches::new(base_len);
        let mut left = raw.len() - 8;
        while left > 0 {
            let offset = word(take(4)?) as u64;
            let len = word(take(4)?) as usize;
            if len == 0 || offset + len as u64 > BLOCK_SIZE {
                return Err(bad("a patch lies outside its block"));
            }
            patches.patches.push((offset, take(len)?.to_vec()));
            left = left.saturating_sub(8 + len);
        }
        Ok(patches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_lay_over_the_block_in_order_and_round_trip() {
        let mut p = Patches::new(6);
        p.push(4, b"xy".to_vec());
        p.push(8, b"tail".to_vec());
        p.push(5, b"Z".to_vec());
        assert_eq!(p.apply(b"abcdefgh", 12), b"abcdxZ\0\0tail");
        assert_eq!(Patches::decode(&p.encode()).unwrap(), p);
        p.cut(9);
        assert_eq!(p.apply(b"abcdefgh", 9), b"abcdxZ\0\0t");
        p.cut(3);
        assert_eq!((p.base_len, p.patches.len()), (3, 0));
    }

    #[test]
    fn hostile_encodings_are_refused() {
        let mut past_block = BLOCK_SIZE.to_le_bytes().to_vec();
        past_block[0] = 1;
        for raw in [
            vec![1, 2, 3],
            past_block,
            [
                &0u64.to_le_bytes()[..],
                &u32::MAX.to_le_bytes(),
                &1u32.to_le_bytes(),
                b"x",
            ]
            .concat(),
            [
                &0u64.to_le_bytes()[..],
                &0u32.to_le_bytes(),
                &9u32.to_le_bytes(),
                b"short",
            ]
            .concat(),
            [&0u64.to_le_bytes()[..], &0u32.to_le_bytes(), &0u32.to_le_bytes()].concat(),
        ] {
            assert!(Patches::decode(&raw).is_err(), "{raw:?}");
        }
        let mut many = Patches::new(0);
        for i in 0..=MAX_PATCHES as u64 {
            many.push(i, vec![1]);
        }
        assert!(Patches::decode(&many.encode()).is_ok(), "stored: read whatever limit");
        assert!(Patches::decode_within_limits(&many.encode()).is_err(), "sent: refused");
        assert!(Patches::decode(&[]).is_err(), "empty");
    }
}
