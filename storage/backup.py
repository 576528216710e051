"""Backups: a consistent copy of the live database with SQLite's online backup API, and a
restore that checks the copy (integrity_check, migrations applied) before replacing anything.

Python's `sqlite3.Connection.backup` copies every page under one read transaction: in WAL
mode the bot keeps writing meanwhile, and the copy is the database as of one commit.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from .migrations import MIGRATIONS

MIGRATIONS_TABLE = "_sqlite_migrations"


class BackupError(Exception):
    """A backup or restore that cannot be done; one line saying why, and that nothing changed."""


class BackupExists(BackupError):
    """The backup's path is taken, and replacing it was not asked for."""


def backup(db_path: Path, destination: Path, *, overwrite: bool = False) -> Path:
    """Copy the database at `db_path` (live or not) to `destination`, a file path or a folder
    (then `rebond-<UTC stamp>.db` inside is chosen by the caller, see `backup_name`). The copy
    is written beside its final name, checked, and only then moved into place; an existing
    file there is replaced only with `overwrite` (else BackupExists, even if it appears while
    the copy is made). Its path."""
    if not db_path.exists():
        raise BackupError(f"no database at {db_path}: check REBOND_DB or --db")
    if destination.resolve() == db_path.resolve():
        raise BackupError("the backup cannot be the database itself: choose another path")
    if not overwrite and (destination.exists() or destination.is_symlink()):
        raise BackupExists(f"{destination} already exists")
    if not destination.parent.is_dir():
        raise BackupError(f"the folder {destination.parent} does not exist: create it first")
    partial = destination.with_name(destination.name + ".partial")
    try:
        descriptor = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.close(descriptor)
        source = sqlite3.connect(db_path, timeout=5)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # every page in one step: one consistent snapshot
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            problem = _integrity_problem(target)
        finally:
            target.close()
            source.close()
        if problem is not None:
            raise BackupError(f"the copy failed SQLite's integrity check ({problem})")
        if overwrite:
            os.replace(partial, destination)
        else:
            os.link(partial, destination)  # fails if the name was taken meanwhile: no clobber
    except FileExistsError:
        raise BackupExists(f"{destination} already exists") from None
    except OSError as error:
        raise BackupError(f"cannot write {destination}: {error.strerror}") from None
    except sqlite3.Error as error:
        raise BackupError(f"cannot back up {db_path}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return destination


def backup_name(stamp: str) -> str:
    """The file name of a backup made into a folder: rebond-20261127T0300Z.db."""
    return f"rebond-{stamp}.db"


def check_backup(path: Path) -> list[str]:
    """The migrations a backup has applied, once it passes integrity_check and every one of
    them is known to this version of Rebond; BackupError (with the reason) otherwise."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    try:
        copy = _read_only(path)
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be opened: {error}") from None
    try:
        problem = _integrity_problem(copy)
        if problem is not None:
            raise BackupError(f"{path} failed SQLite's integrity check ({problem})")
        found = copy.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
            [MIGRATIONS_TABLE],
        ).fetchone()[0]
        if not found:
            raise BackupError(f"{path} is not a Rebond database (no migrations recorded)")
        applied = [
            row[0]
            for row in copy.execute(
                f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
                [MIGRATIONS.name],
            )
        ]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database ({error})") from None
    finally:
        copy.close()
    known = [migration.name for migration in MIGRATIONS.pending(Database(memory=True))]
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise BackupError(
            f"{path} comes from a newer Rebond (schema {unknown[-1]} unknown here): "
            "install that version, then restore"
        )
    if not applied:
        raise BackupError(f"{path} is not a Rebond database (no migrations recorded)")
    return applied


def restore(path: Path, db_path: Path) -> list[str]:
    """Replace the database at `db_path` with the backup at `path`, after `check_backup`; the
    migrations the backup had (older ones are brought up to date when Rebond next opens it).
    The pages are copied with the backup API under SQLite's own locks, WAL included."""
    applied = check_backup(path)
    try:
        if not db_path.exists():
            descriptor = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(descriptor)
        source = _read_only(path)
        target = sqlite3.connect(db_path, timeout=5)
        try:
            source.backup(target)
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
            source.close()
    except OSError as error:
        raise BackupError(f"cannot write {db_path}: {error.strerror}") from None
    except sqlite3.Error as error:
        raise BackupError(f"cannot restore into {db_path}: {error}") from None
    return applied


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change the file (a backup is evidence: leave it as it is)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _integrity_problem(connection: sqlite3.Connection) -> str | None:
    """The first problem `PRAGMA integrity_check` reports, or None when it says ok."""
    try:
        first = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:  # too damaged for the check to run at all
        if "not a database" in str(error):
            raise
        return str(error)
    return None if first == "ok" else str(first)
