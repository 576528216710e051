"""Opening the SQLite database: owner-only file, WAL, busy timeout, foreign keys, migrations."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 5000
MEMORY = ":memory:"


def select(
    db: Database, sql: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    """The rows of a SELECT (or a PRAGMA that returns rows), as dicts by column name, fetched
    at once. For the bot's per-update queries: sqlite-utils' `Database.query` guards each
    statement with a savepoint (SAVEPOINT and RELEASE, two statements more per query: a third
    of the statements an update cost), which a SELECT written here does not need.
    ValueError for a statement that returns no rows (a mistake in our SQL: it has run)."""
    cursor = db.conn.execute(sql, params)
    if cursor.description is None:
        raise ValueError(f"not a query: {sql.split()[0] if sql.split() else sql!r}")
    keys = [column[0] for column in cursor.description]
    if len(set(keys)) != len(keys):  # dict() would keep one of two same-named columns
        raise ValueError(f"two columns share a name in: {sql[:60]}")
    return [dict(zip(keys, row, strict=True)) for row in cursor]


class StorageError(Exception):
    """The database cannot be opened: one line saying which problem and how to fix it."""


def open_database(path: str | Path, *, durable: bool = True) -> Database:
    """Open the database at `path` (created owner-readable only), configured and migrated.

    `durable` syncs every commit to disk (synchronous=FULL), so a committed answer survives a
    power cut, not only a crash of the bot. StorageError when the path is a folder, a file that
    is not SQLite, or cannot be created or written.
    """
    location = str(path)
    if location != MEMORY and Path(location).is_dir():
        raise StorageError(
            f"{location} is a folder, not a database file: set REBOND_DB (or --db) to a file "
            f"such as {Path(location) / 'rebond.db'}"
        )
    try:
        return _open(location, durable)
    except OSError as error:
        raise StorageError(
            f"cannot create {location} ({error.strerror or error}): set REBOND_DB (or --db) to "
            "a file in a folder Rebond may write to"
        ) from None
    except sqlite3.DatabaseError as error:
        explained = _explain(location, error)
        if explained is None:
            raise
        raise StorageError(explained) from None


def _explain(location: str, error: sqlite3.DatabaseError) -> str | None:
    """The fix for the SQLite errors a wrong REBOND_DB causes; None for any other error."""
    message = str(error).lower()
    if "file is not a database" in message:
        return (
            f"{location} is not a SQLite database: set REBOND_DB (or --db) to Rebond's "
            "database, or to a new file name"
        )
    if "readonly" in message or "read-only" in message or "unable to open" in message:
        return (
            f"{location} cannot be written (a read-only file system, or its permissions): set "
            "REBOND_DB (or --db) to a file in a folder Rebond may write to"
        )
    return None


def _open(location: str, durable: bool) -> Database:
    if location != MEMORY:
        _create_private(Path(location))
    connection = sqlite3.connect(location, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    db = Database(connection)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA secure_delete = ON")  # a forgotten manager's words are overwritten
        if location != MEMORY:
            db.enable_wal()
        db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        MIGRATIONS.apply(db)
    except BaseException:
        db.close()
        raise
    return db


def to_stored(moment: datetime) -> str:
    """A datetime as stored: ISO 8601 in UTC, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only, before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(descriptor)
