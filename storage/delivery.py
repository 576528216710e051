"""Telegram delivery's SQL: the inbox of updates, the outbox of Bot API calls, housekeeping.

Inbox: one row per update (unique `update_id`), written when it is received and marked
processed in the same transaction as everything processing it changed.
Outbox: one row per Bot API call the bot means to make (send, edit, answer a callback query),
written in the same transaction as the state that needs it, then delivered by one sender.
Times are stored as ISO 8601 UTC strings given by the caller (`now`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from . import journey
from .db import select

PENDING, SENT, DONE, FAILED, EXPIRED = "pending", "sent", "done", "failed", "expired"
"""Outbox statuses: waiting; delivered; ended without effect on purpose (a cosmetic call
Telegram refused as moot); refused for good; its deadline passed before delivery."""


@dataclass(frozen=True)
class InboxRow:
    """A received update: its id, its chat (0 when it has none), its JSON and when it came."""

    update_id: int
    chat_id: int
    payload: str
    attempts: int
    received_at: str = ""


@dataclass(frozen=True)
class Outgoing:
    """A Bot API call to make: `payload` is its parameters (files as base64, see the sender)."""

    kind: str
    chat_id: int
    method: str
    payload: dict[str, Any]
    priority: int
    deadline: str
    not_before: str | None = None
    ref_outbox_id: int | None = None
    subject: str | None = None
    """What this delivery reports on (`checkin:ID`, `feedback:ID`), if anything."""


@dataclass(frozen=True)
class OutboxRow:
    """A stored outbox row, as the sender reads it."""

    id: int
    kind: str
    priority: int
    chat_id: int
    method: str
    payload: str
    not_before: str
    deadline: str
    ref_outbox_id: int | None
    ref_message_id: int | None
    ref_status: str | None
    subject: str | None
    attempts: int
    chat_priority: int | None = None
    """The most urgent priority among its chat's pending rows (lower first): a row queued
    ahead of a more urgent one in its chat goes as urgently, so that a check-in waiting for
    the broadcast budget never holds back the reply the manager waits for behind it."""


# --- inbox -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """An update as the inbox writes it: its JSON, and for a new message its number in the
    chat and, if it begins with one, its command's name (kept once the words are emptied)."""

    update_id: int
    chat_id: int
    payload: str
    message_id: int | None = None
    command: str | None = None


def store_updates(db: Database, updates: list[Received], now: str) -> list[int]:
    """Write the updates in one transaction; returns the ids that were new (an update
    received twice is kept once)."""
    fresh = []
    with db.atomic():
        for update in updates:
            cursor = db.execute(
                "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, received_at, "
                "message_id, command) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    update.update_id,
                    update.chat_id,
                    update.payload,
                    now,
                    update.message_id,
                    update.command,
                ],
            )
            if cursor.rowcount:
                fresh.append(update.update_id)
    return fresh


def unprocessed(db: Database) -> list[InboxRow]:
    """Every update received but not processed yet, oldest first."""
    return [
        InboxRow(
            row["update_id"], row["chat_id"], row["payload"], row["attempts"], row["received_at"]
        )
        for row in select(
            db,
            "SELECT update_id, chat_id, payload, attempts, received_at FROM inbox "
            "WHERE processed_at IS NULL ORDER BY update_id",
        )
    ]


def mark_processed(db: Database, update_id: int, now: str, error: str | None = None) -> None:
    """The update's effects are stored (call inside their transaction).

    Its payload (the sender's name, their words) stays only while the chat's next message may
    continue it (a paste Telegram split): `empty_processed_payloads` empties it, and the
    write-ahead log's truncation (`storage.erasure.truncate_wal`) the earlier copies; the
    inbox runs both shortly after processing. Its id, chat and status stay for idempotency."""
    db.execute(
        "UPDATE inbox SET processed_at = ?, last_error = coalesce(?, last_error) "
        "WHERE update_id = ?",
        [now, error, update_id],
    )


def empty_processed_payloads(db: Database, processed_before: str) -> int:
    """Empty the payloads of the updates processed before that time; how many are left
    holding words (processed since)."""
    db.execute(
        "UPDATE inbox SET payload = '' WHERE processed_at IS NOT NULL AND processed_at < ? "
        "AND payload != ''",
        [processed_before],
    )
    rows = select(
        db, "SELECT count(*) AS n FROM inbox WHERE processed_at IS NOT NULL AND payload != ''"
    )
    return int(next(iter(rows))["n"])


def count_attempt(db: Database, update_id: int, error: str) -> int:
    """A processing attempt failed (and was rolled back); returns the attempts so far."""
    db.execute(
        "UPDATE inbox SET attempts = attempts + 1, last_error = ? WHERE update_id = ?",
        [error, update_id],
    )
    rows = select(db, "SELECT attempts FROM inbox WHERE update_id = ?", [update_id])
    return int(rows[0]["attempts"]) if rows else 0


# --- outbox ------------------------------------------------------------------------------------


def enqueue(db: Database, outgoing: Outgoing, now: str) -> int:
    """Add a call to the outbox; returns its row id."""
    cursor = db.execute(
        """
        INSERT INTO outbox (kind, priority, chat_id, method, payload, not_before, deadline,
                            ref_outbox_id, subject, status, attempts, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
        """,
        [
            outgoing.kind,
            outgoing.priority,
            outgoing.chat_id,
            outgoing.method,
            json.dumps(outgoing.payload, ensure_ascii=False),
            outgoing.not_before or now,
            outgoing.deadline,
            outgoing.ref_outbox_id,
            outgoing.subject,
            now,
            now,
        ],
    )
    return int(cursor.lastrowid or 0)


def due(db: Database, now: str, busy_chats: set[int], limit: int) -> list[OutboxRow]:
    """Each chat's oldest pending row, if it may go now: by its chat's priority, then age.

    A chat's later rows wait for its oldest one, so a chat reads its messages in order.
    """
    busy = ",".join(str(int(chat)) for chat in busy_chats)
    rows = select(
        db,
        f"""
        SELECT o.*, r.message_id AS ref_message_id, r.status AS ref_status,
            head.chat_priority
        FROM (
            SELECT min(id) AS id, min(priority) AS chat_priority FROM outbox
            WHERE status = 'pending' GROUP BY chat_id
        ) AS head
        JOIN outbox AS o ON o.id = head.id
        LEFT JOIN outbox AS r ON r.id = o.ref_outbox_id
        WHERE o.not_before <= ? AND o.chat_id NOT IN ({busy or "SELECT NULL WHERE 0"})
        ORDER BY head.chat_priority, o.id LIMIT ?
        """,
        [now, limit],
    )
    return [_outbox_row(row) for row in rows]


def next_in_chat(db: Database, chat_id: int, now: str) -> OutboxRow | None:
    """The chat's oldest pending row, if it may go now (the sender goes on with a chat's rows
    without looking at every chat's again)."""
    rows = select(
        db,
        """
        SELECT o.*, r.message_id AS ref_message_id, r.status AS ref_status,
            (SELECT min(priority) FROM outbox WHERE status = 'pending' AND chat_id = ?)
                AS chat_priority
        FROM outbox AS o LEFT JOIN outbox AS r ON r.id = o.ref_outbox_id
        WHERE o.id = (SELECT min(id) FROM outbox WHERE status = 'pending' AND chat_id = ?)
            AND o.not_before <= ?
        """,
        [chat_id, chat_id, now],
    )
    return _outbox_row(rows[0]) if rows else None


def _outbox_row(row: dict[str, Any]) -> OutboxRow:
    return OutboxRow(
        row["id"],
        row["kind"],
        row["priority"],
        row["chat_id"],
        row["method"],
        row["payload"],
        row["not_before"],
        row["deadline"],
        row["ref_outbox_id"],
        row["ref_message_id"],
        row["ref_status"],
        row["subject"],
        row["attempts"],
        row["chat_priority"],
    )


def hurry_chat(db: Database, chat_id: int, priority: int) -> None:
    """Raise the chat's pending rows to at least that priority (lower is more urgent)."""
    db.execute(
        "UPDATE outbox SET priority = ? WHERE chat_id = ? AND status = 'pending' AND priority > ?",
        [priority, chat_id, priority],
    )


def next_wake(db: Database) -> str | None:
    """The earliest `not_before` among pending rows (when the sender has work again)."""
    rows = select(db, "SELECT min(not_before) AS at FROM outbox WHERE status = 'pending'")
    return rows[0]["at"] if rows else None


def finish(
    db: Database,
    row_id: int,
    status: str,
    now: str,
    *,
    message_id: int | None = None,
    error: str | None = None,
) -> None:
    """End a row (sent, done, failed or expired) and report on its subject, in one transaction.

    Its payload is emptied (the words it carried are in the chat now, or moot), except a
    buttons removal's, which `buttons_removed` reads and which carries no words."""
    with db.atomic():
        db.execute(
            "UPDATE outbox SET status = ?, message_id = coalesce(?, message_id), "
            "last_error = coalesce(?, last_error), attempts = attempts + 1, updated_at = ?, "
            "payload = CASE WHEN method = 'editMessageReplyMarkup' THEN payload ELSE '{}' END "
            "WHERE id = ? AND status = 'pending'",
            [status, message_id, error, now, row_id],
        )
        rows = select(db, "SELECT subject FROM outbox WHERE id = ?", [row_id])
        subject = rows[0]["subject"] if rows else None
        if subject:
            _report(db, subject, status, now)


def _report(db: Database, subject: str, status: str, now: str) -> None:
    """What a delivery means for the thing it carried: a check-in is sent only once delivered,
    and one never delivered is `undelivered` (not missed by the manager)."""
    kind, _, number = subject.partition(":")
    if kind == "checkin" and status == SENT:
        db.execute(
            "UPDATE checkins SET status = 'sent', sent_at = ? WHERE id = ? AND status = 'claimed'",
            [now, int(number)],
        )
    elif kind == "checkin" and status in (FAILED, EXPIRED):
        db.execute(
            "UPDATE checkins SET status = 'undelivered' WHERE id = ? AND status = 'claimed'",
            [int(number)],
        )
    elif kind == "notification" and status == SENT:
        db.execute(
            "UPDATE notifications SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
            [now, int(number)],
        )
    elif kind in ("thread", "nudge", "commitment"):  # the journey's (refs #11)
        journey.report_delivery(db, kind, number, status, now)
    elif kind == "feedback" and status == SENT:
        db.execute(
            "UPDATE feedback SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
            [now, int(number)],
        )


def retry_later(db: Database, row_id: int, not_before: str, error: str, now: str) -> None:
    """A transient failure: try the row again at `not_before`."""
    db.execute(
        "UPDATE outbox SET not_before = ?, attempts = attempts + 1, last_error = ?, "
        "updated_at = ? WHERE id = ?",
        [not_before, error, now, row_id],
    )


def drop_chat(db: Database, chat_id: int, now: str, error: str) -> int:
    """The user blocked the bot: fail every pending row of their chat; returns how many."""
    pending = [
        row["id"]
        for row in select(
            db, "SELECT id FROM outbox WHERE chat_id = ? AND status = 'pending'", [chat_id]
        )
    ]
    with db.atomic():
        for row_id in pending:
            finish(db, row_id, FAILED, now, error=error)
        db.execute(
            "UPDATE users SET blocked_at = coalesce(blocked_at, ?) WHERE key = ?",
            [now, f"telegram:{chat_id}"],
        )
        db.execute(
            "UPDATE checkin_settings SET enabled = 0, next_due_at = NULL "
            "WHERE user_id = (SELECT id FROM users WHERE key = ?)",
            [f"telegram:{chat_id}"],
        )
    return len(pending)


def outbox_counts(db: Database) -> dict[str, int]:
    """How many outbox rows have each status."""
    return {
        row["status"]: row["n"]
        for row in select(db, "SELECT status, count(*) AS n FROM outbox GROUP BY status")
    }


def buttons_removed(db: Database, chat_id: int, message_id: int) -> bool:
    """Whether the bot already removed (or means to remove) that message's buttons: a second
    tap on them, pressed before they went, is then a repeat."""
    rows = select(
        db,
        "SELECT 1 FROM outbox WHERE chat_id = ? AND method = 'editMessageReplyMarkup' "
        "AND json_extract(payload, '$.message_id') = ? "
        "AND json_extract(payload, '$.reply_markup') IS NULL LIMIT 1",
        [chat_id, message_id],
    )
    return any(True for _ in rows)


# --- the question on screen --------------------------------------------------------------------


def set_question_row(db: Database, user_id: int, outbox_id: int) -> None:
    """The outbox row that shows the user's current question (its message id comes later)."""
    db.execute(
        "UPDATE users SET question_outbox_id = ?, question_message_id = NULL WHERE id = ?",
        [outbox_id, user_id],
    )


@dataclass(frozen=True)
class QuestionRef:
    """Where the user's current question is: an outbox row, or a message id (older rows)."""

    outbox_id: int | None
    message_id: int | None


def question_ref(db: Database, user_id: int) -> QuestionRef:
    """The message showing the user's question: its outbox row and, once sent, its id."""
    rows = select(
        db,
        "SELECT u.question_outbox_id AS outbox_id, "
        "coalesce(o.message_id, u.question_message_id) AS message_id "
        "FROM users AS u LEFT JOIN outbox AS o ON o.id = u.question_outbox_id "
        "WHERE u.id = ?",
        [user_id],
    )
    if not rows:
        return QuestionRef(None, None)
    return QuestionRef(rows[0]["outbox_id"], rows[0]["message_id"])


def question_on_its_way(db: Database, user_id: int) -> bool:
    """Whether the user's question row is still to be sent (queued, or refused by Telegram for
    now) with nothing queued after it in its chat: it will be the last thing they see. A chat's
    rows go in order, so any row after a pending one is pending too (the partial index)."""
    rows = select(
        db,
        "SELECT 1 FROM users AS u JOIN outbox AS o ON o.id = u.question_outbox_id "
        "WHERE u.id = ? AND o.status = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox AS later "
        "WHERE later.status = 'pending' AND later.chat_id = o.chat_id AND later.id > o.id)",
        [user_id],
    )
    return bool(rows)


# --- how commits reach the disk ----------------------------------------------------------------


def synchronous(db: Database) -> int:
    """The connection's `PRAGMA synchronous` level (1 NORMAL, 2 FULL)."""
    rows = select(db, "PRAGMA synchronous")
    return int(rows[0]["synchronous"]) if rows else 1


def set_synchronous(db: Database, level: int) -> None:
    """Set how the next commits reach the disk (outside a transaction): 2 FULL syncs each
    commit, 1 NORMAL leaves the write-ahead log to the OS (survives a crash, not a power cut)."""
    db.execute(f"PRAGMA synchronous = {int(level)}")


# --- housekeeping ------------------------------------------------------------------------------


def prune(db: Database, before: str) -> dict[str, int]:
    """Delete processed inbox rows, finished outbox rows and update receipts older than
    `before`; an outbox row that still shows someone's question is kept (edits need it)."""
    with db.atomic():
        inbox = db.execute(
            "DELETE FROM inbox WHERE processed_at IS NOT NULL AND processed_at < ?", [before]
        ).rowcount
        outbox = db.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND updated_at < ? AND id NOT IN "
            "(SELECT question_outbox_id FROM users WHERE question_outbox_id IS NOT NULL)",
            [before],
        ).rowcount
        receipts = db.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?", [before]
        ).rowcount
    return {"inbox": inbox, "outbox": outbox, "receipts": receipts}


def forget_chat(db: Database, chat_id: int) -> int:
    """Erase a private chat's delivery history (a person's /forget): processed updates and
    finished outbox rows; rows still to process or to send stay. Returns rows deleted."""
    inbox = db.execute(
        "DELETE FROM inbox WHERE chat_id = ? AND processed_at IS NOT NULL", [chat_id]
    ).rowcount
    outbox = db.execute(
        "DELETE FROM outbox WHERE chat_id = ? AND status != 'pending'", [chat_id]
    ).rowcount
    return int(inbox) + int(outbox)


# --- a team member's updates (refs #13) --------------------------------------------------------


def empty_member_payloads(db: Database, chat_id: int, update_id: int) -> int:
    """Empty the JSON of a team member's update being processed and of their chat's processed
    updates and finished outbox rows (call inside the update's transaction): what they wrote and
    their name must not stay beside their chat id, joinable to their anonymous answers. A
    buttons removal keeps its payload (no words; `buttons_removed` reads it). Rows emptied."""
    inbox = db.execute(
        "UPDATE inbox SET payload = '{}' WHERE chat_id = ? AND payload != '{}' "
        "AND (update_id = ? OR processed_at IS NOT NULL)",
        [chat_id, update_id],
    ).rowcount
    outbox = db.execute(
        "UPDATE outbox SET payload = '{}' WHERE chat_id = ? AND payload != '{}' "
        "AND status != 'pending' AND method != 'editMessageReplyMarkup'",
        [chat_id],
    ).rowcount
    return int(inbox) + int(outbox)


def chats_with_pending(db: Database, chat_ids: set[int]) -> set[int]:
    """Those of the chats that still have outbox rows to send (refs #13)."""
    if not chat_ids:
        return set()
    marks = ",".join("?" for _ in chat_ids)
    rows = select(
        db,
        f"SELECT DISTINCT chat_id FROM outbox WHERE status = 'pending' AND chat_id IN ({marks})",
        sorted(chat_ids),
    )
    return {int(row["chat_id"]) for row in rows}
