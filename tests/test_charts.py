"""Mood and trend charts: valid, deterministic PNGs of the promised size, whatever the input."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta
from io import BytesIO

import matplotlib
import pytest
from matplotlib.image import imread

from bot.charts import ChartTexts, ReflectionScores, mood_chart, trend_chart

from .helpers import ROOT

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 200_000

FR = ChartTexts(
    title="Mon humeur sur 30 jours",
    mood_axis="Humeur (1-5)",
    reflection_marker="Réflexion",
    guilt="Culpabilité",
    worry="Inquiétude",
    before="avant",
    after="après",
    no_data="Pas encore de point du jour",
)
END = date(2026, 3, 30)
START = END - timedelta(days=29)
LONG_START = END - timedelta(days=119)


def day(offset: int, start: date = START) -> date:
    return start + timedelta(days=offset)


# A month of check-ins with gaps (days 4 and 10-12 missing) and two on day 2.
MOODS = [(day(i), 1 + (i * 7) % 5) for i in range(30) if i not in (4, 10, 11, 12)]
MOODS.append((day(2), 5))
REFLECTION_DAYS = [day(3), day(15), day(27)]
LONG_MOODS = [(day(i, LONG_START), 1 + (i * 3) % 5) for i in range(120) if i % 9 != 4]


def reflection(
    i: int, label: str = "", scores: tuple[int | None, ...] = (8, 4, 7, 3)
) -> ReflectionScores:
    guilt_before, guilt_after, worry_before, worry_after = scores
    return ReflectionScores(
        day=day(8 * i + 2, LONG_START),
        label=label or f"Client {i}",
        guilt_before=guilt_before,
        guilt_after=guilt_after,
        worry_before=worry_before,
        worry_after=worry_after,
    )


REFLECTIONS = [reflection(i, scores=(8 - i % 3, i % 5, None if i == 2 else 6, 0)) for i in range(6)]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def assert_mood_png(data: bytes) -> None:
    assert png_size(data) == (1000, 600)
    assert len(data) < MAX_BYTES


def assert_trend_png(data: bytes) -> None:
    assert png_size(data) == (1000, 900)
    assert len(data) < MAX_BYTES


def render_mood(**changes: object) -> bytes:
    args: dict[str, object] = {
        "moods": MOODS,
        "reflection_days": REFLECTION_DAYS,
        "texts": FR,
        "start": START,
        "end": END,
    }
    return mood_chart(**{**args, **changes})  # type: ignore[arg-type]


def render_trend(**changes: object) -> bytes:
    args: dict[str, object] = {
        "moods": LONG_MOODS,
        "reflections": REFLECTIONS,
        "texts": FR,
        "start": LONG_START,
        "end": END,
    }
    return trend_chart(**{**args, **changes})  # type: ignore[arg-type]


def changed_box(a: bytes, b: bytes) -> tuple[float, float, float, float]:
    """Where two same-sized renders differ, as fractions of the width and height."""
    pixels_a, pixels_b = imread(BytesIO(a)), imread(BytesIO(b))
    rows, cols = (abs(pixels_a - pixels_b).sum(axis=2) > 0.1).nonzero()
    assert len(rows), "the renders are identical"
    height, width = pixels_a.shape[:2]
    return cols.min() / width, rows.min() / height, cols.max() / width, rows.max() / height


def test_mood_chart_is_a_small_png_of_1000_by_600():
    assert_mood_png(render_mood())


def test_trend_chart_is_a_small_png_of_1000_by_900():
    assert_trend_png(render_trend())


def test_a_year_of_noisy_moods_and_full_bars_stays_under_the_size_budget():
    # The worst case for PNG compression: a zigzag every day, every bar at its tallest.
    start = END - timedelta(days=364)
    noisy = [(day(i, start), 1 + (i * 7 + k) % 5) for i in range(365) for k in range(2)]
    full = [
        replace(reflection(i, scores=(10, 10, 10, 10)), day=END - timedelta(days=3 * i))
        for i in range(12)
    ]
    assert_mood_png(render_mood(moods=noisy, reflection_days=[r.day for r in full], start=start))
    assert_trend_png(render_trend(moods=noisy, reflections=full, start=start))


def test_the_same_input_gives_the_same_bytes():
    assert render_mood() == render_mood()
    assert render_trend() == render_trend()


def test_png_carries_no_software_version():
    assert b"matplotlib" not in render_mood().lower()


def test_an_empty_mood_chart_shows_no_data_in_the_middle():
    empty = render_mood(moods=[], reflection_days=[])
    assert_mood_png(empty)
    silent = render_mood(moods=[], reflection_days=[], texts=replace(FR, no_data=""))
    left, top, right, bottom = changed_box(empty, silent)
    assert 0.25 < left < right < 0.75
    assert 0.4 < top < bottom < 0.6


def test_an_empty_trend_chart_shows_no_data_in_both_panels():
    empty = render_trend(moods=[], reflections=[])
    assert_trend_png(empty)
    silent = render_trend(moods=[], reflections=[], texts=replace(FR, no_data=""))
    left, top, right, bottom = changed_box(empty, silent)
    # One sentence in the middle of the mood panel, one in the middle of the score panel.
    assert 0.25 < left < right < 0.75
    assert 0.15 < top < 0.35 and 0.6 < bottom < 0.85


def test_moods_without_reflections_and_reflections_without_moods_render():
    assert_trend_png(render_trend(reflections=[]))
    assert_trend_png(render_trend(moods=[]))
    assert_mood_png(render_mood(reflection_days=[]))


def test_several_moods_on_one_day_are_averaged():
    averaged = render_mood(moods=[(day(5), 2), (day(5), 4), (day(6), 1)])
    assert averaged == render_mood(moods=[(day(5), 3), (day(6), 1)])


def test_moods_out_of_range_or_out_of_the_span_are_ignored():
    noise = [(day(3), 0), (day(4), 6), (day(5), -2), (day(-1), 3), (day(30), 4), (day(400), 1)]
    outside = [day(-5), day(31)]
    assert render_mood(moods=MOODS + noise, reflection_days=REFLECTION_DAYS + outside) == (
        render_mood()
    )
    only_noise = render_mood(moods=noise, reflection_days=outside)
    assert only_noise == render_mood(moods=[], reflection_days=[])


def test_scores_out_of_range_are_not_drawn_and_none_is_fine():
    odd = [reflection(0, "A", (11, -1, 5, 3)), reflection(1, "B", (None, None, None, None))]
    plain = [reflection(0, "A", (None, None, 5, 3)), reflection(1, "B", (None, None, None, None))]
    assert render_trend(reflections=odd) == render_trend(reflections=plain)


def test_reflections_outside_the_span_are_ignored():
    outside = replace(REFLECTIONS[0], day=LONG_START - timedelta(days=1), label="Old")
    assert render_trend(reflections=[outside, *REFLECTIONS]) == render_trend()


def test_only_the_twelve_most_recent_reflections_are_shown_in_date_order():
    many = [reflection(i, scores=(i % 11, 10 - i % 11, 5, None)) for i in range(14)]
    shuffled = many[7:] + many[:7]
    rendered = render_trend(reflections=shuffled)
    assert_trend_png(rendered)
    assert rendered == render_trend(reflections=many[-12:])


def test_unicode_and_markup_in_texts_render_literally():
    labels = ["<b>Acme & Co</b>", "Ça coûte 5 $ à 6 $", "$\\frac{$", "_hidden", "Ωmega\tΣ\nline"]
    tricky = [reflection(i, label) for i, label in enumerate(labels)]
    texts = replace(FR, title="Suivi <i>&amp;</i> $x^$", guilt="_guilt", worry="$\\oops")
    assert_trend_png(render_trend(reflections=tricky, texts=texts))
    assert_mood_png(render_mood(texts=texts))


def test_characters_the_font_lacks_are_dropped_without_warning():
    with_emoji = [reflection(0, "Rocket 🚀"), reflection(1, "🙂 Zed")]
    plain = [reflection(0, "Rocket"), reflection(1, "Zed")]
    assert render_trend(reflections=with_emoji) == render_trend(reflections=plain)
    emoji_title = replace(FR, title="Mon humeur 🚀")
    assert render_mood(texts=emoji_title) == render_mood(texts=replace(FR, title="Mon humeur "))


def test_long_labels_are_shortened_alike():
    long = [reflection(i, "Une entreprise au nom vraiment très long") for i in range(12)]
    longer = [reflection(i, "Une entreprise au nom vraiment très long, et plus") for i in range(12)]
    assert render_trend(reflections=long) == render_trend(reflections=longer)


@pytest.mark.parametrize(
    ("start", "end"),
    [(END, END), (END - timedelta(days=6), END), (date(2024, 1, 1), END)],
    ids=["one day", "one week", "two years"],
)
def test_any_span_renders(start: date, end: date):
    assert_mood_png(render_mood(start=start, end=end))
    assert_trend_png(render_trend(start=start, end=end))


def test_a_reversed_span_is_read_forwards():
    assert render_mood(start=END, end=START) == render_mood()


def test_datetimes_count_as_their_day():
    def at_noon(value: date) -> datetime:
        return datetime.combine(value, datetime.min.time()).replace(hour=12)

    moods = [(at_noon(when), mood) for when, mood in MOODS]
    reflections = [replace(r, day=at_noon(r.day)) for r in REFLECTIONS]
    assert render_mood(moods=moods, start=at_noon(START), end=at_noon(END)) == render_mood()
    assert render_trend(reflections=reflections, end=at_noon(END)) == render_trend()


def test_renders_from_threads_match_renders_in_sequence():
    jobs = [
        lambda: render_mood(),
        lambda: render_trend(),
        lambda: render_mood(moods=[]),
        lambda: render_trend(reflections=REFLECTIONS[:2]),
    ]
    expected = [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: job(), jobs))
    assert results == expected
    for result in results:
        assert png_size(result)[0] == 1000


def test_rendering_leaves_matplotlib_settings_alone():
    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    render_mood()
    render_trend()
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


def test_importing_the_module_does_not_load_matplotlib_nor_pyplot():
    script = (
        "import sys, datetime, bot.charts as c\n"
        "assert 'matplotlib' not in sys.modules\n"
        "today = datetime.date(2026, 3, 1)\n"
        "t = c.ChartTexts('t', 'm', 'r', 'g', 'w', 'b', 'a', 'n')\n"
        "c.mood_chart([(today, 3)], [today], t, today, today)\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", script], cwd=ROOT, check=True)
