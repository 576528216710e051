"""Mood charts as inline SVG for the web view: no script, no request, a text label, and
reflection days told apart by a dashed line and a legend, not by colour alone.

The same day means and date ticks as the PNG charts the bot sends (bot/charts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache

from markupsafe import Markup, escape

from ..charts import MOOD_COLOUR, MOOD_RANGE, daily_means, date_ticks

REFLECTION_COLOUR = "#8A4B00"  # the PNG chart's orange, darkened to 3:1 on white (WCAG 1.4.11)
AXIS_COLOUR = "#4A4A4A"
GRID_COLOUR = "#D9D9D9"

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 34, 30
SPARK_WIDTH, SPARK_HEIGHT = 140, 36


def mood_chart(
    moods: list[tuple[date, int]],
    reflection_days: list[date],
    start: date,
    end: date,
    label: str,
    reflection_legend: str,
) -> Markup:
    """SVG: the daily mean mood from start to end (a line broken on missing days, a dot per
    day), each reflection day a dashed vertical line; `label` names it for screen readers."""
    span = max((end - start).days, 1)
    low, high = MOOD_RANGE
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(offset: float) -> float:
        return LEFT + plot_w * offset / span

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for level in range(low, high + 1):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{LEFT - 8}" y="{y(level) + 5:.1f}" text-anchor="end" '
            f'fill="{AXIS_COLOUR}" font-size="14">{level}</text>'
        )
    ticks, names = date_ticks(start, end)
    for offset, name in zip(ticks, names, strict=True):
        parts.append(
            f'<text x="{x(offset):.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
            f'fill="{AXIS_COLOUR}" font-size="13">{escape(name)}</text>'
        )
    marked = sorted({(day - start).days for day in reflection_days if start <= day <= end})
    for offset in marked:
        parts.append(
            f'<line x1="{x(offset):.1f}" x2="{x(offset):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
            f'stroke="{REFLECTION_COLOUR}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
    if marked:
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + 28}" y1="14" y2="14" stroke="{REFLECTION_COLOUR}" '
            f'stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{LEFT + 36}" y="19" fill="{AXIS_COLOUR}" font-size="14">'
            f"{escape(reflection_legend)}</text>"
        )
    means = daily_means(moods, start, end)
    parts += _line(means, lambda o: f"{x(o):.1f}", lambda v: f"{y(v):.1f}", width=2.5, radius=4)
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(moods: list[tuple[date, int]], start: date, end: date, label: str) -> Markup:
    """A small SVG of the daily mean mood from start to end, for the managers' table."""
    span = max((end - start).days, 1)
    parts = [
        f'<svg class="spark" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" width="{SPARK_WIDTH}" '
        f'height="{SPARK_HEIGHT}" role="img" aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="0" x2="{SPARK_WIDTH}" y1="{_spark_y(3)}" y2="{_spark_y(3)}" '
        f'stroke="{GRID_COLOUR}"/>',
    ]
    xs = _spark_xs(span)
    parts += _line(daily_means(moods, start, end), xs.__getitem__, _spark_y, width=2, radius=2.5)
    parts.append("</svg>")
    return Markup("".join(parts))


@lru_cache(maxsize=16)
def _spark_xs(span: int) -> tuple[str, ...]:
    """Each day's x in a sparkline of `span` days, written: the same few on every row."""
    return tuple(f"{3 + (SPARK_WIDTH - 6) * offset / span:.1f}" for offset in range(span + 1))


@lru_cache(maxsize=256)
def _spark_y(value: float) -> str:
    """A mood's y in a sparkline, written (a mean of one check-in a day: a whole mood)."""
    low, high = MOOD_RANGE
    return f"{3 + (SPARK_HEIGHT - 6) * (high - value) / (high - low):.1f}"


def _line(
    means: dict[int, float],
    x: Callable[[int], str],
    y: Callable[[float], str],
    width: float,
    radius: float,
) -> list[str]:
    """Polylines through consecutive days (broken where a day has no value), a dot per day;
    `x` and `y` write a day's and a mood's coordinate.

    Each point's coordinates are written once, for its line and its dot: the managers page
    draws 50 of these per request, and formatting floats was most of their cost."""
    points = [(offset, x(offset), y(value)) for offset, value in sorted(means.items())]
    parts: list[str] = []
    run: list[str] = []
    previous = None
    for offset, cx, cy in points:
        if previous is not None and offset != previous + 1:
            parts += _polyline(run, width)
            run = []
        run.append(f"{cx},{cy}")
        previous = offset
    parts += _polyline(run, width)
    parts += [
        f'<circle cx="{cx}" cy="{cy}" r="{radius}" fill="{MOOD_COLOUR}"/>' for _, cx, cy in points
    ]
    return parts


def _polyline(run: list[str], width: float) -> list[str]:
    """A line through a run of consecutive days: none for a lone day (its dot is enough)."""
    if len(run) < 2:
        return []
    return [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{MOOD_COLOUR}" '
        f'stroke-width="{width}"/>'
    ]
