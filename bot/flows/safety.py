"""Spotting words of distress in an answer, so the engine can point to professional help.

The playbook's `safety.keywords` are phrase patterns, matched on `normal.match_form` of the
answer (case, accents, elisions, contractions, plural s and silent e folded):

- words are matched whole: "je suis epuise" matches "Je suis épuisée." and "Je suis épuisés";
- `stem*` matches any word starting with stem ("suicid*": suicide, suicidaire);
- `a|b|c` matches any one of the alternatives (each may end with `*`; `me_sens` is two words);
- `...` stands for up to three other words ("je suis ... epuise": "je suis vraiment très épuisé").

`safety.exclusions` use the same syntax: the words they match are taken out before the keywords
are looked for, so "la dépression du marché" is no distress while "ma dépression" still is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .normal import match_form

GAP = "..."
GAP_WORDS = 3
"""How many other words `...` stands for, at most."""


class PatternError(ValueError):
    """A safety pattern that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """Compiled safety patterns and exclusions, built once per playbook."""

    found: re.Pattern[str] | None
    excluded: re.Pattern[str] | None

    def matches(self, text: str) -> bool:
        """True when `text` holds a pattern outside every exclusion."""
        if self.found is None:
            return False
        form = match_form(text)
        if self.excluded is not None:
            form = self.excluded.sub(" # ", form)
        return self.found.search(form) is not None


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
    return Matcher(_union(patterns), _union(exclusions))


def _union(patterns: Iterable[str]) -> re.Pattern[str] | None:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(compile_pattern(pattern))
        except PatternError:
            continue
    return re.compile("|".join(f"(?:{p})" for p in compiled)) if compiled else None
