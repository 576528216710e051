"""deploy/ keeps its promises: restart on failure, a dedicated user, data and settings outside
the checkout, the bot behind the proxy on loopback only, a daily backup."""

from __future__ import annotations

import configparser
import re

from .helpers import ROOT

DEPLOY = ROOT / "deploy"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "rebond.service").read_text(encoding="utf-8"))
    return parser


def test_the_service_restarts_on_failure_as_a_dedicated_user():
    service = unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert service["User"] == service["Group"] == "rebond"
    assert service["ExecStart"] == "/opt/rebond/.venv/bin/rebond run"


def test_the_database_and_the_settings_live_outside_the_checkout():
    service = unit()["Service"]
    checkout = "/opt/rebond"
    assert not service["EnvironmentFile"].startswith(checkout)
    assert not service["WorkingDirectory"].startswith(checkout)  # no .env of the checkout read
    assert "REBOND_DB=/var/lib/rebond/" in service["Environment"]
    assert service["ReadWritePaths"] == "/var/lib/rebond"


def test_the_proxy_forwards_to_loopback_only():
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    targets = re.findall(r"reverse_proxy\s+(\S+)", caddy)
    assert targets and all(t.startswith("127.0.0.1:") for t in targets)
    assert "127.0.0.1:8443" in targets  # REBOND_WEBHOOK_PORT's default


def test_a_daily_backup_runs_as_the_service_user():
    lines = [
        line
        for line in (DEPLOY / "rebond-backup.cron").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    ]
    [entry] = lines
    _minute, _hour, day, month, weekday, user, *command = entry.split()
    assert (day, month, weekday, user) == ("*", "*", "*", "rebond")
    assert "rebond backup" in " ".join(command)
