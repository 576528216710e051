"""The one sender: delivers outbox rows to Telegram, by priority, within its limits, with retries.

Each chat's rows go one at a time, oldest first (a chat reads its messages in order); chats go
in parallel, so one slow chat holds nobody else. Rules, per outcome of a call:
- success: the row is `sent`, with the message id Telegram gave (later edits use it);
- 429: every send pauses for `retry_after`, then the row is tried again;
- 5xx, a time-out or a network error: tried again with back-off (0.5 s doubling, at most 30 s);
- past its deadline before delivery: `expired` (a check-in is then `undelivered`);
- 403, or "user is deactivated": the user blocked the bot; their pending rows fail;
- a cosmetic row (callback query answer, edit) that Telegram refuses as moot ("message is not
  modified", "message to edit not found", "query is too old") is `done`; any other refusal fails
  that row alone.
A call that timed out may still have reached Telegram: it is sent again, so the user may see a
message twice (Telegram offers no idempotency key).
The loop itself survives its own failures (a locked database, a bug): it logs, backs off and
goes on; recording a delivery is tried again for up to `STORAGE_PATIENCE_SECONDS`, so a
message Telegram accepted is not sent twice for want of a write.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlite_utils import Database
from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from storage import delivery as store
from storage.db import to_stored
from storage.delivery import DONE, EXPIRED, FAILED, SENT, OutboxRow

from .outbox import KINDS, REPLY_PRIORITY, Storage, bot_commands
from .ratelimit import SendLimiter, seconds

log = logging.getLogger(__name__)
T = TypeVar("T")

LIMITED_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)
MOOT = ("message is not modified", "message to edit not found", "query is too old")
BLOCKED = ("user is deactivated", "bot was blocked", "bot can't initiate")
MAX_BACKOFF_SECONDS = 30.0
IDLE_SECONDS = 1.0
LOOP_RETRY_SECONDS = 0.1
MAX_LOOP_RETRY_SECONDS = 5.0
STORAGE_PATIENCE_SECONDS = 60.0


Renderer = Callable[[dict[str, Any]], bytes]
"""Draws a file the outbox carries as data (`outbox.drawn_field`): data -> bytes."""


class Sender:
    """Delivers the outbox until stopped; `parallel` chats at a time. `renderers` draw the
    files rows carry as data (charts), in a thread, just before their call."""

    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        limiter: SendLimiter,
        parallel: int = 64,
        renderers: dict[str, Renderer] | None = None,
    ) -> None:
        self.bot = bot
        self.storage = storage
        self.limiter = limiter
        self.parallel = parallel
        self.renderers = renderers or {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._budgeted: set[int] = set()
        """Chats in flight with a row that waits for the broadcast budget."""
        self._stopping = False

    async def run(self, stop: asyncio.Event) -> None:
        """Send what is due until `stop` is set, then let the sends in flight end."""
        changed = self.storage.outbox_changed
        failures = 0
        while not stop.is_set():
            changed.clear()
            try:
                wait = await self._start_due()
            except Exception as error:  # "database is locked", a bug: log, back off, go on
                failures += 1
                pause = min(LOOP_RETRY_SECONDS * 2 ** (failures - 1), MAX_LOOP_RETRY_SECONDS)
                log.error(
                    "sender.loop_failed attempt=%s error=%s retry_in=%.1fs",
                    failures,
                    type(error).__name__,
                    pause,
                    exc_info=error if failures == 1 else None,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                continue
            if failures:
                log.info("sender.loop_recovered after=%s", failures)
                failures = 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(changed, stop), timeout=wait)
        self._stopping = True
        if self._in_flight:
            await asyncio.wait(self._in_flight.values(), timeout=5)

    async def _start_due(self) -> float:
        """Start a send for each chat whose next row is due; returns how long to sleep."""
        room = self.parallel - len(self._in_flight)
        if room <= 0:
            return IDLE_SECONDS
        async with self.storage.lock:
            now = self.storage.now()
            rows = store.due(self.storage.db, now, set(self._in_flight), room)
            wake = store.next_wake(self.storage.db) if len(rows) < room else None
        for row in rows:
            if self._waits_for_budget(row):
                # Sends waiting for the broadcast budget hold at most half the slots: the
                # other half stays free for replies.
                if len(self._budgeted) >= max(1, self.parallel // 2):
                    continue
                self._budgeted.add(row.chat_id)
            task = asyncio.create_task(self._deliver(row))
            self._in_flight[row.chat_id] = task
            task.add_done_callback(functools.partial(self._finished, row.chat_id))
        if wake is None or wake <= now:
            # Rows due now belong to chats in flight: their own sends take them in turn.
            return IDLE_SECONDS
        delay = (datetime.fromisoformat(wake) - self.storage.clock()).total_seconds()
        return min(max(delay, 0.01), IDLE_SECONDS)

    def _waits_for_budget(self, row: OutboxRow) -> bool:
        return waits_for_budget(row) and row.chat_id not in self.storage.urgent_chats

    def _finished(self, chat_id: int, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(chat_id, None)
        self._budgeted.discard(chat_id)
        self.storage.urgent_chats.discard(chat_id)  # its rows are out, or wait for later
        self.storage.outbox_changed.set()  # the chat's next row, if any, may go now

    async def _deliver(self, first: OutboxRow) -> None:
        """Deliver a chat's rows in order while they are due and need not wait for the
        broadcast budget (such a row goes back to the loop, where other chats' replies come
        first)."""
        row: OutboxRow | None = first
        while row is not None:
            try:
                await self._attempt(row)
            except sqlite3.Error as error:  # not recorded: the row stays pending, tried again
                log.error("outbox.not_recorded row=%s error=%s", row.id, error)
                return
            except Exception:  # a bug here must not stop the other chats' deliveries
                log.exception("outbox.crashed row=%s", row.id)
                with contextlib.suppress(sqlite3.Error):
                    await self._finish(row, FAILED, error="crashed")
                return
            if self._stopping:
                return
            async with self.storage.lock:
                row = store.next_in_chat(self.storage.db, row.chat_id, self.storage.now())
            if row is not None and self._waits_for_budget(row):
                return

    async def _attempt(self, row: OutboxRow) -> None:
        if row.deadline < self.storage.now():
            log.warning("outbox.expired row=%s kind=%s chat=%s", row.id, row.kind, row.chat_id)
            await self._finish(row, EXPIRED)
            return
        kwargs = _arguments(row.method, row.payload)
        for name, value in kwargs.items():
            if isinstance(value, dict) and "render" in value:  # outside any transaction
                drawn = await asyncio.to_thread(self.renderers[value["render"]], value["data"])
                kwargs[name] = InputFile(drawn, filename=value["filename"])
        if row.ref_outbox_id is not None:
            if row.ref_message_id is None:  # the message to edit never went out
                await self._finish(row, DONE, error=f"reference {row.ref_status}")
                return
            kwargs["message_id"] = row.ref_message_id
        if row.method in LIMITED_METHODS:
            await self.limiter.acquire(
                background=self._waits_for_budget(row),
                hurry=lambda: row.chat_id in self.storage.urgent_chats,
            )
        try:
            # The raw answer: only a sent message's id is kept, and PTB's Message parsing
            # would cost a tenth of the bot's CPU per update.
            result = await self.bot.do_api_request(row.method, api_kwargs=kwargs)
        except RetryAfter as error:
            pause = seconds(error.retry_after)
            self.limiter.pause(pause)
            await self._retry(row, pause, "RetryAfter")
        except Forbidden as error:
            await self._blocked(row, error)
        except BadRequest as error:
            await self._refused(row, error)
        except NetworkError as error:  # a 5xx, a time-out, a reset connection
            await self._retry(row, min(0.5 * 2**row.attempts, MAX_BACKOFF_SECONDS), str(error))
        except TelegramError as error:
            log.error("outbox.refused row=%s error=%s", row.id, error)
            await self._finish(row, FAILED, error=str(error))
        else:
            message_id = result.get("message_id") if isinstance(result, dict) else None
            await self._finish(row, SENT, message_id=message_id)

    async def _refused(self, row: OutboxRow, error: BadRequest) -> None:
        text = error.message.lower()
        if any(phrase in text for phrase in BLOCKED):
            await self._blocked(row, error)
        elif KINDS[row.kind].cosmetic:
            moot = any(phrase in text for phrase in MOOT)
            if not moot:
                log.warning("outbox.cosmetic_refused row=%s error=%s", row.id, error.message)
            await self._finish(row, DONE if moot else FAILED, error=error.message)
        else:
            log.error("outbox.refused row=%s kind=%s error=%s", row.id, row.kind, error.message)
            await self._finish(row, FAILED, error=error.message)

    async def _blocked(self, row: OutboxRow, error: TelegramError) -> None:
        dropped = await self._write(
            lambda db: store.drop_chat(db, row.chat_id, self.storage.now(), str(error))
        )
        log.info("outbox.user_blocked chat=%s rows=%s", row.chat_id, dropped)

    async def _retry(self, row: OutboxRow, delay: float, error: str) -> None:
        at = self.storage.clock() + timedelta(seconds=delay)
        if to_stored(at) > row.deadline:
            log.warning("outbox.expired row=%s kind=%s error=%s", row.id, row.kind, error)
            await self._finish(row, EXPIRED, error=error)
            return
        log.info("outbox.retry row=%s in=%.1fs error=%s", row.id, delay, error)
        await self._write(
            lambda db: store.retry_later(db, row.id, to_stored(at), error, self.storage.now())
        )

    async def _finish(
        self,
        row: OutboxRow,
        status: str,
        *,
        message_id: int | None = None,
        error: str | None = None,
    ) -> None:
        await self._write(
            lambda db: store.finish(
                db, row.id, status, self.storage.now(), message_id=message_id, error=error
            )
        )

    async def _write(self, change: Callable[[Database], T]) -> T:
        """Record an outcome in its own transaction, committed without an fsync (see
        `Storage.transaction`), waiting out a locked or full database for up to
        STORAGE_PATIENCE_SECONDS (then sqlite3.OperationalError)."""
        pause, waited = LOOP_RETRY_SECONDS, 0.0
        while True:
            try:
                async with self.storage.transaction(synced=False) as db:
                    return change(db)
            except sqlite3.OperationalError as error:
                if waited >= STORAGE_PATIENCE_SECONDS:
                    raise
                log.warning("outbox.write_waits error=%s retry_in=%.1fs", error, pause)
                await asyncio.sleep(pause)
                waited += pause
                pause = min(pause * 2, MAX_LOOP_RETRY_SECONDS)


def waits_for_budget(row: OutboxRow) -> bool:
    """Whether the row waits for Telegram's limit for messages to many users: an unprompted
    row does, unless its chat has a reply pending behind it (it then goes as urgently)."""
    urgency = row.priority if row.chat_priority is None else min(row.priority, row.chat_priority)
    return KINDS[row.kind].unprompted and urgency > REPLY_PRIORITY


def _arguments(method: str, payload: str) -> dict[str, Any]:
    """The row's Bot API parameters, files decoded (see `outbox.file_field`); a menu queued
    as (command, description) pairs by an earlier version, when PTB's typed method converted
    them, is sent as the BotCommand objects Telegram expects."""
    kwargs: dict[str, Any] = json.loads(payload)
    if method == "setMyCommands" and isinstance(kwargs.get("commands"), list):
        kwargs["commands"] = [
            pair if isinstance(pair, dict) else bot_commands([tuple(pair)])[0]
            for pair in kwargs["commands"]
        ]
    for name, value in kwargs.items():
        if isinstance(value, dict) and "base64" in value:
            kwargs[name] = InputFile(base64.b64decode(value["base64"]), filename=value["filename"])
    return kwargs


async def _first(changed: asyncio.Event, stop: asyncio.Event) -> None:
    """Until either event is set."""
    waiters = [asyncio.ensure_future(changed.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
