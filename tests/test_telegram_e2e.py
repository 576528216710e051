"""Rebond on Telegram, end to end: the real bot, real HTTP, the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.flows.engine import ask
from bot.flows.state import Ask

from .e2e import BotHarness, harness, message_by_id, walk

pytestmark = pytest.mark.e2e

REFRAMING = {
    "guilt_first": "our_fault",  # takes the reframing branch of the guilt trap
    "asked_why": "not_yet",
}


def choose_by_id(wanted: dict[str, str]):
    """A chooser that picks option ids by step, else the first option."""

    def choose(ask: Ask) -> str:
        option_id = wanted.get(ask.step)
        for option in ask.options:
            if option.id == option_id:
                return option.label
        return ""

    return choose


async def onboard(bot: BotHarness, user, lang: str) -> None:
    await user.send("/start")
    onboarding = walk(user, bot.playbook, "onboarding", lang, choose_by_id({"language": lang}))
    await onboarding.to_the_end()


def stored_steps(bot: BotHarness, user_id: int, flow: str) -> list[str]:
    return [
        row["step"]
        for row in bot.query(
            "SELECT answers.step FROM answers JOIN sessions ON sessions.id = answers.session_id "
            "JOIN users ON users.id = sessions.user_id WHERE users.key = ? AND sessions.flow = ? "
            "ORDER BY answers.id",
            [f"telegram:{user_id}", flow],
        )
    ]


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_a_whole_reflection_with_buttons_and_text(tmp_path: Path, lang: str):
    async with harness(tmp_path) as bot:
        claire = bot.user(1001, "Claire", language_code=lang)
        await onboard(bot, claire, lang)
        reflection = walk(claire, bot.playbook, "lost_client", lang, choose_by_id(REFRAMING))
        done = await reflection.to_the_end()

        summary = await claire.wait_until(
            lambda: next((m for m in claire.messages if done.title in (m.text or "")), None)
        )
        for line in done.lines:
            assert line in summary.text
        assert "reframe_client_situation" in reflection.answered
        assert stored_steps(bot, 1001, "lost_client") == reflection.answered
        assert claire.unanswered_callback_queries == []
        answered = [
            m
            for m in claire.messages
            if (m.text or "").endswith(tuple(f"✓ {label}" for label in ["Oui", "Yes"]))
        ]
        assert answered, "answered questions show the answer and lose their keyboard"
        assert all(not m.button_texts for m in answered)
        session = bot.query("SELECT status, summary FROM sessions WHERE flow = 'lost_client'")[0]
        assert session["status"] == "completed"
        assert json.loads(session["summary"])["lines"] == list(done.lines)


async def test_the_command_menu_is_published_in_french_and_english(tmp_path: Path):
    async with harness(tmp_path) as bot:
        english = [c["command"] for c in bot.fake_bot.get_commands()]
        french = bot.fake_bot.get_commands(language_code="fr")
        assert english[:3] == ["start", "reflect", "resume"]
        assert "help" in english and len(english) == len(french)
        assert french[1]["description"] == bot.playbook.ui.commands["reflect"].fr


async def test_stale_forged_and_repeated_buttons_change_nothing(tmp_path: Path):
    async with harness(tmp_path) as bot:
        claire = bot.user(1002, "Claire")
        mallory = bot.user(1003, "Mallory")
        await onboard(bot, claire, "fr")
        reflection = walk(claire, bot.playbook, "lost_client", "fr")
        await reflection.answer()  # client, typed
        question = await reflection.question(ask(bot.playbook, reflection.state))
        buttons = list(question.callback_data)

        # twenty taps on one button: one answer, nineteen "no longer active"
        taps = await asyncio.gather(*[claire.press_data(question, buttons[0]) for _ in range(20)])
        answers = [await claire.wait_for_answer(tap) for tap in taps]
        refused = [a for a in answers if a.text == bot.playbook.ui.button_inactive.fr]
        assert len(refused) == 19
        assert stored_steps(bot, 1002, "lost_client") == ["client", "since_when"]

        # a stale button of that question, pressed later
        stale = await claire.press_data(question, buttons[1])
        assert (await claire.wait_for_answer(stale)).text == bot.playbook.ui.button_inactive.fr

        # Mallory forges Claire's current button data from his own chat
        await mallory.send("/start")
        own = await mallory.next_message()
        current = await claire.wait_until(
            lambda: next((m for m in reversed(claire.messages) if m.button_texts), None)
        )
        for data in [*current.callback_data, "q:1:999999:our_fault", "nonsense", "q:::"]:
            forged = await mallory.press_data(own, data)
            answer = await mallory.wait_for_answer(forged)
            assert answer.text in (
                bot.playbook.ui.button_inactive.fr,
                bot.playbook.ui.button_inactive.en,
            )
        assert stored_steps(bot, 1002, "lost_client") == ["client", "since_when"]
        assert stored_steps(bot, 1003, "onboarding") == []

        # a sticker or a photo at a question gets a kind reprompt and changes nothing
        await claire.send_sticker()
        reprompt = await claire.wait_until(
            lambda: next(
                (m for m in claire.messages if m.text == bot.playbook.ui.unsupported_media.fr),
                None,
            )
        )
        assert reprompt is not None
        await claire.send_photo()
        await claire.wait_until(
            lambda: (
                sum(m.text == bot.playbook.ui.unsupported_media.fr for m in claire.messages) == 2
            )
        )
        assert stored_steps(bot, 1002, "lost_client") == ["client", "since_when"]
        assert claire.unanswered_callback_queries == []
        assert mallory.unanswered_callback_queries == []


async def test_sends_hit_by_429_are_all_delivered(tmp_path: Path):
    async with harness(tmp_path) as bot:
        bot.fake_bot.fail_next(429, times=3, method="sendMessage", retry_after=1)
        claire = bot.user(1004, "Claire")
        await onboard(bot, claire, "fr")
        reflection = walk(claire, bot.playbook, "lost_client", "fr")
        for _ in range(3):
            await reflection.answer()
        refused = bot.fake_bot.count("sendMessage", ok=False)
        assert refused == 3
        assert stored_steps(bot, 1004, "lost_client") == reflection.answered


async def test_a_user_who_blocked_the_bot_is_marked_until_they_write_again(tmp_path: Path):
    async with harness(tmp_path) as bot:
        claire = bot.user(1005, "Claire")
        await onboard(bot, claire, "fr")

        def blocked() -> object:
            return bot.query("SELECT blocked_at FROM users WHERE key = 'telegram:1005'")[0][
                "blocked_at"
            ]

        bot.fake_bot.fail_next(403, method="sendMessage")
        await claire.send("/help")
        await claire.wait_until(blocked, timeout=10)
        await claire.send("/help")  # writing again makes them reachable
        await claire.wait_until(lambda: blocked() is None, timeout=10)
        await claire.wait_until(
            lambda: claire.messages[-1].text == bot.playbook.ui.help_telegram.fr
        )
        claire.block()  # Telegram's my_chat_member update
        await claire.wait_until(blocked, timeout=10)


async def test_two_managers_interleaved_see_only_their_own_questions(tmp_path: Path):
    async with harness(tmp_path) as bot:
        ana = bot.user(1006, "Ana")
        ben = bot.user(1007, "Ben", language_code="en")
        await asyncio.gather(onboard(bot, ana, "fr"), onboard(bot, ben, "en"))
        names = {"ana": "<Acme & Fils>", "ben": "Globex <b>Corp</b>"}
        ana_walk = walk(
            ana,
            bot.playbook,
            "lost_client",
            "fr",
            lambda a: names["ana"] if a.step == "client" else "",
        )
        ben_walk = walk(
            ben,
            bot.playbook,
            "lost_client",
            "en",
            lambda a: names["ben"] if a.step == "client" else "",
        )
        for _ in range(4):
            await asyncio.gather(ana_walk.answer(), ben_walk.answer())
        ana_text = " ".join(m.text or "" for m in ana.messages)
        ben_text = " ".join(m.text or "" for m in ben.messages)
        assert names["ana"] in ana_text and names["ben"] not in ana_text
        assert names["ben"] in ben_text and names["ana"] not in ben_text
        assert stored_steps(bot, 1006, "lost_client") == ana_walk.answered
        assert stored_steps(bot, 1007, "lost_client") == ben_walk.answered


async def test_editing_the_last_answer_updates_it(tmp_path: Path):
    async with harness(tmp_path) as bot:
        claire = bot.user(1008, "Claire")
        await onboard(bot, claire, "fr")
        reflection = walk(claire, bot.playbook, "lost_client", "fr", lambda a: "Acme")
        await reflection.answer()  # client: "Acme"
        question = await reflection.question(ask(bot.playbook, reflection.state))
        assert "Acme" in question.text
        typed = next(m for m in claire.history if not m.from_bot and m.text == "Acme")
        await claire.edit(typed, "Globex")
        await claire.wait_until(lambda: "Globex" in message_by_id(claire, question.message_id).text)
        assert any(m.text == bot.playbook.ui.answer_updated.fr for m in claire.messages)
        rows = bot.query("SELECT kind, raw_text FROM answers WHERE step = 'client' ORDER BY id")
        assert [(r["kind"], r["raw_text"]) for r in rows] == [
            ("answer", "Acme"),
            ("amend", "Globex"),
        ]
        state = json.loads(
            bot.query("SELECT state FROM sessions WHERE flow = 'lost_client'")[0]["state"]
        )
        assert state["answers"]["client"] == "Globex"


async def test_reflect_during_a_reflection_offers_to_resume_or_restart(tmp_path: Path):
    async with harness(tmp_path) as bot:
        claire = bot.user(1009, "Claire")
        await onboard(bot, claire, "fr")
        reflection = walk(claire, bot.playbook, "lost_client", "fr")
        await reflection.answer()
        await claire.send("/reflect")
        offer = await claire.wait_until(
            lambda: next(
                (m for m in claire.messages if m.text == bot.playbook.ui.reflection_in_progress.fr),
                None,
            )
        )
        await claire.wait_for_answer(await claire.press(offer, bot.playbook.ui.restart_button.fr))
        first = bot.playbook.flows["lost_client"].step_by_id["client"].prompt.fr
        await claire.wait_until(lambda: sum(first in (m.text or "") for m in claire.messages) == 2)
        statuses = [
            r["status"]
            for r in bot.query("SELECT status FROM sessions WHERE flow = 'lost_client' ORDER BY id")
        ]
        assert statuses == ["abandoned", "active"]


async def test_commands_back_pause_resume_history_language(tmp_path: Path):
    async with harness(tmp_path) as bot:
        claire = bot.user(1010, "Claire")
        ui = bot.playbook.ui
        await claire.send("/history")
        assert (await claire.next_message()).text == ui.history_empty.fr
        await onboard(bot, claire, "fr")
        reflection = walk(claire, bot.playbook, "lost_client", "fr", lambda a: "Acme")
        await reflection.answer()
        await claire.send("/back")
        back = await claire.wait_until(
            lambda: next(
                (
                    m
                    for m in reversed(claire.messages)
                    if "Acme" in (m.text or "") and ui.previous_answer.fr in (m.text or "")
                ),
                None,
            )
        )
        assert back is not None
        await claire.send("/pause")
        await claire.wait_until(lambda: claire.messages[-1].text == ui.paused.fr)
        await claire.send("/resume")
        await claire.wait_until(lambda: any(m.text == ui.resumed.fr for m in claire.messages))
        await claire.send("/language")
        choice = await claire.wait_until(
            lambda: next(
                (m for m in reversed(claire.messages) if m.button_texts == ["Français", "English"]),
                None,
            )
        )
        await claire.wait_for_answer(await claire.press(choice, "English"))
        await claire.wait_until(lambda: any(m.text == ui.language_set.en for m in claire.messages))
        english_prompt = bot.playbook.flows["lost_client"].step_by_id["client"].prompt.en
        await claire.wait_until(lambda: english_prompt in (claire.messages[-1].text or ""))
        await claire.send("/cancel")  # asks first (refs #11)
        confirm = await claire.wait_until(
            lambda: next(
                (m for m in claire.messages if ui.cancel_confirm_button.en in m.button_texts), None
            )
        )
        await claire.wait_for_answer(await claire.press(confirm, ui.cancel_confirm_button.en))
        await claire.wait_until(lambda: claire.messages[-1].text == ui.cancelled_restorable.en)
        await claire.send("/nonsense")
        await claire.wait_until(lambda: "/nonsense" in (claire.messages[-1].text or ""))
        assert "/help" in claire.messages[-1].text


async def distressed_at_the_first_question(bot: BotHarness, user):
    """Onboard `user` in English, then answer the first question with words of distress."""
    await onboard(bot, user, "en")
    reflection = walk(user, bot.playbook, "lost_client", "en")
    await reflection.question(ask(bot.playbook, reflection.state))
    user.skip_messages()
    await user.send("I want to die")
    return await user.wait_until(
        lambda: next((m for m in reversed(user.messages) if m.button_texts), None)
    )


async def test_the_safety_offer_pauses_or_shows_the_question_again(tmp_path: Path):
    async with harness(tmp_path) as bot:
        ui = bot.playbook.ui
        claire = bot.user(1011, "Claire", language_code="en")
        offer = await distressed_at_the_first_question(bot, claire)
        assert list(offer.button_texts) == ["Pause here", "Go on"]
        pause_data = next(iter(offer.callback_data))
        await claire.wait_for_answer(await claire.press(offer, "Go on"))
        question = await claire.wait_until(
            lambda: next((m for m in claire.messages if m.message_id > offer.message_id), None)
        )
        assert question.text != ui.paused.en and question.text
        assert stored_steps(bot, 1011, "lost_client") == ["client"]
        again = await claire.press_data(offer, pause_data)  # its buttons are gone: a repeat
        assert (await claire.wait_for_answer(again)).text == ui.button_inactive.en

        ben = bot.user(1012, "Ben", language_code="en")
        offer = await distressed_at_the_first_question(bot, ben)
        await ben.wait_for_answer(await ben.press(offer, "Pause here"))
        await ben.wait_until(
            lambda: next((m for m in ben.messages if m.text == ui.paused.en), None)
        )
        status = bot.query(
            "SELECT sessions.status FROM sessions JOIN users ON users.id = sessions.user_id "
            "WHERE users.key = ? AND sessions.flow = 'lost_client'",
            ["telegram:1012"],
        )
        assert [row["status"] for row in status] == ["paused"]
