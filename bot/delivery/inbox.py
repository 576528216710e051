"""The inbox: updates are written as they arrive, then processed chat by chat.

`receive` writes a batch of updates in one transaction (the caller confirms them to Telegram
only if it succeeded). Workers take each chat's updates in order, one at a time; chats run in
parallel. An update's processing (PTB's handlers), the outbox rows it writes and its
`processed` mark commit in one transaction: a crash re-runs exactly the unmarked updates.
A database that cannot be written (disk full, locked) is waited out; a handler that fails
on the same update `MAX_ATTEMPTS` times gets the manager an apology, and the update is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from telegram import Bot, Update

from storage import delivery as store

from .outbox import Storage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_SECONDS = 0.5
MAX_STORAGE_WAIT_SECONDS = 5.0


class Inbox:
    """Receives updates and runs each through `handle` once, in its chat's order.

    `handle` runs the handlers (PTB's `Application.process_update`) inside the update's
    transaction; a handler error is reported through `record_failure` (PTB's error handler).
    `apologise(update)` writes the apology for an update given up, in its transaction.
    """

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        handle: Callable[[Update], Awaitable[None]],
        apologise: Callable[[Update], None],
    ) -> None:
        self.bot = bot
        self.storage = storage
        self._handle = handle
        self._apologise = apologise
        self._chats: dict[int, deque[Update]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._failures: dict[int, BaseException] = {}
        self._stopping = False

    def record_failure(self, update_id: int, error: BaseException) -> None:
        """Note that a handler failed on this update (called by the error handler)."""
        self._failures[update_id] = error

    async def receive(self, received: Sequence[Update | dict[str, Any]]) -> bool:
        """Write the updates (parsed, or a webhook's JSON) to the inbox in one transaction,
        then queue the new ones. False (nothing queued) when the database could not be
        written: confirm nothing then. ValueError for something that is not an update."""
        try:
            updates = [
                item if isinstance(item, Update) else Update.de_json(item, self.bot)
                for item in received
            ]
        except (TypeError, KeyError, AttributeError) as error:
            raise ValueError(f"not an update: {error}") from None
        rows = [(update.update_id, _chat_of(update), _payload(update)) for update in updates]
        try:
            async with self.storage.lock:
                fresh = set(store.store_updates(self.storage.db, rows, self.storage.now()))
        except sqlite3.Error as error:
            log.warning("inbox.write_failed updates=%s error=%s", len(rows), error)
            return False
        for update in updates:
            if update.update_id in fresh:
                self._queue(update)
        return True

    async def recover(self) -> int:
        """Queue the updates received before a stop or crash and not processed; how many."""
        async with self.storage.lock:
            rows = store.unprocessed(self.storage.db)
        for row in rows:
            self._queue(Update.de_json(json.loads(row.payload), self.bot))
        if rows:
            log.info("inbox.recovered updates=%s", len(rows))
        return len(rows)

    async def drain(self, timeout: float = 10.0) -> None:
        """Finish the update each chat is running, leave the rest for the next start."""
        self._stopping = True
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=timeout)

    def _queue(self, update: Update) -> None:
        chat_id = _chat_of(update)
        self._chats.setdefault(chat_id, deque()).append(update)
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._work(chat_id))

    async def _work(self, chat_id: int) -> None:
        queue = self._chats[chat_id]
        try:
            while queue and not self._stopping:
                await self._process(queue[0])
                queue.popleft()
        finally:
            del self._workers[chat_id]
            if not queue or self._stopping:
                self._chats.pop(chat_id, None)

    async def _process(self, update: Update) -> None:
        """Run the update until its effects and its mark commit together."""
        update_id = update.update_id
        storage_wait = RETRY_SECONDS
        while True:
            self._failures.pop(update_id, None)
            try:
                async with self.storage.transaction() as db:
                    await self._handle(update)
                    failure = self._failures.pop(update_id, None)
                    if failure is not None:
                        raise failure
                    store.mark_processed(db, update_id, self.storage.now())
                return
            except sqlite3.OperationalError as error:  # disk full, database locked: wait
                log.warning("update.storage_failed update=%s error=%s", update_id, error)
                await asyncio.sleep(storage_wait)
                storage_wait = min(storage_wait * 2, MAX_STORAGE_WAIT_SECONDS)
            except Exception as error:
                if await self._given_up(update, error):
                    return

    async def _given_up(self, update: Update, error: BaseException) -> bool:
        """Count a failed attempt; after the last, apologise and close the update."""
        name = type(error).__name__
        try:
            async with self.storage.lock:
                attempts = store.count_attempt(self.storage.db, update.update_id, name)
        except sqlite3.Error:
            attempts = 0
        if attempts < MAX_ATTEMPTS:
            log.warning(
                "update.retry update=%s attempt=%s error=%s", update.update_id, attempts, name
            )
            await asyncio.sleep(RETRY_SECONDS * max(attempts, 1))
            return False
        log.error("update.given_up update=%s error=%s", update.update_id, name)
        try:
            async with self.storage.transaction() as db:
                self._apologise(update)
                store.mark_processed(db, update.update_id, self.storage.now(), name)
        except sqlite3.Error:
            return False
        return True


def _payload(update: Update) -> str:
    """The update as JSON. PTB leaves an inaccessible message's date (Telegram's 0, as in a
    pinned message the bot cannot see) a datetime in `to_dict`: written back as 0."""
    return json.dumps(update.to_dict(), ensure_ascii=False, default=_unix_time)


def _unix_time(value: object) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    raise TypeError(f"{type(value).__name__} in an update")


def _chat_of(update: Update) -> int:
    """The chat whose order the update keeps (the sender's id when it has no chat)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else 0
