//! A block as 64 KiB pieces that can each be checked against the block's name.
//!
//! A block is named by its BLAKE3 hash, and BLAKE3 is a tree: the hash of a block is built
//! from the chaining values of its 64 KiB pieces. Whoever holds those values (2 KiB for a
//! 4 MiB block) can check that they make the block's hash, and then check any piece on its
//! own. So a reader can download one piece of a block, not the whole block, and still trust
//! nothing but the name.

pub use blake3::hazmat::ChainingValue;
use blake3::hazmat::{HasherExt, Mode, merge_subtrees_non_root, merge_subtrees_root};

/// The size of a piece: 64 BLAKE3 chunks, so every piece starts a subtree of the hash.
pub const PIECE: usize = 64 * 1024;

/// The most pieces a block has.
pub const MAX_PIECES: usize = (crate::BLOCK_SIZE as usize).div_ceil(PIECE);

/// The chaining value of piece `index` of a block.
pub fn piece_value(index: usize, piece: &[u8]) -> ChainingValue {
    blake3::Hasher::new()
        .set_input_offset((index * PIECE) as u64)
        .update(piece)
        .finalize_non_root()
}

/// The chaining value of each piece of a block.
pub fn piece_values(block: &[u8]) -> Vec<ChainingValue> {
    if block.is_empty() {
        return Vec::new();
    }
    block
        .chunks(PIECE)
        .enumerate()
        .map(|(i, piece)| piece_value(i, piece))
        .collect()
}

/// The block's hash that these piece values make, for blocks of two pieces or more (the
/// hash of a one-piece block is not built from a chaining value).
pub fn root(values: &[ChainingValue]) -> Option<blake3::Hash> {
    (2..=MAX_PIECES)
        .contains(&values.len())
        .then(|| merge(values, true).into())
}

/// Merges the subtrees of `values` as BLAKE3 does: the left subtree holds the largest power
/// of two of pieces that leaves at least one on the right. Depth is log2(MAX_PIECES) at most.
fn merge(values: &[ChainingValue], is_root: bool) -> [u8; 32] {
    if values.len() == 1 {
        return values[0];
    }
    let left_len = 1 << (usize::BITS - 1 - (values.len() - 1).leading_zeros());
    let left = merge(&values[..left_len], false);
    let right = merge(&values[left_len..], false);
    if is_root {
        *merge_subtrees_root(&left, &right, Mode::Hash).as_bytes()
    } else {
        merge_subtrees_non_root(&left, &right, Mode::Hash)
    }
}

/// A block's hash and the values of all its pieces, in one pass (a one-piece block's hash
/// is not built from its value, so it is hashed once more).
pub fn hash_block(block: &[u8]) -> (blake3::Hash, Vec<ChainingValue>) {
    let values = piece_values(block);
    let hash = root(&values).unwrap_or_else(|| blake3::hash(block));
    (hash, values)
}

/// The number of pieces of a block of `len` bytes.
pub fn count(len: usize) -> usize {
    len.div_ceil(PIECE)
}

/// Pieces of a block as the server sends them: the block's size (8 bytes, little-endian),
/// the value of every piece of the block (32 bytes each), then the bytes of the pieces asked
/// for. The values come whole, so the reader can check them against the block's name.
pub fn encode_head(size: usize, values: &[ChainingValue]) -> Vec<u8> {
    let mut head = Vec::with_capacity(8 + values.len() * 32);
    head.extend_from_slice(&(size as u64).to_le_bytes());
    values.iter().for_each(|v| head.extend_from_slice(v));
    head
}

/// The size and piece values at the start of `bytes` ([`encode_head`]'s layout), and where
/// what follows them starts: `None` unless they describe a block of two to [`MAX_PIECES`]
/// pieces.
pub fn decode_head(bytes: &[u8]) -> Option<(usize, Vec<ChainingValue>, usize)> {
    let size = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    if size > crate::BLOCK_SIZE as usize || count(size) < 2 {
        return None;
    }
    let data_at = 8 + count(size) * 32;
    let values = bytes
        .get(8..data_at)?
        .chunks_exact(32)
        .map(|v| v.try_into().expect("32 bytes"))
        .collect();
    Some((size, values, data_at))
}

/// Pieces `first..last` of a block, read from a reply and checked against the block's hash.
#[derive(Debug)]
pub struct CheckedPieces {
    /// The values of every piece of the block, checked against its hash.
    pub values: Vec<ChainingValue>,
    /// Where the pieces' bytes start in the reply.
    pub data_at: usize,
    /// The block's size.
    pub size: usize,
}

/// Reads a reply to a request for pieces `first..last` of the block named `hash`: refused
/// unless its values make `hash` and each piece's bytes match its value.
pub fn check_reply(hash: &blake3::Hash, first: usize, last: usize, reply: &[u8]) -> Result<CheckedPieces, String> {
    let (size, values, data_at) =
        decode_head(reply).ok_or("the reply does not start with a block's size and piece values")?;
    let n = values.len();
    if first >= last || last > n {
        return Err(format!("pieces {first}..{last} of a block of {n}"));
    }
    let data_len = (last * PIECE).min(size) - first * PIECE;
    if reply.len() != data_at + data_len {
        return Err(format!("{} bytes where {} were due", reply.len(), data_at + data_len));
    }
    if root(&values).as_ref() != Some(hash) {
        return Err("the pieces' values do not make the block's hash".into());
    }
    let pieces = reply[data_at..].chunks(PIECE).zip(first..last);
    if !pieces.into_iter().all(|(piece, i)| piece_value(i, piece) == values[i]) {
        return Err("a piece does not match its value".into());
    }
    Ok(CheckedPieces { values, data_at, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn piece_values_make_the_blocks_hash() {
        for len in [
            PIECE + 1,
            2 * PIECE,
            2 * PIECE + 1024,
            3 * PIECE - 1,
            5 * PIECE,
            7 * PIECE + 3,
            33 * PIECE,
            crate::BLOCK_SIZE as usize - 1,
            crate::BLOCK_SIZE as usize,
        ] {
            let data = block(len);
            let values = piece_values(&data);
            assert_eq!(values.len(), count(len));
            assert_eq!(root(&values), Some(blake3::hash(&data)), "length {len}");
            assert_eq!(hash_block(&data), (blake3::hash(&data), values));
        }
    }

    #[test]
    fn one_changed_piece_changes_the_hash_and_only_its_value() {
        let data = block(6 * PIECE + 10);
        let values = piece_values(&data);
        let mut changed = data.clone();
        changed[3 * PIECE + 7] ^= 1;
        let other = piece_values(&changed);
        let differ: Vec<usize> = (0..values.len()).filter(|&i| values[i] != other[i]).collect();
        assert_eq!(differ, vec![3]);
        assert_ne!(root(&other), root(&values));
        // A piece's value depends on where it is: the same bytes elsewhere differ.
        assert_ne!(piece_value(1, &data[..PIECE]), values[0]);
    }

    fn reply(data: &[u8], first: usize, last: usize) -> Vec<u8> {
        let mut out = encode_head(data.len(), &piece_values(data));
        out.extend_from_slice(&data[first * PIECE..(last * PIECE).min(data.len())]);
        out
    }

    #[test]
    fn replies_are_checked_against_the_name() {
        let data = block(5 * PIECE + 100);
        let hash = blake3::hash(&data);
        let good = reply(&data, 2, 6);
        let checked = check_reply(&hash, 2, 6, &good).unwrap();
        assert_eq!(&good[checked.data_at..], &data[2 * PIECE..]);
        assert_eq!(checked.size, data.len());

        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(check_reply(&hash, 2, 6, &flipped).unwrap_err().contains("piece"));
        let mut lying = good.clone();
        lying[8] ^= 1;
        assert!(check_reply(&hash, 2, 6, &lying).unwrap_err().contains("hash"));
        assert!(check_reply(&blake3::hash(b"other"), 2, 6, &good).is_err());
        // Short, long, or the wrong pieces.
        assert!(check_reply(&hash, 2, 6, &good[..good.len() - 1]).is_err());
        assert!(check_reply(&hash, 2, 6, &[good.as_slice(), b"x"].concat()).is_err());
        assert!(check_reply(&hash, 1, 5, &good).is_err());
        assert!(check_reply(&hash, 3, 3, &good).is_err());
        assert!(check_reply(&hash, 2, 7, &good).is_err());
        assert!(check_reply(&hash, 0, 1, &[]).is_err());
        let mut huge = good.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(check_reply(&hash, 2, 6, &huge).is_err());
    }

    #[test]
    fn one_piece_blocks_and_too_many_values_have_no_root() {
        assert_eq!(root(&piece_values(&block(PIECE))), None);
        assert_eq!(hash_block(&[]), (blake3::hash(&[]), vec![]));
        let one = block(100);
        assert_eq!(hash_block(&one), (blake3::hash(&one), vec![piece_value(0, &one)]));
        assert_eq!(root(&[]), None);
        assert_eq!(root(&vec![[0; 32]; MAX_PIECES + 1]), None);
    }
}
