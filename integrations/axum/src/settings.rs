//! What the session and JWT halves share: the status policy, the app's origins, the clock.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tokenstile::http::{CookieOptions, INVALID_TOKEN_CHALLENGE};
use tokenstile::{Clock, SystemClock, UnixTime};

use crate::csrf;
use crate::rejection::{Refusal, Rejection, plain};

/// How refused bearer tokens are answered.
///
/// Both modes answer a request *without* a token with `401` and `WWW-Authenticate: Bearer`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerMode {
    /// `403 Forbidden` for a token that is malformed, invalid, expired or revoked: the
    /// client did authenticate, and the answer is no. This is what most JWT middleware
    /// does. The default.
    #[default]
    Forbidden,
    /// [RFC 6750 §3.1]: `401` with `WWW-Authenticate: Bearer error="invalid_token"` for an
    /// invalid, expired or revoked token, and `400` with `error="invalid_request"` for a
    /// malformed `Authorization` header. Choose it for OAuth 2.0 clients, and for pages
    /// that [refresh](crate::refresh) their access token on such a `401` (the single page
    /// of the demo app does).
    ///
    /// [RFC 6750 §3.1]: https://www.rfc-editor.org/rfc/rfc6750#section-3.1
    Rfc6750,
}

/// Every copy of the cookie `name` in `headers`, for the operations that act on each one
/// (login and logout end the session or family of every copy), at most
/// [`MAX_COOKIE_COPIES`](tokenstile::http::MAX_COOKIE_COPIES) of them: each costs a store
/// call, and a request can be made to carry thousands.
pub(crate) fn cookie_copies<'h>(
    headers: &'h HeaderMap,
    name: &'h str,
) -> impl Iterator<Item = &'h str> {
    tokenstile::http::cookie_values(headers.get_all(header::COOKIE), name)
}

/// Replaces the answer to a refused request: gets the refusal and the default answer.
pub(crate) type RejectionHook = Arc<dyn Fn(Refusal, Response) -> Response + Send + Sync>;

/// The settings of one [`Auth`](crate::Auth), shared by its [`Jwt`](crate::Jwt).
pub(crate) struct Settings {
    pub(crate) cookie: CookieOptions<'static>,
    pub(crate) origins: Vec<String>,
    pub(crate) login_page: Option<String>,
    pub(crate) bearer_mode: BearerMode,
    pub(crate) on_rejection: Option<RejectionHook>,
    pub(crate) clock: Arc<dyn Clock + Send + Sync>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            cookie: CookieOptions::new(),
            origins: Vec::new(),
            login_page: None,
            bearer_mode: BearerMode::default(),
            on_rejection: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("cookie", &self.cookie)
            .field("origins", &self.origins)
            .field("login_page", &self.login_page)
            .field("bearer_mode", &self.bearer_mode)
            .field("on_rejection", &self.on_rejection.is_some())
            .finish_non_exhaustive()
    }
}

impl Settings {
    pub(crate) fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// Whether a state-changing request comes from the app's own origin (see [`csrf`]).
    pub(crate) fn same_origin(&self, method: &Method, headers: &HeaderMap) -> bool {
        csrf::allowed(method, headers, &self.origins)
    }

    /// The answer to `refusal`, logged by reason. `request` (method and headers) decides
    /// between `401` and a redirect to the login page.
    pub(crate) fn refuse(&self, refusal: Refusal, request: Option<&Parts>) -> Rejection {
        if refusal.is_credential_refusal() {
            tracing::info!(
                target: "tokenstile_axum",
                event = "refused",
                reason = refusal.reason(),
                "credentials refused"
            );
        }
        let response = self.default_response(refusal, request);
        let response = match &self.on_rejection {
            Some(hook) => hook(refusal, response),
            None => response,
        };
        Rejection::new(refusal, response)
    }

    fn default_response(&self, refusal: Refusal, request: Option<&Parts>) -> Response {
        match refusal {
            Refusal::NoSession | Refusal::SessionExpired => match (&self.login_page, request) {
                (Some(page), Some(parts)) if is_navigation(parts) => {
                    Redirect::to(page).into_response()
                }
                _ => plain(StatusCode::UNAUTHORIZED, refusal),
            },
            Refusal::MissingToken => {
                with_challenge(plain(StatusCode::UNAUTHORIZED, refusal), "Bearer")
            }
            Refusal::MalformedToken if self.bearer_mode == BearerMode::Rfc6750 => with_challenge(
                plain(StatusCode::BAD_REQUEST, refusal),
                "Bearer error=\"invalid_request\"",
            ),
            r if r.is_token_refusal() && self.bearer_mode == BearerMode::Rfc6750 => with_challenge(
                plain(StatusCode::UNAUTHORIZED, refusal),
                INVALID_TOKEN_CHALLENGE,
            ),
            other => plain(other.status(), other),
        }
    }
}

fn with_challenge(mut response: Response, challenge: &'static str) -> Response {
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// A browser navigating to a page (a `GET` or `HEAD` that accepts HTML), rather than a
/// script or an API client.
fn is_navigation(parts: &Parts) -> bool {
    (parts.method == Method::GET || parts.method == Method::HEAD)
        && parts
            .headers
            .get_all(header::ACCEPT)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("text/html")))
}
