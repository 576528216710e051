"""Check-ins as a service: settings from the setup flow, claiming due days, streaks, progress.

Every claim is one transaction that records the check-in day (unique per user and local date)
and moves the user's next due time, so restarts never send two check-ins the same day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from statistics import mean

from storage import checkins as store
from storage import journey as journey_store
from storage import repository
from storage.checkins import CheckinSettings
from storage.db import to_stored
from storage.repository import SessionRow, User

from ..clock import Clock
from ..conversation import CHECKIN, REFLECTION, Conversation, Reply
from ..days import manager_zone
from ..flows.model import AnswerValue, Lang, UiText
from ..flows.state import SessionState
from ..flows.text import fill
from ..formatting import DEFAULT_ZONE, count, day_of, decimal
from ..journey import commitments
from .followups import loss_day
from .schedule import Plan, local_day, next_due, parse_hhmm

log = logging.getLogger(__name__)

SETUP = "checkin_setup"
FOLLOWUP_OFFER = "followup_offer"
"""The reflection's step where a manager without daily check-ins accepts follow-ups."""
CHECKIN_FLOWS = frozenset(
    {CHECKIN, SETUP, "followup_contact", "followup_idea", commitments.COMMITMENT_FLOW}
)
DEFAULT_TIME = "09:00"
SNOOZE = timedelta(hours=1)
FOLLOWUP_LATE_DAYS = 6
"""A follow-up still makes sense this many days after its day (check-ins paused meanwhile)."""
STALE_CLAIM = timedelta(minutes=2)
NOT_ASKED = frozenset({"skipped", "undelivered"})
"""Check-in days the bot did not ask: they never break a streak."""
CHATTING_WINDOW = timedelta(minutes=5)
"""A manager whose latest answer, within this time, went to the flow in progress is chatting:
their check-in waits (refs #11: any answer in the last 30 minutes used to hold it)."""


@dataclass(frozen=True)
class DueCheckin:
    """A check-in to send now: start its flow, or resume a snoozed one."""

    user: User
    checkin_id: int
    flow: str
    resume_session: int | None = None
    snoozable: bool = True


@dataclass(frozen=True)
class Progress:
    """A manager's last days of check-ins, for /progress."""

    start: date
    end: date
    moods: list[tuple[date, int]]
    reflection_days: list[date]
    streak: int

    @property
    def average(self) -> float | None:
        """Mean mood over the period."""
        return round(mean(mood for _, mood in self.moods), 1) if self.moods else None

    def summary(self, texts: UiText, lang: Lang) -> str:
        """The one-line summary under the chart: "3 points du jour sur 30 jours, humeur
        moyenne 3,7/5, série en cours : 2 jours" (Babel decimals and plurals, bot.formatting)."""
        values = {
            "count": count(len(self.moods), "checkin", lang),
            "average": "-" if self.average is None else decimal(self.average, lang),
            "streak": count(self.streak, "day", lang),
        }
        return fill(texts.progress_summary, values)


class CheckinService:
    """Check-in scheduling and bookkeeping over the conversation service's database."""

    def __init__(self, conversation: Conversation, grace: timedelta, clock: Clock) -> None:
        self.conversation = conversation
        self.db = conversation.db
        self.grace = grace
        self.clock = clock
        conversation.on_completed(self._completed)

    def _now(self) -> str:
        return to_stored(self.clock())

    # --- settings ------------------------------------------------------------------------------

    def settings(self, user: User) -> CheckinSettings | None:
        """The user's check-in settings, if any."""
        return store.get_settings(self.db, user.id)

    def zone(self, user: User) -> str:
        """The user's time zone (Paris until they choose)."""
        return manager_zone(self.db, user.id)

    def apply_setup(self, user: User, answers: dict[str, AnswerValue]) -> CheckinSettings:
        """Turn the answers of the setup flow into settings, and schedule the next check-in."""
        now = self.clock()
        current = self.settings(user) or CheckinSettings(
            user.id, False, DEFAULT_TIME, DEFAULT_ZONE, False, None, None, None
        )
        action = answers.get("checkin_action")
        if action in ("daily", "weekdays"):
            current = CheckinSettings(
                user.id,
                True,
                str(answers.get("checkin_time") or current.local_time),
                str(answers.get("checkin_zone") or current.timezone),
                action == "weekdays",
                None,
                None,
                None,
            )
        elif action == "pause":
            days = int(answers.get("checkin_pause_days") or 1)  # type: ignore[arg-type]
            until = local_day(now, current.timezone) + timedelta(days=days - 1)
            current = _replace(current, paused_until=until.isoformat())
        elif action == "off":
            current = _replace(current, enabled=False)
        due = next_due(_plan(current), now) if current.enabled else None
        updated = _replace(current, next_due_at=to_stored(due) if due else None)
        store.save_settings(self.db, updated, now=self._now())
        log.info("checkin.settings user=%s enabled=%s", user.id, updated.enabled)
        return updated

    def user_blocked(self, user: User) -> None:
        """The user blocked the bot: no more check-ins until they turn them on again."""
        store.disable(self.db, user.id, now=self._now())
        self.conversation.set_blocked(user, True)
        log.info("checkin.disabled_blocked user=%s", user.id)

    # --- scheduling ----------------------------------------------------------------------------

    def claim_due(self, limit: int) -> list[DueCheckin]:
        """Claim up to `limit` due check-ins (each in its own transaction)."""
        now = self.clock()
        claimed = [
            self._resend(c)
            for c in store.stale_claims(self.db, to_stored(now - STALE_CLAIM), limit)
        ]
        ready = [due for due in claimed if due is not None]
        for settings in store.due_users(self.db, to_stored(now), limit - len(ready)):
            due = self._claim(settings.user_id, now)
            if due is not None:
                ready.append(due)
        return ready

    def start(self, due: DueCheckin, *, delivered: bool = True) -> Reply:
        """Begin (or resume) the check-in's flow; an earlier unanswered one is closed quietly.

        `delivered=False` (Telegram): the check-in stays claimed until the outbox delivers it.
        """
        user = repository.get_user(self.db, due.user.id)
        for earlier in store.open_checkins(self.db, user.id):
            if earlier.id != due.checkin_id:
                store.set_status(self.db, earlier.id, "missed", now=self._now())
                if earlier.session_id is not None:
                    repository.set_session_status(
                        self.db, earlier.session_id, "abandoned", now=self._now()
                    )
        if due.resume_session is not None:
            reply = self.conversation.focus(user, due.resume_session)
            session_id = due.resume_session
        else:
            asking = self._commitment_asked(due)
            inputs = self._inputs(user) if asking is None else commitments.inputs_for(asking, user)
            reply = self.conversation.start(user, due.flow, inputs)
            session_id = reply.session_id or 0
            if asking is not None:
                journey_store.mark_asked(
                    self.db,
                    asking.id,
                    session_id,
                    local_day(self.clock(), self.zone(user)).isoformat(),
                    to_stored(self.clock()),
                )
        if delivered:
            store.mark_sent(self.db, due.checkin_id, session_id, now=self._now())
        else:
            store.set_session(self.db, due.checkin_id, session_id)
        log.info("checkin.started user=%s flow=%s", user.id, due.flow)
        return reply

    def deadline(self, due: DueCheckin) -> datetime:
        """When the check-in stops being worth delivering: its due time plus the grace."""
        checkin = store.get_checkin(self.db, due.checkin_id)
        start = datetime.fromisoformat(checkin.due_at) if checkin else self.clock()
        return start + self.grace

    def skip(self, due: DueCheckin) -> None:
        """A claimed check-in that cannot be sent (no Telegram chat, or blocked)."""
        store.set_status(self.db, due.checkin_id, "skipped", now=self._now())

    def undelivered(self, checkin_id: int) -> None:
        """The check-in's message never reached the manager: not asked, so never missed."""
        store.mark_undelivered(self.db, checkin_id)

    def snooze(self, user: User, checkin_id: int) -> bool:
        """'Later': ask again in an hour, once; False if this check-in cannot be snoozed."""
        checkin = store.get_checkin(self.db, checkin_id)
        settings = self.settings(user)
        if (
            checkin is None
            or checkin.user_id != user.id
            or checkin.status != "sent"
            or checkin.snoozed
            or settings is None
            or not settings.enabled
        ):
            return False
        later = self.clock() + SNOOZE
        regular = settings.next_due_at
        with self.db.atomic():
            store.set_status(self.db, checkin.id, "snoozed", snoozed=True, now=self._now())
            if checkin.session_id is not None:
                repository.set_session_status(
                    self.db, checkin.session_id, "paused", now=self._now()
                )
            soonest = min(to_stored(later), regular) if regular else to_stored(later)
            store.set_next_due(self.db, user.id, soonest, checkin.id, now=self._now())
            # What the manager types next goes to the reflection the check-in interrupted.
            reflection = repository.open_session(self.db, user.id, REFLECTION)
            if reflection is not None and reflection.status == "active":
                repository.focus_session(self.db, user.id, reflection.id, now=self._now())
        log.info("checkin.snoozed user=%s", user.id)
        return True

    def busy(self, user_id: int, now: datetime) -> bool:
        """True while the manager is chatting: a flow (not a check-in) is in progress and their
        latest answer, given to that flow, is a few minutes old at most."""
        current = repository.current_session(self.db, user_id)
        if current is None or current.status != "active" or current.flow in CHECKIN_FLOWS:
            return False
        latest = journey_store.latest_answer(self.db, user_id)
        if latest is None or latest[0] != current.id:
            return False  # e.g. they just set up check-ins from the middle of a reflection
        return latest[1] > to_stored(now - CHATTING_WINDOW)

    def _claim(self, user_id: int, now: datetime) -> DueCheckin | None:
        with self.db.atomic():
            settings = store.get_settings(self.db, user_id)
            if settings is None or not settings.enabled or settings.next_due_at is None:
                return None
            if settings.next_due_at > to_stored(now):
                return None  # claimed meanwhile
            if self.busy(user_id, now):
                return None  # still due: it goes out once they pause (the grace still counts)
            plan = _plan(settings)
            due_at = datetime.fromisoformat(settings.next_due_at)
            if settings.snoozed_checkin_id is not None:
                return self._claim_snoozed(settings, plan, now)
            local = local_day(due_at, settings.timezone).isoformat()
            following = next_due(plan, due_at)
            if now - due_at > self.grace:
                # The bot was down past the grace: that day is skipped, the next one is kept.
                if not settings.followups_only:  # a follow-up a few days late still goes out
                    store.insert_checkin(
                        self.db,
                        user_id,
                        local,
                        "daily",
                        CHECKIN,
                        settings.next_due_at,
                        "skipped",
                        now=to_stored(now),
                    )
                # The next one may be due already, within the grace: it goes out next tick.
                later = next_due(plan, max(due_at, now - self.grace))
                store.set_next_due(
                    self.db, user_id, to_stored(later) if later else None, now=to_stored(now)
                )
                log.info("checkin.skipped_late user=%s", user_id)
                return None
            kind, flow = self._kind_for(user_id, date.fromisoformat(local), settings.timezone)
            if settings.followups_only and kind == "daily":
                # No daily check-in for them: wake again tomorrow, while a follow-up is to come.
                pending = self._followups_pending(user_id, settings.timezone, now)
                wake = to_stored(following) if following and pending else None
                store.set_next_due(self.db, user_id, wake, now=to_stored(now))
                return None
            checkin_id = store.insert_checkin(
                self.db,
                user_id,
                local,
                kind,
                flow,
                settings.next_due_at,
                "claimed",
                now=to_stored(now),
            )
            store.set_next_due(
                self.db, user_id, to_stored(following) if following else None, now=to_stored(now)
            )
        if checkin_id is None:
            return None  # that day already had its check-in (the terminal, or a restart)
        return DueCheckin(repository.get_user(self.db, user_id), checkin_id, flow)

    def _claim_snoozed(
        self, settings: CheckinSettings, plan: Plan, now: datetime
    ) -> DueCheckin | None:
        checkin = store.get_checkin(self.db, settings.snoozed_checkin_id or 0)
        regular = next_due(plan, now - self.grace)
        if checkin is not None:
            regular = next_due(plan, datetime.fromisoformat(checkin.due_at))
        store.set_next_due(
            self.db, settings.user_id, to_stored(regular) if regular else None, now=to_stored(now)
        )
        if checkin is None or checkin.status != "snoozed" or checkin.session_id is None:
            return None
        user = repository.get_user(self.db, settings.user_id)
        return DueCheckin(user, checkin.id, checkin.flow, checkin.session_id, snoozable=False)

    def _resend(self, checkin: store.Checkin) -> DueCheckin | None:
        """A check-in claimed before the bot stopped, never sent: send it if still in time."""
        due_at = datetime.fromisoformat(checkin.due_at)
        if self.clock() - due_at > self.grace:
            store.set_status(self.db, checkin.id, "skipped", now=self._now())
            return None
        return DueCheckin(repository.get_user(self.db, checkin.user_id), checkin.id, checkin.flow)

    def _kind_for(self, user_id: int, day: date, zone: str) -> tuple[str, str]:
        """A follow-up if one is due on that day (or a few days late), else the daily check-in.
        Follow-ups count from the day the manager learned of the loss, not from the reflection."""
        sent = store.followups_sent(self.db, user_id)
        playbook = self.conversation.playbook
        for reflection in repository.completed_sessions(self.db, user_id, REFLECTION):
            lost = self.loss_day(reflection, zone)
            for followup in sorted(playbook.followups, key=lambda f: f.after_days):
                kind = f"followup:{followup.after_days}:{reflection.id}"
                target = lost + timedelta(days=followup.after_days)
                if kind not in sent and target <= day <= target + timedelta(FOLLOWUP_LATE_DAYS):
                    return kind, followup.flow
        due = journey_store.due_commitment(self.db, user_id, day.isoformat())
        if due is not None:  # refs #11: on its due day, the check-in asks about it
            return f"{commitments.KIND_PREFIX}{due.id}", commitments.COMMITMENT_FLOW
        return "daily", CHECKIN

    def _followups_pending(self, user_id: int, zone: str, now: datetime) -> bool:
        """True while a follow-up of some reflection is still to come (or a few days late)."""
        sent = store.followups_sent(self.db, user_id)
        today = local_day(now, zone)
        for reflection in repository.completed_sessions(self.db, user_id, REFLECTION):
            lost = self.loss_day(reflection, zone)
            for followup in self.conversation.playbook.followups:
                kind = f"followup:{followup.after_days}:{reflection.id}"
                last = lost + timedelta(days=followup.after_days + FOLLOWUP_LATE_DAYS)
                if kind not in sent and today <= last:
                    return True
        return False

    def offer_followups(self, user: User) -> CheckinSettings | None:
        """The manager accepted follow-ups on their own at the end of a reflection: wake at the
        check-in time (09:00 in their zone) and send only the follow-ups that are due. Nothing
        changes for a manager who has daily check-ins on: their follow-ups come instead of one."""
        current = self.settings(user)
        if current is not None and current.enabled:
            return current
        now = self.clock()
        base = current or CheckinSettings(
            user.id, False, DEFAULT_TIME, self.zone(user), False, None, None, None
        )
        settings = _replace(base, enabled=True, followups_only=True, paused_until=None)
        due = next_due(_plan(settings), now)
        settings = _replace(settings, next_due_at=to_stored(due) if due else None)
        store.save_settings(self.db, settings, now=to_stored(now))
        log.info("checkin.followups_only user=%s", user.id)
        return settings

    def loss_day(self, reflection: SessionRow, zone: str) -> date:
        """The day the manager learned of the loss, as their reflection tells it (followups.py)."""
        answers = SessionState.model_validate_json(reflection.state).answers
        return loss_day(answers, day_of(reflection.started_at, zone))

    def _commitment_asked(self, due: DueCheckin) -> journey_store.Commitment | None:
        """The commitment a check-in asks about, when it is a commitment's due day."""
        checkin = store.get_checkin(self.db, due.checkin_id)
        if checkin is None or not checkin.kind.startswith(commitments.KIND_PREFIX):
            return None
        return journey_store.get_commitment(
            self.db, int(checkin.kind.removeprefix(commitments.KIND_PREFIX))
        )

    def _inputs(self, user: User) -> dict[str, str]:
        """What a check-in quotes: the latest outputs, with the step in progress as the
        commitment once the reflection's first step is done (never a step already done)."""
        inputs = self.conversation.latest_outputs(user)
        current = journey_store.current_commitment(self.db, user.id)
        steps = [
            c for c in journey_store.commitments_of(self.db, user.id) if c.kind in commitments.STEPS
        ]
        if steps and current is None:
            inputs.pop("commitment", None)  # all done: the flow's own words ("your next step")
        elif current is not None and current.kind == "next_step":
            inputs["commitment"] = current.text
        return inputs

    # --- after a flow ends ---------------------------------------------------------------------

    def _completed(self, user: User, row: SessionRow, state: SessionState) -> None:
        if row.flow == SETUP:
            self.apply_setup(user, state.answers)
            return
        if row.flow == REFLECTION and state.answers.get(FOLLOWUP_OFFER) is True:
            self.offer_followups(user)
            return
        checkin = store.checkin_for_session(self.db, row.id)
        if checkin is not None:
            store.set_status(self.db, checkin.id, "answered", now=self._now())

    # --- reading back --------------------------------------------------------------------------

    def streak(self, user: User) -> int:
        """Check-ins answered in a row up to the latest; today's, still open, does not break it,
        and neither does a day the bot did not ask (down past the grace, or not delivered)."""
        today = day_of(self.clock(), self.zone(user)).isoformat()
        count = 0
        for checkin in store.recent_checkins(self.db, user.id):
            if checkin.status == "answered":
                count += 1
            elif checkin.status in NOT_ASKED or (
                checkin.local_date == today and checkin.status in ("claimed", "sent", "snoozed")
            ):
                continue
            else:
                break
        return count

    def progress(self, user: User, days: int = 30) -> Progress:
        """Moods and reflection days of the last `days` local days."""
        zone = self.zone(user)
        end = day_of(self.clock(), zone)
        start = end - timedelta(days=days - 1)
        moods = [
            (date.fromisoformat(day), mood)
            for day, mood in store.moods(self.db, user.id, start.isoformat())
        ]
        reflections = [
            day_of(row.completed_at, zone)
            for row in repository.completed_sessions(self.db, user.id, REFLECTION)
            if row.completed_at
        ]
        return Progress(
            start, end, moods, [d for d in reflections if start <= d <= end], self.streak(user)
        )

    def claim_today_for_terminal(self, user: User) -> DueCheckin | None:
        """Today's check-in for `rebond checkin` (resumed if left unfinished); None if done."""
        settings = self.settings(user)
        zone = settings.timezone if settings else DEFAULT_ZONE
        now = self.clock()
        day = local_day(now, zone)
        today = store.checkin_on(self.db, user.id, day.isoformat())
        if today is not None:
            open_session = today.session_id is not None and today.status in ("sent", "snoozed")
            if not open_session:
                return None
            return DueCheckin(user, today.id, today.flow, today.session_id, snoozable=False)
        kind, flow = self._kind_for(user.id, day, zone)
        checkin_id = store.insert_checkin(
            self.db,
            user.id,
            day.isoformat(),
            kind,
            flow,
            to_stored(now),
            "claimed",
            now=to_stored(now),
        )
        return DueCheckin(user, checkin_id, flow, snoozable=False) if checkin_id else None


def _open_today(checkin: store.Checkin, today: str) -> bool:
    """Today's check-in, asked but not answered yet: it does not break a streak (yet)."""
    return checkin.local_date == today and checkin.status in ("claimed", "sent", "snoozed")


def _plan(settings: CheckinSettings) -> Plan:
    paused = date.fromisoformat(settings.paused_until) if settings.paused_until else None
    return Plan(parse_hhmm(settings.local_time), settings.timezone, settings.weekdays_only, paused)


def _replace(settings: CheckinSettings, **changes: object) -> CheckinSettings:
    return replace(settings, **changes)  # type: ignore[arg-type]
