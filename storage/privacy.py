"""A manager's data: everything stored about them (for /mydata), erasure, retention."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from . import delivery, team, web

# Every table that holds rows about a user, and the column that names them.
USER_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id",),
    "sessions": ("user_id",),
    "checkin_settings": ("user_id",),
    "checkins": ("user_id",),
    "processed_updates": ("user_id",),
    "invites": ("coach_id", "opened_by", "used_by"),
    "links": ("coach_id", "manager_id"),
    "coach_notes": ("coach_id",),
    "feedback": ("coach_id", "manager_id"),
    "coach_preferences": ("coach_id",),
    "notifications": ("coach_id", "manager_id"),
    "audit": ("coach_id", "manager_id"),
    "team_rounds": ("manager_id",),
    "web_links": ("coach_id",),
    "web_sessions": ("coach_id",),
    "nudges": ("user_id",),
    "commitments": ("user_id",),
    "coach_thread": ("coach_id", "manager_id"),
}


def user_data(db: Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every stored row about the user, table by table (answers with their sessions)."""
    data: dict[str, list[dict[str, Any]]] = {}
    for table, columns in USER_COLUMNS.items():
        where = " OR ".join(f"{column} = :user" for column in columns)
        data[table] = list(db.query(f"SELECT * FROM {table} WHERE {where}", {"user": user_id}))
    # The full log, each row marked: superseded when the manager went back and answered
    # again, or took another branch (the answer is not on the path their reflection took).
    data["answers"] = list(
        db.query(
            "SELECT answers.*, answers.id NOT IN (SELECT kept.id FROM answers_on_path AS kept "
            "WHERE kept.session_id = answers.session_id) AS superseded "
            "FROM answers JOIN sessions ON sessions.id = answers.session_id "
            "WHERE sessions.user_id = ? ORDER BY answers.id",
            [user_id],
        )
    )
    data["coach_notes"] += list(
        db.query(
            "SELECT coach_notes.* FROM coach_notes JOIN sessions "
            "ON sessions.id = coach_notes.session_id WHERE sessions.user_id = ?",
            [user_id],
        )
    )
    keys = [row["key"] for row in data["users"]]
    # As a team member: their own answers, which no one else can read with their name.
    data["team_answers"] = team.member_answers(db, keys[0]) if keys else []
    for session in data["sessions"]:
        for column in ("state", "outputs", "summary"):
            if session.get(column):
                session[column] = json.loads(session[column])
    for answer in data["answers"]:
        answer["superseded"] = bool(answer["superseded"])
        if answer.get("value"):
            answer["value"] = json.loads(answer["value"])
    return data


def forget_user(db: Database, user_id: int) -> dict[str, int]:
    """Delete every row about the user, in every table; counts of rows removed by table.

    Then scrub the write-ahead log (`storage.erasure.WalScrubber`): until then, earlier copies
    of the erased pages remain in the -wal file."""
    before = _counts(db, user_id)
    keys = list(db.query("SELECT key FROM users WHERE id = ?", [user_id]))
    with db.atomic():
        if keys:  # as a team member: answers and links, which name no user id
            before["team_answers"] = team.forget_member(db, keys[0]["key"])
        # Sessions cascade to answers, notes and feedback about them; the user row cascades
        # to everything that names them. Rows that belong to someone else forget them instead:
        # invites they opened or used, and a coach's reads and messages, which stay in the
        # manager's audit and history as a coach's.
        db.execute("DELETE FROM users WHERE id = ?", [user_id])
        if keys and keys[0]["key"].startswith("telegram:"):  # a private chat's id is the user's
            chat_id = int(keys[0]["key"].removeprefix("telegram:"))
            delivery.forget_chat(db, chat_id)
            web.forget_menu(db, chat_id)  # a coach's menu, re-sent at start-up if still one
    # With secure_delete the freed pages are zeroed in the file; earlier copies of those pages
    # in the write-ahead log are the caller's to scrub (storage.erasure), without blocking.
    after = _counts(db, user_id)
    after["team_answers"] = 0
    return {table: before[table] - after[table] for table in before if before[table]}


def delete_sessions_started_before(db: Database, cutoff: str) -> int:
    """Delete sessions (and their answers, notes, feedback) started before `cutoff`; scrub the
    write-ahead log afterwards, as after `forget_user`."""
    with db.atomic():
        cursor = db.execute("DELETE FROM sessions WHERE started_at < ?", [cutoff])
        # A session id may be given again later: no user may keep pointing at a deleted one.
        db.execute(
            "UPDATE users SET current_session_id = NULL WHERE current_session_id IS NOT NULL "
            "AND current_session_id NOT IN (SELECT id FROM sessions)"
        )
    return cursor.rowcount


def _counts(db: Database, user_id: int) -> dict[str, int]:
    counts = {}
    for table, columns in USER_COLUMNS.items():
        where = " OR ".join(f"{column} = :user" for column in columns)
        rows = list(db.query(f"SELECT count(*) AS n FROM {table} WHERE {where}", {"user": user_id}))
        counts[table] = rows[0]["n"]
    return counts
