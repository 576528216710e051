"""How long an erasure blocks its caller while another connection holds a read snapshot.

Usage:
    python bench/erasure.py [--runs 5]

Baseline, measured in the same run: the checkpoint(TRUNCATE) that /forget used to run on the
bot's own connection (5 s busy timeout, on the event loop). Against it: `truncate_wal`, one
attempt on a dedicated connection with a 50 ms busy timeout (the rest is retried in the
background). Prints medians and their ratio. Goal: well under 100 ms, never seconds.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import open_database  # noqa: E402
from storage.erasure import truncate_wal  # noqa: E402


def one_run() -> tuple[float, float]:
    """(baseline seconds, new seconds) with a reader holding a snapshot across the deletion."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        db = open_database(path)
        db.execute("CREATE TABLE words (text TEXT)")
        for _ in range(200):
            db.execute("INSERT INTO words VALUES (?)", ["a manager's words " * 20])
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM words").fetchone()
        db.execute("DELETE FROM words")
        begin = time.perf_counter()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        baseline = time.perf_counter() - begin
        begin = time.perf_counter()
        truncate_wal(path)
        new = time.perf_counter() - begin
        reader.close()
        db.close()
    return baseline, new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    baseline = statistics.median(b for b, _ in runs)
    new = statistics.median(n for _, n in runs)
    print(f"erasure with a reader holding a snapshot, median of {args.runs}:")
    print(f"  baseline (bot's connection, 5 s busy timeout): {baseline * 1000:.0f} ms")
    print(f"  truncate_wal (dedicated connection, 50 ms):    {new * 1000:.1f} ms")
    print(f"  ratio: {baseline / new:.0f}x shorter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
