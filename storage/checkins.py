"""Check-in settings and check-in days: the SQL behind the scheduler."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True)
class CheckinSettings:
    """A user's check-in settings and the UTC moment of their next check-in."""

    user_id: int
    enabled: bool
    local_time: str
    timezone: str
    weekdays_only: bool
    paused_until: str | None
    next_due_at: str | None
    snoozed_checkin_id: int | None
    followups_only: bool = False
    """Only the follow-ups (D+7, D+30) are sent, no daily check-in."""


@dataclass(frozen=True)
class Checkin:
    """One check-in day of one user."""

    id: int
    user_id: int
    local_date: str
    kind: str
    flow: str
    due_at: str
    status: str
    session_id: int | None
    snoozed: bool
    sent_at: str | None
    answered_at: str | None


def _settings(row: dict[str, Any]) -> CheckinSettings:
    return CheckinSettings(
        user_id=row["user_id"],
        enabled=bool(row["enabled"]),
        local_time=row["local_time"],
        timezone=row["timezone"],
        weekdays_only=bool(row["weekdays_only"]),
        paused_until=row["paused_until"],
        next_due_at=row["next_due_at"],
        snoozed_checkin_id=row["snoozed_checkin_id"],
        followups_only=bool(row["followups_only"]),
    )


def _checkin(row: dict[str, Any]) -> Checkin:
    return Checkin(
        id=row["id"],
        user_id=row["user_id"],
        local_date=row["local_date"],
        kind=row["kind"],
        flow=row["flow"],
        due_at=row["due_at"],
        status=row["status"],
        session_id=row["session_id"],
        snoozed=bool(row["snoozed"]),
        sent_at=row["sent_at"],
        answered_at=row["answered_at"],
    )


def get_settings(db: Database, user_id: int) -> CheckinSettings | None:
    """The user's check-in settings, if they ever set them."""
    rows = list(db.query("SELECT * FROM checkin_settings WHERE user_id = ?", [user_id]))
    return _settings(rows[0]) if rows else None


def save_settings(db: Database, settings: CheckinSettings, *, now: str) -> None:
    """Create or replace the user's check-in settings."""
    db.execute(
        """
        INSERT INTO checkin_settings (user_id, enabled, local_time, timezone, weekdays_only,
                                      paused_until, next_due_at, snoozed_checkin_id, updated_at,
                                      followups_only)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET
            enabled = excluded.enabled, local_time = excluded.local_time,
            timezone = excluded.timezone, weekdays_only = excluded.weekdays_only,
            paused_until = excluded.paused_until, next_due_at = excluded.next_due_at,
            snoozed_checkin_id = excluded.snoozed_checkin_id, updated_at = excluded.updated_at,
            followups_only = excluded.followups_only
        """,
        [
            settings.user_id,
            int(settings.enabled),
            settings.local_time,
            settings.timezone,
            int(settings.weekdays_only),
            settings.paused_until,
            settings.next_due_at,
            settings.snoozed_checkin_id,
            now,
            int(settings.followups_only),
        ],
    )


def set_next_due(
    db: Database,
    user_id: int,
    next_due_at: str | None,
    snoozed_checkin_id: int | None = None,
    *,
    now: str,
) -> None:
    """Move the user's next check-in (and set or clear the snoozed one)."""
    db.execute(
        "UPDATE checkin_settings SET next_due_at = ?, snoozed_checkin_id = ?, updated_at = ? "
        "WHERE user_id = ?",
        [next_due_at, snoozed_checkin_id, now, user_id],
    )


def disable(db: Database, user_id: int, *, now: str) -> None:
    """Turn the user's check-ins off (they blocked the bot, or asked)."""
    db.execute(
        "UPDATE checkin_settings SET enabled = 0, next_due_at = NULL, snoozed_checkin_id = NULL, "
        "updated_at = ? WHERE user_id = ?",
        [now, user_id],
    )


def due_users(db: Database, now: str, limit: int) -> list[CheckinSettings]:
    """Users whose check-in is due at `now`, earliest first (an index range scan)."""
    return [
        _settings(row)
        for row in db.query(
            "SELECT * FROM checkin_settings WHERE enabled = 1 AND next_due_at <= ? "
            "ORDER BY next_due_at LIMIT ?",
            [now, limit],
        )
    ]


def insert_checkin(
    db: Database,
    user_id: int,
    local_date: str,
    kind: str,
    flow: str,
    due_at: str,
    status: str,
    *,
    now: str,
) -> int | None:
    """Record a check-in day; None if the user already has one that local day."""
    try:
        cursor = db.execute(
            "INSERT INTO checkins (user_id, local_date, kind, flow, due_at, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [user_id, local_date, kind, flow, due_at, status, now],
        )
    except sqlite3.IntegrityError as error:
        if "checkins.user_id, checkins.local_date" not in str(error):
            raise
        return None
    return int(cursor.lastrowid or 0)


def get_checkin(db: Database, checkin_id: int) -> Checkin | None:
    """A check-in by id."""
    rows = list(db.query("SELECT * FROM checkins WHERE id = ?", [checkin_id]))
    return _checkin(rows[0]) if rows else None


def checkin_on(db: Database, user_id: int, local_date: str) -> Checkin | None:
    """The user's check-in of that local day, if any."""
    rows = list(
        db.query(
            "SELECT * FROM checkins WHERE user_id = ? AND local_date = ?", [user_id, local_date]
        )
    )
    return _checkin(rows[0]) if rows else None


def checkin_for_session(db: Database, session_id: int) -> Checkin | None:
    """The check-in a session answers, if it is one."""
    rows = list(db.query("SELECT * FROM checkins WHERE session_id = ?", [session_id]))
    return _checkin(rows[0]) if rows else None


def mark_sent(db: Database, checkin_id: int, session_id: int, *, now: str) -> None:
    """The check-in's first question went out, in this session."""
    db.execute(
        "UPDATE checkins SET status = 'sent', session_id = ?, sent_at = ? WHERE id = ?",
        [session_id, now, checkin_id],
    )


def set_session(db: Database, checkin_id: int, session_id: int) -> None:
    """The check-in's session is open and its first question queued (still `claimed` until
    delivered, or `claimed` again when a snoozed one is asked again)."""
    db.execute(
        "UPDATE checkins SET status = 'claimed', session_id = ? WHERE id = ?",
        [session_id, checkin_id],
    )


def set_status(
    db: Database, checkin_id: int, status: str, *, now: str, snoozed: bool = False
) -> None:
    """Change a check-in's status (answered, missed, snoozed, undelivered...)."""
    answered = now if status == "answered" else None
    db.execute(
        "UPDATE checkins SET status = ?, snoozed = max(snoozed, ?), "
        "answered_at = coalesce(answered_at, ?) WHERE id = ?",
        [status, int(snoozed), answered, checkin_id],
    )


def open_checkins(db: Database, user_id: int) -> list[Checkin]:
    """The user's check-ins sent or snoozed but not answered."""
    return [
        _checkin(row)
        for row in db.query(
            "SELECT * FROM checkins WHERE user_id = ? AND status IN ('sent', 'snoozed') "
            "ORDER BY local_date",
            [user_id],
        )
    ]


def stale_claims(db: Database, claimed_before: str, limit: int) -> list[Checkin]:
    """Check-ins claimed but never started (the bot stopped in between); one started is in
    the outbox already."""
    return [
        _checkin(row)
        for row in db.query(
            "SELECT * FROM checkins WHERE status = 'claimed' AND session_id IS NULL "
            "AND created_at < ? "
            "ORDER BY id LIMIT ?",
            [claimed_before, limit],
        )
    ]


def recent_checkins(db: Database, user_id: int, limit: int = 400) -> list[Checkin]:
    """The user's check-in days, newest first."""
    return [
        _checkin(row)
        for row in db.query(
            "SELECT * FROM checkins WHERE user_id = ? ORDER BY local_date DESC LIMIT ?",
            [user_id, limit],
        )
    ]


def followups_sent(db: Database, user_id: int) -> set[str]:
    """Kinds of follow-ups already sent to the user ('followup:7:<session>'...)."""
    return {
        row["kind"]
        for row in db.query(
            "SELECT kind FROM checkins WHERE user_id = ? AND kind LIKE 'followup:%'", [user_id]
        )
    }


def moods(db: Database, user_id: int, since: str) -> list[tuple[str, int]]:
    """(local date, mood) of the user's answered daily check-ins since a local date."""
    rows = db.query(
        """
        SELECT checkins.local_date AS day, answers.value AS value FROM checkins
        JOIN answers_on_path AS answers ON answers.session_id = checkins.session_id
             AND answers.step = 'mood'
        WHERE checkins.user_id = ? AND checkins.local_date >= ? AND answers.value IS NOT NULL
              AND answers.value != 'null'
        ORDER BY checkins.local_date, answers.id
        """,
        [user_id, since],
    )
    latest: dict[str, int] = {}
    for row in rows:
        latest[row["day"]] = int(row["value"])  # one check-in a day: one answer on its path
    return sorted(latest.items())


def zone_of(db: Database, user_id: int) -> str | None:
    """The time zone the user chose in their check-in settings, if any."""
    rows = list(db.query("SELECT timezone FROM checkin_settings WHERE user_id = ?", [user_id]))
    return rows[0]["timezone"] if rows else None


def mark_undelivered(db: Database, checkin_id: int) -> None:
    """The bot could not deliver this check-in (Telegram refused it for good, or it was never
    sent): the manager was not asked that day, so no streak counts it as missed."""
    db.execute(
        "UPDATE checkins SET status = 'undelivered' WHERE id = ? AND status != 'answered'",
        [checkin_id],
    )
