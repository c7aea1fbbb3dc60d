//! Signing with a chosen header `typ` (`jwt::sign_with`), and what verification makes of it.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use base64ct::{Base64UrlUnpadded, Encoding};
use common::{SECRET, mac_b64};
use serde::{Deserialize, Serialize};
use tokenstile::jwt::{self, Header, Hs256Key, KeyRing, Validation};
use tokenstile::{DecodeError, EncodeError, Error, UnixTime};

const NOW: u64 = 1_700_000_000;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Claims<'a> {
    sub: &'a str,
    exp: u64,
}

const CLAIMS: Claims<'static> = Claims {
    sub: "alice",
    exp: NOW + 60,
};

fn key() -> Hs256Key {
    Hs256Key::new_from_slice(SECRET).unwrap()
}

fn header_json(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    String::from_utf8(Base64UrlUnpadded::decode_vec(header).unwrap()).unwrap()
}

fn verify(token: &str, policy: &Validation<'_>) -> Result<String, Error> {
    let mut scratch = vec![0u8; token.len() * 3];
    jwt::verify::<Claims<'_>, _>(
        &key(),
        token,
        policy,
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .map(|v| v.claims.sub.to_owned())
}

#[test]
fn the_default_header_is_what_sign_writes() {
    let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
    let plain = jwt::sign(&key(), &CLAIMS, &mut a).unwrap();
    let with = jwt::sign_with(&key(), &Header::new(), &CLAIMS, &mut b).unwrap();
    assert_eq!(plain, with);
    assert_eq!(Header::default(), Header::new());
    assert_eq!(header_json(plain), r#"{"alg":"HS256","typ":"JWT"}"#);
}

#[test]
fn an_access_token_typ_needs_a_policy_that_asks_for_it() {
    let mut out = [0u8; 256];
    let header = Header::new().with_typ("at+jwt");
    let token = jwt::sign_with(&key(), &header, &CLAIMS, &mut out).unwrap();
    assert_eq!(header_json(token), r#"{"alg":"HS256","typ":"at+jwt"}"#);
    assert_eq!(
        token.len(),
        jwt::encoded_len_with(&key(), &header, r#"{"sub":"alice","exp":1700000060}"#.len())
            .unwrap()
    );
    // The signature is the HMAC of the first two segments, computed independently.
    let (input, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(sig, mac_b64(SECRET, input));

    let rfc9068 = Validation::new().with_typ("at+jwt");
    assert_eq!(verify(token, &rfc9068).as_deref(), Ok("alice"));
    assert_eq!(
        verify(token, &Validation::new().with_typ("application/at+jwt")).as_deref(),
        Ok("alice")
    );
    assert_eq!(
        verify(token, &Validation::new()),
        Err(Error::Decode(DecodeError::Type))
    );
    // And an ordinary token does not pass for an access token.
    let mut out = [0u8; 256];
    let ordinary = jwt::sign(&key(), &CLAIMS, &mut out).unwrap();
    assert_eq!(
        verify(ordinary, &rfc9068),
        Err(Error::Decode(DecodeError::Type))
    );
}

#[test]
fn a_header_without_typ() {
    let mut out = [0u8; 256];
    let header = Header::new().without_typ();
    assert_eq!(header.typ, None);
    let token = jwt::sign_with(&key(), &header, &CLAIMS, &mut out).unwrap();
    assert_eq!(header_json(token), r#"{"alg":"HS256"}"#);
    assert_eq!(
        token.len(),
        jwt::encoded_len_with(&key(), &header, r#"{"sub":"alice","exp":1700000060}"#.len())
            .unwrap()
    );
    // The default policy accepts a missing `typ`; one that names a type does not.
    assert_eq!(verify(token, &Validation::new()).as_deref(), Ok("alice"));
    assert_eq!(
        verify(token, &Validation::new().with_typ("JWT")),
        Err(Error::Decode(DecodeError::Type))
    );
}

#[test]
fn a_key_ring_adds_its_kid_after_the_typ() {
    let ring = KeyRing::<2>::new("k1", key()).unwrap();
    let mut out = [0u8; 256];
    for (header, expected) in [
        (Header::new(), r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#),
        (
            Header::new().with_typ("at+jwt"),
            r#"{"alg":"HS256","typ":"at+jwt","kid":"k1"}"#,
        ),
        (Header::new().without_typ(), r#"{"alg":"HS256","kid":"k1"}"#),
    ] {
        let token = jwt::sign_with(&ring, &header, &CLAIMS, &mut out).unwrap();
        assert_eq!(header_json(token), expected);
        let policy = match header.typ {
            Some("at+jwt") => Validation::new().with_typ("at+jwt"),
            _ => Validation::new(),
        };
        let mut scratch = [0u8; 512];
        let verified = jwt::verify::<Claims<'_>, _>(
            &ring,
            token,
            &policy,
            UnixTime::from_secs(NOW),
            &mut scratch,
        )
        .unwrap();
        assert_eq!(verified.claims, CLAIMS);
    }
}

#[test]
fn a_typ_that_would_need_escaping_is_refused() {
    let mut out = [0u8; 256];
    let long = "t".repeat(Header::MAX_TYP_LEN + 1);
    let longest = "t".repeat(Header::MAX_TYP_LEN);
    for bad in ["", "a\"b", "a\\b", "tab\there", "é", long.as_str()] {
        let header = Header::new().with_typ(bad);
        assert_eq!(
            jwt::sign_with(&key(), &header, &CLAIMS, &mut out),
            Err(EncodeError::Header),
            "{bad:?}"
        );
        assert_eq!(
            jwt::encoded_len_with(&key(), &header, 10),
            Err(EncodeError::Header)
        );
    }
    let header = Header::new().with_typ(&longest);
    let token = jwt::sign_with(&key(), &header, &CLAIMS, &mut out).unwrap();
    assert_eq!(
        verify(token, &Validation::new().with_typ(&longest)).as_deref(),
        Ok("alice")
    );
}
