"""What Rebond's code relies on in a playbook: flows, steps, options, commands, ui texts.

A coach may reword anything; these names are the contract with the code, and `rebond check`
says which one went missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .analysis import Problem, did_you_mean, step_path, ui_texts
from .model import LANGUAGES, ChoiceStep, Playbook
from .text import placeholders

REQUIRED_FLOWS = ("onboarding", "lost_client", "daily_checkin", "checkin_setup")
REQUIRED_STEPS: dict[str, dict[str, str]] = {
    "lost_client": {
        "client": "text",
        "guilt_before": "scale",
        "guilt_after": "scale",
        "worry_before": "scale",
        "worry_after": "scale",
        "checkin_offer": "yes_no",
    },
    "daily_checkin": {"mood": "scale"},
    "checkin_setup": {
        "checkin_action": "choice",
        "checkin_time": "time",
        "checkin_zone": "timezone",
        "checkin_pause_days": "number",
    },
}
"""Steps the code reads answers from, by flow, with their type."""
REQUIRED_OPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("checkin_setup", "checkin_action"): ("daily", "weekdays", "pause", "off"),
}
"""Options the code acts on, by (flow, step)."""
REQUIRED_COMMANDS = (
    "start",
    "reflect",
    "resume",
    "back",
    "skip",
    "pause",
    "cancel",
    "history",
    "language",
    "checkin",
    "progress",
    "share",
    "unshare",
    "mydata",
    "forget",
    "help",
)
"""The commands of the managers' menu, in menu order; the playbook describes each one."""
COACH_COMMANDS = (
    "invite",
    "managers",
    "reflections",
    "read",
    "trend",
    "note",
    "feedback",
    "notify",
)
"""The commands added to coaches' menus."""

UI_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "share_preview": frozenset({"coach"}),
    "share_done": frozenset({"coach"}),
    "unshare_done": frozenset({"coach"}),
    "private_offer": frozenset({"coach"}),
    "shared_now": frozenset({"coach"}),
    "feedback_received": frozenset({"coach", "date", "text"}),
    "coach_invite": frozenset({"link", "code"}),
    "coach_manager_line": frozenset({"number", "name", "last_seen", "count", "trend"}),
    "coach_reflections_title": frozenset({"name"}),
    "coach_reflection_line": frozenset({"number", "date", "client", "guilt", "worry"}),
    "coach_no_reflections": frozenset({"name"}),
    "coach_feedback_sent": frozenset({"name"}),
    "coach_feedback_saved": frozenset({"name"}),
    "coach_notification": frozenset({"name", "client", "number"}),
    "coach_shared_with_you": frozenset({"name", "number"}),
    "coach_unshared": frozenset({"name"}),
    "coach_trend_title": frozenset({"name"}),
    "progress_summary": frozenset({"count", "average", "streak"}),
    "share_past_title": frozenset({"reflections", "coach"}),
    "share_past_line": frozenset({"date", "client"}),
    "share_past_done": frozenset({"coach", "shared", "private"}),
    "mydata_audit_line": frozenset({"at", "coach", "action"}),
    "audit_read": frozenset({"number"}),
    "invalid_choice": frozenset({"count"}),
    "invalid_multi_choice": frozenset({"count"}),
    "too_few_selected": frozenset({"min"}),
    "too_many_selected": frozenset({"max"}),
    "invalid_scale": frozenset({"min", "max"}),
    "number_out_of_range": frozenset({"min", "max"}),
    "text_too_short": frozenset({"min"}),
    "text_too_long": frozenset({"max", "length"}),
}


def ui_placeholders_are_known(playbook: Playbook) -> Iterator[Problem]:
    """Texts around questions quote only the values the engine gives them."""
    for path, text in ui_texts(playbook):
        allowed = UI_PLACEHOLDERS.get(str(path[0]), frozenset())
        for lang in LANGUAGES:
            for used in placeholders(text.get(lang)):
                if used not in allowed:
                    offer = ", ".join(f"{{{a}}}" for a in sorted(allowed)) or "none"
                    yield Problem(
                        ("ui", *path, lang),
                        f"'{{{used}}}' is not available here (available: {offer})",
                    )


def commands_are_described(playbook: Playbook) -> Iterator[Problem]:
    """Every command of the bot's menu has a description, and no unknown one is described."""
    described = playbook.ui.commands
    for command in (*REQUIRED_COMMANDS, *COACH_COMMANDS):
        if command not in described:
            yield Problem(
                ("ui", "commands"), f"missing description of /{command}; add a '{command}:' entry"
            )
    for command in described:
        if command not in (*REQUIRED_COMMANDS, *COACH_COMMANDS):
            known = ", ".join((*REQUIRED_COMMANDS, *COACH_COMMANDS))
            yield Problem(
                ("ui", "commands", command),
                f"/{command} is not a command of Rebond{did_you_mean(command, REQUIRED_COMMANDS)}"
                f"; known: {known}",
            )


def required_flows_present(playbook: Playbook, required: Iterable[str]) -> Iterator[Problem]:
    """The flows the bot starts by name exist, with the steps and options its code reads."""
    required = list(required)
    for flow_id in required:
        if flow_id not in playbook.flows:
            hint = did_you_mean(flow_id, playbook.flows)
            yield Problem(
                ("flows",), f"missing flow '{flow_id}', which Rebond starts by name{hint}"
            )
            continue
        flow = playbook.flows[flow_id]
        for step_id, kind in REQUIRED_STEPS.get(flow_id, {}).items():
            step = flow.step_by_id.get(step_id)
            if step is None:
                hint = did_you_mean(step_id, flow.step_by_id)
                yield Problem(
                    ("flows", flow_id, "sections"),
                    f"missing step '{step_id}' ({kind}), whose answer Rebond reads{hint}",
                )
            elif step.type != kind:
                yield Problem(
                    step_path(flow_id, step_id, "type"),
                    f"'{step_id}' must stay a {kind} question: Rebond reads its answer",
                )
        for (owner, step_id), options in REQUIRED_OPTIONS.items():
            step = flow.step_by_id.get(step_id) if owner == flow_id else None
            if isinstance(step, ChoiceStep):
                ids = [option.id for option in step.options]
                for option in options:
                    if option not in ids:
                        yield Problem(
                            step_path(flow_id, step_id, "options"),
                            f"missing option '{option}', which Rebond acts on",
                        )
