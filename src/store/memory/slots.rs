//! The fixed-size table behind [`MemoryStore`](super::MemoryStore): keys and values side
//! by side in two `heapless::Vec`s (a key and its value at the same position), found
//! through an index of `N` slots with open addressing and linear probing.
//!
//! - A key's home slot is its first four bytes scaled to `N`. Keys are SHA-256 digests,
//!   so those bytes are already uniform; `N` need not be a power of two.
//! - An index slot holds 0 when empty, else 1 + the position of an entry. An entry's slot
//!   is its home or after it, with no empty slot in between, so a lookup stops at the
//!   first empty slot.
//! - Removing an entry moves later slots of its run back into the gap, each only to a slot
//!   nearer its home (Knuth's algorithm R), and moves the last entry into the place of the
//!   removed one: one entry and a few index slots, never a block of them (nothing links
//!   `memmove`).
//! - The keys and the index are a [`KeyIndex`], which does not depend on the type of the
//!   values: a store's session table and revocation table of the same size share its
//!   code (the probing, the removal's walk), and only moving values is compiled per type.
//! - A new table is all zeros whatever `V` is (empty `heapless::Vec`s and a zeroed
//!   index), so a `MemoryStore` in a `static` goes to `.bss` and takes no flash. Slots of
//!   `Option<(LookupKey, V)>` would not: `None` takes the niche of `V` where it has one
//!   (a `bool`, an enum), which is not zero.

use crate::store::LookupKey;

/// Up to `N` values filed under distinct [`LookupKey`]s.
pub(super) struct Slots<V, const N: usize> {
    /// The keys, in no particular order, and the index that finds them.
    index: KeyIndex<N>,
    /// The value of each key, at the key's position.
    values: heapless::Vec<V, N>,
}

/// Up to `N` distinct keys, in no particular order, and the index of `N` slots that finds
/// their positions.
struct KeyIndex<const N: usize> {
    keys: heapless::Vec<LookupKey, N>,
    /// 0 for an empty slot, else 1 + the position of a key in `keys`.
    slots: [u32; N],
}

impl<V, const N: usize> Slots<V, N> {
    /// Refuses, at compile time, a table with no slot or too many for a slot to hold
    /// 1 + a position in 32 bits.
    const SIZE_OK: () = assert!(
        N >= 1 && N as u64 <= u32::MAX as u64,
        "a MemoryStore table holds from 1 to 2^32 - 1 entries"
    );

    /// An empty table.
    pub(super) const fn new() -> Self {
        let () = Self::SIZE_OK;
        Self {
            index: KeyIndex {
                keys: heapless::Vec::new(),
                slots: [0; N],
            },
            values: heapless::Vec::new(),
        }
    }

    /// How many entries the table holds.
    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    /// The value filed under `key`.
    pub(super) fn get(&self, key: &LookupKey) -> Option<&V> {
        let (_, at) = self.index.find(key).ok()?;
        self.values.get(at)
    }

    /// The value filed under `key`, to change it.
    pub(super) fn get_mut(&mut self, key: &LookupKey) -> Option<&mut V> {
        let (_, at) = self.index.find(key).ok()?;
        self.values.get_mut(at)
    }

    /// Files `value` under `key`, replacing any value there. Gives `value` back only when
    /// `key` is absent and every slot is taken.
    pub(super) fn insert(&mut self, key: LookupKey, value: V) -> Result<(), V> {
        match self.index.find(&key) {
            Ok((_, at)) => match self.values.get_mut(at) {
                Some(filed) => {
                    *filed = value;
                    Ok(())
                }
                None => Err(value),
            },
            // An empty index slot means fewer than `N` entries. Checked before any write,
            // as `remove_at` does: keys and values in step, so that both pushes fit.
            Err(Some(slot)) => {
                if self.index.keys.len() != self.values.len() {
                    return Err(value);
                }
                self.values.push(value)?;
                if self.index.file(slot, key) {
                    Ok(())
                } else {
                    // A slot out of range: a broken invariant. Nothing is filed.
                    self.values.pop().map_or(Ok(()), Err)
                }
            }
            Err(None) => Err(value),
        }
    }

    /// Takes the value filed under `key` out of the table.
    pub(super) fn remove(&mut self, key: &LookupKey) -> Option<V> {
        let (slot, at) = self.index.find(key).ok()?;
        self.remove_at(slot, at)
    }

    /// Keeps the entries for which `keep` is true, asking once about each.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&LookupKey, &V) -> bool) {
        let mut at = 0;
        while let (Some(key), Some(value)) = (self.index.keys.get(at), self.values.get(at)) {
            if keep(key, value) {
                at = at.wrapping_add(1);
                continue;
            }
            // The last entry moves to `at`, and is asked about next.
            let slot = self.index.slot_of(key, at);
            if slot.and_then(|slot| self.remove_at(slot, at)).is_none() {
                // An entry the index does not name: a broken invariant. Stop rather than
                // loop; the entry stays.
                break;
            }
        }
    }

    /// Every entry.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&LookupKey, &V)> {
        self.index.keys.iter().zip(self.values.iter())
    }

    /// Takes the entry at position `at`, named by index slot `hole`, out of the table:
    /// the key through [`KeyIndex::remove_at`], and then the value the same way, the last
    /// value taking its place. Changes nothing and returns `None` if the key index refuses
    /// or keys and values are out of step.
    fn remove_at(&mut self, hole: usize, at: usize) -> Option<V> {
        let last = self.values.len().checked_sub(1)?;
        if self.index.keys.len() != self.values.len() {
            return None;
        }
        self.index.remove_at(hole, at)?;
        swap_last_in(&mut self.values, at, last);
        self.values.pop()
    }
}

impl<const N: usize> KeyIndex<N> {
    /// The index slot and the position of `key`, or else the empty slot where its probe
    /// ended (`None` when every slot is taken).
    fn find(&self, key: &LookupKey) -> Result<(usize, usize), Option<usize>> {
        let mut slot = home(key, N);
        for _ in 0..N {
            match self.slots.get(slot).copied().map(position) {
                Some(None) => return Err(Some(slot)),
                Some(Some(at)) => {
                    if self.keys.get(at).is_some_and(|filed| filed == key) {
                        return Ok((slot, at));
                    }
                    slot = next(slot, N);
                }
                None => break,
            }
        }
        Err(None)
    }

    /// Adds `key` at the end of the keys, named by the empty index slot `slot` that
    /// [`find`](Self::find) gave for it; whether it did (not if the keys are full or the
    /// slot is out of range).
    fn file(&mut self, slot: usize, key: LookupKey) -> bool {
        let tag = position_tag(self.keys.len());
        let Some(free) = self.slots.get_mut(slot) else {
            return false;
        };
        if self.keys.push(key).is_err() {
            return false;
        }
        *free = tag;
        true
    }

    /// The index slot that names position `at`, probing from the home of `key`, the key
    /// filed there.
    fn slot_of(&self, key: &LookupKey, at: usize) -> Option<usize> {
        let tag = position_tag(at);
        let mut slot = home(key, N);
        for _ in 0..N {
            match self.slots.get(slot).copied() {
                Some(0) | None => return None,
                Some(filed) if filed == tag => return Some(slot),
                Some(_) => slot = next(slot, N),
            }
        }
        None
    }

    /// Takes the key at position `at`, named by index slot `hole`, out.
    ///
    /// First the index: the slot is emptied, and each later slot of the run whose key's
    /// home is not between the gap and the slot itself moves into the gap, leaving its own
    /// slot as the new gap, until the first empty slot (a table that `insert` and `remove`
    /// built has one, or a slot no probe passes over, within `N - 1` steps; the walk is
    /// bounded by `N` all the same). Then the keys: the last one takes the place of the
    /// removed one, and the slot that names it, found before the walk and followed through
    /// it, is renamed. Looks everything up before writing anything: it changes nothing and
    /// returns `None` if `hole` does not name `at` or no slot names the last key.
    fn remove_at(&mut self, mut hole: usize, at: usize) -> Option<()> {
        let last = self.keys.len().checked_sub(1)?;
        if at > last || self.slots.get(hole).copied() != Some(position_tag(at)) {
            return None;
        }
        // The slot that names the last key, which moves to `at` (none to rename when the
        // last key is the removed one).
        let mut moved = if at < last {
            Some(self.slot_of(self.keys.get(last)?, last)?)
        } else {
            None
        };
        if let Some(named) = self.slots.get_mut(hole) {
            *named = 0;
        }
        let mut slot = hole;
        for _ in 0..N {
            slot = next(slot, N);
            let Some(Some(filed)) = self.slots.get(slot).copied().map(position) else {
                break;
            };
            let Some(key) = self.keys.get(filed) else {
                break;
            };
            if reaches(home(key, N), hole, slot) {
                continue;
            }
            // The gap (0) and the slot trade places; both are below `N`.
            self.slots.swap(hole, slot);
            if moved == Some(slot) {
                moved = Some(hole);
            }
            hole = slot;
        }
        if let Some(renamed) = moved.and_then(|slot| self.slots.get_mut(slot)) {
            *renamed = position_tag(at);
        }
        swap_last_in(&mut self.keys, at, last);
        self.keys.pop().map(|_| ())
    }
}

/// Swaps the item at `at` with the last one, at `last`, as two halves of the array (a swap
/// of two places that might be one would link `memmove`); nothing when `at` is the last.
fn swap_last_in<T, const N: usize>(items: &mut heapless::Vec<T, N>, at: usize, last: usize) {
    if let Some((before, from_last)) = items.split_at_mut_checked(last)
        && let (Some(removed), Some(moved)) = (before.get_mut(at), from_last.first_mut())
    {
        core::mem::swap(removed, moved);
    }
}

/// What an index slot holds for position `at`: `at + 1`, which fits because a table holds
/// fewer than 2^32 entries.
fn position_tag(at: usize) -> u32 {
    u32::try_from(at.wrapping_add(1)).unwrap_or(0)
}

/// The position an index slot names, `None` for an empty slot.
fn position(tag: u32) -> Option<usize> {
    usize::try_from(tag.checked_sub(1)?).ok()
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

    /// Checks the table's invariants: one index slot names each entry, no other slot is
    /// taken, and no empty slot lies between a slot and the home of its entry's key.
    /// (Removal relies on one more, which every table built by `insert` and `remove` has:
    /// a full index has a slot that no probe passes over, the one the last insert filled.
    /// Some layouts pass this check without it, but none can be built.)
    fn check<V, const N: usize>(table: &Slots<V, N>) {
        assert_eq!(table.index.keys.len(), table.values.len());
        let index = &table.index.slots;
        let taken = index.iter().filter(|&&tag| tag != 0).count();
        assert_eq!(taken, table.len());
        for (slot, &tag) in index.iter().enumerate() {
            let Some(at) = position(tag) else { continue };
            let key = &table.index.keys[at];
            let mut probe = home(key, N);
            while probe != slot {
                assert_ne!(index[probe], 0, "gap before slot {slot}");
                probe = next(probe, N);
            }
        }
        for at in 0..table.len() {
            let named = index.iter().filter(|&&tag| tag == position_tag(at)).count();
            assert_eq!(named, 1, "entry {at} named {named} times");
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
        let index = &table.index.slots;
        assert!(index[3] != 0 && index[0] != 0);
        assert_eq!(index[1], 0);
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
                    let mut asked: BTreeMap<[u8; 32], u32> = BTreeMap::new();
                    table.retain(|key, v| {
                        let n = asked.entry(*key.as_bytes()).or_default();
                        *n = n.saturating_add(1);
                        v & (1 << bit) == 0
                    });
                    assert_eq!(asked.len(), model.len(), "every entry is asked about");
                    assert!(asked.values().all(|&n| n == 1), "and only once");
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

    /// Every table of up to `N` keys, built by inserting them with every sequence of homes;
    /// from each, every single removal and every choice of `retain`, checked against the
    /// keys that should remain.
    fn every_small_table<const N: usize>() {
        let mut homes = alloc::vec![alloc::vec::Vec::<usize>::new()];
        let mut tried = 0usize;
        while let Some(sequence) = homes.pop() {
            let mut table: Slots<u8, N> = Slots::new();
            let keys: alloc::vec::Vec<LookupKey> = (0u8..)
                .zip(&sequence)
                .map(|(tag, &home)| key_at(home, N, tag))
                .collect();
            for (value, key) in (0u8..).zip(&keys) {
                assert_eq!(table.insert(*key, value), Ok(()));
            }
            check(&table);
            for (removed, key) in (0u8..).zip(&keys) {
                let mut copy = copy_of(&table);
                assert_eq!(copy.remove(key), Some(removed));
                assert_eq!(copy.remove(key), None);
                check(&copy);
                for (value, other) in (0u8..).zip(&keys) {
                    let expected = (value != removed).then_some(value);
                    assert_eq!(copy.get(other).copied(), expected);
                }
            }
            for mask in 0u32..(1 << keys.len()) {
                let mut copy = copy_of(&table);
                let mut asked = 0u32;
                copy.retain(|_, &value| {
                    asked |= 1 << value;
                    mask & (1 << value) == 0
                });
                assert_eq!(
                    asked.count_ones() as usize,
                    keys.len(),
                    "each entry asked about"
                );
                check(&copy);
                for (value, key) in (0u8..).zip(&keys) {
                    let expected = (mask & (1 << value) == 0).then_some(value);
                    assert_eq!(copy.get(key).copied(), expected);
                }
            }
            tried = tried.saturating_add(1);
            if sequence.len() < N {
                for home in 0..N {
                    let mut longer = sequence.clone();
                    longer.push(home);
                    homes.push(longer);
                }
            }
        }
        // 1 + N + N^2 + ... + N^N tables.
        let expected: usize = (0..=N as u32).map(|k| N.pow(k)).sum();
        assert_eq!(tried, expected);
    }

    fn copy_of<const N: usize>(table: &Slots<u8, N>) -> Slots<u8, N> {
        let mut copy = Slots::new();
        copy.index.keys = table.index.keys.clone();
        copy.index.slots = table.index.slots;
        copy.values = table.values.clone();
        copy
    }

    #[test]
    fn every_table_of_up_to_five_slots() {
        every_small_table::<1>();
        every_small_table::<2>();
        every_small_table::<3>();
        every_small_table::<4>();
        every_small_table::<5>();
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
