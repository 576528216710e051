"""Faults a new-user trial of the terminal chat found in #9's understanding (refs #9): each one a
kind, each example kept here (the input tables, both languages, are in tests/data/inputs.yaml)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest

from bot.conversation import Conversation
from bot.flows.analysis import all_texts
from bot.flows.answers import DATE_PICK, Rejected, parse_text
from bot.flows.contract import COACH_COMMANDS, MENTIONED_COMMAND, REQUIRED_COMMANDS
from bot.flows.engine import advance, safety_choice, start
from bot.flows.state import GO_ON, PAUSE, Answer, Ask, Invalid, Pick, SafetyOffer, Say
from bot.flows.timezones import place
from bot.terminal import TELEGRAM_ONLY, TERMINAL_COMMANDS, ChatOptions, TerminalChat
from storage import repository
from storage.db import to_stored

from .helpers import REAL_PLAYBOOK, FakeClock
from .understanding import STEPS, real_playbook

PLAYBOOK = real_playbook()
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def conversation_on(db) -> Conversation:
    from bot.playbooks import PlaybookLibrary

    library = PlaybookLibrary.from_file(db, REAL_PLAYBOOK, seen_at=to_stored(MONDAY))
    return Conversation(db, library, FakeClock(MONDAY))


def terminal(conversation: Conversation, lines: str) -> str:
    out = io.StringIO()
    TerminalChat(conversation, ChatOptions(user="ann"), io.StringIO(lines), out).run()
    return out.getvalue()


# --- 1. the choice after the safety note survives a restart -----------------------------------


def at_mood_scale(conversation: Conversation, lang: str = "fr"):
    user = conversation.user("terminal:ann", "ann", lang)
    reply = conversation.start(user, "daily_checkin", {"commitment": "Appeler Paul"})
    assert reply.question is not None and reply.question.kind == "scale"
    return user, reply.session_id


@pytest.mark.parametrize(
    ("lang", "distress"), [("fr", "je n'en peux plus"), ("en", "I can't go on")]
)
def test_the_safety_choice_waits_across_a_terminal_restart_and_2_is_no_score(db, lang, distress):
    _, session_id = at_mood_scale(conversation_on(db), lang)
    first = terminal(conversation_on(db), f"{distress}\n")  # then the terminal closes
    assert PLAYBOOK.safety.offer.prompt.get(lang) in first
    again = terminal(conversation_on(db), "2\n")  # a new process: the choice still waits
    assert PLAYBOOK.safety.offer.prompt.get(lang) in again
    assert repository.answers_for(db, session_id) == []  # "2" was not a 0-10 score
    state = json.loads(conversation_on(db).session(session_id).state)
    assert state["safety_offered"] is False  # "2" chose to go on
    assert PLAYBOOK.ui.paused.get(lang) not in again
    assert again.rstrip().endswith(PLAYBOOK.ui.saved_and_exit.get(lang))


def test_pause_chosen_after_a_restart_pauses_the_session(db):
    _, session_id = at_mood_scale(conversation_on(db))
    terminal(conversation_on(db), "je veux mourir\n")
    out = terminal(conversation_on(db), "1\n")
    assert out.rstrip().endswith(PLAYBOOK.ui.paused.get("fr"))
    assert conversation_on(db).session(session_id).status == "paused"


def test_the_conversation_service_keeps_the_waiting_choice_and_reads_it_typed(db):
    conversation = conversation_on(db)
    user, session_id = at_mood_scale(conversation, "en")
    conversation.handle(user, Answer("I want to disappear"))
    resumed = conversation_on(db).resume(user)
    assert isinstance(resumed.outputs[0], SafetyOffer) and isinstance(resumed.outputs[-1], Ask)
    reply = conversation_on(db).handle(user, Answer("Go on"))
    assert reply.outputs == (resumed.outputs[-1],)
    assert repository.answers_for(db, session_id) == []
    assert not isinstance(conversation_on(db).resume(user).outputs[0], SafetyOffer)


def test_the_engine_marks_and_clears_the_waiting_choice():
    state, _ = start(PLAYBOOK, "lost_client", "fr")
    noted, _ = advance(PLAYBOOK, state, Answer("Acme, et je veux mourir"), MONDAY)
    assert noted.safety_offered
    assert safety_choice(PLAYBOOK, noted, Pick(PAUSE)) == PAUSE
    assert safety_choice(PLAYBOOK, noted, Answer("continuer")) == GO_ON
    assert safety_choice(PLAYBOOK, noted, Answer("2")) is None  # a number is the terminal's
    assert safety_choice(PLAYBOOK, state, Pick(PAUSE)) is None
    answered, _ = advance(PLAYBOOK, noted, Answer("1"), MONDAY)
    assert not answered.safety_offered  # answering the question is going on


# --- 2. every command a text mentions is understood where the text is shown -------------------

TERMINAL_ONLY_TEXTS = ("ui.help_terminal", "ui.checkin_terminal", "ui.terminal.")
TELEGRAM_ONLY_TEXTS = (
    "ui.help_telegram",
    "ui.coach_",
    "ui.share_",
    "ui.unshare_",
    "ui.amend_",  # edited messages: Telegram's
    "ui.welcome_back",  # /start of a known user on Telegram
)


def mentioned() -> list[tuple[str, str, str]]:
    """(text path, language, command) for every /command in a playbook text."""
    found = []
    for path, text in all_texts(PLAYBOOK):
        name = ".".join(str(part) for part in path)
        for lang in ("fr", "en"):
            found += [
                (name, lang, command) for command in MENTIONED_COMMAND.findall(text.get(lang))
            ]
    return found


def test_the_walk_finds_the_commands_texts_mention():
    commands = {command for _, _, command in mentioned()}
    assert {"reflect", "resume", "history", "checkin", "skip", "team"} <= commands


def test_every_command_a_terminal_text_mentions_is_understood_by_the_terminal():
    understood = {*TERMINAL_COMMANDS, *TELEGRAM_ONLY}
    missing = {
        (path, f"/{command}")
        for path, _, command in mentioned()
        if not path.startswith(TELEGRAM_ONLY_TEXTS) and f"/{command}" not in understood
    }
    assert missing == set()


def test_every_command_a_telegram_text_mentions_is_a_telegram_command():
    telegram = {*REQUIRED_COMMANDS, *COACH_COMMANDS}
    missing = {
        (path, f"/{command}")
        for path, _, command in mentioned()
        if not path.startswith(TERMINAL_ONLY_TEXTS) and command not in telegram
    }
    assert missing == set()


def test_reflect_in_the_terminal_starts_a_reflection_after_cancel(db):
    conversation = conversation_on(db)
    user = conversation.user("terminal:ann", "ann", "fr")
    repository.mark_onboarded(db, user.id, now=to_stored(MONDAY))
    out = terminal(conversation, "/reflect\n")
    assert "Je ne connais pas la commande /reflect" not in out
    assert "Quel client vient de partir" in out


def test_reflect_with_one_open_offers_resume_or_restart_and_resume_resumes(db):
    conversation = conversation_on(db)
    user = conversation.user("terminal:ann", "ann", "en")
    repository.mark_onboarded(db, user.id, now=to_stored(MONDAY))
    conversation.start(user, "lost_client")
    out = terminal(conversation, "Acme\n/reflect\n1\n/resume\n")
    assert PLAYBOOK.ui.reflection_in_progress.get("en") in out
    assert out.count("Since when have you known that Acme is leaving?") == 3


def test_a_telegram_command_in_the_terminal_is_said_to_work_on_telegram(db):
    conversation = conversation_on(db)
    conversation.start(conversation.user("terminal:ann", "ann", "en"), "lost_client")
    out = terminal(conversation, "/share\n")
    assert "/share works on Telegram" in out and "I don't know the command" not in out


# --- 3. and 4. dates: text kept as text is said so; weekdays as people mean them ----------------


def at_date_step(lang: str = "fr", flow: str = "commitment_check", step: str = "postponed_to"):
    state, _ = start(PLAYBOOK, flow, lang, {"commitment": "Appeler Paul", "due": "-"})
    return state.model_copy(update={"step": step})


@pytest.mark.parametrize(("lang", "text"), [("fr", "1"), ("fr", "x"), ("en", "x"), ("en", "1")])
def test_a_date_step_says_when_it_kept_the_words_as_text(lang, text):
    kept, outputs = advance(PLAYBOOK, at_date_step(lang), Answer(text), MONDAY)
    assert kept.answers["postponed_to"] == text
    said = [o.text for o in outputs if isinstance(o, Say)]
    expected = PLAYBOOK.ui.date_kept_as_text.get(lang).replace("{text}", text)
    assert expected in said


@pytest.mark.parametrize(
    ("lang", "words", "dates"),
    [
        ("fr", "jeudi prochain", ("jeudi 3 décembre", "jeudi 10 décembre")),
        ("en", "next Thursday", ("Thursday 3 December", "Thursday 10 December")),
    ],
)
def test_next_thursday_said_on_monday_asks_which_and_a_pick_stores_the_date(lang, words, dates):
    state = at_date_step(lang)
    after, outputs = advance(PLAYBOOK, state, Answer(words), MONDAY)
    assert isinstance(outputs[0], Invalid)
    assert after == state.model_copy(update={"choices": after.choices})  # kept for a restart
    assert all(date in outputs[0].reason for date in dates)
    ask = outputs[-1]
    assert isinstance(ask, Ask) and [o.label for o in ask.options] == list(dates)
    chosen, outputs = advance(PLAYBOOK, after, Pick(ask.options[1].id), MONDAY)
    assert chosen.answers["postponed_to"] == "2026-12-10"
    assert any(isinstance(o, Say) and dates[1] in o.text for o in outputs)


def test_a_forged_date_button_is_refused():
    value = parse_text(PLAYBOOK.ui, STEPS["date"], "x", "fr", MONDAY)
    assert value == "x"
    from bot.flows.answers import parse_pick

    assert isinstance(
        parse_pick(PLAYBOOK.ui, STEPS["date"], DATE_PICK + "2026-02-30", "fr"), Rejected
    )


def test_the_terminal_picks_the_offered_date_by_its_number(db):
    conversation = conversation_on(db)
    user = conversation.user("terminal:ann", "ann", "fr")
    reply = conversation.start(user, "commitment_check", {"commitment": "Appeler Paul", "due": "-"})
    status = reply.question
    assert status is not None and status.step == "commitment_status"
    postponed = 1 + [o.id for o in status.options].index("postponed")
    out = terminal(conversation, f"{postponed}\njeudi prochain\n2\n")
    assert "jeudi 10 décembre" in out.split("jeudi prochain")[-1]
    answers = repository.answers_for(db, reply.session_id)
    assert [json.loads(a.value) for a in answers if a.step == "postponed_to"] == ["2026-12-10"]


# --- 5. number errors say words are understood --------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_number_error_gives_examples_in_digits_and_words_all_understood(lang):
    reason = parse_text(PLAYBOOK.ui, STEPS["whole"], "beaucoup", lang, MONDAY)
    assert isinstance(reason, Rejected)
    assert "chiffres" not in reason.reason or "lettres" in reason.reason
    examples = re.search(r"\((?:par exemple|for example) ?: (.+) (?:ou|or) (.+)\)", reason.reason)
    assert examples is not None, reason.reason
    read = [parse_text(PLAYBOOK.ui, STEPS["whole"], e, lang, MONDAY) for e in examples.groups()]
    assert read == [12, 12]


# --- 6. and 7. numbers at option questions --------------------------------------------------------


def test_twelve_at_the_revenue_share_question_is_ten_to_twenty_five():
    state, _ = start(PLAYBOOK, "lost_client", "fr")
    at_share = state.model_copy(update={"step": "revenue_share"})
    moved, _ = advance(PLAYBOOK, at_share, Answer("12"), MONDAY)
    assert moved.answers["revenue_share"] == "share_10_25"


def test_a_bound_two_ranges_share_asks_and_the_terminal_picks_by_number(db):
    conversation = conversation_on(db)
    user = conversation.user("terminal:ann", "ann", "fr")
    reply = conversation.start(user, "lost_client")
    out = terminal(conversation, "Acme\n1\n25\n2\n")
    assert "« 25 » peut vouloir dire plusieurs réponses" in out
    assert "  1. De 10 à 25 %\n  2. De 25 à 50 %\n" in out
    answers = repository.answers_for(db, reply.session_id)
    assert [json.loads(a.value) for a in answers if a.step == "revenue_share"] == ["share_25_50"]


@pytest.mark.parametrize(("lang", "typed", "value"), [("fr", "1", True), ("en", "2", False)])
def test_yes_no_is_numbered_in_the_terminal_and_takes_the_number(db, lang, typed, value):
    conversation = conversation_on(db)
    user = conversation.user("terminal:ann", "ann", lang)
    reply = conversation.start(user, "onboarding")
    choose_lang = "1" if lang == "fr" else "2\n1"  # in English, the country (refs #9) too
    out = terminal(conversation, f"{choose_lang}\n{typed}\n")
    assert f"  1. {PLAYBOOK.ui.yes.get(lang)}\n  2. {PLAYBOOK.ui.no.get(lang)}" in out
    answers = repository.answers_for(db, reply.session_id)
    assert [json.loads(a.value) for a in answers if a.step == "ready"] == [value]


# --- 8. commitment steps are date steps ---------------------------------------------------------


@pytest.mark.parametrize(
    ("flow", "step"),
    [
        ("commitment_check", "postponed_to"),
        ("commitment_check", "next_step_when"),
        ("daily_checkin", "next_step_when"),
        ("lost_client", "team_talk_when"),
        ("lost_client", "first_step_when"),
        ("lost_client", "contact_when"),
    ],
)
def test_commitment_steps_read_dates(flow, step):
    assert PLAYBOOK.flows[flow].step_by_id[step].reads_date
    state = at_date_step("fr", flow, step)
    moved, _ = advance(PLAYBOOK, state, Answer("lundi"), MONDAY)
    assert moved.answers[step] == "2026-12-07"


# --- 9. places: accents shown, a city with its country, the index warmed at start-up -------------


def test_montreal_is_shown_with_its_accent_in_french():
    assert place("America/Montreal", "fr") == "Montréal"
    assert place("America/Montreal", "en") == "Montreal"


def test_the_place_index_is_warmed_in_a_daemon_thread():
    from bot.flows.timezones import _build_cities
    from bot.startup import warm_places

    thread = warm_places()
    assert thread.daemon and thread.name == "rebond-places-warm-up"
    thread.join(60)
    assert not thread.is_alive() and _build_cities.cache_info().currsize == 1


@pytest.mark.parametrize(
    ("country", "number", "not_said"), [("gb", "116 123", "3114"), ("us", "988", "3114")]
)
def test_an_english_speaker_is_asked_their_country_once_and_gets_its_helplines(
    db, country, number, not_said
):
    state, outputs = start(PLAYBOOK, "onboarding", "en")
    state, outputs = advance(PLAYBOOK, state, Pick("en"), MONDAY)
    assert state.step == "helpline_country"
    state, _ = advance(PLAYBOOK, state, Pick(country), MONDAY)
    assert state.country == country
    _, outputs = advance(PLAYBOOK, state, Answer("I want to die"), MONDAY)
    note = outputs[0].text
    assert number in note and not_said not in note and "France" not in note

    conversation = conversation_on(db)
    user = conversation.user("terminal:ann", "ann", "en")
    conversation.start(user, "onboarding")
    label = next(
        o.label.en
        for o in PLAYBOOK.flows["onboarding"].step_by_id["helpline_country"].options
        if o.id == country
    )
    for event in (Pick("en"), Answer(label), Pick("yes")):
        reply = conversation.handle(user, event)
    assert conversation.session(reply.session_id).flow == "lost_client"  # asked once, not again
    reply = conversation.handle(user, Answer("I want to die"))
    assert number in reply.outputs[0].text
    conversation.cancel(user)
    reply = conversation.handle(user, Answer("I can't go on"))  # no flow open: still its numbers
    assert number in reply.outputs[0].text


def test_a_french_speaker_is_not_asked_and_keeps_france_s_numbers():
    state, _ = start(PLAYBOOK, "onboarding", "fr")
    state, _ = advance(PLAYBOOK, state, Pick("fr"), MONDAY)
    assert state.step != "helpline_country" and state.country is None
    _, outputs = advance(PLAYBOOK, state, Answer("je veux mourir"), MONDAY)
    assert "3114" in outputs[0].text


def test_rebond_check_wants_helplines_for_every_country_offered(tmp_path):
    from bot.flows.loader import PlaybookError, load_playbook

    text = REAL_PLAYBOOK.read_text(encoding="utf-8")
    broken = text.replace('{id: ch, label: {fr: "Suisse"', '{id: de, label: {fr: "Suisse"', 1)
    assert broken != text
    path = tmp_path / "playbook.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(PlaybookError, match="no helplines for 'de'"):
        load_playbook(path)
