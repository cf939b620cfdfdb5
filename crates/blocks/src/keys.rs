//! Encryption at rest: the keys of an organization and what is done with them.
//!
//! Each organization that encrypts has a naming key and data keys, each 32 random bytes,
//! kept in the metadata only wrapped by the server's master key ([`KeyWrap`]: a key in a
//! file or the environment today; an external KMS would be another implementation).
//!
//! - The naming key names its blocks in the store: `BLAKE3-keyed(naming key, block hash)`.
//!   Whoever reads the bucket cannot tell whether a known file is stored, and two
//!   organizations storing the same file get unrelated names (so no block is shared
//!   between them).
//! - Data keys encrypt every piece of a block, and its piece values, with
//!   XChaCha20-Poly1305 (random 24-byte nonces; the store name, the piece's index, the
//!   block's size and whether the piece is compressed are authenticated with it; a header
//!   naming another key or other frame lengths makes the pieces fail to decrypt). The current data key encrypts new blocks;
//!   older ones stay to read what they encrypted, until a re-encryption pass rewrote it.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::collections::HashMap;

pub type Key = [u8; 32];

/// Nonce before and tag after each encrypted value.
pub const OVERHEAD: usize = 24 + 16;

/// A fresh random key.
pub fn random_key() -> Key {
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    key.into()
}

/// Encrypts `plain` under `key`, binding `aad`: nonce, ciphertext, tag.
pub fn encrypt(key: &Key, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = XChaCha20Poly1305::new(key.into())
        .encrypt(&nonce, Payload { msg: plain, aad })
        .expect("encrypting into memory does not fail");
    let mut out = Vec::with_capacity(OVERHEAD + plain.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

/// What [`encrypt`] made, if `key` and `aad` are the ones it was made with.
pub fn decrypt(key: &Key, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < OVERHEAD {
        return None;
    }
    let (nonce, body) = sealed.split_at(24);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
        .ok()
}

/// Wraps and unwraps the keys of organizations. `purpose` names what a key is for (the
/// organization and the key's role), so a wrapped key moved elsewhere does not unwrap.
pub trait KeyWrap: Send + Sync + std::fmt::Debug {
    fn wrap(&self, purpose: &str, key: &Key) -> Vec<u8>;
    fn unwrap(&self, purpose: &str, wrapped: &[u8]) -> Option<Key>;
}

/// The server's master key, from a file or the environment: 64 hex digits.
pub struct MasterKey(Key);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A master key written as 64 hex digits (surrounding white space ignored).
    pub fn parse(text: &str) -> Result<MasterKey, String> {
        let text = text.trim();
        let bytes = (text.len() == 64)
            .then(|| {
                (0..32)
                    .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
                    .collect::<Option<Vec<u8>>>()
            })
            .flatten()
            .ok_or("a master key is 64 hex digits (32 random bytes), e.g. from `openssl rand -hex 32`")?;
        Ok(MasterKey(bytes.try_into().expect("32 bytes")))
    }
}

impl KeyWrap for MasterKey {
    fn wrap(&self, purpose: &str, key: &Key) -> Vec<u8> {
        encrypt(&self.0, purpose.as_bytes(), key)
    }

    fn unwrap(&self, purpose: &str, wrapped: &[u8]) -> Option<Key> {
        decrypt(&self.0, purpose.as_bytes(), wrapped)?.try_into().ok()
    }
}

/// What wraps an organization's naming key, and its data key `id`.
pub fn purpose(org: &str, id: Option<u32>) -> String {
    match id {
        None => format!("strata naming key of {org}"),
        Some(id) => format!("strata data key {id} of {org}"),
    }
}

/// An organization's keys, unwrapped.
#[derive(Clone)]
pub struct OrgKeys {
    pub org: String,
    pub naming: Key,
    /// The data key new blocks are encrypted with.
    pub current: u32,
    pub data: HashMap<u32, Key>,
}

impl std::fmt::Debug for OrgKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OrgKeys({}, current {})", self.org, self.current)
    }
}

impl OrgKeys {
    /// The name the store keeps a block under.
    pub fn store_name(&self, hash: &[u8; 32]) -> [u8; 32] {
        *blake3::keyed_hash(&self.naming, hash).as_bytes()
    }

    /// The current data key, with its id.
    pub fn current_key(&self) -> (u32, &Key) {
        (self.current, &self.data[&self.current])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let (key, other) = (random_key(), random_key());
        let sealed = encrypt(&key, b"ctx", b"secret bytes");
        assert_eq!(sealed.len(), OVERHEAD + 12);
        assert_eq!(decrypt(&key, b"ctx", &sealed).as_deref(), Some(&b"secret bytes"[..]));
        assert_eq!(decrypt(&other, b"ctx", &sealed), None);
        assert_eq!(decrypt(&key, b"other ctx", &sealed), None);
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert_eq!(decrypt(&key, b"ctx", &flipped), None);
        assert_eq!(decrypt(&key, b"ctx", &sealed[..10]), None);
        assert_ne!(
            encrypt(&key, b"ctx", b"secret bytes"),
            sealed,
            "a nonce of its own each time"
        );
    }

    #[test]
    fn master_keys_parse_from_hex_and_wrap_for_one_purpose() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let master = MasterKey::parse(&format!(" {hex}\n")).unwrap();
        for bad in [
            "",
            "00",
            &hex[1..],
            &format!("{hex}00"),
            &hex.replace('0', "g"),
            "é".repeat(32).as_str(),
        ] {
            assert!(MasterKey::parse(bad).is_err(), "{bad:?}");
        }
        let key = random_key();
        let wrapped = master.wrap(&purpose("acme", Some(1)), &key);
        assert_eq!(master.unwrap(&purpose("acme", Some(1)), &wrapped), Some(key));
        assert_eq!(master.unwrap(&purpose("acme", Some(2)), &wrapped), None);
        assert_eq!(master.unwrap(&purpose("evil", Some(1)), &wrapped), None);
        let wrong = MasterKey::parse(&"1".repeat(64)).unwrap();
        assert_eq!(wrong.unwrap(&purpose("acme", Some(1)), &wrapped), None);
        assert!(!format!("{master:?}").contains("0011"));
    }
}
