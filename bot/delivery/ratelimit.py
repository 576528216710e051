"""Telegram's overall send limit for the sender, shared so that replies never wait for check-ins.

A token bucket with two priorities: a background send (a check-in) takes a token only when no
reply is waiting. A 429 from Telegram pauses every send until the latest end of all flood waits.
Telegram's limits: about 30 messages a second overall, 1 a second per chat
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

POLL_STEP_SECONDS = 0.005


def seconds(duration: float | timedelta) -> float:
    """A PTB duration (seconds, or a timedelta with PTB_TIMEDELTA) in seconds."""
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


class SendLimiter:
    """At most `rate` sends a second overall (0: no limit); replies first, background after."""

    def __init__(self, rate: float = 30.0) -> None:
        self.rate = rate
        self._tokens = 1.0
        self._stamp: float | None = None
        self._replies_waiting = 0
        self._paused_until = 0.0
        self.flood_waits = 0

    async def acquire(self, background: bool = False) -> None:
        """Wait for a token (and for any flood wait to end)."""
        await self._wait_out_flood()
        if self.rate <= 0:
            return
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

    def pause(self, duration: float) -> None:
        """Telegram answered 429: no send before `duration` seconds from now (a shorter wait
        never ends a longer one)."""
        self.flood_waits += 1
        now = asyncio.get_running_loop().time()
        self._paused_until = max(self._paused_until, now + duration)

    async def _wait_out_flood(self) -> None:
        loop = asyncio.get_running_loop()
        while (remaining := self._paused_until - loop.time()) > 0:
            await asyncio.sleep(remaining)

    def _refill(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._stamp is not None:
            # One token of burst: sends are spread evenly, never in a clump.
            self._tokens = min(1.0, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
