"""The `rebond` command line: a thin layer over the conversation service and the flow core.

Usage:
    rebond [run]                  Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat
    rebond chat [--db PATH] [--lang fr|en] [--user NAME] [--flow ID]
    rebond checkin [--db PATH] [--lang fr|en] [--user NAME]   today's check-in
    rebond export --format md|csv|json --out DIR [--manager ID] [--coach ID]
    rebond backup PATH [--force] [--db PATH]   a consistent copy of the live database
    rebond restore PATH [--yes] [--db PATH]    replace the database with a checked backup
    rebond check [PLAYBOOK]       validate a playbook: exit 0 if valid, 1 with every problem
    rebond graph FLOW [--lang]    print a Mermaid flowchart of a flow
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import logs
from .flows.contract import REQUIRED_FLOWS
from .flows.graph import mermaid
from .flows.loader import PlaybookError, load_playbook
from .flows.model import Playbook
from .formatting import count, file_stamp
from .settings import Settings
from .userkey import UserKey

if TYPE_CHECKING:
    from .app import WebSide
    from .bootstrap import Services
    from .delivery.instance import InstanceLock
    from .web import WebServer

Command = Callable[[Settings, argparse.Namespace], int]


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Start on Telegram when a token is set, else the terminal chat."""
    if settings.telegram_bot_token is None:
        return cmd_chat(settings, args)
    lock = _instance_lock(settings)  # one bot process per database, before anything
    if lock is None:
        return 1
    from .app import run_telegram
    from .bootstrap import build_services, open_storage
    from .startup import warm_places

    db = open_storage(settings)
    try:
        services = build_services(settings, db)
        warm_places()
        return run_telegram(settings, services, web_side(settings, services))
    finally:
        db.close()
        lock.release()


def _instance_lock(settings: Settings) -> InstanceLock | None:
    """The database's instance lock, taken: every process that writes the database (the
    Telegram bot, the terminal chat, the check-in) holds it, so that a second one, or a
    restore, is refused. None, after one line naming the holder, when another process has it."""
    from .delivery.instance import AlreadyRunning, InstanceLock
    from .startup import StartupError

    lock = InstanceLock(settings.db_path)
    try:
        lock.acquire()
    except AlreadyRunning as error:
        print(f"rebond: {error}", file=sys.stderr)
        return None
    except OSError as error:
        raise StartupError(
            f"cannot create the lock file {lock.path} ({error.strerror or error}): set "
            "REBOND_DB (or --db) to a file in a folder Rebond may write to"
        ) from None
    return lock


def web_side(settings: Settings, services: Services) -> WebSide | None:
    """The coach's web view, wired for the Telegram side when REBOND_WEB_URL is set (the
    composition root: bot.app and its handlers never import bot.web)."""
    if settings.web_url is None:
        return None
    from .app import WebSide
    from .web import build_web_access, start_web

    access = build_web_access(settings, services)

    async def start() -> WebServer:
        return await start_web(settings, services, access)

    return WebSide(settings.web_url, access.issue_link, access.end_sessions, start)


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """The guided reflection in the terminal."""
    from .bootstrap import build_services, open_storage
    from .playbooks import for_terminal
    from .startup import warm_places
    from .terminal import ChatOptions, run_chat

    lock = _instance_lock(settings)  # as the Telegram bot: one writer, no restore underneath
    if lock is None:
        return 1
    try:
        db = open_storage(settings)
    except BaseException:
        lock.release()
        raise
    try:
        services = build_services(settings, db)
        warm_places()
        services.conversation.library.use_variant(for_terminal)
        user = getattr(args, "user", None) or _local_user_name()
        options = ChatOptions(
            user=user, lang=getattr(args, "lang", None), flow=getattr(args, "flow", None)
        )
        return run_chat(services.conversation, options, services=services)
    finally:
        db.close()
        lock.release()


def cmd_checkin(settings: Settings, args: argparse.Namespace) -> int:
    """Today's check-in in the terminal, on the local database."""
    from .bootstrap import build_services, open_storage
    from .playbooks import for_terminal
    from .startup import warm_places
    from .terminal import ChatOptions, run_chat

    lock = _instance_lock(settings)  # it writes: as the chat, one writer at a time
    if lock is None:
        return 1
    try:
        db = open_storage(settings)
    except BaseException:
        lock.release()
        raise
    try:
        services = build_services(settings, db)
        warm_places()
        services.conversation.library.use_variant(for_terminal)
        name = args.user or _local_user_name()
        user = services.conversation.user(UserKey.terminal(name), name)
        if args.lang is not None:
            user = services.conversation.set_language(user, args.lang)
        due = services.checkins.claim_today_for_terminal(user)
        if due is None:
            lang = services.conversation.language(user)
            print(services.conversation.playbook.ui.in_(lang).checkin_already_done)
            return 0
        opening = services.checkins.start(due)
        options = ChatOptions(user=name, lang=args.lang)
        return run_chat(services.conversation, options, opening, services)
    finally:
        db.close()
        lock.release()


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Reflections as Markdown, or tables as CSV or JSON, for a coach or the operator."""
    from .bootstrap import build_services, open_storage
    from .export import ExportError, export

    if not _database_exists(settings, "export"):
        return 2
    db = open_storage(settings)
    try:
        services = build_services(settings, db)
        summary = export(
            services, args.format, Path(args.out), args.manager, args.coach, sys.stderr.isatty()
        )
    except ExportError as error:
        print(f"rebond export: {error}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(export_line(summary.managers, summary.reflections, len(summary.files), args.out))
    return 0


def _database_exists(settings: Settings, command: str) -> bool:
    """True when the database is there; else one line, and False: a command that only reads
    it (export, backup) must not create an empty one and report on it."""
    path = settings.db_path
    if str(path) == ":memory:" or path.exists():
        return True
    print(
        f"rebond {command}: no database at {path}: check REBOND_DB or --db; nothing was written",
        file=sys.stderr,
    )
    return False


def export_line(managers: int, reflections: int, files: int, out: str) -> str:
    """What `rebond export` wrote: "exported 2 managers and 1 reflection: 3 files in out/"
    (plurals by Babel's CLDR rules, bot.formatting.count)."""
    return (
        f"exported {count(managers, 'manager', 'en')} and {count(reflections, 'reflection', 'en')}"
        f": {count(files, 'file', 'en')} in {out}"
    )


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent copy of the database, made while the bot runs (SQLite's backup API); an
    existing file is replaced only with --force."""
    from storage.backup import BackupError, BackupExists, backup, backup_name

    from .bootstrap import system_clock

    if not _database_exists(settings, "backup"):
        return 2
    destination = Path(args.path)
    if destination.is_dir() or args.path.endswith(("/", os.sep)):  # a folder, made or meant
        destination /= backup_name(file_stamp(system_clock()))
    if not destination.parent.is_dir():
        print(
            f"rebond backup: the folder {destination.parent} does not exist: create it or "
            "choose another path; nothing was written",
            file=sys.stderr,
        )
        return 2
    try:
        written = backup(settings.db_path, destination, overwrite=args.force)
    except BackupExists as error:
        print(
            f"rebond backup: {error}: add --force to replace it, or choose another path; "
            "nothing was written",
            file=sys.stderr,
        )
        return 1
    except BackupError as error:
        print(f"rebond backup: {error}; nothing was written", file=sys.stderr)
        return 1
    print(f"backed up {settings.db_path} to {written} ({written.stat().st_size // 1024} KB)")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Replace the database with a backup, once it passes integrity and schema checks, the bot
    is stopped (its instance lock is free) and the replacement is confirmed (a question, or
    --yes); the replaced database is kept beside it first."""
    from storage.backup import BackupError, backup, check_backup, restore

    from .bootstrap import system_clock
    from .delivery.instance import AlreadyRunning, InstanceLock

    source, target = Path(args.path), settings.db_path
    lock = InstanceLock(target)  # held throughout: no bot starts on a half-restored file
    try:
        lock.acquire()
    except AlreadyRunning as error:
        print(f"rebond restore: {error}; nothing was replaced", file=sys.stderr)
        return 1
    try:
        applied = check_backup(source)
        kept: Path | None = None
        if target.exists() and target.stat().st_size > 0:
            kept = target.with_name(f"{target.stem}-before-restore-{file_stamp(system_clock())}.db")
            question = (
                f"Replace {target} with {source} (schema {applied[-1]})? "
                f"The current database will be kept as {kept}. [y/N] "
            )
            if not args.yes and not sys.stdin.isatty():
                # Piped input is not a person's answer: a script says --yes (README).
                print(
                    "rebond restore: no terminal to ask for confirmation: add --yes; "
                    "nothing was replaced",
                    file=sys.stderr,
                )
                return 1
            if not (args.yes or _confirmed(question)):
                print(
                    "rebond restore: not confirmed (answer y, or add --yes); nothing was replaced",
                    file=sys.stderr,
                )
                return 1
            backup(target, kept)
        applied = restore(source, target)
    except BackupError as error:
        print(f"rebond restore: {error}; nothing was replaced", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(f"restored {source} into {target} (schema {applied[-1]})")
    if kept is not None:
        print(f"the database it replaced is kept as {kept}")
    return 0


def _confirmed(question: str) -> bool:
    """Ask on the terminal; False without one (a script must say --yes)."""
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes", "o", "oui")


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a playbook and report every problem."""
    path = Path(args.playbook) if args.playbook else settings.playbook_path
    try:
        playbook = load_playbook(shown_path(path), REQUIRED_FLOWS)
    except PlaybookError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        count = len(error.issues)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    steps = sum(len(flow.steps) for flow in playbook.flows.values())
    flows = ", ".join(f"{flow_id} ({len(flow.steps)})" for flow_id, flow in playbook.flows.items())
    print(
        f"{shown_path(path)}: valid, version {playbook.version}: {len(playbook.flows)} flows, "
        f"{steps} steps: {flows}"
    )
    return 0


DIAGRAMS_HEADING = "## Flow diagrams"


def diagrams_section(playbook: Playbook) -> str:
    """The docs section holding every flow's diagram, as `rebond graph` prints it."""
    parts = [
        f"{DIAGRAMS_HEADING}\n\n"
        "Generated from the playbook by `rebond graph --update-docs docs/playbook.md`; "
        "regenerate them rather than editing them by hand.\n"
    ]
    for flow_id, flow in playbook.flows.items():
        parts.append(f"\n### `{flow_id}`\n\n`rebond graph {flow_id}`:\n")
        parts.append(f"\n```mermaid\n{mermaid(flow_id, flow)}```\n")
    return "".join(parts)


def cmd_graph(settings: Settings, args: argparse.Namespace) -> int:
    """Print the Mermaid flowchart of one flow, or refresh the diagrams of a docs page."""
    try:
        playbook = load_playbook(shown_path(settings.playbook_path))
    except PlaybookError as error:
        print(error, file=sys.stderr)
        return 1
    if args.update_docs:
        page = Path(args.update_docs)
        text = page.read_text(encoding="utf-8")
        if DIAGRAMS_HEADING not in text:
            print(f"rebond graph: {page} has no '{DIAGRAMS_HEADING}' heading", file=sys.stderr)
            return 2
        page.write_text(text[: text.index(DIAGRAMS_HEADING)] + diagrams_section(playbook))
        print(f"{page}: diagrams of {len(playbook.flows)} flows written")
        return 0
    if args.flow not in playbook.flows:
        known = ", ".join(playbook.flows)
        print(f"rebond graph: unknown flow '{args.flow}' (known: {known})", file=sys.stderr)
        return 2
    print(mermaid(args.flow, playbook.flows[args.flow], args.lang), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every `rebond` command."""
    parser = argparse.ArgumentParser(prog="rebond", description="Rebond, a coaching companion.")
    parser.add_argument("--version", action="version", version=f"rebond {_version()}")
    parser.set_defaults(command=cmd_run)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser("run", help="Telegram if TELEGRAM_BOT_TOKEN is set, else the chat")
    run.set_defaults(command=cmd_run)

    chat = commands.add_parser("chat", help="the guided reflection in the terminal")
    chat.add_argument("--db", help="SQLite file (default: REBOND_DB or rebond.db)")
    chat.add_argument("--lang", choices=["fr", "en"], help="language of the conversation")
    chat.add_argument("--user", help="local user name (default: your login)")
    chat.add_argument("--flow", help="run this flow (default: resume, else the reflection)")
    chat.set_defaults(command=cmd_chat)

    checkin = commands.add_parser("checkin", help="today's check-in in the terminal")
    checkin.add_argument("--db", help="SQLite file (default: REBOND_DB or rebond.db)")
    checkin.add_argument("--lang", choices=["fr", "en"], help="language of the conversation")
    checkin.add_argument("--user", help="local user name (default: your login)")
    checkin.set_defaults(command=cmd_checkin)

    export = commands.add_parser("export", help="export reflections for a coach or the operator")
    export.add_argument(
        "--format",
        required=True,
        choices=["md", "csv", "json"],
        help="md: a Markdown file per reflection; csv: a file per table; json: export.json",
    )
    export.add_argument("--out", required=True, help="folder to write into (created if needed)")
    export.add_argument("--manager", help="one manager: Telegram user id, or a key")
    export.add_argument("--coach", help="only what managers share with this coach (Telegram id)")
    export.add_argument("--db", help="SQLite file (default: REBOND_DB or rebond.db)")
    export.set_defaults(command=cmd_export)

    backup = commands.add_parser("backup", help="a consistent copy of the live database")
    backup.add_argument("path", help="backup file, or a folder to write rebond-<time>.db into")
    backup.add_argument("--force", action="store_true", help="replace an existing backup file")
    backup.add_argument("--db", help="SQLite file (default: REBOND_DB or rebond.db)")
    backup.set_defaults(command=cmd_backup)

    restore = commands.add_parser("restore", help="replace the database with a checked backup")
    restore.add_argument("path", help="the backup file")
    restore.add_argument("--yes", action="store_true", help="replace without asking")
    restore.add_argument("--db", help="SQLite file (default: REBOND_DB or rebond.db)")
    restore.set_defaults(command=cmd_restore)

    check = commands.add_parser("check", help="validate a playbook file")
    check.add_argument("playbook", nargs="?", help="path (default: REBOND_PLAYBOOK)")
    check.set_defaults(command=cmd_check)

    graph = commands.add_parser("graph", help="print a Mermaid flowchart of a flow")
    graph.add_argument("flow", nargs="?", default="lost_client", help="flow id (lost_client)")
    graph.add_argument("--update-docs", metavar="PAGE", help="rewrite the page's diagrams section")
    graph.add_argument("--lang", choices=["fr", "en"], default="en", help="titles' language")
    graph.set_defaults(command=cmd_graph)
    _add_examples(parser, commands.choices)
    return parser


EXAMPLES = {
    "rebond": [
        "rebond                         # Telegram if TELEGRAM_BOT_TOKEN is set, else the chat",
        "rebond chat --lang en          # a reflection in the terminal, in English",
        "rebond check                   # is content/playbook.yaml valid?",
    ],
    "run": ["TELEGRAM_BOT_TOKEN=123456:ABC... rebond run"],
    "chat": ["rebond chat --db notes.db --lang en --user ana"],
    "checkin": ["rebond checkin --user ana"],
    "export": [
        "rebond export --format md --out exports/",
        "rebond export --format csv --out exports/ --coach 900",
    ],
    "backup": [
        "rebond backup backups/                  # backups/rebond-<UTC time>.db",
        "rebond backup /var/backups/rebond/rebond-$(date +%F).db",
    ],
    "restore": [
        "rebond restore backups/rebond-20261127T030000Z.db        # bot stopped; asks first",
        "rebond restore --yes backups/rebond-20261127T030000Z.db  # in a script",
    ],
    "check": ["rebond check content/playbook.yaml"],
    "graph": [
        "rebond graph lost_client --lang fr",
        "rebond graph --update-docs docs/playbook.md",
    ],
}
"""Shown at the end of `rebond --help` and of each command's help (a test checks each has one)."""


def _add_examples(parser: argparse.ArgumentParser, commands: dict[str, Any]) -> None:
    for name, command in [("rebond", parser), *commands.items()]:
        lines = EXAMPLES.get(name)
        if lines:
            command.formatter_class = argparse.RawDescriptionHelpFormatter
            command.epilog = "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _version() -> str:
    try:
        return metadata.version("rebond")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def settings_overrides(args: argparse.Namespace) -> dict[str, object]:
    """Settings given on the command line, which win over the environment."""
    overrides: dict[str, object] = {}
    if getattr(args, "db", None) is not None:  # `--db ""` is a mistake, refused, not unset
        overrides["db_path"] = Path(args.db)
    return overrides


def configure_logging(command: Command, settings: Settings) -> None:
    """Named events on stderr; quieter in the terminal chat; never a token nor an answer."""
    on_telegram = command is cmd_run and settings.telegram_bot_token is not None
    level = settings.log_level or ("INFO" if on_telegram else "WARNING")
    token = settings.telegram_bot_token
    logs.configure(level, [token.get_secret_value()] if token else [])


def _local_user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"
