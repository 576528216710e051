"""What each page of the web view shows, gathered from the coach service.

A manager's page and a reflection's go through CoachService, which checks the coach and the
manager's active, consented link and writes the same audit row as the chat command that shows
the same data (/reflections, /trend, /read). The managers page reads the board of
storage/web.py instead (the coach's active links only, the same visibility rules, a fixed
number of queries for any number of managers) and writes /managers' audit rows. The coach
itself is checked against REBOND_COACH_IDS on every request (bot/web/access.py). None means:
not this coach's to see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from storage import coach as coach_store
from storage import web as web_store
from storage.db import to_stored
from storage.journey import OPEN_COMMITMENT
from storage.repository import User

from ..bootstrap import Services
from ..checkins.schedule import local_day
from ..coach.service import TREND_DAYS, ReflectionCard, TranscriptSection, mood_trend
from ..formatting import DEFAULT_ZONE
from ..journey.commitments import status_label
from .svg import mood_chart, sparkline
from .texts import Texts

SPARK_DAYS = 14
LATEST_REFLECTIONS = 50
"""Reflections listed on a manager's page before "show all": the page stays light."""
LATEST_CLOSED_COMMITMENTS = 20
"""Done or dropped commitments listed on a manager's page before "show all"."""
NOTE_LIMIT = 3500
"""Longest note or feedback, in characters: a feedback must fit one Telegram message (4096)
with the words around it."""


@dataclass(frozen=True)
class ManagerRow:
    """One line of the managers page."""

    link_id: int
    name: str
    last_seen: str
    reflections: int
    mood_shared: bool
    trend: str
    chart: Markup | None
    chart_text: str
    open_commitments: int
    unread_replies: int


@dataclass(frozen=True)
class CommitmentRow:
    """A commitment on a manager's page: its state in words, its text, its due date."""

    state: str
    open: bool
    text: str
    due: str


@dataclass(frozen=True)
class ReplyRow:
    """A message of the thread about a reflection, on its page."""

    from_manager: bool
    author: str
    at: str
    text: str


@dataclass(frozen=True)
class ReflectionRow:
    """One shared reflection on a manager's page."""

    session_id: int
    day: str
    client: str
    guilt: str
    worry: str


@dataclass(frozen=True)
class ManagerPage:
    """A manager's shared reflections and mood over 90 days."""

    name: str
    reflections: list[ReflectionRow]
    hidden: int
    """Older reflections left out of `reflections` (the page lists them all on request)."""
    mood_shared: bool
    chart: Markup
    chart_rows: list[tuple[str, str, bool]]
    """(day, mood or "", reflection that day) for every day with either: the chart as text."""
    commitments: list[CommitmentRow]
    """Every open commitment, then the latest closed ones (all of them with "show all")."""
    older_commitments: int
    """Closed commitments left out of `commitments`."""


@dataclass(frozen=True)
class ReflectionPage:
    """A reflection's summary, transcript by the article's steps, and the coach's notes."""

    session_id: int
    link_id: int | None
    manager: str
    day: str
    client: str
    summary_title: str
    summary_lines: list[str]
    sections: list[TranscriptSection]
    notes: list[str]
    replies: list[ReplyRow]
    """The thread between the manager and this coach about the reflection, oldest first."""


class Pages:
    """Builds each page's data for a verified coach; None when it is not theirs to see."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.coach = services.coach

    def texts(self, coach: User) -> Texts:
        """The coach's language."""
        return Texts(self.services.conversation.language(coach))

    def managers(self, coach: User) -> list[ManagerRow]:
        """Each linked manager: last activity, shared reflections, mood of the last 14 days and
        its trend, open commitments, unread replies. A fixed number of queries whatever the
        number of managers, and the same audit rows as /managers, written in one statement."""
        texts, zone = self.texts(coach), self._zone(coach)
        now = self.coach.clock()
        end = local_day(now, zone)
        start = end - timedelta(days=SPARK_DAYS - 1)
        # The trend's two weeks end on each manager's own day, at most a day from the coach's.
        since = end - timedelta(days=2 * TREND_DAYS)
        board = web_store.managers_board(self.coach.db, coach.id, to_stored(now))
        moods = web_store.board_moods(self.coach.db, coach.id, since.isoformat())
        with self.coach.db.atomic():
            coach_store.log_reads(
                self.coach.db,
                coach.id,
                [row.manager_id for row in board],
                "managers",
                to_stored(now),
            )
        lang = self.services.conversation.language(coach)
        rows = []
        for line in board:
            chart, chart_text, trend = None, texts.mood_not_shared, "-"
            if line.include_checkins:
                points = moods.get(line.manager_id, [])
                today = local_day(now, line.zone or DEFAULT_ZONE)
                trend = mood_trend(points, today, lang)
                recent = [(day, mood) for day, mood in _moods(points) if day >= start]
                chart_text = texts.mood_none
                if recent:
                    values = ", ".join(f"{texts.day(day)} {mood}" for day, mood in recent)
                    chart_text = texts("sparkline_label", values=values)
                    chart = sparkline(recent, start, end, chart_text)
            rows.append(
                ManagerRow(
                    line.link_id,
                    line.name or f"#{line.manager_id}",
                    texts.moment(_local(line.last_seen_at, zone)),
                    line.reflections,
                    line.include_checkins,
                    trend,
                    chart,
                    chart_text,
                    line.open_commitments,
                    line.unread_replies,
                )
            )
        return rows

    def manager(self, coach: User, link_id: int, everything: bool = False) -> ManagerPage | None:
        """A linked manager's shared reflections (the latest 50 unless `everything`) and mood
        chart (the /reflections and /trend reads, audited as such)."""
        limit = None if everything else LATEST_REFLECTIONS
        with self.coach.db.atomic():  # the two audit rows in one commit
            listed = self.coach.reflections(coach, link_id, limit)
            trend = self.coach.trend(coach, link_id)
        if listed is None or trend is None:
            return None
        manager, shown = listed
        _, moods, marked, start, end = trend
        texts, zone = self.texts(coach), self._zone(coach)
        name = _name(manager)
        days = [card.day for card in marked]
        label = texts(
            "mood_chart_label",
            name=name,
            start=texts.day(start),
            end=texts.day(end),
            count=len(moods),
            reflections=len(set(days)),
        )
        link = self.coach.link_of(manager)
        by_day = dict(moods)
        chart_rows = [
            (texts.day(day), str(by_day.get(day, "")), day in days)
            for day in sorted(set(by_day) | set(days))
        ]
        now = to_stored(self.coach.clock())
        completed = web_store.completion_times(self.coach.db, manager.id, now)
        commitments, older = self._commitments(manager, now, texts, everything)
        return ManagerPage(
            name,
            [self._reflection_row(card, completed, texts, zone) for card in shown],
            len(completed) - len(shown),
            link is not None and link.include_checkins,
            mood_chart(moods, days, start, end, label, texts.reflection_day),
            chart_rows,
            commitments,
            older,
        )

    def _commitments(
        self, manager: User, now: str, texts: Texts, everything: bool
    ) -> tuple[list[CommitmentRow], int]:
        """The manager's commitments a coach may see: the open ones, then the latest closed ones
        (all with `everything`); and how many closed ones are left out."""
        ui, lang = self.services.conversation.playbook.ui, texts.lang
        limit = None if everything else LATEST_CLOSED_COMMITMENTS
        found, closed = web_store.visible_commitments(self.coach.db, manager.id, now, limit)
        rows = [
            CommitmentRow(
                status_label(ui, c.status, lang),
                c.status in OPEN_COMMITMENT,
                c.text,
                texts.day(date.fromisoformat(c.due_date)) if c.due_date else c.when_text or "",
            )
            for c in found
        ]
        return rows, closed - sum(1 for c in found if c.status not in OPEN_COMMITMENT)

    def reflection(self, coach: User, session_id: int) -> ReflectionPage | None:
        """A shared reflection this coach may read (the /read read, audited as such)."""
        with self.coach.db.atomic():  # the audit row and the replies read, in one commit
            transcript = self.coach.read(coach, session_id)
            if transcript is None:
                return None
            now = to_stored(self.coach.clock())
            web_store.mark_replies_read(self.coach.db, coach.id, session_id, now)
        texts, zone = self.texts(coach), self._zone(coach)
        manager_name = _name(transcript.manager)
        replies = [
            ReplyRow(
                message.author == "manager",
                manager_name if message.author == "manager" else _name(coach),
                texts.moment(_local(message.created_at, zone)),
                message.text,
            )
            for message in web_store.coach_thread(self.coach.db, coach.id, session_id)
        ]
        session = self.services.conversation.session(session_id)
        summary = json.loads(session.summary or "{}")
        link = self.coach.link_of(transcript.manager)
        return ReflectionPage(
            session_id,
            link.id if link is not None else None,
            manager_name,
            texts.day(self._day(transcript.card, zone)),
            transcript.card.client,
            str(summary.get("title", "")),
            [str(line) for line in summary.get("lines", [])],
            transcript.sections,
            transcript.notes,
            replies,
        )

    def _reflection_row(
        self, card: ReflectionCard, completed: dict[int, str], texts: Texts, zone: str
    ) -> ReflectionRow:
        when = completed.get(card.session_id)
        day = _local(when, zone).date() if when else self._day(card, zone)
        return ReflectionRow(
            card.session_id,
            texts.day(day),
            card.client,
            _before_after(card.guilt),
            _before_after(card.worry),
        )

    def _day(self, card: ReflectionCard, zone: str) -> date:
        """The reflection's day in the coach's time zone."""
        session = self.services.conversation.session(card.session_id)
        return _local(session.completed_at or session.started_at, zone).date()

    def _zone(self, coach: User) -> str:
        return self.services.checkins.zone(coach)


def _moods(points: list[tuple[str, int]]) -> list[tuple[date, int]]:
    return [(date.fromisoformat(day), mood) for day, mood in points]


def _local(stored: str, zone: str) -> datetime:
    return datetime.fromisoformat(stored).astimezone(ZoneInfo(zone))


def _before_after(scores: tuple[int | None, int | None]) -> str:
    before, after = (str(score) if score is not None else "\N{EN DASH}" for score in scores)
    return f"{before} → {after}"


def _name(user: User) -> str:
    return user.display_name or f"#{user.id}"
