"""Long polling that confirms an update to Telegram only after it is processed and committed.

PTB's Updater asks for the next updates (which confirms the previous ones) as soon as it has
queued them, before any handler ran: a bot killed mid-processing would lose those updates.
This loop, on PTB's `Bot.get_updates`, keeps the confirmation offset at the oldest update
still in progress, so Telegram delivers it again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter

from .dispatcher import Dispatcher
from .ratelimit import seconds

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
BUSY_WAIT_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 30.0


class Poller:
    """Fetches updates and hands each to the dispatcher, confirming only finished ones."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, timeout: int = 30) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.timeout = timeout
        self._running: dict[int, asyncio.Task[None]] = {}
        self._highest: int | None = None

    @property
    def offset(self) -> int | None:
        """The next getUpdates offset: confirms every update before the oldest one running."""
        if self._running:
            return min(self._running)
        return None if self._highest is None else self._highest + 1

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set, then finish the updates in progress and confirm them."""
        backoff = 1.0
        while not stop.is_set():
            try:
                updates = await self._fetch(stop)
            except (InvalidToken, Conflict) as error:
                log.error("polling.refused error=%s", type(error).__name__)
                await self._sleep(stop, 5.0)
                continue
            except RetryAfter as error:
                await self._sleep(stop, seconds(error.retry_after))
                continue
            except NetworkError as error:
                log.warning(
                    "polling.network_error error=%s retry_in=%.0fs", type(error).__name__, backoff
                )
                await self._sleep(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1.0
            self._start(updates or [])
            self._reap()
            if self._running:
                # Only a finished update lets the offset move on: fetch again then (or after a
                # short while, so that a slow update does not hold the other chats back).
                await asyncio.wait(
                    self._running.values(),
                    timeout=BUSY_WAIT_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                self._reap()
        await self._drain()

    async def _fetch(self, stop: asyncio.Event) -> tuple[Update, ...] | None:
        """One getUpdates call; long-polls only when nothing is in progress."""
        timeout = 0 if self._running else self.timeout
        fetch = asyncio.ensure_future(
            self.bot.get_updates(
                offset=self.offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            return None
        stopping.cancel()
        return fetch.result()

    def _start(self, updates: tuple[Update, ...] | list[Update]) -> None:
        for update in updates:
            update_id = update.update_id
            if self._highest is not None and update_id <= self._highest:
                continue  # still unconfirmed because an older one runs; already handled here
            self._highest = update_id
            self._running[update_id] = asyncio.create_task(self.dispatcher.process(update))

    def _reap(self) -> None:
        for update_id in [uid for uid, task in self._running.items() if task.done()]:
            task = self._running.pop(update_id)
            if not task.cancelled() and task.exception() is not None:
                log.error("update.crashed update=%s", update_id, exc_info=task.exception())

    async def _drain(self) -> None:
        """Let the updates in progress finish, then confirm them to Telegram."""
        if self._running:
            await asyncio.wait(self._running.values())
            self._reap()
        if self._highest is not None:
            with contextlib.suppress(NetworkError):
                await self.bot.get_updates(offset=self._highest + 1, timeout=0)

    @staticmethod
    async def _sleep(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
