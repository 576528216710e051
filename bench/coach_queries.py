"""Coach queries on a large database: 10,000 managers, 1,000,000 answers.

Usage:
    python bench/coach_queries.py [--managers 10000] [--answers 1000000] [--keep PATH]

The database is generated through the storage API (users, sessions, answers written with
`record_step`, links, sharing), from one reflection walked by the real engine on the real
playbook. Then the median time of what /managers, /reflections and /read run (the service
calls, audit writes included) is printed, with a baseline measured in the same run: a primary
key lookup of one user. Goal: each under 20 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build_services  # noqa: E402
from bot.flows.engine import advance, start  # noqa: E402
from bot.flows.state import Answer, Pick, Recorded  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from storage import coach as coach_store  # noqa: E402
from storage import repository  # noqa: E402
from storage.db import open_database, to_stored  # noqa: E402
from storage.repository import NewAnswer  # noqa: E402

MANAGERS_PER_COACH = 100
PLAYBOOK = ROOT / "content" / "playbook.yaml"


def template_reflection(services) -> tuple[list[Recorded], str, str, str]:
    """One whole reflection by the engine: its answers, final state, outputs and summary."""
    playbook = services.conversation.playbook
    flow = playbook.flows["lost_client"]
    state, outputs = start(playbook, "lost_client", "fr")
    recorded: list[Recorded] = []
    while not state.done:
        step = flow.step_by_id[state.step]
        if step.type == "multi_choice":
            event = Answer("1, 2")
        elif step.type in ("choice", "yes_no", "scale"):
            question = [o for o in outputs if hasattr(o, "options")][-1]
            event = Pick(question.options[len(question.options) // 2].id)
        elif step.type == "number":
            event = Answer("4")
        else:
            event = Answer("Une réponse réfléchie, de la longueur d'une phrase ou deux.")
        state, outputs = advance(playbook, state, event)
        recorded += [o for o in outputs if isinstance(o, Recorded)]
    done = outputs[-1]
    summary = json.dumps({"title": done.title, "lines": list(done.lines)}, ensure_ascii=False)
    return recorded, state.model_dump_json(), json.dumps(dict(done.outputs)), summary


def generate(path: Path, managers: int, answers: int) -> None:
    """Fill the database through the storage API."""
    settings = load_settings(db_path=path, playbook_path=PLAYBOOK, durable_writes=False)
    db = open_database(path, durable=False)
    services = build_services(settings, db)
    recorded, state, outputs, summary = template_reflection(services)
    version = services.conversation.playbook.version
    reflections_per_manager = max(1, round(answers / managers / len(recorded)))
    now = datetime(2026, 11, 26, tzinfo=UTC)
    coaches = [
        repository.get_or_create_user(db, f"telegram:{n}", f"Coach {n}", "fr", now=to_stored(now))
        for n in range(1, managers // MANAGERS_PER_COACH + 2)
    ]
    written = 0
    for n in tqdm(range(managers), desc="managers", unit="mgr"):
        with db.atomic():
            manager = repository.get_or_create_user(
                db, f"telegram:{10_000 + n}", f"M{n}", "fr", now=to_stored(now)
            )
            coach = coaches[n // MANAGERS_PER_COACH]
            coach_store.create_link(db, coach.id, manager.id, n % 2 == 0, to_stored(now))
            for r in range(reflections_per_manager):
                if written >= answers:
                    break
                day = to_stored(now - timedelta(days=7 * r + n % 7))
                row = repository.create_session(db, manager.id, "lost_client", version, state, day)
                for index, answer in enumerate(recorded):
                    repository.record_step(
                        db,
                        row.id,
                        state,
                        answer=NewAnswer(
                            answer.step,
                            answer.section,
                            "answer",
                            answer.raw,
                            json.dumps(answer.value, ensure_ascii=False),
                            f"bench:{row.id}:{index}",
                        ),
                        completed=index == len(recorded) - 1,
                        outputs=outputs,
                        summary=summary,
                        now=day,
                    )
                    written += 1
                coach_store.share_if_not_private(db, row.id, day)
    db.close()
    print(f"generated {managers:,} managers, {written:,} answers, {len(coaches)} coaches")


def median_ms(action, repeat: int = 50) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings) * 1000


def measure(path: Path) -> dict[str, float]:
    settings = load_settings(db_path=path, playbook_path=PLAYBOOK, coach_ids="1,2,3")
    db = open_database(path)
    services = build_services(settings, db)
    coach = services.conversation.user("telegram:1")
    links = [link.link_id for link in coach_store.managers_overview(db, coach.id, "9999")]
    sessions = [
        s.id
        for link in links[:20]
        for s in coach_store.shared_reflections(
            db, coach_store.coach_link(db, coach.id, link).manager_id, "9999"
        )
    ]
    chooser = random.Random(7)
    figures = {
        "baseline: one user by primary key": median_ms(lambda: repository.get_user(db, coach.id)),
        f"/managers ({len(links)} managers)": median_ms(lambda: services.coach.managers(coach)),
        "/reflections": median_ms(lambda: services.coach.reflections(coach, chooser.choice(links))),
        "/read": median_ms(lambda: services.coach.read(coach, chooser.choice(sessions))),
    }
    db.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="reuse (or keep) the generated database here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "coach.db"
        if not path.exists():
            generate(path, args.managers, args.answers)
        figures = measure(path)
    baseline = next(iter(figures.values()))
    for name, ms in figures.items():
        ratio = "" if name.startswith("baseline") else f" ({ms / baseline:.0f}x baseline)"
        goal = "" if name.startswith("baseline") else " (goal < 20 ms)"
        print(f"{name}: median {ms:.2f} ms{ratio}{goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
