"""The conversation service: runs the engine for a user and stores every step.

Both adapters (Telegram and the terminal) go through this class, so the rules of a
conversation — one transaction per answer, duplicates ignored, flows chained, language
remembered — live in one place.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlite_utils import Database

from storage import repository
from storage.db import to_stored
from storage.repository import NewAnswer, Receipt, SessionRow, User

from .clock import Clock
from .days import manager_zone
from .flows import engine
from .flows.model import LANGUAGES, Lang, Playbook
from .flows.state import (
    PAUSE,
    Amend,
    Answer,
    Ask,
    Done,
    Event,
    Invalid,
    LanguageChanged,
    Output,
    Recorded,
    Restart,
    SafetyNote,
    SafetyOffer,
    Say,
    SessionState,
)
from .formatting import day_of, day_text
from .playbooks import PlaybookLibrary

log = logging.getLogger(__name__)

CompletionHook = Callable[[User, SessionRow, SessionState], Sequence[Output] | None]
OfferProvider = Callable[[User, str], Mapping[str, Sequence[str]]]
"""(user, flow) -> answers to offer as buttons at text steps of that flow, by step id."""


ONBOARDING = "onboarding"
REFLECTION = "lost_client"
CHECKIN = "daily_checkin"
TEAM_MEMBER_FLOW = "team_round"


@dataclass(frozen=True)
class Reply:
    """What to show after an event.

    `stored` is False when the event was a duplicate, `stale` when it targeted a question that
    is no longer the current one; `answered` is the question the event answered, if any.
    """

    session_id: int | None
    outputs: tuple[Output, ...]
    stored: bool = True
    stale: bool = False
    answered: Ask | None = None
    completed: int | None = None
    """The session this event completed, if it did."""

    @property
    def question(self) -> Ask | None:
        """The question the conversation now waits on, if any."""
        asks = [output for output in self.outputs if isinstance(output, Ask)]
        return asks[-1] if asks else None


class Conversation:
    """Engine + storage for one database and one playbook library."""

    def __init__(self, db: Database, library: PlaybookLibrary, clock: Clock) -> None:
        self.db = db
        self.library = library
        self.clock = clock
        self._completion_hooks: list[CompletionHook] = []
        self._offer_providers: list[OfferProvider] = []

    def on_completed(self, hook: CompletionHook) -> None:
        """Call `hook(user, session, final state)` whenever a session completes (same transaction
        boundary as the last answer: right after it is stored); outputs it returns are shown
        after the flow's own."""
        self._completion_hooks.append(hook)

    def offers_from(self, provider: OfferProvider) -> None:
        """Ask `provider(user, flow)` at every start for answers to offer at text steps."""
        self._offer_providers.append(provider)

    def offer(self, user: User, flow: str, step: str, answers: Sequence[str]) -> bool:
        """Offer `answers` as buttons at `step` of the user's open session of `flow`, if that
        session has not passed the step yet; False if there is no such session."""
        row = repository.open_session(self.db, user.id, flow)
        if row is None:
            return False
        state = SessionState.model_validate_json(row.state)
        if step in state.history:
            return False
        offered = {**state.offered, step: tuple(answers)}
        updated = state.model_copy(update={"offered": offered})
        repository.set_session_state(self.db, row.id, updated.model_dump_json(), self._now())
        return True

    @property
    def playbook(self) -> Playbook:
        """The current playbook (new sessions start on it)."""
        return self.library.current

    # --- users ---------------------------------------------------------------------------------

    def user(self, key: str, display_name: str | None = None, lang: Lang | None = None) -> User:
        """The user with `key`, created on first contact with `lang` as a first guess."""
        return repository.get_or_create_user(self.db, key, display_name, lang, now=self._now())

    def user_by_id(self, user_id: int) -> User:
        """The user with that internal id (KeyError if none)."""
        return repository.get_user(self.db, user_id)

    def language(self, user: User) -> Lang:
        """The user's language: chosen, guessed, or French first."""
        return "en" if user.lang == "en" else "fr"

    def set_language(self, user: User, lang: Lang) -> User:
        """Switch the user's language, including the question in progress."""
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        repository.set_user_language(self.db, user.id, lang)
        current = self.current(user)
        if current is not None:
            row, state = current
            switched = state.model_copy(update={"lang": lang})
            repository.record_step(self.db, row.id, switched.model_dump_json(), now=self._now())
        return repository.get_user(self.db, user.id)

    def set_blocked(self, user: User, blocked: bool) -> None:
        """Mark the user as having blocked the bot, or as reachable again."""
        repository.set_blocked(self.db, user.id, blocked, now=self._now())

    # --- updates -------------------------------------------------------------------------------

    def answered_by(self, user: User, source_ref: str) -> str | None:
        """The step of the current session that the message `source_ref` answered, if any."""
        current = self.current(user)
        if current is None:
            return None
        row = repository.answer_from_source(self.db, current[0].id, source_ref)
        return row.step if row is not None else None

    # --- sessions ------------------------------------------------------------------------------

    def current(self, user: User) -> tuple[SessionRow, SessionState] | None:
        """The open session the user's next input goes to, with its state."""
        row = repository.current_session(self.db, user.id)
        if row is None:
            return None
        return row, SessionState.model_validate_json(row.state)

    def session(self, session_id: int) -> SessionRow:
        """A session by id (KeyError if none)."""
        return repository.get_session(self.db, session_id)

    def open_session(self, user: User, flow: str) -> SessionRow | None:
        """The user's open session of `flow`, if any."""
        return repository.open_session(self.db, user.id, flow)

    def latest_outputs(self, user: User) -> dict[str, str]:
        """Outputs of the user's completed sessions (e.g. `commitment`), newest first wins."""
        merged: dict[str, str] = {}
        for row in reversed(repository.completed_sessions(self.db, user.id)):
            if row.outputs:
                merged.update(json.loads(row.outputs))
        return merged

    def start(self, user: User, flow: str, inputs: dict[str, str] | None = None) -> Reply:
        """Begin `flow` on the current playbook; an open session of that flow is abandoned.

        ValueError for `team_round`: a team member's answers are never a session of theirs
        (sessions name their user); they run through TeamService.join.
        """
        if flow == TEAM_MEMBER_FLOW:
            raise ValueError("team_round runs through the team service, never as a session")
        playbook = self.library.current
        given = inputs if inputs is not None else self.latest_outputs(user)
        state, outputs = engine.start(playbook, flow, self.language(user), given)
        country = self.country(user)
        if country is not None:
            state = state.model_copy(update={"country": country})
        offered = self._offers(user, flow)
        if offered:
            state = state.model_copy(update={"offered": offered})
            first = engine.ask(playbook, state)
            if first is not None and first.step in offered:  # show the offers at once
                outputs = (*(o for o in outputs if not isinstance(o, Ask)), first)
        row = repository.create_session(
            self.db, user.id, flow, playbook.version, state.model_dump_json(), self._now()
        )
        log.info("flow.started user=%s flow=%s session=%s", user.id, flow, row.id)
        if state.done:
            return self._store(user, row, state, outputs)
        return Reply(row.id, outputs)

    def resume(self, user: User) -> Reply:
        """The question the user's current session waits on (nothing if there is none)."""
        current = self.current(user)
        if current is None:
            return Reply(None, ())
        row, state = current
        if row.status == "paused":
            repository.focus_session(self.db, user.id, row.id, now=self._now())
        playbook = self._playbook_for(state)
        if playbook is None:
            return self.start(user, state.flow)
        question = engine.ask(playbook, state)
        shown: tuple[Output, ...] = (question,) if question else ()
        if state.safety_offered:  # the choice after the safety note still waits
            shown = (engine.safety_offer(playbook, state.lang), *shown)
        return Reply(row.id, shown)

    def after_safety(self, user: User, choice: str) -> Reply:
        """The manager's choice after the safety note (PAUSE or GO_ON): pause the session with
        "paused", or show its question again; the waiting choice is cleared either way."""
        current = self.current(user)
        lang = self.language(user)
        if current is None:
            paused = Say(self.playbook.ui.in_(lang).paused)
            return Reply(None, (paused,) if choice == PAUSE else ())
        row, state = current
        if state.safety_offered:
            chosen = state.model_copy(update={"safety_offered": False})
            repository.set_session_state(self.db, row.id, chosen.model_dump_json(), self._now())
        log.info("flow.safety_choice user=%s session=%s choice=%s", user.id, row.id, choice)
        if choice == PAUSE:
            self.pause(user)
            return Reply(row.id, (Say(self.playbook.ui.in_(lang).paused),))
        return self.resume(user)

    def focus(self, user: User, session_id: int) -> Reply:
        """Switch the user's input to another of their open sessions and show its question."""
        repository.focus_session(self.db, user.id, session_id, now=self._now())
        return self.resume(repository.get_user(self.db, user.id))

    def pause(self, user: User) -> bool:
        """Pause the current session; False if there was none."""
        current = self.current(user)
        if current is None:
            return False
        repository.set_session_status(self.db, current[0].id, "paused", now=self._now())
        log.info("flow.paused user=%s session=%s", user.id, current[0].id)
        return True

    def cancel(self, user: User) -> bool:
        """Abandon the current session (its answers stay stored); False if there was none."""
        current = self.current(user)
        if current is None:
            return False
        repository.set_session_status(self.db, current[0].id, "abandoned", now=self._now())
        log.info("flow.cancelled user=%s session=%s", user.id, current[0].id)
        return True

    def country(self, user: User) -> str | None:
        """The country the user gave once (onboarding's question), for the safety note's
        helplines; None if never asked."""
        for row in repository.completed_sessions(self.db, user.id, ONBOARDING):
            country = SessionState.model_validate_json(row.state).country
            if country is not None:
                return country
        return None

    def return_to_reflection(self, user: User) -> Reply:
        """Once a flow that came in the middle of the reflection is dropped, the reflection
        where it was left ("back to your reflection", its question); nothing when another
        flow is still current or no reflection waits."""
        waiting = repository.open_session(self.db, user.id, REFLECTION)
        if waiting is None or waiting.status != "active" or self.current(user) is not None:
            return Reply(None, ())
        resumed = self.focus(user, waiting.id)
        back = Say(self.playbook.ui.in_(self.language(user)).back_to_reflection)
        return Reply(resumed.session_id, (back, *resumed.outputs))

    def flow_title(self, row: SessionRow, lang: Lang) -> str:
        """The title of a session's flow, from the playbook version it runs on."""
        state = SessionState.model_validate_json(row.state)
        flow = self.library.for_version(state.version).flows.get(row.flow)
        return flow.title.get(lang) if flow is not None else row.flow

    def history(self, user: User) -> list[SessionRow]:
        """The user's finished reflections, newest first."""
        return repository.completed_sessions(self.db, user.id, REFLECTION)

    def session_day(self, row: SessionRow) -> date:
        """The manager's local day a session finished on (or started, if unfinished)."""
        return day_of(row.completed_at or row.started_at, manager_zone(self.db, row.user_id))

    def session_day_text(self, row: SessionRow, lang: Lang) -> str:
        """That day as /history writes it: "27 nov. 2026" / "27 Nov 2026"."""
        return day_text(self.session_day(row), lang)

    def handle(
        self,
        user: User,
        event: Event,
        *,
        receipt: Receipt | None = None,
        source_ref: str | None = None,
        expect: tuple[int, int] | None = None,
    ) -> Reply:
        """Apply one event to the user's current session and store the result.

        `receipt` marks the incoming update as processed in the same transaction; `expect`
        (session id, turn) refuses an event meant for a question that is no longer current.
        """
        current = self.current(user)
        if current is None:
            return Reply(None, self._without_session(user, event), stale=expect is not None)
        row, state = current
        if receipt is not None and repository.update_status(self.db, receipt.key) is not None:
            log.info("flow.duplicate_ignored user=%s session=%s", user.id, row.id)
            return Reply(row.id, (), stored=False)  # delivered again: its effect is stored
        if expect is not None and (expect != (row.id, state.turn) or row.status != "active"):
            return Reply(row.id, (), stale=True)
        playbook = self._playbook_for(state)
        if playbook is None:
            return self.start(user, state.flow)
        choice = engine.safety_choice(playbook, state, event)
        if choice is not None:
            return self.after_safety(user, choice)
        new_state, outputs = engine.advance(playbook, state, event, self.clock())
        if isinstance(event, Restart):
            return self._restart(user, row, new_state, outputs)
        if new_state is state:  # rejected input: nothing changed, nothing to store
            return Reply(row.id, outputs)
        if _rejected(outputs):  # refused, with choices to keep for a restart (two Fridays)
            repository.set_session_state(self.db, row.id, new_state.model_dump_json(), self._now())
            return Reply(row.id, outputs)
        answered = engine.ask(playbook, state) if not isinstance(event, Amend) else None
        return self._store(
            user, row, new_state, outputs, receipt=receipt, source_ref=source_ref, answered=answered
        )

    def join(
        self,
        user: User,
        first: tuple[str, str],
        text: str,
        *,
        receipt: Receipt | None = None,
        source_ref: str | None = None,
    ) -> Reply:
        """`text` arrived with the message before it, `first` = (its source_ref, its text): a
        paste split in two is one intent, refused together or taken together.

        If the first part was taken as the last answer, the whole replaces it; if it was
        refused, the whole is answered, and refused again it says nothing more (the first
        refusal stands for both). A safety note already said for the first part is not said
        again.
        """
        first_ref, first_text = first
        joined = f"{first_text}\n{text}"
        step = self.answered_by(user, first_ref)
        if step is not None:
            reply = self.handle(user, Amend(step, joined), receipt=receipt, source_ref=first_ref)
        else:
            reply = self.handle(user, Answer(joined), receipt=receipt, source_ref=source_ref)
        said_before = self.playbook.safety.matcher.matches(first_text)
        outputs = tuple(
            output
            for output in reply.outputs
            if not (said_before and isinstance(output, SafetyNote | SafetyOffer))
        )
        if step is None and not any(isinstance(output, Recorded) for output in outputs):
            outputs = tuple(o for o in outputs if isinstance(o, SafetyNote | SafetyOffer))
        return replace(reply, outputs=outputs)

    def late_edit(self, user: User, text: str) -> Reply:
        """A message edited that is not the last answer (an older one, or once the flow is over):
        the safety net, then why it changes nothing."""
        current = self.current(user)
        lang = self.language(user) if current is None else current[1].lang
        notes = engine.safety_outputs(self.playbook, Amend("", text), lang)
        ui = self.playbook.ui.in_(lang)
        reason = ui.amend_too_late if current is not None else ui.amend_after_end
        return Reply(current[0].id if current else None, (*notes, Invalid(reason)))

    # --- internals -----------------------------------------------------------------------------

    def _without_session(self, user: User, event: Event) -> tuple[Output, ...]:
        """Text typed or edited when no flow is open is still heard: the safety note, and an
        edit is told it can no longer change anything."""
        lang = self.language(user)
        outputs = engine.safety_outputs(self.playbook, event, lang, self.country(user))
        if outputs:
            log.info("flow.safety_note user=%s flow=none", user.id)
        if isinstance(event, Amend):
            outputs = (*outputs, Invalid(self.playbook.ui.in_(lang).amend_after_end))
        return outputs

    def _now(self) -> str:
        return to_stored(self.clock())

    def _offers(self, user: User, flow: str) -> dict[str, tuple[str, ...]]:
        offered: dict[str, tuple[str, ...]] = {}
        for provider in self._offer_providers:
            for step, answers in provider(user, flow).items():
                if answers:
                    offered[step] = (*offered.get(step, ()), *answers)
        return offered

    def _playbook_for(self, state: SessionState) -> Playbook | None:
        playbook = self.library.for_version(state.version)
        flow = playbook.flows.get(state.flow)
        if flow is None or (state.step is not None and state.step not in flow.step_by_id):
            log.warning("flow.version_lost flow=%s version=%s", state.flow, state.version)
            return None
        return playbook

    def _store(
        self,
        user: User,
        row: SessionRow,
        state: SessionState,
        outputs: tuple[Output, ...],
        *,
        receipt: Receipt | None = None,
        source_ref: str | None = None,
        answered: Ask | None = None,
    ) -> Reply:
        recorded = next((o for o in outputs if isinstance(o, Recorded)), None)
        done = next((o for o in outputs if isinstance(o, Done)), None)
        answer = None
        if recorded is not None:
            answer = NewAnswer(
                step=recorded.step,
                section=recorded.section,
                kind=_answer_kind(recorded),
                raw_text=recorded.raw,
                value=json.dumps(recorded.value, ensure_ascii=False),
                idempotency_key=_answer_key(row.id, state, recorded, receipt),
                source_ref=source_ref,
            )
        # The answer, the new state, and all that completing a flow does (hooks, the next
        # flow) commit together: a crash in between leaves the update to be applied again.
        with self.db.atomic():
            stored = repository.record_step(
                self.db,
                row.id,
                state.model_dump_json(),
                answer=answer,
                completed=done is not None,
                outputs=json.dumps(dict(done.outputs), ensure_ascii=False) if done else None,
                summary=json.dumps(
                    {"title": done.title, "lines": list(done.lines)}, ensure_ascii=False
                )
                if done
                else None,
                receipt=receipt,
                now=self._now(),
            )
            if not stored:
                log.info("flow.duplicate_ignored user=%s session=%s", user.id, row.id)
                return Reply(row.id, (), stored=False)
            for output in outputs:
                if isinstance(output, LanguageChanged):
                    repository.set_user_language(self.db, user.id, output.lang)
            reply = (
                Reply(row.id, outputs, answered=answered)
                if done is None
                else self._complete(user, row, state, done, outputs, answered)
            )
        if recorded is not None:
            log.info("flow.answered user=%s flow=%s step=%s", user.id, row.flow, recorded.step)
        if any(isinstance(o, SafetyNote) for o in outputs):
            log.info("flow.safety_note user=%s flow=%s", user.id, row.flow)
        return reply

    def _complete(
        self,
        user: User,
        row: SessionRow,
        state: SessionState,
        done: Done,
        outputs: tuple[Output, ...],
        answered: Ask | None,
    ) -> Reply:
        """What finishing a flow does: hooks, then the next flow or the interrupted reflection."""
        log.info("flow.completed user=%s flow=%s session=%s", user.id, row.flow, row.id)
        if row.flow == ONBOARDING:
            repository.mark_onboarded(self.db, user.id, now=self._now())
        for hook in self._completion_hooks:
            added = hook(user, row, state)
            if added:
                outputs = (*outputs, *added)
        user = repository.get_user(self.db, user.id)
        if done.next_flow is not None:
            chained = self.start(user, done.next_flow)
            return Reply(
                chained.session_id, outputs + chained.outputs, answered=answered, completed=row.id
            )
        waiting = None
        if row.flow != REFLECTION:
            waiting = repository.open_session(self.db, user.id, REFLECTION)
        if waiting is None or waiting.status != "active":
            return Reply(row.id, outputs, answered=answered, completed=row.id)
        # A check-in came in the middle of a reflection: go back to where it was left.
        resumed = self.focus(user, waiting.id)
        back = Say(self.playbook.ui.in_(self.language(user)).back_to_reflection)
        outputs = (*outputs, back, *resumed.outputs)
        return Reply(resumed.session_id, outputs, answered=answered, completed=row.id)

    def _restart(
        self, user: User, row: SessionRow, state: SessionState, outputs: tuple[Output, ...]
    ) -> Reply:
        fresh = repository.create_session(
            self.db, user.id, row.flow, state.version, state.model_dump_json(), self._now()
        )
        log.info("flow.restarted user=%s flow=%s session=%s", user.id, row.flow, fresh.id)
        return Reply(fresh.id, outputs)


def _rejected(outputs: tuple[Output, ...]) -> bool:
    """True when the engine refused the input (it says why, and nothing was recorded)."""
    refused = any(isinstance(output, Invalid) for output in outputs)
    return refused and not any(isinstance(output, Recorded | Done) for output in outputs)


def _answer_kind(recorded: Recorded) -> str:
    if recorded.amended:
        return "amend"
    return "skip" if recorded.value is None and recorded.raw == "" else "answer"


def _answer_key(
    session_id: int, state: SessionState, recorded: Recorded, receipt: Receipt | None
) -> str:
    """The answer's idempotency key: the update that carried it, else the session's turn."""
    if receipt is not None:
        return receipt.key
    if recorded.amended:
        return f"session:{session_id}:turn:{state.turn}:amend:{uuid.uuid4().hex}"
    return f"session:{session_id}:turn:{state.turn}"
