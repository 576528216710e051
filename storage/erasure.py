"""Erasure that reaches the disk: after a deletion, the write-ahead log is folded back into the
database file and emptied (checkpoint TRUNCATE), so no earlier copy of an erased page stays in
the -wal file. With `secure_delete` on, the database file's own copy is overwritten.

The checkpoint runs on a dedicated connection with a short busy timeout: when another
connection holds a read snapshot (an export, a backup), it gives up at once instead of blocking
the caller (the bot's event loop) for seconds, and a background thread retries it until it
completes. Callers learn whether it completed, so what people are told is true.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from sqlite_utils import Database

log = logging.getLogger(__name__)

ATTEMPT_BUSY_MS = 50
"""Longest an attempt waits for a lock: a blink, never a frozen chat."""
RETRY_SECONDS = 1.0


def database_path(db: Database) -> Path | None:
    """The file behind a connection; None for an in-memory database."""
    rows = list(db.query("PRAGMA database_list"))
    main = next((row["file"] for row in rows if row["name"] == "main"), "")
    return Path(main) if main else None


def truncate_wal(path: Path) -> bool:
    """One attempt at checkpoint(TRUNCATE) on its own connection; True once the -wal file is
    folded back into the database and empty (or absent)."""
    try:
        connection = sqlite3.connect(path, timeout=ATTEMPT_BUSY_MS / 1000, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        connection.execute(f"PRAGMA busy_timeout = {ATTEMPT_BUSY_MS}")
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:  # "database is locked": a writer holds it right now
        return False
    finally:
        connection.close()
    wal = path.with_name(path.name + "-wal")
    return busy == 0 and (not wal.exists() or wal.stat().st_size == 0)


class WalScrubber:
    """Empties a database's write-ahead log after erasures, now if it can, else in the
    background (one daemon thread, retrying every `retry_seconds` until it completes)."""

    def __init__(self, path: Path | None, retry_seconds: float = RETRY_SECONDS) -> None:
        self.path = path
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> bool:
        """True while erased words may still sit in the -wal file."""
        return not self._done.is_set()

    def scrub(self) -> bool:
        """Try now (at most ATTEMPT_BUSY_MS); True if complete, else retried in the background."""
        if self.path is None:
            return True  # an in-memory database leaves nothing on disk
        with self._lock:
            self._done.clear()
            if truncate_wal(self.path):
                self._done.set()
                return True
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._retry, name="rebond-wal-scrubber", daemon=True
                )
                self._thread.start()
        log.info("privacy.scrub_pending")
        return False

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a pending scrub; True once complete."""
        return self._done.wait(timeout)

    def close(self) -> None:
        """Stop retrying (at shutdown; the next start-up's first erasure or backup scrubs)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.retry_seconds + 1)

    def _retry(self) -> None:
        while not self._stop.wait(self.retry_seconds):
            with self._lock:
                if self.path is not None and truncate_wal(self.path):
                    self._done.set()
                    log.info("privacy.scrub_complete")
                    return
