"""Webhook mode: updates posted by Telegram, the secret token checked on every request."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from .e2e import harness

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_conversation_through_the_webhook_and_a_wrong_secret_refused(tmp_path: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with harness(
        tmp_path,
        webhook_url=url,
        webhook_secret="s3cret-token",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    ) as bot:
        [registered] = bot.fake_bot.calls("setWebhook")
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == "s3cret-token"

        claire = bot.user(2001, "Claire")
        await claire.send("/start")
        language = await claire.next_message()
        assert language.button_texts == ["Français", "English"]
        update = await claire.press(language, "Français")
        assert (await claire.wait_for_answer(update)).text in (None, "")

        # Telegram with the wrong secret: refused, nothing processed
        bot.fake_bot.webhook_secret_override = "not-the-secret"
        await claire.send("/help")
        await claire.wait_until(
            lambda: any(d.status == 403 for d in bot.fake_bot.deliveries), timeout=10
        )
        # and anyone posting without the secret header
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json={"update_id": 1, "message": {}}) as response,
        ):
            assert response.status == 403
        help_text = bot.playbook.ui.help_telegram.fr
        assert not any(m.text == help_text for m in claire.messages)

        bot.fake_bot.webhook_secret_override = None
        await claire.send("/help")
        await claire.wait_until(lambda: any(m.text == help_text for m in claire.messages))
        assert all(d.secret_sent == "s3cret-token" for d in bot.fake_bot.deliveries if d.ok)


async def test_a_body_that_is_not_an_update_gets_400_and_one_log_line(tmp_path: Path, caplog):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    async with (
        harness(tmp_path, webhook_url=url, webhook_secret="s3cret-token", webhook_port=port) as bot,
        aiohttp.ClientSession(headers=headers) as session,
    ):
        for body in (b"not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": 7, "message": 3}'):
            async with session.post(url, data=body) as response:
                assert response.status == 400, body
        refused = [r for r in caplog.records if "webhook.refused" in r.getMessage()]
        assert len(refused) == 4 and all(r.exc_info is None for r in refused)
        assert bot.query("SELECT count(*) AS n FROM inbox")[0]["n"] == 0
