//! Property tests: round trips, and that any single-bit change to a token is refused.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use tokenstile::UnixTime;
use tokenstile::jwt::{self, Hs256Key, Validation};

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
}
