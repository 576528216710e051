"""The inbox: updates are written as they arrive, then processed chat by chat.

`receive` writes a batch of updates in one transaction (the caller confirms them to Telegram
only if it succeeded). Workers take each chat's updates in order, one at a time; chats run in
parallel. An update's processing (PTB's handlers), the outbox rows it writes and its
`processed` mark commit in one transaction: a crash re-runs exactly the unmarked updates.
A database that cannot be written (disk full, locked) is waited out; a handler that fails
on the same update `MAX_ATTEMPTS` times gets the manager an apology, and the update is closed.
A processed update's payload is kept while the chat's next message may continue it (a paste
Telegram split), then emptied with the write-ahead log after `scrub_seconds` (at most twice that
after processing), so what a manager wrote leaves the inbox's files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, Message, MessageEntity, Update

from storage import delivery as store
from storage.db import to_stored
from storage.delivery import Received
from storage.erasure import database_path, truncate_wal

from .outbox import Storage, update_arrival

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_SECONDS = 0.5
MAX_STORAGE_WAIT_SECONDS = 5.0
SCRUB_SECONDS = 60.0


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
        scrub_seconds: float = SCRUB_SECONDS,
        watch: Callable[[asyncio.Task[None], str], None] | None = None,
    ) -> None:
        self.bot = bot
        self.storage = storage
        self._handle = handle
        self._apologise = apologise
        self._chats: dict[int, deque[Update]] = {}
        self._arrivals: dict[int, datetime] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._failures: dict[int, BaseException] = {}
        self._stopping = False
        self._scrub_seconds = scrub_seconds
        self._db_path = database_path(storage.db)
        self._scrubbing: asyncio.Task[None] | None = None
        self._watch = watch

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
        rows = [
            # JSON as received when we have it: PTB's to_dict() costs more than the parsing.
            Received(
                update.update_id,
                _chat_of(update),
                json.dumps(_json(item), ensure_ascii=False, default=_unix_time),
                update.message.message_id if update.message else None,
                _command_of(update.message),
            )
            for item, update in zip(received, updates, strict=True)
        ]
        arrived = self.storage.clock()
        try:
            async with self.storage.lock:
                fresh = set(store.store_updates(self.storage.db, rows, to_stored(arrived)))
        except sqlite3.Error as error:
            log.warning("inbox.write_failed updates=%s error=%s", len(rows), error)
            return False
        for update in updates:
            if update.update_id in fresh:
                self._queue(update, arrived)
        return True

    async def recover(self) -> int:
        """Queue the updates received before a stop or crash and not processed; how many."""
        async with self.storage.lock:
            rows = store.unprocessed(self.storage.db)
        for row in rows:
            arrived = datetime.fromisoformat(row.received_at) if row.received_at else None
            self._queue(Update.de_json(json.loads(row.payload), self.bot), arrived)
        if rows:
            log.info("inbox.recovered updates=%s", len(rows))
        return len(rows)

    async def drain(self, timeout: float = 10.0) -> None:
        """Finish the update each chat is running, leave the rest for the next start."""
        self._stopping = True
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=timeout)
        if self._scrubbing is not None:  # closing the database folds the log in anyway
            self._scrubbing.cancel()

    def _queue(self, update: Update, arrived: datetime | None) -> None:
        if arrived is not None:
            self._arrivals[update.update_id] = arrived
        chat_id = _chat_of(update)
        self._chats.setdefault(chat_id, deque()).append(update)
        if chat_id not in self._workers:
            worker = asyncio.create_task(self._work(chat_id))
            self._workers[chat_id] = worker
            if self._watch is not None:
                self._watch(worker, f"inbox worker (chat {chat_id})")

    async def _work(self, chat_id: int) -> None:
        queue = self._chats[chat_id]
        failures = 0
        try:
            while queue and not self._stopping:
                try:
                    await self._process(queue[0])
                except Exception as error:  # a bug outside the handlers: the chat goes on
                    failures += 1
                    log.error(
                        "inbox.worker_failed update=%s attempt=%s error=%s",
                        queue[0].update_id,
                        failures,
                        type(error).__name__,
                        exc_info=error,
                    )
                    await asyncio.sleep(min(RETRY_SECONDS * 2**failures, MAX_STORAGE_WAIT_SECONDS))
                    continue
                failures = 0
                self._arrivals.pop(queue.popleft().update_id, None)
        finally:
            del self._workers[chat_id]
            if not queue or self._stopping:
                self._chats.pop(chat_id, None)

    async def _process(self, update: Update) -> None:
        """Run the update until its effects and its mark commit together."""
        update_id = update.update_id
        storage_wait = RETRY_SECONDS
        update_arrival.set(self._arrivals.get(update_id))  # this worker's task only
        while True:
            self._failures.pop(update_id, None)
            try:
                async with self.storage.transaction() as db:
                    await self._handle(update)
                    failure = self._failures.pop(update_id, None)
                    if failure is not None:
                        raise failure
                    store.mark_processed(db, update_id, self.storage.now())
                self._scrub_soon()
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
                try:
                    self._apologise(update)
                except sqlite3.Error:
                    raise
                except Exception:  # no apology then, but the chat must not stay stuck on it
                    log.exception("update.apology_failed update=%s", update.update_id)
                store.mark_processed(db, update.update_id, self.storage.now(), name)
        except sqlite3.Error:
            return False
        self._scrub_soon()
        return True

    def _scrub_soon(self) -> None:
        """Start the scrub unless one runs (it goes on until no processed payload is left, so
        one at a time covers every update processed meanwhile)."""
        if self._db_path is None or self._stopping:
            return
        if self._scrubbing is None or self._scrubbing.done():
            self._scrubbing = asyncio.create_task(self._scrub(self._db_path))

    async def _scrub(self, path: Path) -> None:
        """Empty the payloads processed `scrub_seconds` ago or more (by then the chat's next
        message no longer needs the one before), then the write-ahead log; again until none
        is left."""
        while True:
            await asyncio.sleep(self._scrub_seconds)
            held_since = self.storage.clock() - timedelta(seconds=self._scrub_seconds)
            try:
                async with self.storage.transaction() as db:
                    held = store.empty_processed_payloads(db, to_stored(held_since))
            except sqlite3.Error as error:  # disk full, locked: try again later
                log.warning("inbox.scrub_failed error=%s", error)
                continue
            # The connection's lock is held so that no task of ours writes meanwhile (a write
            # would wait on the checkpoint inside the event loop).
            async with self.storage.lock:
                done = await asyncio.to_thread(truncate_wal, path)
            if done and not held:
                return
            log.info("inbox.scrub_again held=%s", held)


def _json(item: Update | dict[str, Any]) -> dict[str, Any]:
    return item.to_dict() if isinstance(item, Update) else item


def _command_of(message: Message | None) -> str | None:
    """The command a message begins with ("feedback" for "/feedback@RebondBot 5"), if any."""
    if message is None or not message.text or not message.entities:
        return None
    first = message.entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    return message.text[1 : first.length].split("@")[0].lower()


def _unix_time(value: object) -> int:
    """A datetime PTB leaves in `to_dict` (an inaccessible message's date, Telegram's 0, as in
    a pinned message the bot cannot see) written back as Unix time."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    raise TypeError(f"{type(value).__name__} in an update")


def _chat_of(update: Update) -> int:
    """The chat whose order the update keeps (the sender's id when it has no chat)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else 0
