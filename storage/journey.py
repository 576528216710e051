"""The SQL of the manager's journey: reminders of unfinished reflections, commitments with their
due dates, the thread between a manager and their coach, quiet hours, cancelled reflections.

Every function takes `now` from the caller's clock, so a test can play weeks in a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .repository import SessionRow, session_from_row

REFLECTION = "lost_client"
OPEN_COMMITMENT = ("open", "in_progress", "postponed")


@dataclass(frozen=True)
class Commitment:
    """Something the manager said they would do, with its local due date if one was understood."""

    id: int
    user_id: int
    session_id: int | None
    kind: str
    text: str
    when_text: str | None
    due_date: str | None
    status: str
    parent_id: int | None
    asked_session_id: int | None
    asked_on: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ThreadMessage:
    """One message of the thread about a reflection: a manager's reply or a coach's answer."""

    id: int
    session_id: int
    manager_id: int
    coach_id: int | None
    author: str
    feedback_id: int | None
    text: str
    created_at: str
    delivered_at: str | None


def _commitment(row: dict[str, Any]) -> Commitment:
    return Commitment(**{name: row[name] for name in Commitment.__dataclass_fields__})


def _message(row: dict[str, Any]) -> ThreadMessage:
    return ThreadMessage(**{name: row[name] for name in ThreadMessage.__dataclass_fields__})


# --- user preferences --------------------------------------------------------------------------


def quiet_hours(db: Database, user_id: int) -> str | None:
    """The user's own quiet hours ("21:00-08:00"), None for the default."""
    rows = list(db.query("SELECT quiet_hours FROM users WHERE id = ?", [user_id]))
    return rows[0]["quiet_hours"] if rows else None


def set_quiet_hours(db: Database, user_id: int, hours: str | None) -> None:
    """Set the user's quiet hours (None goes back to the default)."""
    db.execute("UPDATE users SET quiet_hours = ? WHERE id = ?", [hours, user_id])


def set_nudges_stopped(db: Database, user_id: int, stopped_at: str | None) -> None:
    """Stop reminders of unfinished reflections (a time), or allow them again (None)."""
    db.execute("UPDATE users SET nudges_stopped_at = ? WHERE id = ?", [stopped_at, user_id])


def nudges_stopped(db: Database, user_id: int) -> bool:
    """True when the user asked for no more reminders."""
    rows = list(db.query("SELECT nudges_stopped_at FROM users WHERE id = ?", [user_id]))
    return bool(rows and rows[0]["nudges_stopped_at"])


# --- reminders of unfinished reflections -------------------------------------------------------


def unfinished_reflections(
    db: Database, limit: int, max_sent: int | None = None
) -> list[dict[str, Any]]:
    """Open reflections of reachable Telegram users who did not stop reminders, with the time
    of their last answer (or start), the reminders sent so far and the latest one's time;
    with `max_sent`, only those that had fewer reminders (the others never get one again, and
    must not fill the batch)."""
    return list(
        db.query(
            """
            SELECT sessions.id AS session_id, sessions.user_id,
                   coalesce((SELECT max(created_at) FROM answers
                             WHERE answers.session_id = sessions.id), sessions.started_at)
                       AS last_activity,
                   (SELECT count(*) FROM nudges WHERE nudges.session_id = sessions.id) AS sent,
                   (SELECT max(sent_at) FROM nudges WHERE nudges.session_id = sessions.id)
                       AS last_sent
            FROM sessions JOIN users ON users.id = sessions.user_id
            WHERE sessions.flow = ? AND sessions.status IN ('active', 'paused')
                  AND users.blocked_at IS NULL AND users.nudges_stopped_at IS NULL
                  AND users.key LIKE 'telegram:%'
                  AND (SELECT count(*) FROM nudges WHERE nudges.session_id = sessions.id) < ?
            ORDER BY sessions.id LIMIT ?
            """,
            [REFLECTION, max_sent if max_sent is not None else 2**31, limit],
        )
    )


def record_nudge(db: Database, user_id: int, session_id: int, ordinal: int, now: str) -> bool:
    """Record that reminder `ordinal` of a reflection went out; False if it was recorded before."""
    cursor = db.execute(
        "INSERT INTO nudges (user_id, session_id, ordinal, sent_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (session_id, ordinal) DO NOTHING",
        [user_id, session_id, ordinal, now],
    )
    return cursor.rowcount == 1


def nudges_of(db: Database, user_id: int) -> list[dict[str, Any]]:
    """Reminders sent to a user, oldest first."""
    return list(db.query("SELECT * FROM nudges WHERE user_id = ? ORDER BY id", [user_id]))


# --- cancelled reflections ---------------------------------------------------------------------


def mark_cancelled(db: Database, session_id: int, now: str) -> None:
    """Abandon a session by the manager's choice, remembering when (to bring it back)."""
    db.execute(
        "UPDATE sessions SET status = 'abandoned', cancelled_at = ?, updated_at = ? WHERE id = ?",
        [now, now, session_id],
    )


def last_cancelled_reflection(db: Database, user_id: int) -> SessionRow | None:
    """The user's latest reflection dropped with /cancel, if no reflection began after it."""
    rows = list(
        db.query(
            """
            SELECT * FROM sessions WHERE user_id = ? AND flow = ? AND cancelled_at IS NOT NULL
                AND status = 'abandoned'
                AND NOT EXISTS (SELECT 1 FROM sessions AS later
                                WHERE later.user_id = sessions.user_id
                                AND later.flow = sessions.flow AND later.id > sessions.id)
            ORDER BY id DESC LIMIT 1
            """,
            [user_id, REFLECTION],
        )
    )
    return session_from_row(rows[0]) if rows else None


def restore_session(db: Database, user_id: int, session_id: int, now: str) -> None:
    """Open a cancelled session again and make it the user's current one."""
    with db.atomic():
        db.execute(
            "UPDATE sessions SET status = 'active', cancelled_at = NULL, updated_at = ? "
            "WHERE id = ? AND user_id = ?",
            [now, session_id, user_id],
        )
        db.execute("UPDATE users SET current_session_id = ? WHERE id = ?", [session_id, user_id])


# --- commitments -------------------------------------------------------------------------------


def add_commitment(
    db: Database,
    user_id: int,
    session_id: int | None,
    kind: str,
    text: str,
    when_text: str | None,
    due_date: str | None,
    now: str,
    parent_id: int | None = None,
) -> int:
    """Store a commitment; its id."""
    cursor = db.execute(
        """
        INSERT INTO commitments (user_id, session_id, kind, text, when_text, due_date, parent_id,
                                 created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [user_id, session_id, kind, text, when_text, due_date, parent_id, now, now],
    )
    return int(cursor.lastrowid or 0)


def commitments_of(db: Database, user_id: int) -> list[Commitment]:
    """A user's commitments, in the order they were made."""
    return [
        _commitment(row)
        for row in db.query("SELECT * FROM commitments WHERE user_id = ? ORDER BY id", [user_id])
    ]


def commitments_of_session(db: Database, session_id: int) -> list[Commitment]:
    """The commitments a reflection made, and the next steps that followed them."""
    return [
        _commitment(row)
        for row in db.query(
            """
            WITH RECURSIVE chain(id) AS (
                SELECT id FROM commitments WHERE session_id = ?
                UNION SELECT commitments.id FROM commitments JOIN chain
                    ON commitments.parent_id = chain.id
            )
            SELECT * FROM commitments WHERE id IN (SELECT id FROM chain) ORDER BY id
            """,
            [session_id],
        )
    ]


def get_commitment(db: Database, commitment_id: int) -> Commitment | None:
    """A commitment by id."""
    rows = list(db.query("SELECT * FROM commitments WHERE id = ?", [commitment_id]))
    return _commitment(rows[0]) if rows else None


def due_commitment(db: Database, user_id: int, local_date: str) -> Commitment | None:
    """The user's open commitment due on or before that local date and not asked that day."""
    rows = list(
        db.query(
            """
            SELECT * FROM commitments WHERE user_id = ? AND status IN ('open', 'in_progress',
                'postponed') AND due_date IS NOT NULL AND due_date <= ?
                AND (asked_on IS NULL OR asked_on < due_date)
            ORDER BY due_date, id LIMIT 1
            """,
            [user_id, local_date],
        )
    )
    return _commitment(rows[0]) if rows else None


def users_with_due_commitments(
    db: Database, local_date_max: str, limit: int, local_date_min: str | None = None
) -> list[int]:
    """Users having an open commitment due by that date (the latest local date anywhere); with
    `local_date_min` (the earliest local date anywhere), not those whose check-ins are on and
    paused until no later than before it: their check-in asks, and they must not fill the batch."""
    return [
        row["user_id"]
        for row in db.query(
            """
            SELECT DISTINCT commitments.user_id FROM commitments
            JOIN users ON users.id = commitments.user_id
            WHERE commitments.status IN ('open', 'in_progress', 'postponed')
                AND commitments.due_date IS NOT NULL AND commitments.due_date <= ?
                AND (commitments.asked_on IS NULL OR commitments.asked_on < commitments.due_date)
                AND users.blocked_at IS NULL AND users.key LIKE 'telegram:%'
                AND NOT EXISTS (
                    SELECT 1 FROM checkin_settings WHERE checkin_settings.user_id = users.id
                    AND checkin_settings.enabled = 1 AND ? IS NOT NULL
                    AND coalesce(checkin_settings.paused_until, '') < ?)
            ORDER BY commitments.user_id LIMIT ?
            """,
            [local_date_max, local_date_min, local_date_min, limit],
        )
    ]


def current_commitment(db: Database, user_id: int) -> Commitment | None:
    """The open commitment a daily check-in asks about: the earliest due, then the oldest."""
    rows = list(
        db.query(
            """
            SELECT * FROM commitments WHERE user_id = ? AND kind IN ('first_step', 'next_step')
                AND status IN ('open', 'in_progress', 'postponed')
            ORDER BY due_date IS NULL, due_date, id LIMIT 1
            """,
            [user_id],
        )
    )
    return _commitment(rows[0]) if rows else None


def mark_asked(
    db: Database, commitment_id: int, session_id: int, local_date: str, now: str
) -> None:
    """The commitment's question went out, in this session, on this local day."""
    db.execute(
        "UPDATE commitments SET asked_session_id = ?, asked_on = ?, updated_at = ? WHERE id = ?",
        [session_id, local_date, now, commitment_id],
    )


def asked_in(db: Database, session_id: int) -> Commitment | None:
    """The commitment a session asked about, if any."""
    rows = list(db.query("SELECT * FROM commitments WHERE asked_session_id = ?", [session_id]))
    return _commitment(rows[0]) if rows else None


def set_commitment_status(
    db: Database,
    commitment_id: int,
    status: str,
    now: str,
    due_date: str | None = None,
    when_text: str | None = None,
) -> None:
    """A commitment's new state; a new due date (and its words) when it moves."""
    db.execute(
        "UPDATE commitments SET status = ?, due_date = coalesce(?, due_date), "
        "when_text = coalesce(?, when_text), updated_at = ? WHERE id = ?",
        [status, due_date, when_text, now, commitment_id],
    )


# --- the coach thread --------------------------------------------------------------------------


def set_replying_to(db: Database, user_id: int, session_id: int | None) -> None:
    """The reflection whose coach the user's next text answers (None: no reply pending)."""
    db.execute("UPDATE users SET replying_to = ? WHERE id = ?", [session_id, user_id])


def replying_to(db: Database, user_id: int) -> int | None:
    """The reflection the user is writing a reply about, if any."""
    rows = list(db.query("SELECT replying_to FROM users WHERE id = ?", [user_id]))
    return rows[0]["replying_to"] if rows else None


def add_thread_message(
    db: Database,
    session_id: int,
    manager_id: int,
    coach_id: int | None,
    author: str,
    text: str,
    now: str,
    feedback_id: int | None = None,
    source_key: str | None = None,
) -> tuple[int, str | None]:
    """A message of the thread, once per `source_key`: its id, and when it was delivered if
    this update stored it before."""
    db.execute(
        """
        INSERT INTO coach_thread (session_id, manager_id, coach_id, author, feedback_id, text,
                                  created_at, source_key)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_key) DO NOTHING
        """,
        [session_id, manager_id, coach_id, author, feedback_id, text, now, source_key],
    )
    if source_key is None:
        rows = list(
            db.query("SELECT id, delivered_at FROM coach_thread WHERE rowid = last_insert_rowid()")
        )
    else:
        rows = list(
            db.query("SELECT id, delivered_at FROM coach_thread WHERE source_key = ?", [source_key])
        )
    return int(rows[0]["id"]), rows[0]["delivered_at"]


def mark_thread_delivered(db: Database, message_id: int, now: str) -> None:
    """The message reached its reader's chat."""
    db.execute("UPDATE coach_thread SET delivered_at = ? WHERE id = ?", [now, message_id])


def thread_of(db: Database, session_id: int) -> list[ThreadMessage]:
    """The thread about a reflection, oldest first."""
    return [
        _message(row)
        for row in db.query(
            "SELECT * FROM coach_thread WHERE session_id = ? ORDER BY id", [session_id]
        )
    ]


def thread_for_manager(db: Database, manager_id: int) -> list[ThreadMessage]:
    """Every thread message about a manager's reflections, oldest first."""
    return [
        _message(row)
        for row in db.query(
            "SELECT * FROM coach_thread WHERE manager_id = ? ORDER BY id", [manager_id]
        )
    ]


def undelivered_thread(db: Database, limit: int) -> list[ThreadMessage]:
    """Thread messages not yet delivered (the bot stopped, or the reader was unreachable) and
    not on their way: no outbox row `thread:ID` waits or went out, and none failed (a refusal,
    or a reader who blocked the bot, is not tried again; one that expired is). Only readers
    reachable on Telegram count, so messages nobody can deliver never hold the others back."""
    return [
        _message(row)
        for row in db.query(
            """
            SELECT coach_thread.* FROM coach_thread JOIN users AS reader ON reader.id =
                CASE coach_thread.author WHEN 'manager' THEN coach_thread.coach_id
                ELSE coach_thread.manager_id END
            WHERE coach_thread.delivered_at IS NULL AND reader.blocked_at IS NULL
                AND reader.key LIKE 'telegram:%' AND NOT EXISTS (
                    SELECT 1 FROM outbox WHERE outbox.subject = 'thread:' || coach_thread.id
                    AND outbox.status != 'expired')
            ORDER BY coach_thread.id LIMIT ?
            """,
            [limit],
        )
    ]


def get_thread_message(db: Database, message_id: int) -> ThreadMessage | None:
    """One thread message by id."""
    rows = list(db.query("SELECT * FROM coach_thread WHERE id = ?", [message_id]))
    return _message(rows[0]) if rows else None


def feedback_session(db: Database, feedback_id: int) -> int | None:
    """The reflection a coach's feedback is about."""
    rows = list(db.query("SELECT session_id FROM feedback WHERE id = ?", [feedback_id]))
    return rows[0]["session_id"] if rows else None


# --- what a delivery means for the journey ----------------------------------------------------


def report_delivery(db: Database, kind: str, number: str, status: str, now: str) -> None:
    """An outbox row about the journey ended (`status`: sent, done, failed, expired): a thread
    message is delivered once sent; a reminder or a commitment's question that expired before
    it could be delivered was never sent, so it is due again (outside quiet hours)."""
    if kind == "thread" and status == "sent":
        mark_thread_delivered(db, int(number), now)
    elif kind == "nudge" and status == "sent":
        session_id, _, ordinal = number.partition(".")
        db.execute(
            "UPDATE nudges SET sent_at = ? WHERE session_id = ? AND ordinal = ?",
            [now, int(session_id), int(ordinal)],
        )
    elif kind == "nudge" and status == "expired":
        session_id, _, ordinal = number.partition(".")
        db.execute(
            "DELETE FROM nudges WHERE session_id = ? AND ordinal = ?",
            [int(session_id), int(ordinal)],
        )
    elif kind == "commitment" and status == "expired":
        rows = list(
            db.query("SELECT asked_session_id FROM commitments WHERE id = ?", [int(number)])
        )
        asked = rows[0]["asked_session_id"] if rows else None
        db.execute(
            "UPDATE commitments SET asked_on = NULL, asked_session_id = NULL, updated_at = ? "
            "WHERE id = ?",
            [now, int(number)],
        )
        if asked is not None:  # its question never reached the manager: nothing waits on it
            db.execute(
                "UPDATE sessions SET status = 'abandoned', updated_at = ? WHERE id = ? "
                "AND status IN ('active', 'paused') AND NOT EXISTS "
                "(SELECT 1 FROM answers WHERE answers.session_id = sessions.id)",
                [now, asked],
            )


def latest_answer(db: Database, user_id: int) -> tuple[int, str] | None:
    """The session and time of the user's most recent answer, in any flow."""
    rows = list(
        db.query(
            "SELECT answers.session_id, answers.created_at FROM answers JOIN sessions "
            "ON sessions.id = answers.session_id WHERE sessions.user_id = ? "
            "ORDER BY answers.id DESC LIMIT 1",
            [user_id],
        )
    )
    return (rows[0]["session_id"], rows[0]["created_at"]) if rows else None
