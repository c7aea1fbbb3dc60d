//! Helpers for testing an app's handlers: log a test user in and get the header to send.
//!
//! ```
//! use axum::{Router, body::Body, http::{Request, StatusCode, header}, routing::get};
//! use tokenstile_axum::{Auth, Bearer, Session, StandardClaims, testing};
//! use tower::ServiceExt;
//!
//! #[derive(Clone)]
//! struct User { name: String }
//!
//! async fn page(session: Session<User>) -> String { session.data().name.clone() }
//! async fn api(token: Bearer<StandardClaims>) -> String { token.claims().sub.clone() }
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let auth: Auth<User> = testing::auth();
//! let app = Router::new()
//!     .route("/page", get(page))
//!     .route("/api", get(api))
//!     .with_state(auth.clone());
//!
//! // A cookie for a logged-in test user, in one line.
//! let cookie = testing::login_cookie(&auth, "alice", User { name: "Alice".into() }).await?;
//! let response = app.clone()
//!     .oneshot(Request::get("/page").header(header::COOKIE, cookie).body(Body::empty())?)
//!     .await?;
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! // A bearer header, in one line.
//! let bearer = testing::bearer_header(&auth, "alice")?;
//! let response = app
//!     .oneshot(Request::get("/api").header(header::AUTHORIZATION, bearer).body(Body::empty())?)
//!     .await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::format;
use alloc::string::String;

use axum::http::HeaderMap;
use tokenstile::jwt::{Hs256Key, Validation};
use tokenstile::refresh::RefreshPolicy;
use tokenstile::store::SharedStore;

use crate::auth::Auth;
use crate::refresh::RefreshFamily;
use crate::rejection::{Refusal, Rejection};

/// An [`Auth`] for tests: an in-memory [`SharedStore`], a random JWT key with the default
/// [`Validation`], the default cookie and policy, `http://localhost` as the app's origin,
/// and refresh tokens with the default [`RefreshPolicy`] and the refresh cookie on
/// `/auth` (the families in a [`SharedStore`] of their own).
///
/// # Panics
///
/// Never: a key whose random bytes can't be had falls back to a fixed one, good enough
/// for tests (and a 32-byte key is always accepted; were it not, the `Auth` would have
/// sessions only).
#[must_use]
pub fn auth<D>() -> Auth<D>
where
    D: Clone + Send + Sync + 'static,
{
    let mut secret = [7u8; 32];
    let _fixed_if_unavailable = getrandom::fill(&mut secret);
    let builder = Auth::builder(SharedStore::<D>::new()).allowed_origin("http://localhost");
    match Hs256Key::new_from_slice(&secret) {
        Ok(key) => builder
            .jwt(key, Validation::new())
            .refresh_tokens(
                SharedStore::<RefreshFamily>::new(),
                RefreshPolicy::new(),
                "/auth",
            )
            .build(),
        Err(_) => builder.build(),
    }
}

/// Logs `subject` in with `data` and returns the `Cookie` header value that carries the
/// new session (`__Host-session=...`).
///
/// # Errors
///
/// As [`Auth::login`].
pub async fn login_cookie<D>(auth: &Auth<D>, subject: &str, data: D) -> Result<String, Rejection>
where
    D: Send + Sync + 'static,
{
    let cookie = auth.login(&HeaderMap::new(), subject, data).await?;
    cookie
        .request_value()
        .ok_or_else(|| auth.reject(Refusal::Internal))
}

/// A token for `subject`, as the `Authorization` header value (`Bearer ...`).
///
/// # Errors
///
/// As [`Jwt::issue`](crate::Jwt::issue).
pub fn bearer_header<D>(auth: &Auth<D>, subject: &str) -> Result<String, Rejection>
where
    D: Send + Sync + 'static,
{
    Ok(format!("Bearer {}", auth.jwt().issue(subject)?))
}

/// Logs `subject` in on a new device through [`Refresh::login`](crate::Refresh::login),
/// and returns the `Authorization` header value (`Bearer ...`) of its access token and the
/// `Cookie` header value that carries its refresh token (`__Secure-refresh=...`, or
/// `__Host-refresh=...` under `Path=/`).
///
/// # Errors
///
/// As [`Refresh::login`](crate::Refresh::login).
pub async fn refresh_login<D>(auth: &Auth<D>, subject: &str) -> Result<(String, String), Rejection>
where
    D: Send + Sync + 'static,
{
    let (access, cookie) = auth
        .refresh()
        .login(&HeaderMap::new(), subject)
        .await?
        .into_parts();
    let cookie = cookie
        .request_value()
        .ok_or_else(|| auth.reject(Refusal::Internal))?;
    Ok((format!("Bearer {access}"), cookie))
}
