"""Storage on real temporary databases: schema, idempotency, resume, old playbook versions."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.conversation import Conversation
from bot.flows.loader import parse_playbook
from bot.flows.state import Answer, Back, Pick, Restart, Skip
from bot.playbooks import PlaybookLibrary
from storage import repository
from storage.db import open_database, select
from storage.repository import NewAnswer, Receipt

from .helpers import FakeClock, playbook_yaml

NOW = "2026-11-26T06:00:00.000+00:00"

FLOWS = """
reflect:
  title: {fr: Réflexion, en: Reflection}
  outputs:
    commitment: {fr: "Appeler {client}", en: "Call {client}"}
  sections:
    - id: facts
      title: {fr: Faits, en: Facts}
      steps:
        - {id: client, type: text, prompt: {fr: "Client ?", en: "Client?"}}
        - {id: note, type: text, optional: true, prompt: {fr: "Note ?", en: "Note?"}}
        - {id: guilt, type: scale, prompt: {fr: "Culpabilité ?", en: "Guilt?"}}
  summary:
    title: {fr: Bilan, en: Summary}
    lines:
      - {fr: "Client : {client} ({guilt}/10)", en: "Client: {client} ({guilt}/10)"}
"""


def library_for(db: Database, flows: str) -> PlaybookLibrary:
    text = playbook_yaml(flows)
    return PlaybookLibrary(db, parse_playbook(text, "test.yaml"), text, "test.yaml", seen_at=NOW)


@pytest.fixture
def conversation(db: Database) -> Conversation:
    return Conversation(db, library_for(db, FLOWS), FakeClock())


def test_the_database_is_private_in_wal_mode_with_foreign_keys(tmp_path: Path):
    path = tmp_path / "private.db"
    db = open_database(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert {"users", "sessions", "answers", "playbook_versions"} <= set(db.table_names())
    finally:
        db.close()


def test_migrations_apply_once(tmp_path: Path):
    path = tmp_path / "twice.db"
    open_database(path).close()
    db = open_database(path)
    try:
        applied = [row["name"] for row in db.query("SELECT name FROM _sqlite_migrations")]
        assert applied[0] == "0001_core" and len(applied) == len(set(applied)) >= 2
    finally:
        db.close()


def test_answers_are_append_only(conversation: Conversation, db: Database):
    user = conversation.user("terminal:ana")
    conversation.start(user, "reflect")
    conversation.handle(user, Answer("Acme"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE answers SET raw_text = 'changed'")


def test_an_answer_and_the_new_state_are_stored_together(conversation: Conversation, db: Database):
    user = conversation.user("terminal:ana")
    reply = conversation.start(user, "reflect")
    conversation.handle(user, Answer("Acme"))
    row = repository.get_session(db, reply.session_id)
    state = json.loads(row.state)
    assert state["step"] == "note" and state["answers"] == {"client": "Acme"}
    [answer] = repository.answers_for(db, reply.session_id)
    assert (answer.step, answer.section, answer.raw_text, json.loads(answer.value)) == (
        "client",
        "facts",
        "Acme",
        "Acme",
    )


def test_the_same_input_stored_twice_is_one_row(db: Database, conversation: Conversation):
    user = conversation.user("terminal:ana")
    session_id = conversation.start(user, "reflect").session_id
    receipt = Receipt("telegram:update:7", user.id)
    first = conversation.handle(user, Answer("Acme"), receipt=receipt)
    state_after_first = repository.get_session(db, session_id).state
    # the same update delivered again, once the state has moved on
    again = conversation.handle(user, Skip(), receipt=receipt)
    assert first.stored and not again.stored and again.outputs == ()
    assert repository.get_session(db, session_id).state == state_after_first
    assert len(repository.answers_for(db, session_id)) == 1


def test_a_rejected_input_stores_nothing(db: Database, conversation: Conversation):
    user = conversation.user("terminal:ana")
    session_id = conversation.start(user, "reflect").session_id
    conversation.handle(user, Answer("Acme"))
    conversation.handle(user, Skip())
    reply = conversation.handle(user, Answer("eleven"))
    assert reply.question.step == "guilt"
    assert [a.step for a in repository.answers_for(db, session_id)] == ["client", "note"]


def test_a_skip_is_stored_as_a_skip(db: Database, conversation: Conversation):
    user = conversation.user("terminal:ana")
    session_id = conversation.start(user, "reflect").session_id
    conversation.handle(user, Answer("Acme"))
    conversation.handle(user, Skip())
    kinds = [(a.step, a.kind, a.value) for a in repository.answers_for(db, session_id)]
    assert kinds == [("client", "answer", '"Acme"'), ("note", "skip", "null")]


def test_resume_after_reopening_the_database(tmp_path: Path):
    path = tmp_path / "resume.db"
    db = open_database(path)
    conversation = Conversation(db, library_for(db, FLOWS), FakeClock())
    user = conversation.user("terminal:ana")
    conversation.start(user, "reflect")
    conversation.handle(user, Answer("Acme"))
    db.close()

    db = open_database(path)
    try:
        conversation = Conversation(db, library_for(db, FLOWS), FakeClock())
        user = conversation.user("terminal:ana")
        reply = conversation.resume(user)
        assert reply.question.step == "note"
        reply = conversation.handle(user, Skip())
        assert reply.question.step == "guilt"
    finally:
        db.close()


def test_back_keeps_every_answer_in_the_log(db: Database, conversation: Conversation):
    user = conversation.user("terminal:ana")
    session_id = conversation.start(user, "reflect").session_id
    conversation.handle(user, Answer("Acme"))
    conversation.handle(user, Back())
    conversation.handle(user, Answer("Globex"))
    rows = repository.answers_for(db, session_id)
    assert [(a.step, a.raw_text) for a in rows] == [("client", "Acme"), ("client", "Globex")]
    state = json.loads(repository.get_session(db, session_id).state)
    assert state["answers"] == {"client": "Globex"}


def test_completion_stores_summary_and_outputs(db: Database, conversation: Conversation):
    user = conversation.user("terminal:ana")
    session_id = conversation.start(user, "reflect").session_id
    for event in (Answer("Acme"), Skip(), Pick("3")):
        reply = conversation.handle(user, event)
    row = repository.get_session(db, session_id)
    assert row.status == "completed" and row.completed_at
    assert json.loads(row.summary) == {"title": "Bilan", "lines": ["Client : Acme (3/10)"]}
    assert json.loads(row.outputs) == {"commitment": "Appeler Acme"}
    assert conversation.latest_outputs(user) == {"commitment": "Appeler Acme"}
    assert reply.question is None and conversation.current(user) is None


def test_restart_abandons_the_session_and_opens_a_new_one(db: Database, conversation):
    user = conversation.user("terminal:ana")
    first = conversation.start(user, "reflect").session_id
    conversation.handle(user, Answer("Acme"))
    reply = conversation.handle(user, Restart())
    assert reply.session_id != first
    assert repository.get_session(db, first).status == "abandoned"
    assert reply.question.step == "client"
    assert len(repository.answers_for(db, first)) == 1  # nothing is lost


def test_a_session_finishes_on_the_playbook_version_it_started_on(tmp_path: Path):
    path = tmp_path / "versions.db"
    db = open_database(path)
    conversation = Conversation(db, library_for(db, FLOWS), FakeClock())
    user = conversation.user("terminal:ana")
    conversation.start(user, "reflect")
    conversation.handle(user, Answer("Acme"))
    db.close()

    # The coach rewords the questions and removes the optional one while Ana is mid-way.
    edited = FLOWS.replace('"Culpabilité ?"', '"Vous sentez-vous coupable ?"').replace(
        '        - {id: note, type: text, optional: true, prompt: {fr: "Note ?", en: "Note?"}}\n',
        "",
    )
    db = open_database(path)
    try:
        conversation = Conversation(db, library_for(db, edited), FakeClock())
        user = conversation.user("terminal:ana")
        assert conversation.resume(user).question.step == "note"  # still there in her version
        reply = conversation.handle(user, Skip())
        assert reply.question.prompt == "Culpabilité ?"
        # a new session starts on the new version
        other = conversation.user("terminal:ben")
        assert conversation.start(other, "reflect").question is not None
        conversation.handle(other, Answer("Initech"))
        assert conversation.handle(other, Answer("2")).question is None
        versions = {row["playbook_version"] for row in db.query("SELECT * FROM sessions")}
        assert len(versions) == 2
        assert db["playbook_versions"].count == 2
    finally:
        db.close()


def test_record_step_refuses_a_duplicate_key_and_keeps_the_state(db: Database):
    user = repository.get_or_create_user(db, "terminal:x", now=NOW)
    repository.save_playbook_version(db, "v1", "text", "test", now=NOW)
    row = repository.create_session(db, user.id, "reflect", "v1", '{"a": 1}', NOW)
    answer = NewAnswer("client", "facts", "answer", "Acme", '"Acme"', "key-1")
    assert repository.record_step(db, row.id, '{"a": 2}', answer=answer, now=NOW)
    assert not repository.record_step(db, row.id, '{"a": 3}', answer=answer, now=NOW)
    assert repository.get_session(db, row.id).state == '{"a": 2}'


def test_one_open_session_per_flow(db: Database):
    user = repository.get_or_create_user(db, "terminal:x", now=NOW)
    repository.save_playbook_version(db, "v1", "text", "test", now=NOW)
    first = repository.create_session(db, user.id, "reflect", "v1", "{}", NOW)
    second = repository.create_session(db, user.id, "reflect", "v1", "{}", NOW)
    assert repository.get_session(db, first.id).status == "abandoned"
    assert repository.current_session(db, user.id).id == second.id
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO sessions (user_id, flow, playbook_version, status, state, started_at, "
            "updated_at) VALUES (?, 'reflect', 'v1', 'active', '{}', 'now', 'now')",
            [user.id],
        )


def test_completion_commits_with_the_last_answer_or_not_at_all(db: Database, conversation):
    """A crash in what completing a flow does leaves the update to be applied again whole."""
    user = conversation.user("terminal:ana")
    session_id = conversation.start(user, "reflect").session_id
    conversation.handle(user, Answer("Acme"))
    conversation.handle(user, Skip())
    finished: list[int] = []

    def crashing_hook(user, row, state) -> None:
        raise RuntimeError("the process dies here")

    conversation.on_completed(crashing_hook)
    receipt = Receipt("telegram:update:99", user.id)
    with pytest.raises(RuntimeError):
        conversation.handle(user, Pick("3"), receipt=receipt)
    row = repository.get_session(db, session_id)
    assert row.status == "active" and json.loads(row.state)["step"] == "guilt"
    assert [a.step for a in repository.answers_for(db, session_id)] == ["client", "note"]
    assert repository.update_status(db, receipt.key) is None

    conversation._completion_hooks = [lambda user, row, state: finished.append(row.id)]
    reply = conversation.handle(user, Pick("3"), receipt=receipt)  # delivered again
    assert reply.stored and finished == [session_id]
    assert repository.get_session(db, session_id).status == "completed"


def test_select_reads_rows_in_one_statement_and_refuses_what_is_not_a_plain_query():
    db = Database(memory=True)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO t (name) VALUES ('a'), ('b')")
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    assert select(db, "SELECT id, name FROM t WHERE id > ?", [1]) == [{"id": 2, "name": "b"}]
    assert statements == ["SELECT id, name FROM t WHERE id > 1"]  # no savepoint around it
    with pytest.raises(ValueError, match="two columns share a name"):
        select(db, "SELECT a.id, b.id FROM t AS a JOIN t AS b")
    with pytest.raises(ValueError, match="not a query"):
        select(db, "UPDATE t SET name = 'c' WHERE id = 0")
