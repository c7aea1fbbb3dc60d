//! [`Auth`]: one store, the session policy, the cookie, the JWT keys; and its builder.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use axum::extract::FromRef;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use tokenstile::http::{CookieOptions, find_cookie_in_fields};
use tokenstile::jwt::{SigningKey, Validation, VerifyingKeys};
use tokenstile::refresh::{self, RefreshPolicy};
use tokenstile::session::{SessionId, SessionPolicy};
use tokenstile::store::{RevocationStore, SessionRecord, SessionStore};
use tokenstile::{Clock, UnixTime};

use crate::backend::{Erased, SessionBackend};
use crate::csrf::CsrfLayer;
use crate::jwt::{Jwt, JwtKeys};
use crate::refresh::{Refresh, RefreshBackend, RefreshFamily, Split};
use crate::rejection::{Refusal, Rejection};
use crate::settings::{BearerMode, Settings};

/// Everything the extractors need: one store for sessions and JWT revocations, the
/// session policy, the cookie, the JWT key and validation, the app's origins.
///
/// Build it once at start-up with [`Auth::builder`], put it in the router's state (or make
/// it reachable with [`FromRef`]), and clone it freely: it is a handle.
///
/// ```
/// use axum::{Router, routing::get};
/// use tokenstile::jwt::{Hs256Key, Validation};
/// use tokenstile::store::SharedStore;
/// use tokenstile_axum::{Auth, Session};
///
/// #[derive(Clone)]
/// struct User { name: String }
///
/// async fn me(session: Session<User>) -> String {
///     format!("hello {}", session.data().name)
/// }
///
/// let key = Hs256Key::new_from_slice(&[7u8; 32])?;
/// let auth: Auth<User> = Auth::builder(SharedStore::new())
///     .allowed_origin("https://app.example")
///     .jwt(key, Validation::new())
///     .build();
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .layer(auth.csrf_layer())
///     .with_state(auth);
/// # let _ = app;
/// # Ok::<(), tokenstile::KeyError>(())
/// ```
pub struct Auth<D> {
    inner: Arc<Inner<D>>,
}

struct Inner<D> {
    sessions: Arc<dyn SessionBackend<D>>,
    policy: SessionPolicy,
    settings: Arc<Settings>,
    jwt: Jwt,
    refresh: Refresh,
}

impl<D> Clone for Auth<D> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D> fmt::Debug for Auth<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("policy", &self.inner.policy)
            .field("settings", &self.inner.settings)
            .field("jwt", &self.inner.jwt)
            .field("refresh", &self.inner.refresh)
            .finish()
    }
}

impl<D> FromRef<Auth<D>> for Jwt {
    fn from_ref(auth: &Auth<D>) -> Self {
        auth.inner.jwt.clone()
    }
}

impl<D> FromRef<Auth<D>> for Refresh {
    fn from_ref(auth: &Auth<D>) -> Self {
        auth.inner.refresh.clone()
    }
}

impl Auth<()> {
    /// Starts building an `Auth` over `store`, with the default session policy (idle 30
    /// minutes, absolute 8 hours, touch every minute), the default cookie (`__Host-session`,
    /// `Secure`, `HttpOnly`, `SameSite=Strict`), no JWT key, no login page, and the
    /// [`BearerMode::Forbidden`] status policy.
    pub fn builder<S>(store: S) -> AuthBuilder<S> {
        AuthBuilder {
            store,
            policy: SessionPolicy::new(),
            settings: Settings::default(),
            keys: None,
            validation: Validation::new(),
            token_lifetime: 15 * 60,
            refresh: None,
        }
    }
}

impl<D: Send + Sync + 'static> Auth<D> {
    /// The JWT half: verify, issue and revoke bearer tokens in the same store.
    #[must_use]
    pub fn jwt(&self) -> &Jwt {
        &self.inner.jwt
    }

    /// The refresh-token half: log in with an access token and a refresh cookie, rotate,
    /// log this device out; see [`refresh`](crate::refresh).
    #[must_use]
    pub fn refresh(&self) -> &Refresh {
        &self.inner.refresh
    }

    /// The session policy.
    #[must_use]
    pub fn policy(&self) -> &SessionPolicy {
        &self.inner.policy
    }

    /// The cookie options.
    pub fn cookie_options(&self) -> &CookieOptions<'static> {
        &self.inner.settings.cookie
    }

    /// The current time, by the configured clock.
    #[must_use]
    pub fn now(&self) -> UnixTime {
        self.inner.settings.now()
    }

    /// A tower layer that refuses state-changing requests from other origins; see
    /// [`csrf`](crate::csrf).
    #[must_use]
    pub fn csrf_layer(&self) -> CsrfLayer {
        CsrfLayer::new(Arc::clone(&self.inner.settings))
    }

    /// The answer to `refusal`, as the extractors give it, for a handler of the app that
    /// refuses for one of these reasons on its own (such as a token it verified itself
    /// with [`Jwt::verify`](crate::Jwt::verify)). A wrong password is none of them: the
    /// login handler answers it its own way, as the demo app's form does.
    #[must_use]
    pub fn reject(&self, refusal: Refusal) -> Rejection {
        self.inner.settings.refuse(refusal, None)
    }

    /// Logs `subject` in with `data`, and returns the cookie to send.
    ///
    /// A session cookie presented with the request (in `headers`) never survives a login,
    /// so an ID planted in the browser before is worthless afterwards (session fixation):
    /// the session of every well-formed copy of the cookie is destroyed (a request may
    /// carry it more than once, as [`logout`](Self::logout) says), whoever it belongs to,
    /// and a new session is created, with a new ID, `data`, and the whole absolute
    /// timeout: a user who logs in again an hour before the old session's deadline gets
    /// a full session, not that hour. Two logins racing with the same cookie (a form sent
    /// twice) both succeed, each with a session of its own. If the store fails on the
    /// way, the user is not logged in, and the old session may be gone already.
    ///
    /// The request must come from the app's own origin (see [`csrf`](crate::csrf)), which
    /// stops a page of another origin from logging the user into the attacker's account.
    ///
    /// # Errors
    ///
    /// [`Refusal::CrossOrigin`], [`Refusal::TooManySessions`], [`Refusal::Unavailable`]
    /// (the store failed: the user is *not* logged in), [`Refusal::Internal`].
    pub async fn login(
        &self,
        headers: &HeaderMap,
        subject: &str,
        data: D,
    ) -> Result<SessionCookie, Rejection> {
        let settings = &self.inner.settings;
        if !settings.same_origin(&Method::POST, headers) {
            return Err(settings.refuse(Refusal::CrossOrigin, None));
        }
        let now = settings.now();
        let policy = self.inner.policy;
        // Ended before the new one is created, so that a subject limit doesn't count the
        // session this login replaces.
        let replaced = self.end_presented(headers).await?;
        let id = self
            .inner
            .sessions
            .create(policy, subject, data, now)
            .await
            .map_err(|r| settings.refuse(r, None))?;
        tracing::info!(target: "tokenstile_axum", event = "login", replaced);
        let lifetime = policy.absolute_timeout;
        self.cookie_with_lifetime(&id, lifetime)
    }

    /// Ends the session presented in `headers`, if any, and returns the cookie that
    /// clears it in the browser. Works when the session is already gone, so a logout
    /// link always leaves the browser logged out. A request carrying the session cookie
    /// more than once (a stale copy, or one a sibling subdomain planted) ends the session
    /// of every well-formed copy: no copy is trusted to be the session, but the real one
    /// must not outlive the logout. The first 180 copies are read, more than a browser
    /// keeps for one site, so one request costs at most that many store calls however it
    /// is made. [`Session::logout`](crate::Session::logout)
    /// is the same for a handler that extracted the session. A logout sent with a cookie
    /// that a request in flight meanwhile [rotated](crate::Session::rotate) finds that ID
    /// dead and ends nothing: the rotated session outlives it.
    ///
    /// # Errors
    ///
    /// [`Refusal::CrossOrigin`]; [`Refusal::Unavailable`] if the store failed (the session
    /// may then still exist, so no clearing cookie is sent as if all were well).
    pub async fn logout(&self, headers: &HeaderMap) -> Result<SessionCookie, Rejection> {
        let settings = &self.inner.settings;
        if !settings.same_origin(&Method::POST, headers) {
            return Err(settings.refuse(Refusal::CrossOrigin, None));
        }
        self.end_presented(headers).await?;
        tracing::info!(target: "tokenstile_axum", event = "logout");
        self.clearing_cookie()
    }

    /// Logs `subject` out everywhere: ends all of its sessions and, when a JWT key is
    /// configured, revokes every token issued to it until now; when refresh tokens are
    /// configured, ends all of its refresh-token families too. Returns how many sessions
    /// were ended.
    ///
    /// `iat` counts whole seconds, so a token issued in this same second is revoked too,
    /// one of a new login included ([`Jwt::revoke_subject`](crate::Jwt::revoke_subject)):
    /// a client logging in again at once should do so a second later, or refresh its
    /// access token once more when it is refused. New sessions are not affected.
    ///
    /// # Errors
    ///
    /// [`Refusal::Unavailable`] if the store failed: sessions or tokens may then still be
    /// valid.
    pub async fn logout_everywhere(&self, subject: &str) -> Result<usize, Rejection> {
        let settings = &self.inner.settings;
        let ended = self
            .inner
            .sessions
            .destroy_subject(self.inner.policy, subject)
            .await
            .map_err(|r| settings.refuse(r, None))?;
        let families = if self.inner.refresh.is_configured() {
            self.inner.refresh.logout_everywhere(subject).await?
        } else {
            0
        };
        if self.inner.jwt.has_keys() {
            // The families are ended above (when they are configured, the `Jwt` ends the
            // same ones): only the access tokens are left.
            self.inner.jwt.revoke_subject_tokens(subject).await?;
        }
        tracing::info!(
            target: "tokenstile_axum",
            event = "logout_everywhere",
            sessions = ended,
            families
        );
        Ok(ended)
    }

    /// The cookie that clears the session cookie (`Max-Age=0`).
    ///
    /// # Errors
    ///
    /// [`Refusal::Internal`] if the cookie options are invalid.
    pub fn clearing_cookie(&self) -> Result<SessionCookie, Rejection> {
        let settings = &self.inner.settings;
        settings
            .cookie
            .clear_cookie_string()
            .ok()
            .and_then(|v| HeaderValue::try_from(v).ok())
            .map(SessionCookie)
            .ok_or_else(|| settings.refuse(Refusal::Internal, None))
    }

    /// The session ID the request presents, if its cookie is well-formed. Anything else
    /// (no cookie, two of them, a malformed value) is no session.
    /// Destroys the session of every well-formed copy of the session cookie in `headers`
    /// (trusting none of them to be the one; at most
    /// [`MAX_COOKIE_COPIES`](tokenstile::http::MAX_COOKIE_COPIES) copies), and says whether
    /// any was live.
    async fn end_presented(&self, headers: &HeaderMap) -> Result<bool, Rejection> {
        let settings = &self.inner.settings;
        let mut ended = false;
        for value in crate::settings::cookie_copies(headers, settings.cookie.name) {
            let Ok(id) = SessionId::parse(value) else {
                continue;
            };
            ended |= self
                .inner
                .sessions
                .destroy(self.inner.policy, &id)
                .await
                .map_err(|r| settings.refuse(r, None))?;
        }
        Ok(ended)
    }

    fn presented(&self, headers: &HeaderMap) -> Option<SessionId> {
        let name = self.inner.settings.cookie.name;
        let value = find_cookie_in_fields(headers.get_all(header::COOKIE).iter(), name).ok()??;
        SessionId::parse(value).ok()
    }

    fn cookie_for(
        &self,
        id: &SessionId,
        record: &SessionRecord<D>,
        now: UnixTime,
    ) -> Result<SessionCookie, Rejection> {
        let lifetime = record.absolute_deadline().secs_since(now);
        self.cookie_with_lifetime(id, lifetime)
    }

    fn cookie_with_lifetime(&self, id: &SessionId, secs: u64) -> Result<SessionCookie, Rejection> {
        let settings = &self.inner.settings;
        let mut buf = [0u8; SessionId::ENCODED_LEN];
        settings
            .cookie
            .set_cookie_string(id.encode(&mut buf), secs)
            .ok()
            .and_then(|v| HeaderValue::try_from(v).ok())
            .map(|mut v| {
                v.set_sensitive(true);
                SessionCookie(v)
            })
            .ok_or_else(|| settings.refuse(Refusal::Internal, None))
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn backend(&self) -> &dyn SessionBackend<D> {
        &*self.inner.sessions
    }

    pub(crate) fn presented_id(&self, headers: &HeaderMap) -> Result<SessionId, Refusal> {
        self.presented(headers).ok_or(Refusal::NoSession)
    }

    pub(crate) fn cookie_after_rotation(
        &self,
        id: &SessionId,
        record: &SessionRecord<D>,
    ) -> Result<SessionCookie, Rejection> {
        self.cookie_for(id, record, self.now())
    }
}

/// Builds an [`Auth`]; from [`Auth::builder`].
#[must_use]
pub struct AuthBuilder<S> {
    store: S,
    policy: SessionPolicy,
    settings: Settings,
    keys: Option<Arc<dyn JwtKeys>>,
    validation: Validation<'static>,
    token_lifetime: u64,
    refresh: Option<RefreshConfig>,
}

/// What [`AuthBuilder::refresh_tokens`] was given.
struct RefreshConfig {
    backend: Arc<dyn RefreshBackend>,
    policy: RefreshPolicy,
    path: &'static str,
}

impl<S> fmt::Debug for AuthBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthBuilder")
            .field("policy", &self.policy)
            .field("settings", &self.settings)
            .field("jwt", &self.keys.is_some())
            .field("refresh", &self.refresh.as_ref().map(|r| r.policy))
            .finish_non_exhaustive()
    }
}

impl<S> AuthBuilder<S> {
    /// The session timeouts and per-subject limit.
    pub fn session_policy(mut self, policy: SessionPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The session cookie's name and attributes. Keep the defaults (`__Host-` prefix,
    /// `Secure`, `HttpOnly`, `SameSite=Strict`) unless you know why not; browsers treat
    /// `http://localhost` as secure, so they work in development too.
    pub fn cookie(mut self, options: CookieOptions<'static>) -> Self {
        self.settings.cookie = options;
        self
    }

    /// Adds one of the app's own origins (`https://app.example`, `http://localhost:3000`),
    /// for the `Origin` check of state-changing requests (see [`csrf`](crate::csrf)).
    /// Without any, `Origin` is compared with `Host`, which HTTP/2 requests don't have:
    /// name the origins if browsers reach the app over HTTP/2 directly. The origin is
    /// kept as browsers send it: `https://App.Example:443/` matches
    /// `Origin: https://app.example`.
    ///
    /// # Panics
    ///
    /// If `origin` is not `scheme://host[:port]` (with a path, a query, user info or a
    /// wildcard, say): no browser would ever send it, so every request of a browser that
    /// does not send `Sec-Fetch-Site` would be refused. It is configuration, checked when
    /// the app starts.
    #[allow(clippy::panic)] // a misconfiguration, found at startup
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        let origin = origin.into();
        match crate::csrf::serialized_origin(&origin) {
            Some(serialized) => self.settings.origins.push(serialized),
            None => panic!(
                "AuthBuilder::allowed_origin: {origin:?} is not an origin, \
                 scheme://host[:port] (for example https://app.example; an international \
                 domain name in its xn-- form)"
            ),
        }
        self
    }

    /// Sends browsers navigating to a page without a session to `path` (`303 See
    /// Other`), instead of answering `401`. Only `GET`/`HEAD` requests that accept
    /// `text/html` are redirected; scripts and API clients still get `401`.
    pub fn login_page(mut self, path: impl Into<String>) -> Self {
        self.settings.login_page = Some(path.into());
        self
    }

    /// How refused bearer tokens are answered; see [`BearerMode`].
    pub fn bearer_mode(mut self, mode: BearerMode) -> Self {
        self.settings.bearer_mode = mode;
        self
    }

    /// Replaces the answer to refused requests: `hook` gets the [`Refusal`] and the
    /// default answer, and returns the answer to send (the default one, for refusals it
    /// doesn't care about).
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use tokenstile::store::SharedStore;
    /// use tokenstile_axum::{Auth, Refusal};
    ///
    /// let auth: Auth<u32> = Auth::builder(SharedStore::new())
    ///     .on_rejection(|refusal, default| match refusal {
    ///         Refusal::Unavailable => "we'll be right back".into_response(),
    ///         _ => default,
    ///     })
    ///     .build();
    /// # let _ = auth;
    /// ```
    pub fn on_rejection(
        mut self,
        hook: impl Fn(Refusal, Response) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.settings.on_rejection = Some(Arc::new(hook));
        self
    }

    /// The clock (the system clock by default); tests pass a stopped one.
    pub fn clock(mut self, clock: impl Clock + Send + Sync + 'static) -> Self {
        self.settings.clock = Arc::new(clock);
        self
    }

    /// Verifies (and issues) bearer tokens with `keys` (an
    /// [`Hs256Key`](tokenstile::jwt::Hs256Key) or a [`KeyRing`](tokenstile::jwt::KeyRing))
    /// and the `validation` policy, built once here. Tokens that [`Jwt::issue`] mints carry
    /// `jti` and `iat`, so `validation` may require them.
    pub fn jwt(
        mut self,
        keys: impl VerifyingKeys + SigningKey + Send + Sync + 'static,
        validation: Validation<'static>,
    ) -> Self {
        self.keys = Some(Arc::new(keys));
        self.validation = validation;
        self
    }

    /// The lifetime of tokens [`Jwt::issue`] mints, in seconds (default 15 minutes). It
    /// also bounds (with the access-token lifetime of [refresh
    /// tokens](Self::refresh_tokens), if longer) how long a log-out-everywhere is
    /// remembered, so tokens minted elsewhere must not live longer.
    pub fn token_lifetime(mut self, secs: u64) -> Self {
        self.token_lifetime = secs;
        self
    }

    /// Issues refresh-token families (see [`refresh`](crate::refresh)) under `policy`,
    /// kept in `families`, with the refresh cookie limited to `path`: your refresh and
    /// logout endpoints, such as `"/auth"` (a `__Secure-refresh` cookie no other request
    /// carries), or `"/"` (a `__Host-refresh` cookie no sibling subdomain can plant; see
    /// [`tokenstile::refresh::cookie_options`]). Needs a JWT key ([`jwt`](Self::jwt)): the
    /// access tokens are signed with it, carry the issuer, every audience and the `typ`
    /// that the `Validation` requires, carry the family as `sid`, live
    /// `policy.access_lifetime`, and the [`Bearer`](crate::Bearer) check refuses them once
    /// their family has ended. The policy's leeway is raised to the `Validation`'s if it is
    /// smaller, never lowered: keep it above the `Validation`'s by the clock differences
    /// among your servers (see [`RefreshPolicy::leeway`]).
    ///
    /// The revocations of ended families go to the builder's store, where the `Bearer`
    /// check looks. `families` holds [`RefreshFamily`] records: a handle to the builder's
    /// store for stores that hold any data type (Redis, SQL: `store.clone()`), or a
    /// `SharedStore::<RefreshFamily>::new()` next to an in-process `SharedStore<D>`.
    pub fn refresh_tokens<F>(
        mut self,
        families: F,
        policy: RefreshPolicy,
        path: &'static str,
    ) -> Self
    where
        S: RevocationStore + Clone + Send + Sync + 'static,
        F: SessionStore<RefreshFamily> + Clone + Send + Sync + 'static,
    {
        let backend = Split {
            families,
            revocations: self.store.clone(),
        };
        self.refresh = Some(RefreshConfig {
            backend: Arc::new(backend),
            policy,
            path,
        });
        self
    }

    /// The `Auth`, for session data `D`.
    ///
    /// # Panics
    ///
    /// If [`refresh_tokens`](Self::refresh_tokens) was called without a JWT key
    /// ([`jwt`](Self::jwt)), the [`Validation`]'s `typ` can't be written in a header
    /// ([`Header::with_typ`](tokenstile::jwt::Header::with_typ)), or the session cookie's
    /// options ([`cookie`](Self::cookie)) or the refresh cookie's path can't be written in
    /// a `Set-Cookie` field ([`CookieOptions::validate`]): every login, or every token
    /// minted, would fail, after the store had recorded its session or family. It is
    /// configuration, checked when the app starts.
    #[allow(clippy::panic)] // a misconfiguration, found at startup
    pub fn build<D>(self) -> Auth<D>
    where
        S: SessionStore<D> + RevocationStore + Clone + Send + Sync + 'static,
        D: Send + Sync + 'static,
    {
        if let Err(e) = self.settings.cookie.validate() {
            panic!("AuthBuilder::cookie: the session cookie can't be set: {e}");
        }
        if let Some(config) = &self.refresh
            && let Err(e) = refresh::cookie_options(config.path).validate()
        {
            panic!(
                "AuthBuilder::refresh_tokens: the refresh cookie can't be set for the path {:?}: {e}",
                config.path
            );
        }
        if self.refresh.is_some() && self.keys.is_none() {
            panic!(
                "AuthBuilder::refresh_tokens needs a JWT key to sign the access tokens: \
                 call AuthBuilder::jwt too"
            );
        }
        if let Some(keys) = &self.keys {
            let header = crate::jwt::minted_header(&self.validation);
            if tokenstile::jwt::encoded_len_with(&**keys, &header, 0)
                == Err(tokenstile::EncodeError::Header)
            {
                panic!(
                    "AuthBuilder::jwt: the Validation's typ {:?} can't be written in a \
                     token's header, so no token this app mints would pass it",
                    header.typ
                );
            }
        }
        let settings = Arc::new(self.settings);
        let store = Arc::new(Erased(self.store));
        let access_lifetime = self
            .refresh
            .as_ref()
            .map_or(0, |r| r.policy.access_lifetime);
        // Revocations of a family's access tokens must outlast what verification accepts:
        // at least the `Validation`'s leeway, and any margin the policy adds on top for
        // clocks that differ between servers.
        let refresh = self.refresh.map(|config| {
            let leeway = config.policy.leeway.max(self.validation.leeway);
            (config.policy.with_leeway(leeway), config)
        });
        let jwt = Jwt::new(
            self.keys,
            self.validation,
            self.token_lifetime,
            access_lifetime,
            Arc::clone(&settings),
            Arc::clone(&store) as _,
            refresh
                .as_ref()
                .map(|(policy, config)| (Arc::clone(&config.backend), *policy)),
        );
        let store: Arc<dyn SessionBackend<D>> = store;
        let refresh = match refresh {
            Some((policy, config)) => Refresh::new(
                Some(config.backend),
                policy,
                refresh::cookie_options(config.path),
                Arc::clone(&settings),
                jwt.clone(),
            ),
            None => Refresh::new(
                None,
                RefreshPolicy::new(),
                refresh::cookie_options("/"),
                Arc::clone(&settings),
                jwt.clone(),
            ),
        };
        Auth {
            inner: Arc::new(Inner {
                sessions: store,
                policy: self.policy,
                settings,
                jwt,
                refresh,
            }),
        }
    }
}

/// A `Set-Cookie` for the session cookie (a new session's ID, or the clearing cookie) or
/// for the refresh cookie. Put it in a response: `(cookie, Redirect::to("/"))`.
#[derive(Debug, Clone)]
#[must_use = "the browser keeps its old cookie unless this one is sent in the response"]
pub struct SessionCookie(HeaderValue);

impl SessionCookie {
    pub(crate) const fn new(value: HeaderValue) -> Self {
        Self(value)
    }

    /// The `Set-Cookie` value. It holds the session ID: never log it.
    #[must_use]
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }

    /// The `Cookie` request header a browser would send back (`name=value`), for tests.
    #[must_use]
    pub fn request_value(&self) -> Option<String> {
        let text = self.0.to_str().ok()?;
        let pair = text.split(';').next()?;
        Some(String::from(pair))
    }
}

impl IntoResponseParts for SessionCookie {
    type Error = core::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().append(header::SET_COOKIE, self.0);
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(res)
    }
}

impl IntoResponse for SessionCookie {
    fn into_response(self) -> Response {
        (self, ()).into_response()
    }
}
