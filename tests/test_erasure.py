"""Erasure as thorough as promised (issue #10, kind 4): no erased sentence left in any database
file (db, -wal, -shm) while the bot runs, with or without a reader holding a snapshot; never a
long wait; and the manager is told the truth while the last traces are being cleared."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.settings import load_settings
from storage.db import open_database

from .helpers import REAL_PLAYBOOK, FakeClock, reflect

SECRET = "Zyxwvut-le-client-nous-a-quittes-par-ma-faute"


@pytest.fixture
def services(tmp_path: Path):
    path = tmp_path / "erase.db"
    settings = load_settings(db_path=path, playbook_path=REAL_PLAYBOOK)
    built = build_services(settings, open_database(path), FakeClock())
    built.coach.scrubber.retry_seconds = 0.05
    yield built
    built.coach.scrubber.close()
    built.conversation.db.close()


def files_holding(folder: Path, words: str) -> list[str]:
    """The database files (db, -wal, -shm) in which the words can still be read."""
    return sorted(
        path.name
        for path in folder.iterdir()
        if path.name.startswith("erase.db") and words.encode() in path.read_bytes()
    )


def reader_with_a_snapshot(path: Path) -> sqlite3.Connection:
    """Another connection in the middle of a read (an export, a backup): its snapshot holds."""
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM answers").fetchone()
    return reader


def test_forget_leaves_no_word_in_any_database_file(services, tmp_path):
    ana = services.conversation.user("telegram:1", "Ana", "fr")
    for _ in range(3):
        reflect(services, ana, text=SECRET)
    assert files_holding(tmp_path, SECRET)  # the test can see the words before
    erasure = services.coach.forget(ana)
    assert erasure.complete and erasure.text == services.conversation.playbook.ui.forgotten.fr
    assert files_holding(tmp_path, SECRET) == []


def test_forget_with_a_reader_answers_at_once_then_clears_the_log(services, tmp_path):
    ana = services.conversation.user("telegram:1", "Ana", "fr")
    reflect(services, ana, text=SECRET)
    reader = reader_with_a_snapshot(tmp_path / "erase.db")
    try:
        begin = time.perf_counter()
        erasure = services.coach.forget(ana)
        took = time.perf_counter() - begin
        assert took < 0.5, f"forget blocked the caller {took:.2f} s"
        assert not erasure.complete and services.coach.erasure_pending
        assert erasure.text == services.conversation.playbook.ui.forgotten_pending.fr
        assert not services.coach.scrubber.wait(0.3)  # still held by the reader
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert services.coach.scrubber.wait(5), "the background scrub never completed"
    assert not services.coach.erasure_pending
    assert files_holding(tmp_path, SECRET) == []


def test_forget_tells_when_the_disk_is_cleared_and_only_then(services, tmp_path):
    """/forget said "the last traces are being cleared" and never more: the person told the
    log is still being cleared is told, once, when it is done (refs #10)."""
    ui = services.conversation.playbook.ui
    ana = services.conversation.user("telegram:1", "Ana", "fr")
    bo = services.conversation.user("telegram:2", "Bo", "en")
    reflect(services, ana, text=SECRET)
    assert services.coach.forget(bo).complete  # nobody reads: cleared at once, nothing to tell
    reader = reader_with_a_snapshot(tmp_path / "erase.db")
    try:
        assert not services.coach.forget(ana).complete
        assert services.coach.disk_cleared() == []  # not yet true
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert services.coach.scrubber.wait(5)
    [told] = services.coach.disk_cleared()
    assert (told.key, told.text) == ("telegram:1", ui.forgotten_on_disk.fr)
    assert services.coach.disk_cleared() == []  # told once


@pytest.mark.parametrize("with_reader", [False, True], ids=["alone", "reader"])
def test_the_retention_purge_leaves_no_word_in_any_database_file(tmp_path, with_reader):
    path = tmp_path / "erase.db"
    clock = FakeClock()
    settings = load_settings(db_path=path, playbook_path=REAL_PLAYBOOK)
    services = build_services(settings, open_database(path), clock)
    services.coach.scrubber.retry_seconds = 0.05
    try:
        ana = services.conversation.user("telegram:1", "Ana", "fr")
        reflect(services, ana, text=SECRET)
        clock.advance(days=40)
        reflect(services, ana, text="Une réflexion récente")
        reader = reader_with_a_snapshot(path) if with_reader else None
        assert services.coach.apply_retention(30) == 1
        assert services.coach.erasure_pending is with_reader
        if reader is not None:
            reader.execute("COMMIT")
            reader.close()
        assert services.coach.scrubber.wait(5)
        assert files_holding(tmp_path, SECRET) == []
        assert files_holding(tmp_path, "Une réflexion récente")  # the rest is kept
    finally:
        services.coach.scrubber.close()
        services.conversation.db.close()


def test_a_start_after_a_stop_mid_scrub_empties_the_log(tmp_path):
    from bot.bootstrap import open_storage

    path = tmp_path / "erase.db"
    left = open_database(path)  # the bot that stopped before its background scrub completed
    left.execute("CREATE TABLE notes (text TEXT)")
    left.execute("INSERT INTO notes VALUES (?)", [SECRET])
    left.execute("DELETE FROM notes")
    try:
        assert files_holding(tmp_path, SECRET) == ["erase.db-wal"]
        started = open_storage(load_settings(db_path=path, playbook_path=REAL_PLAYBOOK))
        started.close()
        assert files_holding(tmp_path, SECRET) == []
    finally:
        left.close()
