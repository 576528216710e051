"""The bot process killed with SIGKILL mid-update, a message sent while it is down, a restart:
nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.flows.engine import advance, ask
from bot.flows.loader import load_playbook
from bot.flows.state import Answer
from storage.db import open_database

from .e2e import TOKEN, walk
from .fakebotapi import FakeBotApi
from .helpers import REAL_PLAYBOOK, ROOT

pytestmark = pytest.mark.e2e


def start_bot(api_url: str, db_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "REBOND_TELEGRAM_API_URL": api_url,
        "REBOND_DB": str(db_path),
        "REBOND_PLAYBOOK": str(REAL_PLAYBOOK),
        "REBOND_POLL_TIMEOUT": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_bot(process: subprocess.Popen) -> bytes:
    """SIGTERM (unless it ended already), then its stderr; SIGKILL if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, errors = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        errors = process.communicate()[1]
    return errors


def answers(db_path: Path) -> list[tuple[str, str]]:
    db = open_database(db_path)
    try:
        return [
            (row["flow"], row["step"])
            for row in db.query(
                "SELECT sessions.flow, answers.step FROM answers JOIN sessions "
                "ON sessions.id = answers.session_id ORDER BY answers.id"
            )
        ]
    finally:
        db.close()


async def wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.slow  # about 25 s: a subprocess killed and restarted
async def test_sigkill_mid_update_then_restart_loses_and_doubles_nothing(tmp_path: Path):
    db_path = tmp_path / "bot.db"
    async with FakeBotApi() as api:
        fake = api.bot(TOKEN)
        process = start_bot(api.url, db_path)
        try:
            await fake.wait_for_call("getUpdates", timeout=20)
            claire = api.user(TOKEN, 3001, "Claire", language_code="fr")
            playbook = load_playbook(REAL_PLAYBOOK)
            await claire.send("/start")
            onboarding = walk(claire, playbook, "onboarding", "fr", lambda a: "")
            await onboarding.to_the_end()
            reflection = walk(claire, playbook, "lost_client", "fr")

            def next_two_are_text() -> bool:
                current = ask(playbook, reflection.state)
                if current is None or current.kind != "text":
                    return False
                after, _ = advance(playbook, reflection.state, Answer("x"))
                following = ask(playbook, after)
                return following is not None and following.kind == "text"

            while not next_two_are_text():
                await reflection.answer()
            question = await reflection.question(ask(playbook, reflection.state))
            stored_before = len(answers(db_path))

            # The bot stores answer A, then hangs sending the next question: kill it right there.
            fake.delay_next(30, method="sendMessage")
            await claire.send("Réponse A")
            await wait_for(lambda: len(answers(db_path)) == stored_before + 1)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=10)
            assert process.returncode == -signal.SIGKILL
            assert claire.messages[-1].message_id == question.message_id  # no reply went out

            # While it is down, the manager answers the next question, a few seconds later (two
            # messages sent within a second are one intent: a paste Telegram split, refs #9).
            api.now = lambda: time.time() + 5
            await claire.send("Réponse B")
            for text in ("Réponse A", "Réponse B"):
                reflection.answered.append(reflection.state.step or "")
                reflection.state, _ = advance(playbook, reflection.state, Answer(text))

            process = start_bot(api.url, db_path)
            await wait_for(lambda: len(answers(db_path)) == stored_before + 2, timeout=30)
            done = await reflection.to_the_end()
            await claire.wait_until(
                lambda: any(done.title in (m.text or "") for m in claire.messages), timeout=10
            )
        finally:
            errors = stop_bot(process)

    stored = answers(db_path)
    reflection_steps = [step for flow_id, step in stored if flow_id == "lost_client"]
    assert reflection.state.done
    assert reflection_steps == reflection.answered  # every answer once, in order
    assert b"Traceback" not in errors, errors.decode()[-2000:]
    # its logs name events, never the token or what the manager wrote
    assert b"flow.answered" in errors
    assert TOKEN.split(":")[1].encode() not in errors
    assert "Réponse B".encode() not in errors
