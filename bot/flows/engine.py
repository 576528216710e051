"""The flow engine: a pure function from (playbook, state, event) to (new state, outputs).

No I/O happens here. Adapters (Telegram, terminal) turn what the manager does into events, store
the `Recorded` outputs and the new state, and render the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from . import answers as parse
from .conditions import choose, next_step
from .model import (
    END,
    AnswerValue,
    ChoiceStep,
    Flow,
    InputStep,
    Lang,
    MessageStep,
    MultiChoiceStep,
    Playbook,
    ScaleStep,
    Step,
    TextStep,
    TimeStep,
    TimezoneStep,
    YesNoStep,
)
from .state import (
    GO_ON,
    PAUSE,
    Amend,
    Answer,
    Ask,
    Back,
    Choice,
    Done,
    Event,
    Invalid,
    LanguageChanged,
    Output,
    Pick,
    Progress,
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
from .text import display_value, fill, normalise, placeholders
from .timezones import place, utc_offset

COMMAND = re.compile(r"^\s*/[A-Za-z]")
"""A text that starts like a slash command is never stored as an answer."""

SKIP_OPTION = "/skip"
"""The id of the skip choice an optional question offers (never an option id: ids are words)."""
MAX_AUTOMATIC_STEPS = 200
"""Message steps followed in one go before the engine stops (the validator forbids such loops)."""

Result = tuple[SessionState, tuple[Output, ...]]


class AutomaticStepLimit(RuntimeError):
    """More than MAX_AUTOMATIC_STEPS message steps in a row: the playbook loops without a question.

    The validator refuses such playbooks, so this means a validator gap: the engine stops loudly
    rather than end the flow as if the manager had finished it.
    """

    def __init__(self, flow: str, step: str) -> None:
        super().__init__(
            f"flow '{flow}': more than {MAX_AUTOMATIC_STEPS} message steps in a row from "
            f"'{step}' without a question; the playbook loops (run `rebond check`)"
        )
        self.flow = flow
        self.step = step


def start(
    playbook: Playbook, flow_id: str, lang: Lang, inputs: Mapping[str, str] | None = None
) -> Result:
    """Begin `flow_id`: the opening messages and the first question."""
    flow = playbook.flows[flow_id]
    given = {
        name: (inputs or {}).get(name) or default.get(lang) for name, default in flow.inputs.items()
    }
    state = SessionState(flow=flow_id, version=playbook.version, lang=lang, step=None, inputs=given)
    return _enter(playbook, flow, state, flow.first_step, [])


def advance(
    playbook: Playbook, state: SessionState, event: Event, now: datetime | None = None
) -> Result:
    """React to one event; bad input never raises, it yields a reason and the question again.

    `now` is when the event happened (aware datetime): dates like "demain" are read from it and
    a time zone's confirmation gives its offset at that moment. Without it, neither happens.
    """
    ui = playbook.ui
    notes = safety_outputs(playbook, event, state.lang, state.country)
    if state.step is None:
        if isinstance(event, Restart):
            return _restart(playbook, state)
        if isinstance(event, Amend):
            return state, (*notes, Invalid(ui.in_(state.lang).amend_after_end))
        if isinstance(event, Answer) and COMMAND.match(event.text):
            return state, (Invalid(unknown_command(playbook, event.text, state.lang)),)
        return state, (*notes, Invalid(ui.in_(state.lang).flow_finished))
    if state.choices:
        picked = _numbered_choice(state.choices, event)
        event = Pick(picked) if picked is not None else event
        base = state.model_copy(update={"choices": ()})  # shown once more only if asked again
        new_state, outputs = _advance(playbook, base, event, now)
    else:
        new_state, outputs = _advance(playbook, state, event, now)
    rejected = new_state is state or any(isinstance(o, Invalid) for o in outputs)
    if notes and rejected and isinstance(event, Answer):
        # Someone in distress is not told first that their answer was malformed: the note and
        # the offer come, then the question again.
        outputs = tuple(output for output in outputs if not isinstance(output, Invalid))
    if notes and new_state.done:
        # The flow ended with this answer: nothing is left to pause or go on with, so the note
        # comes without the choice (it would be a dead end before the closing words).
        notes = tuple(note for note in notes if not isinstance(note, SafetyOffer))
    elif notes:
        new_state = new_state.model_copy(update={"safety_offered": True})
    elif new_state.safety_offered and new_state is not state:
        new_state = new_state.model_copy(update={"safety_offered": False})  # answered: went on
    return new_state, (*notes, *outputs)


def _numbered_choice(choices: tuple[tuple[str, str], ...], event: Event) -> str | None:
    """The id of the offered choice whose number was typed, if one was."""
    if not isinstance(event, Answer):
        return None
    typed = event.text.strip()
    if not typed.isdigit() or len(typed) > 3:
        return None
    index = int(typed) - 1
    return choices[index][0] if 0 <= index < len(choices) else None


def safety_choice(playbook: Playbook, state: SessionState, event: Event) -> str | None:
    """PAUSE or GO_ON when the state waits on the safety offer and the event chooses one (its
    button, or its words typed); None otherwise."""
    if not state.safety_offered:
        return None
    if isinstance(event, Pick) and event.option in (PAUSE, GO_ON):
        return event.option
    if isinstance(event, Answer):
        offer, typed = playbook.safety.offer, normalise(event.text)
        for choice, label in ((PAUSE, offer.pause), (GO_ON, offer.go_on)):
            if typed in (normalise(label.fr), normalise(label.en)):
                return choice
    return None


def safety_offer(playbook: Playbook, lang: Lang) -> SafetyOffer:
    """The choice after the safety note: pause here, or go on."""
    offer = playbook.safety.offer
    options = (Choice(PAUSE, offer.pause.get(lang)), Choice(GO_ON, offer.go_on.get(lang)))
    return SafetyOffer(offer.prompt.get(lang), options)


def safety_outputs(
    playbook: Playbook, event: Event, lang: Lang, country: str | None = None
) -> tuple[Output, ...]:
    """The safety note (with the helplines of `country` when known) and the pause-or-go-on
    offer when the text an event carries (typed or edited, at any question or none) signals
    distress; nothing otherwise."""
    if not isinstance(event, Answer | Amend):
        return ()  # buttons carry the playbook's own option ids, never the manager's words
    safety = playbook.safety
    if not safety.matcher.matches(event.text):
        return ()
    return SafetyNote(safety_message(playbook, lang, country)), safety_offer(playbook, lang)


def safety_message(playbook: Playbook, lang: Lang, country: str | None) -> str:
    """The safety note: with the helplines of `country` when the playbook has them, else the
    note that gives France's numbers and says so."""
    safety = playbook.safety
    helplines = safety.helplines.get(country or "")
    if helplines is None or safety.local_message is None:
        return safety.message.get(lang)
    return fill(safety.local_message.get(lang), {"helplines": helplines.get(lang)})


def unknown_command(
    playbook: Playbook, text: str, lang: Lang, commands: tuple[str, ...] | None = None
) -> str:
    """ "Unknown command" and the list (`commands`, else the playbook's Telegram commands)."""
    command = text.strip().split()[0]
    listed = " ".join(commands or tuple(f"/{name}" for name in playbook.ui.commands))
    return fill(playbook.ui.in_(lang).unknown_command, {"command": command, "commands": listed})


def _advance(playbook: Playbook, state: SessionState, event: Event, now: datetime | None) -> Result:
    ui = playbook.ui
    flow = playbook.flows[state.flow]
    step = flow.step_by_id[state.step or ""]
    assert not isinstance(step, MessageStep), "a state never waits on a message step"
    lang = state.lang
    if isinstance(event, Restart):
        return _restart(playbook, state)
    if isinstance(event, Pick) and event.option == SKIP_OPTION:
        event = Skip()  # the skip button of an optional question
    if isinstance(event, Back):
        return _back(playbook, flow, state)
    if isinstance(event, Skip):
        if not step.optional:
            return _reject(playbook, flow, state, ui.in_(lang).cannot_skip)
        return _record(playbook, flow, state, step, None, "")
    if isinstance(event, Toggle):
        return _toggle(playbook, flow, state, step, event.option)
    if isinstance(event, Amend):
        if COMMAND.match(event.text):
            return state, (Invalid(unknown_command(playbook, event.text, lang)),)
        return _amend(playbook, flow, state, event, now)
    if isinstance(event, Submit):
        if not isinstance(step, MultiChoiceStep):
            return _reject(playbook, flow, state, _how_to_answer(playbook, step, lang))
        checked = parse.check_selection(ui, step, list(state.selection), lang)
        if isinstance(checked, parse.Rejected):
            return _reject(playbook, flow, state, checked.reason)
        clash = _exclusive_clash(playbook, step, checked, lang)
        if clash:
            return _reject(playbook, flow, state, clash)
        return _record(playbook, flow, state, step, checked, _raw_labels(step, checked, lang))
    if isinstance(event, Answer) and COMMAND.match(event.text):
        return _reject(playbook, flow, state, unknown_command(playbook, event.text, lang))
    if isinstance(event, Answer) and step.optional and not event.text.strip():
        return _record(playbook, flow, state, step, None, "")  # an empty line passes
    picked = offered_answer(state, step, event)
    if picked is not None:  # an offered answer: words the person did not write
        chosen = parse.parse_text(ui, step, picked, lang, now)
        if isinstance(chosen, parse.Rejected):
            return _reject(playbook, flow, state, chosen.reason)
        return _record(playbook, flow, state, step, chosen, picked)
    if isinstance(event, Answer):
        value = parse.parse_text(ui, step, event.text, lang, now)
        raw = event.text
    elif isinstance(step, MultiChoiceStep):  # a Pick on a multi-choice ticks the option
        return _toggle(playbook, flow, state, step, event.option)
    else:
        value = parse.parse_pick(ui, step, event.option, lang)
        raw = event.option
    if isinstance(step, MultiChoiceStep) and isinstance(value, list):
        clash = _exclusive_clash(playbook, step, value, lang)
        value = parse.Rejected(clash) if clash else value
    if isinstance(value, parse.Rejected):
        return _reject(playbook, flow, state, value.reason, value.choices)
    if isinstance(event, Pick):  # store the button's words, as the manager saw them
        raw = display_value(playbook, step, value, lang)
    said = _understood(playbook, step, value, raw, lang, now)
    return _record(playbook, flow, state, step, value, raw, said)


def _understood(
    playbook: Playbook,
    step: InputStep,
    value: AnswerValue,
    raw: str,
    lang: Lang,
    now: datetime | None,
) -> list[Output]:
    """What the bot says it understood when it read more than the words (a zone, a date)."""
    ui = playbook.ui
    if isinstance(step, TimezoneStep) and isinstance(value, str) and now is not None:
        offset = utc_offset(value, now)
        values = {"text": raw.strip(), "place": place(value, lang), "offset": offset}
        return [Say(fill(ui.in_(lang).timezone_confirmed, values))]
    if isinstance(step, TextStep) and step.reads_date and now is not None and value:
        if value == raw.strip():  # words no date was read from: kept, and said so
            return [Say(fill(ui.in_(lang).date_kept_as_text, {"text": raw.strip()}))]
        shown = display_value(playbook, step, value, lang)
        return [Say(fill(ui.in_(lang).date_understood, {"date": shown}))]
    options = {option.id for option in step.options} if isinstance(step, ChoiceStep) else set()
    if isinstance(step, ChoiceStep) and step.or_past_date and value not in options:
        shown = display_value(playbook, step, value, lang)
        return [Say(fill(ui.in_(lang).past_date_understood, {"date": shown}))]
    return []


OFFERED_PREFIX = "o"
"""Button ids of offered answers at a text step: o1, o2, ..."""
OFFERED_LABEL = 60
"""Characters of an offered answer shown on its button (the whole text is recorded)."""


def offered_answer(state: SessionState, step: Step, event: Event) -> str | None:
    """The offered answer an event picks at a text step (its button, or its number typed)."""
    offers = state.offered.get(step.id, ())
    if not offers or not isinstance(step, TextStep):
        return None
    if isinstance(event, Pick) and event.option.startswith(OFFERED_PREFIX):
        number = event.option[len(OFFERED_PREFIX) :]
    elif isinstance(event, Answer):
        number = event.text.strip()
    else:
        return None
    if not number.isdigit() or len(number) > 3:
        return None
    index = int(number) - 1
    return offers[index] if 0 <= index < len(offers) else None


def ask(playbook: Playbook, state: SessionState) -> Ask | None:
    """The question the state is waiting on (to show it again on resume), or None when done."""
    if state.step is None:
        return None
    flow = playbook.flows[state.flow]
    step = flow.step_by_id[state.step]
    assert not isinstance(step, MessageStep)
    return _ask(playbook, flow, state, step)


def values_for(playbook: Playbook, flow: Flow, state: SessionState) -> dict[str, str]:
    """Answers and inputs as the words that placeholders are replaced with."""
    values = dict(state.inputs)
    for step_id, value in state.answers.items():
        step = flow.step_by_id.get(step_id)
        if step is not None and value is not None:
            values[step_id] = display_value(playbook, step, value, state.lang)
    return values


def _render(playbook: Playbook, flow: Flow, state: SessionState, template: str) -> str:
    if "{" not in template:
        return template
    return fill(template, values_for(playbook, flow, state))


def _record(
    playbook: Playbook,
    flow: Flow,
    state: SessionState,
    step: InputStep,
    value: AnswerValue,
    raw: str,
    said: list[Output] | None = None,
) -> Result:
    section = flow.section_of[step.id][1].id
    outputs: list[Output] = [Recorded(step.id, section, raw, value), *(said or [])]
    lang = state.lang
    if isinstance(step, ChoiceStep) and step.sets_language and value in ("fr", "en"):
        lang = "fr" if value == "fr" else "en"
        outputs.append(LanguageChanged(lang))
    country = state.country
    if isinstance(step, ChoiceStep) and step.sets_country and isinstance(value, str):
        country = value
    answers = {**state.answers, step.id: value}
    moved = state.model_copy(
        update={
            "answers": answers,
            "history": (*state.history, step.id),
            "lang": lang,
            "selection": (),
            "country": country,
        }
    )
    return _enter(playbook, flow, moved, next_step(flow, step, answers), outputs)


def _enter(
    playbook: Playbook, flow: Flow, state: SessionState, target: str, outputs: list[Output]
) -> Result:
    """Follow message steps from `target` until a question or the end."""
    for _ in range(MAX_AUTOMATIC_STEPS):
        if target == END:
            return _finish(playbook, flow, state, outputs)
        step = flow.step_by_id[target]
        if isinstance(step, MessageStep):
            outputs.append(Say(_render(playbook, flow, state, step.text.get(state.lang))))
            target = next_step(flow, step, state.answers)
            continue
        asked = state.model_copy(update={"step": step.id, "turn": state.turn + 1, "selection": ()})
        outputs.append(_ask(playbook, flow, asked, step))
        return asked, tuple(outputs)
    raise AutomaticStepLimit(state.flow, target)


def _finish(playbook: Playbook, flow: Flow, state: SessionState, outputs: list[Output]) -> Result:
    ended = state.model_copy(update={"step": None, "turn": state.turn + 1, "selection": ()})
    lang = state.lang
    values = values_for(playbook, flow, ended)
    lines: tuple[str, ...] = ()
    title = flow.title.get(lang)
    if flow.summary is not None:
        title = flow.summary.title.get(lang)
        lines = tuple(
            fill(line.get(lang), values)
            for line in flow.summary.lines
            if all(name in values for name in placeholders(line.get(lang)))
        )
    rendered = tuple((name, fill(text.get(lang), values)) for name, text in flow.outputs.items())
    chained = None if flow.next_flow is None else choose(flow.next_flow, ended.answers)
    outputs.append(Done(ended.flow, title, lines, rendered, None if chained == END else chained))
    return ended, tuple(outputs)


def _ask(playbook: Playbook, flow: Flow, state: SessionState, step: InputStep) -> Ask:
    lang = state.lang
    ui = playbook.ui
    index, section = flow.section_of[step.id]
    progress = Progress(index, len(flow.sections), section.title.get(lang))
    hints: list[str] = []
    options: tuple[Choice, ...] = ()
    if isinstance(step, ChoiceStep):
        options = tuple(Choice(o.id, o.label.get(lang)) for o in step.options)
    elif isinstance(step, TextStep):
        options = tuple(
            Choice(f"{OFFERED_PREFIX}{number}", _shortened(text, OFFERED_LABEL))
            for number, text in enumerate(state.offered.get(step.id, ()), start=1)
        )
    elif isinstance(step, MultiChoiceStep):
        ticked = set(state.selection)
        options = tuple(Choice(o.id, o.label.get(lang), o.id in ticked) for o in step.options)
        hints.append(ui.in_(lang).multi_choice_hint)
    elif isinstance(step, ScaleStep):
        options = tuple(Choice(str(n), str(n)) for n in range(step.min, step.max + 1))
        hints.append(
            " · ".join(f"{n} = {label.get(lang)}" for n, label in sorted(step.labels.items()))
        )
    elif isinstance(step, YesNoStep):
        options = (Choice("yes", ui.in_(lang).yes), Choice("no", ui.in_(lang).no))
    elif isinstance(step, TimeStep):
        options = tuple(Choice(parse.time_option_id(t), t) for t in step.suggestions)
    elif isinstance(step, TimezoneStep):
        zones = step.suggestions.get(lang, [])
        options = tuple(
            Choice(parse.zone_option_id(i), place(z, lang)) for i, z in enumerate(zones)
        )
    if state.choices:  # what the last answer could mean, offered instead (kept on restart)
        options = tuple(Choice(i, label) for i, label in state.choices)
    if step.optional:
        hints.append(ui.in_(lang).optional_hint)
    previous = None
    if step.id in state.answers:
        previous = display_value(playbook, step, state.answers[step.id], lang)
    return Ask(
        step=step.id,
        kind=step.type,
        prompt=_render(playbook, flow, state, step.prompt.get(lang)),
        options=options,
        progress=progress,
        hint="\n".join(hint for hint in hints if hint),
        turn=state.turn,
        optional=step.optional,
        previous=previous,
        skip=ui.in_(lang).skip_button if step.optional else None,
    )


def _reject(
    playbook: Playbook,
    flow: Flow,
    state: SessionState,
    reason: str,
    choices: tuple[tuple[str, str], ...] = (),
) -> Result:
    assert state.step is not None
    step = flow.step_by_id[state.step]
    assert not isinstance(step, MessageStep)
    question = _ask(playbook, flow, state, step)
    if choices:  # the places a name may mean, offered instead of the usual suggestions
        question = replace(question, options=tuple(Choice(i, label) for i, label in choices))
        return state.model_copy(update={"choices": choices}), (Invalid(reason), question)
    return state, (Invalid(reason), question)


def _back(playbook: Playbook, flow: Flow, state: SessionState) -> Result:
    if not state.history:
        return _reject(playbook, flow, state, playbook.ui.in_(state.lang).nothing_to_go_back_to)
    previous = state.history[-1]
    kept = set(state.history[:-1])
    answers = {k: v for k, v in state.answers.items() if k in kept or k == previous}
    step = flow.step_by_id[previous]
    assert not isinstance(step, MessageStep)
    earlier = answers.get(previous)
    selection = tuple(earlier) if isinstance(earlier, list) else ()
    moved = state.model_copy(
        update={
            "step": previous,
            "history": state.history[:-1],
            "answers": answers,
            "turn": state.turn + 1,
            "selection": selection,
        }
    )
    return moved, (_ask(playbook, flow, moved, step),)


def _toggle(playbook: Playbook, flow: Flow, state: SessionState, step: Step, option: str) -> Result:
    assert not isinstance(step, MessageStep)
    if not isinstance(step, MultiChoiceStep) or option not in {o.id for o in step.options}:
        return _reject(playbook, flow, state, _how_to_answer(playbook, step, state.lang))
    ticked = set(state.selection) ^ {option}
    if option in ticked:  # "None of these" clears the others, and any other clears it
        exclusive = {o.id for o in step.options if o.exclusive}
        ticked = {option} if option in exclusive else ticked - exclusive
    selection = tuple(o.id for o in step.options if o.id in ticked)
    moved = state.model_copy(update={"selection": selection, "turn": state.turn + 1})
    return moved, (_ask(playbook, flow, moved, step),)


def _amend(
    playbook: Playbook, flow: Flow, state: SessionState, event: Amend, now: datetime | None
) -> Result:
    """Replace the last answer by corrected text, if that keeps the flow on the same path."""
    ui = playbook.ui
    lang = state.lang
    if not state.history or state.history[-1] != event.step:
        return state, (Invalid(ui.in_(lang).amend_too_late),)
    step = flow.step_by_id[event.step]
    assert not isinstance(step, MessageStep)
    value = parse.parse_text(ui, step, event.text, lang, now)
    if isinstance(value, parse.Rejected):
        return state, (Invalid(value.reason),)
    answers = {**state.answers, step.id: value}
    if _next_question(state.flow, flow, step, answers) != state.step:
        return state, (Invalid(ui.in_(lang).amend_changes_path),)
    section = flow.section_of[step.id][1].id
    amended = state.model_copy(update={"answers": answers})
    current = flow.step_by_id[state.step or ""]
    assert not isinstance(current, MessageStep)
    recorded = Recorded(step.id, section, event.text, value, amended=True)
    return amended, (recorded, _ask(playbook, flow, amended, current))


def _next_question(flow_id: str, flow: Flow, step: Step, answers: Mapping[str, AnswerValue]) -> str:
    """The question (or END) the flow reaches after `step` given the answers, past messages."""
    target = next_step(flow, step, answers)
    for _ in range(MAX_AUTOMATIC_STEPS):
        if target == END or not isinstance(flow.step_by_id[target], MessageStep):
            return target
        target = next_step(flow, flow.step_by_id[target], answers)
    raise AutomaticStepLimit(flow_id, target)


def _restart(playbook: Playbook, state: SessionState) -> Result:
    flow = playbook.flows[state.flow]
    fresh = SessionState(
        flow=state.flow,
        version=state.version,
        lang=state.lang,
        step=None,
        turn=state.turn,
        inputs=state.inputs,
        offered=state.offered,
        country=state.country,
    )
    return _enter(
        playbook, flow, fresh, flow.first_step, [Say(playbook.ui.in_(state.lang).restarted)]
    )


def _how_to_answer(playbook: Playbook, step: InputStep, lang: Lang) -> str:
    """The reason an empty answer gets: it says how this kind of question is answered."""
    if isinstance(step, MultiChoiceStep):
        count = {"count": str(len(step.options))}
        return fill(playbook.ui.in_(lang).invalid_multi_choice, count)
    rejected = parse.parse_text(playbook.ui, step, "", lang)
    return rejected.reason if isinstance(rejected, parse.Rejected) else ""


def _shortened(text: str, room: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= room else flat[: room - 1].rstrip() + "…"


def _exclusive_clash(
    playbook: Playbook, step: MultiChoiceStep, chosen: list[str], lang: Lang
) -> str | None:
    """Why a selection is refused when it pairs an exclusive option with others, else None."""
    if len(chosen) < 2:
        return None
    for option in step.options:
        if option.exclusive and option.id in chosen:
            return fill(playbook.ui.in_(lang).exclusive_option, {"option": option.label.get(lang)})
    return None


def _raw_labels(step: MultiChoiceStep, chosen: list[str], lang: Lang) -> str:
    labels = {option.id: option.label.get(lang) for option in step.options}
    return ", ".join(labels[item] for item in chosen)
