"""Dates in commitments ("jeudi prochain", "fin janvier", "le 15", "next Friday"), read at the
moment they are said, and shown as dates ("jeudi 3 décembre") rather than the words.

Reading goes through dateparser (French and English), imported on first use only: it takes a
third of a second to import and milliseconds per call, so only date questions pay for it.
Dates are formatted by Babel. Anything that is not clearly a date stays text (None).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from babel.dates import format_date

from .model import Lang
from .normal import normalise

_LEADING = re.compile(
    r"^(?:d ici (?:a |au |le )?|jusqu a |jusqu au |avant (?:le )?|au plus tard (?:le )?"
    r"|pour (?:le )?|by (?:the )?|before (?:the )?|on (?:the )?|until (?:the )?)"
)
_DAY_ONLY = re.compile(r"^(?:le |the )(\d{1,2})(?:er|st|nd|rd|th)?$|^(\d{1,2})(?:er|st|nd|rd|th)$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?$")
_MONTH_PART = re.compile(
    r"^(?P<part>fin|fin de|fin du mois de|debut|debut de|debut du mois de|mi|mid|end of|the end of"
    r"|late|early|beginning of|the beginning of|middle of|mi mois de)\s+(?P<month>.+)$"
)
_THIS_MONTH_END = frozenset(
    {"fin du mois", "fin de mois", "la fin du mois", "end of the month", "end of month"}
)
_FR_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_EN_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = rf"({'|'.join(_FR_WEEKDAYS + _EN_WEEKDAYS)})"
_COMING_WEEKDAY = re.compile(rf"^(?:ce |this |this coming |coming )?{_DAY}(?: qui vient)?$")
_NEXT_WEEKDAY = re.compile(rf"^{_DAY} prochain$|^next {_DAY}$")
_NEXT_WEEKS_WEEKDAY = re.compile(
    rf"^{_DAY} (?:de )?(?:la )?semaine prochaine$|^{_DAY} next week$|^next week s? ?{_DAY}$"
)
_WEEKDAY_WEEK_AFTER = re.compile(rf"^{_DAY} en huit$|^a week on {_DAY}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DATE_WORDS = 6
"""A longer answer is a sentence ("j'appelle Paul lundi"), kept as text rather than guessed."""
DATE_WORDS = frozenset(
    (
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
        "janvier",
        "fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "decembre",
        "demain",
        "apres",
        "aujourd",
        "hui",
        "semaine",
        "mois",
        "prochain",
        "prochaine",
        "fin",
        "debut",
        "mi",
        "jour",
        "jours",
        "semaines",
        "an",
        "annee",
        "noel",
        "paques",
        "soir",
        "matin",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "tomorrow",
        "today",
        "tonight",
        "week",
        "weeks",
        "month",
        "months",
        "next",
        "end",
        "early",
        "mid",
        "beginning",
        "day",
        "days",
        "year",
        "christmas",
        "easter",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    )
)
"""Words one of which a date needs, so that other text never pays for dateparser."""


@dataclass(frozen=True, slots=True)
class EitherDate:
    """Words that name one of two dates ("jeudi prochain" said on a Monday: this week's Thursday
    or next week's); the bot asks which, the nearer first."""

    first: date
    second: date


def read_date(text: str, lang: Lang, now: datetime) -> date | None:
    """The calendar date `text` names, counted from `now`; None when it is not (only) a date,
    or when it may name two dates (see `read_day`)."""
    found = read_day(text, lang, now)
    return found if isinstance(found, date) else None


def read_day(text: str, lang: Lang, now: datetime) -> date | EitherDate | None:
    """The calendar date `text` names, counted from `now`, EitherDate when people use the words
    for two dates, None when it is not (only) a date.

    Weekdays as people mean them: "jeudi", "this Thursday" are the coming one (a week later when
    said on a Thursday); "jeudi prochain", "next Thursday" are the coming one when it falls in the
    next calendar week, and either date when it falls in this week (said on a Monday: the 3rd or
    the 10th?); "jeudi de la semaine prochaine", "Thursday next week" are in the next calendar
    week; "jeudi en huit" is a week after the coming Thursday.
    """
    numeric = _NUMERIC.match(text.strip())
    if numeric is not None:
        return _numeric_date(numeric, lang, now.date())
    said = normalise(text.replace("'", " ").replace("\u2019", " "))
    said = _LEADING.sub("", said).strip()
    words = said.split()
    if not words or len(words) > MAX_DATE_WORDS:
        return None
    if not any(word in DATE_WORDS or word[:1].isdigit() for word in words):
        return None
    today = now.date()
    if said in _THIS_MONTH_END:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    day_only = _DAY_ONLY.match(said)
    if day_only is not None:
        return _next_day_of_month(today, int(day_only.group(1) or day_only.group(2)))
    if _is_number_word(said):
        return None  # "sept" is seven before it is September
    weekday = _weekday(said, today)
    if weekday is not None:
        return weekday
    part = _MONTH_PART.match(said)
    if part is not None:
        return _part_of_month(part.group("part"), part.group("month"), lang, now)
    found = _parse(said, lang, now)
    if found is None:
        return None
    if found < today and not re.search(r"\d{4}", said):
        # dateparser keeps a day of this month even when it has passed ("mardi 8")
        found = _add_month(found)
    return found


def _weekday(said: str, today: date) -> date | EitherDate | None:
    """A weekday said with or without "prochain" / "next" / "en huit" (see `read_day`)."""
    for pattern in (_COMING_WEEKDAY, _NEXT_WEEKDAY, _NEXT_WEEKS_WEEKDAY, _WEEKDAY_WEEK_AFTER):
        match = pattern.match(said)
        if match is not None:
            break
    else:
        return None
    name = next(day for day in match.groups() if day)
    wanted = _FR_WEEKDAYS.index(name) if name in _FR_WEEKDAYS else _EN_WEEKDAYS.index(name)
    coming = today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
    this_week = coming.isocalendar()[:2] == today.isocalendar()[:2]
    if pattern is _COMING_WEEKDAY:
        return coming
    if pattern is _NEXT_WEEKDAY:
        return EitherDate(coming, coming + timedelta(days=7)) if this_week else coming
    if pattern is _NEXT_WEEKS_WEEKDAY:
        return coming + timedelta(days=7) if this_week else coming
    return today + timedelta(days=(wanted - today.weekday()) % 7 + 7)  # "jeudi en huit"


def format_answer_date(value: str, lang: Lang, year: int | None = None) -> str:
    """A stored ISO date as words; the year shown when it is not `year`."""
    day = date.fromisoformat(value)
    pattern = "EEEE d MMMM" if year is None or day.year == year else "EEEE d MMMM y"
    return format_date(day, pattern, locale=lang)


def _numeric_date(match: re.Match[str], lang: Lang, today: date) -> date | None:
    first, second, year = int(match.group(1)), int(match.group(2)), match.group(3)
    if lang == "en" and first <= 12 and second <= 12 and first != second:
        return None  # 3/12: March in New York, December in London; not worth a guess
    day, month = (second, first) if lang == "en" and first <= 12 < second else (first, second)
    try:
        full_year = int(year) + (2000 if len(year) == 2 else 0) if year else today.year
        found = date(full_year, month, day)
    except ValueError:
        return None
    if not year and found < today:
        found = found.replace(year=today.year + 1)
    return found


def _next_day_of_month(today: date, day: int) -> date | None:
    if not 1 <= day <= 31:
        return None
    cursor = today.replace(day=1)
    for _ in range(13):
        last = calendar.monthrange(cursor.year, cursor.month)[1]
        if day <= last and cursor.replace(day=day) >= today:
            return cursor.replace(day=day)
        cursor = _add_month(cursor)
    return None


def _add_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def _part_of_month(part: str, month_words: str, lang: Lang, now: datetime) -> date | None:
    month = _parse(month_words, lang, now, prefer_first=True)
    if month is None:
        return None
    if part.startswith(("fin", "end", "late", "the end")):
        return month.replace(day=calendar.monthrange(month.year, month.month)[1])
    if part.startswith(("mi", "mid", "middle")):
        return month.replace(day=15)
    return month.replace(day=1)


def _is_number_word(said: str) -> bool:
    from .numbers import read_number

    return read_number(said, "fr", whole=True) is not None


def _parse(said: str, lang: Lang, now: datetime, prefer_first: bool = False) -> date | None:
    base = now.replace(tzinfo=None, microsecond=0)
    found = _parser(lang, prefer_first, base).get_date_data(said).date_obj
    return None if found is None else found.date()


@lru_cache(maxsize=64)
def _parser(lang: Lang, prefer_first: bool, base: datetime) -> Any:
    """A dateparser parser for `lang` then the other language, counting from `base`."""
    from dateparser.date import DateDataParser  # slow to import: only date questions need it

    settings = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future",
        "PREFER_DAY_OF_MONTH": "first" if prefer_first else "current",
        "DATE_ORDER": "DMY" if lang == "fr" else "MDY",
    }
    other = "en" if lang == "fr" else "fr"
    return DateDataParser(languages=[lang, other], settings=settings)


# --- a day in the past, or a period: when the manager learned of the loss (refs #10) ----------

_SINCE = re.compile(
    r"^(?:depuis (?:le |la |l |ce |cette )?|des (?:le )?|since (?:the )?|on (?:the )?|le (?=\d))"
)
_LAST_WEEKDAY_FR = re.compile(
    r"^(?P<day>lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) dernier$"
)
_DAY_BEFORE_YESTERDAY = frozenset({"avant hier", "the day before yesterday"})
_TODAY = frozenset({"aujourd hui", "ce matin", "today", "this morning"})
_THIS_MONTH = frozenset({"ce mois", "ce mois ci", "this month"})
_IT_HAS_BEEN = re.compile(r"^(?:ca fait|cela fait|voila) ")
_PART_DAYS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}
MAX_PERIOD_WORDS = 8
"""A longer answer is a sentence, not a date: the question asks again."""


def read_past_period(text: str, lang: Lang, now: datetime) -> tuple[date, date] | None:
    """The day, or the (first, last) days of the period, that `text` names in the past, counted
    from `now` and never after it: "le 12 novembre", "12/11", "lundi dernier", "hier", "il y a
    3 semaines" (that week), "cette semaine" (Monday to today), "en octobre", "début novembre"
    (1st to 10th). A single day is (day, day). None when it is not (only) a past date."""
    today = now.date()
    numeric = _NUMERIC.match(text.strip())
    if numeric is not None:
        found = _numeric_date(numeric, lang, today)
        if found is not None and found > today and numeric.group(3) is None:
            found = _year_before(found)
        return None if found is None or found > today else (found, found)
    said = normalise(text.replace("'", " ").replace("\u2019", " "))
    said = _IT_HAS_BEEN.sub("il y a ", _SINCE.sub("", said)).strip()
    if not said or len(said.split()) > MAX_PERIOD_WORDS or _is_number_word(said):
        return None
    if said in _TODAY:
        return today, today
    if said in _THIS_MONTH:
        return today.replace(day=1), today
    if said in _DAY_BEFORE_YESTERDAY:
        day = today - timedelta(days=2)
        return day, day
    weekday = _LAST_WEEKDAY_FR.match(said)
    if weekday is not None:
        back = (today.weekday() - _FR_WEEKDAYS.index(weekday.group("day")) - 1) % 7 + 1
        day = today - timedelta(days=back)
        return day, day
    part = _MONTH_PART.match(said)
    if part is not None:
        month = _past_parse(part.group("month"), lang, now)
        if month is None or month[1] != "month":
            return None
        first, last = _PART_DAYS[_part_name(part.group("part"))]
        days_in_month = calendar.monthrange(month[0].year, month[0].month)[1]
        period = month[0].replace(day=first), month[0].replace(day=min(last, days_in_month))
        return None if period[0] > today else (period[0], min(period[1], today))
    parsed = _past_parse(said, lang, now)
    if parsed is None or parsed[0] > today:
        return None
    day, granularity = parsed
    if granularity == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, min(monday + timedelta(days=6), today)
    if granularity == "month":
        start = day.replace(day=1)
        month_end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        return start, min(month_end, today)
    if granularity == "year":
        return day.replace(month=1, day=1), min(day.replace(month=12, day=31), today)
    return day, day


def _year_before(day: date) -> date | None:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return None


def _part_name(part: str) -> str:
    if part.startswith(("fin", "end", "late", "the end")):
        return "late"
    if part.startswith(("mi", "mid", "middle")):
        return "mid"
    return "early"


def _past_parse(said: str, lang: Lang, now: datetime) -> tuple[date, str] | None:
    """dateparser's reading preferring the past: the day and its granularity (day, week,
    month, year)."""
    base = now.replace(tzinfo=None, microsecond=0)
    data = _past_parser(lang, base).get_date_data(said)
    if data.date_obj is None:
        return None
    return data.date_obj.date(), str(data.period or "day")


@lru_cache(maxsize=64)
def _past_parser(lang: Lang, base: datetime) -> Any:
    """A dateparser parser for `lang` then the other language, preferring past dates."""
    from dateparser.date import DateDataParser  # slow to import: only date questions need it

    settings = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "past",
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "DMY" if lang == "fr" else "MDY",
    }
    other = "en" if lang == "fr" else "fr"
    return DateDataParser(languages=[lang, other], settings=settings)


def format_period(value: str, lang: Lang) -> str:
    """A stored day ("2026-11-12") or period ("2026-11-23/2026-11-26") as words, by Babel
    through bot.formatting: "12 nov. 2026", "23-26 nov. 2026" (with an en dash)."""
    from ..formatting import day_text, period_text

    first, _, last = value.partition("/")
    start = date.fromisoformat(first)
    if not last or last == first:
        return day_text(start, lang)
    return period_text(start, date.fromisoformat(last), lang)


ISO_PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}(?:/\d{4}-\d{2}-\d{2})?$")
"""A stored past day or period (ISO 8601 date, or interval of two dates)."""


def period_value(period: tuple[date, date]) -> str:
    """How a past day or period is stored: "2026-11-12", or "2026-11-23/2026-11-26" (ISO 8601)."""
    first, last = period
    return first.isoformat() if first == last else f"{first.isoformat()}/{last.isoformat()}"
