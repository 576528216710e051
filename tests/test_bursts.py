"""The burst rule: which messages that arrive together are one intent (refs #9)."""

from __future__ import annotations

import pytest

from bot.flows.bursts import Piece, PieceKind, same_intent

TEXT, COMMAND, MEDIA, SERVICE = (
    PieceKind.TEXT,
    PieceKind.COMMAND,
    PieceKind.MEDIA,
    PieceKind.SERVICE,
)


@pytest.mark.parametrize(
    ("previous", "current", "one"),
    [
        (Piece(7, 100, TEXT), Piece(8, 100, TEXT), True),  # a paste split in two
        (Piece(7, 100, TEXT), Piece(8, 101, TEXT), True),  # across a second's edge
        (Piece(7, 100, TEXT), Piece(8, 102, TEXT), False),  # typed later
        (Piece(7, 100, TEXT), Piece(9, 100, TEXT), False),  # the bot said something between
        (Piece(7, 100, TEXT, length=4090), Piece(9, 100, TEXT), True),  # its refusal of a part
        (Piece(7, 100, TEXT, length=4090), Piece(9, 102, TEXT), False),
        (Piece(7, 100, MEDIA), Piece(8, 100, MEDIA), True),  # three stickers at once
        (Piece(7, 100, MEDIA, "a1"), Piece(12, 104, MEDIA, "a1"), True),  # one album
        (Piece(7, 100, MEDIA, "a1"), Piece(8, 100, MEDIA, "a2"), True),  # two albums at once
        (Piece(7, 100, MEDIA), Piece(8, 100, TEXT), False),  # a photo, then its answer
        (Piece(7, 100, TEXT), Piece(8, 100, COMMAND), False),  # a command stands alone
        (Piece(7, 100, COMMAND), Piece(8, 100, TEXT), False),
        (Piece(7, 100, SERVICE), Piece(8, 100, SERVICE), False),  # never replied to anyway
        (None, Piece(8, 100, TEXT), False),
        (Piece(7, 105, TEXT), Piece(8, 100, TEXT), False),  # dates going back: not a burst
    ],
)
def test_same_intent(previous: Piece | None, current: Piece, one: bool):
    assert same_intent(previous, current) is one
