//! The JOSE header ([RFC 7515 §4]): written by signing, checked by verifying.
//!
//! [RFC 7515 §4]: https://www.rfc-editor.org/rfc/rfc7515#section-4

use crate::bytes;
use crate::error::{DecodeError, JsonError};
use crate::jwt::json::{self, JsonStr, Value};
use crate::jwt::key::KeyId;

/// The JOSE header that [`sign_with`](crate::jwt::sign_with) writes.
///
/// `alg` is always `"HS256"` and `kid` comes from the signing key; what can be chosen is
/// the `typ` member ([RFC 7515 §4.1.9]): `"JWT"` by default, another media type such as
/// `at+jwt` for OAuth access tokens ([RFC 9068]), or none at all. Verify such tokens with a
/// [`Validation`](crate::jwt::Validation) whose `typ` matches: the default accepts `JWT`
/// or no `typ`, [`Validation::with_typ`](crate::jwt::Validation::with_typ) exactly one
/// other.
///
/// ```
/// use tokenstile::jwt::Header;
///
/// let access_token = Header::new().with_typ("at+jwt");
/// let untyped = Header::new().without_typ();
/// # let _ = (access_token, untyped);
/// ```
///
/// [RFC 7515 §4.1.9]: https://www.rfc-editor.org/rfc/rfc7515#section-4.1.9
/// [RFC 9068]: https://www.rfc-editor.org/rfc/rfc9068
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header<'a> {
    /// The `typ` to write, or `None` to leave it out. Default: `Some("JWT")`.
    ///
    /// One to [`Header::MAX_TYP_LEN`] bytes of printable ASCII other than `"` and `\`;
    /// signing refuses anything else with [`EncodeError::Header`](crate::EncodeError::Header).
    pub typ: Option<&'a str>,
}

impl<'a> Header<'a> {
    /// The longest `typ` accepted, in bytes.
    pub const MAX_TYP_LEN: usize = 64;

    /// `{"alg":"HS256","typ":"JWT"}`, the header [`sign`](crate::jwt::sign) writes.
    #[must_use]
    pub const fn new() -> Self {
        Self { typ: Some("JWT") }
    }

    /// Writes `typ` as the header's `typ`, for example `at+jwt` ([RFC 9068]).
    ///
    /// [RFC 9068]: https://www.rfc-editor.org/rfc/rfc9068
    #[must_use]
    pub const fn with_typ(mut self, typ: &'a str) -> Self {
        self.typ = Some(typ);
        self
    }

    /// Leaves `typ` out of the header.
    #[must_use]
    pub const fn without_typ(mut self) -> Self {
        self.typ = None;
        self
    }
}

impl Default for Header<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `s` is written into a header as-is: 1 to `max` bytes of printable ASCII other
/// than `"` and `\`.
pub(crate) fn is_plain(s: &[u8], max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// The longest header JSON that signing writes: the fixed members plus the longest `typ`
/// and `kid`.
pub(crate) const MAX_SIGNED_HEADER_LEN: usize =
    ALG.len() + TYP_START.len() + Header::MAX_TYP_LEN + 1 + KID_START.len() + KeyId::MAX_LEN + 2;

/// The JSON of the header that signing writes, into `out`; returns its length, or `None`
/// if `typ` is not [plain](is_plain).
pub(crate) fn write(
    header: &Header<'_>,
    kid: Option<&KeyId>,
    out: &mut [u8; MAX_SIGNED_HEADER_LEN],
) -> Option<usize> {
    let typ = header.typ.unwrap_or("");
    if header.typ.is_some() && !is_plain(typ.as_bytes(), Header::MAX_TYP_LEN) {
        return None;
    }
    let kid = kid.map_or("", KeyId::as_str);
    let parts: [&[u8]; 7] = [
        ALG,
        if typ.is_empty() { b"" } else { TYP_START },
        typ.as_bytes(),
        if typ.is_empty() { b"" } else { b"\"" },
        if kid.is_empty() { b"" } else { KID_START },
        kid.as_bytes(),
        if kid.is_empty() { b"}" } else { b"\"}" },
    ];
    let mut len = 0usize;
    for part in parts {
        // The total is at most MAX_SIGNED_HEADER_LEN by construction (`typ` and `kid` are
        // bounded above); `zip` stops at the end of `out` regardless.
        for (dst, src) in out.iter_mut().skip(len).zip(part) {
            *dst = *src;
        }
        len = len.saturating_add(part.len());
    }
    Some(len.min(MAX_SIGNED_HEADER_LEN))
}

/// The base64url form of the header [`write()`] produces without a `kid`.
pub(crate) const SIGNED_WITHOUT_KID_B64: &[u8] = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// Recognizes a header exactly as [`write()`] produces it, and returns its `kid` (`Some(None)`
/// for none); `None` for any other bytes, which then take the full [`check`].
///
/// Such a header passes every rule of `check` (its `alg` is `HS256`, it has no `crit` or
/// `enc`, its `typ` is `JWT`, its `kid` is a string), so both paths agree. It only applies
/// when the policy accepts the `JWT` type, which is the default.
pub(crate) fn recognize_signed<'a>(
    decoded: &'a [u8],
    expected_typ: Option<&str>,
) -> Option<Option<&'a str>> {
    if expected_typ.is_some() {
        return None;
    }
    let rest = bytes::strip_prefix(decoded, HEADER_START)?;
    if matches!(rest, [b'}']) {
        return Some(None);
    }
    let kid = bytes::strip_prefix(rest, KID_START)
        .and_then(|k| bytes::strip_last(k, b'}'))
        .and_then(|k| bytes::strip_last(k, b'"'))?;
    // Exactly the characters a `KeyId` may hold, so nothing needed unescaping.
    is_plain(kid, KeyId::MAX_LEN)
        .then(|| core::str::from_utf8(kid).ok())
        .flatten()
        .map(Some)
}

/// What verification needs from a checked header.
#[derive(Debug)]
pub(crate) struct Checked<'a> {
    /// `kid` as received (canonical JSON string content).
    pub(crate) kid: Option<&'a str>,
}

/// Checks a canonical header object against RFC 7515, RFC 8725 and the `typ` policy.
///
/// Refused, in this order: `crit` (no extension is understood, RFC 7515 §4.1.11), `enc`
/// (a JWE header, RFC 8725 §2.8), `alg` other than exactly `"HS256"` (RFC 8725 §3.1),
/// `typ` not matching `expected_typ`, and `kid` that is not a string. Other members,
/// including key material (`jwk`, `jku`, `x5u`, `x5c`), are ignored.
pub(crate) fn check<'a>(
    canonical: &'a [u8],
    expected_typ: Option<&str>,
) -> Result<Checked<'a>, DecodeError> {
    let mut alg = None;
    let mut typ = None;
    let mut kid = None;
    let (mut crit, mut enc) = (false, false);
    let mut members = json::members(canonical);
    for (name, value) in members.by_ref() {
        match name.plain() {
            Some(b"alg") => alg = Some(value),
            Some(b"crit") => crit = true,
            Some(b"enc") => enc = true,
            Some(b"kid") => kid = Some(value),
            Some(b"typ") => typ = Some(value),
            _ => {}
        }
    }
    // A member the reader could not reach might be `crit` or `alg`: refuse, never guess.
    if !members.finished() {
        return Err(DecodeError::Header(JsonError::Syntax));
    }
    if crit {
        return Err(DecodeError::Critical);
    }
    if enc {
        return Err(DecodeError::Encrypted);
    }
    // A canonical string has one spelling, so `HS256` is exactly these bytes (an escaped
    // spelling of it was rewritten by the reader).
    match alg {
        Some(Value::String(s)) if s.plain().is_some_and(|a| bytes::eq(a, b"HS256")) => {}
        _ => return Err(DecodeError::Algorithm),
    }
    match typ {
        None if expected_typ.is_none() => {}
        None => return Err(DecodeError::Type),
        Some(Value::String(s)) => {
            if !typ_matches(s, expected_typ.unwrap_or("JWT")) {
                return Err(DecodeError::Type);
            }
        }
        Some(_) => return Err(DecodeError::HeaderMember),
    }
    let kid = match kid {
        None => None,
        Some(Value::String(s)) => Some(s.raw().ok_or(DecodeError::Header(JsonError::InvalidUtf8))?),
        Some(_) => return Err(DecodeError::HeaderMember),
    };
    Ok(Checked { kid })
}

/// `typ` comparison of RFC 7515 §4.1.9: media types are case-insensitive and the
/// `application/` prefix may be omitted.
fn typ_matches(typ: JsonStr<'_>, expected: &str) -> bool {
    // On bytes: a `str` would add a UTF-8 check and `str::get`'s char-boundary checks, and
    // neither is needed (the prefix is ASCII, and only bytes that equal `expected` up to
    // ASCII case can match).
    fn media_type(s: &[u8]) -> &[u8] {
        const PREFIX: &[u8] = b"application/";
        match s.split_at_checked(PREFIX.len()) {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case(PREFIX) => rest,
            _ => s,
        }
    }
    // An escaped `typ` holds `"`, `\` or a control character: never a media type.
    typ.plain()
        .is_some_and(|raw| media_type(raw).eq_ignore_ascii_case(media_type(expected.as_bytes())))
}

const ALG: &[u8] = br#"{"alg":"HS256""#;
const TYP_START: &[u8] = br#","typ":""#;
/// What signing writes first with the default `typ`.
const HEADER_START: &[u8] = br#"{"alg":"HS256","typ":"JWT""#;
const KID_START: &[u8] = br#","kid":""#;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::string::String;

    fn checked(json: &str, typ: Option<&str>) -> Result<Option<String>, DecodeError> {
        let mut buf = json.as_bytes().to_vec();
        let n = json::canonicalize(&mut buf, 16).map_err(DecodeError::Header)?;
        check(&buf[..n], typ).map(|c| c.kid.map(str::to_owned))
    }

    #[test]
    fn writes_the_fixed_header() {
        let mut out = [0u8; MAX_SIGNED_HEADER_LEN];
        let n = write(&Header::new(), None, &mut out).unwrap();
        assert_eq!(&out[..n], br#"{"alg":"HS256","typ":"JWT"}"#);
        let kid = KeyId::new(&"k".repeat(KeyId::MAX_LEN)).unwrap();
        let typ = "t".repeat(Header::MAX_TYP_LEN);
        let n = write(&Header::new().with_typ(&typ), Some(&kid), &mut out).unwrap();
        assert_eq!(n, MAX_SIGNED_HEADER_LEN);
        assert!(out.ends_with(b"kkk\"}"));
        let kid = KeyId::new("k1").unwrap();
        for (header, expected) in [
            (Header::new().without_typ(), r#"{"alg":"HS256"}"#),
            (
                Header::new().with_typ("at+jwt"),
                r#"{"alg":"HS256","typ":"at+jwt"}"#,
            ),
        ] {
            let n = write(&header, None, &mut out).unwrap();
            assert_eq!(core::str::from_utf8(&out[..n]).unwrap(), expected);
            let n = write(&header, Some(&kid), &mut out).unwrap();
            let with_kid = std::format!("{}{}", &expected[..expected.len() - 1], r#","kid":"k1"}"#);
            assert_eq!(core::str::from_utf8(&out[..n]).unwrap(), with_kid);
            // What signing writes, verification reads back.
            assert_eq!(
                checked(&with_kid, header.typ.filter(|t| *t != "JWT")),
                Ok(Some("k1".into()))
            );
        }
        for bad in [
            "",
            "a\"b",
            "a\\b",
            "a\nb",
            "é",
            &"t".repeat(Header::MAX_TYP_LEN + 1),
        ] {
            assert_eq!(
                write(&Header::new().with_typ(bad), None, &mut out),
                None,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn signed_headers_are_recognized_exactly() {
        use base64ct::{Base64UrlUnpadded, Encoding};
        let mut out = [0u8; MAX_SIGNED_HEADER_LEN];
        let n = write(&Header::new(), None, &mut out).unwrap();
        let mut encoded = [0u8; 64];
        let encoded = Base64UrlUnpadded::encode(&out[..n], &mut encoded).unwrap();
        assert_eq!(encoded.as_bytes(), SIGNED_WITHOUT_KID_B64);
        assert_eq!(recognize_signed(&out[..n], None), Some(None));
        assert_eq!(recognize_signed(&out[..n], Some("at+jwt")), None);
        let kid = KeyId::new("key-2026").unwrap();
        let n = write(&Header::new(), Some(&kid), &mut out).unwrap();
        assert_eq!(recognize_signed(&out[..n], None), Some(Some("key-2026")));
        for other in [
            r#"{"alg":"HS256","typ":"JWT" }"#,
            r#"{"alg":"HS256","typ":"JWT","kid":""}"#,
            r#"{"alg":"HS256","typ":"JWT","kid":"a\"b"}"#,
            r#"{"alg":"HS256","typ":"JWT","kid":"a\u0062"}"#,
            r#"{"alg":"HS256","typ":"JWT","kid":"a","kid":"b"}"#,
            r#"{"alg":"HS256","typ":"JWT","kid":"a"}}"#,
            r#"{"alg":"HS256","typ":"JWT"}}"#,
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"typ":"JWT","alg":"HS256"}"#,
        ] {
            assert_eq!(recognize_signed(other.as_bytes(), None), None, "{other}");
        }
        // Whatever the fast path accepts, the full check accepts with the same `kid`.
        let long = std::format!(
            r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#,
            "k".repeat(64)
        );
        for header in [
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"alg":"HS256","typ":"JWT","kid":"k 1~"}"#,
            long.as_str(),
        ] {
            let fast = recognize_signed(header.as_bytes(), None)
                .unwrap()
                .map(str::to_owned);
            assert_eq!(checked(header, None), Ok(fast), "{header}");
        }
    }

    #[test]
    fn alg_is_pinned() {
        assert_eq!(checked(r#"{"alg":"HS256"}"#, None), Ok(None));
        for bad in [
            r#"{}"#,
            r#"{"alg":"none"}"#,
            r#"{"alg":"None"}"#,
            r#"{"alg":"NONE"}"#,
            r#"{"alg":"hs256"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"HS384"}"#,
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"ES256"}"#,
            r#"{"alg":"HS256 "}"#,
            r#"{"alg":null}"#,
            r#"{"alg":true}"#,
            r#"{"alg":256}"#,
            r#"{"alg":["HS256"]}"#,
            r#"{"alg":{"v":"HS256"}}"#,
            r#"{"Alg":"HS256"}"#,
        ] {
            assert_eq!(checked(bad, None), Err(DecodeError::Algorithm), "{bad}");
        }
        // Escapes are decoded before comparing, so this is exactly "HS256".
        assert_eq!(checked(r#"{"alg":"HS\u0032\u00356"}"#, None), Ok(None));
        assert_eq!(checked(r#"{"\u0061lg":"HS256"}"#, None), Ok(None));
    }

    #[test]
    fn duplicate_header_members_are_refused() {
        assert_eq!(
            checked(r#"{"alg":"HS256","alg":"none"}"#, None),
            Err(DecodeError::Header(JsonError::DuplicateMember))
        );
        assert_eq!(
            checked(r#"{"alg":"HS256","\u0061lg":"HS256"}"#, None),
            Err(DecodeError::Header(JsonError::DuplicateMember))
        );
    }

    #[test]
    fn crit_and_enc_are_refused() {
        assert_eq!(
            checked(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#, None),
            Err(DecodeError::Critical)
        );
        assert_eq!(
            checked(r#"{"alg":"HS256","crit":[]}"#, None),
            Err(DecodeError::Critical)
        );
        assert_eq!(
            checked(r#"{"alg":"HS256","enc":"A128GCM"}"#, None),
            Err(DecodeError::Encrypted)
        );
        assert_eq!(
            checked(r#"{"alg":"none","crit":["b64"]}"#, None),
            Err(DecodeError::Critical)
        );
    }

    #[test]
    fn typ_policy() {
        for ok in ["JWT", "jwt", "application/jwt", "Application/JWT"] {
            let h = std::format!(r#"{{"alg":"HS256","typ":"{ok}"}}"#);
            assert_eq!(checked(&h, None), Ok(None), "{ok}");
        }
        for bad in ["at+jwt", "JOSE", "", "application/", "xapplication/jwt"] {
            let h = std::format!(r#"{{"alg":"HS256","typ":"{bad}"}}"#);
            assert_eq!(checked(&h, None), Err(DecodeError::Type), "{bad}");
        }
        assert_eq!(
            checked(r#"{"alg":"HS256","typ":1}"#, None),
            Err(DecodeError::HeaderMember)
        );
        assert_eq!(
            checked(r#"{"alg":"HS256","typ":"at+jwt"}"#, Some("at+jwt")),
            Ok(None)
        );
        assert_eq!(
            checked(
                r#"{"alg":"HS256","typ":"application/AT+JWT"}"#,
                Some("at+jwt")
            ),
            Ok(None)
        );
        assert_eq!(
            checked(r#"{"alg":"HS256","typ":"JWT"}"#, Some("at+jwt")),
            Err(DecodeError::Type)
        );
        assert_eq!(
            checked(r#"{"alg":"HS256"}"#, Some("at+jwt")),
            Err(DecodeError::Type)
        );
    }

    #[test]
    fn kid_and_ignored_key_material() {
        assert_eq!(
            checked(r#"{"alg":"HS256","kid":"k1"}"#, None),
            Ok(Some("k1".into()))
        );
        assert_eq!(
            checked(r#"{"alg":"HS256","kid":7}"#, None),
            Err(DecodeError::HeaderMember)
        );
        assert_eq!(
            checked(
                r#"{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"},"jku":"https://x","x5u":"https://y","x5c":["AA"]}"#,
                None
            ),
            Ok(None)
        );
    }
}
