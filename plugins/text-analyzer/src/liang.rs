//! Liang's hyphenation algorithm over the en-US patterns and exceptions,
//! in static tables that `build.rs` generates from the `hyphenation`
//! crate 0.8.4.
//!
//! The tables are constants in the plugin's data, so a run starts with no
//! dictionary to load. The search follows the crate's `Standard`
//! dictionary step for step, and the crate's test
//! `tests/hyphenation_crate.rs` compares the two on every corpus word.

include!(concat!(env!("OUT_DIR"), "/en_us_patterns.rs"));

/// `TRIE_TALLY` value of a node where no pattern ends.
const NO_TALLY: u16 = u16::MAX;

/// Words up to this many bytes keep their symbols and break levels on the
/// stack. Longer words allocate.
const STACK_WORD_BYTES: usize = 64;

/// Returns the breaks of an exception word, as byte offsets of the
/// character after each break, or `None` when `word` is not an exception.
pub(crate) fn exception_breaks(word: &str) -> Option<&'static [u8]> {
    let first_byte = usize::from(*word.as_bytes().first()?);
    let mut low = usize::from(EXCEPTION_FIRST_BYTE_STARTS[first_byte]);
    let mut high = usize::from(EXCEPTION_FIRST_BYTE_STARTS[first_byte + 1]);
    while low < high {
        let middle = low + (high - low) / 2;
        let start = usize::from(EXCEPTION_WORD_STARTS[middle]);
        let end = usize::from(EXCEPTION_WORD_STARTS[middle + 1]);
        match EXCEPTION_WORDS[start..end].cmp(word) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => {
                let first = usize::from(EXCEPTION_BREAK_STARTS[middle]);
                let last = usize::from(EXCEPTION_BREAK_STARTS[middle + 1]);
                return Some(&EXCEPTION_BREAKS[first..last]);
            }
        }
    }
    None
}

/// Counts the byte offsets `p` with `first <= p <= last` where the
/// patterns put an odd level before byte `p` of `word`, `p` being a
/// character boundary.
///
/// Every pattern that matches a substring of `.word.` raises the level of
/// the gaps it covers to its own level if that is higher. `word` should be
/// lowercase: the patterns contain only `.` and `a` to `z`.
pub(crate) fn count_pattern_breaks(word: &str, first: usize, last: usize) -> usize {
    let length = word.len();
    // `.word.` has length + 2 symbols, and the word length + 1 gaps.
    let buffer_length = 2 * length + 3;
    let mut stack_buffer = [0u8; 2 * STACK_WORD_BYTES + 3];
    let mut heap_buffer;
    let buffer: &mut [u8] = if length <= STACK_WORD_BYTES {
        &mut stack_buffer[..buffer_length]
    } else {
        heap_buffer = vec![0u8; buffer_length];
        &mut heap_buffer
    };
    // symbols[i] is the trie symbol of byte i of `.word.`, and levels[p]
    // the level of the gap before byte p of the word.
    let (symbols, levels) = buffer.split_at_mut(length + 2);
    let dot = SYMBOLS[usize::from(b'.')];
    symbols[0] = dot;
    symbols[length + 1] = dot;
    for (symbol, &byte) in symbols[1..=length].iter_mut().zip(word.as_bytes()) {
        *symbol = SYMBOLS[usize::from(byte)];
    }

    for start in 0..=length {
        let mut node = 0;
        for &symbol in &symbols[start..] {
            let Some(child) = find_child(node, symbol) else {
                break;
            };
            node = child;
            let tally = TRIE_TALLY[node];
            if tally != NO_TALLY {
                raise_levels(levels, start, tally);
            }
        }
    }

    (1..length)
        .filter(|&offset| (first..=last).contains(&offset))
        .filter(|&offset| levels[offset] % 2 == 1 && word.is_char_boundary(offset))
        .count()
}

/// Applies the tally of a pattern that matches `.word.` from byte `start`.
fn raise_levels(levels: &mut [u8], start: usize, tally: u16) {
    let length = levels.len() - 1;
    let loci = usize::from(TALLY_STARTS[usize::from(tally)])
        ..usize::from(TALLY_STARTS[usize::from(tally) + 1]);
    for locus in loci {
        // A locus after `index` letters of the pattern is the gap before
        // byte `start + index` of `.word.`, byte `start + index - 1` of the
        // word. Gaps at the word's two ends are never breaks.
        let gap = (start + usize::from(LOCUS_INDICES[locus])).wrapping_sub(1);
        if (1..length).contains(&gap) {
            levels[gap] = levels[gap].max(LOCUS_LEVELS[locus]);
        }
    }
}

/// Returns the child of `node` along `symbol`, if it has one. A symbol of
/// `u8::MAX` (a byte that no pattern contains) has no child anywhere.
fn find_child(node: usize, symbol: u8) -> Option<usize> {
    let start = usize::from(TRIE_CHILD_START[node]);
    let count = TRIE_CHILD_COUNT[node];
    if count == DENSE {
        if usize::from(symbol) >= ALPHABET_SIZE {
            return None;
        }
        let child = TRIE_DENSE_CHILDREN[start * ALPHABET_SIZE + usize::from(symbol)];
        // Child 0 would be the root, so 0 marks a missing child.
        return (child != 0).then_some(usize::from(child));
    }
    let children = &TRIE_SYMBOL[start..start + usize::from(count)];
    for (offset, &child_symbol) in children.iter().enumerate() {
        if child_symbol >= symbol {
            return (child_symbol == symbol).then_some(start + offset);
        }
    }
    None
}
