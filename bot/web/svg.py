"""Mood charts as inline SVG for the web view: no script, no request, a text label, and
reflection days told apart by a dashed line and a legend, not by colour alone.

The same day means and date ticks as the PNG charts the bot sends (bot/charts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

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
    parts += _line(means, x, y, width=2.5, radius=4)
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(moods: list[tuple[date, int]], start: date, end: date, label: str) -> Markup:
    """A small SVG of the daily mean mood from start to end, for the managers' table."""
    span = max((end - start).days, 1)
    low, high = MOOD_RANGE

    def x(offset: float) -> float:
        return 3 + (SPARK_WIDTH - 6) * offset / span

    def y(value: float) -> float:
        return 3 + (SPARK_HEIGHT - 6) * (high - value) / (high - low)

    parts = [
        f'<svg class="spark" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" width="{SPARK_WIDTH}" '
        f'height="{SPARK_HEIGHT}" role="img" aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="0" x2="{SPARK_WIDTH}" y1="{y(3):.1f}" y2="{y(3):.1f}" stroke="{GRID_COLOUR}"/>',
    ]
    parts += _line(daily_means(moods, start, end), x, y, width=2, radius=2.5)
    parts.append("</svg>")
    return Markup("".join(parts))


def _line(
    means: dict[int, float],
    x: Callable[[float], float],
    y: Callable[[float], float],
    width: float,
    radius: float,
) -> list[str]:
    """Polylines through consecutive days (broken where a day has no value), a dot per day.

    Each point's coordinates are written once, for its line and its dot: the managers page
    draws 50 of these per request, and formatting floats was most of their cost."""
    points = [
        (offset, f"{x(offset):.1f}", f"{y(value):.1f}") for offset, value in sorted(means.items())
    ]
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
