"""Start-up problems end with one line saying which and how to fix it, never a traceback."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.startup import port_in_use

from .helpers import ROOT


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("TELEGRAM_BOT_TOKEN", "REBOND_DB", "REBOND_PLAYBOOK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REBOND_PLAYBOOK", str(ROOT / "content" / "playbook.yaml"))


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.splitlines()


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_an_empty_token_is_a_setting_error_not_the_terminal_chat(
    monkeypatch, capsys, tmp_path: Path, where: str
):
    if where == "environment":
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    else:
        (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=\nREBOND_DB=x.db\n")
    assert main(["run"]) == 2
    assert error_lines(capsys) == [
        "rebond: cannot start, fix these settings:",
        "TELEGRAM_BOT_TOKEN: is set but empty; paste the token from @BotFather, or remove the "
        "line to chat in the terminal",
    ]


def test_a_database_path_that_is_a_folder(capsys, tmp_path: Path):
    assert main(["chat", "--db", str(tmp_path)]) == 2
    assert error_lines(capsys) == [
        f"rebond: cannot start: {tmp_path} is a folder, not a database file: set REBOND_DB "
        f"(or --db) to a file such as {tmp_path / 'rebond.db'}"
    ]


def test_a_database_path_that_is_not_sqlite(capsys, tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Mes notes de réunion, pas une base de données.\n" * 100)
    assert main(["chat", "--db", str(notes)]) == 2
    assert error_lines(capsys) == [
        f"rebond: cannot start: {notes} is not a SQLite database: set REBOND_DB (or --db) to "
        "Rebond's database, or to a new file name"
    ]
    assert notes.read_text().startswith("Mes notes")  # left as it was


def test_a_database_on_a_read_only_file_system(monkeypatch, capsys, tmp_path: Path):
    # The tests run as root, for whom no permission refuses a write: the file system's answer
    # (EROFS) is injected where the database file is created.
    def read_only(*args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("storage.db.os.open", read_only)
    assert main(["chat", "--db", str(tmp_path / "new.db")]) == 2
    assert error_lines(capsys) == [
        f"rebond: cannot start: cannot create {tmp_path / 'new.db'} (Read-only file system): "
        "set REBOND_DB (or --db) to a file in a folder Rebond may write to"
    ]


def test_a_webhook_port_in_use_is_explained_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with socket.socket() as second, pytest.raises(OSError) as raised:
            second.bind(("127.0.0.1", port))
    explained = port_in_use("127.0.0.1", port, raised.value)
    assert explained is not None
    assert str(explained) == (
        f"the webhook port 127.0.0.1:{port} is already in use (another Rebond, or another "
        "server): stop it, or set REBOND_WEBHOOK_PORT to a free port and point the reverse "
        "proxy at it"
    )
    assert port_in_use("127.0.0.1", port, OSError(errno.EACCES, "denied")) is None


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_an_empty_database_path_is_a_setting_error(monkeypatch, capsys, tmp_path: Path, where):
    """From the second trial: `REBOND_DB=` silently used ./rebond.db, while an empty token is
    refused; both are refused now."""
    if where == "environment":
        monkeypatch.setenv("REBOND_DB", "")
    else:
        (tmp_path / ".env").write_text("REBOND_DB=\n")
    assert main(["chat"]) == 2
    assert error_lines(capsys) == [
        "rebond: cannot start, fix these settings:",
        "REBOND_DB: is set but empty; write the database file's path, or remove the line to use "
        "rebond.db in the working folder",
    ]
    assert not (tmp_path / "rebond.db").exists()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("REBOND_CHECKIN_GRACE_HOURS", "abc", "'abc' is not a number from 0 to 12"),
        ("REBOND_CHECKIN_GRACE_HOURS", "13", "'13' is not a number from 0 to 12"),
        ("REBOND_CHECKIN_TICK_SECONDS", "0", "'0' is not a number above 0, up to 3600"),
        ("REBOND_CHECKIN_BATCH", "1.5", "'1.5' is not a whole number from 1 to 10000"),
        ("REBOND_RETENTION_DAYS", "soon", "'soon' is not a whole number of 1 or more"),
        ("REBOND_MAX_MESSAGES_PER_SECOND", "-1", "'-1' is not a number of 0 or more"),
        ("REBOND_WEB_PORT", "http", "'http' is not a whole number from 1 to 65535"),
        (
            "REBOND_DURABLE_WRITES",
            "maybe",
            "'maybe' is not yes or no (true or false, 1 or 0, on or off)",
        ),
    ],
)
def test_a_bad_number_names_the_variable_the_value_and_what_is_expected(
    monkeypatch, capsys, name, value, expected
):
    """From the second trial: pydantic's own words ("Input should be a valid number, unable
    to parse string as a number") reached the operator."""
    monkeypatch.setenv(name, value)
    assert main(["check"]) == 2
    assert error_lines(capsys) == [
        "rebond: cannot start, fix these settings:",
        f"{name}: {expected}",
    ]


def test_a_db_option_into_a_missing_folder_names_the_option(capsys, tmp_path: Path):
    missing = tmp_path / "nope" / "x.db"
    assert main(["chat", "--db", str(missing)]) == 2
    assert error_lines(capsys) == [
        "rebond: cannot start, fix these settings:",
        f"--db: the folder {missing.parent} does not exist; create it or choose another",
    ]


def test_a_bad_playbook_at_start_up_exits_2_as_every_start_up_problem(
    monkeypatch, capsys, tmp_path: Path
):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nflows: [\n")
    monkeypatch.setenv("REBOND_PLAYBOOK", str(broken))
    assert main(["chat", "--db", str(tmp_path / "c.db")]) == 2
    lines = error_lines(capsys)
    assert lines[0] == "rebond: the playbook has problems:"
    # the chat took the instance lock before it failed: it is free again
    from bot.delivery.instance import InstanceLock

    lock = InstanceLock(tmp_path / "c.db")
    lock.acquire()
    lock.release()


def test_an_empty_db_option_is_refused_not_taken_as_unset(capsys, tmp_path: Path):
    assert main(["export", "--format", "md", "--out", "x", "--db", ""]) == 2
    assert error_lines(capsys) == [
        "rebond: cannot start, fix these settings:",
        "--db: is empty or a folder; give the database file's path, like rebond.db",
    ]
    assert list(tmp_path.iterdir()) == []
