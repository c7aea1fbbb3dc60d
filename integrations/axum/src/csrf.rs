//! Refusing state-changing requests that other origins make a browser send: the rule of
//! [`tokenstile::http`]'s "Cross-origin requests", applied to axum's requests.
//!
//! `SameSite=Strict` keeps the session cookie off requests that another *site* starts. It
//! does not help against another *origin of the same site*: a page on another port of the
//! same host, or on a sibling subdomain, gets the cookie sent along (ports and subdomains
//! don't make a site). So for every state-changing method (anything but `GET`, `HEAD`,
//! `OPTIONS` and `TRACE`), and for every request to switch protocols (a WebSocket
//! handshake is a `GET` with `Upgrade: websocket`, and what it opens is a channel that
//! reads and changes state, which a page of any origin may ask for), the server checks
//! where the request comes from:
//!
//! 1. `Sec-Fetch-Site` (every current browser sends it to HTTPS and `localhost` origins):
//!    only `same-origin` and `none` (the user typed the address or used a bookmark) pass;
//! 2. otherwise `Origin` (older browsers send it on `POST`): it must be one of the app's
//!    origins ([`AuthBuilder::allowed_origin`](crate::AuthBuilder::allowed_origin)) or,
//!    when none is configured, name the `Host` the request was sent to; `Origin: null`
//!    fails. An HTTP/2 request has no `Host` field (its authority is part of the URI,
//!    which `Auth::login` and the other handlers given only the headers never see), so
//!    without configured origins such a request fails here: an app that browsers reach
//!    over HTTP/2 with no proxy in between should name its origins;
//! 3. a request with neither comes from a client that is not a browser (curl, a mobile
//!    app, a server): it can't be a browser forged into acting for a user, and passes.
//!
//! The [`Session`](crate::Session) extractor and [`Auth::login`](crate::Auth::login) apply
//! the rule themselves. [`CsrfLayer`] applies it to every route it wraps, except to requests
//! that carry a well-formed bearer credential (`Authorization: Bearer <token68>`, one field):
//! a browser never attaches one on its own, and a page of another origin cannot add one
//! without a CORS preflight the app approves. Other schemes do not exempt a request: a
//! browser resends cached `Basic` or `Digest` credentials, and `Negotiate` ones on an
//! intranet, to whichever origin asks it to.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::task::{Context, Poll};

use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use axum::response::{IntoResponse, Response};
use tokenstile::http::{Provenance, bearer_token_in_fields, is_state_changing, serialize_origin};
use tower_layer::Layer;
use tower_service::Service;

use crate::backend::BoxFuture;
use crate::rejection::Refusal;
use crate::settings::Settings;

/// Whether `method` changes state (everything but `GET`, `HEAD`, `OPTIONS`, `TRACE`):
/// [`tokenstile::http::is_state_changing`].
#[must_use]
pub fn is_unsafe(method: &Method) -> bool {
    is_state_changing(method.as_str().as_bytes())
}

/// Whether a request with `headers` asks to switch protocols: it has an
/// `Upgrade` field (a WebSocket handshake over HTTP/1.1; browsers let no page set the
/// field itself), or `Sec-Fetch-Mode: websocket`. Over HTTP/2 a WebSocket opens with
/// `CONNECT` ([RFC 8441]), which [`is_unsafe`] already covers.
///
/// [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
#[must_use]
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        || headers
            .get_all("sec-fetch-mode")
            .iter()
            .any(|mode| mode.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// Whether a request with `method` and `headers` may change state for the user whose
/// cookie it carries, by the rule of the [module docs](self) (tokenstile's
/// [`Provenance::allowed`] on the request's fields): requests with a state-changing
/// method ([`is_unsafe`]) and requests to switch protocols ([`is_upgrade`]) are checked,
/// others pass. `origins` are the app's own origins (`scheme://host[:port]`, no trailing
/// slash); empty compares `Origin` with `Host`.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue, Method};
/// use tokenstile_axum::csrf;
///
/// let origins = ["http://localhost:3000".to_owned()];
/// let mut headers = HeaderMap::new();
/// headers.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
/// assert!(!csrf::allowed(&Method::POST, &headers, &origins));
/// assert!(csrf::allowed(&Method::GET, &headers, &origins));
///
/// let mut headers = HeaderMap::new();
/// headers.insert("origin", HeaderValue::from_static("http://localhost:3000"));
/// assert!(csrf::allowed(&Method::POST, &headers, &origins));
///
/// // A WebSocket handshake from a sibling subdomain.
/// let mut headers = HeaderMap::new();
/// headers.insert("upgrade", HeaderValue::from_static("websocket"));
/// headers.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
/// assert!(!csrf::allowed(&Method::GET, &headers, &origins));
/// ```
#[must_use]
pub fn allowed(method: &Method, headers: &HeaderMap, origins: &[String]) -> bool {
    let field = |name| headers.get(name).map(HeaderValue::as_bytes);
    Provenance {
        method: method.as_str().as_bytes(),
        upgrade: is_upgrade(headers),
        sec_fetch_site: field(header::HeaderName::from_static("sec-fetch-site")),
        origin: field(header::ORIGIN),
        host: field(header::HOST),
    }
    .allowed(origins)
}

/// `origin` as browsers write it in `Origin`: tokenstile's [`serialize_origin`].
pub(crate) fn serialized_origin(origin: &str) -> Option<String> {
    // The serialization is never longer than its input.
    let mut out = alloc::vec![0u8; origin.len()];
    serialize_origin(origin, &mut out).map(String::from)
}

/// A tower layer that refuses (`403`) state-changing requests from other origins, by the
/// rule of the [module docs](self), except those carrying a well-formed bearer credential.
/// Get one from [`Auth::csrf_layer`](crate::Auth::csrf_layer).
///
/// ```
/// # use tokenstile::store::SharedStore;
/// # use tokenstile_axum::Auth;
/// use axum::{Router, routing::post};
///
/// let auth: Auth<u32> = Auth::builder(SharedStore::new())
///     .allowed_origin("https://app.example")
///     .build();
/// let app: Router = Router::new()
///     .route("/settings", post(|| async { "saved" }))
///     .layer(auth.csrf_layer());
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct CsrfLayer {
    settings: Arc<Settings>,
}

impl CsrfLayer {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        Self { settings }
    }
}

impl fmt::Debug for CsrfLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfLayer")
            .field("origins", &self.settings.origins)
            .finish()
    }
}

impl<I> Layer<I> for CsrfLayer {
    type Service = Csrf<I>;

    fn layer(&self, inner: I) -> Self::Service {
        Csrf {
            inner,
            settings: Arc::clone(&self.settings),
        }
    }
}

/// The service of [`CsrfLayer`].
#[derive(Clone)]
pub struct Csrf<I> {
    inner: I,
    settings: Arc<Settings>,
}

impl<I> fmt::Debug for Csrf<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Csrf")
            .field("origins", &self.settings.origins)
            .finish_non_exhaustive()
    }
}

/// Any request body: only the method and the headers are read, so the layer also wraps
/// plain tower or hyper services whose answers are `http::Response<axum::body::Body>`.
impl<I, B> Service<Request<B>> for Csrf<I>
where
    I: Service<Request<B>, Response = Response> + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Response;
    type Error = I::Error;
    type Future = BoxFuture<'static, Result<Response, I::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let bearer =
            bearer_token_in_fields(request.headers().get_all(header::AUTHORIZATION).iter()).is_ok();
        if !bearer
            && !self
                .settings
                .same_origin(request.method(), request.headers())
        {
            let (parts, _body) = request.into_parts();
            let rejection = self.settings.refuse(Refusal::CrossOrigin, Some(&parts));
            return Box::pin(async move { Ok(rejection.into_response()) });
        }
        Box::pin(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_kept_as_browsers_send_them() {
        for (given, kept) in [
            ("https://app.example", "https://app.example"),
            ("https://App.Example/", "https://app.example"),
            ("HTTPS://app.example:443", "https://app.example"),
            ("http://app.example:80/", "http://app.example"),
            ("http://localhost:3000", "http://localhost:3000"),
            ("https://app.example:8443", "https://app.example:8443"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("http://[::1]", "http://[::1]"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("https://app.example:0443", "https://app.example"),
            (
                "https://xn--bcher-kva.example",
                "https://xn--bcher-kva.example",
            ),
        ] {
            assert_eq!(serialized_origin(given).as_deref(), Some(kept), "{given}");
        }
        for not_an_origin in [
            "",
            "app.example",
            "https://",
            "https://app.example/login",
            "https://app.example//",
            "https://app.example?x=1",
            "https://app.example#top",
            "https://user@app.example",
            "https://*.app.example",
            "https://app.example:",
            "https://app.example:99999",
            "https://app.example:+80",
            "https://app example",
            "1http://app.example",
            "://app.example",
            "https://app.example:443:443",
            "http://[::1",
            "http://[::1]x",
            "http://[::1]:",
            "http://[]",
            "http://[::g]",
            "https://bücher.example",
            "null",
        ] {
            assert_eq!(serialized_origin(not_an_origin), None, "{not_an_origin}");
        }
    }
}
