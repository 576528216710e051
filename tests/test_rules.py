"""The architecture enforces itself: the real tree keeps each rule, and each check fails on a
deliberate break (a small bad tree built in tmp_path), so no check can pass by accident."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.rules import violations

from .helpers import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write `files` (path -> source) under `root`, with an empty __init__.py in each package."""
    for name, source in files.items():
        path = root / name
        for parent in path.relative_to(root).parents:
            if parent != Path(".") and parent.parts[0] in ("bot", "storage"):
                (root / parent).mkdir(parents=True, exist_ok=True)
                (root / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(source), encoding="utf-8")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- the real tree -------------------------------------------------------------------------------


def test_the_tree_keeps_sql_clock_and_date_formatting_each_in_its_place():
    assert [str(v) for v in violations(ROOT)] == []


def test_the_import_contracts_hold_on_the_tree():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# --- each check fails on a deliberate break ----------------------------------------------------


def test_sql_outside_storage_is_refused(tmp_path: Path):
    write_tree(
        tmp_path,
        {
            "bot/coach/service.py": """
                def share(db, session_id, now):
                    db.execute(
                        "UPDATE notifications SET not_before = ? WHERE session_id = ?",
                        [now, session_id],
                    )
            """,
            "bot/export.py": """
                def everyone(db):
                    return [row["id"] for row in db.query("SELECT id FROM users")]
            """,
            "bot/cli.py": 'SQL = """\n    DELETE FROM answers WHERE id = ?\n"""\n',
            "storage/repository.py": """
                def everyone(db):
                    return list(db.query("SELECT id FROM users"))
            """,
        },
    )
    found = [(v.path, v.rule) for v in violations(tmp_path)]
    assert ("bot/coach/service.py", "sql-outside-storage") in found
    assert ("bot/export.py", "sql-outside-storage") in found
    assert ("bot/cli.py", "sql-outside-storage") in found
    assert not [path for path, _ in found if path.startswith("storage/")]


def test_the_wall_clock_outside_the_composition_root_is_refused(tmp_path: Path):
    write_tree(
        tmp_path,
        {
            "storage/db.py": """
                from datetime import UTC, datetime
                def utc_now():
                    return datetime.now(UTC).isoformat()
            """,
            "bot/checkins/service.py": """
                import datetime, time
                def today():
                    return datetime.date.today(), time.time()
            """,
            "bot/bootstrap.py": """
                from datetime import UTC, datetime
                def system_clock():
                    return datetime.now(UTC)
            """,
        },
    )
    found = sorted((v.path, v.line, v.rule) for v in violations(tmp_path))
    assert found == [
        ("bot/checkins/service.py", 4, "wall-clock"),
        ("bot/checkins/service.py", 4, "wall-clock"),
        ("storage/db.py", 4, "wall-clock"),
    ]


def test_dates_written_by_hand_outside_bot_formatting_are_refused(tmp_path: Path):
    """The kind of `card.day.strftime("%d/%m/%Y")` in bot/coach/thread.py and the ISO days of
    /history: every view writes days through bot/formatting.py (Babel), and only it may."""
    write_tree(
        tmp_path,
        {
            "bot/coach/thread.py": """
                def values(card, when):
                    return {
                        "date": card.day.strftime("%d/%m/%Y"),
                        "time": f"{when:%H:%M}",
                    }
            """,
            "bot/web/texts.py": """
                import time
                DAY = "%Y-%m-%d"
                def stamp(moment):
                    return time.strftime(DAY, moment)
            """,
            "storage/db.py": """
                import logging
                log = logging.getLogger(__name__)
                def opened(path, count):
                    log.info("db.opened path=%s tables=%d", path, count)
                    return f"{count:>4} {path!r} {count:.1f}"
            """,
            "bot/formatting.py": """
                def file_stamp(moment):
                    return moment.strftime("%Y%m%dT%H%M%SZ")
            """,
        },
    )
    found = sorted((v.path, v.line, v.rule) for v in violations(tmp_path))
    assert found == [
        ("bot/coach/thread.py", 4, "date-by-hand"),
        ("bot/coach/thread.py", 5, "date-by-hand"),
        ("bot/web/texts.py", 3, "date-by-hand"),
        ("bot/web/texts.py", 5, "date-by-hand"),
    ]


GOOD_TREE = {
    "bot/flows/engine.py": "import re\n",
    "bot/conversation.py": "from bot.flows import engine\nimport storage.repository\n",
    "bot/terminal.py": "from bot import conversation\n",
    "bot/app.py": "from bot.handlers import chat\n",
    "bot/handlers/chat.py": "from bot import conversation\n",
    "bot/delivery/polling.py": "",
    "bot/checkins/sender.py": "from bot.handlers import chat\n",
    "bot/web/pages.py": "from bot import conversation\n",
    "storage/repository.py": "import sqlite3\n",
}
BREAKS = {
    "bot.flows does no I/O": ("bot/flows/engine.py", "import sqlite3\n"),
    "bot.flows imports no storage": ("bot/flows/engine.py", "import storage.repository\n"),
    "storage knows nothing of the bot": ("storage/repository.py", "import bot.conversation\n"),
    "terminal without Telegram": ("bot/terminal.py", "from bot.handlers import chat\n"),
    "Telegram without terminal": ("bot/handlers/chat.py", "import bot.terminal\n"),
    "Telegram without the web view": ("bot/checkins/sender.py", "from bot.web import pages\n"),
    "web view without Telegram": ("bot/web/pages.py", "import bot.app\n"),
}


def test_the_import_contracts_hold_on_a_good_tree(tmp_path: Path):
    write_tree(tmp_path, GOOD_TREE)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    result = lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule", list(BREAKS))
def test_each_import_contract_fails_on_a_deliberate_break(tmp_path: Path, rule: str):
    path, source = BREAKS[rule]
    write_tree(tmp_path, {**GOOD_TREE, path: source})
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout, result.stdout
