"""Semantic checks of a playbook: one small function per rule, each naming the place and the fix.

Every rule takes the typed playbook and yields `Problem`s. A problem's path uses ids where the
file has ids (`flows.lost_client.steps.guilt_first.next`) and list positions otherwise; the
loader turns it into `file:line:col`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from .analysis import (
    PathT,
    Problem,
    all_nexts,
    all_texts,
    answered_on_arrival,
    did_you_mean,
    flow_texts,
    graph,
    has_unknown_targets,
    input_steps,
    reachable_from,
    step_path,
    text_length_estimate,
    texts_of,
)
from .answers import parse_time
from .conditions import branch_conditions, next_targets, referenced_steps
from .contract import (
    COACH_COMMANDS,
    REQUIRED_COMMANDS,
    REQUIRED_FLOWS,
    commands_are_described,
    commands_in_texts_exist,
    nudges_are_sound,
    required_flows_present,
    team_texts_are_sound,
    terminal_texts_replace_ui_texts,
    ui_placeholders_are_known,
)
from .model import (
    END,
    ID_PATTERN,
    LANGUAGE_NAMES,
    LANGUAGES,
    AtLeast,
    AtMost,
    ChoiceStep,
    Condition,
    DefaultBranch,
    Equals,
    Flow,
    In,
    InputStep,
    MessageStep,
    MultiChoiceStep,
    NumberStep,
    Playbook,
    ScaleStep,
    TextStep,
    TimeStep,
    TimezoneStep,
    YesNoStep,
)
from .safety import GAP, PatternError, compile_pattern
from .text import placeholders
from .timezones import is_known

__all__ = ["COACH_COMMANDS", "REQUIRED_COMMANDS", "REQUIRED_FLOWS", "PathT", "Problem", "validate"]

TELEGRAM_MESSAGE_LIMIT = 4096
TELEGRAM_CALLBACK_LIMIT = 64
CALLBACK_PREFIX_BYTES = 24
"""Bytes the Telegram adapter puts before an option id in callback data ("q:<session>:<turn>:")."""
QUESTION_OVERHEAD = 200
"""Characters an adapter may add around a question: progress line, hints, previous answer."""

Rule = Callable[[Playbook], Iterable[Problem]]


def validate(playbook: Playbook, required_flows: Iterable[str] = ()) -> list[Problem]:
    """Every problem every rule finds, in rule order."""
    problems = [problem for rule in RULES for problem in rule(playbook)]
    problems.extend(required_flows_present(playbook, required_flows))
    return problems


# --- rules -------------------------------------------------------------------------------------


def ids_are_well_formed(playbook: Playbook) -> Iterator[Problem]:
    """Ids are lower-case words (a-z, 0-9, _) and never the reserved 'end'."""
    pattern = re.compile(ID_PATTERN)

    def check(path: PathT, value: str, what: str) -> Iterator[Problem]:
        if not pattern.match(value):
            yield Problem(
                path,
                f"{what} '{value}' must start with a lower-case letter and use only a-z, 0-9 and _",
            )
        elif value == END:
            yield Problem(path, f"'{END}' is reserved for ending a flow; choose another {what}")

    for flow_id, flow in playbook.flows.items():
        yield from check(("flows", flow_id), flow_id, "flow id")
        for s_index, section in enumerate(flow.sections):
            yield from check(
                ("flows", flow_id, "sections", s_index, "id"), section.id, "section id"
            )
            for index, step in enumerate(section.steps):
                where: PathT = ("flows", flow_id, "sections", s_index, "steps", index, "id")
                yield from check(where, step.id, "step id")
                if isinstance(step, ChoiceStep | MultiChoiceStep):
                    for o_index, option in enumerate(step.options):
                        path = step_path(flow_id, step.id, "options", o_index, "id")
                        yield from check(path, option.id, "option id")
        for name in (*flow.inputs, *flow.outputs):
            kind = "inputs" if name in flow.inputs else "outputs"
            yield from check(("flows", flow_id, kind, name), name, "name")


def ids_are_unique(playbook: Playbook) -> Iterator[Problem]:
    """Section, step and option ids appear once; an input is not named like a step."""
    for flow_id, flow in playbook.flows.items():
        sections: set[str] = set()
        steps: set[str] = set()
        for s_index, section in enumerate(flow.sections):
            if section.id in sections:
                path: PathT = ("flows", flow_id, "sections", s_index, "id")
                yield Problem(path, f"duplicate section id '{section.id}'; rename one")
            sections.add(section.id)
            for index, step in enumerate(section.steps):
                if step.id in steps:
                    path = ("flows", flow_id, "sections", s_index, "steps", index, "id")
                    yield Problem(path, f"duplicate step id '{step.id}'; rename one")
                steps.add(step.id)
                if isinstance(step, ChoiceStep | MultiChoiceStep):
                    seen: set[str] = set()
                    for o_index, option in enumerate(step.options):
                        if option.id in seen:
                            path = ("flows", flow_id, "sections", s_index, "steps", index)
                            path = (*path, "options", o_index, "id")
                            yield Problem(path, f"duplicate option id '{option.id}'; rename one")
                        seen.add(option.id)
        for name in flow.inputs:
            if name in steps:
                message = f"input '{name}' has the name of a step; rename the input"
                yield Problem(("flows", flow_id, "inputs", name), message)


def goto_targets_exist(playbook: Playbook) -> Iterator[Problem]:
    """Every `next`, `goto` and `default` names a step of the same flow, or 'end'."""
    for flow_id, flow in playbook.flows.items():
        known = [step.id for step in flow.steps]
        for step in flow.steps:
            if step.next is None:
                continue
            if isinstance(step.next, str):
                arms: list[tuple[PathT, str]] = [(("next",), step.next)]
            else:
                arms = [
                    (
                        ("next", index, "default" if isinstance(arm, DefaultBranch) else "goto"),
                        arm.default if isinstance(arm, DefaultBranch) else arm.goto,
                    )
                    for index, arm in enumerate(step.next)
                ]
            for rest, target in arms:
                if target != END and target not in flow.step_by_id:
                    hint = did_you_mean(target, [*known, END])
                    yield Problem(
                        step_path(flow_id, step.id, *rest), f"unknown step '{target}'{hint}"
                    )


def branches_end_with_default(playbook: Playbook) -> Iterator[Problem]:
    """A list of branches has conditions first and exactly one `default` as its last item."""
    for path, next_ in all_nexts(playbook):
        if not isinstance(next_, list):
            continue
        last = len(next_) - 1
        for index, arm in enumerate(next_):
            if isinstance(arm, DefaultBranch) and index != last:
                yield Problem(
                    (*path, index),
                    "'default' must be the last item of the list; move it to the end",
                )
        if not next_ or not isinstance(next_[-1], DefaultBranch):
            yield Problem(
                path, "branches need a last item '- default: <target>' for when no condition holds"
            )


def every_step_reachable(playbook: Playbook) -> Iterator[Problem]:
    """Every step can be reached from the flow's first step."""
    for flow_id, flow in playbook.flows.items():
        if not flow.steps:
            yield Problem(("flows", flow_id, "sections"), "a flow needs at least one step")
            continue
        if has_unknown_targets(flow):
            continue  # a mistyped target would make its real target look unreachable
        edges = graph(flow)
        seen = reachable_from(edges, flow.first_step)
        for step in flow.steps:
            if step.id not in seen:
                yield Problem(
                    step_path(flow_id, step.id),
                    f"step '{step.id}' can never be reached; point a 'next' or 'goto' to it, "
                    "or remove it",
                )


def every_step_can_end(playbook: Playbook) -> Iterator[Problem]:
    """From every step, some path leads to the end of the flow."""
    for flow_id, flow in playbook.flows.items():
        if has_unknown_targets(flow):
            continue  # a mistyped target is a dead end only until it is fixed
        edges = graph(flow)
        for step in flow.steps:
            if END not in reachable_from(edges, step.id):
                yield Problem(
                    step_path(flow_id, step.id),
                    f"no path from step '{step.id}' reaches the end; add a branch that goes on "
                    f"to a later step or to '{END}'",
                )


def no_loop_of_messages(playbook: Playbook) -> Iterator[Problem]:
    """A loop must contain a question, or the flow would talk forever."""
    for flow_id, flow in playbook.flows.items():
        messages = {step.id for step in flow.steps if isinstance(step, MessageStep)}
        edges = {
            step_id: [t for t in targets if t in messages]
            for step_id, targets in graph(flow).items()
            if step_id in messages
        }
        for step_id in sorted(messages):
            if any(step_id in reachable_from(edges, t) for t in edges[step_id]):
                yield Problem(
                    step_path(flow_id, step_id, "next"),
                    f"message '{step_id}' is in a loop of messages that never waits for an "
                    "answer; send one branch of the loop to a question",
                )


def placeholders_are_known(playbook: Playbook) -> Iterator[Problem]:
    """Every `{name}` in a flow's texts names one of its steps or inputs."""
    for flow_id, flow in playbook.flows.items():
        names = [step.id for step in input_steps(flow)] + list(flow.inputs)
        for path, text in flow_texts(flow_id, flow):
            for lang in LANGUAGES:
                for name in placeholders(text.get(lang)):
                    if name not in names:
                        hint = did_you_mean(name, names)
                        yield Problem(
                            (*path, lang),
                            f"'{{{name}}}' names no question or input of flow '{flow_id}'{hint}",
                        )


def placeholders_answered_before(playbook: Playbook) -> Iterator[Problem]:
    """A step quotes only answers given on every path to it, and not skippable."""
    for flow_id, flow in playbook.flows.items():
        arriving = answered_on_arrival(flow, must=True)
        for step in flow.steps:
            for rest, text in texts_of(step):
                for lang in LANGUAGES:
                    for name in placeholders(text.get(lang)):
                        target = flow.step_by_id.get(name)
                        if target is None or name in arriving[step.id]:
                            continue
                        why = (
                            "it is optional and may be skipped"
                            if target.optional
                            else "some paths reach this step without answering it"
                        )
                        yield Problem(
                            step_path(flow_id, step.id, *rest, lang),
                            f"'{{{name}}}' may not be answered yet: {why}; quote it from a "
                            "later step or make sure every path asks it first",
                        )
        for output, text in flow.outputs.items():
            for lang in LANGUAGES:
                for name in placeholders(text.get(lang)):
                    if name in flow.step_by_id and name not in arriving[END]:
                        yield Problem(
                            ("flows", flow_id, "outputs", output, lang),
                            f"'{{{name}}}' may be missing at the end (optional, or not asked on "
                            "every path); outputs quote only answers every path gives",
                        )


def translations_present(playbook: Playbook) -> Iterator[Problem]:
    """Every text has a French and an English version."""
    for path, text in all_texts(playbook):
        for lang in LANGUAGES:
            if not text.get(lang).strip():
                yield Problem(
                    path,
                    f"missing {LANGUAGE_NAMES[lang]} text; add an '{lang}:' line",
                )


def translations_quote_alike(playbook: Playbook) -> Iterator[Problem]:
    """The French and English versions of a text quote the same answers."""
    for path, text in all_texts(playbook):
        french, english = set(placeholders(text.fr)), set(placeholders(text.en))
        if text.fr and text.en and french != english:
            only = sorted(french ^ english)
            quoted = ", ".join(f"{{{name}}}" for name in only)
            yield Problem(
                path, f"French and English quote different answers ({quoted}); align them"
            )


def option_ids_fit_buttons(playbook: Playbook) -> Iterator[Problem]:
    """An option id fits in Telegram's 64-byte callback data after the adapter's prefix."""
    room = TELEGRAM_CALLBACK_LIMIT - CALLBACK_PREFIX_BYTES
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            if isinstance(step, ChoiceStep | MultiChoiceStep):
                for option in step.options:
                    size = len(option.id.encode())
                    if size > room:
                        yield Problem(
                            step_path(flow_id, step.id, "options", option.id, "id"),
                            f"option id '{option.id}' is {size} bytes; buttons allow {room}, "
                            "use a shorter id",
                        )


def texts_fit_telegram(playbook: Playbook) -> Iterator[Problem]:
    """A question or message, once its answers are quoted, stays under 4096 characters."""
    limit = TELEGRAM_MESSAGE_LIMIT
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            rest, text = next(texts_of(step))
            overhead = 0 if isinstance(step, MessageStep) else QUESTION_OVERHEAD
            for lang in LANGUAGES:
                size = text_length_estimate(flow, text.get(lang)) + overhead
                if size > limit:
                    yield Problem(
                        step_path(flow_id, step.id, *rest, lang),
                        f"may reach {size} characters once answers are quoted; Telegram allows "
                        f"{limit}: shorten the text or lower 'max_length' of the quoted questions",
                    )
        if flow.summary is not None:
            for lang in LANGUAGES:
                size = len(flow.summary.title.get(lang)) + sum(
                    text_length_estimate(flow, line.get(lang)) + 1 for line in flow.summary.lines
                )
                if size > limit:
                    yield Problem(
                        ("flows", flow_id, "summary", "lines"),
                        f"the {LANGUAGE_NAMES[lang]} summary may reach {size} characters; the "
                        "adapters split it, but keep it short enough to read",
                    )


def conditions_are_sound(playbook: Playbook) -> Iterator[Problem]:
    """Conditions compare answers asked before, with values those questions can give."""
    for flow_id, flow in playbook.flows.items():
        maybe = answered_on_arrival(flow, must=False)
        for step in flow.steps:
            available = maybe[step.id] | ({step.id} if not isinstance(step, MessageStep) else set())
            for index, arm in branch_conditions(step.next):
                path = step_path(flow_id, step.id, "next", index, "when")
                yield from _condition_problems(flow, path, arm.when, available)


def _condition_problems(
    flow: Flow, path: PathT, condition: Condition, available: set[str]
) -> Iterator[Problem]:
    for name, leaf in referenced_steps(condition):
        target = flow.step_by_id.get(name)
        if target is None:
            hint = did_you_mean(name, [s.id for s in input_steps(flow)])
            yield Problem(path, f"condition on unknown step '{name}'{hint}")
        elif isinstance(target, MessageStep):
            yield Problem(path, f"condition on '{name}', a message that has no answer")
        elif name not in available:
            yield Problem(path, f"condition on '{name}', which is never answered before this point")
        else:
            yield from _leaf_problems(path, name, target, leaf)


def _leaf_problems(path: PathT, name: str, target: InputStep, leaf: object) -> Iterator[Problem]:
    if isinstance(leaf, AtLeast | AtMost):
        if not isinstance(target, ScaleStep | NumberStep):
            yield Problem(
                path,
                f"'at_least'/'at_most' compare numbers, but '{name}' is a {target.type} question; "
                "use 'equals' or 'in'",
            )
        return
    values = leaf.equals[name] if isinstance(leaf, Equals) else None
    listed = [values] if values is not None else (leaf.in_[name] if isinstance(leaf, In) else [])
    if isinstance(target, ChoiceStep | MultiChoiceStep):
        ids = [option.id for option in target.options]
        for value in listed:
            if value not in ids:
                yield Problem(
                    path,
                    f"'{value}' is not an option of '{name}'{did_you_mean(str(value), ids)}",
                )
    elif isinstance(target, YesNoStep):
        for value in listed:
            if not isinstance(value, bool):
                yield Problem(path, f"'{name}' is yes/no: compare it with true or false")


def ranges_are_sound(playbook: Playbook) -> Iterator[Problem]:
    """Bounds make sense: min below max, labels inside the scale, enough options."""
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            where = step_path(flow_id, step.id)
            if isinstance(step, ScaleStep):
                if step.min >= step.max:
                    yield Problem((*where, "max"), "'max' must be greater than 'min'")
                elif step.max - step.min > 20:
                    yield Problem((*where, "max"), "a scale has at most 21 points; narrow it")
                for point in step.labels:
                    if not step.min <= point <= step.max:
                        yield Problem(
                            (*where, "labels", point),
                            f"label for {point} is outside the scale {step.min}-{step.max}",
                        )
            elif isinstance(step, NumberStep) and step.min >= step.max:
                yield Problem((*where, "max"), "'max' must be greater than 'min'")
            elif isinstance(step, TextStep) and not 0 <= step.min_length <= step.max_length:
                yield Problem(
                    (*where, "max_length"), "'max_length' must be at least 'min_length' (>= 0)"
                )
            elif isinstance(step, ChoiceStep) and len(step.options) < 2:
                yield Problem((*where, "options"), "a choice needs at least two options")
            elif isinstance(step, MultiChoiceStep):
                top = step.max_selected if step.max_selected is not None else len(step.options)
                if not 0 <= step.min_selected <= top <= len(step.options):
                    yield Problem(
                        (*where, "min_selected"),
                        f"need 0 <= min_selected <= max_selected <= {len(step.options)} options",
                    )


def language_choice_is_sound(playbook: Playbook) -> Iterator[Problem]:
    """A step that sets the language offers exactly the supported languages."""
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            if isinstance(step, ChoiceStep) and step.sets_language:
                ids = sorted(option.id for option in step.options)
                if ids != sorted(LANGUAGES):
                    yield Problem(
                        step_path(flow_id, step.id, "options"),
                        f"a language choice offers exactly the options {', '.join(LANGUAGES)}",
                    )


def helplines_are_sound(playbook: Playbook) -> Iterator[Problem]:
    """A country question offers only countries with helplines, and the note for a known
    country has them to quote: `local_message` with `{helplines}`."""
    safety = playbook.safety
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            if not (isinstance(step, ChoiceStep) and step.sets_country):
                continue
            for option in step.options:
                if option.id not in safety.helplines:
                    yield Problem(
                        step_path(flow_id, step.id, "options", option.id),
                        f"no helplines for '{option.id}'; add them under safety.helplines",
                    )
    if not safety.helplines:
        return
    local = safety.local_message
    for lang in LANGUAGES:
        if local is None or "{helplines}" not in local.get(lang):
            yield Problem(
                ("safety", "local_message"),
                f"the note for a known country needs '{{helplines}}' in its '{lang}' text",
            )


def next_flows_exist(playbook: Playbook) -> Iterator[Problem]:
    """`next_flow` names flows of the playbook (or 'end'), and its conditions are sound."""
    for flow_id, flow in playbook.flows.items():
        if flow.next_flow is None:
            continue
        path: PathT = ("flows", flow_id, "next_flow")
        for index, target in enumerate(next_targets(flow.next_flow)):
            if target != END and target not in playbook.flows:
                where = path if isinstance(flow.next_flow, str) else (*path, index)
                hint = did_you_mean(target, playbook.flows)
                yield Problem(where, f"unknown flow '{target}'{hint}")
        answered = {step.id for step in input_steps(flow)}
        for index, arm in branch_conditions(flow.next_flow):
            yield from _condition_problems(flow, (*path, index, "when"), arm.when, answered)


def safety_keywords_present(playbook: Playbook) -> Iterator[Problem]:
    """The safety net has keywords in every language."""
    for lang in LANGUAGES:
        if not [word for word in playbook.safety.keywords.get(lang, []) if word.strip()]:
            yield Problem(
                ("safety", "keywords"),
                f"no {LANGUAGE_NAMES[lang]} keywords; add a '{lang}:' list of words that signal "
                "distress",
            )


def safety_patterns_compile(playbook: Playbook) -> Iterator[Problem]:
    """Every safety keyword and exclusion is a usable phrase pattern (syntax in safety.py)."""
    safety = playbook.safety
    for kind, lists in (("keywords", safety.keywords), ("exclusions", safety.exclusions)):
        for lang, patterns in lists.items():
            for index, pattern in enumerate(patterns):
                try:
                    compile_pattern(pattern)
                except PatternError as error:
                    yield Problem(
                        ("safety", kind, lang, index),
                        f"'{pattern}': {error}; write words, `stem*`, `a|b` or `...` between words",
                    )


def safety_exclusions_keep_keywords(playbook: Playbook) -> Iterator[Problem]:
    """No exclusion swallows a keyword written as a sentence (it would never be heard)."""
    safety = playbook.safety
    for lang, patterns in safety.keywords.items():
        for index, pattern in enumerate(patterns):
            if "|" in pattern or "*" in pattern or GAP in pattern:
                continue
            if not safety.matcher.matches(pattern):
                yield Problem(
                    ("safety", "keywords", lang, index),
                    f"'{pattern}' is removed by an exclusion, so it never brings the note; "
                    "narrow the exclusion",
                )


def suggestions_are_valid(playbook: Playbook) -> Iterator[Problem]:
    """Suggested times read HH:MM; suggested time zones exist."""
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            if isinstance(step, TimeStep):
                for index, suggestion in enumerate(step.suggestions):
                    if parse_time(suggestion) != suggestion:
                        yield Problem(
                            step_path(flow_id, step.id, "suggestions", index),
                            f"'{suggestion}' is not a time written HH:MM, like 08:30",
                        )
            elif isinstance(step, TimezoneStep):
                for lang, zones in step.suggestions.items():
                    for index, zone in enumerate(zones):
                        if not is_known(zone):
                            yield Problem(
                                step_path(flow_id, step.id, "suggestions", lang, index),
                                f"unknown time zone '{zone}'; use an IANA name like Europe/Paris",
                            )


def followups_are_sound(playbook: Playbook) -> Iterator[Problem]:
    """Follow-ups name existing flows, each on its own day after the reflection."""
    seen: set[int] = set()
    for index, followup in enumerate(playbook.followups):
        path: PathT = ("followups", index)
        if followup.flow not in playbook.flows:
            hint = did_you_mean(followup.flow, playbook.flows)
            yield Problem((*path, "flow"), f"unknown flow '{followup.flow}'{hint}")
        if followup.after_days < 1:
            yield Problem(
                (*path, "after_days"), "'after_days' counts days after the reflection: 1 or more"
            )
        elif followup.after_days in seen:
            yield Problem(
                (*path, "after_days"),
                f"two follow-ups {followup.after_days} days after; one day holds one follow-up",
            )
        seen.add(followup.after_days)


def exclusive_options_are_sound(playbook: Playbook) -> Iterator[Problem]:
    """An exclusive option ("None of these") belongs to a multi-choice with other options."""
    for flow_id, flow in playbook.flows.items():
        for step in flow.steps:
            if not isinstance(step, ChoiceStep | MultiChoiceStep):
                continue
            for option in step.options:
                if not option.exclusive:
                    continue
                where = step_path(flow_id, step.id, "options", option.id, "exclusive")
                if isinstance(step, ChoiceStep):
                    yield Problem(where, "only a multi-choice option can be exclusive; remove it")
                elif all(other.exclusive for other in step.options):
                    yield Problem(where, "every option is exclusive: use a choice step instead")


RULES: tuple[Rule, ...] = (
    ids_are_well_formed,
    ids_are_unique,
    goto_targets_exist,
    branches_end_with_default,
    every_step_reachable,
    every_step_can_end,
    no_loop_of_messages,
    placeholders_are_known,
    placeholders_answered_before,
    translations_present,
    translations_quote_alike,
    option_ids_fit_buttons,
    texts_fit_telegram,
    conditions_are_sound,
    ranges_are_sound,
    language_choice_is_sound,
    helplines_are_sound,
    next_flows_exist,
    ui_placeholders_are_known,
    commands_are_described,
    commands_in_texts_exist,
    safety_keywords_present,
    safety_patterns_compile,
    safety_exclusions_keep_keywords,
    suggestions_are_valid,
    followups_are_sound,
    team_texts_are_sound,
    exclusive_options_are_sound,
    terminal_texts_replace_ui_texts,
    nudges_are_sound,
)
