"""Callback data of inline buttons: short, and never trusted (checked against the session)."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = frozenset({"q", "t", "s", "c", "l", "k", "p", "h", "f"})
"""q: answer an option; t: tick a multi-choice option; s: confirm the ticks;
c: a control (resume or restart a session); l: choose a language; k: snooze a check-in;
p: keep a reflection private or share it; h: answer a coach's invite; f: confirm /forget."""
_PATTERN = re.compile(r"^([qtsclkphf]):(\d{0,12}):(\d{0,12}):([A-Za-z0-9_-]{0,40})$")


@dataclass(frozen=True)
class ButtonData:
    """What a button says it is about: its kind, session, turn and option."""

    kind: str
    session: int | None
    turn: int | None
    value: str

    def encode(self) -> str:
        """The callback data string (at most 64 bytes with valid playbook option ids)."""
        session = "" if self.session is None else str(self.session)
        turn = "" if self.turn is None else str(self.turn)
        return f"{self.kind}:{session}:{turn}:{self.value}"

    @classmethod
    def decode(cls, data: str | None) -> ButtonData | None:
        """Read callback data; None for anything malformed (forged, truncated, foreign)."""
        match = _PATTERN.match(data or "")
        if match is None:
            return None
        kind, session, turn, value = match.groups()
        return cls(kind, int(session) if session else None, int(turn) if turn else None, value)
