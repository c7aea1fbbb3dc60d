//! SQL statements: written once per database with named parameters (`:key`, `:now`, ...)
//! and a `{p}` table prefix, compiled when a store is built into the database's
//! placeholder syntax with the order in which to bind the values.
//!
//! Only the validated table prefix is ever spliced into SQL text; every value is bound.

use crate::options::TablePrefix;

/// A value a statement binds, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    Key,
    NewKey,
    Keep,
    Subject,
    Data,
    Created,
    LastSeen,
    Idle,
    Absolute,
    Expires,
    Version,
    Now,
    Until,
    Cutoff,
    Limit,
    Second,
    Mark,
}

impl Param {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "key" => Self::Key,
            "new_key" => Self::NewKey,
            "keep" => Self::Keep,
            "subject" => Self::Subject,
            "data" => Self::Data,
            "created" => Self::Created,
            "last_seen" => Self::LastSeen,
            "idle" => Self::Idle,
            "absolute" => Self::Absolute,
            "expires" => Self::Expires,
            "version" => Self::Version,
            "now" => Self::Now,
            "until" => Self::Until,
            "cutoff" => Self::Cutoff,
            "limit" => Self::Limit,
            "second" => Self::Second,
            "mark" => Self::Mark,
            _ => return None,
        })
    }
}

/// How a database spells placeholders.
// With one database feature, the other styles are unused.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placeholders {
    /// `$1`, `$2`, ...: each name once, numbered (PostgreSQL).
    Dollar,
    /// `?1`, `?2`, ...: each name once, numbered (SQLite).
    NumberedQuestion,
    /// `?` at every use, bound in order of appearance (MySQL).
    Question,
}

/// A statement in a database's syntax, and what to bind, in order.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

/// Compiles `template` for a database. Panics never: an unknown `:name` is left as it is
/// (and the database reports the syntax error), which the tests of every statement catch.
pub(crate) fn compile(template: &str, prefix: &TablePrefix, style: Placeholders) -> Statement {
    let template = template.replace("{p}", prefix.as_str());
    let mut sql = String::with_capacity(template.len());
    let mut params: Vec<Param> = Vec::new();
    let mut rest = template.as_str();
    while let Some(at) = rest.find(':') {
        let (before, after) = rest.split_at(at);
        sql.push_str(before);
        let name_len = after
            .bytes()
            .skip(1)
            .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
            .count();
        let name = after.get(1..=name_len).unwrap_or("");
        match Param::from_name(name) {
            Some(param) => {
                match style {
                    Placeholders::Question => {
                        sql.push('?');
                        params.push(param);
                    }
                    Placeholders::Dollar | Placeholders::NumberedQuestion => {
                        let index = match params.iter().position(|p| *p == param) {
                            Some(i) => i,
                            None => {
                                params.push(param);
                                params.len().saturating_sub(1)
                            }
                        };
                        sql.push(if style == Placeholders::Dollar {
                            '$'
                        } else {
                            '?'
                        });
                        sql.push_str(&index.saturating_add(1).to_string());
                    }
                }
                rest = after.get(name_len.saturating_add(1)..).unwrap_or("");
            }
            None => {
                sql.push(':');
                rest = after.get(1..).unwrap_or("");
            }
        }
    }
    sql.push_str(rest);
    Statement { sql, params }
}

/// The statements of one database, as templates.
#[derive(Debug)]
pub(crate) struct Templates {
    /// Takes the per-subject lock row (inside a transaction), or nothing (SQLite, whose
    /// write transactions are serialized already).
    pub(crate) lock_subject: Option<&'static str>,
    pub(crate) get: &'static str,
    pub(crate) get_for_update: &'static str,
    pub(crate) subject_of: &'static str,
    /// Deletes a dead session under `:key` before an insert, for databases whose insert
    /// can't replace a dead row by itself.
    pub(crate) delete_dead: Option<&'static str>,
    /// Inserts a session; affects no row if a live one is filed under the key.
    pub(crate) insert: &'static str,
    pub(crate) live_keys_of_subject: &'static str,
    pub(crate) delete: &'static str,
    pub(crate) delete_owned: &'static str,
    pub(crate) delete_subject: &'static str,
    pub(crate) update: &'static str,
    pub(crate) touch: &'static str,
    pub(crate) delete_dead_at_new_key: &'static str,
    pub(crate) move_key: &'static str,
    pub(crate) list_subject: &'static str,
    pub(crate) revoke: &'static str,
    pub(crate) is_revoked: &'static str,
    pub(crate) raise_watermark: &'static str,
    pub(crate) watermark: &'static str,
    pub(crate) check_revoked: &'static str,
    pub(crate) purge_sessions: &'static str,
    pub(crate) purge_revocations: &'static str,
    pub(crate) purge_watermarks: &'static str,
    pub(crate) purge_subjects: Option<&'static str>,
}

/// Statements shared by every database (standard SQL, named parameters).
pub(crate) mod common {
    pub(crate) const GET: &str = "SELECT subject, data, created, last_seen, idle_deadline, \
        absolute_deadline, version FROM {p}sessions WHERE lookup_key = :key AND expires_at > :now";
    pub(crate) const SUBJECT_OF: &str =
        "SELECT subject FROM {p}sessions WHERE lookup_key = :key AND expires_at > :now";
    pub(crate) const LIVE_KEYS_OF_SUBJECT: &str = "SELECT lookup_key FROM {p}sessions \
        WHERE subject = :subject AND expires_at > :now ORDER BY created, lookup_key";
    pub(crate) const DELETE: &str = "DELETE FROM {p}sessions WHERE lookup_key = :key";
    pub(crate) const DELETE_OWNED: &str = "DELETE FROM {p}sessions \
        WHERE lookup_key = :key AND subject = :subject AND expires_at > :now";
    /// `:keep` is the empty string when nothing is kept: no key is empty.
    pub(crate) const DELETE_SUBJECT: &str =
        "DELETE FROM {p}sessions WHERE subject = :subject AND lookup_key <> :keep";
    pub(crate) const DELETE_DEAD_AT_NEW_KEY: &str =
        "DELETE FROM {p}sessions WHERE lookup_key = :new_key AND expires_at <= :now";
    pub(crate) const MOVE_KEY: &str =
        "UPDATE {p}sessions SET lookup_key = :new_key WHERE lookup_key = :key";
    pub(crate) const LIST_SUBJECT: &str = "SELECT lookup_key, subject, data, created, \
        last_seen, idle_deadline, absolute_deadline, version FROM {p}sessions \
        WHERE subject = :subject AND expires_at > :now";
    pub(crate) const IS_REVOKED: &str = "SELECT revoked_until FROM {p}revocations \
        WHERE lookup_key = :key AND revoked_until > :now";
    pub(crate) const WATERMARK: &str = "SELECT cutoff, expires_at FROM {p}watermarks \
        WHERE lookup_key = :key AND expires_at > :now";
    /// Always one row: whether `:key` and `:second` are revoked (as counts), and the
    /// live watermark under `:mark` (two NULLs if none). An absent key is bound as the
    /// empty string, which no key is. Each part is `IS_REVOKED` or `WATERMARK`'s
    /// condition.
    pub(crate) const CHECK_REVOKED: &str = "SELECT \
        (SELECT COUNT(*) FROM {p}revocations WHERE lookup_key = :key AND revoked_until > :now), \
        (SELECT COUNT(*) FROM {p}revocations \
            WHERE lookup_key = :second AND revoked_until > :now), \
        (SELECT cutoff FROM {p}watermarks WHERE lookup_key = :mark AND expires_at > :now), \
        (SELECT expires_at FROM {p}watermarks WHERE lookup_key = :mark AND expires_at > :now)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let prefix = TablePrefix::new("t_").unwrap_or_default();
        let template = "SELECT x FROM {p}s WHERE a = :key AND b > :now AND c <= :now AND d = ':x'";
        let pg = compile(template, &prefix, Placeholders::Dollar);
        assert_eq!(
            pg.sql,
            "SELECT x FROM t_s WHERE a = $1 AND b > $2 AND c <= $2 AND d = ':x'"
        );
        assert_eq!(pg.params, [Param::Key, Param::Now]);
        let lite = compile(template, &prefix, Placeholders::NumberedQuestion);
        assert_eq!(
            lite.sql,
            "SELECT x FROM t_s WHERE a = ?1 AND b > ?2 AND c <= ?2 AND d = ':x'"
        );
        let my = compile(template, &prefix, Placeholders::Question);
        assert_eq!(
            my.sql,
            "SELECT x FROM t_s WHERE a = ? AND b > ? AND c <= ? AND d = ':x'"
        );
        assert_eq!(my.params, [Param::Key, Param::Now, Param::Now]);
    }
}

/// The values a call binds; a statement picks the ones it names.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Values<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) new_key: &'a [u8],
    pub(crate) keep: &'a [u8],
    pub(crate) subject: &'a [u8],
    pub(crate) data: &'a [u8],
    pub(crate) created: i64,
    pub(crate) last_seen: i64,
    pub(crate) idle: i64,
    pub(crate) absolute: i64,
    pub(crate) expires: i64,
    pub(crate) version: i64,
    pub(crate) now: i64,
    pub(crate) until: i64,
    pub(crate) cutoff: i64,
    pub(crate) limit: i64,
    pub(crate) second: &'a [u8],
    pub(crate) mark: &'a [u8],
}

/// One bound value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl<'a> Values<'a> {
    pub(crate) fn get(&self, param: Param) -> Value<'a> {
        match param {
            Param::Key => Value::Bytes(self.key),
            Param::NewKey => Value::Bytes(self.new_key),
            Param::Keep => Value::Bytes(self.keep),
            Param::Subject => Value::Bytes(self.subject),
            Param::Data => Value::Bytes(self.data),
            Param::Created => Value::Int(self.created),
            Param::LastSeen => Value::Int(self.last_seen),
            Param::Idle => Value::Int(self.idle),
            Param::Absolute => Value::Int(self.absolute),
            Param::Expires => Value::Int(self.expires),
            Param::Version => Value::Int(self.version),
            Param::Now => Value::Int(self.now),
            Param::Until => Value::Int(self.until),
            Param::Cutoff => Value::Int(self.cutoff),
            Param::Limit => Value::Int(self.limit),
            Param::Second => Value::Bytes(self.second),
            Param::Mark => Value::Bytes(self.mark),
        }
    }
}

/// A time as the database stores it: seconds in a signed 64-bit column. Times past
/// `i64::MAX` seconds (billions of years) are stored as `i64::MAX`.
pub(crate) fn time(t: tokenstile::UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

/// A stored time, or `None` for a negative one (which this crate never writes).
pub(crate) fn stored_time(secs: i64) -> Option<tokenstile::UnixTime> {
    u64::try_from(secs)
        .ok()
        .map(tokenstile::UnixTime::from_secs)
}

/// A 32-byte digest column.
pub(crate) fn digest(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

/// One versioned schema change, as SQL statements separated by `;` lines.
#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

impl Migration {
    /// The statements of this migration, for a prefix.
    pub(crate) fn statements(&self, prefix: &TablePrefix) -> Vec<String> {
        self.sql
            .replace("{p}", prefix.as_str())
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.lines().all(|l| l.trim_start().starts_with("--")))
            .map(str::to_owned)
            .collect()
    }
}
