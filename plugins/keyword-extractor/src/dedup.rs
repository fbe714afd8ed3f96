//! Removal of near-duplicate keywords.

/// Two keywords whose similarity exceeds this are duplicates; YAKE's default.
pub(crate) const DUPLICATE_THRESHOLD: f64 = 0.9;

/// Returns `1 - levenshtein(a, b) / max(len(a), len(b))`, lengths in
/// characters: 1 for equal strings, 0 for strings with nothing in common.
pub(crate) fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let ratio = levenshtein(&a, &b) as f64 / longest as f64;
    1.0 - ratio
}

/// Edit distance with unit costs for insertion, deletion and substitution.
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_counts_edits() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(levenshtein(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(levenshtein(&chars(""), &chars("abc")), 3);
        assert_eq!(levenshtein(&chars("ether"), &chars("ether")), 0);
    }

    #[test]
    fn similarity_is_normalized() {
        assert_eq!(similarity("ether", "ether"), 1.0);
        assert_eq!(similarity("abc", "xyz"), 0.0);
        assert!(
            (similarity("luminiferous ether", "luminiferous ethers") - (1.0 - 1.0 / 19.0)).abs()
                < 1e-12
        );
    }
}
