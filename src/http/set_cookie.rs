//! `Set-Cookie` values for a session cookie ([RFC 6265 §4.1]).
//!
//! [RFC 6265 §4.1]: https://www.rfc-editor.org/rfc/rfc6265#section-4.1

use core::fmt;

use super::{MAX_COOKIE_LEN, is_cookie_octet, is_token};

/// How the session cookie is named and scoped: a reusable policy for `Set-Cookie` values.
///
/// The defaults ([`CookieOptions::new`]) are the safe ones: name `__Host-session`, `Path=/`,
/// no `Domain`, `Secure`, `HttpOnly`, `SameSite=Strict`. Loosen them with the `with_*`
/// setters or by assigning the public fields. The options are checked each time a value is
/// written, and [`validate`](Self::validate) checks them up front, for example at startup.
///
/// The name's prefix imposes rules ([RFC 6265bis §4.1.3]), matched case-insensitively as
/// browsers do: a `__Host-` name needs `secure`, a `path` of `/` and no `domain`; a
/// `__Secure-` name needs `secure`; an `__Http-` or `__Host-Http-` name (the later
/// drafts' prefixes for cookies only the server may set) needs `secure` and `http_only`,
/// and `__Host-Http-` the `__Host-` rules too. Options that break them are refused with
/// [`SetCookieError::Prefix`] rather than silently corrected, so what is configured is what
/// is sent. Keep the `__Host-` prefix unless the cookie must be shared with subdomains: it
/// is what stops a sibling subdomain from planting a session cookie for this host.
///
/// # Examples
///
/// ```
/// use tokenstile::http::{CookieOptions, SameSite};
///
/// // Lax lets the cookie follow top-level links from other sites.
/// const POLICY: CookieOptions<'static> = CookieOptions::new().with_same_site(SameSite::Lax);
///
/// let mut buf = [0u8; 128];
/// assert_eq!(
///     POLICY.set_cookie("abc123", 1800, &mut buf)?,
///     "__Host-session=abc123; Max-Age=1800; Path=/; Secure; HttpOnly; SameSite=Lax"
/// );
/// assert_eq!(
///     POLICY.clear_cookie(&mut buf)?,
///     "__Host-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"
/// );
/// # Ok::<(), tokenstile::http::SetCookieError>(())
/// ```
///
/// [RFC 6265bis §4.1.3]: https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[must_use]
pub struct CookieOptions<'a> {
    /// The cookie name, an RFC 6265 `token`. Default `__Host-session`.
    pub name: &'a str,
    /// The `Path` attribute. Must start with `/`. Default `/`.
    pub path: &'a str,
    /// The `Domain` attribute. `None` (the default) makes a host-only cookie. Setting it
    /// sends the cookie to every subdomain too, and lets every subdomain overwrite it.
    pub domain: Option<&'a str>,
    /// The `Secure` attribute: send only over HTTPS. Default `true`.
    pub secure: bool,
    /// The `HttpOnly` attribute: hidden from scripts. Default `true`.
    pub http_only: bool,
    /// The `SameSite` attribute. Default [`SameSite::Strict`].
    pub same_site: SameSite,
}

impl CookieOptions<'static> {
    /// The default cookie name.
    pub const DEFAULT_NAME: &'static str = "__Host-session";

    /// The safe defaults: `__Host-session`, `Path=/`, no `Domain`, `Secure`, `HttpOnly`,
    /// `SameSite=Strict`.
    pub const fn new() -> Self {
        Self {
            name: Self::DEFAULT_NAME,
            path: "/",
            domain: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Strict,
        }
    }
}

impl<'a> CookieOptions<'a> {
    /// Sets the cookie name.
    pub const fn with_name(mut self, name: &'a str) -> Self {
        self.name = name;
        self
    }

    /// Sets the `Path` attribute.
    pub const fn with_path(mut self, path: &'a str) -> Self {
        self.path = path;
        self
    }

    /// Sets the `Domain` attribute. Not allowed with a `__Host-` name.
    pub const fn with_domain(mut self, domain: &'a str) -> Self {
        self.domain = Some(domain);
        self
    }

    /// Sets or clears the `Secure` attribute. Required by `__Host-` and `__Secure-` names
    /// and by `SameSite=None`.
    pub const fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets or clears the `HttpOnly` attribute.
    pub const fn with_http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets the `SameSite` attribute.
    pub const fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Checks the options without writing anything.
    ///
    /// # Errors
    ///
    /// - [`SetCookieError::InvalidName`]: the name is not an RFC 6265 `token`;
    /// - [`SetCookieError::InvalidPath`]: the path does not start with `/`, is longer than
    ///   1024 bytes, or holds anything but visible ASCII other than `;` and `,`;
    /// - [`SetCookieError::InvalidDomain`]: the domain is not a plain host name (letters,
    ///   digits and `-` in dot-separated labels, without the leading `.` that browsers
    ///   ignore), or is longer than 253 bytes;
    /// - [`SetCookieError::Prefix`]: the options break the rules of the name's prefix:
    ///   `__Secure-` needs `Secure`; `__Host-` needs `Secure`, `Path=/` and no `Domain`;
    ///   `__Http-` and `__Host-Http-` need `Secure` and `HttpOnly` (and the latter the
    ///   `__Host-` rules too);
    /// - [`SetCookieError::SameSiteNoneInsecure`]: `SameSite=None` without `Secure`.
    pub fn validate(&self) -> Result<(), SetCookieError> {
        let name = self.name.as_bytes();
        if !is_token(name) {
            return Err(SetCookieError::InvalidName);
        }
        if !is_valid_path(self.path.as_bytes()) {
            return Err(SetCookieError::InvalidPath);
        }
        if self.domain.is_some_and(|d| !is_valid_domain(d.as_bytes())) {
            return Err(SetCookieError::InvalidDomain);
        }
        let host_prefix_ok = self.secure && self.path == "/" && self.domain.is_none();
        let http_prefix = has_prefix(name, b"__Http-") || has_prefix(name, b"__Host-Http-");
        if (has_prefix(name, b"__Host-") && !host_prefix_ok)
            || (has_prefix(name, b"__Secure-") && !self.secure)
            || (http_prefix && !(self.secure && self.http_only))
        {
            return Err(SetCookieError::Prefix);
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(SetCookieError::SameSiteNoneInsecure);
        }
        Ok(())
    }

    /// Writes a `Set-Cookie` value that stores `value` for `max_age_secs` seconds.
    ///
    /// Pass the session's remaining lifetime as `max_age_secs`, so that the browser drops
    /// the cookie when the server would refuse it anyway. Browsers cap `Max-Age` at 400 days.
    /// The result is `name=value; Max-Age=N; Path=P[; Domain=D][; Secure][; HttpOnly];
    /// SameSite=S`; [`set_cookie_len`](Self::set_cookie_len) gives a buffer size that
    /// always fits.
    ///
    /// Send `Cache-Control: no-store` with a response that sets (or clears) a session
    /// cookie, so that no cache keeps the cookie and hands it to someone else.
    ///
    /// # Errors
    ///
    /// Any error of [`validate`](Self::validate), and:
    ///
    /// - [`SetCookieError::InvalidValue`]: `value` holds characters outside `cookie-octet`
    ///   (space, `"`, `,`, `;`, `\`, control characters, non-ASCII);
    /// - [`SetCookieError::TooLong`]: name and value exceed [`MAX_COOKIE_LEN`] bytes,
    ///   beyond which browsers ignore the cookie;
    /// - [`SetCookieError::BufferTooSmall`]: `out` is too small.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokenstile::http::{CookieOptions, SetCookieError};
    ///
    /// let policy = CookieOptions::new();
    /// let mut buf = [0u8; 128];
    /// let header = policy.set_cookie("abc123", 3600, &mut buf)?;
    /// assert_eq!(
    ///     header,
    ///     "__Host-session=abc123; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Strict"
    /// );
    ///
    /// // Nothing can be smuggled into another attribute or header.
    /// assert_eq!(
    ///     policy.set_cookie("x\r\nSet-Cookie: admin=1", 3600, &mut buf),
    ///     Err(SetCookieError::InvalidValue)
    /// );
    /// # Ok::<(), SetCookieError>(())
    /// ```
    pub fn set_cookie<'o>(
        &self,
        value: &str,
        max_age_secs: u64,
        out: &'o mut [u8],
    ) -> Result<&'o str, SetCookieError> {
        let mut writer = SliceWriter { buf: out, len: 0 };
        self.write_set_cookie(value, max_age_secs, &mut writer)?;
        writer.into_str()
    }

    /// A buffer size that always fits [`set_cookie`](Self::set_cookie) for a value of
    /// `value_len` bytes, whatever the `Max-Age`.
    ///
    /// Exact when `Max-Age` has 20 digits, a few bytes more otherwise.
    #[must_use]
    pub fn set_cookie_len(&self, value_len: usize) -> usize {
        const MAX_AGE_DIGITS: usize = 20; // u64::MAX
        let mut len = self
            .name
            .len()
            .saturating_add("=".len())
            .saturating_add(value_len)
            .saturating_add("; Max-Age=".len())
            .saturating_add(MAX_AGE_DIGITS)
            .saturating_add("; Path=".len())
            .saturating_add(self.path.len())
            .saturating_add("; SameSite=".len())
            .saturating_add(self.same_site.as_str().len());
        if let Some(domain) = self.domain {
            len = len
                .saturating_add("; Domain=".len())
                .saturating_add(domain.len());
        }
        if self.secure {
            len = len.saturating_add("; Secure".len());
        }
        if self.http_only {
            len = len.saturating_add("; HttpOnly".len());
        }
        len
    }

    /// Writes the `Set-Cookie` value that deletes the cookie, for logout: an empty value
    /// with `Max-Age=0` and the same name, path and domain.
    ///
    /// Send it with the response that destroys the session. It only tidies the browser:
    /// the session must also be deleted from the store, since a copied cookie outlives it.
    ///
    /// # Errors
    ///
    /// As [`set_cookie`](Self::set_cookie).
    pub fn clear_cookie<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, SetCookieError> {
        self.set_cookie("", 0, out)
    }

    /// A buffer size that always fits [`clear_cookie`](Self::clear_cookie).
    #[must_use]
    pub fn clear_cookie_len(&self) -> usize {
        self.set_cookie_len(0)
    }

    /// Like [`set_cookie`](Self::set_cookie), into any [`fmt::Write`], such as a
    /// `heapless::String<N>`. For the clearing cookie, pass an empty value and `0`.
    ///
    /// # Errors
    ///
    /// As [`set_cookie`](Self::set_cookie), with [`SetCookieError::BufferTooSmall`] when
    /// `out` fails. Everything is checked before the first write, so `out` is only left
    /// partly written when it fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use tokenstile::http::CookieOptions;
    ///
    /// let mut header = heapless::String::<128>::new();
    /// CookieOptions::new().write_set_cookie("abc123", 60, &mut header)?;
    /// assert!(header.starts_with("__Host-session=abc123; Max-Age=60;"));
    /// # Ok::<(), tokenstile::http::SetCookieError>(())
    /// ```
    pub fn write_set_cookie<W>(
        &self,
        value: &str,
        max_age_secs: u64,
        out: &mut W,
    ) -> Result<(), SetCookieError>
    where
        W: fmt::Write + ?Sized,
    {
        self.validate()?;
        if !value.bytes().all(is_cookie_octet) {
            return Err(SetCookieError::InvalidValue);
        }
        if self.name.len().saturating_add(value.len()) > MAX_COOKIE_LEN {
            return Err(SetCookieError::TooLong);
        }
        self.write_checked(value, max_age_secs, out)
            .map_err(|fmt::Error| SetCookieError::BufferTooSmall)
    }

    /// Like [`set_cookie`](Self::set_cookie), returning a `String`.
    ///
    /// # Errors
    ///
    /// As [`set_cookie`](Self::set_cookie), except that it never runs out of room.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn set_cookie_string(
        &self,
        value: &str,
        max_age_secs: u64,
    ) -> Result<alloc::string::String, SetCookieError> {
        let mut out = alloc::string::String::new();
        self.write_set_cookie(value, max_age_secs, &mut out)?;
        Ok(out)
    }

    /// Like [`clear_cookie`](Self::clear_cookie), returning a `String`.
    ///
    /// # Errors
    ///
    /// As [`clear_cookie`](Self::clear_cookie), except that it never runs out of room.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn clear_cookie_string(&self) -> Result<alloc::string::String, SetCookieError> {
        self.set_cookie_string("", 0)
    }

    /// Writes options and a value that have been checked.
    fn write_checked<W>(&self, value: &str, max_age_secs: u64, out: &mut W) -> fmt::Result
    where
        W: fmt::Write + ?Sized,
    {
        write!(
            out,
            "{}={value}; Max-Age={max_age_secs}; Path={}",
            self.name, self.path
        )?;
        if let Some(domain) = self.domain {
            write!(out, "; Domain={domain}")?;
        }
        if self.secure {
            out.write_str("; Secure")?;
        }
        if self.http_only {
            out.write_str("; HttpOnly")?;
        }
        write!(out, "; SameSite={}", self.same_site)
    }
}

impl Default for CookieOptions<'static> {
    fn default() -> Self {
        Self::new()
    }
}

/// The `SameSite` attribute: when the browser sends the cookie on cross-site requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SameSite {
    /// Sent on same-site requests and on top-level navigations from other sites (following
    /// a link), not on cross-site subrequests or form posts.
    Lax,
    /// Sent on every request, cross-site included. Requires `Secure`, and leaves CSRF
    /// defence entirely to the application.
    None,
    /// Sent on same-site requests only. The default.
    #[default]
    Strict,
}

impl SameSite {
    /// The attribute value: `Lax`, `None` or `Strict`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::None => "None",
            Self::Strict => "Strict",
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `Set-Cookie` value could not be written.
///
/// All variants are caller mistakes: options or a value that would make an insecure or
/// ineffective cookie, or a buffer that is too small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SetCookieError {
    /// The output buffer is too small.
    BufferTooSmall,
    /// The `Domain` is not a plain host name.
    InvalidDomain,
    /// The name is not an RFC 6265 `token`.
    InvalidName,
    /// The `Path` does not start with `/`, is too long, or holds characters that are not
    /// allowed.
    InvalidPath,
    /// The value holds characters outside RFC 6265 `cookie-octet`.
    InvalidValue,
    /// The options break the rules of the name's prefix (`__Host-`, `__Secure-`,
    /// `__Http-`, `__Host-Http-`): see [`CookieOptions::validate`].
    Prefix,
    /// `SameSite=None` without `Secure`, which browsers refuse.
    SameSiteNoneInsecure,
    /// Name and value are longer than [`MAX_COOKIE_LEN`] bytes together.
    TooLong,
}

impl fmt::Display for SetCookieError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BufferTooSmall => "output buffer too small",
            Self::InvalidDomain => "invalid cookie domain",
            Self::InvalidName => "invalid cookie name",
            Self::InvalidPath => "invalid cookie path",
            Self::InvalidValue => "invalid cookie value",
            Self::Prefix => "cookie options break the rules of the name prefix",
            Self::SameSiteNoneInsecure => "SameSite=None requires Secure",
            Self::TooLong => "cookie too long",
        })
    }
}

impl core::error::Error for SetCookieError {}

/// A [`fmt::Write`] into a byte slice that fails when the slice is full.
struct SliceWriter<'o> {
    buf: &'o mut [u8],
    len: usize,
}

impl<'o> SliceWriter<'o> {
    fn into_str(self) -> Result<&'o str, SetCookieError> {
        let buf: &'o [u8] = self.buf;
        let written = buf.get(..self.len).ok_or(SetCookieError::BufferTooSmall)?;
        // Only whole `&str`s were copied in, so this cannot fail.
        core::str::from_utf8(written).map_err(|_| SetCookieError::InvalidValue)
    }
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Whether `name` starts with `prefix`, ignoring ASCII case as browsers do.
fn has_prefix(name: &[u8], prefix: &[u8]) -> bool {
    name.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// A `Path` attribute value: `/` first, at most [`MAX_ATTRIBUTE_LEN`] bytes, visible ASCII
/// other than `;` and `,`.
fn is_valid_path(path: &[u8]) -> bool {
    path.first() == Some(&b'/')
        && path.len() <= MAX_ATTRIBUTE_LEN
        && path
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b';' && b != b',')
}

/// A `Domain` attribute value: a host name of dot-separated labels of letters, digits and
/// inner hyphens, at most 63 bytes a label and 253 in all.
fn is_valid_domain(domain: &[u8]) -> bool {
    domain.len() <= MAX_DOMAIN_LEN
        && domain.split(|&b| b == b'.').all(|label| {
            label.len() <= MAX_LABEL_LEN
                && label.first().is_some_and(u8::is_ascii_alphanumeric)
                && label.last().is_some_and(u8::is_ascii_alphanumeric)
                && label
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The longest attribute value browsers accept ([RFC 6265bis §5.7]).
///
/// [RFC 6265bis §5.7]: https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-5.7
const MAX_ATTRIBUTE_LEN: usize = 1024;
/// The longest DNS name, in its dotted form.
const MAX_DOMAIN_LEN: usize = 253;
/// The longest DNS label.
const MAX_LABEL_LEN: usize = 63;

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::http::find_cookie;

    fn write(
        options: &CookieOptions<'_>,
        value: &str,
        max_age: u64,
    ) -> Result<heapless::String<512>, SetCookieError> {
        let mut buf = [0u8; 512];
        let header = options.set_cookie(value, max_age, &mut buf)?;
        assert!(header.len() <= options.set_cookie_len(value.len()));
        Ok(header.try_into().unwrap())
    }

    #[test]
    fn safe_defaults() {
        let options = CookieOptions::new();
        assert_eq!(options.name, "__Host-session");
        assert_eq!(options.path, "/");
        assert_eq!(options.domain, None);
        assert!(options.secure);
        assert!(options.http_only);
        assert_eq!(options.same_site, SameSite::Strict);
        assert_eq!(CookieOptions::default(), options);
        assert_eq!(SameSite::default(), SameSite::Strict);
        assert_eq!(options.validate(), Ok(()));
        assert_eq!(
            write(&options, "abc", 3600).unwrap(),
            "__Host-session=abc; Max-Age=3600; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn same_site_options() {
        let lax = CookieOptions::new().with_same_site(SameSite::Lax);
        assert_eq!(
            write(&lax, "abc", 1).unwrap(),
            "__Host-session=abc; Max-Age=1; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
        let none = CookieOptions::new().with_same_site(SameSite::None);
        assert_eq!(
            write(&none, "abc", 1).unwrap(),
            "__Host-session=abc; Max-Age=1; Path=/; Secure; HttpOnly; SameSite=None"
        );
        let insecure_none = CookieOptions::new()
            .with_name("sid")
            .with_secure(false)
            .with_same_site(SameSite::None);
        assert_eq!(
            write(&insecure_none, "abc", 1),
            Err(SetCookieError::SameSiteNoneInsecure)
        );
        assert_eq!(
            insecure_none.validate(),
            Err(SetCookieError::SameSiteNoneInsecure)
        );
        assert_eq!(
            write(&insecure_none.with_same_site(SameSite::Lax), "abc", 1).unwrap(),
            "sid=abc; Max-Age=1; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn loosened_options() {
        let options = CookieOptions::new()
            .with_name("sid")
            .with_path("/app")
            .with_domain("example.com")
            .with_secure(false)
            .with_http_only(false);
        assert_eq!(
            write(&options, "abc", 60).unwrap(),
            "sid=abc; Max-Age=60; Path=/app; Domain=example.com; SameSite=Strict"
        );
        assert_eq!(
            write(&options.with_secure(true), "abc", 60).unwrap(),
            "sid=abc; Max-Age=60; Path=/app; Domain=example.com; Secure; SameSite=Strict"
        );
        // Fields can be assigned directly too.
        let mut options = CookieOptions::new();
        options.name = "__Secure-sid";
        options.domain = Some("example.com");
        assert_eq!(
            write(&options, "abc", 60).unwrap(),
            "__Secure-sid=abc; Max-Age=60; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn host_prefix_rules() {
        let host = CookieOptions::new();
        for options in [
            host.with_secure(false),
            host.with_path("/app"),
            host.with_domain("example.com"),
            host.with_name("__host-session").with_domain("example.com"),
            host.with_name("__HOST-x").with_secure(false),
        ] {
            assert_eq!(
                options.validate(),
                Err(SetCookieError::Prefix),
                "{options:?}"
            );
            assert_eq!(write(&options, "abc", 1), Err(SetCookieError::Prefix));
            let mut buf = [0u8; 256];
            assert_eq!(options.clear_cookie(&mut buf), Err(SetCookieError::Prefix));
        }
        assert_eq!(host.with_name("__Host-x").validate(), Ok(()));
        assert_eq!(host.with_http_only(false).validate(), Ok(()));
        // Only a real prefix counts.
        assert_eq!(
            host.with_name("x__Host-").with_secure(false).validate(),
            Ok(())
        );
    }

    #[test]
    fn secure_prefix_rules() {
        let secure = CookieOptions::new().with_name("__Secure-sid");
        assert_eq!(secure.validate(), Ok(()));
        assert_eq!(secure.with_domain("example.com").validate(), Ok(()));
        assert_eq!(secure.with_path("/app").validate(), Ok(()));
        assert_eq!(
            secure.with_secure(false).validate(),
            Err(SetCookieError::Prefix)
        );
        assert_eq!(
            secure
                .with_name("__secure-sid")
                .with_secure(false)
                .validate(),
            Err(SetCookieError::Prefix)
        );
    }

    #[test]
    fn http_prefix_rules() {
        let base = CookieOptions::new();
        for name in [
            "__Http-sid",
            "__http-sid",
            "__Host-Http-sid",
            "__HOST-HTTP-sid",
        ] {
            let options = base.with_name(name);
            assert_eq!(options.validate(), Ok(()), "{name}");
            for broken in [options.with_http_only(false), options.with_secure(false)] {
                assert_eq!(broken.validate(), Err(SetCookieError::Prefix), "{broken:?}");
            }
        }
        // `__Host-Http-` is a `__Host-` name too.
        assert_eq!(
            base.with_name("__Host-Http-sid")
                .with_path("/app")
                .validate(),
            Err(SetCookieError::Prefix)
        );
        assert_eq!(
            base.with_name("__Http-sid")
                .with_path("/app")
                .with_domain("example.com")
                .validate(),
            Ok(())
        );
    }

    #[test]
    fn invalid_names() {
        for name in [
            "",
            "a b",
            "a=b",
            "a;b",
            "a,b",
            "\"a\"",
            "a\r\nSet-Cookie: admin=1",
            "a\0",
            "s\u{e9}ssion",
            "a\tb",
            "a/b",
        ] {
            let options = CookieOptions::new().with_name(name);
            assert_eq!(
                options.validate(),
                Err(SetCookieError::InvalidName),
                "{name:?}"
            );
            assert_eq!(
                write(&options, "abc", 1),
                Err(SetCookieError::InvalidName),
                "{name:?}"
            );
        }
    }

    #[test]
    fn invalid_values() {
        for value in [
            "a;b",
            "abc; Domain=evil.example",
            "a\r\nSet-Cookie: admin=1",
            "a\nb",
            "a\rb",
            "a b",
            " abc",
            "a,b",
            "a\\b",
            "\"abc\"",
            "a\0b",
            "a\tb",
            "a\x7Fb",
            "\u{e9}",
        ] {
            assert_eq!(
                write(&CookieOptions::new(), value, 1),
                Err(SetCookieError::InvalidValue),
                "{value:?}"
            );
        }
        // Every cookie-octet is accepted, including `=`.
        let all = "!#$%&'()*+-./0123456789:<=>?@AZ[]^_`az{|}~";
        let header = write(&CookieOptions::new(), all, 1).unwrap();
        assert!(header.starts_with("__Host-session=!#$%&'()*+-./0123456789:<=>?@AZ[]^_`az{|}~; "));
    }

    #[test]
    fn invalid_paths() {
        let long = [b'/'; MAX_ATTRIBUTE_LEN + 1];
        let long = core::str::from_utf8(&long).unwrap();
        let base = CookieOptions::new().with_name("sid");
        for path in [
            "",
            "app",
            "/a;b",
            "/a; Domain=evil.example",
            "/a\r\nSet-Cookie: admin=1",
            "/a b",
            "/a,b",
            "/a\0",
            "/\u{e9}",
            long,
        ] {
            assert_eq!(
                base.with_path(path).validate(),
                Err(SetCookieError::InvalidPath),
                "{path:?}"
            );
        }
        assert_eq!(
            base.with_path(&long[..MAX_ATTRIBUTE_LEN]).validate(),
            Ok(())
        );
        assert_eq!(base.with_path("/a/b-c_d.e~f%20").validate(), Ok(()));
    }

    #[test]
    fn invalid_domains() {
        let long_label = [b'a'; MAX_LABEL_LEN + 1];
        let long_label = core::str::from_utf8(&long_label).unwrap();
        let mut long_name = [b'a'; MAX_DOMAIN_LEN + 1];
        for i in (8..long_name.len()).step_by(8) {
            long_name[i] = b'.';
        }
        let long_name = core::str::from_utf8(&long_name).unwrap();
        let base = CookieOptions::new().with_name("sid");
        for domain in [
            "",
            ".",
            ".example.com",
            "example.com.",
            "a..b",
            "exa mple.com",
            "example.com; Secure",
            "example.com\r\nSet-Cookie: admin=1",
            "-a.com",
            "a-.com",
            "a_b.com",
            "\u{e9}.com",
            "example.com:443",
            long_label,
            long_name,
        ] {
            assert_eq!(
                base.with_domain(domain).validate(),
                Err(SetCookieError::InvalidDomain),
                "{domain:?}"
            );
        }
        for domain in [
            "example.com",
            "a.b-c.example",
            "localhost",
            "xn--bcher-kva.example",
            &long_label[..MAX_LABEL_LEN],
            &long_name[..MAX_DOMAIN_LEN],
        ] {
            assert_eq!(base.with_domain(domain).validate(), Ok(()), "{domain:?}");
        }
    }

    #[test]
    fn length_cap() {
        let value = [b'a'; MAX_COOKIE_LEN];
        let value = core::str::from_utf8(&value).unwrap();
        let options = CookieOptions::new();
        let fits = &value[..MAX_COOKIE_LEN - options.name.len()];
        let mut buf = [0u8; MAX_COOKIE_LEN + 128];
        assert!(options.set_cookie(fits, 1, &mut buf).is_ok());
        let over = &value[..=MAX_COOKIE_LEN - options.name.len()];
        assert_eq!(
            options.set_cookie(over, 1, &mut buf),
            Err(SetCookieError::TooLong)
        );
    }

    #[test]
    fn buffer_sizes() {
        let options = CookieOptions::new()
            .with_name("__Secure-sid")
            .with_domain("example.com")
            .with_same_site(SameSite::Strict);
        let len = options.set_cookie_len(3);
        let mut buf = [0u8; 256];
        // The bound is exact for the longest Max-Age.
        let header = options
            .set_cookie("abc", u64::MAX, &mut buf[..len])
            .unwrap();
        assert_eq!(header.len(), len);
        assert!(header.contains("; Max-Age=18446744073709551615;"));
        assert_eq!(
            options.set_cookie("abc", u64::MAX, &mut buf[..len - 1]),
            Err(SetCookieError::BufferTooSmall)
        );
        // A short Max-Age needs less.
        let short = options.set_cookie("abc", 5, &mut buf).unwrap().len();
        assert_eq!(short, len - 19);
        assert_eq!(
            options
                .set_cookie("abc", 5, &mut buf[..short])
                .map(str::len),
            Ok(short)
        );
        assert_eq!(
            options.set_cookie("abc", 5, &mut buf[..short - 1]),
            Err(SetCookieError::BufferTooSmall)
        );
        assert_eq!(
            options.set_cookie("abc", 5, &mut []),
            Err(SetCookieError::BufferTooSmall)
        );
        // Every combination of attributes stays within the bound.
        for secure in [true, false] {
            for http_only in [true, false] {
                for same_site in [SameSite::Lax, SameSite::None, SameSite::Strict] {
                    let options = CookieOptions::new()
                        .with_name("sid")
                        .with_secure(secure)
                        .with_http_only(http_only)
                        .with_same_site(same_site);
                    if options.validate().is_err() {
                        continue;
                    }
                    let len = options.set_cookie_len(3);
                    let header = options.set_cookie("abc", u64::MAX, &mut buf).unwrap();
                    assert_eq!(header.len(), len, "{options:?}");
                }
            }
        }
        // Absurd lengths saturate instead of overflowing.
        assert_eq!(options.set_cookie_len(usize::MAX), usize::MAX);
    }

    #[test]
    fn clearing_cookie() {
        let mut buf = [0u8; 256];
        let options = CookieOptions::new();
        let len = options.clear_cookie_len();
        assert_eq!(
            options.clear_cookie(&mut buf[..len]).unwrap(),
            "__Host-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        let scoped = CookieOptions::new()
            .with_name("sid")
            .with_path("/app")
            .with_domain("example.com")
            .with_same_site(SameSite::Lax);
        assert_eq!(
            scoped.clear_cookie(&mut buf).unwrap(),
            "sid=; Max-Age=0; Path=/app; Domain=example.com; Secure; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            options.clear_cookie(&mut buf[..10]),
            Err(SetCookieError::BufferTooSmall)
        );
    }

    #[test]
    fn heapless_strings() {
        let options = CookieOptions::new();
        let mut header = heapless::String::<128>::new();
        options.write_set_cookie("abc", 7, &mut header).unwrap();
        assert_eq!(
            header,
            "__Host-session=abc; Max-Age=7; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        let mut small = heapless::String::<16>::new();
        assert_eq!(
            options.write_set_cookie("abc", 7, &mut small),
            Err(SetCookieError::BufferTooSmall)
        );
        // Nothing is written when the inputs are refused.
        let mut untouched = heapless::String::<128>::new();
        assert_eq!(
            options.write_set_cookie("a;b", 7, &mut untouched),
            Err(SetCookieError::InvalidValue)
        );
        assert!(untouched.is_empty());
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn strings() {
        let options = CookieOptions::new();
        assert_eq!(
            options.set_cookie_string("abc", 7).unwrap(),
            "__Host-session=abc; Max-Age=7; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            options.clear_cookie_string().unwrap(),
            "__Host-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            options.set_cookie_string("a\r\nb", 7),
            Err(SetCookieError::InvalidValue)
        );
    }

    #[test]
    fn round_trip_through_find_cookie() {
        let options = CookieOptions::new();
        let header = write(&options, "ZmFrZS1zZXNzaW9uLWlk", 60).unwrap();
        // A browser sends back `name=value`, the part before the first `;`.
        let pair = header.split(';').next().unwrap();
        assert_eq!(
            find_cookie(pair, options.name),
            Ok(Some("ZmFrZS1zZXNzaW9uLWlk"))
        );
        assert_eq!(
            find_cookie(&*header, options.name),
            Ok(Some("ZmFrZS1zZXNzaW9uLWlk"))
        );
    }

    #[test]
    fn usable_in_const() {
        const POLICY: CookieOptions<'static> = CookieOptions::new()
            .with_name("__Host-app")
            .with_same_site(SameSite::Lax)
            .with_http_only(true);
        assert_eq!(POLICY.name, "__Host-app");
        assert_eq!(POLICY.validate(), Ok(()));
    }

    #[test]
    fn borrowed_names() {
        let mut name = heapless::String::<32>::new();
        name.push_str("__Host-").unwrap();
        name.push_str("tenant7").unwrap();
        let options = CookieOptions::new().with_name(&name);
        assert_eq!(
            write(&options, "abc", 1).unwrap(),
            "__Host-tenant7=abc; Max-Age=1; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn display() {
        use SetCookieError::*;
        use core::fmt::Write;
        for err in [
            BufferTooSmall,
            InvalidDomain,
            InvalidName,
            InvalidPath,
            InvalidValue,
            Prefix,
            SameSiteNoneInsecure,
            TooLong,
        ] {
            let mut text = heapless::String::<64>::new();
            write!(text, "{err}").unwrap();
            assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
        }
        let mut text = heapless::String::<64>::new();
        write!(text, "{}", SameSite::Lax).unwrap();
        assert_eq!(text, "Lax");
        assert_eq!(SameSite::None.as_str(), "None");
        assert_eq!(SameSite::Strict.as_str(), "Strict");
    }
}
