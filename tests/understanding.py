"""Running the input tables of tests/data/ (refs #9): shared by the tests and `bench/understanding.py`.

`python -m tests.understanding` prints the counts the issue asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.flows.answers import Rejected, parse_text
from bot.flows.loader import load_playbook
from bot.flows.model import (
    ChoiceStep,
    InputStep,
    Localized,
    NumberStep,
    Option,
    Playbook,
    ScaleStep,
    TextStep,
    TimeStep,
    TimezoneStep,
    YesNoStep,
)
from bot.flows.validate import REQUIRED_FLOWS

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
"""When the table's inputs are said: a Thursday."""

_PROMPT = Localized(fr="?", en="?")
STEPS: dict[str, InputStep] = {
    "whole": NumberStep(id="n", type="number", prompt=_PROMPT, max=10_000_000),
    "decimal": NumberStep(id="n", type="number", prompt=_PROMPT, max=10_000_000, integer=False),
    "years": NumberStep(
        id="n", type="number", prompt=_PROMPT, max=100, unit=Localized(fr="ans", en="years")
    ),
    "scale": ScaleStep(id="s", type="scale", prompt=_PROMPT),
    "time": TimeStep(id="t", type="time", prompt=_PROMPT),
    "zone": TimezoneStep(id="z", type="timezone", prompt=_PROMPT),
    "date": TextStep(id="d", type="text", prompt=_PROMPT, max_length=80, reads_date=True),
    "yes_no": YesNoStep(id="y", type="yes_no", prompt=_PROMPT),
    "range": ChoiceStep(
        id="r",
        type="choice",
        prompt=_PROMPT,
        options=[
            Option(id="r0_5", label=Localized(fr="0-5", en="0-5")),
            Option(id="r6_10", label=Localized(fr="6-10", en="6-10")),
            Option(id="r11_20", label=Localized(fr="11-20", en="11-20")),
            Option(id="r_more", label=Localized(fr="Plus de 20", en="More than 20")),
        ],
    ),
    "share": ChoiceStep(
        id="s",
        type="choice",
        prompt=_PROMPT,
        options=[
            Option(id="under_10", label=Localized(fr="Moins de 10 %", en="Under 10%")),
            Option(id="10_25", label=Localized(fr="De 10 à 25 %", en="10 to 25%")),
            Option(id="25_50", label=Localized(fr="De 25 à 50 %", en="25 to 50%")),
            Option(id="over_50", label=Localized(fr="Plus de 50 %", en="Over 50%")),
            Option(id="unknown", label=Localized(fr="Je ne sais pas", en="I don't know")),
        ],
    ),
}


def real_playbook() -> Playbook:
    """content/playbook.yaml, checked."""
    return load_playbook(ROOT / "content" / "playbook.yaml", REQUIRED_FLOWS)


def safety_table() -> dict[str, dict[str, list[str]]]:
    """{lang: {distress: [...], business: [...]}}."""
    return yaml.safe_load((DATA / "safety.yaml").read_text(encoding="utf-8"))


def input_table() -> list[dict[str, object]]:
    """Rows {kind, lang, text, expect}."""
    return yaml.safe_load((DATA / "inputs.yaml").read_text(encoding="utf-8"))


def read(playbook: Playbook, row: dict[str, object]) -> object:
    """What Rebond makes of one row's text: the value, or a Rejected."""
    step = STEPS[str(row["kind"])]
    lang = "en" if row["lang"] == "en" else "fr"
    said = row.get("said")  # the day it is said, when not the table's Thursday
    now = NOW if said is None else datetime.combine(said, NOW.timetz())  # type: ignore[arg-type]
    return parse_text(playbook.ui, step, str(row["text"]), lang, now)


def outcome(row: dict[str, object], value: object) -> str:
    """understood, asked (refused with a question back, as expected), refused (a value was
    expected) or misread (a value other than the expected one)."""
    expected = row["expect"]
    if isinstance(value, Rejected):
        return "asked" if expected == "ask" else "refused"
    return "understood" if expected != "ask" and value == expected else "misread"


@dataclass
class Counts:
    """The figures the issue asks for."""

    phrases: int = 0
    caught: int = 0
    distress: int = 0
    wrongly_caught: int = 0
    inputs: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    misread: list[str] = field(default_factory=list)


def count(playbook: Playbook) -> Counts:
    """Run both tables against `playbook`."""
    counts = Counts()
    for table in safety_table().values():
        for phrase in table["distress"]:
            counts.phrases += 1
            counts.distress += 1
            counts.caught += playbook.safety.matcher.matches(phrase)
        for phrase in table["business"]:
            counts.phrases += 1
            counts.wrongly_caught += playbook.safety.matcher.matches(phrase)
    for row in input_table():
        counts.inputs += 1
        result = outcome(row, read(playbook, row))
        counts.by_outcome[result] = counts.by_outcome.get(result, 0) + 1
        if result in ("misread", "refused"):
            counts.misread.append(f"{row['kind']} {row['text']!r} -> {read(playbook, row)!r}")
    return counts


def main() -> None:
    """Print the counts."""
    counts = count(real_playbook())
    print(
        f"safety: {counts.phrases} phrases tried, {counts.caught} of {counts.distress} distress "
        f"phrases caught, {counts.wrongly_caught} business sentences wrongly caught"
    )
    outcomes = counts.by_outcome
    print(
        f"inputs: {counts.inputs} tried, {outcomes.get('understood', 0)} understood, "
        f"{outcomes.get('asked', 0)} refused with a question back, "
        f"{outcomes.get('refused', 0)} refused though understandable, "
        f"{outcomes.get('misread', 0)} misread"
    )
    for line in counts.misread:
        print("  " + line)


if __name__ == "__main__":
    main()
