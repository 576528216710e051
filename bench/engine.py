"""Engine benchmark: median time of one `advance`, and of loading + validating the playbook.

Usage:
    python bench/engine.py [--rounds N]

Goals: advance under 50 microseconds, load + validate under 100 ms. The machine is shared and
noisy, so every figure is a median over rounds, and each comes with a baseline measured in the
same run (PyYAML's bare parse of the same file; pydantic parsing one stored state).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.flows.engine import advance, start  # noqa: E402
from bot.flows.loader import load_playbook  # noqa: E402
from bot.flows.model import (  # noqa: E402
    ChoiceStep,
    MultiChoiceStep,
    NumberStep,
    Playbook,
    ScaleStep,
    YesNoStep,
)
from bot.flows.state import Answer, Event, Pick, SessionState  # noqa: E402
from bot.flows.validate import REQUIRED_FLOWS  # noqa: E402

PLAYBOOK_PATH = ROOT / "content" / "playbook.yaml"


def median_seconds(action, repeat: int) -> float:
    """Median wall time of one call of `action`, over `repeat` timed calls."""
    timings = []
    for _ in range(repeat):
        begin = time.perf_counter()
        action()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings)


def reflection_events(playbook: Playbook) -> list[tuple[SessionState, Event]]:
    """Every (state, event) of one whole reflection, as a manager would answer it."""
    flow = playbook.flows["lost_client"]
    state, _ = start(playbook, "lost_client", "fr")
    pairs: list[tuple[SessionState, Event]] = []
    while not state.done:
        step = flow.step_by_id[state.step]
        if isinstance(step, ChoiceStep):
            event: Event = Pick(step.options[-1].id)
        elif isinstance(step, MultiChoiceStep):
            event = Answer("1, 2")
        elif isinstance(step, ScaleStep):
            event = Pick("8")
        elif isinstance(step, YesNoStep):
            event = Pick("yes")
        elif isinstance(step, NumberStep):
            event = Answer("12")
        else:
            event = Answer("Un client historique, parti pour des raisons budgétaires.")
        pairs.append((state, event))
        state, _ = advance(playbook, state, event)
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000, help="timed calls per event")
    args = parser.parse_args()

    text = PLAYBOOK_PATH.read_text(encoding="utf-8")
    load = median_seconds(lambda: load_playbook(PLAYBOOK_PATH, REQUIRED_FLOWS), 30)
    bare_yaml = median_seconds(lambda: yaml.safe_load(text), 30)

    playbook = load_playbook(PLAYBOOK_PATH, REQUIRED_FLOWS)
    pairs = reflection_events(playbook)
    per_event = [
        median_seconds(lambda s=state, e=event: advance(playbook, s, e), args.rounds)
        for state, event in pairs
    ]
    stored = pairs[len(pairs) // 2][0].model_dump_json()
    parse_state = median_seconds(lambda: SessionState.model_validate_json(stored), args.rounds)
    advance_median = statistics.median(per_event)
    typed = [event.text for _, event in pairs if isinstance(event, Answer)]
    matcher = playbook.safety.matcher
    safety_check = statistics.median(
        median_seconds(lambda t=text: matcher.matches(t), args.rounds) for text in typed
    )

    print(f"playbook: {PLAYBOOK_PATH.relative_to(ROOT)} ({len(text):,} chars)")
    print(
        f"load + validate: median {load * 1000:.1f} ms (goal < 100 ms); "
        f"bare yaml.safe_load: {bare_yaml * 1000:.1f} ms; ratio {load / bare_yaml:.2f}x"
    )
    print(
        f"advance: median {advance_median * 1e6:.1f} us over {len(pairs)} events of a whole "
        f"reflection (slowest event {max(per_event) * 1e6:.1f} us) (goal < 50 us); "
        f"baseline parse of one stored state: {parse_state * 1e6:.1f} us; "
        f"ratio {advance_median / parse_state:.2f}x"
    )
    print(
        f"safety net: median {safety_check * 1e6:.1f} us per typed answer ({len(typed)} of the "
        f"events), {safety_check / advance_median:.0%} of the median advance"
    )
    ok = load < 0.1 and advance_median < 50e-6
    print("goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
