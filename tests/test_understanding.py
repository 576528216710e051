"""Understanding what a manager types (refs #9): distress heard on every path, commands never
stored as answers, lengths as the manager sees them, words, numbers, times, places and dates."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.conversation import Conversation
from bot.flows.answers import ZONE_PICK, Rejected, grapheme_length
from bot.flows.engine import advance, start
from bot.flows.model import Playbook
from bot.flows.safety import PatternError, build_matcher, compile_pattern
from bot.flows.state import (
    Amend,
    Answer,
    Ask,
    Invalid,
    Pick,
    Recorded,
    SafetyNote,
    SafetyOffer,
    Say,
)
from bot.flows.text import fill
from bot.playbooks import PlaybookLibrary
from bot.terminal import ChatOptions, TerminalChat
from storage import repository
from storage.db import to_stored

from .helpers import REAL_PLAYBOOK, FakeClock, reflect
from .understanding import count, input_table, outcome, read, real_playbook, safety_table

PLAYBOOK: Playbook = real_playbook()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def at_client(lang: str = "fr"):
    """The reflection waiting on the client question."""
    state, outputs = start(PLAYBOOK, "lost_client", lang)
    assert state.step == "client", outputs
    return state


def library(db) -> PlaybookLibrary:
    """The real playbook, first seen at the tests' moment."""
    return PlaybookLibrary.from_file(db, REAL_PLAYBOOK, seen_at=to_stored(NOW))


def notes(outputs) -> list[object]:
    return [o for o in outputs if isinstance(o, SafetyNote | SafetyOffer)]


# --- the safety net ---------------------------------------------------------------------------

SAFETY = safety_table()
PATHS = ("typed", "edited", "check-in")
"""Where a manager's words reach the net: a typed answer, an edited one, a check-in's free text."""


def at_counter_fact(lang: str):
    """A daily check-in waiting on its free-text question (a middling day, in progress)."""
    state, _ = start(PLAYBOOK, "daily_checkin", lang, {"commitment": "Appeler Paul"})
    state, _ = advance(PLAYBOOK, state, Pick("3"), NOW)
    state, _ = advance(PLAYBOOK, state, Pick("progressing"), NOW)
    assert state.step == "counter_fact"
    return state


def say(path: str, lang: str, phrase: str):
    """The outputs of `phrase` said along `path`."""
    if path == "edited":
        state, _ = advance(PLAYBOOK, at_client(lang), Answer("Acme"), NOW)
        return advance(PLAYBOOK, state, Amend("client", phrase), NOW)[1]
    state = at_counter_fact(lang) if path == "check-in" else at_client(lang)
    return advance(PLAYBOOK, state, Answer(phrase), NOW)[1]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("lang", "phrase"),
    [(lang, phrase) for lang, table in SAFETY.items() for phrase in table["distress"]],
)
def test_every_distress_phrasing_brings_the_note(lang, phrase, path):
    outputs = say(path, lang, phrase)
    assert isinstance(outputs[0], SafetyNote), phrase


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("lang", "phrase"),
    [(lang, phrase) for lang, table in SAFETY.items() for phrase in table["business"]],
)
def test_no_business_sentence_brings_the_note(lang, phrase, path):
    assert not notes(say(path, lang, phrase)), phrase


def test_the_tables_have_enough_phrasings_in_both_languages():
    for table in SAFETY.values():
        assert len(table["distress"]) >= 40 and len(table["business"]) >= 20


def test_the_note_offers_to_pause_or_go_on_and_still_stores_the_answer():
    state, outputs = advance(PLAYBOOK, at_client("en"), Answer("I want to die"), NOW)
    assert isinstance(outputs[0], SafetyNote) and "France" in outputs[0].text
    offer = outputs[1]
    assert isinstance(offer, SafetyOffer)
    assert [(c.id, c.label) for c in offer.options] == [("pause", "Pause here"), ("go_on", "Go on")]
    assert isinstance(outputs[2], Recorded) and state.step != "client"


def test_an_edited_answer_is_checked_too():
    state, _ = advance(PLAYBOOK, at_client(), Answer("Acme"), NOW)
    amended, outputs = advance(
        PLAYBOOK, state, Amend("client", "Acme. Et moi, je n'en peux plus."), NOW
    )
    assert isinstance(outputs[0], SafetyNote)
    assert any(isinstance(o, Recorded) and o.amended for o in outputs)
    assert amended.answers["client"] == "Acme. Et moi, je n'en peux plus."


def test_a_refused_answer_is_checked_too():
    state = at_client()
    long = "je veux mourir " + "x" * 100
    after, outputs = advance(PLAYBOOK, state, Answer(long), NOW)
    assert isinstance(outputs[0], SafetyNote)
    # nothing answered; only the choice after the note now waits (refs #9: kept across restarts)
    assert after.safety_offered and after.model_copy(update={"safety_offered": False}) == state
    assert isinstance(outputs[1], SafetyOffer) and isinstance(outputs[-1], Ask)
    assert not any(isinstance(o, Invalid) for o in outputs)  # no correction before the note


def test_free_text_in_a_check_in_is_checked():
    state, _ = start(PLAYBOOK, "daily_checkin", "fr", {"commitment": "Appeler Paul"})
    for _ in range(5):
        if state.step == "counter_fact":
            break
        step = PLAYBOOK.flows["daily_checkin"].step_by_id[state.step]
        answer = Pick("1") if step.type == "scale" else Pick(step.options[-1].id)
        state, _ = advance(PLAYBOOK, state, answer, NOW)
    assert state.step == "counter_fact"
    _, outputs = advance(PLAYBOOK, state, Answer("je ne dors plus"), NOW)
    assert isinstance(outputs[0], SafetyNote)


def test_text_after_the_end_is_checked_and_an_edit_there_is_told_it_is_too_late(db):
    conversation = Conversation(db, library(db), FakeClock())
    user = conversation.user("t:1", "Ann", "fr")
    reply = conversation.handle(user, Answer("je pense à en finir"))
    assert isinstance(reply.outputs[0], SafetyNote)
    reply = conversation.handle(user, Amend("client", "Acme"))
    assert reply.outputs == (Invalid(PLAYBOOK.ui.amend_after_end.get("fr")),)
    finished = at_client().model_copy(update={"step": None})
    _, outputs = advance(PLAYBOOK, finished, Amend("client", "je suis à bout"), NOW)
    assert isinstance(outputs[0], SafetyNote)
    assert outputs[-1] == Invalid(PLAYBOOK.ui.amend_after_end.get("fr"))


@pytest.mark.parametrize(
    ("text", "heard"),
    [
        ("sales are depressed", False),
        ("sales down, depressed", True),  # the exclusion would reach past the comma
        ("sales down I'm depressed", True),  # ...or take in the manager
        ("sales down, me depressed", True),
        ("depressed. Sales are depressed too", True),
    ],
)
def test_an_exclusion_stays_in_its_clause_and_never_takes_in_the_manager(text, heard):
    matcher = build_matcher(["depressed"], ["sales ... depressed"])
    assert matcher.matches(text) is heard


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [("...", "'...' goes between words"), ("a ... ... b", "two '...'"), ("  ", "empty")],
)
def test_unusable_patterns_are_refused(pattern, problem):
    with pytest.raises(PatternError, match=problem):
        compile_pattern(pattern)


def test_rebond_check_reports_a_bad_pattern_with_its_line(make_playbook, tmp_path):
    from bot.flows.loader import PlaybookError, load_playbook

    text = REAL_PLAYBOOK.read_text(encoding="utf-8").replace(
        '      - "je craque"\n', '      - "je craque ..."\n', 1
    )
    path = tmp_path / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlaybookError) as error:
        load_playbook(path)
    line = text.splitlines().index('      - "je craque ..."') + 1
    assert f"playbook.yaml:{line}:9: safety.keywords.fr" in str(error.value)
    assert "goes between words" in str(error.value)


# --- a slash command is never an answer -------------------------------------------------------


def test_a_slash_command_at_a_question_is_refused_with_the_list_and_not_stored():
    state = at_client()
    after, outputs = advance(PLAYBOOK, state, Answer("/history"), NOW)
    assert after is state
    assert not any(isinstance(o, Recorded) for o in outputs)
    assert isinstance(outputs[0], Invalid) and "/history" in outputs[0].reason
    assert "/reflect" in outputs[0].reason


def test_an_answer_edited_into_a_command_is_not_stored():
    state, _ = advance(PLAYBOOK, at_client(), Answer("Acme"), NOW)
    after, outputs = advance(PLAYBOOK, state, Amend("client", "/pause"), NOW)
    assert after is state and isinstance(outputs[0], Invalid)


def test_a_slash_that_is_not_a_command_is_an_answer():
    state, _ = advance(PLAYBOOK, at_client(), Answer("/ 2 clients"), NOW)
    assert state.answers["client"] == "/ 2 clients"


def chat(db, lines: str, lang: str = "fr") -> str:
    conversation = Conversation(db, library(db), FakeClock())
    user = conversation.user("terminal:ann", "ann", lang)
    conversation.start(user, "lost_client")
    out = io.StringIO()
    TerminalChat(conversation, ChatOptions(user="ann"), io.StringIO(lines), out).run()
    return out.getvalue()


def test_terminal_history_at_the_client_question_is_a_command_not_the_client(db):
    out = chat(db, "/history\nAcme\n")
    assert "que /history" not in out and "qu'/history" not in out
    # In the middle of a reflection, no "type /reflect to start one" (refs #11)
    assert "Vous n'avez pas encore terminé de réflexion." in out
    assert "/reflect pour en commencer" not in out
    assert "qu'Acme s'en va" in out  # and French elision before a vowel


def test_terminal_unknown_command_lists_the_terminal_commands(db):
    out = chat(db, "/pauze\n")
    assert "/pauze" in out and "/history" in out and "/progress" in out and "/share" not in out


def test_terminal_checkin_says_where_check_ins_happen(db):
    assert "rebond checkin" in chat(db, "/checkin\n")


def test_terminal_language_switches_by_number(db):
    out = chat(db, "/language\n2\n")
    assert PLAYBOOK.ui.language_set.get("en") in out
    assert "Which client" in out or "client" in out.split(PLAYBOOK.ui.language_set.get("en"))[1]


def test_terminal_safety_offer_pause_here(db):
    out = chat(db, "je veux mourir\n1\n")
    assert PLAYBOOK.safety.offer.prompt.get("fr") in out
    assert out.rstrip().endswith(PLAYBOOK.ui.paused.get("fr"))


def test_terminal_safety_offer_go_on_shows_the_next_question(db):
    out = chat(db, "Acme, et je veux mourir\n2\n")
    after_offer = out.split(PLAYBOOK.safety.offer.prompt.get("fr"))[1]
    assert "Depuis quand" in after_offer.split("2")[-1] or "Depuis quand" in after_offer


# --- lengths as the manager sees them ---------------------------------------------------------


def test_lengths_count_grapheme_clusters():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert grapheme_length(family * 80) == 80
    assert grapheme_length("e\u0301" * 3) == 3 and grapheme_length("abc") == 3
    state = at_client()
    accepted, _ = advance(PLAYBOOK, state, Answer(family * 80), NOW)
    assert accepted.step != "client"
    after, outputs = advance(PLAYBOOK, state, Answer(family * 81), NOW)
    assert after is state and "81" in outputs[0].reason


# --- numbers, times, places and dates ---------------------------------------------------------

ROWS = input_table()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['kind']}-{r['text']}" for r in ROWS])
def test_input_table(row):
    value = read(PLAYBOOK, row)
    assert outcome(row, value) in ("understood", "asked"), value


def test_counts_goal_no_misread(capsys):
    counts = count(PLAYBOOK)
    assert counts.wrongly_caught == 0 and counts.caught == counts.distress
    assert counts.by_outcome.get("misread", 0) == 0 and counts.misread == []


def test_an_ambiguous_number_asks_back_with_both_readings():
    state, _ = start(PLAYBOOK, "checkin_setup", "fr")
    row = {"kind": "decimal", "lang": "fr", "text": "1.000", "expect": "ask"}
    value = read(PLAYBOOK, row)
    assert isinstance(value, Rejected) and "1000" in value.reason and "1" in value.reason
    assert state is not None


def test_an_ambiguous_place_offers_its_candidates_as_buttons_and_a_pick_takes_one(make_playbook):
    from .test_engine import TIME_FLOWS

    playbook = make_playbook(TIME_FLOWS)
    state, _ = start(playbook, "setup", "en")
    state, _ = advance(playbook, state, Pick("0830"), NOW)
    after, outputs = advance(playbook, state, Answer("Springfield"), NOW)
    assert isinstance(outputs[0], Invalid)
    assert after == state.model_copy(update={"choices": after.choices})  # kept for a restart
    ask = outputs[-1]
    assert isinstance(ask, Ask) and all(o.id.startswith(ZONE_PICK) for o in ask.options)
    assert len(ask.options) >= 2
    assert [(o.id, o.label) for o in ask.options] == list(after.choices)
    chosen, outputs = advance(playbook, after, Pick(ask.options[1].id), NOW)
    assert chosen.answers["zone"] == ask.options[1].id.removeprefix(ZONE_PICK)
    assert not chosen.choices
    chosen, outputs = advance(playbook, after, Answer("2"), NOW)  # the number typed, too
    assert chosen.answers["zone"] == ask.options[1].id.removeprefix(ZONE_PICK)


def test_a_time_zone_is_confirmed_with_the_place_and_its_current_offset(make_playbook):
    from .test_engine import TIME_FLOWS

    playbook = make_playbook(TIME_FLOWS)
    state, _ = start(playbook, "setup", "fr")
    state, _ = advance(playbook, state, Pick("0830"), NOW)
    july = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    state, outputs = advance(playbook, state, Answer("EST"), july)
    assert state.answers["zone"] == "America/New_York"
    said = [o.text for o in outputs if isinstance(o, Say)]
    assert "timezone_confirmed fr New York UTC\u221204:00" in said


def test_time_zone_buttons_speak_the_managers_language():
    state, _ = start(PLAYBOOK, "checkin_setup", "fr")
    labels = []
    for _ in range(6):
        step = PLAYBOOK.flows["checkin_setup"].step_by_id[state.step]
        if step.type == "timezone":
            break
        state, outputs = advance(PLAYBOOK, state, Pick(_first_option(step)), NOW)
    asks = [o for o in outputs if isinstance(o, Ask)]
    labels = [o.label for o in asks[-1].options]
    assert "Bruxelles" in labels and "La Réunion" in labels


def _first_option(step) -> str:
    if step.type == "time":
        return step.suggestions[0].replace(":", "")
    if step.type == "yes_no":
        return "yes"
    return step.options[0].id


def test_a_commitment_date_is_stored_as_a_date_and_the_summary_shows_the_date(db):
    clock = FakeClock(NOW)
    conversation = Conversation(db, library(db), clock)
    user = conversation.user("t:2", "Ann", "fr")
    session_id = reflect(SimpleNamespace(conversation=conversation), user, text="jeudi prochain")
    row = conversation.session(session_id)
    lines = json.loads(row.summary or "{}")["lines"]
    assert any("(d'ici : jeudi 3 décembre)" in line for line in lines), lines
    assert not any("d'ici : jeudi prochain" in line for line in lines)
    assert "jeudi 3 décembre" in json.loads(row.outputs or "{}")["commitment"]
    stored = [a for a in repository.answers_for(db, session_id) if a.step == "first_step_when"]
    assert [(a.raw_text, json.loads(a.value)) for a in stored] == [("jeudi prochain", "2026-12-03")]


def test_a_date_read_is_said_back_as_a_date():
    state, _ = start(PLAYBOOK, "lost_client", "fr")
    flow = PLAYBOOK.flows["lost_client"]
    at_date = state.model_copy(update={"step": "first_step_when"})
    assert flow.step_by_id["first_step_when"].reads_date
    _, outputs = advance(PLAYBOOK, at_date, Answer("jeudi prochain"), NOW)
    assert Say("Noté pour le jeudi 3 décembre.") in outputs
    kept, outputs = advance(PLAYBOOK, at_date, Answer("dès que possible"), NOW)
    assert kept.answers["first_step_when"] == "dès que possible"
    assert not any(isinstance(o, Say) and o.text.startswith("Noté pour") for o in outputs)


def test_elision_follows_the_value():
    assert (
        fill("savez-vous que {client} s'en va", {"client": "Acme"}) == "savez-vous qu'Acme s'en va"
    )
    assert fill("dépend-elle de {client}", {"client": "Orange"}) == "dépend-elle d'Orange"
    assert fill("savez-vous que {client}", {"client": "Berger"}) == "savez-vous que Berger"
    assert fill("what {client} meant", {"client": "Acme"}) == "what Acme meant"
