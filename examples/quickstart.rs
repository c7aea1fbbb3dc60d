//! The main example: a tiny in-process web app that logs people in two ways, with a
//! session cookie (for browsers) and with JWTs (for API clients), over one store.
//!
//! Run with `cargo run --example quickstart` (`std` is a default feature). Each step prints the request,
//! the answer and what it shows; the program exits non-zero if any step does not behave as
//! printed.
//!
//! Keys, session IDs and token IDs come from the operating system's RNG
//! (`getrandom::SysRng`). Time comes from the system clock; the steps that happen "later"
//! are simulated: they pass a later time instead of waiting.

use std::process::ExitCode;

use base64ct::{Base64UrlUnpadded, Encoding};
use getrandom::SysRng;
use getrandom::rand_core::TryRng;
use serde::{Deserialize, Serialize};
use tokenstile::http::{self, BearerError, CookieOptions};
use tokenstile::jwt::{self, Hs256Key, RevocationError, Validation};
use tokenstile::session::{SessionId, SessionPolicy};
use tokenstile::store::{SharedStore, block_on};
use tokenstile::{Clock, Error, SystemClock, UnixTime, VerifyError};

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nall steps behaved as printed");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("\nFAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let now = SystemClock.now();
    let app = App::new().map_err(|e| format!("start the app: {e}"))?;
    session_flow(&app, now)?;
    println!();
    jwt_flow(&app, now)
}

/// Sessions: the browser holds a random ID in a cookie, the server holds the state.
fn session_flow(app: &App, now: UnixTime) -> Result<(), String> {
    println!("== Sessions: a random ID in a cookie, the state on the server ==\n");

    println!("POST /login            alice (password check left out)");
    let first = expect(app.login("alice", now), 200)?;
    let first_id = cookie_value(&first)?;

    let cookie = format!("theme=dark; __Host-session={first_id}");
    println!("GET  /account          Cookie: {}", short(&cookie, 40));
    expect(app.account(Some(&cookie), now), 200)?;

    println!("POST /sudo             alice becomes an admin: the session moves to a new ID");
    let second = expect(app.sudo(Some(&cookie), now), 200)?;
    let second_id = cookie_value(&second)?;
    if second_id == first_id {
        return Err("the session ID did not change".to_owned());
    }

    println!("GET  /account          Cookie: <the ID from before /sudo>");
    expect(app.account(Some(&cookie), now), 401)?;

    let cookie = format!("__Host-session={second_id}");
    println!("GET  /account          Cookie: <the new ID>");
    expect(app.account(Some(&cookie), now), 200)?;

    println!("POST /logout           Cookie: <the new ID>");
    expect(app.logout(Some(&cookie)), 200)?;

    println!("GET  /account          Cookie: <the same ID, right after logout>");
    expect(app.account(Some(&cookie), now), 401)?;

    println!("GET  /account          (no Cookie header)");
    expect(app.account(None, now), 401)?;
    Ok(())
}

/// JWTs: the client holds signed claims; the server holds only its key and, for logout,
/// the revocations.
fn jwt_flow(app: &App, now: UnixTime) -> Result<(), String> {
    println!("== JWT: signed claims, one token per device ==\n");

    println!("POST /api/login        alice, on her laptop");
    let laptop = app.issue_token("alice", "laptop", now)?;
    println!(
        "  200  token, valid for {} minutes:\n       {laptop}",
        TOKEN_LIFETIME / 60
    );
    println!("POST /api/login        alice, on her phone");
    let phone = app.issue_token("alice", "phone", now)?;
    println!("  200  token: {}", short(&phone, 24));

    let laptop = format!("Bearer {laptop}");
    let phone = format!("Bearer {phone}");
    println!("GET  /api/me           Authorization: Bearer <the laptop's token>");
    expect(app.me(Some(&laptop), now), 200)?;

    println!("GET  /api/me           (no Authorization header)");
    expect(app.me(None, now), 401)?;

    println!(
        "GET  /api/me           Authorization: Bearer <the laptop's token, one character changed>"
    );
    expect(app.me(Some(&tamper(&laptop)), now), 403)?;

    let later = now.saturating_add(TOKEN_LIFETIME);
    println!(
        "GET  /api/me           the laptop's token, {} minutes later (a simulated clock: \
         nothing waits)",
        TOKEN_LIFETIME / 60
    );
    expect(app.me(Some(&laptop), later), 403)?;

    println!("POST /api/logout       Authorization: Bearer <the laptop's token>");
    expect(app.logout_token(Some(&laptop), now), 200)?;

    println!(
        "GET  /api/me           Authorization: Bearer <the laptop's token, right after logout>"
    );
    expect(app.me(Some(&laptop), now), 403)?;

    println!("GET  /api/me           Authorization: Bearer <the phone's token>");
    expect(app.me(Some(&phone), now), 200)?;

    println!("POST /api/logout-all   Authorization: Bearer <the phone's token>");
    expect(app.logout_everywhere(Some(&phone), now), 200)?;

    println!("GET  /api/me           Authorization: Bearer <the phone's token>");
    expect(app.me(Some(&phone), now), 403)?;

    // "Log out everywhere" refuses every token issued up to and including its own second
    // (`iat` counts whole seconds), so a token issued in that same second would be refused
    // too. The new login is simulated one second later.
    let next = now.saturating_add(1);
    println!("POST /api/login        alice logs in again on her phone, a second later");
    println!(
        "                       (simulated: the logout revoked every token issued up to and \
         including its own second)"
    );
    let fresh = app.issue_token("alice", "phone", next)?;
    println!("  200  token: {}", short(&fresh, 24));
    let fresh = format!("Bearer {fresh}");
    println!("GET  /api/me           Authorization: Bearer <the new token>");
    expect(app.me(Some(&fresh), next), 200)?;
    Ok(())
}

/// The app: one store for sessions and JWT revocations, and the policies.
struct App {
    /// The thread-safe store of the `std` feature. It is a handle: each handler works on
    /// a clone of it, as a web framework's handlers would.
    store: SharedStore<User>,
    sessions: SessionPolicy,
    cookies: CookieOptions<'static>,
    key: Hs256Key,
    tokens: Validation<'static>,
}

/// What a session holds.
#[derive(Clone, Debug)]
struct User {
    name: String,
    admin: bool,
}

/// The claims of the tokens the app issues.
#[derive(Serialize, Deserialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    iat: u64,
    exp: u64,
    /// A unique ID per token, so that one token can be revoked.
    jti: &'a str,
    device: &'a str,
}

/// What a handler answers.
struct Response {
    status: u16,
    /// The body, or why the request was refused.
    text: String,
    /// One response header, if any.
    header: Option<(&'static str, String)>,
}

impl App {
    fn new() -> Result<Self, getrandom::Error> {
        Ok(Self {
            store: SharedStore::with_capacity(100_000, 100_000),
            sessions: SessionPolicy::new(),
            cookies: CookieOptions::new(),
            // A fresh random key per run. A real service loads its key from a secret store,
            // so that tokens survive a restart and every instance accepts them.
            key: Hs256Key::generate(&mut SysRng)?,
            tokens: Validation::new().with_issuer(ISSUER),
        })
    }

    // --- sessions ---------------------------------------------------------------------

    /// `POST /login`: starts a session and sends its ID in a cookie.
    fn login(&self, name: &str, now: UnixTime) -> Response {
        let user = User {
            name: name.to_owned(),
            admin: false,
        };
        match block_on(
            self.sessions
                .create(&mut self.store.clone(), &mut SysRng, name, user, now),
        ) {
            Ok(id) => self.with_session_cookie("logged in", &id, self.sessions.absolute_timeout),
            Err(e) => Response::new(500, e.to_string()),
        }
    }

    /// `GET /account`: who is logged in, from the session cookie.
    fn account(&self, cookie: Option<&str>, now: UnixTime) -> Response {
        let id = match self.session_id(cookie) {
            Ok(id) => id,
            Err(refused) => return refused,
        };
        match block_on(self.sessions.load(&mut self.store.clone(), &id, now)) {
            Ok(record) => {
                let user = record.data();
                let role = if user.admin { "admin" } else { "user" };
                Response::new(200, format!("hello {} ({role})", user.name))
            }
            Err(e) => Response::new(401, e.to_string()),
        }
    }

    /// `POST /sudo`: a privilege change. The session moves to a fresh ID first, so an ID
    /// that leaked or was planted before is worth nothing afterwards.
    fn sudo(&self, cookie: Option<&str>, now: UnixTime) -> Response {
        let id = match self.session_id(cookie) {
            Ok(id) => id,
            Err(refused) => return refused,
        };
        let mut rotated =
            match block_on(
                self.sessions
                    .rotate(&mut self.store.clone(), &mut SysRng, &id, now),
            ) {
                Ok(rotated) => rotated,
                Err(e) => return Response::new(401, e.to_string()),
            };
        rotated.record.data_mut().admin = true;
        let remaining = rotated.record.absolute_deadline().secs_since(now);
        match block_on(self.sessions.save(
            &mut self.store.clone(),
            &rotated.id,
            &mut rotated.record,
            now,
        )) {
            Ok(()) => self.with_session_cookie(
                "admin now, under a new session ID",
                &rotated.id,
                remaining,
            ),
            Err(e) => Response::new(401, e.to_string()),
        }
    }

    /// `POST /logout`: deletes the session and clears the cookie.
    fn logout(&self, cookie: Option<&str>) -> Response {
        let id = match self.session_id(cookie) {
            Ok(id) => id,
            Err(refused) => return refused,
        };
        match (
            block_on(self.sessions.destroy(&mut self.store.clone(), &id)),
            self.cookies.clear_cookie_string(),
        ) {
            (Ok(_), Ok(clear)) => {
                Response::new(200, "logged out".to_owned()).with("Set-Cookie", clear)
            }
            (Err(e), _) => Response::new(500, e.to_string()),
            (_, Err(e)) => Response::new(500, e.to_string()),
        }
    }

    /// The session ID from a `Cookie` header, or the answer for a request without one.
    fn session_id(&self, cookie: Option<&str>) -> Result<SessionId, Response> {
        let value = cookie
            .map(|header| http::find_cookie(header, self.cookies.name))
            .transpose()
            .map_err(|e| Response::new(401, e.to_string()))?
            .flatten()
            .ok_or_else(|| Response::new(401, "not logged in".to_owned()))?;
        SessionId::parse(value).map_err(|e| Response::new(401, e.to_string()))
    }

    fn with_session_cookie(&self, text: &str, id: &SessionId, max_age: u64) -> Response {
        let mut encoded = [0u8; SessionId::ENCODED_LEN];
        match self
            .cookies
            .set_cookie_string(id.encode(&mut encoded), max_age)
        {
            Ok(set_cookie) => Response::new(200, text.to_owned()).with("Set-Cookie", set_cookie),
            Err(e) => Response::new(500, e.to_string()),
        }
    }

    // --- JWT ----------------------------------------------------------------------------

    /// `POST /api/login`: issues a token for one device (the password check is left out).
    fn issue_token(&self, user: &str, device: &str, now: UnixTime) -> Result<String, String> {
        let mut jti = [0u8; 16];
        SysRng
            .try_fill_bytes(&mut jti)
            .map_err(|e| format!("token ID: {e}"))?;
        let claims = Claims {
            iss: ISSUER,
            sub: user,
            iat: now.as_secs(),
            exp: now.saturating_add(TOKEN_LIFETIME).as_secs(),
            jti: &Base64UrlUnpadded::encode_string(&jti),
            device,
        };
        jwt::sign_to_string(&self.key, &claims).map_err(|e| format!("sign: {e}"))
    }

    /// `GET /api/me`: who is calling, from the `Authorization` header.
    fn me(&self, authorization: Option<&str>, now: UnixTime) -> Response {
        let mut scratch = [0u8; 1024];
        match self.authenticate(authorization, now, &mut scratch) {
            Ok(claims) => Response::new(200, format!("hello {} ({})", claims.sub, claims.device)),
            Err(refused) => refused,
        }
    }

    /// `POST /api/logout`: revokes the calling token, until it would have expired anyway.
    fn logout_token(&self, authorization: Option<&str>, now: UnixTime) -> Response {
        let token = match http::bearer_token(authorization) {
            Ok(token) => token,
            Err(e) => return refuse_credentials(e),
        };
        let mut scratch = [0u8; 1024];
        let verified = match block_on(jwt::verify_not_revoked::<Claims, _, _>(
            &self.key,
            token,
            &self.tokens,
            &mut self.store.clone(),
            now,
            &mut scratch,
        )) {
            Ok(verified) => verified,
            Err(e) => return refuse_token(&e),
        };
        match block_on(jwt::revoke_token(
            &mut self.store.clone(),
            &verified.registered,
            self.tokens.leeway,
            now,
        )) {
            Ok(()) => Response::new(200, "logged out: this token is revoked".to_owned()),
            Err(e) => Response::new(500, e.to_string()),
        }
    }

    /// `POST /api/logout-all`: revokes every token of the caller issued until now.
    fn logout_everywhere(&self, authorization: Option<&str>, now: UnixTime) -> Response {
        let mut scratch = [0u8; 1024];
        let subject = match self.authenticate(authorization, now, &mut scratch) {
            Ok(claims) => claims.sub,
            Err(refused) => return refused,
        };
        // Kept until every token issued up to now has expired.
        let until = now.saturating_add(TOKEN_LIFETIME.saturating_add(self.tokens.leeway));
        match block_on(jwt::revoke_subject(
            &mut self.store.clone(),
            Some(ISSUER),
            subject,
            now,
            until,
            now,
        )) {
            Ok(()) => Response::new(
                200,
                format!("every token of {subject} issued until now is revoked"),
            ),
            Err(e) => Response::new(500, e.to_string()),
        }
    }

    /// The caller's claims, or the answer for a request that can't have them: 401 without
    /// usable credentials, 403 for a token that fails verification or is revoked.
    fn authenticate<'s>(
        &self,
        authorization: Option<&str>,
        now: UnixTime,
        scratch: &'s mut [u8],
    ) -> Result<Claims<'s>, Response> {
        let token = http::bearer_token(authorization).map_err(refuse_credentials)?;
        block_on(jwt::verify_not_revoked::<Claims, _, _>(
            &self.key,
            token,
            &self.tokens,
            &mut self.store.clone(),
            now,
            scratch,
        ))
        .map(|verified| verified.claims)
        .map_err(|e| refuse_token(&e))
    }
}

impl Response {
    fn new(status: u16, text: String) -> Self {
        Self {
            status,
            text,
            header: None,
        }
    }

    fn with(self, name: &'static str, value: String) -> Self {
        Self {
            header: Some((name, value)),
            ..self
        }
    }
}

/// No usable credentials: 401 and a challenge, so the client knows to log in (400 for
/// broken Bearer syntax, as RFC 6750 asks).
fn refuse_credentials(error: BearerError) -> Response {
    Response::new(error.status(), error.to_string())
        .with("WWW-Authenticate", error.www_authenticate().to_owned())
}

/// Credentials that fail verification or were revoked: 403, as `tokenstile-axum`'s
/// `Bearer` answers by default. (RFC 6750 §3.1 answers 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"`: pick one and be consistent.)
fn refuse_token<E>(error: &RevocationError<E>) -> Response {
    match error {
        // The error's own text, "MAC tag mismatch", names the check; say what it means.
        RevocationError::Token(Error::Verify(VerifyError::Signature)) => Response::new(
            403,
            "bad signature: the token was changed, or signed with another key".to_owned(),
        ),
        RevocationError::Token(e) => Response::new(403, e.to_string()),
        // Fail closed: a revocation that can't be checked refuses the token.
        RevocationError::Store(_) => Response::new(503, error.to_string()),
        _ => Response::new(403, error.to_string()),
    }
}

/// Prints the answer, checks its status, and hands it back.
fn expect(response: Response, status: u16) -> Result<Response, String> {
    println!("  {}  {}", response.status, response.text);
    if let Some((name, value)) = &response.header {
        println!("       {name}: {value}");
    }
    if response.status == status {
        Ok(response)
    } else {
        Err(format!(
            "expected {status}, got {} ({})",
            response.status, response.text
        ))
    }
}

/// The session ID in a `Set-Cookie` answer.
fn cookie_value(response: &Response) -> Result<String, String> {
    response
        .header
        .as_ref()
        .and_then(|(_, value)| value.split_once('='))
        .and_then(|(_, rest)| rest.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| "no Set-Cookie in the answer".to_owned())
}

/// The bearer credentials with one character of the token's payload changed.
fn tamper(bearer: &str) -> String {
    let at = bearer.find('.').map_or(0, |dot| dot.saturating_add(5));
    bearer
        .char_indices()
        .map(|(i, c)| match (i == at, c) {
            (true, 'A') => 'B',
            (true, _) => 'A',
            (false, c) => c,
        })
        .collect()
}

/// The first `n` characters, for printing.
fn short(s: &str, n: usize) -> String {
    match s.get(..n) {
        Some(start) if start.len() < s.len() => format!("{start}…"),
        _ => s.to_owned(),
    }
}

const ISSUER: &str = "https://quickstart.example";
/// Fifteen minutes: short, because without a revocation check a token can't be taken
/// back before it expires.
const TOKEN_LIFETIME: u64 = 15 * 60;
