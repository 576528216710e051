"""Delivery end to end: what Telegram's faults, restarts and load used to break (issue #8).

Each test is one scenario of the issue, through the fake Bot API, which behaves as Telegram
does where the faults come from: a callback query can be answered once and only while fresh,
an edit to identical content is "message is not modified", sends can meet 5xx and delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlite_utils import Database

from bot.app import serve
from bot.bootstrap import build_services, open_storage
from bot.delivery.sender import Sender
from bot.delivery.supervise import TaskDied
from bot.flows.engine import advance, ask
from bot.flows.state import Answer

from .e2e import TOKEN, bot_running, bot_settings, harness, message_by_id, walk
from .fakebotapi import FakeBotApi
from .helpers import FakeClock
from .test_telegram_checkins import message_with, onboard_and_set_up
from .test_telegram_e2e import onboard, stored_steps
from .test_telegram_restart import wait_for

pytestmark = pytest.mark.e2e

TICK = "✓"


def apologies(bot, user) -> int:
    ui = bot.playbook.ui.error_apology
    return sum(m.text in (ui.fr, ui.en) for m in user.messages)


async def test_a_button_pressed_while_the_bot_is_down_past_the_query_lifetime(tmp_path: Path):
    async with FakeBotApi(callback_query_ttl=2.0) as api:  # Telegram's is about 15 s
        settings = bot_settings(api.url, tmp_path / "bot.db")
        async with bot_running(api, settings) as services:
            bot = SimpleNamespace(playbook=services.conversation.playbook)
            claire = api.user(TOKEN, 8101, "Claire", language_code="en")
            await onboard(bot, claire, "en")  # it goes on with the reflection's first question
            await claire.send("Acme")
            question = await claire.wait_until(lambda: message_with_button(claire, "This week"))
        # The bot is down: the manager taps, and the query's lifetime passes.
        await claire.press(question, "This week")
        await asyncio.sleep(2.5)
        async with bot_running(api, settings):
            await claire.wait_until(
                lambda: (
                    f"{TICK} This week" in (message_by_id(claire, question.message_id).text or "")
                ),
                timeout=10,
            )
            await claire.wait_until(lambda: claire.messages[-1].message_id > question.message_id)
            following = claire.messages[-1]
            # The next question is live: its first button is taken as an answer.
            press = await claire.press(following, following.button_texts[0])
            answered = await claire.wait_for_answer(press)
            assert answered.answer["text"] == ""
            await claire.wait_until(lambda: claire.messages[-1].message_id > following.message_id)
        assert apologies(bot, claire) == 0
        steps = [row["step"] for row in _query(settings.db_path, STEPS)]
        assert steps[:3] == ["client", "since_when", steps[2]] and len(steps) == 3


STEPS = (
    "SELECT step FROM answers JOIN sessions ON sessions.id = answers.session_id "
    "WHERE flow = 'lost_client' ORDER BY answers.id"
)


def message_with_button(user, text: str):
    return next((m for m in reversed(user.messages) if m.button(text)), None)


async def test_a_double_tap_on_a_button_that_removes_its_own_keyboard(tmp_path: Path):
    async with harness(tmp_path) as bot:
        claire = bot.user(8201, "Claire")
        await onboard(bot, claire, "fr")
        await claire.send("/forget")
        confirm = await claire.wait_until(
            lambda: message_with(claire, bot.playbook.ui.forget_confirm.fr)
        )
        cancel = bot.playbook.ui.cancel_button.fr
        first = await claire.press(confirm, cancel)
        second = await claire.press(confirm, cancel)  # before the bot removed the buttons
        await claire.wait_for_answer(first)
        await claire.wait_for_answer(second)
        cancelled = bot.playbook.ui.forget_cancelled.fr
        await claire.wait_until(lambda: message_with(claire, cancelled))
        await asyncio.sleep(2.0)  # longer than any retry of the second tap would take
        assert sum(m.text == cancelled for m in claire.messages) == 1
        assert apologies(bot, claire) == 0
        assert message_by_id(claire, confirm.message_id).button_texts == []
        assert claire.unanswered_callback_queries == []


async def test_a_checkin_whose_send_meets_seconds_of_5xx_arrives_once(tmp_path: Path):
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=0.05) as bot:
        claire = bot.user(8301, "Claire")
        await onboard_and_set_up(bot, claire)
        mood = bot.playbook.flows["daily_checkin"].step_by_id["mood"].prompt.fr
        bot.fake_bot.fail_next(500, times=8, method="sendMessage")
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris
        async with time_passing(clock, seconds_per_tick=2):  # the back-off waits pass
            await claire.wait_until(lambda: message_with(claire, mood), timeout=30)
        assert clock.now < datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # within the grace
        await asyncio.sleep(0.5)
        assert sum(mood in (m.text or "") for m in claire.messages) == 1
        assert bot.fake_bot.count("sendMessage", ok=False) == 8
        [checkin] = bot.query("SELECT status, sent_at FROM checkins")
        assert checkin["status"] == "sent" and checkin["sent_at"] is not None


async def test_a_checkin_never_delivered_within_its_grace_is_undelivered_not_missed(
    tmp_path: Path,
):
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=0.05) as bot:
        claire = bot.user(8302, "Claire")
        await onboard_and_set_up(bot, claire)
        bot.fake_bot.fail_next(500, times=1000, method="sendMessage")
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        await bot.fake_bot.wait_for_call("sendMessage", lambda r: not r.ok, timeout=10)
        clock.advance(hours=4)  # past the 3-hour grace
        await wait_for(lambda: bot.query("SELECT status FROM checkins")[0]["status"] != "claimed")
        assert bot.query("SELECT status FROM checkins")[0]["status"] == "undelivered"
        bot.fake_bot.faults.clear()


async def test_with_the_disk_full_for_a_while_every_update_is_processed_once(tmp_path: Path):
    async with harness(tmp_path) as bot:
        managers = [bot.user(8400 + n, f"M{n}", language_code="en") for n in range(5)]
        db = bot.conversation.db
        pages = next(iter(db.query("PRAGMA page_count")))["page_count"]
        db.execute(f"PRAGMA max_page_count = {pages}")
        fill_the_inbox(db)  # nothing more fits: SQLITE_FULL at the next update's write
        for manager in managers:
            await manager.send("/start")
        await asyncio.sleep(2.0)
        waiting = [m for m in managers if not m.messages]
        assert waiting  # the full disk held them: neither processed nor given up
        db.execute("PRAGMA max_page_count = 1073741823")  # space again
        for manager in managers:
            await manager.wait_until(lambda m=manager: m.messages, timeout=20)
        await asyncio.sleep(0.5)
        for manager in managers:
            assert len(manager.messages) == 1, manager.messages  # asked once, no apology
        assert bot.query("SELECT count(*) AS n FROM inbox WHERE processed_at IS NULL")[0]["n"] == 0


@pytest.mark.slow  # 150 managers
async def test_150_managers_press_at_once_while_one_chat_is_slow(tmp_path: Path):
    # With the default limiter: replies never wait for Telegram's 30 messages/s to many users.
    async with harness(tmp_path) as bot:
        managers = [bot.user(8500 + n, f"M{n}", language_code="en") for n in range(150)]
        await asyncio.gather(*(m.send("/start") for m in managers))
        await asyncio.gather(
            *(
                m.wait_until(lambda m=m: m.messages and m.messages[-1].button_texts, timeout=60)
                for m in managers
            )
        )
        slow, others = managers[0], managers[1:]
        # Telegram fails every call to the slow chat: its rows back off and try again.
        bot.fake_bot.fail_next(500, times=10_000, chat_id=slow.id)
        presses = [await m.press(m.messages[-1], m.messages[-1].button_texts[0]) for m in managers]
        await asyncio.gather(
            *(
                m.wait_for_answer(press, timeout=60)
                for m, press in zip(managers, presses, strict=True)
            )
        )
        await asyncio.gather(
            *(
                m.wait_until(
                    lambda m=m: f"{TICK} " in (m.messages[0].text or "") and len(m.messages) == 2,
                    timeout=60,
                )
                for m in others
            )
        )
        # Every other chat got its edit and its next question while the slow chat's edit
        # still fails; the slow chat's next question waits behind its edit (order per chat).
        assert TICK not in (slow.messages[0].text or "") and len(slow.messages) == 1
        processed = bot.query("SELECT count(*) AS n FROM inbox WHERE processed_at IS NOT NULL")
        assert processed[0]["n"] == 300  # 150 /start, 150 presses: all processed, each once
        assert len(stored_steps(bot, slow.id, "onboarding")) == 1


async def test_a_dead_sender_stops_the_bot_loudly(tmp_path: Path, monkeypatch, caplog):
    # A sender that died used to leave the bot polling while nothing was sent (refs #8).
    async def dies(self, stop) -> None:
        raise RuntimeError("a bug in the sender")

    monkeypatch.setattr(Sender, "run", dies)
    async with FakeBotApi() as api:
        settings = bot_settings(api.url, tmp_path / "bot.db")
        db = open_storage(settings)
        try:
            running = serve(settings, build_services(settings, db), asyncio.Event())
            with pytest.raises(TaskDied, match="sender"):
                await asyncio.wait_for(running, timeout=10)
        finally:
            db.close()
    assert "task.died task=sender error=RuntimeError" in caplog.text


async def test_a_coach_notification_is_sent_when_delivered_not_when_queued(tmp_path: Path):
    # notifications.sent_at used to be the time it was queued, true or not (refs #8).
    from .helpers import reflect
    from .test_coach import pair

    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=0.05, coach_ids="900") as bot:
        camille = bot.user(900, "Camille")
        await camille.send("/start")  # Telegram lets a bot write only to who started it
        await camille.wait_until(lambda: camille.messages)
        services = bot.services
        coach = services.conversation.user("telegram:900", "Camille", "fr")
        ana = services.conversation.user("telegram:5101", "Ana", "fr")
        pair(services, coach, ana)
        services.coach.set_notify(coach, True)
        session = reflect(services, ana)
        bot.fake_bot.fail_next(500, times=10_000, chat_id=900)
        clock.advance(minutes=11)  # the private window passes: the notification is queued
        await bot.fake_bot.wait_for_call("sendMessage", lambda r: not r.ok, timeout=10)
        [row] = bot.query("SELECT sent_at FROM notifications")
        assert row["sent_at"] is None  # queued and tried, not delivered
        bot.fake_bot.faults.clear()
        async with time_passing(clock, seconds_per_tick=2):  # the back-off waits pass
            await camille.wait_until(
                lambda: any(f"/read {session}" in (m.text or "") for m in camille.messages)
            )
            await wait_for(lambda: bot.query("SELECT sent_at FROM notifications")[0]["sent_at"])
        [row] = bot.query("SELECT handled_at, sent_at FROM notifications")
        assert row["sent_at"] > row["handled_at"]


async def test_a_chart_being_drawn_holds_no_other_chat(tmp_path: Path, monkeypatch):
    # /progress drew its chart inside the update's transaction: every other chat waited for
    # the drawing (0.1 to 1.5 s; 3 s here) before its own update could run (refs #8).
    import threading
    import time

    from bot import charts

    from .helpers import reflect

    drawing = threading.Event()
    real_chart = charts.mood_chart

    def slow_chart(*args, **kwargs):
        drawing.set()
        time.sleep(3.0)
        return real_chart(*args, **kwargs)

    monkeypatch.setattr(charts, "mood_chart", slow_chart)
    monkeypatch.setattr("bot.handlers.checkins.mood_chart", slow_chart, raising=False)
    async with harness(tmp_path) as bot:
        claire, ben = bot.user(8601, "Claire"), bot.user(8602, "Ben", language_code="en")
        reflect(bot.services, bot.conversation.user("telegram:8601", "Claire", "fr"))
        await claire.send("/progress")
        await wait_for(drawing.is_set, timeout=10)
        loop = asyncio.get_running_loop()
        asked = loop.time()
        await ben.send("/start")
        await ben.wait_until(lambda: ben.messages, timeout=10)
        assert loop.time() - asked < 1.5  # about 0.1 s: Ben did not wait for Claire's chart
        chart = await claire.wait_until(
            lambda: next((m for m in claire.messages if m.file), None), timeout=15
        )
        assert chart.file.data.startswith(b"\x89PNG")
        photos = "SELECT status, payload FROM outbox WHERE method = 'sendPhoto'"
        await wait_for(lambda: bot.query(photos)[0]["status"] == "sent")
        assert bot.query(photos)[0]["payload"] == "{}"  # the chart's data went with it


@contextlib.asynccontextmanager
async def time_passing(clock: FakeClock, seconds_per_tick: float):
    """The injected clock moves on by `seconds_per_tick` every 50 ms of real time."""

    async def run() -> None:
        while True:
            await asyncio.sleep(0.05)
            clock.advance(seconds=seconds_per_tick)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        task.cancel()


def _query(db_path: Path, sql: str) -> list[dict]:
    from storage.db import open_database

    db = open_database(db_path)
    try:
        return list(db.query(sql))
    finally:
        db.close()


def fill_the_inbox(db: Database) -> None:
    """Use up the room left in the file, inbox pages included (a row lands in any page with
    room), with processed rows no worker reads: the next update's write fails as on a full disk."""
    update_id = -1
    for size in (2048, 256, 32, 1):
        while True:
            try:
                with db.atomic():
                    db.execute(
                        "INSERT INTO inbox (update_id, chat_id, payload, received_at, processed_at)"
                        " VALUES (?, 0, ?, '', '')",
                        [update_id, "x" * size],
                    )
            except sqlite3.OperationalError:
                break
            update_id -= 1


async def test_a_question_shown_twice_is_ticked_on_the_copy_pressed(tmp_path: Path):
    # A send that timed out may still have reached Telegram: the sender sends it again and the
    # question shows twice. A press on the copy the bot did not record used to tick the other
    # one, leaving the pressed copy with its buttons (refs #8).
    async with harness(tmp_path) as bot:
        ana = bot.user(1301, "Ana", language_code="en")
        await onboard(bot, ana, "en")
        reflection = walk(ana, bot.playbook, "lost_client", "en")
        first = ask(bot.playbook, reflection.state)
        assert first is not None and not first.options  # typed: its reply is the next question
        # The reply is the section's introduction, then the question. The question's send is
        # held past PTB's 5 s read timeout: the call times out, the question arrives anyway.
        bot.fake_bot.delay_next(0, method="sendMessage", chat_id=ana.id)
        bot.fake_bot.delay_next(6, method="sendMessage", chat_id=ana.id)
        await ana.send("Acme")
        reflection.state, _ = advance(bot.playbook, reflection.state, Answer("Acme"))
        question = ask(bot.playbook, reflection.state)
        assert question is not None and question.options

        def copies() -> list | None:
            shown = [m for m in ana.messages if question.prompt in (m.text or "")]
            return shown if len(shown) == 2 else None

        shown = await ana.wait_until(copies, timeout=30)
        known = bot.query(
            "SELECT o.message_id FROM users AS u JOIN outbox AS o ON o.id = u.question_outbox_id "
            "WHERE u.key = ?",
            ["telegram:1301"],
        )[0]["message_id"]
        pressed = next(m for m in shown if m.message_id != known)
        await ana.wait_for_answer(await ana.press(pressed, question.options[0].label))
        await ana.wait_until(
            lambda: TICK in (message_by_id(ana, pressed.message_id).text or ""), timeout=10
        )
        assert not message_by_id(ana, pressed.message_id).button_texts
        assert stored_steps(bot, 1301, "lost_client") == [first.step, question.step]


async def test_resume_while_the_question_is_still_on_its_way_does_not_send_it_twice(
    tmp_path: Path,
):
    # Telegram refused the next question for a while; the manager, seeing nothing, typed
    # /resume: a second copy was queued behind the first, and both arrived (refs #8).
    async with harness(tmp_path) as bot:
        ana = bot.user(1302, "Ana", language_code="en")
        await onboard(bot, ana, "en")
        reflection = walk(ana, bot.playbook, "lost_client", "en")
        bot.fake_bot.fail_next(500, times=10_000, method="sendMessage", chat_id=ana.id)
        await ana.send("Acme")
        reflection.state, _ = advance(bot.playbook, reflection.state, Answer("Acme"))
        question = ask(bot.playbook, reflection.state)
        assert question is not None

        def pending() -> int:
            rows = bot.query(
                "SELECT count(*) AS n FROM inbox WHERE processed_at IS NULL AND chat_id = ?",
                [ana.id],
            )
            return int(rows[0]["n"])

        await ana.send("/resume")
        await wait_for(lambda: pending() == 0 and bot.fake_bot.calls("sendMessage"), timeout=10)
        bot.fake_bot.faults.clear()  # Telegram is back
        await ana.wait_until(
            lambda: any(question.prompt in (m.text or "") for m in ana.messages), timeout=30
        )
        await asyncio.sleep(1.5)  # a second copy would follow at once
        copies = [m for m in ana.messages if question.prompt in (m.text or "")]
        assert len(copies) == 1, [m.text for m in ana.messages]


async def test_resume_while_the_check_in_waits_behind_the_mornings_check_ins(tmp_path: Path):
    # /resume with the manager's own check-in queued behind 100 others (5 a second) got
    # nothing for 17 s: it queued nothing, and the check-in kept waiting (a trial, refs #8).
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    async with harness(
        tmp_path, clock=clock, checkin_tick_seconds=0.05, max_messages_per_second=5
    ) as bot:
        ana = bot.user(4101, "Ana")
        await onboard_and_set_up(bot, ana)
        mood = bot.playbook.flows["daily_checkin"].step_by_id["mood"].prompt.fr
        await asyncio.sleep(1.5)  # the budget refills after the set-up
        with sqlite3.connect(bot.settings.db_path) as db:
            now = clock.now.isoformat(timespec="milliseconds")
            db.executemany(
                "INSERT INTO outbox (kind, priority, chat_id, method, payload, not_before, "
                "deadline, status, attempts, created_at, updated_at) VALUES ('checkin', 3, ?, "
                "'sendMessage', ?, ?, '2999-01-01T00:00:00.000+00:00', 'pending', 0, ?, ?)",
                [
                    (9000 + n, f'{{"chat_id": {9000 + n}, "text": "x"}}', now, now, now)
                    for n in range(100)
                ],
            )
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris
        await wait_for(
            lambda: bot.query(
                "SELECT 1 FROM outbox WHERE chat_id = ? AND kind = 'checkin' "
                "AND status = 'pending'",
                [ana.id],
            ),
            timeout=5,
        )
        before = len(ana.messages)
        typed = asyncio.get_running_loop().time()
        await ana.send("/resume")
        await ana.wait_until(
            lambda: any(mood in (m.text or "") for m in ana.messages[before:]), timeout=20
        )
        assert asyncio.get_running_loop().time() - typed < 3
