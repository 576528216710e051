"""Wiring: from settings to the services both adapters share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlite_utils import Database

from storage.db import open_database

from .checkins.service import CheckinService, Clock, system_clock
from .coach.service import CoachService
from .coach.thread import CoachThread
from .conversation import Conversation
from .journey.service import JourneyService
from .playbooks import PlaybookLibrary
from .settings import Settings


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


def open_storage(settings: Settings) -> Database:
    """The configured database, migrated."""
    return open_database(settings.db_path, durable=settings.durable_writes)


def build_services(settings: Settings, db: Database, clock: Clock = system_clock) -> Services:
    """The services over `db` and the configured playbook (PlaybookError if it is bad)."""
    conversation = Conversation(db, PlaybookLibrary.from_file(db, settings.playbook_path), clock)
    grace = timedelta(hours=settings.checkin_grace_hours)
    checkins = CheckinService(conversation, grace, clock)
    coach = CoachService(conversation, settings.coach_ids, clock)
    journey = JourneyService(conversation, checkins, coach, clock, settings.quiet_hours)
    return Services(conversation, checkins, coach, journey, CoachThread(coach))
