"""Which zone a view counts days and shows times in: the manager's own zone for anything about
the manager (their history, progress, streaks, reflection cards, trend, file names), and a
coach's own zone for the times a coach reads (their setting, else the manager's zone)."""

from __future__ import annotations

from sqlite_utils import Database

from storage import checkins as checkin_store
from storage import coach as coach_store

from .formatting import DEFAULT_ZONE


def manager_zone(db: Database, manager_id: int) -> str:
    """The manager's time zone: chosen in their check-in settings, else Paris."""
    return checkin_store.zone_of(db, manager_id) or DEFAULT_ZONE


def coach_zone(db: Database, coach_id: int, manager_id: int) -> str:
    """The zone a coach reads a manager's times in: the coach's own, else the manager's."""
    return coach_store.coach_zone(db, coach_id) or manager_zone(db, manager_id)
