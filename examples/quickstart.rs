//! The main example: a tiny in-process web app that authenticates requests with JWTs.
//!
//! Run with `cargo run --example quickstart`. Each step prints the request, the answer and
//! what it shows; the program exits non-zero if any step does not behave as printed.
//!
//! Keys and token IDs come from the operating system's RNG (`getrandom::SysRng`); time
//! comes from the system clock, and the steps that need "later" pass a later time instead
//! of waiting.

use std::process::ExitCode;

use base64ct::{Base64UrlUnpadded, Encoding};
use getrandom::SysRng;
use getrandom::rand_core::TryRng;
use serde::{Deserialize, Serialize};
use tokenstile::http::{self, BearerError};
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::{Clock, Error, SystemClock, UnixTime};

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
    let api = Api::new().map_err(|e| format!("start the API: {e}"))?;
    jwt_flow(&api, now)
}

/// Stateless tokens: one per device, checked on every request.
fn jwt_flow(api: &Api, now: UnixTime) -> Result<(), String> {
    println!("== JWT: stateless tokens, one per device ==\n");

    println!("POST /api/login   alice, on her laptop");
    let laptop = api.login("alice", "laptop", now)?;
    println!("  200  token, valid for {} minutes:", TOKEN_LIFETIME / 60);
    println!("       {laptop}");

    let bearer = format!("Bearer {laptop}");
    println!("GET  /api/me      Authorization: Bearer {}", short(&laptop));
    expect(api.me(Some(&bearer), now), 200)?;

    println!("GET  /api/me      (no Authorization header)");
    expect(api.me(None, now), 401)?;

    let tampered = format!("Bearer {}", tamper(&laptop));
    println!("GET  /api/me      Authorization: Bearer <the same token, one character changed>");
    expect(api.me(Some(&tampered), now), 403)?;

    let later = now.saturating_add(TOKEN_LIFETIME);
    println!(
        "GET  /api/me      the same token, {} minutes later",
        TOKEN_LIFETIME / 60
    );
    expect(api.me(Some(&bearer), later), 403)?;
    Ok(())
}

/// The app: a signing key, the policy every request is checked against, and the
/// handlers.
struct Api {
    key: Hs256Key,
    policy: Validation<'static>,
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
    www_authenticate: Option<&'static str>,
}

impl Api {
    fn new() -> Result<Self, getrandom::Error> {
        Ok(Self {
            // A fresh random key per run. A real service loads its key from a secret store,
            // so that tokens survive a restart and every instance accepts them.
            key: Hs256Key::generate(&mut SysRng)?,
            policy: Validation::new().with_issuer(ISSUER),
        })
    }

    /// `POST /api/login`: issues a token (the password check is left out).
    fn login(&self, user: &str, device: &str, now: UnixTime) -> Result<String, String> {
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
        // No usable credentials: 401 and a challenge, so the client knows to log in.
        let token = match http::bearer_token(authorization) {
            Ok(token) => token,
            Err(e) => return refuse_credentials(e),
        };
        // Credentials that fail verification: 403, as the session-vs-JWT article's
        // middleware answers. (RFC 6750 §3.1 would answer 401 with
        // `WWW-Authenticate: Bearer error="invalid_token"`; either is fine, be consistent.)
        let mut scratch = [0u8; 1024];
        match jwt::verify::<Claims, _>(&self.key, token, &self.policy, now, &mut scratch) {
            Ok(v) => Response::ok(format!("hello {} ({})", v.claims.sub, v.claims.device)),
            Err(e) => Response::forbidden(e),
        }
    }
}

impl Response {
    fn ok(text: String) -> Self {
        Self {
            status: 200,
            text,
            www_authenticate: None,
        }
    }

    fn forbidden(error: Error) -> Self {
        Self {
            status: 403,
            text: error.to_string(),
            www_authenticate: None,
        }
    }
}

fn refuse_credentials(error: BearerError) -> Response {
    Response {
        status: error.status(),
        text: error.to_string(),
        www_authenticate: Some(error.www_authenticate()),
    }
}

/// Prints the answer and checks its status.
fn expect(response: Response, status: u16) -> Result<(), String> {
    let Response {
        status: got,
        text,
        www_authenticate,
    } = response;
    match www_authenticate {
        Some(challenge) => println!("  {got}  {text}; WWW-Authenticate: {challenge}"),
        None => println!("  {got}  {text}"),
    }
    if got == status {
        Ok(())
    } else {
        Err(format!("expected {status}, got {got} ({text})"))
    }
}

/// The token with one character of its payload changed.
fn tamper(token: &str) -> String {
    let at = token.find('.').map_or(0, |dot| dot.saturating_add(5));
    token
        .char_indices()
        .map(|(i, c)| match (i == at, c) {
            (true, 'A') => 'B',
            (true, _) => 'A',
            (false, c) => c,
        })
        .collect()
}

/// The first characters of a token, for printing.
fn short(token: &str) -> String {
    format!("{}…", token.get(..24).unwrap_or(token))
}

const ISSUER: &str = "https://quickstart.example";
/// Fifteen minutes: short, because a stateless token can't be taken back before it
/// expires on its own.
const TOKEN_LIFETIME: u64 = 15 * 60;
