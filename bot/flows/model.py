"""Playbook models: the declaration of every flow, frozen and shared by all sessions.

A playbook is read from YAML by `loader.py`, checked rule by rule by `validate.py`
and run by `engine.py`. Nothing here talks to Telegram, SQLite or the network.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from .normal import normalise

Lang = Literal["fr", "en"]
LANGUAGES: tuple[Lang, ...] = ("fr", "en")
LANGUAGE_NAMES: dict[Lang, str] = {"fr": "French", "en": "English"}

END = "end"
"""The reserved `goto` target that ends a flow."""

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

AnswerValue = str | int | float | bool | list[str] | None
"""A normalised answer: option id, number, yes/no, selected ids, text; None when skipped."""


class Frozen(BaseModel):
    """Base of every playbook model: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Localized(Frozen):
    """A text in every supported language; an empty text is a missing translation."""

    fr: str = ""
    en: str = ""

    @field_validator("fr", "en", mode="before")
    @classmethod
    def _empty_is_missing(cls, value: object) -> object:
        # `en:` with nothing after it is a missing translation, reported by the validator
        return "" if value is None else value

    def get(self, lang: Lang) -> str:
        """The text in `lang`."""
        return self.fr if lang == "fr" else self.en


# --- Conditions: declarative, evaluated by the engine, never eval'd ---------------------------

Scalar = str | int | float | bool


class Equals(Frozen):
    """`equals: {step: value}`: the answer is that value (or, for a multi-choice, contains it)."""

    equals: dict[str, Scalar]


class In(Frozen):
    """`in: {step: [values]}`: the answer is one of the values (or shares one with them)."""

    in_: dict[str, list[Scalar]] = Field(alias="in")


class AtLeast(Frozen):
    """`at_least: {step: n}`: a numeric answer is >= n."""

    at_least: dict[str, float]


class AtMost(Frozen):
    """`at_most: {step: n}`: a numeric answer is <= n."""

    at_most: dict[str, float]


class AnyOf(Frozen):
    """`any: [conditions]`: at least one holds."""

    any: list[Condition]


class AllOf(Frozen):
    """`all: [conditions]`: every one holds."""

    all: list[Condition]


CONDITION_KEYS = ("equals", "in", "at_least", "at_most", "any", "all")


def _condition_kind(value: object) -> str | None:
    """The tag of a condition mapping: its single key (`equals`, `in`, ...)."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in CONDITION_KEYS else None
    if isinstance(value, BaseModel):
        return _CONDITION_TAGS.get(type(value).__name__)
    return None


_CONDITION_TAGS = {
    "Equals": "equals",
    "In": "in",
    "AtLeast": "at_least",
    "AtMost": "at_most",
    "AnyOf": "any",
    "AllOf": "all",
}


Condition = Annotated[
    Annotated[Equals, Tag("equals")]
    | Annotated[In, Tag("in")]
    | Annotated[AtLeast, Tag("at_least")]
    | Annotated[AtMost, Tag("at_most")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[AllOf, Tag("all")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition is a mapping with one key among: "
        + ", ".join(CONDITION_KEYS),
    ),
]
AnyOf.model_rebuild()
AllOf.model_rebuild()


class Branch(Frozen):
    """One arm of a `next` list: go to `goto` when `when` holds."""

    when: Condition
    goto: str


class DefaultBranch(Frozen):
    """The arm of a `next` list taken when no earlier arm holds."""

    default: str


def _branch_kind(value: object) -> str:
    if isinstance(value, DefaultBranch) or (isinstance(value, dict) and "default" in value):
        return "default"
    return "when"


BranchArm = Annotated[
    Annotated[Branch, Tag("when")] | Annotated[DefaultBranch, Tag("default")],
    Discriminator(_branch_kind),
]


def _next_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "goto"
    return "branches" if isinstance(value, list) else None


Next = Annotated[
    Annotated[str, Tag("goto")] | Annotated[list[BranchArm], Tag("branches")],
    Discriminator(
        _next_kind,
        custom_error_type="next",
        custom_error_message="'next' is a step id, or a list of {when, goto} items ending with "
        "{default: step}",
    ),
]


# --- Steps -------------------------------------------------------------------------------------


class Option(Frozen):
    """One answer offered by a choice or multi-choice step."""

    id: str
    label: Localized


class StepBase(Frozen):
    """Fields every step shares."""

    id: str
    next: Next | None = None
    optional: bool = False


class MessageStep(StepBase):
    """Says something and moves on without waiting."""

    type: Literal["message"]
    text: Localized


class TextStep(StepBase):
    """A free-text answer."""

    type: Literal["text"]
    prompt: Localized
    min_length: int = 1
    max_length: int = 1000


class ChoiceStep(StepBase):
    """One option among several."""

    type: Literal["choice"]
    prompt: Localized
    options: list[Option]
    sets_language: bool = False


class MultiChoiceStep(StepBase):
    """Any number of options, between `min_selected` and `max_selected`."""

    type: Literal["multi_choice"]
    prompt: Localized
    options: list[Option]
    min_selected: int = 1
    max_selected: int | None = None


class ScaleStep(StepBase):
    """A whole number between `min` and `max`, with labels on some points."""

    type: Literal["scale"]
    prompt: Localized
    min: int = 0
    max: int = 10
    labels: dict[int, Localized] = {}


class YesNoStep(StepBase):
    """Yes or no."""

    type: Literal["yes_no"]
    prompt: Localized


class NumberStep(StepBase):
    """A number between `min` and `max`; whole numbers only unless `integer` is false."""

    type: Literal["number"]
    prompt: Localized
    min: float = 0
    max: float = 1_000_000
    integer: bool = True
    unit: Localized | None = None


class TimeStep(StepBase):
    """A time of day, "HH:MM": typed, or one of the suggested times on buttons."""

    type: Literal["time"]
    prompt: Localized
    suggestions: list[str] = []


class TimezoneStep(StepBase):
    """A time zone (IANA name): typed as a city or a name, or one of the language's suggestions."""

    type: Literal["timezone"]
    prompt: Localized
    suggestions: dict[Lang, list[str]] = {}


InputStep = (
    TextStep
    | ChoiceStep
    | MultiChoiceStep
    | ScaleStep
    | YesNoStep
    | NumberStep
    | TimeStep
    | TimezoneStep
)
"""A step that waits for an answer."""
Step = Annotated[MessageStep | InputStep, Field(discriminator="type")]


class Section(Frozen):
    """A titled group of steps: one stage of the reflection, shown in the progress line."""

    id: str
    title: Localized
    steps: list[Step]


class Summary(Frozen):
    """The recap shown when a flow ends; a line is left out when it quotes a missing answer."""

    title: Localized
    lines: list[Localized]


class Flow(Frozen):
    """A conversation: sections of steps, run from the first step to an end."""

    title: Localized
    description: Localized | None = None
    sections: list[Section]
    inputs: dict[str, Localized] = {}
    """Values the adapter passes in at start (e.g. `commitment`), with their default text."""
    outputs: dict[str, Localized] = {}
    """Texts rendered from the answers at the end and kept with the session."""
    summary: Summary | None = None
    next_flow: Next | None = None
    """The flow that starts when this one ends: a flow id, or branches on the answers."""

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        """Every step in document order."""
        return tuple(step for section in self.sections for step in section.steps)

    @cached_property
    def step_by_id(self) -> dict[str, Step]:
        """Steps by id (the last one wins when ids repeat; the validator reports that)."""
        return {step.id: step for step in self.steps}

    @cached_property
    def section_of(self) -> dict[str, tuple[int, Section]]:
        """For each step id, its section's 1-based position and the section."""
        return {
            step.id: (index, section)
            for index, section in enumerate(self.sections, start=1)
            for step in section.steps
        }

    @cached_property
    def default_next(self) -> dict[str, str]:
        """Where each step goes when it has no `next`: the following step, or the end."""
        steps = self.steps
        return {
            step.id: steps[i + 1].id if i + 1 < len(steps) else END for i, step in enumerate(steps)
        }

    @property
    def first_step(self) -> str:
        """Id of the step the flow starts at."""
        return self.steps[0].id if self.steps else END


class Followup(Frozen):
    """A short flow sent instead of the daily check-in, `after_days` after a reflection."""

    after_days: int
    flow: str


class Safety(Frozen):
    """Words that signal distress; any answer containing one brings the safety message."""

    keywords: dict[Lang, list[str]]
    message: Localized

    @cached_property
    def patterns(self) -> tuple[tuple[str, bool], ...]:
        """Normalised keywords as (text, is_prefix); `stem*` matches any word starting so."""
        found = []
        for words in self.keywords.values():
            for word in words:
                prefix = word.endswith("*")
                text = normalise(word[:-1] if prefix else word)
                if text:
                    found.append((text, prefix))
        return tuple(found)


class UiTexts(Frozen):
    """Texts the engine and the adapters say around the questions."""

    invalid_choice: Localized
    invalid_multi_choice: Localized
    too_few_selected: Localized
    too_many_selected: Localized
    invalid_scale: Localized
    invalid_number: Localized
    number_not_whole: Localized
    number_out_of_range: Localized
    invalid_yes_no: Localized
    text_too_short: Localized
    text_too_long: Localized
    cannot_skip: Localized
    nothing_to_go_back_to: Localized
    flow_finished: Localized
    restarted: Localized
    yes: Localized
    no: Localized
    done_selecting: Localized
    skipped: Localized
    previous_answer: Localized
    optional_hint: Localized
    multi_choice_hint: Localized
    resumed: Localized
    saved_and_exit: Localized
    paused: Localized
    help_terminal: Localized
    help_telegram: Localized
    commands: dict[str, Localized]
    """Descriptions of the bot's commands, shown in Telegram's menu."""
    welcome_back: Localized
    button_inactive: Localized
    reflection_in_progress: Localized
    resume_button: Localized
    restart_button: Localized
    nothing_in_progress: Localized
    cancelled: Localized
    history_empty: Localized
    history_title: Localized
    language_prompt: Localized
    language_set: Localized
    unsupported_media: Localized
    answer_updated: Localized
    amend_too_late: Localized
    amend_changes_path: Localized
    private_only: Localized
    error_apology: Localized
    invalid_time: Localized
    invalid_timezone: Localized
    back_to_reflection: Localized
    later_button: Localized
    checkin_snoozed: Localized
    checkin_already_done: Localized
    progress_summary: Localized
    progress_empty: Localized
    chart_title: Localized
    chart_mood_axis: Localized
    chart_reflection: Localized
    chart_guilt: Localized
    chart_worry: Localized
    chart_before: Localized
    chart_after: Localized
    chart_no_data: Localized
    share_preview: Localized
    share_include_checkins: Localized
    share_confirm_button: Localized
    cancel_button: Localized
    share_done: Localized
    share_cancelled: Localized
    invite_unknown: Localized
    invite_used: Localized
    invite_expired: Localized
    invite_own: Localized
    unshare_done: Localized
    unshare_none: Localized
    private_offer: Localized
    keep_private_button: Localized
    share_now_button: Localized
    kept_private: Localized
    shared_now: Localized
    history_private: Localized
    feedback_received: Localized
    history_feedback: Localized
    mydata_caption: Localized
    forget_confirm: Localized
    forget_button: Localized
    forgotten: Localized
    forgotten_pending: Localized
    share_past_title: Localized
    share_past_line: Localized
    share_past_all_button: Localized
    share_past_none_button: Localized
    share_past_done: Localized
    mydata_audit_title: Localized
    mydata_audit_line: Localized
    mydata_audit_empty: Localized
    mydata_operator: Localized
    mydata_former_coach: Localized
    audit_managers: Localized
    audit_reflections: Localized
    audit_read: Localized
    audit_trend: Localized
    audit_export: Localized
    forget_cancelled: Localized
    coach_only: Localized
    coach_help: Localized
    coach_invite: Localized
    coach_no_managers: Localized
    coach_managers_title: Localized
    coach_manager_line: Localized
    coach_no_access: Localized
    coach_reflections_title: Localized
    coach_reflection_line: Localized
    coach_no_reflections: Localized
    coach_usage: Localized
    coach_note_saved: Localized
    coach_feedback_sent: Localized
    coach_feedback_saved: Localized
    coach_notify_on: Localized
    coach_notify_off: Localized
    coach_notification: Localized
    coach_shared_with_you: Localized
    coach_unshared: Localized
    coach_notes_title: Localized
    coach_trend_title: Localized


class Playbook(Frozen):
    """The whole conversation content: texts around questions, safety net, flows."""

    ui: UiTexts
    safety: Safety
    flows: dict[str, Flow]
    followups: list[Followup] = []
    version: str = ""
    """Content hash of the source text, set by the loader; the YAML must not set it."""

    def flow(self, flow_id: str) -> Flow:
        """The flow with that id (KeyError if there is none)."""
        return self.flows[flow_id]
