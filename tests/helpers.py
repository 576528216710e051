"""Helpers shared by the tests: paths, and playbook texts built around test flows."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
REAL_PLAYBOOK = ROOT / "content" / "playbook.yaml"


def common_sections() -> str:
    """The `ui` and `safety` sections of the minimal playbook, to wrap around test flows."""
    text = (FIXTURES / "minimal_playbook.yaml").read_text(encoding="utf-8")
    return text[: text.index("flows:")]


def playbook_yaml(flows: str) -> str:
    """A whole playbook text: the common sections, then `flows:` as given (indented YAML)."""
    return common_sections() + "flows:\n" + textwrap.indent(textwrap.dedent(flows).strip(), "  ")


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 6, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
