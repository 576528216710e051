"""What came just before in a Telegram chat: the previous update, a group already left."""

from __future__ import annotations

from sqlite_utils import Database

from .db import select


def previous_update(db: Database, chat_id: int, update_id: int) -> str | None:
    """The JSON of the chat's update received just before `update_id` (None if none is kept:
    the inbox keeps processed updates `REBOND_DELIVERY_KEEP_DAYS`)."""
    rows = select(
        db,
        "SELECT payload FROM inbox WHERE chat_id = ? AND update_id < ? "
        "ORDER BY update_id DESC LIMIT 1",
        [chat_id, update_id],
    )
    row = next(iter(rows), None)
    if row is None or row["payload"] in ("", "{}"):  # emptied: see `delivery`
        return None
    return str(row["payload"])


def leaving(db: Database, chat_id: int) -> bool:
    """Whether the bot already means to leave (or left) that group: it says why only once."""
    rows = select(
        db, "SELECT 1 FROM outbox WHERE chat_id = ? AND method = 'leaveChat' LIMIT 1", [chat_id]
    )
    return any(True for _ in rows)


def first_command(db: Database, chat_id: int, message_id: int) -> tuple[bool, str | None]:
    """Whether the inbox still holds the update that brought message `message_id` of the
    chat first (before any edit), and the command it began with, if any ("feedback")."""
    rows = select(
        db,
        "SELECT command FROM inbox WHERE chat_id = ? AND message_id = ? ORDER BY update_id LIMIT 1",
        [chat_id, message_id],
    )
    row = next(iter(rows), None)
    return (row is not None, row["command"] if row is not None else None)
