"""Small repository functions over the core tables: users, playbook versions, sessions, answers.

Rows come back as frozen dataclasses; JSON columns stay strings so this module needs nothing
from the flow engine.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .db import select


@dataclass(frozen=True)
class User:
    """A person who talks to Rebond, known by a channel key such as `telegram:42`."""

    id: int
    key: str
    display_name: str | None
    lang: str | None
    lang_chosen: bool
    current_session_id: int | None
    onboarded_at: str | None
    blocked_at: str | None = None
    question_message_id: int | None = None


@dataclass(frozen=True)
class SessionRow:
    """One run of one flow by one user, with its state as JSON."""

    id: int
    user_id: int
    flow: str
    playbook_version: str
    status: str
    state: str
    outputs: str | None
    summary: str | None
    started_at: str
    updated_at: str
    completed_at: str | None
    private: bool = False
    shared_at: str | None = None


@dataclass(frozen=True)
class NewAnswer:
    """An answer to append: `kind` is answer, skip or amend; `value` is JSON."""

    step: str
    section: str
    kind: str
    raw_text: str
    value: str | None
    idempotency_key: str
    source_ref: str | None = None


@dataclass(frozen=True)
class Receipt:
    """Proof that an incoming update was processed, stored with what it changed."""

    key: str
    user_id: int


@dataclass(frozen=True)
class AnswerRow:
    """A stored answer."""

    id: int
    session_id: int
    step: str
    section: str
    kind: str
    raw_text: str
    value: str | None
    created_at: str
    idempotency_key: str
    source_ref: str | None = None


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        key=row["key"],
        display_name=row["display_name"],
        lang=row["lang"],
        lang_chosen=bool(row["lang_chosen"]),
        current_session_id=row["current_session_id"],
        onboarded_at=row["onboarded_at"],
        blocked_at=row["blocked_at"],
        question_message_id=row["question_message_id"],
    )


def session_from_row(row: dict[str, Any]) -> SessionRow:
    """A sessions row as a SessionRow."""
    fields = {name: row[name] for name in SessionRow.__dataclass_fields__}
    fields["private"] = bool(fields["private"])
    return SessionRow(**fields)


# --- users -------------------------------------------------------------------------------------


def get_or_create_user(
    db: Database, key: str, display_name: str | None = None, lang: str | None = None, *, now: str
) -> User:
    """The user with `key`, created on first contact; `last_seen_at` kept to the minute."""
    rows = select(db, "SELECT * FROM users WHERE key = ?", [key])
    if rows:
        if rows[0]["last_seen_at"][:16] != now[:16]:  # one write a minute at most, not a message
            db.execute("UPDATE users SET last_seen_at = ? WHERE id = ?", [now, rows[0]["id"]])
        return _user(rows[0])
    db.execute(
        """
        INSERT INTO users (key, display_name, lang, created_at, last_seen_at)
        VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING
        """,
        [key, display_name, lang, now, now],
    )
    found = find_user(db, key)
    assert found is not None
    return found


def find_user(db: Database, key: str) -> User | None:
    """The user with `key`, if any."""
    rows = select(db, "SELECT * FROM users WHERE key = ?", [key])
    return _user(rows[0]) if rows else None


def all_users(db: Database) -> list[User]:
    """Every user, in the order they first came."""
    return [_user(row) for row in select(db, "SELECT * FROM users ORDER BY id")]


def managers(db: Database) -> list[User]:
    """The managers, in the order they first came: the users who went through the onboarding
    or began a conversation flow. A person who only answered a team round through its link
    (or a coach who never reflected) is not one."""
    return [
        _user(row)
        for row in select(
            db,
            "SELECT * FROM users WHERE onboarded_at IS NOT NULL "
            "OR EXISTS (SELECT 1 FROM sessions WHERE sessions.user_id = users.id) ORDER BY id",
        )
    ]


def get_user(db: Database, user_id: int) -> User:
    """The user with that id (KeyError if none)."""
    rows = select(db, "SELECT * FROM users WHERE id = ?", [user_id])
    if not rows:
        raise KeyError(f"no user {user_id}")
    return _user(rows[0])


def set_user_language(db: Database, user_id: int, lang: str, chosen: bool = True) -> None:
    """Remember the user's language (`chosen` when they picked it themselves)."""
    db.execute(
        "UPDATE users SET lang = ?, lang_chosen = max(lang_chosen, ?) WHERE id = ?",
        [lang, int(chosen), user_id],
    )


def mark_onboarded(db: Database, user_id: int, *, now: str) -> None:
    """Record that the user has been through the onboarding."""
    db.execute(
        "UPDATE users SET onboarded_at = coalesce(onboarded_at, ?) WHERE id = ?",
        [now, user_id],
    )


# --- playbook versions -------------------------------------------------------------------------


def save_playbook_version(db: Database, version: str, text: str, source: str, *, now: str) -> None:
    """Keep the text of a playbook version, so sessions started on it can end on it."""
    db.execute(
        """
        INSERT INTO playbook_versions (version, text, source, first_seen_at)
        VALUES (?, ?, ?, ?) ON CONFLICT (version) DO NOTHING
        """,
        [version, text, source, now],
    )


def playbook_text(db: Database, version: str) -> str | None:
    """The stored text of a playbook version, if known."""
    rows = select(db, "SELECT text FROM playbook_versions WHERE version = ?", [version])
    return rows[0]["text"] if rows else None


# --- sessions ----------------------------------------------------------------------------------


def create_session(
    db: Database, user_id: int, flow: str, version: str, state: str, now: str
) -> SessionRow:
    """Start a session of `flow`, abandoning an open one of the same flow; it becomes current."""
    with db.atomic():
        db.execute(
            "UPDATE sessions SET status = 'abandoned', updated_at = ? "
            "WHERE user_id = ? AND flow = ? AND status IN ('active', 'paused')",
            [now, user_id, flow],
        )
        cursor = db.execute(
            """
            INSERT INTO sessions (user_id, flow, playbook_version, status, state, started_at,
                                  updated_at)
            VALUES (?, ?, ?, 'active', ?, ?, ?)
            """,
            [user_id, flow, version, state, now, now],
        )
        session_id = cursor.lastrowid
        db.execute("UPDATE users SET current_session_id = ? WHERE id = ?", [session_id, user_id])
    return get_session(db, int(session_id or 0))


def get_session(db: Database, session_id: int) -> SessionRow:
    """The session with that id (KeyError if none)."""
    rows = select(db, "SELECT * FROM sessions WHERE id = ?", [session_id])
    if not rows:
        raise KeyError(f"no session {session_id}")
    return session_from_row(rows[0])


def current_session(db: Database, user_id: int) -> SessionRow | None:
    """The open session the user's next message goes to, if any."""
    rows = select(
        db,
        """
            SELECT sessions.* FROM users JOIN sessions ON sessions.id = users.current_session_id
                AND sessions.user_id = users.id
            WHERE users.id = ? AND sessions.status IN ('active', 'paused')
            """,
        [user_id],
    )
    return session_from_row(rows[0]) if rows else None


def open_session(db: Database, user_id: int, flow: str) -> SessionRow | None:
    """The user's open (active or paused) session of `flow`, if any."""
    rows = select(
        db,
        "SELECT * FROM sessions WHERE user_id = ? AND flow = ? AND status IN ('active', 'paused')",
        [user_id, flow],
    )
    return session_from_row(rows[0]) if rows else None


def focus_session(db: Database, user_id: int, session_id: int, *, now: str) -> None:
    """Make an open session the one the user's next message goes to, and active again."""
    with db.atomic():
        db.execute(
            "UPDATE sessions SET status = 'active', updated_at = ? WHERE id = ? AND user_id = ? "
            "AND status IN ('active', 'paused')",
            [now, session_id, user_id],
        )
        db.execute("UPDATE users SET current_session_id = ? WHERE id = ?", [session_id, user_id])


def set_session_status(db: Database, session_id: int, status: str, *, now: str) -> None:
    """Pause, abandon or reactivate a session."""
    db.execute(
        "UPDATE sessions SET status = ?, updated_at = ? WHERE id = ?",
        [status, now, session_id],
    )


def set_session_state(db: Database, session_id: int, state: str, now: str) -> None:
    """Replace a session's state, keeping its status (no answer is recorded)."""
    db.execute(
        "UPDATE sessions SET state = ?, updated_at = ? WHERE id = ?", [state, now, session_id]
    )


class _AlreadyStored(Exception):
    """Raised inside a transaction to undo it: the same input was stored before."""


def record_step(
    db: Database,
    session_id: int,
    state: str,
    *,
    answer: NewAnswer | None = None,
    completed: bool = False,
    outputs: str | None = None,
    summary: str | None = None,
    receipt: Receipt | None = None,
    now: str,
) -> bool:
    """Store the new state, the answer that led to it and the update's receipt, atomically.

    Returns False, storing nothing, when the receipt or the answer's idempotency key was
    stored before: the same input arrived twice. `now` is the service's clock (tests set it).
    """
    try:
        with db.atomic():
            if receipt is not None:
                _insert_receipt(db, receipt, now)
            if answer is not None:
                answer_id = _insert_answer(db, session_id, answer, now)
                if receipt is not None:
                    db.execute(
                        "UPDATE processed_updates SET answer_id = ? WHERE key = ?",
                        [answer_id, receipt.key],
                    )
            if completed:
                db.execute(
                    "UPDATE sessions SET state = ?, status = 'completed', outputs = ?, "
                    "summary = ?, updated_at = ?, completed_at = ? WHERE id = ?",
                    [state, outputs, summary, now, now, session_id],
                )
            else:
                db.execute(
                    "UPDATE sessions SET state = ?, status = 'active', updated_at = ? WHERE id = ?",
                    [state, now, session_id],
                )
    except _AlreadyStored:
        return False
    return True


def _insert_receipt(db: Database, receipt: Receipt, now: str) -> None:
    try:
        db.execute(
            "INSERT INTO processed_updates (key, user_id, processed_at) VALUES (?, ?, ?)",
            [receipt.key, receipt.user_id, now],
        )
    except sqlite3.IntegrityError as error:
        if "processed_updates.key" not in str(error):
            raise
        raise _AlreadyStored from None


def _insert_answer(db: Database, session_id: int, answer: NewAnswer, now: str) -> int:
    try:
        cursor = db.execute(
            """
            INSERT INTO answers (session_id, step, section, kind, raw_text, value, created_at,
                                 idempotency_key, source_ref)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                session_id,
                answer.step,
                answer.section,
                answer.kind,
                answer.raw_text,
                answer.value,
                now,
                answer.idempotency_key,
                answer.source_ref,
            ],
        )
    except sqlite3.IntegrityError as error:
        if "answers.idempotency_key" not in str(error):
            raise
        raise _AlreadyStored from None
    return int(cursor.lastrowid or 0)


def update_status(db: Database, key: str) -> str | None:
    """'replied' once the update was handled and answered, 'processed' if stored but the reply
    may not have gone out (the bot stopped in between), None if never seen."""
    rows = select(db, "SELECT replied_at FROM processed_updates WHERE key = ?", [key])
    if not rows:
        return None
    return "replied" if rows[0]["replied_at"] else "processed"


def set_blocked(db: Database, user_id: int, blocked: bool, *, now: str) -> None:
    """Mark the user as having blocked the bot (nothing is sent to them) or not."""
    db.execute(
        "UPDATE users SET blocked_at = CASE WHEN ? THEN coalesce(blocked_at, ?) END WHERE id = ?",
        [int(blocked), now, user_id],
    )


def answer_from_source(db: Database, session_id: int, source_ref: str) -> AnswerRow | None:
    """The latest answer of a session that came from this message, if any."""
    rows = select(
        db,
        "SELECT id, session_id, step, section, kind, raw_text, value, created_at, "
        "idempotency_key, source_ref FROM answers WHERE session_id = ? AND source_ref = ? "
        "ORDER BY id DESC LIMIT 1",
        [session_id, source_ref],
    )
    return AnswerRow(**rows[0]) if rows else None


def answers_for(db: Database, session_id: int) -> list[AnswerRow]:
    """Every answer row of a session, oldest first."""
    return [
        AnswerRow(**row)
        for row in select(
            db,
            "SELECT id, session_id, step, section, kind, raw_text, value, created_at, "
            "idempotency_key, source_ref FROM answers WHERE session_id = ? ORDER BY id",
            [session_id],
        )
    ]


def answers_on_path(db: Database, session_id: int) -> list[AnswerRow]:
    """The answers of a session on the path taken, oldest first: the latest row of each step
    the session's state still holds (after /back, the abandoned branch is not an answer)."""
    return [
        AnswerRow(**row)
        for row in select(
            db,
            "SELECT id, session_id, step, section, kind, raw_text, value, created_at, "
            "idempotency_key, source_ref FROM answers_on_path WHERE session_id = ? ORDER BY id",
            [session_id],
        )
    ]


def completed_sessions(db: Database, user_id: int, flow: str | None = None) -> list[SessionRow]:
    """The user's completed sessions (of `flow` when given), newest first."""
    sql = "SELECT * FROM sessions WHERE user_id = ? AND status = 'completed'"
    params: list[Any] = [user_id]
    if flow is not None:
        sql += " AND flow = ?"
        params.append(flow)
    return [
        session_from_row(row)
        for row in select(db, sql + " ORDER BY completed_at DESC, id DESC", params)
    ]
