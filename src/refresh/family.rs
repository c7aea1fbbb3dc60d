//! What the store keeps for one refresh-token family.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::time::UnixTime;

/// One refresh-token family: the login of one device, with the application's data and the
/// digests of the current and the previous refresh secret.
///
/// The store keeps a family as the data of a [`SessionRecord`](crate::store::SessionRecord),
/// whose idle deadline is the current refresh token's expiry and whose absolute deadline
/// is the end of the family's lifetime. A [`SessionStore<Family<D>>`] therefore holds
/// families with no code of its own: it only needs to store `Family<D>` as data (it is
/// `Clone`, and `Serialize`/`Deserialize` when `D` is).
///
/// `Debug` prints the generation and the rotation time, never the digests or the data.
///
/// [`SessionStore<Family<D>>`]: crate::store::SessionStore
#[derive(Clone, PartialEq, Eq)]
pub struct Family<D> {
    data: D,
    current: [u8; 32],
    previous: [u8; 32],
    generation: u32,
    rotated_at: UnixTime,
}

impl<D> Family<D> {
    /// The application's data (a device label, the user's ID, ...).
    #[must_use]
    pub const fn data(&self) -> &D {
        &self.data
    }

    /// The application's data, consuming the family.
    #[must_use]
    pub fn into_data(self) -> D {
        self.data
    }

    /// How many refresh tokens the family has had: 1 at login, one more per refresh.
    #[must_use]
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// When the current refresh token was issued.
    #[must_use]
    pub const fn rotated_at(&self) -> UnixTime {
        self.rotated_at
    }

    /// A family at generation 1, whose current secret has `digest`.
    pub(crate) const fn new(data: D, digest: [u8; 32], now: UnixTime) -> Self {
        Self {
            data,
            current: digest,
            previous: [0; 32],
            generation: 1,
            rotated_at: now,
        }
    }

    /// The family after a refresh at `now` to a secret with `digest`, or `None` if the
    /// generation counter is exhausted.
    pub(crate) fn rotated(self, digest: [u8; 32], now: UnixTime) -> Option<Self> {
        Some(Self {
            generation: self.generation.checked_add(1)?,
            previous: self.current,
            current: digest,
            rotated_at: now,
            data: self.data,
        })
    }

    /// What a presented secret with `digest` is to this family at `now`, with `grace`
    /// seconds for a concurrent refresh: the replaced secret is forgiven while fewer than
    /// `grace` whole seconds have passed on the clock, so never when `grace` is 0. Both
    /// digests are compared in constant time.
    pub(crate) fn classify(&self, digest: &[u8; 32], now: UnixTime, grace: u64) -> Presented {
        let current: bool = crate::ct::eq32(&self.current, digest).into();
        let previous: bool = crate::ct::eq32(&self.previous, digest).into();
        if current {
            Presented::Current
        } else if previous && self.generation > 1 && now.secs_since(self.rotated_at) < grace {
            Presented::JustRotated
        } else {
            Presented::Reused
        }
    }
}

/// What a presented refresh secret is to its family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Presented {
    /// The current secret: the refresh goes ahead.
    Current,
    /// The secret the family had until a moment ago: a concurrent refresh won.
    JustRotated,
    /// Anything else: a secret the family no longer has. Only holders of one of the
    /// family's tokens know its ID, so this is a reused (stolen or replayed) token.
    Reused,
}

impl<D> fmt::Debug for Family<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("generation", &self.generation)
            .field("rotated_at", &self.rotated_at)
            .finish_non_exhaustive()
    }
}

impl<D: Serialize> Serialize for Family<D> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Family", FIELDS.len())?;
        s.serialize_field("data", &self.data)?;
        s.serialize_field("current", &Hex(self.current))?;
        s.serialize_field("previous", &Hex(self.previous))?;
        s.serialize_field("generation", &self.generation)?;
        s.serialize_field("rotated_at", &self.rotated_at.as_secs())?;
        s.end()
    }
}

impl<'de, D: Deserialize<'de>> Deserialize<'de> for Family<D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        deserializer.deserialize_struct("Family", FIELDS, FamilyVisitor(PhantomData))
    }
}

const FIELDS: &[&str] = &["data", "current", "previous", "generation", "rotated_at"];

struct FamilyVisitor<D>(PhantomData<D>);

impl<'de, D: Deserialize<'de>> Visitor<'de> for FamilyVisitor<D> {
    type Value = Family<D>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a refresh-token family")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Family<D>, A::Error> {
        let missing = |i| de::Error::invalid_length(i, &self);
        let data = seq.next_element()?.ok_or_else(|| missing(0))?;
        let current: Hex = seq.next_element()?.ok_or_else(|| missing(1))?;
        let previous: Hex = seq.next_element()?.ok_or_else(|| missing(2))?;
        let generation = seq.next_element()?.ok_or_else(|| missing(3))?;
        let rotated_at: u64 = seq.next_element()?.ok_or_else(|| missing(4))?;
        Ok(Family {
            data,
            current: current.0,
            previous: previous.0,
            generation,
            rotated_at: UnixTime::from_secs(rotated_at),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Family<D>, A::Error> {
        let (mut data, mut current, mut previous, mut generation, mut rotated_at) =
            (None, None, None, None, None);
        while let Some(field) = map.next_key::<Field>()? {
            let duplicate = match field {
                Field::Data => data.replace(map.next_value()?).is_some(),
                Field::Current => current.replace(map.next_value::<Hex>()?.0).is_some(),
                Field::Previous => previous.replace(map.next_value::<Hex>()?.0).is_some(),
                Field::Generation => generation.replace(map.next_value()?).is_some(),
                Field::RotatedAt => rotated_at.replace(map.next_value::<u64>()?).is_some(),
            };
            if duplicate {
                return Err(de::Error::custom(
                    "duplicate field in a refresh-token family",
                ));
            }
        }
        let missing = de::Error::missing_field;
        Ok(Family {
            data: data.ok_or_else(|| missing("data"))?,
            current: current.ok_or_else(|| missing("current"))?,
            previous: previous.ok_or_else(|| missing("previous"))?,
            generation: generation.ok_or_else(|| missing("generation"))?,
            rotated_at: UnixTime::from_secs(rotated_at.ok_or_else(|| missing("rotated_at"))?),
        })
    }
}

/// A field name of [`Family`]'s serialized form.
enum Field {
    Data,
    Current,
    Previous,
    Generation,
    RotatedAt,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field of a refresh-token family")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "data" => Field::Data,
                    "current" => Field::Current,
                    "previous" => Field::Previous,
                    "generation" => Field::Generation,
                    "rotated_at" => Field::RotatedAt,
                    _ => return Err(de::Error::unknown_field(v, FIELDS)),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// A 32-byte digest, serialized as 64 lowercase hex digits.
struct Hex([u8; 32]);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 64];
        for (pair, byte) in text.chunks_exact_mut(2).zip(self.0) {
            for (digit, nibble) in pair.iter_mut().zip([byte >> 4, byte & 0xf]) {
                *digit = HEX_DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
            }
        }
        // Hex digits are ASCII.
        serializer.serialize_str(core::str::from_utf8(&text).unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = Hex;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 lowercase hex digits")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Hex, E> {
                let invalid = || E::invalid_value(de::Unexpected::Str(v), &self);
                if v.len() != 64 {
                    return Err(invalid());
                }
                let mut bytes = [0u8; 32];
                for (byte, pair) in bytes.iter_mut().zip(v.as_bytes().chunks_exact(2)) {
                    let mut nibbles = pair.iter().map(|&c| hex_value(c));
                    let (Some(Some(hi)), Some(Some(lo))) = (nibbles.next(), nibbles.next()) else {
                        return Err(invalid());
                    };
                    *byte = hi << 4 | lo;
                }
                Ok(Hex(bytes))
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => c.checked_sub(b'0'),
        b'a'..=b'f' => c.checked_sub(b'a' - 10),
        _ => None,
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    fn family() -> Family<u8> {
        Family::new(7, [1; 32], UnixTime::from_secs(100))
    }

    #[test]
    fn classifies_current_just_rotated_and_reused() {
        let f = family();
        let at = UnixTime::from_secs;
        assert_eq!(f.classify(&[1; 32], at(100), 10), Presented::Current);
        // Generation 1 has no previous secret: all zeros must not count as one.
        assert_eq!(f.classify(&[0; 32], at(100), 10), Presented::Reused);
        let Some(g) = f.rotated([2; 32], at(200)) else {
            panic!("generation overflow")
        };
        assert_eq!(g.generation(), 2);
        assert_eq!(g.classify(&[2; 32], at(200), 10), Presented::Current);
        assert_eq!(g.classify(&[1; 32], at(209), 10), Presented::JustRotated);
        assert_eq!(g.classify(&[1; 32], at(210), 10), Presented::Reused);
        // No grace at all: not even within the second of the rotation.
        assert_eq!(g.classify(&[1; 32], at(200), 0), Presented::Reused);
        assert_eq!(g.classify(&[3; 32], at(200), 10), Presented::Reused);
    }

    #[test]
    fn debug_hides_digests_and_data() {
        let text = format!("{:?}", family());
        assert!(text.contains("generation"));
        assert!(!text.contains("current") && !text.contains('7'));
    }

    #[test]
    fn hex_digits_decode() {
        assert_eq!(hex_value(b'0'), Some(0));
        assert_eq!(hex_value(b'f'), Some(15));
        assert_eq!(hex_value(b'F'), None);
        assert_eq!(hex_value(b'g'), None);
    }
}
