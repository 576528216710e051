"""The manager's journey on Telegram, end to end through the fake Bot API (refs #11): the home,
the coach's welcome, /cancel's question and the way back, the skip button, /checkin's schedule,
/commitments, /quiet and the settings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.flows.engine import SKIP_OPTION, advance, ask
from bot.flows.state import Pick

from .e2e import BotHarness, harness, walk
from .helpers import FakeClock

pytestmark = pytest.mark.e2e

COACH = 900
TICK = 0.05


async def said(user, text: str, timeout: float = 10, after: int = 0):
    """The newest message holding `text` (newer than message `after`), once it arrived."""
    return await user.wait_until(
        lambda: next(
            (
                m
                for m in reversed(user.messages)
                if m.message_id > after and text in (m.text or m.caption or "")
            ),
            None,
        ),
        timeout=timeout,
    )


def last_id(user) -> int:
    return user.messages[-1].message_id if user.messages else 0


async def onboard(bot: BotHarness, user) -> None:
    await user.send("/start")
    await walk(
        user, bot.playbook, "onboarding", "fr", lambda a: "Non" if a.step == "ready" else ""
    ).to_the_end()


async def test_home_cancel_and_the_way_back_skip_commitments_checkin_quiet(tmp_path: Path):
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    async with harness(
        tmp_path, clock=clock, checkin_tick_seconds=TICK, coach_ids=str(COACH)
    ) as bot:
        ui = bot.playbook.ui
        claire = bot.user(6001, "Claire")
        await onboard(bot, claire)

        # A known manager with nothing in progress gets the home, one button per item
        seen = last_id(claire)
        await claire.send("/start")
        home = await said(claire, ui.home_title.fr, after=seen)
        assert home.button_texts == [
            ui.home_new.fr,
            ui.home_checkin_off.fr,
            "Vos réflexions terminées (0)",
            "Vos engagements (0 en cours)",
            ui.home_progress.fr,
            ui.home_settings.fr,
        ]
        await claire.wait_for_answer(await claire.press(home, ui.home_new.fr))
        reflection = walk(claire, bot.playbook, "lost_client", "fr")
        await reflection.answer()  # the client's name
        await reflection.answer()  # since when

        # /cancel asks first; "Keep it" keeps the reflection where it was
        seen = last_id(claire)
        await claire.send("/cancel")
        question = await said(claire, "Abandonner la réflexion en cours", after=seen)
        assert question.button_texts == [ui.cancel_confirm_button.fr, ui.cancel_keep_button.fr]
        keep = question.button(ui.cancel_keep_button.fr)["callback_data"]
        await claire.wait_for_answer(await claire.press(question, ui.cancel_keep_button.fr))
        await said(claire, ui.cancel_kept.fr, after=seen)
        expected = ask(bot.playbook, reflection.state)
        await said(claire, expected.prompt, after=seen)
        await claire.wait_until(lambda: question.button_texts == [])
        again = await claire.press_data(question, keep)  # a second tap on a choice made
        assert (await claire.wait_for_answer(again)).text == ui.button_inactive.fr

        # ...and "Drop it" drops it, the home then offers it back, and /resume restores it
        seen = last_id(claire)
        await claire.send("/cancel")
        question = await said(claire, "Abandonner la réflexion en cours", after=seen)
        await claire.wait_for_answer(await claire.press(question, ui.cancel_confirm_button.fr))
        await said(claire, ui.cancelled_restorable.fr, after=seen)
        seen = last_id(claire)
        await claire.send("/start")
        home = await said(claire, ui.home_title.fr, after=seen)
        assert home.button_texts[0] == ui.home_restore.fr
        seen = last_id(claire)
        await claire.send("/resume")
        back = await said(claire, expected.prompt, after=seen)
        assert ui.restored.fr in back.text

        # An optional question carries a Skip button, which skips it
        reflection.last_seen = seen
        while ask(bot.playbook, reflection.state).step != "meaning_note":
            await reflection.answer()
        optional = ask(bot.playbook, reflection.state)
        message = await reflection.question(optional)
        assert message.button_texts == [ui.skip_button.fr]
        await claire.wait_for_answer(await claire.press(message, ui.skip_button.fr))
        reflection.state, _ = advance(bot.playbook, reflection.state, Pick(SKIP_OPTION))
        await reflection.answer()  # the next question came: the skip was taken
        skipped = bot.query(
            "SELECT kind FROM answers WHERE step = 'meaning_note' ORDER BY id DESC LIMIT 1"
        )
        assert skipped == [{"kind": "skip"}]
        edited = next(m for m in claire.messages if m.message_id == message.message_id)
        assert edited.button_texts == [] and ui.skipped.fr in edited.text

        # /commitments, and /checkin shows the schedule before the choices
        seen = last_id(claire)
        await claire.send("/commitments")
        await said(claire, ui.commitments_empty.fr, after=seen)
        await claire.send("/pause")
        await said(claire, ui.paused.fr, after=seen)
        seen = last_id(claire)
        await claire.send("/checkin")
        schedule = await said(claire, ui.checkin_schedule_none.fr, after=seen)
        setup = bot.playbook.flows["checkin_setup"].first_step
        first = bot.playbook.flows["checkin_setup"].step_by_id[setup].prompt.fr
        choices = await said(claire, first, after=seen)
        assert choices.message_id > schedule.message_id

        # /quiet sets the quiet hours, and explains itself on a bad range
        seen = last_id(claire)
        await claire.send("/quiet 22:30-07:00")
        await said(claire, "22:30-07:00 (votre heure locale)", after=seen)
        seen = last_id(claire)
        await claire.send("/quiet tard le soir")
        await said(claire, "Vos heures calmes : 22:30-07:00", after=seen)
        user = bot.conversation.user("telegram:6001")
        assert bot.services.journey.quiet_hours(user) == "22:30-07:00"

        # A coach's /start gets the coach's welcome, not the manager's onboarding
        coach = bot.user(COACH, "Camille")
        await coach.send("/start")
        await said(coach, "Vous êtes coach sur Rebond")
        assert claire.unanswered_callback_queries == []
        assert coach.unanswered_callback_queries == []


async def test_the_home_history_commitments_and_progress_items(tmp_path: Path):
    async with harness(tmp_path) as bot:
        ui = bot.playbook.ui
        ben = bot.user(6002, "Ben")
        await ben.send("/start")
        await walk(
            ben, bot.playbook, "onboarding", "fr", lambda a: "Non" if a.step == "ready" else ""
        ).to_the_end()
        seen = last_id(ben)
        await ben.send("/start")
        home = await said(ben, ui.home_title.fr, after=seen)
        await ben.wait_for_answer(await ben.press(home, "Vos réflexions terminées (0)"))
        await said(ben, ui.history_empty.fr, after=seen)
        await ben.wait_for_answer(await ben.press(home, "Vos engagements (0 en cours)"))
        await said(ben, ui.commitments_empty.fr, after=seen)
        await ben.wait_for_answer(await ben.press(home, ui.home_progress.fr))
        await said(ben, ui.progress_empty.fr, after=seen)
        await ben.wait_for_answer(await ben.press(home, ui.home_checkin_off.fr))
        await said(ben, ui.checkin_schedule_none.fr, after=seen)
        # The settings item of the home: quiet hours, and the reminders turned off by a button
        user = bot.conversation.user("telegram:6002")
        await ben.wait_for_answer(await ben.press(home, ui.home_settings.fr))
        settings = await said(ben, "Heures calmes (aucun message) : 21:00-08:00", after=seen)
        stop = bot.playbook.nudges.stop_button.fr
        assert settings.button_texts == [stop]
        await ben.wait_for_answer(await ben.press(settings, stop))
        again = await said(ben, "Rappels d'une réflexion inachevée : Non", after=seen)
        assert bot.services.journey.nudges.stopped(user)
        assert again.button_texts == [ui.nudges_allow_button.fr]
        assert settings.button_texts == []  # the choice is made: its button went

        # A stale "resume" (nothing open) is refused kindly
        update = await ben.press_data(home, "m:::resume")
        assert (await ben.wait_for_answer(update)).text == ui.button_inactive.fr
