"""Exports tell the truth and are safe where they are opened (issue #10, kinds 2 and 3): read
back with the csv module (byte order mark included), a JSON schema and a CommonMark parser."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from bot.export import ExportError, export, spreadsheet_cell
from bot.flows.state import Answer, Back, Pick

from .helpers import ROOT, reflect
from .test_coach import COACH_TELEGRAM_ID, pair, person, settle
from .test_days import clock as clock
from .test_days import services as services

SCHEMA = json.loads((ROOT / "docs" / "export.schema.json").read_text(encoding="utf-8"))
SCORES = {"guilt_before": "5", "guilt_after": "3", "worry_before": "6", "worry_after": "4"}


def reflect_changing_my_mind(services, user) -> int:
    """'Ma faute' first, two reframing answers, /back three times, another explanation."""
    conversation = services.conversation
    reply = conversation.start(user, "lost_client")
    session = reply.session_id
    changed = False
    for _ in range(200):
        question = reply.question
        if question is None or reply.session_id != session:
            return session
        step = question.step
        if step == "guilt_first" and not changed:
            reply = conversation.handle(user, Pick("our_fault"))
            reply = conversation.handle(user, Answer("Ils réduisent leurs coûts"))
            reply = conversation.handle(user, Answer("Aucun fait, une impression"))
            assert reply.question.step == "reframe_facts_against"
            for _ in range(3):
                reply = conversation.handle(user, Back())
            assert reply.question.step == "guilt_first"
            reply = conversation.handle(user, Pick("client_situation"))
            changed = True
        elif step == "client":
            reply = conversation.handle(user, Answer("Acme"))
        elif step in SCORES:
            reply = conversation.handle(user, Answer(SCORES[step]))
        elif step == "checkin_offer":
            reply = conversation.handle(user, Pick("no"))
        elif question.kind == "multi_choice":
            reply = conversation.handle(user, Answer("1"))
        elif question.options:
            reply = conversation.handle(user, Pick(question.options[0].id))
        elif question.kind == "number":
            reply = conversation.handle(user, Answer("3"))
        else:
            reply = conversation.handle(user, Answer(f"Réponse à {step}"))
    raise AssertionError("the reflection did not end")


def read_csv(path: Path) -> list[dict[str, str]]:
    """A CSV as Excel reads it: the UTF-8 byte order mark first, then the rows."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no UTF-8 byte order mark"
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def read_json(path: Path) -> dict:
    tables = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(tables, SCHEMA)
    return tables


def steps_answered(rows, session: int) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in rows:
        if int(row["reflection_id"]) == session:
            found.setdefault(row["step"], []).append(str(row["value"]))
    return found


def test_exports_read_the_answers_on_the_path_taken(services, clock, tmp_path):
    coach, ana = person(services, COACH_TELEGRAM_ID, "Coach"), person(services, 1, "Ana")
    pair(services, coach, ana)
    session = reflect_changing_my_mind(services, ana)
    settle(services, clock)

    export(services, "csv", tmp_path / "csv", progress=False)
    export(services, "json", tmp_path / "json", progress=False)
    export(services, "csv", tmp_path / "coach", coach=str(COACH_TELEGRAM_ID), progress=False)
    for rows in (
        read_csv(tmp_path / "csv" / "answers.csv"),
        read_json(tmp_path / "json" / "export.json")["answers"],
        read_csv(tmp_path / "coach" / "answers.csv"),
    ):
        answered = steps_answered(rows, session)
        assert answered["guilt_first"] == ["client_situation"]
        assert not [step for step in answered if step.startswith("reframe")]
        assert len(answered) == len(rows)  # one row per step on the path

    # The full log (/mydata) keeps every row, the ones taken back marked as superseded.
    log = json.loads(services.coach.my_data(ana))["answers"]
    guilt = [(a["value"], a["superseded"]) for a in log if a["step"] == "guilt_first"]
    assert guilt == [("our_fault", True), ("client_situation", False)]
    reframing = [a["superseded"] for a in log if a["step"].startswith("reframe")]
    assert reframing == [True, True]
    transcript = services.coach.read(coach, session)
    answers = [answer for section in transcript.sections for _, answer in section.exchanges]
    assert "Ils réduisent leurs coûts" not in answers


DANGEROUS = [
    "=1+1 Ana",
    '=HYPERLINK("http://evil.example","clic")',
    "+33 6 12",
    "-2+3",
    "@SUM(A1)",
    "\tTab",
    "\rRetour",
]


@pytest.mark.parametrize("typed", DANGEROUS)
def test_a_spreadsheet_never_runs_a_cell_as_a_formula(typed):
    assert spreadsheet_cell(typed) == "'" + typed
    assert spreadsheet_cell("Bell\x07 and\x00 nul\x1b") == "Bell and nul"
    assert spreadsheet_cell("Hélène, 3 lignes\nok") == "Hélène, 3 lignes\nok"
    assert spreadsheet_cell(7) == 7


def test_csv_cells_and_names_are_neutralised_and_accents_survive(services, clock, tmp_path):
    ana = services.conversation.user("telegram:1", "=1+1 Ana", "fr")
    helene = services.conversation.user("telegram:2", "Hélène Dupré-Ébré", "fr")
    formula = '=HYPERLINK("http://evil.example","clic")'
    reflect(services, ana, text=formula)
    reflect(services, helene, text="Café\x07 Crème")
    export(services, "csv", tmp_path / "csv", progress=False)
    managers = {row["id"]: row["name"] for row in read_csv(tmp_path / "csv" / "managers.csv")}
    assert managers == {str(ana.id): "'=1+1 Ana", str(helene.id): "Hélène Dupré-Ébré"}
    clients = [row["client"] for row in read_csv(tmp_path / "csv" / "reflections.csv")]
    assert sorted(clients) == sorted(["'" + formula, "Café Crème"])
    for row in read_csv(tmp_path / "csv" / "answers.csv"):
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
            assert "\x07" not in cell

    summary = export(services, "md", tmp_path / "md", progress=False)
    folders = sorted({path.parent.name for path in summary.files})
    assert folders == [f"1-1-ana-{ana.id}", f"helene-dupre-ebre-{helene.id}"]


def test_markdown_shows_what_a_manager_typed_as_text(services, clock, tmp_path):
    ana = services.conversation.user("telegram:1", "<b>Ana</b>", "fr")
    typed = "<script>alert(1)</script> [clic](javascript:alert(1)) <javascript:alert(2)>"
    reflect(services, ana, text=typed)
    services.conversation.user("telegram:3", "# Titre", "fr")
    summary = export(services, "md", tmp_path / "md", progress=False)
    [path] = summary.files
    html = MarkdownIt("commonmark").render(path.read_text(encoding="utf-8"))
    assert "<script" not in html and "<b>" not in html
    assert "javascript:" not in "".join(
        token.attrGet("href") or ""
        for block in MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
        for token in (block.children or [])
    )
    assert "href=" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as typed


def test_team_members_are_neither_counted_nor_exported_as_managers(
    services, clock, tmp_path, capsys
):
    """From the second trial: three people who only answered a team round through its link
    made "exported 4 managers", and managers.csv listed them beside the real manager."""
    from bot.cli import export_line

    from . import test_team

    clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    services.team.bot_username = test_team.BOT
    coach = person(services, COACH_TELEGRAM_ID, "Coach")  # a coach is no manager either
    manager = person(services, 1, "Gilles")
    test_team.reflect_until(services, manager, "team_talk_when")
    _, parameter = test_team.open_round(services, manager)
    members = [person(services, 200 + n, f"Membre{n}") for n in range(3)]
    for n, member in enumerate(members):
        test_team.answer_round(services, member, parameter, n + 2, f"Souci {n}", None, None, False)
    clock.advance(days=6)
    test_team.deliver(services.team)
    test_team.finish_reflection(services, manager, services.conversation.resume(manager))
    out = tmp_path / "csv"
    summary = export(services, "csv", out, progress=False)
    assert (summary.managers, summary.reflections) == (1, 1)
    assert export_line(summary.managers, summary.reflections, 5, "x1") == (
        "exported 1 manager and 1 reflection: 5 files in x1"
    )
    assert [row["name"] for row in read_csv(out / "managers.csv")] == ["Gilles"]
    assert len(read_csv(out / "team_rounds.csv")) == 1  # their answers: the summary only
    tables = read_json(export(services, "json", tmp_path / "json", progress=False).files[0])
    assert [row["name"] for row in tables["managers"]] == ["Gilles"]
    with pytest.raises(ExportError, match="is not a manager"):
        export(services, "csv", tmp_path / "one", manager="200", progress=False)
    assert coach.id not in {row["id"] for row in tables["managers"]}


def test_the_operator_s_markdown_is_in_each_manager_s_language(services, clock, tmp_path):
    """An English manager's file began "# marie · Acme · 1 déc. 2026" above English text (a
    new-user trial, refs #10): without a coach reading, each file is in its manager's language."""
    marie = services.conversation.user("telegram:1", "Marie", "en")
    reflect(services, marie)
    [path] = export(services, "md", tmp_path / "md", progress=False).files
    title = path.read_text(encoding="utf-8").splitlines()[0]
    assert title.startswith("# Marie · Acme · ") and "2026" in title
    assert not any(month in title for month in ("janv.", "févr.", "nov.", "déc."))
