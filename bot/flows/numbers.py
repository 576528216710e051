"""Numbers and times of day as people type them, in French and English.

Words go through text2num (`text_to_num`), a kept library for French and English number words:
"douze", "twelve", "vingt et un". Digit grouping ("1 000", "1.000", "1'000", "10,000") is read
as thousands only when nothing else can be meant; when it can ("1,000" where decimals are
allowed), the reader gets `Ambiguous` and the bot asks back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import alpha2digit, text2num

from .model import Lang
from .normal import normalise

MAX_NUMBER_CHARACTERS = 30
"""Longer input is no number anyone means (and Python refuses int() of 4,300+ digits)."""

# Round counts people say with a noun ("une douzaine", "a dozen"): the count they stand for.
APPROXIMATE = {
    "douzaine": 12,
    "demi douzaine": 6,
    "quinzaine": 15,
    "vingtaine": 20,
    "trentaine": 30,
    "quarantaine": 40,
    "cinquantaine": 50,
    "centaine": 100,
    "dozen": 12,
    "half dozen": 6,
    "half a dozen": 6,
    "score": 20,
}
_ARTICLES = re.compile(r"^(?:une|un|a|an|one)\s+")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_PLAIN = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^(-?\d+)[.,](\d+)$")
_GROUPED = re.compile(
    r"^(?P<int>-?\d{1,3}(?P<sep>[ .,'\u2019])\d{3}(?:(?P=sep)\d{3})*)"
    r"(?:(?P<mark>[.,])(?P<dec>\d+))?$"
)


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """The digits can be read two ways; `readings` are both, the likelier first."""

    readings: tuple[float, float]


def read_number(text: str, lang: Lang, whole: bool) -> float | Ambiguous | None:
    """The number in `text` (digits or words), Ambiguous, or None if there is none.

    `whole` says the question takes whole numbers only: there "1.000" can only be 1000.
    """
    cleaned = _SPACES.sub(" ", text.strip())
    if not cleaned or len(cleaned) > MAX_NUMBER_CHARACTERS:
        return None
    if any(char.isalpha() for char in cleaned):
        return _words(cleaned, lang)
    return _digits(cleaned, whole)


def _digits(text: str, whole: bool) -> float | Ambiguous | None:
    compact = text.replace(" ", "") if re.fullmatch(r"-?\d{1,3}( \d{3})+", text) else text
    if _PLAIN.match(compact):
        return float(int(compact))
    decimal = _DECIMAL.match(compact)
    if decimal is not None:
        head, tail = decimal.groups()
        as_decimal = float(f"{head}.{tail}")
        looks_grouped = len(tail) == 3 and head.lstrip("-") not in ("", "0")
        if not looks_grouped:
            return as_decimal
        as_thousands = float(int(head + tail))
        # "1.000" on a whole-number question can only be a thousand; elsewhere, ask.
        return as_thousands if whole else Ambiguous((as_thousands, as_decimal))
    grouped = _GROUPED.match(compact)
    if grouped is None:
        return None
    if grouped.group("mark") == grouped.group("sep"):
        return None  # "1.000.5": no reading makes sense
    whole_part = grouped.group("int").replace(grouped.group("sep"), "")
    return float(f"{whole_part}.{grouped.group('dec') or 0}")


def _words(text: str, lang: Lang) -> float | None:
    said = normalise(text)
    approximate = APPROXIMATE.get(_ARTICLES.sub("", said))
    if approximate is not None:
        return float(approximate)
    for language in (lang, "en" if lang == "fr" else "fr"):
        try:
            return float(text2num(said, language))
        except ValueError:
            continue
    return None


# --- times of day ----------------------------------------------------------------------------

_NAMED_TIMES = {
    "midi": (12, 0),
    "minuit": (0, 0),
    "noon": (12, 0),
    "midday": (12, 0),
    "midnight": (0, 0),
}
_HALF = {"et demie": 30, "et demi": 30, "et quart": 15, "moins le quart": -15, "moins quart": -15}
_CLOCK = re.compile(
    r"^(?P<hour>\d{1,2})(?:\s*(?:h|heures?)\s*(?P<minute>\d{2})?|\s+(?P<bare>\d{2}))?\s*"
    r"(?P<half>et demie?|et quart|moins (?:le )?quart)?\s*"
    r"(?P<period>am|pm|a m|p m|du matin|du soir|de l apres midi|o clock|oclock)?$"
)


def read_time(text: str) -> str | None:
    """ "9h", "9h30", "midi", "neuf heures", "8pm", "noon" as "HH:MM"; None if not a time."""
    if len(text) > MAX_NUMBER_CHARACTERS:
        return None
    said = normalise(text.replace("'", " "))
    if not said:
        return None
    for name, (hour, minute) in _NAMED_TIMES.items():
        if said == name or said.startswith(name + " "):
            rest = said[len(name) :].strip()
            extra = _HALF.get(rest) if rest else 0
            if extra is None and rest in ("trente", "30"):
                extra = 30
            if extra is None:
                return None
            return _as_time(hour, minute + extra)
    if any(char.isalpha() for char in said):
        said = normalise(_digits_for_words(said))
    match = _CLOCK.match(said)
    if match is None:
        return None
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or match.group("bare") or 0)
    minute += _HALF.get(match.group("half") or "", 0)
    period = (match.group("period") or "").replace(" ", "")
    if period in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if period == "pm" else 0)
    elif period in ("dusoir", "delapresmidi") and 1 <= hour <= 11:
        hour += 12
    return _as_time(hour, minute)


def _digits_for_words(said: str) -> str:
    """Number words as digits ("neuf heures trente" -> "9 heures 30"), both languages."""
    converted = str(alpha2digit(said, "fr"))
    return str(alpha2digit(converted, "en")) if converted == said else converted


def _as_time(hour: int, minute: int) -> str | None:
    if minute < 0:
        hour, minute = hour - 1, minute + 60
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"
