"""Coach review and privacy on a real database: consent, visibility, audit, export, erasure."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import Services, build_services
from bot.coach.service import Refusal
from bot.export import ExportError, export
from bot.flows.state import Answer
from bot.settings import load_settings
from storage.db import open_database
from storage.privacy import USER_COLUMNS
from storage.repository import User

from .helpers import REAL_PLAYBOOK, FakeClock, reflect

COACH_TELEGRAM_ID = 900


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))


@pytest.fixture
def services(tmp_path: Path, clock: FakeClock):
    settings = load_settings(
        db_path=tmp_path / "coach.db",
        playbook_path=REAL_PLAYBOOK,
        coach_ids=str(COACH_TELEGRAM_ID),
    )
    built = build_services(settings, open_database(settings.db_path), clock)
    yield built
    built.conversation.db.close()


def person(services: Services, telegram_id: int, name: str) -> User:
    return services.conversation.user(f"telegram:{telegram_id}", name, "fr")


def pair(services: Services, coach: User, manager: User, checkins: bool = False) -> int:
    invite = services.coach.invite(coach)
    assert services.coach.open_invite(manager, invite.code).id == coach.id
    linked = services.coach.confirm_share(manager, checkins, invite.code)
    assert not isinstance(linked, Refusal)
    link = services.coach.link_of(manager)
    assert link is not None
    return link.id


def settle(services: Services, clock: FakeClock) -> None:
    """Let the private window of new reflections pass."""
    clock.advance(minutes=11)
    services.coach.due_news()


def test_an_invite_is_single_use_and_lasts_seven_days(services, clock):
    coach, ana, ben = (
        person(services, COACH_TELEGRAM_ID, "Coach"),
        person(services, 1, "Ana"),
        person(services, 2, "Ben"),
    )
    invite = services.coach.invite(coach)
    assert len(invite.code) >= 12
    assert services.coach.open_invite(ana, invite.code).id == coach.id
    assert services.coach.open_invite(coach, invite.code) is Refusal.OWN
    assert (
        services.coach.confirm_share(ben, False, invite.code) is Refusal.UNKNOWN
    )  # not shown to Ben
    assert not isinstance(services.coach.confirm_share(ana, False, invite.code), Refusal)
    assert services.coach.open_invite(ben, invite.code) is Refusal.USED
    assert services.coach.open_invite(ben, "nope") is Refusal.UNKNOWN
    late = services.coach.invite(coach)
    clock.advance(days=7, seconds=1)
    assert services.coach.open_invite(ben, late.code) is Refusal.EXPIRED


def test_an_older_preview_confirms_its_own_coach(services, clock):
    first, second = person(services, COACH_TELEGRAM_ID, "Camille"), person(services, 901, "Dom")
    ana = person(services, 1, "Ana")
    from_first = services.coach.invite(first)
    from_second = services.coach.invite(second)
    services.coach.open_invite(ana, from_first.code)
    services.coach.open_invite(ana, from_second.code)
    coach, _ = services.coach.confirm_share(ana, False, from_first.code)
    assert coach.id == first.id
    assert services.coach.coach_of(ana).id == first.id


def test_private_and_delayed_reflections_are_invisible(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    link = pair(services, coach, ana)
    shared = reflect(services, ana, "Acme")
    kept = reflect(services, ana, "Globex")
    manager, cards = services.coach.reflections(coach, link)
    assert (manager.id, cards) == (ana.id, [])  # within the private window
    assert services.coach.set_private(ana, kept, True)
    settle(services, clock)
    _, cards = services.coach.reflections(coach, link)
    assert [c.session_id for c in cards] == [shared]
    assert cards[0].guilt == (8, 3) and cards[0].worry == (6, 4) and cards[0].client == "Acme"
    assert services.coach.read(coach, kept) is None
    assert services.coach.note(coach, kept, "x") is False
    assert services.coach.feedback(coach, kept, "x") is None
    transcript = services.coach.read(coach, shared)
    titles = [section.title for section in transcript.sections]
    assert titles[0] == "Les faits" and "Bilan" in titles
    assert (
        "Quel client vient de partir ? Son nom, ou un simple surnom si vous préférez : "
        "cela suffit.",
        "Acme",
    ) in transcript.sections[0].exchanges


def test_sharing_now_skips_the_window_and_notifies_a_coach_who_asked(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    link = pair(services, coach, ana)
    services.coach.set_notify(coach, True)
    session = reflect(services, ana)
    assert services.coach.set_private(ana, session, False)
    [news] = services.coach.due_news()
    assert news.user.id == coach.id and f"/read {session}" in news.text
    assert [c.session_id for c in services.coach.reflections(coach, link)[1]] == [session]


def test_a_private_reflection_is_never_announced(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    pair(services, coach, ana)
    services.coach.set_notify(coach, True)
    session = reflect(services, ana)
    services.coach.set_private(ana, session, True)
    clock.advance(minutes=11)
    assert services.coach.due_news() == []


def test_unshare_ends_access_at_once(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    link = pair(services, coach, ana)
    session = reflect(services, ana)
    settle(services, clock)
    assert services.coach.read(coach, session) is not None
    assert services.coach.unshare(ana)[0].id == coach.id
    assert services.coach.read(coach, session) is None
    assert services.coach.reflections(coach, link) is None
    assert services.coach.trend(coach, link) is None
    assert services.coach.managers(coach) == []


def test_authorisation_comes_from_the_caller(services, clock):
    coach = person(services, COACH_TELEGRAM_ID, "Coach")
    ana, ben = person(services, 1, "Ana"), person(services, 2, "Ben")
    link = pair(services, coach, ana)
    session = reflect(services, ana)
    other = reflect(services, ben)
    settle(services, clock)
    attempts = [
        services.coach.reflections(ana, link),  # a manager using a coach command
        services.coach.read(ana, session),
        services.coach.read(ben, session),
        services.coach.trend(ben, link),
        services.coach.read(coach, other),  # an unlinked manager
        services.coach.feedback(coach, other, "hello"),
        services.coach.reflections(coach, link + 1),
    ]
    assert attempts == [None] * len(attempts)
    assert services.coach.set_private(ben, session, True) is False  # not his reflection
    assert services.coach.read(coach, session) is not None  # and nothing changed


def test_every_read_is_audited_and_shown_in_mydata(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    link = pair(services, coach, ana, checkins=True)
    session = reflect(services, ana)
    settle(services, clock)
    services.coach.managers(coach)
    services.coach.reflections(coach, link)
    services.coach.read(coach, session)
    services.coach.trend(coach, link)
    services.coach.note(coach, session, "Beau recul sur la culpabilité")
    services.coach.feedback(coach, session, "Bravo pour ce travail")
    data = json.loads(services.coach.my_data(ana))
    actions = [(row["action"], row["coach"]) for row in data["audit_of_coach_reads"]]
    assert actions == [
        ("managers", "Coach"),
        ("reflections", "Coach"),
        ("read", "Coach"),
        ("trend", "Coach"),
    ]
    assert [n["text"] for n in data["coach_notes"]] == ["Beau recul sur la culpabilité"]
    assert [f["text"] for f in data["feedback"]] == ["Bravo pour ce travail"]
    assert any(a["step"] == "client" and a["value"] == "Acme" for a in data["answers"])
    assert data["users"][0]["key"] == "telegram:1"


def test_forget_leaves_no_row_about_them_anywhere(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    ben = person(services, 2, "Ben")
    pair(services, coach, ana, checkins=True)
    session = reflect(services, ana)
    reflect(services, ben)
    settle(services, clock)
    services.coach.read(coach, session)
    services.coach.note(coach, session, "note")
    services.coach.feedback(coach, session, "message")
    services.coach.invite(coach)
    services.coach.forget(ana)
    db = services.conversation.db
    for table, columns in USER_COLUMNS.items():
        for column in columns:
            rows = list(db.query(f"SELECT count(*) AS n FROM {table} WHERE {column} = ?", [ana.id]))
            assert rows[0]["n"] == 0, f"{table}.{column} still names them"
    for table in db.table_names():
        for row in db[table].rows:
            assert 'telegram:1"' not in json.dumps(row) and "telegram:1'" not in str(row)
    answers = db.query("SELECT count(*) AS n FROM answers WHERE session_id = ?", [session])
    assert next(iter(answers))["n"] == 0
    assert db["users"].count == 2  # the coach and Ben are untouched


def test_forgotten_words_are_gone_from_the_file_itself(tmp_path, clock):
    path = tmp_path / "disk.db"
    settings = load_settings(db_path=path, playbook_path=REAL_PLAYBOOK)
    services = build_services(settings, open_database(path), clock)
    try:
        ana = person(services, 1, "Ana")
        reflect(services, ana, text="Zyxwvut-secret-words")
        services.coach.forget(ana)
        for file in tmp_path.iterdir():
            assert b"Zyxwvut-secret-words" not in file.read_bytes(), file.name
    finally:
        services.conversation.db.close()


def test_a_coach_who_forgets_leaves_the_manager_s_audit_and_messages(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    pair(services, coach, ana)
    session = reflect(services, ana)
    settle(services, clock)
    services.coach.read(coach, session)
    services.coach.feedback(coach, session, "Bravo")
    services.coach.forget(coach)
    data = json.loads(services.coach.my_data(ana))
    assert [(row["action"], row["coach"]) for row in data["audit_of_coach_reads"]] == [
        ("read", None)
    ]
    assert [f["text"] for f in data["feedback"]] == ["Bravo"]
    assert services.coach.feedback_for(ana) == {session: ["Bravo"]}
    for table, columns in USER_COLUMNS.items():
        for column in columns:
            rows = services.conversation.db.query(
                f"SELECT count(*) AS n FROM {table} WHERE {column} = ?", [coach.id]
            )
            assert next(iter(rows))["n"] == 0, f"{table}.{column}"


def test_a_note_or_a_message_handled_twice_is_stored_once(services, clock):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    pair(services, coach, ana)
    session = reflect(services, ana)
    settle(services, clock)
    key = "telegram:update:42"
    assert services.coach.note(coach, session, "Une note", key)
    assert services.coach.note(coach, session, "Une note", key)  # the handler ran again
    first = services.coach.feedback(coach, session, "Bravo", "telegram:update:43")
    services.coach.feedback_delivered(first)
    again = services.coach.feedback(coach, session, "Bravo", "telegram:update:43")
    assert again.feedback_id == first.feedback_id and again.delivered_before
    data = json.loads(services.coach.my_data(ana))
    assert [n["text"] for n in data["coach_notes"]] == ["Une note"]
    assert [f["text"] for f in data["feedback"]] == ["Bravo"]


def test_retention_deletes_old_reflections(services, clock):
    ana = person(services, 1, "Ana")
    old = reflect(services, ana)
    clock.advance(days=40)
    recent = reflect(services, ana)
    assert services.coach.apply_retention(30) == 1
    ids = [row["id"] for row in services.conversation.db.query("SELECT id FROM sessions")]
    assert old not in ids and recent in ids


def test_after_retention_a_reused_session_id_never_reaches_another_manager(services, clock):
    ana, ben = person(services, 1, "Ana"), person(services, 2, "Ben")
    conversation = services.conversation
    old = conversation.start(ana, "lost_client").session_id  # Ana's current, never finished
    clock.advance(days=40)
    assert services.coach.apply_retention(30) == 1
    new = conversation.start(ben, "lost_client").session_id
    conversation.handle(ben, Answer("Initech"))
    assert new == old  # SQLite gives the freed id again
    ana = conversation.user("telegram:1")
    assert conversation.resume(ana).question is None
    assert conversation.handle(ana, Answer("Acme")).session_id is None
    state = json.loads(conversation.session(new).state)
    assert state["answers"] == {"client": "Initech"}


def test_export_for_a_coach_only_what_is_shared(services, clock, tmp_path):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    ben = person(services, 2, "Ben")
    pair(services, coach, ana)
    shared = reflect(services, ana, "Acme")
    kept = reflect(services, ana, "Globex")
    reflect(services, ben, "Initech")
    services.coach.set_private(ana, kept, True)
    settle(services, clock)

    summary = export(services, "md", tmp_path / "md", coach=str(COACH_TELEGRAM_ID), progress=False)
    assert (summary.managers, summary.reflections) == (1, 1)
    [path] = summary.files
    assert path.name.endswith(f"reflection-{shared}.md") and "Acme" in path.read_text()

    summary = export(
        services, "csv", tmp_path / "csv", coach=str(COACH_TELEGRAM_ID), progress=False
    )
    with (tmp_path / "csv" / "reflections.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["client"] for row in rows] == ["Acme"]

    summary = export(services, "json", tmp_path / "json", progress=False)  # the operator
    tables = json.loads((tmp_path / "json" / "export.json").read_text())
    assert sorted(r["client"] for r in tables["reflections"]) == ["Acme", "Globex", "Initech"]
    audit = list(services.conversation.db.query("SELECT action FROM audit WHERE action = 'export'"))
    assert len(audit) >= 4


def test_export_errors_are_clear(services, tmp_path):
    coach, ben = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 2, "Ben")
    with pytest.raises(ExportError, match="unknown manager '777'"):
        export(services, "md", tmp_path / "x", manager="777", progress=False)
    with pytest.raises(ExportError, match="does not share with coach"):
        export(
            services,
            "md",
            tmp_path / "x",
            manager="2",
            coach=str(COACH_TELEGRAM_ID),
            progress=False,
        )
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError, match="cannot create the folder"):
        export(services, "json", blocker / "inside", progress=False)
    assert coach.id != ben.id
