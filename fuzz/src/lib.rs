//! The bodies of the fuzz targets, one plain function each.
//!
//! The libFuzzer binaries in `fuzz_targets/` call these on nightly; the crate's own
//! `tests/fuzz_regressions.rs` includes this file as a module and replays every file of
//! `fuzz/corpus/<target>/` through them on stable, so a committed seed or crash input keeps
//! guarding against regressions without libFuzzer.
//!
//! Each body panics (through `assert!`) only when an invariant of the library is broken;
//! any other panic comes from the library itself. Both are findings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::missing_panics_doc,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core,
    missing_docs,
    unreachable_pub,
    dead_code
)]

use std::borrow::Cow;
use std::num::NonZeroUsize;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokenstile::http::{self, BearerError, CookieError, CookieOptions};
use tokenstile::jwt::RegisteredClaims;
use tokenstile::jwt::{self, Audience, ClaimSet, Hs256Key, KeyRing, Validation};
use tokenstile::refresh::{Family, RefreshError, RefreshPolicy, RefreshToken};
use tokenstile::session::{SessionId, SessionIdError};
use tokenstile::store::{
    CreateOutcome, MemoryStore, SessionHandle, SessionRecord, SessionStore as _, Store as _,
    StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, WhenFull, block_on,
};
use tokenstile::{Claim, DecodeError, EncodeError, Error, UnixTime, VerifyError};

/// A target body: any bytes in, a panic out only on a finding.
pub type Target = fn(&[u8]);

/// Every target by name, as its corpus directory is named.
pub const TARGETS: &[(&str, Target)] = &[
    ("verify_token", verify_token),
    ("claims_json", claims_json),
    ("sign_mutate_verify", sign_mutate_verify),
    ("http_headers", http_headers),
    ("session_id_parse", session_id_parse),
    ("memory_store", memory_store),
    ("refresh_flow", refresh_flow),
    ("mac_differential", mac_differential),
    ("base64_differential", base64_differential),
    ("sign_json_differential", sign_json_differential),
    ("claims_de_differential", claims_de_differential),
    ("flat_differential", flat_differential),
];

/// The secret every target signs and verifies with.
pub const SECRET: &[u8; 32] = b"tokenstile fuzz secret, 32 bytes";
/// The second key of the key ring.
pub const SECRET_2: &[u8; 32] = b"tokenstile fuzz secret, number 2";
/// "Now" for every verification: 2023-11-14T22:13:20Z.
pub const NOW: u64 = 1_700_000_000;

const AUDIENCES: &[&str] = &["api", "web"];

fn key() -> Hs256Key {
    Hs256Key::new_from_slice(SECRET).unwrap()
}

fn ring() -> KeyRing<2> {
    let mut ring = KeyRing::new("k1", key()).unwrap();
    ring.add("k2", Hs256Key::new_from_slice(SECRET_2).unwrap())
        .unwrap();
    ring
}

/// The policies the verifying targets try: the strict default, a lax one that lets most
/// payloads reach the claims parser, and a demanding one.
fn policies() -> [Validation<'static>; 3] {
    [
        Validation::new(),
        Validation::new()
            .with_required_set(ClaimSet::EMPTY)
            .with_audiences(AUDIENCES)
            .with_leeway(u64::MAX),
        Validation::new()
            .with_issuer("https://issuer.example")
            .with_audiences(AUDIENCES)
            .with_subject("alice")
            .with_max_age(3600)
            .with_leeway(60)
            .with_typ("JWT"),
    ]
}

/// The base64url HMAC-SHA-256 tag of `input`, computed without the library.
fn reference_tag(secret: &[u8], input: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
    mac.update(input);
    Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes())
}

/// A token with the given header and payload bytes and a valid MAC under `secret`.
fn forge(secret: &[u8], header: &[u8], payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header),
        Base64UrlUnpadded::encode_string(payload)
    );
    let tag = reference_tag(secret, input.as_bytes());
    format!("{input}.{tag}")
}

/// Claims with every registered claim and two of the application's, all optional, so that
/// the application's view of a payload can be compared with the library's.
///
/// Strings are `Cow`, which borrows from the scratch buffer like a plain `&'a str` would,
/// and also works for payloads deserialized by other crates in these targets.
#[derive(Debug, Deserialize)]
struct AppClaims<'a> {
    #[serde(borrow)]
    iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sub: Option<Cow<'a, str>>,
    #[serde(borrow)]
    jti: Option<Cow<'a, str>>,
    exp: Option<u64>,
    #[serde(borrow)]
    role: Option<Cow<'a, str>>,
    n: Option<i64>,
}

/// Arbitrary bytes as a token, through both key kinds and every policy.
///
/// Invariants: nothing panics, and a token is accepted only if its third segment is the
/// HMAC of the first two under the verifying key, computed independently.
pub fn verify_token(data: &[u8]) {
    let Ok(token) = core::str::from_utf8(data) else {
        return;
    };
    let (key, ring) = (key(), ring());
    let now = UnixTime::from_secs(NOW);
    let mut scratch = vec![0u8; token.len().min(16 * 1024)];
    for policy in &policies() {
        for (secrets, result) in [
            (
                &[SECRET][..],
                jwt::verify::<serde::de::IgnoredAny, _>(&key, token, policy, now, &mut scratch)
                    .map(|_| ()),
            ),
            (
                &[SECRET, SECRET_2][..],
                jwt::verify::<AppClaims<'_>, _>(&ring, token, policy, now, &mut scratch)
                    .map(|_| ()),
            ),
        ] {
            if result.is_ok() {
                let dot = token.rfind('.').unwrap();
                let (input, tag) = (&token[..dot], &token[dot + 1..]);
                assert!(
                    secrets
                        .iter()
                        .any(|s| reference_tag(*s, input.as_bytes()) == tag),
                    "accepted a token without a valid MAC: {token:?}"
                );
            }
        }
    }
}

/// Arbitrary header and payload JSON behind a valid MAC: the header checks, the strict
/// JSON reader, the registered claims and the application's claims.
///
/// Input: `header NUL payload`, or just `payload` (with the standard header) when there is
/// no NUL byte. NUL is never valid in JSON, so the split loses nothing.
///
/// Invariants, for every policy:
/// - nothing panics;
/// - an accepted token's header and payload are JSON objects to `serde_json` too, with `alg`
///   exactly `"HS256"` and no `crit` or `enc`;
/// - the registered claims the library reports agree with `serde_json`'s reading and with the
///   application's `serde` view of the same payload;
/// - a scratch buffer as long as the token suffices when the payload has no escapes, and a
///   larger one never changes the outcome.
pub fn claims_json(data: &[u8]) {
    let (header, payload) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&br#"{"alg":"HS256","typ":"JWT"}"#[..], data),
    };
    let token = forge(SECRET, header, payload);
    let key = key();
    let now = UnixTime::from_secs(NOW);
    for policy in &policies() {
        let policy = policy.with_max_token_len(usize::MAX);
        let mut exact = vec![0u8; token.len()];
        let small = jwt::verify::<AppClaims<'_>, _>(&key, &token, &policy, now, &mut exact);
        let mut roomy = vec![0u8; token.len() * 2 + 64];
        let large = jwt::verify::<AppClaims<'_>, _>(&key, &token, &policy, now, &mut roomy);

        // A MAC made with the right key is never refused as a bad signature.
        assert_ne!(
            large.as_ref().err(),
            Some(&Error::Verify(VerifyError::Signature))
        );

        let too_small = |r: &Result<_, Error>| {
            matches!(
                r,
                Err(Error::Decode(DecodeError::BufferTooSmall)
                    | Error::Verify(VerifyError::BufferTooSmall))
            )
        };
        // Documented: a token-sized scratch buffer suffices when nothing is escaped. Not
        // so for an `aud` array, whose elements are copied (joined) after the payload:
        // that case is known and excluded here.
        // (When `serde_json` can't read a number, it can't say either: skip.)
        let aud_array = match oracle(payload) {
            Ok(Some(v)) => v.get("aud").is_some_and(serde_json::Value::is_array),
            Ok(None) => true,
            Err(_) => false,
        };
        if !payload.contains(&b'\\') && !header.contains(&b'\\') && !aud_array {
            assert!(
                !too_small(&small),
                "a token-sized scratch buffer was too small for {token:?}"
            );
        }
        match (&small, &large) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.registered, b.registered);
            }
            (Err(a), Err(b)) => assert!(too_small(&small) || a == b, "{a:?} vs {b:?}"),
            (Err(_), Ok(_)) => assert!(too_small(&small), "{small:?} vs ok"),
            (Ok(_), Err(e)) => panic!("more scratch turned success into {e:?}"),
        }

        let Ok(verified) = large else { continue };
        let Some(header) = oracle(header).expect("accepted header is not JSON") else {
            continue;
        };
        let header = header
            .as_object()
            .expect("accepted header is not an object");
        assert_eq!(header.get("alg"), Some(&serde_json::json!("HS256")));
        assert!(!header.contains_key("crit") && !header.contains_key("enc"));
        let Some(payload) = oracle(payload).expect("accepted payload is not JSON") else {
            continue;
        };
        let payload = payload
            .as_object()
            .expect("accepted payload is not an object");

        let registered = verified.registered;
        let string = |name: &str| payload.get(name).map(|v| v.as_str().unwrap());
        let time = |name: &str| {
            payload
                .get(name)
                .map(|v| UnixTime::from_secs(v.as_u64().unwrap()))
        };
        assert_eq!(registered.iss, string("iss"));
        assert_eq!(registered.sub, string("sub"));
        assert_eq!(registered.jti, string("jti"));
        assert_eq!(registered.exp, time("exp"));
        assert_eq!(registered.nbf, time("nbf"));
        assert_eq!(registered.iat, time("iat"));
        match (registered.aud, payload.get("aud")) {
            (None, None) => {}
            (Some(Audience::One(a)), Some(serde_json::Value::String(b))) => assert_eq!(a, b),
            (Some(aud @ Audience::Many(_)), Some(serde_json::Value::Array(b))) => {
                let theirs: Vec<&str> = b.iter().map(|v| v.as_str().unwrap()).collect();
                assert!(
                    aud.iter().eq(theirs.iter().copied()),
                    "{aud:?} vs {theirs:?}"
                );
            }
            (a, b) => panic!("aud: {a:?} vs {b:?}"),
        }

        let app = verified.claims;
        assert_eq!(app.iss.as_deref(), registered.iss);
        assert_eq!(app.sub.as_deref(), registered.sub);
        assert_eq!(app.jti.as_deref(), registered.jti);
        assert_eq!(app.exp.map(UnixTime::from_secs), registered.exp);
        assert_eq!(app.role.as_deref(), string("role"));
        // `serde_json` reads `-0` as a float; the application's `i64` reads it as 0.
        if let Some(n) = payload.get("n").and_then(serde_json::Value::as_i64) {
            assert_eq!(app.n, Some(n));
        }
    }
}

/// `serde_json`'s reading of `json`, or `Ok(None)` for a number too large for an `f64`,
/// which RFC 8259 §6 lets a parser refuse and which `serde_json` does refuse.
fn oracle(json: &[u8]) -> Result<Option<serde_json::Value>, serde_json::Error> {
    match serde_json::from_slice(json) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.to_string().starts_with("number out of range") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The library's HMAC, on SHA-256's compression function with precomputed pad states,
/// against the `hmac` crate, which it goes around.
///
/// Input: `secret_len, secret..., sub...` (the secret is 32 to 159 bytes, repeated from the
/// input when it is shorter; the rest is a claim string of any length).
///
/// Invariants:
/// - the signature `sign` writes is the `hmac` crate's tag of the signing input;
/// - a token forged with the `hmac` crate's tag over arbitrary payload bytes is never refused
///   as a bad signature, and the same token with any one bit of its tag flipped always is.
pub fn mac_differential(data: &[u8]) {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let secret_len = 32 + usize::from(len) % 128;
    let secret: Vec<u8> = rest
        .iter()
        .chain(SECRET)
        .copied()
        .cycle()
        .take(secret_len)
        .collect();
    let body = rest.get(secret_len.min(rest.len())..).unwrap_or_default();
    let key = Hs256Key::new_from_slice(&secret).unwrap();

    #[derive(Serialize)]
    struct Claims<'a> {
        sub: &'a str,
        exp: u64,
    }
    let sub = String::from_utf8_lossy(body);
    let claims = Claims {
        sub: &sub,
        exp: NOW + 60,
    };
    let mut out = vec![0u8; 64 + 8 * body.len() + 256];
    let token = jwt::sign(&key, &claims, &mut out).unwrap();
    let (input, tag) = token.rsplit_once('.').unwrap();
    assert_eq!(tag, reference_tag(&secret, input.as_bytes()), "{token}");

    // Arbitrary payload bytes (not JSON, most of the time) behind the reference MAC.
    let forged = forge(&secret, br#"{"alg":"HS256"}"#, body);
    let policy = Validation::new().with_max_token_len(usize::MAX);
    let now = UnixTime::from_secs(NOW);
    let mut scratch = vec![0u8; forged.len() * 3 + 64];
    let result = jwt::verify::<serde::de::IgnoredAny, _>(&key, &forged, &policy, now, &mut scratch);
    assert_ne!(result.err(), Some(Error::Verify(VerifyError::Signature)));
    let (input, tag) = forged.rsplit_once('.').unwrap();
    let mut mac = Base64UrlUnpadded::decode_vec(tag).unwrap();
    let bit = usize::from(len) % 256;
    mac[bit / 8] ^= 1 << (bit % 8);
    let flipped = format!("{input}.{}", Base64UrlUnpadded::encode_string(&mac));
    let result =
        jwt::verify::<serde::de::IgnoredAny, _>(&key, &flipped, &policy, now, &mut scratch);
    assert_eq!(result.err(), Some(Error::Verify(VerifyError::Signature)));
}

/// The library's constant-time base64url codec against `base64ct`, which it goes around.
///
/// Input: text used as the payload segment of a token, and (when it is 43 characters) as
/// its signature segment, each time behind the reference MAC, and as a session ID; as a
/// claim string to sign; and its first 32 bytes as a session ID's bytes.
///
/// Invariants:
/// - a payload segment is refused as bad base64 exactly when `base64ct` refuses it;
/// - a 43-character signature segment is refused as bad base64 exactly when `base64ct`
///   refuses it, and is otherwise a MAC mismatch unless it is the right tag;
/// - a 43-character session ID parses exactly when `base64ct` decodes it, into the same
///   32 bytes, and 32 bytes encode into the same 43 characters as with `base64ct`;
/// - what `sign` writes decodes with `base64ct` and encodes back to the same characters.
pub fn base64_differential(data: &[u8]) {
    // The first 32 bytes of the input, as an ID's random bytes, encoded.
    if let Some(bytes) = data.first_chunk::<32>() {
        let id = SessionId::generate(&mut ReplayRng(bytes)).unwrap();
        let mut out = [0u8; SessionId::ENCODED_LEN];
        assert_eq!(id.encode(&mut out), Base64UrlUnpadded::encode_string(bytes));
    }
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    // The bytes, not only the verdict, where the public API shows them: a session ID is
    // 43 characters of the same codec, and `expose_secret` gives its 32 bytes.
    if text.len() == SessionId::ENCODED_LEN {
        let mut reference = [0u8; 32];
        let theirs = Base64UrlUnpadded::decode(text, &mut reference).map(|b| b.len());
        match (SessionId::parse(text), theirs) {
            (Ok(id), Ok(32)) => assert_eq!(id.expose_secret(), &reference, "{text:?}"),
            (Err(_), Err(_)) => {}
            (ours, theirs) => panic!("{text:?}: {ours:?} vs {theirs:?}"),
        }
    }
    if text.contains('.') {
        return;
    }
    let key = key();
    let policy = Validation::new()
        .with_required_set(ClaimSet::EMPTY)
        .with_max_token_len(usize::MAX);
    let now = UnixTime::from_secs(NOW);
    let header = Base64UrlUnpadded::encode_string(br#"{"alg":"HS256"}"#);
    let base64 = Error::Decode(DecodeError::Base64);

    let input = format!("{header}.{text}");
    let token = format!("{input}.{}", reference_tag(SECRET, input.as_bytes()));
    let mut scratch = vec![0u8; token.len() * 3 + 64];
    let ours = jwt::verify::<serde::de::IgnoredAny, _>(&key, &token, &policy, now, &mut scratch);
    let theirs = Base64UrlUnpadded::decode_vec(text);
    assert_eq!(
        ours.as_ref().err() == Some(&base64),
        theirs.is_err(),
        "{text:?}: {ours:?} vs {theirs:?}"
    );

    if text.len() == 43 {
        let payload = Base64UrlUnpadded::encode_string(br#"{"exp":1}"#);
        let token = format!("{header}.{payload}.{text}");
        let ours =
            jwt::verify::<serde::de::IgnoredAny, _>(&key, &token, &policy, now, &mut scratch);
        match Base64UrlUnpadded::decode_vec(text) {
            Err(_) => assert_eq!(ours.err(), Some(base64), "{text:?}"),
            Ok(_) => {
                let right = reference_tag(SECRET, format!("{header}.{payload}").as_bytes());
                if text != right {
                    assert_eq!(ours.err(), Some(Error::Verify(VerifyError::Signature)));
                }
            }
        }
    }

    #[derive(Serialize)]
    struct Claims<'a> {
        s: &'a str,
    }
    let mut out = vec![0u8; 64 + 8 * text.len() + 256];
    let token = jwt::sign(&key, &Claims { s: text }, &mut out).unwrap();
    for segment in token.split('.') {
        let bytes = Base64UrlUnpadded::decode_vec(segment).unwrap();
        assert_eq!(Base64UrlUnpadded::encode_string(&bytes), segment);
    }
}

/// The library's claims writer (a `serde` serializer that writes canonical JSON and checks
/// it as it goes) against `serde_json`, whose output is the canonical form.
///
/// Input: a small program building a JSON value: each byte picks an action (open an object
/// or array, close one, add a string, an integer, a bool or null), strings and names are
/// taken from the following bytes, so names repeat, nesting gets deep and every character
/// (controls, quotes, backslashes, non-ASCII) shows up.
///
/// Invariants:
/// - when the value is an object within the limits verification applies (nesting 16, 128
///   open names), `sign` succeeds and the payload is byte for byte `serde_json`'s output;
/// - otherwise `sign` fails with `EncodeError::Serialize`, never with a token.
pub fn sign_json_differential(data: &[u8]) {
    use serde_json::{Map, Value};
    // The containers being built, innermost last, each with its pending name.
    let mut stack: Vec<(Value, Option<String>)> = vec![(Value::Object(Map::new()), None)];
    let mut r = Reader(data);
    // Up to 39 bytes: past the 32 that the writer copies in words on 64-bit targets.
    let text = |r: &mut Reader<'_>| -> String {
        let len = usize::from(r.byte() % 40);
        String::from_utf8_lossy(r.take(len)).into_owned()
    };
    let mut steps = 0;
    while !r.0.is_empty() && steps < 400 {
        steps += 1;
        let op = r.byte();
        let value = match op % 8 {
            0 => Some(Value::Object(Map::new())),
            1 => Some(Value::Array(Vec::new())),
            2 if stack.len() > 1 => {
                let (done, _) = stack.pop().unwrap();
                insert(&mut stack, done);
                None
            }
            3 => Some(Value::String(text(&mut r))),
            4 => Some(Value::from(i64::from(i32::from_le_bytes([
                r.byte(),
                r.byte(),
                r.byte(),
                op,
            ])))),
            5 => Some(Value::Bool(op & 0x80 != 0)),
            6 => Some(Value::Null),
            _ => Some(Value::from(u64::from(r.byte()) << 56)),
        };
        // A member's name, drawn before its value, so that names repeat.
        if let Some((Value::Object(_), name @ None)) = stack.last_mut() {
            *name = Some(text(&mut r));
        }
        match value {
            Some(v @ (Value::Object(_) | Value::Array(_))) => stack.push((v, None)),
            Some(v) => insert(&mut stack, v),
            None => {}
        }
    }
    while stack.len() > 1 {
        let (done, _) = stack.pop().unwrap();
        insert(&mut stack, done);
    }
    let (claims, _) = stack.pop().unwrap();

    let expected = serde_json::to_string(&claims).unwrap();
    let within_limits = depth(&claims) <= 16 && open_names(&claims) <= 128;
    // The registered claims of a type verification refuses, in the order they are written.
    let bad_claims: Vec<Claim> = claims
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(name, value)| bad_registered(name, value))
        .collect();
    let key = key();
    let mut out = vec![0u8; expected.len() * 2 + 256];
    match jwt::sign(&key, &claims, &mut out) {
        Ok(token) => {
            assert!(within_limits, "signed beyond the limits: {expected}");
            assert!(bad_claims.is_empty(), "signed {bad_claims:?}: {expected}");
            let payload = token.split('.').nth(1).unwrap();
            let json = Base64UrlUnpadded::decode_vec(payload).unwrap();
            assert_eq!(String::from_utf8(json).unwrap(), expected);
            // And verification reads back what signing wrote.
            let policy = Validation::new()
                .with_required_set(ClaimSet::EMPTY)
                .with_max_token_len(usize::MAX);
            let mut scratch = vec![0u8; token.len() * 3 + 64];
            let now = UnixTime::from_secs(NOW);
            let verified =
                jwt::verify::<serde::de::IgnoredAny, _>(&key, token, &policy, now, &mut scratch);
            // The claims are random, so registered ones among them (`exp`, `nbf`, `iat`,
            // `aud`, ...) may fail the policy; what must never happen is that verification
            // can't read what signing wrote, or refuses the type of a claim it signed.
            assert!(
                matches!(
                    verified,
                    Ok(_)
                        | Err(Error::Verify(
                            VerifyError::Expired
                                | VerifyError::NotYetValid
                                | VerifyError::IssuedInFuture
                                | VerifyError::Audience
                        ))
                ),
                "{verified:?} for {expected}"
            );
        }
        Err(EncodeError::InvalidClaim(claim)) => {
            // Within the limits the first such claim stops signing; beyond them a limit may
            // be met first, but a claim named in the error must be one of them.
            if within_limits {
                assert_eq!(bad_claims.first(), Some(&claim), "{expected}");
            } else {
                assert!(bad_claims.contains(&claim), "{claim:?}: {expected}");
            }
        }
        Err(e) => {
            assert_eq!(e, EncodeError::Serialize, "{expected}");
            assert!(!within_limits, "refused within the limits: {expected}");
        }
    }

    /// The claim, if `name` is a registered one and `value` has a type or value that
    /// verification refuses for it.
    fn bad_registered(name: &str, value: &serde_json::Value) -> Option<Claim> {
        use serde_json::Value;
        let text = |v: &Value| v.as_str().is_some_and(|s| !s.contains('\0'));
        let (claim, ok) = match name {
            "exp" => (
                Claim::Exp,
                value.as_u64().is_some_and(|n| i64::try_from(n).is_ok()),
            ),
            "nbf" => (
                Claim::Nbf,
                value.as_u64().is_some_and(|n| i64::try_from(n).is_ok()),
            ),
            "iat" => (
                Claim::Iat,
                value.as_u64().is_some_and(|n| i64::try_from(n).is_ok()),
            ),
            "iss" => (Claim::Iss, value.is_string()),
            "sub" => (Claim::Sub, value.is_string()),
            "jti" => (Claim::Jti, value.is_string()),
            "sid" => (Claim::Sid, value.is_string()),
            "aud" => (
                Claim::Aud,
                value.is_string() || value.as_array().is_some_and(|a| a.iter().all(text)),
            ),
            _ => return None,
        };
        (!ok).then_some(claim)
    }

    fn insert(stack: &mut [(serde_json::Value, Option<String>)], v: serde_json::Value) {
        match stack.last_mut().unwrap() {
            (serde_json::Value::Object(m), name) => {
                // A repeated name replaces the earlier member, as in any JSON object.
                m.insert(name.take().unwrap_or_default(), v);
            }
            (serde_json::Value::Array(a), _) => a.push(v),
            _ => unreachable!(),
        }
    }
    fn depth(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
            serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    /// The most member names open at once: an object's names plus those of every object
    /// enclosing it that come before it (the names after it are not written yet).
    fn open_names(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(m) => m
                .values()
                .enumerate()
                .map(|(i, child)| i + 1 + open_names(child))
                .chain([m.len()])
                .max()
                .unwrap_or(0),
            serde_json::Value::Array(a) => a.iter().map(open_names).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// Claims signed, verified, then the token changed and verified again.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct SignedClaims {
    iss: String,
    sub: String,
    aud: String,
    iat: u64,
    exp: u64,
    jti: String,
    role: String,
}

/// Sign-then-mutate-then-verify.
///
/// Input: `flags, sub_len, role_len, exp (4 bytes), sub, role, mutations...` where each
/// mutation is three bytes `op, pos_hi, pos_lo`, applied one after the other.
///
/// Invariants:
/// - signing claims with arbitrary strings either fails with a typed error or gives a token
///   that verifies to exactly the same claims;
/// - a buffer too small gives `BufferTooSmall`, never a different or truncated token;
/// - any mutation that changes the token makes verification fail; nothing panics.
pub fn sign_mutate_verify(data: &[u8]) {
    let mut r = Reader(data);
    let flags = r.byte();
    let (sub_len, role_len) = (usize::from(r.byte()), usize::from(r.byte()));
    let exp_offset = u64::from(u32::from_be_bytes([r.byte(), r.byte(), r.byte(), r.byte()]));
    let sub = String::from_utf8_lossy(r.take(sub_len)).into_owned();
    let role = String::from_utf8_lossy(r.take(role_len)).into_owned();
    let claims = SignedClaims {
        iss: "https://issuer.example".into(),
        sub,
        aud: "api".into(),
        iat: NOW,
        exp: NOW + 1 + exp_offset,
        jti: "jti-0001".into(),
        role,
    };
    let use_ring = flags & 1 == 1;
    let (key, mut ring) = (key(), ring());
    if flags & 2 == 2 {
        ring.promote("k2").unwrap();
    }
    let keys = |c: &SignedClaims, buf: &mut [u8]| -> Result<String, EncodeError> {
        if use_ring {
            jwt::sign(&ring, c, buf).map(str::to_owned)
        } else {
            jwt::sign(&key, c, buf).map(str::to_owned)
        }
    };

    // Large enough for the longest claims this input format makes (every byte escaped).
    let mut buf = vec![0u8; 16 * 1024];
    let token = match keys(&claims, &mut buf) {
        Ok(token) => token,
        Err(e) => {
            assert_eq!(e, EncodeError::Serialize, "{claims:?}");
            return;
        }
    };
    // Every shorter buffer fails cleanly; the exact size works.
    let short = usize::from(flags >> 2) * token.len() / 64;
    let mut small = vec![0u8; short];
    match keys(&claims, &mut small) {
        Err(EncodeError::BufferTooSmall) if short < token.len() => {}
        Ok(t) if short >= token.len() => assert_eq!(t, token),
        other => panic!(
            "sign into {short} bytes for a {}-byte token: {other:?}",
            token.len()
        ),
    }

    let policy = Validation::new()
        .with_issuer("https://issuer.example")
        .with_audiences(&["api"])
        .with_max_age(60);
    let now = UnixTime::from_secs(NOW);
    let verify = |t: &str| -> Result<SignedClaims, Error> {
        #[derive(Deserialize)]
        struct Decoded<'a> {
            #[serde(borrow)]
            iss: Cow<'a, str>,
            #[serde(borrow)]
            sub: Cow<'a, str>,
            #[serde(borrow)]
            aud: Cow<'a, str>,
            iat: u64,
            exp: u64,
            #[serde(borrow)]
            jti: Cow<'a, str>,
            #[serde(borrow)]
            role: Cow<'a, str>,
        }
        let mut scratch = vec![0u8; t.len() * 3 + 64];
        let v = if use_ring {
            jwt::verify::<Decoded<'_>, _>(&ring, t, &policy, now, &mut scratch)?
        } else {
            jwt::verify::<Decoded<'_>, _>(&key, t, &policy, now, &mut scratch)?
        };
        let d = v.claims;
        assert_eq!(v.registered.sub, Some(&*d.sub));
        Ok(SignedClaims {
            iss: d.iss.into(),
            sub: d.sub.into(),
            aud: d.aud.into(),
            iat: d.iat,
            exp: d.exp,
            jti: d.jti.into(),
            role: d.role.into(),
        })
    };
    assert_eq!(verify(&token).as_ref(), Ok(&claims), "{token}");

    // Plain `&str` fields read every string, escaped ones included (unescaped into the
    // scratch buffer, which three times the token's length always leaves room for).
    {
        #[derive(Deserialize)]
        struct Borrowed<'a> {
            sub: &'a str,
            role: &'a str,
        }
        let mut scratch = vec![0u8; token.len() * 3 + 64];
        let borrowed = if use_ring {
            jwt::verify::<Borrowed<'_>, _>(&ring, &token, &policy, now, &mut scratch)
        } else {
            jwt::verify::<Borrowed<'_>, _>(&key, &token, &policy, now, &mut scratch)
        };
        let v = borrowed.unwrap_or_else(|e| panic!("{token}: {e:?}"));
        assert_eq!((v.claims.sub, v.claims.role), (&*claims.sub, &*claims.role));
    }

    let mut mutated = token.clone().into_bytes();
    while let Some([op, hi, lo]) = r.array() {
        if mutated.is_empty() {
            mutated.push(op);
            continue;
        }
        let pos = usize::from(u16::from_be_bytes([hi, lo])) % mutated.len();
        match op % 6 {
            0 => mutated[pos] ^= 1 << (hi % 8),
            1 => mutated[pos] = lo,
            2 => mutated.insert(pos, lo),
            3 => {
                mutated.remove(pos);
            }
            4 => mutated.truncate(pos),
            _ => {
                let other = usize::from(hi) % mutated.len();
                mutated.swap(pos, other);
            }
        }
    }
    if mutated == token.as_bytes() {
        return;
    }
    if let Ok(changed) = core::str::from_utf8(&mutated) {
        let result = verify(changed);
        assert!(
            result.is_err(),
            "accepted a changed token {changed:?}: {result:?}"
        );
    }
}

/// `Authorization` and `Cookie` parsing, `Set-Cookie` writing read back, and the
/// cross-origin check.
///
/// Invariants: nothing panics; what the parsers return borrows from the input and holds
/// only the characters the grammar allows; split fields agree with a single field; a
/// `Set-Cookie` value that is written reads back as the same cookie; an origin serializes
/// into a buffer as long as itself, to something no longer that serializes to itself and
/// that an `Origin` field of those bytes matches; with origins configured and no
/// `Sec-Fetch-Site`, a state-changing request passes exactly when its `Origin` is one.
pub fn http_headers(data: &[u8]) {
    // Bearer.
    match http::bearer_token(Some(data)) {
        Ok(token) => {
            assert!(is_within(token.as_bytes(), data));
            assert!(!token.is_empty());
            let body = token.trim_end_matches('=');
            assert!(!body.is_empty(), "{token:?}");
            assert!(
                body.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
                "{token:?}"
            );
            let trimmed = data.trim_ascii_start();
            assert!(trimmed.len() > 7 && trimmed[..6].eq_ignore_ascii_case(b"bearer"));
            assert_eq!(trimmed[6], b' ');
            assert!(trimmed.trim_ascii_end().ends_with(token.as_bytes()));
        }
        Err(e) => assert_eq!(
            e.status(),
            if matches!(e, BearerError::Missing | BearerError::Scheme) {
                401
            } else {
                400
            }
        ),
    }
    let fields: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let in_fields = http::bearer_token_in_fields(fields.iter().copied());
    if fields.len() > 1 {
        assert_eq!(in_fields, Err(BearerError::Duplicate));
    } else {
        assert_eq!(in_fields, http::bearer_token(Some(data)));
    }

    // Cookie.
    for name in [CookieOptions::DEFAULT_NAME, "sid"] {
        let single = http::find_cookie(data, name);
        if let Ok(Some(value)) = single {
            assert!(is_within(value.as_bytes(), data));
            assert!(value.bytes().all(is_cookie_octet), "{value:?}");
            let plain = format!("{name}={value}");
            let quoted = format!("{name}=\"{value}\"");
            assert!(
                contains(data, plain.as_bytes()) || contains(data, quoted.as_bytes()),
                "{value:?} not found as {name}"
            );
        }
        let split = http::find_cookie_in_fields(fields.iter().copied(), name);
        if fields.len() == 1 {
            assert_eq!(split, single);
        } else if let Ok(Some(_)) = single {
            // Splitting at line feeds only removes a control character: the whole field was
            // refused for it, or it was not there.
            assert!(!data.contains(&b'\n'));
        }
        if matches!(single, Err(CookieError::InvalidName)) {
            panic!("{name} is a valid cookie name");
        }
        // Every well-formed copy, by the same rules: exactly the one value where the
        // fields hold one, nothing where they hold none.
        let copies: Vec<&str> = http::cookie_values(fields.iter().copied(), name).collect();
        for value in &copies {
            assert!(is_within(value.as_bytes(), data));
            assert!(value.bytes().all(is_cookie_octet), "{value:?}");
        }
        match split {
            Ok(Some(value)) => assert_eq!(copies, [value]),
            Ok(None) => assert!(copies.is_empty(), "{copies:?}"),
            Err(_) => {}
        }
    }

    // Set-Cookie, read back.
    let value = String::from_utf8_lossy(data);
    let max_age = data
        .iter()
        .fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
    let options = CookieOptions::new();
    let mut out = vec![0u8; options.set_cookie_len(value.len())];
    let writable = value.bytes().all(is_cookie_octet)
        && CookieOptions::DEFAULT_NAME.len() + value.len() <= http::MAX_COOKIE_LEN;
    match options.set_cookie(&value, max_age, &mut out) {
        Ok(header) => {
            assert!(writable, "wrote {header:?}");
            assert!(!header.bytes().any(|b| b.is_ascii_control()));
            let pair = header.split("; ").next().unwrap();
            assert_eq!(
                http::find_cookie(pair, CookieOptions::DEFAULT_NAME),
                Ok(Some(&*value)),
                "{header:?}"
            );
            assert!(header.contains(&format!("; Max-Age={max_age}; ")));
        }
        Err(e) => assert!(!writable, "refused {value:?}: {e:?}"),
    }

    // Origins.
    let mut out = vec![0u8; value.len()];
    let mut roomy = vec![0u8; value.len() + 16];
    let serialized = http::serialize_origin(&value, &mut out);
    assert_eq!(serialized, http::serialize_origin(&value, &mut roomy));
    let mut origins = vec!["https://app.example".to_owned()];
    if let Some(origin) = serialized {
        assert!(origin.len() <= value.len());
        let mut again = vec![0u8; origin.len()];
        assert_eq!(http::serialize_origin(origin, &mut again), Some(origin));
        origins.push(origin.to_owned());
    }
    let request = http::Provenance {
        method: b"POST",
        origin: Some(data),
        ..http::Provenance::default()
    };
    assert_eq!(
        request.allowed(&origins),
        origins.iter().any(|o| o.as_bytes() == data)
    );
    let site = http::Provenance {
        method: b"PUT",
        sec_fetch_site: Some(data),
        ..request
    };
    assert_eq!(
        site.allowed(&origins),
        data == b"same-origin" || data == b"none"
    );
    let safe = http::Provenance {
        method: b"GET",
        ..site
    };
    assert!(safe.allowed(&origins));
    let host = http::Provenance {
        host: Some(data),
        ..request
    };
    let _ = host.allowed(&[] as &[&str]);
}

/// Session-ID parsing, alone and behind a `Cookie` header.
///
/// Invariants: nothing panics; an ID parses exactly when it is 43 characters of
/// base64url whose last character has no unused bits set, and then encodes back to the
/// same text; each refusal has the error its input calls for.
pub fn session_id_parse(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    match SessionId::parse(text) {
        Ok(id) => {
            let mut out = [0u8; SessionId::ENCODED_LEN];
            assert_eq!(id.encode(&mut out), text);
            assert_eq!(text.parse::<SessionId>().ok(), Some(id));
        }
        Err(SessionIdError::Length) => assert_ne!(text.len(), SessionId::ENCODED_LEN),
        Err(SessionIdError::Alphabet) => {
            assert_eq!(text.len(), SessionId::ENCODED_LEN);
            assert!(!text.bytes().all(alphabet));
        }
        Err(SessionIdError::NonCanonical) => {
            assert_eq!(text.len(), SessionId::ENCODED_LEN);
            assert!(text.bytes().all(alphabet));
            // 43 characters carry 258 bits: the last one's 2 low bits must be zero.
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let last = text.as_bytes()[42];
            let value = ALPHABET.iter().position(|&c| c == last).unwrap();
            assert!(value & 3 != 0, "{text:?}");
        }
        Err(e) => panic!("unexpected {e:?}"),
    }

    // Behind a cookie: an ID, being base64url, is cookie-octets, and comes back out of a
    // `Cookie` header unchanged.
    if !text.is_empty()
        && text.bytes().all(is_cookie_octet)
        && text.len() + CookieOptions::DEFAULT_NAME.len() <= http::MAX_COOKIE_LEN
    {
        let header = format!("theme=dark; {}={text}", CookieOptions::DEFAULT_NAME);
        let value = http::find_cookie(&header, CookieOptions::DEFAULT_NAME);
        assert_eq!(value, Ok(Some(text)));
    }
}

/// The in-memory store driven by arbitrary operations, checked against a plain model.
///
/// Input: one byte of operation and a few bytes of arguments per step, read until the
/// input ends. Keys come from small pools so that operations collide; time only moves
/// forwards; the store holds at most [`STORE_SESSIONS`] sessions and, apart,
/// [`STORE_REVOCATIONS`] revocations, so both fill up.
///
/// Invariants after every step: no live session, revocation or watermark is ever lost
/// or changed except by an operation on it; a dead one is never returned; neither table
/// holds more than its capacity; `Capacity` is reported only when the table written to
/// really is full of live entries (sessions never block a revocation); versioned updates,
/// per-subject limits and listings match the model.
pub fn memory_store(data: &[u8]) {
    let mut r = Reader(data);
    let mut store: MemoryStore<u16, STORE_SESSIONS, STORE_REVOCATIONS> = MemoryStore::new();
    let mut model = Model::default();
    let mut now = NOW;
    let ids: Vec<SessionId> = (0..SESSION_KEYS)
        .map(|i| {
            let bytes = [u8::try_from(i).unwrap().wrapping_mul(37); 32];
            SessionId::parse(&Base64UrlUnpadded::encode_string(&bytes)).unwrap()
        })
        .collect();
    let subjects = ["alice", "bob", "carol"];
    let jtis = ["t0", "t1", "t2", "t3", "t4", "t5"];
    let mut steps = 0;
    while !r.0.is_empty() && steps < 256 {
        steps += 1;
        let op = r.byte();
        let (a, b, c) = (r.byte(), r.byte(), r.byte());
        let t = UnixTime::from_secs(now);
        let k = usize::from(a) % SESSION_KEYS;
        let key = ids[k].lookup_key();
        let live_sessions = model.live_sessions(now);
        let live_revocations = model.live_revocations(now);
        match op % 14 {
            // Time passes: up to 255 s, or up to ~18 h.
            0 => {
                now += if b & 1 == 0 {
                    u64::from(c)
                } else {
                    u64::from(c) * 256
                }
            }
            1 => {
                let s = usize::from(b) % subjects.len();
                let record = SessionRecord::new(
                    SubjectKey::new(subjects[s]),
                    u16::from_be_bytes([b, c]),
                    t,
                    t.saturating_add(u64::from(b)),
                    t.saturating_add(u64::from(c) * 64),
                );
                // Bits of `a` above the key pick a limit: none, refuse or end the oldest.
                let limit = match (a >> 4) % 3 {
                    0 => None,
                    n => Some(SubjectLimit::new(
                        NonZeroUsize::new(usize::from(c % 3) + 1).unwrap(),
                        if n == 1 {
                            WhenFull::Refuse
                        } else {
                            WhenFull::EndOldest
                        },
                    )),
                };
                let was_live = model.session(k, now).is_some();
                let of_subject = model.live_of(s, now);
                let over = limit.filter(|l| of_subject.len() >= l.max());
                match block_on(store.create(&key, record.clone(), limit, t)) {
                    Ok(CreateOutcome::Created { ended }) => {
                        assert!(!was_live, "create overwrote a live session");
                        match over {
                            Some(l) => {
                                assert_eq!(l.when_full(), WhenFull::EndOldest, "limit ignored");
                                let excess = of_subject.len() + 1 - l.max();
                                assert_eq!(ended, excess);
                                // The oldest by creation time, ties by key bytes.
                                let mut by_age: Vec<usize> = of_subject.clone();
                                by_age.sort_by_key(|&i| {
                                    let created = model.sessions[i].as_ref().unwrap().1.created();
                                    (created, *ids[i].lookup_key().as_bytes())
                                });
                                for &i in &by_age[..excess] {
                                    model.sessions[i] = None;
                                }
                            }
                            None => assert_eq!(ended, 0),
                        }
                        if limit.is_some() {
                            model.drop_dead_of(s, now);
                        }
                        model.sessions[k] = Some((s, record));
                    }
                    Ok(CreateOutcome::LimitReached) => {
                        assert!(over.is_some_and(|l| l.when_full() == WhenFull::Refuse));
                        assert!(!was_live);
                        model.drop_dead_of(s, now);
                    }
                    Ok(other) => panic!("create: {other:?}"),
                    Err(StoreErrorKind::Conflict) => assert!(was_live, "spurious conflict"),
                    Err(StoreErrorKind::Capacity) => {
                        assert!(
                            live_sessions >= STORE_SESSIONS && !was_live && over.is_none(),
                            "Capacity with {live_sessions} live sessions"
                        );
                    }
                    Err(e) => panic!("create: {e:?}"),
                }
            }
            2 => {
                let got = block_on(store.get(&key, t)).unwrap();
                assert_eq!(got.as_ref(), model.session(k, now).map(|(_, r)| r));
            }
            3 => {
                // A version near the current one: stale, current or ahead.
                let data = u16::from_be_bytes([b, c]);
                let deadline = t.saturating_add(u64::from(b) * 16);
                let (version, current) = match model.session(k, now) {
                    Some((_, record)) => {
                        let v = record.version();
                        (
                            v.saturating_add(u64::from(c % 3)).saturating_sub(1),
                            Some(v),
                        )
                    }
                    None => (u64::from(c % 3), None),
                };
                let outcome = block_on(store.update(&key, version, &data, deadline, t)).unwrap();
                match current {
                    None => assert_eq!(outcome, UpdateOutcome::NotFound),
                    Some(v) if v != version => assert_eq!(outcome, UpdateOutcome::Stale),
                    Some(v) => {
                        assert_eq!(outcome, UpdateOutcome::Updated { version: v + 1 });
                        let record = &mut model.sessions[k].as_mut().unwrap().1;
                        assert_eq!(record.apply_update(v, data, deadline, t), Some(v + 1));
                    }
                }
            }
            4 => {
                let deadline = t.saturating_add(u64::from(b) * 16);
                let touched = block_on(store.touch(&key, deadline, t)).unwrap();
                match model.sessions[k].as_mut().filter(|(_, r)| r.is_live(t)) {
                    Some((_, record)) => {
                        assert!(touched);
                        record.touch(deadline, t);
                    }
                    None => assert!(!touched, "touched a dead or missing session"),
                }
            }
            5 => {
                let removed = block_on(store.remove(&key)).unwrap();
                match model.sessions[k].take() {
                    Some((_, record)) if record.is_live(t) => assert!(removed),
                    Some(_) => {}
                    None => assert!(!removed, "removed a session that was never there"),
                }
            }
            6 => {
                let n = usize::from(b) % SESSION_KEYS;
                let new_key = ids[n].lookup_key();
                let old_live = model.session(k, now).is_some();
                let new_live = model.session(n, now).is_some();
                match block_on(store.rotate(&key, &new_key, t)) {
                    Ok(Some(record)) => {
                        assert!(old_live && !new_live);
                        let moved = model.sessions[k].take().unwrap();
                        assert_eq!(record, moved.1);
                        model.sessions[n] = Some(moved);
                    }
                    Ok(None) => assert!(!old_live, "rotate lost a live session"),
                    Err(StoreErrorKind::Conflict) => assert!(new_live, "spurious conflict"),
                    Err(e) => panic!("rotate: {e:?}"),
                }
            }
            7 => {
                // Log out everywhere, or everywhere but session `k`.
                let s = usize::from(b) % subjects.len();
                let keep = (c & 1 == 1).then_some(k);
                let keep_key = keep.map(|i| ids[i].lookup_key());
                let removed = block_on(
                    store.remove_subject(&SubjectKey::new(subjects[s]), keep_key.as_ref()),
                )
                .unwrap();
                let (mut live_n, mut all_n) = (0, 0);
                for (i, slot) in model.sessions.iter_mut().enumerate() {
                    if Some(i) != keep && slot.as_ref().is_some_and(|(x, _)| *x == s) {
                        all_n += 1;
                        live_n += usize::from(slot.as_ref().unwrap().1.is_live(t));
                        *slot = None;
                    }
                }
                assert!(
                    removed >= live_n && removed <= all_n,
                    "{removed} of {live_n}..{all_n}"
                );
            }
            8 => {
                let j = usize::from(b) % jtis.len();
                let mut claims = RegisteredClaims::default();
                claims.iss = Some("https://issuer.example");
                claims.jti = Some(jtis[j]);
                claims.exp = Some(t.saturating_add(u64::from(c) * 8));
                let until = claims.exp.unwrap();
                let was_live = model.revoked[j].is_some_and(|u| t < u);
                match block_on(jwt::revoke_token(&mut store, &claims, 0, t)) {
                    Ok(()) => {
                        if until > t {
                            model.revoked[j] =
                                Some(model.revoked[j].map_or(until, |u| u.max(until)));
                        }
                    }
                    Err(jwt::RevocationError::Store(StoreErrorKind::Capacity)) => {
                        assert!(
                            live_revocations >= STORE_REVOCATIONS && !was_live && until > t,
                            "Capacity with {live_revocations} live revocations"
                        );
                    }
                    Err(e) => panic!("revoke: {e:?}"),
                }
            }
            9 => {
                let s = usize::from(b) % subjects.len();
                let mark = (
                    t.saturating_sub(u64::from(c)),
                    t.saturating_add(u64::from(c) * 8),
                );
                let was_live = model.marks[s].is_some_and(|(_, e)| t < e);
                match block_on(jwt::revoke_subject(
                    &mut store,
                    Some("https://issuer.example"),
                    subjects[s],
                    mark.0,
                    mark.1,
                    t,
                )) {
                    // Merged into a live watermark (so its cutoff can rise even when the new
                    // one is already dead), otherwise stored only if it is live.
                    Ok(()) => match model.marks[s].filter(|(_, e)| t < *e) {
                        Some((c0, e0)) => model.marks[s] = Some((c0.max(mark.0), e0.max(mark.1))),
                        None if mark.1 > t => model.marks[s] = Some(mark),
                        None => {}
                    },
                    Err(jwt::RevocationError::Store(StoreErrorKind::Capacity)) => {
                        assert!(
                            live_revocations >= STORE_REVOCATIONS && !was_live && mark.1 > t,
                            "Capacity with {live_revocations} live revocations"
                        );
                    }
                    Err(e) => panic!("revoke_subject: {e:?}"),
                }
            }
            10 => {
                let purged = block_on(store.purge_expired(t)).unwrap();
                assert!(purged <= model.dead_count(now), "purged {purged}");
                model.forget_dead(now);
            }
            11 => {
                // List a subject's sessions: exactly the live ones, under their handles.
                let s = usize::from(b) % subjects.len();
                let mut listed: Vec<(SessionHandle, SessionRecord<u16>)> = Vec::new();
                let count =
                    block_on(store.list_subject(&SubjectKey::new(subjects[s]), t, &mut listed))
                        .unwrap();
                let expected = model.live_of(s, now);
                assert_eq!(count, expected.len());
                assert_eq!(listed.len(), expected.len());
                for i in expected {
                    let handle = ids[i].handle();
                    let record = &model.sessions[i].as_ref().unwrap().1;
                    assert!(listed.iter().any(|(h, r)| *h == handle && r == record));
                }
            }
            12 => {
                // End session `k` by handle, as subject `b`: only its owner can.
                let s = usize::from(b) % subjects.len();
                let removed =
                    block_on(store.remove_owned(&key, &SubjectKey::new(subjects[s]), t)).unwrap();
                let owned = model.session(k, now).is_some_and(|(x, _)| *x == s);
                assert_eq!(removed, owned);
                if owned {
                    model.sessions[k] = None;
                }
            }
            _ => {
                // Ask about one token: revoked by `jti`, by its subject's watermark, or not.
                let (j, s) = (usize::from(b) % jtis.len(), usize::from(c) % subjects.len());
                let iat = t.saturating_sub(u64::from(a));
                let mut claims = RegisteredClaims::default();
                claims.iss = Some("https://issuer.example");
                claims.jti = Some(jtis[j]);
                claims.sub = Some(subjects[s]);
                claims.iat = Some(iat);
                let by_jti = model.revoked[j].is_some_and(|u| t < u);
                let by_mark = model.marks[s].is_some_and(|(cutoff, e)| t < e && iat <= cutoff);
                let result = block_on(jwt::check_not_revoked(&mut store, &claims, t));
                assert_eq!(result.is_err(), by_jti || by_mark, "{result:?}");
            }
        }

        // After every step: within capacity, and nothing live lost or changed.
        assert!(store.sessions_len() <= STORE_SESSIONS);
        assert!(store.revocations_len() <= STORE_REVOCATIONS);
        let t = UnixTime::from_secs(now);
        for (i, id) in ids.iter().enumerate() {
            let got = block_on(store.get(&id.lookup_key(), t)).unwrap();
            assert_eq!(
                got.as_ref(),
                model.session(i, now).map(|(_, r)| r),
                "session {i}"
            );
        }
        for (j, jti) in jtis.iter().enumerate() {
            let mut claims = RegisteredClaims::default();
            claims.iss = Some("https://issuer.example");
            claims.jti = Some(jti);
            let revoked = block_on(jwt::check_not_revoked(&mut store, &claims, t)).is_err();
            assert_eq!(
                revoked,
                model.revoked[j].is_some_and(|u| t < u),
                "jti {jti}"
            );
        }
        for (s, subject) in subjects.iter().enumerate() {
            let mut claims = RegisteredClaims::default();
            claims.iss = Some("https://issuer.example");
            claims.sub = Some(subject);
            // No `iat`: any live watermark revokes the token.
            let revoked = block_on(jwt::check_not_revoked(&mut store, &claims, t)).is_err();
            assert_eq!(
                revoked,
                model.marks[s].is_some_and(|(_, e)| t < e),
                "{subject}"
            );
        }
    }
}

/// Session capacity of the store under test: small, so that it fills.
pub const STORE_SESSIONS: usize = 8;
/// Revocation capacity of the store under test: small, so that it fills.
pub const STORE_REVOCATIONS: usize = 4;
const SESSION_KEYS: usize = 12;

/// What the store should hold: sessions by key index (with their subject's index),
/// revocations by `jti` index, watermarks by subject index.
#[derive(Default)]
struct Model {
    sessions: [Option<(usize, SessionRecord<u16>)>; SESSION_KEYS],
    revoked: [Option<UnixTime>; 6],
    marks: [Option<(UnixTime, UnixTime)>; 3],
}

impl Model {
    fn session(&self, k: usize, now: u64) -> Option<&(usize, SessionRecord<u16>)> {
        self.sessions[k]
            .as_ref()
            .filter(|(_, r)| r.is_live(UnixTime::from_secs(now)))
    }

    /// The key indices of subject `s`'s live sessions.
    fn live_of(&self, s: usize, now: u64) -> Vec<usize> {
        (0..SESSION_KEYS)
            .filter(|&i| self.session(i, now).is_some_and(|(x, _)| *x == s))
            .collect()
    }

    /// A create under a limit drops the subject's dead sessions.
    fn drop_dead_of(&mut self, s: usize, now: u64) {
        let t = UnixTime::from_secs(now);
        for slot in &mut self.sessions {
            if slot.as_ref().is_some_and(|(x, r)| *x == s && !r.is_live(t)) {
                *slot = None;
            }
        }
    }

    fn live_sessions(&self, now: u64) -> usize {
        let t = UnixTime::from_secs(now);
        self.sessions
            .iter()
            .flatten()
            .filter(|(_, r)| r.is_live(t))
            .count()
    }

    fn live_revocations(&self, now: u64) -> usize {
        let t = UnixTime::from_secs(now);
        self.revoked.iter().flatten().filter(|u| t < **u).count()
            + self.marks.iter().flatten().filter(|(_, e)| t < *e).count()
    }

    fn dead_count(&self, now: u64) -> usize {
        let t = UnixTime::from_secs(now);
        self.sessions
            .iter()
            .flatten()
            .filter(|(_, r)| !r.is_live(t))
            .count()
            + self.revoked.iter().flatten().filter(|u| t >= **u).count()
            + self.marks.iter().flatten().filter(|(_, e)| t >= *e).count()
    }

    fn forget_dead(&mut self, now: u64) {
        let t = UnixTime::from_secs(now);
        for slot in &mut self.sessions {
            if slot.as_ref().is_some_and(|(_, r)| !r.is_live(t)) {
                *slot = None;
            }
        }
        for slot in &mut self.revoked {
            if slot.is_some_and(|u| t >= u) {
                *slot = None;
            }
        }
        for slot in &mut self.marks {
            if slot.is_some_and(|(_, e)| t >= e) {
                *slot = None;
            }
        }
    }
}

/// Refresh-token families driven by arbitrary operations, checked against a model.
///
/// Input: one byte of operation and two bytes of arguments per step. Logins start families
/// for three subjects; every refresh token and access token ever issued is kept, so the
/// operations present current, just-replaced and long-replaced tokens, in any order, at
/// times that only move forwards.
///
/// Invariants after every step: a refresh succeeds exactly for the current token of a live
/// family; the token replaced within the grace period gets `Superseded` and changes
/// nothing; any other token of a live family gets `Reused` and ends it; a login past the
/// limit of three families per subject ends exactly the oldest ones; an access token is
/// accepted exactly while it is unexpired, its family was never ended and its subject was
/// not logged out everywhere after it was issued.
pub fn refresh_flow(data: &[u8]) {
    const ACCESS: u64 = 60;
    const REFRESH: u64 = 600;
    const FAMILY: u64 = 2000;
    const GRACE: u64 = 10;
    const LIMIT: usize = 3;
    let policy = RefreshPolicy::new()
        .with_access_lifetime(ACCESS)
        .with_refresh_lifetime(REFRESH)
        .with_family_lifetime(FAMILY)
        .with_grace_period(GRACE)
        .with_leeway(0)
        .with_subject_limit(SubjectLimit::new(
            NonZeroUsize::new(LIMIT).unwrap(),
            WhenFull::EndOldest,
        ));
    let validation = Validation::new().with_leeway(0);
    let key = Hs256Key::new_from_slice(SECRET).unwrap();
    let mut store: MemoryStore<Family<u8>, 64, 64> = MemoryStore::new();
    let mut rng = CounterRng(0x2545_f491_4f6c_dd1d);
    let subjects = ["alice", "bob", "carol"];

    // The model: families, every refresh token (family, generation), every access token.
    struct ModelFamily {
        subject: usize,
        handle: SessionHandle,
        data: u8,
        created: u64,
        generation: u32,
        rotated_at: u64,
        ended: bool,
    }
    let mut families: Vec<ModelFamily> = Vec::new();
    let mut tokens: Vec<(RefreshToken, usize, u32)> = Vec::new();
    let mut access: Vec<(String, usize, u64)> = Vec::new(); // token, family, iat
    let mut everywhere: [Option<u64>; 3] = [None; 3];
    let mut now = NOW;

    let mut r = Reader(data);
    let mut steps = 0;
    while !r.0.is_empty() && steps < 128 {
        steps += 1;
        let (op, a, b) = (r.byte(), r.byte(), r.byte());
        let t = UnixTime::from_secs(now);
        match op % 6 {
            0 => now += u64::from(a) * if b & 1 == 0 { 1 } else { 16 },
            1 if families.len() < 16 => {
                let s = usize::from(a) % subjects.len();
                let grant =
                    block_on(policy.issue(&mut store, &mut rng, subjects[s], a, t)).unwrap();
                // Room for the new family: the subject's oldest live ones end.
                let alive = |f: &ModelFamily| {
                    f.subject == s
                        && !f.ended
                        && now < f.created + FAMILY
                        && now < f.rotated_at + REFRESH
                };
                while families.iter().filter(|f| alive(f)).count() >= LIMIT {
                    let oldest = families
                        .iter_mut()
                        .filter(|f| alive(f))
                        .min_by_key(|f| (f.created, *f.handle.as_bytes()));
                    oldest.unwrap().ended = true;
                }
                let f = families.len();
                families.push(ModelFamily {
                    subject: s,
                    handle: grant.refresh.family(),
                    data: a,
                    created: now,
                    generation: 1,
                    rotated_at: now,
                    ended: false,
                });
                access.push((
                    jwt::sign_to_string(&key, &grant.access.claims(None, subjects[s])).unwrap(),
                    f,
                    now,
                ));
                tokens.push((grant.refresh, f, 1));
            }
            2 if !tokens.is_empty() => {
                let i = usize::from(a) % tokens.len();
                let (f, g) = (tokens[i].1, tokens[i].2);
                let fam = &families[f];
                let live =
                    !fam.ended && now < fam.created + FAMILY && now < fam.rotated_at + REFRESH;
                let result = block_on(policy.refresh(&mut store, &mut rng, &tokens[i].0, t));
                match result {
                    Ok(refreshed) => {
                        assert!(
                            live && g == fam.generation,
                            "refreshed a token that is not current"
                        );
                        assert_eq!(refreshed.data, fam.data, "the family's data");
                        let fam = &mut families[f];
                        fam.generation += 1;
                        fam.rotated_at = now;
                        let s = fam.subject;
                        access.push((
                            jwt::sign_to_string(
                                &key,
                                &refreshed.grant.access.claims(None, subjects[s]),
                            )
                            .unwrap(),
                            f,
                            now,
                        ));
                        tokens.push((refreshed.grant.refresh, f, fam.generation));
                    }
                    Err(RefreshError::Superseded) => {
                        assert!(live && g + 1 == fam.generation && now < fam.rotated_at + GRACE);
                    }
                    Err(RefreshError::Reused { family, revocation }) => {
                        assert!(revocation.is_ok(), "revoking the family's tokens failed");
                        assert!(
                            live && g != fam.generation,
                            "a current token counted as reused"
                        );
                        assert!(!(g + 1 == fam.generation && now < fam.rotated_at + GRACE));
                        assert!(family == tokens[i].0.family());
                        families[f].ended = true;
                    }
                    Err(RefreshError::Invalid) => assert!(!live, "a live family was not found"),
                    Err(e) => panic!("refresh: {e:?}"),
                }
            }
            3 if !tokens.is_empty() => {
                let i = usize::from(a) % tokens.len();
                let f = tokens[i].1;
                let fam = &families[f];
                let live =
                    !fam.ended && now < fam.created + FAMILY && now < fam.rotated_at + REFRESH;
                let existed = block_on(policy.logout(&mut store, &tokens[i].0, t)).unwrap();
                // A dead family the store still holds counts too.
                assert!(existed || !live, "logout missed a live family");
                families[f].ended = true;
            }
            4 => {
                let s = usize::from(a) % subjects.len();
                let ended =
                    block_on(policy.logout_everywhere(&mut store, None, subjects[s], t)).unwrap();
                let mut live = 0;
                for fam in families.iter_mut().filter(|f| f.subject == s) {
                    let alive =
                        !fam.ended && now < fam.created + FAMILY && now < fam.rotated_at + REFRESH;
                    live += usize::from(alive);
                    fam.ended = true;
                }
                assert!(ended >= live, "{ended} of {live} live families ended");
                everywhere[s] = Some(now);
            }
            _ if !access.is_empty() => {
                let i = usize::from(b) % access.len();
                let (token, f, iat) = &access[i];
                let fam = &families[*f];
                let logged_out = everywhere[fam.subject].is_some_and(|c| *iat <= c);
                let expected = now < iat + ACCESS && !fam.ended && !logged_out;
                let mut scratch = [0u8; 512];
                let result = block_on(jwt::verify_not_revoked::<serde::de::IgnoredAny, _, _>(
                    &key,
                    token,
                    &validation,
                    &mut store,
                    t,
                    &mut scratch,
                ));
                assert_eq!(result.is_ok(), expected, "{result:?}");
            }
            _ => {}
        }
    }
}

/// NOT A RANDOM NUMBER GENERATOR: hands out the bytes it holds, to give a session ID
/// bytes chosen by the fuzzer; fails once they run out.
struct ReplayRng<'a>(&'a [u8]);

impl rand_core::TryRng for ReplayRng<'_> {
    type Error = core::fmt::Error;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let (now, rest) = self.0.split_at_checked(dst.len()).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(now);
        self.0 = rest;
        Ok(())
    }
}

impl rand_core::TryCryptoRng for ReplayRng<'_> {}

/// NOT A RANDOM NUMBER GENERATOR: distinct values from a counter, so fuzz runs replay.
struct CounterRng(u64);

impl rand_core::TryRng for CounterRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        Ok(self.0 ^ (self.0 >> 29))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for CounterRng {}

/// `cookie-octet` of RFC 6265 §4.1.1.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// Whether `inner` lies inside `outer` in memory.
fn is_within(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len().max(1)).any(|w| w == needle)
}

/// Reads structured input from fuzz bytes; past the end everything reads as zero/empty.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
}

/// The claims type of `claims_de_differential`: the shapes `serde-json-core` reads, owned so
/// that both sides can be compared.
#[derive(Debug, PartialEq, Deserialize)]
struct DifferentialClaims {
    s: Option<heapless::String<16>>,
    u: Option<u32>,
    i: Option<i16>,
    b: Option<bool>,
    v: Option<heapless::Vec<u8, 4>>,
    nested: Option<NestedClaims>,
    e: Option<Choice>,
    t: Option<(u8, bool)>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct NestedClaims {
    x: Option<u8>,
    s: Option<heapless::String<8>>,
}

#[derive(Debug, PartialEq, Deserialize)]
enum Choice {
    A,
    B,
}

/// The deserializer `verify` hands the claims type to against `serde-json-core`'s, which
/// it replaced and which stays as its reference, and its two ways of finding top-level
/// members against each other.
///
/// Input: JSON text. When `serde_json` reads it as an object, its compact re-serialization
/// is canonical JSON (sorted names, `serde_json`'s escapes), which the library's
/// canonicalizer leaves unchanged, so both deserializers read the same bytes. In that form
/// the canonicalizer notes where the top-level members are and the deserializer takes
/// them from there; the pretty-printed form (whitespace between tokens) is rewritten, so
/// its members are found by scanning the canonical text instead.
///
/// Invariant: when the token passes verification's JSON and registered-claim checks (read
/// into `IgnoredAny`), `verify` into a claims type succeeds exactly when
/// `serde-json-core` reads the canonical payload into it, with the same value; and the
/// pretty-printed payload gives the same result as the compact one.
pub fn claims_de_differential(data: &[u8]) {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(data) else {
        return;
    };
    let payload = serde_json::to_vec(&object).unwrap();
    let pretty = serde_json::to_vec_pretty(&object).unwrap();
    let key = key();
    let policy = Validation::new()
        .with_required_set(ClaimSet::EMPTY)
        .with_leeway(u64::MAX)
        .with_max_token_len(usize::MAX);
    let now = UnixTime::from_secs(NOW);
    let verify = |payload: &[u8]| {
        let token = forge(SECRET, br#"{"alg":"HS256"}"#, payload);
        let mut scratch = vec![0u8; token.len() * 3 + 64];
        jwt::verify::<serde::de::IgnoredAny, _>(&key, &token, &policy, now, &mut scratch).ok()?;
        Some(
            jwt::verify::<DifferentialClaims, _>(&key, &token, &policy, now, &mut scratch)
                .map(|v| v.claims),
        )
    };
    let Some(ours) = verify(&payload) else {
        return;
    };
    let scanned = verify(&pretty);
    assert!(
        scanned.as_ref() == Some(&ours),
        "{}: compact {ours:?}, pretty {scanned:?}",
        String::from_utf8_lossy(&pretty)
    );
    let mut unescape = vec![0u8; payload.len()];
    let theirs = serde_json_core::from_slice_escaped::<DifferentialClaims>(&payload, &mut unescape);
    match (&ours, &theirs) {
        (Ok(a), Ok((b, used))) => {
            assert_eq!(*used, payload.len());
            assert_eq!(a, b);
        }
        (Err(e), Err(_)) => assert_eq!(*e, Error::Verify(VerifyError::Claims)),
        _ => panic!(
            "{}: ours {ours:?}, serde-json-core {theirs:?}",
            String::from_utf8_lossy(&payload)
        ),
    }
}

/// Arbitrary bytes as the payload of a validly signed token, verified as they are and again
/// after a space, under every policy (and a lax one that allows no nesting at all) and
/// into three claims types.
///
/// A payload that is a flat object in canonical form is read by verification's fast
/// reader (`src/jwt/json/flat.rs`); the space in front sends the same JSON to the
/// canonicalizer, which skips it. Invariant: the two give the same result, the claims and
/// the registered claims when accepted, the same error otherwise, whoever read which.
pub fn flat_differential(data: &[u8]) {
    let key = key();
    let now = UnixTime::from_secs(NOW);
    let spaced = [b" ".as_slice(), data].concat();
    let flat_only = policies()[1].with_max_depth(1);
    for policy in policies().into_iter().chain([flat_only]) {
        // The space lengthens the token, which must not change a verdict by itself.
        let policy = policy.with_max_token_len(usize::MAX);
        let verify = |payload: &[u8]| {
            // With the `typ` the third policy asks for, so that every policy reads payloads.
            let token = forge(SECRET, br#"{"alg":"HS256","typ":"JWT"}"#, payload);
            let mut scratch = vec![0u8; token.len() * 3 + 64];
            [
                format!(
                    "{:?}",
                    jwt::verify::<AppClaims<'_>, _>(&key, &token, &policy, now, &mut scratch)
                ),
                format!(
                    "{:?}",
                    jwt::verify::<DifferentialClaims, _>(&key, &token, &policy, now, &mut scratch)
                ),
                format!(
                    "{:?}",
                    jwt::verify::<serde::de::IgnoredAny, _>(
                        &key,
                        &token,
                        &policy,
                        now,
                        &mut scratch
                    )
                ),
            ]
        };
        let (direct, canonicalized) = (verify(data), verify(&spaced));
        assert!(
            direct == canonicalized,
            "{}: as sent {direct:?}, after a space {canonicalized:?}",
            String::from_utf8_lossy(data)
        );
    }
}
