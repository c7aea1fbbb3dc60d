//! The verification policy: which tokens are accepted.

use crate::bytes;
use crate::error::{Claim, VerifyError};
use crate::jwt::claims::RegisteredClaims;
use crate::time::UnixTime;

/// A reusable verification policy, built once and shared by every call to
/// [`verify`](crate::jwt::verify).
///
/// The defaults are strict: the token must carry `exp`, no clock leeway is granted, `iss`
/// and `sub` are not checked, and a token that carries `aud` is refused because no audience
/// is configured ([RFC 7519 §4.1.3]: a recipient that does not identify itself with a
/// value in `aud` must reject the token).
///
/// Setting an expected issuer, audience or subject also makes that claim required.
///
/// ```
/// use tokenstile::jwt::Validation;
/// use tokenstile::Claim;
///
/// const AUDIENCES: &[&str] = &["api"];
/// let policy = Validation::new()
///     .with_issuer("https://auth.example")
///     .with_audiences(AUDIENCES)
///     .with_leeway(30)
///     .with_required(Claim::Jti);
/// # let _ = policy;
/// ```
///
/// [RFC 7519 §4.1.3]: https://www.rfc-editor.org/rfc/rfc7519#section-4.1.3
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Validation<'a> {
    /// Seconds of clock skew tolerated on `exp`, `nbf`, `iat` and the maximum age.
    /// Default: 0.
    pub leeway: u64,
    /// Registered claims that must be present. Default: `exp` only.
    pub required: ClaimSet,
    /// The exact `iss` accepted, if any.
    pub issuer: Option<&'a str>,
    /// The audiences this verifier answers to. The token's `aud` (a string or an array)
    /// must contain at least one of them. Empty (the default): a token with `aud` is
    /// refused.
    pub audiences: &'a [&'a str],
    /// The exact `sub` accepted, if any.
    pub subject: Option<&'a str>,
    /// The largest accepted age in seconds, measured from `iat` (which becomes required).
    pub max_age: Option<u64>,
    /// The header `typ` required, compared case-insensitively and with or without an
    /// `application/` prefix ([RFC 7515 §4.1.9]). `None` (the default) accepts a missing
    /// `typ` or `JWT`.
    ///
    /// [RFC 7515 §4.1.9]: https://www.rfc-editor.org/rfc/rfc7515#section-4.1.9
    pub typ: Option<&'a str>,
    /// The longest token accepted, in bytes. Default: [`Validation::DEFAULT_MAX_TOKEN_LEN`].
    ///
    /// Keep it at most the length of the scratch buffer you verify into. A longer token
    /// is then [`DecodeError::TooLong`](crate::DecodeError::TooLong), refused as the
    /// token's fault ([`Error::is_token_rejected`](crate::Error::is_token_rejected)); with
    /// a limit above the buffer, anyone can send a token whose header or payload doesn't
    /// fit, which fails before its MAC is checked with
    /// [`DecodeError::BufferTooSmall`](crate::DecodeError::BufferTooSmall), a caller
    /// error.
    pub max_token_len: usize,
    /// How deeply objects and arrays may nest in the header and payload (the top-level
    /// object counts as 1). Default: [`Validation::DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
}

impl<'a> Validation<'a> {
    /// The default longest token: 8 KiB.
    pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
    /// The default nesting limit.
    pub const DEFAULT_MAX_DEPTH: usize = 16;

    /// The strict default policy (see the type's documentation).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            leeway: 0,
            required: ClaimSet::EMPTY.with(Claim::Exp),
            issuer: None,
            audiences: &[],
            subject: None,
            max_age: None,
            typ: None,
            max_token_len: Self::DEFAULT_MAX_TOKEN_LEN,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }

    /// Sets the clock leeway in seconds.
    #[must_use]
    pub const fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway = secs;
        self
    }

    /// Requires `iss` to equal `issuer`.
    #[must_use]
    pub const fn with_issuer(mut self, issuer: &'a str) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Accepts tokens whose `aud` names one of `audiences`, and requires `aud`.
    #[must_use]
    pub const fn with_audiences(mut self, audiences: &'a [&'a str]) -> Self {
        self.audiences = audiences;
        self
    }

    /// Requires `sub` to equal `subject`.
    #[must_use]
    pub const fn with_subject(mut self, subject: &'a str) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Refuses tokens issued more than `secs` seconds ago, and requires `iat`.
    #[must_use]
    pub const fn with_max_age(mut self, secs: u64) -> Self {
        self.max_age = Some(secs);
        self
    }

    /// Requires the header `typ` to be `typ` (for example `at+jwt`, [RFC 9068]).
    ///
    /// [RFC 9068]: https://www.rfc-editor.org/rfc/rfc9068
    #[must_use]
    pub const fn with_typ(mut self, typ: &'a str) -> Self {
        self.typ = Some(typ);
        self
    }

    /// Makes `claim` required.
    #[must_use]
    pub const fn with_required(mut self, claim: Claim) -> Self {
        self.required = self.required.with(claim);
        self
    }

    /// Replaces the set of required claims. `ClaimSet::EMPTY` accepts tokens that never
    /// expire, which RFC 8725 advises against; do so only deliberately.
    #[must_use]
    pub const fn with_required_set(mut self, required: ClaimSet) -> Self {
        self.required = required;
        self
    }

    /// Sets the longest token accepted, in bytes: at most the length of your scratch
    /// buffer (see [`max_token_len`](Self::max_token_len)).
    #[must_use]
    pub const fn with_max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// Sets the nesting limit for the header and payload JSON.
    #[must_use]
    pub const fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Checks the registered claims of an authenticated token against this policy at time
    /// `now`.
    ///
    /// # Errors
    ///
    /// The first failing check, in this order: a missing required claim, `exp`, `nbf`,
    /// `iat` in the future, maximum age, `iss`, `aud`, `sub`.
    pub fn check(&self, claims: &RegisteredClaims<'_>, now: UnixTime) -> Result<(), VerifyError> {
        self.check_present(claims)?;
        let leeway = self.leeway;
        if let Some(exp) = claims.exp {
            // Valid while now < exp + leeway (RFC 7519 §4.1.4).
            if now >= exp.saturating_add(leeway) {
                return Err(VerifyError::Expired);
            }
        }
        if let Some(nbf) = claims.nbf {
            // Valid once now >= nbf - leeway (RFC 7519 §4.1.5).
            if now.saturating_add(leeway) < nbf {
                return Err(VerifyError::NotYetValid);
            }
        }
        if let Some(iat) = claims.iat {
            if iat > now.saturating_add(leeway) {
                return Err(VerifyError::IssuedInFuture);
            }
            if let Some(max_age) = self.max_age
                && now > iat.saturating_add(max_age).saturating_add(leeway)
            {
                return Err(VerifyError::TooOld);
            }
        }
        if let Some(expected) = self.issuer
            && !claims
                .iss
                .is_some_and(|iss| bytes::eq(iss.as_bytes(), expected.as_bytes()))
        {
            return Err(VerifyError::Issuer);
        }
        match claims.aud {
            None if self.audiences.is_empty() => {}
            None => return Err(VerifyError::MissingClaim(Claim::Aud)),
            Some(aud) => {
                if !self.audiences.iter().any(|a| aud.contains(a)) {
                    return Err(VerifyError::Audience);
                }
            }
        }
        if let Some(expected) = self.subject
            && !claims
                .sub
                .is_some_and(|sub| bytes::eq(sub.as_bytes(), expected.as_bytes()))
        {
            return Err(VerifyError::Subject);
        }
        Ok(())
    }

    fn check_present(&self, claims: &RegisteredClaims<'_>) -> Result<(), VerifyError> {
        let mut required = self.required;
        if self.issuer.is_some() {
            required = required.with(Claim::Iss);
        }
        if !self.audiences.is_empty() {
            required = required.with(Claim::Aud);
        }
        if self.subject.is_some() {
            required = required.with(Claim::Sub);
        }
        if self.max_age.is_some() {
            required = required.with(Claim::Iat);
        }
        let present = [
            claims.aud.is_some(),
            claims.exp.is_some(),
            claims.iat.is_some(),
            claims.iss.is_some(),
            claims.jti.is_some(),
            claims.nbf.is_some(),
            claims.sid.is_some(),
            claims.sub.is_some(),
        ];
        // One bit per claim, in `Claim`'s order: the first missing one is the lowest bit.
        let present = present
            .iter()
            .rev()
            .fold(0u8, |bits, &there| (bits << 1) | u8::from(there));
        let missing = required.0 & !present;
        if missing == 0 {
            return Ok(());
        }
        let first = ClaimSet::ALL_IN_ORDER
            .get(missing.trailing_zeros() as usize)
            .copied()
            .unwrap_or(Claim::Aud);
        Err(VerifyError::MissingClaim(first))
    }
}

impl Default for Validation<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// A set of registered claims.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClaimSet(u8);

impl ClaimSet {
    /// No claims.
    pub const EMPTY: Self = Self(0);

    /// This set plus `claim`.
    #[must_use]
    pub const fn with(self, claim: Claim) -> Self {
        Self(self.0 | Self::bit(claim))
    }

    /// This set without `claim`.
    #[must_use]
    pub const fn without(self, claim: Claim) -> Self {
        Self(self.0 & !Self::bit(claim))
    }

    /// Whether `claim` is in the set.
    #[must_use]
    pub const fn contains(self, claim: Claim) -> bool {
        self.0 & Self::bit(claim) != 0
    }

    /// Every claim, in `Claim`'s order, which is the order of the bits.
    const ALL_IN_ORDER: [Claim; 8] = [
        Claim::Aud,
        Claim::Exp,
        Claim::Iat,
        Claim::Iss,
        Claim::Jti,
        Claim::Nbf,
        Claim::Sid,
        Claim::Sub,
    ];

    /// The claim's bit: bit `i` for `ALL_IN_ORDER[i]` (checked below), so that the lowest
    /// bit of a set is its first claim in that order.
    const fn bit(claim: Claim) -> u8 {
        match claim {
            Claim::Aud => 1,
            Claim::Exp => 1 << 1,
            Claim::Iat => 1 << 2,
            Claim::Iss => 1 << 3,
            Claim::Jti => 1 << 4,
            Claim::Nbf => 1 << 5,
            Claim::Sid => 1 << 6,
            Claim::Sub => 1 << 7,
        }
    }
}

// Bit `i` of a `ClaimSet` is `ALL_IN_ORDER[i]`, which `Validation::check_present` relies on.
const _: () = {
    let mut rest: &[Claim] = &ClaimSet::ALL_IN_ORDER;
    let mut i = 0u32;
    while let [claim, tail @ ..] = rest {
        assert!(ClaimSet::bit(*claim) == 1 << i);
        rest = tail;
        i += 1;
    }
};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::jwt::claims::Audience;

    fn at(secs: u64) -> UnixTime {
        UnixTime::from_secs(secs)
    }

    fn with_exp(exp: u64) -> RegisteredClaims<'static> {
        RegisteredClaims {
            exp: Some(at(exp)),
            ..RegisteredClaims::default()
        }
    }

    #[test]
    fn exp_boundary_and_leeway() {
        let p = Validation::new();
        assert_eq!(p.check(&with_exp(100), at(99)), Ok(()));
        assert_eq!(p.check(&with_exp(100), at(100)), Err(VerifyError::Expired));
        let p = p.with_leeway(5);
        assert_eq!(p.check(&with_exp(100), at(104)), Ok(()));
        assert_eq!(p.check(&with_exp(100), at(105)), Err(VerifyError::Expired));
        // Saturating, never wrapping.
        assert_eq!(
            p.with_leeway(u64::MAX)
                .check(&with_exp(u64::MAX), at(u64::MAX - 1)),
            Ok(())
        );
    }

    #[test]
    fn exp_is_required_by_default() {
        let none = RegisteredClaims::default();
        assert_eq!(
            Validation::new().check(&none, at(0)),
            Err(VerifyError::MissingClaim(Claim::Exp))
        );
        let p = Validation::new().with_required_set(ClaimSet::EMPTY);
        assert_eq!(p.check(&none, at(0)), Ok(()));
    }

    /// With several required claims missing, the error names the first in `Claim`'s
    /// order, whichever they are (`sid` before `sub` among them).
    #[test]
    fn the_first_missing_claim_in_order_is_named() {
        let all = ClaimSet::ALL_IN_ORDER
            .iter()
            .fold(ClaimSet::EMPTY, |set, &claim| set.with(claim));
        let p = Validation::new()
            .with_audiences(&["a"])
            .with_required_set(all);
        let mut claims = RegisteredClaims::default();
        for (i, &claim) in ClaimSet::ALL_IN_ORDER.iter().enumerate() {
            // Every claim before `claim` present, `claim` and every one after it missing.
            assert_eq!(
                p.check(&claims, at(0)),
                Err(VerifyError::MissingClaim(claim)),
                "{i}"
            );
            match claim {
                Claim::Aud => claims.aud = Some(Audience::One("a")),
                Claim::Exp => claims.exp = Some(at(10)),
                Claim::Iat => claims.iat = Some(at(0)),
                Claim::Iss => claims.iss = Some("i"),
                Claim::Jti => claims.jti = Some("j"),
                Claim::Nbf => claims.nbf = Some(at(0)),
                Claim::Sid => claims.sid = Some("s"),
                Claim::Sub => claims.sub = Some("u"),
            }
        }
        assert_eq!(p.check(&claims, at(0)), Ok(()));
        // Only `sub` and `sid` missing: `sid` comes first.
        claims.sid = None;
        claims.sub = None;
        assert_eq!(
            p.check(&claims, at(0)),
            Err(VerifyError::MissingClaim(Claim::Sid))
        );
        // Present claims that are not required are never named.
        let p = Validation::new().with_required_set(ClaimSet::EMPTY.with(Claim::Sub));
        assert_eq!(
            p.check(&claims, at(0)),
            Err(VerifyError::MissingClaim(Claim::Sub))
        );
    }

    #[test]
    fn nbf_and_iat() {
        let mut c = with_exp(1000);
        c.nbf = Some(at(50));
        let p = Validation::new();
        assert_eq!(p.check(&c, at(49)), Err(VerifyError::NotYetValid));
        assert_eq!(p.check(&c, at(50)), Ok(()));
        assert_eq!(p.with_leeway(1).check(&c, at(49)), Ok(()));
        c.nbf = None;
        c.iat = Some(at(60));
        assert_eq!(p.check(&c, at(59)), Err(VerifyError::IssuedInFuture));
        assert_eq!(p.check(&c, at(60)), Ok(()));
        let p = p.with_max_age(10);
        assert_eq!(p.check(&c, at(70)), Ok(()));
        assert_eq!(p.check(&c, at(71)), Err(VerifyError::TooOld));
        c.iat = None;
        assert_eq!(
            p.check(&c, at(60)),
            Err(VerifyError::MissingClaim(Claim::Iat))
        );
    }

    #[test]
    fn issuer_subject_audience() {
        let mut c = with_exp(1000);
        let p = Validation::new().with_issuer("me");
        assert_eq!(
            p.check(&c, at(0)),
            Err(VerifyError::MissingClaim(Claim::Iss))
        );
        c.iss = Some("you");
        assert_eq!(p.check(&c, at(0)), Err(VerifyError::Issuer));
        c.iss = Some("me");
        assert_eq!(p.check(&c, at(0)), Ok(()));

        c.aud = Some(Audience::One("api"));
        assert_eq!(
            p.check(&c, at(0)),
            Err(VerifyError::Audience),
            "aud with no audience configured"
        );
        let auds: &[&str] = &["web", "api"];
        let p = p.with_audiences(auds);
        assert_eq!(p.check(&c, at(0)), Ok(()));
        c.aud = Some(Audience::Many("x\0api\0"));
        assert_eq!(p.check(&c, at(0)), Ok(()));
        c.aud = Some(Audience::Many("x\0y\0"));
        assert_eq!(p.check(&c, at(0)), Err(VerifyError::Audience));
        c.aud = Some(Audience::Many(""));
        assert_eq!(p.check(&c, at(0)), Err(VerifyError::Audience));
        c.aud = None;
        assert_eq!(
            p.check(&c, at(0)),
            Err(VerifyError::MissingClaim(Claim::Aud))
        );

        c.aud = Some(Audience::One("api"));
        let p = p.with_subject("alice");
        assert_eq!(
            p.check(&c, at(0)),
            Err(VerifyError::MissingClaim(Claim::Sub))
        );
        c.sub = Some("bob");
        assert_eq!(p.check(&c, at(0)), Err(VerifyError::Subject));
        c.sub = Some("alice");
        assert_eq!(p.check(&c, at(0)), Ok(()));
    }

    #[test]
    fn claim_set() {
        let s = ClaimSet::EMPTY.with(Claim::Jti).with(Claim::Sub);
        assert!(s.contains(Claim::Jti) && s.contains(Claim::Sub) && !s.contains(Claim::Exp));
        assert!(!s.without(Claim::Jti).contains(Claim::Jti));
    }
}
