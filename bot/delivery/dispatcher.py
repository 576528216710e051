"""Processing updates: one at a time per chat, in order; each exactly once; retried on failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Update

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 0.5


class Dispatcher:
    """Runs an update's handlers once its chat is free; skips updates already answered.

    `already_processed` tells whether the update was handled and answered before; `handle`
    runs the handlers (PTB's `Application.process_update`), which store the update's receipt
    with what it changes, in one transaction; `mark_done` records that the reply went out.
    A handler error is reported through `record_failure` (from PTB's error handler) and the
    update is tried again, up to MAX_ATTEMPTS times.
    """

    def __init__(
        self,
        handle: Callable[[Update], Awaitable[None]],
        already_processed: Callable[[Update], Awaitable[bool]],
        mark_done: Callable[[Update], Awaitable[None]],
        on_given_up: Callable[[Update], Awaitable[None]] | None = None,
    ) -> None:
        self._handle = handle
        self._already_processed = already_processed
        self._mark_done = mark_done
        self._on_given_up = on_given_up
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}
        self._failures: dict[int, BaseException] = {}

    def record_failure(self, update_id: int, error: BaseException) -> None:
        """Note that a handler failed on this update (called by the error handler)."""
        self._failures[update_id] = error

    async def process(self, update: Update) -> None:
        """Process one update after the earlier updates of its chat; never raises."""
        chat = update.effective_chat
        chat_id = chat.id if chat is not None else 0
        lock = self._acquire(chat_id)
        try:
            async with lock:
                await self._process_in_turn(update)
        finally:
            self._release(chat_id)

    async def _process_in_turn(self, update: Update) -> None:
        try:
            if await self._already_processed(update):
                log.info("update.duplicate_ignored update=%s", update.update_id)
                return
        except Exception:
            # Not knowing is no reason to drop it: the receipt stored with its effects still
            # makes a second application impossible.
            log.exception("update.check_failed update=%s", update.update_id)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self._failures.pop(update.update_id, None)
            try:
                await self._handle(update)
            except Exception as error:  # PTB reports handler errors itself; this is a backstop
                self._failures[update.update_id] = error
            failure = self._failures.pop(update.update_id, None)
            if failure is None:
                await self._mark_done(update)
                return
            if attempt < MAX_ATTEMPTS:
                log.warning(
                    "update.retry update=%s attempt=%s error=%s",
                    update.update_id,
                    attempt,
                    type(failure).__name__,
                )
                await asyncio.sleep(RETRY_DELAY_SECONDS * attempt)
            else:
                log.error(
                    "update.given_up update=%s error=%s", update.update_id, type(failure).__name__
                )
                if self._on_given_up is not None:
                    try:  # the manager hears that something failed rather than nothing at all
                        await self._on_given_up(update)
                    except Exception:
                        log.exception("update.apology_failed update=%s", update.update_id)
                await self._mark_done(update)

    def _acquire(self, chat_id: int) -> asyncio.Lock:
        # Locks are FIFO: updates of a chat run in the order their tasks were created.
        lock, users = self._chats.get(chat_id, (asyncio.Lock(), 0))
        self._chats[chat_id] = (lock, users + 1)
        return lock

    def _release(self, chat_id: int) -> None:
        lock, users = self._chats[chat_id]
        if users <= 1:
            del self._chats[chat_id]
        else:
            self._chats[chat_id] = (lock, users - 1)
