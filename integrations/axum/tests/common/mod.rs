//! What the test files share: a router over every extractor, a request helper, and a store
//! that always fails.
#![allow(dead_code, unused_imports, unreachable_pub)]

pub use std::sync::{Arc, Mutex};

pub use axum::Router;
pub use axum::body::Body;
pub use axum::extract::State;
pub use axum::http::{HeaderMap, Request, StatusCode, header};
pub use axum::response::{IntoResponse, Response};
pub use axum::routing::{get, post};
pub use tokenstile::UnixTime;
pub use tokenstile::jwt::{Hs256Key, Validation};
pub use tokenstile::refresh::RefreshPolicy;
pub use tokenstile::store::{
    CreateOutcome, LookupKey, RevocationStore, SessionRecord, SessionSink, SessionStore,
    SharedStore, Store, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, Watermark,
};
pub use tokenstile_axum::{
    Auth, Bearer, BearerMode, RefreshFamily, Refusal, Rejection, Session, StandardClaims,
    StatelessBearer, Tokens, refresh, testing,
};
pub use tower::ServiceExt;

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub name: String,
    pub note: String,
}

pub fn alice() -> User {
    User {
        name: "Alice".into(),
        note: String::new(),
    }
}

pub async fn page(session: Session<User>) -> String {
    format!("{}:{}", session.data().name, session.data().note)
}

pub async fn maybe(session: Option<Session<User>>) -> String {
    session.map_or_else(|| "anonymous".into(), |s| s.data().name.clone())
}

pub async fn note(mut session: Session<User>, body: String) -> Result<&'static str, Rejection> {
    session.data_mut().note = body;
    session.save().await?;
    Ok("saved")
}

pub async fn login(
    State(auth): State<Auth<User>>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, Rejection> {
    let cookie = auth
        .login(
            &headers,
            &body,
            User {
                name: body.clone(),
                note: String::new(),
            },
        )
        .await?;
    Ok((cookie, "welcome").into_response())
}

pub async fn logout(session: Session<User>) -> Result<Response, Rejection> {
    Ok((session.logout().await?, "bye").into_response())
}

pub async fn everywhere(session: Session<User>) -> Result<Response, Rejection> {
    let subject = session.data().name.clone();
    let (_ended, cookie) = session.logout_everywhere(&subject).await?;
    Ok((cookie, "bye everywhere").into_response())
}

pub async fn sudo(mut session: Session<User>) -> Result<Response, Rejection> {
    Ok((session.rotate().await?, "rotated").into_response())
}

pub async fn me(token: Bearer<StandardClaims>) -> String {
    token.claims().sub.clone()
}

pub async fn me_stateless(token: StatelessBearer<StandardClaims>) -> String {
    token.claims().sub.clone()
}

pub async fn api_logout(token: Bearer<StandardClaims>) -> Result<&'static str, Rejection> {
    token.revoke().await?;
    Ok("revoked")
}

pub async fn api_everywhere(token: Bearer<StandardClaims>) -> Result<&'static str, Rejection> {
    token.revoke_everywhere().await?;
    Ok("revoked everywhere")
}

/// Logs the subject in the body in with refresh tokens.
pub async fn refresh_login(
    State(auth): State<Auth<User>>,
    headers: HeaderMap,
    body: String,
) -> Result<Tokens, Rejection> {
    auth.refresh().login(&headers, &body).await
}

pub fn app(auth: Auth<User>) -> Router {
    Router::new()
        .route("/page", get(page))
        .route("/maybe", get(maybe))
        .route("/note", post(note))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/everywhere", post(everywhere))
        .route("/sudo", post(sudo))
        .route("/api/me", get(me))
        .route("/api/me-stateless", get(me_stateless))
        .route("/api/logout", post(api_logout))
        .route("/api/everywhere", post(api_everywhere))
        .route(
            "/plain",
            post(|| async { "plain post" }).get(|| async { "plain get" }),
        )
        .route("/auth/login", post(refresh_login))
        .route("/auth/refresh", post(refresh::rotate))
        .route("/auth/logout", post(refresh::logout))
        .layer(auth.csrf_layer())
        .with_state(auth)
}

/// Sends a request and returns the status, headers and body.
pub async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

pub fn set_cookie(headers: &HeaderMap) -> String {
    headers
        .get(header::SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The session a request presenting `cookie` (a `name=value` pair) extracts, as a
/// handler gets it.
pub async fn session_of(auth: &Auth<User>, cookie: &str) -> Session<User> {
    use axum::extract::FromRequestParts;
    let (mut parts, ()) = Request::get("/")
        .header(header::COOKIE, cookie)
        .body(())
        .unwrap()
        .into_parts();
    Session::<User>::from_request_parts(&mut parts, auth)
        .await
        .unwrap()
}

pub fn cookie_pair(headers: &HeaderMap) -> String {
    set_cookie(headers).split(';').next().unwrap().to_owned()
}

/// A store whose backend is always down.
#[derive(Clone, Debug)]
pub struct Down;

impl Store for Down {
    type Error = StoreErrorKind;
    async fn purge_expired(&mut self, _: UnixTime) -> Result<usize, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
}

impl<D: Send + Sync> SessionStore<D> for Down {
    async fn create(
        &mut self,
        _: &LookupKey,
        _: SessionRecord<D>,
        _: Option<SubjectLimit>,
        _: UnixTime,
    ) -> Result<CreateOutcome, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn get(
        &mut self,
        _: &LookupKey,
        _: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn update(
        &mut self,
        _: &LookupKey,
        _: u64,
        _: &D,
        _: UnixTime,
        _: UnixTime,
    ) -> Result<UpdateOutcome, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn touch(
        &mut self,
        _: &LookupKey,
        _: UnixTime,
        _: UnixTime,
    ) -> Result<bool, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn remove(&mut self, _: &LookupKey) -> Result<bool, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn rotate(
        &mut self,
        _: &LookupKey,
        _: &LookupKey,
        _: UnixTime,
    ) -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn remove_subject(
        &mut self,
        _: &SubjectKey,
        _: Option<&LookupKey>,
    ) -> Result<usize, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        _: &SubjectKey,
        _: UnixTime,
        _: &mut O,
    ) -> Result<usize, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
}

impl RevocationStore for Down {
    async fn revoke(
        &mut self,
        _: &LookupKey,
        _: UnixTime,
        _: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn is_revoked(&mut self, _: &LookupKey, _: UnixTime) -> Result<bool, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn raise_watermark(
        &mut self,
        _: &LookupKey,
        _: Watermark,
        _: UnixTime,
    ) -> Result<(), StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
    async fn watermark(
        &mut self,
        _: &LookupKey,
        _: UnixTime,
    ) -> Result<Option<Watermark>, StoreErrorKind> {
        Err(StoreErrorKind::Backend)
    }
}

/// A [`SharedStore`] that yields to the runtime before each operation, as a store across
/// the network does, so that two requests joined in one task interleave, and counts the
/// operations (the round trips a networked store would make).
#[derive(Clone, Debug, Default)]
pub struct Yielding(
    pub SharedStore<User>,
    pub Arc<std::sync::atomic::AtomicUsize>,
);

impl Yielding {
    /// How many operations were asked of the store so far.
    pub fn calls(&self) -> usize {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn step(&self) {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::task::yield_now().await;
    }
}

impl Store for Yielding {
    type Error = <SharedStore<User> as Store>::Error;
    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        self.step().await;
        self.0.purge_expired(now).await
    }
}

impl SessionStore<User> for Yielding {
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<User>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> Result<CreateOutcome, Self::Error> {
        self.step().await;
        self.0.create(key, record, limit, now).await
    }
    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<User>>, Self::Error> {
        self.step().await;
        self.0.get(key, now).await
    }
    async fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &User,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<UpdateOutcome, Self::Error> {
        self.step().await;
        self.0.update(key, version, data, idle_deadline, now).await
    }
    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        self.step().await;
        self.0.touch(key, idle_deadline, now).await
    }
    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        self.step().await;
        SessionStore::<User>::remove(&mut self.0, key).await
    }
    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<User>>, Self::Error> {
        self.step().await;
        self.0.rotate(old, new, now).await
    }
    async fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> Result<usize, Self::Error> {
        self.step().await;
        SessionStore::<User>::remove_subject(&mut self.0, subject, keep).await
    }
    async fn list_subject<O: SessionSink<User> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> Result<usize, Self::Error> {
        self.step().await;
        self.0.list_subject(subject, now, out).await
    }
}

impl RevocationStore for Yielding {
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        self.step().await;
        self.0.revoke(key, until, now).await
    }
    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        self.step().await;
        self.0.is_revoked(key, now).await
    }
    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        self.step().await;
        self.0.raise_watermark(key, watermark, now).await
    }
    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        self.step().await;
        self.0.watermark(key, now).await
    }
}
