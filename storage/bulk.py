"""Bulk loading of whole finished sessions, check-in days and commitments, one `executemany`
per table: what the benchmarks build their large databases with (1,000,000 answers in well
under a minute, where storing them one step at a time, as the bot does, takes 18 minutes).

Nothing here checks the engine's rules: callers pass rows the engine produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from .repository import NewAnswer


@dataclass(frozen=True)
class FinishedSession:
    """A completed session with its answers, stored as if it ran at `started_at`..`completed_at`;
    `shared_at` shares a reflection with the manager's coach from then (None: not shared)."""

    user_id: int
    flow: str
    version: str
    state: str
    outputs: str | None
    summary: str | None
    started_at: str
    completed_at: str
    answers: Sequence[NewAnswer]
    shared_at: str | None = None


@dataclass(frozen=True)
class CheckinDay:
    """An answered check-in: the user's local date, the session that answered it, when."""

    user_id: int
    local_date: str
    session_id: int
    due_at: str
    kind: str = "daily"
    flow: str = "daily_checkin"


@dataclass(frozen=True)
class NewCommitment:
    """A commitment in a given state (storage.journey.add_commitment makes open ones)."""

    user_id: int
    session_id: int | None
    kind: str
    text: str
    when_text: str | None
    due_date: str | None
    status: str
    created_at: str


def add_finished_sessions(db: Database, sessions: Sequence[FinishedSession]) -> list[int]:
    """Store the sessions and all their answers in one transaction; their ids, in order."""
    ids: list[int] = []
    answers: list[tuple[object, ...]] = []
    with db.atomic():
        for session in sessions:
            cursor = db.execute(
                """
                INSERT INTO sessions (user_id, flow, playbook_version, status, state, outputs,
                                      summary, started_at, updated_at, completed_at, shared_at)
                VALUES (?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    session.user_id,
                    session.flow,
                    session.version,
                    session.state,
                    session.outputs,
                    session.summary,
                    session.started_at,
                    session.completed_at,
                    session.completed_at,
                    session.shared_at,
                ],
            )
            session_id = int(cursor.lastrowid or 0)
            ids.append(session_id)
            answers += [
                (
                    session_id,
                    answer.step,
                    answer.section,
                    answer.kind,
                    answer.raw_text,
                    answer.value,
                    session.completed_at,
                    answer.idempotency_key,
                    answer.source_ref,
                )
                for answer in session.answers
            ]
        db.conn.executemany(
            """
            INSERT INTO answers (session_id, step, section, kind, raw_text, value, created_at,
                                 idempotency_key, source_ref)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            answers,
        )
    return ids


def add_checkin_days(db: Database, days: Sequence[CheckinDay]) -> None:
    """Store answered check-in days (one per user and local date)."""
    with db.atomic():
        db.conn.executemany(
            """
            INSERT INTO checkins (user_id, local_date, kind, flow, due_at, status, session_id,
                                  created_at, sent_at, answered_at)
            VALUES (?, ?, ?, ?, ?, 'answered', ?, ?, ?, ?)
            """,
            [
                (
                    day.user_id,
                    day.local_date,
                    day.kind,
                    day.flow,
                    day.due_at,
                    day.session_id,
                    day.due_at,
                    day.due_at,
                    day.due_at,
                )
                for day in days
            ],
        )


def add_commitments(db: Database, commitments: Sequence[NewCommitment]) -> None:
    """Store commitments with their state."""
    with db.atomic():
        db.conn.executemany(
            """
            INSERT INTO commitments (user_id, session_id, kind, text, when_text, due_date, status,
                                     created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                (
                    c.user_id,
                    c.session_id,
                    c.kind,
                    c.text,
                    c.when_text,
                    c.due_date,
                    c.status,
                    c.created_at,
                    c.created_at,
                )
                for c in commitments
            ],
        )
