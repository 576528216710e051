"""A kill -9 soak: managers walk the reflection while the bot process is SIGKILLed and restarted
again and again, and Telegram answers every method with random 429s, 5xx and delays.

Nothing may be lost or doubled, nobody may have to type anything but their answers to see
their next question, and nobody gets an apology. A manager's patience runs while the bot runs:
a restart's downtime is the machine's (a restart costs a few seconds of CPU, minutes on a
loaded one, and the soak restarts the bot every few calls), a question that does not come while
the bot runs is the bot's. The figures are printed (pytest -s), the longest wait and what it
was made of included.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.flows.engine import advance, ask, start
from bot.flows.loader import load_playbook
from bot.flows.model import Playbook
from bot.flows.state import Answer, Ask, Pick, SessionState, Submit, Toggle
from storage.db import open_database

from .e2e import TOKEN
from .fakebotapi import FakeBotApi, FakeUser
from .helpers import REAL_PLAYBOOK
from .test_telegram_restart import start_bot, stop_bot

pytestmark = pytest.mark.e2e

MANAGERS = 30
KILLS = 20
ANSWERS = 12
"""Answers per manager: the onboarding, then the reflection's first questions."""
FAULT_PROBABILITY = 0.1
QUESTION_PATIENCE = 60.0
"""Seconds of the bot running (polling) a manager waits for their next question: beyond, they
would have typed /resume, and are counted as needing something else. The bot's downtime while
it restarts is not counted (it is printed): on a loaded machine a restart takes 20-30 s and the
bot may run for a second between two kills, so a wall-clock minute would measure the machine."""
CALLS_BETWEEN_KILLS = (3, 40)
"""Each kill lands after a random number of Bot API calls since the restart (so at a random
point of the bot's work, whatever the machine's load), or after IDLE_BEFORE_KILL s of nothing."""
IDLE_BEFORE_KILL = 2.0


@dataclass
class Uptime:
    """How long the bot has run, restarts left out: the clock a manager's patience runs on.

    The bot runs from its first getUpdates after a start to its kill (loop time)."""

    banked: float = 0.0
    since: float | None = None
    down_at: float | None = None
    downtimes: list[float] = field(default_factory=list)

    def now(self) -> float:
        running = 0.0 if self.since is None else asyncio.get_running_loop().time() - self.since
        return self.banked + running

    def up(self, ago: float = 0.0) -> None:
        """The bot polled `ago` seconds ago."""
        self.since = asyncio.get_running_loop().time() - max(ago, 0.0)
        if self.down_at is not None:
            self.downtimes.append(self.since - self.down_at)

    def down(self) -> None:
        self.down_at = asyncio.get_running_loop().time()
        if self.since is not None:
            self.banked += max(self.down_at - self.since, 0.0)
            self.since = None


@dataclass(frozen=True)
class Wait:
    """A manager waiting for the bot: how long, how much of it the bot ran, across how many
    restarts."""

    manager: int
    what: str
    seconds: float
    running: float
    restarts: int

    def __str__(self) -> str:
        return (
            f"M{self.manager} at {self.what}: {self.seconds:.0f} s, {self.running:.0f} s of it "
            f"with the bot running, {self.seconds - self.running:.0f} s down ({self.restarts} "
            "kills)"
        )


@dataclass
class Manager:
    """One manager walking their flows, the engine telling what they should see next."""

    user: FakeUser
    playbook: Playbook
    state: SessionState
    uptime: Uptime
    flow: str = "onboarding"
    last_seen: int = 0
    answered: list[tuple[str, str]] = field(default_factory=list)
    stuck: int = 0
    stuck_at: list[str] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)

    async def walk(self) -> None:
        await self.user.send("/start")
        while len(self.answered) < ANSWERS:
            expected = ask(self.playbook, self.state)
            assert expected is not None
            message = await self._question(expected)
            if message is None:
                self.stuck += 1
                self.stuck_at.append(f"{expected.step}:question")
                await self.user.send("/resume")  # what a manager would do
                continue
            await self._answer(expected, message)

    async def _question(self, expected: Ask):
        def shown():
            for message in reversed(self.user.messages):
                if message.message_id <= self.last_seen:
                    break
                if expected.prompt in (message.text or "") and bool(message.button_texts) == bool(
                    expected.options
                ):
                    return message
            return None

        message = await self._wait(shown, expected.step)
        if message is not None:
            self.last_seen = message.message_id
        return message

    async def _wait(self, predicate, what: str):
        """predicate()'s result once true, or None once QUESTION_PATIENCE s of the bot running
        went by without it."""
        loop = asyncio.get_running_loop()
        started, running, downtimes = loop.time(), self.uptime.now(), len(self.uptime.downtimes)
        try:
            while (left := QUESTION_PATIENCE - (self.uptime.now() - running)) > 0:
                with contextlib.suppress(TimeoutError):
                    return await self.user.wait_until(predicate, timeout=left)
            return predicate() or None
        finally:
            restarts = len(self.uptime.downtimes) - downtimes + (self.uptime.since is None)
            self.waits.append(
                Wait(
                    self.user.id,
                    what,
                    loop.time() - started,
                    self.uptime.now() - running,
                    restarts,
                )
            )

    async def _answer(self, expected: Ask, message) -> None:
        if expected.kind == "multi_choice":
            option = expected.options[0]
            await self.user.press(message, option.label)
            self.state, _ = advance(self.playbook, self.state, Toggle(option.id))

            def ticked():
                now = next(m for m in self.user.messages if m.message_id == message.message_id)
                return now if any("✓" in text for text in now.button_texts) else None

            shown = await self._wait(ticked, f"{expected.step}:tick")  # the same, with the tick
            if shown is None:
                self.stuck += 1
                self.stuck_at.append(f"{expected.step}:tick")
                shown = message
            await self.user.press(shown, shown.button_texts[-1])
            self.state, _ = advance(self.playbook, self.state, Submit())
        elif expected.options:
            option = expected.options[0]
            await self.user.press(message, option.label)
            self.state, _ = advance(self.playbook, self.state, Pick(option.id))
        else:
            text = "3" if expected.kind == "number" else f"Réponse {expected.step}"
            await self.user.send(text)
            self.state, _ = advance(self.playbook, self.state, Answer(text))
        self.answered.append((self.flow, expected.step))
        if self.state.done:  # the onboarding chains into the reflection
            self.flow = "lost_client"
            self.state, _ = start(self.playbook, self.flow, "fr", {})


@pytest.mark.slow
@pytest.mark.timeout(600)  # about two minutes on a quiet machine; more under load
async def test_kill_9_soak_loses_and_doubles_nothing(tmp_path: Path):
    db_path = tmp_path / "bot.db"
    rng = random.Random(8)
    playbook = load_playbook(REAL_PLAYBOOK)
    async with FakeBotApi(callback_query_ttl=15) as api:
        fake = api.bot(TOKEN)
        uptime = Uptime()
        process = start_bot(api.url, db_path)
        uptime.up(_ago(await fake.wait_for_call("getUpdates", timeout=60)))
        faults = fake.inject_random_faults(FAULT_PROBABILITY, seed=8, max_delay=0.5)
        managers = [
            Manager(
                api.user(TOKEN, 9300 + n, f"M{n}", language_code="fr"),
                playbook,
                start(playbook, "onboarding", "fr", {})[0],
                uptime,
            )
            for n in range(MANAGERS)
        ]
        walking = asyncio.gather(*(m.walk() for m in managers))
        kills = 0
        try:
            while kills < KILLS and not walking.done():
                await _let_it_work(fake, rng.randint(*CALLS_BETWEEN_KILLS))
                process.send_signal(signal.SIGKILL)
                uptime.down()
                process.communicate(timeout=10)
                kills += 1
                polls = fake.count("getUpdates")
                process = start_bot(api.url, db_path)
                uptime.up(_ago(await fake.wait_for_call("getUpdates", timeout=60, after=polls)))
            await asyncio.wait_for(walking, timeout=300)
            faults.probability = 0  # let the last rows go out, then look
            await _quiet(db_path, fake)
        finally:
            errors = stop_bot(process)
            if not walking.done():
                walking.cancel()

    db = open_database(db_path)
    try:
        stored = {
            key: [(row["flow"], row["step"]) for row in rows]
            for key, rows in _answers_by_user(db).items()
        }
        outbox = {row["status"]: row["n"] for row in db.query(OUTBOX_STATUSES)}
        undelivered = list(db.query(UNDELIVERED))
        integrity = next(iter(db.query("PRAGMA integrity_check")))["integrity_check"]
    finally:
        db.close()
    apology = playbook.ui.error_apology.fr
    lost = duplicated = 0
    for manager in managers:
        mine = stored.get(f"telegram:{manager.user.id}", [])
        missing = [step for step in manager.answered if step not in mine]
        if missing:
            print("\nLOST", manager.user.id, missing, "answered", manager.answered, "stored", mine)
        lost += len(missing)
        duplicated += len(mine) - len(set(mine))
    waits = [wait for manager in managers for wait in manager.waits]
    figures = {
        "managers": MANAGERS,
        "sigkills": kills,
        "answers given": sum(len(m.answered) for m in managers),
        "answers lost": lost,
        "answers duplicated": duplicated,
        "managers needing anything but an answer": sum(1 for m in managers if m.stuck),
        "stuck at": [step for m in managers for step in m.stuck_at],
        "longest wait": max(waits, key=lambda wait: wait.seconds),
        "longest wait while the bot ran": max(waits, key=lambda wait: wait.running),
        "restarts": f"slowest {max(uptime.downtimes):.1f} s, "
        f"{sum(uptime.downtimes):.0f} s down in all",
        "apologies": sum(m.text == apology for mgr in managers for m in mgr.user.messages),
        "outbox rows lost": len(undelivered),
        "outbox rows by status": outbox,
        "faults injected": dict(faults.injected),
        "integrity_check": integrity,
    }
    print("\nkill -9 soak:", ", ".join(f"{k}={v}" for k, v in figures.items()))
    assert kills == KILLS
    assert b"Traceback" not in errors, errors.decode()[-2000:]
    assert lost == 0 and duplicated == 0
    assert figures["managers needing anything but an answer"] == 0
    assert figures["apologies"] == 0
    assert undelivered == [], undelivered
    assert integrity == "ok"


def _ago(call) -> float:
    """How long ago the fake Bot API received that call."""
    return time.time() - call.at


OUTBOX_STATUSES = "SELECT status, count(*) AS n FROM outbox GROUP BY status"
UNDELIVERED = (
    # A cosmetic row (a callback answer past the query's lifetime, an edit) may end unsent.
    "SELECT id, kind, status, last_error FROM outbox WHERE status = 'pending' "
    "OR (status IN ('failed', 'expired') "
    "AND kind NOT IN ('callback_answer', 'answered_edit', 'commands'))"
)


def _answers_by_user(db) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in db.query(
        "SELECT users.key, sessions.flow, answers.step FROM answers "
        "JOIN sessions ON sessions.id = answers.session_id "
        "JOIN users ON users.id = sessions.user_id ORDER BY answers.id"
    ):
        grouped.setdefault(row["key"], []).append(row)
    return grouped


async def _let_it_work(fake, calls: int) -> None:
    """Until the bot has made `calls` more Bot API calls, or has been idle for a while.

    Spacing kills by work rather than by seconds keeps the soak meaningful on a loaded machine,
    where a restart alone can take longer than any fixed interval."""

    def work() -> int:  # every call but the long polls, which an idle bot makes too
        return fake.count() - fake.count("getUpdates")

    loop = asyncio.get_running_loop()
    target, seen, since = work() + calls, work(), loop.time()
    while work() < target and loop.time() - since < IDLE_BEFORE_KILL:
        await asyncio.sleep(0.02)
        if work() != seen:
            seen, since = work(), loop.time()


async def _quiet(db_path: Path, fake, timeout: float = 120.0) -> None:
    """Until Telegram has handed over every update, the inbox is worked off and the outbox has
    nothing pending; fails if that does not happen (the figures would count answers in flight)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if fake.pending_update_count:
            await asyncio.sleep(0.2)
            continue
        db = open_database(db_path)
        try:
            waiting = next(
                iter(
                    db.query(
                        "SELECT (SELECT count(*) FROM inbox WHERE processed_at IS NULL) + "
                        "(SELECT count(*) FROM outbox WHERE status = 'pending') AS n"
                    )
                )
            )["n"]
        finally:
            db.close()
        if waiting == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the bot did not catch up within {timeout:.0f} s")
