"""The coach's web view: its stored secret, one-time sign-in links and browser sessions.

Session tokens are stored as SHA-256 hashes only: a copy of the database does not let anyone
sign in as a coach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .coach import _VISIBLE as VISIBLE


@dataclass(frozen=True)
class WebSession:
    """A coach's signed-in browser (or Telegram Mini App)."""

    id: int
    coach_id: int
    via: str
    created_at: str
    expires_at: str


def stored_secret(db: Database, candidate: str, now: str) -> str:
    """The generated secret: stored once (first caller's `candidate` wins), then always the same."""
    db.execute(
        "INSERT INTO web_secret (id, secret, created_at) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        [candidate, now],
    )
    rows = list(db.query("SELECT secret FROM web_secret WHERE id = 1"))
    return str(rows[0]["secret"])


def completion_times(db: Database, manager_id: int, now: str) -> dict[int, str]:
    """When each reflection a linked coach may see was completed, by session id (from the
    sessions_visible index alone, without reading the rows)."""
    rows = db.query(
        f"SELECT sessions.id, sessions.completed_at FROM sessions "
        f"WHERE sessions.user_id = :manager AND {VISIBLE}",
        {"manager": manager_id, "now": now},
    )
    return {row["id"]: row["completed_at"] for row in rows}


def create_link(db: Database, nonce: str, coach_id: int, now: str, expires_at: str) -> None:
    """Remember a one-time sign-in link until it is used or expires."""
    db.execute(
        "INSERT INTO web_links (nonce, coach_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        [nonce, coach_id, now, expires_at],
    )


def link_state(db: Database, nonce: str) -> dict[str, Any] | None:
    """The link's coach, expiry and use, if it was ever issued."""
    rows = list(db.query("SELECT * FROM web_links WHERE nonce = ?", [nonce]))
    return rows[0] if rows else None


def use_link(db: Database, nonce: str, coach_id: int, now: str) -> bool:
    """Spend the link; False if it was used, expired, or is another coach's."""
    cursor = db.execute(
        "UPDATE web_links SET used_at = ? "
        "WHERE nonce = ? AND coach_id = ? AND used_at IS NULL AND expires_at > ?",
        [now, nonce, coach_id, now],
    )
    return cursor.rowcount == 1


def create_session(
    db: Database, token_hash: str, coach_id: int, via: str, now: str, expires_at: str
) -> None:
    """A new signed-in session for the coach."""
    db.execute(
        "INSERT INTO web_sessions (token_hash, coach_id, via, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [token_hash, coach_id, via, now, expires_at],
    )


def live_session(db: Database, token_hash: str, now: str) -> WebSession | None:
    """The session with this token hash if it has neither ended nor expired."""
    rows = list(
        db.query(
            "SELECT id, coach_id, via, created_at, expires_at FROM web_sessions "
            "WHERE token_hash = ? AND ended_at IS NULL AND expires_at > ?",
            [token_hash, now],
        )
    )
    return WebSession(**rows[0]) if rows else None


def end_sessions(db: Database, coach_id: int, now: str) -> int:
    """End every live session of the coach; how many."""
    cursor = db.execute(
        "UPDATE web_sessions SET ended_at = ? WHERE coach_id = ? AND ended_at IS NULL",
        [now, coach_id],
    )
    return cursor.rowcount


def end_session(db: Database, session_id: int, now: str) -> None:
    """End one session (sign out of this browser)."""
    db.execute(
        "UPDATE web_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", [now, session_id]
    )


def purge_expired(db: Database, now: str) -> int:
    """Delete links and sessions that can no longer be used; how many rows."""
    with db.atomic():
        links = db.execute("DELETE FROM web_links WHERE expires_at <= ?", [now]).rowcount
        sessions = db.execute(
            "DELETE FROM web_sessions WHERE expires_at <= ? OR ended_at IS NOT NULL", [now]
        ).rowcount
    return links + sessions
