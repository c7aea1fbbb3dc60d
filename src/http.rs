//! HTTP glue without a framework: bearer credentials, session cookies, `Set-Cookie` values,
//! and the check of where a state-changing request comes from.
//!
//! Everything here works on borrowed bytes and caller buffers. Nothing allocates, nothing
//! depends on an HTTP library, and every rejection is a typed error.
//!
//! # Header values go in as bytes
//!
//! The parsers take any `V: AsRef<[u8]> + ?Sized`: `str`, `[u8]`, byte arrays, and
//! `http::HeaderValue` (which implements `AsRef<[u8]>`) all fit. Passing raw bytes rather
//! than `&str` means a value with non-ASCII bytes reaches the parser, which then rejects it
//! (or, for unrelated cookies, tolerates it) with a precise error instead of the caller
//! having to handle a failed `to_str()` first. What comes back is a `&str` that borrows from
//! the input and holds only the characters the grammar allows.
//!
//! Leading and trailing spaces and tabs around a field value are ignored, as an HTTP/1.1
//! parser does when it reads a field line ([RFC 9112 §5.1]).
//!
//! # `Authorization: Bearer`
//!
//! [`bearer_token`] reads `credentials = "Bearer" 1*SP token68` ([RFC 6750 §2.1],
//! [RFC 9110 §11.4]):
//!
//! - the scheme is compared ASCII case-insensitively: `bearer` and `BEARER` are accepted;
//! - one *or more* spaces separate scheme and token, as the grammar says; a tab, a comma or
//!   anything after the token is refused;
//! - the token is strict `token68`: letters, digits, `-._~+/`, then only trailing `=`;
//! - control characters and non-ASCII bytes anywhere are refused;
//! - the value, once surrounding spaces and tabs are trimmed, is capped at
//!   [`MAX_AUTHORIZATION_LEN`] bytes;
//! - credentials for another scheme are not judged by these rules (only a control
//!   character other than tab, which no field value may hold, makes them malformed);
//! - a request with more than one `Authorization` field is refused
//!   ([`bearer_token_in_fields`]), because proxies and applications may disagree about
//!   which one counts.
//!
//! [`BearerError::status`] maps each error to the answer of [RFC 6750 §3.1]: no
//! credentials, or credentials for another scheme (`Basic ...`), get `401` with a bare
//! `WWW-Authenticate: Bearer` challenge, so the client learns what to send; broken Bearer
//! credentials get `400` with `error="invalid_request"`. A well-formed token that then fails
//! verification gets `401` with [`INVALID_TOKEN_CHALLENGE`].
//!
//! # `Cookie`
//!
//! [`find_cookie`] reads `cookie-string = cookie-pair *( ";" SP cookie-pair )`
//! ([RFC 6265 §4.2.1]). It is lenient where browsers and proxies differ harmlessly and
//! strict where a difference could be exploited:
//!
//! - separators may lack the space or carry extra spaces and tabs;
//! - the named cookie must be exactly `name=value`, and its value must be `cookie-octet`s,
//!   optionally inside one pair of double quotes (which are removed). A pair whose name only
//!   matches after trimming spaces (`name =value`), or the bare `name` without `=`, counts as
//!   the named cookie and is reported as [`CookieError::Malformed`], never skipped, because
//!   another parser on the path may read it as the named cookie;
//! - other cookies are not validated at all: a neighbour's non-ASCII or otherwise invalid
//!   value does not hide a well-formed session cookie. This is safe because `;` is the only
//!   separator and cannot occur inside a valid pair;
//! - a control character (other than tab) anywhere in the field refuses the whole field
//!   ([`CookieError::ControlCharacter`]). HTTP forbids them in field values and browsers
//!   never store cookies that hold them, so their presence means a broken client or an
//!   injection attempt;
//! - the named cookie's name plus value is capped at [`MAX_COOKIE_LEN`] bytes, the limit
//!   beyond which browsers ignore a cookie.
//!
//! **Duplicate names are refused.** A request carrying the named cookie twice gets
//! [`CookieError::Duplicate`], never the first or the last one. Browsers send every cookie
//! whose domain and path match, and an attacker controlling a sibling subdomain can plant a
//! same-named cookie with `Domain=` set to the parent domain (cookie tossing), so "pick the
//! first" lets the attacker log the victim into the attacker's session. The `__Host-` prefix
//! stops a sibling from setting such a cookie, but not every browser in use enforces it, and
//! a *nameless* cookie whose value is `__Host-session=...` serializes to the same bytes as
//! the real one in older browsers, so refusing duplicates is the rule that holds everywhere.
//! It protects a browser that holds the real cookie; one planted in a browser with no
//! session of its own is the only copy, and nothing on the server tells it apart (the
//! `__Host-` prefix, where enforced, and rotating the ID at login are the defences there).
//! To end sessions on logout, [`cookie_values`] yields every well-formed copy instead (at
//! most [`MAX_COOKIE_COPIES`]: each costs a store call).
//! HTTP/2 may split `Cookie` into several fields ([RFC 9113 §8.2.3]):
//! [`find_cookie_in_fields`] applies the rule across all of them.
//!
//! Treat any [`CookieError`] as "no valid session". With a `__Host-` name a legitimate
//! browser never sends duplicates. Without the prefix, a stale cookie left at another
//! `Path` or `Domain` also causes [`CookieError::Duplicate`], which is one more reason to
//! keep the prefix.
//!
//! # `Set-Cookie`
//!
//! [`CookieOptions`] is a reusable policy with safe defaults: name `__Host-session`, `Path=/`,
//! no `Domain`, `Secure`, `HttpOnly`, `SameSite=Strict`. [`CookieOptions::set_cookie`]
//! writes `name=value; Max-Age=N; Path=/; Secure; HttpOnly; SameSite=Strict` into a caller
//! buffer, with `N` the session's remaining lifetime in seconds;
//! [`CookieOptions::clear_cookie`] writes the logout form with an empty value and
//! `Max-Age=0`, with the same name, path and domain so that it replaces the session cookie.
//!
//! Nothing is silently changed: options that break the rules of the name's prefix
//! ([RFC 6265bis §4.1.3]) or `SameSite=None` without `Secure` are reported as errors rather
//! than quietly corrected, and a name or value that is not a `token` or `cookie-octet`s is
//! refused, so no `Set-Cookie` written here can carry `;`, CR or LF into another attribute or
//! header. Only `Max-Age` is written, not `Expires`: every browser in use understands it, and
//! it needs no clock on the server.
//!
//! # Cross-origin requests
//!
//! `SameSite=Strict` keeps a session cookie off requests that another *site* starts, but
//! not off those of another *origin of the same site*: a page on another port of the same
//! host, or on a sibling subdomain, gets the cookie sent along. So for every
//! state-changing method ([`is_state_changing`]: anything but `GET`, `HEAD`, `OPTIONS` and
//! `TRACE`) and every request to switch protocols (a WebSocket handshake is a `GET` that
//! opens a channel which reads and changes state), [`Provenance::allowed`] checks where
//! the request comes from:
//!
//! 1. `Sec-Fetch-Site` (every current browser sends it to HTTPS and `localhost` origins):
//!    only `same-origin` and `none` (the user typed the address or used a bookmark) pass;
//! 2. otherwise `Origin` (older browsers send it on `POST`): it must be one of the app's
//!    origins, written as browsers write them ([`serialize_origin`]), or, when the app
//!    names none, name the `Host` the request was sent to; `Origin: null` fails. An
//!    HTTP/2 request has no `Host` field, so an app that browsers reach over HTTP/2
//!    should name its origins;
//! 3. a request with neither comes from a client that is not a browser (curl, a mobile
//!    app, a server): it can't be a browser forged into acting for a user, and passes.
//!
//! Apply it wherever a cookie authenticates a request, login and logout included (a
//! forged login puts the victim in the attacker's account). A layer in front of many
//! routes may let through a request carrying a well-formed bearer credential
//! ([`bearer_token_in_fields`]): a browser never attaches one on its own, and a page of
//! another origin can't add one without a CORS preflight the app approves. But every
//! handler that acts on a cookie (a session's or a refresh token's) applies the check
//! itself, whatever else the request carries.
//!
//! # Timing
//!
//! The scanning here is not constant-time with respect to header contents. The tokens it
//! extracts are secrets, but they are authenticated afterwards (the JWT MAC, the session
//! lookup), and only the shape of the input, which the sender already knows, affects the time
//! taken.
//!
//! # Example
//!
//! ```
//! use tokenstile::http::{self, CookieOptions, SameSite};
//!
//! // A bearer token, for an API.
//! let token = http::bearer_token(Some("Bearer mF_9.B5f-4.1JqM"))?;
//! assert_eq!(token, "mF_9.B5f-4.1JqM");
//!
//! // A session cookie, for a browser.
//! let policy = CookieOptions::new().with_same_site(SameSite::Lax);
//! let id = http::find_cookie("theme=dark; __Host-session=abc123", policy.name)?;
//! assert_eq!(id, Some("abc123"));
//!
//! let mut buf = [0u8; 128];
//! let header = policy.set_cookie("abc123", 3600, &mut buf)?;
//! assert_eq!(
//!     header,
//!     "__Host-session=abc123; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Lax"
//! );
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! [RFC 6265 §4.2.1]: https://www.rfc-editor.org/rfc/rfc6265#section-4.2.1
//! [RFC 6265bis §4.1.3]: https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3
//! [RFC 6750 §2.1]: https://www.rfc-editor.org/rfc/rfc6750#section-2.1
//! [RFC 6750 §3.1]: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
//! [RFC 9110 §11.4]: https://www.rfc-editor.org/rfc/rfc9110#section-11.4
//! [RFC 9112 §5.1]: https://www.rfc-editor.org/rfc/rfc9112#section-5.1
//! [RFC 9113 §8.2.3]: https://www.rfc-editor.org/rfc/rfc9113#section-8.2.3

mod bearer;
mod cookie;
mod origin;
mod set_cookie;

pub use bearer::{
    BearerError, INVALID_TOKEN_CHALLENGE, MAX_AUTHORIZATION_LEN, bearer_token,
    bearer_token_in_fields,
};
pub use cookie::{
    CookieError, MAX_COOKIE_COPIES, MAX_COOKIE_LEN, cookie_values, find_cookie,
    find_cookie_in_fields,
};
pub use origin::{Provenance, is_state_changing, serialize_origin};
pub use set_cookie::{CookieOptions, SameSite, SetCookieError};

/// `value` without leading and trailing spaces and tabs (`OWS`, [RFC 9110 §5.6.3]).
///
/// [RFC 9110 §5.6.3]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.3
fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i.saturating_add(1));
    value.get(start..end).unwrap_or_default()
}

/// Whether `bytes` is a non-empty `token` ([RFC 9110 §5.6.2], the same set as the RFC 2616
/// `token` that [RFC 6265] uses for cookie names).
///
/// [RFC 9110 §5.6.2]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2
/// [RFC 6265]: https://www.rfc-editor.org/rfc/rfc6265#section-4.1.1
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b))
}

/// `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`"
/// / "|" / "~" / DIGIT / ALPHA`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E` ([RFC 6265 §4.1.1]): printable
/// ASCII except space, `"`, `,`, `;` and `\`.
///
/// [RFC 6265 §4.1.1]: https://www.rfc-editor.org/rfc/rfc6265#section-4.1.1
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// Control characters other than tab: `%x00-08 / %x0A-1F / %x7F`.
fn is_ctl_except_tab(b: u8) -> bool {
    b.is_ascii_control() && b != b'\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_ows_strips_spaces_and_tabs_only() {
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b" \ta b\t "), b"a b");
        assert_eq!(trim_ows(b"\r\na\r\n"), b"\r\na\r\n");
    }

    #[test]
    fn character_classes() {
        assert!(is_token(b"__Host-session"));
        assert!(!is_token(b""));
        for b in b"()<>@,;:\\\"/[]?={} \t\x00\x7F\x80" {
            assert!(!is_tchar(*b), "{b:#x}");
        }
        let octets = (0u8..=255).filter(|&b| is_cookie_octet(b)).count();
        // 0x21..=0x7E is 94 characters, minus `"`, `,`, `;` and `\`.
        assert_eq!(octets, 90);
        for b in b" \",;\\\x7F\x80\r\n" {
            assert!(!is_cookie_octet(*b), "{b:#x}");
        }
        assert!(is_ctl_except_tab(0));
        assert!(is_ctl_except_tab(b'\r'));
        assert!(is_ctl_except_tab(0x7F));
        assert!(!is_ctl_except_tab(b'\t'));
        assert!(!is_ctl_except_tab(0x80));
    }
}
