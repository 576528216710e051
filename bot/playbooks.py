"""The current playbook and every earlier version a session may still be running on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from storage import repository

from .flows.contract import REQUIRED_FLOWS
from .flows.loader import PlaybookError, parse_playbook, read_source
from .flows.model import Playbook

Variant = Callable[[Playbook], Playbook]


def for_terminal(playbook: Playbook) -> Playbook:
    """The playbook as the terminal says it: its `ui.terminal` texts replace those of the same
    name (no buttons to tap there)."""
    overrides = playbook.ui.terminal
    if not overrides:
        return playbook
    fields = {name: getattr(playbook.ui, name) for name in type(playbook.ui).model_fields}
    ui = type(playbook.ui)(**{**fields, **overrides})  # built anew: no per-language cache kept
    return playbook.model_copy(update={"ui": ui})


log = logging.getLogger(__name__)


class PlaybookLibrary:
    """Gives each session the playbook version it started on; stores every version's text."""

    def __init__(
        self, db: Database, current: Playbook, text: str, source: str, *, seen_at: str
    ) -> None:
        self._db = db
        self.current = current
        self._by_version: dict[str, Playbook] = {current.version: current}
        self._variant: Variant | None = None
        repository.save_playbook_version(db, current.version, text, source, now=seen_at)

    @classmethod
    def from_file(cls, db: Database, path: str | Path, *, seen_at: str) -> PlaybookLibrary:
        """Load and check the playbook file (PlaybookError if invalid), and keep its text.

        `seen_at` (as stored) dates the version's first sighting."""
        text = read_source(path)
        playbook = parse_playbook(text, str(path), REQUIRED_FLOWS)
        return cls(db, playbook, text, str(path), seen_at=seen_at)

    def use_variant(self, variant: Variant) -> None:
        """Say every text through `variant` from now on (e.g. `for_terminal`)."""
        self._variant = variant
        self.current = variant(self.current)
        self._by_version = {v: variant(p) for v, p in self._by_version.items()}

    def for_version(self, version: str) -> Playbook:
        """The playbook a session started on; the current one if that version cannot be used."""
        known = self._by_version.get(version)
        if known is not None:
            return known
        text = repository.playbook_text(self._db, version)
        playbook = self.current
        if text is None:
            log.warning("playbook.version_missing version=%s", version)
        else:
            try:
                playbook = parse_playbook(text, f"<stored version {version}>")
                playbook = playbook.model_copy(update={"version": version})
            except PlaybookError as error:
                # Written for an older schema: the session continues on the current content.
                log.warning(
                    "playbook.version_unreadable version=%s issues=%d", version, len(error.issues)
                )
                playbook = self.current
        if self._variant is not None and playbook is not self.current:
            playbook = self._variant(playbook)
        self._by_version[version] = playbook
        return playbook
