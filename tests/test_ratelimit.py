"""The send limiter: replies to a chatting manager go before queued check-ins; 429s retried."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.delivery.ratelimit import BACKGROUND, PriorityRateLimiter


async def call(limiter: PriorityRateLimiter, callback, priority: str | None = None, chat: int = 1):
    return await limiter.process_request(
        callback, (), {}, "sendMessage", {"chat_id": chat}, priority
    )


async def test_a_reply_overtakes_a_queue_of_background_sends():
    limiter = PriorityRateLimiter(rate=20)
    loop = asyncio.get_running_loop()
    done: list[tuple[str, float]] = []

    def recorder(name: str):
        async def send() -> bool:
            done.append((name, loop.time()))
            return True

        return send

    started = loop.time()
    background = [
        asyncio.create_task(call(limiter, recorder(f"checkin {n}"), BACKGROUND, chat=n))
        for n in range(40)  # two seconds of check-ins at 20/s
    ]
    await asyncio.sleep(0.3)
    asked = loop.time()
    await call(limiter, recorder("reply"))
    waited = loop.time() - asked
    await asyncio.gather(*background)
    order = [name for name, _ in done]
    assert waited < 0.2, f"the reply waited {waited:.2f}s behind check-ins"
    assert order.index("reply") < 10
    elapsed = done[-1][1] - started
    assert elapsed >= 40 / 20 - 0.1  # the overall rate still holds


async def test_a_429_pauses_then_retries():
    limiter = PriorityRateLimiter(rate=0)
    attempts = []

    async def flaky() -> bool:
        attempts.append(1)
        if len(attempts) == 1:
            raise RetryAfter(timedelta(seconds=0))
        return True

    assert await call(limiter, flaky) is True
    assert len(attempts) == 2 and limiter.retry_after_count == 1


async def test_a_5xx_is_retried_but_a_bad_request_is_not():
    limiter = PriorityRateLimiter(rate=0)
    attempts = []

    async def server_error() -> bool:
        attempts.append(1)
        if len(attempts) < 3:
            raise NetworkError("Bad Gateway")
        return True

    assert await call(limiter, server_error) is True

    async def bad() -> bool:
        raise BadRequest("Message is not modified")

    with pytest.raises(BadRequest):
        await call(limiter, bad)


async def test_a_short_flood_wait_does_not_end_a_longer_one():
    limiter = PriorityRateLimiter(rate=0)
    loop = asyncio.get_running_loop()
    in_flight = asyncio.Event()
    long_wait_started = asyncio.Event()
    sent: dict[str, float] = {}

    async def slow_then_short() -> bool:  # already on its way when the long wait starts
        if "a" not in sent:
            sent["a"] = 0
            in_flight.set()
            await long_wait_started.wait()
            raise RetryAfter(timedelta(seconds=0.1))
        return True

    async def long() -> bool:
        if "b" not in sent:
            sent["b"] = 0
            long_wait_started.set()
            raise RetryAfter(timedelta(seconds=0.8))
        return True

    async def later() -> bool:
        sent["c"] = loop.time()
        return True

    began = loop.time()
    first = asyncio.create_task(call(limiter, slow_then_short))
    await in_flight.wait()
    second = asyncio.create_task(call(limiter, long))
    await asyncio.sleep(0.3)  # the short wait is over, the long one is not
    await call(limiter, later)
    await asyncio.gather(first, second)
    assert sent["c"] - began >= 0.8
