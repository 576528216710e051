"""The pure engine, driven by small inline playbooks: events in, state and outputs out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.flows.engine import advance, ask, start
from bot.flows.model import Playbook
from bot.flows.state import (
    Amend,
    Answer,
    Ask,
    Back,
    Done,
    Event,
    Invalid,
    LanguageChanged,
    Pick,
    Recorded,
    Restart,
    SafetyNote,
    SafetyOffer,
    Say,
    SessionState,
    Skip,
    Submit,
    Toggle,
)

FLOWS = """
reflect:
  title: {fr: Réflexion, en: Reflection}
  inputs:
    commitment: {fr: "votre étape", en: "your step"}
  outputs:
    plan: {fr: "Plan : {client}", en: "Plan: {client}"}
  sections:
    - id: facts
      title: {fr: Les faits, en: The facts}
      steps:
        - id: hello
          type: message
          text: {fr: "Bonjour ({commitment})", en: "Hello ({commitment})"}
        - id: client
          type: text
          prompt: {fr: "Quel client ?", en: "Which client?"}
          max_length: 10
        - id: guilt
          type: scale
          prompt: {fr: "Culpabilité pour {client} ?", en: "Guilt about {client}?"}
          labels: {0: {fr: nulle, en: none}, 10: {fr: totale, en: total}}
        - id: first
          type: choice
          prompt: {fr: "Première idée ?", en: "First idea?"}
          options:
            - {id: crisis, label: {fr: "Leur crise", en: "Their crisis"}}
            - {id: ours, label: {fr: "Notre faute", en: "Our fault"}}
          next:
            - when: {any: [{equals: {first: ours}}, {at_least: {guilt: 7}}]}
              goto: reframe
            - default: ways
    - id: guilt_section
      title: {fr: Culpabilité, en: Guilt}
      steps:
        - id: reframe
          type: text
          prompt: {fr: "Que savez-vous de leur situation ?", en: "What do you know of them?"}
        - id: stayed
          type: number
          prompt: {fr: "Combien sont restés ?", en: "How many stayed?"}
          min: 0
          max: 500
        - id: note
          type: message
          text: {fr: "Merci.", en: "Thanks."}
    - id: contact
      title: {fr: Contact, en: Contact}
      steps:
        - id: ways
          type: multi_choice
          prompt: {fr: "Comment garder le lien ?", en: "How to keep in touch?"}
          max_selected: 2
          options:
            - {id: news, label: {fr: Nouvelles, en: News}}
            - {id: event, label: {fr: Événement, en: Event}}
            - {id: call, label: {fr: Appel, en: Call}}
        - id: extra
          type: text
          optional: true
          prompt: {fr: "Autre chose ?", en: "Anything else?"}
        - id: checkin
          type: yes_no
          prompt: {fr: "Un point quotidien ?", en: "A daily check-in?"}
  summary:
    title: {fr: Résumé, en: Summary}
    lines:
      - {fr: "Client : {client}", en: "Client: {client}"}
      - {fr: "Recadrage : {reframe}", en: "Reframe: {reframe}"}
      - {fr: "Autre : {extra}", en: "Other: {extra}"}
      - {fr: "Point : {checkin}", en: "Check-in: {checkin}"}
"""


@pytest.fixture
def playbook(make_playbook: Callable[[str], Playbook]) -> Playbook:
    return make_playbook(FLOWS)


def run(playbook: Playbook, state: SessionState, *events: Event) -> tuple[SessionState, list]:
    """Apply events in turn; return the last state and every output."""
    outputs: list = []
    for event in events:
        state, produced = advance(playbook, state, event)
        outputs.extend(produced)
    return state, outputs


def last_ask(outputs: list) -> Ask:
    asks = [output for output in outputs if isinstance(output, Ask)]
    assert asks, outputs
    return asks[-1]


def test_start_says_the_opening_with_its_input_and_asks_the_first_question(playbook: Playbook):
    state, outputs = start(playbook, "reflect", "fr", {"commitment": "appeler Paul"})
    assert outputs[0] == Say("Bonjour (appeler Paul)")
    question = outputs[1]
    assert isinstance(question, Ask)
    assert (question.step, question.prompt, str(question.progress)) == (
        "client",
        "Quel client ?",
        "1/3 - Les faits",
    )
    assert state.step == "client" and state.turn == 1 and state.version == playbook.version


def test_a_missing_input_takes_its_default_text(playbook: Playbook):
    _, outputs = start(playbook, "reflect", "en")
    assert outputs[0] == Say("Hello (your step)")


def test_an_answer_is_recorded_and_quoted_in_the_next_prompt(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, outputs = advance(playbook, state, Answer("  Acme  "))
    assert outputs[0] == Recorded("client", "facts", "  Acme  ", "Acme")
    assert last_ask(outputs).prompt == "Guilt about Acme?"
    assert last_ask(outputs).hint == "0 = none · 10 = total"
    assert state.answers == {"client": "Acme"} and state.history == ("client",)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "At least 1 character(s)."),
        ("   ", "At least 1 character(s)."),
        ("x" * 11, "11 characters: the maximum is 10."),
    ],
)
def test_bad_text_is_rejected_with_the_reason_and_the_question_again(
    playbook: Playbook, typed: str, reason: str
):
    state, _ = start(playbook, "reflect", "en")
    after, outputs = advance(playbook, state, Answer(typed))
    assert after is state
    assert outputs[0] == Invalid(reason)
    assert last_ask(outputs).step == "client"


@pytest.mark.parametrize(
    ("event", "accepted"),
    [
        (Answer("7"), 7),
        (Answer(" 7/10 "), 7),
        (Pick("0"), 0),
        (Answer("11"), None),
        (Answer("-1"), None),
        (Answer("sept"), 7),  # number words on a mood scale (refs #9)
        (Answer("7.5"), None),
        (Pick("42"), None),
    ],
)
def test_scale_answers(playbook: Playbook, event: Event, accepted: int | None):
    state, _ = start(playbook, "reflect", "en")
    state, _ = advance(playbook, state, Answer("Acme"))
    after, outputs = advance(playbook, state, event)
    if accepted is None:
        assert outputs[0] == Invalid("A whole number from 0 to 10, please.")
        assert after is state
    else:
        assert after.answers["guilt"] == accepted


@pytest.mark.parametrize(
    ("event", "value"),
    [
        (Pick("crisis"), "crisis"),
        (Answer("1"), "crisis"),
        (Answer("leur CRISE"), "crisis"),
        (Answer("Their crisis"), "crisis"),
        (Answer("ours"), "ours"),
    ],
)
def test_choice_accepts_a_button_a_number_an_id_or_a_label(playbook: Playbook, event, value):
    state, _ = start(playbook, "reflect", "fr")
    state, _ = run(playbook, state, Answer("Acme"), Answer("2"))
    state, _ = advance(playbook, state, event)
    assert state.answers["first"] == value


@pytest.mark.parametrize("typed", ["3", "0", "bof", ""])
def test_choice_rejects_what_is_not_an_option(playbook: Playbook, typed: str):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("2"))
    after, outputs = advance(playbook, state, Answer(typed))
    assert after is state
    assert outputs[0] == Invalid("Pick an option (1 to 2).")


def test_a_pressed_button_is_stored_with_its_label(playbook: Playbook):
    state, _ = start(playbook, "reflect", "fr")
    state, _ = run(playbook, state, Answer("Acme"), Answer("2"))
    _, outputs = advance(playbook, state, Pick("crisis"))
    assert outputs[0] == Recorded("first", "facts", "Leur crise", "crisis")


@pytest.mark.parametrize(
    ("guilt", "first", "next_step"),
    [("2", "crisis", "ways"), ("2", "ours", "reframe"), ("7", "crisis", "reframe")],
)
def test_branches_follow_the_declared_conditions(playbook, guilt, first, next_step):
    state, _ = start(playbook, "reflect", "en")
    state, outputs = run(playbook, state, Answer("Acme"), Answer(guilt), Pick(first))
    assert state.step == next_step
    assert str(last_ask(outputs).progress).startswith("2/3" if next_step == "reframe" else "3/3")


def test_message_steps_are_said_on_the_way(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, outputs = run(
        playbook, state, Answer("Acme"), Answer("9"), Pick("ours"), Answer("crisis")
    )
    state, outputs = advance(playbook, state, Answer("12"))
    assert list(outputs[1:3]) == [Say("Thanks."), last_ask(list(outputs))]
    assert state.step == "ways"


@pytest.mark.parametrize(
    ("typed", "value"),
    [("12", 12), ("0", 0), ("500", 500)],
)
def test_number_answers(playbook: Playbook, typed: str, value: int):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("9"), Pick("ours"), Answer("crisis"))
    state, _ = advance(playbook, state, Answer(typed))
    assert state.answers["stayed"] == value


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("beaucoup", "I need a number."),
        ("1.5", "A whole number, please."),
        ("501", "Between 0 and 500, please."),
        ("-3", "Between 0 and 500, please."),
    ],
)
def test_number_rejections(playbook: Playbook, typed: str, reason: str):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("9"), Pick("ours"), Answer("crisis"))
    after, outputs = advance(playbook, state, Answer(typed))
    assert after is state and outputs[0] == Invalid(reason)


def reach_ways(playbook: Playbook, lang: str = "en") -> SessionState:
    state, _ = start(playbook, "reflect", lang)
    state, _ = run(playbook, state, Answer("Acme"), Answer("1"), Pick("crisis"))
    assert state.step == "ways"
    return state


def test_multi_choice_by_toggles_then_submit(playbook: Playbook):
    state = reach_ways(playbook)
    state, outputs = run(playbook, state, Toggle("news"), Toggle("call"), Toggle("news"))
    assert [o.selected for o in last_ask(outputs).options] == [False, False, True]
    state, outputs = advance(playbook, state, Submit())
    assert outputs[0] == Recorded("ways", "contact", "Call", ["call"])


def test_multi_choice_typed_as_numbers_or_labels(playbook: Playbook):
    state = reach_ways(playbook)
    after, _ = advance(playbook, state, Answer("3, 1"))
    assert after.answers["ways"] == ["news", "call"]
    after, _ = advance(playbook, state, Answer("1 2"))
    assert after.answers["ways"] == ["news", "event"]
    after, _ = advance(playbook, state, Answer("news and event"))
    assert after.answers["ways"] == ["news", "event"]


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        ([Submit()], "Pick at least 1."),
        ([Answer("1,2,3")], "Pick at most 2."),
        ([Answer("1, 9")], "Pick among the options (1 to 3), separated by commas."),
        ([Toggle("nope")], "Pick among the options (1 to 3), separated by commas."),
    ],
)
def test_multi_choice_rejections(playbook: Playbook, events: list, reason: str):
    state = reach_ways(playbook)
    after, outputs = run(playbook, state, *events)
    assert Invalid(reason) in outputs
    assert after.step == "ways" and "ways" not in after.answers


def test_skip_only_where_optional(playbook: Playbook):
    state = reach_ways(playbook)
    after, outputs = advance(playbook, state, Skip())
    assert after is state and outputs[0] == Invalid("This question can't be skipped.")
    state, outputs = run(playbook, state, Answer("1"), Skip())
    assert Recorded("extra", "contact", "", None) in outputs
    assert state.step == "checkin" and state.answers["extra"] is None


def test_back_returns_to_the_previous_question_and_shows_the_earlier_answer(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("4"))
    state, outputs = advance(playbook, state, Back())
    assert state.step == "guilt" and state.history == ("client",)
    assert last_ask(outputs).previous == "4"
    state, outputs = advance(playbook, state, Back())
    assert state.step == "client" and last_ask(outputs).previous == "Acme"
    after, outputs = advance(playbook, state, Back())
    assert after is state and outputs[0] == Invalid("This is the first question.")


def test_back_then_another_branch_drops_the_abandoned_answers(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("2"), Pick("ours"), Answer("cuts"))
    assert state.step == "stayed" and "reframe" in state.answers
    state, _ = run(playbook, state, Back(), Back(), Pick("crisis"))
    assert state.step == "ways"
    assert set(state.answers) == {"client", "guilt", "first"}


def test_back_to_a_multi_choice_restores_the_ticks(playbook: Playbook):
    state = reach_ways(playbook)
    state, _ = run(playbook, state, Answer("1,3"), Back())
    assert state.selection == ("news", "call")
    assert [o.selected for o in ask(playbook, state).options] == [True, False, True]


def test_the_end_gives_the_summary_without_lines_quoting_missing_answers(playbook: Playbook):
    state = reach_ways(playbook)
    state, outputs = run(playbook, state, Answer("1"), Skip(), Pick("yes"))
    done = outputs[-1]
    assert isinstance(done, Done)
    assert done.title == "Summary"
    assert done.lines == ("Client: Acme", "Check-in: Yes")
    assert done.outputs == (("plan", "Plan: Acme"),)
    assert state.done and state.step is None


def test_events_after_the_end_change_nothing(playbook: Playbook):
    state = reach_ways(playbook)
    state, _ = run(playbook, state, Answer("1"), Skip(), Answer("non"))
    for event in (Answer("x"), Back(), Skip(), Pick("yes"), Toggle("news"), Submit()):
        after, outputs = advance(playbook, state, event)
        assert after is state and outputs == (Invalid("This is finished."),)


def test_restart_starts_over_and_keeps_turns_growing(playbook: Playbook):
    state = reach_ways(playbook)
    turn = state.turn
    state, outputs = advance(playbook, state, Restart())
    assert outputs[0] == Say("Starting again.")
    assert state.step == "client" and state.answers == {} and state.turn > turn


def test_every_question_gets_a_new_turn_so_old_buttons_can_be_told_apart(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    turns = [state.turn]
    for event in (Answer("Acme"), Answer("2"), Back(), Answer("3")):
        state, _ = advance(playbook, state, event)
        turns.append(state.turn)
    assert turns == sorted(set(turns))


def test_a_distress_word_brings_the_safety_note_first_then_goes_on(playbook: Playbook):
    state, _ = start(playbook, "reflect", "fr")
    state, outputs = advance(playbook, state, Answer("EPUISE !"))
    assert outputs[0] == SafetyNote("Aide: 3114.")
    assert isinstance(outputs[1], SafetyOffer)
    assert [choice.id for choice in outputs[1].options] == ["pause", "go_on"]
    assert isinstance(outputs[2], Recorded) and state.step == "guilt"


@pytest.mark.parametrize(
    "text",
    ["suicidaire", "I feel exhausted.", "épuisé", "idées suicidaires"],
)
def test_safety_words_in_either_language_whole_words_or_stems(playbook, text):
    state, _ = start(playbook, "reflect", "en")
    _, outputs = advance(playbook, state, Answer(text))
    assert isinstance(outputs[0], SafetyNote)


@pytest.mark.parametrize("text", ["exhaustive review", "Acme", "épuisette"])
def test_no_safety_note_on_ordinary_words(playbook: Playbook, text: str):
    state, _ = start(playbook, "reflect", "en")
    _, outputs = advance(playbook, state, Answer(text))
    assert not any(isinstance(output, SafetyNote) for output in outputs)


def test_a_language_choice_switches_the_rest_of_the_flow(make_playbook):
    playbook = make_playbook(
        """
        welcome:
          title: {fr: Accueil, en: Welcome}
          sections:
            - id: one
              title: {fr: Un, en: One}
              steps:
                - id: language
                  type: choice
                  sets_language: true
                  prompt: {fr: "Langue ? / Language?", en: "Langue ? / Language?"}
                  options:
                    - {id: fr, label: {fr: Français, en: Français}}
                    - {id: en, label: {fr: English, en: English}}
                - id: name
                  type: text
                  prompt: {fr: "Votre prénom ?", en: "Your first name?"}
        """
    )
    state, _ = start(playbook, "welcome", "fr")
    state, outputs = advance(playbook, state, Pick("en"))
    assert LanguageChanged("en") in outputs
    assert state.lang == "en" and last_ask(outputs).prompt == "Your first name?"


def test_next_flow_is_chosen_from_the_answers(make_playbook):
    playbook = make_playbook(
        """
        welcome:
          title: {fr: Accueil, en: Welcome}
          next_flow:
            - when: {equals: {ready: true}}
              goto: other
            - default: end
          sections:
            - id: one
              title: {fr: Un, en: One}
              steps:
                - id: ready
                  type: yes_no
                  prompt: {fr: "Prêt ?", en: "Ready?"}
        other:
          title: {fr: Autre, en: Other}
          sections:
            - id: one
              title: {fr: Un, en: One}
              steps:
                - id: hi
                  type: message
                  text: {fr: Salut, en: Hi}
        """
    )
    state, _ = start(playbook, "welcome", "en")
    _, outputs = advance(playbook, state, Answer("yes"))
    assert outputs[-1].next_flow == "other"
    _, outputs = advance(playbook, state, Answer("no"))
    assert outputs[-1].next_flow is None


@pytest.mark.parametrize(
    ("event", "reason"),
    [(Submit(), "At least 1 character(s)."), (Toggle("news"), "At least 1 character(s).")],
)
def test_a_multi_choice_event_at_another_question_says_how_to_answer(playbook, event, reason):
    state, _ = start(playbook, "reflect", "en")
    after, outputs = advance(playbook, state, event)
    assert after is state and outputs[0] == Invalid(reason)


def test_submit_at_a_choice_names_the_number_of_options(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("2"))
    _, outputs = advance(playbook, state, Submit())
    assert outputs[0] == Invalid("Pick an option (1 to 2).")


def test_yes_no_words_in_both_languages(playbook: Playbook):
    state = reach_ways(playbook)
    state, _ = run(playbook, state, Answer("1"), Skip())
    for typed, value in [("Oui", True), ("y", True), ("NON", False), ("no", False)]:
        after, _ = advance(playbook, state, Answer(typed))
        assert after.answers["checkin"] is value
    after, outputs = advance(playbook, state, Answer("peut-être"))
    assert after is state and outputs[0] == Invalid("Yes or no?")


def test_amend_replaces_the_last_text_answer_and_refreshes_the_question(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, _ = advance(playbook, state, Answer("Acme"))
    state, outputs = advance(playbook, state, Amend("client", "Globex"))
    assert outputs[0] == Recorded("client", "facts", "Globex", "Globex", amended=True)
    assert last_ask(list(outputs)).prompt == "Guilt about Globex?"
    assert state.answers == {"client": "Globex"} and state.step == "guilt"


def test_amend_of_an_older_answer_is_refused(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("3"))
    after, outputs = advance(playbook, state, Amend("client", "Globex"))
    assert after is state and outputs == (Invalid("Too late: /back."),)


def test_amend_that_would_change_the_path_is_refused(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, _ = run(playbook, state, Answer("Acme"), Answer("3"), Pick("crisis"))
    after, outputs = advance(playbook, state, Amend("first", "ours"))
    assert after is state and outputs == (Invalid("Use /back."),)


def test_amend_with_an_invalid_text_says_why(playbook: Playbook):
    state, _ = start(playbook, "reflect", "en")
    state, _ = advance(playbook, state, Answer("Acme"))
    after, outputs = advance(playbook, state, Amend("client", "x" * 11))
    assert after is state and outputs == (Invalid("11 characters: the maximum is 10."),)


TIME_FLOWS = """
setup:
  title: {fr: Réglage, en: Setup}
  sections:
    - id: one
      title: {fr: Un, en: One}
      steps:
        - id: at
          type: time
          suggestions: ["08:30", "18:00"]
          prompt: {fr: "À quelle heure ?", en: "What time?"}
        - id: zone
          type: timezone
          suggestions: {fr: [Europe/Paris, America/Montreal], en: [Europe/London]}
          prompt: {fr: "Fuseau ?", en: "Time zone?"}
        - id: done
          type: message
          text: {fr: "À {at}, heure de {zone}.", en: "At {at}, {zone} time."}
"""


def test_time_and_timezone_steps_by_button_or_typed(make_playbook):
    playbook = make_playbook(TIME_FLOWS)
    state, outputs = start(playbook, "setup", "fr")
    assert [(o.id, o.label) for o in last_ask(list(outputs)).options] == [
        ("0830", "08:30"),
        ("1800", "18:00"),
    ]
    after, outputs = advance(playbook, state, Answer("25h"))
    assert after is state and outputs[0] == Invalid("Heure ?")
    state, outputs = advance(playbook, state, Pick("0830"))
    assert [(o.id, o.label) for o in last_ask(list(outputs)).options] == [
        ("z0", "Paris"),
        ("z1", "Montréal"),
    ]
    typed, _ = advance(playbook, state, Answer("New York"))
    assert typed.answers["zone"] == "America/New_York"
    after, outputs = advance(playbook, state, Answer("Atlantide"))
    assert after is state and outputs[0] == Invalid("Fuseau ?")
    state, outputs = advance(playbook, state, Pick("z1"))
    assert state.answers == {"at": "08:30", "zone": "America/Montreal"}
    assert outputs[1] == Say("À 08:30, heure de Montréal.")


def test_an_empty_line_passes_an_optional_question(playbook: Playbook):
    state = reach_ways(playbook)
    state, _ = advance(playbook, state, Answer("1"))
    state, outputs = advance(playbook, state, Answer("   "))
    assert outputs[0] == Recorded("extra", "contact", "", None)
    assert state.step == "checkin"


@pytest.mark.parametrize("steps_before", [1, 2, 3])
def test_thousands_of_digits_are_refused_not_raised(playbook: Playbook, steps_before: int):
    state, _ = start(playbook, "reflect", "en")
    for event in [Answer("Acme"), Answer("2"), Pick("crisis")][: steps_before - 1]:
        state, _ = advance(playbook, state, event)
    after, outputs = advance(playbook, state, Answer("9" * 5000))
    assert after.step == state.step
    if state.step != "client":
        assert isinstance(outputs[0], Invalid)


# --- issue #11: the skip choice of optional questions, exclusive options ----------------------

JOURNEY_STEPS = """
- id: ways
  type: multi_choice
  min_selected: 1
  prompt: {fr: "Lesquels ?", en: "Which?"}
  options:
    - {id: call, label: {fr: Appel, en: Call}}
    - {id: mail, label: {fr: Courriel, en: Mail}}
    - {id: none, exclusive: true, label: {fr: Aucun, en: None of these}}
- id: note
  type: text
  optional: true
  prompt: {fr: "Une note ?", en: "A note?"}
"""


def journey_flow(make_playbook):
    return make_playbook(
        "f:\n  title: {fr: F, en: F}\n  sections:\n    - id: s\n      title: {fr: S, en: S}\n"
        "      steps:\n"
        + "\n".join("        " + line for line in JOURNEY_STEPS.strip().split("\n"))
    )


def test_none_of_these_clears_the_others_and_the_others_clear_it(make_playbook):
    from bot.flows.state import Toggle

    playbook = journey_flow(make_playbook)
    state, _ = start(playbook, "f", "en")
    state, _ = advance(playbook, state, Toggle("call"))
    state, _ = advance(playbook, state, Toggle("mail"))
    state, _ = advance(playbook, state, Toggle("none"))
    assert state.selection == ("none",)
    state, _ = advance(playbook, state, Toggle("mail"))
    assert state.selection == ("mail",)
    refused, outputs = advance(playbook, state, Answer("1, 3"))
    assert refused is state
    assert outputs[0] == Invalid("exclusive_option en")


def test_an_optional_question_offers_a_skip_choice(make_playbook):
    from bot.flows.engine import SKIP_OPTION
    from bot.flows.state import Pick

    playbook = journey_flow(make_playbook)
    state, outputs = start(playbook, "f", "fr")
    assert outputs[-1].skip is None  # required
    state, outputs = advance(playbook, state, Answer("1"))
    assert outputs[-1].skip == "skip_button fr"
    state, outputs = advance(playbook, state, Pick(SKIP_OPTION))
    assert state.done and state.answers["note"] is None
