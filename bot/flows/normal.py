"""Text normalisation for matching what people type against expected words and phrases."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"[\u2019\u2018\u02bc\u00b4`]")
# French elisions: "j'en" is "je en", "qu'il" is "que il"; "n'" is dropped because spoken French
# drops it too ("j'en peux plus" and "je n'en peux plus" are one sentence).
_ELISION = re.compile(r"\b(j|m|t|s|l|d|c|qu|jusqu|lorsqu|puisqu)'")
_NEGATION = re.compile(r"\bn'")
# English contractions: with an apostrophe, and without it as people type on phones.
_WITH_APOSTROPHE = (
    (re.compile(r"\bcan't"), "can not"),
    (re.compile(r"\bwon't"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), " is"),
)
_WITHOUT_APOSTROPHE = {
    "cant": "can not",
    "cannot": "can not",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "havent": "have not",
    "couldnt": "could not",
    "im": "i am",
    "ive": "i have",
    "jen": "je en",
    "jsuis": "je suis",
    "chui": "je suis",
    "jpeux": "je peux",
    "jveux": "je veux",
    "jvais": "je vais",
}
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""The Unicode blocks of combining marks: the accents NFKD splits off."""
_NOT_WORD = re.compile(r"[\W_]+")
_NOT_ASCII_WORD = re.compile(r"[^A-Za-z0-9]+")
"""`_NOT_WORD` for ASCII text: the same characters, twice as fast as the Unicode class."""
_DROPPED_WORDS = frozenset({"ne"})


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation turned into single spaces (for matching)."""
    return " ".join(_bare(text.casefold()).split())


def match_form(text: str) -> str:
    """`text` as words to match phrases on: " je en peux plu " (case, accents, elisions,
    contractions, negative "ne", final plural s and silent e folded; padded with spaces).

    It runs on every typed answer (the safety net): only words ending in "e" or "s" are
    stemmed, and only texts holding a contraction or "ne" are walked again word by word.
    """
    lowered = text.casefold()
    if "'" in lowered or not lowered.isascii():
        lowered = _APOSTROPHES.sub("'", lowered)
    if "'" in lowered:
        lowered = _NEGATION.sub(" ", _ELISION.sub(r"\1e ", lowered))
        for pattern, replacement in _WITH_APOSTROPHE:
            lowered = pattern.sub(replacement, lowered)
    words = [stem(word) if word[-1] in "es" else word for word in _bare(lowered).split()]
    if not _SPECIAL.isdisjoint(words):
        words = [
            expanded
            for word in words
            if word not in _DROPPED_WORDS
            for expanded in _EXPANDED.get(word, (word,))
        ]
    return f" {' '.join(words)} "


def stem(word: str) -> str:
    """A word without its final plural "s" and silent "e"s ("épuisées" -> "epuis")."""
    if len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    for _ in range(2):  # "-ée" as well as "-e"
        if len(word) > 3 and word.endswith("e"):
            word = word[:-1]
    return word


_EXPANDED = {
    stem(word): tuple(stem(part) for part in expansion.split())
    for word, expansion in _WITHOUT_APOSTROPHE.items()
}
"""Contractions typed without an apostrophe, by their stem: "jsuis" -> ("je", "sui"), stemmed
as the same words typed in full are."""
_SPECIAL = frozenset(_EXPANDED) | _DROPPED_WORDS


def _bare(text: str) -> str:
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
        if not text.isascii():  # other scripts, emoji: the Unicode class
            return _NOT_WORD.sub(" ", text)
    return _NOT_ASCII_WORD.sub(" ", text)
