//! The values the store writes to Redis, and the key names it files them under.
//!
//! Values are ASCII headers with fixed offsets, so the Lua scripts can read and rewrite
//! the times and the version without a JSON library. Every time and version is 20
//! zero-padded decimal digits, which holds any `u64` and lets the scripts compare them
//! exactly as strings.
//!
//! ```text
//! session     s2:<created>:<last_seen>:<idle_deadline>:<absolute_deadline>:<version>:<subject>:<data>
//! revocation  r1:<until>
//! watermark   w1:<cutoff>:<expires_at>
//! ```
//!
//! `<subject>` is the 64 lowercase hex digits of the `SubjectKey`; `<data>` is the
//! application data as JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokenstile::UnixTime;
use tokenstile::store::{LookupKey, SessionRecord, StoreErrorKind, SubjectKey, Watermark};

use crate::error::Error;

/// Key names under one prefix.
///
/// Every key that a session operation touches (the session, its subject's index and
/// creation-order set) starts with the same hash tag, `{<prefix>sessions}`, so on Redis
/// Cluster they all live in one slot and each script's keys are always together.
/// Revocations and watermarks are single-key operations and are spread over the
/// cluster by their own names.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    prefix: String,
    sessions: String,
}

impl Keys {
    pub(crate) fn new(prefix: String) -> Self {
        Self {
            sessions: format!("{{{prefix}sessions}}:"),
            prefix,
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What every session-side key starts with; the scripts append `session:<member>`,
    /// `subject:<hex>` and `age:<hex>` to it.
    pub(crate) fn sessions(&self) -> &str {
        &self.sessions
    }

    pub(crate) fn session(&self, key: &LookupKey) -> String {
        format!("{}session:{}", self.sessions, hex(key.as_bytes()))
    }

    /// The subject's index: a sorted set of its session members scored by expiry.
    pub(crate) fn subject(&self, subject: &SubjectKey) -> String {
        format!("{}subject:{}", self.sessions, hex(subject.as_bytes()))
    }

    /// The subject's sessions in creation order: members scored by creation time.
    pub(crate) fn age(&self, subject: &SubjectKey) -> String {
        format!("{}age:{}", self.sessions, hex(subject.as_bytes()))
    }

    /// A detached index being swept by `remove_subject`, and its creation-order set.
    pub(crate) fn swept(&self, subject: &SubjectKey, tag: u64) -> (String, String) {
        let subject = hex(subject.as_bytes());
        (
            format!("{}gone:{subject}:{tag:016x}", self.sessions),
            format!("{}gone-age:{subject}:{tag:016x}", self.sessions),
        )
    }

    pub(crate) fn revoked(&self, key: &LookupKey) -> String {
        format!("{}{REVOKED_NS}{}", self.prefix, hex(key.as_bytes()))
    }

    pub(crate) fn watermark(&self, key: &LookupKey) -> String {
        format!("{}{WATERMARK_NS}{}", self.prefix, hex(key.as_bytes()))
    }
}

/// A session's index member: the hex of its lookup key.
pub(crate) fn member(key: &LookupKey) -> String {
    hex(key.as_bytes())
}

/// A member as bytes again (for listings), or `None` if it is not 64 lowercase hex.
pub(crate) fn parse_member(member: &[u8]) -> Option<[u8; 32]> {
    parse_hex(member)
}

/// A subject as session values and index keys spell it.
pub(crate) fn subject_hex(subject: &SubjectKey) -> String {
    hex(subject.as_bytes())
}

/// A time or a version as the scripts read it: 20 decimal digits.
pub(crate) fn digits(n: u64) -> String {
    format!("{n:020}")
}

/// A time as the scripts read it: 20 decimal digits.
pub(crate) fn time(t: UnixTime) -> String {
    digits(t.as_secs())
}

/// A time as a sorted-set score: exact up to 2^53 seconds (285 million years), and
/// capped there, because scores are doubles.
pub(crate) fn score(t: UnixTime) -> String {
    t.as_secs().min(MAX_SCORE).to_string()
}

pub(crate) fn encode_data<D: Serialize>(data: &D) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(data).map_err(|_| Error::new(StoreErrorKind::Other))
}

pub(crate) fn encode_session<D: Serialize>(record: &SessionRecord<D>) -> Result<Vec<u8>, Error> {
    let data = encode_data(record.data())?;
    let mut out = format!(
        "{SESSION_TAG}{}:{}:{}:{}:{}:{}:",
        time(record.created()),
        time(record.last_seen()),
        time(record.idle_deadline()),
        time(record.absolute_deadline()),
        digits(record.version()),
        hex(record.subject().as_bytes()),
    )
    .into_bytes();
    out.extend_from_slice(&data);
    Ok(out)
}

pub(crate) fn decode_session<D: DeserializeOwned>(value: &[u8]) -> Result<SessionRecord<D>, Error> {
    let mut fields = Fields::new(value, SESSION_TAG)?;
    let created = fields.time()?;
    let last_seen = fields.time()?;
    let idle_deadline = fields.time()?;
    let absolute_deadline = fields.time()?;
    let version = fields.number()?;
    let subject = fields.subject()?;
    // The decoder's error could quote the data: report the kind alone.
    let data = serde_json::from_slice(fields.rest()).map_err(|_| Error::corrupt())?;
    Ok(SessionRecord::from_parts(
        subject,
        data,
        created,
        last_seen,
        idle_deadline,
        absolute_deadline,
        version,
    ))
}

pub(crate) fn decode_revocation(value: &[u8]) -> Result<UnixTime, Error> {
    let mut fields = Fields::new(value, REVOKED_TAG)?;
    let until = fields.last_time()?;
    Ok(until)
}

pub(crate) fn decode_watermark(value: &[u8]) -> Result<Watermark, Error> {
    let mut fields = Fields::new(value, WATERMARK_TAG)?;
    let cutoff = fields.time()?;
    let expires_at = fields.last_time()?;
    Ok(Watermark::new(cutoff, expires_at))
}

/// Reads a value's fields in order, each followed by `:`.
struct Fields<'v> {
    rest: &'v [u8],
}

impl<'v> Fields<'v> {
    fn new(value: &'v [u8], tag: &str) -> Result<Self, Error> {
        let rest = value
            .strip_prefix(tag.as_bytes())
            .ok_or_else(Error::corrupt)?;
        Ok(Self { rest })
    }

    fn take(&mut self, len: usize) -> Result<&'v [u8], Error> {
        let field = self.rest.get(..len).ok_or_else(Error::corrupt)?;
        let rest = self.rest.get(len..).ok_or_else(Error::corrupt)?;
        self.rest = rest.strip_prefix(b":").ok_or_else(Error::corrupt)?;
        Ok(field)
    }

    fn number(&mut self) -> Result<u64, Error> {
        let digits = self.take(NUMBER_LEN)?;
        parse_number(digits).ok_or_else(Error::corrupt)
    }

    fn time(&mut self) -> Result<UnixTime, Error> {
        self.number().map(UnixTime::from_secs)
    }

    /// The last field: the value must end with it.
    fn last_time(&mut self) -> Result<UnixTime, Error> {
        if self.rest.len() != NUMBER_LEN {
            return Err(Error::corrupt());
        }
        parse_number(self.rest)
            .map(UnixTime::from_secs)
            .ok_or_else(Error::corrupt)
    }

    fn subject(&mut self) -> Result<SubjectKey, Error> {
        let digits = self.take(64)?;
        parse_hex(digits)
            .map(SubjectKey::from_bytes)
            .ok_or_else(Error::corrupt)
    }

    fn rest(self) -> &'v [u8] {
        self.rest
    }
}

/// Exactly [`NUMBER_LEN`] ASCII digits, at most `u64::MAX`.
fn parse_number(digits: &[u8]) -> Option<u64> {
    if digits.len() != NUMBER_LEN {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        let d = if d.is_ascii_digit() {
            d.checked_sub(b'0')?
        } else {
            return None;
        };
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// Exactly 64 lowercase hex digits.
fn parse_hex(digits: &[u8]) -> Option<[u8; 32]> {
    if digits.len() != 64 {
        return None;
    }
    let mut bytes = [0; 32];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let mut nibbles = pair.iter().map(|&c| nibble(c));
        let (Some(Some(hi)), Some(Some(lo))) = (nibbles.next(), nibbles.next()) else {
            return None;
        };
        *byte = hi << 4 | lo;
    }
    Some(bytes)
}

fn hex(bytes: &[u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    for b in bytes {
        for n in [b >> 4, b & 0xf] {
            out.push(char::from(
                HEX_DIGITS.get(usize::from(n)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// Lowercase hex only: every subject has one spelling.
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => c.checked_sub(b'0'),
        b'a'..=b'f' => c.checked_sub(b'a' - 10),
        _ => None,
    }
}

pub(crate) const SESSION_TAG: &str = "s2:";
pub(crate) const REVOKED_TAG: &str = "r1:";
pub(crate) const WATERMARK_TAG: &str = "w1:";
/// 2^53: the largest score a double holds with every integer below it.
const MAX_SCORE: u64 = 1 << 53;
const NUMBER_LEN: usize = 20;
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
const REVOKED_NS: &str = "revoked:";
const WATERMARK_NS: &str = "watermark:";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn record() -> SessionRecord<Vec<String>> {
        SessionRecord::from_parts(
            SubjectKey::from_bytes([0xa5; 32]),
            vec!["x:y".to_owned()],
            UnixTime::from_secs(1),
            UnixTime::from_secs(2),
            UnixTime::from_secs(u64::MAX),
            UnixTime::from_secs(4),
            u64::MAX - 1,
        )
    }

    #[test]
    fn session_round_trips_with_fixed_offsets() {
        let value = encode_session(&record()).unwrap();
        let text = core::str::from_utf8(&value).unwrap();
        // The offsets the scripts use (1-based there).
        assert_eq!(&text[..3], "s2:");
        assert_eq!(&text[3..23], "00000000000000000001");
        assert_eq!(&text[24..44], "00000000000000000002");
        assert_eq!(&text[45..65], "18446744073709551615");
        assert_eq!(&text[66..86], "00000000000000000004");
        assert_eq!(&text[87..107], "18446744073709551614");
        assert_eq!(&text[108..172], "a5".repeat(32));
        assert_eq!(&text[172..], r#":["x:y"]"#);
        assert_eq!(decode_session::<Vec<String>>(&value).unwrap(), record());
    }

    #[test]
    fn malformed_values_are_corrupt() {
        let good = encode_session(&record()).unwrap();
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"s2:".to_vec(),
            good[..171].to_vec(),
            good[..173].to_vec(),
        ];
        // The previous format's tag is not read as this one.
        let mut old = good.clone();
        old[1] = b'1';
        cases.push(old);
        for (at, byte) in [
            (3, b'x'),
            (23, b';'),
            (90, b'a'),
            (107, b';'),
            (120, b'A'),
            (120, b'g'),
            (174, b'?'),
        ] {
            let mut bad = good.clone();
            bad[at] = byte;
            cases.push(bad);
        }
        // One past u64::MAX, as a time and as a version.
        for at in [45, 87] {
            let mut over = good.clone();
            over[at..at + 20].copy_from_slice(b"18446744073709551616");
            cases.push(over);
        }
        for case in cases {
            let err = decode_session::<Vec<String>>(&case).unwrap_err();
            assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{case:?}");
        }
        // Well-formed, but the data is not a `u32`.
        let err = decode_session::<u32>(&good).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    }

    #[test]
    fn revocations_and_watermarks_decode_strictly() {
        let until = format!("{REVOKED_TAG}{}", time(UnixTime::from_secs(9)));
        assert_eq!(
            decode_revocation(until.as_bytes()).unwrap(),
            UnixTime::from_secs(9)
        );
        let wm = format!(
            "{WATERMARK_TAG}{}:{}",
            time(UnixTime::from_secs(5)),
            time(UnixTime::from_secs(7))
        );
        assert_eq!(
            decode_watermark(wm.as_bytes()).unwrap(),
            Watermark::new(UnixTime::from_secs(5), UnixTime::from_secs(7))
        );
        for bad in [&until[..22], &format!("{until}:"), &wm.replace("w1", "r1")] {
            assert_eq!(
                decode_revocation(bad.as_bytes())
                    .map_err(StoreErrorKind::from)
                    .err(),
                Some(StoreErrorKind::Corrupt)
            );
        }
        assert_eq!(
            decode_watermark(until.as_bytes())
                .map_err(StoreErrorKind::from)
                .err(),
            Some(StoreErrorKind::Corrupt)
        );
    }

    #[test]
    fn session_keys_share_one_hash_tag() {
        let keys = Keys::new("app:".to_owned());
        let subject = SubjectKey::from_bytes([0x0f; 32]);
        assert_eq!(
            keys.subject(&subject),
            format!("{{app:sessions}}:subject:{}", "0f".repeat(32))
        );
        assert_eq!(
            keys.age(&subject),
            format!("{{app:sessions}}:age:{}", "0f".repeat(32))
        );
        assert_eq!(keys.sessions(), "{app:sessions}:");
        let (gone, gone_age) = keys.swept(&subject, 0xab);
        assert!(gone.starts_with("{app:sessions}:gone:"));
        assert!(gone_age.starts_with("{app:sessions}:gone-age:"));
        let revoked = keys.revoked(
            &tokenstile::session::SessionId::parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
                .unwrap()
                .lookup_key(),
        );
        assert!(revoked.starts_with("app:revoked:"));
    }

    #[test]
    fn scores_are_capped_at_2_pow_53() {
        assert_eq!(score(UnixTime::from_secs(1_700_000_000)), "1700000000");
        assert_eq!(score(UnixTime::from_secs(u64::MAX)), "9007199254740992");
        assert_eq!(parse_member(member_of([7; 32]).as_bytes()), Some([7; 32]));
        assert_eq!(parse_member(b"0F"), None);
    }

    fn member_of(bytes: [u8; 32]) -> String {
        hex(&bytes)
    }
}
