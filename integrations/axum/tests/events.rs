//! The `tracing` events: what they say, and that no secret is ever in them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]

mod common;

use std::io::Write;

use common::*;

/// Captures what the `tracing` events say.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_store_is_503_never_logged_in_and_logged_without_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // A global subscriber, in a test binary of its own: per-thread subscribers miss events
    // whose interest another test thread already cached.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let down: Auth<User> = Auth::builder(Down)
        .jwt(key.clone(), Validation::new())
        .build();
    let app_down = app(down.clone());
    let (status, headers, body) = send(&app_down, "POST", "/login", &[], "alice").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::SET_COOKIE).is_none(), "never logged in");
    assert_eq!(body, "service unavailable, try again later\n");

    // A real session and token, presented to a server whose store is down.
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = Arc::new(Mutex::new(started));
    let clock = {
        let now = Arc::clone(&now);
        move || UnixTime::from_secs(*now.lock().unwrap())
    };
    let up: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new())
        .refresh_tokens(
            SharedStore::<RefreshFamily>::new(),
            RefreshPolicy::new(),
            "/auth",
        )
        .clock(clock)
        .build();
    let cookie = testing::login_cookie(&up, "alice", alice()).await.unwrap();
    let token = testing::bearer_header(&up, "alice").unwrap();
    let (status, _, _) = send(&app_down, "GET", "/page", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, _) = send(&app_down, "GET", "/maybe", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, _) = send(
        &app_down,
        "GET",
        "/api/me",
        &[("authorization", &token)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // The stateless check doesn't need the store.
    let (status, _, _) = send(
        &app_down,
        "GET",
        "/api/me-stateless",
        &[("authorization", &token)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // And on the working store: login, refusals, logout, revocation.
    let app_up = app(up);
    let (_, headers, _) = send(&app_up, "POST", "/login", &[], "alice").await;
    let pair = cookie_pair(&headers);
    send(
        &app_up,
        "GET",
        "/page",
        &[(
            "cookie",
            "__Host-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )],
        "",
    )
    .await;
    send(
        &app_up,
        "POST",
        "/note",
        &[("cookie", &pair), ("sec-fetch-site", "same-site")],
        "",
    )
    .await;
    send(
        &app_up,
        "POST",
        "/api/logout",
        &[("authorization", &token)],
        "",
    )
    .await;
    send(&app_up, "GET", "/api/me", &[("authorization", &token)], "").await;
    send(&app_up, "POST", "/logout", &[("cookie", &pair)], "").await;
    // Refresh tokens: login, rotation, reuse of the replaced token, logout.
    let (_, headers, first_body) = send(&app_up, "POST", "/auth/login", &[], "alice").await;
    let first = cookie_pair(&headers);
    let (_, headers, second_body) =
        send(&app_up, "POST", "/auth/refresh", &[("cookie", &first)], "").await;
    let second = cookie_pair(&headers);
    // Within the grace period: superseded (another tab, or a thief who refreshed first).
    let (status, _, _) = send(&app_up, "POST", "/auth/refresh", &[("cookie", &first)], "").await;
    assert_eq!(status, StatusCode::CONFLICT);
    *now.lock().unwrap() += 11; // past the grace period
    send(&app_up, "POST", "/auth/refresh", &[("cookie", &first)], "").await;
    send(&app_up, "POST", "/auth/logout", &[("cookie", &second)], "").await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "event=\"store_error\"",
        "kind=Backend",
        "event=\"login\"",
        "event=\"logout\"",
        "event=\"revoke_token\"",
        "reason=\"no_session\"",
        "reason=\"cross_origin\"",
        "reason=\"revoked_token\"",
        "event=\"refresh_login\"",
        "event=\"refresh\"",
        "event=\"refresh_superseded\"",
        "event=\"refresh_reused\"",
        "reason=\"reused_refresh_token\"",
        "event=\"refresh_logout\"",
    ] {
        assert!(log.contains(expected), "{expected} not logged in:\n{log}");
    }
    let session_value = pair.trim_start_matches("__Host-session=");
    let token_value = token.trim_start_matches("Bearer ");
    let cookie_value = cookie.trim_start_matches("__Host-session=");
    let refresh_values = [&first, &second].map(|c| c.trim_start_matches("__Secure-refresh="));
    let access_values =
        [&first_body, &second_body].map(|b| b.split('"').nth(3).unwrap().to_owned());
    assert!(
        access_values.iter().all(|a| a.len() > 100),
        "{access_values:?}"
    );
    let secrets = [session_value, cookie_value, token_value, "Alice"]
        .into_iter()
        .chain(refresh_values)
        .chain(access_values.iter().map(String::as_str));
    for secret in secrets {
        assert!(
            !log.contains(secret),
            "a secret leaked into the log:\n{log}"
        );
    }
}
