//! Runs the operations whose work must not depend on the bytes of a secret or of a token
//! before its MAC has matched, once per input, for `.ci/constant-time`'s count under
//! callgrind: each call of `measured` is collected and dumped on its own, and every call
//! of one operation must execute exactly as many instructions as the others.
//!
//! - `verify-forged`: `jwt::verify` of tokens that fail the MAC check, with the fixture's
//!   header and payloads and signatures of random canonical base64url, and the fixture
//!   token itself with its signature changed in one character (so that the MAC matches
//!   in its first 0 to 30 bytes). Splitting, decoding the payload and the signature, the
//!   HMAC and the tag comparison all run; nothing after them does.
//! - `verify-malformed`: `jwt::verify` of the fixture token with one character of its
//!   payload replaced by one outside the alphabet (`+`, `/`, `=`, `!`, a space, DEL), at
//!   the start, inside and at the end: refused as [`DecodeError::Base64`] after the whole
//!   payload has been decoded, wherever the character is.
//! - `session-parse`: `SessionId::parse` of random valid IDs (decoding 43 characters).
//! - `session-encode`: `SessionId::encode` of random IDs.
//! - `refresh-parse`: `RefreshToken::parse` of random valid tokens (86 characters).
//!
//! The inputs come from a fixed seed and are built before the first measured call. The
//! counts are compared by `.ci/constant-time`; run by hand:
//!
//! ```sh
//! cargo build --release -p tokenstile-bench --bin constant-time
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect=constant_time::measured \
//!     --dump-after=constant_time::measured target/release/constant-time verify-forged
//! ```

#![allow(clippy::expect_used)] // a measuring tool: a failure is a bug to see at once

use core::hint::black_box;

use base64ct::{Base64UrlUnpadded, Encoding};
use rand_core::TryRng;
use tokenstile::jwt::{self, Hs256Key, Validation};
use tokenstile::refresh::RefreshToken;
use tokenstile::session::SessionId;
use tokenstile::{DecodeError, Error, UnixTime, VerifyError};

mod fixture;
mod rng;

use fixture::{AUDIENCES, Claims, ISSUER, SECRET, claims};
use rng::StandInRng;

/// A fixed clock, so that every run signs the same bytes.
const NOW: u64 = 1_767_225_600;

/// Random inputs per operation, besides the fixture's own variants.
const RANDOM: usize = 12;

fn main() {
    let op = std::env::args().nth(1).unwrap_or_default();
    let mut rng = StandInRng(0x5eed_1e55_c0de_f00d);
    let measured_calls = match op.as_str() {
        "verify-forged" => verify_forged(&mut rng),
        "verify-malformed" => verify_malformed(),
        "session-parse" => session_parse(&mut rng),
        "session-encode" => session_encode(&mut rng),
        "refresh-parse" => refresh_parse(&mut rng),
        _ => {
            eprintln!(
                "usage: constant-time \
                 verify-forged|verify-malformed|session-parse|session-encode|refresh-parse"
            );
            std::process::exit(2);
        }
    };
    // For the script, which expects as many profiles.
    println!("{measured_calls}");
}

/// Each call is one input: callgrind collects this function (and its callees) and dumps a
/// profile each time it returns.
#[inline(never)]
fn measured<R>(op: impl FnOnce() -> R) -> R {
    op()
}

/// Runs `op` on the first input once unmeasured, so that anything done once (the detection
/// of CPU features) is done, then on each input once measured, and checks each result;
/// returns how many calls were measured.
fn measure_each<I, R: core::fmt::Debug>(
    inputs: &[I],
    mut op: impl FnMut(&I) -> R,
    expected: impl Fn(&R) -> bool,
) -> usize {
    if let Some(first) = inputs.first() {
        black_box(op(first));
    }
    for input in inputs {
        let result = measured(|| op(input));
        assert!(expected(&result), "unexpected result {result:?}");
    }
    inputs.len()
}

fn session_parse(rng: &mut StandInRng) -> usize {
    let ids: Vec<String> = (0..RANDOM)
        .map(|_| {
            SessionId::generate(&mut *rng)
                .expect("the stand-in RNG never fails")
                .encode_string()
        })
        .collect();
    measure_each(
        &ids,
        |id| SessionId::parse(black_box(id)).map(|_| ()),
        Result::is_ok,
    )
}

fn session_encode(rng: &mut StandInRng) -> usize {
    let ids: Vec<SessionId> = (0..RANDOM)
        .map(|_| SessionId::generate(&mut *rng).expect("the stand-in RNG never fails"))
        .collect();
    let mut out = [0u8; SessionId::ENCODED_LEN];
    measure_each(
        &ids,
        |id| black_box(id).encode(&mut out).len(),
        |&len| len == SessionId::ENCODED_LEN,
    )
}

fn refresh_parse(rng: &mut StandInRng) -> usize {
    let tokens: Vec<String> = (0..RANDOM).map(|_| random_base64(rng, 64)).collect();
    measure_each(
        &tokens,
        |token| RefreshToken::parse(black_box(token)).map(|_| ()),
        Result::is_ok,
    )
}

/// The fixture token, its key, and the policy and clock that accept it.
struct Fixture {
    key: Hs256Key,
    token: String,
    policy: Validation<'static>,
    now: UnixTime,
}

impl Fixture {
    fn new() -> Self {
        let key = Hs256Key::new_from_slice(SECRET).expect("a 32-byte key");
        let mut buf = [0u8; 512];
        let token = jwt::sign(&key, &claims(NOW), &mut buf)
            .expect("the fixture signs")
            .to_owned();
        Self {
            key,
            token,
            policy: Validation::new()
                .with_issuer(ISSUER)
                .with_audiences(AUDIENCES),
            now: UnixTime::from_secs(NOW),
        }
    }

    fn segments(&self) -> (&str, &str, &str) {
        let mut parts = self.token.split('.');
        let mut next = || parts.next().expect("three segments");
        (next(), next(), next())
    }

    /// Verifies each token as [`measure_each`] runs an operation, and checks its verdict.
    fn verify_each(
        &self,
        tokens: &[String],
        expected: impl Fn(&Result<(), Error>) -> bool,
    ) -> usize {
        let mut scratch = [0u8; 512];
        let verify = |token: &String| {
            jwt::verify::<Claims<'_>, _>(
                &self.key,
                black_box(token),
                &self.policy,
                self.now,
                &mut scratch,
            )
            .map(|_| ())
        };
        measure_each(tokens, verify, expected)
    }
}

fn verify_forged(rng: &mut StandInRng) -> usize {
    let fixture = Fixture::new();
    let (header, payload, signature) = fixture.segments();
    let payload_len = Base64UrlUnpadded::decode_vec(payload)
        .expect("the fixture's payload decodes")
        .len();
    let mut tokens: Vec<String> = (0..RANDOM)
        .map(|_| {
            let payload = random_base64(rng, payload_len);
            format!("{header}.{payload}.{}", random_base64(rng, 32))
        })
        .collect();
    // The fixture's MAC with one character changed: the first 6 * at / 8 bytes still match.
    for at in [0, 1, 8, 20, 40, 41] {
        let other = if signature.chars().nth(at) == Some('A') {
            'B'
        } else {
            'A'
        };
        let forged = with_char_at(signature, at, other);
        tokens.push(format!("{header}.{payload}.{forged}"));
    }
    fixture.verify_each(&tokens, |verdict| {
        matches!(verdict, Err(Error::Verify(VerifyError::Signature)))
    })
}

fn verify_malformed() -> usize {
    let fixture = Fixture::new();
    let (header, payload, signature) = fixture.segments();
    let last = payload.len().saturating_sub(1);
    let mut tokens = Vec::new();
    for at in [0, 1, 17, 100, last.saturating_sub(1), last] {
        for bad in ['+', '/', '=', '!', ' ', '\u{7f}'] {
            let malformed = with_char_at(payload, at, bad);
            tokens.push(format!("{header}.{malformed}.{signature}"));
        }
    }
    fixture.verify_each(&tokens, |verdict| {
        matches!(verdict, Err(Error::Decode(DecodeError::Base64)))
    })
}

/// `len` bytes from `rng`, in canonical unpadded base64url.
fn random_base64(rng: &mut StandInRng, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rng.try_fill_bytes(&mut bytes).expect("infallible");
    Base64UrlUnpadded::encode_string(&bytes)
}

/// `text` with its character at `at` replaced by `c`.
fn with_char_at(text: &str, at: usize, c: char) -> String {
    text.char_indices()
        .map(|(i, old)| if i == at { c } else { old })
        .collect()
}
