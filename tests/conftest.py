"""Shared fixtures: small inline playbooks, a fresh database per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.flows.loader import parse_playbook
from bot.flows.model import Playbook
from storage.db import open_database

from .helpers import playbook_yaml

# The bot opts in to PTB's timedelta durations; tests (warnings are errors) do the same.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `slow` tests first (a stable sort: otherwise in file order), so that with several
    workers (`make test` runs pytest-xdist) they run beside the many short ones, not last."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def make_playbook() -> Callable[[str], Playbook]:
    """Build a checked playbook from the YAML of its flows."""

    def build(flows: str) -> Playbook:
        return parse_playbook(playbook_yaml(flows), "test.yaml")

    return build


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database in a temporary folder, closed after the test."""
    database = open_database(tmp_path / "rebond.db")
    yield database
    database.close()
