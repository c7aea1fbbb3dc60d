//! Bearer JWTs: [`Jwt`] (verify, issue, revoke) and the [`Bearer`] extractors.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokenstile::UnixTime;
use tokenstile::http::{BearerError, bearer_token_in_fields};
use tokenstile::jwt::{self, Header, RegisteredClaims, SigningKey, Validation, VerifyingKeys};
use tokenstile::refresh::RefreshPolicy;

use crate::backend::{RevocationBackend, token_refusal};
use crate::refresh::RefreshBackend;
use crate::rejection::{Refusal, Rejection};
use crate::settings::Settings;

/// The keys, erased.
pub(crate) trait JwtKeys: VerifyingKeys + SigningKey + Send + Sync {}

impl<T: VerifyingKeys + SigningKey + Send + Sync> JwtKeys for T {}

/// The JWT half of an [`Auth`](crate::Auth): verifies bearer tokens with the key and the
/// [`Validation`] given once to the builder, checks their revocation in the same store as
/// the sessions, issues and revokes them. A cheap handle: get it with
/// [`Auth::jwt`](crate::Auth::jwt), or from the state through [`FromRef`] (an `Auth<D>`
/// state gives one).
#[derive(Clone)]
pub struct Jwt {
    inner: Arc<JwtInner>,
}

struct JwtInner {
    keys: Option<Arc<dyn JwtKeys>>,
    validation: Validation<'static>,
    token_lifetime: u64,
    /// The longest lifetime of a token this app mints (by [`Jwt::issue`] or from a
    /// refresh-token family): how long a log-out-everywhere must be remembered.
    longest_lifetime: u64,
    settings: Arc<Settings>,
    store: Arc<dyn RevocationBackend>,
    /// The refresh-token families, when configured: revoking a subject's tokens ends them
    /// too, or a device holding a refresh token would mint a new access token right after.
    families: Option<(Arc<dyn RefreshBackend>, RefreshPolicy)>,
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("keys", &self.inner.keys.is_some())
            .field("validation", &self.inner.validation)
            .field("token_lifetime", &self.inner.token_lifetime)
            .finish_non_exhaustive()
    }
}

/// The claims [`Jwt::issue`] writes: `sub`, `iat`, `exp` and a random `jti` (so that the
/// token can be revoked alone), plus `iss` and `aud` when the validation policy requires an
/// issuer and audiences, so that the app's own policy accepts the tokens it mints. `aud`
/// names *every* audience the policy accepts: a token the app mints is then good at any
/// service that accepts one of them and shares the key. To mint narrower tokens, sign
/// claims of your own with [`Jwt::sign`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StandardClaims {
    /// Whom the token is about.
    pub sub: String,
    /// The issuer, if the validation policy names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audiences, if the validation policy names any: written as a string when there
    /// is one and as an array when there are several, and read from either.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "audiences")]
    pub aud: Vec<String>,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// A random token ID.
    pub jti: String,
}

/// The header of the tokens an app with `validation` mints: the `typ` it requires, if any,
/// else `JWT`.
pub(crate) fn minted_header<'v>(validation: &Validation<'v>) -> Header<'v> {
    match validation.typ {
        Some(typ) => Header::new().with_typ(typ),
        None => Header::new(),
    }
}

/// `aud` as one string or an array of strings.
mod audiences {
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::fmt;

    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserializer, Serialize, Serializer};

    // `serde`'s `with` hands the field by reference.
    #[allow(clippy::ptr_arg)]
    pub(super) fn serialize<S: Serializer>(aud: &Vec<String>, s: S) -> Result<S::Ok, S::Error> {
        match aud.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        struct OneOrMany;

        impl<'de> Visitor<'de> for OneOrMany {
            type Value = Vec<String>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(alloc::vec![String::from(v)])
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
                while let Some(v) = seq.next_element::<String>()? {
                    out.push(v);
                }
                Ok(out)
            }
        }

        d.deserialize_any(OneOrMany)
    }
}

impl Jwt {
    pub(crate) fn new(
        keys: Option<Arc<dyn JwtKeys>>,
        validation: Validation<'static>,
        token_lifetime: u64,
        longest_lifetime: u64,
        settings: Arc<Settings>,
        store: Arc<dyn RevocationBackend>,
        families: Option<(Arc<dyn RefreshBackend>, RefreshPolicy)>,
    ) -> Self {
        Self {
            inner: Arc::new(JwtInner {
                keys,
                validation,
                token_lifetime,
                longest_lifetime: longest_lifetime.max(token_lifetime),
                settings,
                store,
                families,
            }),
        }
    }

    pub(crate) fn has_keys(&self) -> bool {
        self.inner.keys.is_some()
    }

    fn keys(&self) -> Result<&dyn JwtKeys, Rejection> {
        match &self.inner.keys {
            Some(keys) => Ok(&**keys),
            None => {
                tracing::error!(
                    target: "tokenstile_axum",
                    event = "internal_error",
                    "a bearer token was used, but no JWT key is configured (AuthBuilder::jwt)"
                );
                Err(self.refuse(Refusal::Internal))
            }
        }
    }

    fn refuse(&self, refusal: Refusal) -> Rejection {
        self.inner.settings.refuse(refusal, None)
    }

    /// The validation policy.
    #[must_use]
    pub fn validation(&self) -> &Validation<'static> {
        &self.inner.validation
    }

    /// Mints a token for `subject` with [`StandardClaims`], valid for the configured
    /// lifetime, and returns it.
    ///
    /// # Errors
    ///
    /// [`Refusal::Internal`] if no key is configured or the RNG fails.
    pub fn issue(&self, subject: &str) -> Result<String, Rejection> {
        let now = self.inner.settings.now();
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|_| self.refuse(Refusal::Internal))?;
        let claims = StandardClaims {
            sub: String::from(subject),
            iss: self.inner.validation.issuer.map(String::from),
            aud: self
                .inner
                .validation
                .audiences
                .iter()
                .map(|a| String::from(*a))
                .collect(),
            iat: now.as_secs(),
            exp: now.as_secs().saturating_add(self.inner.token_lifetime),
            jti: jti.iter().map(|b| alloc::format!("{b:02x}")).collect(),
        };
        self.sign(&claims)
    }

    /// Signs `claims` as they are (the application chooses them; include `exp`, and
    /// `jti` if the token is to be revocable alone). The header's `typ` is the one the
    /// validation policy requires, if it names one, else `JWT`.
    ///
    /// # Errors
    ///
    /// [`Refusal::Internal`] if no key is configured or the claims can't be encoded.
    pub fn sign<C: Serialize + ?Sized>(&self, claims: &C) -> Result<String, Rejection> {
        let keys = self.keys()?;
        jwt::sign_with_to_string(keys, &minted_header(&self.inner.validation), claims)
            .map_err(|_| self.refuse(Refusal::Internal))
    }

    /// Verifies `token` (signature, claims, and revocation when `check_revocation`) and
    /// returns its claims. This is what the extractors do; call it for tokens that don't
    /// come in an `Authorization` header.
    ///
    /// # Errors
    ///
    /// [`Refusal::InvalidToken`], [`Refusal::ExpiredToken`], [`Refusal::RevokedToken`],
    /// [`Refusal::Unavailable`] (the store failed: the token is *not* accepted).
    pub async fn verify<C: DeserializeOwned + Send>(
        &self,
        token: &str,
        check_revocation: bool,
    ) -> Result<(C, TokenInfo), Rejection> {
        let keys = self.keys()?;
        let now = self.inner.settings.now();
        // Room for any token the policy accepts; a longer one is refused by its length
        // alone, so it never sizes the buffer.
        let room = token.len().min(self.inner.validation.max_token_len);
        let mut scratch = alloc::vec![0u8; room.saturating_mul(3)];
        let verified = jwt::verify::<C, _>(keys, token, &self.inner.validation, now, &mut scratch)
            .map_err(|e| self.refuse(token_refusal(&e)))?;
        if check_revocation {
            self.inner
                .store
                .check(&verified.registered, now)
                .await
                .map_err(|r| self.refuse(r))?;
        }
        Ok((verified.claims, TokenInfo::from(&verified.registered)))
    }

    /// Revokes the token described by `info` until it expires (logout of this token).
    ///
    /// # Errors
    ///
    /// [`Refusal::InvalidToken`] if the token has no `jti` or `exp` (revoke its subject
    /// instead); [`Refusal::Unavailable`]: the token is then **not** revoked.
    pub async fn revoke(&self, info: &TokenInfo) -> Result<(), Rejection> {
        let now = self.inner.settings.now();
        let claims = info.registered();
        self.inner
            .store
            .revoke_token(&claims, self.inner.validation.leeway, now)
            .await
            .map_err(|r| self.refuse(r))?;
        tracing::info!(target: "tokenstile_axum", event = "revoke_token");
        Ok(())
    }

    /// Revokes every token of `subject` (from the configured issuer) issued up to now:
    /// the JWT half of log-out-everywhere. A token issued in this same second is revoked
    /// too. [`Auth::logout_everywhere`](crate::Auth::logout_everywhere) also ends the
    /// subject's sessions.
    ///
    /// With refresh tokens configured
    /// ([`AuthBuilder::refresh_tokens`](crate::AuthBuilder::refresh_tokens)), the subject's
    /// refresh-token families are ended first: otherwise a device holding a refresh token
    /// would get a new access token, issued after the cutoff, at its next refresh.
    ///
    /// # Errors
    ///
    /// [`Refusal::Unavailable`]: the tokens are then not revoked (some families may have
    /// been ended).
    pub async fn revoke_subject(&self, subject: &str) -> Result<(), Rejection> {
        if let Some((families, policy)) = &self.inner.families {
            let now = self.inner.settings.now();
            families
                .logout_everywhere(*policy, self.inner.validation.issuer, subject, now)
                .await
                .map_err(|r| self.refuse(r))?;
        }
        self.revoke_subject_tokens(subject).await
    }

    /// The access-token half of [`revoke_subject`](Self::revoke_subject), for a caller
    /// that has ended the subject's refresh-token families itself.
    pub(crate) async fn revoke_subject_tokens(&self, subject: &str) -> Result<(), Rejection> {
        let now = self.inner.settings.now();
        let expires_at = now
            .saturating_add(self.inner.longest_lifetime)
            .saturating_add(self.inner.validation.leeway)
            .saturating_add(1);
        self.inner
            .store
            .revoke_subject(self.inner.validation.issuer, subject, expires_at, now)
            .await
            .map_err(|r| self.refuse(r))?;
        tracing::info!(target: "tokenstile_axum", event = "revoke_subject");
        Ok(())
    }

    async fn verify_request<C: DeserializeOwned + Send>(
        &self,
        parts: &Parts,
        check_revocation: bool,
    ) -> Result<(C, TokenInfo), Rejection> {
        let token =
            match bearer_token_in_fields(parts.headers.get_all(header::AUTHORIZATION).iter()) {
                Ok(token) => token,
                Err(BearerError::Missing | BearerError::Scheme) => {
                    return Err(self
                        .inner
                        .settings
                        .refuse(Refusal::MissingToken, Some(parts)));
                }
                Err(_) => {
                    return Err(self
                        .inner
                        .settings
                        .refuse(Refusal::MalformedToken, Some(parts)));
                }
            };
        self.verify(token, check_revocation).await
    }
}

/// The registered claims of a verified token, owned: what revocation needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// `iss`.
    pub iss: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `jti`.
    pub jti: Option<String>,
    /// `sid`: the refresh-token family the token was issued from, if any.
    pub sid: Option<String>,
    /// `iat`.
    pub iat: Option<UnixTime>,
    /// `exp`.
    pub exp: Option<UnixTime>,
}

impl TokenInfo {
    fn registered(&self) -> RegisteredClaims<'_> {
        let mut claims = RegisteredClaims::default();
        claims.iss = self.iss.as_deref();
        claims.sub = self.sub.as_deref();
        claims.jti = self.jti.as_deref();
        claims.sid = self.sid.as_deref();
        claims.iat = self.iat;
        claims.exp = self.exp;
        claims
    }
}

impl From<&RegisteredClaims<'_>> for TokenInfo {
    fn from(claims: &RegisteredClaims<'_>) -> Self {
        Self {
            iss: claims.iss.map(String::from),
            sub: claims.sub.map(String::from),
            jti: claims.jti.map(String::from),
            sid: claims.sid.map(String::from),
            iat: claims.iat,
            exp: claims.exp,
        }
    }
}

/// A request authenticated by `Authorization: Bearer <JWT>`, verified and checked against
/// the revocations in the store, with the token's claims as `C`.
///
/// Answers, in the default [`BearerMode`](crate::BearerMode): `401` with
/// `WWW-Authenticate: Bearer` when the header is missing (or another scheme), `403` when
/// the token is malformed, invalid, expired or revoked, `503` when the store fails. The
/// state must give a [`Jwt`] through [`FromRef`] (an [`Auth`](crate::Auth) state does),
/// built with a key ([`AuthBuilder::jwt`](crate::AuthBuilder::jwt)): without one, every
/// request is answered `500` and an `internal_error` event logged.
///
/// Bearer requests need no CSRF check: browsers never attach the header on their own.
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use tokenstile::jwt::{Hs256Key, Validation};
/// use tokenstile::store::SharedStore;
/// use tokenstile_axum::{Auth, Bearer, Rejection, StandardClaims};
///
/// async fn me(token: Bearer<StandardClaims>) -> String {
///     format!("hello {}", token.claims().sub)
/// }
///
/// async fn logout(token: Bearer<StandardClaims>) -> Result<&'static str, Rejection> {
///     token.revoke().await?;
///     Ok("logged out")
/// }
///
/// let key = Hs256Key::new_from_slice(&[7u8; 32])?;
/// let auth: Auth<()> = Auth::builder(SharedStore::new()).jwt(key, Validation::new()).build();
/// let app: Router = Router::new()
///     .route("/api/me", get(me))
///     .route("/api/logout", post(logout))
///     .with_state(auth);
/// # let _ = app;
/// # Ok::<(), tokenstile::KeyError>(())
/// ```
pub struct Bearer<C> {
    claims: C,
    info: TokenInfo,
    jwt: Jwt,
}

impl<C: fmt::Debug> fmt::Debug for Bearer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer")
            .field("claims", &self.claims)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<C> Bearer<C> {
    /// The token's claims.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The token's claims, owned.
    pub fn into_claims(self) -> C {
        self.claims
    }

    /// The registered claims.
    pub fn info(&self) -> &TokenInfo {
        &self.info
    }

    /// Revokes the presented token until it expires (logout). This token only: an access
    /// token issued from a refresh-token family is followed by the next one at the next
    /// refresh, so log such a device out by ending its family
    /// ([`refresh::logout`](crate::refresh::logout)).
    ///
    /// # Errors
    ///
    /// As [`Jwt::revoke`].
    pub async fn revoke(&self) -> Result<(), Rejection> {
        self.jwt.revoke(&self.info).await
    }

    /// Revokes every token of the presented token's subject issued up to now, and ends its
    /// refresh-token families when they are configured (see [`Jwt::revoke_subject`]). Use
    /// [`Auth::logout_everywhere`](crate::Auth::logout_everywhere) to end the subject's
    /// sessions too.
    ///
    /// # Errors
    ///
    /// [`Refusal::InvalidToken`] if the token has no `sub`; as [`Jwt::revoke_subject`].
    pub async fn revoke_everywhere(&self) -> Result<(), Rejection> {
        let Some(sub) = &self.info.sub else {
            return Err(self.jwt.refuse(Refusal::InvalidToken));
        };
        self.jwt.revoke_subject(sub).await
    }
}

impl<St, C> FromRequestParts<St> for Bearer<C>
where
    Jwt: FromRef<St>,
    St: Send + Sync,
    C: DeserializeOwned + Send,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Rejection> {
        let jwt = Jwt::from_ref(state);
        let (claims, info) = jwt.verify_request(parts, true).await?;
        Ok(Self { claims, info, jwt })
    }
}

/// As [`Bearer`], but **without the revocation check**: the signature and the claims are
/// verified, the store is not asked. A revoked token is accepted until it expires, so use
/// it only where a few minutes of a logged-out token are acceptable, and measure first:
/// the check is one store lookup (see the README's figures).
pub struct StatelessBearer<C> {
    claims: C,
    info: TokenInfo,
}

impl<C: fmt::Debug> fmt::Debug for StatelessBearer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatelessBearer")
            .field("claims", &self.claims)
            .field("info", &self.info)
            .finish()
    }
}

impl<C> StatelessBearer<C> {
    /// The token's claims.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The registered claims.
    pub fn info(&self) -> &TokenInfo {
        &self.info
    }
}

impl<St, C> FromRequestParts<St> for StatelessBearer<C>
where
    Jwt: FromRef<St>,
    St: Send + Sync,
    C: DeserializeOwned + Send,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Rejection> {
        let jwt = Jwt::from_ref(state);
        let (claims, info) = jwt.verify_request(parts, false).await?;
        Ok(Self { claims, info })
    }
}
