"""Texts shown to the manager: placeholders filled from answers, answers shown as words."""

from __future__ import annotations

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
    TimezoneStep,
    YesNoStep,
)
from .normal import normalise
from .timezones import city

__all__ = ["display_value", "fill", "normalise", "placeholders"]


def placeholders(template: str) -> list[str]:
    """Names quoted in a text as `{name}`, in order."""
    return PLACEHOLDER.findall(template)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each `{name}` by its value; names without a value are left as written."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def display_value(playbook: Playbook, step: Step, value: AnswerValue, lang: Lang) -> str:
    """An answer as the manager would say it: option labels, yes/no, numbers in their language
    ("3,5" in French, never "3.0")."""
    if value is None:
        return playbook.ui.in_(lang).skipped
    if isinstance(step, ChoiceStep | MultiChoiceStep):
        labels = {option.id: option.label.get(lang) for option in step.options}
        if isinstance(value, list):
            return ", ".join(labels.get(item, item) for item in value)
        return labels.get(str(value), str(value))
    if isinstance(step, YesNoStep):
        return playbook.ui.in_(lang).yes if value else playbook.ui.in_(lang).no
    if isinstance(step, TimezoneStep):
        return city(str(value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    shown = number(value, lang) if numeric else str(value)
    if isinstance(step, NumberStep) and step.unit is not None:
        return f"{shown} {step.unit.get(lang)}"
    return shown
