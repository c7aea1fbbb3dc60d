//! The extractors and helpers through a real axum router, on an in-memory store and on a
//! store that always fails.
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

use common::*;

#[tokio::test]
async fn login_sets_a_host_cookie_that_opens_the_page() {
    let auth = testing::auth::<User>();
    let app = app(auth);
    let (status, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    assert_eq!(status, StatusCode::OK);
    let cookie = set_cookie(&headers);
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    for attribute in [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=28800",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(!cookie.contains("Domain"));
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");

    let pair = cookie_pair(&headers);
    let (status, _, body) = send(&app, "GET", "/page", &[("cookie", &pair)], "").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice:"));
    let (_, _, body) = send(&app, "GET", "/maybe", &[("cookie", &pair)], "").await;
    assert_eq!(body, "alice");
    let (_, _, body) = send(&app, "GET", "/maybe", &[], "").await;
    assert_eq!(body, "anonymous");
}

#[tokio::test]
async fn without_a_session_apis_get_401_and_pages_a_redirect_when_asked() {
    let app_401 = app(testing::auth());
    let (status, _, body) = send(&app_401, "GET", "/page", &[("accept", "text/html")], "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::UNAUTHORIZED, "not logged in\n")
    );

    let auth: Auth<User> = Auth::builder(SharedStore::new())
        .login_page("/login")
        .build();
    let app = app(auth);
    let html = [("accept", "text/html,application/xhtml+xml")];
    let (status, headers, _) = send(&app, "GET", "/page", &html, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/login");
    // A script asking for JSON still gets 401.
    let json = [("accept", "application/json")];
    let (status, _, _) = send(&app, "GET", "/page", &json, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A malformed cookie, or two of them, is no session.
    for cookie in ["__Host-session=%%%", "__Host-session=a; __Host-session=b"] {
        let (status, _, _) = send(&app, "GET", "/page", &[("cookie", cookie)], "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{cookie}");
    }
}

#[tokio::test]
async fn logout_kills_the_cookie_value_and_clears_it() {
    let app = app(testing::auth());
    let (_, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    let pair = cookie_pair(&headers);
    let (status, headers, _) = send(&app, "POST", "/logout", &[("cookie", &pair)], "").await;
    assert_eq!(status, StatusCode::OK);
    let cleared = set_cookie(&headers);
    assert!(
        cleared.starts_with("__Host-session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The old value, replayed by hand, is refused at once.
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &pair)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A request carrying the session cookie twice (a stale copy, or one a sibling
/// subdomain planted) can't be served, but `Auth::logout` still ends the real session.
#[tokio::test]
async fn logout_with_the_session_cookie_sent_twice_ends_the_real_session() {
    let auth = testing::auth::<User>();
    let app = app(auth.clone());
    let pair = testing::login_cookie(&auth, "alice", alice())
        .await
        .unwrap();
    let both = format!("{pair}; __Host-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &both)], "").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "two copies: no session chosen"
    );
    let headers: HeaderMap = [(header::COOKIE, both.parse().unwrap())]
        .into_iter()
        .collect();
    let cleared = auth.logout(&headers).await.unwrap();
    assert!(
        cleared
            .header_value()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &pair)], "").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the real session is ended"
    );
}

#[tokio::test]
async fn one_request_ends_at_most_180_copies_of_the_session_cookie() {
    // A request made to carry the cookie thousands of times (no browser keeps more than
    // 180 cookies for a site): logging out, and logging in, read at most 180 copies, so
    // the request costs at most that many store calls.
    let store = Yielding::default();
    let auth: Auth<User> = Auth::builder(store.clone()).build();
    let copies = vec![format!("__Host-session={}", "A".repeat(43)); 5_000].join("; ");
    let headers: HeaderMap = [(header::COOKIE, copies.parse().unwrap())]
        .into_iter()
        .collect();
    let before = store.calls();
    let _cleared = auth.logout(&headers).await.unwrap();
    assert_eq!(store.calls() - before, 180);
    let before = store.calls();
    let _cookie = auth.login(&headers, "alice", alice()).await.unwrap();
    // The 180 removals and the creation.
    assert_eq!(store.calls() - before, 181);
}

#[tokio::test]
async fn login_over_a_presented_session_never_keeps_its_id() {
    let app = app(testing::auth());
    let (_, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    let first = cookie_pair(&headers);
    // Same user logs in again: a new session, under a new ID.
    let (_, headers, _) = send(&app, "POST", "/login", &[("cookie", &first)], "alice").await;
    let second = cookie_pair(&headers);
    assert_ne!(first, second);
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &first)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Another user logs in over it: the old session ends, a new one starts.
    let (_, headers, _) = send(&app, "POST", "/login", &[("cookie", &second)], "bob").await;
    let third = cookie_pair(&headers);
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &second)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, _, body) = send(&app, "GET", "/page", &[("cookie", &third)], "").await;
    assert_eq!(body, "bob:");
    // Rotation on privilege change.
    let (_, headers, _) = send(&app, "POST", "/sudo", &[("cookie", &third)], "").await;
    let fourth = cookie_pair(&headers);
    assert_ne!(third, fourth);
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &third)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &fourth)], "").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn login_with_the_session_cookie_sent_twice_ends_the_real_session() {
    let auth = testing::auth::<User>();
    let app = app(auth.clone());
    let old = testing::login_cookie(&auth, "alice", alice())
        .await
        .unwrap();
    let both = format!("{old}; __Host-session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let (status, headers, _) = send(&app, "POST", "/login", &[("cookie", &both)], "alice").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &old)], "").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the session before the login is ended"
    );
    let (status, _, _) = send(
        &app,
        "GET",
        "/page",
        &[("cookie", &cookie_pair(&headers))],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn logging_in_again_starts_a_whole_absolute_timeout() {
    let now = Arc::new(Mutex::new(1_700_000_000u64));
    let clock = {
        let now = Arc::clone(&now);
        move || UnixTime::from_secs(*now.lock().unwrap())
    };
    // The defaults: 30 minutes idle, 8 hours absolute.
    let auth: Auth<User> = Auth::builder(SharedStore::new()).clock(clock).build();
    let app = app(auth);
    let (_, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    let first = cookie_pair(&headers);
    // Kept in use until a minute before its absolute deadline.
    for _ in 0..23 {
        *now.lock().unwrap() += 20 * 60;
        let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &first)], "").await;
        assert_eq!(status, StatusCode::OK);
    }
    *now.lock().unwrap() += 19 * 60;
    let (status, headers, _) = send(&app, "POST", "/login", &[("cookie", &first)], "alice").await;
    assert_eq!(status, StatusCode::OK);
    let set = set_cookie(&headers);
    assert!(set.contains("Max-Age=28800"), "{set}");
    let second = cookie_pair(&headers);
    *now.lock().unwrap() += 5 * 60;
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &second)], "").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the new login outlives the old deadline"
    );
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &first)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn two_logins_racing_with_one_cookie_both_log_in() {
    // A form sent twice: both requests carry the session cookie from before, and their
    // store calls interleave.
    let auth: Auth<User> = Auth::builder(Yielding::default()).build();
    let old = testing::login_cookie(&auth, "alice", alice())
        .await
        .unwrap();
    let headers: HeaderMap = [(header::COOKIE, old.parse().unwrap())]
        .into_iter()
        .collect();
    let (a, b) = tokio::join!(
        auth.login(&headers, "alice", alice()),
        auth.login(&headers, "alice", alice())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let app = app(auth);
    for cookie in [a.header_value(), b.header_value()] {
        let pair = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &pair)], "").await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &old)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_everywhere_ends_every_session_and_token_of_the_subject() {
    let auth = testing::auth::<User>();
    let app = app(auth.clone());
    let (_, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    let laptop = cookie_pair(&headers);
    let (_, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    let phone = cookie_pair(&headers);
    let (_, headers, _) = send(&app, "POST", "/login", &[], "bob").await;
    let bob = cookie_pair(&headers);
    let token = testing::bearer_header(&auth, "alice").unwrap();
    let (status, _, _) = send(&app, "GET", "/api/me", &[("authorization", &token)], "").await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, _) = send(&app, "POST", "/everywhere", &[("cookie", &laptop)], "").await;
    assert_eq!(status, StatusCode::OK);
    for cookie in [&laptop, &phone] {
        let (status, _, _) = send(&app, "GET", "/page", &[("cookie", cookie)], "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &bob)], "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, "GET", "/api/me", &[("authorization", &token)], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Naming another subject than the session's is a mistake of the app: `500`, and
/// nothing ends (not "not logged in", which the session isn't).
#[tokio::test]
async fn logout_everywhere_with_another_subject_is_an_internal_error() {
    let auth = testing::auth::<User>();
    let wrong = |session: Session<User>| async move {
        let (_, cookie) = session.logout_everywhere("mallory").await?;
        Ok::<_, Rejection>(cookie)
    };
    let app = app(auth.clone()).merge(
        Router::new()
            .route("/wrong", post(wrong))
            .with_state(auth.clone()),
    );
    let (_, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    let cookie = cookie_pair(&headers);
    let (status, headers, body) = send(&app, "POST", "/wrong", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "internal error\n");
    assert!(headers.get(header::SET_COOKIE).is_none());
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn state_changing_requests_from_other_origins_are_refused() {
    let app = app(testing::auth());
    let (_, headers, _) = send(&app, "POST", "/login", &[], "alice").await;
    let pair = cookie_pair(&headers);
    let cookie = ("cookie", pair.as_str());

    for refused in [
        vec![cookie, ("sec-fetch-site", "same-site")],
        vec![cookie, ("sec-fetch-site", "cross-site")],
        vec![cookie, ("origin", "http://localhost:9999")],
        vec![cookie, ("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let (status, _, body) = send(&app, "POST", "/note", &refused, "pwned").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused:?}");
        assert_eq!(body, "cross-origin request refused\n");
        let (status, _, _) = send(&app, "POST", "/plain", &refused, "").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused:?}");
    }
    // Login CSRF too.
    let (status, _, _) = send(
        &app,
        "POST",
        "/login",
        &[("sec-fetch-site", "same-site")],
        "mallory",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, _, body) = send(&app, "GET", "/page", &[cookie], "").await;
    assert_eq!(body, "alice:", "nothing was written");

    for allowed in [
        vec![cookie, ("sec-fetch-site", "same-origin")],
        vec![cookie, ("origin", "http://localhost")],
        vec![cookie],
    ] {
        let (status, _, _) = send(&app, "POST", "/note", &allowed, "mine").await;
        assert_eq!(status, StatusCode::OK, "{allowed:?}");
    }
    // A WebSocket handshake is a `GET` that opens a channel: checked like a `POST`.
    let handshake = [
        cookie,
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    for (from, expected) in [
        (
            [
                ("sec-fetch-site", "same-site"),
                ("origin", "http://evil.localhost"),
            ],
            StatusCode::FORBIDDEN,
        ),
        (
            [
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://localhost"),
            ],
            StatusCode::OK,
        ),
    ] {
        let request = [&handshake[..], &from[..]].concat();
        let (status, _, body) = send(&app, "GET", "/page", &request, "").await;
        assert_eq!(status, expected, "{from:?}: {body}");
        let (status, _, _) = send(&app, "GET", "/plain", &request, "").await;
        assert_eq!(status, expected, "{from:?}, through the layer");
    }
    let (status, _, _) = send(
        &app,
        "GET",
        "/page",
        &[
            cookie,
            ("sec-fetch-mode", "websocket"),
            ("origin", "http://localhost:9999"),
        ],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Safe methods are never checked.
    let (status, _, _) = send(
        &app,
        "GET",
        "/page",
        &[cookie, ("sec-fetch-site", "cross-site")],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Bearer requests are exempt from the layer.
    let (status, _, _) = send(
        &app,
        "POST",
        "/plain",
        &[
            ("authorization", "Bearer x"),
            ("sec-fetch-site", "cross-site"),
        ],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Only a well-formed bearer credential exempts a request: a browser resends cached
    // `Basic` credentials by itself, and a malformed `Bearer` field is no credential.
    for authorization in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer a b",
        "Negotiate YII=",
    ] {
        let (status, _, _) = send(
            &app,
            "POST",
            "/plain",
            &[
                ("authorization", authorization),
                ("sec-fetch-site", "cross-site"),
            ],
            "",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{authorization}");
    }
    // Two `Authorization` fields are no credential either.
    let (status, _, _) = send(
        &app,
        "POST",
        "/plain",
        &[
            ("authorization", "Bearer x"),
            ("authorization", "Bearer x"),
            ("sec-fetch-site", "cross-site"),
        ],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bearer_status_policy() {
    let auth = testing::auth::<User>();
    let app = app(auth.clone());
    let token = testing::bearer_header(&auth, "alice").unwrap();
    let (status, _, body) = send(&app, "GET", "/api/me", &[("authorization", &token)], "").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "alice"));

    let (status, headers, _) = send(&app, "GET", "/api/me", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    let (status, _, _) = send(
        &app,
        "GET",
        "/api/me",
        &[("authorization", "Basic YTpi")],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // One character changed in the signature.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (status, headers, body) =
        send(&app, "GET", "/api/me", &[("authorization", &tampered)], "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::FORBIDDEN, "token refused\n")
    );
    assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    let (status, _, _) = send(
        &app,
        "GET",
        "/api/me",
        &[("authorization", "Bearer a b")],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Logout revokes the presented token only.
    let other = testing::bearer_header(&auth, "alice").unwrap();
    let (status, _, _) = send(
        &app,
        "POST",
        "/api/logout",
        &[("authorization", &token)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, "GET", "/api/me", &[("authorization", &token)], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without the revocation check, a revoked token still passes (until it expires).
    let (status, _, _) = send(
        &app,
        "GET",
        "/api/me-stateless",
        &[("authorization", &token)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, "GET", "/api/me", &[("authorization", &other)], "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(
        &app,
        "POST",
        "/api/everywhere",
        &[("authorization", &other)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&app, "GET", "/api/me", &[("authorization", &other)], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn expired_tokens_are_refused_by_the_clock() {
    let now = Arc::new(Mutex::new(1_700_000_000u64));
    let clock = {
        let now = Arc::clone(&now);
        move || UnixTime::from_secs(*now.lock().unwrap())
    };
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let auth: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new())
        .token_lifetime(60)
        .clock(clock)
        .build();
    let app = app(auth.clone());
    let token = testing::bearer_header(&auth, "alice").unwrap();
    let (status, _, _) = send(&app, "GET", "/api/me", &[("authorization", &token)], "").await;
    assert_eq!(status, StatusCode::OK);
    *now.lock().unwrap() += 60;
    let (status, _, _) = send(&app, "GET", "/api/me", &[("authorization", &token)], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rfc_6750_mode_answers_401_invalid_token() {
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let auth: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new())
        .bearer_mode(BearerMode::Rfc6750)
        .build();
    let app = app(auth.clone());
    let (status, headers, _) = send(
        &app,
        "GET",
        "/api/me",
        &[("authorization", "Bearer a.b.c")],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer error=\"invalid_token\""
    );
    let (status, headers, _) = send(
        &app,
        "GET",
        "/api/me",
        &[("authorization", "Bearer a b")],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer error=\"invalid_request\""
    );
    let (status, headers, _) = send(&app, "GET", "/api/me", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
}

#[tokio::test]
async fn the_app_can_replace_any_answer() {
    let auth: Auth<User> = Auth::builder(SharedStore::new())
        .on_rejection(|refusal, default| match refusal {
            Refusal::NoSession => (StatusCode::IM_A_TEAPOT, "log in first").into_response(),
            _ => default,
        })
        .build();
    let app = app(auth);
    let (status, _, body) = send(&app, "GET", "/page", &[], "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::IM_A_TEAPOT, "log in first")
    );
    let (status, _, _) = send(
        &app,
        "POST",
        "/plain",
        &[("sec-fetch-site", "cross-site")],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn concurrent_saves_conflict_instead_of_overwriting() {
    let auth = testing::auth::<User>();
    let app = app(auth.clone());
    let cookie = testing::login_cookie(&auth, "alice", alice())
        .await
        .unwrap();
    // Two requests load the same version; the second save is refused.
    let mut a = session_of(&auth, &cookie).await;
    let mut b = session_of(&auth, &cookie).await;
    a.data_mut().note = "first".into();
    a.save().await.unwrap();
    b.data_mut().note = "second".into();
    let refused = b.save().await.unwrap_err();
    assert_eq!(refused.refusal(), Refusal::Conflict);
    assert_eq!(refused.into_response().status(), StatusCode::CONFLICT);
    let (_, _, body) = send(&app, "GET", "/page", &[("cookie", &cookie)], "").await;
    assert_eq!(body, "Alice:first");
}

#[tokio::test]
async fn rotating_keeps_the_changes_not_yet_saved() {
    // Lowering a privilege: change the data, move to a new ID, save.
    let auth = testing::auth::<User>();
    let app = app(auth.clone());
    let mut admin = alice();
    admin.note = "admin".into();
    let cookie = testing::login_cookie(&auth, "alice", admin).await.unwrap();
    let mut session = session_of(&auth, &cookie).await;
    session.data_mut().note = "user".into();
    let rotated = session.rotate().await.unwrap();
    assert_eq!(session.data().note, "user", "the change is still there");
    session.save().await.unwrap();
    let pair = rotated.request_value().unwrap();
    let (_, _, body) = send(&app, "GET", "/page", &[("cookie", &pair)], "").await;
    assert_eq!(body, "Alice:user");
    let (status, _, _) = send(&app, "GET", "/page", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old ID is dead");

    // A save made by another request between this one's load and its rotation is not
    // overwritten: this request's save after the rotation conflicts, as it would have
    // without the rotation.
    let mut a = session_of(&auth, &pair).await;
    let mut b = session_of(&auth, &pair).await;
    b.data_mut().note = "written by b".into();
    b.save().await.unwrap();
    a.data_mut().note = "stale".into();
    let moved = a.rotate().await.unwrap();
    assert_eq!(a.save().await.unwrap_err().refusal(), Refusal::Conflict);
    let pair = moved.request_value().unwrap();
    let (_, _, body) = send(&app, "GET", "/page", &[("cookie", &pair)], "").await;
    assert_eq!(body, "Alice:written by b");
}

#[tokio::test]
async fn a_failing_store_is_503_and_never_logged_in() {
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let down: Auth<User> = Auth::builder(Down)
        .jwt(key.clone(), Validation::new())
        .build();
    let app_down = app(down);
    let (status, headers, body) = send(&app_down, "POST", "/login", &[], "alice").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get(header::SET_COOKIE).is_none(), "never logged in");
    assert_eq!(body, "service unavailable, try again later\n");

    // A real session and token, presented to a server whose store is down.
    let up: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new())
        .build();
    let cookie = testing::login_cookie(&up, "alice", alice()).await.unwrap();
    let token = testing::bearer_header(&up, "alice").unwrap();
    for (uri, header) in [
        ("/page", ("cookie", cookie.as_str())),
        ("/maybe", ("cookie", cookie.as_str())),
        ("/api/me", ("authorization", token.as_str())),
    ] {
        let (status, _, body) = send(&app_down, "GET", uri, &[header], "").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(!body.contains("Backend"), "no internals: {body}");
    }
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
    let (status, _, _) = send(&app_down, "POST", "/logout", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn an_allowed_origin_is_compared_as_browsers_write_it() {
    // A trailing slash, capitals or the default port in the configuration would otherwise
    // never match a browser's `Origin`, and refuse every form post of a browser that does
    // not send `Sec-Fetch-Site`.
    let auth: Auth<User> = Auth::builder(SharedStore::new())
        .allowed_origin("HTTPS://App.Example:443/")
        .build();
    let app = app(auth);
    for (origin, expected) in [
        ("https://app.example", StatusCode::OK),
        ("https://evil.example", StatusCode::FORBIDDEN),
        ("http://app.example", StatusCode::FORBIDDEN),
    ] {
        let (status, _, _) = send(&app, "POST", "/plain", &[("origin", origin)], "").await;
        assert_eq!(status, expected, "{origin}");
    }
}

#[test]
#[should_panic(expected = "is not an origin")]
fn an_allowed_origin_with_a_path_is_refused_at_startup() {
    let _ = Auth::builder(SharedStore::<User>::new()).allowed_origin("https://app.example/app");
}

#[test]
#[should_panic(expected = "needs a JWT key")]
fn refresh_tokens_without_a_key_are_refused_at_startup() {
    let _: Auth<User> = Auth::builder(SharedStore::new())
        .refresh_tokens(
            SharedStore::<RefreshFamily>::new(),
            RefreshPolicy::new(),
            "/auth",
        )
        .build();
}

#[test]
#[should_panic(expected = "can't be written in a token's header")]
fn a_typ_no_header_can_carry_is_refused_at_startup() {
    const LONG: &str = "application/a-media-type-name-far-longer-than-any-header-may-carry+jwt";
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let _: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new().with_typ(LONG))
        .build();
}

#[test]
#[should_panic(expected = "the session cookie can't be set")]
fn session_cookie_options_that_cannot_be_set_are_refused_at_startup() {
    // `__Host-` needs `Path=/`: every login would store a session and then fail.
    let _: Auth<User> = Auth::builder(SharedStore::new())
        .cookie(tokenstile::http::CookieOptions::new().with_path("/app"))
        .build();
}

#[test]
#[should_panic(expected = "the refresh cookie can't be set")]
fn a_refresh_cookie_path_that_cannot_be_set_is_refused_at_startup() {
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let _: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new())
        .refresh_tokens(
            SharedStore::<RefreshFamily>::new(),
            RefreshPolicy::new(),
            "auth",
        )
        .build();
}
