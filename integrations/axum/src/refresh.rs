//! Short-lived access JWTs and rotating refresh tokens: [`Refresh`], [`Tokens`] and the
//! two ready-made handlers, [`rotate`] and [`logout`].
//!
//! A login on one device starts a refresh-token **family** (see [`tokenstile::refresh`]):
//! the response carries a short-lived access token in its JSON body, for the page to keep
//! in memory and send as `Authorization: Bearer`, and the refresh token in the
//! `__Secure-refresh` cookie (`HttpOnly`, `Secure`, `SameSite=Strict`, `Path` limited to
//! the refresh endpoints), which no script can read and no other request carries. Under
//! the path `"/"` it is a `__Host-refresh` cookie instead, which every request to the host
//! carries but no sibling subdomain can plant: choose that where a subdomain may serve
//! content you do not control ([`tokenstile::refresh::cookie_options`] weighs the two).
//!
//! | request | call | answer |
//! |---|---|---|
//! | login (after the password check) | [`Refresh::login`] | `200` + access token + refresh cookie |
//! | any API call | [`Bearer`](crate::Bearer) | refuses an access token of an ended family at once |
//! | access token expired | `POST` to [`rotate`] ([`Refresh::rotate`]) | `200` + new access token + new refresh cookie |
//! | a refresh token presented twice | (inside `rotate`) | the family ends, `401`, cookie cleared |
//! | two tabs refreshing at once | (inside `rotate`) | one wins; the other gets `409` and retries with the cookie the winner set |
//! | logout on this device | `POST` to [`logout`] ([`Refresh::logout`]) | the family and its access tokens end, cookie cleared |
//! | log out everywhere | [`Auth::logout_everywhere`](crate::Auth::logout_everywhere) | every family, session and token of the subject ends |
//!
//! The refresh and logout endpoints are authenticated by a cookie, so they apply the
//! origin check of [`csrf`](crate::csrf) themselves, and belong behind the
//! [`CsrfLayer`](crate::CsrfLayer) with the rest of the app. A store failure is `503`
//! and changes no cookie: the client neither gets tokens nor loses its refresh token.
//!
//! ```
//! use axum::extract::State;
//! use axum::http::HeaderMap;
//! use axum::routing::{get, post};
//! use axum::Router;
//! use tokenstile::jwt::{Hs256Key, Validation};
//! use tokenstile::refresh::RefreshPolicy;
//! use tokenstile::store::SharedStore;
//! use tokenstile_axum::{refresh, Auth, Bearer, Rejection, StandardClaims, Tokens};
//!
//! async fn login(State(auth): State<Auth<()>>, headers: HeaderMap) -> Result<Tokens, Rejection> {
//!     // ... check the password first ...
//!     auth.refresh().login(&headers, "alice").await
//! }
//!
//! async fn me(token: Bearer<StandardClaims>) -> String {
//!     token.claims().sub.clone()
//! }
//!
//! let key = Hs256Key::new_from_slice(&[7u8; 32])?;
//! let store = SharedStore::new();
//! let auth: Auth<()> = Auth::builder(store)
//!     .allowed_origin("https://app.example")
//!     .jwt(key, Validation::new())
//!     // Families in a store of their own type; revocations in the main store.
//!     .refresh_tokens(SharedStore::new(), RefreshPolicy::new(), "/auth")
//!     .build();
//! let app: Router = Router::new()
//!     .route("/auth/login", post(login))
//!     .route("/auth/refresh", post(refresh::rotate))
//!     .route("/auth/logout", post(refresh::logout))
//!     .route("/api/me", get(me))
//!     .layer(auth.csrf_layer())
//!     .with_state(auth);
//! # let _ = app;
//! # Ok::<(), tokenstile::KeyError>(())
//! ```

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tokenstile::UnixTime;
use tokenstile::http::{CookieOptions, find_cookie_in_fields};
use tokenstile::refresh::{Family, Grant, RefreshError, RefreshPolicy, RefreshToken, Refreshed};
use tokenstile::store::{
    CreateOutcome, LookupKey, RevocationStore, SessionRecord, SessionSink, SessionStore, Store,
    StoreError, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, Watermark,
};

use crate::auth::SessionCookie;
use crate::backend::{BoxFuture, store_failed};
use crate::jwt::Jwt;
use crate::rejection::{Refusal, Rejection};
use crate::settings::Settings;

/// What a refresh-token family holds here: the subject, to fill the access tokens it
/// issues. Name the family store's type with it: `SharedStore<RefreshFamily>`.
pub type RefreshFamily = Family<String>;

/// The refresh-token half of an [`Auth`](crate::Auth): issues, rotates and ends families,
/// signs their access tokens with the [`Jwt`] key, and carries the refresh token in its
/// cookie. A cheap handle: get it with [`Auth::refresh`](crate::Auth::refresh), or from
/// the state through [`FromRef`](axum::extract::FromRef) (an `Auth<D>` state gives one).
///
/// Configure it with [`AuthBuilder::refresh_tokens`](crate::AuthBuilder::refresh_tokens);
/// without that, every operation is refused with [`Refusal::Internal`] (and logged).
#[derive(Clone)]
pub struct Refresh {
    inner: Arc<RefreshInner>,
}

struct RefreshInner {
    backend: Option<Arc<dyn RefreshBackend>>,
    policy: RefreshPolicy,
    cookie: CookieOptions<'static>,
    settings: Arc<Settings>,
    jwt: Jwt,
}

impl fmt::Debug for Refresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresh")
            .field("configured", &self.inner.backend.is_some())
            .field("policy", &self.inner.policy)
            .field("cookie", &self.inner.cookie)
            .finish_non_exhaustive()
    }
}

impl Refresh {
    pub(crate) fn new(
        backend: Option<Arc<dyn RefreshBackend>>,
        policy: RefreshPolicy,
        cookie: CookieOptions<'static>,
        settings: Arc<Settings>,
        jwt: Jwt,
    ) -> Self {
        Self {
            inner: Arc::new(RefreshInner {
                backend,
                policy,
                cookie,
                settings,
                jwt,
            }),
        }
    }

    pub(crate) fn is_configured(&self) -> bool {
        self.inner.backend.is_some()
    }

    /// The lifetimes of access tokens, refresh tokens and families (its `leeway` is at
    /// least the one of the JWT [`Validation`](tokenstile::jwt::Validation)).
    #[must_use]
    pub fn policy(&self) -> &RefreshPolicy {
        &self.inner.policy
    }

    /// The refresh cookie's options: [`tokenstile::refresh::cookie_options`] with the
    /// configured path.
    pub fn cookie_options(&self) -> &CookieOptions<'static> {
        &self.inner.cookie
    }

    /// Logs `subject` in on this device: starts a family and returns its first access
    /// token and the refresh cookie. Call it after checking the password.
    ///
    /// A refresh token presented with the request (a family started earlier in this
    /// browser, or one planted in it) is ended first, so a login never keeps it. The
    /// request must come from the app's own origin (see [`csrf`](crate::csrf)).
    ///
    /// # Errors
    ///
    /// [`Refusal::CrossOrigin`]; [`Refusal::TooManySessions`] if the policy's subject
    /// limit refuses; [`Refusal::Unavailable`] if the store failed (nothing was issued);
    /// [`Refusal::Internal`] if refresh tokens or the JWT key are not configured.
    pub async fn login(&self, headers: &HeaderMap, subject: &str) -> Result<Tokens, Rejection> {
        let backend = self.signing_backend()?;
        if !self.inner.settings.same_origin(&Method::POST, headers) {
            return Err(self.refuse(Refusal::CrossOrigin));
        }
        let now = self.inner.settings.now();
        for old in self.presented_all(headers) {
            backend
                .logout(self.inner.policy, &old, now)
                .await
                .map_err(|r| self.refuse(r))?;
        }
        let grant = backend
            .issue(self.inner.policy, subject, now)
            .await
            .map_err(|r| self.refuse(r))?;
        tracing::info!(target: "tokenstile_axum", event = "refresh_login");
        self.tokens(&grant, subject)
    }

    /// Exchanges the refresh cookie for a new access token and a new refresh cookie; the
    /// presented refresh token is dead from this moment. [`rotate`] is this as a handler.
    ///
    /// # Errors
    ///
    /// - [`Refusal::NoRefreshToken`] (`401`, the cookie cleared): no refresh cookie, or
    ///   one no live family has (logged out, ended, expired);
    /// - [`Refusal::ReusedRefreshToken`] (`401`, the cookie cleared): a refresh token the
    ///   family had already replaced. The family is ended, with every access token issued
    ///   from it (unless the store fails to record that: the event then has
    ///   `access_tokens_revoked = false`, and a `store_error` is logged), and a `WARN`
    ///   event `refresh_reused` is logged;
    /// - [`Refusal::Conflict`] (`409`, no cookie change): a concurrent refresh of the same
    ///   token (another tab) won a moment ago. The browser now holds the winner's cookie:
    ///   retry once. An `INFO` event `refresh_superseded` is logged: a stolen copy used
    ///   first looks the same from here;
    /// - [`Refusal::CrossOrigin`]; [`Refusal::Unavailable`] (`503`, no cookie change: the
    ///   refresh token stays valid); [`Refusal::Internal`].
    pub async fn rotate(&self, headers: &HeaderMap) -> Result<Tokens, Rejection> {
        let backend = self.signing_backend()?;
        if !self.inner.settings.same_origin(&Method::POST, headers) {
            return Err(self.refuse(Refusal::CrossOrigin));
        }
        let Some(token) = self.presented(headers) else {
            return Err(self.refuse_and_clear(Refusal::NoRefreshToken));
        };
        let now = self.inner.settings.now();
        match backend.refresh(self.inner.policy, &token, now).await {
            Ok(refreshed) => {
                tracing::info!(target: "tokenstile_axum", event = "refresh");
                self.tokens(&refreshed.grant, &refreshed.data)
            }
            Err(r @ (Refusal::NoRefreshToken | Refusal::ReusedRefreshToken)) => {
                Err(self.refuse_and_clear(r))
            }
            Err(r) => Err(self.refuse(r)),
        }
    }

    /// Logs this device out: ends the family of the presented refresh cookie, with every
    /// access token issued from it (the next request with one of them is refused), and
    /// returns the cookie that clears the refresh cookie. Works when the family is
    /// already gone. [`logout`] is this as a handler.
    ///
    /// # Errors
    ///
    /// [`Refusal::CrossOrigin`]; [`Refusal::Unavailable`] if the store failed (the family
    /// may then still be live, so no clearing cookie is sent as if all were well);
    /// [`Refusal::Internal`].
    pub async fn logout(&self, headers: &HeaderMap) -> Result<SessionCookie, Rejection> {
        let backend = self.backend()?;
        if !self.inner.settings.same_origin(&Method::POST, headers) {
            return Err(self.refuse(Refusal::CrossOrigin));
        }
        let now = self.inner.settings.now();
        for token in self.presented_all(headers) {
            backend
                .logout(self.inner.policy, &token, now)
                .await
                .map_err(|r| self.refuse(r))?;
        }
        tracing::info!(target: "tokenstile_axum", event = "refresh_logout");
        self.clearing_cookie()
    }

    /// Ends every family of `subject` and revokes every access token issued to it until
    /// now; returns how many families were ended.
    /// [`Auth::logout_everywhere`](crate::Auth::logout_everywhere) calls it, with the
    /// sessions and the other tokens of the subject.
    ///
    /// # Errors
    ///
    /// [`Refusal::Unavailable`]: families or tokens may then still be live;
    /// [`Refusal::Internal`].
    pub async fn logout_everywhere(&self, subject: &str) -> Result<usize, Rejection> {
        let backend = self.backend()?;
        let now = self.inner.settings.now();
        let issuer = self.inner.jwt.validation().issuer;
        backend
            .logout_everywhere(self.inner.policy, issuer, subject, now)
            .await
            .map_err(|r| self.refuse(r))
    }

    /// The cookie that clears the refresh cookie (`Max-Age=0`).
    ///
    /// # Errors
    ///
    /// [`Refusal::Internal`] if the cookie options are invalid.
    pub fn clearing_cookie(&self) -> Result<SessionCookie, Rejection> {
        self.inner
            .cookie
            .clear_cookie_string()
            .ok()
            .and_then(|v| HeaderValue::try_from(v).ok())
            .map(SessionCookie::new)
            .ok_or_else(|| self.refuse(Refusal::Internal))
    }

    /// The backend, for the calls that sign access tokens: refused before the store is
    /// touched when no JWT key is configured, or a login would leave a family behind and
    /// a refresh would spend the presented token for nothing.
    fn signing_backend(&self) -> Result<&dyn RefreshBackend, Rejection> {
        let backend = self.backend()?;
        if !self.inner.jwt.has_keys() {
            tracing::error!(
                target: "tokenstile_axum",
                event = "internal_error",
                "refresh tokens are configured without a JWT key (AuthBuilder::jwt)"
            );
            return Err(self.refuse(Refusal::Internal));
        }
        Ok(backend)
    }

    fn backend(&self) -> Result<&dyn RefreshBackend, Rejection> {
        match &self.inner.backend {
            Some(backend) => Ok(&**backend),
            None => {
                tracing::error!(
                    target: "tokenstile_axum",
                    event = "internal_error",
                    "refresh tokens are used, but not configured (AuthBuilder::refresh_tokens)"
                );
                Err(self.refuse(Refusal::Internal))
            }
        }
    }

    fn refuse(&self, refusal: Refusal) -> Rejection {
        self.inner.settings.refuse(refusal, None)
    }

    /// The refusal, with the cookie that clears the refresh cookie added to its answer.
    fn refuse_and_clear(&self, refusal: Refusal) -> Rejection {
        let rejection = self.refuse(refusal);
        match self.clearing_cookie() {
            Ok(cookie) => rejection.with_header(header::SET_COOKIE, cookie.header_value().clone()),
            Err(_) => rejection,
        }
    }

    /// Every well-formed refresh token the request presents, for ending their families.
    ///
    /// Usually one. A request can carry the cookie twice, for instance when a sibling
    /// subdomain sets one with a `Domain` attribute (the `__Secure-` prefix does not
    /// prevent that); [`presented`](Self::presented) then refuses to choose, which is right
    /// for a refresh, but a logout must still end the family of the real one. Ending a
    /// family needs its secret, so the other copies can only end their own. The copies
    /// are read by the rules [`presented`](Self::presented) applies to one, on the
    /// field's bytes: another cookie's non-ASCII value does not hide them. At most
    /// [`MAX_COOKIE_COPIES`](tokenstile::http::MAX_COOKIE_COPIES) copies are read.
    fn presented_all(&self, headers: &HeaderMap) -> Vec<RefreshToken> {
        crate::settings::cookie_copies(headers, self.inner.cookie.name)
            .filter_map(|value| RefreshToken::parse(value).ok())
            .collect()
    }

    /// The refresh token the request presents, if its cookie is well-formed and there
    /// only once.
    fn presented(&self, headers: &HeaderMap) -> Option<RefreshToken> {
        let name = self.inner.cookie.name;
        let value = find_cookie_in_fields(headers.get_all(header::COOKIE).iter(), name).ok()??;
        RefreshToken::parse(value).ok()
    }

    /// The access token of `grant` for `subject`, signed, and the refresh cookie.
    fn tokens(&self, grant: &Grant, subject: &str) -> Result<Tokens, Rejection> {
        let jwt = &self.inner.jwt;
        let validation = jwt.validation();
        let claims = grant
            .access
            .claims(validation.issuer, subject)
            .with_audiences(validation.audiences);
        let access_token = jwt.sign(&claims)?;
        let mut buf = [0u8; RefreshToken::ENCODED_LEN];
        let cookie = self
            .inner
            .cookie
            .set_cookie_string(
                grant.refresh.encode(&mut buf),
                self.inner.policy.refresh_lifetime,
            )
            .ok()
            .and_then(|v| HeaderValue::try_from(v).ok())
            .map(|mut v| {
                v.set_sensitive(true);
                SessionCookie::new(v)
            })
            .ok_or_else(|| self.refuse(Refusal::Internal))?;
        Ok(Tokens {
            access_token,
            expires_in: self.inner.policy.access_lifetime,
            cookie,
        })
    }
}

/// A new access token and the refresh cookie: the answer to a login or a refresh.
///
/// As a response it is `200` with the refresh cookie, `Cache-Control: no-store`, and the
/// JSON body `{"access_token":"...","token_type":"Bearer","expires_in":900}` (the fields
/// of an OAuth 2.0 token response). Keep the access token in the page's memory (not in
/// `localStorage`, where any script of the origin can read it), and refresh when the API
/// refuses it. Use [`into_parts`](Self::into_parts) to answer otherwise.
#[must_use = "the client gets neither token unless this is sent in the response"]
pub struct Tokens {
    access_token: String,
    expires_in: u64,
    cookie: SessionCookie,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// The access token (a JWT). Never log it.
    #[must_use]
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// Seconds the access token is valid for.
    #[must_use]
    pub const fn expires_in(&self) -> u64 {
        self.expires_in
    }

    /// The access token and the refresh cookie, for an app that answers in its own
    /// format; send the cookie with the answer.
    pub fn into_parts(self) -> (String, SessionCookie) {
        (self.access_token, self.cookie)
    }
}

impl IntoResponse for Tokens {
    fn into_response(self) -> Response {
        // A JWT is base64url and dots: nothing to escape.
        let body = format!(
            "{{\"access_token\":\"{}\",\"token_type\":\"Bearer\",\"expires_in\":{}}}",
            self.access_token, self.expires_in
        );
        let json = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )];
        (self.cookie, json, body).into_response()
    }
}

/// The refresh endpoint as a handler: [`Refresh::rotate`] on the request's cookie. Mount
/// it at a `POST` route under the refresh cookie's path, behind the
/// [`CsrfLayer`](crate::CsrfLayer): `.route("/auth/refresh", post(refresh::rotate))`.
///
/// # Errors
///
/// As [`Refresh::rotate`].
pub async fn rotate(
    State(refresh): State<Refresh>,
    headers: HeaderMap,
) -> Result<Tokens, Rejection> {
    refresh.rotate(&headers).await
}

/// The logout endpoint of this device as a handler: [`Refresh::logout`] on the request's
/// cookie, answered `204` with the clearing cookie. Mount it at a `POST` route under the
/// refresh cookie's path: `.route("/auth/logout", post(refresh::logout))`.
///
/// # Errors
///
/// As [`Refresh::logout`].
pub async fn logout(
    State(refresh): State<Refresh>,
    headers: HeaderMap,
) -> Result<Response, Rejection> {
    let cookie = refresh.logout(&headers).await?;
    Ok((cookie, axum::http::StatusCode::NO_CONTENT).into_response())
}

/// The refresh-token operations, over an erased pair of stores.
pub(crate) trait RefreshBackend: Send + Sync {
    fn issue<'a>(
        &'a self,
        policy: RefreshPolicy,
        subject: &'a str,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<Grant, Refusal>>;

    fn refresh<'a>(
        &'a self,
        policy: RefreshPolicy,
        token: &'a RefreshToken,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<Refreshed<String>, Refusal>>;

    fn logout<'a>(
        &'a self,
        policy: RefreshPolicy,
        token: &'a RefreshToken,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<bool, Refusal>>;

    fn logout_everywhere<'a>(
        &'a self,
        policy: RefreshPolicy,
        issuer: Option<&'a str>,
        subject: &'a str,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<usize, Refusal>>;
}

fn refresh_refusal(error: RefreshError<StoreErrorKind>) -> Refusal {
    match error {
        RefreshError::Invalid | RefreshError::Expired => Refusal::NoRefreshToken,
        RefreshError::Reused { revocation, .. } => {
            // A failed revocation was logged where it happened, by `logged`.
            tracing::warn!(
                target: "tokenstile_axum",
                event = "refresh_reused",
                access_tokens_revoked = revocation.is_ok(),
                "a replaced refresh token was presented: its family was ended"
            );
            Refusal::ReusedRefreshToken
        }
        RefreshError::Superseded => {
            // Another tab that refreshed a moment ago, or a thief who refreshed first: the
            // grace period can't tell them apart, so the event is there to be watched.
            tracing::info!(
                target: "tokenstile_axum",
                event = "refresh_superseded",
                "a refresh token replaced within the grace period was presented again"
            );
            Refusal::Conflict
        }
        RefreshError::LimitReached => Refusal::TooManySessions,
        // Logged where it happened, by `logged`.
        RefreshError::Store(_) => Refusal::Unavailable,
        _ => {
            tracing::error!(target: "tokenstile_axum", event = "internal_error", error = %error);
            Refusal::Internal
        }
    }
}

/// The families in one store, the revocations of their access tokens in another (the
/// store the [`Bearer`](crate::Bearer) check asks): one store to the core's refresh
/// operations. Both may be handles to the same store.
#[derive(Clone)]
pub(crate) struct Split<F, R> {
    pub(crate) families: F,
    pub(crate) revocations: R,
}

/// Logs a store failure once, where it happens, and keeps its kind.
fn logged<E: StoreError>(error: E) -> StoreErrorKind {
    let _ = store_failed(&error);
    error.kind()
}

impl<F: Store, R: Store> Store for Split<F, R> {
    type Error = StoreErrorKind;

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, StoreErrorKind> {
        self.families.purge_expired(now).await.map_err(logged)
    }
}

impl<F, R> SessionStore<RefreshFamily> for Split<F, R>
where
    F: SessionStore<RefreshFamily>,
    R: Store,
{
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<RefreshFamily>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, StoreErrorKind> {
        self.families
            .create(key, record, limit, now)
            .await
            .map_err(logged)
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<RefreshFamily>>, StoreErrorKind> {
        self.families.get(key, now).await.map_err(logged)
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &RefreshFamily,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, StoreErrorKind> {
        self.families
            .update(key, version, data, idle_deadline, now)
            .await
            .map_err(logged)
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreErrorKind> {
        self.families
            .touch(key, idle_deadline, now)
            .await
            .map_err(logged)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, StoreErrorKind> {
        self.families.remove(key).await.map_err(logged)
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<RefreshFamily>>, StoreErrorKind> {
        self.families.rotate(old, new, now).await.map_err(logged)
    }

    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, StoreErrorKind> {
        self.families
            .remove_subject(subject, keep)
            .await
            .map_err(logged)
    }

    async fn list_subject<O: SessionSink<RefreshFamily> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, StoreErrorKind> {
        self.families
            .list_subject(subject, now, out)
            .await
            .map_err(logged)
    }

    async fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> Result<bool, StoreErrorKind> {
        self.families
            .remove_owned(key, subject, now)
            .await
            .map_err(logged)
    }
}

impl<F: Store, R: RevocationStore> RevocationStore for Split<F, R> {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        self.revocations
            .revoke(key, until, now)
            .await
            .map_err(logged)
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, StoreErrorKind> {
        self.revocations.is_revoked(key, now).await.map_err(logged)
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        self.revocations
            .raise_watermark(key, watermark, now)
            .await
            .map_err(logged)
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, StoreErrorKind> {
        self.revocations.watermark(key, now).await.map_err(logged)
    }
}

impl<F, R> RefreshBackend for Split<F, R>
where
    F: SessionStore<RefreshFamily> + Clone + Send + Sync,
    R: RevocationStore + Clone + Send + Sync,
{
    fn issue<'a>(
        &'a self,
        policy: RefreshPolicy,
        subject: &'a str,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<Grant, Refusal>> {
        Box::pin(async move {
            let mut store = self.clone();
            let mut rng = getrandom::SysRng;
            policy
                .issue(&mut store, &mut rng, subject, String::from(subject), now)
                .await
                .map_err(refresh_refusal)
        })
    }

    fn refresh<'a>(
        &'a self,
        policy: RefreshPolicy,
        token: &'a RefreshToken,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<Refreshed<String>, Refusal>> {
        Box::pin(async move {
            let mut store = self.clone();
            let mut rng = getrandom::SysRng;
            policy
                .refresh(&mut store, &mut rng, token, now)
                .await
                .map_err(refresh_refusal)
        })
    }

    fn logout<'a>(
        &'a self,
        policy: RefreshPolicy,
        token: &'a RefreshToken,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<bool, Refusal>> {
        Box::pin(async move {
            let mut store = self.clone();
            policy
                .logout::<String, _>(&mut store, token, now)
                .await
                .map_err(refresh_refusal)
        })
    }

    fn logout_everywhere<'a>(
        &'a self,
        policy: RefreshPolicy,
        issuer: Option<&'a str>,
        subject: &'a str,
        now: UnixTime,
    ) -> BoxFuture<'a, Result<usize, Refusal>> {
        Box::pin(async move {
            let mut store = self.clone();
            policy
                .logout_everywhere::<String, _>(&mut store, issuer, subject, now)
                .await
                .map_err(refresh_refusal)
        })
    }
}
