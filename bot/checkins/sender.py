"""Starting due check-ins on Telegram: a repeating job claims due users, in batches.

One repeating job, not one job per user: each user's next due time is a column, so 100,000
scheduled users cost an indexed query per tick and nothing to rebuild at start-up. Each
check-in's session and its first question (an outbox row of kind `checkin` or `followup`, which
gives way to replies) commit together; the check-in counts as sent once the sender delivered
it, and as `undelivered` if that could not happen before its grace ended.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton

from ..conversation import Conversation
from ..delivery.outbox import Storage
from ..handlers.callbacks import ButtonData, ButtonKind
from ..handlers.chat import ChatView
from ..userkey import UserKey
from .service import CheckinService, DueCheckin

log = logging.getLogger(__name__)


class CheckinSender:
    """Claims due check-ins and queues their first question."""

    def __init__(
        self,
        conversation: Conversation,
        service: CheckinService,
        storage: Storage,
        batch: int = 500,
    ) -> None:
        self.conversation = conversation
        self.service = service
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
        """Queue every check-in due now, batch after batch; returns how many were queued."""
        queued = 0
        while True:
            async with self.storage.lock:
                claimed = self.service.claim_due(self.batch)
            if not claimed:
                return queued
            for due in claimed:
                try:
                    async with self.storage.transaction():
                        queued += self._queue(due)
                except Exception:  # one manager's problem must not stop the others' check-ins
                    log.exception("checkin.queue_failed user=%s", due.user.id)

    def _queue(self, due: DueCheckin) -> bool:
        user = due.user
        chat_id = UserKey(user.key).telegram_id
        if chat_id is None:
            self.service.skip(due)
            return False
        if user.blocked_at is not None:  # Telegram told us they blocked the bot
            self.service.skip(due)
            self.service.user_blocked(user)
            return False
        reply = self.service.start(due, delivered=False)
        later = None
        if due.snoozable:
            label = self.conversation.playbook.ui.in_(self.conversation.language(user)).later_button
            data = ButtonData(ButtonKind.SNOOZE_CHECKIN, due.checkin_id, None, "later").encode()
            later = [InlineKeyboardButton(label, callback_data=data)]
        view = ChatView(
            self.storage,
            self.conversation,
            chat_id,
            user,
            kind="checkin" if due.flow == "daily_checkin" else "followup",
            extra_row=later,
            subject=f"checkin:{due.checkin_id}",
            deadline=self.service.deadline(due),
        )
        view.show(reply)
        return True
