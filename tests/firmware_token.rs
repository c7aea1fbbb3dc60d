//! The firmware example embeds a token "signed on the host": this test is that host.
//!
//! It signs the example's claims with `jsonwebtoken`, an independent implementation,
//! checks that the embedded constant is exactly that token, and checks that tokenstile
//! accepts it now and for decades to come (see `examples/firmware/src/shared.rs`).
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

#[path = "../examples/firmware/src/shared.rs"]
mod shared;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use shared::{
    AUDIENCE, DEVICE_ID, HOST_TOKEN, HOST_TOKEN_EXP, HOST_TOKEN_IAT, ISSUER, SCOPE, SHARED_SECRET,
};
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::{Clock, Error, SystemClock, UnixTime, VerifyError};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct DeviceClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    scope: &'a str,
    iat: u64,
    exp: u64,
}

const CLAIMS: DeviceClaims<'static> = DeviceClaims {
    iss: ISSUER,
    sub: DEVICE_ID,
    aud: AUDIENCE,
    scope: SCOPE,
    iat: HOST_TOKEN_IAT,
    exp: HOST_TOKEN_EXP,
};

const TWENTY_YEARS: u64 = 20 * 365 * 24 * 60 * 60;

#[test]
fn embedded_token_is_what_an_independent_signer_produces() {
    let fresh = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &CLAIMS,
        &EncodingKey::from_secret(SHARED_SECRET).unwrap(),
    )
    .unwrap();
    assert_eq!(
        HOST_TOKEN, fresh,
        "examples/firmware/src/shared.rs: set HOST_TOKEN to\n{fresh}\n"
    );
}

#[test]
fn embedded_token_verifies_until_2100() {
    let key = Hs256Key::new_from_slice(SHARED_SECRET).unwrap();
    let audiences = [AUDIENCE];
    // The policy the firmware applies.
    let policy = Validation::new()
        .with_issuer(ISSUER)
        .with_audiences(&audiences)
        .with_subject(DEVICE_ID);
    let mut scratch = [0u8; 512];

    let now = SystemClock.now();
    let verified =
        jwt::verify::<DeviceClaims, _>(&key, HOST_TOKEN, &policy, now, &mut scratch).unwrap();
    assert_eq!(verified.claims, CLAIMS);
    assert!(
        HOST_TOKEN_EXP > now.as_secs() + TWENTY_YEARS,
        "the firmware's embedded token expires within 20 years: move its exp further out"
    );

    let at_exp = UnixTime::from_secs(HOST_TOKEN_EXP);
    assert_eq!(
        jwt::verify::<DeviceClaims, _>(&key, HOST_TOKEN, &policy, at_exp, &mut scratch)
            .unwrap_err(),
        Error::Verify(VerifyError::Expired)
    );
    // Semihosting reports the time as 32-bit seconds: exp must be reachable by that clock.
    assert!(u32::try_from(HOST_TOKEN_EXP).is_ok());
}
