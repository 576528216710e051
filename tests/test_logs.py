"""At every log level, DEBUG included, the log holds neither the token nor an answer."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import LIBRARY_LOGGERS, REDACTED, RedactingFormatter, redact

from .e2e import TOKEN
from .fakebotapi import FakeBotApi
from .helpers import REAL_PLAYBOOK, ROOT

SECRET = TOKEN.split(":")[1]
ANSWER = "Zanzibar-confidentiel"


def test_redact_removes_the_token_and_anything_shaped_like_one():
    url = f"POST https://api.telegram.org/bot{TOKEN}/getUpdates"
    assert SECRET not in redact(url, [TOKEN])
    assert redact("bot987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/x") == f"bot{REDACTED}/x"
    assert redact("42 answers, 3:30 pm") == "42 answers, 3:30 pm"


def test_a_traceback_quoting_the_url_is_redacted():
    try:
        raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())
    assert SECRET not in RedactingFormatter("%(message)s", [TOKEN]).format(record)


@pytest.mark.e2e
@pytest.mark.slow  # a bot process at DEBUG
async def test_the_bot_at_debug_logs_neither_the_token_nor_an_answer(tmp_path: Path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "REBOND_DB": str(tmp_path / "bot.db"),
        "REBOND_PLAYBOOK": str(REAL_PLAYBOOK),
        "REBOND_POLL_TIMEOUT": "1",
        "REBOND_LOG_LEVEL": "DEBUG",
    }
    async with FakeBotApi() as api:
        fake = api.bot(TOKEN)
        env["REBOND_TELEGRAM_API_URL"] = api.url
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            await fake.wait_for_call("getUpdates", timeout=20)
            ana = api.user(TOKEN, 4001, "Ana", language_code="fr")
            await ana.send("/start")
            await ana.next_message(timeout=15)
            await ana.send(ANSWER)
            await ana.next_message(timeout=15)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                _, errors = process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                errors = process.communicate()[1]
    log = errors.decode()
    assert " DEBUG " in log  # it did log at DEBUG
    assert SECRET not in log
    assert ANSWER not in log
    assert "Traceback" not in log, log[-2000:]


def test_library_loggers_stay_at_warning_whatever_the_level(monkeypatch):
    from bot import logs

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # let basicConfig act, then restore
    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    try:
        logs.configure("DEBUG", [TOKEN])
        assert all(logging.getLogger(n).level == logging.WARNING for n in LIBRARY_LOGGERS)
        assert isinstance(root.handlers[0].formatter, RedactingFormatter)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        root.setLevel(logging.WARNING)
