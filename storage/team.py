"""Team rounds: the rounds a manager opens, team members' answers keyed by a random token, and
apart from them the link from a member to their token.

The answers table knows no person and no time; only `team_members` pairs a member's key with a
token. It is the one table a reader needs to join people to answers, and it is emptied for a
member by /forget and for a round 7 days after it closed. Nothing here returns a token or a
member key next to an answer, except to that member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .db import select


@dataclass(frozen=True)
class Round:
    """A team round: its code, its manager, its language, its own question and its dates."""

    id: int
    code: str
    manager_id: int
    reflection_id: int | None
    lang: str
    own_question: str | None
    status: str
    opened_at: str
    closes_at: str
    closed_at: str | None
    summary_sent_at: str | None


@dataclass(frozen=True)
class Draft:
    """A member's answers in progress: the round, their token and the engine state (JSON)."""

    round: Round
    token: str
    state: str


def _round(row: dict[str, Any]) -> Round:
    return Round(**{name: row[name] for name in Round.__dataclass_fields__})


def _one(db: Database, sql: str, params: list[Any]) -> Round | None:
    rows = select(db, sql, params)
    return _round(rows[0]) if rows else None


# --- rounds ------------------------------------------------------------------------------------


def create_round(
    db: Database,
    code: str,
    manager_id: int,
    reflection_id: int | None,
    lang: str,
    own_question: str | None,
    opened_at: str,
    closes_at: str,
) -> Round:
    """Open a round (status open)."""
    cursor = db.execute(
        """
        INSERT INTO team_rounds
            (code, manager_id, reflection_id, lang, own_question, status, opened_at, closes_at)
        VALUES (?, ?, ?, ?, ?, 'open', ?, ?)
        """,
        [code, manager_id, reflection_id, lang, own_question, opened_at, closes_at],
    )
    found = get_round(db, int(cursor.lastrowid or 0))
    assert found is not None
    return found


def get_round(db: Database, round_id: int) -> Round | None:
    """The round with that id, if any."""
    return _one(db, "SELECT * FROM team_rounds WHERE id = ?", [round_id])


def round_by_code(db: Database, code: str) -> Round | None:
    """The round a link's code opens, if any."""
    return _one(db, "SELECT * FROM team_rounds WHERE code = ?", [code])


def latest_round(db: Database, manager_id: int) -> Round | None:
    """The manager's most recent round, if any."""
    return _one(
        db, "SELECT * FROM team_rounds WHERE manager_id = ? ORDER BY id DESC LIMIT 1", [manager_id]
    )


def closed_rounds(db: Database, manager_id: int) -> list[Round]:
    """The manager's closed rounds, newest first."""
    rows = select(
        db,
        "SELECT * FROM team_rounds WHERE manager_id = ? AND status = 'closed' ORDER BY id DESC",
        [manager_id],
    )
    return [_round(row) for row in rows]


def rounds_of_reflection(db: Database, reflection_id: int) -> list[Round]:
    """The closed rounds opened during (or after) that reflection, oldest first."""
    rows = select(
        db,
        "SELECT * FROM team_rounds WHERE reflection_id = ? AND status = 'closed' ORDER BY id",
        [reflection_id],
    )
    return [_round(row) for row in rows]


def due_rounds(db: Database, now: str, limit: int) -> list[Round]:
    """Open rounds whose closing time has come, oldest first."""
    rows = select(
        db,
        "SELECT * FROM team_rounds WHERE status = 'open' AND closes_at <= ? "
        "ORDER BY closes_at LIMIT ?",
        [now, limit],
    )
    return [_round(row) for row in rows]


def close_round(db: Database, round_id: int, now: str) -> bool:
    """Close an open round: drafts are dropped, members who never finished are forgotten.
    False if it was not open."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE team_rounds SET status = 'closed', closed_at = ? "
            "WHERE id = ? AND status = 'open'",
            [now, round_id],
        )
        if cursor.rowcount == 0:
            return False
        db.execute(
            "DELETE FROM team_members WHERE round_id = ? AND token IN "
            "(SELECT token FROM team_answers WHERE round_id = ? AND answer IS NULL)",
            [round_id, round_id],
        )
        db.execute("DELETE FROM team_answers WHERE round_id = ? AND answer IS NULL", [round_id])
        db.execute("UPDATE team_answers SET draft = NULL WHERE round_id = ?", [round_id])
    return True


def reopen_round(db: Database, round_id: int, closes_at: str) -> None:
    """Open the round again (or keep it open) until `closes_at`."""
    db.execute(
        "UPDATE team_rounds SET status = 'open', closes_at = ?, closed_at = NULL, "
        "summary_sent_at = NULL WHERE id = ?",
        [closes_at, round_id],
    )


def mark_summary_sent(db: Database, round_id: int, now: str) -> None:
    """The round's summary (or its too-small notice) went to the manager."""
    db.execute("UPDATE team_rounds SET summary_sent_at = ? WHERE id = ?", [now, round_id])


def unsent_closed_rounds(db: Database, limit: int) -> list[Round]:
    """Closed rounds whose summary has not gone to the manager yet."""
    rows = select(
        db,
        "SELECT * FROM team_rounds WHERE status = 'closed' AND summary_sent_at IS NULL "
        "ORDER BY closed_at LIMIT ?",
        [limit],
    )
    return [_round(row) for row in rows]


# --- answers (never with the member) -----------------------------------------------------------


def answer_count(db: Database, round_id: int) -> int:
    """How many members have given an answer (a finished one) to the round."""
    rows = select(
        db,
        "SELECT count(*) AS n FROM team_answers WHERE round_id = ? AND answer IS NOT NULL",
        [round_id],
    )
    return int(next(iter(rows))["n"])


def round_answers(db: Database, round_id: int) -> list[str]:
    """The finished answers of a round (JSON), without token, member or time."""
    rows = select(
        db, "SELECT answer FROM team_answers WHERE round_id = ? AND answer IS NOT NULL", [round_id]
    )
    return [row["answer"] for row in rows]


# --- one member's own answers ------------------------------------------------------------------


def member_token(db: Database, round_id: int, member_key: str) -> str | None:
    """The member's token in that round, if they joined it."""
    rows = select(
        db,
        "SELECT token FROM team_members WHERE round_id = ? AND member_key = ?",
        [round_id, member_key],
    )
    return rows[0]["token"] if rows else None


def join(db: Database, round_id: int, member_key: str, token: str) -> None:
    """Link the member to a new token of the round, with an empty answer."""
    with db.atomic():
        db.execute(
            "INSERT INTO team_members (round_id, member_key, token) VALUES (?, ?, ?)",
            [round_id, member_key, token],
        )
        db.execute("INSERT INTO team_answers (token, round_id) VALUES (?, ?)", [token, round_id])


def previous_answer(db: Database, token: str) -> str | None:
    """The member's finished answer (JSON), if any."""
    rows = select(db, "SELECT answer FROM team_answers WHERE token = ?", [token])
    return rows[0]["answer"] if rows else None


def save_draft(db: Database, member_key: str, token: str, state: str | None) -> None:
    """Keep the member's answers in progress (None drops them); other drafts of theirs end."""
    with db.atomic():
        db.execute(
            "UPDATE team_answers SET draft = NULL WHERE token IN "
            "(SELECT token FROM team_members WHERE member_key = ?) AND token != ?",
            [member_key, token],
        )
        db.execute("UPDATE team_answers SET draft = ? WHERE token = ?", [state, token])


def submit(db: Database, token: str, answer: str) -> None:
    """Replace the member's answer by a finished one; the draft ends."""
    db.execute("UPDATE team_answers SET answer = ?, draft = NULL WHERE token = ?", [answer, token])


def current_draft(db: Database, member_key: str, now: str) -> Draft | None:
    """The member's answers in progress in a round still open, if any."""
    rows = select(
        db,
        """
            SELECT team_answers.token AS draft_token, team_answers.draft AS draft_state,
                   team_rounds.*
            FROM team_members
            JOIN team_answers ON team_answers.token = team_members.token
            JOIN team_rounds ON team_rounds.id = team_members.round_id
            WHERE team_members.member_key = ? AND team_answers.draft IS NOT NULL
              AND team_rounds.status = 'open' AND team_rounds.closes_at > ?
            LIMIT 1
            """,
        [member_key, now],
    )
    if not rows:
        return None
    row = rows[0]
    return Draft(_round(row), row["draft_token"], row["draft_state"])


def member_answers(db: Database, member_key: str) -> list[dict[str, Any]]:
    """What is stored about a member, for their /mydata: each round's code-less answer."""
    rows = select(
        db,
        """
        SELECT team_members.round_id, team_answers.answer, team_answers.draft
        FROM team_members JOIN team_answers ON team_answers.token = team_members.token
        WHERE team_members.member_key = ?
        """,
        [member_key],
    )
    return [dict(row) for row in rows]


def forget_member(db: Database, member_key: str) -> int:
    """Erase the member's answers and links in every round; how many answers."""
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM team_answers WHERE token IN "
            "(SELECT token FROM team_members WHERE member_key = ?)",
            [member_key],
        )
        db.execute("DELETE FROM team_members WHERE member_key = ?", [member_key])
    return cursor.rowcount


def delete_rounds_closed_before(db: Database, cutoff: str) -> int:
    """Delete rounds closed before `cutoff`, with their answers and links (retention); how many."""
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM team_rounds WHERE status = 'closed' AND closed_at < ?", [cutoff]
        )
    return cursor.rowcount


def fold_log(db: Database) -> None:
    """Fold the write-ahead log into the file: with secure_delete, erased rows leave no copy."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def clear_links(db: Database, closed_before: str) -> int:
    """Delete the member links of rounds closed before the cutoff; how many."""
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM team_members WHERE round_id IN (SELECT id FROM team_rounds "
            "WHERE status = 'closed' AND closed_at <= ?)",
            [closed_before],
        )
    if cursor.rowcount:
        fold_log(db)
    return cursor.rowcount
