"""Coach review with the manager's consent: pairing, privacy, reads (each one audited), notes,
feedback, notifications, and the manager's data (export, erasure, retention).

Identity always comes from the caller (the sender of the update), never from what a message or
a button says: every read checks the coach against the settings and the active, consented link.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

from storage import checkins as checkin_store
from storage import coach as store
from storage import journey as journey_store
from storage import privacy, repository
from storage import team as team_store
from storage.coach import Invite, Link, ManagerOverview
from storage.db import to_stored
from storage.erasure import WalScrubber, database_path
from storage.repository import SessionRow, User

from ..clock import Clock
from ..conversation import REFLECTION, Conversation
from ..days import coach_zone, manager_zone
from ..flows.engine import values_for
from ..flows.model import Lang, MessageStep, UiText
from ..flows.state import SessionState
from ..flows.text import display_value, fill, normalise
from ..flows.timezones import place, resolve
from ..formatting import count, day_of, day_text, decimal, time_text
from ..journey.commitments import describe
from ..team.summary import feeling_scale, summarise, summary_lines
from ..userkey import UserKey

log = logging.getLogger(__name__)

INVITE_LIFETIME = timedelta(days=7)
SHARE_DELAY = timedelta(minutes=10)
"""Time a manager has to keep a new reflection private before their coach can see it."""
TREND_DAYS = 7


class Refusal(Enum):
    """Why a pairing step was refused (each has its own message)."""

    UNKNOWN = "invite_unknown"
    USED = "invite_used"
    EXPIRED = "invite_expired"
    OWN = "invite_own"


@dataclass(frozen=True)
class ReflectionCard:
    """One line of /reflections: the reflection and its before -> after scores."""

    session_id: int
    day: date
    client: str
    guilt: tuple[int | None, int | None]
    worry: tuple[int | None, int | None]


@dataclass(frozen=True)
class TranscriptSection:
    """The questions and answers of one section of a reflection."""

    title: str
    exchanges: list[tuple[str, str]]


@dataclass(frozen=True)
class Transcript:
    """A reflection as the coach reads it."""

    manager: User
    card: ReflectionCard
    sections: list[TranscriptSection]
    notes: list[str]
    team: list[str] = field(default_factory=list)
    """The summary of each team round of the reflection, as text lines (never raw answers)."""
    commitments: list[str] = field(default_factory=list)
    """The reflection's commitments and where they stand, in the reader's language (refs #11)."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure did, and what to tell the person: `complete` once no trace is left in
    the database files; until then the last traces are being cleared in the background, and
    `CoachService.disk_cleared` says when to tell them it is done."""

    removed: dict[str, int]
    complete: bool
    text: str


RESET_ZONE_WORDS = frozenset({"manager", "managers", "defaut", "default"})
"""`/zone manager`: read each manager's times in the manager's own zone again."""


@dataclass(frozen=True)
class DiskCleared:
    """A person told their erasure was still clearing the disk, to be told it is done: their
    former user key (kept in memory only, never stored again) and the words, in their
    language."""

    key: str
    text: str


@dataclass(frozen=True)
class PastReflections:
    """Consent's question about the reflections finished before it: the text, one line per
    reflection (session id, "27 nov. 2026 · Acme"), newest first, and the two quick answers."""

    text: str
    items: list[tuple[int, str]]
    all_label: str
    none_label: str


@dataclass(frozen=True)
class AuditList:
    """/mydata's readable audit: who read what, and when, in the manager's zone and language."""

    title: str
    lines: list[str]

    @property
    def text(self) -> str:
        """The title and one line per read, as one message."""
        return "\n".join([self.title, *self.lines])


@dataclass(frozen=True)
class Delivery:
    """A message for a user's chat: feedback to a manager, news to a coach."""

    user: User
    text: str
    feedback_id: int | None = None
    delivered_before: bool = False
    """The same update was handled before and its message went out: do not send it twice."""
    thread_id: int | None = None
    """The coach-thread message it carries (refs #11), marked delivered once sent."""
    notification_id: int | None = None
    """The notification it carries, whose `sent_at` the sender sets once delivered."""


class CoachService:
    """Everything coaches do, and everything managers control about it."""

    def __init__(self, conversation: Conversation, coach_ids: frozenset[int], clock: Clock) -> None:
        self.conversation = conversation
        self.db = conversation.db
        self.coach_ids = coach_ids
        self.clock = clock
        self.scrubber = WalScrubber(database_path(self.db))
        self._awaiting_disk: list[DiskCleared] = []
        conversation.on_completed(self._completed)

    def _now(self) -> str:
        return to_stored(self.clock())

    def is_coach(self, user: User) -> bool:
        """True for the Telegram users listed in REBOND_COACH_IDS."""
        return UserKey(user.key).telegram_id in self.coach_ids

    # --- pairing -------------------------------------------------------------------------------

    def invite(self, coach: User) -> Invite:
        """A single-use code, valid 7 days."""
        now = self.clock()
        code = secrets.token_urlsafe(9)
        invite = store.create_invite(
            self.db, code, coach.id, to_stored(now), to_stored(now + INVITE_LIFETIME)
        )
        log.info("coach.invite_created coach=%s", coach.id)
        return invite

    def open_invite(self, manager: User, code: str) -> User | Refusal:
        """The manager opened a link: the coach to preview, or why it cannot be used."""
        invite = store.get_invite(self.db, code.strip())
        refusal = self._refusal(manager, invite)
        if refusal is not None or invite is None:
            return refusal or Refusal.UNKNOWN
        store.open_invite(self.db, invite.code, manager.id)
        return repository.get_user(self.db, invite.coach_id)

    def confirm_share(
        self, manager: User, include_checkins: bool, code: str
    ) -> tuple[User, Link | None] | Refusal:
        """The manager confirmed the invite they opened: link them to its coach (replacing an
        earlier link)."""
        invite = store.get_invite(self.db, code)
        if invite is not None and invite.used_at is None and invite.opened_by != manager.id:
            invite = None  # only an invite shown to this manager can be confirmed by them
        refusal = self._refusal(manager, invite)
        if refusal is not None or invite is None:
            return refusal or Refusal.UNKNOWN
        with self.db.atomic():
            if not store.use_invite(self.db, invite.code, manager.id, self._now()):
                return Refusal.USED
            previous = store.create_link(
                self.db, invite.coach_id, manager.id, include_checkins, self._now()
            )
        log.info("coach.linked coach=%s manager=%s", invite.coach_id, manager.id)
        return repository.get_user(self.db, invite.coach_id), previous

    def past_reflections(self, manager: User) -> PastReflections | None:
        """After consent: the manager's finished reflections no coach sees yet, to choose from
        there and then (None when there are none, or no coach)."""
        coach = self.coach_of(manager)
        sessions = store.unshared_reflections(self.db, manager.id)
        if coach is None or not sessions:
            return None
        texts, lang = self._texts(manager), self._lang(manager)
        items = []
        for session in sessions:
            card = self._card(session)
            values = {"date": day_text(card.day, lang), "client": card.client}
            items.append((session.id, fill(texts.share_past_line, values)))
        values = {"reflections": count(len(items), "reflection", lang), "coach": _name(coach)}
        return PastReflections(
            fill(texts.share_past_title, values),
            items,
            texts.share_past_all_button,
            texts.share_past_none_button,
        )

    def choose_past(self, manager: User, shared: Iterable[int]) -> str:
        """The manager's choice among `past_reflections`: those in `shared` are shared now, the
        others kept private. The confirmation to show them."""
        wanted = set(shared)
        chosen = [s.id for s in store.unshared_reflections(self.db, manager.id)]
        for session_id in chosen:
            self.set_private(manager, session_id, session_id not in wanted)
        coach = self.coach_of(manager)
        texts, lang = self._texts(manager), self._lang(manager)
        shared_count = sum(1 for session_id in chosen if session_id in wanted)
        values = {
            "coach": _name(coach) if coach else "",
            "shared": count(shared_count, "reflection", lang),
            "private": count(len(chosen) - shared_count, "reflection", lang),
        }
        return fill(texts.share_past_done, values)

    def cancel_share(self, manager: User, code: str) -> None:
        """The manager declined an invite they opened."""
        store.close_opened_invite(self.db, manager.id, code)

    def unshare(self, manager: User) -> tuple[User, Link] | None:
        """End sharing at once; the coach (to tell them) and the link, if there was one."""
        link = store.end_link(self.db, manager.id, self._now())
        if link is None:
            return None
        log.info("coach.unlinked coach=%s manager=%s", link.coach_id, manager.id)
        return repository.get_user(self.db, link.coach_id), link

    def coach_of(self, manager: User) -> User | None:
        """The coach the manager shares with, if any."""
        link = store.active_link(self.db, manager.id)
        return repository.get_user(self.db, link.coach_id) if link else None

    def link_of(self, manager: User) -> Link | None:
        """The manager's active link, if any."""
        return store.active_link(self.db, manager.id)

    def _refusal(self, manager: User, invite: Invite | None) -> Refusal | None:
        if invite is None:
            return Refusal.UNKNOWN
        if invite.used_at is not None:
            return Refusal.USED
        if invite.expires_at <= self._now():
            return Refusal.EXPIRED
        if invite.coach_id == manager.id:
            return Refusal.OWN
        return None

    # --- privacy of reflections ----------------------------------------------------------------

    def set_private(self, manager: User, session_id: int, private: bool) -> bool:
        """Keep one of the manager's finished reflections private, or share it now."""
        session = self._own_reflection(manager, session_id)
        if session is None:
            return False
        with self.db.atomic():
            store.set_private(self.db, session_id, private, self._now())
            if not private:  # shared by hand: the coach may hear of it now
                store.release_notifications(self.db, session_id, self._now())
        log.info("coach.privacy manager=%s private=%s", manager.id, private)
        return True

    def _own_reflection(self, manager: User, session_id: int) -> SessionRow | None:
        try:
            session = repository.get_session(self.db, session_id)
        except KeyError:
            return None
        mine = session.user_id == manager.id and session.flow == REFLECTION
        return session if mine and session.status == "completed" else None

    def _completed(self, user: User, row: SessionRow, state: SessionState) -> None:
        if row.flow != REFLECTION:
            return
        link = store.active_link(self.db, user.id)
        if link is not None:
            not_before = to_stored(self.clock() + SHARE_DELAY)
            store.queue_notification(self.db, link.coach_id, user.id, row.id, not_before)

    def due_news(self, limit: int = 100) -> list[Delivery]:
        """Share the reflections whose private window has passed; tell coaches who asked."""
        news = []
        now = self._now()
        for pending in store.due_notifications(self.db, now, limit):
            with self.db.atomic():
                shared = store.share_if_not_private(self.db, pending["session_id"], now)
                linked = store.link_between(self.db, pending["coach_id"], pending["manager_id"])
                store.mark_notification_done(self.db, pending["id"], now)
            if shared and linked and store.wants_notifications(self.db, pending["coach_id"]):
                coach = repository.get_user(self.db, pending["coach_id"])
                manager = repository.get_user(self.db, pending["manager_id"])
                card = self._card(repository.get_session(self.db, pending["session_id"]))
                text = fill(
                    self._texts(coach).coach_notification,
                    {"name": _name(manager), "client": card.client, "number": str(card.session_id)},
                )
                news.append(Delivery(coach, text, notification_id=pending["id"]))
        return news

    # --- what coaches read (each read audited) -------------------------------------------------

    def managers(self, coach: User) -> list[tuple[ManagerOverview, str]]:
        """The coach's linked managers, each with their mood trend (or '-')."""
        now = self._now()
        overview = store.managers_overview(self.db, coach.id, now)
        lines = []
        with self.db.atomic():  # one commit for the whole list's audit rows
            for manager in overview:
                trend = (
                    self._trend(manager.manager_id, self._lang(coach))
                    if manager.include_checkins
                    else "-"
                )
                store.log_read(self.db, coach.id, manager.manager_id, "managers", None, now)
                lines.append((manager, trend))
        return lines

    def reflections(
        self, coach: User, link_id: int, limit: int | None = None
    ) -> tuple[User, list[ReflectionCard]] | None:
        """A linked manager's shared reflections (the latest `limit`, when given); None if this
        coach may not see them."""
        link = store.coach_link(self.db, coach.id, link_id) if self.is_coach(coach) else None
        if link is None:
            return None
        manager = repository.get_user(self.db, link.manager_id)
        shared = store.shared_reflections(self.db, manager.id, self._now(), limit=limit)
        cards = self._cards(manager.id, shared)
        store.log_read(self.db, coach.id, manager.id, "reflections", None, self._now())
        return manager, cards

    def transcript(self, session: SessionRow, reader: User | None = None) -> Transcript:
        """A reflection's transcript by section (no check: callers check access)."""
        manager = repository.get_user(self.db, session.user_id)
        notes = []
        if reader is not None:
            notes = [note["text"] for note in store.notes_for(self.db, reader.id, session.id)]
        lang = self.conversation.language(reader or manager)
        commitments = [
            describe(self.conversation.playbook.ui, commitment, lang)
            for commitment in journey_store.commitments_of_session(self.db, session.id)
        ]
        sections = self._sections(session, reader)
        return Transcript(
            manager,
            self._card(session),
            sections,
            notes,
            commitments=commitments,
            team=self.team_summary(session),
        )

    def card(self, session: SessionRow) -> ReflectionCard:
        """A reflection's date, client and scores."""
        return self._card(session)

    def log_export(self, coach: User | None, manager: User) -> None:
        """Record an export of the manager's data (by a coach, or the operator when None)."""
        coach_id = coach.id if coach is not None else None
        store.log_read(self.db, coach_id, manager.id, "export", None, self._now())

    def exportable(self, coach: User | None, manager: User) -> list[SessionRow]:
        """Finished reflections of the manager: shared with `coach`, or all for the operator."""
        if coach is None:
            return repository.completed_sessions(self.db, manager.id, REFLECTION)
        if store.link_between(self.db, coach.id, manager.id) is None:
            return []
        return store.shared_reflections(self.db, manager.id, self._now())

    def linked_managers(self, coach: User) -> list[User]:
        """The managers who share with this coach."""
        return [
            repository.get_user(self.db, line.manager_id)
            for line in store.managers_overview(self.db, coach.id, self._now())
        ]

    def read(self, coach: User, session_id: int) -> Transcript | None:
        """A shared reflection's transcript by section; None if this coach may not read it."""
        session = (
            store.visible_reflection(self.db, coach.id, session_id, self._now())
            if self.is_coach(coach)
            else None
        )
        if session is None:
            return None
        store.log_read(self.db, coach.id, session.user_id, "read", str(session_id), self._now())
        return self.transcript(session, coach)

    def trend(
        self, coach: User, link_id: int, days: int = 90
    ) -> tuple[User, list[tuple[date, int]], list[ReflectionCard], date, date] | None:
        """Mood points (if shared) and reflection scores of a linked manager."""
        link = store.coach_link(self.db, coach.id, link_id) if self.is_coach(coach) else None
        if link is None:
            return None
        manager = repository.get_user(self.db, link.manager_id)
        end = day_of(self.clock(), manager_zone(self.db, manager.id))
        start = end - timedelta(days=days - 1)
        moods: list[tuple[date, int]] = []
        if link.include_checkins:
            points = checkin_store.moods(self.db, manager.id, start.isoformat())
            moods = [(date.fromisoformat(day), mood) for day, mood in points]
        # Only the reflections that can fall in the window (a day's margin for the zone).
        since = to_stored(datetime.combine(start - timedelta(days=1), time(), UTC))
        shared = store.shared_reflections(self.db, manager.id, self._now(), completed_since=since)
        cards = self._cards(manager.id, shared)
        store.log_read(self.db, coach.id, manager.id, "trend", None, self._now())
        return manager, moods, [c for c in cards if start <= c.day <= end], start, end

    def note(self, coach: User, session_id: int, text: str, key: str | None = None) -> bool:
        """A private note on a reflection this coach may read (once per update `key`)."""
        if not text.strip() or self.read_allowed(coach, session_id) is None:
            return False
        store.add_note(self.db, coach.id, session_id, text.strip(), self._now(), key)
        return True

    def feedback(
        self, coach: User, session_id: int, text: str, key: str | None = None
    ) -> Delivery | None:
        """A message to the manager about a reflection this coach may read (once per `key`)."""
        session = self.read_allowed(coach, session_id)
        if session is None or not text.strip():
            return None
        manager = repository.get_user(self.db, session.user_id)
        feedback_id, delivered_at = store.add_feedback(
            self.db, coach.id, manager.id, session_id, text.strip(), self._now(), key
        )
        text = self._feedback_text(coach, manager, session, text.strip())
        return Delivery(manager, text, feedback_id, delivered_before=delivered_at is not None)

    def undelivered_feedback(self, lifetime: timedelta, limit: int = 100) -> list[Delivery]:
        """Feedback stored but never queued (written on the web view) within `lifetime`, ready
        for the bot to send as /feedback does."""
        since = to_stored(self.clock() - lifetime)
        deliveries = []
        for row in store.undelivered_feedback(self.db, since, limit):
            coach = repository.get_user(self.db, row["coach_id"])
            manager = repository.get_user(self.db, row["manager_id"])
            session = repository.get_session(self.db, row["session_id"])
            text = self._feedback_text(coach, manager, session, row["text"])
            deliveries.append(Delivery(manager, text, row["id"]))
        return deliveries

    def feedback_delivered(self, delivery: Delivery) -> None:
        """The manager's chat received the feedback."""
        if delivery.feedback_id is not None:
            store.mark_feedback_delivered(self.db, delivery.feedback_id, self._now())

    def set_zone(self, coach: User, typed: str) -> str | None:
        """The coach's own time zone for the times they read ("Montréal", "America/Toronto");
        the IANA name kept, or None (nothing stored) when the text names no zone or several."""
        zone = resolve(typed)
        if not isinstance(zone, str) or not self.is_coach(coach):
            return None
        store.set_coach_zone(self.db, coach.id, zone)
        return zone

    def zone_question(self, coach: User) -> str | None:
        """The question asked once, at a coach's first command: which zone they read times in
        (each manager's until they choose, `/zone` to change); None once asked, or for a
        manager."""
        if not self.is_coach(coach) or not store.claim_zone_question(
            self.db, coach.id, self._now()
        ):
            return None
        return self._texts(coach).coach_zone_question

    def zone_command(self, coach: User, typed: str) -> str:
        """/zone [place|manager]: the coach's zone as it is, chosen, or back to each manager's;
        the reply, in the coach's language."""
        texts, lang = self._texts(coach), self._lang(coach)
        store.claim_zone_question(self.db, coach.id, self._now())  # no need to ask any more
        wanted = typed.strip()
        if normalise(wanted) in RESET_ZONE_WORDS:
            store.set_coach_zone(self.db, coach.id, None)
            return texts.coach_zone_default
        if wanted:
            zone = self.set_zone(coach, wanted)
            if zone is None:
                return fill(texts.coach_zone_unknown, {"text": wanted})
            return fill(texts.coach_zone_set, {"place": place(zone, lang), "zone": zone})
        current = store.coach_zone(self.db, coach.id)
        if current is None:
            return texts.coach_zone_default
        return fill(texts.coach_zone_current, {"place": place(current, lang), "zone": current})

    def time_for_coach(self, coach: User, manager_id: int, stored: str) -> str:
        """A stored moment about a manager as this coach reads it: in the coach's zone (their
        setting, else the manager's), in the coach's language: "27 nov. 2026, 00:30"."""
        zone = coach_zone(self.db, coach.id, manager_id)
        return time_text(stored, zone, self._lang(coach))

    def day_for_coach(self, coach: User, card: ReflectionCard) -> str:
        """A reflection's day (the manager's day) written in the coach's language."""
        return day_text(card.day, self._lang(coach))

    def set_notify(self, coach: User, on: bool) -> None:
        """Turn completion notifications on or off for this coach."""
        store.set_notify(self.db, coach.id, on)

    def read_allowed(self, coach: User, session_id: int) -> SessionRow | None:
        """The reflection if this coach may read it now."""
        if not self.is_coach(coach):
            return None
        return store.visible_reflection(self.db, coach.id, session_id, self._now())

    # --- the manager's own view ----------------------------------------------------------------

    def feedback_for(self, manager: User) -> dict[int, list[str]]:
        """Feedback received, by reflection."""
        grouped: dict[int, list[str]] = {}
        for row in store.feedback_for_manager(self.db, manager.id):
            grouped.setdefault(row["session_id"], []).append(row["text"])
        return grouped

    def my_data(self, user: User) -> str:
        """Everything stored about the user, as a JSON document."""
        data = privacy.user_data(self.db, user.id)
        data["audit_of_coach_reads"] = store.audit_for(self.db, user.id)
        return json.dumps(data, ensure_ascii=False, indent=2, default=str)

    def audit_list(self, manager: User) -> AuditList:
        """/mydata in the chat, before the file: every read of the manager's data, oldest
        first, one readable line each ("27 nov. 2026, 10:15 · Camille · a lu la réflexion n° 4")."""
        texts, lang = self._texts(manager), self._lang(manager)
        zone = manager_zone(self.db, manager.id)
        lines = []
        for row in store.audit_for(self.db, manager.id):
            who = row["coach"] or (
                texts.mydata_operator if row["action"] == "export" else texts.mydata_former_coach
            )
            label = getattr(texts, f"audit_{row['action']}", None)
            action = fill(label, {"number": row["target"] or ""}) if label else row["action"]
            values = {"at": time_text(row["at"], zone, lang), "coach": who, "action": action}
            lines.append(fill(texts.mydata_audit_line, values))
        if not lines:
            return AuditList(texts.mydata_audit_empty, [])
        return AuditList(texts.mydata_audit_title, lines)

    def forget(self, user: User) -> Erasure:
        """Delete every row about the user, in every table, then scrub the write-ahead log (at
        once if no one reads, else in the background); the text tells which (in their language,
        read before the user is gone)."""
        texts = self._texts(user)  # read before the user is gone
        removed = privacy.forget_user(self.db, user.id)
        complete = self.scrubber.scrub()
        log.info(
            "privacy.forgotten user=%s rows=%s complete=%s",
            user.id,
            sum(removed.values()),
            complete,
        )
        if complete:
            return Erasure(removed, True, texts.forgotten)
        self._awaiting_disk.append(DiskCleared(user.key, texts.forgotten_on_disk))
        return Erasure(removed, False, texts.forgotten_pending)

    def disk_cleared(self) -> list[DiskCleared]:
        """Those told "Rebond will write once the disk is cleared" whose erasure has now reached
        the disk (the scrub completed); each returned once. In memory only: after a restart,
        which empties the log at start-up, nobody is told (the promise is kept on disk, not in
        the chat)."""
        if self.scrubber.pending or not self._awaiting_disk:
            return []
        done, self._awaiting_disk = self._awaiting_disk, []
        return done

    def apply_retention(self, days: int) -> int:
        """Delete sessions started more than `days` ago, and team rounds closed that long ago
        with their answers, then scrub the write-ahead log (see `erasure_pending`); how many
        sessions."""
        cutoff = to_stored(self.clock() - timedelta(days=days))
        deleted = privacy.delete_sessions_started_before(self.db, cutoff)
        rounds = team_store.delete_rounds_closed_before(self.db, cutoff)  # team answers with them
        complete = self.scrubber.scrub() if deleted or rounds else not self.scrubber.pending
        log.info(
            "privacy.retention days=%s sessions_deleted=%s team_rounds_deleted=%s complete=%s",
            days,
            deleted,
            rounds,
            complete,
        )
        return deleted

    @property
    def erasure_pending(self) -> bool:
        """True while erased words may still sit in the -wal file (being cleared)."""
        return self.scrubber.pending

    # --- internals -----------------------------------------------------------------------------

    def _trend(self, manager_id: int, lang: Lang) -> str:
        today = day_of(self.clock(), manager_zone(self.db, manager_id))
        since = (today - timedelta(2 * TREND_DAYS - 1)).isoformat()
        return mood_trend(checkin_store.moods(self.db, manager_id, since), today, lang)

    def _cards(self, manager_id: int, sessions: list[SessionRow]) -> list[ReflectionCard]:
        """The cards of one manager's reflections (their zone read once)."""
        zone = manager_zone(self.db, manager_id)
        return [self._card(session, zone) for session in sessions]

    def _card(self, session: SessionRow, zone: str | None = None) -> ReflectionCard:
        # The answers only, read as plain JSON: validating the whole state cost 0.3 ms a card.
        answers = json.loads(session.state).get("answers") or {}
        outputs = json.loads(session.outputs or "{}")

        def score(step: str) -> int | None:
            value = answers.get(step)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        client = outputs.get("client") or str(answers.get("client") or "?")
        # The manager's own day: a Paris manager finishing at 00:30 on 27/11 finished on 27/11.
        zone = zone or manager_zone(self.db, session.user_id)
        day = day_of(session.completed_at or session.started_at, zone)
        return ReflectionCard(
            session.id,
            day,
            client,
            (score("guilt_before"), score("guilt_after")),
            (score("worry_before"), score("worry_after")),
        )

    def team_summary(self, session: SessionRow) -> list[str]:
        """Each closed team round of the reflection, summarised as the manager sees it (no check:
        callers check access)."""
        playbook = self.conversation.playbook
        rounds = team_store.rounds_of_reflection(self.db, session.id)
        if playbook.team is None or not rounds:
            return []
        scale = feeling_scale(playbook)
        lang = SessionState.model_validate_json(session.state).lang
        lines: list[str] = []
        for closed in rounds:
            answers = team_store.round_answers(self.db, closed.id)
            summary = summarise(
                answers, closed.own_question, (scale.min, scale.max), playbook.safety
            )
            lines += summary_lines(summary, playbook, lang)
        return lines

    def _sections(self, session: SessionRow, reader: User | None) -> list[TranscriptSection]:
        state = SessionState.model_validate_json(session.state)
        playbook = self.conversation.library.for_version(session.playbook_version)
        flow = playbook.flows[session.flow]
        lang = state.lang
        values = values_for(playbook, flow, state)
        sections: list[TranscriptSection] = []
        for section in flow.sections:
            exchanges = []
            for step in section.steps:
                if isinstance(step, MessageStep) or step.id not in state.answers:
                    continue
                prompt = fill(step.prompt.get(lang), values)
                answer = display_value(playbook, step, state.answers[step.id], lang)
                exchanges.append((prompt, answer))
            if exchanges:
                sections.append(TranscriptSection(section.title.get(lang), exchanges))
        return sections

    def _feedback_text(self, coach: User, manager: User, session: SessionRow, text: str) -> str:
        card = self._card(session)
        return fill(
            self._texts(manager).feedback_received,
            {"coach": _name(coach), "date": day_text(card.day, self._lang(manager)), "text": text},
        )

    def _texts(self, user: User) -> UiText:
        return self.conversation.playbook.ui.in_(self.conversation.language(user))

    def _lang(self, user: User) -> Lang:
        return self.conversation.language(user)


def mood_trend(points: list[tuple[str, int]], today: date, lang: Lang) -> str:
    """The mood of the last TREND_DAYS days against the TREND_DAYS before, from (local date,
    mood) points: "3,0 ↗ 4,0/5", "4,0/5" without an earlier week, "-" without a recent one."""

    def mean(first: date, last: date) -> float | None:
        low, high = first.isoformat(), last.isoformat()
        moods = [mood for day, mood in points if low <= day <= high]
        return sum(moods) / len(moods) if moods else None

    recent = mean(today - timedelta(TREND_DAYS - 1), today)
    before = mean(today - timedelta(2 * TREND_DAYS - 1), today - timedelta(TREND_DAYS))
    if recent is None:
        return "-"
    if before is None:
        return f"{_decimal(recent, lang)}/5"
    arrow = "↗" if recent > before + 0.2 else "↘" if recent < before - 0.2 else "→"
    return f"{_decimal(before, lang)} {arrow} {_decimal(recent, lang)}/5"


@functools.lru_cache(maxsize=1024)
def _decimal(value: float, lang: Lang) -> str:
    """`decimal`, remembered: a board of 100 managers formats the same few means 200 times,
    and Babel takes 0.2 ms each."""
    return decimal(value, lang)


def _name(user: User) -> str:
    return user.display_name or f"#{user.id}"
