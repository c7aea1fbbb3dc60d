//! Hostile tokens: every rule of verification, each with the specific error it must give.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use common::{HS256, SECRET, b64, token, token_raw, token_with};
use serde::Deserialize;
use tokenstile::jwt::{self, Hs256Key, KeyRing, Validation};
use tokenstile::{Claim, DecodeError, Error, JsonError, UnixTime, VerifyError};

const NOW: u64 = 1_700_000_000;
const PAYLOAD: &str = r#"{"sub":"alice","exp":1700000900}"#;

#[derive(Debug, Deserialize)]
struct Claims<'a> {
    sub: &'a str,
}

fn key() -> Hs256Key {
    Hs256Key::new_from_slice(SECRET).unwrap()
}

fn check_with(token: &str, policy: &Validation<'_>) -> Result<(), Error> {
    let mut scratch = vec![0u8; token.len() * 3 + 64];
    jwt::verify::<serde::de::IgnoredAny, _>(
        &key(),
        token,
        policy,
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .map(|_| ())
}

fn check(token: &str) -> Result<(), Error> {
    check_with(token, &Validation::new())
}

fn decode(e: DecodeError) -> Result<(), Error> {
    Err(Error::Decode(e))
}

fn verify_err(e: VerifyError) -> Result<(), Error> {
    Err(Error::Verify(e))
}

#[test]
fn baseline_is_accepted() {
    assert_eq!(check(&token(HS256, PAYLOAD)), Ok(()));
    let mut scratch = [0u8; 128];
    let t = token(HS256, PAYLOAD);
    let v = jwt::verify::<Claims, _>(
        &key(),
        &t,
        &Validation::new(),
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .unwrap();
    assert_eq!(v.claims.sub, "alice");
}

#[test]
fn algorithm_variants_are_refused() {
    for alg in [
        r#""none""#,
        r#""None""#,
        r#""NONE""#,
        r#""nOnE""#,
        r#""HS512""#,
        r#""HS384""#,
        r#""hs256""#,
        r#""RS256""#,
        r#""ES256""#,
        r#""PS256""#,
        r#""EdDSA""#,
        r#""""#,
        "null",
        "true",
        "256",
        r#"["HS256"]"#,
        r#"{"alg":"HS256"}"#,
    ] {
        let header = format!(r#"{{"alg":{alg},"typ":"JWT"}}"#);
        // The MAC is valid HS256 over the token: algorithm confusion must still fail.
        assert_eq!(
            check(&token(&header, PAYLOAD)),
            decode(DecodeError::Algorithm),
            "{alg}"
        );
    }
    assert_eq!(
        check(&token(r#"{"typ":"JWT"}"#, PAYLOAD)),
        decode(DecodeError::Algorithm)
    );
}

#[test]
fn alg_none_with_empty_signature_is_refused() {
    let t = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(PAYLOAD.as_bytes()));
    assert_eq!(check(&t), decode(DecodeError::Algorithm));
    // Even with a valid HS256 header, an empty signature never verifies: it is a
    // malformed token, not a MAC that failed to match.
    let t = format!("{}.{}.", b64(HS256.as_bytes()), b64(PAYLOAD.as_bytes()));
    assert_eq!(check(&t), decode(DecodeError::SignatureLength));
}

#[test]
fn crit_enc_and_typ() {
    let crit =
        r#"{"alg":"HS256","crit":["http://example.invalid/x"],"http://example.invalid/x":1}"#;
    assert_eq!(check(&token(crit, PAYLOAD)), decode(DecodeError::Critical));
    let enc = r#"{"alg":"HS256","enc":"A256GCM"}"#;
    assert_eq!(check(&token(enc, PAYLOAD)), decode(DecodeError::Encrypted));
    let typ = r#"{"alg":"HS256","typ":"at+jwt"}"#;
    assert_eq!(check(&token(typ, PAYLOAD)), decode(DecodeError::Type));
    assert_eq!(
        check_with(&token(typ, PAYLOAD), &Validation::new().with_typ("at+jwt")),
        Ok(())
    );
    let typ_num = r#"{"alg":"HS256","typ":7}"#;
    assert_eq!(
        check(&token(typ_num, PAYLOAD)),
        decode(DecodeError::HeaderMember)
    );
    assert_eq!(
        check(&token(r#"{"alg":"HS256","typ":"jwt"}"#, PAYLOAD)),
        Ok(())
    );
}

#[test]
fn duplicate_members_in_header_and_payload() {
    let dup_header = r#"{"alg":"HS256","alg":"HS256"}"#;
    assert_eq!(
        check(&token(dup_header, PAYLOAD)),
        decode(DecodeError::Header(JsonError::DuplicateMember))
    );
    let esc_header = r#"{"alg":"HS256","\u0061lg":"none"}"#;
    assert_eq!(
        check(&token(esc_header, PAYLOAD)),
        decode(DecodeError::Header(JsonError::DuplicateMember))
    );
    let dup_exp = r#"{"sub":"alice","exp":1700000900,"exp":1}"#;
    assert_eq!(
        check(&token(HS256, dup_exp)),
        verify_err(VerifyError::Payload(JsonError::DuplicateMember))
    );
    let esc_exp = r#"{"sub":"alice","exp":1,"\u0065xp":1700000900}"#;
    assert_eq!(
        check(&token(HS256, esc_exp)),
        verify_err(VerifyError::Payload(JsonError::DuplicateMember))
    );
    let nested = r#"{"exp":1700000900,"x":{"a":1,"a":2}}"#;
    assert_eq!(
        check(&token(HS256, nested)),
        verify_err(VerifyError::Payload(JsonError::DuplicateMember))
    );
}

#[test]
fn base64_must_be_canonical() {
    let h = b64(HS256.as_bytes());
    let p = b64(PAYLOAD.as_bytes());
    let good = token_raw(&h, &p);
    assert_eq!(check(&good), Ok(()));
    // Padding, whitespace, the standard alphabet.
    assert_eq!(
        check(&token_raw(&format!("{h}="), &p)),
        decode(DecodeError::Base64)
    );
    assert_eq!(
        check(&token_raw(&h, &format!("{p}=="))),
        decode(DecodeError::Base64)
    );
    assert_eq!(
        check(&token_raw(&format!(" {h}"), &p)),
        decode(DecodeError::Base64)
    );
    assert_eq!(
        check(&token_raw(&h, &format!("{}\n{}", &p[..4], &p[4..]))),
        decode(DecodeError::Base64)
    );
    let std_alphabet = p.replace('-', "+").replace('_', "/");
    if std_alphabet != p {
        assert_eq!(
            check(&token_raw(&h, &std_alphabet)),
            decode(DecodeError::Base64)
        );
    }
    // Non-zero unused trailing bits: the same bytes under a second spelling.
    let payload = br#"{"exp":17000009000}"#; // 19 bytes: the last character carries 4 unused bits
    let canonical = b64(payload);
    let mut alt = canonical.clone().into_bytes();
    let last = alt.pop().unwrap();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|&c| c == last).unwrap();
    alt.push(alphabet[index | 1]);
    let alt = String::from_utf8(alt).unwrap();
    assert_ne!(alt, canonical);
    assert_eq!(check(&token_raw(&h, &canonical)), Ok(()));
    assert_eq!(check(&token_raw(&h, &alt)), decode(DecodeError::Base64));
    // The signature segment too.
    let sig = good.rsplit('.').next().unwrap();
    let sig_padded = format!("{h}.{p}.{sig}=");
    assert_eq!(check(&sig_padded), decode(DecodeError::SignatureLength));
    let sig_bad_char = format!("{h}.{p}.{}*", &sig[..42]);
    assert_eq!(check(&sig_bad_char), decode(DecodeError::Base64));
}

#[test]
fn segment_count() {
    let t = token(HS256, PAYLOAD);
    let parts: Vec<&str> = t.split('.').collect();
    assert_eq!(check(&parts[..2].join(".")), decode(DecodeError::Segments));
    assert_eq!(
        check(&format!("{t}.{}", parts[2])),
        decode(DecodeError::Segments)
    );
    assert_eq!(check(&format!("{t}.")), decode(DecodeError::Segments));
    assert_eq!(check(""), decode(DecodeError::Segments));
    assert_eq!(check(parts[0]), decode(DecodeError::Segments));
    assert_eq!(check(".."), decode(DecodeError::Header(JsonError::Syntax)));
    // A fourth segment inside the payload or the signature, with the signature's dot where a
    // three-segment token has it: still a count problem, and it wins over a bad header.
    let (h, p, sig) = (parts[0], parts[1], parts[2]);
    let split_payload = format!("{h}.{}.{}.{sig}", &p[..8], &p[8..]);
    assert_eq!(check(&split_payload), decode(DecodeError::Segments));
    let dotted_sig = format!("{h}.{p}.{}.{}", &sig[..20], &sig[21..]);
    assert_eq!(dotted_sig.len(), t.len());
    assert_eq!(check(&dotted_sig), decode(DecodeError::Segments));
    let bad_header = format!("e30x.{}.{}.{sig}", &p[..8], &p[8..]);
    assert_eq!(check(&bad_header), decode(DecodeError::Segments));
    let bad_header = format!("e30x.{p}.{}.{}", &sig[..20], &sig[21..]);
    assert_eq!(check(&bad_header), decode(DecodeError::Segments));
    // Without the fourth segment, the same header is refused for what it is.
    assert_ne!(
        check(&format!("e30x.{p}.{sig}")),
        decode(DecodeError::Segments)
    );
}

#[test]
fn signature_changes_are_refused() {
    let t = token(HS256, PAYLOAD);
    let (input, sig) = t.rsplit_once('.').unwrap();
    // Truncated and extended: a malformed token, reported as such rather than as a MAC
    // mismatch, whatever the characters (the MAC is not computed).
    for bad_len in [
        format!("{input}.{}", &sig[..42]),
        format!("{input}.{}", &sig[..22]),
        format!("{input}.{sig}AA"),
        format!("{input}.{sig}A"),
        format!("{input}.{}", b64(&[0u8; 31])),
        format!("{input}.{}", b64(&[0u8; 33])),
        format!("{input}.{}", b64(&[0u8; 64])),
        format!("{input}.!"),
        format!("{input}."),
    ] {
        assert_eq!(
            check(&bad_len),
            decode(DecodeError::SignatureLength),
            "{bad_len}"
        );
    }
    // The right length with a character outside the alphabet is bad base64.
    assert_eq!(
        check(&format!("{input}.{}!", &sig[..42])),
        decode(DecodeError::Base64)
    );
    // Every single-bit flip of the decoded MAC.
    let mac = {
        use base64ct::Encoding;
        base64ct::Base64UrlUnpadded::decode_vec(sig).unwrap()
    };
    for bit in 0..256 {
        let mut m = mac.clone();
        m[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            check(&format!("{input}.{}", b64(&m))),
            verify_err(VerifyError::Signature),
            "bit {bit}"
        );
    }
    // A MAC under another key.
    let other = token_with(&[7u8; 32], HS256, PAYLOAD);
    assert_eq!(check(&other), verify_err(VerifyError::Signature));
}

#[test]
fn payload_changes_are_refused() {
    let t = token(HS256, PAYLOAD);
    let (h, rest) = t.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let forged = format!("{h}.{}.{sig}", b64(br#"{"sub":"admin","exp":1700000900}"#));
    assert_eq!(check(&forged), verify_err(VerifyError::Signature));
}

#[test]
fn time_claims() {
    let exp = |e: &str| token(HS256, &format!(r#"{{"exp":{e}}}"#));
    assert_eq!(check(&exp("1700000001")), Ok(()));
    assert_eq!(check(&exp("1700000000")), verify_err(VerifyError::Expired));
    assert_eq!(check(&exp("1")), verify_err(VerifyError::Expired));
    assert_eq!(
        check(&token(HS256, "{}")),
        verify_err(VerifyError::MissingClaim(Claim::Exp))
    );
    let nbf = token(HS256, r#"{"exp":1800000000,"nbf":1700000001}"#);
    assert_eq!(check(&nbf), verify_err(VerifyError::NotYetValid));
    assert_eq!(check_with(&nbf, &Validation::new().with_leeway(1)), Ok(()));
    let iat = token(HS256, r#"{"exp":1800000000,"iat":1700000060}"#);
    assert_eq!(check(&iat), verify_err(VerifyError::IssuedInFuture));
    assert_eq!(check_with(&iat, &Validation::new().with_leeway(60)), Ok(()));
    let old = token(HS256, r#"{"exp":1800000000,"iat":1600000000}"#);
    assert_eq!(
        check_with(&old, &Validation::new().with_max_age(3600)),
        verify_err(VerifyError::TooOld)
    );
}

#[test]
fn numeric_dates_up_to_i64_max_are_read() {
    let policy = Validation::new().with_leeway(0);
    let far = token(HS256, r#"{"exp":9223372036854775807}"#);
    assert_eq!(check_with(&far, &policy), Ok(()));
    let mut scratch = vec![0u8; far.len() * 3];
    let verified = jwt::verify::<serde::de::IgnoredAny, _>(
        &key(),
        &far,
        &policy,
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .unwrap();
    assert_eq!(
        verified.registered.exp,
        Some(UnixTime::from_secs(i64::MAX.unsigned_abs()))
    );
    let past = token(HS256, r#"{"exp":1800000000,"nbf":0,"iat":0}"#);
    assert_eq!(check(&past), Ok(()));
}

#[test]
fn mistyped_registered_claims_are_errors_not_absent() {
    for (claim, values) in [
        (
            Claim::Exp,
            &[
                r#""1800000000""#,
                "null",
                "true",
                "[1800000000]",
                "{}",
                "1.8e9",
                "1800000000.5",
                "-1",
                "18446744073709551616",
                // Beyond `i64`, where most implementations hold dates.
                "9223372036854775808",
                "18446744073709551615",
            ][..],
        ),
        (
            Claim::Nbf,
            &[
                r#""0""#,
                "null",
                "false",
                "0.0",
                "-0",
                "9223372036854775808",
            ][..],
        ),
        (
            Claim::Iat,
            &[r#""0""#, "null", "1e3", "9223372036854775808"][..],
        ),
        (Claim::Iss, &["1", "null", "[\"a\"]", "{}"][..]),
        (Claim::Sub, &["1", "null", "true"][..]),
        (Claim::Jti, &["1", "null"][..]),
        (Claim::Sid, &["1", "null", "[\"a\"]"][..]),
        (
            Claim::Aud,
            &["1", "null", "[1]", "[\"a\",null]", "{}", "[[\"a\"]]"][..],
        ),
    ] {
        for value in values {
            let payload = if claim == Claim::Exp {
                format!(r#"{{"exp":{value}}}"#)
            } else {
                format!(r#"{{"exp":1800000000,"{}":{value}}}"#, claim.name())
            };
            assert_eq!(
                check(&token(HS256, &payload)),
                verify_err(VerifyError::InvalidClaim(claim)),
                "{payload}"
            );
        }
    }
}

#[test]
fn issuer_audience_subject() {
    let t = token(
        HS256,
        r#"{"exp":1800000000,"iss":"https://a.example","aud":["x","api"],"sub":"alice"}"#,
    );
    let auds: &[&str] = &["api"];
    let good = Validation::new()
        .with_issuer("https://a.example")
        .with_audiences(auds)
        .with_subject("alice");
    assert_eq!(check_with(&t, &good), Ok(()));
    assert_eq!(
        check_with(&t, &good.with_issuer("https://b.example")),
        verify_err(VerifyError::Issuer)
    );
    let other: &[&str] = &["web"];
    assert_eq!(
        check_with(&t, &good.with_audiences(other)),
        verify_err(VerifyError::Audience)
    );
    assert_eq!(
        check_with(&t, &good.with_subject("bob")),
        verify_err(VerifyError::Subject)
    );
    // `aud` present but this verifier names no audience: refused (RFC 7519 §4.1.3).
    assert_eq!(check(&t), verify_err(VerifyError::Audience));
    // Escaped strings are compared after unescaping.
    let esc = token(
        HS256,
        r#"{"exp":1800000000,"iss":"https:\/\/a.example","aud":"\u0061pi"}"#,
    );
    assert_eq!(
        check_with(
            &esc,
            &Validation::new()
                .with_issuer("https://a.example")
                .with_audiences(auds)
        ),
        Ok(())
    );
    // Every element counts, empty ones included, wherever they stand.
    let with_empty = token(HS256, r#"{"exp":1800000000,"aud":["","api"]}"#);
    let mut scratch = [0u8; 256];
    let v = jwt::verify::<serde::de::IgnoredAny, _>(
        &key(),
        &with_empty,
        &Validation::new().with_audiences(auds),
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .unwrap();
    assert!(v.registered.aud.unwrap().iter().eq(["", "api"]));
    let only_empty = token(HS256, r#"{"exp":1800000000,"aud":[""]}"#);
    let v = jwt::verify::<serde::de::IgnoredAny, _>(
        &key(),
        &only_empty,
        &Validation::new().with_audiences(&[""]),
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .unwrap();
    assert!(v.registered.aud.unwrap().iter().eq([""]));
    // An audience element with NUL cannot smuggle a second value.
    let nul = token(HS256, r#"{"exp":1800000000,"aud":["x\u0000api"]}"#);
    assert_eq!(
        check_with(&nul, &Validation::new().with_audiences(auds)),
        verify_err(VerifyError::InvalidClaim(Claim::Aud))
    );
}

#[test]
fn oversized_and_deep_input() {
    let big = format!(r#"{{"exp":1800000000,"x":"{}"}}"#, "a".repeat(9000));
    assert_eq!(check(&token(HS256, &big)), decode(DecodeError::TooLong));
    assert_eq!(
        check_with(
            &token(HS256, &big),
            &Validation::new().with_max_token_len(16 * 1024)
        ),
        Ok(())
    );

    let deep = |n: usize| {
        format!(
            r#"{{"exp":1800000000,"x":{}1{}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    assert_eq!(check(&token(HS256, &deep(15))), Ok(()));
    assert_eq!(
        check(&token(HS256, &deep(16))),
        verify_err(VerifyError::Payload(JsonError::Depth))
    );
    let policy = Validation::new().with_max_token_len(1 << 20);
    assert_eq!(
        check_with(&token(HS256, &deep(100_000)), &policy),
        verify_err(VerifyError::Payload(JsonError::Depth))
    );
    let deep_header = format!(
        r#"{{"alg":"HS256","x":{}0{}}}"#,
        "[".repeat(50),
        "]".repeat(50)
    );
    assert_eq!(
        check(&token(&deep_header, PAYLOAD)),
        decode(DecodeError::Header(JsonError::Depth))
    );
}

#[test]
fn malformed_json() {
    for (payload, err) in [
        (r#"{"exp":1800000000,"x":tru}"#, JsonError::Syntax),
        (r#"{"exp":1800000000,}"#, JsonError::Syntax),
        (r#"{"exp":1800000000"#, JsonError::Syntax),
        (r#"[1800000000]"#, JsonError::NotObject),
        (r#"{"exp":1800000000} x"#, JsonError::TrailingData),
        (
            "{\"exp\":1800000000,\"x\":\"a\u{1}b\"}",
            JsonError::ControlCharacter,
        ),
        (r#"{"exp":1800000000,"x":"\x"}"#, JsonError::InvalidEscape),
        (
            r#"{"exp":1800000000,"x":"\ud800"}"#,
            JsonError::UnpairedSurrogate,
        ),
        (r#"{"exp":01800000000}"#, JsonError::InvalidNumber),
    ] {
        assert_eq!(
            check(&token(HS256, payload)),
            verify_err(VerifyError::Payload(err)),
            "{payload}"
        );
    }
    // Bytes that are not UTF-8.
    let mut bytes = br#"{"exp":1800000000,"x":"#.to_vec();
    bytes.extend_from_slice(&[b'"', 0xff, b'"', b'}']);
    let t = token_raw(&b64(HS256.as_bytes()), &b64(&bytes));
    assert_eq!(
        check(&t),
        verify_err(VerifyError::Payload(JsonError::InvalidUtf8))
    );
    // A header that is not an object.
    assert_eq!(
        check(&token("[]", PAYLOAD)),
        decode(DecodeError::Header(JsonError::NotObject))
    );
}

#[test]
fn surrogate_pairs_in_claims_are_decoded() {
    #[derive(Deserialize)]
    struct Name {
        name: heapless::String<16>,
    }
    let t = token(HS256, r#"{"exp":1800000000,"name":"\ud83d\ude00 \"q\""}"#);
    let mut scratch = [0u8; 256];
    let v = jwt::verify::<Name, _>(
        &key(),
        &t,
        &Validation::new(),
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .unwrap();
    assert_eq!(v.claims.name.as_str(), "😀 \"q\"");
}

#[test]
fn claims_type_mismatch_and_small_scratch() {
    #[derive(Debug, Deserialize)]
    struct Needs {
        #[allow(dead_code)]
        role: u8,
    }
    let t = token(HS256, PAYLOAD);
    let mut scratch = [0u8; 128];
    let err = jwt::verify::<Needs, _>(
        &key(),
        &t,
        &Validation::new(),
        UnixTime::from_secs(NOW),
        &mut scratch,
    )
    .unwrap_err();
    assert_eq!(err, Error::Verify(VerifyError::Claims));
    let mut tiny = [0u8; 8];
    let err = jwt::verify::<Claims, _>(
        &key(),
        &t,
        &Validation::new(),
        UnixTime::from_secs(NOW),
        &mut tiny,
    )
    .unwrap_err();
    assert_eq!(err, Error::Decode(DecodeError::BufferTooSmall));
    assert!(!err.is_token_rejected());
    // With the limit at the buffer's length (as `max_token_len` says), a token too long
    // for the buffer is the token's fault, whatever its MAC.
    let policy = Validation::new().with_max_token_len(tiny.len());
    let err = jwt::verify::<Claims, _>(&key(), &t, &policy, UnixTime::from_secs(NOW), &mut tiny)
        .unwrap_err();
    assert_eq!(err, Error::Decode(DecodeError::TooLong));
    assert!(err.is_token_rejected());
}

#[test]
fn key_ring_kid_rules() {
    let ring = KeyRing::<2>::new("k1", key()).unwrap();
    let mut scratch = [0u8; 256];
    let now = UnixTime::from_secs(NOW);
    let with_kid = |kid: &str| token(&format!(r#"{{"alg":"HS256","kid":{kid}}}"#), PAYLOAD);
    let v = |t: &str, scratch: &mut [u8]| {
        jwt::verify::<serde::de::IgnoredAny, _>(&ring, t, &Validation::new(), now, scratch)
            .map(|_| ())
    };
    assert_eq!(v(&with_kid(r#""k1""#), &mut scratch), Ok(()));
    assert_eq!(
        v(&token(HS256, PAYLOAD), &mut scratch),
        decode(DecodeError::KeyIdMissing)
    );
    assert_eq!(
        v(&with_kid(r#""k2""#), &mut scratch),
        decode(DecodeError::KeyIdUnknown)
    );
    assert_eq!(
        v(&with_kid(r#""k\u0031""#), &mut scratch),
        Ok(()),
        "kid compared after unescaping"
    );
    assert_eq!(
        v(&with_kid(r#""k1\"""#), &mut scratch),
        decode(DecodeError::KeyIdUnknown)
    );
    assert_eq!(
        v(&with_kid("1"), &mut scratch),
        decode(DecodeError::HeaderMember)
    );
    // Header key material is never used.
    let jwk = token(
        r#"{"alg":"HS256","kid":"k1","jwk":{"kty":"oct","k":"AAAA"}}"#,
        PAYLOAD,
    );
    assert_eq!(v(&jwk, &mut scratch), Ok(()));
    let forged = token_with(
        &[0u8; 32],
        r#"{"alg":"HS256","kid":"k1","jwk":{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}"#,
        PAYLOAD,
    );
    assert_eq!(v(&forged, &mut scratch), verify_err(VerifyError::Signature));
}
