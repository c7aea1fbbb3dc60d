//! Keys under which stores file entries, and the revocation watermark value.
//!
//! Every key is a SHA-256 digest over a domain-separation label followed by length-prefixed
//! fields, so keys of different kinds can never collide and no two inputs share a key.

use core::fmt;
use core::hash::{Hash, Hasher};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::time::UnixTime;

/// The key under which a store files one entry: a session, a revoked token or a
/// revocation watermark.
///
/// A `LookupKey` is a SHA-256 digest derived by tokenstile, never the secret itself:
/// a session's key is derived from its [`SessionId`](crate::session::SessionId), so a
/// leaked store dump holds no bearer tokens. Only tokenstile can make one, so a store
/// can't be handed a key that was not derived this way. Keys of different kinds come from
/// different domains and never collide, so a store may keep all of them in one table.
///
/// Equality is constant-time. `Hash` feeds the 32 digest bytes to the hasher as they are;
/// they are already uniformly distributed.
#[derive(Clone, Copy)]
pub struct LookupKey([u8; 32]);

impl LookupKey {
    /// The digest bytes, for stores that file entries under byte strings (for example as
    /// a Redis key name after hex or base64 encoding).
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key of the session whose ID has these bytes.
    pub(crate) fn for_session(id: &[u8; 32]) -> Self {
        Self(digest(DOMAIN_SESSION, &[Some(id)]))
    }

    /// The key of a revoked token, from its `iss` (absent and empty differ) and `jti`.
    pub(crate) fn for_revoked_token(issuer: Option<&str>, jti: &str) -> Self {
        Self(digest(
            DOMAIN_REVOKED_TOKEN,
            &[issuer.map(str::as_bytes), Some(jti.as_bytes())],
        ))
    }

    /// The key of the revocation watermark for the tokens of `subject` from `issuer`.
    pub(crate) fn for_watermark(issuer: Option<&str>, subject: &str) -> Self {
        Self(digest(
            DOMAIN_WATERMARK,
            &[issuer.map(str::as_bytes), Some(subject.as_bytes())],
        ))
    }
}

impl ConstantTimeEq for LookupKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for LookupKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for LookupKey {}

impl Hash for LookupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

impl fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LookupKey(")?;
        write_hex_prefix(f, &self.0)?;
        f.write_str("..)")
    }
}

/// Whom a session belongs to, as a SHA-256 digest of the subject (typically a user ID).
///
/// Session records keep this key rather than the subject itself: it is fixed-size, it is
/// all a store needs to index sessions for "log out everywhere", and a store dump doesn't
/// list user names. Keep whatever identity your application needs in the session data.
///
/// Unlike [`LookupKey`], a `SubjectKey` may be rebuilt from its bytes: stores persist it
/// inside records and must be able to restore it.
#[derive(Clone, Copy)]
pub struct SubjectKey([u8; 32]);

impl SubjectKey {
    /// The key of `subject`.
    #[must_use]
    pub fn new(subject: &str) -> Self {
        Self(digest(DOMAIN_SUBJECT, &[Some(subject.as_bytes())]))
    }

    /// A key restored from the bytes [`as_bytes`](Self::as_bytes) returned.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl ConstantTimeEq for SubjectKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for SubjectKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SubjectKey {}

impl Hash for SubjectKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectKey(")?;
        write_hex_prefix(f, &self.0)?;
        f.write_str("..)")
    }
}

/// A per-subject JWT revocation watermark: every token of the subject issued at or before
/// [`cutoff`](Self::cutoff) is revoked, and a token without `iat` is revoked too.
///
/// The watermark itself is kept until [`expires_at`](Self::expires_at), chosen as the
/// moment no token issued at or before the cutoff can still be valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Watermark {
    cutoff: UnixTime,
    expires_at: UnixTime,
}

impl Watermark {
    /// A watermark revoking tokens issued at or before `cutoff`, kept until `expires_at`.
    #[must_use]
    pub const fn new(cutoff: UnixTime, expires_at: UnixTime) -> Self {
        Self { cutoff, expires_at }
    }

    /// Tokens issued at or before this time are revoked.
    #[must_use]
    pub const fn cutoff(&self) -> UnixTime {
        self.cutoff
    }

    /// When the watermark may be forgotten.
    #[must_use]
    pub const fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// The watermark that revokes everything either one revokes, for as long as either
    /// is kept: the later cutoff and the later expiry. Stores use this to raise a
    /// watermark, which never lowers one.
    #[must_use]
    pub fn merge(self, other: Self) -> Self {
        Self {
            cutoff: self.cutoff.max(other.cutoff),
            expires_at: self.expires_at.max(other.expires_at),
        }
    }

    /// Whether a token issued at `iat` is revoked. A token without `iat` is.
    #[must_use]
    pub fn revokes(&self, iat: Option<UnixTime>) -> bool {
        iat.is_none_or(|iat| iat <= self.cutoff)
    }
}

/// SHA-256 over `domain`, then each field as a presence byte (0 absent, 1 present) and,
/// when present, its length as 8 big-endian bytes followed by its bytes.
fn digest(domain: &[u8], fields: &[Option<&[u8]>]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(domain);
    for field in fields {
        match field {
            None => hash.update([0]),
            Some(bytes) => {
                hash.update([1]);
                // `usize` is at most 64 bits on every supported target.
                let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                hash.update(len.to_be_bytes());
                hash.update(bytes);
            }
        }
    }
    hash.finalize().into()
}

fn write_hex_prefix(f: &mut fmt::Formatter<'_>, bytes: &[u8; 32]) -> fmt::Result {
    bytes.iter().take(4).try_for_each(|b| write!(f, "{b:02x}"))
}

// Each label ends in NUL, so no label is a prefix of another.
const DOMAIN_SESSION: &[u8] = b"tokenstile session lookup v1\0";
const DOMAIN_SUBJECT: &[u8] = b"tokenstile session subject v1\0";
const DOMAIN_REVOKED_TOKEN: &[u8] = b"tokenstile revoked jwt v1\0";
const DOMAIN_WATERMARK: &[u8] = b"tokenstile jwt watermark v1\0";

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn domains_separate_kinds() {
        let session = LookupKey::for_session(&[0; 32]);
        let token = LookupKey::for_revoked_token(None, "a");
        let watermark = LookupKey::for_watermark(None, "a");
        assert_ne!(session, token);
        assert_ne!(token, watermark);
        assert_ne!(SubjectKey::new("a").as_bytes(), watermark.as_bytes());
    }

    #[test]
    fn fields_are_unambiguous() {
        // Moving a byte from one field to the next changes the key.
        assert_ne!(
            LookupKey::for_revoked_token(Some("ab"), "c"),
            LookupKey::for_revoked_token(Some("a"), "bc")
        );
        // An absent issuer is not the empty issuer.
        assert_ne!(
            LookupKey::for_revoked_token(None, "x"),
            LookupKey::for_revoked_token(Some(""), "x")
        );
        assert_eq!(
            LookupKey::for_watermark(Some("i"), "s"),
            LookupKey::for_watermark(Some("i"), "s")
        );
    }

    #[test]
    fn session_key_is_sha256_of_label_and_id() {
        let mut expected = Sha256::new();
        expected.update(DOMAIN_SESSION);
        expected.update([1]);
        expected.update(32u64.to_be_bytes());
        expected.update([7; 32]);
        let expected: [u8; 32] = expected.finalize().into();
        assert_eq!(LookupKey::for_session(&[7; 32]).as_bytes(), &expected);
    }

    #[test]
    fn watermark_merges_upward_and_fails_closed() {
        let a = Watermark::new(UnixTime::from_secs(10), UnixTime::from_secs(100));
        let b = Watermark::new(UnixTime::from_secs(20), UnixTime::from_secs(50));
        let m = a.merge(b);
        assert_eq!(m.cutoff(), UnixTime::from_secs(20));
        assert_eq!(m.expires_at(), UnixTime::from_secs(100));
        assert!(m.revokes(None));
        assert!(m.revokes(Some(UnixTime::from_secs(20))));
        assert!(!m.revokes(Some(UnixTime::from_secs(21))));
    }

    #[test]
    fn debug_shows_only_a_prefix() {
        let key = SubjectKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "SubjectKey(abababab..)");
    }
}
