//! Why a request is refused, and the answer it gets.

use alloc::boxed::Box;
use core::fmt;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a request was refused. Every extractor and helper of this crate fails with one of
/// these, wrapped in a [`Rejection`] that already holds the answer.
///
/// The default answers (see [`Refusal::status`]) say as little as possible: a short plain
/// text body, never a store message, a token or an ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// No session cookie, a malformed one, or one that names no live session. `401`, or a
    /// redirect to the login page for a browser navigation when the app configured one
    /// ([`AuthBuilder::login_page`](crate::AuthBuilder::login_page)).
    NoSession,
    /// The session cookie named a session past its idle or absolute timeout. Answered as
    /// [`NoSession`](Self::NoSession).
    SessionExpired,
    /// No `Authorization` header, or one for another scheme. `401` with
    /// `WWW-Authenticate: Bearer`.
    MissingToken,
    /// An `Authorization: Bearer` header that breaks the grammar (or more than one
    /// `Authorization` header). `403`; `400` with `error="invalid_request"` in
    /// [RFC 6750 mode](crate::BearerMode::Rfc6750).
    MalformedToken,
    /// A token that fails verification (format, signature, claims). `403`; `401` with
    /// `error="invalid_token"` in [RFC 6750 mode](crate::BearerMode::Rfc6750).
    InvalidToken,
    /// A token past its `exp`. As [`InvalidToken`](Self::InvalidToken).
    ExpiredToken,
    /// A token that was revoked (logout, log-out-everywhere). As
    /// [`InvalidToken`](Self::InvalidToken).
    RevokedToken,
    /// No refresh cookie, a malformed one, or one that no live refresh-token family has
    /// (logged out, ended, expired). `401`, and the refresh cookie is cleared.
    NoRefreshToken,
    /// A refresh token its family had already replaced: stolen, or replayed. The family
    /// has been ended, with every access token issued from it. `401`, and the refresh
    /// cookie is cleared.
    ReusedRefreshToken,
    /// A state-changing request (`POST`, `PUT`, `PATCH`, `DELETE`, ...) from a page of
    /// another origin, by `Sec-Fetch-Site` or `Origin`. `403`.
    CrossOrigin,
    /// The session was changed by another request since it was loaded, or a concurrent
    /// refresh of the same refresh token won a moment ago; nothing was written. `409`.
    Conflict,
    /// The subject already has as many sessions as the policy allows. `403`.
    TooManySessions,
    /// The store failed or could not be reached. `503`. Never "logged in".
    Unavailable,
    /// Something that should not happen (the RNG failed, no JWT key is configured).
    /// `500`.
    Internal,
}

impl Refusal {
    /// A short name for logs and metrics: `no_session`, `invalid_token`, ...
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            Self::NoSession => "no_session",
            Self::SessionExpired => "session_expired",
            Self::MissingToken => "missing_token",
            Self::MalformedToken => "malformed_token",
            Self::InvalidToken => "invalid_token",
            Self::ExpiredToken => "expired_token",
            Self::RevokedToken => "revoked_token",
            Self::NoRefreshToken => "no_refresh_token",
            Self::ReusedRefreshToken => "reused_refresh_token",
            Self::CrossOrigin => "cross_origin",
            Self::Conflict => "conflict",
            Self::TooManySessions => "too_many_sessions",
            Self::Unavailable => "store_unavailable",
            Self::Internal => "internal",
        }
    }

    /// The status of the default answer, in the default [`BearerMode`](crate::BearerMode)
    /// (`Forbidden`) and without a login page.
    #[must_use]
    pub const fn status(self) -> StatusCode {
        match self {
            Self::NoSession
            | Self::SessionExpired
            | Self::MissingToken
            | Self::NoRefreshToken
            | Self::ReusedRefreshToken => StatusCode::UNAUTHORIZED,
            Self::MalformedToken
            | Self::InvalidToken
            | Self::ExpiredToken
            | Self::RevokedToken
            | Self::CrossOrigin
            | Self::TooManySessions => StatusCode::FORBIDDEN,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this refuses credentials the client presented (as opposed to a failure of
    /// the server).
    #[must_use]
    pub const fn is_credential_refusal(self) -> bool {
        !matches!(self, Self::Unavailable | Self::Internal | Self::Conflict)
    }

    pub(crate) const fn is_token_refusal(self) -> bool {
        matches!(
            self,
            Self::MalformedToken | Self::InvalidToken | Self::ExpiredToken | Self::RevokedToken
        )
    }

    pub(crate) const fn body(self) -> &'static str {
        match self {
            Self::NoSession
            | Self::SessionExpired
            | Self::NoRefreshToken
            | Self::ReusedRefreshToken => "not logged in\n",
            Self::MissingToken => "missing bearer token\n",
            Self::MalformedToken | Self::InvalidToken | Self::ExpiredToken | Self::RevokedToken => {
                "token refused\n"
            }
            Self::CrossOrigin => "cross-origin request refused\n",
            Self::Conflict => "changed by another request, try again\n",
            Self::TooManySessions => "too many sessions\n",
            Self::Unavailable => "service unavailable, try again later\n",
            Self::Internal => "internal error\n",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// A refused request: the [`Refusal`] and the answer to send, already shaped by the app's
/// settings (status policy, login page, [replacement hook](crate::AuthBuilder::on_rejection)).
///
/// Return it from a handler (`Result<_, Rejection>`) as it is, or look at
/// [`refusal`](Self::refusal) to do something else.
#[derive(Debug)]
pub struct Rejection {
    refusal: Refusal,
    response: Box<Response>,
}

impl Rejection {
    pub(crate) fn new(refusal: Refusal, response: Response) -> Self {
        Self {
            refusal,
            response: Box::new(response),
        }
    }

    /// Why the request was refused.
    #[must_use]
    pub const fn refusal(&self) -> Refusal {
        self.refusal
    }

    /// The same refusal, with `value` appended to the answer's `name` headers.
    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.response.headers_mut().append(name, value);
        self
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        *self.response
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request refused: {}", self.refusal)
    }
}

impl core::error::Error for Rejection {}

/// The plain default answer for `refusal`, with `status`.
pub(crate) fn plain(status: StatusCode, refusal: Refusal) -> Response {
    let mut response = (status, refusal.body()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
