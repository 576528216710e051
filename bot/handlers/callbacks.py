"""Callback data of inline buttons: short, and never trusted (checked against the session)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Kinds: q answers an option; t ticks a multi-choice option; s confirms the ticks; c is a control
# (resume or restart a session); l chooses a language; k snoozes a check-in; p keeps a reflection
# private or shares it; h answers a coach's invite; o chooses among past reflections at consent;
# f confirms /forget.
_PATTERN = re.compile(r"^([qtsclkphof]):(\d{0,12}):(\d{0,12}):([A-Za-z0-9_-]{0,40})$")


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
