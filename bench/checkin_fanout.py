"""Check-in fan-out: N users due in the same minute, against a Bot API limited to 30 msg/s.

Usage:
    python bench/checkin_fanout.py [--users 10000] [--scheduled 100000]

Rebond runs as a subprocess polling the fake Bot API server (tests/fakebotapi) with Telegram's
flood limits switched on (30 messages/s overall, 1/s per chat). Printed: the median time of
the scheduler's due-users query, the time to deliver every check-in against the 30 msg/s
floor (goal: within 1.1x), the 429s received (goal: 0), and the resident memory of a bot with
`--scheduled` users scheduled (goal: under 200 MB), next to an empty bot's measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from storage import checkins as store  # noqa: E402
from storage import repository  # noqa: E402
from storage.checkins import CheckinSettings  # noqa: E402
from storage.db import open_database, to_stored  # noqa: E402
from tests.fakebotapi import FakeBotApi  # noqa: E402

TOKEN = "333333:checkin-fanout-token"
FIRST_ID = 100_000
RATE = 30.0


def populate(path: Path, users: int, due: datetime) -> None:
    """`users` managers with daily check-ins, all due at `due`, through the storage API."""
    db = open_database(path, durable=False)
    try:
        with db.atomic():
            for n in range(users):
                user = repository.get_or_create_user(
                    db, f"telegram:{FIRST_ID + n}", "M", "fr", now=to_stored(due)
                )
                settings = CheckinSettings(
                    user.id, True, "09:00", "Europe/Paris", False, None, to_stored(due), None
                )
                store.save_settings(db, settings, now=to_stored(due))
    finally:
        db.close()


def due_query_ms(path: Path, now: datetime, batch: int = 500) -> float:
    """Median time of the scheduler's due-users query (one batch)."""
    db = open_database(path, durable=False)
    try:
        timings = []
        for _ in range(50):
            began = time.perf_counter()
            store.due_users(db, to_stored(now), batch)
            timings.append(time.perf_counter() - began)
        return statistics.median(timings) * 1000
    finally:
        db.close()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_bot(api_url: str, db: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "REBOND_TELEGRAM_API_URL": api_url,
        "REBOND_DB": str(db),
        "REBOND_POLL_TIMEOUT": "1",
        "REBOND_CHECKIN_TICK_SECONDS": "1",
        "REBOND_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )


async def stop(process: subprocess.Popen) -> None:
    process.terminate()
    await asyncio.to_thread(process.wait, 60)


async def fan_out(folder: Path, users: int) -> tuple[float, float, int]:
    """Deliver `users` check-ins; returns (due query ms, seconds to deliver all, 429s)."""
    path = folder / "fanout.db"
    due = datetime.now(UTC).replace(second=0, microsecond=0)
    populate(path, users, due)
    query_ms = due_query_ms(path, due + timedelta(seconds=30))
    async with FakeBotApi() as api:
        fake = api.bot(TOKEN)
        fake.enable_rate_limit(per_second=RATE, per_chat_per_second=1, per_chat_burst=3)
        for n in range(users):
            api.user(TOKEN, FIRST_ID + n, f"M{n}")._start()  # they wrote to the bot once
        bot = start_bot(api.url, path)
        try:
            await fake.wait_for_call("getUpdates", timeout=60)
            delivered = 0
            last_report = time.perf_counter()
            while delivered < users:
                await asyncio.sleep(0.5)
                delivered = fake.count("sendMessage", ok=True)
                if time.perf_counter() - last_report > 30:
                    last_report = time.perf_counter()
                    print(f"  ... {delivered}/{users} delivered", flush=True)
            sends = [call.at for call in fake.calls("sendMessage") if call.ok]
            # From the first check-in out to the last: start-up is not the scheduler's doing.
            return query_ms, max(sends) - min(sends), fake.flood_count
        finally:
            await stop(bot)


async def resident_memory(folder: Path, scheduled: int) -> tuple[float, float]:
    """RSS of an idle bot with an empty database, then with `scheduled` users scheduled."""
    results = []
    for count, name in ((0, "empty.db"), (scheduled, "scheduled.db")):
        path = folder / name
        populate(path, count, datetime.now(UTC) + timedelta(days=1))
        async with FakeBotApi() as api:
            bot = start_bot(api.url, path)
            try:
                await api.bot(TOKEN).wait_for_call("getUpdates", timeout=120)
                await asyncio.sleep(3)  # a few scheduler ticks
                results.append(rss_mb(bot.pid))
            finally:
                await stop(bot)
    return results[0], results[1]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="check-ins due at once")
    parser.add_argument("--scheduled", type=int, default=100_000, help="users for the RSS run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        query_ms, elapsed, floods = await fan_out(Path(folder), args.users)
        empty_mb, full_mb = await resident_memory(Path(folder), args.scheduled)
    floor = (args.users - 1) / RATE
    print(f"due-users query (batch of 500 among {args.users:,}): median {query_ms:.2f} ms")
    print(
        f"delivered {args.users:,} check-ins in {elapsed:.1f} s; the {RATE:.0f} msg/s floor is "
        f"{floor:.1f} s: ratio {elapsed / floor:.3f} (goal <= 1.1)"
    )
    print(f"429 answers received: {floods} (goal 0)")
    print(
        f"RSS with {args.scheduled:,} users scheduled: {full_mb:.1f} MB (goal < 200 MB); "
        f"empty database: {empty_mb:.1f} MB; ratio {full_mb / empty_mb:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
