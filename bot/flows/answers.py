"""Turning what the manager typed or pressed into a normalised answer, or a reason to ask again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import regex

from .model import (
    AnswerValue,
    ChoiceStep,
    InputStep,
    Lang,
    MultiChoiceStep,
    NumberStep,
    Option,
    ScaleStep,
    TextStep,
    TimeStep,
    TimezoneStep,
    UiTexts,
    YesNoStep,
)
from .numbers import MAX_NUMBER_CHARACTERS, Ambiguous, read_number, read_time
from .ranges import label_range
from .text import fill, normalise
from .timezones import Places, is_known, place, resolve

YES_WORDS = frozenset({"oui", "o", "yes", "y", "ouais", "yep", "ok", "d accord", "sure"})
NO_WORDS = frozenset({"non", "n", "no", "nope", "pas vraiment"})
YES_NO_NUMBERS = {"1": True, "2": False}
"""Yes and no as the terminal numbers them (yes first, as the buttons show them)."""
_SCALE = re.compile(r"^\s*(-?\d+)\s*/\s*\d+\s*$")
_LIST_SEPARATORS = re.compile(r"[,;/]+|\s+(?:et|and)\s+")
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True, slots=True)
class Rejected:
    """The input does not answer the question; `reason` says how to answer, `choices` are
    (option id, label) pairs to offer when the input could mean several things."""

    reason: str
    choices: tuple[tuple[str, str], ...] = ()


def parse_text(
    ui: UiTexts, step: InputStep, text: str, lang: Lang, now: datetime | None = None
) -> AnswerValue | Rejected:
    """Read a typed answer for `step`; `now` is when it was said (for dates like "demain")."""
    if isinstance(step, TextStep):
        return _parse_free_text(ui, step, text, lang, now)
    if isinstance(step, ChoiceStep):
        chosen = _parse_choice(ui, step, text, lang)
        if isinstance(chosen, Rejected) and not chosen.choices and step.or_past_date and now:
            return _parse_past_date(ui, step, text, lang, now)
        return chosen
    if isinstance(step, MultiChoiceStep):
        return _parse_multi(ui, step, text, lang)
    if isinstance(step, ScaleStep):
        return _parse_scale(ui, step, text, lang)
    if isinstance(step, YesNoStep):
        return _parse_yes_no(ui, text, lang)
    if isinstance(step, TimeStep):
        return parse_time(text) or Rejected(ui.in_(lang).invalid_time)
    if isinstance(step, TimezoneStep):
        return _parse_zone(ui, text, lang)
    return _parse_number(ui, step, text, lang)


def parse_pick(ui: UiTexts, step: InputStep, option: str, lang: Lang) -> AnswerValue | Rejected:
    """Read a button press (an option id, `yes`/`no`, or a scale point)."""
    if isinstance(step, ChoiceStep):
        if any(candidate.id == option for candidate in step.options):
            return option
        return Rejected(fill(ui.in_(lang).invalid_choice, {"count": str(len(step.options))}))
    if isinstance(step, YesNoStep) and option in ("yes", "no"):
        return option == "yes"
    if isinstance(step, ScaleStep):
        return _parse_scale(ui, step, option, lang)
    if isinstance(step, TextStep) and step.reads_date and option.startswith(DATE_PICK):
        day = option.removeprefix(DATE_PICK)
        return day if _is_iso_day(day) else Rejected(ui.in_(lang).button_inactive)
    if isinstance(step, TimeStep):
        times = {time_option_id(t): t for t in step.suggestions}
        return times.get(option) or Rejected(ui.in_(lang).invalid_time)
    if isinstance(step, TimezoneStep):
        zones = {zone_option_id(i): z for i, z in enumerate(step.suggestions.get(lang, []))}
        if option.startswith(ZONE_PICK):  # one of the places offered for an ambiguous name
            zone = option.removeprefix(ZONE_PICK)
            return zone if is_known(zone) else Rejected(ui.in_(lang).invalid_timezone)
        return zones.get(option) or Rejected(ui.in_(lang).invalid_timezone)
    return parse_text(ui, step, option, lang)


def parse_time(text: str) -> str | None:
    """ "9h", "9h30", "midi", "neuf heures", "8pm" as "HH:MM"; None if it is not a time of day."""
    return read_time(text)


DATE_PICK = "d:"
"""Prefix of the option id that names a date offered when the words named two (d:2026-12-03)."""
ZONE_PICK = "tz:"
"""Prefix of the option id that names a time zone offered when a typed place was ambiguous."""


def grapheme_length(text: str) -> int:
    """Characters as the manager sees them (grapheme clusters, by `regex`'s \\X): a flag or
    an emoji with a skin tone counts one."""
    if text.isascii():
        return len(text) - text.count("\r\n")  # a CR LF pair is one cluster
    return len(_GRAPHEME.findall(text))


def time_option_id(time: str) -> str:
    """The button id of a suggested time ("08:30" -> "0830": callback data has no colons)."""
    return time.replace(":", "")


def zone_option_id(index: int) -> str:
    """The button id of the n-th suggested time zone (IANA names have slashes)."""
    return f"z{index}"


def check_selection(
    ui: UiTexts, step: MultiChoiceStep, selection: list[str], lang: Lang
) -> list[str] | Rejected:
    """Accept the ticked options if their count is within the step's bounds."""
    if len(selection) < step.min_selected:
        return Rejected(fill(ui.in_(lang).too_few_selected, {"min": str(step.min_selected)}))
    if step.max_selected is not None and len(selection) > step.max_selected:
        return Rejected(fill(ui.in_(lang).too_many_selected, {"max": str(step.max_selected)}))
    order = [option.id for option in step.options]
    return sorted(set(selection), key=order.index)


def match_option(options: list[Option], text: str) -> Option | None:
    """The option meant by a number (1-based), an id or a label in either language."""
    wanted = normalise(text)
    if wanted.isdigit():
        index = int(wanted) if len(wanted) <= MAX_NUMBER_CHARACTERS else 0
        return options[index - 1] if 1 <= index <= len(options) else None
    for option in options:
        names = (option.id, option.label.fr, option.label.en)
        if any(normalise(name) == wanted for name in names):
            return option
    return None


def _parse_choice(ui: UiTexts, step: ChoiceStep, text: str, lang: Lang) -> str | Rejected:
    """An option by number (as the options are numbered on screen), id or label; else, at
    options that name ranges ("De 10 à 25 %"), the one whose range holds the number typed
    ("12", "douze", "12 %"); a bound two ranges share is asked back."""
    bare = _PERCENT.sub("", text).strip()
    percent = bare != text.strip() and normalise(bare).isdigit()  # "3 %" is a share, not option 3
    option = None if percent else match_option(step.options, text)
    if option is not None:
        return option.id
    ranged = _options_holding(step.options, bare, lang)
    if len(ranged) == 1:
        return ranged[0].id
    if ranged:
        labels = [candidate.label.get(lang) for candidate in ranged]
        values = {"text": text.strip(), "options": " / ".join(labels)}
        choices = tuple((candidate.id, candidate.label.get(lang)) for candidate in ranged)
        return Rejected(fill(ui.in_(lang).option_ambiguous, values), choices)
    return Rejected(fill(ui.in_(lang).invalid_choice, {"count": str(len(step.options))}))


def _options_holding(options: list[Option], text: str, lang: Lang) -> list[Option]:
    """The options whose label names a range holding the number in `text` ("12 %" too)."""
    ranges = [(option, label_range(option.label.get(lang))) for option in options]
    if not any(found is not None for _, found in ranges):
        return []
    number = read_number(text.strip().removesuffix("%").strip(), lang, whole=False)
    if not isinstance(number, float):
        return []
    return [option for option, found in ranges if found is not None and found.holds(number)]


def _parse_free_text(
    ui: UiTexts, step: TextStep, text: str, lang: Lang, now: datetime | None
) -> str | Rejected:
    cleaned = text.strip()
    length = grapheme_length(cleaned)
    if length < step.min_length:
        return Rejected(fill(ui.in_(lang).text_too_short, {"min": str(step.min_length)}))
    if length > step.max_length:
        values = {"max": str(step.max_length), "length": str(length)}
        return Rejected(fill(ui.in_(lang).text_too_long, values))
    if step.reads_date and now is not None:
        from .dates import EitherDate, format_answer_date, read_day  # dateparser is slow to import

        day = read_day(cleaned, lang, now)
        if isinstance(day, EitherDate):
            days = (day.first, day.second)
            shown = [format_answer_date(one.isoformat(), lang, now.year) for one in days]
            values = {"text": cleaned, "first": shown[0], "second": shown[1]}
            ids = [DATE_PICK + one.isoformat() for one in days]
            choices = tuple(zip(ids, shown, strict=True))
            return Rejected(fill(ui.in_(lang).date_ambiguous, values), choices)
        if day is not None:
            return day.isoformat()
    return cleaned


def _parse_past_date(
    ui: UiTexts, step: ChoiceStep, text: str, lang: Lang, now: datetime
) -> str | Rejected:
    from .dates import period_value, read_past_period  # dateparser: date questions only

    period = read_past_period(text, lang, now)
    if period is None:
        count = str(len(step.options))
        return Rejected(fill(ui.in_(lang).invalid_choice_or_past_date, {"count": count}))
    return period_value(period)


def _parse_zone(ui: UiTexts, text: str, lang: Lang) -> str | Rejected:
    found = resolve(text)
    if isinstance(found, Places):
        choices = tuple((ZONE_PICK + zone, place(zone, lang)) for zone in found.zones)
        return Rejected(fill(ui.in_(lang).timezone_ambiguous, {"text": text.strip()}), choices)
    return found or Rejected(ui.in_(lang).invalid_timezone)


def _parse_multi(
    ui: UiTexts, step: MultiChoiceStep, text: str, lang: Lang
) -> AnswerValue | Rejected:
    parts = [part for part in _LIST_SEPARATORS.split(text) if part.strip()]
    if len(parts) == 1 and match_option(step.options, parts[0]) is None:
        parts = parts[0].split()  # "1 3" as well as "1, 3"
    chosen: list[str] = []
    for part in parts:
        option = match_option(step.options, part)
        if option is None:
            count = str(len(step.options))
            return Rejected(fill(ui.in_(lang).invalid_multi_choice, {"count": count}))
        chosen.append(option.id)
    return check_selection(ui, step, chosen, lang)


def _parse_scale(ui: UiTexts, step: ScaleStep, text: str, lang: Lang) -> int | Rejected:
    out_of = _SCALE.match(text) if len(text) <= MAX_NUMBER_CHARACTERS else None
    number = float(out_of.group(1)) if out_of is not None else read_number(text, lang, whole=True)
    if not isinstance(number, float) or not number.is_integer():
        number = None
    if number is None or not step.min <= number <= step.max:
        return Rejected(
            fill(ui.in_(lang).invalid_scale, {"min": str(step.min), "max": str(step.max)})
        )
    return int(number)


def _parse_yes_no(ui: UiTexts, text: str, lang: Lang) -> bool | Rejected:
    said = normalise(text)
    if said in YES_NO_NUMBERS:  # the terminal numbers them: 1. Oui, 2. Non
        return YES_NO_NUMBERS[said]
    if said in YES_WORDS or said == normalise(ui.in_(lang).yes):
        return True
    if said in NO_WORDS or said == normalise(ui.in_(lang).no):
        return False
    return Rejected(ui.in_(lang).invalid_yes_no)


def _parse_number(ui: UiTexts, step: NumberStep, text: str, lang: Lang) -> AnswerValue | Rejected:
    number = read_number(_without_unit(text, step), lang, whole=step.integer)
    if isinstance(number, Ambiguous):
        first, second = (_plain(reading) for reading in number.readings)
        values = {"text": text.strip(), "first": first, "second": second}
        return Rejected(fill(ui.in_(lang).number_ambiguous, values))
    if number is None:
        return Rejected(ui.in_(lang).invalid_number)
    if step.integer and not number.is_integer():
        return Rejected(ui.in_(lang).number_not_whole)
    if not step.min <= number <= step.max:
        bounds = {"min": _plain(step.min), "max": _plain(step.max)}
        return Rejected(fill(ui.in_(lang).number_out_of_range, bounds))
    return int(number) if step.integer else number


_PERCENT = re.compile(r"\s*(?:%|percent|per\s+cent|pour\s*cent|pct)\.?\s*$", re.IGNORECASE)
"""A share's sign or word at the end: "12 %", "twelve percent", "douze pour cent"."""


def _without_unit(text: str, step: NumberStep) -> str:
    """The number without the question's unit after it, in either language, singular too:
    "8 years", "huit ans", "1 an" at a question counted in years (another unit stays, and the
    answer is asked again: "8 months" is no number of years)."""
    if step.unit is None:
        return text
    forms = {form for unit in (step.unit.fr, step.unit.en) for form in (unit, unit.rstrip("s"))}
    if "%" in forms:
        return _PERCENT.sub("", text)
    words = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True) if form)
    return re.sub(rf"\s+(?:{words})\.?\s*$", "", text.strip(), flags=re.IGNORECASE)


def _is_iso_day(text: str) -> bool:
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
