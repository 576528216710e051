"""Playbook models: the declaration of every flow, frozen and shared by all sessions.

A playbook is read from YAML by `loader.py`, checked rule by rule by `validate.py`
and run by `engine.py`. Nothing here talks to Telegram, SQLite or the network.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from .safety import Matcher, build_matcher

Lang = Literal["fr", "en"]
LANGUAGES: tuple[Lang, ...] = ("fr", "en")
LANGUAGE_NAMES: dict[Lang, str] = {"fr": "French", "en": "English"}

END = "end"
"""The reserved `goto` target that ends a flow."""

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

AnswerValue = str | int | float | bool | list[str] | None
"""A normalised answer: option id, number, yes/no, selected ids, text; None when skipped."""


T = TypeVar("T", "Localized", str)
"""A text field's type: Localized in a playbook, str once a language is chosen."""


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
    exclusive: bool = False
    """In a multi-choice, an option such as "None of these": ticking it clears the others."""


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
    reads_date: bool = False
    """A date typed here ("jeudi prochain") is stored as the date it meant (ISO); other text
    stays text."""


class ChoiceStep(StepBase):
    """One option among several."""

    type: Literal["choice"]
    prompt: Localized
    options: list[Option]
    sets_language: bool = False
    or_past_date: bool = False
    """Besides its options, a day or period in the past typed in words ("le 12 novembre",
    "lundi dernier", "cette semaine") is stored as the ISO date or interval it meant, at the
    moment it was said ("2026-11-12", "2026-11-23/2026-11-26"); other text is asked again."""
    sets_country: bool = False
    """The answer is the manager's country (lower-case ISO code, or 'other'): the safety note
    then gives that country's helplines (`safety.helplines`)."""


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


class SafetyOffer(Frozen):
    """The choice offered after the safety note: pause here, or go on."""

    prompt: Localized
    pause: Localized
    go_on: Localized


class Safety(Frozen):
    """Phrases that signal distress (syntax in `safety.py`); an answer holding one, outside the
    business senses listed in `exclusions`, brings the safety message and the offer."""

    keywords: dict[Lang, list[str]]
    exclusions: dict[Lang, list[str]] = {}
    message: Localized
    """The note when the manager's country is not known (it names France's numbers as such)."""
    local_message: Localized | None = None
    """The note for a manager whose country is known: `{helplines}` stands for its numbers."""
    helplines: dict[str, Localized] = {}
    """By lower-case ISO country code (and 'other'): the numbers to call there, both languages."""
    offer: SafetyOffer

    @cached_property
    def matcher(self) -> Matcher:
        """Every language's patterns and exclusions, compiled once (answers mix languages)."""
        return build_matcher(
            (p for words in self.keywords.values() for p in words),
            (p for words in self.exclusions.values() for p in words),
        )


class UiFields(Frozen, Generic[T]):
    """The texts said around the questions, each a T: Localized in a playbook, str in one
    language (see UiTexts.in_)."""

    invalid_choice: T
    invalid_multi_choice: T
    too_few_selected: T
    too_many_selected: T
    invalid_scale: T
    invalid_number: T
    number_not_whole: T
    number_out_of_range: T
    invalid_yes_no: T
    text_too_short: T
    text_too_long: T
    cannot_skip: T
    nothing_to_go_back_to: T
    flow_finished: T
    restarted: T
    yes: T
    no: T
    done_selecting: T
    skipped: T
    previous_answer: T
    optional_hint: T
    multi_choice_hint: T
    resumed: T
    saved_and_exit: T
    paused: T
    help_terminal: T
    help_telegram: T
    commands: dict[str, T]
    """Descriptions of the bot's commands, shown in Telegram's menu."""
    welcome_back: T
    button_inactive: T
    reflection_in_progress: T
    resume_button: T
    restart_button: T
    nothing_in_progress: T
    cancelled: T
    history_empty: T
    history_title: T
    language_prompt: T
    language_set: T
    unsupported_media: T
    answer_updated: T
    amend_too_late: T
    amend_changes_path: T
    private_only: T
    error_apology: T
    invalid_time: T
    invalid_timezone: T
    timezone_ambiguous: T
    timezone_confirmed: T
    number_ambiguous: T
    option_ambiguous: T
    telegram_only_command: T
    date_understood: T
    past_date_understood: T
    invalid_choice_or_past_date: T
    date_ambiguous: T
    date_kept_as_text: T
    unknown_command: T
    command_edited: T
    amend_after_end: T
    back_to_reflection: T
    later_button: T
    checkin_snoozed: T
    checkin_already_done: T
    progress_summary: T
    progress_empty: T
    chart_title: T
    chart_mood_axis: T
    chart_reflection: T
    chart_guilt: T
    chart_worry: T
    chart_before: T
    chart_after: T
    chart_no_data: T
    share_preview: T
    share_include_checkins: T
    share_confirm_button: T
    cancel_button: T
    share_done: T
    share_cancelled: T
    invite_unknown: T
    invite_used: T
    invite_expired: T
    invite_own: T
    unshare_done: T
    unshare_none: T
    private_offer: T
    keep_private_button: T
    share_now_button: T
    kept_private: T
    shared_now: T
    history_private: T
    feedback_received: T
    history_feedback: T
    mydata_caption: T
    forget_confirm: T
    forget_button: T
    forgotten: T
    forgotten_pending: T
    forgotten_on_disk: T
    share_past_title: T
    share_past_line: T
    share_past_all_button: T
    share_past_none_button: T
    share_past_done: T
    mydata_audit_title: T
    mydata_audit_line: T
    mydata_audit_empty: T
    mydata_operator: T
    mydata_former_coach: T
    audit_managers: T
    audit_reflections: T
    audit_read: T
    audit_trend: T
    audit_export: T
    forget_cancelled: T
    coach_only: T
    coach_help: T
    coach_invite: T
    coach_no_managers: T
    coach_managers_title: T
    coach_manager_line: T
    coach_no_access: T
    coach_reflections_title: T
    coach_reflection_line: T
    coach_no_reflections: T
    coach_usage: T
    coach_note_saved: T
    coach_feedback_sent: T
    coach_feedback_saved: T
    coach_notify_on: T
    coach_notify_off: T
    coach_web_link: T
    coach_web_logout: T
    coach_web_off: T
    coach_notification: T
    coach_shared_with_you: T
    coach_unshared: T
    coach_notes_title: T
    coach_trend_title: T
    # --- the journey after a reflection (refs #11) ---
    home_title: T
    home_resume: T
    home_restore: T
    home_new: T
    home_checkin_todo: T
    home_checkin_done: T
    home_checkin_off: T
    home_history: T
    home_commitments: T
    home_progress: T
    home_settings: T
    settings_summary: T
    coach_welcome: T
    coach_zone_question: T
    coach_zone_current: T
    coach_zone_set: T
    coach_zone_default: T
    coach_zone_unknown: T
    checkin_schedule_on: T
    checkin_days_daily: T
    checkin_days_weekdays: T
    checkin_schedule_paused: T
    checkin_schedule_off: T
    checkin_schedule_none: T
    checkin_terminal: T
    commitments_title: T
    commitments_empty: T
    commitment_line: T
    commitment_due: T
    commitment_no_date: T
    commitment_status_open: T
    commitment_status_in_progress: T
    commitment_status_postponed: T
    commitment_status_done: T
    commitment_status_dropped: T
    commitment_contact: T
    commitment_team_talk: T
    coach_commitments_title: T
    cancel_confirm: T
    cancel_confirm_button: T
    cancel_keep_button: T
    cancelled_restorable: T
    cancel_confirm_flow: T
    cancelled_flow: T
    cancel_go_on_button: T
    cancel_went_on: T
    cancel_kept: T
    restored: T
    skip_button: T
    exclusive_option: T
    reply_button: T
    reply_prompt: T
    reply_sent: T
    reply_nothing: T
    coach_reply_received: T
    coach_reply_sent: T
    thread_from_coach: T
    history_reply: T
    quiet_hours_set: T
    quiet_hours_usage: T
    nudges_allow_button: T
    terminal: dict[str, T] = {}
    """Texts that replace the ui texts of the same name in the terminal (no buttons there)."""


UiText = UiFields[str]
"""The UI texts in one language, as plain strings: what `UiTexts.in_(lang)` returns."""


class UiTexts(UiFields[Localized]):
    """Texts the engine and the adapters say around the questions, in every language.

    Say one in the user's language with `ui.in_(lang).invalid_time`: typed field by field (a
    misspelt name fails mypy), one language chosen once per function rather than per text.
    """

    def in_(self, lang: Lang) -> UiText:
        """These texts in `lang` (built once per language, then shared)."""
        return self._by_language[lang]

    @cached_property
    def _by_language(self) -> dict[Lang, UiText]:
        return {lang: _in_language(self, lang) for lang in LANGUAGES}


def _in_language(texts: UiTexts, lang: Lang) -> UiText:
    values: dict[str, Any] = {}
    for name, value in texts:
        if isinstance(value, dict):
            values[name] = {key: text.get(lang) for key, text in value.items()}
        else:
            values[name] = value.get(lang)
    return UiText.model_construct(None, **values)


class TeamTexts(Frozen):
    """The team round: where the reflection offers it, and what Rebond says around its flows."""

    offer_steps: list[str] = []
    """Steps of the reflection at which the adapter offers to open a team round."""
    ideas_step: str
    """The reflection's text step at which the team's ideas are offered as options."""
    offer_button: Localized
    opened: Localized
    forward: Localized
    no_link: Localized
    status_open: Localized
    status_closed: Localized
    close_button: Localized
    extend_button: Localized
    closed_early: Localized
    extended: Localized
    not_yours: Localized
    too_small: Localized
    summary_title: Localized
    feelings_title: Localized
    feelings_axis: Localized
    feeling_line: Localized
    worries_title: Localized
    ideas_title: Localized
    own_title: Localized
    offers_line: Localized
    offers_signed: Localized
    nothing_given: Localized
    distress_note: Localized
    ideas_offered: Localized
    join_unknown: Localized
    join_closed: Localized
    join_own: Localized
    join_again: Localized
    member_help: Localized
    member_forgotten: Localized
    member_nothing: Localized
    member_cancelled: Localized
    member_paused: Localized
    member_edit: Localized
    member_other_command: Localized


class Nudges(Frozen):
    """Reminders of an unfinished reflection: one per delay, counted from the last answer."""

    after_hours: list[int]
    text: Localized
    resume_button: Localized
    stop_button: Localized
    stopped: Localized


class Playbook(Frozen):
    """The whole conversation content: texts around questions, safety net, flows."""

    ui: UiTexts
    safety: Safety
    flows: dict[str, Flow]
    followups: list[Followup] = []
    team: TeamTexts | None = None
    """Texts of the team round; required when the team round's flows are (see contract.py)."""
    nudges: Nudges
    version: str = ""
    """Content hash of the source text, set by the loader; the YAML must not set it."""

    def flow(self, flow_id: str) -> Flow:
        """The flow with that id (KeyError if there is none)."""
        return self.flows[flow_id]
