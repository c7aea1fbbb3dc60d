//! The demo web app: the sessions flow (an HTML login form, a dashboard, logout, log out
//! everywhere) and the JWT flow (a single page that keeps a short-lived access token in
//! memory and gets new ones with a refresh cookie) over one tokenstile store.
//!
//! `cargo run -p tokenstile-webapp` serves on <http://localhost:3000> with the in-process
//! store; `--redis redis://127.0.0.1/` (or `TOKENSTILE_REDIS`) switches to Redis, and
//! `--database URL` (`sqlite://demo.db`, `postgres://...`, `mysql://...`) to a SQL database.

mod pages;
mod users;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use tokenstile::jwt::{Hs256Key, KeyRing, Validation};
use tokenstile::refresh::RefreshPolicy;
use tokenstile::store::{RevocationStore, SessionStore, SharedStore};
use tokenstile::{Claim, Clock, SystemClock};
use tokenstile_axum::{
    Auth, AuthBuilder, Bearer, BearerMode, Jwt, Refresh, RefreshFamily, Rejection, Session,
    StandardClaims, StatelessBearer, Tokens, refresh,
};
use tokenstile_redis::{Durability, OnWeakServer, Options, RedisStore};
use tokenstile_sql::{AnyStore, Options as SqlOptions};

use crate::users::Users;

/// What a session holds: who is logged in and a note they can edit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct User {
    /// The user name, also the session subject.
    pub(crate) name: String,
    /// The name shown on the dashboard.
    pub(crate) display: String,
    /// A note the user keeps on the dashboard (the state-changing action of the demo).
    pub(crate) note: String,
}

/// The router's state.
#[derive(Clone)]
struct App {
    auth: Auth<User>,
    users: Arc<Users>,
}

impl FromRef<App> for Auth<User> {
    fn from_ref(app: &App) -> Self {
        app.auth.clone()
    }
}

impl FromRef<App> for Jwt {
    fn from_ref(app: &App) -> Self {
        app.auth.jwt().clone()
    }
}

impl FromRef<App> for Refresh {
    fn from_ref(app: &App) -> Self {
        app.auth.refresh().clone()
    }
}

/// Where sessions and revocations live. Another store is one more variant here, in
/// [`Store`], and one more arm in [`Backend::auth`] and in `serve`.
#[derive(Debug)]
enum Backend {
    /// The in-process `SharedStore`: everything is lost when the process exits.
    Memory,
    /// Redis at this URL.
    Redis(String),
    /// The SQL database this URL names (SQLite, PostgreSQL, MySQL/MariaDB).
    Sql(String),
}

struct Config {
    port: u16,
    backend: Backend,
    tokens: TokenTimes,
}

/// How long access tokens live and how much clock skew verification allows, in seconds.
#[derive(Clone, Copy, Debug)]
struct TokenTimes {
    access: u64,
    leeway: u64,
}

impl Default for TokenTimes {
    /// Access tokens of 15 minutes, a minute of leeway.
    fn default() -> Self {
        Self {
            access: 15 * 60,
            leeway: 60,
        }
    }
}

/// A Redis URL for messages: its scheme and host, without the user name and password
/// (`redis://:secret@host/`) or a query that may hold them.
fn redis_location(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "an unparsable URL".to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => host,
        // An `@` further on may end a password holding a `/`: show no host at all.
        None if rest.contains('@') => "(host not shown)",
        None => authority,
    };
    format!("{scheme}://{host}")
}

fn parse_args() -> Result<Config, String> {
    let mut config = Config {
        port: 3000,
        backend: match std::env::var("TOKENSTILE_REDIS") {
            Ok(url) if !url.is_empty() => Backend::Redis(url),
            _ => Backend::Memory,
        },
        tokens: TokenTimes::default(),
    };
    let secs = |name: &str, value: Option<String>| -> Result<u64, String> {
        let value = value.ok_or(format!("{name} needs a number of seconds"))?;
        value.parse().map_err(|_| format!("bad {name} {value:?}"))
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let port = args.next().ok_or("--port needs a value")?;
                config.port = port.parse().map_err(|_| format!("bad port {port:?}"))?;
            }
            "--redis" => config.backend = Backend::Redis(args.next().ok_or("--redis needs a URL")?),
            "--database" => {
                config.backend = Backend::Sql(args.next().ok_or("--database needs a URL")?);
            }
            "--memory" => config.backend = Backend::Memory,
            "--access-lifetime" => config.tokens.access = secs(&arg, args.next())?,
            "--leeway" => config.tokens.leeway = secs(&arg, args.next())?,
            "-h" | "--help" => {
                return Err(
                    "usage: tokenstile-webapp [--port N] [--memory | --redis redis://host/ | --database URL]\n\
                            [--access-lifetime SECS] [--leeway SECS]\n\
                            (TOKENSTILE_REDIS=redis://... works like --redis; the two times are\n\
                            for tests: access tokens of the single page, 900 by default, and the\n\
                            clock skew JWT verification allows, 60 by default)"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(config)
}

impl Backend {
    /// The `Auth` over this backend's store.
    async fn auth(&self, builder: impl FnOnce(Store) -> Auth<User>) -> Result<Auth<User>, String> {
        match self {
            Self::Memory => Ok(builder(Store::Memory(SharedStore::with_capacity(
                100_000, 100_000,
            )))),
            Self::Redis(url) => {
                let client = redis::Client::open(url.as_str())
                    .map_err(|e| format!("{}: {e}", redis_location(url)))?;
                let required = Durability::EverySecond;
                let options = Options::new(OnWeakServer::Warn(required)).prefix("webapp:");
                let store = RedisStore::connect(client, options)
                    .await
                    .map_err(|e| format!("connecting to Redis at {}: {e}", redis_location(url)))?;
                if let Some(short) = store.server_settings().and_then(|s| s.shortfall(required)) {
                    tracing::warn!("Redis persistence is weaker than {required:?}: {short}");
                }
                Ok(builder(Store::Redis(store)))
            }
            Self::Sql(url) => {
                // Connects, then creates or upgrades the tables.
                let store = AnyStore::connect(url, SqlOptions::new())
                    .await
                    .map_err(|e| format!("connecting to the database: {e}"))?;
                Ok(builder(Store::Sql(store)))
            }
        }
    }
}

/// The stores the app can run on, so one function configures `Auth` for all of them.
enum Store {
    Memory(SharedStore<User>),
    Redis(RedisStore),
    Sql(AnyStore),
}

/// The same configuration for every store: sessions in `builder`'s store, refresh-token
/// families in `families` (the same store, where it holds any data type).
fn configure<S, F>(
    builder: AuthBuilder<S>,
    families: F,
    jwt: KeyRing<2>,
    port: u16,
    times: TokenTimes,
) -> Auth<User>
where
    S: SessionStore<User> + RevocationStore + Clone + Send + Sync + 'static,
    F: SessionStore<RefreshFamily> + Clone + Send + Sync + 'static,
{
    builder
        .allowed_origin(format!("http://localhost:{port}"))
        .allowed_origin(format!("http://127.0.0.1:{port}"))
        .login_page("/login")
        .jwt(
            jwt,
            Validation::new()
                .with_issuer(ISSUER)
                .with_required(Claim::Jti)
                .with_required(Claim::Iat)
                .with_leeway(times.leeway),
        )
        // 401 for an expired or revoked token: what makes the single page refresh.
        .bearer_mode(BearerMode::Rfc6750)
        .token_lifetime(15 * 60)
        // The refresh cookie goes to /auth/... only.
        .refresh_tokens(
            families,
            RefreshPolicy::new().with_access_lifetime(times.access),
            "/auth",
        )
        .build()
}

const ISSUER: &str = "tokenstile-webapp";

fn main() -> ExitCode {
    // RUST_LOG is one level here (error, warn, info, debug, trace); info by default.
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt().with_max_level(level).init();
    let config = match parse_args() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let mut rng = getrandom::SysRng;
    // A fresh key at each start: tokens don't survive a restart of the demo.
    let key = Hs256Key::generate(&mut rng).map_err(|e| format!("no key: {e}"))?;
    let ring = KeyRing::<2>::new("k1", key).map_err(|e| format!("key ring: {e}"))?;
    let (port, times) = (config.port, config.tokens);
    let auth = config
        .backend
        .auth(|store| match store {
            Store::Memory(s) => {
                // Families beside the sessions; revocations all go to the sessions' store.
                let families = SharedStore::<RefreshFamily>::with_capacity(100_000, 0);
                purge_periodically(s.clone(), "sessions and revocations");
                purge_periodically(families.clone(), "refresh-token families");
                configure(Auth::builder(s), families, ring, port, times)
            }
            // Redis expires every entry by itself: its purge does nothing.
            Store::Redis(s) => configure(Auth::builder(s.clone()), s, ring, port, times),
            Store::Sql(s) => {
                purge_periodically(s.clone(), "database");
                configure(Auth::builder(s.clone()), s, ring, port, times)
            }
        })
        .await?;
    let users = Arc::new(Users::demo().await?);
    let app = router(App { auth, users });

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let store = match &config.backend {
        Backend::Memory => "the in-process store".to_owned(),
        Backend::Redis(url) => format!("Redis at {}", redis_location(url)),
        // The scheme only: the rest of the URL may hold a password.
        Backend::Sql(url) => format!("a {} database", url.split(':').next().unwrap_or("SQL")),
    };
    println!("tokenstile demo on {store}: http://localhost:{port}/");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("server: {e}"))
}

/// How often dead entries are purged.
const PURGE_EVERY: Duration = Duration::from_secs(5 * 60);

/// Deletes `store`'s dead sessions and revocations every [`PURGE_EVERY`]. A SQL database
/// keeps them until then (a dead entry is never read as live, but takes room); the
/// in-process store also drops them as it grows. A failed purge is logged and tried again
/// at the next tick.
fn purge_periodically<S>(mut store: S, what: &'static str)
where
    S: tokenstile::store::Store + Send + 'static,
{
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes at once: skip it, nothing is dead yet at the start.
        every.tick().await;
        loop {
            every.tick().await;
            match store.purge_expired(SystemClock.now()).await {
                Ok(purged) => tracing::debug!(what, purged, "purged dead entries"),
                Err(e) => tracing::warn!(what, "purging dead entries failed: {e:?}"),
            }
        }
    });
}

fn router(app: App) -> Router {
    let csrf = app.auth.csrf_layer();
    Router::new()
        .route("/", get(pages::index))
        .route("/login", get(login_form).post(login))
        .route("/dashboard", get(dashboard))
        .route("/note", post(save_note))
        .route("/logout", post(logout))
        .route("/logout-everywhere", post(logout_everywhere))
        .route("/spa", get(pages::spa))
        .route("/auth/login", post(auth_login))
        .route("/auth/refresh", post(refresh::rotate))
        .route("/auth/logout", post(refresh::logout))
        .route("/api/login", post(api_login))
        .route("/api/me", get(api_me))
        .route("/api/me-stateless", get(api_me_stateless))
        .route("/api/session", get(api_session))
        .route("/api/logout", post(api_logout))
        .route("/api/logout-everywhere", post(api_logout_everywhere))
        .route("/healthz", get(|| async { "ok" }))
        .layer(csrf)
        .with_state(app)
}

async fn login_form(session: Option<Session<User>>) -> Response {
    if session.is_some() {
        return Redirect::to("/dashboard").into_response();
    }
    Html(pages::login(None)).into_response()
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn login(
    State(app): State<App>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Result<Response, Rejection> {
    let Some(display) = app.users.check(&form.username, &form.password).await else {
        tracing::info!(event = "login_failed", "wrong user name or password");
        let page = Html(pages::login(Some("Wrong user name or password.")));
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    let user = User {
        name: form.username.clone(),
        display,
        note: String::new(),
    };
    let cookie = app.auth.login(&headers, &form.username, user).await?;
    Ok((cookie, Redirect::to("/dashboard")).into_response())
}

async fn dashboard(session: Session<User>) -> Html<String> {
    Html(pages::dashboard(session.data()))
}

#[derive(Deserialize)]
struct Note {
    note: String,
}

async fn save_note(
    mut session: Session<User>,
    Form(form): Form<Note>,
) -> Result<Redirect, Rejection> {
    session.data_mut().note = form.note.chars().take(200).collect();
    session.save().await?;
    Ok(Redirect::to("/dashboard"))
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Result<Response, Rejection> {
    let cookie = app.auth.logout(&headers).await?;
    Ok((cookie, Redirect::to("/login")).into_response())
}

async fn logout_everywhere(session: Session<User>) -> Result<Response, Rejection> {
    let name = session.data().name.clone();
    let (_ended, cookie) = session.logout_everywhere(&name).await?;
    Ok((cookie, Redirect::to("/login")).into_response())
}

/// The single page's login: a family of refresh tokens for this browser, the access token
/// in the body and the refresh token in its cookie.
async fn auth_login(
    State(app): State<App>,
    headers: HeaderMap,
    Json(form): Json<Credentials>,
) -> Result<Response, Rejection> {
    if app
        .users
        .check(&form.username, &form.password)
        .await
        .is_none()
    {
        tracing::info!(event = "login_failed", "wrong user name or password");
        let body = Json(serde_json::json!({ "error": "wrong user name or password" }));
        return Ok((StatusCode::UNAUTHORIZED, body).into_response());
    }
    let tokens: Tokens = app.auth.refresh().login(&headers, &form.username).await?;
    Ok(tokens.into_response())
}

#[derive(Serialize)]
struct Token {
    token: String,
}

async fn api_login(State(app): State<App>, Json(form): Json<Credentials>) -> Response {
    if app
        .users
        .check(&form.username, &form.password)
        .await
        .is_none()
    {
        tracing::info!(event = "login_failed", "wrong user name or password");
        let body = Json(serde_json::json!({ "error": "wrong user name or password" }));
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    match app.auth.jwt().issue(&form.username) {
        Ok(token) => {
            tracing::info!(event = "token_issued");
            // A credential: no cache may keep the answer (RFC 6749 §5.1).
            let no_store = [(header::CACHE_CONTROL, "no-store")];
            (no_store, Json(Token { token })).into_response()
        }
        Err(rejection) => rejection.into_response(),
    }
}

#[derive(Serialize)]
struct Me {
    sub: String,
    exp: u64,
}

async fn api_me(token: Bearer<StandardClaims>) -> Json<Me> {
    let claims = token.into_claims();
    Json(Me {
        sub: claims.sub,
        exp: claims.exp,
    })
}

async fn api_me_stateless(token: StatelessBearer<StandardClaims>) -> Json<Me> {
    Json(Me {
        sub: token.claims().sub.clone(),
        exp: token.claims().exp,
    })
}

async fn api_session(session: Session<User>) -> Json<Me> {
    Json(Me {
        sub: session.data().name.clone(),
        exp: session.record().absolute_deadline().as_secs(),
    })
}

async fn api_logout(token: Bearer<StandardClaims>) -> Result<StatusCode, Rejection> {
    token.revoke().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_logout_everywhere(
    State(app): State<App>,
    token: Bearer<StandardClaims>,
) -> Result<StatusCode, Rejection> {
    app.auth.logout_everywhere(&token.claims().sub).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn redis_location_leaves_out_credentials() {
        for (url, shown) in [
            ("redis://:s3cret@cache:6379/0", "redis://cache:6379"),
            (
                "rediss://user:p@ss@cache.example/",
                "rediss://cache.example",
            ),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://cache/0?password=s3cret", "redis://cache"),
            ("redis+unix:///run/redis.sock?pass=s3cret", "redis+unix://"),
            ("redis://:pa/ss@cache/", "redis://(host not shown)"),
            ("cache:6379", "an unparsable URL"),
        ] {
            assert_eq!(redis_location(url), shown, "{url}");
        }
    }

    async fn app() -> Router {
        let key = Hs256Key::new_from_slice(&[3u8; 32]).unwrap();
        let ring = KeyRing::<2>::new("k1", key).unwrap();
        let auth = configure(
            Auth::builder(SharedStore::<User>::new()),
            SharedStore::<RefreshFamily>::new(),
            ring,
            3000,
            TokenTimes::default(),
        );
        router(App {
            auth,
            users: Arc::new(Users::demo().await.unwrap()),
        })
    }

    async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let response = app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    fn form(uri: &str, body: &'static str) -> Request<Body> {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn the_form_checks_the_password_and_the_dashboard_escapes_the_note() {
        let app = app().await;
        let (status, headers, _) = send(&app, form("/login", "username=alice&password=nope")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(headers.get(header::SET_COOKIE).is_none());
        let (status, _, _) = send(&app, form("/login", "username=carol&password=wonderland")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let (status, headers, _) =
            send(&app, form("/login", "username=alice&password=wonderland")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/dashboard");
        let set_cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();

        let mut note = form("/note", "note=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        note.headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        let (status, _, _) = send(&app, note).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let dashboard = Request::get("/dashboard")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(&app, dashboard).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Signed in as <strong>Alice</strong>"));
        assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!body.contains("<script>alert(1)"));
    }

    #[tokio::test]
    async fn the_api_issues_verifies_and_revokes_tokens() {
        let app = app().await;
        let login = Request::post("/api/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"username":"bob","password":"builder"}"#))
            .unwrap();
        let (status, headers, body) = send(&app, login).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        let token: serde_json::Value = serde_json::from_str(&body).unwrap();
        let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
        let me = |bearer: &str| {
            Request::get("/api/me")
                .header(header::AUTHORIZATION, bearer)
                .body(Body::empty())
                .unwrap()
        };
        let (status, _, body) = send(&app, me(&bearer)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(r#""sub":"bob""#));
        let logout = Request::post("/api/logout")
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, logout).await.0, StatusCode::NO_CONTENT);
        assert_eq!(send(&app, me(&bearer)).await.0, StatusCode::UNAUTHORIZED);
        let (status, headers, _) =
            send(&app, Request::get("/api/me").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    }

    fn json(uri: &str, body: &'static str) -> Request<Body> {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    }

    fn with_cookie(mut request: Request<Body>, cookie: &str) -> Request<Body> {
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
        request
    }

    fn refresh_cookie(headers: &HeaderMap) -> String {
        let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(
            set.contains("Path=/auth") && set.contains("HttpOnly"),
            "{set}"
        );
        set.split(';').next().unwrap().to_owned()
    }

    fn access(body: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        format!("Bearer {}", value["access_token"].as_str().unwrap())
    }

    #[tokio::test]
    async fn the_single_page_logs_in_refreshes_and_logs_out_with_a_refresh_cookie() {
        let app = app().await;
        let (status, headers, _) = send(
            &app,
            json("/auth/login", r#"{"username":"bob","password":"nope"}"#),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(headers.get(header::SET_COOKIE).is_none());

        let login = json("/auth/login", r#"{"username":"bob","password":"builder"}"#);
        let (status, headers, body) = send(&app, login).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(r#""expires_in":900"#), "{body}");
        let first = refresh_cookie(&headers);
        assert!(first.starts_with("__Secure-refresh="));
        let me = |bearer: &str| {
            Request::get("/api/me")
                .header(header::AUTHORIZATION, bearer)
                .body(Body::empty())
                .unwrap()
        };
        let (status, _, me_body) = send(&app, me(&access(&body))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(me_body.contains(r#""sub":"bob""#));

        let rotate = || Request::post("/auth/refresh").body(Body::empty()).unwrap();
        let (status, headers, body) = send(&app, with_cookie(rotate(), &first)).await;
        assert_eq!(status, StatusCode::OK);
        let second = refresh_cookie(&headers);
        let bearer = access(&body);
        assert_eq!(send(&app, me(&bearer)).await.0, StatusCode::OK);

        let logout = Request::post("/auth/logout").body(Body::empty()).unwrap();
        let (status, headers, _) = send(&app, with_cookie(logout, &second)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(refresh_cookie(&headers).ends_with('='), "cleared");
        assert_eq!(send(&app, me(&bearer)).await.0, StatusCode::UNAUTHORIZED);
        let (status, _, _) = send(&app, with_cookie(rotate(), &second)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
