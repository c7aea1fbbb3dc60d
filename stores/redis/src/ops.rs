//! The scripts, and the decoding of the replies Redis gives.

use std::collections::HashMap;
use std::sync::LazyLock;

use redis::{Script, Value};

use crate::error::Error;

/// A script's status code.
pub(crate) fn code(reply: &Value) -> Result<i64, Error> {
    match reply {
        Value::Int(n) => Ok(*n),
        _ => Err(Error::protocol()),
    }
}

/// A reply that is a value or nil (`GET`, the `get` script): the value, or `None`.
pub(crate) fn bytes(reply: Value) -> Result<Option<Vec<u8>>, Error> {
    match reply {
        Value::Nil => Ok(None),
        Value::BulkString(value) => Ok(Some(value)),
        Value::Int(CORRUPT) => Err(Error::corrupt()),
        _ => Err(Error::protocol()),
    }
}

/// The reply of `create`: `Some(ended)` when the session was filed, `None` when the
/// limit refused it.
pub(crate) fn created(reply: Value) -> Result<Option<usize>, Error> {
    let Value::Array(items) = reply else {
        return Err(Error::protocol());
    };
    match items.as_slice() {
        [Value::Int(OK), Value::Int(ended)] => usize::try_from(*ended)
            .map(Some)
            .map_err(|_| Error::protocol()),
        [Value::Int(CONFLICT)] => Err(Error::conflict()),
        [Value::Int(LIMIT_REACHED)] => Ok(None),
        [Value::Int(other)] => Err(unexpected(*other)),
        _ => Err(Error::protocol()),
    }
}

/// A session's index member and its stored value, as `list` returns them; also a
/// listing cursor (a member and its score).
pub(crate) type Listed = (Vec<u8>, Vec<u8>);

/// One page of `list`: the cursor for the next page (the last member and its score,
/// empty after an empty page) and the member and value pairs.
pub(crate) fn page(reply: Value) -> Result<(Listed, Vec<Listed>), Error> {
    let items = match reply {
        Value::Array(items) => items,
        Value::Int(other) => return Err(unexpected(other)),
        _ => return Err(Error::protocol()),
    };
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    let cursor = match (items.next(), items.next()) {
        (Some(Value::BulkString(member)), Some(Value::BulkString(score))) => (member, score),
        _ => return Err(Error::protocol()),
    };
    while let Some(member) = items.next() {
        match (member, items.next()) {
            (Value::BulkString(member), Some(Value::BulkString(value))) => {
                out.push((member, value));
            }
            _ => return Err(Error::protocol()),
        }
    }
    Ok((cursor, out))
}

/// Keeps the last listing of each member, in order: a session touched or updated
/// between two pages of `list` moved later in the index, and a later page lists it again.
pub(crate) fn keep_last_listings(pairs: &mut Vec<Listed>) {
    let mut last = HashMap::with_capacity(pairs.len());
    for (i, (member, _)) in pairs.iter().enumerate() {
        last.insert(member.clone(), i);
    }
    let mut i = 0usize;
    pairs.retain(|(member, _)| {
        let keep = last.get(member) == Some(&i);
        i = i.saturating_add(1);
        keep
    });
}

/// A status code the operation doesn't expect: a script's corruption report, or a reply
/// no script of this crate gives.
pub(crate) fn unexpected(code: i64) -> Error {
    if code == CORRUPT {
        Error::corrupt()
    } else {
        Error::protocol()
    }
}

/// A count a script returned.
pub(crate) fn count(reply: &Value) -> Result<usize, Error> {
    let n = code(reply)?;
    usize::try_from(n).map_err(|_| unexpected(n))
}

fn script(body: &str) -> Script {
    Script::new(&[PRELUDE, body].concat())
}

macro_rules! scripts {
    ($($name:ident = $file:literal;)*) => {
        $(pub(crate) static $name: LazyLock<Script> =
            LazyLock::new(|| script(include_str!(concat!("lua/", $file))));)*
    };
}

scripts! {
    GET = "get.lua";
    CREATE = "create.lua";
    UPDATE = "update.lua";
    TOUCH = "touch.lua";
    REMOVE = "remove.lua";
    REMOVE_OWNED = "remove_owned.lua";
    ROTATE = "rotate.lua";
    DETACH = "detach.lua";
    SWEEP = "sweep.lua";
    LIST = "list.lua";
    REVOKE = "revoke.lua";
    RAISE_WATERMARK = "raise_watermark.lua";
}

const PRELUDE: &str = include_str!("lua/prelude.lua");
pub(crate) const OK: i64 = 1;
pub(crate) const ABSENT: i64 = 0;
pub(crate) const CONFLICT: i64 = 2;
pub(crate) const LIMIT_REACHED: i64 = 3;
pub(crate) const STALE: i64 = 3;
pub(crate) const CHANGED: i64 = 4;
pub(crate) const NAME_TAKEN: i64 = -2;
pub(crate) const CORRUPT: i64 = -1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_listed_twice_keeps_its_last_listing_only() {
        let listed = |m: &str, v: &str| (m.as_bytes().to_vec(), v.as_bytes().to_vec());
        let mut pairs = vec![
            listed("a", "1"),
            listed("b", "old"),
            listed("c", "1"),
            listed("d", "1"),
            listed("b", "new"),
        ];
        keep_last_listings(&mut pairs);
        assert_eq!(
            pairs,
            [
                listed("a", "1"),
                listed("c", "1"),
                listed("d", "1"),
                listed("b", "new")
            ]
        );
        let mut none: Vec<Listed> = Vec::new();
        keep_last_listings(&mut none);
        assert!(none.is_empty());
    }
}
