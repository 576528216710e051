"""One bot per database and per token: a second process stops at once, with one clear line."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from .e2e import TOKEN
from .fakebotapi import FakeBotApi
from .test_telegram_restart import start_bot, stop_bot

pytestmark = pytest.mark.e2e


async def exited(process: subprocess.Popen, timeout: float) -> int | None:
    deadline = asyncio.get_running_loop().time() + timeout
    while process.poll() is None and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    return process.poll()


def stop(process: subprocess.Popen) -> str:
    return stop_bot(process).decode()


@pytest.mark.slow  # two bot processes started
async def test_a_second_process_on_the_same_database_exits_at_once_naming_the_first(
    tmp_path: Path,
):
    db_path = tmp_path / "bot.db"
    async with FakeBotApi() as api:
        first = start_bot(api.url, db_path)
        try:
            await api.bot(TOKEN).wait_for_call("getUpdates", timeout=20)
            second = start_bot(api.url, db_path)
            assert await exited(second, timeout=15) == 1
            lines = [line for line in stop(second).splitlines() if line.strip()]
            assert len(lines) == 1, lines
            assert lines[0].startswith("rebond: another Rebond process (pid ")
            assert f"(pid {first.pid})" in lines[0] and str(db_path) in lines[0]
            claire = api.user(TOKEN, 9101, "Claire", language_code="fr")
            await claire.send("/start")  # the first one keeps serving
            await claire.next_message(timeout=15)
            assert first.poll() is None
        finally:
            errors = stop(first)
    assert "Traceback" not in errors


@pytest.mark.slow  # about 15 s: two pollers until one gives up
async def test_repeated_409_conflicts_from_another_poller_end_with_one_line(tmp_path: Path):
    async with FakeBotApi() as api:
        first = start_bot(api.url, tmp_path / "one.db")
        second = start_bot(api.url, tmp_path / "two.db")  # another machine, same token
        try:
            # One of them gives up (the other then polls alone and stays): wait for the first.
            deadline = asyncio.get_running_loop().time() + 40
            while first.poll() is None and second.poll() is None:
                assert asyncio.get_running_loop().time() < deadline, "neither gave up in 40 s"
                await asyncio.sleep(0.1)
            codes = [first.poll(), second.poll()]
            assert 1 in codes, codes
        finally:
            outputs = [stop(first), stop(second)]
    for code, output in zip(codes, outputs, strict=True):
        assert "Traceback" not in output
        if code == 1:
            last = [line for line in output.splitlines() if line.strip()][-1]
            assert last.startswith("rebond: Telegram answered 409 Conflict"), last
            assert sum(line.startswith("rebond:") for line in output.splitlines()) == 1
