"""Upgrades: a database built by each migration set as it shipped reaches today's schema, and
the coach commands work on it (0004 was edited after it landed; 0007 repairs what it left); a
database left by any prefix of today's migrations gets today's schema and indexes, and the web
view's board (which names an index) works on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.bootstrap import build_services
from bot.settings import load_settings
from storage import web as web_store
from storage.db import open_database, to_stored
from storage.migrations import MIGRATIONS, checkin_tables, core_tables, telegram_delivery

from .fixtures.shipped_0004 import coach_tables_6e1842a, coach_tables_7b077eb
from .helpers import REAL_PLAYBOOK, FakeClock, reflect
from .test_coach import COACH_TELEGRAM_ID, pair, person, settle

EVERY = [migration.name for migration in MIGRATIONS.pending(Database(memory=True))]
NAMES = ("0001_core", "0002_telegram", "0003_checkins", "0004_coach")
SHIPPED: dict[str, tuple[Callable[[Database], None], ...]] = {
    "0001": (core_tables,),
    "0001-0002": (core_tables, telegram_delivery),
    "0001-0003": (core_tables, telegram_delivery, checkin_tables),
    "0001-0004 as first shipped (7b077eb)": (
        core_tables,
        telegram_delivery,
        checkin_tables,
        coach_tables_7b077eb,
    ),
    "0001-0004 as shipped by 6e1842a": (
        core_tables,
        telegram_delivery,
        checkin_tables,
        coach_tables_6e1842a,
    ),
}


def build_shipped(path: Path, functions: tuple[Callable[[Database], None], ...]) -> None:
    """A database as a release that had only these migrations left it."""
    db = Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    shipped = Migrations("rebond")
    for name, function in zip(NAMES, functions, strict=False):
        shipped(name=name)(function)
    shipped.apply(db)
    db.close()


def indexes(db: Database) -> list[tuple[str, str]]:
    """Every index, with the SQL that made it (None for a UNIQUE column's own)."""
    return sorted(
        (row[0], " ".join(str(row[1]).split()))
        for row in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
    )


def schema(db: Database) -> dict[str, object]:
    """What a table's users rely on: columns, foreign keys (with ON DELETE), unique columns."""
    described: dict[str, object] = {}
    for table in sorted(db.table_names()):
        if table.startswith("_"):
            continue
        columns = [row[1:4] for row in db.execute(f"PRAGMA table_info({table})").fetchall()]
        keys = sorted(
            (row[2], row[3], row[4], row[6])
            for row in db.execute(f"PRAGMA foreign_key_list({table})").fetchall()
        )
        unique = sorted(
            tuple(info[2] for info in db.execute(f"PRAGMA index_info('{index[1]}')").fetchall())
            for index in db.execute(f"PRAGMA index_list({table})").fetchall()
            if index[2]  # unique: from a UNIQUE column or a unique index, the same guarantee
        )
        described[table] = (columns, keys, unique)
    return described


@pytest.fixture
def fresh_schema(tmp_path: Path) -> dict[str, object]:
    db = open_database(tmp_path / "fresh.db")
    try:
        return schema(db)
    finally:
        db.close()


@pytest.mark.parametrize("shipped", list(SHIPPED))
def test_each_shipped_database_upgrades_to_todays_schema_and_the_coach_commands_work(
    tmp_path: Path, shipped: str, fresh_schema: dict[str, object]
):
    path = tmp_path / "old.db"
    build_shipped(path, SHIPPED[shipped])
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    settings = load_settings(
        db_path=path, playbook_path=REAL_PLAYBOOK, coach_ids=str(COACH_TELEGRAM_ID)
    )
    services = build_services(settings, open_database(path), clock)
    try:
        assert schema(services.conversation.db) == fresh_schema
        coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
        pair(services, coach, ana)
        session = reflect(services, ana)
        settle(services, clock)
        assert services.coach.note(coach, session, "Beau recul", key="update:1")
        assert services.coach.note(coach, session, "Beau recul", key="update:1")  # once
        delivery = services.coach.feedback(coach, session, "Bravo", key="update:2")
        assert delivery is not None and delivery.user.id == ana.id
        again = services.coach.feedback(coach, session, "Bravo", key="update:2")
        assert again is not None and again.feedback_id == delivery.feedback_id
        db = services.conversation.db
        assert db["coach_notes"].count == 1
        assert db["feedback"].count == 1
    finally:
        services.conversation.db.close()


def test_the_repair_keeps_feedback_and_audit_and_a_deleted_coach_no_longer_takes_them(
    tmp_path: Path,
):
    path = tmp_path / "first.db"
    build_shipped(path, SHIPPED["0001-0004 as first shipped (7b077eb)"])
    old = Database(path)
    stamp = "2026-11-01T09:00:00.000+00:00"
    old.execute(
        "INSERT INTO users (id, key, created_at, last_seen_at) VALUES "
        "(1, 'telegram:900', ?, ?), (2, 'telegram:1', ?, ?)",
        [stamp] * 4,
    )
    old.execute(
        "INSERT INTO playbook_versions (version, text, first_seen_at) VALUES ('v0', '', ?)",
        [stamp],
    )
    old.execute(
        "INSERT INTO sessions (id, user_id, flow, playbook_version, status, state, started_at, "
        "updated_at) VALUES (5, 2, 'lost_client', 'v0', 'completed', '{}', ?, ?)",
        [stamp, stamp],
    )
    old.execute(
        "INSERT INTO feedback (coach_id, manager_id, session_id, text, created_at) "
        "VALUES (1, 2, 5, 'Bravo', ?)",
        [stamp],
    )
    old.execute(
        "INSERT INTO audit (coach_id, manager_id, action, at) VALUES (1, 2, 'read', ?)", [stamp]
    )
    old.conn.commit()
    old.close()

    db = open_database(path)
    try:
        assert [r["text"] for r in db.query("SELECT text FROM feedback")] == ["Bravo"]
        db.execute("DELETE FROM users WHERE id = 1")
        assert [r["coach_id"] for r in db.query("SELECT coach_id FROM feedback")] == [None]
        assert [r["coach_id"] for r in db.query("SELECT coach_id FROM audit")] == [None]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        db.close()


@pytest.mark.parametrize("before", EVERY)
def test_a_database_stopped_before_any_migration_gets_todays_schema_and_indexes(
    tmp_path: Path, before: str, fresh_schema: dict[str, object]
):
    path = tmp_path / "old.db"
    old = Database(path)
    MIGRATIONS.apply(old, stop_before=before)
    old.close()
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    settings = load_settings(
        db_path=path, playbook_path=REAL_PLAYBOOK, coach_ids=str(COACH_TELEGRAM_ID)
    )
    services = build_services(settings, open_database(path), clock)
    fresh = open_database(tmp_path / "fresh.db")
    try:
        db = services.conversation.db
        assert schema(db) == fresh_schema
        assert indexes(db) == indexes(fresh)
        # Its count names sessions_shared (INDEXED BY): preparing it fails without the index.
        assert web_store.managers_board(db, 1, to_stored(clock())) == []
    finally:
        fresh.close()
        services.conversation.db.close()
