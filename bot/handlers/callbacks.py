"""Callback data of inline buttons: short, and never trusted (checked against the session).

Telegram caps callback_data at 64 bytes (Bot API, InlineKeyboardButton), so each kind is encoded
as one letter; the code only ever names it through `ButtonKind`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum, unique

MAX_CALLBACK_BYTES = 64
"""Bot API limit on InlineKeyboardButton.callback_data, in bytes."""


@unique  # two kinds sharing a letter would be one kind: a merge once did that
class ButtonKind(StrEnum):
    """What a pressed button is about; the value is the one-letter code sent to Telegram."""

    ANSWER = "q"  # picks one option of the current question
    TICK = "t"  # ticks or unticks a multi-choice option
    SUBMIT_TICKS = "s"  # confirms the ticked options
    SESSION_CONTROL = "c"  # resumes or restarts a session
    LANGUAGE = "l"  # chooses the chat's language
    SNOOZE_CHECKIN = "k"  # asks a check-in again later
    REFLECTION_PRIVACY = "p"  # keeps a reflection private or shares it
    INVITE = "h"  # answers a coach's invite (see `InviteButton`)
    FORGET = "f"  # confirms or cancels /forget
    PAST_REFLECTION = "o"  # chooses among past reflections at consent
    SAFETY_CHOICE = "g"  # pauses or goes on after the safety note
    TEAM_ROUND = "a"  # a manager opens, closes or extends a team round (refs #13)
    SKIP_QUESTION = "y"  # skips an optional question (refs #11)
    HOME = "m"  # an item of the home: resume, new, check-in, history... (refs #11)
    NUDGE = "n"  # resumes the reflection a reminder is about, or stops reminders (refs #11)
    CANCEL_FLOW = "d"  # confirms /cancel, or keeps the flow (refs #11)
    REPLY_TO_COACH = "r"  # the manager replies to a coach's message (refs #11)
    SETTING = "e"  # a choice of the settings: reminders on or off (refs #11)


class InviteAction(StrEnum):
    """The three buttons of an invite preview."""

    TOGGLE_CHECKINS = "t"
    CONFIRM = "c"
    CANCEL = "x"


def routing_pattern(*kinds: ButtonKind) -> str:
    """A CallbackQueryHandler pattern that matches the callback data of these kinds only."""
    return "^(?:" + "|".join(re.escape(kind.value) for kind in kinds) + "):"


_KINDS = "".join(kind.value for kind in ButtonKind if kind is not ButtonKind.INVITE)
_PATTERN = re.compile(rf"^([{_KINDS}]):(\d{{0,12}}):(\d{{0,12}}):([A-Za-z0-9_-]{{0,40}})$")
_INVITE_ACTIONS = "".join(action.value for action in InviteAction)
_INVITE_PATTERN = re.compile(
    rf"^{ButtonKind.INVITE.value}:([{_INVITE_ACTIONS}]):([01]):([A-Za-z0-9_-]{{1,40}})$"
)


@dataclass(frozen=True)
class ButtonData:
    """What a button says it is about: its kind, session, turn and option (never an invite)."""

    kind: ButtonKind
    session: int | None
    turn: int | None
    value: str

    def encode(self) -> str:
        """The callback data string; ValueError past Telegram's 64 bytes (a too long option id)."""
        session = "" if self.session is None else str(self.session)
        turn = "" if self.turn is None else str(self.turn)
        return _within_limit(f"{self.kind.value}:{session}:{turn}:{self.value}")

    @classmethod
    def decode(cls, data: str | None) -> ButtonData | None:
        """Read callback data; None for anything malformed (forged, truncated, foreign)."""
        match = _PATTERN.match(data or "")
        if match is None:
            return None
        kind, session, turn, value = match.groups()
        return cls(
            ButtonKind(kind), int(session) if session else None, int(turn) if turn else None, value
        )


@dataclass(frozen=True)
class InviteButton:
    """A button of an invite preview: the action, the manager's check-in tick, the invite code."""

    action: InviteAction
    include_checkins: bool
    code: str

    def encode(self) -> str:
        """The callback data string: `h:<action>:<0|1>:<code>`."""
        tick = int(self.include_checkins)
        return _within_limit(f"{ButtonKind.INVITE.value}:{self.action.value}:{tick}:{self.code}")

    @classmethod
    def decode(cls, data: str | None) -> InviteButton | None:
        """Read an invite button's data; None for anything malformed."""
        match = _INVITE_PATTERN.match(data or "")
        if match is None:
            return None
        action, tick, code = match.groups()
        return cls(InviteAction(action), tick == "1", code)


def _within_limit(data: str) -> str:
    """The data unchanged, or ValueError: Telegram would refuse the whole message (400)."""
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data
