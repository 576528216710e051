"""The web view's routes over HTTP: pages, forms, audit, and who may see what (refs #12).

The authorisation test tries every route as every kind of visitor who must not see a manager's
data, counts the attempts and the successes (goal: 0 successes), and prints them (pytest -s).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import build_services
from bot.web import build_web_access, create_web_app
from storage import web as web_store
from storage.db import open_database

from .helpers import FakeClock
from .test_coach import clock  # noqa: F401
from .webworld import World, build_world, web_settings


@pytest.fixture
async def web(tmp_path: Path, clock: FakeClock):  # noqa: F811
    settings = web_settings(tmp_path)
    services = build_services(settings, open_database(settings.db_path), clock)
    world = build_world(services, clock)
    access = build_web_access(settings, services)
    client = TestClient(TestServer(create_web_app(settings, services, access)))
    await client.start_server()
    yield client, services, access, world
    await client.close()
    services.conversation.db.close()


def cookie_for(access, user) -> dict[str, str]:
    """A signed-in browser of `user` (through a real one-time link)."""
    url = access.issue_link(user)
    assert url is not None, f"{user.display_name} cannot get a link"
    token = access.open_link(url.rsplit("/", 1)[1])
    assert isinstance(token, str)
    return {"Cookie": f"rebond={token}"}


async def csrf_of(client, headers, path: str) -> str:
    page = await client.get(path, headers=headers)
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', await page.text())
    assert match, await page.text()
    return match.group(1)


def rows(services, table: str) -> int:
    return services.conversation.db[table].count


async def test_a_coach_reads_and_writes_and_every_read_is_audited(web):
    client, services, access, world = web
    headers = cookie_for(access, world.coach)
    managers = await client.get("/", headers=headers)
    body = await managers.text()
    assert managers.status == 200 and "Ana" in body and "Ben" not in body
    assert '<svg class="spark"' in body and "Humeur des 14 derniers jours" in body
    manager = await client.get(f"/managers/{world.ana_link}", headers=headers)
    body = await manager.text()
    assert manager.status == 200 and "Acme" in body and "Globex" not in body
    assert "8 → 3" in body and "6 → 4" in body and 'stroke-dasharray="6 4"' in body
    reflection = await client.get(f"/reflections/{world.shared}", headers=headers)
    body = await reflection.text()
    assert reflection.status == 200 and "Les faits" in body and "Synthèse" in body
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', body).group(1)
    form = {"csrf": csrf, "key": "k1", "text": "Belle lucidité sur les faits."}
    saved = await client.post(
        f"/reflections/{world.shared}/notes", data=form, headers=headers, allow_redirects=False
    )
    assert saved.status == 303 and saved.headers["Location"].endswith("?done=note_saved#notes")
    again = await client.post(f"/reflections/{world.shared}/notes", data=form, headers=headers)
    assert "Belle lucidité sur les faits." in await again.text() and "Note enregistrée" in (
        await again.text()
    )
    assert rows(services, "coach_notes") == 1  # the same form sent twice adds one note
    sent = await client.post(
        f"/reflections/{world.shared}/feedback",
        data={"csrf": csrf, "key": "k2", "text": "Bravo pour ce travail."},
        headers=headers,
    )
    assert sent.status == 200 and "Retour enregistré" in await sent.text()
    feedback = list(services.conversation.db["feedback"].rows)
    assert [(f["manager_id"], f["text"], f["delivered_at"]) for f in feedback] == [
        (world.ana.id, "Bravo pour ce travail.", None)
    ]
    actions = [row["action"] for row in services.conversation.db["audit"].rows]
    assert {"managers", "reflections", "trend", "read"} <= set(actions)


async def test_pages_follow_the_coachs_language(web):
    client, services, access, world = web
    services.conversation.set_language(world.coach, "en")
    headers = cookie_for(access, world.coach)
    body = await (await client.get("/", headers=headers)).text()
    assert '<html lang="en">' in body and "My managers" in body


async def test_empty_and_forged_forms_are_refused(web):
    client, services, access, world = web
    headers = cookie_for(access, world.coach)
    path = f"/reflections/{world.shared}"
    csrf = await csrf_of(client, headers, path)
    empty = await client.post(f"{path}/notes", data={"csrf": csrf, "text": "  "}, headers=headers)
    assert "Le texte est vide" in await empty.text()
    long = await client.post(
        f"{path}/notes", data={"csrf": csrf, "text": "x" * 3501}, headers=headers
    )
    assert "dépasse 3500 caractères" in await long.text()
    forged = await client.post(f"{path}/notes", data={"text": "x"}, headers=headers)
    assert forged.status == 403 and "Rechargez la page" in await forged.text()
    other = await client.post(
        f"{path}/notes", data={"csrf": "0" * 64, "text": "x"}, headers=headers
    )
    assert other.status == 403
    assert rows(services, "coach_notes") == 0


async def test_security_headers_and_cookie(web):
    client, _, access, world = web
    url = access.issue_link(world.coach)
    path = "/" + url.split("/", 3)[3]
    page = await client.get(path)
    assert page.status == 200 and "Ouvrir mon espace" in await page.text()
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    opened = await client.post(path, allow_redirects=False)
    cookie = opened.headers["Set-Cookie"]
    assert opened.status == 303 and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert opened.headers["Content-Security-Policy"] == page.headers["Content-Security-Policy"]
    wrong_method = await client.get("/logout")
    assert wrong_method.status == 405 and "Content-Security-Policy" in wrong_method.headers
    unknown = await client.get("/nowhere")
    assert unknown.status == 404 and "Introuvable" in await unknown.text()
    assert "Max-Age=43200" in cookie and "Secure" not in cookie  # http here; Secure on https
    reused = await client.post(path)
    assert reused.status == 403 and "déjà servi" in await reused.text()
    bad = await client.get("/login/garbage")
    assert bad.status == 403 and "pas valable" in await bad.text()


async def test_the_mini_app_posts_init_data_for_a_cookie(web):
    from .test_web_access import FIELDS, TOKEN, telegram_sign

    client, _, access, _ = web
    fields = {**FIELDS, "auth_date": str(int(access.clock().timestamp()))}
    signed = await client.post("/auth/telegram", data=telegram_sign(fields, TOKEN))
    assert signed.status == 204 and "HttpOnly" in signed.headers["Set-Cookie"]
    refused = await client.post("/auth/telegram", data=telegram_sign(fields, "1:other"))
    assert refused.status == 403 and "Set-Cookie" not in refused.headers
    assert (await client.get("/")).status == 200  # the cookie set for the Mini App's page
    client.session.cookie_jar.clear()
    page = await client.get("/")
    assert page.status == 401 and "/static/miniapp.js" in await page.text()


def attempts_for(world: World) -> list[tuple[str, str, str, str]]:
    """(who, method, path, a word of the manager's data that must not come back)."""
    forbidden = {
        "manager": [
            ("GET", "/", "Ana"),
            ("GET", f"/managers/{world.ana_link}", "Acme"),
            ("GET", f"/reflections/{world.shared}", "Acme"),
        ],
        "unlinked coach": [
            ("GET", "/", "Ana"),
            ("GET", f"/managers/{world.ana_link}", "Acme"),
            ("GET", f"/reflections/{world.shared}", "Acme"),
        ],
        "private reflection": [
            ("GET", f"/managers/{world.ana_link}", "Globex"),
            ("GET", f"/reflections/{world.private}", "Globex"),
        ],
        "after /unshare": [
            ("GET", "/", "Ben"),
            ("GET", f"/managers/{world.ben_link}", "Initech"),
            ("GET", f"/reflections/{world.unshared}", "Initech"),
        ],
        "no session": [
            ("GET", "/", "Ana"),
            ("GET", f"/managers/{world.ana_link}", "Acme"),
            ("GET", f"/reflections/{world.shared}", "Acme"),
        ],
    }
    writes = {
        "manager": world.shared,
        "unlinked coach": world.shared,
        "private reflection": world.private,
        "after /unshare": world.unshared,
        "no session": world.shared,
    }
    attempts = [
        (who, method, path, word)
        for who, tried in forbidden.items()
        for method, path, word in tried
    ]
    for who, session in writes.items():
        attempts += [
            (who, "POST", f"/reflections/{session}/notes", ""),
            (who, "POST", f"/reflections/{session}/feedback", ""),
        ]
    return attempts


async def test_no_route_shows_or_takes_what_is_not_shared(web):
    client, services, access, world = web
    db = services.conversation.db
    # Ana, a manager, with a session as if she had been a coach once: refused at every request.
    forged = hashlib.sha256(b"ana-session").hexdigest()
    web_store.create_session(db, forged, world.ana.id, "link", "2000", "9999")
    as_coach, as_other = cookie_for(access, world.coach), cookie_for(access, world.other_coach)
    sessions = {
        "manager": {"Cookie": "rebond=ana-session"},
        "unlinked coach": as_other,
        "private reflection": as_coach,
        "after /unshare": as_coach,
        "no session": {},
    }
    csrf = {
        "manager": access.csrf_token("ana-session"),
        "unlinked coach": await csrf_of(client, as_other, "/"),
        "private reflection": await csrf_of(client, as_coach, "/"),
        "after /unshare": await csrf_of(client, as_coach, "/"),
        "no session": "",
    }
    attempts = successes = 0
    for who, method, path, word in attempts_for(world):
        attempts += 1
        headers = sessions[who]
        before = (rows(services, "coach_notes"), rows(services, "feedback"))
        if method == "GET":
            response = await client.get(path, headers=headers)
            leaked = response.status == 200 and word in await response.text()
        else:
            data = {"csrf": csrf[who], "key": f"{who}{path}", "text": "intrusion"}
            response = await client.post(path, data=data, headers=headers, allow_redirects=False)
            leaked = (rows(services, "coach_notes"), rows(services, "feedback")) != before
        if leaked:
            successes += 1
            print(f"LEAK: {who} {method} {path} -> {response.status}")
    print(f"\nweb authorisation: {attempts} attempts, {successes} successes (goal: 0)")
    assert attempts == 24 and successes == 0
    # The manager's forged session was ended at its first request.
    assert web_store.live_session(db, forged, "2026") is None


async def test_a_long_list_of_reflections_shows_the_latest_first(web, monkeypatch):
    from bot.web import pages

    client, _, access, world = web
    monkeypatch.setattr(pages, "LATEST_REFLECTIONS", 0)
    headers = cookie_for(access, world.coach)
    short = await (await client.get(f"/managers/{world.ana_link}", headers=headers)).text()
    assert '<td data-label="Client">Acme</td>' not in short
    assert f"/managers/{world.ana_link}?all=1" in short
    assert "Voir les 1 réflexions plus anciennes" in short
    full = await client.get(f"/managers/{world.ana_link}?all=1", headers=headers)
    assert "Acme" in await full.text()
