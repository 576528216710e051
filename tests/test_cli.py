"""`rebond check` and `rebond graph`: exit codes and exact, located messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter

from bot.__main__ import main
from bot.flows.graph import describe
from bot.flows.model import Condition

from .helpers import FIXTURES, REAL_PLAYBOOK, ROOT

BAD = FIXTURES / "bad"


@pytest.fixture(autouse=True)
def at_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("REBOND_PLAYBOOK", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check", str(path.relative_to(ROOT))])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_the_real_playbook(capsys):
    code, out, err = check(REAL_PLAYBOOK, capsys)
    assert code == 0 and err == ""
    assert out.startswith("content/playbook.yaml: valid, version ")
    assert " flows, " in out and "lost_client (" in out and "checkin_setup (" in out


def test_check_defaults_to_the_configured_playbook(capsys):
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("content/playbook.yaml: valid")


def test_check_reports_unknown_goto_with_line_and_suggestion(capsys):
    code, out, err = check(BAD / "unknown_goto.yaml", capsys)
    lines = err.splitlines()
    assert code == 1 and out == ""
    assert (
        "tests/fixtures/bad/unknown_goto.yaml:11:19: flows.lost_client.steps.guilt_first.next: "
        "unknown step 'empaty' (did you mean 'empathy'?)"
    ) in lines
    # everything else found at once: the flows and steps Rebond needs
    assert (
        "tests/fixtures/bad/unknown_goto.yaml:2:3: flows: missing flow 'daily_checkin', "
        "which Rebond starts by name" in lines
    )
    assert lines[-1] == f"{len(lines) - 1} problems found"


def test_check_reports_yaml_syntax_in_the_same_form(capsys):
    code, _, err = check(BAD / "syntax.yaml", capsys)
    problem = (
        "did not find expected key"  # libyaml's words (PyYAML's wheels carry it)
        if yaml.__with_libyaml__
        else "expected <block end>, but found '<block mapping start>'"
    )
    assert code == 1
    assert err.splitlines() == [
        f"tests/fixtures/bad/syntax.yaml:4:6: yaml: {problem} (while parsing a block mapping); "
        "check the indentation and quoting",
        "1 problem found",
    ]


def test_check_reports_every_schema_error(capsys):
    code, _, err = check(BAD / "schema.yaml", capsys)
    assert code == 1
    assert err.splitlines() == [
        "tests/fixtures/bad/schema.yaml:8:13: flows.demo.steps.a: unknown type 'txt'; use one "
        "of: 'message', 'text', 'choice', 'multi_choice', 'scale', 'yes_no', 'number', 'time', 'timezone'",
        "tests/fixtures/bad/schema.yaml:11:13: flows.demo.steps.b.prompt: missing 'prompt'; add it",
        "tests/fixtures/bad/schema.yaml:13:13: flows.demo.steps.b.promt: unknown field 'promt' "
        "(did you mean 'prompt'?); remove or rename it",
        "tests/fixtures/bad/schema.yaml:14:18: flows.demo.steps.b.max: expected a whole number, "
        "found 'dix'",
        "4 problems found",
    ]


def test_check_reports_duplicate_keys(capsys):
    code, _, err = check(BAD / "duplicate_key.yaml", capsys)
    assert code == 1
    assert (
        "tests/fixtures/bad/duplicate_key.yaml:4:5: flows.demo.title: duplicate key 'title' "
        "(first defined at line 3); keep only one"
    ) in err.splitlines()


def test_check_a_top_level_that_is_not_a_mapping(capsys):
    code, _, err = check(BAD / "not_a_mapping.yaml", capsys)
    assert code == 1
    assert err.splitlines()[0] == (
        "tests/fixtures/bad/not_a_mapping.yaml:1:1: (top level): the top level must be a mapping"
    )


def test_check_a_missing_file(capsys):
    code = main(["check", "content/nope.yaml"])
    assert code == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "content/nope.yaml:1:1: file: no such file; check REBOND_PLAYBOOK or the path"
    )


def test_graph_prints_mermaid_with_sections_and_conditions(capsys):
    assert main(["graph", "lost_client"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart TD\n")
    assert out.count("subgraph ") == 8
    assert 'guilt_first_ -- "guilt_first = our_fault" --> reframe_intro_' in out
    assert 'guilt_first_ -- "guilt_before ≥ 7" --> reframe_intro_feeling_' in out
    assert 'team_mood_ -- "team_mood in worried, angry" --> team_listen_' in out


def test_graph_describes_a_condition_with_any_in_short_words():
    condition = TypeAdapter(Condition).validate_python(
        {"any": [{"equals": {"guilt_first": "our_fault"}}, {"at_least": {"guilt_before": 7}}]}
    )
    assert describe(condition) == "guilt_first = our_fault or guilt_before ≥ 7"


def test_graph_of_an_unknown_flow(capsys):
    assert main(["graph", "nope"]) == 2
    assert "unknown flow 'nope' (known: onboarding, lost_client, daily_checkin, checkin_setup" in (
        capsys.readouterr().err
    )


def test_a_bad_setting_stops_start_up_with_one_clear_line(monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    assert main(["check"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "rebond: cannot start, fix these settings:",
        "TELEGRAM_BOT_TOKEN: does not look like a bot token (digits, ':' then letters); copy it "
        "from @BotFather, or unset it to chat in the terminal",
    ]


def test_an_unreachable_bot_api_stops_start_up_with_one_clear_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("REBOND_TELEGRAM_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REBOND_DB", str(tmp_path / "bot.db"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rebond: cannot reach the Bot API at http://127.0.0.1:9 (")
    assert "Traceback" not in err


def test_every_export_option_has_help(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "md: a Markdown file per reflection; csv: a file per table; json: export.json" in text
