"""The web view's board (refs #12): open commitments and unread replies per manager on the
managers page, commitments and their state on a manager's page, replies on a reflection's page;
nothing about a private reflection appears or is counted; every page in a fixed number of
queries whatever the number of managers."""

from __future__ import annotations

import re

from storage import journey as journey_store
from storage import web as web_store

from .helpers import reflect
from .test_coach import clock, settle  # noqa: F401
from .test_web_routes import cookie_for, web  # noqa: F401


def ana_row(body: str, name: str = "Ana") -> list[str]:
    """The cells of a manager's line on the managers page."""
    row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{name}</a></th>(.*?)</tr>", body, re.S)
    assert row is not None, body
    return re.findall(r"<td data-label=\"([^\"]+)\">(.*?)</td>", row.group(1), re.S)


def cell(body: str, label: str) -> str:
    """One cell of Ana's line, tags removed."""
    found = dict(ana_row(body))
    return re.sub(r"<[^>]+>", "", found[label]).strip()


def reply(services, world, text: str) -> None:
    """Ana answers the coach's latest feedback about her shared reflection."""
    assert services.thread.begin_reply(world.ana, world.shared)
    delivery = services.thread.manager_reply(world.ana, text)
    assert delivery is not None


async def test_open_commitments_and_unread_replies_per_manager(web):  # noqa: F811
    client, services, access, world = web
    headers = cookie_for(access, world.coach)
    db = services.conversation.db
    mine = journey_store.commitments_of(db, world.ana.id)
    shared = [c for c in mine if c.session_id == world.shared]
    private = [c for c in mine if c.session_id == world.private]
    assert shared and private  # both reflections made commitments
    body = await (await client.get("/", headers=headers)).text()
    assert cell(body, "Engagements en cours") == str(len(shared))  # the private ones not counted
    assert cell(body, "Réponses non lues") == "0"

    assert services.coach.feedback(world.coach, world.shared, "Bravo.") is not None
    reply(services, world, "Merci, je m'y mets.")
    body = await (await client.get("/", headers=headers)).text()
    assert cell(body, "Réponses non lues") == "1"
    page = await (await client.get(f"/reflections/{world.shared}", headers=headers)).text()
    assert "Merci, je m&#39;y mets." in page and "Échanges avec le manager" in page
    body = await (await client.get("/", headers=headers)).text()
    assert cell(body, "Réponses non lues") == "0"  # opened on its page: read

    reply(services, world, "Et une autre idée.")
    assert services.thread.coach_reply(world.coach, world.shared, "Allez-y.") is not None
    body = await (await client.get("/", headers=headers)).text()
    assert cell(body, "Réponses non lues") == "0"  # answered with /reply: read

    reply(services, world, "Encore une chose.")
    body = await (await client.get("/", headers=headers)).text()
    assert cell(body, "Réponses non lues") == "1"
    services.coach.set_private(world.ana, world.shared, True)
    body = await (await client.get("/", headers=headers)).text()
    assert cell(body, "Réponses non lues") == "0"  # about a reflection now private
    assert cell(body, "Engagements en cours") == "0"


async def test_a_managers_page_lists_commitments_and_their_state(web, clock):  # noqa: F811
    client, services, access, world = web
    headers = cookie_for(access, world.coach)
    db = services.conversation.db
    shared = [c for c in journey_store.commitments_of(db, world.ana.id) if c.session_id]
    first = next(c for c in shared if c.session_id == world.shared and c.kind == "first_step")
    now = "2026-12-01T09:00:00.000+00:00"
    journey_store.set_commitment_status(db, first.id, "done", now)
    step = journey_store.add_commitment(
        db, world.ana.id, None, "next_step", "Appeler Marc", None, "2026-12-12", now, first.id
    )
    assert step
    page = await (await client.get(f"/managers/{world.ana_link}", headers=headers)).text()
    section = page.split('id="commitments-title"')[1].split("</section>")[0]
    assert "Appeler Marc" in section and "12/12/2026" in section  # the next step, due date
    assert first.text.split()[0] in section and "Fait" in section
    from_shared = [c for c in shared if c.session_id == world.shared]
    assert any(c.session_id == world.private for c in shared)  # the private reflection's: not
    assert section.count('<th scope="row">') == len(from_shared) + 1  # listed
    body = await (await client.get("/", headers=headers)).text()
    # The first step done, the next step open: as many open as the reflection made.
    assert cell(body, "Engagements en cours") == str(len(from_shared))


async def test_the_managers_page_costs_the_same_queries_for_one_manager_or_many(
    web,  # noqa: F811
    clock,  # noqa: F811
):
    client, services, access, world = web
    from .test_coach import pair, person

    headers = cookie_for(access, world.coach)
    db = services.conversation.db
    statements: list[str] = []

    def read(statement: str) -> None:  # an executemany traces each of its rows: reads only
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    db.conn.set_trace_callback(read)
    await client.get("/", headers=headers)
    few = len(statements)
    for n in range(8):
        manager = person(services, 100 + n, f"M{n}")
        pair(services, world.coach, manager, checkins=True)
        reflect(services, manager, f"Client {n}")
    settle(services, clock)
    statements.clear()
    body = await (await client.get("/", headers=headers)).text()
    db.conn.set_trace_callback(None)
    assert body.count('<th scope="row">') == 9
    assert len(statements) == few, statements[few:]


async def test_forget_erases_which_chat_got_a_coachs_menu(web):  # noqa: F811
    _, services, _, world = web
    db = services.conversation.db
    chat = int(world.coach.key.removeprefix("telegram:"))
    web_store.remember_menu(db, chat, True, "2026-12-01T09:00:00.000+00:00")
    assert web_store.menus(db) == {chat: True}
    services.coach.forget(world.coach)
    assert web_store.menus(db) == {}


async def test_the_board_reads_the_moods_the_chart_reads(web, clock):  # noqa: F811
    from bot.flows.state import Answer, Back, Pick
    from storage import checkins as checkin_store

    _, services, _, world = web
    db, conversation = services.conversation.db, services.conversation
    clock.advance(days=1)
    due = services.checkins.claim_today_for_terminal(world.ana)
    assert due is not None
    services.checkins.start(due)
    conversation.handle(world.ana, Answer("2"))
    reply = conversation.handle(world.ana, Back())  # she changes her mind: 5, not 2
    reply = conversation.handle(world.ana, Answer("5"))
    for _ in range(10):
        if reply.question is None:
            break
        answer = Pick(reply.question.options[0].id) if reply.question.options else Answer("Bien.")
        reply = conversation.handle(world.ana, answer)
    since = "2000-01-01"
    chart = checkin_store.moods(db, world.ana.id, since)
    assert chart[-1][1] == 5 and len(chart) == 6
    assert web_store.board_moods(db, world.coach.id, since) == {world.ana.id: chart}
