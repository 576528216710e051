"""What each page of the web view shows, gathered from the coach service.

Every read goes through CoachService, which checks the coach and the manager's active,
consented link and writes the same audit row as the chat command that shows the same data
(/managers, /reflections, /trend, /read). None means: not this coach's to see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from storage import checkins as checkin_store
from storage import web as web_store
from storage.db import to_stored
from storage.repository import User

from ..bootstrap import Services
from ..checkins.schedule import local_day
from ..coach.service import ReflectionCard, TranscriptSection
from .svg import mood_chart, sparkline
from .texts import Texts

SPARK_DAYS = 14
LATEST_REFLECTIONS = 50
"""Reflections listed on a manager's page before "show all": the page stays light."""
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


class Pages:
    """Builds each page's data for a verified coach; None when it is not theirs to see."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.coach = services.coach

    def texts(self, coach: User) -> Texts:
        """The coach's language."""
        return Texts(self.services.conversation.language(coach))

    def managers(self, coach: User) -> list[ManagerRow]:
        """Each linked manager: last activity, shared reflections, mood of the last 14 days."""
        texts, zone = self.texts(coach), self._zone(coach)
        end = local_day(self.coach.clock(), zone)
        start = end - timedelta(days=SPARK_DAYS - 1)
        rows = []
        for overview, trend in self.coach.managers(coach):
            chart, chart_text = None, texts.mood_not_shared
            if overview.include_checkins:
                moods = _moods(checkin_store.moods(self.coach.db, overview.manager_id, str(start)))
                chart_text = texts.mood_none
                if moods:
                    values = ", ".join(f"{texts.day(day)} {mood}" for day, mood in moods)
                    chart_text = texts("sparkline_label", values=values)
                    chart = sparkline(moods, start, end, chart_text)
            rows.append(
                ManagerRow(
                    overview.link_id,
                    overview.name or f"#{overview.manager_id}",
                    texts.moment(_local(overview.last_seen_at, zone)),
                    overview.reflections,
                    overview.include_checkins,
                    trend,
                    chart,
                    chart_text,
                )
            )
        return rows

    def manager(self, coach: User, link_id: int, everything: bool = False) -> ManagerPage | None:
        """A linked manager's shared reflections (the latest 50 unless `everything`) and mood
        chart (the /reflections and /trend reads, audited as such)."""
        listed = self.coach.reflections(coach, link_id)
        trend = self.coach.trend(coach, link_id)
        if listed is None or trend is None:
            return None
        manager, cards = listed
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
        shown = cards if everything else cards[:LATEST_REFLECTIONS]
        completed = web_store.completion_times(
            self.coach.db, manager.id, to_stored(self.coach.clock())
        )
        return ManagerPage(
            name,
            [self._reflection_row(card, completed, texts, zone) for card in shown],
            len(cards) - len(shown),
            link is not None and link.include_checkins,
            mood_chart(moods, days, start, end, label, texts.reflection_day),
            chart_rows,
        )

    def reflection(self, coach: User, session_id: int) -> ReflectionPage | None:
        """A shared reflection this coach may read (the /read read, audited as such)."""
        transcript = self.coach.read(coach, session_id)
        if transcript is None:
            return None
        texts, zone = self.texts(coach), self._zone(coach)
        session = self.services.conversation.session(session_id)
        summary = json.loads(session.summary or "{}")
        link = self.coach.link_of(transcript.manager)
        return ReflectionPage(
            session_id,
            link.id if link is not None else None,
            _name(transcript.manager),
            texts.day(self._day(transcript.card, zone)),
            transcript.card.client,
            str(summary.get("title", "")),
            [str(line) for line in summary.get("lines", [])],
            transcript.sections,
            transcript.notes,
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
