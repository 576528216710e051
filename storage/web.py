"""The coach's web view: its stored secret, one-time sign-in links and browser sessions, the
board of a coach's managers, and which coaches' chats got a menu.

Session tokens are stored as SHA-256 hashes only: a copy of the database does not let anyone
sign in as a coach. What the board counts follows the coach's visibility rules
(storage.coach._VISIBLE): a commitment or a reply about a reflection the coach may not see is
neither shown nor counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .coach import _VISIBLE as VISIBLE
from .journey import OPEN_COMMITMENT, Commitment, ThreadMessage, _commitment, _message

_OPEN = ", ".join(f"'{status}'" for status in OPEN_COMMITMENT)


@dataclass(frozen=True)
class BoardRow:
    """One manager on a coach's board: the /managers line, plus the manager's time zone (None:
    Paris), their open commitments and the replies the coach has not read."""

    link_id: int
    manager_id: int
    name: str | None
    last_seen_at: str
    reflections: int
    include_checkins: bool
    zone: str | None
    open_commitments: int
    unread_replies: int


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


def managers_board(db: Database, coach_id: int, now: str) -> list[BoardRow]:
    """The coach's linked managers, most recently active first, in two queries whatever their
    number: shared reflections, open commitments (those of a reflection the coach may see, and
    the next steps that followed them) and unread replies (a manager's reply about a reflection
    the coach may see, neither opened on its page nor answered with /reply)."""
    rows = db.query(
        f"""
        SELECT links.id AS link_id, users.id AS manager_id, users.display_name AS name,
               users.last_seen_at, links.include_checkins, checkin_settings.timezone AS zone,
               -- INDEXED BY: the planner would take sessions_visible, 2.5x slower here.
               (SELECT count(*) FROM sessions INDEXED BY sessions_shared
                WHERE sessions.user_id = users.id AND {VISIBLE}) AS reflections,
               (SELECT count(*) FROM coach_thread AS reply
                -- CROSS JOIN: the few unread replies lead, not the many visible reflections;
                -- INDEXED BY: the reflection's visibility from the index, not its long row.
                CROSS JOIN sessions INDEXED BY sessions_shared_by_id
                    ON sessions.id = reply.session_id
                WHERE reply.coach_id = :coach AND reply.manager_id = users.id
                      AND reply.author = 'manager' AND reply.read_at IS NULL
                      AND sessions.user_id = users.id AND {VISIBLE}
                      AND NOT EXISTS (
                          -- "+": coach_thread_by_session, not the coach's every message.
                          SELECT 1 FROM coach_thread AS answer
                          WHERE answer.session_id = reply.session_id AND answer.id > reply.id
                                AND answer.author = 'coach' AND +answer.coach_id = :coach))
                   AS unread_replies
        FROM links JOIN users ON users.id = links.manager_id
        LEFT JOIN checkin_settings ON checkin_settings.user_id = users.id
        WHERE links.coach_id = :coach AND links.ended_at IS NULL
        ORDER BY users.last_seen_at DESC
        """,
        {"coach": coach_id, "now": now},
    )
    board = list(rows)
    # From each open commitment up to the reflection it came from (next steps have a parent).
    # count(*), not count(DISTINCT up.id) (its temporary index was half the query): each open
    # commitment appears once (one active link per manager, one_active_link_per_manager), and
    # its walk ends at the first commitment that has a reflection, the only row that can join.
    opened = {
        row["user_id"]: row["open"]
        for row in db.query(
            f"""
            WITH RECURSIVE up(id, user_id, session_id, parent_id) AS (
                SELECT commitments.id, commitments.user_id, commitments.session_id,
                       commitments.parent_id
                FROM links JOIN commitments ON commitments.user_id = links.manager_id
                WHERE links.coach_id = :coach AND links.ended_at IS NULL
                      AND commitments.status IN ({_OPEN})
                UNION ALL
                SELECT up.id, up.user_id, parent.session_id, parent.parent_id
                FROM up JOIN commitments AS parent ON parent.id = up.parent_id
                WHERE up.session_id IS NULL
            )
            SELECT up.user_id, count(*) AS open FROM up
            JOIN sessions INDEXED BY sessions_shared_by_id
                ON sessions.id = up.session_id AND sessions.user_id = up.user_id
            WHERE {VISIBLE}
            GROUP BY up.user_id
            """,
            {"coach": coach_id, "now": now},
        )
    }
    return [
        BoardRow(
            link_id=row["link_id"],
            manager_id=row["manager_id"],
            name=row["name"],
            last_seen_at=row["last_seen_at"],
            reflections=row["reflections"],
            include_checkins=bool(row["include_checkins"]),
            zone=row["zone"],
            open_commitments=opened.get(row["manager_id"], 0),
            unread_replies=row["unread_replies"],
        )
        for row in board
    ]


def board_moods(db: Database, coach_id: int, since: str) -> dict[int, list[tuple[str, int]]]:
    """(local date, mood) since a local date of each linked manager who shares check-ins, by
    manager id, in one query: storage.checkins.moods for all of a coach's managers at once.

    The mood is read from each check-in's state, which holds the answers on the path taken:
    the same value answers_on_path gives (the latest answer to the step, if the step is in
    the state), without that view's scan of every state's answers (3x faster on the board).
    """
    # Tuples, unsorted: one check-in a day (checkins_one_per_day), each manager's sorted here.
    rows = db.execute(
        """
        SELECT checkins.user_id, checkins.local_date AS day,
               json_extract(sessions.state, '$.answers.mood') AS value
        FROM links JOIN checkins ON checkins.user_id = links.manager_id
        JOIN sessions ON sessions.id = checkins.session_id
        WHERE links.coach_id = ? AND links.ended_at IS NULL AND links.include_checkins = 1
              AND checkins.local_date >= ? AND value IS NOT NULL
        """,
        [coach_id, since],
    )
    latest: dict[int, dict[str, int]] = {}
    for manager, day, value in rows:
        latest.setdefault(manager, {})[day] = int(value)
    return {manager: sorted(days.items()) for manager, days in latest.items()}


def visible_commitments(
    db: Database, manager_id: int, now: str, closed_limit: int | None = None
) -> tuple[list[Commitment], int]:
    """The manager's commitments made in a reflection a linked coach may see, and the next
    steps that followed them: every open one, in the order they were made, then the latest
    `closed_limit` done or dropped ones (all when None), latest first; and how many closed
    ones there are in all."""
    rows = list(
        db.query(
            f"""
            WITH RECURSIVE chain(id) AS (
                SELECT commitments.id FROM commitments
                JOIN sessions ON sessions.id = commitments.session_id
                WHERE commitments.user_id = :manager AND sessions.user_id = :manager
                      AND {VISIBLE}
                UNION SELECT commitments.id FROM commitments
                JOIN chain ON commitments.parent_id = chain.id
            ),
            ranked AS (
                SELECT commitments.*, status IN ({_OPEN}) AS is_open,
                       row_number() OVER (PARTITION BY status IN ({_OPEN})
                                          ORDER BY updated_at DESC, id DESC) AS latest,
                       sum(status NOT IN ({_OPEN})) OVER () AS closed
                FROM commitments WHERE id IN (SELECT id FROM chain)
            )
            SELECT * FROM ranked WHERE is_open OR latest <= :limit
            ORDER BY is_open DESC, CASE WHEN is_open THEN id ELSE -latest END
            """,
            {
                "manager": manager_id,
                "now": now,
                "limit": -1 if closed_limit is None else closed_limit,
            },
        )
    )
    return [_commitment(row) for row in rows], int(rows[0]["closed"]) if rows else 0


def coach_thread(db: Database, coach_id: int, session_id: int) -> list[ThreadMessage]:
    """The replies between a manager and this coach about a reflection, oldest first (callers
    check that the coach may read the reflection)."""
    return [
        _message(row)
        for row in db.query(
            "SELECT * FROM coach_thread WHERE session_id = ? AND coach_id = ? ORDER BY id",
            [session_id, coach_id],
        )
    ]


def mark_replies_read(db: Database, coach_id: int, session_id: int, now: str) -> int:
    """The coach opened the reflection: the manager's replies about it are read; how many."""
    cursor = db.execute(
        "UPDATE coach_thread SET read_at = ? WHERE coach_id = ? AND session_id = ? "
        "AND author = 'manager' AND read_at IS NULL",
        [now, coach_id, session_id],
    )
    return cursor.rowcount


# --- the coaches' menus ------------------------------------------------------------------------


def menus(db: Database) -> dict[int, bool]:
    """The chats that got a coach's menu, each with whether its menu button opens the web view."""
    return {
        row["chat_id"]: bool(row["web_app"])
        for row in db.query("SELECT chat_id, web_app FROM coach_menus")
    }


def remember_menu(db: Database, chat_id: int, web_app: bool, now: str) -> None:
    """A coach's chat got their menu (and the web view's button when `web_app`)."""
    db.execute(
        "INSERT INTO coach_menus (chat_id, web_app, published_at) VALUES (?, ?, ?) "
        "ON CONFLICT (chat_id) DO UPDATE SET web_app = excluded.web_app, "
        "published_at = excluded.published_at",
        [chat_id, int(web_app), now],
    )


def forget_menu(db: Database, chat_id: int) -> None:
    """The chat's menu went back to everyone's."""
    db.execute("DELETE FROM coach_menus WHERE chat_id = ?", [chat_id])


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
