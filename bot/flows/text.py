"""Texts shown to the manager: placeholders filled from answers, answers shown as words."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..formatting import number
from .model import (
    PLACEHOLDER,
    AnswerValue,
    ChoiceStep,
    Lang,
    MultiChoiceStep,
    NumberStep,
    Playbook,
    Step,
    TextStep,
    TimezoneStep,
    YesNoStep,
)
from .normal import normalise
from .timezones import place

__all__ = ["display_value", "fill", "normalise", "placeholders"]

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def placeholders(template: str) -> list[str]:
    """Names quoted in a text as `{name}`, in order."""
    return PLACEHOLDER.findall(template)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each `{name}` by its value; names without a value are left as written.

    French elision follows the value: "que {client}" with "Acme" gives "qu'Acme".
    """
    if "{" not in template:
        return template
    if _ELIDABLE.search(template):
        template = _ELIDABLE.sub(lambda match: _elide(match, values), template)
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


# Words French writes with an apostrophe before a vowel ("qu'Acme", "d'Orange"). "le"/"la" are
# left out: before a client's name they would guess its gender.
_ELIDABLE = re.compile(
    r"\b(que|Que|lorsque|Lorsque|puisque|Puisque|jusque|Jusque|de|De|ne|je|Je|me|te|se)"
    r" \{([a-z][a-z0-9_]*)\}"
)
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÆŒ")


def _elide(match: re.Match[str], values: Mapping[str, str]) -> str:
    value = values.get(match.group(2))
    if not value or value[0] not in _VOWELS:
        return match.group(0)
    return f"{match.group(1)[:-1]}'{{{match.group(2)}}}"


def display_value(playbook: Playbook, step: Step, value: AnswerValue, lang: Lang) -> str:
    """An answer as the manager would say it: option labels, yes/no, numbers in their language
    ("3,5" in French, never "3.0")."""
    if value is None:
        return playbook.ui.in_(lang).skipped
    if isinstance(step, ChoiceStep) and step.or_past_date and isinstance(value, str):
        from .dates import ISO_PERIOD, format_period

        if ISO_PERIOD.match(value):
            return format_period(value, lang)
    if isinstance(step, ChoiceStep | MultiChoiceStep):
        labels = {option.id: option.label.get(lang) for option in step.options}
        if isinstance(value, list):
            return ", ".join(labels.get(item, item) for item in value)
        return labels.get(str(value), str(value))
    if isinstance(step, YesNoStep):
        return playbook.ui.in_(lang).yes if value else playbook.ui.in_(lang).no
    if isinstance(step, TimezoneStep):
        return place(str(value), lang)
    reads_date = isinstance(step, TextStep) and step.reads_date
    if reads_date and isinstance(value, str) and ISO_DATE.match(value):
        from .dates import format_answer_date

        return format_answer_date(value, lang)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    shown = number(value, lang) if numeric and isinstance(value, int | float) else str(value)
    if isinstance(step, NumberStep) and step.unit is not None:
        return f"{shown} {step.unit.get(lang)}"
    return shown
