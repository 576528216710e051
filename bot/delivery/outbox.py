"""The outbox, as the Telegram adapter writes it: what each kind of message means for delivery.

Handlers never call Telegram: they add rows here, in the transaction of the update that needs
them, and the sender (`delivery.sender`) delivers them. Kinds decide a row's priority, how long
it is worth trying, and whether a refusal from Telegram matters (`COSMETIC` kinds end quietly).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from storage import delivery as store
from storage.db import to_stored
from storage.delivery import Outgoing


@dataclass(frozen=True)
class Kind:
    """How a kind of row is delivered: priority (lower first), lifetime, whether it is
    cosmetic (Telegram refusing it as moot ends it as done, and it never fails anything), and
    whether its lifetime counts from the update's arrival rather than from the row's writing,
    whether it is unprompted."""

    priority: int
    lifetime: timedelta
    cosmetic: bool = False
    from_arrival: bool = False
    unprompted: bool = False
    """Sent without the person asking (a check-in, a coach's notification): it keeps Telegram's
    limit for messages to many users (`ratelimit`), unless its chat has a reply waiting."""


update_arrival: ContextVar[datetime | None] = ContextVar("update_arrival", default=None)
"""When the update being processed reached the inbox (set by the inbox around its handlers)."""

NORMAL_SYNC = 1
"""SQLite's synchronous=NORMAL (FULL is 2)."""

CALLBACK_ANSWER = "callback_answer"
KINDS: dict[str, Kind] = {
    # A callback query must be answered within about 15 s of the press, else Telegram refuses:
    # counted from the update's arrival in the inbox (the closest to the press we know), so a
    # row written late (a restart, a busy chat) is not tried once Telegram would refuse it.
    CALLBACK_ANSWER: Kind(0, timedelta(seconds=15), cosmetic=True, from_arrival=True),
    "reply": Kind(1, timedelta(days=1)),
    "question": Kind(1, timedelta(days=1)),
    "answered_edit": Kind(1, timedelta(days=1), cosmetic=True),
    "apology": Kind(1, timedelta(hours=1)),
    "commands": Kind(2, timedelta(days=1), cosmetic=True),
    "feedback": Kind(2, timedelta(days=7), unprompted=True),
    "coach_notification": Kind(2, timedelta(days=7), unprompted=True),
    "notice": Kind(2, timedelta(days=1), unprompted=True),  # a team summary, /forget completed
    "checkin": Kind(3, timedelta(hours=3), unprompted=True),
    "followup": Kind(3, timedelta(hours=3), unprompted=True),
}
REPLY_PRIORITY = 1
"""A chat with a row this urgent pending has someone waiting on the bot's answer."""


class Storage:
    """The bot's one database connection, shared by tasks: one transaction at a time.

    Every writer of the Telegram adapter (inbox, workers, sender, scheduled jobs) goes through
    `transaction()`, so no task's statements ever land in another task's open transaction.
    """

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self.lock = asyncio.Lock()
        self.urgent_chats: set[int] = set()
        """Chats with a reply pending (or hurried): their unprompted rows stop waiting for the
        broadcast budget, even mid-wait. The sender forgets a chat once its rows are out."""
        self.outbox_changed = asyncio.Event()
        """Set when a row is added: the sender looks for due rows again (a write that only
        records a delivery does not wake it; the sender notices its own sends ending)."""
        self._synchronous = store.synchronous(db)

    def now(self) -> str:
        """The clock's now, as stored."""
        return to_stored(self.clock())

    @contextlib.asynccontextmanager
    async def transaction(self, *, synced: bool = True) -> AsyncIterator[Database]:
        """Hold the connection and run the block in one transaction (committed at its end).

        `synced=False` commits without waiting for the disk (synchronous=NORMAL, about 0.1 ms
        instead of an fsync's 5 ms or more, during which the event loop stands still): the
        commit survives a crash of the process, not a power cut. For the sender's records
        only: a record lost that way means a message sent again, a limit the README states.
        """
        async with self.lock:
            relaxed = not synced and self._synchronous > NORMAL_SYNC
            if relaxed:
                store.set_synchronous(self.db, NORMAL_SYNC)
            try:
                with self.db.atomic():
                    yield self.db
            finally:
                if relaxed:
                    store.set_synchronous(self.db, self._synchronous)

    def add(
        self,
        kind: str,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        *,
        ref_outbox_id: int | None = None,
        subject: str | None = None,
        deadline: datetime | None = None,
    ) -> int:
        """Add a Bot API call to the outbox (inside the caller's transaction); returns its id."""
        rule = KINDS[kind]
        now = self.clock()
        arrival = update_arrival.get() if rule.from_arrival else None
        start = min(now, arrival) if arrival is not None else now
        outgoing = Outgoing(
            kind=kind,
            chat_id=chat_id,
            method=method,
            payload=payload,
            priority=rule.priority,
            deadline=to_stored(deadline or start + rule.lifetime),
            ref_outbox_id=ref_outbox_id,
            subject=subject,
        )
        row_id = store.enqueue(self.db, outgoing, to_stored(now))
        if rule.priority <= REPLY_PRIORITY:
            self.urgent_chats.add(chat_id)
        # The sender wakes now but reads the outbox only once it holds the connection, that
        # is after the caller's transaction committed (or rolled back: it then finds nothing).
        self.outbox_changed.set()
        return row_id

    def hurry(self, chat_id: int) -> None:
        """Someone waits in that chat (they asked to see their question again): its pending
        rows go as urgently as a reply, even one already waiting for the budget."""
        store.hurry_chat(self.db, chat_id, REPLY_PRIORITY)
        self.urgent_chats.add(chat_id)
        self.outbox_changed.set()


def file_field(data: bytes, filename: str) -> dict[str, str]:
    """A file to upload, as an outbox payload value (base64, decoded by the sender)."""
    return {"filename": filename, "base64": base64.b64encode(data).decode("ascii")}


def drawn_field(renderer: str, data: dict[str, Any], filename: str) -> dict[str, Any]:
    """A file the sender draws just before sending it (a chart), as an outbox payload value:
    `renderer` names one of the sender's renderers, `data` (JSON) is what it draws."""
    return {"render": renderer, "data": data, "filename": filename}


def bot_commands(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """setMyCommands' `commands` parameter from (command, description) pairs: the Bot API's
    BotCommand objects (the sender passes parameters as they are, with no PTB conversion)."""
    return [{"command": command, "description": description} for command, description in pairs]
