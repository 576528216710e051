"""The one clock type: services take a `Clock`; only the composition root reads the wall clock.

`bot/bootstrap.py` builds the system clock and injects it; tests pass a fixed or stepping clock.
Storage never reads the time: every write takes `now` (as stored, see `storage.db.to_stored`)
from the service that decided it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]
"""Returns the current moment, timezone-aware (UTC from the system clock)."""
