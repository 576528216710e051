"""The real content/playbook.yaml: it loads, validates, and every branch of every flow ends well."""

from __future__ import annotations

import random
import re

import pytest

from bot.cli import DIAGRAMS_HEADING, diagrams_section
from bot.flows.answers import time_option_id, zone_option_id
from bot.flows.conditions import next_step, targets
from bot.flows.engine import advance, start
from bot.flows.loader import load_playbook
from bot.flows.model import (
    END,
    ChoiceStep,
    Flow,
    MessageStep,
    MultiChoiceStep,
    NumberStep,
    Playbook,
    ScaleStep,
    Step,
    TextStep,
    TimeStep,
    TimezoneStep,
    YesNoStep,
)
from bot.flows.state import (
    Answer,
    Ask,
    Done,
    Event,
    Invalid,
    Pick,
    Recorded,
    Say,
    SessionState,
    Skip,
    Submit,
)
from bot.flows.validate import REQUIRED_FLOWS

from .helpers import REAL_PLAYBOOK, ROOT

WALKS_PER_FLOW = 400


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook(REAL_PLAYBOOK, REQUIRED_FLOWS)


def test_the_real_playbook_is_valid_and_has_the_required_flows(playbook: Playbook):
    assert set(REQUIRED_FLOWS) <= set(playbook.flows)
    assert len(playbook.flows["lost_client"].sections) == 8


def candidate_events(step: Step) -> list[Event]:
    """Answers that, between them, can take every branch leaving `step`."""
    if isinstance(step, TextStep):
        events: list[Event] = [Answer("Une réponse réfléchie / a thoughtful answer")]
    elif isinstance(step, ChoiceStep):
        events = [Pick(option.id) for option in step.options]
    elif isinstance(step, MultiChoiceStep):
        events = [Answer(str(index)) for index in range(1, len(step.options) + 1)]
        if step.min_selected == 0:
            events.append(Submit())
    elif isinstance(step, ScaleStep):
        events = [Pick(str(point)) for point in range(step.min, step.max + 1)]
    elif isinstance(step, YesNoStep):
        events = [Pick("yes"), Pick("no")]
    elif isinstance(step, NumberStep):
        events = [Answer(str(int(step.min))), Answer("3"), Answer(str(int(step.max)))]
    elif isinstance(step, TimeStep):
        events = [Pick(time_option_id(t)) for t in step.suggestions] + [Answer("8h45")]
    elif isinstance(step, TimezoneStep):
        events = [Pick(zone_option_id(0)), Answer("Montréal"), Answer("America/New_York")]
    else:
        events = []
    if step.optional:
        events.append(Skip())
    return events


def every_edge(flow: Flow) -> set[tuple[str, str]]:
    edges = {("start", flow.first_step)}
    for step in flow.steps:
        edges.update((step.id, target) for target in targets(flow, step))
    return edges


def taken_edges(flow: Flow, state: SessionState, step_id: str) -> list[tuple[str, str]]:
    """The edges followed after `step_id` was answered, through messages, to the next question."""
    edges = []
    current = step_id
    while True:
        target = next_step(flow, flow.step_by_id[current], state.answers)
        edges.append((current, target))
        if target == END or not isinstance(flow.step_by_id[target], MessageStep):
            return edges
        current = target


def assert_rendered(outputs: tuple) -> None:
    for output in outputs:
        text = ""
        if isinstance(output, Say):
            text = output.text
        elif isinstance(output, Ask):
            text = output.prompt
        elif isinstance(output, Done):
            text = "\n".join(output.lines) + "".join(value for _, value in output.outputs)
        assert not re.search(r"\{[a-z_]+\}", text), f"unfilled placeholder in {text!r}"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("flow_id", sorted(load_playbook(REAL_PLAYBOOK).flows))
def test_walks_cover_every_branch_and_always_reach_the_end(playbook: Playbook, flow_id, lang):
    flow = playbook.flows[flow_id]
    wanted = every_edge(flow)
    covered: set[tuple[str, str]] = set()
    chooser = random.Random(f"{flow_id}-{lang}")
    for _ in range(WALKS_PER_FLOW):
        state, outputs = start(playbook, flow_id, lang, {"commitment": "appeler Paul"})
        assert_rendered(outputs)
        covered.add(("start", flow.first_step))
        first = flow.step_by_id[flow.first_step]
        if isinstance(first, MessageStep):
            covered.update(taken_edges(flow, state, first.id))
        for _ in range(200):
            if state.done:
                break
            step = flow.step_by_id[state.step]
            state, outputs = advance(playbook, state, chooser.choice(candidate_events(step)))
            assert not any(isinstance(o, Invalid) for o in outputs), outputs
            assert_rendered(outputs)
            recorded = [o for o in outputs if isinstance(o, Recorded)]
            assert [r.step for r in recorded] == [step.id]
            covered.update(taken_edges(flow, state, step.id))
        assert state.done, f"walk did not end: {state}"
        assert isinstance(outputs[-1], Done)
        if covered >= wanted:
            break
    assert wanted - covered == set()


def test_a_whole_reflection_gives_a_summary_with_scores_before_and_after(playbook: Playbook):
    flow = playbook.flows["lost_client"]
    state, _ = start(playbook, "lost_client", "en")
    answers = {"guilt_before": "8", "worry_before": "7", "guilt_after": "4", "worry_after": "3"}
    outputs: tuple = ()
    while not state.done:
        step = flow.step_by_id[state.step]
        event = Answer(answers[step.id]) if step.id in answers else candidate_events(step)[0]
        state, outputs = advance(playbook, state, event)
    done = outputs[-1]
    assert isinstance(done, Done)
    text = "\n".join(done.lines)
    assert "8/10 → 4/10" in text and "7/10 → 3/10" in text
    assert dict(done.outputs)["commitment"]


def test_docs_map_article_ideas_to_steps_that_exist(playbook: Playbook):
    doc = (ROOT / "docs" / "playbook.md").read_text(encoding="utf-8")
    table = doc[doc.index("## Article idea") : doc.index("## Flow diagrams")]
    references = re.findall(r"`([a-z_]+)\.([a-z0-9_]+)`", table)
    assert len(references) >= 20
    missing = [
        f"{flow}.{step}"
        for flow, step in references
        if flow not in playbook.flows or step not in playbook.flows[flow].step_by_id
    ]
    assert missing == []


def test_docs_diagrams_are_the_generated_ones(playbook: Playbook):
    doc = (ROOT / "docs" / "playbook.md").read_text(encoding="utf-8")
    assert doc[doc.index(DIAGRAMS_HEADING) :] == diagrams_section(playbook), (
        "run: rebond graph --update-docs docs/playbook.md"
    )


@pytest.mark.parametrize("mood", ["1", "2", "3", "5"])
@pytest.mark.parametrize("progress", ["done", "progressing", "not_started"])
def test_a_check_in_asks_a_done_step_for_its_next_one_and_tells_a_hard_day_so(
    playbook: Playbook, mood: str, progress: str
):
    """A "done" always gets the next-step question (the README's promise), and a mood of 2 or
    less the hard-day message, both on a hard day with a done step (refs #9)."""
    flow = playbook.flows["daily_checkin"]
    hard_day = flow.step_by_id["hard_day"].text.get("en")
    state, outputs = start(playbook, "daily_checkin", "en", {"commitment": "Call Paul"})
    asked: list[str] = []
    said = [o.text for o in outputs if isinstance(o, Say)]
    answers = {"mood": Pick(mood), "commitment_progress": Pick(progress)}
    while not state.done:
        assert state.step is not None
        asked.append(state.step)
        state, outputs = advance(playbook, state, answers.get(state.step, Skip()))
        said += [o.text for o in outputs if isinstance(o, Say)]
    assert ("next_step" in asked) == (progress == "done"), asked
    assert (hard_day in said) == (int(mood) <= 2), said
