"""Reference implementation of text-analyzer's counting rules.

Written separately from the Rust code, from the rules in the crate's
documentation, to compute the figures the sandbox-worker tests expect.
Words, sentences and characters use the same regular expressions as the
textstat package 0.7.4. Syllables use Knuth-Liang hyphenation with the
pattern and exception files that the `hyphenation` crate 0.8.4 ships
(`patterns/hyph-en-us.pat.txt` and `patterns/hyph-en-us.hyp.txt`), read
from the cargo registry after `cargo fetch`. Standard library only:

    python3 plugins/text-analyzer/reference/readability.py corpus/FILE.txt
    python3 plugins/text-analyzer/reference/readability.py --patterns DIR FILE
"""

import argparse
import glob
import json
import os
import re

# Pyphen's default margins, which textstat 0.7.4 uses: a break needs two
# characters before it and two after it.
MIN_CHARS_BEFORE_BREAK = 2
MIN_CHARS_AFTER_BREAK = 2

PATTERN_FILE = "hyph-en-us.pat.txt"
EXCEPTION_FILE = "hyph-en-us.hyp.txt"


def remove_punctuation(text):
    return re.sub(r"[^\w\s]", "", text)


def count_words(text):
    return len(remove_punctuation(text).split())


def count_sentences(text):
    segments = re.findall(r"\b[^.!?]+[.!?]*", text)
    return max(1, sum(1 for segment in segments if count_words(segment) > 2))


def count_characters(text):
    return len(re.sub(r"\s", "", text))


def default_pattern_dir():
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = sorted(glob.glob(os.path.join(cargo_home, "registry/src/*/hyphenation-0.8.4/patterns")))
    if not found:
        raise SystemExit(
            f"hyphenation-0.8.4 patterns not found under {cargo_home}/registry/src; "
            "run `cargo fetch` in the repository or pass --patterns DIR"
        )
    return found[0]


class Hyphenator:
    """Liang's algorithm over TeX patterns, with whole-word exceptions."""

    def __init__(self, pattern_dir):
        # Each pattern maps its letters to the value at every gap: before
        # the first letter, between letters, and after the last.
        self.patterns = {}
        with open(os.path.join(pattern_dir, PATTERN_FILE), encoding="utf-8") as file:
            for line in file:
                pattern = line.strip()
                if pattern:
                    letters, values = parse_pattern(pattern)
                    self.patterns[letters] = values
        self.longest_pattern = max(len(letters) for letters in self.patterns)

        # An exception word maps to the character offsets of its hyphens.
        # The keys keep the file's case, so capitalized entries such as
        # "Alex-an-der" never match a lowercased word.
        self.exceptions = {}
        with open(os.path.join(pattern_dir, EXCEPTION_FILE), encoding="utf-8") as file:
            for line in file:
                entry = line.strip()
                if entry:
                    parts = entry.split("-")
                    offsets = []
                    for part in parts[:-1]:
                        offsets.append((offsets[-1] if offsets else 0) + len(part))
                    self.exceptions["".join(parts)] = offsets

    def breaks(self, word):
        """Return the character offsets where `word` (lowercase) may break."""
        if len(word) < MIN_CHARS_BEFORE_BREAK + MIN_CHARS_AFTER_BREAK:
            return []
        if word in self.exceptions:
            candidates = self.exceptions[word]
        else:
            candidates = self.pattern_breaks(word)
        last = len(word) - MIN_CHARS_AFTER_BREAK
        return [offset for offset in candidates if MIN_CHARS_BEFORE_BREAK <= offset <= last]

    def pattern_breaks(self, word):
        dotted = f".{word}."
        # gaps[k] is the value of the gap before dotted[k].
        gaps = [0] * (len(dotted) + 1)
        for start in range(len(dotted)):
            for end in range(start + 1, min(len(dotted), start + self.longest_pattern) + 1):
                values = self.patterns.get(dotted[start:end])
                if values is None:
                    continue
                for k, value in enumerate(values):
                    gaps[start + k] = max(gaps[start + k], value)
        # The gap before word[offset] is the gap before dotted[offset + 1].
        return [offset for offset in range(1, len(word)) if gaps[offset + 1] % 2 == 1]

    def syllables(self, word):
        return len(self.breaks(word)) + 1


def parse_pattern(pattern):
    """Split a TeX pattern such as "4a1ma" into "ama" and [4, 1, 0, 0]."""
    letters = []
    values = [0]
    for char in pattern:
        if char.isdigit():
            values[-1] = int(char)
        else:
            letters.append(char)
            values.append(0)
    return "".join(letters), values


def count_syllables(text, hyphenator):
    return sum(hyphenator.syllables(word) for word in remove_punctuation(text.lower()).split())


def analyze(text, hyphenator):
    words = count_words(text)
    sentences = count_sentences(text)
    syllables = count_syllables(text, hyphenator)
    report = {
        "words": words,
        "sentences": sentences,
        "syllables": syllables,
        "characters": count_characters(text),
    }
    if words:
        per_sentence = words / sentences
        per_word = syllables / words
        report["average_words_per_sentence"] = per_sentence
        report["flesch_reading_ease"] = 206.835 - 1.015 * per_sentence - 84.6 * per_word
        report["flesch_kincaid_grade"] = 0.39 * per_sentence + 11.8 * per_word - 15.59
    return report


def main():
    parser = argparse.ArgumentParser(description="Print text-analyzer's figures for a text file.")
    parser.add_argument("file", help="UTF-8 text file to analyze")
    parser.add_argument(
        "--patterns",
        help="directory with hyph-en-us.pat.txt and hyph-en-us.hyp.txt "
        "(default: hyphenation-0.8.4/patterns in the cargo registry)",
    )
    options = parser.parse_args()
    pattern_dir = options.patterns or default_pattern_dir()
    try:
        hyphenator = Hyphenator(pattern_dir)
    except FileNotFoundError as error:
        raise SystemExit(f"failed to read the hyphenation patterns: {error}; pass --patterns DIR") from None
    with open(options.file, encoding="utf-8") as file:
        print(json.dumps(analyze(file.read(), hyphenator), indent=2))


if __name__ == "__main__":
    main()
