"""Telegram's overall send limit, shared so that a manager's replies never wait for check-ins.

PTB's AIORateLimiter serves requests in arrival order: 10,000 check-ins queued at 30 messages
a second would hold a chatting manager's reply for minutes. This limiter is a token bucket with
two priorities: a request marked `BACKGROUND` takes a token only when no reply is waiting.
Like AIORateLimiter it pauses everything on a 429 and retries; it also retries sends that failed
on a 5xx or a time-out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

BACKGROUND = "background"
"""`rate_limit_args` of requests that may wait: scheduled check-ins."""
SEND_RETRIES = 3
POLL_STEP_SECONDS = 0.005


def seconds(duration: float | timedelta) -> float:
    """A PTB duration (seconds, or a timedelta with PTB_TIMEDELTA) in seconds."""
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


class PriorityRateLimiter(BaseRateLimiter[str]):
    """At most `rate` messages a second overall; replies first, background requests after."""

    def __init__(self, rate: float = 30.0, max_retries: int = 5) -> None:
        self.rate = rate
        self.max_retries = max_retries
        self._tokens = 1.0
        self._stamp: float | None = None
        self._replies_waiting = 0
        self._paused_until = 0.0
        self.retry_after_count = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a token if the request sends to a chat, then call, retrying as documented."""
        limited = self.rate > 0 and data.get("chat_id") is not None
        background = rate_limit_args == BACKGROUND
        attempt = 0
        while True:
            if limited:
                await self._acquire(background)
            await self._wait_out_flood()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self.retry_after_count += 1
                if attempt >= self.max_retries:
                    raise
                pause = seconds(error.retry_after) + 0.1
                log.warning("telegram.flood_wait endpoint=%s seconds=%.1f", endpoint, pause)
                # Every request waits until the latest end of all flood waits.
                now = asyncio.get_running_loop().time()
                self._paused_until = max(self._paused_until, now + pause)
            except (TimedOut, NetworkError) as error:
                # BadRequest and friends are NetworkErrors too: only a bare one (5xx, reset
                # connection) or a time-out is worth another try, and never a long poll.
                transient = type(error) in (NetworkError, TimedOut) and endpoint != "getUpdates"
                if not transient or attempt >= SEND_RETRIES:
                    raise
                log.warning("telegram.retry endpoint=%s attempt=%s", endpoint, attempt + 1)
                await asyncio.sleep(0.5 * (attempt + 1))
            attempt += 1

    async def _wait_out_flood(self) -> None:
        loop = asyncio.get_running_loop()
        while (remaining := self._paused_until - loop.time()) > 0:
            await asyncio.sleep(remaining)

    async def _acquire(self, background: bool) -> None:
        if not background:
            self._replies_waiting += 1
        try:
            while True:
                self._refill()
                if self._tokens >= 1 and (not background or self._replies_waiting == 0):
                    self._tokens -= 1
                    return
                missing = max(0.0, 1 - self._tokens) / self.rate
                await asyncio.sleep(max(missing, POLL_STEP_SECONDS))
        finally:
            if not background:
                self._replies_waiting -= 1

    def _refill(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._stamp is not None:
            # One token of burst: sends are spread evenly, never in a clump.
            self._tokens = min(1.0, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
