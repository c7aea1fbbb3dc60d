//! The opaque refresh token a client holds.

use core::fmt;
use core::str::FromStr;

use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::session::{SessionIdError, decode_secret};
use crate::sha256::Sha256;
use crate::store::{LookupKey, SessionHandle};

/// A refresh token: 512 bits from a cryptographic RNG, the bearer secret a client
/// exchanges for a new access token.
///
/// It is two halves of 256 bits each:
///
/// - the **family ID**, fixed from login on, names the family (the login on one device)
///   the token belongs to. A store files the family under its SHA-256 digest, never under
///   the ID, and access tokens carry that digest as their `sid` claim, never the ID: only
///   refresh tokens of the family hold it;
/// - the **secret**, new at every refresh. The store keeps its SHA-256 digest only.
///
/// Its text form is exactly [`ENCODED_LEN`](Self::ENCODED_LEN) characters of canonical
/// unpadded base64url. Equality is constant-time, `Debug` prints no bytes, the bytes are
/// zeroized on drop, and the type is not `Clone`.
pub struct RefreshToken([u8; 64]);

impl RefreshToken {
    /// Length of the text form: 64 bytes in unpadded base64url.
    pub const ENCODED_LEN: usize = 86;

    /// A token of a new family, from `rng`.
    ///
    /// # Errors
    ///
    /// The RNG's error, if it fails.
    pub(crate) fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, R::Error> {
        let mut token = Self([0; 64]);
        rng.try_fill_bytes(&mut token.0)?;
        Ok(token)
    }

    /// The next token of this token's family: the same family ID, a new secret.
    ///
    /// # Errors
    ///
    /// The RNG's error, if it fails.
    pub(crate) fn successor<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<Self, R::Error> {
        let mut next = Self([0; 64]);
        let (family, secret) = next.0.split_at_mut(32);
        family.copy_from_slice(self.family_id());
        rng.try_fill_bytes(secret)?;
        Ok(next)
    }

    /// Parses the text form, as untrusted input.
    ///
    /// # Errors
    ///
    /// [`RefreshTokenError::Length`] for the wrong length (checked first),
    /// [`RefreshTokenError::Alphabet`] for a character outside the base64url alphabet,
    /// and [`RefreshTokenError::NonCanonical`] when the last character has non-zero unused
    /// bits.
    pub fn parse(s: &str) -> Result<Self, RefreshTokenError> {
        let mut token = Self([0; 64]);
        decode_secret(s, &mut token.0).map_err(|e| match e {
            SessionIdError::Length => RefreshTokenError::Length,
            SessionIdError::NonCanonical => RefreshTokenError::NonCanonical,
            _ => RefreshTokenError::Alphabet,
        })?;
        Ok(token)
    }

    /// Writes the text form into `out` and returns it.
    pub fn encode<'o>(&self, out: &'o mut [u8; Self::ENCODED_LEN]) -> &'o str {
        // `ENCODED_LEN` is exactly the encoded length of 64 bytes, so this never fails.
        // Should it ever, the empty string is refused by `parse`.
        crate::b64::encode_str(&self.0, out)
    }

    /// The text form as a `String` (feature `alloc`).
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn encode_string(&self) -> alloc::string::String {
        let mut buf = [0; Self::ENCODED_LEN];
        let s = alloc::string::String::from(self.encode(&mut buf));
        buf.zeroize();
        s
    }

    /// The handle of this token's family: what listings show, and what access tokens
    /// issued from the family carry as `sid`.
    #[must_use]
    pub fn family(&self) -> SessionHandle {
        SessionHandle::new(self.family_key())
    }

    /// The raw bytes, family ID first. Whoever holds them holds the login: keep them out
    /// of logs.
    #[must_use]
    pub const fn expose_secret(&self) -> &[u8; 64] {
        &self.0
    }

    /// The key the store files this token's family under.
    pub(crate) fn family_key(&self) -> LookupKey {
        LookupKey::for_family(self.family_id())
    }

    /// The digest of the secret half, as the family record keeps it. Hashed in place by
    /// the crate's SHA-256, which wipes what it buffered of the secret when dropped.
    pub(crate) fn secret_digest(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(SECRET_DOMAIN);
        hash.update(self.0.get(32..).unwrap_or_default());
        hash.finalize()
    }

    fn family_id(&self) -> &[u8; 32] {
        // The first half of a 64-byte array is always 32 bytes.
        self.0.first_chunk::<32>().unwrap_or(&[0; 32])
    }
}

impl ConstantTimeEq for RefreshToken {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for RefreshToken {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for RefreshToken {}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(..)")
    }
}

impl FromStr for RefreshToken {
    type Err = RefreshTokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Drop for RefreshToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for RefreshToken {}

/// Why a refresh token's text form was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshTokenError {
    /// A character outside the base64url alphabet (including `=`, `+`, `/`, whitespace
    /// and any non-ASCII character).
    Alphabet,
    /// Not exactly [`RefreshToken::ENCODED_LEN`] bytes long.
    Length,
    /// The last character has non-zero unused low bits: another spelling of some token.
    NonCanonical,
}

impl fmt::Display for RefreshTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Alphabet => "refresh token has a character outside base64url",
            Self::Length => "refresh token has the wrong length",
            Self::NonCanonical => "refresh token is not canonical base64url",
        })
    }
}

impl core::error::Error for RefreshTokenError {}

/// Domain separation for the digest of a token's secret half.
const SECRET_DOMAIN: &[u8] = b"tokenstile refresh secret v1\0";

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    fn token(family: u8, secret: u8) -> RefreshToken {
        let mut bytes = [secret; 64];
        bytes[..32].fill(family);
        RefreshToken(bytes)
    }

    #[test]
    fn round_trips_and_refuses_other_spellings() {
        let t = token(1, 2);
        let mut buf = [0; RefreshToken::ENCODED_LEN];
        let text = t.encode(&mut buf);
        assert_eq!(RefreshToken::parse(text), Ok(token(1, 2)));
        assert_eq!(
            RefreshToken::parse(&text[1..]),
            Err(RefreshTokenError::Length)
        );
        let mut bad = [b'A'; 86];
        bad[85] = b'B';
        let bad = core::str::from_utf8(&bad).unwrap_or_default();
        assert_eq!(
            RefreshToken::parse(bad),
            Err(RefreshTokenError::NonCanonical)
        );
        let spaced = format!(" {}", &text[1..]);
        assert_eq!(
            RefreshToken::parse(&spaced),
            Err(RefreshTokenError::Alphabet)
        );
        assert_eq!(format!("{t:?}"), "RefreshToken(..)");
    }

    #[test]
    fn successor_keeps_the_family_and_changes_the_secret() {
        struct Fill(u8);
        impl rand_core::TryRng for Fill {
            type Error = core::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(u32::from(self.0))
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                Ok(u64::from(self.0))
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                dst.fill(self.0);
                Ok(())
            }
        }
        impl TryCryptoRng for Fill {}

        let t = token(1, 2);
        let Ok(next) = t.successor(&mut Fill(9));
        assert!(next == token(1, 9));
        assert!(next.family() == t.family());
        assert_ne!(next.secret_digest(), t.secret_digest());
        assert_ne!(t.family_key(), LookupKey::for_session(&[1; 32]));
    }

    /// Family records in every store hold this digest: it must stay SHA-256 of the
    /// domain label and the secret half, as `sha2`'s own hashing gives it.
    #[test]
    fn secret_digest_is_sha256_of_the_label_and_the_secret() {
        use sha2::Digest;
        for secret in [0u8, 7, 0xff] {
            let t = token(3, secret);
            let expected: [u8; 32] = sha2::Sha256::new()
                .chain_update(SECRET_DOMAIN)
                .chain_update([secret; 32])
                .finalize()
                .into();
            assert_eq!(t.secret_digest(), expected);
        }
    }
}
