"""Wiring: from settings to a ready conversation service (the adapters' shared core)."""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import open_database

from .conversation import Conversation
from .playbooks import PlaybookLibrary
from .settings import Settings


def open_storage(settings: Settings) -> Database:
    """The configured database, migrated."""
    return open_database(settings.db_path, durable=settings.durable_writes)


def build_conversation(settings: Settings, db: Database) -> Conversation:
    """The conversation service over `db` and the configured playbook (PlaybookError if bad)."""
    return Conversation(db, PlaybookLibrary.from_file(db, settings.playbook_path))
