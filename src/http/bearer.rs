//! `Authorization: Bearer` credentials ([RFC 6750 §2.1]).
//!
//! [RFC 6750 §2.1]: https://www.rfc-editor.org/rfc/rfc6750#section-2.1

use core::fmt;

use super::{is_ctl_except_tab, is_token, trim_ows};

/// Reads the token from an `Authorization` field value of the form `Bearer <token68>`.
///
/// Pass `None` when the request has no `Authorization` field. With the `http` crate:
/// `bearer_token(request.headers().get(http::header::AUTHORIZATION))`. To also refuse a
/// request that carries the field twice, use [`bearer_token_in_fields`] instead.
///
/// The scheme is matched case-insensitively, one or more spaces may follow it, and the token
/// must be a strict `token68` (see the [module docs](super) for the full rules).
///
/// # Errors
///
/// - [`BearerError::Missing`]: no field, or an empty one (answer `401`);
/// - [`BearerError::Scheme`]: credentials for another scheme, such as `Basic`, whatever
///   they hold but a control character other than tab (answer `401`);
/// - [`BearerError::Malformed`]: Bearer credentials that do not follow the grammar, or a
///   value with control characters, or Bearer credentials with non-ASCII bytes (answer
///   `400`);
/// - [`BearerError::TooLong`]: Bearer credentials longer than [`MAX_AUTHORIZATION_LEN`]
///   once surrounding spaces and tabs are trimmed (answer `400`).
///
/// [`BearerError::status`] and [`BearerError::www_authenticate`] give the answer.
///
/// # Examples
///
/// ```
/// use tokenstile::http::{BearerError, bearer_token};
///
/// assert_eq!(bearer_token(Some("bearer  mF_9.B5f-4.1JqM=="))?, "mF_9.B5f-4.1JqM==");
/// assert_eq!(bearer_token(None::<&str>), Err(BearerError::Missing));
///
/// let err = bearer_token(Some(b"Basic dXNlcjpwYXNz")).unwrap_err();
/// assert_eq!((err, err.status()), (BearerError::Scheme, 401));
///
/// let err = bearer_token(Some("Bearer a=b")).unwrap_err();
/// assert_eq!((err, err.status()), (BearerError::Malformed, 400));
/// assert_eq!(err.www_authenticate(), r#"Bearer error="invalid_request""#);
/// # Ok::<(), BearerError>(())
/// ```
pub fn bearer_token<V>(authorization: Option<&V>) -> Result<&str, BearerError>
where
    V: AsRef<[u8]> + ?Sized,
{
    bearer_token_in_fields(authorization)
}

/// Like [`bearer_token`], over every `Authorization` field of a request.
///
/// `Authorization` is a singleton field: a request with more than one is refused with
/// [`BearerError::Duplicate`], whatever the fields hold, because a proxy that checks the first
/// and an application that reads the last would disagree about who is calling. With the
/// `http` crate: `bearer_token_in_fields(request.headers().get_all(AUTHORIZATION))`.
///
/// # Errors
///
/// [`BearerError::Duplicate`] for more than one field, otherwise as [`bearer_token`].
///
/// # Examples
///
/// ```
/// use tokenstile::http::{BearerError, bearer_token_in_fields};
///
/// assert_eq!(bearer_token_in_fields(["Bearer abc"])?, "abc");
/// assert_eq!(bearer_token_in_fields::<str, _>([]), Err(BearerError::Missing));
/// assert_eq!(
///     bearer_token_in_fields(["Bearer abc", "Bearer def"]),
///     Err(BearerError::Duplicate)
/// );
/// # Ok::<(), BearerError>(())
/// ```
pub fn bearer_token_in_fields<'a, V, I>(fields: I) -> Result<&'a str, BearerError>
where
    V: AsRef<[u8]> + ?Sized + 'a,
    I: IntoIterator<Item = &'a V>,
{
    let mut fields = fields.into_iter();
    let Some(field) = fields.next() else {
        return Err(BearerError::Missing);
    };
    if fields.next().is_some() {
        return Err(BearerError::Duplicate);
    }
    parse(field.as_ref())
}

/// The longest `Authorization` value accepted, in bytes, after trimming surrounding spaces.
///
/// 8 KiB is the usual per-field limit of HTTP servers, and several times the size of a
/// typical HS256 JWT.
pub const MAX_AUTHORIZATION_LEN: usize = 8192;

/// The `WWW-Authenticate` value to send with `401` when a well-formed bearer token fails
/// verification: expired, revoked, bad MAC ([RFC 6750 §3.1] `invalid_token`).
///
/// [RFC 6750 §3.1]: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
pub const INVALID_TOKEN_CHALLENGE: &str = "Bearer error=\"invalid_token\"";

/// Why no bearer token could be read from a request.
///
/// Missing credentials and credentials for another scheme are "not authenticated"
/// (`401`); broken Bearer credentials are a bad request (`400`), as [RFC 6750 §3.1] asks.
///
/// [RFC 6750 §3.1]: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerError {
    /// The request has more than one `Authorization` field.
    Duplicate,
    /// The credentials use the Bearer scheme but do not follow its grammar, or the value holds
    /// control characters or non-ASCII bytes.
    Malformed,
    /// The request has no `Authorization` field, or an empty one.
    Missing,
    /// The credentials use another scheme, such as `Basic`.
    Scheme,
    /// The value is longer than [`MAX_AUTHORIZATION_LEN`].
    TooLong,
}

impl BearerError {
    /// The HTTP status code to answer with: `401` for [`Missing`](Self::Missing) and
    /// [`Scheme`](Self::Scheme), `400` for the rest.
    #[must_use]
    pub const fn status(self) -> u16 {
        if self.is_unauthenticated() { 401 } else { 400 }
    }

    /// The `WWW-Authenticate` value to send with the answer.
    ///
    /// `Bearer` alone for a `401`: [RFC 6750 §3.1] says a request without credentials for
    /// this scheme gets no error code. `Bearer error="invalid_request"` for a `400`. Add a
    /// `realm` or `scope` yourself if you need them.
    ///
    /// [RFC 6750 §3.1]: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
    #[must_use]
    pub const fn www_authenticate(self) -> &'static str {
        if self.is_unauthenticated() {
            "Bearer"
        } else {
            "Bearer error=\"invalid_request\""
        }
    }

    const fn is_unauthenticated(self) -> bool {
        matches!(self, Self::Missing | Self::Scheme)
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Duplicate => "more than one authorization field",
            Self::Malformed => "malformed bearer credentials",
            Self::Missing => "missing credentials",
            Self::Scheme => "authorization scheme is not bearer",
            Self::TooLong => "authorization field too long",
        })
    }
}

impl core::error::Error for BearerError {}

/// Parses one `Authorization` field value.
fn parse(value: &[u8]) -> Result<&str, BearerError> {
    let value = trim_ows(value);
    if value.is_empty() {
        return Err(BearerError::Missing);
    }
    // Credentials of another scheme are that scheme's business, whatever they hold (an
    // RFC 9110 auth-param list may have tabs and non-ASCII bytes; a Negotiate token may be
    // long): they get `Scheme`, so the answer is a bare `Bearer` challenge (RFC 6750
    // §3.1). Only a control character other than tab, which no field value may hold,
    // still makes them `Malformed`.
    // The scheme ends at the first space or tab, looked for within the cap.
    let head = value.get(..=MAX_AUTHORIZATION_LEN).unwrap_or(value);
    let scheme_len = head
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(head.len());
    let (scheme, rest) = value
        .split_at_checked(scheme_len)
        .ok_or(BearerError::Malformed)?;
    if is_token(scheme) && !scheme.eq_ignore_ascii_case(b"Bearer") {
        if value.iter().any(|&b| is_ctl_except_tab(b)) {
            return Err(BearerError::Malformed);
        }
        return Err(BearerError::Scheme);
    }
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(BearerError::TooLong);
    }
    // Only visible ASCII and SP: this refuses tabs, CR, LF, NUL, DEL and non-ASCII bytes
    // anywhere in Bearer credentials.
    if !value.iter().all(|&b| b == b' ' || b.is_ascii_graphic()) {
        return Err(BearerError::Malformed);
    }
    if !is_token(scheme) {
        return Err(BearerError::Malformed);
    }
    // `rest` is `1*SP token68` (or empty); the value was trimmed, so it cannot end in SP.
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let token = rest.get(start..).unwrap_or_default();
    if !is_token68(token) {
        return Err(BearerError::Malformed);
    }
    core::str::from_utf8(token).map_err(|_| BearerError::Malformed)
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
/// ([RFC 9110 §11.2]).
///
/// [RFC 9110 §11.2]: https://www.rfc-editor.org/rfc/rfc9110#section-11.2
fn is_token68(token: &[u8]) -> bool {
    let body_len = token.iter().position(|&b| b == b'=').unwrap_or(token.len());
    let Some((body, padding)) = token.split_at_checked(body_len) else {
        return false;
    };
    !body.is_empty()
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        && padding.iter().all(|&b| b == b'=')
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    fn bearer(value: &str) -> Result<&str, BearerError> {
        bearer_token(Some(value))
    }

    /// Stands in for `http::HeaderValue`, which implements `AsRef<[u8]>`.
    struct HeaderValue(&'static [u8]);

    impl AsRef<[u8]> for HeaderValue {
        fn as_ref(&self) -> &[u8] {
            self.0
        }
    }

    #[test]
    fn accepts_bearer_credentials() {
        assert_eq!(bearer("Bearer abc"), Ok("abc"));
        assert_eq!(bearer("Bearer mF_9.B5f-4.1JqM"), Ok("mF_9.B5f-4.1JqM"));
        assert_eq!(
            bearer("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"),
            Ok("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
        );
        // Every token68 character, then padding.
        assert_eq!(bearer("Bearer azAZ09-._~+/=="), Ok("azAZ09-._~+/=="));
        assert_eq!(bearer("Bearer x"), Ok("x"));
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for value in ["bearer abc", "BEARER abc", "bEaReR abc"] {
            assert_eq!(bearer(value), Ok("abc"), "{value}");
        }
    }

    #[test]
    fn one_or_more_spaces_separate_scheme_and_token() {
        // RFC 7235 / 9110: credentials = auth-scheme 1*SP token68.
        assert_eq!(bearer("Bearer  abc"), Ok("abc"));
        assert_eq!(bearer("Bearer     abc"), Ok("abc"));
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(bearer("  Bearer abc"), Ok("abc"));
        assert_eq!(bearer("Bearer abc \t "), Ok("abc"));
        assert_eq!(bearer("\tBearer abc\t"), Ok("abc"));
    }

    #[test]
    fn takes_bytes_str_and_header_values() {
        assert_eq!(bearer_token(Some(b"Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some(&b"Bearer abc"[..])), Ok("abc"));
        let header = HeaderValue(b"Bearer abc");
        assert_eq!(bearer_token(Some(&header)), Ok("abc"));
    }

    #[test]
    fn missing() {
        assert_eq!(bearer_token(None::<&str>), Err(BearerError::Missing));
        assert_eq!(bearer(""), Err(BearerError::Missing));
        assert_eq!(bearer("   "), Err(BearerError::Missing));
        assert_eq!(bearer(" \t "), Err(BearerError::Missing));
    }

    #[test]
    fn other_schemes() {
        for value in [
            "Basic dXNlcjpwYXNz",
            "Basic",
            "Digest username=\"a\", realm=\"b\"",
            "Bearerx abc",
            "Bear abc",
            "Token abc",
            "DPoP abc",
        ] {
            assert_eq!(bearer(value), Err(BearerError::Scheme), "{value}");
        }
    }

    #[test]
    fn no_token() {
        assert_eq!(bearer("Bearer"), Err(BearerError::Malformed));
        assert_eq!(bearer("Bearer "), Err(BearerError::Malformed));
        assert_eq!(bearer("Bearer    "), Err(BearerError::Malformed));
    }

    #[test]
    fn tab_is_not_a_separator() {
        assert_eq!(bearer("Bearer\tabc"), Err(BearerError::Malformed));
        assert_eq!(bearer("Bearer \tabc"), Err(BearerError::Malformed));
        assert_eq!(bearer("Bearer abc\tdef"), Err(BearerError::Malformed));
    }

    #[test]
    fn extra_parts() {
        for value in [
            "Bearer abc def",
            "Bearer abc  def",
            "Bearer abc, Basic dXNlcjpwYXNz",
            "Bearer abc,",
            "Bearer,abc",
            "Bearer realm=\"x\"",
            "Bearer abc=,def",
            "Bearer abc= def",
        ] {
            assert_eq!(bearer(value), Err(BearerError::Malformed), "{value}");
        }
    }

    #[test]
    fn strict_token68() {
        for value in [
            "Bearer a=b",
            "Bearer ab=c=",
            "Bearer =abc",
            "Bearer =",
            "Bearer ===",
            "Bearer a\"b",
            "Bearer a;b",
            "Bearer a\\b",
            "Bearer a%2Fb",
            "Bearer a!b",
            "Bearer a:b",
            "Bearer \"abc\"",
        ] {
            assert_eq!(bearer(value), Err(BearerError::Malformed), "{value}");
        }
    }

    #[test]
    fn control_characters_and_non_ascii() {
        for value in [
            &b"Bearer abc\r\nX-Injected: 1"[..],
            b"Bearer abc\r\n",
            b"Bearer abc\n",
            b"Bearer abc\0",
            b"Bearer a\0bc",
            b"\0Bearer abc",
            b"Bearer a\x7Fbc",
            b"Bearer a\x1Bbc",
            b"Bearer ab\xC3\xA9c",
            b"Bearer abc\xFF",
            b"Basic\0abc",
            b"Basic abc\r\n",
            b"Digest a=\"b\"\0",
        ] {
            assert_eq!(
                bearer_token(Some(value)),
                Err(BearerError::Malformed),
                "{value:?}"
            );
        }
        // Another scheme's credentials with tabs or non-ASCII bytes, both valid in a field
        // value, are that scheme's: `Scheme`.
        assert_eq!(
            bearer_token(Some(b"Digest username=\"a\",\trealm=\"b\"")),
            Err(BearerError::Scheme)
        );
        assert_eq!(bearer_token(Some(b"Basic \xFF")), Err(BearerError::Scheme));
        // Non-ASCII in the scheme is never mistaken for another scheme.
        assert_eq!(bearer("B\u{e9}arer abc"), Err(BearerError::Malformed));
        // Nor is an invalid scheme token.
        assert_eq!(bearer("Bearer: abc"), Err(BearerError::Malformed));
        assert_eq!(bearer("(Bearer) abc"), Err(BearerError::Malformed));
    }

    #[test]
    fn length_cap() {
        let mut value = [b'a'; MAX_AUTHORIZATION_LEN + 1];
        value[..7].copy_from_slice(b"Bearer ");
        assert_eq!(
            bearer_token(Some(&value[..MAX_AUTHORIZATION_LEN])).map(str::len),
            Ok(MAX_AUTHORIZATION_LEN - 7)
        );
        assert_eq!(bearer_token(Some(&value[..])), Err(BearerError::TooLong));
        // The cap is on Bearer credentials: another scheme's, however long, are that
        // scheme's (a Negotiate token may pass 8 KiB).
        value[..7].copy_from_slice(b"Basic  ");
        assert_eq!(bearer_token(Some(&value[..])), Err(BearerError::Scheme));
        // Surrounding whitespace does not count.
        let mut padded = [b' '; MAX_AUTHORIZATION_LEN + 2];
        padded[1..=MAX_AUTHORIZATION_LEN].fill(b'a');
        padded[1..8].copy_from_slice(b"Bearer ");
        assert!(bearer_token(Some(&padded[..])).is_ok());
    }

    #[test]
    fn fields() {
        assert_eq!(bearer_token_in_fields(["Bearer abc"]), Ok("abc"));
        assert_eq!(
            bearer_token_in_fields::<str, _>([]),
            Err(BearerError::Missing)
        );
        assert_eq!(bearer_token_in_fields([""]), Err(BearerError::Missing));
        assert_eq!(
            bearer_token_in_fields(["Bearer abc", "Bearer abc"]),
            Err(BearerError::Duplicate)
        );
        assert_eq!(
            bearer_token_in_fields(["", "Bearer abc"]),
            Err(BearerError::Duplicate)
        );
        assert_eq!(
            bearer_token_in_fields(["Basic dXNlcjpwYXNz", "Bearer abc"]),
            Err(BearerError::Duplicate)
        );
        let headers = [HeaderValue(b"Bearer abc"), HeaderValue(b"Bearer def")];
        assert_eq!(
            bearer_token_in_fields(&headers),
            Err(BearerError::Duplicate)
        );
        assert_eq!(bearer_token_in_fields(&headers[..1]), Ok("abc"));
    }

    #[test]
    fn answers() {
        use BearerError::*;
        for (err, status, challenge) in [
            (Duplicate, 400, "Bearer error=\"invalid_request\""),
            (Malformed, 400, "Bearer error=\"invalid_request\""),
            (Missing, 401, "Bearer"),
            (Scheme, 401, "Bearer"),
            (TooLong, 400, "Bearer error=\"invalid_request\""),
        ] {
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.www_authenticate(), challenge, "{err:?}");
        }
        assert_eq!(INVALID_TOKEN_CHALLENGE, "Bearer error=\"invalid_token\"");
    }

    #[test]
    fn display() {
        use BearerError::*;
        use core::fmt::Write;
        for err in [Duplicate, Malformed, Missing, Scheme, TooLong] {
            let mut text = heapless::String::<64>::new();
            write!(text, "{err}").unwrap();
            assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }
}
