"""The journey service: what a manager finds when they come back, and what they can set.

Used by every adapter: the terminal shows the home when nothing is in progress; Telegram shows
it on /start (a coach gets their own welcome instead).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage import checkins as checkin_store
from storage import journey as store
from storage import repository
from storage.db import to_stored
from storage.repository import SessionRow, User

from ..checkins.schedule import local_day
from ..checkins.service import SETUP, CheckinService
from ..clock import Clock
from ..coach.service import CoachService
from ..conversation import REFLECTION, Conversation, Reply
from ..flows.state import Say
from ..flows.text import fill
from ..flows.timezones import place
from .commitments import CommitmentService, long_date
from .nudges import NudgeService, where_it_stopped
from .quiet import DEFAULT_QUIET_HOURS, is_quiet, next_quiet_start, parse_quiet_hours

log = logging.getLogger(__name__)

RESUME = "resume"
RESTORE = "restore"
NEW = "new"
CHECKIN = "checkin"
HISTORY = "history"
COMMITMENTS = "commitments"
PROGRESS = "progress"
SETTINGS = "settings"
CHAINED_WITHIN = timedelta(seconds=2)
"""A flow started this soon after a reflection completed was chained to it (same transaction)."""


@dataclass(frozen=True)
class HomeItem:
    """One choice of the home: what it does (an action id above) and its words."""

    action: str
    label: str


@dataclass(frozen=True)
class Home:
    """What a returning manager is offered, in order."""

    title: str
    items: tuple[HomeItem, ...]

    def action(self, number: int) -> str | None:
        """The action of the item numbered `number` (from 1), None if there is none."""
        return self.items[number - 1].action if 1 <= number <= len(self.items) else None


class JourneyService:
    """Home, coach's welcome, check-in schedule, quiet hours, /cancel with a way back."""

    def __init__(
        self,
        conversation: Conversation,
        checkins: CheckinService,
        coach: CoachService,
        clock: Clock,
        default_quiet_hours: str = DEFAULT_QUIET_HOURS,
    ) -> None:
        parse_quiet_hours(default_quiet_hours)
        self.conversation = conversation
        self.checkins = checkins
        self.coach = coach
        self.db = conversation.db
        self.clock = clock
        self.default_quiet_hours = default_quiet_hours
        self.nudges = NudgeService(conversation, clock, self.in_quiet_hours)
        self.commitments = CommitmentService(conversation, clock, self.in_quiet_hours)

    # --- home ----------------------------------------------------------------------------------

    def home(self, user: User, *, terminal: bool = False) -> Home:
        """The manager's home: the reflection in progress (where it stopped) or the one they
        dropped, a new one, today's check-in, history, commitments, progress, settings."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        items = []
        session = self.conversation.open_session(user, REFLECTION)
        if session is not None:
            section = where_it_stopped(self.conversation.library, session.state, lang)
            items.append(HomeItem(RESUME, fill(ui.in_(lang).home_resume, {"section": section})))
        elif store.last_cancelled_reflection(self.db, user.id) is not None:
            items.append(HomeItem(RESTORE, ui.in_(lang).home_restore))
        items.append(HomeItem(NEW, ui.in_(lang).home_new))
        items.append(HomeItem(CHECKIN, self._checkin_label(user, terminal)))
        count = len(self.conversation.history(user))
        items.append(HomeItem(HISTORY, fill(ui.in_(lang).home_history, {"count": str(count)})))
        open_count = str(self.commitments.open_count(user))
        items.append(
            HomeItem(COMMITMENTS, fill(ui.in_(lang).home_commitments, {"count": open_count}))
        )
        items.append(HomeItem(PROGRESS, ui.in_(lang).home_progress))
        items.append(HomeItem(SETTINGS, ui.in_(lang).home_settings))
        return Home(ui.in_(lang).home_title, tuple(items))

    def _checkin_label(self, user: User, terminal: bool) -> str:
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        today = local_day(self.clock(), self.checkins.zone(user)).isoformat()
        checkin = checkin_store.checkin_on(self.db, user.id, today)
        if checkin is not None and checkin.status == "answered":
            return ui.in_(lang).home_checkin_done
        settings = self.checkins.settings(user)
        if terminal or (settings is not None and settings.enabled):
            return ui.in_(lang).home_checkin_todo
        return ui.in_(lang).home_checkin_off

    def coach_welcome(self, coach: User) -> str:
        """A coach's /start: who they are here, and their commands."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(coach)
        name = coach.display_name or ""
        return fill(ui.in_(lang).coach_welcome, {"name": name}) + "\n\n" + ui.in_(lang).coach_help

    # --- check-in schedule, settings -----------------------------------------------------------

    def checkin_schedule(self, user: User) -> str:
        """/checkin's first words: the days, time and place of the check-ins, paused until."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        settings = self.checkins.settings(user)
        if settings is None:
            return ui.in_(lang).checkin_schedule_none
        if not settings.enabled:
            return ui.in_(lang).checkin_schedule_off
        days = ui.checkin_days_weekdays if settings.weekdays_only else ui.checkin_days_daily
        text = fill(
            ui.in_(lang).checkin_schedule_on,
            {
                "days": days.get(lang),
                "time": settings.local_time,
                "zone": place(settings.timezone, lang),
            },
        )
        today = local_day(self.clock(), settings.timezone)
        if settings.paused_until and date.fromisoformat(settings.paused_until) >= today:
            until = long_date(date.fromisoformat(settings.paused_until), lang)
            text += " " + fill(ui.in_(lang).checkin_schedule_paused, {"date": until})
        return text

    def quiet_hours(self, user: User) -> str:
        """The user's quiet hours, "21:00-08:00" (the default until they set theirs)."""
        return store.quiet_hours(self.db, user.id) or self.default_quiet_hours

    def set_quiet_hours(self, user: User, hours: str | None) -> None:
        """Set the user's quiet hours ("22:00-07:00"); None goes back to the default.
        ValueError, saying how to write it, when `hours` is not a range of hours."""
        if hours is not None:
            parse_quiet_hours(hours)
        store.set_quiet_hours(self.db, user.id, hours.strip() if hours else None)

    def quiet_from(self, user: User) -> datetime | None:
        """When the user's next quiet hours begin (now, if they are in them); None if never."""
        return next_quiet_start(self.clock(), self.checkins.zone(user), self.quiet_hours(user))

    def in_quiet_hours(self, user: User) -> bool:
        """True while it is the user's quiet hours where they live."""
        return is_quiet(self.clock(), self.checkins.zone(user), self.quiet_hours(user))

    def settings_text(self, user: User) -> str:
        """The settings page: quiet hours, reminders, and the commands that change the rest."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        on = ui.no if self.nudges.stopped(user) else ui.yes
        summary = fill(
            ui.in_(lang).settings_summary,
            {"quiet": self.quiet_hours(user), "nudges": on.get(lang)},
        )
        return self.checkin_schedule(user) + "\n" + summary

    # --- /cancel with a way back ---------------------------------------------------------------

    def cancel_question(self, user: User) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        """/cancel asks first: the question and its two choices ("drop", "keep"); None when
        nothing is in progress."""
        current = self.conversation.current(user)
        if current is None:
            return None
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        row = current[0]
        keep = ui.in_(lang).cancel_keep_button
        if row.flow == REFLECTION:
            section = where_it_stopped(self.conversation.library, row.state, lang)
            question = fill(ui.in_(lang).cancel_confirm, {"section": section})
        else:  # the flow actually in progress: a check-in, a team round's set-up...
            title = self.conversation.flow_title(row, lang)
            question = fill(ui.in_(lang).cancel_confirm_flow, {"flow": title})
            keep = ui.in_(lang).cancel_go_on_button
        return (question, (("drop", ui.in_(lang).cancel_confirm_button), ("keep", keep)))

    def confirm_cancel(self, user: User, drop: bool) -> str:
        """The answer to /cancel's question: drop the flow in progress (it can be brought back)
        or keep it; the words to say."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(user)
        current = self.conversation.current(user)
        if current is None:
            return ui.in_(lang).nothing_in_progress
        if not drop:
            kept = current[0].flow == REFLECTION
            return ui.in_(lang).cancel_kept if kept else ui.in_(lang).cancel_went_on
        store.mark_cancelled(self.db, current[0].id, to_stored(self.clock()))
        log.info("flow.cancelled user=%s session=%s", user.id, current[0].id)
        if current[0].flow == REFLECTION:
            return ui.in_(lang).cancelled_restorable
        title = self.conversation.flow_title(current[0], lang)
        return fill(ui.in_(lang).cancelled_flow, {"flow": title})

    def restore(self, user: User) -> Reply:
        """Bring back the reflection dropped with /cancel (if no other began since): its
        question where it was left; nothing when there is none."""
        if self.conversation.open_session(user, REFLECTION) is not None:
            return Reply(None, ())
        session = store.last_cancelled_reflection(self.db, user.id)
        if session is None:
            return Reply(None, ())
        store.restore_session(self.db, user.id, session.id, to_stored(self.clock()))
        reply = self.conversation.resume(repository.get_user(self.db, user.id))
        lang = self.conversation.language(user)
        said = Say(self.conversation.playbook.ui.in_(lang).restored)
        return Reply(reply.session_id, (said, *reply.outputs))

    # --- after the summary: one question at a time ----------------------------------------------

    def privacy_offer_due(self, reply: Reply) -> SessionRow | None:
        """The reflection whose keep-private offer goes out after this reply, if any: after the
        summary when no question follows, else once the check-in set-up it led to is over."""
        if reply.completed is None:
            return None
        done = self.conversation.session(reply.completed)
        if done.flow == REFLECTION:
            chained = reply.question is not None and reply.session_id != done.id
            return None if chained else self._if_shared(done)
        if done.flow != SETUP or reply.question is not None:
            return None
        started = datetime.fromisoformat(done.started_at)
        for reflection in self.conversation.history(repository.get_user(self.db, done.user_id)):
            # The set-up this reflection led to began in the transaction that completed it:
            # the same instant with an injected clock, a few milliseconds later with the wall's.
            completed = datetime.fromisoformat(reflection.completed_at or reflection.started_at)
            if timedelta(0) <= started - completed <= CHAINED_WITHIN:
                return self._if_shared(reflection)
        return None

    def _if_shared(self, reflection: SessionRow) -> SessionRow | None:
        manager = repository.get_user(self.db, reflection.user_id)
        return reflection if self.coach.coach_of(manager) is not None else None

    def now(self) -> datetime:
        """The service's clock."""
        return self.clock()
