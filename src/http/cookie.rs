//! Finding one named cookie in a `Cookie` request field ([RFC 6265 §4.2.1]).
//!
//! [RFC 6265 §4.2.1]: https://www.rfc-editor.org/rfc/rfc6265#section-4.2.1

use core::fmt;

use super::{is_cookie_octet, is_ctl_except_tab, is_token, trim_ows};

/// Finds the value of the cookie called `name` in a `Cookie` field value.
///
/// Returns `Ok(None)` when no cookie has that name, and the value without surrounding double
/// quotes when exactly one does. Other cookies in the field are not validated, so an
/// unrelated malformed cookie does not hide the named one. With the `http` crate, prefer
/// [`find_cookie_in_fields`] over `request.headers().get(COOKIE)`: HTTP/2 clients may split
/// cookies over several fields.
///
/// See the [module docs](super) for the exact rules and the reasons for them.
///
/// # Errors
///
/// - [`CookieError::Duplicate`]: the cookie appears more than once;
/// - [`CookieError::Malformed`]: the named cookie is not exactly `name=value` or its value has
///   characters outside `cookie-octet`;
/// - [`CookieError::TooLong`]: the named cookie's name and value exceed [`MAX_COOKIE_LEN`];
/// - [`CookieError::ControlCharacter`]: the field holds a control character other than tab,
///   in any cookie;
/// - [`CookieError::InvalidName`]: `name` is not an [RFC 6265] `token` (a caller mistake).
///
/// # Examples
///
/// ```
/// use tokenstile::http::{CookieError, find_cookie};
///
/// let header = "theme=dark;__Host-session=abc123; lang=fr";
/// assert_eq!(find_cookie(header, "__Host-session")?, Some("abc123"));
/// assert_eq!(find_cookie(header, "missing")?, None);
///
/// // Duplicates are refused, never resolved by picking one.
/// assert_eq!(
///     find_cookie(b"__Host-session=evil; __Host-session=abc123", "__Host-session"),
///     Err(CookieError::Duplicate)
/// );
/// # Ok::<(), CookieError>(())
/// ```
///
/// [RFC 6265]: https://www.rfc-editor.org/rfc/rfc6265#section-4.1.1
pub fn find_cookie<'a, V>(cookie_header: &'a V, name: &str) -> Result<Option<&'a str>, CookieError>
where
    V: AsRef<[u8]> + ?Sized,
{
    find_cookie_in_fields(core::iter::once(cookie_header), name)
}

/// Like [`find_cookie`], over every `Cookie` field of a request.
///
/// HTTP/2 and HTTP/3 clients may send each cookie in its own `Cookie` field
/// ([RFC 9113 §8.2.3]). This searches all of them, and refuses a name that appears twice
/// even when the two copies are in different fields. With the `http` crate:
/// `find_cookie_in_fields(request.headers().get_all(COOKIE), name)`.
///
/// # Errors
///
/// As [`find_cookie`], over all fields together.
///
/// # Examples
///
/// ```
/// use tokenstile::http::{CookieError, find_cookie_in_fields};
///
/// assert_eq!(find_cookie_in_fields(["a=1", "sid=abc"], "sid")?, Some("abc"));
/// assert_eq!(
///     find_cookie_in_fields(["sid=abc", "sid=evil"], "sid"),
///     Err(CookieError::Duplicate)
/// );
/// # Ok::<(), CookieError>(())
/// ```
///
/// [RFC 9113 §8.2.3]: https://www.rfc-editor.org/rfc/rfc9113#section-8.2.3
pub fn find_cookie_in_fields<'a, V, I>(
    fields: I,
    name: &str,
) -> Result<Option<&'a str>, CookieError>
where
    V: AsRef<[u8]> + ?Sized + 'a,
    I: IntoIterator<Item = &'a V>,
{
    let name = name.as_bytes();
    if !is_token(name) {
        return Err(CookieError::InvalidName);
    }
    let mut found = None;
    for field in fields {
        scan(field.as_ref(), name, &mut found)?;
    }
    Ok(found)
}

/// Every well-formed copy of the cookie called `name`, over every `Cookie` field of a
/// request, in order: for ending whatever a request presents, where
/// [`find_cookie_in_fields`] rightly refuses to choose between copies.
///
/// A logout is the case: when a request carries a session cookie twice (a stale copy, or
/// one planted by a sibling subdomain), no copy can be trusted to be *the* session, but
/// each one that names a live session should still be ended. Each value follows
/// [`find_cookie`]'s rules (exactly `name=value`, `cookie-octet`s, at most
/// [`MAX_COOKIE_LEN`], surrounding quotes removed); a copy that breaks them is skipped,
/// as is a field holding a control character other than tab. A `name` that is not an
/// RFC 6265 `token` finds nothing. At most [`MAX_COOKIE_COPIES`] copies are yielded, so
/// that a request made to carry thousands costs no more than that many store calls.
///
/// # Examples
///
/// ```
/// use tokenstile::http::cookie_values;
///
/// let fields = ["theme=dark; sid=old; sid=\"new\"", "sid=bad value; sid=third"];
/// let found: Vec<&str> = cookie_values(fields, "sid").collect();
/// assert_eq!(found, ["old", "new", "third"]);
/// ```
pub fn cookie_values<'a, V, I>(fields: I, name: &'a str) -> impl Iterator<Item = &'a str>
where
    V: AsRef<[u8]> + ?Sized + 'a,
    I: IntoIterator<Item = &'a V>,
{
    let name = name.as_bytes();
    let valid_name = is_token(name);
    fields
        .into_iter()
        .map(AsRef::as_ref)
        .filter(move |field| valid_name && !field.iter().any(|&b| is_ctl_except_tab(b)))
        .flat_map(|field| field.split(|&b| b == b';'))
        .filter_map(move |pair| named_value(pair, name)?.ok())
        .take(MAX_COOKIE_COPIES)
}

/// The most copies of one cookie [`cookie_values`] yields. Chromium and Firefox keep at
/// most 180 cookies for one site, so a browser's request never carries more, however
/// many a sibling subdomain sets to push the real one back; only a request no browser
/// sent loses the copies past these.
pub const MAX_COOKIE_COPIES: usize = 180;

/// The longest named cookie accepted: name plus value, in bytes (quotes included).
///
/// Browsers ignore a cookie whose name and value together exceed 4096 bytes
/// ([RFC 6265bis §5.7]), so a longer one did not come from a conforming browser.
///
/// [RFC 6265bis §5.7]: https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-5.7
pub const MAX_COOKIE_LEN: usize = 4096;

/// Why a named cookie could not be read from a `Cookie` field.
///
/// All variants but [`InvalidName`](Self::InvalidName) are caused by the request; treat them
/// as "no valid session".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CookieError {
    /// The field holds a control character other than tab.
    ControlCharacter,
    /// The named cookie appears more than once.
    Duplicate,
    /// The name to look for is not an RFC 6265 `token`. A caller mistake.
    InvalidName,
    /// The named cookie is not exactly `name=value`, or its value is not `cookie-octet`s.
    Malformed,
    /// The named cookie's name and value are longer than [`MAX_COOKIE_LEN`].
    TooLong,
}

impl fmt::Display for CookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ControlCharacter => "control character in cookie field",
            Self::Duplicate => "cookie sent more than once",
            Self::InvalidName => "invalid cookie name",
            Self::Malformed => "malformed cookie",
            Self::TooLong => "cookie too long",
        })
    }
}

impl core::error::Error for CookieError {}

/// Looks for `name` in one field, recording it in `found`.
fn scan<'a>(field: &'a [u8], name: &[u8], found: &mut Option<&'a str>) -> Result<(), CookieError> {
    if field.iter().any(|&b| is_ctl_except_tab(b)) {
        return Err(CookieError::ControlCharacter);
    }
    for pair in field.split(|&b| b == b';') {
        let Some(value) = named_value(pair, name) else {
            continue;
        };
        if found.is_some() {
            return Err(CookieError::Duplicate);
        }
        *found = Some(value?);
    }
    Ok(())
}

/// What one `;`-separated pair of a field is to the cookie `name`: `None` for another
/// cookie, else the value without its quotes, or why this copy is refused.
fn named_value<'a>(pair: &'a [u8], name: &[u8]) -> Option<Result<&'a str, CookieError>> {
    let pair = trim_ows(pair);
    let (pair_name, value) = match pair.iter().position(|&b| b == b'=') {
        Some(eq) => {
            let (pair_name, value) = pair.split_at_checked(eq).unwrap_or_default();
            (pair_name, value.get(1..))
        }
        None => (pair, None),
    };
    // Anything that another parser could take for the named cookie counts as it, and
    // must then be well-formed.
    if trim_ows(pair_name) != name {
        return None;
    }
    let Some(value) = value.filter(|_| pair_name == name) else {
        return Some(Err(CookieError::Malformed));
    };
    if name.len().saturating_add(value.len()) > MAX_COOKIE_LEN {
        return Some(Err(CookieError::TooLong));
    }
    let unquoted = match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    };
    if !unquoted.iter().all(|&b| is_cookie_octet(b)) {
        return Some(Err(CookieError::Malformed));
    }
    Some(core::str::from_utf8(unquoted).map_err(|_| CookieError::Malformed))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    const NAME: &str = "__Host-session";

    fn find(header: &str) -> Result<Option<&str>, CookieError> {
        find_cookie(header, NAME)
    }

    /// Stands in for `http::HeaderValue`, which implements `AsRef<[u8]>`.
    struct HeaderValue(&'static [u8]);

    impl AsRef<[u8]> for HeaderValue {
        fn as_ref(&self) -> &[u8] {
            self.0
        }
    }

    /// However many copies a request carries, at most `MAX_COOKIE_COPIES` are yielded:
    /// the first ones, in order.
    #[test]
    fn cookie_values_stops_at_max_copies() {
        use alloc::string::String;
        use alloc::vec::Vec;
        let mut field = String::new();
        for n in 0..1000 {
            field.push_str(&alloc::format!("sid={n}; "));
        }
        let found: Vec<&str> = cookie_values([field.as_str()], "sid").collect();
        assert_eq!(found.len(), MAX_COOKIE_COPIES);
        assert_eq!(found.first(), Some(&"0"));
        assert_eq!(
            found.last().map(|v| v.parse::<usize>()),
            Some(Ok(MAX_COOKIE_COPIES - 1))
        );
        // Across fields too.
        let fields = [field.as_str(), field.as_str()];
        assert_eq!(cookie_values(fields, "sid").count(), MAX_COOKIE_COPIES);
    }

    #[test]
    fn finds_the_named_cookie() {
        for header in [
            "__Host-session=abc",
            "a=1; __Host-session=abc",
            "__Host-session=abc; a=1",
            "a=1; __Host-session=abc; b=2",
            "__Host-sessionx=1; __Host-session=abc; x__Host-session=2",
            "__host-session=1; __Host-session=abc; __HOST-SESSION=2",
        ] {
            assert_eq!(find(header), Ok(Some("abc")), "{header}");
        }
    }

    #[test]
    fn absent() {
        for header in [
            "",
            "   ",
            "a=1",
            "a=1; b=2",
            "__host-session=abc",
            ";;",
            "=abc",
        ] {
            assert_eq!(find(header), Ok(None), "{header}");
        }
        assert_eq!(find_cookie_in_fields::<str, _>([], NAME), Ok(None));
    }

    #[test]
    fn tolerant_separators() {
        for header in [
            "a=1;__Host-session=abc",
            "a=1 ;  __Host-session=abc ;b=2",
            "a=1;\t__Host-session=abc\t",
            "  __Host-session=abc  ",
            "a=1; __Host-session=abc;",
            ";;a=1;; __Host-session=abc;;",
        ] {
            assert_eq!(find(header), Ok(Some("abc")), "{header}");
        }
    }

    #[test]
    fn values() {
        assert_eq!(find("__Host-session="), Ok(Some("")));
        assert_eq!(find("__Host-session=\"abc\""), Ok(Some("abc")));
        assert_eq!(find("__Host-session=\"\""), Ok(Some("")));
        // `=` is a cookie-octet: only the first one separates name and value.
        assert_eq!(find("__Host-session=a=b=="), Ok(Some("a=b==")));
        // Every cookie-octet is accepted.
        let all = "!#$%&'()*+-./0123456789:<=>?@AZ[]^_`az{|}~";
        let mut header = heapless::String::<128>::new();
        header.push_str("__Host-session=").unwrap();
        header.push_str(all).unwrap();
        assert_eq!(find(&header), Ok(Some(all)));
    }

    #[test]
    fn takes_bytes_str_and_header_values() {
        assert_eq!(find_cookie(b"a=1; sid=abc", "sid"), Ok(Some("abc")));
        assert_eq!(find_cookie(&b"sid=abc"[..], "sid"), Ok(Some("abc")));
        let header = HeaderValue(b"sid=abc");
        assert_eq!(find_cookie(&header, "sid"), Ok(Some("abc")));
    }

    #[test]
    fn duplicates_are_refused() {
        for header in [
            "__Host-session=evil; __Host-session=abc",
            "__Host-session=abc; __Host-session=abc",
            "__Host-session=abc; a=1; __Host-session=",
            "__Host-session=abc;__Host-session=\"abc\"",
            // The second copy is refused even when it is itself malformed.
            "__Host-session=abc; __Host-session =x",
            "__Host-session=abc; __Host-session",
        ] {
            assert_eq!(find(header), Err(CookieError::Duplicate), "{header}");
        }
    }

    #[test]
    fn duplicates_across_fields_are_refused() {
        assert_eq!(
            find_cookie_in_fields(["a=1", "__Host-session=abc"], NAME),
            Ok(Some("abc"))
        );
        assert_eq!(
            find_cookie_in_fields(["__Host-session=abc", "__Host-session=evil"], NAME),
            Err(CookieError::Duplicate)
        );
        let fields = [
            HeaderValue(b"__Host-session=abc"),
            HeaderValue(b"a=1"),
            HeaderValue(b"__Host-session=abc"),
        ];
        assert_eq!(
            find_cookie_in_fields(&fields, NAME),
            Err(CookieError::Duplicate)
        );
        assert_eq!(find_cookie_in_fields(&fields[..2], NAME), Ok(Some("abc")));
    }

    #[test]
    fn malformed_named_cookie() {
        for header in [
            // Near-misses of the name.
            "__Host-session =abc",
            "__Host-session\t=abc",
            "__Host-session",
            "a=1; __Host-session; b=2",
            // Values outside cookie-octet.
            "__Host-session= abc",
            "__Host-session=a b",
            "__Host-session=a,b",
            "__Host-session=a\\b",
            "__Host-session=a\"b",
            "__Host-session=\"abc",
            "__Host-session=abc\"",
            "__Host-session=\"",
            "__Host-session=\"a\"b\"",
            "__Host-session=\"a b\"",
            "__Host-session=a\tb",
            "__Host-session=\u{e9}",
        ] {
            assert_eq!(find(header), Err(CookieError::Malformed), "{header}");
        }
        assert_eq!(
            find_cookie(b"__Host-session=ab\xFF", NAME),
            Err(CookieError::Malformed)
        );
    }

    #[test]
    fn unrelated_garbage_is_tolerated() {
        for header in [
            &b"garbage; __Host-session=abc"[..],
            b"a=\xC3\xA9t\xC3\xA9; __Host-session=abc",
            b"a=\xFF\xFE; __Host-session=abc",
            b"a=\"unterminated; __Host-session=abc",
            b"a=b c, d; __Host-session=abc; e=\\",
            b"=nameless; __Host-session=abc",
            b"__Host-sessio=x; _Host-session=y; __Host-session=abc",
        ] {
            assert_eq!(
                find_cookie(header, NAME),
                Ok(Some("abc")),
                "{}",
                header.escape_ascii()
            );
        }
    }

    #[test]
    fn control_characters_refuse_the_field() {
        for header in [
            &b"__Host-session=abc\r\nSet-Cookie: x=y"[..],
            b"__Host-session=abc\n",
            b"__Host-session=abc\0",
            b"__Host-session=a\0bc",
            b"a=1\r; __Host-session=abc",
            b"a=\x7F; __Host-session=abc",
            b"a=\x1B[31m; __Host-session=abc",
            b"\0",
        ] {
            assert_eq!(
                find_cookie(header, NAME),
                Err(CookieError::ControlCharacter),
                "{}",
                header.escape_ascii()
            );
        }
        assert_eq!(
            find_cookie_in_fields([&b"__Host-session=abc"[..], b"a=\0"], NAME),
            Err(CookieError::ControlCharacter)
        );
    }

    #[test]
    fn length_cap() {
        const PREFIX: &[u8] = b"__Host-session=";
        let mut header = [b'a'; MAX_COOKIE_LEN + 1];
        header[..PREFIX.len()].copy_from_slice(PREFIX);
        // Name (14) plus value is exactly the limit.
        let at_limit = &header[..MAX_COOKIE_LEN + 1];
        assert_eq!(
            find_cookie(at_limit, NAME).map(|v| v.map(str::len)),
            Ok(Some(MAX_COOKIE_LEN - NAME.len()))
        );
        let mut over = [b'a'; MAX_COOKIE_LEN + 2];
        over[..PREFIX.len()].copy_from_slice(PREFIX);
        assert_eq!(find_cookie(&over[..], NAME), Err(CookieError::TooLong));
        // Quotes count.
        let mut quoted = [b'a'; MAX_COOKIE_LEN + 1];
        quoted[..PREFIX.len()].copy_from_slice(PREFIX);
        quoted[PREFIX.len()] = b'"';
        quoted[MAX_COOKIE_LEN] = b'"';
        assert_eq!(
            find_cookie(&quoted[..], NAME).map(|v| v.map(str::len)),
            Ok(Some(MAX_COOKIE_LEN - NAME.len() - 2))
        );
    }

    #[test]
    fn long_fields_of_other_cookies() {
        // 64 KiB of unrelated cookies, including oversized ones, then the named cookie.
        let mut header = [b'x'; 65536];
        for chunk in header.chunks_mut(8) {
            chunk.copy_from_slice(b"x=1234; ");
        }
        header[100..6000].fill(b'y');
        let tail = b"__Host-session=abc";
        let start = header.len() - tail.len();
        header[start..].copy_from_slice(tail);
        header[start - 1] = b';';
        assert_eq!(find_cookie(&header[..], NAME), Ok(Some("abc")));
        header[..tail.len()].copy_from_slice(tail);
        header[tail.len()] = b';';
        assert_eq!(find_cookie(&header[..], NAME), Err(CookieError::Duplicate));
    }

    #[test]
    fn invalid_names() {
        for name in [
            "", "a=b", "a b", "a;b", "a,b", "\"a\"", "s\u{e9}", "a\r\nb", "a\0",
        ] {
            assert_eq!(
                find_cookie("a=1", name),
                Err(CookieError::InvalidName),
                "{name:?}"
            );
            assert_eq!(
                find_cookie("", name),
                Err(CookieError::InvalidName),
                "{name:?}"
            );
        }
    }

    /// Every well-formed copy, by `find_cookie`'s rules: where `find_cookie` finds one
    /// value, `cookie_values` yields exactly it; where it refuses duplicates, each
    /// well-formed copy; malformed copies and fields with control characters are skipped.
    #[test]
    fn every_well_formed_copy() {
        fn values<'a>(fields: &[&'a [u8]], name: &'a str) -> heapless::Vec<&'a str, 8> {
            let mut out = heapless::Vec::new();
            for v in cookie_values(fields.iter().copied(), name) {
                out.push(v).unwrap();
            }
            out
        }
        for header in [
            &b"__Host-session=abc"[..],
            b"theme=caf\xc3\xa9; __Host-session=abc",
            b"a; __Host-session=\"abc\"; b=\x80",
            b"\t__Host-session=abc\t",
        ] {
            assert_eq!(find_cookie(header, NAME), Ok(Some("abc")), "{header:?}");
            assert_eq!(values(&[header], NAME), ["abc"], "{header:?}");
        }
        // Copies in one field and across fields, the malformed ones left out.
        let fields: [&[u8]; 3] = [
            b"__Host-session=one; __Host-session =spaced; __Host-session=two",
            b"__Host-session=bad value; __Host-session",
            b"x=\xff\xfe; __Host-session=three",
        ];
        assert_eq!(
            find_cookie_in_fields(fields, NAME),
            Err(CookieError::Duplicate)
        );
        assert_eq!(values(&fields, NAME), ["one", "two", "three"]);
        // A field with a control character is refused whole, as `find_cookie` does.
        let fields: [&[u8]; 2] = [b"__Host-session=one\x01", b"__Host-session=two"];
        assert_eq!(values(&fields, NAME), ["two"]);
        // Too long, and a name that is not a token.
        let mut long = heapless::Vec::<u8, 4200>::new();
        long.extend_from_slice(b"__Host-session=").unwrap();
        long.resize(15 + MAX_COOKIE_LEN, b'a').unwrap();
        assert!(values(&[&long], NAME).is_empty());
        assert!(values(&[b"a b=1"], "a b").is_empty());
    }

    #[test]
    fn display() {
        use CookieError::*;
        use core::fmt::Write;
        for err in [ControlCharacter, Duplicate, InvalidName, Malformed, TooLong] {
            let mut text = heapless::String::<64>::new();
            write!(text, "{err}").unwrap();
            assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }
}
