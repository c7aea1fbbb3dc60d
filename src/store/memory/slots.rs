//! The fixed-size table behind [`MemoryStore`](super::MemoryStore): one array of `N`
//! slots, open addressing with linear probing.
//!
//! - A key's home slot is its first four bytes scaled to `N`. Keys are SHA-256 digests,
//!   so those bytes are already uniform; `N` need not be a power of two.
//! - An entry sits at its home or after it, with no empty slot in between, so a lookup
//!   stops at the first empty slot.
//! - Removing an entry moves later entries of its run back into the gap, each only to a
//!   slot nearer its home (Knuth's algorithm R): no tombstones, and nothing is ever
//!   shifted in bulk.

use crate::store::LookupKey;

/// Up to `N` values filed under distinct [`LookupKey`]s.
pub(super) struct Slots<V, const N: usize> {
    slots: [Option<(LookupKey, V)>; N],
    len: usize,
}

impl<V, const N: usize> Slots<V, N> {
    /// Refuses, at compile time, a table with no slot or too many to scale a key's
    /// 32-bit prefix with a 64-bit product.
    const SIZE_OK: () = assert!(
        N >= 1 && N as u64 <= 1 << 32,
        "a MemoryStore table holds from 1 to 2^32 entries"
    );

    /// An empty table.
    pub(super) const fn new() -> Self {
        let () = Self::SIZE_OK;
        Self {
            slots: [const { None }; N],
            len: 0,
        }
    }

    /// How many entries the table holds.
    pub(super) const fn len(&self) -> usize {
        self.len
    }

    /// The value filed under `key`.
    pub(super) fn get(&self, key: &LookupKey) -> Option<&V> {
        let at = self.find(key).ok()?;
        self.slots.get(at)?.as_ref().map(|(_, value)| value)
    }

    /// The value filed under `key`, to change it.
    pub(super) fn get_mut(&mut self, key: &LookupKey) -> Option<&mut V> {
        let at = self.find(key).ok()?;
        self.slots.get_mut(at)?.as_mut().map(|(_, value)| value)
    }

    /// Files `value` under `key`, replacing any value there. Gives `value` back only when
    /// `key` is absent and every slot is taken.
    pub(super) fn insert(&mut self, key: LookupKey, value: V) -> Result<(), V> {
        let (at, added) = match self.find(&key) {
            Ok(at) => (at, 0),
            Err(Some(empty)) => (empty, 1),
            Err(None) => return Err(value),
        };
        let Some(slot) = self.slots.get_mut(at) else {
            return Err(value);
        };
        *slot = Some((key, value));
        self.len = self.len.saturating_add(added);
        Ok(())
    }

    /// Takes the value filed under `key` out of the table.
    pub(super) fn remove(&mut self, key: &LookupKey) -> Option<V> {
        let at = self.find(key).ok()?;
        self.remove_at(at)
    }

    /// Keeps the entries for which `keep` is true. `keep` must give the same answer when
    /// asked twice about one entry: a removal near the end of the array can move an entry
    /// from the start of it, already kept, to a slot not visited yet.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&LookupKey, &V) -> bool) {
        for at in 0..N {
            while let Some(Some((key, value))) = self.slots.get(at) {
                if keep(key, value) {
                    break;
                }
                // A later entry of the run may move into `at`: it is looked at next.
                let _removed = self.remove_at(at);
            }
        }
    }

    /// Every entry, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&LookupKey, &V)> {
        self.slots
            .iter()
            .filter_map(|slot| slot.as_ref().map(|(key, value)| (key, value)))
    }

    /// The slot of `key`'s entry, or else the empty slot where its probe ended (`None`
    /// when the table is full).
    fn find(&self, key: &LookupKey) -> Result<usize, Option<usize>> {
        let mut at = home(key, N);
        for _ in 0..N {
            match self.slots.get(at) {
                Some(Some((filed, _))) if filed == key => return Ok(at),
                Some(Some(_)) => at = next(at, N),
                Some(None) => return Err(Some(at)),
                None => break,
            }
        }
        Err(None)
    }

    /// Takes the entry at `hole` out, then closes the gap: each later entry of the run
    /// whose home is not between the gap and itself moves into the gap, leaving its own
    /// slot as the new gap. The walk ends at the first empty slot, at the latest at the
    /// gap itself after going round a full table.
    fn remove_at(&mut self, mut hole: usize) -> Option<V> {
        let (_, value) = self.slots.get_mut(hole)?.take()?;
        self.len = self.len.saturating_sub(1);
        let mut at = hole;
        for _ in 0..N {
            at = next(at, N);
            let Some(Some((key, _))) = self.slots.get(at) else {
                break;
            };
            if reaches(home(key, N), hole, at) {
                continue;
            }
            move_entry(&mut self.slots, at, hole);
            hole = at;
        }
        Some(value)
    }
}

/// Moves the entry at `from` into the empty slot `to`. The two slots are borrowed as two
/// halves of the array, so the entry is copied, not moved as if the slots could overlap
/// (which would link `memmove`).
fn move_entry<T>(slots: &mut [Option<T>], from: usize, to: usize) {
    let (gap, entry) = if to < from {
        let (before, after) = slots.split_at_mut(from);
        (before.get_mut(to), after.first_mut())
    } else {
        let (before, after) = slots.split_at_mut(to);
        (after.first_mut(), before.get_mut(from))
    };
    if let (Some(gap), Some(entry)) = (gap, entry) {
        *gap = entry.take();
    }
}

/// The home slot of `key` in a table of `n` slots: its first four bytes times `n`,
/// divided by 2^32, so below `n` for any `n` up to 2^32.
fn home(key: &LookupKey, n: usize) -> usize {
    let [a, b, c, d, ..] = *key.as_bytes();
    let prefix = u64::from(u32::from_le_bytes([a, b, c, d]));
    // `prefix` < 2^32 and `n` <= 2^32, so the product is below 2^64, and the product
    // shifted down by 32 bits is below `n`.
    let scaled = prefix.wrapping_mul(n as u64) >> 32;
    usize::try_from(scaled).unwrap_or(0)
}

/// The slot after `at`, wrapping round to the first.
fn next(at: usize, n: usize) -> usize {
    let after = at.wrapping_add(1);
    if after >= n { 0 } else { after }
}

/// Whether an entry with home `home`, filed at `at`, must stay where it is when the slot
/// `hole` before it empties: true when its home lies cyclically in `(hole, at]`, where
/// moving it to `hole` would put it before its home.
fn reaches(home: usize, hole: usize, at: usize) -> bool {
    if hole <= at {
        hole < home && home <= at
    } else {
        hole < home || home <= at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;

    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    /// A key whose home in a table of `n` slots is `home`, told apart by `tag`.
    fn key_at(home: usize, n: usize, tag: u8) -> LookupKey {
        // The smallest prefix that scales to `home`: ceil(home * 2^32 / n).
        let prefix = ((home as u64) << 32).div_ceil(n as u64);
        let mut bytes = [tag; 32];
        bytes[..4].copy_from_slice(&u32::try_from(prefix).unwrap().to_le_bytes());
        LookupKey::from_bytes_for_tests(bytes)
    }

    /// Checks the table's invariant: `len` counts the entries, and no empty slot lies
    /// between an entry and its home.
    fn check<V, const N: usize>(table: &Slots<V, N>) {
        assert_eq!(table.len(), table.iter().count());
        for (at, slot) in table.slots.iter().enumerate() {
            let Some((key, _)) = slot else { continue };
            let mut probe = home(key, N);
            while probe != at {
                assert!(table.slots[probe].is_some(), "gap before slot {at}");
                probe = next(probe, N);
            }
        }
    }

    #[test]
    fn homes_spread_over_any_length() {
        for n in [1, 2, 3, 7, 16, 1000] {
            for h in 0..n {
                assert_eq!(home(&key_at(h, n, 0), n), h);
            }
            assert_eq!(home(&LookupKey::from_bytes_for_tests([0xff; 32]), n), n - 1);
        }
    }

    #[test]
    fn a_run_across_the_end_closes_up_after_a_removal() {
        let mut table: Slots<u8, 4> = Slots::new();
        // Homes 3, 3, 0: they fill slots 3, 0 and 1.
        let keys = [key_at(3, 4, 1), key_at(3, 4, 2), key_at(0, 4, 3)];
        for (value, key) in keys.iter().enumerate() {
            table.insert(*key, value as u8).unwrap();
        }
        assert_eq!(table.remove(&keys[0]), Some(0));
        check(&table);
        assert_eq!(table.get(&keys[1]), Some(&1));
        assert_eq!(table.get(&keys[2]), Some(&2));
        // The run closed up: the second key moved back to slot 3, its home, and the third
        // to slot 0, its home, which leaves slot 1 empty.
        assert!(table.slots[3].is_some() && table.slots[0].is_some());
        assert!(table.slots[1].is_none());
    }

    #[test]
    fn a_full_table_refuses_a_new_key_and_replaces_an_old_one() {
        let mut table: Slots<u8, 3> = Slots::new();
        let keys = [(0, 10), (0, 11), (1, 12)].map(|(h, tag)| key_at(h, 3, tag));
        for key in keys {
            table.insert(key, 1).unwrap();
        }
        assert_eq!(table.insert(key_at(2, 3, 99), 7), Err(7));
        assert_eq!(table.insert(keys[2], 5), Ok(()));
        assert_eq!(table.len(), 3);
        assert_eq!(table.get(&keys[2]), Some(&5));
        assert_eq!(table.get(&key_at(2, 3, 99)), None);
        // Removing from a full table walks round once and stops at the gap.
        assert_eq!(table.remove(&keys[0]), Some(1));
        check(&table);
        assert_eq!(table.len(), 2);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u8),
        Remove(u8),
        /// Keeps the entries whose value has this bit clear.
        RetainClear(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..24, any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => (0u8..24).prop_map(Op::Remove),
            1 => (0u8..8).prop_map(Op::RetainClear),
        ]
    }

    /// The same operations on a `Slots` of `N` slots and on a `BTreeMap` limited to `N`
    /// entries, compared after each step; keys crowd into few homes to make long runs.
    fn against_model<const N: usize>(ops: &[Op], homes: usize) {
        let mut table: Slots<u8, N> = Slots::new();
        let mut model: BTreeMap<u8, u8> = BTreeMap::new();
        let key = |k: u8| key_at(usize::from(k).checked_rem(homes.min(N)).unwrap(), N, k);
        for op in ops {
            match *op {
                Op::Insert(k, v) => {
                    let fits = model.len() < N || model.contains_key(&k);
                    let result = table.insert(key(k), v);
                    if fits {
                        assert_eq!(result, Ok(()));
                        model.insert(k, v);
                    } else {
                        assert_eq!(result, Err(v));
                    }
                }
                Op::Remove(k) => assert_eq!(table.remove(&key(k)), model.remove(&k)),
                Op::RetainClear(bit) => {
                    table.retain(|_, v| v & (1 << bit) == 0);
                    model.retain(|_, v| *v & (1 << bit) == 0);
                }
            }
            check(&table);
            assert_eq!(table.len(), model.len());
            for k in 0..24 {
                assert_eq!(table.get(&key(k)), model.get(&k));
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_a_map(ops in proptest::collection::vec(op(), 0..200), homes in 1usize..=8) {
            against_model::<8>(&ops, homes);
            against_model::<5>(&ops, homes);
            against_model::<1>(&ops, homes);
        }
    }
}
