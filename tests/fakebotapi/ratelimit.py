"""Telegram-like flood control: a global cap per bot and a per-chat cap with a small burst."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class TokenBucket:
    """Classic token bucket: ``rate`` tokens per second, at most ``capacity`` stored."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self._clock = clock
        self._stamp = clock()

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Consume one token (call wait_time() first)."""
        self.tokens -= 1


class RateLimiter:
    """Global messages/second per bot plus messages/second per chat, off unless enabled."""

    def __init__(
        self,
        per_second: float = 30,
        per_chat_per_second: float = 1,
        per_chat_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._global = TokenBucket(per_second, per_second, clock)
        self._per_chat_rate = per_chat_per_second
        self._per_chat_burst = per_chat_burst
        self._chats: dict[int, TokenBucket] = {}

    def check(self, chat_id: int | None) -> int:
        """Consume a slot and return 0, or return retry_after in whole seconds (>= 1)."""
        buckets = [self._global]
        if chat_id is not None:
            bucket = self._chats.get(chat_id)
            if bucket is None:
                bucket = TokenBucket(self._per_chat_rate, self._per_chat_burst, self._clock)
                self._chats[chat_id] = bucket
            buckets.append(bucket)
        wait = max(bucket.wait_time() for bucket in buckets)
        if wait > 0:
            # Telegram only speaks whole seconds; rounding up keeps retry_after truthful.
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take()
        return 0
