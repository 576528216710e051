"""`rebond backup` while answers stream in, and `rebond restore` that checks before replacing
(issue #10, kind 8)."""

from __future__ import annotations

import io
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.bootstrap import build_services
from bot.delivery.instance import InstanceLock
from bot.flows.state import Answer
from bot.settings import load_settings
from storage.db import open_database

from .helpers import REAL_PLAYBOOK, FakeClock


def test_a_backup_during_a_stream_of_answers_restores_every_acknowledged_one(tmp_path, capsys):
    live = tmp_path / "live.db"
    settings = load_settings(db_path=live, playbook_path=REAL_PLAYBOOK)
    services = build_services(settings, open_database(live), FakeClock())
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        conversation = services.conversation
        for number in range(100_000):
            if stop.is_set():
                return
            user = conversation.user(f"telegram:{number}", f"M{number}", "fr")
            conversation.start(user, "lost_client")
            if conversation.handle(user, Answer(f"Client-{number}")).stored:
                acknowledged.append(f"Client-{number}")

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        while len(acknowledged) < 30:
            threading.Event().wait(0.01)
        before = list(acknowledged)
        (tmp_path / "copies").mkdir()
        assert main(["backup", str(tmp_path / "copies"), "--db", str(live)]) == 0
        during = list(acknowledged)
    finally:
        stop.set()
        writer.join()
        services.conversation.db.close()
    assert len(during) > len(before)  # the stream went on while the copy was made
    [copy] = (tmp_path / "copies").iterdir()
    assert copy.name.startswith("rebond-") and copy.stat().st_mode & 0o777 == 0o600
    assert capsys.readouterr().out.startswith(f"backed up {live} to {copy}")

    restored = tmp_path / "restored.db"
    assert main(["restore", str(copy), "--db", str(restored)]) == 0
    db = open_database(restored)
    try:
        kept = {row["raw_text"] for row in db.query("SELECT raw_text FROM answers")}
        assert set(before) <= kept, "an acknowledged answer is missing from the backup"
        assert next(iter(db.query("PRAGMA integrity_check")))["integrity_check"] == "ok"
    finally:
        db.close()


@pytest.fixture
def current(tmp_path: Path) -> Path:
    """A live database with one manager, which a refused restore must leave as it is."""
    path = tmp_path / "current.db"
    db = open_database(path)
    db.execute("INSERT INTO users (key, created_at, last_seen_at) VALUES ('telegram:1', 'x', 'x')")
    db.close()
    return path


def users(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT key FROM users")]


def refused(args: list[str], capsys) -> str:
    assert main(args) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    return err[0]


def test_restore_refuses_a_damaged_file(tmp_path, current, capsys):
    good = tmp_path / "good.db"
    assert main(["backup", str(good), "--db", str(current)]) == 0
    data = bytearray(good.read_bytes())
    page = 4096
    data[page * 2 : page * 2 + 200] = b"\xff" * 200  # a torn write in the middle
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    line = refused(["restore", str(damaged), "--db", str(current)], capsys)
    assert line.startswith(f"rebond restore: {damaged} failed SQLite's integrity check (")
    assert line.endswith("; nothing was replaced")
    assert users(current) == ["telegram:1"]


def test_restore_refuses_what_is_not_a_rebond_database(tmp_path, current, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just words " * 200)
    line = refused(["restore", str(text), "--db", str(current)], capsys)
    assert line.startswith(f"rebond restore: {text} ") and "nothing was replaced" in line
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    line = refused(["restore", str(other), "--db", str(current)], capsys)
    assert line == (
        f"rebond restore: {other} is not a Rebond database (no migrations recorded); "
        "nothing was replaced"
    )
    assert refused(["restore", str(tmp_path / "nope.db"), "--db", str(current)], capsys) == (
        f"rebond restore: no backup file at {tmp_path / 'nope.db'}; nothing was replaced"
    )
    assert users(current) == ["telegram:1"]


def test_restore_refuses_a_backup_from_a_newer_schema(tmp_path, current, capsys):
    newer = tmp_path / "newer.db"
    assert main(["backup", str(newer), "--db", str(current)]) == 0
    with sqlite3.connect(newer) as connection:
        connection.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('rebond', '0099_future', 'x')"
        )
    line = refused(["restore", str(newer), "--db", str(current)], capsys)
    assert line == (
        f"rebond restore: {newer} comes from a newer Rebond (schema 0099_future unknown here): "
        "install that version, then restore; nothing was replaced"
    )


def test_a_backup_never_overwrites_the_database_itself(current, capsys):
    line = refused(["backup", str(current), "--db", str(current)], capsys)
    assert line == (
        "rebond backup: the backup cannot be the database itself: choose another path; "
        "nothing was written"
    )


def test_a_backup_refuses_to_overwrite_a_file_unless_forced(tmp_path, current, capsys):
    """From a new user's trial: a second backup to the same name replaced the first silently."""
    target = tmp_path / "daily.db"
    assert main(["backup", str(target), "--db", str(current)]) == 0
    first = target.read_bytes()
    with sqlite3.connect(current) as connection:
        connection.execute("UPDATE users SET key = 'telegram:2'")
    line = refused(["backup", str(target), "--db", str(current)], capsys)
    assert line == (
        f"rebond backup: {target} already exists: add --force to replace it, or choose another "
        "path; nothing was written"
    )
    assert target.read_bytes() == first and users(target) == ["telegram:1"]
    assert not list(tmp_path.glob("*.partial"))
    assert main(["backup", str(target), "--force", "--db", str(current)]) == 0
    assert users(target) == ["telegram:2"]


class Terminal(io.StringIO):
    """A stdin a person types into."""

    def isatty(self) -> bool:
        return True


def test_restore_asks_first_and_keeps_the_database_it_replaces(
    tmp_path, current, capsys, monkeypatch
):
    """From a new user's trial: restore replaced the database without a word nor a copy."""
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy), "--db", str(current)]) == 0
    with sqlite3.connect(current) as connection:
        connection.execute("UPDATE users SET key = 'telegram:2'")  # written after the backup
    capsys.readouterr()

    # no terminal to ask on (`echo y | rebond restore ...`), and no --yes: nothing happens,
    # and the line says why rather than "not confirmed" for a question never asked
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    line = refused(["restore", str(copy), "--db", str(current)], capsys)
    assert line == (
        "rebond restore: no terminal to ask for confirmation: add --yes; nothing was replaced"
    )
    assert "Replace" not in capsys.readouterr().out
    # asked on a terminal, answered no
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    refused(["restore", str(copy), "--db", str(current)], capsys)
    assert users(current) == ["telegram:2"]
    assert [p.name for p in tmp_path.iterdir() if "before-restore" in p.name] == []

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main(["restore", str(copy), "--db", str(current)]) == 0
    out = capsys.readouterr().out
    assert f"Replace {current} with {copy} (schema " in out
    [kept] = [p for p in tmp_path.iterdir() if p.name.startswith("current-before-restore-")]
    assert out.endswith(f"the database it replaced is kept as {kept}\n")
    assert users(current) == ["telegram:1"] and users(kept) == ["telegram:2"]


def test_restore_with_yes_asks_nothing(tmp_path, current, capsys):
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy), "--db", str(current)]) == 0
    assert main(["restore", "--yes", str(copy), "--db", str(current)]) == 0
    assert "kept as" in capsys.readouterr().out


def test_restore_refuses_while_the_bot_runs(tmp_path, current, capsys):
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy), "--db", str(current)]) == 0
    lock = InstanceLock(current)
    lock.acquire()  # what `rebond run` holds while it serves this database
    try:
        line = refused(["restore", "--yes", str(copy), "--db", str(current)], capsys)
    finally:
        lock.release()
    assert line.startswith("rebond restore: another Rebond process (pid ")
    assert line.endswith("; nothing was replaced")
    assert not [p for p in tmp_path.iterdir() if "before-restore" in p.name]


def test_restore_refuses_while_a_terminal_chat_writes_the_database(
    tmp_path, current, capsys, monkeypatch
):
    """From the second trial: restore replaced the database under a running terminal chat,
    which then kept writing into the restored file (only the Telegram bot took the lock)."""
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy), "--db", str(current)]) == 0
    during: list[int] = []

    def chatting(*args: object, **kwargs: object) -> int:
        # what a person would do from another terminal while the chat waits for an answer
        during.append(main(["restore", "--yes", str(copy), "--db", str(current)]))
        during.append(main(["chat", "--db", str(current)]))  # a second chat on that database
        during.append(main(["checkin", "--db", str(current)]))
        return 0

    monkeypatch.setattr("bot.terminal.run_chat", chatting)
    capsys.readouterr()
    assert main(["chat", "--db", str(current), "--user", "ana"]) == 0
    assert during == [1, 1, 1]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3, err
    assert err[0].startswith("rebond restore: another Rebond process (pid ")
    assert err[0].endswith("; nothing was replaced")
    for line in err[1:]:  # the same line as the Telegram bot's second instance
        assert line.startswith("rebond: another Rebond process (pid ")
    assert not [p for p in tmp_path.iterdir() if "before-restore" in p.name]
    # the chat ended (end of input, or Ctrl-C): its lock is free for the next one
    assert main(["restore", "--yes", str(copy), "--db", str(current)]) == 0

    def interrupted(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("bot.terminal.run_chat", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["chat", "--db", str(current)])
    lock = InstanceLock(current)
    lock.acquire()  # free again
    lock.release()


def test_export_and_backup_of_a_missing_database_refuse_and_create_nothing(tmp_path, capsys):
    """From the second trial: `export --db missing.db` reported "exported 0 managers" and left
    an empty missing.db behind."""
    missing = tmp_path / "missing.db"
    for args, command in [
        (["export", "--format", "csv", "--out", str(tmp_path / "x1")], "export"),
        (["export", "--format", "json", "--out", str(tmp_path / "x1")], "export"),
        (["backup", str(tmp_path / "copy.db")], "backup"),
    ]:
        assert main([*args, "--db", str(missing)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.splitlines() == [
            f"rebond {command}: no database at {missing}: check REBOND_DB or --db; "
            "nothing was written"
        ]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_backup_into_a_missing_folder_is_refused(tmp_path, current, capsys):
    """From the second trial: `backup /nonexistent/dir/x.db` made the folders (`chat` refuses
    such a path)."""
    for given, folder in [
        (tmp_path / "no" / "dir" / "x.db", tmp_path / "no" / "dir"),
        (f"{tmp_path / 'backups'}/", tmp_path / "backups"),
    ]:
        assert main(["backup", str(given), "--db", str(current)]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"rebond backup: the folder {folder} does not exist: create it or choose another "
            "path; nothing was written"
        ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.db"]
