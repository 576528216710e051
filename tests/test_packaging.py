"""Packaging and the command line a newcomer meets: version, examples in every help."""

from __future__ import annotations

import tomllib
from importlib import metadata

import pytest

from bot.__main__ import main
from bot.cli import build_parser

from .helpers import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_rebond_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"rebond {metadata.version('rebond')}\n"


def commands() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sorted(actions[0].choices)  # type: ignore[attr-defined]


def test_the_main_help_shows_examples(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "examples:\n  rebond " in capsys.readouterr().out


@pytest.mark.parametrize("command", commands())
def test_each_command_help_shows_an_example(capsys, command: str):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out, out
    assert f"rebond {command}" in out.split("examples:")[1], out


def test_the_license_is_an_spdx_string_and_setuptools_can_read_it():
    assert PYPROJECT["project"]["license"] == "LicenseRef-Proprietary"
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"][0]


def test_no_unused_extra_of_python_telegram_bot():
    ptb = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("python-telegram"))
    assert "rate-limiter" not in ptb  # no AIORateLimiter: bot/delivery has its own limiter


@pytest.mark.parametrize("name", ["bot", "storage"])
def test_no_other_distribution_provides_our_top_level_names(name: str):
    assert set(metadata.packages_distributions().get(name, ["rebond"])) == {"rebond"}
