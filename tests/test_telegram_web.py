"""The coach's web view wired into the Telegram bot, end to end over the fake Bot API (refs #12):
/web's one-time link and /web logout, the coaches' menu button, feedback written on the web
page reaching the manager's chat, and start-up when a port is taken."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.app import serve
from bot.bootstrap import build_services, open_storage
from bot.cli import web_side
from bot.startup import StartupError

from .e2e import TOKEN, bot_running, bot_settings, harness
from .fakebotapi import FakeBotApi
from .helpers import FakeClock, reflect
from .test_coach import pair, person, settle
from .test_telegram_coach import said
from .test_telegram_units import wait_until

pytestmark = pytest.mark.e2e

COACH = 900
MANAGER = 5001
TICK = 0.05
SIGNED_IN = 'name="csrf"'  # a signed-in page's logout form


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def web_overrides(port: int, url: str | None = None) -> dict[str, object]:
    return {
        "coach_ids": str(COACH),
        "web_url": url or f"http://127.0.0.1:{port}",
        "web_port": port,
        "checkin_tick_seconds": TICK,
    }


def browser_session() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1 as a browser does (aiohttp skips IP hosts)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(client: aiohttp.ClientSession, link: str) -> None:
    """Open a /web link as a browser does: the page, then its button (a POST spends it)."""
    async with client.get(link) as page:
        assert page.status == 200
    async with client.post(link) as signed:
        assert signed.status == 200, await signed.text()


async def test_web_sends_a_one_time_link_without_preview_and_logout_counts_sessions(
    tmp_path: Path,
):
    port = free_port()
    async with harness(tmp_path, **web_overrides(port)) as bot:
        ui = bot.playbook.ui
        coach, manager = bot.user(COACH, "Camille"), bot.user(MANAGER, "Claire")
        await coach.send("/web")
        sent = await said(coach, "vue web")
        link = re.search(rf"http://127\.0\.0\.1:{port}/login/\S+", sent.text).group(0)
        call = bot.fake_bot.calls("sendMessage")[-1]
        assert "/login/" in call.params["text"]
        assert call.params["link_preview_options"] == {"is_disabled": True}

        async with browser_session() as first, browser_session() as second:
            await sign_in(first, link)
            async with first.get(f"http://127.0.0.1:{port}/") as managers:
                assert managers.status == 200 and SIGNED_IN in await managers.text()
            async with second.post(link) as reused:
                assert reused.status == 403  # one time only
            coach.skip_messages()
            await coach.send("/web")
            second_link = re.search(r"http://\S+/login/\S+", (await coach.next_message()).text)
            assert second_link is not None and second_link.group(0) != link
            await sign_in(second, second_link.group(0))

            await coach.send("/web logout")
            ended = await said(coach, ui.coach_web_logout.fr.replace("{count}", "2"))
            assert ended is not None
            async with first.get(f"http://127.0.0.1:{port}/", allow_redirects=False) as after:
                assert after.status == 401 and SIGNED_IN not in await after.text()

        await manager.send("/web")  # not a coach: the usual refusal, no link
        refusal = await said(manager, ui.coach_only.fr)
        assert "/login/" not in refusal.text
        await coach.send("/web now")
        await said(coach, ui.coach_usage.fr)


async def test_without_web_url_web_says_it_is_off_and_no_menu_button(tmp_path: Path):
    async with harness(tmp_path, coach_ids=str(COACH)) as bot:
        coach = bot.user(COACH, "Camille")
        await coach.send("/web")
        await said(coach, bot.playbook.ui.coach_web_off.fr)
        assert not bot.fake_bot.calls("setChatMenuButton")


async def test_coaches_get_the_mini_app_menu_button_only_over_https(tmp_path: Path):
    port = free_port()
    url = "https://rebond.example/coach"
    async with harness(tmp_path, **web_overrides(port, url)) as bot:
        await bot.fake_bot.wait_for_call("setChatMenuButton", timeout=10)
        button = bot.fake_bot.settings[("menu_button", str(COACH))]
        assert button == {"type": "web_app", "text": "Rebond", "web_app": {"url": f"{url}/"}}
        assert ("menu_button", str(MANAGER)) not in bot.fake_bot.settings
    port = free_port()
    (tmp_path / "plain").mkdir()
    async with harness(tmp_path / "plain", **web_overrides(port)) as bot:
        coach = bot.user(COACH, "Camille")
        await coach.send("/web")
        await said(coach, "vue web")
        assert not bot.fake_bot.calls("setChatMenuButton")  # Telegram opens https only


async def test_a_removed_coach_gets_the_default_menu_back_at_the_next_start(tmp_path: Path):
    """REBOND_COACH_IDS loses a coach: at start-up their chat's Mini App button goes back to
    Telegram's default and their coach commands go, through the outbox; the new coach's come."""
    url, other = "https://rebond.example/coach", 901
    db = tmp_path / "bot.db"

    def coach_commands(api: FakeBotApi, chat: int) -> list[dict[str, str]]:
        return api.bot(TOKEN).get_commands({"type": "chat", "chat_id": chat}, "fr")

    async with FakeBotApi() as api:
        fake = api.bot(TOKEN)
        first = bot_settings(api.url, db, **web_overrides(free_port(), url))
        async with bot_running(api, first):
            await fake.wait_for_call("setChatMenuButton", timeout=10)
            await wait_until(lambda: coach_commands(api, COACH), timeout=10)
        assert fake.settings[("menu_button", str(COACH))]["type"] == "web_app"

        calls = len(fake.calls("setChatMenuButton"))
        overrides = {**web_overrides(free_port(), url), "coach_ids": str(other)}
        async with bot_running(api, bot_settings(api.url, db, **overrides)):
            await wait_until(
                lambda: (
                    ("menu_button", str(COACH)) not in fake.settings
                    and not coach_commands(api, COACH)
                    and fake.settings.get(("menu_button", str(other)), {}).get("type") == "web_app"
                ),
                timeout=10,
            )
        reset = [
            call.params
            for call in fake.calls("setChatMenuButton")[calls:]
            if str(call.params["chat_id"]) == str(COACH)
        ]
        assert len(reset) == 1 and "menu_button" not in reset[0]
        assert not fake.get_commands({"type": "chat", "chat_id": COACH}, "")

        calls = len(fake.calls("setChatMenuButton"))
        async with bot_running(api, bot_settings(api.url, db, **overrides)):  # once only
            await fake.wait_for_call("setChatMenuButton", timeout=10, after=calls)
        assert all(
            str(call.params["chat_id"]) == str(other)
            for call in fake.calls("setChatMenuButton")[calls:]
        )


async def test_feedback_written_on_the_web_page_reaches_the_manager(tmp_path: Path):
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    port = free_port()
    async with harness(tmp_path, clock=clock, **web_overrides(port)) as bot:
        services = bot.services
        coach, manager = bot.user(COACH, "Camille"), bot.user(MANAGER, "Claire")
        await manager.send("/start")  # Telegram lets a bot write only to those who started it
        await manager.next_message()
        coach_user = person(services, COACH, "Camille")
        claire = person(services, MANAGER, "Claire")
        pair(services, coach_user, claire)
        shared = reflect(services, claire, "Acme")
        settle(services, clock)

        await coach.send("/web")
        link = re.search(r"http://\S+/login/\S+", (await said(coach, "vue web")).text).group(0)
        page_url = f"http://127.0.0.1:{port}/reflections/{shared}"
        async with browser_session() as browser:
            await sign_in(browser, link)
            async with browser.get(page_url) as page:
                html = await page.text()
            csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
            form = {"csrf": csrf, "text": "Bravo pour le recul", "key": "k1"}
            async with browser.post(f"{page_url}/feedback", data=form) as posted:
                assert posted.status == 200
            async with browser.post(f"{page_url}/feedback", data=form) as again:
                assert again.status == 200  # the same form twice: one feedback

        received = await said(manager, "Bravo pour le recul")
        assert "Camille" in received.text
        rows = bot.query("SELECT delivered_at FROM feedback WHERE session_id = ?", [shared])
        await manager.wait_until(
            lambda: bot.query("SELECT 1 FROM feedback WHERE delivered_at IS NOT NULL") or None
        )
        assert len(rows) == 1
        await asyncio.sleep(5 * TICK)  # more ticks: never sent twice
        copies = [m for m in manager.messages if "Bravo pour le recul" in (m.text or "")]
        assert len(copies) == 1


async def test_a_web_port_in_use_ends_start_up_in_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeBotApi() as api:
            settings = bot_settings(api.url, tmp_path / "bot.db", **web_overrides(port))
            db = open_storage(settings)
            try:
                services = build_services(settings, db)
                with pytest.raises(StartupError, match=f"127.0.0.1:{port} is already in use"):
                    await serve(settings, services, asyncio.Event(), web_side(settings, services))
            finally:
                db.close()
            assert not api.bot(TOKEN).calls("getUpdates")


async def test_a_webhook_port_in_use_ends_start_up_in_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeBotApi() as api:
            settings = bot_settings(
                api.url,
                tmp_path / "bot.db",
                webhook_url="https://rebond.example/hook",
                webhook_port=port,
            )
            db = open_storage(settings)
            try:
                services = build_services(settings, db)
                with pytest.raises(StartupError, match=f"webhook port 127.0.0.1:{port}"):
                    await serve(settings, services, asyncio.Event())
            finally:
                db.close()
