"""The journey's messages nobody asked for, queued by the scheduler's tick (refs #11): reminders
of an unfinished reflection, a commitment's question on its due day (check-ins off), and the
coach thread's messages that never reached their reader.

Each goes to the outbox in one transaction with what records it; an outbox row's subject
(`nudge:S.N`, `commitment:ID`, `thread:ID`) tells storage what its delivery means: a reminder or
a commitment's question counts as sent once delivered, and one that could not be delivered
before the manager's quiet hours (its deadline) is due again after them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..bootstrap import Services
from ..delivery.outbox import Storage
from ..handlers.callbacks import ButtonData, ButtonKind
from ..handlers.chat import ChatView
from ..handlers.render import Span
from ..handlers.thread import queue_thread_message
from ..userkey import UserKey
from .commitments import CommitmentReminder
from .nudges import Nudge

log = logging.getLogger(__name__)
T = TypeVar("T")

LIFETIME = timedelta(hours=3)
"""A reminder not delivered within this (nor before quiet hours) is due again later."""
KIND = "checkin"
"""Their outbox kind: background messages, giving way to replies, like a check-in."""


class JourneySender:
    """Queues due reminders, commitment questions and undelivered thread messages."""

    def __init__(self, services: Services, storage: Storage, batch: int = 500) -> None:
        self.services = services
        self.storage = storage
        self.batch = batch
        self._running: asyncio.Task[int] | None = None

    async def tick(self) -> None:
        """Start queuing what is due, unless the previous round is still at it."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self.send_due())

    async def wait_idle(self) -> None:
        """Wait for the round in progress, if any (shutdown, tests)."""
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

    async def send_due(self) -> int:
        """Queue everything due now; returns how many messages were queued."""
        journey, thread = self.services.journey, self.services.thread
        queued = 0
        async with self.storage.lock:
            nudges = journey.nudges.due(self.batch)
        for nudge in nudges:
            queued += await self._one(self._nudge, nudge, nudge.user.id)
        async with self.storage.lock:
            reminders = journey.commitments.reminders_due(self.batch)
        for reminder in reminders:
            queued += await self._one(self._reminder, reminder, reminder.user.id)
        async with self.storage.lock:
            messages = thread.undelivered(self.batch)
        for delivery in messages:
            queued += await self._one(
                lambda d: queue_thread_message(self.storage, self.services.conversation, d),
                delivery,
                delivery.user.id,
            )
        return queued

    async def _one(self, queue: Callable[[T], bool], item: T, user_id: int) -> int:
        """Queue one item in its own transaction: one manager's problem stops nobody else's."""
        try:
            async with self.storage.transaction():
                return 1 if queue(item) else 0
        except Exception:
            log.exception("journey.queue_failed user=%s", user_id)
            return 0

    def _deadline(self, user_id: int) -> datetime:
        """Until when a message unasked is worth delivering: a few hours, never into the
        manager's quiet hours."""
        user = self.services.conversation.user_by_id(user_id)
        latest = self.services.journey.now() + LIFETIME
        quiet = self.services.journey.quiet_from(user)
        return latest if quiet is None else min(latest, quiet)

    def _view(self, user_id: int, chat_id: int) -> ChatView:
        user = self.services.conversation.user_by_id(user_id)
        return ChatView(
            self.storage,
            self.services.conversation,
            chat_id,
            user,
            kind=KIND,
            deadline=self._deadline(user_id),
        )

    def _nudge(self, nudge: Nudge) -> bool:
        """A reminder, with its "resume" and "stop" buttons, recorded in the same transaction."""
        chat_id = UserKey(nudge.user.key).telegram_id
        if chat_id is None or not self.services.journey.nudges.sent(nudge):
            return False
        buttons = [
            InlineKeyboardButton(
                label,
                callback_data=ButtonData(
                    ButtonKind.NUDGE, nudge.session_id, nudge.ordinal, action
                ).encode(),
            )
            for action, label in nudge.choices
        ]
        view = self._view(nudge.user.id, chat_id)
        subject = f"nudge:{nudge.session_id}.{nudge.ordinal}"
        view.say([Span(nudge.text)], InlineKeyboardMarkup([buttons]), subject=subject)
        return True

    def _reminder(self, reminder: CommitmentReminder) -> bool:
        """A commitment's question on its due day, shown as a check-in is."""
        chat_id = UserKey(reminder.user.key).telegram_id
        if chat_id is None:
            return False
        reply = self.services.journey.commitments.start_reminder(reminder)
        view = self._view(reminder.user.id, chat_id)
        view.subject = f"commitment:{reminder.commitment.id}"
        view.show(reply)
        return True
