"""Commitments: what a reflection says the manager will do, by when, and where each one stands.

A finished reflection gives up to three commitments (the first step, the gesture toward the
client, the talk with the team). On its due day the check-in (or, with check-ins off, a
reminder) runs the playbook's `commitment_check` flow about it; its answers move the commitment
on: done (and the next step, which becomes the commitment the daily check-in quotes), in
progress (asked again a few days later), postponed (to the date given), dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date
from sqlite_utils import Database

from storage import checkins as checkin_store
from storage import journey as store
from storage import repository
from storage.db import to_stored
from storage.journey import Commitment
from storage.repository import SessionRow, User

from ..checkins.schedule import local_day
from ..clock import Clock
from ..conversation import CHECKIN, REFLECTION, Conversation, Reply
from ..flows.model import AnswerValue, Lang, Localized, UiTexts
from ..flows.state import SessionState
from ..flows.text import fill

COMMITMENT_FLOW = "commitment_check"
KIND_PREFIX = "commitment:"
"""The check-in kind of a commitment's due day: 'commitment:<id>'."""
STEPS = ("first_step", "next_step")
"""Kinds of commitment the daily check-in follows, one after the other."""
ASK_AGAIN = timedelta(days=3)
"""A commitment in progress is asked about again this many days later."""
UNDATED_POSTPONE = timedelta(days=7)
"""A commitment postponed to words no date could be read from is asked about a week later."""
DEFAULT_ZONE = "Europe/Paris"
CHATTING = timedelta(minutes=5)
"""A manager who answered the flow in progress this recently is chatting: no question now (the
same window as the check-ins')."""
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def understood_date(text: str | None) -> date | None:
    """The due date an answer holds: an ISO date (2026-12-12), as the engine stores the answer of
    a `reads_date` step whose words it read ("jeudi prochain", "next Friday"); None otherwise.

    Words no date could be read from ("quand il reviendra") stay text and give no due date.
    """
    if not text:
        return None
    match = _ISO_DATE.search(text)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def inputs_for(commitment: Commitment, user: User) -> dict[str, str]:
    """What the `commitment_check` flow quotes: the commitment and its day, in the user's words."""
    lang: Lang = "en" if user.lang == "en" else "fr"
    due = commitment.when_text or ""
    if commitment.due_date:
        due = long_date(date.fromisoformat(commitment.due_date), lang)
    return {"commitment": commitment.text, "due": due or "-"}


def long_date(day: date, lang: Lang) -> str:
    """A date as the manager reads it ("jeudi 3 décembre", "Thursday 3 December"), by Babel."""
    return format_date(day, "EEEE d MMMM", locale=lang)


def status_label(ui: UiTexts, status: str, lang: Lang) -> str:
    """The words for a commitment's state."""
    label: Localized = getattr(ui, f"commitment_status_{status}")
    return label.get(lang)


def describe(ui: UiTexts, commitment: Commitment, lang: Lang) -> str:
    """One line about a commitment: its state, its words, its due date (or its own words)."""
    if commitment.due_date:
        due = fill(
            ui.in_(lang).commitment_due,
            {"date": long_date(date.fromisoformat(commitment.due_date), lang)},
        )
    else:
        due = commitment.when_text or ui.in_(lang).commitment_no_date
    return fill(
        ui.in_(lang).commitment_line,
        {
            "status": status_label(ui, commitment.status, lang),
            "text": commitment.text,
            "due": due,
        },
    )


@dataclass(frozen=True)
class CommitmentReminder:
    """A commitment to ask about now, outside the check-ins (they are off)."""

    user: User
    commitment: Commitment
    local_date: date


class CommitmentService:
    """Commitments made in reflections, asked about on their due day."""

    def __init__(self, conversation: Conversation, clock: Clock, quiet: Callable[[User], bool]):
        self.conversation = conversation
        self.db: Database = conversation.db
        self.clock = clock
        self.quiet = quiet
        """True while the user is in their quiet hours (nothing is sent unasked)."""
        conversation.on_completed(self._completed)

    def _now(self) -> str:
        return to_stored(self.clock())

    def zone(self, user_id: int) -> str:
        """The user's time zone (their check-in zone, else Paris)."""
        settings = checkin_store.get_settings(self.db, user_id)
        return settings.timezone if settings else DEFAULT_ZONE

    def today(self, user_id: int) -> date:
        """The user's local date now."""
        return local_day(self.clock(), self.zone(user_id))

    # --- reading -------------------------------------------------------------------------------

    def of(self, user: User) -> list[Commitment]:
        """The user's commitments, in the order they were made."""
        return store.commitments_of(self.db, user.id)

    def listing(self, user: User) -> str:
        """/commitments: every commitment with its state, in the user's language."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        commitments = self.of(user)
        if not commitments:
            return ui.in_(lang).commitments_empty
        lines = [describe(ui, commitment, lang) for commitment in commitments]
        return "\n".join([ui.in_(lang).commitments_title, *(f"• {line}" for line in lines)])

    def open_count(self, user: User) -> int:
        """How many commitments are not done or dropped."""
        return sum(1 for c in self.of(user) if c.status in store.OPEN_COMMITMENT)

    def current(self, user_id: int) -> Commitment | None:
        """The step the daily check-in asks about (the earliest due among those still open)."""
        return store.current_commitment(self.db, user_id)

    def due_on(self, user_id: int, day: date) -> Commitment | None:
        """The commitment to ask about on that local day, if one is due and not asked yet."""
        return store.due_commitment(self.db, user_id, day.isoformat())

    # --- asking --------------------------------------------------------------------------------

    def asked(self, commitment: Commitment, session_id: int, day: date) -> None:
        """The question about the commitment went out in this session, that local day."""
        store.mark_asked(self.db, commitment.id, session_id, day.isoformat(), self._now())

    def reminders_due(self, limit: int = 500) -> list[CommitmentReminder]:
        """Commitments due today for users whose check-ins are off, outside their quiet hours,
        with nothing else going on: what the scheduler's tick sends as reminders."""
        latest_local = (self.clock() + timedelta(days=1)).date().isoformat()
        earliest_local = (self.clock() - timedelta(days=1)).date().isoformat()
        found = []
        users = store.users_with_due_commitments(self.db, latest_local, limit, earliest_local)
        for user_id in users:
            settings = checkin_store.get_settings(self.db, user_id)
            day = self.today(user_id)
            paused = settings is not None and (settings.paused_until or "") >= day.isoformat()
            if settings is not None and settings.enabled and not paused:
                continue  # the check-in of the due day asks about it
            user = repository.get_user(self.db, user_id)
            commitment = self.due_on(user_id, day)
            if commitment is None or self.quiet(user) or self._occupied(user_id):
                continue
            found.append(CommitmentReminder(user, commitment, day))
        return found

    def start_reminder(self, reminder: CommitmentReminder) -> Reply:
        """Ask about the commitment now (the flow's first question); recorded as asked."""
        with self.db.atomic():
            inputs = inputs_for(reminder.commitment, reminder.user)
            reply = self.conversation.start(reminder.user, COMMITMENT_FLOW, inputs)
            self.asked(reminder.commitment, reply.session_id or 0, reminder.local_date)
        return reply

    def _occupied(self, user_id: int) -> bool:
        """A check-in waits for an answer, the last commitment question (asked within a day)
        does, or the manager is chatting: their latest answer, a few minutes old at most, went
        to the flow in progress. A reflection left unfinished days ago holds nothing back."""
        if checkin_store.open_checkins(self.db, user_id):
            return True
        current = repository.current_session(self.db, user_id)
        if current is None or current.status != "active":
            return False
        now = self.clock()
        if current.flow == COMMITMENT_FLOW:
            return current.started_at > to_stored(now - timedelta(days=1))
        latest = store.latest_answer(self.db, user_id)
        chatting_since = to_stored(now - CHATTING)
        return latest is not None and latest[0] == current.id and latest[1] > chatting_since

    # --- after a flow ends ---------------------------------------------------------------------

    def _completed(self, user: User, row: SessionRow, state: SessionState) -> None:
        if row.flow == REFLECTION:
            self._from_reflection(user, row, state.answers)
        elif row.flow == COMMITMENT_FLOW:
            commitment = store.asked_in(self.db, row.id)
            if commitment is not None:
                self._apply(user, commitment, row, state.answers)
        elif row.flow == CHECKIN and state.answers.get("commitment_progress") == "done":
            current = self.current(user.id)
            quoted = state.inputs.get("commitment", "")
            if current is not None and current.text in quoted:
                self._apply(user, current, row, {**state.answers, "commitment_status": "done"})

    def _from_reflection(
        self, user: User, row: SessionRow, answers: dict[str, AnswerValue]
    ) -> None:
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        made = []
        if answers.get("first_step"):
            made.append(("first_step", str(answers["first_step"]), answers.get("first_step_when")))
        if answers.get("contact_detail"):
            text = fill(ui.in_(lang).commitment_contact, {"detail": str(answers["contact_detail"])})
            made.append(("contact", text, answers.get("contact_when")))
        if answers.get("team_talk_when"):
            words = str(answers.get("team_first_words") or "")
            text = fill(ui.in_(lang).commitment_team_talk, {"words": words})
            made.append(("team_talk", text, answers.get("team_talk_when")))
        for kind, text, when in made:
            when_text = str(when) if when else None
            due = understood_date(when_text)
            store.add_commitment(
                self.db,
                user.id,
                row.id,
                kind,
                text,
                when_text,
                due.isoformat() if due else None,
                self._now(),
            )

    def _apply(
        self, user: User, commitment: Commitment, row: SessionRow, answers: dict[str, AnswerValue]
    ) -> None:
        status = str(answers.get("commitment_status"))
        today = self.today(user.id)
        now = self._now()
        if status == "done":
            store.set_commitment_status(self.db, commitment.id, "done", now)
            step = answers.get("next_step")
            if step:
                when = answers.get("next_step_when")
                when_text = str(when) if when else None
                due = understood_date(when_text)
                store.add_commitment(
                    self.db,
                    user.id,
                    None,
                    "next_step",
                    str(step),
                    when_text,
                    due.isoformat() if due else None,
                    now,
                    parent_id=commitment.id,
                )
        elif status == "in_progress":
            again = (today + ASK_AGAIN).isoformat()
            store.set_commitment_status(self.db, commitment.id, "in_progress", now, again)
        elif status == "postponed":
            words = str(answers.get("postponed_to") or "")
            due = understood_date(words) or today + UNDATED_POSTPONE
            store.set_commitment_status(
                self.db, commitment.id, "postponed", now, due.isoformat(), words or None
            )
        elif status == "dropped":
            store.set_commitment_status(self.db, commitment.id, "dropped", now)
