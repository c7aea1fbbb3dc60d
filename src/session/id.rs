//! Opaque session identifiers.

use core::fmt;
use core::str::FromStr;

use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::store::{LookupKey, SessionHandle};

/// A session ID: 256 bits from a cryptographic RNG, the bearer secret a client presents
/// (typically in a cookie).
///
/// Its text form is exactly [`ENCODED_LEN`](Self::ENCODED_LEN) characters of canonical
/// unpadded base64url ([RFC 4648 §5]). Stores never see the ID: they see its
/// [`lookup_key`](Self::lookup_key), a SHA-256 digest, so a leaked store dump can't be
/// replayed as cookies.
///
/// Equality is constant-time, `Debug` prints no bytes, and the bytes are zeroized on
/// drop. The type is deliberately not `Clone`: each copy of the secret is one more to
/// leak.
///
/// ```
/// use tokenstile::session::SessionId;
///
/// let id = SessionId::parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")?;
/// let mut buf = [0u8; SessionId::ENCODED_LEN];
/// assert_eq!(id.encode(&mut buf), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
/// # Ok::<(), tokenstile::session::SessionIdError>(())
/// ```
///
/// [RFC 4648 §5]: https://www.rfc-editor.org/rfc/rfc4648#section-5
pub struct SessionId([u8; 32]);

impl SessionId {
    /// Length of the text form: 32 bytes in unpadded base64url.
    pub const ENCODED_LEN: usize = 43;

    /// A fresh ID from `rng`.
    ///
    /// Any [`TryCryptoRng`] works, so a microcontroller's hardware TRNG can be used
    /// directly and its failure is reported rather than hidden.
    ///
    /// # Errors
    ///
    /// The RNG's error, if it fails.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, R::Error> {
        // Filled in place, so a partial fill is zeroized on the error path.
        let mut id = Self([0; 32]);
        rng.try_fill_bytes(&mut id.0)?;
        Ok(id)
    }

    /// Parses the text form, as untrusted input.
    ///
    /// Accepts exactly [`ENCODED_LEN`](Self::ENCODED_LEN) characters of the base64url
    /// alphabet (`A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_`), without padding or whitespace,
    /// whose unused low bits in the last character are zero. Every ID has exactly one
    /// accepted text form.
    ///
    /// # Errors
    ///
    /// [`SessionIdError::Length`] for the wrong length (checked first),
    /// [`SessionIdError::Alphabet`] for a character outside the alphabet, and
    /// [`SessionIdError::NonCanonical`] when the last character has non-zero unused bits.
    pub fn parse(s: &str) -> Result<Self, SessionIdError> {
        let mut id = Self([0; 32]);
        decode_secret(s, &mut id.0)?;
        Ok(id)
    }

    /// Writes the text form into `out` and returns it.
    pub fn encode<'o>(&self, out: &'o mut [u8; Self::ENCODED_LEN]) -> &'o str {
        // `ENCODED_LEN` is exactly the encoded length of 32 bytes, so this never fails.
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

    /// The handle of this session, as [`SessionPolicy::list`](super::SessionPolicy::list)
    /// shows it: compare it with a listed handle to find the current session.
    #[must_use]
    pub fn handle(&self) -> SessionHandle {
        SessionHandle::new(self.lookup_key())
    }

    /// The key a store files this session under: SHA-256 over a domain-separation label
    /// and the ID.
    #[must_use]
    pub fn lookup_key(&self) -> LookupKey {
        LookupKey::for_session(&self.0)
    }

    /// The raw ID bytes. Whoever holds them holds the session: keep them out of logs.
    #[must_use]
    pub const fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl ConstantTimeEq for SessionId {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        crate::ct::eq32(&self.0, &other.0)
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SessionId {}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(..)")
    }
}

impl FromStr for SessionId {
    type Err = SessionIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Drop for SessionId {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SessionId {}

/// Why a session ID's text form was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionIdError {
    /// A character outside the base64url alphabet (including `=`, `+`, `/`, whitespace
    /// and any non-ASCII character).
    Alphabet,
    /// Not exactly [`SessionId::ENCODED_LEN`] bytes long.
    Length,
    /// The last character has non-zero unused low bits: another spelling of some ID.
    NonCanonical,
}

impl fmt::Display for SessionIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Alphabet => "session ID has a character outside base64url",
            Self::Length => "session ID has the wrong length",
            Self::NonCanonical => "session ID is not canonical base64url",
        })
    }
}

impl core::error::Error for SessionIdError {}

/// Decodes exactly `out.len()` bytes from their canonical unpadded base64url text, as
/// untrusted input: the length is checked first, then the alphabet and the unused bits. On
/// error, `out` may hold part of the bytes; callers zeroize it (it lives in a type that
/// does so on drop).
pub(crate) fn decode_secret(s: &str, out: &mut [u8]) -> Result<(), SessionIdError> {
    if crate::b64::encoded_len(out.len()) != Some(s.len()) {
        return Err(SessionIdError::Length);
    }
    match crate::b64::decode(s.as_bytes(), out) {
        Ok(()) => Ok(()),
        // Only failed input reaches this scan, so valid text decodes in constant time.
        Err(_) if s.bytes().all(is_base64url) => Err(SessionIdError::NonCanonical),
        Err(_) => Err(SessionIdError::Alphabet),
    }
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    const ONES: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

    #[test]
    fn round_trips() {
        let id = SessionId::parse(ONES);
        assert_eq!(id.as_ref().map(SessionId::expose_secret), Ok(&[1; 32]));
        let mut buf = [0; SessionId::ENCODED_LEN];
        assert_eq!(id.map(|id| id.encode(&mut buf).len()), Ok(43));
        assert_eq!(&buf[..], ONES.as_bytes());
    }

    #[test]
    fn hostile_text_gets_a_specific_error() {
        let cases: &[(&str, SessionIdError)] = &[
            ("", SessionIdError::Length),
            (&ONES[..42], SessionIdError::Length),
            (
                "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
                SessionIdError::Length,
            ),
            (
                "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEA",
                SessionIdError::Length,
            ),
            // Standard alphabet, padding, whitespace, NUL, non-ASCII (43 bytes each).
            (
                "+QEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
                SessionIdError::Alphabet,
            ),
            (
                "/QEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
                SessionIdError::Alphabet,
            ),
            (
                "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=",
                SessionIdError::Alphabet,
            ),
            (
                " QEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
                SessionIdError::Alphabet,
            ),
            (
                "\0QEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
                SessionIdError::Alphabet,
            ),
            (
                "éEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
                SessionIdError::Alphabet,
            ),
            // `F` has its lowest unused bit set: it would decode like `E`.
            (
                "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF",
                SessionIdError::NonCanonical,
            ),
            (
                "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH",
                SessionIdError::NonCanonical,
            ),
        ];
        for &(text, expected) in cases {
            assert_eq!(SessionId::parse(text).err(), Some(expected), "{text:?}");
        }
    }

    #[test]
    fn generate_uses_the_rng_and_reports_its_failure() {
        struct Counter(u8);
        impl rand_core::TryRng for Counter {
            type Error = core::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(0)
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                Ok(0)
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                dst.fill(self.0);
                self.0 = self.0.wrapping_add(1);
                Ok(())
            }
        }
        impl TryCryptoRng for Counter {}

        #[derive(Debug)]
        struct Broken;
        impl fmt::Display for Broken {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("broken")
            }
        }
        impl core::error::Error for Broken {}
        impl rand_core::TryRng for Broken {
            type Error = Broken;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Err(Broken)
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                Err(Broken)
            }
            fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
                Err(Broken)
            }
        }
        impl TryCryptoRng for Broken {}

        let mut rng = Counter(5);
        let a = SessionId::generate(&mut rng);
        let b = SessionId::generate(&mut rng);
        assert_eq!(a.as_ref().map(SessionId::expose_secret), Ok(&[5; 32]));
        assert_eq!(b.as_ref().map(SessionId::expose_secret), Ok(&[6; 32]));
        assert!(a != b);
        assert!(SessionId::generate(&mut Broken).is_err());
    }

    #[test]
    fn lookup_key_depends_on_every_byte() {
        let a = SessionId([1; 32]);
        let mut other = [1; 32];
        other[31] = 0;
        let b = SessionId(other);
        assert_ne!(a.lookup_key(), b.lookup_key());
        assert_eq!(a.lookup_key(), SessionId([1; 32]).lookup_key());
        assert_ne!(a.lookup_key().as_bytes(), a.expose_secret());
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", SessionId([1; 32])), "SessionId(..)");
    }
}
