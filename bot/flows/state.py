"""What the engine takes and gives: a session's state, the events it reacts to, its outputs."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from .model import AnswerValue, Lang


class SessionState(BaseModel):
    """A manager's progress through one flow: small, serialisable, stored as one row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flow: str
    version: str
    lang: Lang
    step: str | None
    """The step waiting for an answer; None once the flow has ended."""
    answers: dict[str, AnswerValue] = {}
    """Answers on the current path only: going back drops those of the abandoned branch."""
    history: tuple[str, ...] = ()
    """Steps answered, oldest first: where `back` returns to."""
    turn: int = 0
    """Grows with every question asked, so an old button can be told from a current one."""
    selection: tuple[str, ...] = ()
    """Options ticked so far at a multi-choice step, before the manager confirms."""
    inputs: dict[str, str] = {}
    """Values given at start (e.g. the latest commitment), quoted by name like answers."""
    offered: dict[str, tuple[str, ...]] = {}
    """Answers offered as buttons at text steps, by step id, given by the adapter (e.g. the
    team's ideas at "which idea first?"); a typed answer stays free."""
    country: str | None = None
    """The manager's country as answered once (lower-case ISO code or 'other'), for the safety
    note's helplines; None when never asked (the note gives France's numbers, and says so)."""
    choices: tuple[tuple[str, str], ...] = ()
    """(option id, label) pairs offered at the current question when the last answer could mean
    several things (two Fridays, two places): kept with the state so that a restart shows them
    again and "2" still picks the second; cleared by the next accepted event."""
    safety_offered: bool = False
    """The safety note's "pause here or go on" waits for the manager's choice: kept with the
    state so that a restart shows the choice again rather than take "2" as an answer."""

    @property
    def done(self) -> bool:
        """True once the flow has reached its end."""
        return self.step is None


# --- Events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """The manager typed something."""

    text: str


@dataclass(frozen=True, slots=True)
class Pick:
    """The manager pressed an option's button (choice, yes/no, scale point)."""

    option: str


@dataclass(frozen=True, slots=True)
class Toggle:
    """The manager ticked or unticked an option of a multi-choice step."""

    option: str


@dataclass(frozen=True, slots=True)
class Submit:
    """The manager confirmed the options ticked at a multi-choice step."""


@dataclass(frozen=True, slots=True)
class Back:
    """Return to the previous question."""


@dataclass(frozen=True, slots=True)
class Skip:
    """Pass an optional question."""


@dataclass(frozen=True, slots=True)
class Restart:
    """Start the flow again from its first step."""


@dataclass(frozen=True, slots=True)
class Amend:
    """The manager corrected the text of their last answer (an edited message)."""

    step: str
    text: str


Event = Answer | Pick | Toggle | Submit | Back | Skip | Restart | Amend


# --- Outputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the question stands: section `index` of `total`, titled `title`."""

    index: int
    total: int
    title: str

    def __str__(self) -> str:
        return f"{self.index}/{self.total} - {self.title}"


@dataclass(frozen=True, slots=True)
class Choice:
    """An option as shown on a button or a numbered line."""

    id: str
    label: str
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Say:
    """A message to show; `alone` keeps it a message of its own (one meant to be forwarded)."""

    text: str
    alone: bool = False


@dataclass(frozen=True, slots=True)
class SafetyNote:
    """The calm pointer to professional help, shown when an answer signals distress."""

    text: str


@dataclass(frozen=True, slots=True)
class SafetyOffer:
    """After the safety note: pause here, or go on (buttons on Telegram, numbers elsewhere).

    `options` ids are `PAUSE` and `GO_ON`; the question asked next, if any, follows this output.
    """

    prompt: str
    options: tuple[Choice, ...]


PAUSE = "pause"
GO_ON = "go_on"


@dataclass(frozen=True, slots=True)
class Ask:
    """A question waiting for an answer."""

    step: str
    kind: str
    prompt: str
    options: tuple[Choice, ...]
    progress: Progress | None
    hint: str
    turn: int
    optional: bool
    previous: str | None = None
    """The answer given before the manager came back to this question, as words."""
    skip: str | None = None
    """On an optional question, the label of the skip choice (a button, a numbered line)."""


@dataclass(frozen=True, slots=True)
class Invalid:
    """The input was not accepted; `reason` says why and how to answer."""

    reason: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """An answer (or a skip, value None) to store: the step, its section, the raw input."""

    step: str
    section: str
    raw: str
    value: AnswerValue
    amended: bool = False


@dataclass(frozen=True, slots=True)
class LanguageChanged:
    """The manager chose a language; the adapter keeps it for next time."""

    lang: Lang


@dataclass(frozen=True, slots=True)
class Done:
    """The flow ended: its summary, and the outputs to keep with the session."""

    flow: str
    title: str
    lines: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]
    next_flow: str | None


Output = Say | SafetyNote | SafetyOffer | Ask | Invalid | Recorded | LanguageChanged | Done
