"""Every validation rule, with the exact words it reports (path: message)."""

from __future__ import annotations

import pytest

from bot.flows.loader import PlaybookError, parse_playbook
from bot.flows.validate import REQUIRED_FLOWS

from .helpers import playbook_yaml


def problems(flows: str, required: tuple[str, ...] = ()) -> list[str]:
    """The `path: message` part of every problem found in a playbook with these flows."""
    try:
        parse_playbook(playbook_yaml(flows), "test.yaml", required)
    except PlaybookError as error:
        return [f"{issue.path}: {issue.message}" for issue in error.issues]
    return []


def flow(steps: str, extra: str = "") -> str:
    """One flow `f` with one section `s` holding the given steps (YAML list items)."""
    indented = "\n".join("        " + line for line in steps.strip().splitlines())
    return f"""
f:
  title: {{fr: F, en: F}}
{extra}
  sections:
    - id: s
      title: {{fr: S, en: S}}
      steps:
{indented}
"""


TEXT_A = "- {id: a, type: text, prompt: {fr: A, en: A}}"
TEXT_B = "- {id: b, type: text, prompt: {fr: B, en: B}}"


def test_a_valid_flow_has_no_problem():
    assert problems(flow(f"{TEXT_A}\n{TEXT_B}")) == []


def test_unknown_goto_with_a_suggestion():
    steps = """
- {id: guilt_first, type: text, prompt: {fr: A, en: A}, next: empaty}
- {id: empathy, type: text, prompt: {fr: B, en: B}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.guilt_first.next: unknown step 'empaty' (did you mean 'empathy'?)",
    ]


def test_unknown_target_inside_branches():
    steps = """
- id: a
  type: scale
  prompt: {fr: A, en: A}
  next:
    - when: {at_least: {a: 5}}
      goto: bb
    - default: end
- {id: b, type: text, prompt: {fr: B, en: B}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.a.next.0.goto: unknown step 'bb' (did you mean 'b'?)",
    ]


def test_duplicate_ids():
    steps = f"""
{TEXT_A}
- {{id: a, type: choice, prompt: {{fr: A, en: A}}, options: [{{id: x, label: {{fr: X, en: X}}}}, {{id: x, label: {{fr: Y, en: Y}}}}]}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.a.id: duplicate step id 'a'; rename one",
        "flows.f.steps.a.options.x.id: duplicate option id 'x'; rename one",
    ]


@pytest.mark.parametrize(
    ("step_id", "message"),
    [
        (
            "Guilt",
            "step id 'Guilt' must start with a lower-case letter and use only a-z, 0-9 and _",
        ),
        ("end", "'end' is reserved for ending a flow; choose another step id"),
    ],
)
def test_ids_are_well_formed(step_id: str, message: str):
    steps = f"- {{id: {step_id}, type: text, prompt: {{fr: A, en: A}}}}"
    assert problems(flow(steps)) == [f"flows.f.steps.{step_id}.id: {message}"]


def test_branches_need_a_default_last():
    steps = """
- id: a
  type: scale
  prompt: {fr: A, en: A}
  next:
    - default: b
    - when: {at_least: {a: 5}}
      goto: b
- {id: b, type: text, prompt: {fr: B, en: B}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.a.next: branches need a last item '- default: <target>' for when no "
        "condition holds",
        "flows.f.steps.a.next.0: 'default' must be the last item of the list; move it to the end",
    ]


def test_a_step_from_which_the_end_cannot_be_reached():
    steps = """
- {id: a, type: text, prompt: {fr: A, en: A}}
- {id: b, type: text, prompt: {fr: B, en: B}, next: a}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.a: no path from step 'a' reaches the end; add a branch that goes on to a "
        "later step or to 'end'",
        "flows.f.steps.b: no path from step 'b' reaches the end; add a branch that goes on to a "
        "later step or to 'end'",
    ]


def test_a_loop_of_messages_is_refused():
    steps = """
- {id: a, type: text, prompt: {fr: A, en: A}}
- id: m1
  type: message
  text: {fr: M, en: M}
- id: m2
  type: message
  text: {fr: M, en: M}
  next:
    - when: {equals: {a: x}}
      goto: m1
    - default: end
"""
    found = problems(flow(steps))
    assert found == [
        "flows.f.steps.m1.next: message 'm1' is in a loop of messages that never waits for an "
        "answer; send one branch of the loop to a question",
        "flows.f.steps.m2.next: message 'm2' is in a loop of messages that never waits for an "
        "answer; send one branch of the loop to a question",
    ]


def test_unknown_placeholder_with_a_suggestion():
    steps = """
- {id: client, type: text, prompt: {fr: A, en: A}}
- {id: b, type: text, prompt: {fr: "Et {clent} ?", en: "And {clent}?"}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.b.prompt.fr: '{clent}' names no question or input of flow 'f' (did you "
        "mean 'client'?)",
        "flows.f.steps.b.prompt.en: '{clent}' names no question or input of flow 'f' (did you "
        "mean 'client'?)",
    ]


def test_placeholder_not_answered_on_every_path():
    steps = """
- id: a
  type: scale
  prompt: {fr: A, en: A}
  next:
    - when: {at_least: {a: 5}}
      goto: b
    - default: c
- {id: b, type: text, prompt: {fr: B, en: B}}
- {id: c, type: text, prompt: {fr: "{b} ?", en: "{b}?"}}
"""
    reason = (
        "'{b}' may not be answered yet: some paths reach this step without answering it; quote "
        "it from a later step or make sure every path asks it first"
    )
    assert problems(flow(steps)) == [
        f"flows.f.steps.c.prompt.fr: {reason}",
        f"flows.f.steps.c.prompt.en: {reason}",
    ]


def test_placeholder_of_an_optional_answer():
    steps = """
- {id: a, type: text, optional: true, prompt: {fr: A, en: A}}
- {id: b, type: text, prompt: {fr: "{a} ?", en: "{a}?"}}
"""
    assert problems(flow(steps))[0] == (
        "flows.f.steps.b.prompt.fr: '{a}' may not be answered yet: it is optional and may be "
        "skipped; quote it from a later step or make sure every path asks it first"
    )


def test_placeholder_of_a_later_answer():
    steps = """
- {id: a, type: text, prompt: {fr: "{b} ?", en: "{b}?"}}
- {id: b, type: text, prompt: {fr: B, en: B}}
"""
    assert problems(flow(steps))[0].startswith("flows.f.steps.a.prompt.fr: '{b}' may not be")


def test_outputs_quote_only_answers_every_path_gives():
    steps = """
- {id: a, type: text, optional: true, prompt: {fr: A, en: A}}
- {id: b, type: text, prompt: {fr: B, en: B}}
"""
    extra = '  outputs:\n    plan: {fr: "{a} {b}", en: "{a} {b}"}'
    reason = (
        "'{a}' may be missing at the end (optional, or not asked on every path); outputs quote "
        "only answers every path gives"
    )
    assert problems(flow(steps, extra)) == [
        f"flows.f.outputs.plan.fr: {reason}",
        f"flows.f.outputs.plan.en: {reason}",
    ]


def test_missing_translations():
    steps = """
- {id: a, type: text, prompt: {fr: A}}
- {id: b, type: text, prompt: {fr: "", en: B}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.a.prompt: missing English text; add an 'en:' line",
        "flows.f.steps.b.prompt: missing French text; add an 'fr:' line",
    ]


def test_translations_quote_the_same_answers():
    steps = f"""
{TEXT_A}
- {{id: b, type: text, prompt: {{fr: "{{a}} ?", en: "B?"}}}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.b.prompt: French and English quote different answers ({a}); align them"
    ]


def test_option_id_too_long_for_a_button():
    long_id = "o" * 41
    steps = f"""
- id: a
  type: choice
  prompt: {{fr: A, en: A}}
  options:
    - {{id: {long_id}, label: {{fr: X, en: X}}}}
    - {{id: short, label: {{fr: Y, en: Y}}}}
"""
    assert problems(flow(steps)) == [
        f"flows.f.steps.a.options.{long_id}.id: option id '{long_id}' is 41 bytes; buttons allow "
        "40, use a shorter id"
    ]


def test_text_that_may_exceed_telegram_limit_once_answers_are_quoted():
    steps = """
- {id: a, type: text, max_length: 4000, prompt: {fr: A, en: A}}
- {id: b, type: text, prompt: {fr: "Vous avez dit {a}.", en: "You said {a}."}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.b.prompt.fr: may reach 4215 characters once answers are quoted; Telegram "
        "allows 4096: shorten the text or lower 'max_length' of the quoted questions",
        "flows.f.steps.b.prompt.en: may reach 4210 characters once answers are quoted; Telegram "
        "allows 4096: shorten the text or lower 'max_length' of the quoted questions",
    ]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{equals: {zz: x}}", "condition on unknown step 'zz'"),
        ("{equals: {a: maybe}}", "'maybe' is not an option of 'a'"),
        (
            "{at_least: {a: 3}}",
            "'at_least'/'at_most' compare numbers, but 'a' is a choice "
            "question; use 'equals' or 'in'",
        ),
        ("{equals: {c: x}}", "condition on 'c', which is never answered before this point"),
        ("{equals: {m: x}}", "condition on 'm', a message that has no answer"),
        ("{equals: {y: yes}}", "'y' is yes/no: compare it with true or false"),
    ],
)
def test_conditions_are_sound(condition: str, message: str):
    steps = f"""
- id: y
  type: yes_no
  prompt: {{fr: Y, en: Y}}
- id: m
  type: message
  text: {{fr: M, en: M}}
- id: a
  type: choice
  prompt: {{fr: A, en: A}}
  options:
    - {{id: yes_please, label: {{fr: X, en: X}}}}
    - {{id: no_thanks, label: {{fr: Y, en: Y}}}}
  next:
    - when: {condition}
      goto: c
    - default: c
- {{id: c, type: text, prompt: {{fr: C, en: C}}}}
"""
    assert problems(flow(steps)) == [f"flows.f.steps.a.next.0.when: {message}"]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "{id: a, type: scale, min: 5, max: 5, prompt: {fr: A, en: A}}",
            "flows.f.steps.a.max: 'max' must be greater than 'min'",
        ),
        (
            "{id: a, type: scale, max: 30, prompt: {fr: A, en: A}}",
            "flows.f.steps.a.max: a scale has at most 21 points; narrow it",
        ),
        (
            "{id: a, type: scale, prompt: {fr: A, en: A}, labels: {11: {fr: X, en: X}}}",
            "flows.f.steps.a.labels.11: label for 11 is outside the scale 0-10",
        ),
        (
            "{id: a, type: number, min: 3, max: 1, prompt: {fr: A, en: A}}",
            "flows.f.steps.a.max: 'max' must be greater than 'min'",
        ),
        (
            "{id: a, type: text, min_length: 9, max_length: 2, prompt: {fr: A, en: A}}",
            "flows.f.steps.a.max_length: 'max_length' must be at least 'min_length' (>= 0)",
        ),
        (
            "{id: a, type: choice, prompt: {fr: A, en: A}, options: [{id: x, label: {fr: X, en: X}}]}",
            "flows.f.steps.a.options: a choice needs at least two options",
        ),
        (
            "{id: a, type: multi_choice, min_selected: 2, prompt: {fr: A, en: A}, options: "
            "[{id: x, label: {fr: X, en: X}}]}",
            "flows.f.steps.a.min_selected: need 0 <= min_selected <= max_selected <= 1 options",
        ),
    ],
)
def test_ranges_are_sound(step: str, message: str):
    assert problems(flow(f"- {step}")) == [message]


def test_a_language_choice_offers_exactly_the_languages():
    steps = """
- id: lang
  type: choice
  sets_language: true
  prompt: {fr: L, en: L}
  options:
    - {id: fr, label: {fr: Français, en: Français}}
    - {id: de, label: {fr: Deutsch, en: Deutsch}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.lang.options: a language choice offers exactly the options fr, en"
    ]


def test_next_flow_must_exist():
    assert problems(flow(TEXT_A, "  next_flow: other")) == [
        "flows.f.next_flow: unknown flow 'other'"
    ]


def test_required_flows_are_named():
    assert problems(flow(TEXT_A), REQUIRED_FLOWS) == [
        "flows: missing flow 'onboarding', which Rebond starts by name",
        "flows: missing flow 'lost_client', which Rebond starts by name",
        "flows: missing flow 'daily_checkin', which Rebond starts by name",
        "flows: missing flow 'checkin_setup', which Rebond starts by name",
        "flows: missing flow 'team_round_setup', which Rebond starts by name",
        "flows: missing flow 'team_round', which Rebond starts by name",
        "flows: missing flow 'commitment_check', which Rebond starts by name",
        "flows: missing 'team:' section: the team round's texts and hooks",
    ]


def test_every_problem_is_reported_at_once():
    steps = """
- {id: a, type: text, prompt: {fr: A}, next: nowhere}
- {id: B, type: text, prompt: {fr: B, en: B}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.a.prompt: missing English text; add an 'en:' line",
        "flows.f.steps.a.next: unknown step 'nowhere'",
        "flows.f.steps.B.id: step id 'B' must start with a lower-case letter and use only a-z, "
        "0-9 and _",
    ]


def test_suggestions_must_be_times_and_known_zones():
    steps = """
- {id: at, type: time, suggestions: ["8:30", "09:00"], prompt: {fr: A, en: A}}
- {id: zone, type: timezone, suggestions: {fr: [Europe/Atlantis]}, prompt: {fr: Z, en: Z}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.at.suggestions.0: '8:30' is not a time written HH:MM, like 08:30",
        "flows.f.steps.zone.suggestions.fr.0: unknown time zone 'Europe/Atlantis'; use an IANA "
        "name like Europe/Paris",
    ]


def test_followups_name_flows_on_distinct_days():
    text = (
        playbook_yaml(flow(TEXT_A))
        + """
followups:
  - {after_days: 7, flow: g}
  - {after_days: 7, flow: f}
  - {after_days: 0, flow: f}
"""
    )
    try:
        parse_playbook(text, "test.yaml")
    except PlaybookError as error:
        found = [f"{issue.path}: {issue.message}" for issue in error.issues]
    assert found == [
        "followups.0.flow: unknown flow 'g'",
        "followups.1.after_days: two follow-ups 7 days after; one day holds one follow-up",
        "followups.2.after_days: 'after_days' counts days after the reflection: 1 or more",
    ]


def test_steps_the_code_reads_must_stay_with_their_type():
    from .helpers import REAL_PLAYBOOK

    original = REAL_PLAYBOOK.read_text(encoding="utf-8")
    suggestions = (
        '            suggestions: ["07:30", "08:30", "09:00", "12:30", "18:00", "20:00"]\n'
    )
    assert suggestions in original
    text = (
        original.replace(suggestions, "")
        .replace(
            "          - id: checkin_time\n            type: time",
            "          - id: checkin_time\n            type: text",
        )
        .replace("              - id: weekdays\n", "              - id: weekday\n")
    )
    try:
        parse_playbook(text, "content/playbook.yaml", REQUIRED_FLOWS)
    except PlaybookError as error:
        found = [f"{issue.path}: {issue.message}" for issue in error.issues]
    assert found == [
        "flows.checkin_setup.steps.checkin_action.options: missing option 'weekdays', which "
        "Rebond acts on",
        "flows.checkin_setup.steps.checkin_time.type: 'checkin_time' must stay a time question: "
        "Rebond reads its answer",
    ]


def test_only_a_multi_choice_option_may_be_exclusive():
    steps = """
- id: pick
  type: choice
  prompt: {fr: P, en: P}
  options:
    - {id: one, label: {fr: Un, en: One}}
    - {id: none, exclusive: true, label: {fr: Aucun, en: None}}
- id: several
  type: multi_choice
  prompt: {fr: S, en: S}
  options:
    - {id: none, exclusive: true, label: {fr: Aucun, en: None}}
    - {id: nothing, exclusive: true, label: {fr: Rien, en: Nothing}}
"""
    assert problems(flow(steps)) == [
        "flows.f.steps.pick.options.none.exclusive: only a multi-choice option can be exclusive; "
        "remove it",
        "flows.f.steps.several.options.none.exclusive: every option is exclusive: use a choice "
        "step instead",
        "flows.f.steps.several.options.nothing.exclusive: every option is exclusive: use a "
        "choice step instead",
    ]


def test_reminder_delays_grow_and_quote_only_the_section():
    text = playbook_yaml(flow(TEXT_A)).replace("after_hours: [24, 72]", "after_hours: [24, 12]")
    text = text.replace('"Rappel : {section}"', '"Rappel : {client}"')
    with pytest.raises(PlaybookError) as error:
        parse_playbook(text, "test.yaml")
    found = [f"{issue.path}: {issue.message}" for issue in error.value.issues]
    assert sorted(found) == [
        "nudges.after_hours.1: delays are whole hours, 1 or more, each longer than the one before",
        "nudges.text.fr: '{client}' is not available here (available: {section})",
        "nudges.text: French and English quote different answers ({client}, {section}); align them",
    ]


def test_a_command_a_text_names_must_be_one_rebond_runs():
    """A coach's typo in a text ("/reflekt") sent managers to an unknown command; `rebond
    check` said "valid" (a new-user trial, refs #9)."""
    from .helpers import REAL_PLAYBOOK

    original = REAL_PLAYBOOK.read_text(encoding="utf-8")
    assert "/reflect :" in original
    text = original.replace("/reflect :", "/reflekt :", 1).replace("t.me/", "t.me/x", 1)
    try:
        parse_playbook(text, "content/playbook.yaml", REQUIRED_FLOWS)
    except PlaybookError as error:
        found = [f"{issue.path}: {issue.message}" for issue in error.issues]
    assert found == [
        "ui.help_terminal.fr: /reflekt is not a command of Rebond (did you mean 'reflect'?)"
    ]
