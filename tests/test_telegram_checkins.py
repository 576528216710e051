"""Check-ins end to end on Telegram: set up with buttons, sent at 09:00, answered, snoozed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.checkins import recent_checkins

from .e2e import BotHarness, harness, walk
from .helpers import FakeClock

pytestmark = pytest.mark.e2e

TICK = 0.05  # the scheduler's interval in these tests, seconds


async def onboard_and_set_up(bot: BotHarness, user) -> None:
    await user.send("/start")
    await walk(
        user, bot.playbook, "onboarding", "fr", lambda a: "Non" if a.step == "ready" else ""
    ).to_the_end()
    await user.send("/checkin")
    choices = {"checkin_action": "Tous les jours", "checkin_time": "09:00", "checkin_zone": "Paris"}
    setup = walk(user, bot.playbook, "checkin_setup", "fr", lambda a: choices.get(a.step, ""))
    await setup.to_the_end()
    await user.wait_until(lambda: message_with(user, "C'est noté : un point à 09:00"))


def message_with(user, text: str):
    return next((m for m in reversed(user.messages) if text in (m.text or m.caption or "")), None)


async def test_a_checkin_arrives_at_nine_and_is_answered_with_buttons(tmp_path: Path):
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=TICK) as bot:
        claire = bot.user(4001, "Claire")
        await onboard_and_set_up(bot, claire)
        mood = bot.playbook.flows["daily_checkin"].step_by_id["mood"].prompt.fr
        claire.skip_messages()
        await claire.expect_silence(within=4 * TICK)
        assert message_with(claire, mood) is None  # 08:00 in Paris: not yet

        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris
        question = await claire.wait_until(lambda: message_with(claire, mood))
        assert bot.playbook.ui.later_button.fr in question.button_texts
        await claire.wait_for_answer(await claire.press(question, "4"))
        progress = await claire.wait_until(lambda: message_with(claire, "Où en êtes-vous"))
        await claire.wait_for_answer(await claire.press(progress, "En cours"))
        await claire.wait_until(lambda: message_with(claire, "Un fait d'aujourd'hui"))
        await claire.send("Un client m'a remercié")
        await claire.wait_until(lambda: message_with(claire, "Continuez à votre rythme"))

        user = bot.conversation.user("telegram:4001")
        [today] = recent_checkins(bot.conversation.db, user.id)
        assert (today.local_date, today.status) == ("2026-11-26", "answered")

        clock.advance(hours=1)  # nothing more today
        claire.skip_messages()
        await claire.expect_silence(within=4 * TICK)
        assert sum(mood in (m.text or "") for m in claire.messages) == 1

        await claire.send("/progress")
        chart = await claire.wait_until(lambda: next((m for m in claire.messages if m.file), None))
        assert chart.file.data.startswith(b"\x89PNG")
        assert chart.caption.startswith(
            "1 point du jour sur 30 jours, humeur moyenne 4,0/5, série en cours : 1 jour"
        )
        assert claire.unanswered_callback_queries == []


async def test_later_asks_again_an_hour_after_once(tmp_path: Path):
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=TICK) as bot:
        ana = bot.user(4002, "Ana")
        await onboard_and_set_up(bot, ana)
        mood = bot.playbook.flows["daily_checkin"].step_by_id["mood"].prompt.fr
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        first = await ana.wait_until(lambda: message_with(ana, mood))
        await ana.wait_for_answer(await ana.press(first, bot.playbook.ui.later_button.fr))
        await ana.wait_until(lambda: message_with(ana, bot.playbook.ui.checkin_snoozed.fr))
        clock.advance(minutes=59)
        ana.skip_messages()
        await ana.expect_silence(within=4 * TICK)
        clock.advance(minutes=1)
        await ana.wait_until(lambda: sum(mood in (m.text or "") for m in ana.messages) == 2)
        again = message_with(ana, mood)
        assert bot.playbook.ui.later_button.fr not in again.button_texts  # once only


@pytest.mark.parametrize("how", ["my_chat_member", "403 on the check-in"])
async def test_a_user_who_blocked_the_bot_gets_no_more_checkins(tmp_path: Path, how: str):
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=TICK) as bot:
        ben = bot.user(4003, "Ben")
        await onboard_and_set_up(bot, ben)
        if how == "my_chat_member":
            ben.block()
        else:
            bot.fake_bot.fail_next(403, method="sendMessage")
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
        user = bot.conversation.user("telegram:4003")

        def settings_off() -> bool:
            settings = bot.services.checkins.settings(user)
            return settings is not None and not settings.enabled

        await ben.wait_until(settings_off, timeout=10)
        assert bot.conversation.user("telegram:4003").blocked_at is not None
        clock.advance(days=1)
        ben.skip_messages()
        await ben.expect_silence(within=4 * TICK)
