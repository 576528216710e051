"""Logging set up once at start-up: named events on stderr, never a token, never an answer.

Two guards, because README promises this at every level, DEBUG included:
- Libraries log what they carry: httpx and httpcore the Bot API URL (it holds the token),
  python-telegram-bot whole updates (with the manager's answers) at DEBUG. Their loggers stay at
  WARNING or above whatever REBOND_LOG_LEVEL says.
- Whatever still gets through (a library's warning or a traceback quoting a URL) is redacted:
  the token, and anything shaped like a bot token, becomes `<token>`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LIBRARY_LOGGERS = ("httpx", "httpcore", "telegram", "apscheduler", "aiohttp", "hpack")
"""Loggers of libraries that log URLs or update contents below WARNING."""
TOKEN_SHAPE = re.compile(r"(?<!\d)\d{3,}:[A-Za-z0-9_-]{20,}")
REDACTED = "<token>"


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces the given secrets, and anything shaped like a bot token."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = tuple(secret for secret in secrets if secret)

    def format(self, record: logging.LogRecord) -> str:
        """The record as text, redacted (its traceback included)."""
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the secrets nor anything shaped like a bot token."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return TOKEN_SHAPE.sub(REDACTED, text)


def configure(level: str, secrets: Iterable[str] = ()) -> None:
    """Log named events at `level` on stderr (a no-op if logging is already set up)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT, secrets))
    logging.basicConfig(level=level, handlers=[handler])
    floor = max(logging.WARNING, logging.getLevelNamesMapping()[level])
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(floor)
