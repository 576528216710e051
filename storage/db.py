"""Opening the SQLite database: owner-only file, WAL, busy timeout, foreign keys, migrations."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from .migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 5000
MEMORY = ":memory:"


def open_database(path: str | Path, *, durable: bool = True) -> Database:
    """Open the database at `path` (created owner-readable only), configured and migrated.

    `durable` syncs every commit to disk (synchronous=FULL), so a committed answer survives a
    power cut, not only a crash of the bot.
    """
    location = str(path)
    if location != MEMORY:
        _create_private(Path(location))
    connection = sqlite3.connect(location, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    db = Database(connection)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA secure_delete = ON")  # a forgotten manager's words are overwritten
    if location != MEMORY:
        db.enable_wal()
    db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    MIGRATIONS.apply(db)
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
