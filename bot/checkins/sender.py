"""Sending due check-ins on Telegram: a repeating job picks due users, in batches.

One repeating job, not one job per user: each user's next due time is a column, so 100,000
scheduled users cost an indexed query per tick and nothing to rebuild at start-up. Sends are
marked background: they give way to replies to managers who are chatting.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, InlineKeyboardButton

from ..conversation import Conversation
from ..delivery.ratelimit import BACKGROUND
from ..handlers.callbacks import ButtonData
from ..handlers.chat import Blocked, ChatView
from .service import CheckinService, DueCheckin

log = logging.getLogger(__name__)

TELEGRAM_PREFIX = "telegram:"


class CheckinSender:
    """Claims due check-ins and sends their first question, a few at a time."""

    def __init__(
        self,
        conversation: Conversation,
        service: CheckinService,
        batch: int = 500,
        parallel: int = 8,
    ) -> None:
        self.conversation = conversation
        self.service = service
        self.batch = batch
        self.parallel = parallel
        self._running: asyncio.Task[int] | None = None

    async def tick(self, bot: Bot) -> None:
        """Start sending what is due, unless the previous round is still at it."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self.send_due(bot))

    async def wait_idle(self) -> None:
        """Wait for the round in progress, if any (shutdown, tests)."""
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

    async def send_due(self, bot: Bot) -> int:
        """Send every check-in due now, batch after batch; returns how many went out."""
        sent = 0
        gate = asyncio.Semaphore(self.parallel)

        async def send(due: DueCheckin) -> bool:
            async with gate:
                return await self._send(bot, due)

        while True:
            claimed = self.service.claim_due(self.batch)
            if not claimed:
                return sent
            results = await asyncio.gather(*(send(due) for due in claimed), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    log.error("checkin.send_crashed error=%s", type(result).__name__)
            sent += sum(result is True for result in results)

    async def _send(self, bot: Bot, due: DueCheckin) -> bool:
        try:
            return await self._deliver(bot, due)
        except Blocked:
            self.service.user_blocked(due.user)
        except Exception:  # one manager's problem must not stop the others' check-ins
            log.exception("checkin.send_failed user=%s", due.user.id)
        return False

    async def _deliver(self, bot: Bot, due: DueCheckin) -> bool:
        user = due.user
        if not user.key.startswith(TELEGRAM_PREFIX):
            self.service.skip(due)
            return False
        if user.blocked_at is not None:  # Telegram told us they blocked the bot
            self.service.skip(due)
            self.service.user_blocked(user)
            return False
        reply = self.service.start(due)
        later = None
        if due.snoozable:
            label = self.conversation.playbook.ui.later_button.get(self.conversation.language(user))
            data = ButtonData("k", due.checkin_id, None, "later").encode()
            later = [InlineKeyboardButton(label, callback_data=data)]
        chat_id = int(user.key.removeprefix(TELEGRAM_PREFIX))
        view = ChatView(bot, self.conversation, chat_id, user, BACKGROUND, later)
        await view.show(reply)
        return True
