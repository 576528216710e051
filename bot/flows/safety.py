"""Spotting words of distress in an answer, so the engine can point to professional help.

The playbook's `safety.keywords` are phrase patterns, matched on `normal.match_form` of the
answer (case, accents, elisions, contractions, plural s and silent e folded):

- words are matched whole: "je suis epuise" matches "Je suis épuisée." and "Je suis épuisés";
- `stem*` matches any word starting with stem ("suicid*": suicide, suicidaire);
- `a|b|c` matches any one of the alternatives (each may end with `*`; `me_sens` is two words);
- `...` stands for up to three other words ("je suis ... epuise": "je suis vraiment très épuisé").

`safety.exclusions` use the same syntax: the words they match are taken out before the keywords
are looked for, so "la dépression du marché" is no distress while "ma dépression" still is. An
exclusion never reaches past a clause ("Je suis épuisé, le budget aussi": "épuisé le" is not the
business sense) nor takes in the manager as subject or object ("prices down I'm depressed", "le
marché me déprime"): distress said in the same message is still heard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .normal import match_form

_LETTER = re.compile(r"[^\W\d_]")
"""Any letter, in any script (`str.isalpha`'s letters)."""
GAP = "..."
GAP_WORDS = 3
"""How many other words `...` stands for, at most."""
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"\n\r\u2026\u00ab\u00bb\u201c\u201d\u2013\u2014]+")
"""Punctuation that ends a clause: an exclusion's words all lie within one."""
_PERSON = frozenset({"i", "me", "myself", "je", "moi"})
"""Words that make the manager the subject or object: a span holding one is never business."""


class PatternError(ValueError):
    """A safety pattern that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class PhraseIndex:
    """Compiled phrase patterns filed by their first word, so that a text is only searched with
    the few patterns whose first word it holds (one expression for all took ~4x longer)."""

    by_word: dict[str, re.Pattern[str]]
    by_prefix: tuple[tuple[str, re.Pattern[str]], ...]

    def candidates(self, form: str, words: set[str]) -> list[re.Pattern[str]]:
        """The expressions that may match a text of `match_form` `form`, made of `words`."""
        found = [self.by_word[word] for word in words if word in self.by_word]
        for prefix, expression in self.by_prefix:
            if f" {prefix}" in form:  # a word starts with it: `form` is padded with spaces
                found.append(expression)
        return found


@dataclass(frozen=True, slots=True)
class Matcher:
    """Compiled safety patterns and exclusions, built once per playbook."""

    found: PhraseIndex
    excluded: PhraseIndex

    def matches(self, text: str) -> bool:
        """True when `text` holds a pattern outside every exclusion."""
        if _LETTER.search(text) is None:
            return False  # every pattern has letters
        form = match_form(text)
        words = set(form.split())
        candidates = self.found.candidates(form, words)
        if not candidates:
            return False
        exclusions = self.excluded.candidates(form, words)
        if exclusions:
            form = _without_business(text, exclusions)
        return any(expression.search(form) for expression in candidates)


def _without_business(text: str, exclusions: list[re.Pattern[str]]) -> str:
    """`match_form(text)` with the words of each exclusion found within a clause, and not about
    the manager, replaced by "#"."""
    clauses = []
    for clause in _CLAUSE_BREAK.split(text):
        form = match_form(clause)
        for exclusion in exclusions:
            form = exclusion.sub(_business_sense, form)
        if form.strip():
            clauses.append(form.strip())
    return f" {' '.join(clauses)} "


def _business_sense(found: re.Match[str]) -> str:
    words = found.group(0)
    return " # " if _PERSON.isdisjoint(words.split()) else words


def compile_pattern(pattern: str) -> str:
    """A phrase pattern as a regular expression over `match_form` text (PatternError if unusable).

    The expression starts and ends with a space, as the words it matches do.
    """
    pieces: list[str] = []
    words = pattern.split()
    if not words:
        raise PatternError("the pattern is empty")
    if words[0] == GAP or words[-1] == GAP:
        raise PatternError(f"'{GAP}' goes between words, not at the start or the end")
    for word in words:
        if word == GAP:
            if pieces and pieces[-1].startswith("(?:\\S+ )"):
                raise PatternError(f"two '{GAP}' in a row")
            pieces.append(f"(?:\\S+ ){{0,{GAP_WORDS}}}")
            continue
        pieces.append(f"(?:{'|'.join(_alternative(alt, word) for alt in word.split('|'))}) ")
    return " " + "".join(pieces)


def _alternative(text: str, word: str) -> str:
    prefix = text.endswith("*")
    core = match_form(text.rstrip("*").replace("_", " ")).split()
    if not core or "*" in text.rstrip("*"):
        raise PatternError(f"'{word}' has an alternative with no letters, or a '*' inside a word")
    escaped = " ".join(re.escape(part) for part in core)
    return escaped + r"\S*" if prefix else escaped


def build_matcher(patterns: Iterable[str], exclusions: Iterable[str]) -> Matcher:
    """The matcher for these patterns and exclusions; unusable ones are left out (the validator
    reports them)."""
    return Matcher(_index(patterns), _index(exclusions))


def first_words(pattern: str) -> list[tuple[str, bool]]:
    """The words a match of `pattern` can start with, as (word, is_prefix)."""
    found = []
    for alternative in pattern.split()[0].split("|"):
        core = match_form(alternative.rstrip("*").replace("_", " ")).split()
        found.append((core[0], alternative.endswith("*") and len(core) == 1))
    return found


def _index(patterns: Iterable[str]) -> PhraseIndex:
    by_word: dict[str, list[str]] = {}
    by_prefix: dict[str, list[str]] = {}
    for pattern in patterns:
        try:
            compiled = compile_pattern(pattern)
        except PatternError:
            continue
        for word, is_prefix in first_words(pattern):
            (by_prefix if is_prefix else by_word).setdefault(word, []).append(compiled)
    return PhraseIndex(
        {word: _either(found) for word, found in by_word.items()},
        tuple((prefix, _either(found)) for prefix, found in by_prefix.items()),
    )


def _either(expressions: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{e})" for e in dict.fromkeys(expressions)))
