//! The stored form of a block: a header that records how it was encoded, then one frame per
//! 64 KiB piece, each compressed on its own or kept as it is when compressing saves nothing.
//! A range of pieces is thus read and decoded without the rest of the block.
//!
//! Layout, integers little-endian:
//!
//! ```text
//! magic "\x89strata\x01" (8) | flags (1) | key id (3) | frames n (4) | plain size (8)
//! | n × frame length (4; top bit set: zstd) | frames
//! ```
//!
//! Flag 1: encrypted. Each frame is then sealed with the data key `key id` of the block's
//! organization ([`crate::keys`]): nonce, ciphertext, tag, with the block's store name, the
//! frame's index, the block's size and the frame's compression authenticated.
//!
//! A block stored before envelopes existed has none: its bytes are the block. A store object
//! that merely starts like an envelope is told apart by its name: a block's name is the hash
//! of its plain bytes, which the bytes an envelope decodes to must match.

use std::ops::Range;
use strata_core::pieces::{self, PIECE};

use crate::keys::{self, Key};

const MAGIC: [u8; 8] = *b"\x89strata\x01";
const ENCRYPTED: u8 = 1;
/// The most data keys an organization has had (the key id's 3 bytes).
pub const MAX_KEY_ID: u32 = (1 << 24) - 1;
/// Magic, flags, reserved, frame count and size.
const FIXED: usize = 24;
const ZSTD_FRAME: u32 = 1 << 31;

/// How a server compresses the blocks it stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Off,
    /// zstd at this level (1 to 19).
    Zstd(i32),
}

impl Compression {
    /// zstd at level 3: about 3× on source code and logs, at several hundred MB/s a core.
    pub const DEFAULT: Compression = Compression::Zstd(3);

    /// `off`, `zstd` (level 3) or `zstd:LEVEL` (1 to 19).
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid compression {s:?}: expected off, zstd or zstd:LEVEL (1 to 19)");
        match s {
            "off" => Ok(Compression::Off),
            "zstd" => Ok(Compression::DEFAULT),
            _ => {
                let level = s.strip_prefix("zstd:").ok_or_else(bad)?;
                match level.parse::<i32>() {
                    Ok(level @ 1..=19) => Ok(Compression::Zstd(level)),
                    _ => Err(bad()),
                }
            }
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compression::Off => f.write_str("off"),
            Compression::Zstd(level) => write!(f, "zstd:{level}"),
        }
    }
}

/// How a block's frames are encrypted: the name the store keeps it under, and the data key.
#[derive(Clone, Copy)]
pub struct Cipher<'a> {
    pub name: &'a [u8; 32],
    pub key_id: u32,
    pub key: &'a Key,
}

/// What each frame's encryption authenticates besides its bytes.
fn frame_aad(name: &[u8; 32], index: usize, size: usize, zstd: bool) -> Vec<u8> {
    let mut aad = Vec::with_capacity(45);
    aad.extend_from_slice(name);
    aad.extend_from_slice(&(index as u32).to_le_bytes());
    aad.extend_from_slice(&(size as u64).to_le_bytes());
    aad.push(zstd as u8);
    aad
}

/// A block in its stored form: compressed as `compression` says, encrypted with `cipher`.
pub fn seal(plain: &[u8], compression: Compression, cipher: Option<Cipher>) -> Vec<u8> {
    let n = pieces::count(plain.len());
    let mut frames = Vec::with_capacity(plain.len() / 2);
    let mut lengths = Vec::with_capacity(n);
    for (i, piece) in plain.chunks(PIECE).enumerate() {
        let packed = match compression {
            Compression::Zstd(level) => zstd::bulk::compress(piece, level).ok(),
            Compression::Off => None,
        };
        // Kept only when it saves something: media and random bytes are stored as they are.
        let (body, zstd) = match &packed {
            Some(packed) if packed.len() < piece.len() => (&packed[..], true),
            _ => (piece, false),
        };
        let frame = match cipher {
            Some(c) => keys::encrypt(c.key, &frame_aad(c.name, i, plain.len(), zstd), body),
            None => body.to_vec(),
        };
        lengths.push(frame.len() as u32 | if zstd { ZSTD_FRAME } else { 0 });
        frames.extend_from_slice(&frame);
    }
    let mut out = Vec::with_capacity(header_len(plain.len()) + frames.len());
    out.extend_from_slice(&MAGIC);
    match cipher {
        Some(c) => {
            out.push(ENCRYPTED);
            out.extend_from_slice(&c.key_id.to_le_bytes()[..3]);
        }
        None => out.extend_from_slice(&[0; 4]),
    }
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&(plain.len() as u64).to_le_bytes());
    lengths.iter().for_each(|l| out.extend_from_slice(&l.to_le_bytes()));
    out.extend_from_slice(&frames);
    out
}

/// The length of the header of a block of `size` bytes.
pub fn header_len(size: usize) -> usize {
    FIXED + 4 * pieces::count(size)
}

/// Where each frame of an envelope lies, read from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub size: usize,
    /// The data key its frames are encrypted with, if they are.
    pub key_id: Option<u32>,
    /// Each frame's start in the object, with its length and whether it is compressed;
    /// the last entry's end is the object's end.
    frames: Vec<(u64, u32, bool)>,
}

impl Layout {
    /// The layout of the header at the start of `object`, if it starts with a whole,
    /// consistent one.
    pub fn parse(object: &[u8]) -> Option<Layout> {
        let fixed = object.get(..FIXED)?;
        if fixed[..8] != MAGIC || fixed[8] & !ENCRYPTED != 0 {
            return None;
        }
        let key_id = (object[8] & ENCRYPTED != 0).then(|| u32::from_le_bytes([object[9], object[10], object[11], 0]));
        let overhead = if key_id.is_some() { keys::OVERHEAD as u32 } else { 0 };
        let n = u32::from_le_bytes(object.get(12..16)?.try_into().ok()?) as usize;
        let size = usize::try_from(u64::from_le_bytes(object.get(16..24)?.try_into().ok()?)).ok()?;
        if size > strata_core::BLOCK_SIZE as usize || n != pieces::count(size) {
            return None;
        }
        let mut at = header_len(size) as u64;
        let mut frames = Vec::with_capacity(n);
        for (i, raw) in object.get(FIXED..header_len(size))?.chunks_exact(4).enumerate() {
            let raw = u32::from_le_bytes(raw.try_into().ok()?);
            let (len, zstd) = (raw & !ZSTD_FRAME, raw & ZSTD_FRAME != 0);
            let plain = (size - i * PIECE).min(PIECE) as u32 + overhead;
            if len <= overhead || len > plain || (!zstd && len != plain) {
                return None;
            }
            frames.push((at, len, zstd));
            at += len as u64;
        }
        Some(Layout { size, key_id, frames })
    }

    /// The object's bytes that hold pieces `pieces`.
    pub fn span(&self, pieces: Range<usize>) -> Range<u64> {
        let start = self.frames.get(pieces.start).map_or(self.end(), |f| f.0);
        let end = self.frames.get(pieces.end).map_or(self.end(), |f| f.0);
        start..end
    }

    /// The length of the whole object.
    pub fn end(&self) -> u64 {
        self.frames.last().map_or(FIXED as u64, |&(at, len, _)| at + len as u64)
    }

    /// Pieces `pieces` from the object's bytes [`Layout::span`] gave, decrypted with
    /// `cipher` when the block is encrypted (its data key [`Layout::key_id`]); `None` if
    /// they do not decode to the pieces' lengths or do not decrypt.
    pub fn open(&self, pieces: Range<usize>, bytes: &[u8], cipher: Option<Cipher>) -> Option<Vec<u8>> {
        if self.key_id.is_some() != cipher.is_some() {
            return None;
        }
        let span = self.span(pieces.clone());
        if bytes.len() as u64 != span.end - span.start {
            return None;
        }
        let mut out = Vec::with_capacity(pieces.len() * PIECE);
        for i in pieces {
            let (at, len, zstd) = self.frames[i];
            let start = (at - span.start) as usize;
            let frame = &bytes[start..start + len as usize];
            let plain = (self.size - i * PIECE).min(PIECE);
            let decrypted;
            let frame = match cipher {
                Some(c) => {
                    decrypted = keys::decrypt(c.key, &frame_aad(c.name, i, self.size, zstd), frame)?;
                    &decrypted[..]
                }
                None => frame,
            };
            if zstd {
                let piece = zstd::bulk::decompress(frame, plain).ok()?;
                if piece.len() != plain {
                    return None;
                }
                out.extend_from_slice(&piece);
            } else if frame.len() == plain {
                out.extend_from_slice(frame);
            } else {
                return None;
            }
        }
        Some(out)
    }
}

/// The block an object holds: decoded from its envelope when it has one whose bytes make
/// `hash`, else the object itself (a block stored before envelopes). `key` gives the data
/// key of an id, for an encrypted block.
pub fn open<'k>(object: &[u8], hash: &[u8; 32], name: &[u8; 32], key: impl Fn(u32) -> Option<&'k Key>) -> Opened {
    let Some(layout) = Layout::parse(object).filter(|l| l.end() == object.len() as u64) else {
        return Opened::Plain;
    };
    let cipher = match layout.key_id {
        None => None,
        Some(key_id) => match key(key_id) {
            Some(key) => Some(Cipher { name, key_id, key }),
            None => return Opened::Locked(key_id),
        },
    };
    let all = 0..layout.frames.len();
    let start = layout.span(all.clone()).start as usize;
    match layout.open(all, &object[start..], cipher) {
        Some(plain) if blake3::hash(&plain).as_bytes() == hash => Opened::Sealed(plain, layout.key_id),
        Some(_) => Opened::Plain,
        None if cipher.is_some() => Opened::Undecryptable(layout.key_id.unwrap_or_default()),
        None => Opened::Plain,
    }
}

pub enum Opened {
    /// The block, decoded from its envelope, with the data key it was encrypted with.
    Sealed(Vec<u8>, Option<u32>),
    /// The object is the block itself (or is damaged: its reader checks).
    Plain,
    /// Encrypted with a data key not given.
    Locked(u32),
    /// Encrypted, and does not decrypt with the data key of its id: damaged, or a wrong key.
    Undecryptable(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(len: usize) -> Vec<u8> {
        let line = b"fn main() { println!(\"hello, strata\"); } // a line of source code\n";
        line.iter().copied().cycle().take(len).collect()
    }

    fn noise(len: usize) -> Vec<u8> {
        let mut x = 0x2545F4914F6CDD1Du64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn text_shrinks_noise_does_not_grow_and_both_come_back() {
        for (plain, compression) in [
            (text(3 * PIECE + 100), Compression::DEFAULT),
            (noise(3 * PIECE + 100), Compression::DEFAULT),
            (text(PIECE), Compression::Off),
            (text(10), Compression::Zstd(19)),
        ] {
            let hash = *blake3::hash(&plain).as_bytes();
            let sealed = seal(&plain, compression, None);
            let Opened::Sealed(back, None) = open(&sealed, &hash, &hash, |_| None) else {
                panic!("not opened")
            };
            assert_eq!(back, plain);
            let layout = Layout::parse(&sealed).unwrap();
            assert_eq!(layout.end(), sealed.len() as u64);
            let overhead = header_len(plain.len());
            match compression {
                Compression::Zstd(_) if plain[0] == b'f' && plain.len() > 100 => {
                    assert!(sealed.len() < plain.len() / 4, "{} of {}", sealed.len(), plain.len())
                }
                _ => assert!(sealed.len() <= plain.len() + overhead, "{}", sealed.len()),
            }
            // Any range of pieces, alone.
            let n = pieces::count(plain.len());
            for first in 0..n {
                for last in first + 1..=n {
                    let span = layout.span(first..last);
                    let got = layout.open(first..last, &sealed[span.start as usize..span.end as usize], None);
                    assert_eq!(
                        got.as_deref(),
                        Some(&plain[first * PIECE..(last * PIECE).min(plain.len())])
                    );
                }
            }
        }
    }

    #[test]
    fn objects_that_only_look_like_envelopes_are_plain() {
        // A block stored as it is that starts like an envelope: its bytes make its name.
        let mut plain = seal(&text(1000), Compression::DEFAULT, None);
        let hash = *blake3::hash(&plain).as_bytes();
        assert!(matches!(open(&plain, &hash, &hash, |_| None), Opened::Plain));
        // Damaged envelopes do not open: a frame, a length, the header.
        let good = text(2 * PIECE);
        let hash = *blake3::hash(&good).as_bytes();
        let sealed = seal(&good, Compression::DEFAULT, None);
        for at in [sealed.len() - 1, FIXED + 1, 13, 20] {
            let mut bad = sealed.clone();
            bad[at] ^= 0x40;
            assert!(
                matches!(open(&bad, &hash, &hash, |_| None), Opened::Plain),
                "flipped byte {at}"
            );
        }
        assert!(Layout::parse(&sealed[..FIXED + 3]).is_none());
        for len in 0..FIXED {
            assert!(Layout::parse(&sealed[..len]).is_none(), "{len} bytes");
        }
        plain.truncate(5);
        assert!(Layout::parse(&plain).is_none());
    }

    /// Encrypted frames open only with their key, under their name, in their place; a
    /// missing key says which it is; pieces read alone decrypt too.
    #[test]
    fn encrypted_blocks_open_only_with_their_key_and_name() {
        let plain = text(2 * PIECE + 10);
        let hash = *blake3::hash(&plain).as_bytes();
        let (name, other_name) = ([7u8; 32], [8u8; 32]);
        let (key, wrong) = (keys::random_key(), keys::random_key());
        let cipher = Cipher {
            name: &name,
            key_id: 5,
            key: &key,
        };
        let sealed = seal(&plain, Compression::DEFAULT, Some(cipher));
        let marker = &plain[100..140];
        assert!(
            !sealed.windows(marker.len()).any(|w| w == marker),
            "no plaintext stored"
        );
        let by_id = |k: &'static Key| move |id: u32| (id == 5).then_some(k);
        let key: &'static Key = Box::leak(Box::new(key));
        let wrong: &'static Key = Box::leak(Box::new(wrong));
        let Opened::Sealed(back, Some(5)) = open(&sealed, &hash, &name, by_id(key)) else {
            panic!()
        };
        assert_eq!(back, plain);
        assert!(matches!(open(&sealed, &hash, &name, |_| None), Opened::Locked(5)));
        assert!(matches!(
            open(&sealed, &hash, &name, by_id(wrong)),
            Opened::Undecryptable(5)
        ));
        assert!(matches!(
            open(&sealed, &hash, &other_name, by_id(key)),
            Opened::Undecryptable(5)
        ));
        let layout = Layout::parse(&sealed).unwrap();
        assert_eq!(layout.key_id, Some(5));
        let span = layout.span(1..3);
        let bytes = &sealed[span.start as usize..span.end as usize];
        let cipher = Cipher {
            name: &name,
            key_id: 5,
            key,
        };
        assert_eq!(layout.open(1..3, bytes, Some(cipher)).as_deref(), Some(&plain[PIECE..]));
        assert_eq!(layout.open(1..3, bytes, None), None);
        // A frame moved to another place does not open there.
        let mut swapped = sealed.clone();
        let (a, b) = (layout.span(0..1), layout.span(1..2));
        if a.end - a.start == b.end - b.start {
            let first = sealed[a.start as usize..a.end as usize].to_vec();
            swapped.copy_within(b.start as usize..b.end as usize, a.start as usize);
            swapped[b.start as usize..b.end as usize].copy_from_slice(&first);
            assert!(matches!(
                open(&swapped, &hash, &name, by_id(key)),
                Opened::Undecryptable(5)
            ));
        }
    }

    #[test]
    fn compression_settings_parse_and_print_alike() {
        for s in ["off", "zstd:1", "zstd:3", "zstd:19"] {
            assert_eq!(Compression::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Compression::parse("zstd"), Ok(Compression::DEFAULT));
        for bad in ["", "zstd:0", "zstd:20", "zstd:-1", "lz4", "zstd:", "ZSTD", "zstd:3\0"] {
            assert!(Compression::parse(bad).is_err(), "{bad:?}");
        }
    }
}
