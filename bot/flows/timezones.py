"""Time zones as people type them: a city ("Montréal", "new york") or an IANA name."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from .normal import normalise

# Cities people name that the time zone database files under another city.
ALIASES = {
    "bale": "Europe/Zurich",
    "basel": "Europe/Zurich",
    "bordeaux": "Europe/Paris",
    "boston": "America/New_York",
    "bruxelles": "Europe/Brussels",
    "geneve": "Europe/Zurich",
    "geneva": "Europe/Zurich",
    "lausanne": "Europe/Zurich",
    "lille": "Europe/Paris",
    "londres": "Europe/London",
    "lyon": "Europe/Paris",
    "marseille": "Europe/Paris",
    "nantes": "Europe/Paris",
    "nice": "Europe/Paris",
    "quebec": "America/Toronto",
    "san francisco": "America/Los_Angeles",
    "strasbourg": "Europe/Paris",
    "toulouse": "Europe/Paris",
    "washington": "America/New_York",
    "alger": "Africa/Algiers",
    "utc": "UTC",
    "gmt": "UTC",
}


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Normalised city and full names -> IANA name (built once: the database is large)."""
    names: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if name.startswith(("Etc/", "SystemV/")) or "/" not in name:
            continue
        names.setdefault(normalise(name.rsplit("/", 1)[1].replace("_", " ")), name)
        names[normalise(name)] = name
    names.update({normalise(alias): target for alias, target in ALIASES.items()})
    return names


def resolve(text: str) -> str | None:
    """The IANA time zone meant by `text`, or None if it names none."""
    wanted = text.strip()
    if not wanted:
        return None
    if wanted in _known():
        return wanted
    return _index().get(normalise(wanted))


def city(name: str) -> str:
    """The readable city of an IANA name: "America/New_York" -> "New York"."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


def is_known(name: str) -> bool:
    """True when `name` is an IANA time zone this machine knows."""
    return name in _known()


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    # The database's own list: opening a name like "America/Argentina" (a folder) would fail
    # with an OSError rather than a ZoneInfoNotFoundError.
    return frozenset(available_timezones())
