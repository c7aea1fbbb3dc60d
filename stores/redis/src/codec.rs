//! The values the store writes to Redis, and the key names it files them under.
//!
//! Values are ASCII headers with fixed offsets, so the Lua scripts can read and rewrite
//! the times without a JSON library. Every time is 20 zero-padded decimal digits, which
//! holds any `u64` and lets the scripts compare times exactly.
//!
//! ```text
//! session     s1:<created>:<last_seen>:<idle_deadline>:<absolute_deadline>:<subject>:<data>
//! revocation  r1:<until>
//! watermark   w1:<cutoff>:<expires_at>
//! ```
//!
//! `<subject>` is the 64 lowercase hex digits of the `SubjectKey`; `<data>` is the
//! application data as JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokenstile::UnixTime;
use tokenstile::session::SessionRecord;
use tokenstile::store::{LookupKey, StoreErrorKind, SubjectKey, Watermark};

use crate::error::Error;

/// Key names under one prefix.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    prefix: String,
    session_prefix: String,
    subject_prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: String) -> Self {
        Self {
            session_prefix: format!("{prefix}{SESSION_NS}"),
            subject_prefix: format!("{prefix}{SUBJECT_NS}"),
            prefix,
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What a session key starts with; the scripts append an index member to it.
    pub(crate) fn session_prefix(&self) -> &str {
        &self.session_prefix
    }

    /// What a subject index key starts with; the scripts append a subject's hex to it.
    pub(crate) fn subject_prefix(&self) -> &str {
        &self.subject_prefix
    }

    pub(crate) fn session(&self, key: &LookupKey) -> String {
        format!("{}{}", self.session_prefix, hex(key.as_bytes()))
    }

    pub(crate) fn subject(&self, subject: &SubjectKey) -> String {
        format!("{}{}", self.subject_prefix, hex(subject.as_bytes()))
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

/// A subject as session values and index keys spell it.
pub(crate) fn subject_hex(subject: &SubjectKey) -> String {
    hex(subject.as_bytes())
}

/// A time as the scripts read it: 20 decimal digits.
pub(crate) fn time(t: UnixTime) -> String {
    format!("{:020}", t.as_secs())
}

pub(crate) fn encode_session<D: Serialize>(record: &SessionRecord<D>) -> Result<Vec<u8>, Error> {
    let data = serde_json::to_vec(record.data()).map_err(|_| Error::new(StoreErrorKind::Other))?;
    let mut out = format!(
        "{SESSION_TAG}{}:{}:{}:{}:{}:",
        time(record.created()),
        time(record.last_seen()),
        time(record.idle_deadline()),
        time(record.absolute_deadline()),
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

    fn time(&mut self) -> Result<UnixTime, Error> {
        let digits = self.take(TIME_LEN)?;
        parse_time(digits).ok_or_else(Error::corrupt)
    }

    /// The last field: the value must end with it.
    fn last_time(&mut self) -> Result<UnixTime, Error> {
        if self.rest.len() != TIME_LEN {
            return Err(Error::corrupt());
        }
        parse_time(self.rest).ok_or_else(Error::corrupt)
    }

    fn subject(&mut self) -> Result<SubjectKey, Error> {
        let digits = self.take(64)?;
        let mut bytes = [0; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let mut nibbles = pair.iter().map(|&c| nibble(c));
            let (Some(Some(hi)), Some(Some(lo))) = (nibbles.next(), nibbles.next()) else {
                return Err(Error::corrupt());
            };
            *byte = hi << 4 | lo;
        }
        Ok(SubjectKey::from_bytes(bytes))
    }

    fn rest(self) -> &'v [u8] {
        self.rest
    }
}

/// Exactly [`TIME_LEN`] ASCII digits, at most `u64::MAX`.
fn parse_time(digits: &[u8]) -> Option<UnixTime> {
    if digits.len() != TIME_LEN {
        return None;
    }
    digits
        .iter()
        .try_fold(0u64, |acc, &d| {
            let d = if d.is_ascii_digit() {
                d.checked_sub(b'0')?
            } else {
                return None;
            };
            acc.checked_mul(10)?.checked_add(u64::from(d))
        })
        .map(UnixTime::from_secs)
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

pub(crate) const SESSION_TAG: &str = "s1:";
pub(crate) const REVOKED_TAG: &str = "r1:";
pub(crate) const WATERMARK_TAG: &str = "w1:";
const TIME_LEN: usize = 20;
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
const SESSION_NS: &str = "session:";
const SUBJECT_NS: &str = "subject:";
const REVOKED_NS: &str = "revoked:";
const WATERMARK_NS: &str = "watermark:";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record() -> SessionRecord<Vec<String>> {
        SessionRecord::from_parts(
            SubjectKey::from_bytes([0xa5; 32]),
            vec!["x:y".to_owned()],
            UnixTime::from_secs(1),
            UnixTime::from_secs(2),
            UnixTime::from_secs(u64::MAX),
            UnixTime::from_secs(4),
        )
    }

    #[test]
    fn session_round_trips_with_fixed_offsets() {
        let value = encode_session(&record()).unwrap();
        let text = core::str::from_utf8(&value).unwrap();
        // The offsets the scripts use (1-based there).
        assert_eq!(&text[3..23], "00000000000000000001");
        assert_eq!(&text[24..44], "00000000000000000002");
        assert_eq!(&text[45..65], "18446744073709551615");
        assert_eq!(&text[66..86], "00000000000000000004");
        assert_eq!(&text[87..151], "a5".repeat(32));
        assert_eq!(&text[151..], r#":["x:y"]"#);
        assert_eq!(decode_session::<Vec<String>>(&value).unwrap(), record());
    }

    #[test]
    fn malformed_values_are_corrupt() {
        let good = encode_session(&record()).unwrap();
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"s2:".to_vec(),
            good[..150].to_vec(),
            good[..152].to_vec(),
        ];
        for (at, byte) in [(3, b'x'), (23, b';'), (100, b'A'), (100, b'g'), (153, b'?')] {
            let mut bad = good.clone();
            bad[at] = byte;
            cases.push(bad);
        }
        // One past u64::MAX.
        let mut over = good.clone();
        over[45..65].copy_from_slice(b"18446744073709551616");
        cases.push(over);
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
    fn keys_are_hex_under_the_prefix() {
        let keys = Keys::new("app:".to_owned());
        let subject = SubjectKey::from_bytes([0x0f; 32]);
        assert_eq!(
            keys.subject(&subject),
            format!("app:subject:{}", "0f".repeat(32))
        );
        assert_eq!(keys.session_prefix(), "app:session:");
    }
}
