//! Where a state-changing request comes from: the rule against cross-origin request
//! forgery, on the fields' bytes.

/// The fields of a request that say where it comes from, as bytes, for
/// [`allowed`](Self::allowed): the rule of the [module docs](super#cross-origin-requests).
///
/// ```
/// use tokenstile::http::Provenance;
///
/// let origins = ["http://localhost:3000"];
/// // A form on a sibling subdomain posting to the app.
/// let sibling = Provenance {
///     method: b"POST",
///     sec_fetch_site: Some(b"same-site"),
///     ..Provenance::default()
/// };
/// assert!(!sibling.allowed(&origins));
///
/// // An older browser, without `Sec-Fetch-Site`, on the app's own page.
/// let own = Provenance {
///     method: b"POST",
///     origin: Some(b"http://localhost:3000"),
///     ..Provenance::default()
/// };
/// assert!(own.allowed(&origins));
///
/// // A WebSocket handshake (a `GET`) from another site.
/// let socket = Provenance {
///     method: b"GET",
///     upgrade: true,
///     sec_fetch_site: Some(b"cross-site"),
///     ..Provenance::default()
/// };
/// assert!(!socket.allowed(&origins));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Provenance<'a> {
    /// The method, as sent (`b"POST"`). Methods are case-sensitive: `post` is a method of
    /// its own, and a state-changing one.
    pub method: &'a [u8],
    /// Whether the request asks to switch protocols: it has an `Upgrade` field (a
    /// WebSocket handshake over HTTP/1.1), or `Sec-Fetch-Mode: websocket`. Over HTTP/2 a
    /// WebSocket opens with `CONNECT` ([RFC 8441]), which is state-changing anyway.
    ///
    /// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
    pub upgrade: bool,
    /// The `Sec-Fetch-Site` field's value, if there is one.
    pub sec_fetch_site: Option<&'a [u8]>,
    /// The `Origin` field's value, if there is one.
    pub origin: Option<&'a [u8]>,
    /// The `Host` field's value, if there is one (HTTP/2 requests have none: their
    /// authority is part of the URI).
    pub host: Option<&'a [u8]>,
}

impl Provenance<'_> {
    /// Whether the request may change state for the user whose cookie it carries:
    /// requests with a state-changing method ([`is_state_changing`]) and requests to
    /// switch protocols are checked, by `Sec-Fetch-Site`, else by `Origin`; others pass.
    /// `origins` are the app's own, as [`serialize_origin`] writes them; with none,
    /// `Origin` must name the `Host` the request was sent to.
    #[must_use]
    pub fn allowed<S: AsRef<str>>(&self, origins: &[S]) -> bool {
        if !is_state_changing(self.method) && !self.upgrade {
            return true;
        }
        if let Some(site) = self.sec_fetch_site {
            return site == b"same-origin" || site == b"none";
        }
        let Some(origin) = self.origin else {
            // Neither field: not a browser, so not a browser forged into acting for a user.
            return true;
        };
        if !origin.iter().all(|&b| b.is_ascii_graphic()) {
            return false;
        }
        if !origins.is_empty() {
            return origins.iter().any(|o| o.as_ref().as_bytes() == origin);
        }
        let Some(host) = self
            .host
            .filter(|h| h.iter().all(|&b| b.is_ascii_graphic()))
        else {
            return false;
        };
        let Some((scheme, authority)) = split_scheme(origin) else {
            return false;
        };
        (scheme == b"https" || scheme == b"http") && authority.eq_ignore_ascii_case(host)
    }
}

/// Whether a request with `method` may change state: every method but `GET`, `HEAD`,
/// `OPTIONS` and `TRACE`, compared case-sensitively as methods are ([RFC 9110 §9.1]).
///
/// [RFC 9110 §9.1]: https://www.rfc-editor.org/rfc/rfc9110#section-9.1
#[must_use]
pub fn is_state_changing(method: &[u8]) -> bool {
    !matches!(method, b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE")
}

/// `origin` as browsers write it in `Origin` ([RFC 6454 §6.1]), written into `out`: the
/// scheme and host in lower case, the port left out where it is the scheme's default (80
/// for `http`, 443 for `https`), no trailing `/`. For the app's own origins, which
/// [`Provenance::allowed`] compares byte for byte with what browsers send.
///
/// `None` if `origin` is not `scheme://host[:port]` (a path, a query, a fragment, user
/// info, a wildcard or whitespace, as no `Origin` holds one; a host is letters, digits,
/// `-`, `.` and `_`, an international one in its `xn--` form, or an IPv6 literal in
/// brackets), or if `out` is shorter than what is written, which is never longer than
/// `origin`.
///
/// ```
/// use tokenstile::http::serialize_origin;
///
/// let mut out = [0u8; 64];
/// assert_eq!(serialize_origin("HTTPS://App.Example:443/", &mut out), Some("https://app.example"));
/// assert_eq!(serialize_origin("http://[::1]:8080", &mut out), Some("http://[::1]:8080"));
/// assert_eq!(serialize_origin("https://app.example/login", &mut out), None);
/// ```
///
/// [RFC 6454 §6.1]: https://www.rfc-editor.org/rfc/rfc6454#section-6.1
pub fn serialize_origin<'o>(origin: &str, out: &'o mut [u8]) -> Option<&'o str> {
    let origin = origin.strip_suffix('/').unwrap_or(origin);
    let (scheme, authority) = split_scheme(origin.as_bytes())?;
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || authority.is_empty() {
        return None;
    }
    let (host, port) = split_authority(authority)?;
    let port = match port {
        None => None,
        Some(digits) => {
            let n = parse_port(digits)?;
            let default = if scheme.eq_ignore_ascii_case(b"http") {
                Some(80)
            } else if scheme.eq_ignore_ascii_case(b"https") {
                Some(443)
            } else {
                None
            };
            (default != Some(n)).then_some(n)
        }
    };
    let mut w = Out { out, len: 0 };
    w.lower(scheme)?;
    w.push(b"://")?;
    w.lower(host)?;
    if let Some(port) = port {
        w.push(b":")?;
        let mut digits = [0u8; 5];
        let mut at = digits.len();
        let mut n = port;
        loop {
            at = at.checked_sub(1)?;
            *digits.get_mut(at)? = b'0'.wrapping_add((n % 10) as u8);
            n /= 10;
            if n == 0 {
                break;
            }
        }
        w.push(digits.get(at..)?)?;
    }
    let Out { out, len } = w;
    core::str::from_utf8(out.get(..len)?).ok()
}

/// `scheme` and `authority` of `scheme://authority`.
fn split_scheme(origin: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = origin.windows(3).position(|w| w == b"://")?;
    Some((origin.get(..at)?, origin.get(at.checked_add(3)?..)?))
}

/// The host (an IPv6 literal with its brackets) and the port's digits, if any, of a
/// valid authority without user info.
fn split_authority(authority: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (host, rest) = if authority.first() == Some(&b'[') {
        let close = authority.iter().position(|&b| b == b']')?;
        let inside = authority.get(1..close)?;
        let ipv6_ok = !inside.is_empty()
            && inside
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
        if !ipv6_ok {
            return None;
        }
        let end = close.checked_add(1)?;
        (authority.get(..end)?, authority.get(end..)?)
    } else {
        let end = authority
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(authority.len());
        let host = authority.get(..end)?;
        let name_ok = !host.is_empty()
            && host
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !name_ok {
            return None;
        }
        (host, authority.get(end..)?)
    };
    match rest {
        [] => Some((host, None)),
        [b':', digits @ ..] => Some((host, Some(digits))),
        _ => None,
    }
}

/// A port: ASCII digits, any number of leading zeros (as URL parsers take them), at most
/// 65535.
fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = digits
        .iter()
        .position(|&b| b != b'0')
        .and_then(|first| digits.get(first..))
        .unwrap_or_default();
    if significant.len() > 5 {
        return None;
    }
    let n = significant.iter().fold(0u32, |n, &d| {
        n.saturating_mul(10)
            .saturating_add(u32::from(d.wrapping_sub(b'0')))
    });
    u16::try_from(n).ok()
}

/// A caller buffer being filled.
struct Out<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl Out<'_> {
    fn push(&mut self, bytes: &[u8]) -> Option<()> {
        let end = self.len.checked_add(bytes.len())?;
        self.out.get_mut(self.len..end)?.copy_from_slice(bytes);
        self.len = end;
        Some(())
    }

    fn lower(&mut self, bytes: &[u8]) -> Option<()> {
        let start = self.len;
        self.push(bytes)?;
        self.out.get_mut(start..self.len)?.make_ascii_lowercase();
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINS: [&str; 1] = ["http://localhost:3000"];

    fn post<'a>() -> Provenance<'a> {
        Provenance {
            method: b"POST",
            ..Provenance::default()
        }
    }

    #[test]
    fn safe_methods_pass_unless_they_upgrade() {
        for method in [&b"GET"[..], b"HEAD", b"OPTIONS", b"TRACE"] {
            let p = Provenance {
                method,
                sec_fetch_site: Some(b"cross-site"),
                ..Provenance::default()
            };
            assert!(p.allowed(&ORIGINS));
            assert!(!Provenance { upgrade: true, ..p }.allowed(&ORIGINS));
        }
        for method in [
            &b"POST"[..],
            b"PUT",
            b"PATCH",
            b"DELETE",
            b"CONNECT",
            b"post",
            b"get",
        ] {
            assert!(is_state_changing(method), "{method:?}");
        }
    }

    #[test]
    fn sec_fetch_site_decides_when_present() {
        for (site, allowed) in [
            (&b"same-origin"[..], true),
            (b"none", true),
            (b"same-site", false),
            (b"cross-site", false),
            (b"", false),
            (b"Same-Origin", false),
        ] {
            let p = Provenance {
                sec_fetch_site: Some(site),
                // Not consulted once Sec-Fetch-Site is there.
                origin: Some(b"http://localhost:3000"),
                ..post()
            };
            assert_eq!(p.allowed(&ORIGINS), allowed, "{site:?}");
        }
    }

    #[test]
    fn origin_decides_without_sec_fetch_site() {
        let with = |origin: &'static [u8]| Provenance {
            origin: Some(origin),
            ..post()
        };
        assert!(with(b"http://localhost:3000").allowed(&ORIGINS));
        for refused in [
            &b"http://localhost:9999"[..],
            b"null",
            b"https://localhost:3000",
            b"http://localhost:3000/",
            b"http://localhost:3000\x80",
        ] {
            assert!(!with(refused).allowed(&ORIGINS), "{refused:?}");
        }
        // Neither field: not a browser.
        assert!(post().allowed(&ORIGINS));
    }

    #[test]
    fn without_configured_origins_origin_must_name_the_host() {
        let none: [&str; 0] = [];
        let request = |origin: &'static [u8], host: Option<&'static [u8]>| Provenance {
            origin: Some(origin),
            host,
            ..post()
        };
        assert!(request(b"http://app.example:8080", Some(b"App.Example:8080")).allowed(&none));
        assert!(request(b"https://app.example", Some(b"app.example")).allowed(&none));
        assert!(!request(b"http://evil.example", Some(b"app.example")).allowed(&none));
        assert!(!request(b"ftp://app.example", Some(b"app.example")).allowed(&none));
        assert!(!request(b"null", Some(b"app.example")).allowed(&none));
        // No `Host` (HTTP/2): nothing to compare with.
        assert!(!request(b"https://app.example", None).allowed(&none));
        assert!(!request(b"https://app.example", Some(b"app.example\x80")).allowed(&none));
    }

    #[test]
    fn origins_are_serialized_as_browsers_send_them() {
        let mut out = [0u8; 64];
        for (input, expected) in [
            ("https://app.example", Some("https://app.example")),
            ("HTTPS://APP.example/", Some("https://app.example")),
            ("http://localhost:80", Some("http://localhost")),
            ("https://localhost:443", Some("https://localhost")),
            ("http://localhost:443", Some("http://localhost:443")),
            ("http://localhost:3000", Some("http://localhost:3000")),
            ("http://localhost:03000", Some("http://localhost:3000")),
            ("http://localhost:0003000", Some("http://localhost:3000")),
            ("http://localhost:000080", Some("http://localhost")),
            ("http://localhost:0", Some("http://localhost:0")),
            ("http://localhost:000", Some("http://localhost:0")),
            ("http://localhost:65535", Some("http://localhost:65535")),
            ("http://localhost:0065536", None),
            ("http://localhost:100000", None),
            ("http://[::1]:8080", Some("http://[::1]:8080")),
            ("http://[::1]", Some("http://[::1]")),
            ("app+x://h_1", Some("app+x://h_1")),
            (
                "http://xn--bcher-kva.example",
                Some("http://xn--bcher-kva.example"),
            ),
            ("https://app.example/login", None),
            ("https://app.example?x", None),
            ("https://user@app.example", None),
            ("https://*.example", None),
            ("https://app.example:", None),
            ("https://app.example:65536", None),
            ("https://app.example:+80", None),
            ("https://app .example", None),
            ("https://[::1]x", None),
            ("https://[]", None),
            ("https://[g::1]", None),
            ("https://", None),
            ("1http://app.example", None),
            ("app.example", None),
            ("", None),
        ] {
            assert_eq!(serialize_origin(input, &mut out), expected, "{input}");
        }
        // `out` as long as the input always suffices; shorter than the result fails.
        assert_eq!(
            serialize_origin("HTTP://A.B:80/", &mut [0; 14]),
            Some("http://a.b")
        );
        assert_eq!(serialize_origin("http://a.b", &mut [0; 9]), None);
    }

    proptest::proptest! {
        /// Any input: no panic, a result no longer than the input, which serializes to
        /// itself, and which an `Origin` field of the same bytes matches.
        #[test]
        fn serializing_is_idempotent(
            scheme in "[a-zA-Z0-9+.-]{0,6}",
            host in "[a-zA-Z0-9._@* -]{0,12}|\\[[0-9a-fA-F:.g]{0,10}\\]",
            port in proptest::option::of("[0-9+]{0,6}"),
            tail in "|/|//|/x|\\?q|#f",
        ) {
            let port = port.map(|p| alloc::format!(":{p}")).unwrap_or_default();
            let input = alloc::format!("{scheme}://{host}{port}{tail}");
            let mut out = [0u8; 64];
            if let Some(once) = serialize_origin(&input, &mut out) {
                proptest::prop_assert!(once.len() <= input.len());
                let once = alloc::string::String::from(once);
                let mut again = [0u8; 64];
                proptest::prop_assert_eq!(serialize_origin(&once, &mut again), Some(once.as_str()));
                let request = Provenance {
                    origin: Some(once.as_bytes()),
                    ..post()
                };
                proptest::prop_assert!(request.allowed(&[once.as_str()]));
            }
        }
    }
}
