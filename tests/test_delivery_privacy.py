"""What the delivery tables keep of a person: ids to ignore repeats, never their words for
longer than delivery needs them, and nothing after /forget (refs #10, #13)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from storage import delivery, privacy
from storage.db import open_database
from storage.delivery import Outgoing
from storage.repository import get_or_create_user

from .e2e import TOKEN, harness
from .test_telegram_restart import wait_for

NOW = "2026-11-30T09:00:00.000+00:00"
LATER = "2026-12-01T09:00:00.000+00:00"
WORDS = "Acme nous quitte et je n'en dors plus"


def _update(update_id: int, chat_id: int, text: str) -> delivery.Received:
    message = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
        "text": text,
    }
    return delivery.Received(
        update_id, chat_id, json.dumps({"update_id": update_id, "message": message}), 1
    )


def _send(chat_id: int, text: str) -> Outgoing:
    return Outgoing("reply", chat_id, "sendMessage", {"chat_id": chat_id, "text": text}, 1, LATER)


def _dump(path: Path) -> str:
    db = open_database(path)
    try:
        rows = list(db.query("SELECT payload FROM inbox UNION ALL SELECT payload FROM outbox"))
    finally:
        db.close()
    return "\n".join(row["payload"] for row in rows)


def test_a_sent_message_keeps_no_words(tmp_path):
    db = open_database(tmp_path / "rebond.db")
    row = delivery.enqueue(db, _send(42, f"Vous avez écrit : {WORDS}"), NOW)
    delivery.finish(db, row, "sent", NOW, message_id=7)
    db.close()
    dumped = _dump(tmp_path / "rebond.db")
    assert WORDS not in dumped and "Ana" not in dumped


def test_forget_erases_the_chat_s_delivery_history_but_not_what_is_still_to_send(tmp_path):
    db = open_database(tmp_path / "rebond.db")
    user = get_or_create_user(db, "telegram:42", "Ana", now=NOW)
    other = get_or_create_user(db, "telegram:43", "Ben", now=NOW)
    delivery.store_updates(db, [_update(1, 42, "a"), _update(2, 43, "b")], NOW)
    delivery.mark_processed(db, 1, NOW)
    delivery.mark_processed(db, 2, NOW)
    sent = delivery.enqueue(db, _send(42, "hello"), NOW)
    delivery.finish(db, sent, "sent", NOW, message_id=7)
    delivery.enqueue(db, _send(42, "all erased"), NOW)
    delivery.enqueue(db, _send(43, "hello Ben"), NOW)
    privacy.forget_user(db, user.id)
    inbox = [row["chat_id"] for row in db.query("SELECT chat_id FROM inbox")]
    outbox = [(row["chat_id"], row["status"]) for row in db.query("SELECT * FROM outbox")]
    db.close()
    assert inbox == [43]
    assert sorted(outbox) == [(42, "pending"), (43, "pending")]
    assert other.id != user.id


@pytest.mark.e2e
async def test_a_processed_update_leaves_no_words_in_the_database_files(tmp_path: Path):
    """Once processed, an update's name and text are gone from the inbox and, after the
    write-ahead log's scrub, from every file of the database; its id, chat and status stay."""
    async with harness(tmp_path, wal_scrub_seconds=0.2) as bot:
        ana = bot.api.user(TOKEN, 9101, "Ana", last_name="Quillfeather", username="zorblax_k")
        await ana.send("/start")
        await ana.wait_until(lambda: ana.messages)
        await ana.send("marmalade zanzibar")  # not an answer to the language question
        await ana.wait_until(lambda: len(ana.messages) >= 2)
        await wait_for(lambda: not _pending(bot), timeout=5)
        await asyncio.sleep(1.0)  # several scrub periods
        rows = bot.query("SELECT update_id, chat_id, payload, processed_at FROM inbox")
        assert [(r["chat_id"], r["payload"]) for r in rows] == [(9101, ""), (9101, "")]
        assert all(r["processed_at"] for r in rows)
        files = [p for p in tmp_path.iterdir() if p.name.startswith("bot.db")]
        assert any(p.name == "bot.db" for p in files)
        for path in files:
            data = path.read_bytes()
            for words in (b"Quillfeather", b"zorblax_k", b"marmalade zanzibar"):
                assert words not in data, (path.name, words)


def _pending(bot) -> int:
    return bot.query("SELECT count(*) AS n FROM outbox WHERE status = 'pending'")[0]["n"]


def test_a_processed_update_keeps_its_words_only_until_the_next_message_no_longer_needs_them(
    tmp_path,
):
    """The words stay while a split paste's tail may still come (the burst rule reads them),
    then go; what an edit needs to know (the message began with /feedback) stays."""
    from storage import intents

    db = open_database(tmp_path / "rebond.db")
    later = "2026-11-30T10:01:00.000+00:00"
    update = _update(1, 42, WORDS)
    command = delivery.Received(2, 42, _update(2, 42, "/feedback 5").payload, 2, "feedback")
    delivery.store_updates(db, [update, command], NOW)
    delivery.mark_processed(db, 1, NOW)
    delivery.mark_processed(db, 2, NOW)
    assert intents.previous_update(db, 42, 2) is not None  # still there for a tail
    assert delivery.empty_processed_payloads(db, NOW) == 2  # none processed before NOW
    assert delivery.empty_processed_payloads(db, later) == 0
    assert intents.previous_update(db, 42, 2) is None
    assert intents.first_command(db, 42, 2) == (True, "feedback")
    assert intents.first_command(db, 42, 1) == (True, None)
    assert intents.first_command(db, 42, 9) == (False, None)
    db.close()
    assert WORDS not in _dump(tmp_path / "rebond.db")
