"""Reference implementation of text-analyzer's counting rules.

Written separately from the Rust code, from the rules in the crate's
documentation, to compute the figures the sandbox-worker tests expect.
Words, sentences and characters use the same regular expressions as the
textstat package 0.7.4. Standard library only:

    python3 plugins/text-analyzer/reference/readability.py corpus/FILE.txt
"""

import json
import re
import sys
import unicodedata

VOWELS = "aeiou"


def remove_punctuation(text):
    return re.sub(r"[^\w\s]", "", text)


def count_words(text):
    return len(remove_punctuation(text).split())


def count_sentences(text):
    segments = re.findall(r"\b[^.!?]+[.!?]*", text)
    return max(1, sum(1 for segment in segments if count_words(segment) > 2))


def count_characters(text):
    return len(re.sub(r"\s", "", text))


def fold(word):
    letters = []
    for char in word.lower():
        base = unicodedata.normalize("NFD", char)[0]
        if base in "àáâãäå":
            base = "a"
        if "a" <= base <= "z":
            letters.append(base)
    return "".join(letters)


def is_vowel(word, index):
    if index < 0 or index >= len(word):
        return False
    char = word[index]
    return char in VOWELS or (char == "y" and index > 0)


def is_consonant(word, index):
    return 0 <= index < len(word) and not is_vowel(word, index)


def syllables_in_word(token):
    word = fold(token)
    if not word:
        return 1
    n = len(word)

    groups = sum(
        1 for i in range(n) if is_vowel(word, i) and (i == 0 or not is_vowel(word, i - 1))
    )

    hiatuses = 0
    for i in range(n - 1):
        pair = word[i : i + 2]
        before = word[i - 1] if i > 0 else ""
        after = word[i + 2] if i + 2 < n else ""
        if pair in ("ia", "io"):
            hiatuses += before not in ("c", "t", "s", "x", "g")
        elif pair == "ua" and before not in ("q", "g"):
            hiatuses += 1
        elif pair == "eo" and after not in ("p", "r", "u"):
            hiatuses += 1
    comparative = (word.endswith("ier") and is_consonant(word, n - 4)) or (
        word.endswith("iest") and is_consonant(word, n - 5)
    )
    if comparative and n >= 5:
        hiatuses += 1

    silent = 0
    accented_final_e = token[-1:] in ("é", "É")
    if word.endswith("e"):
        consonant_le = word.endswith("le") and is_consonant(word, n - 3)
        if n >= 2 and is_consonant(word, n - 2) and not consonant_le and not accented_final_e:
            silent += 1
    elif word.endswith("es") and n >= 4:
        before, second = word[n - 3], word[n - 4]
        if is_consonant(word, n - 3):
            sibilant = before in "sxzcg" or (before == "h" and second in "cs")
            consonant_les = before == "l" and is_consonant(word, n - 4)
            if not sibilant and not consonant_les:
                silent += 1
    elif word.endswith("ed") and n >= 4:
        before, second = word[n - 3], word[n - 4]
        if is_consonant(word, n - 3) and before not in "td":
            spoken = before in "lr" and is_consonant(word, n - 4) and second not in "lr"
            if not spoken:
                silent += 1
    for suffix in ("ly", "ment", "ful", "less", "ness"):
        e = n - len(suffix) - 1
        if (
            e >= 2
            and word.endswith(suffix)
            and word[e] == "e"
            and is_consonant(word, e - 1)
            and is_vowel(word, e - 2)
        ):
            silent += 1
            break

    return max(1, groups + hiatuses - silent)


def count_syllables(text):
    return sum(syllables_in_word(word) for word in remove_punctuation(text.lower()).split())


def analyze(text):
    words = count_words(text)
    sentences = count_sentences(text)
    syllables = count_syllables(text)
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


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print(json.dumps(analyze(file.read()), indent=2))
