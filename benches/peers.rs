//! The peer crates, each set up once with the fixture's key, claims and checks, so that the
//! benchmarks (`jwt.rs`) and the instruction counter (`instructions_peers.rs`) run the same
//! code for each:
//!
//! - `jsonwebtoken` 12 (`rust_crypto`), `jwt-simple` (`pure-rust`), `jwt-compact` and `jwt`
//!   0.16 sign the fixture's claims with the fixture's key;
//! - they verify with the same checks as tokenstile's benchmarks: signature, `alg` HS256,
//!   `exp` required and in the future, `iss` equal, `aud` containing `api`; the claims are
//!   then read into a struct (owned strings, since these crates require
//!   `DeserializeOwned`), and the length of its `role` is returned. `jwt` checks the
//!   signature and that the header's `alg` is its key's; the claims are checked here, on
//!   the struct it returns, as a user of that crate does.
//!
//! `jsonwebtoken` reads the system clock, so a token to verify must be valid now.

#![allow(clippy::arithmetic_side_effects)] // `now + 3600` on a clock far from the end of time

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::fixture::{AUDIENCE, AUDIENCES, ISSUER, SECRET, claims};

/// The fixture's claims, owned.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct OwnedClaims {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: String,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) jti: String,
    pub(crate) role: String,
}

/// The custom part of the claims for `jwt-simple`, which models the registered ones
/// itself.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Custom {
    role: String,
}

/// `jwt-compact` models only the time claims: issuer, subject, audience and ID are custom
/// claims there.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct CompactCustom {
    iss: String,
    sub: String,
    aud: String,
    jti: String,
    role: String,
}

/// `jwt-compact`'s clock, fixed at the fixture's time.
type CompactClock = Box<dyn Fn() -> chrono::DateTime<chrono::Utc>>;

/// `jwt`'s key: `hmac` 0.12 over `sha2` 0.10, keyed once and cloned per call.
type JwtCrateKey = hmac_0_12::Hmac<sha2_0_10::Sha256>;

/// Keys and verification settings of the peers.
pub(crate) struct Peers {
    now: u64,
    encoding_key: jsonwebtoken::EncodingKey,
    header: jsonwebtoken::Header,
    decoding_key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
    simple_key: jwt_simple::prelude::HS256Key,
    simple_options: jwt_simple::prelude::VerificationOptions,
    compact_key: jwt_compact::alg::Hs256Key,
    compact_header: jwt_compact::Header,
    compact_time: jwt_compact::TimeOptions<CompactClock>,
    jwt_crate_key: JwtCrateKey,
}

impl Peers {
    /// The peers with the fixture's key; `now` is the time their tokens are issued at (and
    /// `jwt-simple`'s and `jwt-compact`'s clock, which take one, and the time `jwt`'s
    /// tokens are checked at here).
    pub(crate) fn new(now: u64) -> Self {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(AUDIENCES);
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = 0;
        let clock: CompactClock = Box::new(move || datetime(now));
        Self {
            now,
            encoding_key: jsonwebtoken::EncodingKey::from_secret(SECRET).expect("a key"),
            header: jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            decoding_key: jsonwebtoken::DecodingKey::from_secret(SECRET).expect("a key"),
            validation,
            simple_key: jwt_simple::prelude::HS256Key::from_bytes(SECRET),
            simple_options: jwt_simple::prelude::VerificationOptions {
                allowed_issuers: Some(HashSet::from([ISSUER.to_owned()])),
                allowed_audiences: Some(HashSet::from([AUDIENCE.to_owned()])),
                time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(0)),
                artificial_time: Some(jwt_simple::prelude::UnixTimeStamp::from_secs(now)),
                ..Default::default()
            },
            compact_key: jwt_compact::alg::Hs256Key::new(SECRET),
            compact_header: jwt_compact::Header::empty().with_token_type("JWT"),
            compact_time: jwt_compact::TimeOptions::new(chrono::Duration::zero(), clock),
            jwt_crate_key: <JwtCrateKey as hmac_0_12::Mac>::new_from_slice(SECRET).expect("a key"),
        }
    }

    /// `jsonwebtoken` signs the fixture's claims.
    pub(crate) fn sign_jsonwebtoken(&self) -> String {
        let claims = core::hint::black_box(claims(self.now));
        jsonwebtoken::encode(&self.header, &claims, &self.encoding_key).expect("signs")
    }

    /// `jwt-simple` signs the fixture's claims, built in its own claims type.
    pub(crate) fn sign_jwt_simple(&self) -> String {
        use jwt_simple::prelude::*;
        let claims = JWTClaims {
            issued_at: Some(UnixTimeStamp::from_secs(self.now)),
            expires_at: Some(UnixTimeStamp::from_secs(self.now + 3600)),
            invalid_before: None,
            issuer: Some(ISSUER.to_owned()),
            subject: Some("user-42".to_owned()),
            audiences: Some(Audiences::AsString(AUDIENCE.to_owned())),
            jwt_id: Some("c9f0f895fb".to_owned()),
            nonce: None,
            custom: Custom {
                role: "editor".to_owned(),
            },
        };
        let claims = core::hint::black_box(claims);
        self.simple_key.authenticate(claims).expect("signs")
    }

    /// `jwt-compact` signs the fixture's claims, built in its own claims type.
    pub(crate) fn sign_jwt_compact(&self) -> String {
        use jwt_compact::AlgorithmExt;
        let mut claims = jwt_compact::Claims::new(compact_custom());
        claims.issued_at = Some(datetime(self.now));
        claims.expiration = Some(datetime(self.now + 3600));
        let claims = core::hint::black_box(claims);
        jwt_compact::alg::Hs256
            .token(&self.compact_header, &claims, &self.compact_key)
            .expect("signs")
    }

    /// `jwt` signs the fixture's claims, under the same header as tokenstile's,
    /// `{"alg":"HS256","typ":"JWT"}`.
    pub(crate) fn sign_jwt_crate(&self) -> String {
        use jwt_crate::{AlgorithmType, Header, SignWithKey, Token, header::HeaderType};
        let header = Header {
            algorithm: AlgorithmType::Hs256,
            type_: Some(HeaderType::JsonWebToken),
            ..Header::default()
        };
        let claims = core::hint::black_box(claims(self.now));
        Token::new(header, claims)
            .sign_with_key(&self.jwt_crate_key)
            .expect("signs")
            .into()
    }

    /// `jsonwebtoken` verifies `token` and reads its claims.
    pub(crate) fn verify_jsonwebtoken(&self, token: &str) -> OwnedClaims {
        jsonwebtoken::decode::<OwnedClaims>(token, &self.decoding_key, &self.validation)
            .expect("verifies")
            .claims
    }

    /// `jwt-simple` verifies `token` and reads its claims; the length of `role`.
    pub(crate) fn verify_jwt_simple(&self, token: &str) -> usize {
        use jwt_simple::prelude::MACLike;
        let claims = self
            .simple_key
            .verify_token::<Custom>(token, Some(self.simple_options.clone()))
            .expect("verifies");
        assert!(claims.expires_at.is_some(), "exp is required");
        claims.custom.role.len()
    }

    /// `jwt-compact` verifies `token` and reads its claims; the length of `role`.
    pub(crate) fn verify_jwt_compact(&self, token: &str) -> usize {
        use jwt_compact::{AlgorithmExt, UntrustedToken};
        let untrusted = UntrustedToken::new(token).expect("parses");
        let checked = jwt_compact::alg::Hs256
            .validator::<CompactCustom>(&self.compact_key)
            .validate(&untrusted)
            .expect("verifies");
        let claims = checked.claims();
        claims
            .validate_expiration(&self.compact_time)
            .expect("not expired");
        assert_eq!(claims.custom.iss, ISSUER);
        assert_eq!(claims.custom.aud, AUDIENCE);
        claims.custom.role.len()
    }

    /// `jwt` verifies `token` (the signature, and `alg` against its key) and reads its
    /// claims, which are then checked here: `exp` in the future, `iss` equal, `aud` the
    /// audience; the length of `role`.
    pub(crate) fn verify_jwt_crate(&self, token: &str) -> usize {
        use jwt_crate::{Header, Token, VerifyWithKey};
        let verified: Token<Header, OwnedClaims, _> = token
            .verify_with_key(&self.jwt_crate_key)
            .expect("verifies");
        let claims = verified.claims();
        assert!(claims.exp > self.now, "not expired");
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
        claims.role.len()
    }
}

fn compact_custom() -> CompactCustom {
    CompactCustom {
        iss: ISSUER.to_owned(),
        sub: "user-42".to_owned(),
        aud: AUDIENCE.to_owned(),
        jti: "c9f0f895fb".to_owned(),
        role: "editor".to_owned(),
    }
}

fn datetime(secs: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(i64::try_from(secs).expect("a date"), 0).expect("a date")
}
