//! Keys under which stores file entries, and the handles that name sessions in listings.
//!
//! Every key is a SHA-256 digest over a domain-separation label followed by length-prefixed
//! fields, so keys of different kinds can never collide and no two inputs share a key.

use core::fmt;
use core::hash::{Hash, Hasher};

use subtle::ConstantTimeEq;

use crate::sha256::Sha256;

/// The key under which a store files one entry: a session, a revoked token or a
/// revocation watermark.
///
/// A `LookupKey` is a SHA-256 digest derived by tokenstile, never the secret itself:
/// a session's key is derived from its [`SessionId`](crate::session::SessionId), so a
/// leaked store dump holds no bearer tokens. Outside tests, only tokenstile derives
/// one; a [`SessionHandle`] parsed from a client's text carries whatever 32 bytes it
/// was given, though, so a store treats a key as untrusted bytes, as the `Store`
/// contract says. Keys of different kinds come from different domains and never
/// collide, so a store may keep all of them in one table.
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

    /// A key with these bytes, for tests that need keys with chosen prefixes.
    #[cfg(test)]
    pub(crate) const fn from_bytes_for_tests(bytes: [u8; 32]) -> Self {
        Self(bytes)
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

    /// The key of the refresh-token family whose ID has these bytes.
    pub(crate) fn for_family(id: &[u8; 32]) -> Self {
        Self(digest(DOMAIN_FAMILY, &[Some(id)]))
    }

    /// The key of "every access token naming this family (`sid`) is revoked".
    pub(crate) fn for_revoked_family(sid: &str) -> Self {
        Self(digest(DOMAIN_REVOKED_FAMILY, &[Some(sid.as_bytes())]))
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
        crate::ct::eq32(&self.0, &other.0)
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

/// Names one session of a subject in a listing, without being a credential.
///
/// A handle is the session's [`LookupKey`]: a SHA-256 digest of its ID, from which the ID
/// can't be recovered. Show it to the session's owner ("signed in on 3 devices") and take
/// it back to end that one session: [`SessionPolicy::end_session`] accepts a handle only
/// together with the subject it belongs to, so a handle of someone else's session ends
/// nothing.
///
/// Its text form is 43 characters of unpadded base64url, for a form field or a URL.
/// Equality is constant-time.
///
/// [`SessionPolicy::end_session`]: crate::session::SessionPolicy::end_session
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionHandle(LookupKey);

impl SessionHandle {
    /// Length of the text form.
    pub const ENCODED_LEN: usize = 43;

    /// The handle of the session filed under the key with these bytes, for stores that
    /// keep keys as bytes ([`LookupKey::as_bytes`]).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(LookupKey(bytes))
    }

    /// The handle of the session filed under `key`.
    pub(crate) const fn new(key: LookupKey) -> Self {
        Self(key)
    }

    /// The key of the session this handle names. Not public: a handle comes from
    /// untrusted input, and only tokenstile turns it into a key, for an operation that
    /// also checks the subject.
    pub(crate) const fn lookup_key(&self) -> &LookupKey {
        &self.0
    }

    /// The digest bytes, as [`LookupKey::as_bytes`] gives them.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Writes the text form into `out`.
    pub fn encode<'o>(&self, out: &'o mut [u8; Self::ENCODED_LEN]) -> &'o str {
        // 32 bytes always encode to exactly 43 characters, so this can't fail.
        crate::b64::encode_str(self.0.as_bytes(), out)
    }

    /// Parses the text form, as untrusted input.
    ///
    /// Exactly [`ENCODED_LEN`](Self::ENCODED_LEN) characters of canonical unpadded
    /// base64url are accepted, as for session IDs.
    ///
    /// # Errors
    ///
    /// [`InvalidHandle`] for anything else.
    pub fn parse(s: &str) -> Result<Self, InvalidHandle> {
        if s.len() != Self::ENCODED_LEN {
            return Err(InvalidHandle);
        }
        let mut bytes = [0; 32];
        match crate::b64::decode(s.as_bytes(), &mut bytes) {
            Ok(()) => Ok(Self(LookupKey(bytes))),
            Err(_) => Err(InvalidHandle),
        }
    }
}

/// A [`SessionHandle`]'s text form was malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InvalidHandle;

impl fmt::Display for InvalidHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid session handle")
    }
}

impl core::error::Error for InvalidHandle {}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionHandle(")?;
        write_hex_prefix(f, self.0.as_bytes())?;
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

    /// The key under which a subject's refresh-token families are indexed: apart from
    /// its sessions, so listing one never shows the other.
    pub(crate) fn for_families(subject: &str) -> Self {
        Self(digest(DOMAIN_FAMILY_SUBJECT, &[Some(subject.as_bytes())]))
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
        crate::ct::eq32(&self.0, &other.0)
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

/// SHA-256 over `domain`, then each field as a presence byte (0 absent, 1 present) and,
/// when present, its length as 8 big-endian bytes followed by its bytes.
fn digest(domain: &[u8], fields: &[Option<&[u8]>]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(domain);
    for field in fields {
        match field {
            None => hash.update(&[0]),
            Some(bytes) => {
                hash.update(&[1]);
                // `usize` is at most 64 bits on every supported target.
                let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                hash.update(&len.to_be_bytes());
                hash.update(bytes);
            }
        }
    }
    hash.finalize()
}

fn write_hex_prefix(f: &mut fmt::Formatter<'_>, bytes: &[u8; 32]) -> fmt::Result {
    bytes.iter().take(4).try_for_each(|b| write!(f, "{b:02x}"))
}

// Each label ends in NUL, so no label is a prefix of another.
const DOMAIN_SESSION: &[u8] = b"tokenstile session lookup v1\0";
const DOMAIN_SUBJECT: &[u8] = b"tokenstile session subject v1\0";
const DOMAIN_REVOKED_TOKEN: &[u8] = b"tokenstile revoked jwt v1\0";
const DOMAIN_WATERMARK: &[u8] = b"tokenstile jwt watermark v1\0";
const DOMAIN_FAMILY: &[u8] = b"tokenstile refresh family v1\0";
const DOMAIN_FAMILY_SUBJECT: &[u8] = b"tokenstile refresh subject v1\0";
const DOMAIN_REVOKED_FAMILY: &[u8] = b"tokenstile revoked family v1\0";

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
        assert_ne!(SubjectKey::new("a"), SubjectKey::for_families("a"));
        assert_ne!(session, LookupKey::for_family(&[0; 32]));
        assert_ne!(token, LookupKey::for_revoked_family("a"));
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
        use sha2::Digest;
        let mut expected = sha2::Sha256::new();
        expected.update(DOMAIN_SESSION);
        expected.update([1]);
        expected.update(32u64.to_be_bytes());
        expected.update([7; 32]);
        let expected: [u8; 32] = expected.finalize().into();
        assert_eq!(LookupKey::for_session(&[7; 32]).as_bytes(), &expected);
    }

    #[test]
    fn handle_round_trips_and_refuses_junk() {
        let handle = SessionHandle::new(LookupKey::for_session(&[9; 32]));
        let mut buf = [0; SessionHandle::ENCODED_LEN];
        let text = handle.encode(&mut buf);
        assert_eq!(SessionHandle::parse(text), Ok(handle));
        assert_eq!(SessionHandle::parse(&text[1..]), Err(InvalidHandle));
        let mut bad = [b'A'; SessionHandle::ENCODED_LEN];
        bad[3] = b'+';
        let bad = core::str::from_utf8(&bad).unwrap_or_default();
        assert_eq!(SessionHandle::parse(bad), Err(InvalidHandle));
        let mut noncanonical = [b'A'; SessionHandle::ENCODED_LEN];
        noncanonical[42] = b'B';
        let noncanonical = core::str::from_utf8(&noncanonical).unwrap_or_default();
        assert_eq!(SessionHandle::parse(noncanonical), Err(InvalidHandle));
    }

    #[test]
    fn debug_shows_only_a_prefix() {
        let key = SubjectKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "SubjectKey(abababab..)");
    }
}
