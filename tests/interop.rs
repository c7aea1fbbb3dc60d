//! Interoperability with the `jsonwebtoken` and `jwt` crates, in both directions.
#![allow(clippy::unwrap_used)]

mod common;

use common::SECRET;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokenstile::jwt::{self, Hs256Key, KeyRing, Validation};
use tokenstile::{Error, UnixTime, VerifyError};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    iat: u64,
    exp: u64,
    jti: String,
    role: String,
}

fn claims() -> Claims {
    Claims {
        iss: "https://auth.example".into(),
        sub: "user-42".into(),
        aud: "api".into(),
        iat: 1_700_000_000,
        exp: 1_700_000_900,
        jti: "4f1c2a".into(),
        role: "editor \"q\" / é 😀".into(),
    }
}

const AUD: &[&str] = &["api"];

fn their_validation() -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
    v.set_audience(AUD);
    v.set_issuer(&["https://auth.example"]);
    // jsonwebtoken reads the system clock; the fixed `exp` above is in the past, so the
    // expiry check is what differs between the libraries and is turned off here only.
    v.validate_exp = false;
    v
}

#[test]
fn tokens_signed_here_verify_there() {
    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let mut buf = [0u8; 512];
    let token = jwt::sign(&key, &claims(), &mut buf).unwrap();
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(SECRET).unwrap(),
        &their_validation(),
    )
    .unwrap();
    assert_eq!(data.claims, claims());
    assert_eq!(data.header.alg, Algorithm::HS256);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    assert_eq!(data.header.kid, None);
}

#[test]
fn key_ring_tokens_carry_kid_there() {
    let ring = KeyRing::<1>::new("main-2026", Hs256Key::new_from_slice(SECRET).unwrap()).unwrap();
    let mut buf = [0u8; 512];
    let token = jwt::sign(&ring, &claims(), &mut buf).unwrap();
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(SECRET).unwrap(),
        &their_validation(),
    )
    .unwrap();
    assert_eq!(data.header.kid.as_deref(), Some("main-2026"));
}

#[test]
fn tokens_signed_there_verify_here() {
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap();
    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let policy = Validation::new()
        .with_issuer("https://auth.example")
        .with_audiences(AUD);
    let mut scratch = [0u8; 512];
    let now = UnixTime::from_secs(1_700_000_100);
    let v = jwt::verify::<Claims, _>(&key, &token, &policy, now, &mut scratch).unwrap();
    assert_eq!(v.claims, claims());
    assert_eq!(v.registered.jti, Some("4f1c2a"));
    assert_eq!(v.registered.sub, Some("user-42"));

    // A jsonwebtoken HS512 token with the same secret is refused here.
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(),
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap();
    let err = jwt::verify::<Claims, _>(&key, &hs512, &policy, now, &mut scratch).unwrap_err();
    assert_eq!(err, Error::Decode(tokenstile::DecodeError::Algorithm));

    // And it expires here at `exp`, by the explicit clock.
    let later = UnixTime::from_secs(1_700_000_900);
    let err = jwt::verify::<Claims, _>(&key, &token, &policy, later, &mut scratch).unwrap_err();
    assert_eq!(err, Error::Verify(VerifyError::Expired));
}

/// The crate named `jwt` (0.16): its key is `hmac` 0.12's type.
type JwtCrateKey = hmac_0_12::Hmac<sha2_0_10::Sha256>;

fn jwt_crate_key() -> JwtCrateKey {
    <JwtCrateKey as hmac_0_12::Mac>::new_from_slice(SECRET).unwrap()
}

#[test]
fn the_jwt_crate_writes_the_same_token_and_reads_ours() {
    use jwt_crate::header::HeaderType;
    use jwt_crate::{AlgorithmType, SignWithKey, Token, VerifyWithKey};

    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let mut buf = [0u8; 512];
    let ours = jwt::sign(&key, &claims(), &mut buf).unwrap();

    // Same header, same claims, same key: both write the same bytes, escapes included.
    let header = jwt_crate::Header {
        algorithm: AlgorithmType::Hs256,
        type_: Some(HeaderType::JsonWebToken),
        ..jwt_crate::Header::default()
    };
    let theirs: String = Token::new(header, claims())
        .sign_with_key(&jwt_crate_key())
        .unwrap()
        .into();
    assert_eq!(theirs, ours);

    // Ours verifies there, and its claims read back.
    let verified: Token<jwt_crate::Header, Claims, _> =
        ours.verify_with_key(&jwt_crate_key()).unwrap();
    assert_eq!(verified.claims(), &claims());
    assert_eq!(verified.header().algorithm, AlgorithmType::Hs256);

    // A token of theirs with another claims order and no `typ` verifies here.
    #[derive(Serialize)]
    struct Reordered<'a> {
        exp: u64,
        role: &'a str,
        aud: &'a str,
        iss: &'a str,
    }
    let bare = jwt_crate::Header {
        algorithm: AlgorithmType::Hs256,
        ..jwt_crate::Header::default()
    };
    let reordered = Reordered {
        exp: 1_700_000_900,
        role: "admin",
        aud: "api",
        iss: "https://auth.example",
    };
    let theirs: String = Token::new(bare, reordered)
        .sign_with_key(&jwt_crate_key())
        .unwrap()
        .into();
    let policy = Validation::new()
        .with_issuer("https://auth.example")
        .with_audiences(AUD);
    let mut scratch = [0u8; 512];
    let now = UnixTime::from_secs(1_700_000_100);
    #[derive(Deserialize)]
    struct Role<'a> {
        role: &'a str,
    }
    let v = jwt::verify::<Role<'_>, _>(&key, &theirs, &policy, now, &mut scratch).unwrap();
    assert_eq!(v.claims.role, "admin");
    assert_eq!(v.registered.exp, Some(UnixTime::from_secs(1_700_000_900)));
}

/// Bytes as `serde_bytes` passes them (`serialize_bytes`, `deserialize_byte_buf`).
mod as_bytes {
    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut v = Vec::new();
                while let Some(b) = seq.next_element()? {
                    v.push(b);
                }
                Ok(v)
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}

/// Bytes `sign` writes (an array of numbers, as `serde_json` writes them) read back into
/// the same type here and with `jsonwebtoken` (`serde_json`).
#[test]
fn bytes_signed_here_read_back_here_and_there() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct WithBytes {
        exp: u64,
        #[serde(with = "as_bytes")]
        blob: Vec<u8>,
    }
    let claims = WithBytes {
        exp: 1_700_000_900,
        blob: vec![0, 1, 255],
    };
    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let mut buf = [0u8; 512];
    let token = jwt::sign(&key, &claims, &mut buf).unwrap();
    let mut scratch = [0u8; 512];
    let ours = jwt::verify::<WithBytes, _>(
        &key,
        token,
        &Validation::new(),
        UnixTime::from_secs(1_700_000_000),
        &mut scratch,
    )
    .unwrap();
    assert_eq!(ours.claims, claims);
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let theirs = jsonwebtoken::decode::<WithBytes>(
        token,
        &DecodingKey::from_secret(SECRET).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(theirs.claims, claims);
}
