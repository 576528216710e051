"""The team round on Telegram, end to end through the fake Bot API (refs #13).

A manager opens a round from the reflection's opportunity question, three team members answer
through the link, the manager closes it and receives the summary, and the team's ideas come
back as buttons at "which idea first?". Nothing of a member stays joinable to their answers.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.flows.engine import ask
from bot.flows.state import Answer, Pick, Skip
from storage.erasure import truncate_wal

from .e2e import TOKEN, BotHarness, harness, walk
from .helpers import FakeClock
from .test_telegram_e2e import onboard

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https://t\.me/(\w+)\?start=(team_[A-Za-z0-9_-]+)")
MEMBERS = [
    # (id, first name, last name, username, feeling, worry, idea, signature)
    (
        3101,
        "Bérangère",
        "Quillardet",
        "beraq_zq1",
        "2",
        "Perdre mon poste Zq1",
        "Relancer l'export Zq1",
        "Alix",
    ),
    (
        3102,
        "Corentin",
        "Vassalot",
        "corva_zq2",
        "1",
        "Je suis épuisé, je n'en peux plus",
        "Un outil de devis Zq2",
        None,
    ),
    (3103, "Dorothée", "Pelissard", "dorpe_zq3", "4", None, "Voir les anciens clients Zq3", ""),
]


SEEN: dict[int, int] = {}
"""Per chat, the message the last `said` found: the next one looks after it."""


async def said(user, fragment: str):
    """The first bot message after the one `said` found last that contains `fragment`."""
    after = SEEN.get(user.id, 0)

    def found():
        for message in user.messages:
            if message.message_id > after and fragment in (message.text or ""):
                return message
        return None

    message = await user.wait_until(found, timeout=20)  # a chart takes seconds under load
    SEEN[user.id] = message.message_id
    return message


async def to_step(bot: BotHarness, manager, stop: str):
    """Onboard the manager and walk the reflection up to question `stop`; its message."""
    await onboard(bot, manager, "fr")
    reflection = walk(manager, bot.playbook, "lost_client", "fr")
    while ask(bot.playbook, reflection.state).step != stop:
        await reflection.answer()
    return await reflection.question(ask(bot.playbook, reflection.state))


async def answer_as_member(bot: BotHarness, member, parameter: str, row) -> str:
    """Open the link and answer as `row` says; the first message (notice and question)."""
    _, _, _, _, feeling, worry, idea, signature = row
    team = bot.playbook.flow("team_round").step_by_id
    prompt = {step: team[step].prompt.fr for step in ("feeling", "worry", "idea", "contribute")}
    await member.send(f"/start {parameter}")
    question = await said(member, prompt["feeling"])
    first = question.text
    assert "anonymes" in first  # the notice comes first, with the first question
    await member.wait_for_answer(await member.press(question, feeling))
    await said(member, prompt["worry"])
    if worry is not None and "épuisé" in worry:
        await member.send(worry)
        offer = await said(member, bot.playbook.safety.offer.prompt.fr)
        assert any("3114" in (m.text or "") for m in member.messages)  # the helpline note
        await member.wait_for_answer(await member.press(offer, bot.playbook.safety.offer.go_on.fr))
    else:
        await member.send(worry or "/skip")
    await said(member, prompt["idea"])
    await member.send(idea)
    contribute = await said(member, prompt["contribute"])
    await member.wait_for_answer(
        await member.press(contribute, "Oui" if signature is not None else "Non")
    )
    if signature is not None:
        await said(member, "Écrivez votre prénom")
        await member.send(signature or "/skip")
    await said(member, "Merci.")
    return first


def files_holding(path: Path, words: str) -> int:
    """How many times `words` can be read in the database file and its write-ahead log."""
    found = 0
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            found += file.read_bytes().count(words.encode())
    return found


async def test_a_team_round_from_the_reflection_to_the_ideas_offered(tmp_path: Path):
    async with harness(tmp_path) as bot:
        ui, team_texts = bot.playbook.ui, bot.playbook.team
        assert team_texts is not None
        gilles = bot.user(3001, "Gilles")
        question = await to_step(bot, gilles, "postponed_ideas")
        assert team_texts.offer_button.fr in question.button_texts

        # /cancel during the set-up drops the set-up, not the reflection, and goes back to it
        await gilles.wait_for_answer(await gilles.press(question, team_texts.offer_button.fr))
        await said(gilles, "Dans quelle langue")
        await gilles.send("/cancel")
        asked = await said(gilles, "Abandonner « Tour d'équipe » en cours ?")
        await gilles.wait_for_answer(await gilles.press(asked, ui.cancel_confirm_button.fr))
        await said(gilles, "« Tour d'équipe » est abandonné.")
        back = await said(gilles, ui.back_to_reflection.fr)
        assert bot.playbook.flow("lost_client").step_by_id["postponed_ideas"].prompt.fr in back.text

        await gilles.wait_for_answer(await gilles.press(back, team_texts.offer_button.fr))
        await gilles.wait_for_answer(
            await gilles.press(await said(gilles, "Dans quelle langue"), "Français")
        )
        await gilles.wait_for_answer(
            await gilles.press(await said(gilles, "Quand clore"), "Dans 5 jours")
        )
        await said(gilles, "Souhaitez-vous ajouter une question")
        await gilles.send("/skip")
        forward = await said(gilles, "Gilles aimerait avoir votre avis")
        match = LINK.search(forward.text)
        assert match is not None and match.group(1) == bot.fake_bot.username, forward.text
        assert forward.text.startswith("Gilles aimerait")  # a message of its own, to forward
        parameter = match.group(2)
        assert len(parameter) >= len("team_") + 32
        await said(gilles, ui.back_to_reflection.fr)

        # a forged code, and the manager's own link
        stranger = bot.user(3199, "Curieux")
        await stranger.send(f"/start {parameter[:-2]}xx")
        await said(stranger, "Ce lien n'ouvre aucun tour d'équipe")
        await gilles.send(f"/start {parameter}")
        await said(gilles, "C'est votre propre tour d'équipe")

        members = []
        for row in MEMBERS:
            user_id, first, last, username = row[:4]
            member = bot.api.user(
                TOKEN, user_id, first, last_name=last, username=username, language_code="fr"
            )
            members.append(member)
            if row is MEMBERS[-1]:  # answers once, then changes their answer through the link
                first_try = (*row[:6], "Idée abandonnée Zq4", None)
                await answer_as_member(bot, member, parameter, first_try)
            opened = await answer_as_member(bot, member, parameter, row)
        assert "Vous avez déjà répondu" in opened and "Votre réponse précédente : 4" in opened
        # a member's menu: /forget and /help, nothing of a manager's
        scope = {"type": "chat", "chat_id": members[0].id}
        await members[0].wait_until(
            lambda: (
                [c["command"] for c in bot.fake_bot.get_commands(scope, "fr")] == ["forget", "help"]
            )
        )

        gilles.skip_messages()
        await gilles.send("/team")
        status = await said(gilles, "Réponses pour l'instant : 3.")
        assert parameter in status.text
        await gilles.wait_for_answer(await gilles.press(status, team_texts.close_button.fr))
        title = await said(gilles, "Votre tour d'équipe : 3 réponses")
        chart = next(m for m in gilles.messages if m.media.get("photo"))
        assert chart.caption == team_texts.feelings_title.fr
        summary = "\n".join(
            m.text or "" for m in gilles.messages if m.message_id >= title.message_id
        )
        for row in MEMBERS:
            assert row[6] in summary  # every idea
            for who in row[1:4]:
                assert who not in summary  # never who
        assert "Ont signé leur offre : Alix." in summary
        assert "Idée abandonnée Zq4" not in summary  # the changed answer replaced the first
        assert team_texts.distress_note.fr in summary

        # the ideas come back as buttons at "which idea first?"
        await gilles.send("Des pistes à creuser")
        idea_first = bot.playbook.flow("lost_client").step_by_id["idea_first"].prompt.fr
        offered = await gilles.wait_until(
            lambda: next(
                (
                    m
                    for m in reversed(gilles.messages)
                    if idea_first in (m.text or "") and m.button_texts
                ),
                None,
            ),
            timeout=10,
        )
        assert sorted(offered.button_texts) == sorted(row[6] for row in MEMBERS)
        assert gilles.unanswered_callback_queries == []
        for member in members:
            assert member.unanswered_callback_queries == []

        # at rest: a member's name and words stay nowhere beside their chat id
        path = Path(bot.settings.db_path)
        await gilles.wait_until(lambda: bot.fake_bot.pending_update_count == 0)
        scrubber = bot.services.coach.scrubber
        scrubber.retry_seconds = 0.05
        for row in MEMBERS:
            user_id, first, last, username, _, worry, _, _ = row
            for trace in (first, last, username):
                await gilles.wait_until(lambda t=trace: files_holding(path, t) == 0, timeout=10)
            if user_id != 3102:  # (3102's safety buttons were removed: no words, its chat id)
                # nothing the bot said to them, their answer ticked included, stays readable
                marker = f'"chat_id": {user_id}'
                await gilles.wait_until(lambda m=marker: files_holding(path, m) == 0, timeout=10)
            inbox = bot.query("SELECT payload FROM inbox WHERE chat_id = ?", [user_id])
            assert inbox and {r["payload"] for r in inbox} == {"{}"}
            outbox = bot.query(
                "SELECT payload FROM outbox WHERE chat_id = ? AND status != 'pending' "
                "AND method != 'editMessageReplyMarkup'",
                [user_id],
            )
            assert {r["payload"] for r in outbox} <= {"{}"}
            # their worry is stored once, in the anonymous answers (once the log's copies of
            # that same page are folded in): no inbox or outbox row keeps it
            if worry is not None:
                assert await asyncio.to_thread(truncate_wal, path)
                assert files_holding(path, worry) == 1


async def test_a_closed_or_expired_code_and_a_member_who_pauses_or_forgets(tmp_path: Path):
    async with harness(tmp_path) as bot:
        team = bot.services.team
        manager = bot.conversation.user("telegram:3201", "Hélène", "fr")
        opened = team.open_round(manager, "fr", days=2)
        parameter = f"team_{opened.round.code}"
        member = bot.user(3202, "Isidore")
        await member.send(f"/start {parameter}")
        feeling = bot.playbook.flow("team_round").step_by_id["feeling"].prompt.fr
        question = await said(member, feeling)
        await member.wait_for_answer(await member.press(question, "3"))
        worry = bot.playbook.flow("team_round").step_by_id["worry"].prompt.fr
        await said(member, worry)
        scope = {"type": "chat", "chat_id": member.id}
        menu = ["forget", "help"]
        await member.wait_until(
            lambda: [c["command"] for c in bot.fake_bot.get_commands(scope)] == menu
        )
        await member.send_sticker()
        await said(member, bot.playbook.ui.unsupported_media.fr)
        await member.send("/pause")
        await said(member, team.texts.member_paused.fr)
        await member.send("/history")  # a manager's command: not for a member answering
        await said(member, team.texts.member_other_command.fr)
        await member.send("/start")
        await said(member, bot.playbook.ui.resumed.fr)
        await member.send("/cancel")
        await said(member, "C'est abandonné : vos réponses en cours ne sont pas envoyées.")
        assert not team.answering(bot.conversation.user("telegram:3202"))
        await member.send(f"/start {parameter}")
        await member.wait_for_answer(await member.press(await said(member, feeling), "2"))
        await said(member, worry)
        await member.send("/forget")
        await said(member, team.texts.member_forgotten.fr)
        assert bot.query("SELECT count(*) AS n FROM team_members")[0]["n"] == 0
        scope = {"type": "chat", "chat_id": member.id}
        await member.wait_until(lambda: bot.fake_bot.get_commands(scope, "fr") == [])
        # someone in a flow of their own (here the onboarding) gets back to it afterwards
        jules = bot.user(3204, "Jules")
        await jules.send("/start")
        first = await jules.next_message()
        await jules.send(f"/start {parameter}")
        await said(jules, feeling)
        await jules.send("/cancel")
        await said(jules, "C'est abandonné : vos réponses en cours")
        await said(jules, bot.playbook.ui.resumed.fr)
        assert (await said(jules, first.text.split("\n")[-1])).button_texts == first.button_texts
        status = team.status(manager)
        assert status is not None and team.close_early(manager, status.round.id) is not None
        late = bot.user(3203, "Tardif")
        await late.send(f"/start {parameter}")
        await said(late, "est clos : les réponses ne sont plus recueillies")


async def test_a_round_closes_on_its_date_and_one_too_small_can_be_extended(tmp_path: Path):
    """The scheduler's tick closes rounds on their date and sends each summary once; a round
    with fewer than 3 answers shows nothing and offers to extend it."""
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    async with harness(tmp_path, clock=clock, checkin_tick_seconds=0.2) as bot:
        team = bot.services.team
        texts = team.texts
        helene = bot.user(3301, "Hélène")
        await helene.send("/start")  # a bot writes to those who wrote to it first
        await helene.next_message()
        manager = bot.conversation.user("telegram:3301", "Hélène", "fr")
        small = team.open_round(manager, "fr", days=1)
        member = bot.conversation.user("telegram:3302", None, "fr")
        team.join(member, f"team_{small.round.code}")
        for event in (Pick("4"), Answer("Un secret Zq9"), Skip(), Pick("no")):
            team.handle(member, event)
        clock.advance(days=1, minutes=1)
        notice = await said(helene, "rien n'est affiché")
        assert "Un secret Zq9" not in notice.text and not any(m.media for m in helene.messages)
        taps = [await helene.press(notice, texts.extend_button.fr) for _ in range(2)]
        answers = [await helene.wait_for_answer(tap) for tap in taps]
        assert [a.text or "" for a in answers] == ["", bot.playbook.ui.button_inactive.fr]
        await said(helene, "Tour d'équipe prolongé jusqu'au")
        closes = bot.query("SELECT closes_at FROM team_rounds")[0]["closes_at"]
        assert closes.startswith("2026-11-30")  # extended once: 3 days from the tick's now
        for n in (3303, 3304):
            other = bot.conversation.user(f"telegram:{n}", None, "fr")
            team.join(other, f"team_{small.round.code}")
            for event in (Pick("2"), Skip(), Answer(f"Idée {n}"), Pick("no")):
                team.handle(other, event)
        clock.advance(days=3, minutes=1)
        await said(helene, "Votre tour d'équipe : 3 réponses")
        assert any(m.media.get("photo") for m in helene.messages)
        await asyncio.sleep(0.6)  # a few more ticks: the summary is sent once
        titles = [m for m in helene.messages if "Votre tour d'équipe : 3" in (m.text or "")]
        assert len(titles) == 1
