"""Long polling into the inbox: each batch is written, then confirmed by the next getUpdates.

PTB's Updater confirms updates once queued in memory: a crash would lose them. Here the next
offset moves past a batch only once the inbox holds it; when the database cannot be written
(disk full, locked) the offset stays, and Telegram gives the same updates again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Bot
from telegram.error import Conflict, EndPointNotFound, InvalidToken, NetworkError, RetryAfter

from .inbox import Inbox
from .ratelimit import seconds

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
MAX_BACKOFF_SECONDS = 30.0
CONFLICT_LIMIT = 3
CONFLICT_WINDOW_SECONDS = 60.0
"""CONFLICT_LIMIT 409s within this window: another process polls (a restart causes one)."""
CONFLICT_WAIT_SECONDS = 2.0
READ_MARGIN_SECONDS = 10.0


class PollingConflict(Exception):
    """Telegram answered 409 Conflict again and again: another process polls this token."""


class Poller:
    """Fetches updates into the inbox, confirming each batch once it is written."""

    def __init__(self, bot: Bot, inbox: Inbox, timeout: int = 30) -> None:
        self.bot = bot
        self.inbox = inbox
        self.timeout = timeout
        self.offset: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; PollingConflict when another poller holds the token."""
        backoff = 1.0
        conflicts: list[float] = []
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                updates = await self._fetch(stop)
            except Conflict:
                now = loop.time()
                conflicts = [at for at in conflicts if now - at < CONFLICT_WINDOW_SECONDS]
                conflicts.append(now)
                if len(conflicts) >= CONFLICT_LIMIT:
                    raise PollingConflict from None
                log.warning("polling.conflict count=%s", len(conflicts))
                await self._sleep(stop, CONFLICT_WAIT_SECONDS)
                continue
            except InvalidToken:
                raise
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
            if not updates:
                backoff = 1.0
                continue
            if await self.inbox.receive(updates):
                self.offset = max(int(update["update_id"]) for update in updates) + 1
                backoff = 1.0
            else:  # not written: not confirmed either; asked for again once writing works
                await self._sleep(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        await self._confirm()

    async def _fetch(self, stop: asyncio.Event) -> list[dict[str, Any]] | None:
        """One getUpdates call: the updates as Telegram sent them (JSON objects), written to
        the inbox as they came and parsed once there (`Bot.get_updates` would parse them,
        and writing them would then cost a `to_dict()` each: 5% of the bot's CPU)."""
        parameters: dict[str, Any] = {
            "timeout": self.timeout,
            "allowed_updates": ALLOWED_UPDATES,
        }
        if self.offset is not None:
            parameters["offset"] = self.offset
        fetch = asyncio.ensure_future(
            self.bot.do_api_request(
                "getUpdates", parameters, read_timeout=self.timeout + READ_MARGIN_SECONDS
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
        try:
            result = fetch.result()
        except EndPointNotFound:  # do_api_request's name for a 401/404 once initialised
            raise InvalidToken("the token was refused") from None
        return result if isinstance(result, list) else []

    async def _confirm(self) -> None:
        """Confirm the last written batch before stopping (else it would only come again)."""
        if self.offset is not None:
            with contextlib.suppress(NetworkError, Conflict):
                await self.bot.get_updates(offset=self.offset, timeout=0)

    @staticmethod
    async def _sleep(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
