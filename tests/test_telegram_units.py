"""Telegram adapter pieces on their own: rendering, callback data, per-chat dispatching."""

from __future__ import annotations

import asyncio
import html
import re
from types import SimpleNamespace

import pytest
from telegram import Update

from bot.delivery.dispatcher import Dispatcher
from bot.handlers.callbacks import ButtonData
from bot.handlers.render import MESSAGE_LIMIT, Span, split_messages, to_html


def visible(message: str) -> str:
    return html.unescape(re.sub(r"</?[bi]>", "", message))


def test_user_text_is_escaped_for_html():
    assert to_html([Span("<Acme & Fils>", "b"), Span(" a <i> b")]) == (
        "<b>&lt;Acme &amp; Fils&gt;</b> a &lt;i&gt; b"
    )


def test_long_texts_are_split_between_lines_under_the_limit():
    lines = [Span(f"{'x' * 900} line {n}\n") for n in range(12)]
    messages = split_messages(lines)
    assert len(messages) == 3
    assert all(len(visible(m)) <= MESSAGE_LIMIT for m in messages)
    assert "".join(visible(m).replace("\n", "") for m in messages) == "".join(
        span.text.replace("\n", "") for span in lines
    )


def test_a_single_endless_line_is_cut_at_spaces_then_anywhere():
    words = " ".join(["mot"] * 3000)
    assert all(len(visible(m)) <= MESSAGE_LIMIT for m in split_messages([Span(words)]))
    blob = "&" * 9000  # escaping makes it longer in HTML; the limit is on visible characters
    messages = split_messages([Span(blob, "i")])
    assert [len(visible(m)) for m in messages] == [4096, 4096, 808]
    assert all(m.startswith("<i>") and m.endswith("</i>") for m in messages)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("q:12:34:our_fault", ButtonData("q", 12, 34, "our_fault")),
        ("s:12:35:", ButtonData("s", 12, 35, "")),
        ("l:::en", ButtonData("l", None, None, "en")),
        ("c:7::restart", ButtonData("c", 7, None, "restart")),
        ("q:12:34:our fault", None),
        ("x:1:2:a", None),
        ("q:1:2:" + "a" * 41, None),
        ("", None),
        (None, None),
    ],
)
def test_callback_data_is_read_strictly(data, expected):
    assert ButtonData.decode(data) == expected
    if expected is not None:
        assert ButtonData.decode(expected.encode()) == expected


def fake_update(update_id: int, chat_id: int) -> SimpleNamespace:
    return SimpleNamespace(update_id=update_id, effective_chat=SimpleNamespace(id=chat_id))


async def never_seen(update) -> bool:
    return False


def recorder(into: list[int]):
    async def mark_done(update) -> None:
        into.append(update.update_id)

    return mark_done


async def test_updates_of_one_chat_run_in_order_and_chats_do_not_wait_on_each_other():
    log: list[str] = []
    release = asyncio.Event()

    async def handle(update) -> None:
        log.append(f"start {update.update_id}")
        if update.update_id == 1:
            await release.wait()  # chat 10 is slow
        log.append(f"end {update.update_id}")

    done: list[int] = []
    dispatcher = Dispatcher(handle, never_seen, recorder(done))
    tasks = [
        asyncio.create_task(dispatcher.process(fake_update(uid, chat)))
        for uid, chat in [(1, 10), (2, 10), (3, 20)]
    ]
    await asyncio.sleep(0.05)
    assert log == ["start 1", "start 3", "end 3"]  # chat 20 went ahead; update 2 waits for 1
    release.set()
    await asyncio.gather(*tasks)
    assert log == ["start 1", "start 3", "end 3", "end 1", "start 2", "end 2"]
    assert sorted(done) == [1, 2, 3]


async def test_a_failing_update_is_tried_again_then_given_up(monkeypatch):
    monkeypatch.setattr("bot.delivery.dispatcher.RETRY_DELAY_SECONDS", 0.0)
    attempts: list[int] = []
    dispatcher: Dispatcher

    async def handle(update) -> None:
        attempts.append(update.update_id)
        dispatcher.record_failure(update.update_id, RuntimeError("boom"))

    done: list[int] = []
    dispatcher = Dispatcher(handle, never_seen, recorder(done))
    await dispatcher.process(fake_update(5, 1))
    assert attempts == [5, 5, 5] and done == [5]


async def test_an_update_already_answered_is_skipped():
    ran: list[int] = []

    async def handle(update) -> None:
        ran.append(update.update_id)

    async def seen(update) -> bool:
        return True

    async def mark_done(update) -> None:
        raise AssertionError("nothing to mark")

    await Dispatcher(handle, seen, mark_done).process(fake_update(9, 1))
    assert ran == []


def member_update(chat: dict, status: str) -> Update:
    user = {"id": 77, "is_bot": False, "first_name": "Zoé"}
    bot_user = {"id": 1, "is_bot": True, "first_name": "Rebond"}
    return Update.de_json(
        {
            "update_id": 5,
            "my_chat_member": {
                "chat": chat,
                "from": user,
                "date": 0,
                "old_chat_member": {"status": "member", "user": bot_user},
                "new_chat_member": {"status": status, "user": bot_user, "until_date": 0},
            },
        },
        None,
    )


async def test_removing_the_bot_from_a_group_does_not_mark_anyone_blocked(tmp_path):
    from bot.bootstrap import build_services
    from bot.handlers.manager import ManagerHandlers
    from bot.settings import load_settings
    from storage.db import open_database

    from .helpers import REAL_PLAYBOOK

    settings = load_settings(db_path=tmp_path / "m.db", playbook_path=REAL_PLAYBOOK)
    services = build_services(settings, open_database(settings.db_path))
    handlers = ManagerHandlers(services.conversation)
    try:
        group = {"id": -100, "type": "supergroup", "title": "Sales"}
        await handlers.membership(member_update(group, "left"), SimpleNamespace())
        assert services.conversation.user("telegram:77").blocked_at is None
        private = {"id": 77, "type": "private", "first_name": "Zoé"}
        await handlers.membership(member_update(private, "kicked"), SimpleNamespace())
        assert services.conversation.user("telegram:77").blocked_at is not None
    finally:
        services.conversation.db.close()


async def test_an_update_whose_receipt_cannot_be_read_is_still_processed():
    ran: list[int] = []

    async def handle(update) -> None:
        ran.append(update.update_id)

    async def broken(update) -> bool:
        raise RuntimeError("database is locked")

    done: list[int] = []
    await Dispatcher(handle, broken, recorder(done)).process(fake_update(11, 1))
    assert ran == [11] and done == [11]


async def test_an_update_given_up_gets_an_apology(monkeypatch):
    monkeypatch.setattr("bot.delivery.dispatcher.RETRY_DELAY_SECONDS", 0.0)
    dispatcher: Dispatcher
    apologies: list[int] = []

    async def handle(update) -> None:
        dispatcher.record_failure(update.update_id, RuntimeError("boom"))

    async def apologise(update) -> None:
        apologies.append(update.update_id)

    dispatcher = Dispatcher(handle, never_seen, recorder([]), apologise)
    await dispatcher.process(fake_update(12, 1))
    assert apologies == [12]
