"""Reading a playbook: its texts, its graph of steps, what is answered where. Used by the rules."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .conditions import targets
from .model import (
    END,
    ChoiceStep,
    Flow,
    InputStep,
    Localized,
    MessageStep,
    MultiChoiceStep,
    Next,
    NumberStep,
    Playbook,
    ScaleStep,
    Step,
    TextStep,
)
from .text import placeholders

PathPart = str | int
PathT = tuple[PathPart, ...]

INPUT_LENGTH_ESTIMATE = 1000
NUMBER_LENGTH_ESTIMATE = 20


@dataclass(frozen=True)
class Problem:
    """A rule broken at `path`, with a message that says how to fix it."""

    path: PathT
    message: str


# --- paths, texts, graph ---------------------------------------------------------------------


def step_path(flow_id: str, step_id: str, *rest: PathPart) -> PathT:
    """The logical path of a step field: flows.<flow>.steps.<step>...."""
    return ("flows", flow_id, "steps", step_id, *rest)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a candidate is close to `word`, else ''."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def input_steps(flow: Flow) -> Iterator[InputStep]:
    """Steps that wait for an answer."""
    for step in flow.steps:
        if not isinstance(step, MessageStep):
            yield step


def texts_of(step: Step) -> Iterator[tuple[PathT, Localized]]:
    """Every translatable text of a step, with its path below the step."""
    if isinstance(step, MessageStep):
        yield ("text",), step.text
        return
    yield ("prompt",), step.prompt
    if isinstance(step, ChoiceStep | MultiChoiceStep):
        for option in step.options:
            yield ("options", option.id, "label"), option.label
    if isinstance(step, ScaleStep):
        for point, label in step.labels.items():
            yield ("labels", point), label
    if isinstance(step, NumberStep) and step.unit is not None:
        yield ("unit",), step.unit


def flow_texts(flow_id: str, flow: Flow) -> Iterator[tuple[PathT, Localized]]:
    """Every translatable text of a flow, with its logical path."""
    base: PathT = ("flows", flow_id)
    yield (*base, "title"), flow.title
    if flow.description is not None:
        yield (*base, "description"), flow.description
    for section in flow.sections:
        yield (*base, "sections", section.id, "title"), section.title
    for step in flow.steps:
        for rest, text in texts_of(step):
            yield step_path(flow_id, step.id, *rest), text
    for name, text in flow.inputs.items():
        yield (*base, "inputs", name), text
    for name, text in flow.outputs.items():
        yield (*base, "outputs", name), text
    if flow.summary is not None:
        yield (*base, "summary", "title"), flow.summary.title
        for index, line in enumerate(flow.summary.lines):
            yield (*base, "summary", "lines", index), line


def all_texts(playbook: Playbook) -> Iterator[tuple[PathT, Localized]]:
    """Every translatable text of the playbook, with its logical path."""
    for name, text in ui_texts(playbook):
        yield ("ui", *name), text
    yield ("safety", "message"), playbook.safety.message
    if playbook.safety.local_message is not None:
        yield ("safety", "local_message"), playbook.safety.local_message
    for country, helplines in playbook.safety.helplines.items():
        yield ("safety", "helplines", country), helplines
    nudges = playbook.nudges
    yield ("nudges", "text"), nudges.text
    yield ("nudges", "resume_button"), nudges.resume_button
    yield ("nudges", "stop_button"), nudges.stop_button
    yield ("nudges", "stopped"), nudges.stopped
    for flow_id, flow in playbook.flows.items():
        yield from flow_texts(flow_id, flow)
    for team_name, team_text in team_texts(playbook):
        yield ("team", team_name), team_text


def team_texts(playbook: Playbook) -> Iterator[tuple[str, Localized]]:
    """Every text of the `team` section (none when the playbook has no team round)."""
    if playbook.team is None:
        return
    for name in type(playbook.team).model_fields:
        value = getattr(playbook.team, name)
        if isinstance(value, Localized):
            yield name, value


def all_nexts(playbook: Playbook) -> Iterator[tuple[PathT, Next]]:
    """Every `next` of every step, and every flow's `next_flow`, with its path."""
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            if step.next is not None:
                yield step_path(flow_id, step.id, "next"), step.next
        if flow.next_flow is not None:
            yield ("flows", flow_id, "next_flow"), flow.next_flow


def ui_texts(playbook: Playbook) -> Iterator[tuple[PathT, Localized]]:
    """Every text of the `ui` section, with its path below `ui`."""
    for name in type(playbook.ui).model_fields:
        value = getattr(playbook.ui, name)
        if isinstance(value, dict):
            for key, text in value.items():
                yield (name, key), text
        else:
            yield (name,), value


def graph(flow: Flow) -> dict[str, list[str]]:
    """Each step id mapped to the step ids (or END) it may lead to."""
    return {step.id: targets(flow, step) for step in flow.steps}


def reachable_from(edges: dict[str, list[str]], start: str) -> set[str]:
    """Step ids (and END) reachable from `start`, itself included."""
    seen = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def answered_on_arrival(flow: Flow, must: bool) -> dict[str, set[str]]:
    """For each step (and END), the answers given on every path to it (`must`) or on some path.

    With `must`, an optional question does not count: it may have been skipped.
    """
    edges = graph(flow)
    everything = {step.id for step in input_steps(flow)}
    start = flow.first_step
    arriving: dict[str, set[str]] = {
        node: set() if node == start or not must else set(everything)
        for node in [*(step.id for step in flow.steps), END]
    }
    changed = True
    while changed:
        changed = False
        for step in flow.steps:
            leaving = set(arriving[step.id])
            if not isinstance(step, MessageStep) and not (must and step.optional):
                leaving.add(step.id)
            for target in edges[step.id]:
                if target not in arriving or (must and target == start):
                    continue
                merged = arriving[target] & leaving if must else arriving[target] | leaving
                if merged != arriving[target]:
                    arriving[target] = merged
                    changed = True
    return arriving


def text_length_estimate(flow: Flow, template: str) -> int:
    """The longest a text can be once its placeholders are replaced by answers."""
    length = len(template)
    for name in placeholders(template):
        step = flow.step_by_id.get(name)
        length -= len(name) + 2
        if isinstance(step, TextStep):
            length += step.max_length
        elif isinstance(step, ChoiceStep | MultiChoiceStep):
            labels = [max(len(o.label.fr), len(o.label.en)) for o in step.options]
            length += (
                sum(labels) + 2 * len(labels)
                if isinstance(step, MultiChoiceStep)
                else max(labels, default=0)
            )
        elif step is not None:
            length += NUMBER_LENGTH_ESTIMATE
        else:
            length += INPUT_LENGTH_ESTIMATE
    return length


def has_unknown_targets(flow: Flow) -> bool:
    """True when a `next` names a missing step (reported once, by `goto_targets_exist`)."""
    return any(t != END and t not in flow.step_by_id for ts in graph(flow).values() for t in ts)
