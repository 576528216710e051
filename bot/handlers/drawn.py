"""Charts drawn by the sender when it sends them, not inside the update's transaction.

Drawing a chart takes 0.1 to 1.5 s. Drawn by the handler, it held the database (the update's
transaction) that long, and every other chat waited. The handler now writes, in the update's
transaction as before (nothing lost: the row commits with the update's `processed` mark), an
outbox row carrying the chart's data; the sender draws it just before the call, outside any
transaction (`RENDERERS`, injected into `delivery.sender.Sender`). Nothing is re-processed:
a crash after the commit leaves a pending row, drawn at the next start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from .. import charts
from ..charts import ChartTexts, ReflectionScores
from ..delivery.outbox import drawn_field

MOOD_CHART = "mood_chart"
TREND_CHART = "trend_chart"


def mood_chart_field(
    moods: list[tuple[date, int]],
    reflection_days: list[date],
    texts: ChartTexts,
    start: date,
    end: date,
    filename: str,
) -> dict[str, Any]:
    """A /progress chart as an outbox payload value (see `charts.mood_chart`)."""
    data = {
        "moods": _moods(moods),
        "reflection_days": [day.isoformat() for day in reflection_days],
        "texts": asdict(texts),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return drawn_field(MOOD_CHART, data, filename)


def trend_chart_field(
    moods: list[tuple[date, int]],
    reflections: list[ReflectionScores],
    texts: ChartTexts,
    start: date,
    end: date,
    filename: str,
) -> dict[str, Any]:
    """A /trend chart as an outbox payload value (see `charts.trend_chart`)."""
    data = {
        "moods": _moods(moods),
        "reflections": [{**asdict(r), "day": r.day.isoformat()} for r in reflections],
        "texts": asdict(texts),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    return drawn_field(TREND_CHART, data, filename)


def _draw_mood(data: dict[str, Any]) -> bytes:
    return charts.mood_chart(
        _read_moods(data["moods"]),
        [date.fromisoformat(day) for day in data["reflection_days"]],
        ChartTexts(**data["texts"]),
        date.fromisoformat(data["start"]),
        date.fromisoformat(data["end"]),
    )


def _draw_trend(data: dict[str, Any]) -> bytes:
    reflections = [
        ReflectionScores(**{**r, "day": date.fromisoformat(r["day"])}) for r in data["reflections"]
    ]
    return charts.trend_chart(
        _read_moods(data["moods"]),
        reflections,
        ChartTexts(**data["texts"]),
        date.fromisoformat(data["start"]),
        date.fromisoformat(data["end"]),
    )


def _moods(moods: list[tuple[date, int]]) -> list[list[Any]]:
    return [[day.isoformat(), mood] for day, mood in moods]


def _read_moods(stored: list[list[Any]]) -> list[tuple[date, int]]:
    return [(date.fromisoformat(day), int(mood)) for day, mood in stored]


RENDERERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    MOOD_CHART: _draw_mood,
    TREND_CHART: _draw_trend,
}
"""How the sender draws each kind of drawn field: data -> PNG bytes (runs in a thread)."""
