"""Composition root: `python -m bot` and the `rebond` command start here.

Settings are read once, here, then passed to the command, which builds the storage, the
playbook and the adapter it needs.
"""

from __future__ import annotations

import sys

from storage.db import StorageError

from .cli import build_parser, configure_logging, settings_overrides
from .flows.loader import PlaybookError
from .settings import SettingsError, load_settings
from .startup import StartupError


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, read the settings once, run the command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(**settings_overrides(args))
    except SettingsError as error:
        print(f"rebond: cannot start, fix these settings:\n{error}", file=sys.stderr)
        return 2
    configure_logging(args.command, settings)
    try:
        return int(args.command(settings, args))
    except PlaybookError as error:
        print(f"rebond: the playbook has problems:\n{error}", file=sys.stderr)
        return 2  # a start-up problem, as the settings and the database (README)
    except (StorageError, StartupError) as error:
        print(f"rebond: cannot start: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
