"""One bot process per database: an exclusive lock on a file next to it, naming its holder."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    """Another process serves this database; the message names it."""


class InstanceLock:
    """Held from `acquire` until `release` (or the process's end, even on SIGKILL)."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(f"{db_path}.lock")
        self.in_memory = str(db_path) == ":memory:"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock; AlreadyRunning (with the holder's pid) if another process has it."""
        if self.in_memory:  # nobody else can open that database
            return
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunning(
                f"another Rebond process (pid {holder}) is serving {self.path.with_suffix('')}; "
                "stop it first, or give this one its own REBOND_DB"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Let another process take over."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
