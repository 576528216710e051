"""The coach's web view in a real browser: Playwright drives the system's Chromium (refs #12).

A coach opens the one-time link from /web, sees their managers, opens a reflection, adds a
note and sends feedback; the pages fit a phone's width, work from the keyboard, make no
request elsewhere, and axe-core finds no serious accessibility violation.

Chromium is the system's (`apt-get install chromium`, or REBOND_CHROMIUM=/path/to/chrome):
Playwright's own browser download is not used. Without one this test fails, saying how to
install it; it is never skipped. Set REBOND_SCREENSHOTS=docs to refresh the README's images.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.web import build_web_access, start_web
from storage.db import open_database

from .e2e import TOKEN, bot_running, bot_settings
from .fakebotapi import FakeBotApi
from .helpers import REAL_PLAYBOOK, ROOT
from .test_coach import COACH_TELEGRAM_ID, clock  # noqa: F401
from .webworld import OTHER_COACH_ID, build_world, web_settings

# A browser start and a few pages take 20-40 s on a loaded 2-core machine.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 740}


def chromium() -> str:
    """The system's Chromium, or a failure that says how to install one."""
    candidates = [
        os.environ.get("REBOND_CHROMIUM"),
        shutil.which("chromium"),
        "/usr/bin/chromium",
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "no Chromium for the browser tests: run `make test` as root on Debian/Ubuntu (it "
        "installs the chromium package), or `sudo apt-get install chromium`, or set "
        "REBOND_CHROMIUM=/path/to/chrome",
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def site(tmp_path: Path, clock):  # noqa: F811
    port = free_port()
    settings = web_settings(tmp_path, web_url=f"http://127.0.0.1:{port}", web_port=port)
    services = build_services(settings, open_database(settings.db_path), clock)
    world = build_world(services, clock)
    access = build_web_access(settings, services)
    server = await start_web(settings, services, access)
    yield settings.web_url, services, access, world
    await server.stop()
    services.conversation.db.close()


@pytest.fixture
async def browser():
    path = chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def bot_site(tmp_path: Path, clock):  # noqa: F811
    """The bot itself on the fake Bot API, serving the web view as `rebond run` does."""
    port = free_port()
    async with FakeBotApi() as api:
        settings = bot_settings(
            api.url,
            tmp_path / "web.db",
            playbook_path=REAL_PLAYBOOK,
            coach_ids=f"{COACH_TELEGRAM_ID},{OTHER_COACH_ID}",
            web_url=f"http://127.0.0.1:{port}",
            web_port=port,
            checkin_tick_seconds=0.05,
        )
        async with bot_running(api, settings, clock) as services:
            coach, ana = (
                api.user(TOKEN, COACH_TELEGRAM_ID, "Camille", language_code="fr"),
                api.user(TOKEN, 1, "Ana", language_code="fr"),
            )
            for user in (coach, ana):  # Telegram lets a bot write only to those who started it
                await user.send("/start")
                await user.next_message()
            world = build_world(services, clock)
            yield settings.web_url, services, world, coach, ana


def watch(page, base: str) -> list[str]:
    """Requests that leave the site, CSP refusals and script errors, as they happen (the
    sign-in page's 401 is expected and not one of them)."""
    problems: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(base) else problems.append(request.url),
    )
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "status of 401" not in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


async def shoot(page, name: str) -> None:
    """The README's image of this page, when REBOND_SCREENSHOTS names a folder."""
    folder = os.environ.get("REBOND_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / f"web-{name}.png"))


async def test_a_coach_reads_notes_and_sends_feedback(bot_site, browser):
    base, services, world, coach, ana = bot_site
    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    problems = watch(page, base)

    await coach.send("/web")  # the link the bot sends, through the fake Bot API
    link = await coach.wait_until(
        lambda: next((m for m in reversed(coach.messages) if "/login/" in (m.text or "")), None),
        timeout=20,
    )
    await page.goto(re.search(r"http://\S+/login/\S+", link.text).group(0))
    await page.get_by_role("button", name="Ouvrir mon espace").click()
    await page.get_by_role("heading", name="Mes managers").wait_for()
    assert await page.get_by_role("link", name="Ana", exact=True).is_visible()
    assert await page.get_by_text("Ben").count() == 0  # Ben stopped sharing
    await shoot(page, "managers")

    await page.get_by_role("link", name="Ana", exact=True).click()
    await page.get_by_role("heading", name="Réflexions partagées").wait_for()
    assert await page.get_by_role("cell", name="Acme").is_visible()
    assert await page.get_by_text("Globex").count() == 0  # kept private
    await shoot(page, "manager")

    await page.locator("table.cards tbody a").first.click()
    await page.get_by_role("heading", name="Synthèse", exact=False).wait_for()
    await shoot(page, "reflection")
    await page.get_by_label("Ajouter une note").fill("Relancer sur l'équipe la semaine prochaine.")
    await page.get_by_role("button", name="Enregistrer la note").click()
    await page.get_by_text("Note enregistrée.").wait_for()
    assert await page.get_by_text("Relancer sur l'équipe la semaine prochaine.").is_visible()
    await page.get_by_label("Votre message au manager").fill("Bravo pour la lucidité.")
    await page.get_by_role("button", name="Envoyer le retour").click()
    await page.get_by_text("Retour enregistré").wait_for()

    db = services.conversation.db
    feedback = list(db.query("SELECT manager_id, text, session_id FROM feedback"))
    assert feedback == [
        {"manager_id": world.ana.id, "text": "Bravo pour la lucidité.", "session_id": world.shared}
    ]
    audit = {(row["action"], row["manager_id"]) for row in db["audit"].rows}
    assert {("managers", world.ana.id), ("reflections", world.ana.id)} <= audit
    assert ("read", world.ana.id) in audit
    received = await ana.wait_until(
        lambda: next((m for m in ana.messages if "Bravo pour la lucidité." in (m.text or "")), None)
    )
    assert "Camille" in received.text  # the manager got it in Telegram, labelled as the coach's
    assert problems == []
    await context.close()


async def test_keyboard_phone_width_and_accessibility(site, browser):
    base, _, access, world = site
    assert AXE.exists(), "no axe-core: run `make test` (it installs axe-core with npm)"
    # axe is injected as a script: only this context lets it past the page's CSP.
    context = await browser.new_context(locale="fr-FR", viewport=PHONE, bypass_csp=True)
    page = await context.new_page()
    problems = watch(page, base)
    await page.goto(base + "/")
    pages = {"sign-in": base + "/"}
    await axe_check(page, "sign-in")
    await page.goto(access.issue_link(world.coach))
    await page.keyboard.press("Tab")  # the skip link first
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.keyboard.press("Tab")
    focused = await page.evaluate(
        "[document.activeElement.textContent.trim(), "
        "getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Ouvrir mon espace", "solid"]  # visible focus
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Mes managers").wait_for()
    pages.update(
        managers=base + "/",
        manager=f"{base}/managers/{world.ana_link}",
        reflection=f"{base}/reflections/{world.shared}",
    )
    for name, url in pages.items():
        await page.goto(url)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow}px of horizontal scroll on a phone"
        await axe_check(page, name)
    assert problems == []
    await context.close()


async def axe_check(page, name: str) -> None:
    """No serious or critical violation of axe-core's rules on this page."""
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(
        """async () => (await axe.run()).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    assert found == [], f"{name}: {found}"


async def test_the_mini_app_signs_in_with_telegrams_init_data(site, browser):
    from urllib.parse import quote

    from .test_web_access import FIELDS, TOKEN, telegram_sign

    base, _, access, _ = site
    fields = {**FIELDS, "auth_date": str(int(access.clock().timestamp()))}
    context = await browser.new_context(locale="fr-FR", viewport=PHONE)
    page = await context.new_page()
    problems = watch(page, base)
    # Telegram opens the Mini App's URL with its signed initData in the fragment.
    await page.goto(f"{base}/#tgWebAppData={quote(telegram_sign(fields, TOKEN))}")
    await page.get_by_role("heading", name="Mes managers").wait_for()
    forged = {**fields, "user": '{"id":1,"first_name":"Ana"}'}
    other = await browser.new_context(locale="fr-FR")
    refused = await other.new_page()
    async with refused.expect_response(lambda r: r.url.endswith("/auth/telegram")) as answer:
        await refused.goto(f"{base}/#tgWebAppData={quote(telegram_sign(forged, TOKEN))}")
    assert (await answer.value).status == 403
    assert await refused.get_by_role("heading", name="Connexion").is_visible()
    assert problems == []
    await context.close()
    await other.close()
