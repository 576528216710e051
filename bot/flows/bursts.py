"""One intent, several messages: when messages that arrive together are one thing said.

Telegram's apps cut a paste longer than 4096 characters into several messages sent at once, and
send an album as one message per photo. The adapter describes each message as a `Piece`; the
rule here says whether it continues the one before, so the pair is refused together or taken
together, and gets one reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BURST_SECONDS = 1
"""Messages of one kind at most this far apart (Telegram dates them in whole seconds) are one."""
SPLIT_FLOOR = 3072
"""A text at least this long (Telegram's apps cut a paste into parts of up to 4096 characters,
at a line break or a space) may be a part: its tail continues it even if the bot's refusal of
it reached the chat before the tail did."""


class PieceKind(StrEnum):
    """What a message is, as far as intents go."""

    TEXT = "text"
    COMMAND = "command"
    MEDIA = "media"
    SERVICE = "service"


@dataclass(frozen=True)
class Piece:
    """A message as the burst rule sees it: its number in the chat (Telegram numbers a private
    chat's messages, the bot's and the person's, one after the other), when it was sent (Unix
    seconds), its kind, and its album (Telegram's media_group_id) if any."""

    number: int
    sent_at: int
    kind: PieceKind
    album: str | None = None
    length: int = 0
    """A text's length in characters (0 for anything else)."""


def same_intent(previous: Piece | None, current: Piece) -> bool:
    """Whether `current` continues `previous` (the person's message just before it): the same
    album; or text after text, media after media, sent within BURST_SECONDS with no message of
    the bot's in between (a reply seen, such as the next question, makes the next message a new
    intent) unless the text before is long enough to be a part of a split paste. A command
    always stands alone; so does anything after a button or an edit."""
    if previous is None:
        return False
    if current.album is not None and current.album == previous.album:
        return True
    if current.kind != previous.kind or current.kind not in (PieceKind.TEXT, PieceKind.MEDIA):
        return False
    adjacent = current.number == previous.number + 1
    a_part = previous.kind is PieceKind.TEXT and previous.length >= SPLIT_FLOOR
    return (adjacent or a_part) and 0 <= current.sent_at - previous.sent_at <= BURST_SECONDS
