"""Wiring: from settings to the services both adapters share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from storage.db import open_database, to_stored
from storage.erasure import database_path, truncate_wal

from .checkins.service import CheckinService
from .clock import Clock
from .coach.service import CoachService
from .coach.thread import CoachThread
from .conversation import Conversation
from .journey.service import JourneyService
from .playbooks import PlaybookLibrary
from .settings import Settings
from .team.service import TeamService


def system_clock() -> datetime:
    """The wall clock, in UTC: the only place Rebond reads it (a check enforces it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """The conversation service and what hangs on it."""

    conversation: Conversation
    checkins: CheckinService
    coach: CoachService
    journey: JourneyService
    """Home, reminders, commitments, schedule, quiet hours, /cancel's way back (refs #11)."""
    thread: CoachThread
    """Replies between a manager and their coach (refs #11)."""
    team: TeamService
    """The team round: anonymous answers from the team (refs #13)."""


def open_storage(settings: Settings) -> Database:
    """The configured database, migrated, its write-ahead log emptied: a stop before an
    erasure's background scrub completed may have left erased pages there."""
    db = open_database(settings.db_path, durable=settings.durable_writes)
    path = database_path(db)
    if path is not None:
        truncate_wal(path)
    return db


def build_services(settings: Settings, db: Database, clock: Clock = system_clock) -> Services:
    """The services over `db` and the configured playbook (PlaybookError if it is bad)."""
    library = PlaybookLibrary.from_file(db, settings.playbook_path, seen_at=to_stored(clock()))
    conversation = Conversation(db, library, clock)
    grace = timedelta(hours=settings.checkin_grace_hours)
    checkins = CheckinService(conversation, grace, clock)
    coach = CoachService(conversation, settings.coach_ids, clock)
    journey = JourneyService(conversation, checkins, coach, clock, settings.quiet_hours)
    return Services(
        conversation,
        checkins,
        coach,
        journey,
        CoachThread(coach),
        TeamService(conversation, clock),
    )
