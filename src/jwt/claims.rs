//! Registered claims ([RFC 7519 §4.1]), read from an authenticated payload.
//!
//! [RFC 7519 §4.1]: https://www.rfc-editor.org/rfc/rfc7519#section-4.1

use crate::time::UnixTime;

/// The registered claims of a verified token.
///
/// Strings borrow from the caller's scratch buffer and are already unescaped. A registered
/// claim of the wrong JSON type is never reported as absent: verification fails with
/// [`VerifyError::InvalidClaim`](crate::VerifyError::InvalidClaim) instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisteredClaims<'a> {
    /// `iss`: who issued the token.
    pub iss: Option<&'a str>,
    /// `sub`: whom the token is about.
    pub sub: Option<&'a str>,
    /// `aud`: the intended recipients.
    pub aud: Option<Audience<'a>>,
    /// `exp`: the token must not be accepted at or after this time.
    pub exp: Option<UnixTime>,
    /// `nbf`: the token must not be accepted before this time.
    pub nbf: Option<UnixTime>,
    /// `iat`: when the token was issued.
    pub iat: Option<UnixTime>,
    /// `jti`: a unique identifier for the token.
    pub jti: Option<&'a str>,
    /// `sid`: the session the token was issued in ([OpenID Connect Front-Channel Logout
    /// §3], registered with IANA). Tokens issued from a
    /// [refresh-token family](crate::refresh) name it here, so revoking the family
    /// revokes them all.
    ///
    /// [OpenID Connect Front-Channel Logout §3]: https://openid.net/specs/openid-connect-frontchannel-1_0.html#ClaimsContents
    pub sid: Option<&'a str>,
}

/// The `aud` claim: one string, or an array of strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience<'a> {
    /// `"aud": "x"`.
    One(&'a str),
    /// `"aud": ["x", "y"]`: the elements, each already unescaped and followed by a NUL
    /// byte (`"x\0y\0"`; `""` for an empty array). Use [`iter`](Self::iter).
    ///
    /// NUL cannot occur in an element: an element holding one is refused while parsing.
    Many(&'a str),
}

impl<'a> Audience<'a> {
    /// The audience values.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let (one, mut many) = match *self {
            Self::One(s) => (Some(s), ""),
            Self::Many(s) => (None, s),
        };
        // `many.split_terminator('\0')`, as a byte loop: the values are short, and the
        // `char` searcher would link `memchr` (172 B on a Cortex-M) for this alone. NUL is
        // ASCII, so both sides of one are `str`s.
        let many = core::iter::from_fn(move || {
            if many.is_empty() {
                return None;
            }
            let end = many.bytes().position(|b| b == 0).unwrap_or(many.len());
            let (value, rest) = many.split_at_checked(end)?;
            many = rest.get(1..).unwrap_or_default();
            Some(value)
        });
        one.into_iter().chain(many)
    }

    /// Whether `value` is one of the audience values.
    #[must_use]
    pub fn contains(&self, value: &str) -> bool {
        self.iter()
            .any(|a| crate::bytes::eq(a.as_bytes(), value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_iterates_each_form() {
        assert!(Audience::One("a").iter().eq(["a"]));
        assert!(Audience::One("").iter().eq([""]));
        assert!(Audience::One("a\0b").iter().eq(["a\0b"]));
        assert!(Audience::Many("a\0b\0").iter().eq(["a", "b"]));
        assert!(Audience::Many("").iter().eq::<[&str; 0]>([]));
        assert!(Audience::Many("\0").iter().eq([""]));
        assert!(Audience::Many("\0api\0").iter().eq(["", "api"]));
        assert!(Audience::Many("a\0b").iter().eq(["a", "b"]));
        assert!(Audience::Many("a\0\0").iter().eq(["a", ""]));
        assert!(Audience::Many("é\0ü\0").iter().eq(["é", "ü"]));
        assert!(Audience::Many("a\0b\0").contains("b"));
        assert!(!Audience::Many("a\0b\0").contains("a\0b"));
    }

    proptest::proptest! {
        /// `iter` splits as `split_terminator('\0')`, for any text, also text that the
        /// parser never produces (no final NUL, empty values).
        #[test]
        fn many_splits_like_split_terminator(text in "[a\\x00é]{0,12}") {
            let many = Audience::Many(&text);
            proptest::prop_assert!(many.iter().eq(text.split_terminator('\0')));
        }
    }
}
