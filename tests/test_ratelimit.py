"""The send limiter: replies to a chatting manager never wait; check-ins keep the broadcast
limit, less what replies spent; flood waits hold everything."""

from __future__ import annotations

import asyncio

from bot.delivery.ratelimit import SendLimiter


async def test_a_reply_overtakes_a_queue_of_background_sends():
    limiter = SendLimiter(rate=20)
    loop = asyncio.get_running_loop()
    done: list[tuple[str, float]] = []

    async def send(name: str, background: bool) -> None:
        await limiter.acquire(background)
        done.append((name, loop.time()))

    started = loop.time()
    background = [
        asyncio.create_task(send(f"checkin {n}", True))
        for n in range(40)  # two seconds of check-ins at 20/s
    ]
    await asyncio.sleep(0.3)
    asked = loop.time()
    await send("reply", False)
    waited = loop.time() - asked
    await asyncio.gather(*background)
    order = [name for name, _ in done]
    assert waited < 0.2, f"the reply waited {waited:.2f}s behind check-ins"
    assert order.index("reply") < 10
    elapsed = done[-1][1] - started
    assert elapsed >= 40 / 20 - 0.1  # the overall rate still holds


async def test_replies_never_wait_but_spend_the_budget_background_sends_wait_for():
    # Replies used to take turns in the 30/s budget: at 100 answers a second, every manager's
    # next question queued behind the others' (refs #8).
    limiter = SendLimiter(rate=20)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for _ in range(100):
        await limiter.acquire()
    assert loop.time() - began < 0.1, "replies waited for the broadcast limit"
    asked = loop.time()
    await limiter.acquire(background=True)
    waited = loop.time() - asked
    # 100 replies at 20/s leave the most debt allowed, one second: the check-in waits it out.
    assert 0.9 <= waited < 1.5, waited


async def test_a_flood_wait_holds_every_send_and_a_shorter_one_does_not_end_it():
    limiter = SendLimiter(rate=0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    limiter.pause(0.5)
    limiter.pause(0.1)
    await limiter.acquire()
    assert loop.time() - began >= 0.5
    assert limiter.flood_waits == 2


async def test_without_a_rate_sends_do_not_wait():
    limiter = SendLimiter(rate=0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for _ in range(100):
        await limiter.acquire(background=True)
    assert loop.time() - began < 0.1
