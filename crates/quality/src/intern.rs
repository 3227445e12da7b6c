//! String interning: maps task, worker, label and item names to dense `u32` ids.
//!
//! The algorithms run over flat `u32` arrays (struct of arrays), so names are stored once in one arena and looked
//! up through an open-addressing table of ids. That keeps a million tasks at a few tens of megabytes and avoids one
//! heap allocation per name. Ids are handed out in order of first appearance, which is also how crowd-kit breaks
//! ties between equally likely labels.

/// A set of distinct strings, each with a dense id in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    arena: String,
    ends: Vec<usize>,
    /// Hash of each string, so growing the table never re-reads the arena.
    hashes: Vec<u64>,
    /// Open-addressing table: `(low 32 bits of the hash) << 32 | id`, or [`EMPTY`]. The stored hash bits let a probe
    /// skip most non-matching entries without touching the arena (one cache miss instead of three).
    slots: Vec<u64>,
}

const EMPTY: u64 = u64::MAX;

fn hash(bytes: &[u8]) -> u64 {
    // FxHash-style word-at-a-time mixing, then a final avalanche because the table uses the high bits.
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when nothing has been interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string with this id. Panics on an id this interner never returned.
    pub fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.arena[start..self.ends[i]]
    }

    /// All strings in id order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len() as u32).map(move |i| self.get(i))
    }

    fn home(&self, h: u64) -> usize {
        // High bits pick the slot; the low 32 bits are the tag stored in it.
        (h >> 32) as usize & (self.slots.len() - 1)
    }

    fn slot_of(&self, bytes: &[u8], h: u64) -> (usize, Option<u32>) {
        let mask = self.slots.len() - 1;
        let tag = h << 32;
        let mut pos = self.home(h);
        loop {
            let e = self.slots[pos];
            if e == EMPTY {
                return (pos, None);
            }
            if e & 0xffff_ffff_0000_0000 == tag {
                let id = e as u32;
                if self.get(id).as_bytes() == bytes {
                    return (pos, Some(id));
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The id of `s` if it was interned.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        self.slot_of(s.as_bytes(), hash(s.as_bytes())).1
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        self.slots = vec![EMPTY; cap];
        let mask = cap - 1;
        for id in 0..self.len() {
            let h = self.hashes[id];
            let mut pos = self.home(h);
            while self.slots[pos] != EMPTY {
                pos = (pos + 1) & mask;
            }
            self.slots[pos] = (h << 32) | id as u64;
        }
    }

    /// Interns raw bytes, validating UTF-8 only for strings not seen before (the common case is a repeat).
    pub fn intern_bytes(&mut self, bytes: &[u8]) -> Result<u32, std::str::Utf8Error> {
        if (self.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.intern_hashed(bytes, hash(bytes))
    }

    /// Interns `bytes`, whose hash is `h`, into a table with room for one more entry.
    fn intern_hashed(&mut self, bytes: &[u8], h: u64) -> Result<u32, std::str::Utf8Error> {
        let (pos, found) = self.slot_of(bytes, h);
        if let Some(id) = found {
            return Ok(id);
        }
        let s = std::str::from_utf8(bytes)?;
        let id = self.len() as u32;
        assert!(id < u32::MAX, "more than 4 billion distinct names");
        self.arena.push_str(s);
        self.ends.push(self.arena.len());
        self.hashes.push(h);
        self.slots[pos] = (h << 32) | u64::from(id);
        Ok(id)
    }

    /// Interns `names` in order, appending their ids to `ids`: the same ids as [`Interner::intern`] on each.
    ///
    /// Meant for many names that are mostly new (a million task names): each then costs a cache miss on its table
    /// slot, and one at a time those misses are paid in sequence. Here a first pass loads the home slot of every
    /// name in the batch, a tight loop of independent loads that the processor overlaps, and the real inserts that
    /// follow find their slots in cache. Batches of a few thousand names keep those slots in cache between passes.
    pub fn intern_all(&mut self, names: &[&str], ids: &mut Vec<u32>) {
        while (self.len() + names.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hashes: Vec<u64> = names.iter().map(|n| hash(n.as_bytes())).collect();
        let mut touched = 0u64;
        for &h in &hashes {
            touched ^= self.slots[self.home(h)];
        }
        // Keeps the loads above from being optimised away; the value itself is meaningless.
        std::hint::black_box(touched);
        for (name, &h) in names.iter().zip(&hashes) {
            ids.push(
                self.intern_hashed(name.as_bytes(), h)
                    .expect("a str is UTF-8"),
            );
        }
    }

    /// Interns a string.
    pub fn intern(&mut self, s: &str) -> u32 {
        self.intern_bytes(s.as_bytes()).expect("a str is UTF-8")
    }

    /// Ids ordered for output: numerically when every name is an integer (so `2` comes before `10`), otherwise by
    /// byte order. Deterministic for a given set of names, whatever the input order.
    pub fn sorted_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = (0..self.len() as u32).collect();
        let nums: Option<Vec<i128>> = self.iter().map(|s| s.parse::<i128>().ok()).collect();
        match nums {
            Some(n) => ids.sort_by(|&a, &b| {
                n[a as usize]
                    .cmp(&n[b as usize])
                    .then_with(|| self.get(a).cmp(self.get(b)))
            }),
            None => ids.sort_by(|&a, &b| self.get(a).cmp(self.get(b))),
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_in_first_appearance_order() {
        let mut i = Interner::new();
        let names: Vec<String> = (0..1000).map(|n| format!("name-{n}")).collect();
        for (n, s) in names.iter().enumerate() {
            assert_eq!(i.intern(s), n as u32);
        }
        for (n, s) in names.iter().enumerate() {
            assert_eq!(i.intern(s), n as u32);
            assert_eq!(i.get(n as u32), s);
            assert_eq!(i.lookup(s), Some(n as u32));
        }
        assert_eq!(i.lookup("nope"), None);
        assert_eq!(i.intern(""), 1000);
        assert_eq!(i.get(1000), "");
    }

    #[test]
    fn sorts_integers_numerically() {
        let mut i = Interner::new();
        for s in ["10", "2", "1"] {
            i.intern(s);
        }
        let order: Vec<&str> = i.sorted_ids().into_iter().map(|id| i.get(id)).collect();
        assert_eq!(order, ["1", "2", "10"]);
        i.intern("b");
        let order: Vec<&str> = i.sorted_ids().into_iter().map(|id| i.get(id)).collect();
        assert_eq!(order, ["1", "10", "2", "b"]);
        // Names sharing or differing within their first 8 bytes, shorter than 8, with NUL bytes, non-ASCII.
        let mut i = Interner::new();
        let mut names = vec![
            "task-0000001",
            "task-0000000",
            "task-000",
            "task-00",
            "task-00\0",
            "task-00\0\0",
            "t",
            "",
            "\0",
            "é",
            "zz",
            "task-0000001x",
            "task-0001",
        ];
        for n in &names {
            i.intern(n);
        }
        let order: Vec<&str> = i.sorted_ids().into_iter().map(|id| i.get(id)).collect();
        names.sort();
        assert_eq!(order, names);
    }
}
