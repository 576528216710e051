"""Telegram adapter pieces on their own: rendering, callback data, the inbox's workers."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden

from bot.delivery.inbox import Inbox
from bot.delivery.outbox import KINDS, Storage
from bot.delivery.ratelimit import SendLimiter
from bot.delivery.sender import Sender, waits_for_budget
from bot.handlers.callbacks import (
    MAX_CALLBACK_BYTES,
    ButtonData,
    ButtonKind,
    InviteAction,
    InviteButton,
)
from bot.handlers.render import MESSAGE_LIMIT, Span, split_messages, to_html
from storage import delivery as store
from storage import repository
from storage.db import open_database
from storage.delivery import Outgoing


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
        ("q:12:34:our_fault", ButtonData(ButtonKind.ANSWER, 12, 34, "our_fault")),
        ("s:12:35:", ButtonData(ButtonKind.SUBMIT_TICKS, 12, 35, "")),
        ("l:::en", ButtonData(ButtonKind.LANGUAGE, None, None, "en")),
        ("c:7::restart", ButtonData(ButtonKind.SESSION_CONTROL, 7, None, "restart")),
        ("h:::t1abc", None),  # an invite's data is not a ButtonData
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


LONGEST_ID = "x" * 40
BIGGEST_ID = 10**9 - 1  # a billion sessions and turns still fit


def test_button_data_past_64_bytes_is_refused_when_written():
    with pytest.raises(ValueError, match="64 bytes"):
        ButtonData(ButtonKind.ANSWER, 10**12 - 1, 10**12 - 1, LONGEST_ID).encode()


@pytest.mark.parametrize("kind", [k for k in ButtonKind if k is not ButtonKind.INVITE])
def test_every_button_kind_round_trips_within_64_bytes(kind):
    data = ButtonData(kind, BIGGEST_ID, BIGGEST_ID, LONGEST_ID)
    encoded = data.encode()
    assert ButtonData.decode(encoded) == data
    assert ButtonData.decode(encoded).kind is kind
    assert len(encoded.encode("utf-8")) <= MAX_CALLBACK_BYTES


@pytest.mark.parametrize("action", list(InviteAction))
@pytest.mark.parametrize("include", [False, True])
def test_invite_buttons_carry_their_tick_and_code_in_their_own_fields(action, include):
    button = InviteButton(action, include, LONGEST_ID)
    encoded = button.encode()
    assert InviteButton.decode(encoded) == button
    assert ButtonData.decode(encoded) is None
    assert len(encoded.encode("utf-8")) <= MAX_CALLBACK_BYTES


@pytest.mark.parametrize("data", ["h:t:2:abc", "h:z:1:abc", "h:t:1:", "h:t:1:a b", "q:1:2:a", None])
def test_invite_button_data_is_read_strictly(data):
    assert InviteButton.decode(data) is None


def test_button_kinds_have_distinct_one_letter_codes():
    codes = [kind.value for kind in ButtonKind]
    assert all(len(code) == 1 for code in codes)
    assert len(set(codes)) == len(codes)


def message_update(update_id: int, chat_id: int) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Zoé"}
    chat = {"id": chat_id, "type": "private", "first_name": "Zoé"}
    message = {"message_id": update_id, "date": 0, "chat": chat, "from": user, "text": "hi"}
    return {"update_id": update_id, "message": message}


@pytest.fixture
def storage(tmp_path):
    db = open_database(tmp_path / "inbox.db")
    yield Storage(db, lambda: datetime.now(UTC))
    db.close()


def processed(storage: Storage) -> list[int]:
    return [
        row["update_id"]
        for row in storage.db.query(
            "SELECT update_id FROM inbox WHERE processed_at IS NOT NULL ORDER BY processed_at"
        )
    ]


async def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_updates_of_one_chat_run_in_order_and_a_retrying_chat_holds_no_other(
    storage, monkeypatch
):
    monkeypatch.setattr("bot.delivery.inbox.RETRY_SECONDS", 0.2)
    log: list[int] = []
    inbox: Inbox

    async def handle(update) -> None:
        log.append(update.update_id)
        if update.update_id == 1 and log.count(1) == 1:
            inbox.record_failure(1, RuntimeError("boom"))  # chat 10 fails once, then waits

    inbox = Inbox(None, storage, handle, lambda update: None)
    assert await inbox.receive(
        [message_update(1, 10), message_update(2, 10), message_update(3, 20)]
    )
    await wait_until(lambda: len(processed(storage)) == 3)
    assert log == [1, 3, 1, 2]  # chat 20 went ahead while chat 10 waited; 2 waited for 1
    assert processed(storage) == [3, 1, 2]


async def test_a_failing_update_is_tried_again_then_given_up_with_an_apology(storage, monkeypatch):
    monkeypatch.setattr("bot.delivery.inbox.RETRY_SECONDS", 0.0)
    attempts: list[int] = []
    inbox: Inbox

    async def handle(update) -> None:
        attempts.append(update.update_id)
        storage.add("reply", 1, "sendMessage", {"chat_id": 1, "text": "half-way"})
        inbox.record_failure(update.update_id, RuntimeError("boom"))

    def apologise(update) -> None:
        storage.add("apology", 1, "sendMessage", {"chat_id": 1, "text": "sorry"})

    inbox = Inbox(None, storage, handle, apologise)
    await inbox.receive([message_update(5, 1)])
    await wait_until(lambda: processed(storage) == [5])
    assert attempts == [5, 5, 5]
    kinds = [row["kind"] for row in storage.db.query("SELECT kind FROM outbox")]
    assert kinds == ["apology"]  # each failed attempt's rows were rolled back


async def test_a_database_that_cannot_be_written_is_waited_out_without_apology(
    storage, monkeypatch
):
    monkeypatch.setattr("bot.delivery.inbox.RETRY_SECONDS", 0.0)
    attempts: list[int] = []
    apologies: list[int] = []

    async def handle(update) -> None:
        attempts.append(update.update_id)
        if len(attempts) <= 4:
            raise sqlite3.OperationalError("database or disk is full")

    inbox = Inbox(None, storage, handle, lambda update: apologies.append(update.update_id))
    await inbox.receive([message_update(6, 1)])
    await wait_until(lambda: processed(storage) == [6], timeout=10)
    assert attempts == [6] * 5 and apologies == []


async def test_an_update_received_twice_is_processed_once(storage):
    ran: list[int] = []

    async def handle(update) -> None:
        ran.append(update.update_id)

    inbox = Inbox(None, storage, handle, lambda update: None)
    await inbox.receive([message_update(7, 1)])
    await inbox.receive([message_update(7, 1)])  # a webhook retry, or a batch fetched again
    await wait_until(lambda: processed(storage) == [7])
    await asyncio.sleep(0.05)
    assert ran == [7]


async def test_updates_received_before_a_crash_are_run_after_the_restart(storage):
    async def never(update) -> None:
        raise AssertionError("not before the restart")

    stopped = Inbox(None, storage, never, lambda update: None)
    stopped._stopping = True  # the process dies before its workers run
    await stopped.receive([message_update(8, 1), message_update(9, 2)])
    ran: list[int] = []

    async def handle(update) -> None:
        ran.append(update.update_id)

    assert await Inbox(None, storage, handle, lambda update: None).recover() == 2
    await wait_until(lambda: sorted(processed(storage)) == [8, 9])
    assert sorted(ran) == [8, 9]


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

    from .helpers import REAL_PLAYBOOK

    settings = load_settings(db_path=tmp_path / "m.db", playbook_path=REAL_PLAYBOOK)
    services = build_services(settings, open_database(settings.db_path))
    handlers = ManagerHandlers(
        services.conversation, Storage(services.conversation.db, datetime.now)
    )
    try:
        group = {"id": -100, "type": "supergroup", "title": "Sales"}
        await handlers.membership(member_update(group, "left"), SimpleNamespace())
        assert services.conversation.user("telegram:77").blocked_at is None
        private = {"id": 77, "type": "private", "first_name": "Zoé"}
        await handlers.membership(member_update(private, "kicked"), SimpleNamespace())
        assert services.conversation.user("telegram:77").blocked_at is not None
    finally:
        services.conversation.db.close()


class StubBot:
    """Answers each Bot API call with what `outcomes` says for its method: an exception to
    raise, or the raw result (the sender calls `do_api_request`, as for any method)."""

    def __init__(self, outcomes: dict[str, object]) -> None:
        self.outcomes = outcomes
        self.calls: list[str] = []

    async def do_api_request(self, method: str, api_kwargs: dict[str, object]) -> object:
        self.calls.append(method)
        outcome = self.outcomes[method]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


async def deliver_all(storage: Storage, bot: StubBot) -> dict[str, int]:
    sender = Sender(bot, storage, SendLimiter(rate=0))
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await wait_until(lambda: not store.due(storage.db, "9999", set(), 10))
    stop.set()
    await running
    return store.outbox_counts(storage.db)


async def test_a_moot_refusal_ends_a_cosmetic_row_as_done_and_fails_nothing_else(storage):
    async with storage.transaction():
        storage.add("answered_edit", 5, "editMessageText", {"chat_id": 5, "message_id": 1})
        storage.add("callback_answer", 5, "answerCallbackQuery", {"callback_query_id": "1"})
        storage.add("reply", 5, "sendMessage", {"chat_id": 5, "text": "next"})
    bot = StubBot(
        {
            "editMessageText": BadRequest("Message is not modified: specified new message"),
            "answerCallbackQuery": BadRequest("Query is too old and response timeout expired"),
            "sendMessage": {"message_id": 9},
        }
    )
    counts = await deliver_all(storage, bot)
    assert bot.calls == ["editMessageText", "answerCallbackQuery", "sendMessage"]
    assert counts == {"done": 2, "sent": 1}


async def test_a_403_marks_the_user_blocked_and_fails_their_pending_rows(storage):
    user = repository.get_or_create_user(storage.db, "telegram:6", "Zoé", "fr", now=storage.now())
    async with storage.transaction():
        storage.add("checkin", 6, "sendMessage", {"chat_id": 6, "text": "mood?"})
        storage.add("checkin", 6, "sendMessage", {"chat_id": 6, "text": "and then?"})
    bot = StubBot({"sendMessage": Forbidden("Forbidden: bot was blocked by the user")})
    counts = await deliver_all(storage, bot)
    assert counts == {"failed": 2} and bot.calls == ["sendMessage"]
    assert repository.get_user(storage.db, user.id).blocked_at is not None


def test_housekeeping_prunes_old_delivery_rows_but_keeps_the_question_on_screen(storage):
    db = storage.db
    old, now = "2026-01-01T00:00:00.000+00:00", "2026-02-01T00:00:00.000+00:00"
    store.store_updates(db, [store.Received(i, 5, "{}") for i in (1, 2, 3)], old)
    store.mark_processed(db, 1, old)
    store.mark_processed(db, 2, now)
    rows = [
        store.enqueue(db, Outgoing("reply", 5, "sendMessage", {}, 1, now), old) for _ in range(3)
    ]
    for row in rows:
        store.finish(db, row, "sent", old, message_id=row)
    user = repository.get_or_create_user(db, "telegram:5", "Zoé", "fr", now=old)
    store.set_question_row(db, user.id, rows[0])
    pruned = store.prune(db, "2026-01-15T00:00:00.000+00:00")
    assert pruned["inbox"] == 1 and pruned["outbox"] == 2  # unprocessed update 3 stays
    assert store.question_ref(db, user.id).message_id == rows[0]


async def test_the_sender_survives_a_locked_database_in_its_own_loop(storage, monkeypatch):
    # The sender's loop used to die on the first error, silently: nothing was sent again
    # until a restart (refs #8).
    real_due = store.due
    failures = []

    def locked_then_fine(*args, **kwargs):
        if len(failures) < 3:
            failures.append(1)
            raise sqlite3.OperationalError("database is locked")
        return real_due(*args, **kwargs)

    monkeypatch.setattr(store, "due", locked_then_fine)
    monkeypatch.setattr("bot.delivery.sender.LOOP_RETRY_SECONDS", 0.01)
    async with storage.transaction():
        storage.add("reply", 5, "sendMessage", {"chat_id": 5, "text": "still here"})
    bot = StubBot({"sendMessage": {"message_id": 9}})
    sender = Sender(bot, storage, SendLimiter(rate=0))
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await wait_until(lambda: store.outbox_counts(storage.db) == {"sent": 1})
    finally:
        stop.set()
        await running
    assert len(failures) == 3 and bot.calls == ["sendMessage"]


async def test_an_apology_that_fails_does_not_leave_the_chat_stuck(storage, monkeypatch):
    monkeypatch.setattr("bot.delivery.inbox.RETRY_SECONDS", 0.0)
    inbox: Inbox

    async def handle(update) -> None:
        if update.update_id == 5:
            inbox.record_failure(5, RuntimeError("boom"))

    def apologise(update) -> None:
        raise RuntimeError("the apology has a bug too")

    inbox = Inbox(None, storage, handle, apologise)
    await inbox.receive([message_update(5, 1), message_update(6, 1)])
    await wait_until(lambda: processed(storage) == [5, 6])


@pytest.mark.parametrize("restarted", [False, True])
async def test_a_callback_answer_written_late_is_not_tried_past_telegram_s_lifetime(
    tmp_path, restarted
):
    # Its 15 s count from the update's arrival in the inbox, not from when the row is written
    # (a busy chat, or a restart, delays the handler), so Telegram is not asked in vain.
    from .helpers import FakeClock

    clock = FakeClock()
    db = open_database(tmp_path / "late.db")
    storage = Storage(db, clock)
    try:

        async def handle(update) -> None:
            if not restarted:
                clock.advance(seconds=20)  # the update waited in its chat's queue
            storage.add("callback_answer", 1, "answerCallbackQuery", {"callback_query_id": "7"})
            storage.add("reply", 1, "sendMessage", {"chat_id": 1, "text": "next question"})

        inbox = Inbox(None, storage, handle, lambda update: None)
        if restarted:
            inbox._stopping = True  # the process dies before its workers run
            await inbox.receive([message_update(11, 1)])
            clock.advance(seconds=20)  # down for 20 s
            inbox = Inbox(None, storage, handle, lambda update: None)
            await inbox.recover()
        else:
            await inbox.receive([message_update(11, 1)])
        await wait_until(lambda: processed(storage) == [11])
        bot = StubBot({"sendMessage": {"message_id": 9}})
        counts = await deliver_all(storage, bot)
        assert bot.calls == ["sendMessage"] and counts == {"expired": 1, "sent": 1}
    finally:
        db.close()


class TimedBot:
    """A Bot API that answers every call at once and notes (method, chat, when) of each."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, float]] = []

    async def do_api_request(self, method: str, api_kwargs: dict[str, object]) -> object:
        loop = asyncio.get_running_loop()
        self.calls.append((method, api_kwargs.get("chat_id"), loop.time()))
        return {"message_id": len(self.calls)} if method == "sendMessage" else True


def queue_checkins(storage: Storage, chats: Iterable[int]) -> None:
    """A check-in for each chat, as the scheduler queues them (inside a transaction)."""
    for chat in chats:
        storage.add("checkin", chat, "sendMessage", {"chat_id": chat, "text": "check-in"})


@contextlib.asynccontextmanager
async def sending(storage: Storage, bot: object, rate: float) -> AsyncIterator[Sender]:
    """The sender running with 16 chats in flight (production's) at `rate` a second."""
    sender = Sender(bot, storage, SendLimiter(rate=rate), parallel=16)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        yield sender
    finally:
        stop.set()
        await running


async def test_a_reply_behind_its_chats_own_check_in_does_not_wait_for_the_check_in_backlog(
    storage,
):
    # Chat 5's check-in was queued behind 150 others (7.5 s of them at 20/s), then the manager
    # pressed a button: the button's answer and the reply waited behind their own check-in for
    # the whole backlog, and the callback query expired (refs #8).
    async with storage.transaction():
        queue_checkins(storage, [*range(100, 250), 5])
        storage.add("callback_answer", 5, "answerCallbackQuery", {"callback_query_id": "1"})
        storage.add("reply", 5, "sendMessage", {"chat_id": 5, "text": "next question"})
    bot = TimedBot()
    mine = lambda: [call for call in bot.calls if call[1] in (5, None)]  # noqa: E731
    began = asyncio.get_running_loop().time()
    async with sending(storage, bot, rate=20):
        await wait_until(lambda: len(mine()) == 3, timeout=5)
    # In the chat's order, and at once: the check-in went as urgently as the reply behind it.
    assert [method for method, _, _ in mine()] == [
        "sendMessage",
        "answerCallbackQuery",
        "sendMessage",
    ]
    assert mine()[-1][2] - began < 0.5
    replied = mine()[-1][2]
    others = [call for call in bot.calls if call[1] not in (5, None) and call[2] <= replied]
    assert len(others) <= (replied - began) * 20 + 2  # the rest kept the budget


@pytest.mark.parametrize(
    ("kind", "chat_priority", "waits"),
    [
        ("checkin", 3, True),
        ("followup", 3, True),
        ("coach_notification", 2, True),  # unprompted, though not a check-in
        ("feedback", 2, True),
        ("notice", 2, True),  # a team summary, "/forget is done"
        ("checkin", 1, False),  # a reply waits behind it in its chat
        ("coach_notification", 0, False),  # a button's answer waits behind it
        ("reply", 1, False),
        ("question", 1, False),
        ("answered_edit", 1, False),
        ("callback_answer", 0, False),
        ("apology", 1, False),
    ],
)
def test_what_waits_for_telegrams_limit_for_messages_to_many_users(kind, chat_priority, waits):
    rule = KINDS[kind]
    row = store.OutboxRow(
        1,
        kind,
        rule.priority,
        5,
        "sendMessage",
        "{}",
        "",
        "",
        None,
        None,
        None,
        None,
        0,
        min(chat_priority, rule.priority),
    )
    assert waits_for_budget(row) is waits


async def test_a_menu_queued_as_pairs_by_an_earlier_version_is_sent_as_bot_commands(storage):
    # PTB's typed method used to turn (command, description) pairs into BotCommand objects;
    # the raw call sent them as they were and Telegram refused the menu (refs #8).
    async with storage.transaction():
        storage.add("commands", 0, "setMyCommands", {"commands": [["start", "Welcome"]]})
    sent: list[dict[str, object]] = []

    class MenuBot:
        async def do_api_request(self, method: str, api_kwargs: dict[str, object]) -> object:
            sent.append(api_kwargs)
            return True

    assert await deliver_all(storage, MenuBot()) == {"sent": 1}  # type: ignore[arg-type]
    assert sent == [{"commands": [{"command": "start", "description": "Welcome"}]}]


async def test_a_reply_queued_while_its_chats_check_in_waits_for_the_budget_goes_at_once(
    storage,
):
    # Chat 5's check-in had begun waiting for a token (2 a second, 30 check-ins queued) when
    # the manager pressed a button: their answer and reply waited 8-13 s, as the decision to
    # wait was taken once, before the press (found by a trial, refs #8).
    async with storage.transaction():
        queue_checkins(storage, [*range(100, 104), 5, *range(104, 130)])
    bot = TimedBot()
    mine = lambda: [call for call in bot.calls if call[1] in (5, None)]  # noqa: E731
    async with sending(storage, bot, rate=2) as sender:
        await wait_until(lambda: any(chat == 5 for chat in sender._in_flight))
        pressed = asyncio.get_running_loop().time()
        async with storage.transaction():
            storage.add("callback_answer", 5, "answerCallbackQuery", {"callback_query_id": "1"})
            storage.add("reply", 5, "sendMessage", {"chat_id": 5, "text": "next question"})
        await wait_until(lambda: len(mine()) == 3, timeout=5)
    assert mine()[-1][2] - pressed < 0.5


@pytest.mark.parametrize("backlog", [0, 500])
async def test_a_check_in_backlog_leaves_room_for_other_chats_replies(storage, backlog):
    # 500 check-ins waiting for the budget held every one of the sender's slots: 100 replies
    # of other chats then went at the budget's pace, 2.65 s instead of 0.37 (a trial, refs #8).
    async with storage.transaction():
        queue_checkins(storage, range(10_000, 10_000 + backlog))

    class SlowBot(TimedBot):  # Telegram answering in 50 ms
        async def do_api_request(self, method: str, api_kwargs: dict[str, object]) -> object:
            await asyncio.sleep(0.05)
            return await super().do_api_request(method, api_kwargs)

    bot = SlowBot()
    replies = lambda: [call for call in bot.calls if call[1] in range(100)]  # noqa: E731
    async with sending(storage, bot, rate=30):
        await asyncio.sleep(0.5)  # the morning's check-ins are going
        began = asyncio.get_running_loop().time()
        async with storage.transaction():  # 100 managers answer at once
            for chat in range(100):
                storage.add("reply", chat, "sendMessage", {"chat_id": chat, "text": "reply"})
        await wait_until(lambda: len(replies()) == 100, timeout=30)
    assert replies()[-1][2] - began < 1.0
