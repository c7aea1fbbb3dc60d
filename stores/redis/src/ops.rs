//! Each store operation as one Redis request and the decoding of its reply, shared by
//! the sync and the async store.

use std::sync::LazyLock;

use redis::{Cmd, Script, ScriptInvocation, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokenstile::UnixTime;
use tokenstile::session::SessionRecord;
use tokenstile::store::{LookupKey, StoreErrorKind, SubjectKey, Watermark};

use crate::codec::{self, Keys};
use crate::error::Error;

/// One round trip: a plain command or a script call.
pub(crate) enum Request {
    Command(Cmd),
    Script(ScriptInvocation<'static>),
}

pub(crate) fn create<D: Serialize>(
    keys: &Keys,
    key: &LookupKey,
    record: &SessionRecord<D>,
    now: UnixTime,
) -> Result<Request, Error> {
    let value = codec::encode_session(record)?;
    let mut call = CREATE.prepare_invoke();
    call.key(keys.session(key))
        .key(keys.subject(record.subject()))
        .arg(value)
        .arg(codec::time(record.expires_at()))
        .arg(codec::time(now))
        .arg(codec::member(key))
        .arg(keys.session_prefix());
    Ok(Request::Script(call))
}

pub(crate) fn create_reply(reply: &Value) -> Result<(), Error> {
    match code(reply)? {
        OK => Ok(()),
        CONFLICT => Err(Error::conflict()),
        other => Err(unexpected(other)),
    }
}

pub(crate) fn get(keys: &Keys, key: &LookupKey) -> Request {
    let mut cmd = redis::cmd("GET");
    cmd.arg(keys.session(key));
    Request::Command(cmd)
}

pub(crate) fn get_reply<D: DeserializeOwned>(
    reply: Value,
    now: UnixTime,
) -> Result<Option<SessionRecord<D>>, Error> {
    let Some(value) = bytes(reply)? else {
        return Ok(None);
    };
    let record = codec::decode_session(&value)?;
    Ok(record.is_live(now).then_some(record))
}

pub(crate) fn update<D: Serialize>(
    keys: &Keys,
    key: &LookupKey,
    record: &SessionRecord<D>,
    now: UnixTime,
) -> Result<Request, Error> {
    let value = codec::encode_session(record)?;
    let mut call = UPDATE.prepare_invoke();
    call.key(keys.session(key))
        .key(keys.subject(record.subject()))
        .arg(value)
        .arg(codec::time(record.expires_at()))
        .arg(codec::time(now))
        .arg(codec::member(key))
        .arg(keys.subject_prefix());
    Ok(Request::Script(call))
}

pub(crate) fn touch(
    keys: &Keys,
    key: &LookupKey,
    idle_deadline: UnixTime,
    now: UnixTime,
) -> Request {
    let mut call = TOUCH.prepare_invoke();
    call.key(keys.session(key))
        .arg(codec::time(idle_deadline))
        .arg(codec::time(now))
        .arg(codec::member(key))
        .arg(keys.subject_prefix());
    Request::Script(call)
}

/// The reply of `update` and `touch`: whether a live session was written.
pub(crate) fn written_reply(reply: &Value) -> Result<bool, Error> {
    match code(reply)? {
        OK => Ok(true),
        ABSENT => Ok(false),
        other => Err(unexpected(other)),
    }
}

pub(crate) fn remove(keys: &Keys, key: &LookupKey) -> Request {
    let mut call = REMOVE.prepare_invoke();
    call.key(keys.session(key))
        .arg(codec::member(key))
        .arg(keys.subject_prefix());
    Request::Script(call)
}

pub(crate) fn remove_reply(reply: &Value) -> Result<bool, Error> {
    match code(reply)? {
        ABSENT => Ok(false),
        OK => Ok(true),
        other => Err(unexpected(other)),
    }
}

pub(crate) fn rotate(keys: &Keys, old: &LookupKey, new: &LookupKey, now: UnixTime) -> Request {
    let mut call = ROTATE.prepare_invoke();
    call.key(keys.session(old))
        .key(keys.session(new))
        .arg(codec::time(now))
        .arg(codec::member(old))
        .arg(codec::member(new))
        .arg(keys.subject_prefix());
    Request::Script(call)
}

pub(crate) fn rotate_reply<D: DeserializeOwned>(
    reply: Value,
) -> Result<Option<SessionRecord<D>>, Error> {
    if let Value::BulkString(moved) = reply {
        return codec::decode_session(&moved).map(Some);
    }
    match code(&reply)? {
        ABSENT => Ok(None),
        CONFLICT => Err(Error::conflict()),
        other => Err(unexpected(other)),
    }
}

pub(crate) fn remove_subject(keys: &Keys, subject: &SubjectKey) -> Request {
    let mut call = REMOVE_SUBJECT.prepare_invoke();
    call.key(keys.subject(subject))
        .arg(keys.session_prefix())
        .arg(codec::subject_hex(subject));
    Request::Script(call)
}

pub(crate) fn remove_subject_reply(reply: &Value) -> Result<usize, Error> {
    let n = code(reply)?;
    usize::try_from(n).map_err(|_| unexpected(n))
}

/// `None` when `until` is not after `now`: there is nothing to store.
pub(crate) fn revoke(
    keys: &Keys,
    key: &LookupKey,
    until: UnixTime,
    now: UnixTime,
) -> Option<Request> {
    if until <= now {
        return None;
    }
    let mut call = REVOKE.prepare_invoke();
    call.key(keys.revoked(key))
        .arg(codec::time(until))
        .arg(codec::time(now));
    Some(Request::Script(call))
}

/// The reply of `revoke` and `raise_watermark`.
pub(crate) fn stored_reply(reply: &Value) -> Result<(), Error> {
    match code(reply)? {
        OK => Ok(()),
        other => Err(unexpected(other)),
    }
}

pub(crate) fn is_revoked(keys: &Keys, key: &LookupKey) -> Request {
    let mut cmd = redis::cmd("GET");
    cmd.arg(keys.revoked(key));
    Request::Command(cmd)
}

pub(crate) fn is_revoked_reply(reply: Value, now: UnixTime) -> Result<bool, Error> {
    match bytes(reply)? {
        None => Ok(false),
        Some(value) => Ok(now < codec::decode_revocation(&value)?),
    }
}

pub(crate) fn raise_watermark(
    keys: &Keys,
    key: &LookupKey,
    watermark: Watermark,
    now: UnixTime,
) -> Request {
    let mut call = RAISE_WATERMARK.prepare_invoke();
    call.key(keys.watermark(key))
        .arg(codec::time(watermark.cutoff()))
        .arg(codec::time(watermark.expires_at()))
        .arg(codec::time(now));
    Request::Script(call)
}

pub(crate) fn watermark(keys: &Keys, key: &LookupKey) -> Request {
    let mut cmd = redis::cmd("GET");
    cmd.arg(keys.watermark(key));
    Request::Command(cmd)
}

pub(crate) fn watermark_reply(reply: Value, now: UnixTime) -> Result<Option<Watermark>, Error> {
    let Some(value) = bytes(reply)? else {
        return Ok(None);
    };
    let watermark = codec::decode_watermark(&value)?;
    Ok((now < watermark.expires_at()).then_some(watermark))
}

/// A script's status code.
fn code(reply: &Value) -> Result<i64, Error> {
    match reply {
        Value::Int(n) => Ok(*n),
        _ => Err(Error::new(StoreErrorKind::Backend)),
    }
}

/// The reply to `GET`: the value, or `None` for a missing key.
fn bytes(reply: Value) -> Result<Option<Vec<u8>>, Error> {
    match reply {
        Value::Nil => Ok(None),
        Value::BulkString(value) => Ok(Some(value)),
        _ => Err(Error::new(StoreErrorKind::Backend)),
    }
}

/// A status code the operation doesn't expect: a script's corruption report, or a reply
/// no script of this crate gives (another server speaking the protocol differently).
fn unexpected(code: i64) -> Error {
    if code == CORRUPT {
        Error::corrupt()
    } else {
        Error::new(StoreErrorKind::Backend)
    }
}

fn script(body: &str) -> Script {
    Script::new(&[PRELUDE, body].concat())
}

static CREATE: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/create.lua")));
static UPDATE: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/update.lua")));
static TOUCH: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/touch.lua")));
static REMOVE: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/remove.lua")));
static ROTATE: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/rotate.lua")));
static REMOVE_SUBJECT: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("lua/remove_subject.lua")));
static REVOKE: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/revoke.lua")));
static RAISE_WATERMARK: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("lua/raise_watermark.lua")));

const PRELUDE: &str = include_str!("lua/prelude.lua");
const OK: i64 = 1;
const ABSENT: i64 = 0;
const CONFLICT: i64 = 2;
const CORRUPT: i64 = -1;
