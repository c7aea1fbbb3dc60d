//! Known-answer tests from the RFCs, through the public API.
#![allow(clippy::unwrap_used)]

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Deserialize;
use tokenstile::jwt::{self, Audience, Hs256Key, Validation};
use tokenstile::{Error, UnixTime, VerifyError};

/// RFC 7515 Appendix A.1: the example HS256 JWS, byte for byte. Its header and payload
/// contain CRLF line breaks and spaces, which must be signed and verified exactly as sent.
const A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\
    .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
    .dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

#[derive(Debug, Deserialize)]
struct A1Claims<'a> {
    iss: &'a str,
    exp: u64,
    #[serde(rename = "http://example.com/is_root")]
    is_root: bool,
}

fn a1_key() -> Hs256Key {
    let secret = Base64UrlUnpadded::decode_vec(A1_KEY).unwrap();
    assert_eq!(secret.len(), 64);
    Hs256Key::new_from_slice(&secret).unwrap()
}

#[test]
fn rfc7515_a1_verifies() {
    let header = Base64UrlUnpadded::decode_vec(A1_TOKEN.split('.').next().unwrap()).unwrap();
    assert_eq!(header, b"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");

    let policy = Validation::new().with_issuer("joe");
    let mut scratch = [0u8; 256];
    let before_exp = UnixTime::from_secs(1_300_819_379);
    let v =
        jwt::verify::<A1Claims, _>(&a1_key(), A1_TOKEN, &policy, before_exp, &mut scratch).unwrap();
    assert_eq!(v.claims.iss, "joe");
    assert_eq!(v.claims.exp, 1_300_819_380);
    assert!(v.claims.is_root);
    assert_eq!(v.registered.iss, Some("joe"));
    assert_eq!(v.registered.exp, Some(UnixTime::from_secs(1_300_819_380)));
    assert_eq!(v.registered.aud, None::<Audience<'_>>);
}

#[test]
fn rfc7515_a1_expires_at_exp() {
    let mut scratch = [0u8; 256];
    let at_exp = UnixTime::from_secs(1_300_819_380);
    let err = jwt::verify::<A1Claims, _>(
        &a1_key(),
        A1_TOKEN,
        &Validation::new(),
        at_exp,
        &mut scratch,
    )
    .unwrap_err();
    assert_eq!(err, Error::Verify(VerifyError::Expired));
}

#[test]
fn rfc7515_a1_rejects_other_keys_and_issuers() {
    let mut scratch = [0u8; 256];
    let now = UnixTime::from_secs(1_300_000_000);
    let other = Hs256Key::new_from_slice(&[0u8; 64]).unwrap();
    let err = jwt::verify::<A1Claims, _>(&other, A1_TOKEN, &Validation::new(), now, &mut scratch)
        .unwrap_err();
    assert_eq!(err, Error::Verify(VerifyError::Signature));
    let policy = Validation::new().with_issuer("jane");
    let err =
        jwt::verify::<A1Claims, _>(&a1_key(), A1_TOKEN, &policy, now, &mut scratch).unwrap_err();
    assert_eq!(err, Error::Verify(VerifyError::Issuer));
}
