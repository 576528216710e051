"""The manager's journey on Telegram, end to end through the fake Bot API (refs #11): the home,
the coach's welcome, /cancel's question and the way back, the skip button, /checkin's schedule,
/commitments, /quiet and the settings."""

from __future__ import annotations

import asyncio
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
    await said(user, "Revenez quand vous voulez")  # its last words: nothing more to come


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


def with_buttons(user, labels: list[str], after: int = 0):
    """The newest message after `after` whose buttons are `labels`, if any."""
    return next(
        (m for m in reversed(user.messages) if m.message_id > after and m.button_texts == labels),
        None,
    )


async def test_reminders_of_an_unfinished_reflection_after_one_and_three_days(tmp_path: Path):
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))  # 10:00 in Paris
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=TICK) as bot:
        nudges = bot.playbook.nudges
        buttons = [nudges.resume_button.fr, nudges.stop_button.fr]
        claire = bot.user(6101, "Claire")
        await onboard(bot, claire)
        await claire.send("/reflect")
        reflection = walk(claire, bot.playbook, "lost_client", "fr")
        await reflection.answer()  # then nothing: the manager went quiet
        await claire.send("/quiet 09:00-12:00")  # mornings quiet, in Paris
        await said(claire, "09:00-12:00 (votre heure locale)")

        clock.advance(hours=23, minutes=59)
        claire.skip_messages()
        await claire.expect_silence(within=6 * TICK)
        clock.now = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)  # a day on, 12:00 in Paris
        first = await claire.wait_until(lambda: with_buttons(claire, buttons), timeout=10)
        assert "Les faits" in first.text  # where it stopped
        await claire.wait_until(
            lambda: (
                bot.query("SELECT status FROM outbox WHERE subject = 'nudge:2.1'")
                == [{"status": "sent"}]
            )
        )
        assert bot.query("SELECT sent_at FROM nudges") == [
            {"sent_at": "2026-11-27T11:00:00.000+00:00"}
        ]
        clock.advance(hours=5)
        claire.skip_messages()
        await claire.expect_silence(within=6 * TICK)  # one a day at most

        await claire.wait_for_answer(await claire.press(first, nudges.resume_button.fr))
        expected = ask(bot.playbook, reflection.state)
        await said(claire, expected.prompt, after=first.message_id)
        await claire.wait_until(lambda: first.button_texts == [])

        clock.now = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)  # three days on: 10:30, quiet
        claire.skip_messages()
        await claire.expect_silence(within=6 * TICK)
        clock.now = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)  # quiet hours over
        second = await claire.wait_until(
            lambda: with_buttons(claire, buttons, after=first.message_id), timeout=10
        )
        await claire.wait_for_answer(await claire.press(second, nudges.stop_button.fr))
        await said(claire, nudges.stopped.fr, after=second.message_id)
        user = bot.conversation.user("telegram:6101")
        assert bot.services.journey.nudges.stopped(user)

        clock.advance(days=10)  # then nothing
        claire.skip_messages()
        await claire.expect_silence(within=6 * TICK)
        assert len(bot.query("SELECT id FROM nudges")) == 2
        assert claire.unanswered_callback_queries == []


async def test_a_reminder_that_could_not_be_delivered_before_quiet_hours_comes_after(
    tmp_path: Path,
):
    clock = FakeClock(datetime(2026, 11, 26, 19, 0, tzinfo=UTC))  # 20:00 in Paris
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=TICK) as bot:
        claire = bot.user(6102, "Claire")
        await onboard(bot, claire)
        await claire.send("/reflect")
        await walk(claire, bot.playbook, "lost_client", "fr").answer()
        claire.skip_messages()
        bot.fake_bot.fail_next(500, method="sendMessage", times=1000, chat_id=6102)  # down
        clock.now = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # a day on, 20:30 in Paris
        await claire.wait_until(lambda: len(bot.query("SELECT id FROM nudges")) == 1)
        clock.now = datetime(2026, 11, 27, 20, 1, tzinfo=UTC)  # 21:01: quiet, not delivered
        await claire.wait_until(
            lambda: (
                bot.query("SELECT status FROM outbox WHERE subject LIKE 'nudge:%'")
                == [{"status": "expired"}]
            ),
            timeout=10,
        )
        assert bot.query("SELECT id FROM nudges") == []  # never sent: due again
        bot.fake_bot.faults.clear()  # Telegram is back
        clock.now = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # 07:00: still quiet
        await claire.expect_silence(within=6 * TICK)
        clock.now = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # 08:00
        nudges = bot.playbook.nudges
        buttons = [nudges.resume_button.fr, nudges.stop_button.fr]
        await claire.wait_until(lambda: with_buttons(claire, buttons), timeout=10)
        assert bot.query("SELECT sent_at FROM nudges") == [
            {"sent_at": "2026-11-28T07:00:00.000+00:00"}
        ]


async def test_a_commitment_is_asked_about_on_its_due_day_outside_quiet_hours(tmp_path: Path):
    from storage.journey import add_commitment, commitments_of

    clock = FakeClock(datetime(2026, 11, 27, 21, 30, tzinfo=UTC))  # 22:30 in Paris
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=TICK) as bot:
        dan = bot.user(6201, "Dan")
        await onboard(bot, dan)
        user = bot.conversation.user("telegram:6201")
        add_commitment(
            bot.conversation.db,
            user.id,
            None,
            "first_step",
            "Appeler Paul",
            "samedi",
            "2026-11-28",
            "2026-11-27T21:30:00+00:00",
        )
        dan.skip_messages()
        await dan.expect_silence(within=6 * TICK)  # due tomorrow
        clock.now = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # its day, 07:00: quiet hours
        await dan.expect_silence(within=6 * TICK)
        clock.now = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # 08:00
        question = await said(dan, "Appeler Paul")
        assert "Où en êtes-vous" in question.text
        assert question.button_texts[:2] == ["C'est fait", "En cours"]
        await dan.wait_for_answer(await dan.press(question, "En cours"))
        await dan.wait_until(
            lambda: (
                [c.status for c in commitments_of(bot.conversation.db, user.id)] == ["in_progress"]
            )
        )
        await said(dan, "Continuez à votre rythme", after=question.message_id)
        clock.advance(hours=2)
        dan.skip_messages()
        await dan.expect_silence(within=6 * TICK)  # asked once that day
        assert dan.unanswered_callback_queries == []


async def test_the_manager_replies_to_the_coach_and_the_coach_answers(tmp_path: Path):
    from .helpers import reflect
    from .test_telegram_coach import pair_through_telegram

    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    async with harness(
        tmp_path, clock=clock, checkin_tick_seconds=TICK, coach_ids=str(COACH)
    ) as bot:
        ui = bot.playbook.ui
        coach = bot.user(COACH, "Camille")
        claire = bot.user(6301, "Claire")
        await pair_through_telegram(bot, coach, claire)
        user = bot.conversation.user("telegram:6301")
        shared = reflect(bot.services, user, "Acme")
        clock.advance(minutes=11)  # past the window to keep it private

        # /read shows the reflection's commitments
        seen = last_id(coach)
        await coach.send(f"/read {shared}")
        transcript = await said(coach, ui.coach_commitments_title.fr, after=seen)
        assert "Réponse à first_step" in transcript.text

        # Feedback comes with a Reply button; the manager's reply reaches the coach, labelled
        seen = last_id(claire)
        await coach.send(f"/feedback {shared} Bravo pour la lucidité")
        feedback = await said(claire, "Bravo pour la lucidité", after=seen)
        assert feedback.button_texts == [ui.reply_button.fr]
        await claire.wait_for_answer(await claire.press(feedback, ui.reply_button.fr))
        await said(claire, "Écrivez votre réponse à Camille", after=seen)
        await claire.send("Merci, je l'appelle jeudi")
        await said(claire, "C'est transmis à Camille", after=seen)
        received = await said(coach, "Merci, je l'appelle jeudi")
        assert "Claire vous répond au sujet de sa réflexion" in received.text
        assert f"/reply {shared}" in received.text

        # The coach's /reply reaches the manager, who may reply again
        seen = last_id(claire)
        await coach.send(f"/reply {shared} Très bien, tenez-moi au courant")
        await said(coach, "Réponse envoyée à Claire")
        answer = await said(claire, "Très bien, tenez-moi au courant", after=seen)
        assert "Votre coach Camille vous répond" in answer.text
        assert answer.button_texts == [ui.reply_button.fr]
        await claire.wait_until(
            lambda: (
                bot.query("SELECT count(*) AS n FROM coach_thread WHERE delivered_at IS NULL")
                == [{"n": 0}]
            )
        )  # both delivered, and recorded so once Telegram took them

        # A command typed after "Reply" moves on: the next text is no reply
        await claire.wait_for_answer(await claire.press(answer, ui.reply_button.fr))
        await said(claire, "Écrivez votre réponse à Camille", after=answer.message_id)
        await claire.send("/history")
        history = await said(claire, "Votre réponse :", after=answer.message_id)
        assert "Merci, je l'appelle jeudi" in history.text
        assert "Très bien, tenez-moi au courant" in history.text
        assert bot.services.thread.pending(user) is None

        # A message stored while it could not be sent goes out with the scheduler's tick
        coach_user = bot.conversation.user(f"telegram:{COACH}")
        seen = last_id(claire)
        bot.services.thread.coach_reply(coach_user, shared, "Et la suite ?", key="test:1")
        await said(claire, "Et la suite ?", after=seen)
        await claire.wait_until(
            lambda: (
                bot.query("SELECT count(*) AS n FROM coach_thread WHERE delivered_at IS NULL")
                == [{"n": 0}]
            )
        )
        assert sum("Et la suite ?" in (m.text or "") for m in claire.messages) == 1
        assert claire.unanswered_callback_queries == []
        assert coach.unanswered_callback_queries == []


async def test_the_keep_private_offer_waits_for_the_checkin_setup_it_led_to(tmp_path: Path):
    from .test_telegram_coach import pair_through_telegram

    async with harness(tmp_path, coach_ids=str(COACH)) as bot:
        coach = bot.user(COACH, "Camille")
        claire = bot.user(6401, "Claire")
        await pair_through_telegram(bot, coach, claire)
        await claire.send("/reflect")
        reflection = walk(
            claire,
            bot.playbook,
            "lost_client",
            "fr",
            lambda a: "Oui" if a.step == "checkin_offer" else "",
        )
        await reflection.to_the_end()
        offer = "verra cette réflexion dans 10 minutes"
        choices = {
            "checkin_action": "Tous les jours",
            "checkin_time": "09:00",
            "checkin_zone": "Paris",
        }
        setup = walk(claire, bot.playbook, "checkin_setup", "fr", lambda a: choices.get(a.step, ""))
        setup.last_seen = reflection.last_seen
        await setup.answer()  # one question at a time: no offer beside the set-up's
        assert not any(offer in (m.text or "") for m in claire.messages)
        await setup.to_the_end()
        shown = await said(claire, offer)
        assert shown.button_texts == ["Garder privée", "Partager maintenant"]


async def test_the_command_menu_follows_the_language_chosen(tmp_path: Path):
    async with harness(tmp_path, coach_ids=str(COACH)) as bot:
        described = bot.playbook.ui.commands
        claire = bot.user(6501, "Claire")  # a French Telegram app
        coach = bot.user(COACH, "Camille")
        for user in (claire, coach):
            await user.send("/language")
            choice = await said(user, bot.playbook.ui.language_prompt.fr)
            await user.wait_for_answer(await user.press(choice, "English"))
            await said(user, bot.playbook.ui.language_set.en)

        def menu(chat_id: int, code: str) -> dict[str, str]:
            scope = {"type": "chat", "chat_id": chat_id}
            found = bot.fake_bot.get_commands(scope=scope, language_code=code)
            return {c["command"]: c["description"] for c in found}

        english = described["reflect"].en
        for code in ("", "fr", "en"):
            mine = await claire.wait_until(
                lambda code=code: menu(6501, code).get("reflect") == english and menu(6501, code)
            )
            assert mine["commitments"] == described["commitments"].en
            assert "read" not in mine  # a manager's menu
            theirs = await coach.wait_until(
                lambda code=code: menu(COACH, code).get("reflect") == english and menu(COACH, code)
            )
            assert theirs["reply"] == described["reply"].en and "quiet" in theirs
        # the menus of everyone else stay in their app's language
        default_fr = bot.fake_bot.get_commands(language_code="fr")
        assert {c["command"]: c["description"] for c in default_fr}["reflect"] == (
            described["reflect"].fr
        )


@pytest.mark.slow
async def test_thirty_days_on_telegram_none_in_quiet_hours(tmp_path: Path):
    """A manager's 30 days played through Telegram every 3 hours: reminders of the reflection
    left unfinished, commitment questions on their due days (check-ins off), each answered
    "in progress". `pytest -s` prints the unasked messages received per local day."""
    from collections import Counter
    from zoneinfo import ZoneInfo

    from bot.journey.quiet import is_quiet

    from .test_journey import reflect

    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Paris, day 0
    clock = FakeClock(start)
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=TICK) as bot:
        ben = bot.user(6601, "Ben")
        await onboard(bot, ben)
        user = bot.conversation.user("telegram:6601")
        reflect(bot.services, user)  # commitments due on 28 and 30 November
        await ben.send("/reflect")
        await walk(ben, bot.playbook, "lost_client", "fr").answer()  # then he stops
        answered: set[int] = set()
        journey = bot.services.journey

        async def settled() -> None:
            # Rather than sleeping a few ticks and hoping (slow, and flaky on a loaded machine),
            # wait until nothing is due at this moment and everything queued was delivered.
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 10
            while (
                journey.nudges.due()
                or journey.commitments.reminders_due()
                or bot.query("SELECT 1 FROM outbox WHERE status = 'pending' LIMIT 1")
            ):
                assert loop.time() < give_up, f"still something due or pending at {clock()}"
                await asyncio.sleep(TICK / 5)

        for _ in range(30 * 8):
            clock.advance(hours=3)
            await settled()
            for message in list(ben.messages):
                asked = "Où en êtes-vous" in (message.text or "")
                if asked and message.message_id not in answered and message.button_texts:
                    answered.add(message.message_id)
                    await ben.wait_for_answer(await ben.press(message, "En cours"))
                    await said(ben, "Continuez à votre rythme", after=message.message_id)
        await ben.wait_until(
            lambda: (
                bot.query("SELECT count(*) AS n FROM outbox WHERE status = 'pending'") == [{"n": 0}]
            )
        )
        sent = bot.query(
            "SELECT subject, updated_at FROM outbox WHERE status = 'sent' "
            "AND (subject LIKE 'nudge:%' OR subject LIKE 'commitment:%') ORDER BY id"
        )
        moments = [datetime.fromisoformat(row["updated_at"]) for row in sent]
        assert not [m for m in moments if is_quiet(m, "Europe/Paris", "21:00-08:00")]
        day0 = start.astimezone(paris).date()
        per_day = Counter((m.astimezone(paris).date() - day0).days for m in moments)
        kinds = Counter(row["subject"].partition(":")[0] for row in sent)
        print("\nBen on Telegram, unasked messages per day (0 to 29):")
        print(" ".join(str(per_day.get(day, 0)) for day in range(30)))
        print(f"by kind: {dict(kinds)}")
        assert kinds["nudge"] == 2
        assert per_day[1] >= 1 and per_day[3] >= 1  # the reminders, after one and three days
        assert max(per_day.values()) <= 2
        assert kinds["commitment"] >= 8  # asked again every 3 days while in progress
