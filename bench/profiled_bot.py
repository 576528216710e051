"""Rebond (`python -m bot`) under cProfile, timed in CPU seconds rather than wall time, so that
waits (the network, the other processes on a loaded machine) do not count.

Usage: python bench/profiled_bot.py STATS_PATH [rebond arguments...]
"""

from __future__ import annotations

import cProfile
import sys
import time

from bot.__main__ import main

if __name__ == "__main__":
    path, sys.argv = sys.argv[1], [sys.argv[0], *sys.argv[2:]]
    profile = cProfile.Profile(time.process_time)
    try:
        code = profile.runcall(main)
    finally:
        profile.dump_stats(path)
    sys.exit(code)
