"""Coach pairing and review: invites, consented links, shared reflections, notes, feedback,
notifications and the audit of every read. Visibility rules live in these queries, so that no
caller can forget one: a coach sees a manager's reflection only through an active link, once it
is shared (`shared_at` set) and never when it is private.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .repository import SessionRow, session_from_row

REFLECTION = "lost_client"


@dataclass(frozen=True)
class Invite:
    """A single-use pairing code made by a coach."""

    code: str
    coach_id: int
    created_at: str
    expires_at: str
    opened_by: int | None
    used_by: int | None
    used_at: str | None


@dataclass(frozen=True)
class Link:
    """A manager's consent to share with a coach."""

    id: int
    coach_id: int
    manager_id: int
    include_checkins: bool
    created_at: str
    ended_at: str | None


@dataclass(frozen=True)
class ManagerOverview:
    """One line of a coach's /managers."""

    link_id: int
    manager_id: int
    name: str | None
    last_seen_at: str
    reflections: int
    include_checkins: bool


def _invite(row: dict[str, Any]) -> Invite:
    return Invite(**{name: row[name] for name in Invite.__dataclass_fields__})


def _link(row: dict[str, Any]) -> Link:
    return Link(
        id=row["id"],
        coach_id=row["coach_id"],
        manager_id=row["manager_id"],
        include_checkins=bool(row["include_checkins"]),
        created_at=row["created_at"],
        ended_at=row["ended_at"],
    )


# --- invites -----------------------------------------------------------------------------------


def create_invite(db: Database, code: str, coach_id: int, now: str, expires_at: str) -> Invite:
    """Store a new invite code."""
    db.execute(
        "INSERT INTO invites (code, coach_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        [code, coach_id, now, expires_at],
    )
    invite = get_invite(db, code)
    assert invite is not None
    return invite


def get_invite(db: Database, code: str) -> Invite | None:
    """The invite with that code, if any."""
    rows = list(db.query("SELECT * FROM invites WHERE code = ?", [code]))
    return _invite(rows[0]) if rows else None


def open_invite(db: Database, code: str, manager_id: int) -> None:
    """A manager opened the invite: remember it until they confirm or decline it."""
    db.execute(
        "UPDATE invites SET opened_by = ? WHERE code = ? AND used_at IS NULL", [manager_id, code]
    )


def close_opened_invite(db: Database, manager_id: int, code: str) -> None:
    """The manager declined this invite: it no longer waits for them."""
    db.execute(
        "UPDATE invites SET opened_by = NULL WHERE code = ? AND opened_by = ? AND used_at IS NULL",
        [code, manager_id],
    )


def use_invite(db: Database, code: str, manager_id: int, now: str) -> bool:
    """Spend the invite for this manager; False if already used or expired."""
    cursor = db.execute(
        "UPDATE invites SET used_by = ?, used_at = ?, opened_by = NULL "
        "WHERE code = ? AND used_at IS NULL AND expires_at > ?",
        [manager_id, now, code, now],
    )
    return cursor.rowcount == 1


# --- links -------------------------------------------------------------------------------------


def create_link(
    db: Database, coach_id: int, manager_id: int, include_checkins: bool, now: str
) -> Link | None:
    """Link the manager to the coach; returns the link it replaced, if any."""
    previous = active_link(db, manager_id)
    if previous is not None:
        db.execute("UPDATE links SET ended_at = ? WHERE id = ?", [now, previous.id])
    db.execute(
        "INSERT INTO links (coach_id, manager_id, include_checkins, created_at) "
        "VALUES (?, ?, ?, ?)",
        [coach_id, manager_id, int(include_checkins), now],
    )
    return previous


def active_link(db: Database, manager_id: int) -> Link | None:
    """The manager's active link, if they share with a coach."""
    rows = list(
        db.query("SELECT * FROM links WHERE manager_id = ? AND ended_at IS NULL", [manager_id])
    )
    return _link(rows[0]) if rows else None


def coach_link(db: Database, coach_id: int, link_id: int) -> Link | None:
    """The coach's active link with that id; None if it is not theirs or has ended."""
    rows = list(
        db.query(
            "SELECT * FROM links WHERE id = ? AND coach_id = ? AND ended_at IS NULL",
            [link_id, coach_id],
        )
    )
    return _link(rows[0]) if rows else None


def link_between(db: Database, coach_id: int, manager_id: int) -> Link | None:
    """The active link between this coach and this manager, if any."""
    rows = list(
        db.query(
            "SELECT * FROM links WHERE coach_id = ? AND manager_id = ? AND ended_at IS NULL",
            [coach_id, manager_id],
        )
    )
    return _link(rows[0]) if rows else None


def end_link(db: Database, manager_id: int, now: str) -> Link | None:
    """End the manager's sharing at once; the link it ended, if any."""
    link = active_link(db, manager_id)
    if link is not None:
        db.execute("UPDATE links SET ended_at = ? WHERE id = ?", [now, link.id])
    return link


# --- what a coach may see ----------------------------------------------------------------------

_VISIBLE = (
    "sessions.flow = 'lost_client' AND sessions.status = 'completed' AND sessions.private = 0 "
    "AND sessions.shared_at IS NOT NULL AND sessions.shared_at <= :now"
)


def managers_overview(db: Database, coach_id: int, now: str) -> list[ManagerOverview]:
    """The coach's linked managers, with last activity and shared reflections done."""
    rows = db.query(
        f"""
        SELECT links.id AS link_id, users.id AS manager_id, users.display_name AS name,
               users.last_seen_at, links.include_checkins,
               (SELECT count(*) FROM sessions WHERE sessions.user_id = users.id AND {_VISIBLE})
                   AS reflections
        FROM links JOIN users ON users.id = links.manager_id
        WHERE links.coach_id = :coach AND links.ended_at IS NULL
        ORDER BY users.last_seen_at DESC
        """,
        {"coach": coach_id, "now": now},
    )
    return [
        ManagerOverview(
            link_id=row["link_id"],
            manager_id=row["manager_id"],
            name=row["name"],
            last_seen_at=row["last_seen_at"],
            reflections=row["reflections"],
            include_checkins=bool(row["include_checkins"]),
        )
        for row in rows
    ]


def shared_reflections(
    db: Database,
    manager_id: int,
    now: str,
    *,
    limit: int | None = None,
    completed_since: str | None = None,
) -> list[SessionRow]:
    """The manager's reflections a linked coach may see, newest first: the latest `limit`, or
    those completed at or after `completed_since` (stored time), when given."""
    return [
        session_from_row(row)
        for row in db.query(
            f"SELECT * FROM sessions WHERE sessions.user_id = :manager AND {_VISIBLE} "
            "AND completed_at >= :since ORDER BY completed_at DESC LIMIT :limit",
            {
                "manager": manager_id,
                "now": now,
                "since": completed_since or "",
                "limit": -1 if limit is None else limit,
            },
        )
    ]


def unshared_reflections(db: Database, manager_id: int) -> list[SessionRow]:
    """The manager's finished reflections no coach can see yet, not kept private, and none is
    about to (no pending notification): what consent asks about, newest first."""
    return [
        session_from_row(row)
        for row in db.query(
            "SELECT * FROM sessions WHERE user_id = ? AND flow = 'lost_client' "
            "AND status = 'completed' AND shared_at IS NULL AND private = 0 AND id NOT IN "
            "(SELECT session_id FROM notifications WHERE handled_at IS NULL) "
            "ORDER BY completed_at DESC, id DESC",
            [manager_id],
        )
    ]


def visible_reflection(db: Database, coach_id: int, session_id: int, now: str) -> SessionRow | None:
    """A reflection if this coach may read it now (linked, shared, not private), else None."""
    rows = list(
        db.query(
            f"""
            SELECT sessions.* FROM sessions
            JOIN links ON links.manager_id = sessions.user_id AND links.ended_at IS NULL
            WHERE sessions.id = :session AND links.coach_id = :coach AND {_VISIBLE}
            """,
            {"session": session_id, "coach": coach_id, "now": now},
        )
    )
    return session_from_row(rows[0]) if rows else None


# --- privacy of reflections --------------------------------------------------------------------


def set_private(db: Database, session_id: int, private: bool, now: str) -> None:
    """Keep a reflection private (the coach cannot see it exists) or share it from now."""
    db.execute(
        "UPDATE sessions SET private = ?, shared_at = CASE WHEN ? THEN NULL "
        "ELSE coalesce(shared_at, ?) END WHERE id = ?",
        [int(private), int(private), now, session_id],
    )


def share_if_not_private(db: Database, session_id: int, now: str) -> bool:
    """Share a reflection whose manager did not keep it private; True if it is shared now."""
    db.execute(
        "UPDATE sessions SET shared_at = coalesce(shared_at, ?) WHERE id = ? AND private = 0",
        [now, session_id],
    )
    rows = list(db.query("SELECT shared_at FROM sessions WHERE id = ?", [session_id]))
    return bool(rows and rows[0]["shared_at"])


# --- notes, feedback ---------------------------------------------------------------------------


def add_note(
    db: Database, coach_id: int, session_id: int, text: str, now: str, source_key: str | None
) -> None:
    """A coach's private note on a reflection (once per `source_key`, the update carrying it)."""
    db.execute(
        "INSERT INTO coach_notes (coach_id, session_id, text, created_at, source_key) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_key) DO NOTHING",
        [coach_id, session_id, text, now, source_key],
    )


def notes_for(db: Database, coach_id: int, session_id: int) -> list[dict[str, Any]]:
    """This coach's notes on a reflection, oldest first."""
    return list(
        db.query(
            "SELECT text, created_at FROM coach_notes WHERE coach_id = ? AND session_id = ? "
            "ORDER BY id",
            [coach_id, session_id],
        )
    )


def add_feedback(
    db: Database,
    coach_id: int,
    manager_id: int,
    session_id: int,
    text: str,
    now: str,
    source_key: str | None,
) -> tuple[int, str | None]:
    """A coach's message to a manager about a reflection, once per `source_key`: its id, and
    when it was delivered if this update already stored it."""
    db.execute(
        "INSERT INTO feedback (coach_id, manager_id, session_id, text, created_at, source_key) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source_key) DO NOTHING",
        [coach_id, manager_id, session_id, text, now, source_key],
    )
    if source_key is None:
        rows = list(
            db.query("SELECT id, delivered_at FROM feedback WHERE rowid = last_insert_rowid()")
        )
    else:
        rows = list(
            db.query("SELECT id, delivered_at FROM feedback WHERE source_key = ?", [source_key])
        )
    return int(rows[0]["id"]), rows[0]["delivered_at"]


def undelivered_feedback(db: Database, since: str, limit: int) -> list[dict[str, Any]]:
    """Feedback written since `since` that is neither delivered nor queued for delivery (the
    web view stores it; the bot sends it), oldest first: id, coach_id, manager_id, session_id,
    text. A queued one has an outbox row whose subject is `feedback:ID`."""
    return list(
        db.query(
            "SELECT id, coach_id, manager_id, session_id, text FROM feedback "
            "WHERE delivered_at IS NULL AND created_at >= ? AND NOT EXISTS "
            "(SELECT 1 FROM outbox WHERE outbox.subject = 'feedback:' || feedback.id) "
            "ORDER BY id LIMIT ?",
            [since, limit],
        )
    )


def mark_feedback_delivered(db: Database, feedback_id: int, now: str) -> None:
    """The manager received the feedback."""
    db.execute("UPDATE feedback SET delivered_at = ? WHERE id = ?", [now, feedback_id])


def feedback_for_manager(db: Database, manager_id: int) -> list[dict[str, Any]]:
    """Every feedback a manager received, oldest first, with the reflection it is about."""
    return list(
        db.query(
            "SELECT id, session_id, text, created_at FROM feedback WHERE manager_id = ? "
            "ORDER BY id",
            [manager_id],
        )
    )


# --- a coach's own time zone -------------------------------------------------------------------


def coach_zone(db: Database, coach_id: int) -> str | None:
    """The time zone the coach reads times in, if they set one."""
    rows = list(db.query("SELECT timezone FROM coach_preferences WHERE coach_id = ?", [coach_id]))
    return rows[0]["timezone"] if rows else None


def set_coach_zone(db: Database, coach_id: int, zone: str | None) -> None:
    """Remember the coach's time zone (an IANA name); None: each manager's zone again."""
    db.execute(
        "INSERT INTO coach_preferences (coach_id, timezone) VALUES (?, ?) "
        "ON CONFLICT (coach_id) DO UPDATE SET timezone = excluded.timezone",
        [coach_id, zone],
    )


def claim_zone_question(db: Database, coach_id: int, now: str) -> bool:
    """True the first time only: the coach has not been asked their time zone yet, and is
    marked as asked at `now`."""
    db.execute(
        "INSERT INTO coach_preferences (coach_id, zone_asked_at) VALUES (?, ?) "
        "ON CONFLICT (coach_id) DO UPDATE SET zone_asked_at = excluded.zone_asked_at "
        "WHERE coach_preferences.zone_asked_at IS NULL",
        [coach_id, now],
    )
    return bool(db.conn.execute("SELECT changes()").fetchone()[0])


# --- notifications -----------------------------------------------------------------------------


def set_notify(db: Database, coach_id: int, notify: bool) -> None:
    """Whether the coach wants a message when a linked manager completes a shared reflection."""
    db.execute(
        "INSERT INTO coach_preferences (coach_id, notify) VALUES (?, ?) "
        "ON CONFLICT (coach_id) DO UPDATE SET notify = excluded.notify",
        [coach_id, int(notify)],
    )


def wants_notifications(db: Database, coach_id: int) -> bool:
    """True when the coach turned notifications on."""
    rows = list(db.query("SELECT notify FROM coach_preferences WHERE coach_id = ?", [coach_id]))
    return bool(rows and rows[0]["notify"])


def queue_notification(
    db: Database, coach_id: int, manager_id: int, session_id: int, not_before: str
) -> None:
    """Tell the coach about a completed reflection, not before the manager could keep it private."""
    db.execute(
        "INSERT INTO notifications (coach_id, manager_id, session_id, not_before) "
        "VALUES (?, ?, ?, ?)",
        [coach_id, manager_id, session_id, not_before],
    )


def due_notifications(db: Database, now: str, limit: int) -> list[dict[str, Any]]:
    """Notifications whose time has come."""
    return list(
        db.query(
            "SELECT * FROM notifications WHERE handled_at IS NULL AND not_before <= ? "
            "ORDER BY not_before LIMIT ?",
            [now, limit],
        )
    )


def release_notifications(db: Database, session_id: int, now: str) -> None:
    """Let the pending notifications of a reflection go out from `now` (it was shared by hand)."""
    db.execute(
        "UPDATE notifications SET not_before = ? WHERE session_id = ? AND handled_at IS NULL",
        [now, session_id],
    )


def mark_notification_done(db: Database, notification_id: int, now: str) -> None:
    """Queued for delivery, or dropped because the reflection is no longer shared (its
    `sent_at` is set once delivered: `storage.delivery.finish`)."""
    db.execute("UPDATE notifications SET handled_at = ? WHERE id = ?", [now, notification_id])


# --- audit -------------------------------------------------------------------------------------


def log_read(
    db: Database, coach_id: int | None, manager_id: int, action: str, target: str | None, now: str
) -> None:
    """Record that a coach (or the operator, coach None) read something about a manager."""
    db.execute(
        "INSERT INTO audit (coach_id, manager_id, action, target, at) VALUES (?, ?, ?, ?, ?)",
        [coach_id, manager_id, action, target, now],
    )


def log_reads(db: Database, coach_id: int, manager_ids: list[int], action: str, now: str) -> None:
    """`log_read` for many managers at once (a page listing them), in one statement."""
    db.conn.executemany(
        "INSERT INTO audit (coach_id, manager_id, action, target, at) VALUES (?, ?, ?, NULL, ?)",
        [(coach_id, manager_id, action, now) for manager_id in manager_ids],
    )


def audit_for(db: Database, manager_id: int) -> list[dict[str, Any]]:
    """Every recorded read about a manager, oldest first."""
    return list(
        db.query(
            "SELECT audit.action, audit.target, audit.at, users.display_name AS coach "
            "FROM audit LEFT JOIN users ON users.id = audit.coach_id "
            "WHERE audit.manager_id = ? ORDER BY audit.id",
            [manager_id],
        )
    )
