"""Telegram throughput, like for like: Rebond against an echo bot with Rebond's call mix.

Usage:
    python bench/telegram_throughput.py [--answers N] [--updates U] [--seconds S] [--repeats R]
        [--levels 10,40,100] [--rates 30,100] [--profile rebond.prof]

Both bots run as subprocesses polling the same fake Bot API server (tests/fakebotapi), which
runs here with the simulated managers, each with its defaults: the same HTTP client (PTB's
httpx), and Rebond with its production send limiter (replies never wait for it). The
baseline (bench/echo_bot.py) makes, per update, Rebond's calls for a pressed button (answer the
callback query, edit the question, send the next one) and one durable SQLite commit. A reply
is the next question on screen.

- Closed loop at 10, 40 and 100 concurrent managers (each answers as soon as its next
  question arrives; every level answers the same first `--answers` questions, 5, in as many
  waves of managers as it takes to reach `--updates`, 300): updates per second and bot CPU
  per update. Goals: Rebond / baseline
  >= 0.9 at each level, in throughput and in CPU (baseline's CPU per update / Rebond's);
  Rebond's CPU per update at 100 managers within 1.2x of that at 10.
- Open loop from 100 managers paced to 30 and 100 updates a second in total: p50 and p99
  reply latency. Goals: at 30/s p50 < 50 ms and p99 < 250 ms; at 100/s p50 < 100 ms.
Rebond's managers are onboarded before each measure; the figures count reflection answers.
Each measure runs `--repeats` times (which bot goes first alternates); the figures printed
are medians. The open loop's latency is what the simulator sees (its own event loop shares
the machine); beside it, Rebond's own share read from its database: inbox -> the update's
transaction committed with its reply rows, and reply row -> Telegram accepted it.
`--profile` runs Rebond under cProfile (CPU time, bench/profiled_bot.py) and prints its top
functions at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import pstats
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.flows.engine import advance, ask, start  # noqa: E402
from bot.flows.loader import load_playbook  # noqa: E402
from bot.flows.state import Answer, Ask, Event, Pick, SessionState, Submit, Toggle  # noqa: E402
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


def first_choices() -> list[list[Event]]:
    """The events of each answer a RebondManager gives, taking the first option every time,
    until the reflection ends (so its answers per manager are at most that many)."""
    state, _ = start(PLAYBOOK, "lost_client", "fr")
    answers = []
    while (question := ask(PLAYBOOK, state)) is not None:
        events = answer_events(question)
        for event in events:
            state, _ = advance(PLAYBOOK, state, event)
        answers.append(events)
    return answers


def answer_events(question: Ask) -> list[Event]:
    """What a RebondManager answers to `question`: its first option (ticked then submitted
    for a multiple choice), else "3" for a number and a short sentence for the rest."""
    if question.kind == "multi_choice":
        return [Toggle(question.options[0].id), Submit()]
    if question.options:
        return [Pick(question.options[0].id)]
    return [Answer("3" if question.kind == "number" else "Une réponse")]


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
        events = answer_events(question)
        for event in events:
            if isinstance(event, Answer):
                await self.user.send(event.text)
            elif isinstance(event, Submit):
                # The tick's edit first: the submit button is pressed on the redrawn message.
                def ticked() -> bool:
                    shown = next(m for m in self.user.messages if m.message_id == self.last)
                    return "✓" in " ".join(shown.button_texts)

                await self.user.wait_until(ticked, timeout=120)
                fresh = next(m for m in self.user.messages if m.message_id == self.last)
                await self.user.press(fresh, fresh.button_texts[-1])
            else:
                await self.user.press(message, question.options[0].label)
        for event in events:
            self.state, _ = advance(PLAYBOOK, self.state, event)
        following = ask(PLAYBOOK, self.state)
        self.last = await newest(self.user, self.last, following.prompt if following else "")
        return len(events)


async def closed_loop(
    crowd: Callable[[], list[Manager]], answers: int, waves: int, pid: int
) -> tuple[float, float]:
    """`waves` crowds one after the other, each manager answering `answers` times back to back
    (onboarding between waves is not measured): (updates/s, CPU ms per update)."""
    updates, elapsed, used = 0, 0.0, 0.0
    for _ in range(waves):
        managers = crowd()
        await asyncio.gather(*(m.ready() for m in managers))
        cpu, began = cpu_seconds(pid), time.perf_counter()

        async def run(manager: Manager) -> int:
            return sum([await manager.act() for _ in range(answers)])

        updates += sum(await asyncio.gather(*(run(m) for m in managers)))
        elapsed += time.perf_counter() - began
        used += cpu_seconds(pid) - cpu
    return updates / elapsed, used / updates * 1000


async def open_loop(managers: list[Manager], rate: float, seconds: float) -> list[float]:
    """Managers (ready) paced to `rate` updates/s in total for `seconds`: reply latencies (s)."""
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


def stamp() -> str:
    """Now, as Rebond stores times (ISO 8601 UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def inside_rebond(db_path: Path, since: str, until: str) -> tuple[list[float], list[float]]:
    """Rebond's own share of the latency, from its database, for updates received between
    `since` and `until`: (inbox -> committed with its reply rows, reply row -> Telegram
    accepted it), in seconds. The simulator's own time is in neither."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        processing = [
            (datetime.fromisoformat(done) - datetime.fromisoformat(got)).total_seconds()
            for got, done in db.execute(
                "SELECT received_at, processed_at FROM inbox WHERE received_at BETWEEN ? AND ? "
                "AND processed_at IS NOT NULL",
                [since, until],
            )
        ]
        sending = [
            (datetime.fromisoformat(done) - datetime.fromisoformat(made)).total_seconds()
            for made, done in db.execute(
                "SELECT created_at, updated_at FROM outbox WHERE created_at BETWEEN ? AND ? "
                "AND status = 'sent' AND kind IN ('question', 'reply')",
                [since, until],
            )
        ]
    finally:
        db.close()
    return processing, sending


def ms(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction) * 1000:6.1f}" if values else "     -"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=5, help="closed loop: answers each")
    parser.add_argument(
        "--updates",
        type=int,
        default=300,
        help="closed loop: at least this many updates per level, in waves of managers (CPU "
        "is read in 10 ms ticks: 50 updates read it to 5%%)",
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="open loop: per rate")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measure (medians)")
    parser.add_argument(
        "--levels", default=",".join(map(str, CLOSED_LEVELS)), help="closed loop: managers"
    )
    parser.add_argument("--rates", default=",".join(map(str, OPEN_RATES)), help="open loop: /s")
    parser.add_argument(
        "--profile", type=Path, help="run Rebond under cProfile, write its stats to this file"
    )
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",") if n]
    rates = [int(n) for n in args.rates.split(",") if n]
    # Every level answers the same questions (a question's cost depends on its kind): a level
    # of few managers reaches --updates with several waves of them.
    if args.answers > len(first_choices()):
        parser.error(f"--answers: the reflection asks {len(first_choices())} questions")
    waves = {level: max(1, -(-args.updates // (level * args.answers))) for level in levels}
    next_id = iter(range(10_000, 10_000_000))

    def crowd(api: FakeBotApi, token: str, kind: type[Manager], count: int) -> list[Manager]:
        return [kind(api.user(token, next(next_id), "Manager")) for _ in range(count)]

    closed: dict[tuple[str, int], list[tuple[float, float]]] = defaultdict(list)
    opened: dict[tuple[str, int], list[list[float]]] = defaultdict(list)
    inside: dict[int, list[tuple[list[float], list[float]]]] = defaultdict(list)
    async with FakeBotApi() as api:
        with tempfile.TemporaryDirectory() as folder:
            rebond_db = Path(folder) / "rebond.db"
            command = (
                ["bench/profiled_bot.py", str(args.profile)] if args.profile else ["-m", "bot"]
            )
            rebond = spawn(
                command,
                {
                    "TELEGRAM_BOT_TOKEN": REBOND_TOKEN,
                    "REBOND_TELEGRAM_API_URL": api.url,
                    "REBOND_DB": str(rebond_db),
                    "REBOND_POLL_TIMEOUT": "1",
                    "REBOND_LOG_LEVEL": "WARNING",
                },
            )
            echo = spawn(
                ["bench/echo_bot.py", api.url, ECHO_TOKEN, str(Path(folder) / "echo.db")], {}
            )
            bots: dict[str, tuple[str, type[Manager], int]] = {
                "baseline": (ECHO_TOKEN, EchoManager, echo.pid),
                "Rebond": (REBOND_TOKEN, RebondManager, rebond.pid),
            }
            try:
                await api.bot(REBOND_TOKEN).wait_for_call("getUpdates", timeout=60)
                await api.bot(ECHO_TOKEN).wait_for_call("getUpdates", timeout=60)
                for repeat in range(args.repeats):
                    # Alternate which bot goes first, so neither always meets a warmer machine.
                    order = list(bots.items())[:: 1 if repeat % 2 == 0 else -1]
                    for level in levels:
                        for name, (token, kind, pid) in order:
                            figures = await closed_loop(
                                functools.partial(crowd, api, token, kind, level),
                                args.answers,
                                waves[level],
                                pid,
                            )
                            closed[name, level].append(figures)
                            report(f"run {repeat + 1} closed {level:>3} {name}", *figures)
                    for rate in rates:
                        for name, (token, kind, _) in order:
                            managers = crowd(api, token, kind, OPEN_MANAGERS)
                            await asyncio.gather(*(m.ready() for m in managers))
                            await asyncio.sleep(1.0)  # the onboarding's last rows go out
                            since = stamp()  # Rebond's own figures: the paced answers only
                            opened[name, rate].append(await open_loop(managers, rate, args.seconds))
                            if name == "Rebond":
                                await asyncio.sleep(0.5)  # the last rows' records
                                inside[rate].append(inside_rebond(rebond_db, since, stamp()))
                            print(f"run {repeat + 1} open {rate:>3}/s {name} done", flush=True)
                for name, (token, _, _) in bots.items():
                    calls = Counter(r.method for r in api.bot(token).calls())
                    failed = Counter(r.method for r in api.bot(token).calls() if not r.ok)
                    print(
                        f"{name} Bot API calls: "
                        + ", ".join(f"{m} {n} ({failed[m]} failed)" for m, n in calls.items())
                    )
            finally:
                for process in (rebond, echo):
                    process.send_signal(signal.SIGTERM)  # Rebond stops cleanly (its profile)
                    await asyncio.to_thread(process.wait, 60)
    med = statistics.median
    print(f"\nclosed loop, medians of {args.repeats} runs:")
    for level in levels:
        base, mine = closed["baseline", level], closed["Rebond", level]
        ratios = [r[0] / b[0] for r, b in zip(mine, base, strict=True)]
        # CPU read as efficiency (baseline CPU / Rebond CPU), so that >= 0.9 means the same.
        thrift = [b[1] / r[1] for r, b in zip(mine, base, strict=True)]
        print(
            f"  {level:>3} managers x {waves[level]} waves, {args.answers} answers each: baseline "
            f"{med(b[0] for b in base):6.1f} updates/s "
            f"{med(b[1] for b in base):5.2f} ms CPU, Rebond {med(r[0] for r in mine):6.1f} "
            f"updates/s {med(r[1] for r in mine):5.2f} ms CPU\n"
            f"                throughput ratio {med(ratios):.2f} "
            f"(runs: {', '.join(f'{x:.2f}' for x in ratios)}), CPU ratio baseline/Rebond "
            f"{med(thrift):.2f} (runs: {', '.join(f'{x:.2f}' for x in thrift)}); goals >= 0.9"
        )
    if len(levels) > 1:
        low, high = closed["Rebond", levels[0]], closed["Rebond", levels[-1]]
        growth = med(h[1] / lo[1] for h, lo in zip(high, low, strict=True))
        print(
            f"  Rebond CPU per update, {levels[-1]} vs {levels[0]} managers: {growth:.2f}x "
            "(goal <= 1.2)"
        )
    print(f"open loop, {OPEN_MANAGERS} managers, {args.seconds:.0f} s per rate, medians of runs:")
    for rate in rates:
        for name in bots:
            runs = opened[name, rate]
            p50 = med(statistics.median(r) for r in runs) * 1000
            p99 = med(percentile(r, 0.99) for r in runs) * 1000
            print(
                f"  {rate:>3}/s {name:>8}: reply seen by the simulator p50 {p50:6.1f} ms, "
                f"p99 {p99:6.1f} ms ({sum(map(len, runs))} replies)"
            )
        processing = [value for run in inside[rate] for value in run[0]]
        sending = [value for run in inside[rate] for value in run[1]]
        print(
            f"  {rate:>3}/s   inside Rebond: inbox -> reply committed p50 {ms(processing, 0.5)} "
            f"ms, p99 {ms(processing, 0.99)} ms; reply row -> sent p50 {ms(sending, 0.5)} ms, "
            f"p99 {ms(sending, 0.99)} ms"
        )
    print("goals at 30/s: Rebond p50 < 50 ms, p99 < 250 ms; at 100/s: p50 < 100 ms")
    if args.profile:
        print_profile(args.profile)
    return 0


def print_profile(path: Path, top: int = 25) -> None:
    """Rebond's functions by own CPU time, then by cumulative CPU time."""
    stats = pstats.Stats(str(path))
    for order in ("tottime", "cumulative"):
        print(f"\nRebond profile, top {top} by {order}:")
        stats.sort_stats(order).print_stats(top)


def report(label: str, rate: float, cpu: float) -> None:
    print(f"{label}: {rate:.1f} updates/s, {cpu:.2f} ms CPU per update", flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
