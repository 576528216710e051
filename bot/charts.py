"""Mood and reflection charts as PNG bytes, drawn off-screen for Telegram photos."""

from __future__ import annotations

import textwrap
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from io import BytesIO
from statistics import fmean
from typing import TYPE_CHECKING

from .formatting import short_day

if TYPE_CHECKING:
    # Only for type hints: importing matplotlib costs ~0.4 s, paid at the first chart instead
    # of at bot start-up.
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

DPI = 100
MOOD_SIZE = (10.0, 6.0)  # inches at DPI: 1000x600 px
TREND_SIZE = (10.0, 9.0)  # 1000x900 px
MOOD_RANGE = (1, 5)
SCORE_RANGE = (0, 10)
MAX_REFLECTIONS = 12
CROWDED = 8  # reflections beyond which bar values are written smaller
BAR_WIDTH = 0.2  # four bars per reflection, a gap between reflections
LABEL_ROOM = 84  # characters of reflection labels that fit across the score panel
MAX_DATE_TICKS = 8
DENSE_SPAN = 62  # days beyond which the mood line is drawn finer
TICK_STEPS = (1, 2, 3, 5, 7, 10, 14, 15, 21, 30, 45, 61, 91, 122, 183, 365)

HATCH = "//"  # before-scores; denser hatching costs up to 30 KB of PNG

# Okabe-Ito colours: told apart with every common colour-vision deficiency.
MOOD_COLOUR = "#0072B2"
REFLECTION_COLOUR = "#E69F00"
GUILT_COLOUR = "#D55E00"
WORRY_COLOUR = "#0072B2"
MUTED = "#444444"

# Telegram shows a 1000 px photo about 400 pt wide on a phone: sizes are above the defaults.
TITLE_SIZE = 20
LABEL_SIZE = 15
TICK_SIZE = 13
VALUE_SIZE = 11
TITLE_WIDTH = 60  # characters per title line at TITLE_SIZE across the figure
NO_DATA_WIDTH = 50

# Matplotlib promises no thread safety (shared font and text caches); a render takes 0.1 to
# 0.25 s, so serialising them costs little and the GIL would serialise most of it anyway.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class ChartTexts:
    """Every word a chart shows, in the reader's language."""

    title: str
    mood_axis: str  # e.g. "Humeur (1-5)" / "Mood (1-5)"
    reflection_marker: str  # legend label for reflection days, e.g. "Réflexion" / "Reflection"
    guilt: str  # e.g. "Culpabilité" / "Guilt"
    worry: str  # e.g. "Inquiétude" / "Worry"
    before: str  # "avant" / "before"
    after: str  # "après" / "after"
    no_data: str  # shown in the middle of an empty chart, e.g. "Pas encore de point du jour"
    lang: str = "fr"  # how days are written on the axes (Babel): "27/11"


@dataclass(frozen=True)
class ReflectionScores:
    """One finished reflection's scores, for the before -> after panel."""

    day: date
    label: str  # e.g. the client's alias, already short; may contain any unicode
    guilt_before: int | None
    guilt_after: int | None
    worry_before: int | None
    worry_after: int | None


def mood_chart(
    moods: list[tuple[date, int]],
    reflection_days: list[date],
    texts: ChartTexts,
    start: date,
    end: date,
) -> bytes:
    """PNG: mood per day between start and end (inclusive), reflection days marked."""
    start, end = _span(start, end)
    with _RENDER_LOCK:
        fig = _figure(MOOD_SIZE)
        try:
            # A figure title, not an axes one, so the legend above the axes sits below it.
            _title(fig, texts.title)
            ax = fig.add_subplot()
            _draw_moods(ax, moods, reflection_days, texts, start, end)
            return _png(fig)
        finally:
            fig.clear()


def trend_chart(
    moods: list[tuple[date, int]],
    reflections: list[ReflectionScores],
    texts: ChartTexts,
    start: date,
    end: date,
) -> bytes:
    """PNG: the mood line on top, each reflection's before -> after scores below."""
    start, end = _span(start, end)
    shown = _recent_reflections(reflections, start, end)
    with _RENDER_LOCK:
        fig = _figure(TREND_SIZE)
        try:
            _title(fig, texts.title)
            mood_ax, score_ax = fig.subplots(2, 1, height_ratios=[1.0, 1.2])
            _draw_moods(mood_ax, moods, [r.day for r in shown], texts, start, end)
            _draw_scores(score_ax, shown, texts)
            return _png(fig)
        finally:
            fig.clear()


FEELINGS_SIZE = (10.0, 6.0)  # 1000x600 px


def feelings_chart(points: Sequence[tuple[str, int]], title: str, axis: str) -> bytes:
    """PNG: how many people chose each point of a scale, one labelled bar per point.

    `points` are (label under the bar, e.g. "1\nvery worried", count), lowest point first.
    """
    with _RENDER_LOCK:
        fig = _figure(FEELINGS_SIZE)
        try:
            _title(fig, title)
            ax = fig.add_subplot()
            counts = [count for _, count in points]
            for x, count in enumerate(counts):
                (bar,) = ax.bar([x], [count], width=0.6)
                _bar_style(bar, MOOD_COLOUR, hatched=False)
                ax.text(
                    x,
                    count + 0.05,
                    str(count),
                    ha="center",
                    va="bottom",
                    fontsize=LABEL_SIZE,
                    color=MUTED,
                    in_layout=False,
                )
            top = max(counts, default=0)
            ax.set_ylim(0, top + 1)
            ax.set_yticks(range(0, top + 2, max(1, (top + 1) // 6)))
            ax.set_ylabel(_clean(axis), fontsize=LABEL_SIZE, parse_math=False)
            labels = [_wrap(label, 16) for label, _ in points]
            ax.set_xticks(range(len(points)), labels, parse_math=False)
            _style(ax)
            return _png(fig)
        finally:
            fig.clear()


def _span(start: date, end: date) -> tuple[date, date]:
    """The span as plain dates in order, whichever way round it was given."""
    first, last = _day(start), _day(end)
    return min(first, last), max(first, last)


def _day(value: date) -> date:
    """The calendar day of a date or datetime, which type-checks as a date but won't compare."""
    return value.date() if isinstance(value, datetime) else value


def _figure(size: tuple[float, float]) -> Figure:
    """A fresh figure on its own Agg canvas: no pyplot, no global backend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI, layout="constrained", facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _title(fig: Figure, title: str) -> None:
    """The caller's title above everything, wrapped if too long for the width."""
    fig.suptitle(_wrap(title, TITLE_WIDTH), fontsize=TITLE_SIZE, parse_math=False)


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes, without the version stamp so equal inputs give equal bytes."""
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _draw_moods(
    ax: Axes,
    moods: list[tuple[date, int]],
    reflection_days: list[date],
    texts: ChartTexts,
    start: date,
    end: date,
) -> None:
    """Daily mean mood as a line broken on missing days, reflection days as dashed lines."""
    # x is the day's offset from start: no date converters, and gaps are plain NaNs.
    span = (end - start).days
    means = daily_means(moods, start, end)
    values = [means.get(offset, float("nan")) for offset in range(span + 1)]
    dense = span > DENSE_SPAN  # thinner line and dots, or months of points blur together
    ax.plot(
        range(span + 1),
        values,
        color=MOOD_COLOUR,
        linewidth=2 if dense else 2.5,
        marker="o",
        markersize=4 if dense else 7,
    )
    days = sorted({(_day(d) - start).days for d in reflection_days if start <= _day(d) <= end})
    for offset in days:
        # Under the mood line (zorder 2), which stays readable where they cross.
        ax.axvline(offset, color=REFLECTION_COLOUR, linestyle="--", linewidth=2.2, zorder=1)
    if days:
        from matplotlib.lines import Line2D

        marker = Line2D([], [], color=REFLECTION_COLOUR, linestyle="--", linewidth=2.2)
        _legend(ax, [marker], [texts.reflection_marker], columns=1)
    low, high = MOOD_RANGE
    ax.set_ylim(low - 0.3, high + 0.3)
    ax.set_yticks(range(low, high + 1))
    ax.set_ylabel(_clean(texts.mood_axis), fontsize=LABEL_SIZE, parse_math=False)
    ax.set_xlim(-0.5, span + 0.5)
    ticks, labels = date_ticks(start, end, texts.lang)
    ax.set_xticks(ticks, labels)
    _style(ax)
    if not means:
        _no_data(ax, texts.no_data)


def daily_means(moods: list[tuple[date, int]], start: date, end: date) -> dict[int, float]:
    """Mean mood per day offset from start, keeping only in-range days and values."""
    low, high = MOOD_RANGE
    by_day: dict[int, list[int]] = defaultdict(list)
    for when, value in moods:
        day = _day(when)
        if start <= day <= end and low <= value <= high:
            by_day[(day - start).days].append(value)
    # One check-in a day is the rule: its mood is the mean without fmean's exact sum (the
    # managers page draws 50 of these per request).
    return {
        offset: float(values[0]) if len(values) == 1 else fmean(values)
        for offset, values in by_day.items()
    }


def date_ticks(start: date, end: date, lang: str = "fr") -> tuple[list[int], list[str]]:
    """At most MAX_DATE_TICKS evenly spaced day/month labels, with the year if it changes."""
    span = (end - start).days
    fallback = -(-span // (MAX_DATE_TICKS - 1))  # spans of years: ceil, not a nice number
    step = next((s for s in TICK_STEPS if span // s + 1 <= MAX_DATE_TICKS), fallback)
    offsets = list(range(0, span + 1, step))
    with_year = start.year != end.year
    days = [date.fromordinal(start.toordinal() + offset) for offset in offsets]
    return offsets, [short_day(day, lang, with_year) for day in days]


def _recent_reflections(
    reflections: list[ReflectionScores], start: date, end: date
) -> list[ReflectionScores]:
    """The most recent reflections within the span, oldest first."""
    inside = [r for r in reflections if start <= _day(r.day) <= end]
    return sorted(inside, key=lambda r: _day(r.day))[-MAX_REFLECTIONS:]


def _draw_scores(ax: Axes, reflections: list[ReflectionScores], texts: ChartTexts) -> None:
    """Per reflection, guilt and worry before (hatched) and after (solid), values on top."""
    # In the order of _scores: guilt before, guilt after, worry before, worry after.
    series = [
        (GUILT_COLOUR, True, f"{texts.guilt} ({texts.before})"),
        (GUILT_COLOUR, False, f"{texts.guilt} ({texts.after})"),
        (WORRY_COLOUR, True, f"{texts.worry} ({texts.before})"),
        (WORRY_COLOUR, False, f"{texts.worry} ({texts.after})"),
    ]
    low, high = SCORE_RANGE
    for index, (colour, hatched, _) in enumerate(series):
        shift = (index - 1.5) * BAR_WIDTH
        points = [
            (i + shift, score)
            for i, reflection in enumerate(reflections)
            if (score := _scores(reflection)[index]) is not None and low <= score <= high
        ]
        _bars(ax, points, colour, hatched, crowded=len(reflections) > CROWDED)
    ax.set_ylim(low, high + 1)
    ax.set_yticks(range(low, high + 1, 2))
    ax.set_xlim(-0.5, max(len(reflections), 1) - 0.5)
    room = max(6, min(16, LABEL_ROOM // max(len(reflections), 1)))
    names = [f"{_short(r.label, room)}\n{short_day(_day(r.day), texts.lang)}" for r in reflections]
    ax.set_xticks(range(len(reflections)), names, parse_math=False)
    _style(ax)
    if not reflections:
        _no_data(ax, texts.no_data)
        return
    # Stand-in patches: a series with no bar at all still gets its legend entry.
    from matplotlib.patches import Patch

    handles = [_bar_style(Patch(), colour, hatched) for colour, hatched, _ in series]
    labels = [label for _, _, label in series]
    # Four entries on one row, two rows if the caller's words would overflow the width.
    _legend(ax, handles, labels, columns=4 if sum(map(len, labels)) <= 64 else 2)


def _bars(
    ax: Axes, points: list[tuple[float, int]], colour: str, hatched: bool, crowded: bool
) -> None:
    """One series of bars, each with its value written on top (so a 0 still shows)."""
    for x, score in points:
        (bar,) = ax.bar([x], [score], width=BAR_WIDTH)
        _bar_style(bar, colour, hatched)
        # A plain text, not bar_label: annotations cost twice as much to lay out.
        ax.text(
            x,
            score + 0.1,
            str(score),
            ha="center",
            va="bottom",
            fontsize=VALUE_SIZE - 3 if crowded else VALUE_SIZE,  # "10" as wide as its bar
            color=MUTED,
            in_layout=False,  # inside the axes: nothing for the layout engine to make room for
        )


def _bar_style(patch: Patch, colour: str, hatched: bool) -> Patch:
    """Before scores hatched on white, after scores solid: told apart even in grey."""
    patch.set(
        facecolor="white" if hatched else colour,
        edgecolor=colour,
        hatch=HATCH if hatched else None,
        linewidth=1.5,
    )
    return patch


def _scores(reflection: ReflectionScores) -> tuple[int | None, ...]:
    """The four scores in drawing order."""
    r = reflection
    return (r.guilt_before, r.guilt_after, r.worry_before, r.worry_after)


def _short(label: str, room: int) -> str:
    """A reflection label on one line of at most `room` characters, so they fit side by side."""
    flat = " ".join(_clean(label).split())
    return flat if len(flat) <= room else flat[: room - 1].rstrip() + "…"


def _legend(ax: Axes, handles: Sequence[Artist], labels: list[str], columns: int) -> None:
    """A frameless legend just above the axes, its texts taken literally."""
    legend = ax.legend(
        handles,
        [_clean(label) for label in labels],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=columns,
        frameon=False,
        fontsize=TICK_SIZE,
        handlelength=2.5,
    )
    for text in legend.get_texts():
        text.set_parse_math(False)  # a "$" in the caller's words must not start mathtext


def _style(ax: Axes) -> None:
    """Large ticks, a light horizontal grid and no top/right frame, for small phone screens."""
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(axis="y", color="#DDDDDD", linewidth=1)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def _no_data(ax: Axes, text: str) -> None:
    """The caller's "no data yet" sentence in the middle of an empty panel."""
    ax.text(
        0.5,
        0.5,
        _wrap(text, NO_DATA_WIDTH),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=LABEL_SIZE + 2,
        color=MUTED,
        parse_math=False,
        bbox={"facecolor": "white", "edgecolor": "none"},  # no grid line through the words
    )


def _wrap(text: str, width: int) -> str:
    """The text cut into lines of at most `width` characters."""
    # Not matplotlib's wrap=True: it measures "$...$" as mathtext even with parse_math=False.
    lines = _clean(text).split("\n")
    return "\n".join(textwrap.fill(line, width) if line.strip() else line for line in lines)


def _clean(text: str) -> str:
    """The text without the characters (emoji...) the font would draw as warned-about boxes."""
    return "".join(_drawn(char) for char in text)


def _drawn(char: str) -> str:
    """The character if the font has it (or it breaks lines), a space for other spacing."""
    if char == "\n" or ord(char) in _drawable():
        return char
    return " " if char.isspace() else ""


@cache
def _drawable() -> frozenset[int]:
    """Code points the default font has glyphs for."""
    from matplotlib.font_manager import FontProperties, findfont, get_font

    return frozenset(get_font(findfont(FontProperties())).get_charmap())
