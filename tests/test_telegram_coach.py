"""Coach review on Telegram, end to end: consent, reads, feedback, refusals, /mydata, /forget."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.privacy import USER_COLUMNS

from .e2e import BotHarness, harness, walk
from .helpers import FakeClock, reflect

pytestmark = pytest.mark.e2e

COACH = 900
TICK = 0.05


def last_text(user) -> str:
    return user.messages[-1].text or user.messages[-1].caption or ""


async def said(user, text: str, timeout: float = 10):
    return await user.wait_until(
        lambda: next(
            (m for m in reversed(user.messages) if text in (m.text or m.caption or "")), None
        ),
        timeout=timeout,
    )


async def new_invite(coach) -> str:
    coach.skip_messages()
    seen = coach.messages[-1].message_id if coach.messages else 0
    await coach.send("/invite")
    # A coach notification from the scheduler's tick may arrive first: wait for the link.
    invite = await coach.wait_until(
        lambda: next(
            (m for m in coach.messages if m.message_id > seen and "start=" in (m.text or "")),
            None,
        ),
        timeout=10,
    )
    return re.search(r"start=([A-Za-z0-9_-]+)", invite.text).group(1)


async def pair_through_telegram(bot: BotHarness, coach, manager) -> int:
    code = await new_invite(coach)
    await manager.send(f"/start {code}")
    preview = await said(manager, "aimerait suivre vos réflexions")
    toggle = next(label for label in preview.button_texts if "points quotidiens" in label)
    await manager.wait_for_answer(await manager.press(preview, toggle))
    await manager.wait_until(lambda: any(t.startswith("☑") for t in preview.button_texts))
    await manager.wait_for_answer(await manager.press(preview, "Partager"))
    await said(manager, "voit désormais les réflexions")
    shared = await said(coach, "partage désormais ses réflexions")
    return int(re.search(r"n° (\d+)", shared.text).group(1))


async def test_a_coach_reviews_what_a_manager_shares_and_nothing_else(tmp_path: Path):
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    async with harness(
        tmp_path, clock=clock, checkin_tick_seconds=TICK, coach_ids=str(COACH)
    ) as bot:
        ui = bot.playbook.ui
        coach = bot.user(COACH, "Camille")
        claire = bot.user(5001, "Claire")
        ben = bot.user(5002, "Ben")
        mallory = bot.user(5003, "Mallory")
        number = await pair_through_telegram(bot, coach, claire)
        await coach.send("/notify on")
        await said(coach, ui.coach_notify_on.fr)
        menu = bot.fake_bot.get_commands(
            scope={"type": "chat", "chat_id": COACH}, language_code="fr"
        )
        assert {"invite", "managers", "read", "start"} <= {c["command"] for c in menu}
        assert "managers" not in {c["command"] for c in bot.fake_bot.get_commands()}

        # Claire's reflection through the chat ends with the offer to keep it private
        await claire.send("/reflect")
        reflection = walk(
            claire,
            bot.playbook,
            "lost_client",
            "fr",
            lambda a: "Non" if a.step == "checkin_offer" else "",
        )
        await reflection.to_the_end()
        offer = await said(claire, "verra cette réflexion dans 10 minutes")
        assert offer.button_texts == ["Garder privée", "Partager maintenant"]
        conversation = bot.conversation
        claire_user = conversation.user("telegram:5001")
        shared = conversation.history(claire_user)[0].id
        kept = reflect(bot.services, claire_user, "Globex")  # a second one, kept private
        assert bot.services.coach.set_private(claire_user, kept, True)
        other = reflect(
            bot.services, conversation.user("telegram:5002"), "Initech"
        )  # Ben, unlinked

        clock.advance(minutes=11)  # the private window passes: shared, and the coach is told
        await said(coach, f"/read {shared}")

        await coach.send("/managers")
        line = await said(coach, f"N° {number} · Claire")
        # Babel's day in the coach's zone (here the manager's, Paris) and plural: it was
        # "actif le 2026-11-26 · 1 réflexion(s)" (refs #10)
        assert "· actif le 26 nov. 2026 · 1 réflexion · humeur" in line.text
        await coach.send(f"/reflections {number}")
        listing = await said(coach, "Réflexions de")
        assert f"/read {shared}" in listing.text and f"/read {kept}" not in listing.text
        await coach.send(f"/read {shared}")
        transcript = await said(coach, "Les faits")
        assert "Éviter le piège de la culpabilité" in transcript.text
        await coach.send(f"/trend {number}")
        chart = await coach.wait_until(lambda: next((m for m in coach.messages if m.file), None))
        assert chart.file.data.startswith(b"\x89PNG")
        await coach.send(f"/note {shared} Beau recul")
        await said(coach, ui.coach_note_saved.fr)
        await coach.send(f"/feedback {shared} Bravo pour la lucidité")
        await said(coach, "Message envoyé à Claire")
        await said(claire, "Bravo pour la lucidité")
        await claire.send("/history")
        await said(claire, "Message de votre coach :")
        assert await said(claire, "26 nov. 2026 · ")  # was 2026-11-26 (refs #10)

        # Attempts that must all fail with a clear answer and no data
        attempts = successes = 0

        # What an attempt must never show: another's reflection, a note, a chart.
        secrets = ("Globex", "Initech", "Les faits", "Beau recul", "Réflexions de")

        async def refused(user, command: str, answer: str) -> None:
            """The refusal comes; a message a moment late (a chart, a notice) is not counted as
            the reply, but anything showing what the attempt was after is a success."""
            nonlocal attempts, successes
            attempts += 1
            before = len(user.messages)
            await user.send(command)
            try:
                await user.wait_until(
                    lambda: any(m.text == answer for m in user.messages[before:]), timeout=10
                )
            except TimeoutError:
                successes += 1
                return
            shown = user.messages[before:]
            successes += any(m.file or any(s in (m.text or "") for s in secrets) for m in shown)

        for command in (
            "/managers",
            f"/read {shared}",
            f"/reflections {number}",
            f"/trend {number}",
            f"/note {shared} x",
            f"/feedback {shared} x",
            "/invite",
        ):
            await refused(claire, command, ui.coach_only.fr)  # a manager using coach commands
        await refused(coach, f"/read {other}", ui.coach_no_access.fr)  # an unlinked manager
        await refused(coach, f"/read {kept}", ui.coach_no_access.fr)  # a private reflection
        await refused(coach, f"/note {kept} x", ui.coach_no_access.fr)
        await refused(coach, f"/reflections {number + 1}", ui.coach_no_access.fr)

        # forged privacy button naming Claire's reflection, from Mallory's chat
        await mallory.send("/help")
        own = await mallory.next_message()
        attempts += 1
        forged = await mallory.wait_for_answer(await mallory.press_data(own, f"p:{kept}::share"))
        successes += forged.text != ui.button_inactive.fr
        await refused(coach, f"/read {kept}", ui.coach_no_access.fr)  # still private

        await claire.send("/unshare")
        await said(claire, "Partage arrêté")
        await said(coach, "a arrêté de partager avec vous")
        await refused(coach, f"/read {shared}", ui.coach_no_access.fr)
        await refused(coach, f"/reflections {number}", ui.coach_no_access.fr)
        await refused(coach, f"/trend {number}", ui.coach_no_access.fr)

        # invite codes: reused, then expired
        code = await new_invite(coach)
        await ben.send(f"/share {code}")
        preview = await said(ben, "aimerait suivre")
        await ben.wait_for_answer(await ben.press(preview, "Partager"))
        await said(ben, "voit désormais")
        await refused(mallory, f"/share {code}", ui.invite_used.fr)
        late = await new_invite(coach)
        clock.advance(days=8)
        await refused(mallory, f"/start {late}", ui.invite_expired.fr)

        print(f"authorisation attempts: {attempts}, successes: {successes}")
        assert (attempts, successes) == (18, 0)
        assert claire.unanswered_callback_queries == []
        assert mallory.unanswered_callback_queries == []


async def test_mydata_and_forget(tmp_path: Path):
    async with harness(tmp_path, coach_ids=str(COACH), checkin_tick_seconds=TICK) as bot:
        claire = bot.user(5101, "Claire")
        coach = bot.user(COACH, "Camille")
        await pair_through_telegram(bot, coach, claire)
        user = bot.conversation.user("telegram:5101")
        reflect(bot.services, user, "Acme", "Phrase effacée 7319")
        await claire.send("/mydata")
        document = await claire.wait_until(
            lambda: next((m for m in claire.messages if m.file), None)
        )
        audit = claire.messages[claire.messages.index(document) - 1]
        assert audit.text == bot.playbook.ui.mydata_audit_empty.fr  # no coach read anything
        data = json.loads(document.file.data)
        assert data["users"][0]["key"] == "telegram:5101"
        assert any(answer["value"] == "Phrase effacée 7319" for answer in data["answers"])
        assert data["links"] and "audit_of_coach_reads" in data

        await claire.send("/forget")
        confirm = await said(claire, "C'est définitif")
        await claire.wait_for_answer(await claire.press(confirm, "Tout effacer"))
        # The update's own transaction holds the write-ahead log, so the scrub cannot complete
        # before the reply is queued: the reply says so, and that Rebond will write once done
        # (it used to say "the last traces are being cleared", true for about a second, and
        # never said more; refs #10)
        told = await said(claire, "Tout est effacé")
        assert told.text == bot.playbook.ui.forgotten_pending.fr
        scrubber = bot.services.coach.scrubber
        scrubber.retry_seconds = 0.05
        done = await said(claire, bot.playbook.ui.forgotten_on_disk.fr)
        assert not scrubber.pending  # said only once it is so
        assert claire.messages.index(done) > claire.messages.index(told)
        # ...and it is true on disk: no copy of her answer left in the database files
        path = Path(bot.settings.db_path)
        files = [path, path.with_name(path.name + "-wal")]
        erased = "Phrase effacée 7319".encode()
        assert not any(f.exists() and erased in f.read_bytes() for f in files)
        await claire.wait_until(lambda: bot.fake_bot.pending_update_count == 0)
        for table, columns in USER_COLUMNS.items():
            for column in columns:
                rows = bot.query(f"SELECT count(*) AS n FROM {table} WHERE {column} = ?", [user.id])
                assert rows[0]["n"] == 0, f"{table}.{column}"
        assert bot.query("SELECT count(*) AS n FROM users WHERE key = 'telegram:5101'")[0]["n"] == 0
        # Claire was the only one with sessions; the coach never started a flow
        assert bot.query("SELECT count(*) AS n FROM sessions")[0]["n"] == 0


async def test_consent_lists_past_reflections_and_shares_only_the_chosen_ones(tmp_path: Path):
    """Issue #10, kind 7: consent no longer hides reflections finished before the link."""
    async with harness(tmp_path, coach_ids=str(COACH)) as bot:
        ui = bot.playbook.ui
        claire = bot.user(5201, "Claire")
        coach = bot.user(COACH, "Camille")
        user = bot.conversation.user("telegram:5201")
        acme = reflect(bot.services, user, "Acme")
        globex = reflect(bot.services, user, "Globex")
        number = await pair_through_telegram(bot, coach, claire)

        past = await said(claire, "Vous avez déjà terminé 2 réflexions")
        assert "Acme" in past.text and "Globex" in past.text
        labels = past.button_texts
        assert [label for label in labels if label.startswith("☐")] == [
            label for label in labels if "Globex" in label or "Acme" in label
        ]
        assert {ui.share_past_all_button.fr, ui.share_past_none_button.fr} <= set(labels)
        tick = next(label for label in labels if "Acme" in label)
        await claire.wait_for_answer(await claire.press(past, tick))
        await claire.wait_until(
            lambda: any(t.startswith("☑") and "Acme" in t for t in past.button_texts)
        )
        await claire.wait_for_answer(await claire.press(past, ui.done_selecting.fr))
        done = await said(claire, "C'est noté")
        assert "Partagées avec Camille : 1 réflexion" in done.text, done.text
        assert "Gardées privées : 1 réflexion" in done.text

        await coach.send(f"/reflections {number}")
        listing = await said(coach, "Réflexions de")
        assert f"/read {acme} " in listing.text and "Acme" in listing.text
        assert f"/read {globex} " not in listing.text and "Globex" not in listing.text

        # The read is in the manager's audit, in the chat, before the file (refs #10, kind 7)
        await coach.send(f"/read {acme}")
        await said(coach, "Acme")
        claire.skip_messages()
        await claire.send("/mydata")
        document = await claire.wait_until(
            lambda: next((m for m in claire.messages if m.file), None)
        )
        audit = claire.messages[claire.messages.index(document) - 1]
        assert audit.text.startswith(ui.mydata_audit_title.fr)
        assert "Camille" in audit.text and str(acme) in audit.text
        assert json.loads(document.file.data)["audit_of_coach_reads"]


async def test_a_coach_is_asked_their_zone_once_and_reads_times_in_it(tmp_path: Path):
    """A coach's zone existed as a setting nobody was asked (refs #10): asked once, at the
    first command, each manager's zone until chosen, changeable with /zone."""
    clock = FakeClock(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))  # the 25th, 22:00 in Montréal
    async with harness(tmp_path, clock=clock, coach_ids=str(COACH)) as bot:
        question = bot.playbook.ui.coach_zone_question.fr
        coach = bot.user(COACH, "Camille")
        claire = bot.user(5301, "Claire")
        number = await pair_through_telegram(bot, coach, claire)  # the coach's first: /invite

        async def managers_line() -> str:
            before = len(coach.messages)
            await coach.send("/managers")
            found = await coach.wait_until(
                lambda: next(
                    (m for m in coach.messages[before:] if f"N° {number} ·" in (m.text or "")),
                    None,
                )
            )
            return found.text

        assert "actif le 26 nov. 2026 ·" in await managers_line()  # Claire's zone (Paris)
        await coach.send("/zone Montréal")
        await said(
            coach, "vous lisez désormais les heures à l'heure de Montréal (America/Montreal)"
        )
        assert "actif le 25 nov. 2026 ·" in await managers_line()  # now the coach's zone
        await coach.send("/zone Atlantide")
        await said(coach, "Je ne reconnais pas « Atlantide »")
        await coach.send("/zone")
        await said(coach, "Vous lisez les heures à l'heure de Montréal (America/Montreal).")
        await coach.send("/zone manager")
        await said(coach, bot.playbook.ui.coach_zone_default.fr)
        assert "actif le 26 nov. 2026 ·" in await managers_line()
        assert [m.text for m in coach.messages].count(question) == 1  # asked once only
        before_invite = [m.text for m in coach.messages].index(question)
        assert "start=" in (coach.messages[before_invite + 1].text or "")  # then the answer
