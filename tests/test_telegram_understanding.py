"""What a manager types on Telegram, end to end (refs #9, section 2): one answer per intent.

A paste Telegram split in two, an album, stickers and service messages, deep links, groups,
superseded buttons, unknown and edited commands, and edited answers through the safety net.
The fake Bot API's clock is the test's, so "within a second" and "later" are exact.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.flows.engine import advance, ask, start
from bot.flows.state import Answer, Invalid

from .e2e import TOKEN, BotHarness, bot_running, bot_settings, walk
from .fakebotapi import FakeBotApi
from .test_telegram_e2e import onboard, stored_steps

pytestmark = pytest.mark.e2e


class Seconds:
    """The fake Telegram's clock (message dates): moved by hand."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now

    def later(self, seconds: float = 5) -> None:
        self.now += seconds


@contextlib.asynccontextmanager
async def chat(tmp_path: Path) -> AsyncIterator[tuple[BotHarness, Seconds]]:
    clock = Seconds()
    async with FakeBotApi(now=clock) as api:
        settings = bot_settings(api.url, tmp_path / "bot.db")
        async with bot_running(api, settings) as services:
            yield BotHarness(api, settings, services.conversation, services), clock


async def at_the_client_question(bot: BotHarness, user, lang: str = "fr"):
    """Onboard `user`, then wait for the reflection's first question (the client, 80 max)."""
    await onboard(bot, user, lang)
    reflection = walk(user, bot.playbook, "lost_client", lang)
    question = await reflection.question(ask(bot.playbook, reflection.state))
    user.skip_messages()
    return question


async def quiet(user, seconds: float = 0.8) -> list:
    """Every bot message until it has said nothing new for `seconds`."""
    said = []
    while True:
        try:
            said.append(await user.next_message(seconds))
        except TimeoutError:
            return said


def refusal_of(bot: BotHarness, text: str, lang: str = "fr") -> str:
    state, _ = start(bot.playbook, "lost_client", lang)
    _, outputs = advance(bot.playbook, state, Answer(text))
    assert isinstance(outputs[0], Invalid)
    return outputs[0].reason


# --- 1. a paste Telegram split in two --------------------------------------------------------


async def test_a_paste_split_by_telegram_is_refused_once_and_its_tail_never_stored(
    tmp_path: Path,
):
    async with chat(tmp_path) as (bot, clock):
        claire = bot.user(9101, "Claire")
        await at_the_client_question(bot, claire)
        paste = "Acme " * 819 + "Acme\nand that is the end of my paste."
        updates = await claire.paste(paste)
        assert len(updates) == 2, "Telegram's client sends two messages"
        said = await quiet(claire)
        first = updates[0]["message"]["text"]
        assert len(first) > 4000
        assert [m.text for m in said] == [refusal_of(bot, "x" * len(first))]
        assert stored_steps(bot, 9101, "lost_client") == []

        clock.later()  # a message typed later is a new intent, and a good answer
        await claire.send("Acme")
        await quiet(claire)
        assert stored_steps(bot, 9101, "lost_client") == ["client"]
        raw = bot.query("SELECT raw_text FROM answers WHERE step = 'client'")
        assert [row["raw_text"] for row in raw] == ["Acme"]


async def test_a_tail_arriving_after_the_refusal_of_its_first_part_is_refused_with_it(
    tmp_path: Path,
):
    async with chat(tmp_path) as (bot, _):
        claire = bot.user(9114, "Claire")
        await at_the_client_question(bot, claire)
        first = ("Acme " * 819).strip()
        await claire.send(first)
        refusal = await claire.next_message()  # the bot was quicker than Telegram's app
        assert refusal.text == refusal_of(bot, first)
        await claire.send("and that is the end of my paste.")  # the same second
        assert await quiet(claire) == []
        assert stored_steps(bot, 9114, "lost_client") == []


async def test_distress_in_the_tail_of_a_refused_paste_is_still_heard(tmp_path: Path):
    async with chat(tmp_path) as (bot, _):
        claire = bot.user(9112, "Claire")
        await at_the_client_question(bot, claire)
        updates = await claire.paste("Acme " * 820 + "\nEt moi, je veux mourir.")
        first = updates[0]["message"]["text"]
        said = [m.text for m in await quiet(claire)]
        assert said[0] == refusal_of(bot, "x" * len(first))
        assert said[1:] == [bot.playbook.safety.message.fr, bot.playbook.safety.offer.prompt.fr]
        assert stored_steps(bot, 9112, "lost_client") == []


async def test_two_messages_sent_together_are_taken_together(tmp_path: Path):
    async with chat(tmp_path) as (bot, _):
        claire = bot.user(9102, "Claire")
        await at_the_client_question(bot, claire)
        await claire.send("Acme")
        await claire.send("& Fils")  # the same second: one intent
        await quiet(claire)
        raw = bot.query("SELECT raw_text FROM answers WHERE step = 'client' ORDER BY id")
        assert raw[-1]["raw_text"] == "Acme\n& Fils"
        state = json.loads(
            bot.query("SELECT state FROM sessions WHERE flow = 'lost_client'")[0]["state"]
        )
        assert state["answers"]["client"] == "Acme\n& Fils"
        assert state["history"] == ["client"], "the tail answered no other question"


# --- 2. media and service messages -----------------------------------------------------------


async def test_an_album_stickers_and_service_messages_get_one_reply_per_intent(tmp_path: Path):
    async with chat(tmp_path) as (bot, clock):
        ui = bot.playbook.ui
        claire = bot.user(9103, "Claire")
        question = await at_the_client_question(bot, claire)

        await claire.send_album(5, caption="Acme")
        assert [m.text for m in await quiet(claire)] == [ui.unsupported_media.fr]
        clock.later()
        for _ in range(3):
            await claire.send_sticker()
        assert [m.text for m in await quiet(claire)] == [ui.unsupported_media.fr]
        clock.later()
        await claire.send_voice()
        await claire.send_document(caption="Acme")
        assert [m.text for m in await quiet(claire)] == [ui.unsupported_media.fr]
        clock.later()
        claire.pin(question)
        assert await quiet(claire) == [], "a service message gets no reply"
        assert stored_steps(bot, 9103, "lost_client") == []


# --- 3. deep links ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ["abc123", "expired-or-forged_code", "x" * 64])
async def test_a_newcomer_from_a_deep_link_goes_through_onboarding(tmp_path: Path, payload):
    async with chat(tmp_path) as (bot, _):
        ui = bot.playbook.ui
        claire = bot.user(9104, "Claire")
        await claire.send(f"/start {payload}")
        word = await claire.next_message()
        assert word.text == ui.invite_unknown.fr
        onboarding = walk(claire, bot.playbook, "onboarding", "fr")
        await onboarding.to_the_end()
        onboarded = bot.query("SELECT onboarded_at FROM users WHERE key = 'telegram:9104'")
        assert onboarded[0]["onboarded_at"] is not None


# --- 4. groups -------------------------------------------------------------------------------


async def test_in_a_group_rebond_says_once_it_is_private_and_leaves(tmp_path: Path):
    async with chat(tmp_path) as (bot, _):
        ui = bot.playbook.ui
        claire = bot.user(9105, "Claire")
        team = bot.api.group(TOKEN, "Équipe Acme")
        team.add_bot(claire)
        await team.send(claire, "/start@rebond_test_bot")
        await claire.wait_until(lambda: team.left, timeout=10)
        await quiet(claire)
        assert [m.text for m in team.messages] == [ui.private_only.fr]
        assert bot.fake_bot.count("leaveChat", ok=True) == 1


async def test_service_messages_in_a_group_get_no_reply(tmp_path: Path):
    async with chat(tmp_path) as (bot, _):
        claire = bot.user(9106, "Claire")
        team = bot.api.group(TOKEN, "Équipe Acme")
        team.chat.left = False  # the bot was added long ago (before this rule)
        team.pin(claire, "Réunion à 9h")  # a message the bot never saw: Telegram's date 0
        await quiet(claire, 1.0)
        assert team.messages == []
        assert bot.fake_bot.count("sendMessage") == 0
        assert bot.query("SELECT count(*) AS n FROM inbox WHERE processed_at IS NULL")[0]["n"] == 0


async def test_a_group_upgraded_to_a_supergroup_causes_no_retries(tmp_path: Path):
    async with chat(tmp_path) as (bot, _):
        claire = bot.user(9107, "Claire")
        team = bot.api.group(TOKEN, "Équipe Acme")
        team.add_bot(claire)
        supergroup = team.upgrade(claire)  # before the bot said anything there
        await claire.wait_until(lambda: supergroup.left, timeout=10)
        await quiet(claire, 1.5)
        to_old = [c for c in bot.fake_bot.requests if c.params.get("chat_id") == str(team.id)]
        assert [c.method for c in to_old] == ["sendMessage", "leaveChat"]
        assert all(c.status == 400 for c in to_old)
        assert supergroup.messages == [], "service messages get no reply"


# --- 5. superseded buttons -------------------------------------------------------------------


async def test_buttons_of_superseded_messages_answer_no_longer_active(tmp_path: Path):
    async with chat(tmp_path) as (bot, clock):
        ui = bot.playbook.ui
        claire = bot.user(9108, "Claire")
        await claire.send("/start")
        language_question = await claire.next_message()
        english = language_question.callback_data[language_question.button_texts.index("English")]
        onboarding = walk(claire, bot.playbook, "onboarding", "fr")
        await onboarding.to_the_end()
        reflection = walk(claire, bot.playbook, "lost_client", "fr")
        await reflection.answer()  # the client

        # a finished flow's question: onboarding's language buttons
        old = await claire.press_data(language_question, english)
        assert (await claire.wait_for_answer(old)).text == ui.button_inactive.fr

        # the resume / start again offer, once the manager chose
        await claire.send("/reflect")
        offer = await claire.wait_until(
            lambda: next(
                (m for m in claire.messages if m.text == ui.reflection_in_progress.fr), None
            )
        )
        data = dict(zip(offer.button_texts, offer.callback_data, strict=True))
        await claire.wait_for_answer(await claire.press(offer, ui.resume_button.fr))
        again = await claire.press_data(offer, data[ui.restart_button.fr])
        assert (await claire.wait_for_answer(again)).text == ui.button_inactive.fr
        sessions = bot.query("SELECT status FROM sessions WHERE flow = 'lost_client'")
        assert [row["status"] for row in sessions] == ["active"]
        assert stored_steps(bot, 9108, "lost_client") == ["client"]

        # the /language prompt, once a language is chosen
        clock.later()
        await claire.send("/language")
        prompt = await claire.wait_until(
            lambda: next(
                (m for m in reversed(claire.messages) if m.button_texts == ["Français", "English"]),
                None,
            )
        )
        buttons = dict(zip(prompt.button_texts, prompt.callback_data, strict=True))
        await claire.wait_for_answer(await claire.press(prompt, "English"))
        late = await claire.press_data(prompt, buttons["Français"])
        assert (await claire.wait_for_answer(late)).text == ui.button_inactive.en
        lang = bot.query("SELECT lang FROM users WHERE key = 'telegram:9108'")[0]["lang"]
        assert lang == "en"


async def test_a_safety_offer_the_manager_went_past_is_no_longer_active(tmp_path: Path):
    async with chat(tmp_path) as (bot, clock):
        ui = bot.playbook.ui
        claire = bot.user(9109, "Claire", language_code="en")
        await at_the_client_question(bot, claire, "en")
        await claire.send("I want to die")
        offer = await claire.wait_until(
            lambda: next((m for m in reversed(claire.messages) if m.button_texts), None)
        )
        pause = dict(zip(offer.button_texts, offer.callback_data, strict=True))["Pause here"]
        clock.later()
        await claire.send("This week")  # going on by answering the next question
        await claire.wait_until(
            lambda: stored_steps(bot, 9109, "lost_client") == ["client", "since_when"]
        )
        late = await claire.press_data(offer, pause)
        assert (await claire.wait_for_answer(late)).text == ui.button_inactive.en
        status = bot.query("SELECT status FROM sessions WHERE flow = 'lost_client'")
        assert [row["status"] for row in status] == ["active"]


# --- 6. commands -----------------------------------------------------------------------------


async def test_unknown_and_edited_commands_are_never_answers(tmp_path: Path):
    async with chat(tmp_path) as (bot, clock):
        ui = bot.playbook.ui
        claire = bot.user(9110, "Claire")
        await at_the_client_question(bot, claire)
        typo = await claire.send("/pauze")
        [unknown] = await quiet(claire)
        assert "/pauze" in unknown.text and "/pause" in unknown.text and "/help" in unknown.text
        assert unknown.text.startswith(ui.unknown_command.fr.split("{")[0])
        clock.later()
        await claire.edit(typo["message"]["message_id"], "/pause")
        [paused] = await quiet(claire)
        assert paused.text == ui.paused.fr
        status = bot.query("SELECT status FROM sessions WHERE flow = 'lost_client'")
        assert [row["status"] for row in status] == ["paused"]
        clock.later()
        history = await claire.send("/history")
        assert [m.text for m in await quiet(claire)] == [ui.history_empty.fr]
        clock.later()  # a command that ran, edited: not run again (a /feedback sent twice...)
        await claire.edit(history["message"]["message_id"], "/help")
        assert [m.text for m in await quiet(claire)] == [ui.command_edited.fr]
        assert stored_steps(bot, 9110, "lost_client") == []
        assert bot.query("SELECT count(*) AS n FROM answers WHERE raw_text LIKE '/%'")[0]["n"] == 0


# --- 7. an edited answer goes through the safety net -----------------------------------------


async def test_an_edited_answer_goes_through_the_safety_net(tmp_path: Path):
    async with chat(tmp_path) as (bot, clock):
        claire = bot.user(9111, "Claire")
        await at_the_client_question(bot, claire)
        typed = await claire.send("Acme")
        await quiet(claire)
        clock.later()
        await claire.edit(typed["message"]["message_id"], "Acme. Et moi, je n'en peux plus.")
        said = await quiet(claire)
        note = bot.playbook.safety.message.fr
        assert any(m.text == note for m in said), [m.text for m in said]
        offer = next(m for m in said if m.button_texts)
        assert offer.button_texts == [
            bot.playbook.safety.offer.pause.fr,
            bot.playbook.safety.offer.go_on.fr,
        ]
        assert stored_steps(bot, 9111, "lost_client") == ["client", "client"]


async def test_an_edit_once_the_flow_is_over_is_heard_and_says_it_changes_nothing(
    tmp_path: Path,
):
    async with chat(tmp_path) as (bot, clock):
        ui = bot.playbook.ui
        claire = bot.user(9113, "Claire")
        await at_the_client_question(bot, claire)
        typed = await claire.send("Acme")
        await quiet(claire)
        bot.conversation.cancel(bot.conversation.user("telegram:9113"))  # the flow is over
        clock.later()
        await claire.edit(typed["message"]["message_id"], "Acme. Je n'en peux plus.")
        said = [m.text for m in await quiet(claire)]
        assert said[0] == bot.playbook.safety.message.fr
        assert said[-1] == ui.amend_after_end.fr
        raw = bot.query("SELECT raw_text FROM answers WHERE step = 'client'")
        assert [row["raw_text"] for row in raw] == ["Acme"]
