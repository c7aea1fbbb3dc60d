//! Refresh tokens through a real axum router: login, rotation, reuse, the two-tab race,
//! logout, log-out-everywhere, CSRF and a failing store.
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

fn refresh_app(auth: Auth<User>) -> Router {
    app(auth)
}

/// An `Auth` over an in-memory store whose clock the test moves.
fn clocked(policy: RefreshPolicy, mode: BearerMode) -> (Auth<User>, Arc<Mutex<u64>>) {
    let now = Arc::new(Mutex::new(1_700_000_000u64));
    let clock = {
        let now = Arc::clone(&now);
        move || UnixTime::from_secs(*now.lock().unwrap())
    };
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let auth = Auth::builder(SharedStore::new())
        .allowed_origin("http://localhost")
        .jwt(key, Validation::new().with_leeway(0))
        .bearer_mode(mode)
        .refresh_tokens(SharedStore::<RefreshFamily>::new(), policy, "/auth")
        .clock(clock)
        .build();
    (auth, now)
}

/// The access token of a token response, as an `Authorization` value.
fn bearer(body: &str) -> String {
    let token = body
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    format!("Bearer {token}")
}

async fn status_of(app: &Router, method: &str, uri: &str, headers: &[(&str, &str)]) -> StatusCode {
    send(app, method, uri, headers, "").await.0
}

/// `GET /api/me` with `authorization`: the status and the subject it answers.
async fn me_as(app: &Router, authorization: &str) -> (StatusCode, String) {
    let (status, _, sub) = send(
        app,
        "GET",
        "/api/me",
        &[("authorization", authorization)],
        "",
    )
    .await;
    (status, sub)
}

#[tokio::test]
async fn login_answers_an_access_token_and_a_narrow_refresh_cookie() {
    let app = refresh_app(testing::auth());
    let (status, headers, body) = send(&app, "POST", "/auth/login", &[], "alice").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(
        body.contains(r#""token_type":"Bearer","expires_in":900}"#),
        "{body}"
    );
    let cookie = set_cookie(&headers);
    assert!(cookie.starts_with("__Secure-refresh="), "{cookie}");
    for attribute in [
        "Path=/auth",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=1209600",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(!cookie.contains("Domain"));
    assert!(
        !body.contains(&cookie_pair(&headers)[17..]),
        "no refresh token in the body"
    );

    let (status, sub) = me_as(&app, &bearer(&body)).await;
    assert_eq!((status, sub.as_str()), (StatusCode::OK, "alice"));
}

#[tokio::test]
async fn rotation_replaces_both_tokens_and_reuse_ends_the_family_at_once() {
    let (auth, now) = clocked(RefreshPolicy::new(), BearerMode::Forbidden);
    let app = refresh_app(auth);
    let (_, headers, body) = send(&app, "POST", "/auth/login", &[], "alice").await;
    let first = cookie_pair(&headers);
    let first_access = bearer(&body);

    *now.lock().unwrap() += 60;
    let (status, headers, body) =
        send(&app, "POST", "/auth/refresh", &[("cookie", &first)], "").await;
    assert_eq!(status, StatusCode::OK);
    let second = cookie_pair(&headers);
    let second_access = bearer(&body);
    assert_ne!(first, second);
    assert_ne!(first_access, second_access);
    for access in [&first_access, &second_access] {
        assert_eq!(
            status_of(&app, "GET", "/api/me", &[("authorization", access)]).await,
            StatusCode::OK
        );
    }

    // Past the grace period, the replaced token is a stolen one.
    *now.lock().unwrap() += 11;
    let (status, headers, body) =
        send(&app, "POST", "/auth/refresh", &[("cookie", &first)], "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::UNAUTHORIZED, "not logged in\n")
    );
    let cleared = set_cookie(&headers);
    assert!(
        cleared.starts_with("__Secure-refresh=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The whole family is over: its current refresh token and every access token.
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &second)]).await,
        StatusCode::UNAUTHORIZED
    );
    for access in [&first_access, &second_access] {
        assert_eq!(
            status_of(&app, "GET", "/api/me", &[("authorization", access)]).await,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn two_tabs_refreshing_at_once_get_one_winner_and_a_409_that_keeps_the_cookie() {
    let (auth, now) = clocked(RefreshPolicy::new(), BearerMode::Forbidden);
    let app = refresh_app(auth);
    let (_, headers, _) = send(&app, "POST", "/auth/login", &[], "alice").await;
    let old = cookie_pair(&headers);
    let (status, headers, _) = send(&app, "POST", "/auth/refresh", &[("cookie", &old)], "").await;
    assert_eq!(status, StatusCode::OK);
    let new = cookie_pair(&headers);
    // The other tab, with the cookie it read before the winner's answer arrived.
    *now.lock().unwrap() += 2;
    let (status, headers, body) =
        send(&app, "POST", "/auth/refresh", &[("cookie", &old)], "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        headers.get(header::SET_COOKIE).is_none(),
        "the winner's cookie stays"
    );
    // Its retry carries the winner's cookie, and succeeds: the family lives on.
    let (status, _, body) = send(&app, "POST", "/auth/refresh", &[("cookie", &new)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &bearer(&body))]).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refused_and_refreshed() {
    let policy = RefreshPolicy::new().with_access_lifetime(30);
    let (auth, now) = clocked(policy, BearerMode::Rfc6750);
    let app = refresh_app(auth);
    let (_, headers, body) = send(&app, "POST", "/auth/login", &[], "alice").await;
    assert!(body.contains(r#""expires_in":30}"#), "{body}");
    let cookie = cookie_pair(&headers);
    *now.lock().unwrap() += 30;
    let (status, headers, _) = send(
        &app,
        "GET",
        "/api/me",
        &[("authorization", &bearer(&body))],
        "",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an OAuth client refreshes on this 401"
    );
    assert_eq!(
        headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer error=\"invalid_token\""
    );
    let (status, _, body) = send(&app, "POST", "/auth/refresh", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &bearer(&body))]).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_ends_the_family_and_its_access_tokens_at_once() {
    let auth = testing::auth::<User>();
    let app = refresh_app(auth.clone());
    let (access, cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    let (other_access, other_cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::OK
    );

    let (status, headers, _) = send(&app, "POST", "/auth/logout", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cleared = set_cookie(&headers);
    assert!(
        cleared.starts_with("__Secure-refresh=;") && cleared.contains("Path=/auth"),
        "{cleared}"
    );
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED
    );
    // The other device is untouched; logging out again, or without a cookie, still clears.
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &other_access)]).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app, "POST", "/auth/logout", &[("cookie", &cookie)]).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status_of(&app, "POST", "/auth/logout", &[]).await,
        StatusCode::NO_CONTENT
    );

    // Without a refresh cookie, or with a malformed one: 401, and the cookie is cleared.
    for headers in [vec![], vec![("cookie", "__Secure-refresh=nope")]] {
        let (status, answer, _) = send(&app, "POST", "/auth/refresh", &headers, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&answer).contains("Max-Age=0"));
    }
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &other_cookie)]).await,
        StatusCode::OK
    );
}

/// A refresh on a server whose clock runs 30 s ahead, then a logout on one behind it:
/// the revocation must still cover the access token the refresh issued. The policy's
/// 60-second leeway is that margin; the builder keeps it above the `Validation`'s 0.
#[tokio::test]
async fn logout_revokes_an_access_token_a_server_ahead_issued() {
    let (auth, now) = clocked(RefreshPolicy::new(), BearerMode::Forbidden);
    assert_eq!(auth.refresh().policy().leeway, 60);
    let app = refresh_app(auth);
    let start = *now.lock().unwrap();
    let (_, headers, _) = send(&app, "POST", "/auth/login", &[], "alice").await;
    let cookie = cookie_pair(&headers);

    *now.lock().unwrap() = start + 30;
    let (status, headers, body) =
        send(&app, "POST", "/auth/refresh", &[("cookie", &cookie)], "").await;
    assert_eq!(status, StatusCode::OK);
    let access = bearer(&body);
    let rotated = cookie_pair(&headers);
    assert_eq!(me_as(&app, &access).await.0, StatusCode::OK);

    *now.lock().unwrap() = start;
    let logout = send(&app, "POST", "/auth/logout", &[("cookie", &rotated)], "").await;
    assert_eq!(logout.0, StatusCode::NO_CONTENT);
    // After the logout's own access deadline (start + 900) but before the token's
    // expiry (start + 930): still refused.
    *now.lock().unwrap() = start + 925;
    assert_eq!(me_as(&app, &access).await.0, StatusCode::FORBIDDEN);
}

/// The builder raises the refresh policy's leeway to the `Validation`'s, never lowers it.
#[test]
fn the_refresh_leeway_is_at_least_the_validations() {
    for (policy, validation, kept) in [(120, 0, 120), (60, 300, 300), (0, 0, 0)] {
        let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
        let auth: Auth<User> = Auth::builder(SharedStore::new())
            .jwt(key, Validation::new().with_leeway(validation))
            .refresh_tokens(
                SharedStore::<RefreshFamily>::new(),
                RefreshPolicy::new().with_leeway(policy),
                "/auth",
            )
            .build();
        assert_eq!(
            auth.refresh().policy().leeway,
            kept,
            "{policy}, {validation}"
        );
    }
}

#[tokio::test]
async fn logout_everywhere_ends_every_family_of_the_subject() {
    let auth = testing::auth::<User>();
    let app = refresh_app(auth.clone());
    let (access, cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    let (bob_access, bob_cookie) = testing::refresh_login(&auth, "bob").await.unwrap();
    let user = User {
        name: "alice".into(),
        note: String::new(),
    };
    let session = testing::login_cookie(&auth, "alice", user).await.unwrap();
    let (status, _, _) = send(&app, "POST", "/everywhere", &[("cookie", &session)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &bob_access)]).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &bob_cookie)]).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_new_login_ends_the_family_the_browser_presented() {
    let auth = testing::auth::<User>();
    let app = refresh_app(auth.clone());
    let (access, cookie) = testing::refresh_login(&auth, "mallory").await.unwrap();
    let (status, _, body) =
        send(&app, "POST", "/auth/login", &[("cookie", &cookie)], "alice").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, _, sub) = send(
        &app,
        "GET",
        "/api/me",
        &[("authorization", &bearer(&body))],
        "",
    )
    .await;
    assert_eq!(sub, "alice");
}

#[tokio::test]
async fn the_cookie_endpoints_refuse_other_origins() {
    let auth = testing::auth::<User>();
    let app = refresh_app(auth.clone());
    let (_, cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    for uri in ["/auth/refresh", "/auth/logout", "/auth/login"] {
        for origin in [
            ("sec-fetch-site", "same-site"),
            ("origin", "http://localhost:9999"),
        ] {
            let (status, headers, _) =
                send(&app, "POST", uri, &[("cookie", &cookie), origin], "alice").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{uri} {origin:?}");
            assert!(headers.get(header::SET_COOKIE).is_none());
        }
    }
    // Without the layer too: the handlers check on their own.
    let bare = Router::new()
        .route("/auth/refresh", post(refresh::rotate))
        .with_state(auth);
    let cross = [("cookie", cookie.as_str()), ("sec-fetch-site", "same-site")];
    assert_eq!(
        status_of(&bare, "POST", "/auth/refresh", &cross).await,
        StatusCode::FORBIDDEN
    );
    // The refresh token was not used up.
    let same = [
        ("cookie", cookie.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    assert_eq!(
        status_of(&bare, "POST", "/auth/refresh", &same).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_failing_store_is_503_and_changes_no_cookie() {
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let down: Auth<User> = Auth::builder(Down)
        .jwt(key.clone(), Validation::new())
        .refresh_tokens(Down, RefreshPolicy::new(), "/auth")
        .build();
    let app_down = refresh_app(down);
    let up: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new())
        .refresh_tokens(
            SharedStore::<RefreshFamily>::new(),
            RefreshPolicy::new(),
            "/auth",
        )
        .build();
    let (access, cookie) = testing::refresh_login(&up, "alice").await.unwrap();
    for (uri, headers) in [
        ("/auth/login", vec![]),
        ("/auth/refresh", vec![("cookie", cookie.as_str())]),
        ("/auth/logout", vec![("cookie", cookie.as_str())]),
    ] {
        let (status, answer, body) = send(&app_down, "POST", uri, &headers, "alice").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(
            answer.get(header::SET_COOKIE).is_none(),
            "{uri}: no cookie change"
        );
        assert!(!body.contains("Backend"), "no internals: {body}");
    }
    let (status, _, _) = send(
        &app_down,
        "GET",
        "/api/me",
        &[("authorization", &access)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn without_refresh_tokens_configured_the_endpoints_are_500() {
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let auth: Auth<User> = Auth::builder(SharedStore::new())
        .jwt(key, Validation::new())
        .build();
    let app = refresh_app(auth);
    for uri in ["/auth/login", "/auth/refresh", "/auth/logout"] {
        assert_eq!(
            status_of(&app, "POST", uri, &[]).await,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_log_out_everywhere_outlives_long_access_tokens() {
    let policy = RefreshPolicy::new().with_access_lifetime(3600);
    let (auth, now) = clocked(policy, BearerMode::Forbidden);
    let app = refresh_app(auth.clone());
    let (access, _) = testing::refresh_login(&auth, "alice").await.unwrap();
    // The JWT half alone (tokens of `Jwt::issue` live 15 minutes) logs alice out.
    let other = testing::bearer_header(&auth, "alice").unwrap();
    let (status, _, _) = send(
        &app,
        "POST",
        "/api/everywhere",
        &[("authorization", &other)],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Past the lifetime of `Jwt::issue` tokens, the family's access token is still refused.
    *now.lock().unwrap() += 1000;
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::FORBIDDEN
    );
}

/// Browsers send UTF-8 cookie values as raw bytes; another cookie's value in UTF-8 must
/// not hide the refresh cookie from a logout, as it does not from a refresh.
#[tokio::test]
async fn logout_beside_a_non_ascii_cookie_ends_the_family() {
    let auth = testing::auth::<User>();
    let app = refresh_app(auth.clone());
    let (_, probe) = testing::refresh_login(&auth, "alice").await.unwrap();
    let (access, cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    let beside = |pair: &str| format!("theme=caf\u{e9}; {pair}");
    assert_eq!(
        status_of(
            &app,
            "POST",
            "/auth/refresh",
            &[("cookie", &beside(&probe))]
        )
        .await,
        StatusCode::OK,
        "a refresh finds the cookie beside a UTF-8 value"
    );
    assert_eq!(
        status_of(
            &app,
            "POST",
            "/auth/logout",
            &[("cookie", &beside(&cookie))]
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::FORBIDDEN,
        "the family's access token is revoked"
    );
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED,
        "the family is ended"
    );
}

#[tokio::test]
async fn logout_with_the_cookie_sent_twice_still_ends_the_real_family() {
    // A sibling subdomain can plant a second `__Secure-refresh` with a `Domain` attribute;
    // the browser then sends both. A refresh refuses to choose between them, but a logout
    // must not answer 204 and leave the real family live.
    let auth = testing::auth::<User>();
    let app = refresh_app(auth.clone());
    let (access, cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    let (_, planted) = testing::refresh_login(&auth, "mallory").await.unwrap();
    for both in [
        format!("{planted}; {cookie}"),
        format!("{cookie}; __Secure-refresh=garbage"),
    ] {
        assert_eq!(
            status_of(&app, "POST", "/auth/refresh", &[("cookie", &both)]).await,
            StatusCode::UNAUTHORIZED,
            "a refresh never picks one of two cookies"
        );
    }
    let both = format!("{planted}; {cookie}");
    assert_eq!(
        status_of(&app, "POST", "/auth/logout", &[("cookie", &both)]).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::FORBIDDEN,
        "the real family's access token is revoked"
    );
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &cookie)]).await,
        StatusCode::UNAUTHORIZED,
        "the real family is ended"
    );
}

#[tokio::test]
async fn a_refresh_cookie_at_the_root_path_cannot_be_shadowed_by_a_sibling() {
    // Under `Path=/` the cookie is `__Host-refresh`, which browsers refuse with a `Domain`:
    // what a sibling subdomain plants is a cookie of another name, so the refresh goes on
    // with the real one (under a narrower path both would be refused until the planted one
    // expired).
    let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
    let auth = Auth::builder(SharedStore::new())
        .allowed_origin("http://localhost")
        .jwt(key, Validation::new())
        .refresh_tokens(
            SharedStore::<RefreshFamily>::new(),
            RefreshPolicy::new(),
            "/",
        )
        .build();
    let app = refresh_app(auth.clone());
    let (status, headers, _) = send(&app, "POST", "/auth/login", &[], "alice").await;
    assert_eq!(status, StatusCode::OK);
    let set = set_cookie(&headers);
    assert!(
        set.starts_with("__Host-refresh=") && set.contains("; Path=/;") && !set.contains("Domain"),
        "{set}"
    );
    let cookie = cookie_pair(&headers);
    let (_, planted) = testing::refresh_login(&auth, "mallory").await.unwrap();
    let planted = planted.replace("__Host-refresh=", "__Secure-refresh=");
    let (status, headers, body) = send(
        &app,
        "POST",
        "/auth/refresh",
        &[("cookie", &format!("{planted}; {cookie}"))],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let next = cookie_pair(&headers);
    assert!(
        next.starts_with("__Host-refresh=") && next != cookie,
        "{next}"
    );
    let (_, sub) = me_as(&app, &bearer(&body)).await;
    assert_eq!(sub, "alice", "the refresh used the real cookie");

    // The `__Host-` cookie sent twice (a second one can only come from this host) is still
    // refused, and logout clears it at `Path=/`.
    let twice = format!("{next}; {next}");
    assert_eq!(
        status_of(&app, "POST", "/auth/refresh", &[("cookie", &twice)]).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, headers, _) = send(&app, "POST", "/auth/logout", &[("cookie", &next)], "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let cleared = set_cookie(&headers);
    assert!(
        cleared.starts_with("__Host-refresh=;")
            && cleared.contains("Max-Age=0")
            && cleared.contains("; Path=/;"),
        "{cleared}"
    );
}

#[tokio::test]
async fn a_bearer_log_out_everywhere_ends_the_refresh_families_too() {
    // Revoking a subject's access tokens alone would let a device with a refresh token
    // mint a new one, issued after the cutoff, at its next refresh.
    let (auth, now) = clocked(RefreshPolicy::new(), BearerMode::Forbidden);
    let app = refresh_app(auth.clone());
    let (access, cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    let (_, other_cookie) = testing::refresh_login(&auth, "alice").await.unwrap();
    assert_eq!(
        status_of(
            &app,
            "POST",
            "/api/everywhere",
            &[("authorization", &access)]
        )
        .await,
        StatusCode::OK
    );
    *now.lock().unwrap() += 5;
    for cookie in [&cookie, &other_cookie] {
        assert_eq!(
            status_of(&app, "POST", "/auth/refresh", &[("cookie", cookie)]).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        status_of(&app, "GET", "/api/me", &[("authorization", &access)]).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn tokens_the_app_mints_pass_its_own_audience_and_typ_checks() {
    // A policy that requires an audience and an RFC 9068 `typ`: the tokens `issue` and
    // a refresh login mint must carry both, or every one of them is refused.
    static AUDIENCES: [&str; 2] = ["my-api", "reports"];
    for audiences in [&AUDIENCES[..1], &AUDIENCES[..]] {
        let key = Hs256Key::new_from_slice(&[9u8; 32]).unwrap();
        let auth = Auth::builder(SharedStore::new())
            .allowed_origin("http://localhost")
            .jwt(
                key,
                Validation::new()
                    .with_issuer("https://auth.example")
                    .with_audiences(audiences)
                    .with_typ("at+jwt"),
            )
            .refresh_tokens(
                SharedStore::<RefreshFamily>::new(),
                RefreshPolicy::new(),
                "/auth",
            )
            .build();
        let app = refresh_app(auth.clone());
        let issued = format!("Bearer {}", auth.jwt().issue("alice").unwrap());
        let (_, _, body) = send(&app, "POST", "/auth/login", &[], "alice").await;
        for access in [issued, bearer(&body)] {
            let (status, sub) = me_as(&app, &access).await;
            assert_eq!(
                (status, sub.as_str()),
                (StatusCode::OK, "alice"),
                "{audiences:?}"
            );
            let token = access.trim_start_matches("Bearer ");
            let (claims, _) = auth
                .jwt()
                .verify::<StandardClaims>(token, true)
                .await
                .unwrap();
            assert_eq!(claims.aud, audiences, "{audiences:?}");
        }
    }
}
