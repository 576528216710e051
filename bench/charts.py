"""Chart benchmark: median time of a mood chart and of a trend chart, against a bare figure.

Usage:
    python bench/charts.py [--rounds N]

Goal: a chart well under a second (about 0.1 s mood, 0.25 s trend on a quiet machine). The
figures come with a baseline measured in the same run (matplotlib saving an empty figure of
the same size as PNG), so a shared, noisy machine still gives comparable ratios. This replaces
a wall-clock assertion that used to live in tests/test_charts.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from tests.test_charts import render_mood, render_trend  # noqa: E402


def bare_figure() -> bytes:
    """The baseline: an empty figure of a chart's size, saved as PNG."""
    out = BytesIO()
    Figure(figsize=(8, 4.5), dpi=120).savefig(out, format="png")
    return out.getvalue()


def median_seconds(action: Callable[[], bytes], rounds: int) -> float:
    """Median wall time of `action` over `rounds` runs, after one warm-up run."""
    action()
    timings = []
    for _ in range(rounds):
        begin = time.perf_counter()
        action()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings)


def main() -> None:
    """Print each chart's median time and its ratio to the bare figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    baseline = median_seconds(bare_figure, rounds)
    print(f"bare figure (baseline): {baseline * 1000:.0f} ms (median of {rounds})")
    for name, render in (("mood", render_mood), ("trend", render_trend)):
        seconds = median_seconds(render, rounds)
        print(f"{name} chart: {seconds * 1000:.0f} ms = {seconds / baseline:.1f}x the baseline")


if __name__ == "__main__":
    main()
