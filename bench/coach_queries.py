"""Coach queries on a large database: 10,000 managers, 1,000,000 answers.

Usage:
    python bench/coach_queries.py [--managers 10000] [--answers 1000000] [--keep PATH]

The database is generated through the storage API (users and links one by one; sessions,
answers, check-in days and commitments by storage/bulk.py's `executemany` loaders), from one
reflection and five check-ins (moods 1 to 5) walked by the real engine on the real playbook.
Then the median time of what /managers, /reflections and /read run (the service
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
from storage import bulk, repository  # noqa: E402
from storage import coach as coach_store  # noqa: E402
from storage import journey as journey_store  # noqa: E402
from storage.bulk import CheckinDay, FinishedSession, NewCommitment  # noqa: E402
from storage.db import open_database, to_stored  # noqa: E402
from storage.repository import NewAnswer  # noqa: E402

MANAGERS_PER_COACH = 100
PLAYBOOK = ROOT / "content" / "playbook.yaml"


def walk(playbook, flow_id: str, pick: dict[str, str] | None = None):
    """One whole session of `flow_id` by the engine (`pick`: the option or value to give a
    step, by step id): its answers, final state, outputs and summary."""
    flow = playbook.flows[flow_id]
    state, outputs = start(playbook, flow_id, "fr")
    recorded: list[Recorded] = []
    while not state.done:
        step = flow.step_by_id[state.step]
        if step.id in (pick or {}):
            wanted = (pick or {})[step.id]
            question = [o for o in outputs if hasattr(o, "options")][-1]
            event = Pick(next(o.id for o in question.options if o.id == wanted))
        elif step.type == "multi_choice":
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
    summary = None
    if hasattr(done, "lines"):
        summary = json.dumps({"title": done.title, "lines": list(done.lines)}, ensure_ascii=False)
    kept = json.dumps(dict(getattr(done, "outputs", {}) or {}))
    return recorded, state.model_dump_json(), kept, summary


def template_reflection(services) -> tuple[list[Recorded], str, str, str | None]:
    """One whole reflection by the engine: its answers, final state, outputs and summary."""
    return walk(services.conversation.playbook, "lost_client")


def new_answers(recorded: list[Recorded], key: str) -> list[NewAnswer]:
    return [
        NewAnswer(
            answer.step,
            answer.section,
            "answer",
            answer.raw,
            json.dumps(answer.value, ensure_ascii=False),
            f"bench:{key}:{index}",
        )
        for index, answer in enumerate(recorded)
    ]


def generate(path: Path, managers: int, answers: int, checkin_days: int = 90) -> None:
    """Fill the database through the storage API's bulk loaders (storage/bulk.py): linked
    managers, shared reflections walked by the real engine, their commitments (the latest
    reflection's still open), two unread replies to the coach about the latest one, and, for
    the managers who share them, `checkin_days` daily check-ins with a mood. Reflections fill
    what `answers` leaves after the check-ins."""
    began = time.perf_counter()
    settings = load_settings(db_path=path, playbook_path=PLAYBOOK, durable_writes=False)
    db = open_database(path, durable=False)
    services = build_services(settings, db)
    playbook = services.conversation.playbook
    recorded, state, outputs, summary = template_reflection(services)
    moods = {
        mood: walk(playbook, "daily_checkin", {"mood": str(mood), "commitment_progress": "done"})
        for mood in range(1, 6)
    }
    version = playbook.version
    now = datetime(2026, 11, 26, 8, tzinfo=UTC)
    sharing = [n for n in range(managers) if n % 2 == 0]
    checkin_answers = len(sharing) * checkin_days * len(moods[3][0])
    per_manager = max(1, round(max(0, answers - checkin_answers) / managers / len(recorded)))
    coaches = [
        repository.get_or_create_user(db, f"telegram:{n}", f"Coach {n}", "fr", now=to_stored(now))
        for n in range(1, managers // MANAGERS_PER_COACH + 2)
    ]
    written = 0
    for n in tqdm(range(managers), desc="managers", unit="mgr"):
        manager = repository.get_or_create_user(
            db, f"telegram:{10_000 + n}", f"M{n}", "fr", now=to_stored(now)
        )
        coach = coaches[n // MANAGERS_PER_COACH]
        coach_store.create_link(db, coach.id, manager.id, n in sharing, to_stored(now))
        days = [to_stored(now - timedelta(days=7 * r + n % 7, hours=1)) for r in range(per_manager)]
        reflections = [
            FinishedSession(
                manager.id,
                "lost_client",
                version,
                state,
                outputs,
                summary,
                day,
                day,
                new_answers(recorded, f"{manager.id}:{r}"),
                shared_at=day,
            )
            for r, day in enumerate(days)
        ]
        ids = bulk.add_finished_sessions(db, reflections)
        written += len(ids) * len(recorded)
        bulk.add_commitments(
            db,
            [
                NewCommitment(
                    manager.id,
                    session_id,
                    kind,
                    f"{kind} {session_id}",
                    "lundi",
                    (now + timedelta(days=3)).date().isoformat(),
                    "open" if r == 0 else "done",
                    day,
                )
                for r, (session_id, day) in enumerate(zip(ids, days, strict=True))
                for kind in ("first_step", "contact", "team_talk")
            ],
        )
        for words in ("Merci pour votre retour.", "J'ai appelé le client hier."):
            journey_store.add_thread_message(
                db, ids[0], manager.id, coach.id, "manager", words, days[0]
            )
        if n not in sharing:
            continue
        local = [(now - timedelta(days=d)) for d in range(checkin_days)]
        picked = [moods[1 + (n + d) % 5] for d in range(checkin_days)]
        sessions = bulk.add_finished_sessions(
            db,
            [
                FinishedSession(
                    manager.id,
                    "daily_checkin",
                    version,
                    walked[1],
                    walked[2],
                    None,
                    to_stored(moment),
                    to_stored(moment),
                    new_answers(walked[0], f"{manager.id}:c{d}"),
                )
                for d, (moment, walked) in enumerate(zip(local, picked, strict=True))
            ],
        )
        bulk.add_checkin_days(
            db,
            [
                CheckinDay(manager.id, moment.date().isoformat(), session_id, to_stored(moment))
                for moment, session_id in zip(local, sessions, strict=True)
            ],
        )
        written += sum(len(walked[0]) for walked in picked)
    db.close()
    took = time.perf_counter() - began
    print(
        f"generated {managers:,} managers, {written:,} answers, {len(coaches)} coaches "
        f"in {took:.0f} s"
    )


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
            generate(path, args.managers, args.answers, checkin_days=0)
        figures = measure(path)
    baseline = next(iter(figures.values()))
    for name, ms in figures.items():
        ratio = "" if name.startswith("baseline") else f" ({ms / baseline:.0f}x baseline)"
        goal = "" if name.startswith("baseline") else " (goal < 20 ms)"
        print(f"{name}: median {ms:.2f} ms{ratio}{goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
