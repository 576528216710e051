"""Background tasks that must not die silently: a dead one stops the bot, loudly.

The sender and the inbox's workers catch and wait out what they expect (a locked database, a
failing handler). Anything that still ends one of them (a bug) would otherwise leave the bot
polling while nothing is sent or processed until a restart: instead it is logged at CRITICAL
with its traceback, the bot stops, and the process exits with status 1 (its supervisor, such
as systemd, restarts it; what was pending is in the inbox and the outbox).
"""

from __future__ import annotations

import asyncio
import functools
import logging

log = logging.getLogger(__name__)


class TaskDied(Exception):
    """A background task the bot needs ended with an error (or ended early)."""


class Supervisor:
    """Watches tasks; the first one that dies sets `stop` and is reported by `raise_if_died`."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.deaths: list[str] = []

    def watch(self, task: asyncio.Task[None], name: str, *, until_stop: bool = False) -> None:
        """Report `task` if it raises; with `until_stop`, also if it returns before the stop."""
        task.add_done_callback(functools.partial(self._ended, name, until_stop))

    def _ended(self, name: str, until_stop: bool, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is None and (not until_stop or self.stop.is_set()):
            return
        reason = type(error).__name__ if error is not None else "ended early"
        log.critical("task.died task=%s error=%s", name, reason, exc_info=error)
        self.deaths.append(f"{name} ({reason})")
        self.stop.set()

    def raise_if_died(self) -> None:
        """TaskDied naming the tasks that died, if any did."""
        if self.deaths:
            raise TaskDied(", ".join(self.deaths))
