"""Start-up failures that end with one line saying what is wrong and how to fix it.

`bot/__main__.py` prints a StartupError as `rebond: cannot start: <message>` and exits 2, never
with a traceback (settings and the database are reported the same way).
"""

from __future__ import annotations

import errno
import threading


class StartupError(Exception):
    """Start-up cannot go on; the message is one line: what is wrong, then how to fix it."""


def port_in_use(host: str, port: int, error: OSError) -> StartupError | None:
    """The StartupError for a webhook port already taken (EADDRINUSE), else None.

    For the webhook server's start: `except OSError as error: raise port_in_use(...) or error`.
    """
    if error.errno != errno.EADDRINUSE:
        return None
    return StartupError(
        f"the webhook port {host}:{port} is already in use (another Rebond, or another "
        "server): stop it, or set REBOND_WEBHOOK_PORT to a free port and point the reverse "
        "proxy at it"
    )


def warm_places() -> threading.Thread:
    """Build the time-zone place index (GeoNames' 34,000 cities: 2-6 s) in a daemon thread, so
    that neither the event loop nor the first manager to type a city waits for it."""
    from .flows.timezones import warm

    thread = threading.Thread(target=warm, name="rebond-places-warm-up", daemon=True)
    thread.start()
    return thread
