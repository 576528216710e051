"""Days, dates, decimals and plurals as people read them, in French or English. Pure, no I/O.

One place decides "which day" a stored moment is (`day_of`: the local day in a time zone) and
how it is written (Babel, from the Unicode CLDR data: "27 nov. 2026", "3,7", "2 réflexions").
Every view outside the Telegram handlers goes through here; the handlers are listed in the
README for the same change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton
from babel.numbers import format_decimal

DEFAULT_ZONE = "Europe/Paris"
"""The zone of a manager who never chose one (the setup flow asks it)."""

# British English writes days as French does (27/11), which a French team reads without doubt.
LOCALES = {"fr": "fr_FR", "en": "en_GB"}

# Nouns counted in views, by language and CLDR plural category ("one", "other").
NOUNS: dict[str, dict[str, dict[str, str]]] = {
    "reflection": {
        "fr": {"one": "réflexion", "other": "réflexions"},
        "en": {"one": "reflection", "other": "reflections"},
    },
    "manager": {
        "fr": {"one": "manager", "other": "managers"},
        "en": {"one": "manager", "other": "managers"},
    },
    "file": {
        "fr": {"one": "fichier", "other": "fichiers"},
        "en": {"one": "file", "other": "files"},
    },
    "day": {"fr": {"one": "jour", "other": "jours"}, "en": {"one": "day", "other": "days"}},
    "checkin": {
        "fr": {"one": "point du jour", "other": "points du jour"},
        "en": {"one": "check-in", "other": "check-ins"},
    },
}


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, LOCALES["fr"]))


def moment(stored: str | datetime) -> datetime:
    """A stored ISO 8601 text (UTC) or an aware datetime, as an aware datetime."""
    return datetime.fromisoformat(stored) if isinstance(stored, str) else stored


def day_of(stored: str | datetime, zone: str) -> date:
    """The local day of a moment in an IANA zone: THE rule of "which day" for every view.

    A Paris manager who finishes at 00:30 local on 27/11 (23:30 UTC on 26/11) finished on 27/11.
    """
    return moment(stored).astimezone(ZoneInfo(zone)).date()


def file_stamp(stored: str | datetime) -> str:
    """A moment for a file name, in UTC, sorting as text sorts: "20261127T030000Z"."""
    return moment(stored).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def day_text(day: date, lang: str) -> str:
    """A day for a sentence: "27 nov. 2026" / "27 Nov 2026" (CLDR medium)."""
    return format_date(day, "medium", locale=_locale(lang))


def period_text(first: date, last: date, lang: str) -> str:
    """A period of days for a sentence: "23-26 nov. 2026" / "23 - 26 Nov 2026" (CLDR interval,
    with an en dash)."""
    return format_interval(first, last, "yMMMd", locale=_locale(lang))


@lru_cache(maxsize=4096)  # a chart writes a dozen labels; Babel's skeleton match costs ~1 ms
def short_day(day: date, lang: str, with_year: bool = False) -> str:
    """A day for an axis or a list: "27/11" (or "27/11/2026")."""
    return format_skeleton("yMd" if with_year else "dM", day, locale=_locale(lang))


def hour_text(local: datetime, lang: str) -> str:
    """The time of day of a local moment: "09:30" (CLDR skeleton Hm)."""
    return _hour_minute(local.hour, local.minute, lang)


@lru_cache(maxsize=4096)  # one per manager on the managers page; Babel takes ~6 us a call
def _hour_minute(hour: int, minute: int, lang: str) -> str:
    """hour_text of any moment at hour:minute: the skeleton Hm reads those two fields only."""
    return format_skeleton("Hm", datetime(2000, 1, 1, hour, minute), locale=_locale(lang))


def time_text(stored: str | datetime, zone: str, lang: str) -> str:
    """A moment for a reader in `zone`: "27 nov. 2026, 00:30" / "27 Nov 2026, 00:30"."""
    local = moment(stored).astimezone(ZoneInfo(zone))
    return f"{day_text(local.date(), lang)}, {hour_text(local, lang)}"


def decimal(value: float, lang: str, digits: int = 1) -> str:
    """A decimal number with `digits` after the separator: "3,7" in French, "3.7" in English."""
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=_locale(lang))


def number(value: float, lang: str) -> str:
    """A number as people write it: "3,5" and "12 000" in French, "3.5" and "12,000" in English
    (up to three decimals, none for a whole number)."""
    return format_decimal(value, locale=_locale(lang))


def count(number: int, noun: str, lang: str) -> str:
    """A number with its noun in the right plural form: "1 réflexion", "2 réflexions"."""
    form = _locale(lang).plural_form(number)
    forms = NOUNS[noun][lang if lang in LOCALES else "fr"]
    return f"{format_decimal(number, locale=_locale(lang))} {forms.get(form, forms['other'])}"
