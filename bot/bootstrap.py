"""Wiring: from settings to the services both adapters share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlite_utils import Database

from storage.db import open_database

from .checkins.service import CheckinService, Clock, system_clock
from .coach.service import CoachService
from .conversation import Conversation
from .playbooks import PlaybookLibrary
from .settings import Settings
from .team.service import TeamService


@dataclass(frozen=True)
class Services:
    """The conversation service and what hangs on it."""

    conversation: Conversation
    checkins: CheckinService
    coach: CoachService
    team: TeamService


def open_storage(settings: Settings) -> Database:
    """The configured database, migrated."""
    return open_database(settings.db_path, durable=settings.durable_writes)


def build_services(settings: Settings, db: Database, clock: Clock = system_clock) -> Services:
    """The services over `db` and the configured playbook (PlaybookError if it is bad)."""
    conversation = Conversation(db, PlaybookLibrary.from_file(db, settings.playbook_path), clock)
    grace = timedelta(hours=settings.checkin_grace_hours)
    return Services(
        conversation,
        CheckinService(conversation, grace, clock),
        CoachService(conversation, settings.coach_ids, clock),
        TeamService(conversation, clock),
    )
