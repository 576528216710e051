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


def reflect(services, user, client: str = "Acme", text: str | None = None) -> int:
    """A whole reflection through the conversation service, first options, guilt 8 -> 3 and
    worry 6 -> 4, no check-ins; every free text is `text` (or names its question). Its id."""
    from bot.flows.state import Answer, Pick

    conversation = services.conversation
    reply = conversation.start(user, "lost_client")
    session_id = reply.session_id
    scores = {"guilt_before": "8", "guilt_after": "3", "worry_before": "6", "worry_after": "4"}
    for _ in range(200):
        question = reply.question
        if question is None or reply.session_id != session_id:
            return session_id
        if question.step == "client":
            reply = conversation.handle(user, Answer(text or client))
        elif question.step in scores:
            reply = conversation.handle(user, Answer(scores[question.step]))
        elif question.step == "checkin_offer":
            reply = conversation.handle(user, Pick("no"))
        elif question.kind == "multi_choice":
            reply = conversation.handle(user, Answer("1"))
        elif question.options:
            reply = conversation.handle(user, Pick(question.options[0].id))
        elif question.kind == "number":
            reply = conversation.handle(user, Answer("3"))
        else:
            reply = conversation.handle(user, Answer(text or f"Réponse à {question.step}"))
    raise AssertionError("the reflection did not end")
