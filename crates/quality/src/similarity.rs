//! Text similarity for integrity signals: word shingles, MinHash signatures and containment.
//!
//! Two signals need to know whether free text was copied: the same justification pasted by several workers
//! (near-duplicates *across* workers), and an answer that copies a model response shown in the item. Both are
//! set questions over word shingles (runs of [`SHINGLE_WORDS`] consecutive words): Jaccard similarity for the
//! first, containment (how much of the answer occurs in the source) for the second. MinHash estimates Jaccard
//! from fixed-size signatures, so a new answer can be compared with many earlier ones without keeping or
//! re-tokenising their text; containment against the item is computed exactly, because the item is at hand.
//!
//! Everything is deterministic (fixed seeds, no randomness at run time), so a signal can be recomputed and
//! explained. Thresholds are the caller's; `docs/quality.md` documents the ones the platform uses.

use std::collections::HashSet;

/// Words per shingle: three words keep common short phrases ("the answer is") from matching on their own while
/// still catching a copied sentence with a word changed here and there.
pub const SHINGLE_WORDS: usize = 3;

/// Hash functions in a signature: the standard error of the Jaccard estimate is about `1/sqrt(128)` ≈ 0.09.
pub const SIGNATURE_LEN: usize = 128;

/// The words of a text: lowercased runs of letters and digits (punctuation and spacing do not count, so
/// re-punctuating a copied text does not hide it).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The set of hashed word shingles of a text. A text shorter than one shingle has one shingle of all its
/// words; an empty text has none.
pub fn shingles(text: &str) -> HashSet<u64> {
    let w = words(text);
    let mut out = HashSet::new();
    if w.is_empty() {
        return out;
    }
    if w.len() < SHINGLE_WORDS {
        out.insert(hash_words(&w));
        return out;
    }
    for window in w.windows(SHINGLE_WORDS) {
        out.insert(hash_words(window));
    }
    out
}

/// FNV-1a over the words with a separator, so that ("ab", "c") and ("a", "bc") differ.
fn hash_words(words: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// SplitMix64's finaliser: a cheap, well-mixing permutation of 64-bit values.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A MinHash signature: for each of [`SIGNATURE_LEN`] hash functions, the smallest hash over the shingles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(pub Vec<u64>);

impl Signature {
    /// The signature of a set of shingles; `None` for an empty set (nothing to compare).
    pub fn of_shingles(shingles: &HashSet<u64>) -> Option<Signature> {
        if shingles.is_empty() {
            return None;
        }
        let mut sig = vec![u64::MAX; SIGNATURE_LEN];
        for &s in shingles {
            for (i, slot) in sig.iter_mut().enumerate() {
                let h = mix(s ^ mix(i as u64 + 1));
                if h < *slot {
                    *slot = h;
                }
            }
        }
        Some(Signature(sig))
    }

    /// The signature of a text; `None` when it has no words.
    pub fn of_text(text: &str) -> Option<Signature> {
        Signature::of_shingles(&shingles(text))
    }

    /// The estimated Jaccard similarity of the two shingle sets: the share of hash functions whose minima agree.
    pub fn jaccard(&self, other: &Signature) -> f64 {
        let same = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        same as f64 / self.0.len().max(1) as f64
    }
}

/// The exact Jaccard similarity of two texts' shingle sets (0 when either is empty).
pub fn jaccard(a: &str, b: &str) -> f64 {
    let (a, b) = (shingles(a), shingles(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let inter = a.intersection(&b).count();
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// How much of `text` occurs in `source`: the share of `text`'s shingles that are also `source`'s (0 when
/// `text` has no words). Asymmetric on purpose: a short answer copied from a long response scores 1.
pub fn containment(text: &str, source: &str) -> f64 {
    let t = shingles(text);
    if t.is_empty() {
        return 0.0;
    }
    let s = shingles(source);
    t.iter().filter(|x| s.contains(x)).count() as f64 / t.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "Response A explains the recursion clearly and gives a correct base case, while B loops forever.";

    #[test]
    fn words_ignore_case_and_punctuation() {
        assert_eq!(
            words("Hello, WORLD!  it's 42"),
            ["hello", "world", "it", "s", "42"]
        );
        assert!(words(" ,. ").is_empty());
    }

    #[test]
    fn identical_texts_have_identical_signatures() {
        let a = Signature::of_text(A).unwrap();
        let b = Signature::of_text(&A.to_uppercase().replace(',', " ;")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.jaccard(&b), 1.0);
    }

    #[test]
    fn unrelated_texts_score_near_zero() {
        let a = Signature::of_text(A).unwrap();
        let b = Signature::of_text(
            "The second answer cites a source that does not exist and misstates the date of the treaty.",
        )
        .unwrap();
        assert!(a.jaccard(&b) < 0.1, "{}", a.jaccard(&b));
        assert_eq!(
            jaccard(A, "completely different words in this other sentence here"),
            0.0
        );
    }

    #[test]
    fn minhash_estimates_exact_jaccard() {
        // One word changed in a long text: exact Jaccard is high, the estimate is within a few standard errors.
        let long: String = (0..200).map(|i| format!("word{i} ")).collect();
        let edited = long.replace("word100 ", "changed ");
        let exact = jaccard(&long, &edited);
        let est = Signature::of_text(&long)
            .unwrap()
            .jaccard(&Signature::of_text(&edited).unwrap());
        assert!(exact > 0.95 && exact < 1.0, "{exact}");
        assert!((est - exact).abs() < 0.15, "estimate {est}, exact {exact}");
    }

    #[test]
    fn empty_and_short_texts() {
        assert!(Signature::of_text("").is_none());
        assert_eq!(shingles("two words").len(), 1);
        assert_eq!(containment("", A), 0.0);
        assert_eq!(jaccard("", A), 0.0);
    }

    #[test]
    fn containment_is_asymmetric() {
        let copied = "gives a correct base case, while B loops forever";
        assert_eq!(containment(copied, A), 1.0);
        assert!(containment(A, copied) < 0.6);
        assert_eq!(
            containment("my own words about something else entirely", A),
            0.0
        );
    }

    #[test]
    fn deterministic_across_calls() {
        assert_eq!(Signature::of_text(A), Signature::of_text(A));
    }
}
