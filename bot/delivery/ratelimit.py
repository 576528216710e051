"""Telegram's broadcast limit for the sender: unprompted sends wait for it, replies never do.

Telegram allows "no more than 30 messages per second or so" to many users at once (bulk
notifications), and advises no more than one a second in a single chat
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this). A token
bucket at `rate` a second holds the unprompted sends (check-ins, follow-ups, the journey's
nudges, coaches' notifications, feedback, notices: `outbox.Kind.unprompted`, decided by
`sender.waits_for_budget`). A reply to a manager who is chatting never waits for it but spends
it (down to one second of debt), so check-ins give way while managers chat. A 429 from
Telegram pauses every send until the latest end of all flood waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

POLL_STEP_SECONDS = 0.005


def seconds(duration: float | timedelta) -> float:
    """A PTB duration (seconds, or a timedelta with PTB_TIMEDELTA) in seconds."""
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


class SendLimiter:
    """At most `rate` background sends a second, less the replies sent meanwhile (0: no
    limit); replies go at once."""

    def __init__(self, rate: float = 30.0) -> None:
        self.rate = rate
        self._tokens = 1.0
        self._stamp: float | None = None
        self._paused_until = 0.0
        self.flood_waits = 0

    async def acquire(
        self, background: bool = False, hurry: Callable[[], bool] | None = None
    ) -> None:
        """Wait for any flood wait to end, then, for a background send, for a token; a
        background send whose `hurry()` turns true while it waits goes on as a reply."""
        await self._wait_out_flood()
        if self.rate <= 0:
            return
        self._refill()
        while background and self._tokens < 1:
            if hurry is not None and hurry():
                break
            await asyncio.sleep(max((1 - self._tokens) / self.rate, POLL_STEP_SECONDS))
            self._refill()
        # A reply spends the budget without waiting: at most one second of debt, so a burst
        # of replies holds the check-ins back for a second, not for ever.
        self._tokens = max(self._tokens - 1, -self.rate)

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
            # One token of burst: background sends are spread evenly, never in a clump.
            self._tokens = min(1.0, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
