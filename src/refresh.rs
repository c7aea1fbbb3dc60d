//! Short-lived JWTs that can still be logged out: refresh tokens with rotation and reuse
//! detection.
//!
//! A JWT can't be called back, so access tokens are made short-lived (minutes), and a
//! long-lived opaque **refresh token** gets new ones. Each login on a device starts a
//! **family**; every refresh replaces the refresh token, and presenting one the family no
//! longer has ends the family at once, with every access token issued from it. This is the
//! refresh-token rotation of the OAuth 2.0 Security Best Current Practice ([RFC 9700
//! §4.14.2]).
//!
//! | step | call | store |
//! |---|---|---|
//! | login | [`RefreshPolicy::issue`] | creates the family (a [`Family`] record) |
//! | every request | [`jwt::verify_not_revoked`](crate::jwt::verify_not_revoked) on the access token | one lookup: is the token's `sid` revoked? |
//! | access token expired | [`RefreshPolicy::refresh`] | one compare-and-swap on the family |
//! | reused refresh token | (inside `refresh`) | family removed, its `sid` revoked |
//! | logout on this device | [`RefreshPolicy::logout`] | its `sid` revoked, family removed |
//! | "where am I signed in" | [`RefreshPolicy::list`], [`RefreshPolicy::end_family`] | the subject's families |
//! | log out everywhere | [`RefreshPolicy::logout_everywhere`] | families removed, subject watermark raised |
//!
//! Families are session records whose data is a [`Family<D>`], filed under the digest of
//! the family ID and indexed under a subject key of their own (so they never show up
//! among a subject's sessions), and revocations of access tokens by family go through
//! [`RevocationStore`]. Any store that implements `SessionStore<Family<D>> +
//! RevocationStore` holds refresh tokens, with no code of its own: a Redis or SQL store is
//! the sessions' own (it serves every data type); the in-memory stores hold one data type
//! each, so families get a store of their own (`SharedStore<Family<D>>`,
//! `MemoryStore<Family<D>, S, R>`), and that store holds the revocations too: verify
//! access tokens against it ([`verify_not_revoked`](crate::jwt::verify_not_revoked)), and
//! raise the subject's watermark there.
//!
//! **Races.** Two refreshes of the same token at once (two tabs) are decided by the
//! store's compare-and-swap: one gets the new tokens, the other
//! [`RefreshError::Superseded`]. Within [`grace_period`](RefreshPolicy::grace_period)
//! seconds of a refresh, the token it replaced keeps getting `Superseded`; after that, it
//! counts as reused. The family remembers only the token its latest refresh replaced:
//! once that successor has itself been refreshed, the token before it counts as reused
//! even within the grace period (a third tab still holding it ends the family). Never
//! are there two live successors, and two requests racing with the same token never end
//! a family.
//!
//! The price of the grace period: a thief who refreshes a stolen token first, with the
//! legitimate holder presenting the same token within the grace period, goes undetected
//! (the holder gets `Superseded`, not `Reused`). A client that gets `Superseded` and holds
//! no newer token (a browser whose cookie jar was not updated by a refresh of its own) may
//! be facing that: log `Superseded` refusals, and keep the grace period short, or set it
//! to zero where clients never refresh concurrently.
//!
//! **Storage.** One family record per login (the record's fixed fields, two 32-byte
//! digests, a generation counter and a time, plus `D`), and one revocation entry per
//! family ended by reuse, logout, [`end_family`](RefreshPolicy::end_family) or to make
//! room under a [subject limit](RefreshPolicy::subject_limit), kept for the access-token
//! lifetime plus the leeway. [`logout_everywhere`](RefreshPolicy::logout_everywhere)
//! raises the subject's watermark instead, and says what that leaves valid.
//!
//! On a store of fixed capacity ([`MemoryStore`](crate::store::MemoryStore),
//! [`SharedStore::with_capacity`](crate::store::SharedStore::with_capacity)), size the
//! revocation table for every family ended within one access-token lifetime plus the
//! leeway, at the peak rate, and rate-limit logins per subject: any account can end
//! families as fast as it logs in and out. A full table fails the next revocation with
//! `Capacity`, the one that reuse detection writes included
//! ([`RefreshError::Reused`] then carries the error: the family is ended, but the access
//! tokens issued from it stay valid until they expire). Every other ending revokes first
//! and removes the family after: a full table fails the logout (or `end_family`, or
//! the refresh that finds a family expired) with the family still there, to be ended
//! by the next try.
//!
//! **Carrying the refresh token.** For a browser, a cookie of its own: [`COOKIE_NAME`]
//! with `Path` limited to the refresh endpoint, so no other request carries it, or
//! [`HOST_COOKIE_NAME`] under `Path=/`, which no sibling subdomain can plant
//! ([`cookie_options`] weighs the two). For other clients, the response body.
//!
//! ```
//! use tokenstile::jwt::{self, Hs256Key, Validation};
//! use tokenstile::refresh::{RefreshError, RefreshPolicy};
//! use tokenstile::store::{block_on, MemoryStore};
//! use tokenstile::{Error, UnixTime, VerifyError};
//!
//! let (mut rng, key) = (getrandom::SysRng, Hs256Key::new_from_slice(&[7; 32])?);
//! let policy = RefreshPolicy::new(); // access 15 min, refresh 14 days, family 30 days
//! let mut store: MemoryStore<_, 64, 64> = MemoryStore::new();
//! let now = UnixTime::from_secs(1_700_000_000);
//!
//! // Login: a refresh token for the client, an access token signed from the grant.
//! let grant = block_on(policy.issue(&mut store, &mut rng, "ann", "ann's phone", now))?;
//! let mut buf = [0u8; 512];
//! let access = jwt::sign(&key, &grant.access.claims(None, "ann"), &mut buf)?.to_owned();
//!
//! // 15 minutes later: the access token has expired; the refresh token gets new ones.
//! let later = now.saturating_add(15 * 60);
//! let refreshed = block_on(policy.refresh(&mut store, &mut rng, &grant.refresh, later))?;
//! assert_eq!(refreshed.data, "ann's phone");
//!
//! // The old refresh token again, a minute later: stolen. Its family ends, and so does
//! // every access token issued from it.
//! let replay = block_on(policy.refresh(&mut store, &mut rng, &grant.refresh, later.saturating_add(60)));
//! assert!(matches!(replay, Err(RefreshError::Reused { .. })));
//! let mut scratch = [0u8; 512];
//! let check = block_on(jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
//!     &key, &access, &Validation::new(), &mut store, now, &mut scratch,
//! ));
//! assert!(check.is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [RFC 9700 §4.14.2]: https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
//! [`RevocationStore`]: crate::store::RevocationStore

mod family;
mod policy;
mod token;

pub use family::Family;
pub use policy::{AccessClaims, AccessGrant, Grant, RefreshError, RefreshPolicy, Refreshed};
pub use token::{RefreshToken, RefreshTokenError};

use crate::http::CookieOptions;

/// The name of the refresh-token cookie under a `Path` narrower than `/`: `__Secure-` makes
/// browsers refuse it over plain HTTP.
pub const COOKIE_NAME: &str = "__Secure-refresh";

/// The name of the refresh-token cookie under `Path=/`: `__Host-` also makes browsers
/// refuse it with a `Domain` attribute, so no other host (a sibling subdomain included) can
/// set or shadow it.
pub const HOST_COOKIE_NAME: &str = "__Host-refresh";

/// Cookie options for the refresh token, sent only to requests under `path`: your refresh
/// and logout endpoints, such as `"/auth"`, or `"/"`.
///
/// The two choices trade one risk for another. `__Host-` cookies must have `Path=/`, so:
///
/// - under a narrower `path` the cookie is [`COOKIE_NAME`] (`__Secure-`) and no other
///   request carries it (it stays out of every other handler and their logs), but a sibling
///   subdomain can plant a cookie of the same name with a `Domain` attribute. Alone, a
///   planted refresh token names a family the attacker started, which at worst logs the
///   victim into the attacker's account on that one endpoint's response; beside the real
///   one, it makes every refresh refuse both (a server cannot tell which is real) until it
///   expires, a new login included;
/// - under `"/"` the cookie is [`HOST_COOKIE_NAME`] (`__Host-`), which no other host can
///   set, and every request to the host carries it.
///
/// Choose `"/"` where a subdomain of the site's domain may serve content you do not control
/// (user pages, third-party hosting, a takeover of a stale DNS record). The cookie is
/// `HttpOnly`, `Secure` and `SameSite=Strict` either way, as [`CookieOptions::new`] makes it.
///
/// ```
/// use tokenstile::refresh::{self, COOKIE_NAME, HOST_COOKIE_NAME};
///
/// assert_eq!(refresh::cookie_options("/auth").name, COOKIE_NAME);
/// assert_eq!(refresh::cookie_options("/").name, HOST_COOKIE_NAME);
/// assert!(refresh::cookie_options("/").validate().is_ok());
/// ```
pub const fn cookie_options(path: &str) -> CookieOptions<'_> {
    let name = if matches!(path.as_bytes(), b"/") {
        HOST_COOKIE_NAME
    } else {
        COOKIE_NAME
    };
    CookieOptions::new().with_name(name).with_path(path)
}
