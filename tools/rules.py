"""The architecture's rules that import-linter cannot express, checked on the syntax tree.

- Only `storage/` runs SQL: no `.execute()`, `.executemany()`, `.executescript()`, `.query()`
  or `sqlite3.connect()` call, and no string that starts like an SQL statement, anywhere else.
- Only the composition root reads the wall clock: no `datetime.now()`, `datetime.utcnow()`,
  `datetime.today()`, `date.today()`, `time.time()` or `time.time_ns()` outside the files in
  `COMPOSITION_ROOT`; everything else takes an injected `bot.clock.Clock`.
- Only `bot/formatting.py` writes dates by hand: no `.strftime()` call, no `%`-directive format
  spec in an f-string (`f"{day:%d/%m}"`) and no date format text (`"%d/%m/%Y"`, `"%H:%M"`)
  anywhere else; every view writes days and times through bot.formatting (Babel).

Usage: `python -m tools.rules [ROOT]` prints one line per violation (`path:line: rule: ...`) and
exits 1 if there is any; ROOT defaults to the current directory. The import rules live in
pyproject.toml ([tool.importlinter]) and are checked by `lint-imports`.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHECKED_PACKAGES = ("bot", "storage")
SQL_PACKAGE = "storage"
COMPOSITION_ROOT = frozenset({"bot/bootstrap.py", "bot/__main__.py"})
SQL_METHODS = frozenset({"execute", "executemany", "executescript", "query"})
SQL_TEXT = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|REPLACE|WITH)\s+[A-Za-z_*(]"
)
FORMATTING_MODULE = "bot/formatting.py"
DATE_FORMAT_TEXT = re.compile(r"%[aAbBdeHIjmMpSyYzZ][-/.: T,]?%[aAbBdeHIjmMpSyYzZ]")
"""Two strftime directives in a row ("%d/%m", "%H:%M", "%Y%m%d"): a date written by hand.
Logging's "%s" and "%d" alone never match."""
WALL_CLOCK = frozenset(
    {
        ("datetime", "now"),
        ("datetime", "utcnow"),
        ("datetime", "today"),
        ("datetime.datetime", "now"),
        ("datetime.datetime", "utcnow"),
        ("date", "today"),
        ("datetime.date", "today"),
        ("time", "time"),
        ("time", "time_ns"),
    }
)


@dataclass(frozen=True)
class Violation:
    """One broken rule at one place."""

    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def violations(root: Path) -> list[Violation]:
    """Every violation in the checked packages under `root`, in file and line order."""
    found: list[Violation] = []
    for package in CHECKED_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), relative)
            if not relative.startswith(SQL_PACKAGE + "/"):
                found += _sql(tree, relative)
            if relative not in COMPOSITION_ROOT:
                found += _wall_clock(tree, relative)
            if relative != FORMATTING_MODULE:
                found += _dates_by_hand(tree, relative)
    return found


def _sql(tree: ast.AST, path: str) -> Iterator[Violation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            owner = ast.unparse(node.func.value)
            if name in SQL_METHODS or (owner == "sqlite3" and name == "connect"):
                yield Violation(
                    path,
                    node.lineno,
                    "sql-outside-storage",
                    f"{owner}.{name}() runs SQL: add a function to storage/ and call it",
                )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.match(node.value)
        ):
            yield Violation(
                path,
                node.lineno,
                "sql-outside-storage",
                f"{node.value.split()[0]} statement in code: SQL belongs in storage/",
            )


def _wall_clock(tree: ast.AST, path: str) -> Iterator[Violation]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            key = (ast.unparse(node.func.value), node.func.attr)
            if key in WALL_CLOCK:
                yield Violation(
                    path,
                    node.lineno,
                    "wall-clock",
                    f"{key[0]}.{key[1]}() reads the wall clock: take a bot.clock.Clock (built in "
                    "bot/bootstrap.py) or a `now` from the caller",
                )


def _dates_by_hand(tree: ast.AST, path: str) -> Iterator[Violation]:
    lines: set[int] = set()  # one violation a line: strftime("%d/%m") is one fault
    advice = "write days and times through bot.formatting (Babel: day_text, short_day, ...)"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr != "strftime":
                continue
            message = f"{ast.unparse(node.func)}() formats a date by hand: {advice}"
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = ast.unparse(node.format_spec)
            if "%" not in spec:
                continue
            message = f"the format spec of {ast.unparse(node.value)} writes a date: {advice}"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if not DATE_FORMAT_TEXT.search(node.value):
                continue
            message = f"{node.value!r} is a date format: {advice}"
        else:
            continue
        if node.lineno not in lines:
            lines.add(node.lineno)
            yield Violation(path, node.lineno, "date-by-hand", message)


def main(argv: list[str]) -> int:
    """Print the violations under the given root (default: here); 1 if any."""
    root = Path(argv[0]) if argv else Path.cwd()
    found = violations(root)
    for violation in found:
        print(violation)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
