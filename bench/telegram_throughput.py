"""Telegram throughput: simulated managers against Rebond, and against a bare PTB echo bot.

Usage:
    python bench/telegram_throughput.py [--managers N] [--answers M]

Both bots run as subprocesses polling the same fake Bot API server (tests/fakebotapi), which
runs here with the simulated users. Each manager acts, waits for the bot's reply, acts
again. Printed: messages per second, p50 and p99 reply latency, and the ratio Rebond / echo
(goal >= 0.9). For Rebond a reply is the next question on screen after an answer (the bot
has stored the answer, edited the answered question and sent the next one); for the echo bot
it is the echo.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
from bot.flows.state import Answer, Pick, Submit, Toggle  # noqa: E402
from tests.fakebotapi import FakeBotApi, FakeUser  # noqa: E402

REBOND_TOKEN = "111111:rebond-bench-token"
ECHO_TOKEN = "222222:echo-bench-token"
PLAYBOOK = load_playbook(ROOT / "content" / "playbook.yaml")


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def newest(user: FakeUser, after: int, contains: str = "") -> int:
    """Wait for a bot message newer than `after` (containing `contains`); its id."""

    def found() -> int | None:
        for message in reversed(user.messages):
            if message.message_id > after and contains in (message.text or ""):
                return message.message_id
        return None

    return await user.wait_until(found, timeout=60)


async def rebond_manager(user: FakeUser, answers: int, latencies: list[float]) -> int:
    """Onboard, then answer `answers` questions of the reflection; returns actions made."""
    await user.send("/start")
    last = await newest(user, 0)
    await user.press(user.messages[-1], "Français")
    last = await newest(user, last, PLAYBOOK.flows["onboarding"].step_by_id["ready"].prompt.fr)
    await user.press(user.messages[-1], "Oui")
    state, _ = start(PLAYBOOK, "lost_client", "fr")
    actions = 0
    for _ in range(answers):
        question = ask(PLAYBOOK, state)
        if question is None:
            break
        last = await newest(user, last, question.prompt)
        message = next(m for m in user.messages if m.message_id == last)
        began = time.perf_counter()
        if question.kind == "multi_choice":
            await user.press(message, question.options[0].label)
            await user.wait_until(lambda shown=message: "✓" in " ".join(shown.button_texts))
            fresh = next(m for m in user.messages if m.message_id == last)
            await user.press(fresh, fresh.button_texts[-1])
            events = [Toggle(question.options[0].id), Submit()]
        elif question.options:
            await user.press(message, question.options[0].label)
            events = [Pick(question.options[0].id)]
        else:
            text = "3" if question.kind == "number" else f"Réponse {actions}"
            await user.send(text)
            events = [Answer(text)]
        for event in events:
            state, _ = advance(PLAYBOOK, state, event)
        following = ask(PLAYBOOK, state)
        await newest(user, last, following.prompt if following else "")
        latencies.append(time.perf_counter() - began)
        actions += 1
    return actions


async def echo_user(user: FakeUser, messages: int, latencies: list[float]) -> int:
    last = 0
    for index in range(messages):
        began = time.perf_counter()
        await user.send(f"echo {index} from {user.id}")
        last = await newest(user, last, f"echo {index} from {user.id}")
        latencies.append(time.perf_counter() - began)
    return messages


async def measure(api: FakeBotApi, token: str, managers: int, answers: int, rebond: bool):
    latencies: list[float] = []
    users = [api.user(token, 10_000 + n, f"Manager {n}") for n in range(managers)]
    began = time.perf_counter()
    if rebond:
        counts = await asyncio.gather(*[rebond_manager(u, answers, latencies) for u in users])
    else:
        counts = await asyncio.gather(*[echo_user(u, answers, latencies) for u in users])
    elapsed = time.perf_counter() - began
    return sum(counts) / elapsed, latencies


def api_calls(api: FakeBotApi, token: str) -> dict[str, int]:
    """How many times the bot called each Bot API method, most called first."""
    counts: dict[str, int] = {}
    for call in api.bot(token).calls():
        counts[call.method] = counts.get(call.method, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def describe(name: str, rate: float, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name}: {rate:.1f} messages/s, reply latency "
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
        f"({len(ordered)} replies)"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=20)
    parser.add_argument("--answers", type=int, default=30, help="answers per manager")
    args = parser.parse_args()
    async with FakeBotApi() as api:
        with tempfile.TemporaryDirectory() as folder:
            profile = os.environ.get("BENCH_PROFILE")  # a path: cProfile the bot into it
            prefix = ["-m", "cProfile", "-o", profile] if profile else []
            rebond = spawn(
                [*prefix, "-m", "bot"],
                {
                    "TELEGRAM_BOT_TOKEN": REBOND_TOKEN,
                    "REBOND_TELEGRAM_API_URL": api.url,
                    "REBOND_DB": str(Path(folder) / "bench.db"),
                    "REBOND_POLL_TIMEOUT": "1",
                    "REBOND_LOG_LEVEL": "WARNING",
                    "REBOND_MAX_MESSAGES_PER_SECOND": os.environ.get("BENCH_REBOND_RATE", "0"),
                    "REBOND_DURABLE_WRITES": os.environ.get("BENCH_REBOND_DURABLE", "true"),
                },
            )
            echo = spawn(["bench/echo_bot.py", api.url, ECHO_TOKEN], {})
            try:
                await api.bot(REBOND_TOKEN).wait_for_call("getUpdates", timeout=30)
                await api.bot(ECHO_TOKEN).wait_for_call("getUpdates", timeout=30)
                echo_cpu = cpu_seconds(echo.pid)
                echo_rate, echo_lat = await measure(
                    api, ECHO_TOKEN, args.managers, args.answers, False
                )
                echo_cpu = cpu_seconds(echo.pid) - echo_cpu
                rebond_cpu = cpu_seconds(rebond.pid)
                rebond_rate, rebond_lat = await measure(
                    api, REBOND_TOKEN, args.managers, args.answers, True
                )
                rebond_cpu = cpu_seconds(rebond.pid) - rebond_cpu
                calls = {
                    name: api_calls(api, token)
                    for name, token in (("echo", ECHO_TOKEN), ("Rebond", REBOND_TOKEN))
                }
            finally:
                for process in (rebond, echo):
                    process.terminate()
                    # wait off the event loop: the fake server must keep answering meanwhile
                    await asyncio.to_thread(process.wait, 30)
    print(f"{args.managers} managers x {args.answers} answers each, fake Bot API on loopback")
    print(describe("echo bot (baseline)", echo_rate, echo_lat))
    print(describe("Rebond", rebond_rate, rebond_lat))
    print(
        f"bot CPU per message: echo {echo_cpu / len(echo_lat) * 1000:.2f} ms, "
        f"Rebond {rebond_cpu / len(rebond_lat) * 1000:.2f} ms"
    )
    ratio = rebond_rate / echo_rate
    print(f"ratio Rebond / echo: {ratio:.2f} (goal >= 0.9)")
    for name, counts in calls.items():
        print(f"Bot API calls, {name}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
