"""Turning what the manager typed or pressed into a normalised answer, or a reason to ask again."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
from .text import fill, normalise
from .timezones import resolve

YES_WORDS = frozenset({"oui", "o", "yes", "y", "ouais", "yep", "ok", "d accord", "sure"})
NO_WORDS = frozenset({"non", "n", "no", "nope", "pas vraiment"})
_SCALE = re.compile(r"^\s*(-?\d+)\s*(?:/\s*\d+)?\s*$")
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
_LIST_SEPARATORS = re.compile(r"[,;/]+|\s+(?:et|and)\s+")
_TIME = re.compile(r"^\s*(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?\s*$")


@dataclass(frozen=True, slots=True)
class Rejected:
    """The input does not answer the question; `reason` says how to answer."""

    reason: str


def parse_text(ui: UiTexts, step: InputStep, text: str, lang: Lang) -> AnswerValue | Rejected:
    """Read a typed answer for `step`."""
    if isinstance(step, TextStep):
        return _parse_free_text(ui, step, text, lang)
    if isinstance(step, ChoiceStep):
        option = match_option(step.options, text)
        if option is None:
            return Rejected(fill(ui.invalid_choice.get(lang), {"count": str(len(step.options))}))
        return option.id
    if isinstance(step, MultiChoiceStep):
        return _parse_multi(ui, step, text, lang)
    if isinstance(step, ScaleStep):
        return _parse_scale(ui, step, text, lang)
    if isinstance(step, YesNoStep):
        return _parse_yes_no(ui, text, lang)
    if isinstance(step, TimeStep):
        return parse_time(text) or Rejected(ui.invalid_time.get(lang))
    if isinstance(step, TimezoneStep):
        return resolve(text) or Rejected(ui.invalid_timezone.get(lang))
    return _parse_number(ui, step, text, lang)


def parse_pick(ui: UiTexts, step: InputStep, option: str, lang: Lang) -> AnswerValue | Rejected:
    """Read a button press (an option id, `yes`/`no`, or a scale point)."""
    if isinstance(step, ChoiceStep):
        if any(candidate.id == option for candidate in step.options):
            return option
        return Rejected(fill(ui.invalid_choice.get(lang), {"count": str(len(step.options))}))
    if isinstance(step, YesNoStep) and option in ("yes", "no"):
        return option == "yes"
    if isinstance(step, ScaleStep):
        return _parse_scale(ui, step, option, lang)
    if isinstance(step, TimeStep):
        times = {time_option_id(t): t for t in step.suggestions}
        return times.get(option) or Rejected(ui.invalid_time.get(lang))
    if isinstance(step, TimezoneStep):
        zones = {zone_option_id(i): z for i, z in enumerate(step.suggestions.get(lang, []))}
        return zones.get(option) or Rejected(ui.invalid_timezone.get(lang))
    return parse_text(ui, step, option, lang)


def parse_time(text: str) -> str | None:
    """ "9h", "9:30", "09.30", "18" as "HH:MM"; None if it is not a time of day."""
    match = _TIME.match(text) if len(text) <= MAX_NUMBER_CHARACTERS else None
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


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
        return Rejected(fill(ui.too_few_selected.get(lang), {"min": str(step.min_selected)}))
    if step.max_selected is not None and len(selection) > step.max_selected:
        return Rejected(fill(ui.too_many_selected.get(lang), {"max": str(step.max_selected)}))
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


def _parse_free_text(ui: UiTexts, step: TextStep, text: str, lang: Lang) -> str | Rejected:
    cleaned = text.strip()
    if len(cleaned) < step.min_length:
        return Rejected(fill(ui.text_too_short.get(lang), {"min": str(step.min_length)}))
    if len(cleaned) > step.max_length:
        values = {"max": str(step.max_length), "length": str(len(cleaned))}
        return Rejected(fill(ui.text_too_long.get(lang), values))
    return cleaned


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
            return Rejected(fill(ui.invalid_multi_choice.get(lang), {"count": count}))
        chosen.append(option.id)
    return check_selection(ui, step, chosen, lang)


MAX_NUMBER_CHARACTERS = 30
"""Longer input is no number anyone means (and Python refuses int() of 4,300+ digits)."""


def _parse_scale(ui: UiTexts, step: ScaleStep, text: str, lang: Lang) -> int | Rejected:
    match = _SCALE.match(text) if len(text) <= MAX_NUMBER_CHARACTERS else None
    if match is None or not step.min <= int(match.group(1)) <= step.max:
        return Rejected(
            fill(ui.invalid_scale.get(lang), {"min": str(step.min), "max": str(step.max)})
        )
    return int(match.group(1))


def _parse_yes_no(ui: UiTexts, text: str, lang: Lang) -> bool | Rejected:
    said = normalise(text)
    if said in YES_WORDS or said == normalise(ui.yes.get(lang)):
        return True
    if said in NO_WORDS or said == normalise(ui.no.get(lang)):
        return False
    return Rejected(ui.invalid_yes_no.get(lang))


def _parse_number(ui: UiTexts, step: NumberStep, text: str, lang: Lang) -> AnswerValue | Rejected:
    compact = text.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if len(compact) > MAX_NUMBER_CHARACTERS or not _NUMBER.match(compact):
        return Rejected(ui.invalid_number.get(lang))
    number = float(compact.replace(",", "."))
    if step.integer and not number.is_integer():
        return Rejected(ui.number_not_whole.get(lang))
    if not step.min <= number <= step.max:
        bounds = {"min": _plain(step.min), "max": _plain(step.max)}
        return Rejected(fill(ui.number_out_of_range.get(lang), bounds))
    return int(number) if step.integer else number


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
