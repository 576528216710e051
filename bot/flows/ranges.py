"""Options that name a range of numbers ("0-5", "De 10 à 25 %", "Under 10%", "Plus de 50 %"),
so that a number typed at such a question ("12", "douze", "12 %") picks the option holding it.

A label is read in the manager's language; labels that name no range (or several) give None.
Bounds written as "from a to b" hold both ends; "under"/"moins de" and "over"/"plus de" exclude
theirs, so 10 at "Moins de 10 %" / "De 10 à 25 %" is the second, while 25 at "De 10 à 25 %" /
"De 25 à 50 %" lies in both and is asked back.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .normal import normalise

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_TO = r"(?:-|\u2013|\u2014|à|a|to|et|and)"
_BETWEEN = re.compile(rf"^(?:de |from |entre |between |depuis )?{_NUMBER} ?%? ?{_TO} ?{_NUMBER}\b")
_BELOW = re.compile(rf"^(?:moins de|under|less than|fewer than|below|<) ?{_NUMBER}\b")
_ABOVE = re.compile(rf"^(?:plus de|over|more than|above|>) ?{_NUMBER}\b|^{_NUMBER} ?\+")


@dataclass(frozen=True, slots=True)
class NumberRange:
    """The numbers an option names: from `low` to `high`, each end held or not."""

    low: float
    high: float
    low_held: bool = True
    high_held: bool = True

    def holds(self, number: float) -> bool:
        """True when `number` lies in the range."""
        above = number > self.low or (self.low_held and number == self.low)
        below = number < self.high or (self.high_held and number == self.high)
        return above and below


@lru_cache(maxsize=512)
def label_range(label: str) -> NumberRange | None:
    """The range an option's label names ("De 10 à 25 %" -> 10..25), or None."""
    said = _folded(label)
    between = _BETWEEN.match(said)
    if between is not None:
        low, high = _float(between.group(1)), _float(between.group(2))
        return NumberRange(low, high) if low <= high else None
    below = _BELOW.match(said)
    if below is not None:
        return NumberRange(-math.inf, _float(below.group(1)), high_held=False)
    above = _ABOVE.match(said)
    if above is not None:
        return NumberRange(_float(above.group(1) or above.group(2)), math.inf, low_held=False)
    return None


def _folded(label: str) -> str:
    """Lower case, accents gone, the signs of a range kept (hyphen, dashes, + % < >)."""
    kept = re.sub(r"[\u00a0\u202f\s]+", " ", label.casefold()).strip()
    return " ".join(normalise(part) if part.isalpha() else part for part in kept.split(" "))


def _float(text: str) -> float:
    return float(text.replace(",", "."))
