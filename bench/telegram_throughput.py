"""Telegram throughput, like for like: Rebond against an echo bot with Rebond's call mix.

Usage:
    python bench/telegram_throughput.py [--answers N] [--seconds S]

Both bots run as subprocesses polling the same fake Bot API server (tests/fakebotapi), which
runs here with the simulated managers. The baseline (bench/echo_bot.py) makes, per update,
Rebond's calls for a pressed button (answer the callback query, edit the question, send the
next one) and one durable SQLite commit. A reply is the next question on screen.

- Closed loop at 10, 40 and 100 concurrent managers (each answers as soon as its next
  question arrives): updates per second and bot CPU per update. Goals: Rebond / baseline
  >= 0.9 at each level; Rebond's CPU per update at 100 managers within 1.2x of that at 10.
- Open loop from 100 managers paced to 30 and 100 updates a second in total: p50 and p99
  reply latency. Goals: at 30/s p50 < 50 ms and p99 < 250 ms; at 100/s p50 < 100 ms.
Rebond's managers are onboarded before each measure; the figures count reflection answers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.flows.engine import advance, ask, start  # noqa: E402
from bot.flows.loader import load_playbook  # noqa: E402
from bot.flows.state import Answer, Pick, SessionState, Submit, Toggle  # noqa: E402
from tests.fakebotapi import FakeBotApi, FakeUser  # noqa: E402

REBOND_TOKEN = "111111:rebond-bench-token"
ECHO_TOKEN = "222222:echo-bench-token"
PLAYBOOK = load_playbook(ROOT / "content" / "playbook.yaml")
CLOSED_LEVELS = (10, 40, 100)
OPEN_RATES = (30, 100)
OPEN_MANAGERS = 100


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def newest(user: FakeUser, after: int, contains: str = "") -> int:
    """Wait for a bot message newer than `after` (containing `contains`); its id."""

    def found() -> int | None:
        for message in reversed(user.messages):
            if message.message_id <= after:
                return None
            if contains in (message.text or ""):
                return message.message_id
        return None

    return await user.wait_until(found, timeout=120)


class Manager:
    """A simulated manager: `act()` answers once and returns when the reply is on screen."""

    def __init__(self, user: FakeUser) -> None:
        self.user = user
        self.last = 0

    async def ready(self) -> None:
        """Whatever comes before the measured answers."""

    async def act(self) -> int:
        """Answer the question on screen; returns the updates it took."""
        raise NotImplementedError


class EchoManager(Manager):
    async def ready(self) -> None:
        await self.user.send("/start")
        self.last = await newest(self.user, 0, "Question after")

    async def act(self) -> int:
        message = next(m for m in self.user.messages if m.message_id == self.last)
        await self.user.press(message, "Next")
        self.last = await newest(self.user, self.last, "Question after")
        return 1


class RebondManager(Manager):
    state: SessionState

    async def ready(self) -> None:
        await self.user.send("/start")
        self.last = await newest(self.user, 0)
        await self.user.press(self.user.messages[-1], "Français")
        ready = PLAYBOOK.flows["onboarding"].step_by_id["ready"].prompt.fr
        self.last = await newest(self.user, self.last, ready)
        await self.user.press(self.user.messages[-1], "Oui")
        self.state, _ = start(PLAYBOOK, "lost_client", "fr")
        question = ask(PLAYBOOK, self.state)
        assert question is not None
        self.last = await newest(self.user, self.last, question.prompt)

    async def act(self) -> int:
        question = ask(PLAYBOOK, self.state)
        assert question is not None, "answers per manager exceed the reflection"
        message = next(m for m in self.user.messages if m.message_id == self.last)
        if question.kind == "multi_choice":
            await self.user.press(message, question.options[0].label)
            await self.user.wait_until(
                lambda: (
                    "✓"
                    in " ".join(
                        next(
                            m for m in self.user.messages if m.message_id == self.last
                        ).button_texts
                    )
                ),
                timeout=120,
            )
            fresh = next(m for m in self.user.messages if m.message_id == self.last)
            await self.user.press(fresh, fresh.button_texts[-1])
            events = [Toggle(question.options[0].id), Submit()]
        elif question.options:
            await self.user.press(message, question.options[0].label)
            events = [Pick(question.options[0].id)]
        else:
            text = "3" if question.kind == "number" else "Une réponse"
            await self.user.send(text)
            events = [Answer(text)]
        for event in events:
            self.state, _ = advance(PLAYBOOK, self.state, event)
        following = ask(PLAYBOOK, self.state)
        self.last = await newest(self.user, self.last, following.prompt if following else "")
        return len(events)


async def closed_loop(managers: list[Manager], answers: int, pid: int) -> tuple[float, float]:
    """Each manager answers `answers` times back to back: (updates/s, CPU ms per update)."""
    await asyncio.gather(*(m.ready() for m in managers))
    cpu, began = cpu_seconds(pid), time.perf_counter()

    async def run(manager: Manager) -> int:
        return sum([await manager.act() for _ in range(answers)])

    updates = sum(await asyncio.gather(*(run(m) for m in managers)))
    elapsed, used = time.perf_counter() - began, cpu_seconds(pid) - cpu
    return updates / elapsed, used / updates * 1000


async def open_loop(managers: list[Manager], rate: float, seconds: float) -> list[float]:
    """Managers paced to `rate` updates/s in total for `seconds`: reply latencies (s)."""
    await asyncio.gather(*(m.ready() for m in managers))
    period = len(managers) / rate
    latencies: list[float] = []
    rng = random.Random(8)

    async def run(manager: Manager) -> None:
        await asyncio.sleep(rng.uniform(0, period))
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            due = loop.time() + period
            began = time.perf_counter()
            await manager.act()
            latencies.append(time.perf_counter() - began)
            await asyncio.sleep(max(0.0, due - loop.time()))

    await asyncio.gather(*(run(m) for m in managers))
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=5, help="closed loop: answers each")
    parser.add_argument("--seconds", type=float, default=8.0, help="open loop: per rate")
    args = parser.parse_args()
    next_id = iter(range(10_000, 1_000_000))

    def crowd(api: FakeBotApi, token: str, kind: type[Manager], count: int) -> list[Manager]:
        return [kind(api.user(token, next(next_id), "Manager")) for _ in range(count)]

    async with FakeBotApi() as api:
        with tempfile.TemporaryDirectory() as folder:
            rebond = spawn(
                ["-m", "bot"],
                {
                    "TELEGRAM_BOT_TOKEN": REBOND_TOKEN,
                    "REBOND_TELEGRAM_API_URL": api.url,
                    "REBOND_DB": str(Path(folder) / "rebond.db"),
                    "REBOND_POLL_TIMEOUT": "1",
                    "REBOND_LOG_LEVEL": "WARNING",
                    "REBOND_MAX_MESSAGES_PER_SECOND": "0",  # the fake has no limit either
                },
            )
            echo = spawn(
                ["bench/echo_bot.py", api.url, ECHO_TOKEN, str(Path(folder) / "echo.db")], {}
            )
            bots: dict[str, tuple[str, type[Manager], int]] = {
                "baseline": (ECHO_TOKEN, EchoManager, echo.pid),
                "Rebond": (REBOND_TOKEN, RebondManager, rebond.pid),
            }
            closed: dict[tuple[str, int], tuple[float, float]] = {}
            opened: dict[tuple[str, int], list[float]] = {}
            try:
                await api.bot(REBOND_TOKEN).wait_for_call("getUpdates", timeout=60)
                await api.bot(ECHO_TOKEN).wait_for_call("getUpdates", timeout=60)
                for level in CLOSED_LEVELS:
                    for name, (token, kind, pid) in bots.items():
                        managers = crowd(api, token, kind, level)
                        closed[name, level] = await closed_loop(managers, args.answers, pid)
                        report(f"closed {level:>3} {name}", *closed[name, level])
                for rate in OPEN_RATES:
                    for name, (token, kind, _) in bots.items():
                        managers = crowd(api, token, kind, OPEN_MANAGERS)
                        opened[name, rate] = await open_loop(managers, rate, args.seconds)
            finally:
                for process in (rebond, echo):
                    process.terminate()
                    await asyncio.to_thread(process.wait, 30)
    print(f"\nclosed loop, {args.answers} answers per manager:")
    for level in CLOSED_LEVELS:
        (base_rate, base_cpu), (rate, cpu) = closed["baseline", level], closed["Rebond", level]
        print(
            f"  {level:>3} managers: baseline {base_rate:6.1f} updates/s {base_cpu:5.2f} ms CPU, "
            f"Rebond {rate:6.1f} updates/s {cpu:5.2f} ms CPU; ratio {rate / base_rate:.2f} "
            "(goal >= 0.9)"
        )
    growth = closed["Rebond", CLOSED_LEVELS[-1]][1] / closed["Rebond", CLOSED_LEVELS[0]][1]
    print(f"  Rebond CPU per update, 100 vs 10 managers: {growth:.2f}x (goal <= 1.2)")
    print(f"open loop, {OPEN_MANAGERS} managers, {args.seconds:.0f} s per rate:")
    for rate in OPEN_RATES:
        for name in bots:
            latencies = opened[name, rate]
            print(
                f"  {rate:>3}/s {name:>8}: p50 {statistics.median(latencies) * 1000:6.1f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms ({len(latencies)} replies)"
            )
    print("goals at 30/s: Rebond p50 < 50 ms, p99 < 250 ms; at 100/s: p50 < 100 ms")
    return 0


def report(label: str, rate: float, cpu: float) -> None:
    print(f"{label}: {rate:.1f} updates/s, {cpu:.2f} ms CPU per update", flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
