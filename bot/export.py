"""`rebond export`: reflections as Markdown files, or tables as CSV or JSON, for a coach or the
operator. With a coach, only what managers share with that coach; every export is audited.

Every table reads the answers on the path taken (after /back, the abandoned branch is not an
answer). Files are made for the programs that open them: CSV with a UTF-8 byte order mark (Excel
on Windows shows accents) and cells a spreadsheet cannot run as formulas (OWASP's "CSV
injection" rule); Markdown with what people typed escaped; names transliterated (python-slugify,
over text-unidecode: "Hélène" -> "helene").
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slugify import slugify
from tqdm import tqdm

from storage import checkins as checkin_store
from storage import repository
from storage.repository import SessionRow, User

from .bootstrap import Services
from .coach.markdown import transcript_markdown

FORMATS = ("md", "csv", "json")


class ExportError(Exception):
    """An export that cannot run; the message says why and what to do."""


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    managers: int
    reflections: int
    files: list[Path]


def user_key(given: str) -> str:
    """A user as typed: a Telegram id (digits), or a full key like terminal:alice."""
    return (
        f"telegram:{given}" if given.isdigit() else given if ":" in given else f"terminal:{given}"
    )


def export(
    services: Services,
    fmt: str,
    out: Path,
    manager: str | None = None,
    coach: str | None = None,
    progress: bool = True,
) -> ExportSummary:
    """Write the export into `out` (created if needed); ExportError explains any refusal."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")
    db = services.conversation.db
    reader = _find(db, coach, "coach") if coach else None
    if manager:
        managers = [_find(db, manager, "manager")]
    elif reader is not None:
        managers = services.coach.linked_managers(reader)
    else:
        managers = repository.managers(db)  # team members answered a round, nothing more
    if reader is not None:
        unlinked = [m for m in managers if m not in services.coach.linked_managers(reader)]
        if unlinked:
            raise ExportError(
                f"manager {manager} does not share with coach {coach}: nothing to export"
            )
    if manager and managers[0].id not in _manager_ids(db):
        raise ExportError(
            f"'{manager}' is not a manager (a team member's answers are exported only in their "
            "round's summary): nothing to export"
        )
    _writable(out)
    reflections = {m.id: services.coach.exportable(reader, m) for m in managers}
    for person in managers:
        services.coach.log_export(reader, person)
    total = sum(len(sessions) for sessions in reflections.values())
    bar = tqdm(total=total, desc="reflections", unit="refl", disable=not progress, leave=False)
    try:
        if fmt == "md":
            files = _markdown(services, out, managers, reflections, reader, bar)
        else:
            tables = _tables(services, managers, reflections, reader is not None, bar)
            files = _csv(out, tables) if fmt == "csv" else _json(out, tables)
    finally:
        bar.close()
    return ExportSummary(len(managers), total, files)


def _find(db: Any, given: str, role: str) -> User:
    found = repository.find_user(db, user_key(given))
    if found is None:
        raise ExportError(
            f"unknown {role} '{given}': give a Telegram user id (digits) or a key like "
            "terminal:alice"
        )
    return found


def _manager_ids(db: Any) -> set[int]:
    return {person.id for person in repository.managers(db)}


def _writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create the folder {out}: {error.strerror}") from None
    if not out.is_dir() or not os.access(out, os.W_OK):
        raise ExportError(f"cannot write to {out}: choose a folder you can write to")


def _slug(text: str) -> str:
    """A readable file name part: "Hélène Dupré" -> "helene-dupre"."""
    return slugify(text, max_length=60, word_boundary=True) or "manager"


# C0 control characters and DEL, except tab, line feed and carriage return inside a cell.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A value safe in a spreadsheet cell: control characters dropped, and text a spreadsheet
    would run as a formula (starting with = + - @ tab or CR) prefixed with a quote (OWASP)."""
    if not isinstance(value, str):
        return value
    text = _CONTROL.sub("", value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _markdown(
    services: Services,
    out: Path,
    managers: list[User],
    reflections: dict[int, list[SessionRow]],
    reader: User | None,
    bar: tqdm[Any],
) -> list[Path]:
    files = []
    ui = services.conversation.playbook.ui
    for manager in managers:
        # A coach reads in their language; the operator's export, in the manager's own.
        lang = services.conversation.language(reader if reader is not None else manager)
        folder = out / f"{_slug(manager.display_name or 'manager')}-{manager.id}"
        for session in reflections[manager.id]:
            transcript = services.coach.transcript(session, reader)
            notes_title = ui.in_(lang).coach_notes_title
            # The manager's own day names the file (the day they finished, where they live).
            path = folder / f"{transcript.card.day.isoformat()}-reflection-{session.id}.md"
            folder.mkdir(parents=True, exist_ok=True)
            text = transcript_markdown(transcript, notes_title, lang)
            path.write_text(text, encoding="utf-8")
            files.append(path)
            bar.update()
    return files


def _tables(
    services: Services,
    managers: list[User],
    reflections: dict[int, list[SessionRow]],
    shared_only: bool,
    bar: tqdm[Any],
) -> dict[str, list[dict[str, Any]]]:
    db = services.conversation.db
    tables: dict[str, list[dict[str, Any]]] = {
        "managers": [],
        "reflections": [],
        "answers": [],
        "checkins": [],
        "team_rounds": [],
    }
    for manager in managers:
        tables["managers"].append(
            {"id": manager.id, "name": manager.display_name, "language": manager.lang}
        )
        for session in reflections[manager.id]:
            card = services.coach.card(session)
            tables["reflections"].append(
                {
                    "id": session.id,
                    "manager_id": manager.id,
                    "day": card.day.isoformat(),
                    "completed_at": session.completed_at,
                    "client": card.client,
                    "guilt_before": card.guilt[0],
                    "guilt_after": card.guilt[1],
                    "worry_before": card.worry[0],
                    "worry_after": card.worry[1],
                    "private": session.private,
                }
            )
            for answer in repository.answers_on_path(db, session.id):
                tables["answers"].append(
                    {
                        "reflection_id": session.id,
                        "step": answer.step,
                        "section": answer.section,
                        "kind": answer.kind,
                        "text": answer.raw_text,
                        "value": json.loads(answer.value) if answer.value else None,
                        "at": answer.created_at,
                    }
                )
            team = services.coach.team_summary(session)
            if team:  # the summary only: team members' answers are never exported
                tables["team_rounds"].append(
                    {"reflection_id": session.id, "summary": "\n".join(team)}
                )
            bar.update()
        link = services.coach.link_of(manager)
        if not shared_only or (link is not None and link.include_checkins):
            moods = dict(checkin_store.moods(db, manager.id, "0000-00-00"))
            for checkin in checkin_store.recent_checkins(db, manager.id, limit=100_000):
                tables["checkins"].append(
                    {
                        "manager_id": manager.id,
                        "date": checkin.local_date,
                        "kind": checkin.kind,
                        "status": checkin.status,
                        "mood": moods.get(checkin.local_date),
                    }
                )
    return tables


def _csv(out: Path, tables: dict[str, list[dict[str, Any]]]) -> list[Path]:
    files = []
    for name, rows in tables.items():
        path = out / f"{name}.csv"
        # utf-8-sig writes the byte order mark by which Excel knows the file is UTF-8.
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.DictWriter(handle, fieldnames=_columns(rows))
            writer.writeheader()
            for row in rows:
                writer.writerow({key: spreadsheet_cell(_cell(v)) for key, v in row.items()})
        files.append(path)
    return files


def _json(out: Path, tables: dict[str, list[dict[str, Any]]]) -> list[Path]:
    path = out / "export.json"
    path.write_text(json.dumps(tables, ensure_ascii=False, indent=2), encoding="utf-8")
    return [path]


def _cell(value: Any) -> Any:
    """Lists and mappings (a multi-choice answer) as JSON text in their cell."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    return columns or ["empty"]
