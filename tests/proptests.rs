//! Property tests: round trips, and that any single-bit change to a token is refused.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

extern crate alloc;

use alloc::collections::BTreeMap;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use tokenstile::DecodeError;
use tokenstile::UnixTime;
use tokenstile::jwt::{self, ClaimSet, Hs256Key, Validation};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    n: i64,
    flag: bool,
    tags: Vec<String>,
}

fn claims() -> impl Strategy<Value = Claims> {
    (
        any::<String>(),
        // A `NumericDate` is at most `i64::MAX`; beyond it, verification refuses the claim.
        1u64..=i64::MAX.unsigned_abs(),
        any::<i64>(),
        any::<bool>(),
        prop::collection::vec(any::<String>(), 0..4),
    )
        .prop_map(|(sub, exp, n, flag, tags)| Claims {
            sub,
            exp,
            n,
            flag,
            tags,
        })
}

fn verify_owned(key: &Hs256Key, token: &str) -> Result<Claims, tokenstile::Error> {
    #[derive(Deserialize)]
    struct Borrowed {
        sub: heapless::String<512>,
        exp: u64,
        n: i64,
        flag: bool,
        tags: heapless::Vec<heapless::String<512>, 4>,
    }
    let mut scratch = vec![0u8; token.len() * 3];
    let v = jwt::verify::<Borrowed, _>(
        key,
        token,
        &Validation::new(),
        UnixTime::EPOCH,
        &mut scratch,
    )?;
    let b = v.claims;
    Ok(Claims {
        sub: b.sub.as_str().to_owned(),
        exp: b.exp,
        n: b.n,
        flag: b.flag,
        tags: b.tags.iter().map(|t| t.as_str().to_owned()).collect(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sign_verify_round_trip(c in claims(), secret in prop::collection::vec(any::<u8>(), 32..100)) {
        let key = Hs256Key::new_from_slice(&secret).unwrap();
        let mut buf = vec![0u8; 8192];
        let token = jwt::sign(&key, &c, &mut buf).unwrap().to_owned();
        prop_assert_eq!(verify_owned(&key, &token).unwrap(), c.clone());

        // `encoded_len` predicts the length exactly from the claims' JSON.
        // (Control characters may be escaped more briefly than the serializer wrote them,
        // so then the prediction is an upper bound.)
        let json_len = {
            let mut b = vec![0u8; 8192];
            serde_json_core::to_slice(&c, &mut b).unwrap()
        };
        let expected = jwt::encoded_len(&key, json_len).unwrap();
        let has_controls = c.sub.chars().chain(c.tags.iter().flat_map(|t| t.chars())).any(|ch| ch < ' ');
        if has_controls {
            prop_assert!(token.len() <= expected);
        } else {
            prop_assert_eq!(token.len(), expected);
        }

        // A buffer one byte too small is a typed error, never a panic.
        let mut small = vec![0u8; token.len() - 1];
        prop_assert_eq!(jwt::sign(&key, &c, &mut small).unwrap_err(), tokenstile::EncodeError::BufferTooSmall);
    }

    #[test]
    fn any_single_bit_flip_is_refused(c in claims(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = Hs256Key::new_from_slice(common::SECRET).unwrap();
        let mut buf = vec![0u8; 8192];
        let token = jwt::sign(&key, &c, &mut buf).unwrap().to_owned();
        let mut bytes = token.clone().into_bytes();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        // A change that breaks UTF-8 cannot even be presented as a `&str`.
        if let Ok(mutated) = String::from_utf8(bytes) {
            prop_assert!(verify_owned(&key, &mutated).is_err(), "accepted a change at byte {}", i);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,300}") {
        let key = Hs256Key::new_from_slice(common::SECRET).unwrap();
        let mut scratch = [0u8; 512];
        let _ = jwt::verify::<serde::de::IgnoredAny, _>(&key, &s, &Validation::new(), UnixTime::EPOCH, &mut scratch);
    }

    /// Arbitrary headers and payloads under a valid MAC reach the header and payload
    /// readers: never a panic, never a refusal of the encoding or the MAC, and a payload
    /// accepted only if it is a JSON object (by `serde_json`, which reads a number beyond
    /// a float's range as valid JSON too when it ignores the value).
    #[test]
    fn signed_arbitrary_segments_are_read_strictly(
        header in prop_oneof![
            4 => Just(common::HS256.as_bytes().to_vec()),
            1 => json_like().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..40),
        ],
        payload in prop_oneof![
            2 => json_object().prop_map(String::into_bytes),
            2 => json_like().prop_map(|s| format!("{{{s}}}").into_bytes()),
            1 => json_like().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..80),
        ],
    ) {
        let key = Hs256Key::new_from_slice(common::SECRET).unwrap();
        let token = common::token_raw(&common::b64(&header), &common::b64(&payload));
        let mut scratch = [0u8; 512];
        let verdict = jwt::verify::<serde::de::IgnoredAny, _>(
            &key, &token, &Validation::new().with_required_set(ClaimSet::EMPTY), UnixTime::EPOCH, &mut scratch,
        );
        match verdict {
            Ok(_) => prop_assert!(
                serde_json::from_slice::<BTreeMap<String, serde::de::IgnoredAny>>(&payload).is_ok(),
                "accepted the payload {:?}", String::from_utf8_lossy(&payload)
            ),
            Err(e) => prop_assert!(
                !matches!(
                    e,
                    tokenstile::Error::Decode(
                        DecodeError::Segments | DecodeError::Base64 | DecodeError::SignatureLength
                    ) | tokenstile::Error::Verify(tokenstile::VerifyError::Signature)
                ),
                "{e:?}"
            ),
        }
    }
}

/// A JSON object as `serde_json` writes it, a name now and then repeated.
fn json_object() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| serde_json::to_string(&f).unwrap()),
        ".{0,8}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("[1,{\"a\":[]}]".to_owned()),
    ];
    let name = prop::sample::select(vec!["a", "b", "sub", "exp", "\u{e9}", "\\"]);
    prop::collection::vec((name, leaf), 0..6).prop_map(|members| {
        let members: Vec<String> = members
            .iter()
            .map(|(n, v)| format!("{}:{v}", serde_json::to_string(n).unwrap()))
            .collect();
        format!("{{{}}}", members.join(","))
    })
}

/// Text made of JSON's tokens and a few letters, mostly near-JSON.
fn json_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "\"",
            "\"a\"",
            "\"exp\"",
            "\"alg\"",
            "\"HS256\"",
            "0",
            "1",
            "-",
            ".",
            "e",
            "1700000000",
            "true",
            "null",
            " ",
            "\\",
            "\\u00e9",
            "\\ud800",
            "é",
            "\u{1}",
        ]),
        0..24,
    )
    .prop_map(|parts| parts.concat())
}
