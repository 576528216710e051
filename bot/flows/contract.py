"""What Rebond's code relies on in a playbook: flows, steps, options, commands, ui texts.

A coach may reword anything; these names are the contract with the code, and `rebond check`
says which one went missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .analysis import Problem, all_texts, did_you_mean, step_path, team_texts, ui_texts
from .model import LANGUAGES, ChoiceStep, Playbook, TextStep
from .text import placeholders

TEAM_SETUP = "team_round_setup"
TEAM_ROUND = "team_round"
REQUIRED_FLOWS = (
    "onboarding",
    "lost_client",
    "daily_checkin",
    "checkin_setup",
    TEAM_SETUP,
    TEAM_ROUND,
    "commitment_check",
)
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
    TEAM_SETUP: {"round_language": "choice", "round_days": "choice", "own_question": "text"},
    TEAM_ROUND: {
        "feeling": "scale",
        "worry": "text",
        "idea": "text",
        "own_answer": "text",
        "contribute": "yes_no",
        "signature": "text",
    },
    "commitment_check": {
        "commitment_status": "choice",
        "next_step": "text",
        "next_step_when": "text",
        "postponed_to": "text",
    },
}
"""Steps the code reads answers from, by flow, with their type."""
REQUIRED_OPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("checkin_setup", "checkin_action"): ("daily", "weekdays", "pause", "off"),
    (TEAM_SETUP, "round_language"): ("fr", "en"),
    ("commitment_check", "commitment_status"): ("done", "in_progress", "postponed", "dropped"),
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
    "team",
    "commitments",
    "quiet",
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
    "reply",
    "notify",
    "web",
    "zone",
)
"""The commands added to coaches' menus."""
ALL_COMMANDS = (*REQUIRED_COMMANDS, *COACH_COMMANDS)
TERMINAL_COMMANDS = (
    "start",
    "reflect",
    "resume",
    "back",
    "skip",
    "restart",
    "pause",
    "cancel",
    "home",
    "quit",
    "history",
    "progress",
    "commitments",
    "language",
    "checkin",
    "team",
    "help",
)
"""The commands the terminal chat runs (bot.terminal)."""
MENTIONED_COMMAND = re.compile(r"(?<![\w/.:])/([A-Za-z][A-Za-z_]*)")
"""A command named in a text: "/history", not "t.me/bot", "and/or" or "1/5"."""

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
    "coach_web_link": frozenset({"link"}),
    "coach_web_logout": frozenset({"count"}),
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
    "timezone_ambiguous": frozenset({"text"}),
    "timezone_confirmed": frozenset({"text", "place", "offset"}),
    "number_ambiguous": frozenset({"text", "first", "second"}),
    "option_ambiguous": frozenset({"text", "options"}),
    "telegram_only_command": frozenset({"command"}),
    "date_understood": frozenset({"date"}),
    "past_date_understood": frozenset({"date"}),
    "invalid_choice_or_past_date": frozenset({"count"}),
    "date_ambiguous": frozenset({"text", "first", "second"}),
    "date_kept_as_text": frozenset({"text"}),
    "unknown_command": frozenset({"command", "commands"}),
    "home_resume": frozenset({"section"}),
    "home_history": frozenset({"count"}),
    "home_commitments": frozenset({"count"}),
    "settings_summary": frozenset({"quiet", "nudges"}),
    "coach_welcome": frozenset({"name"}),
    "coach_zone_current": frozenset({"place", "zone"}),
    "coach_zone_set": frozenset({"place", "zone"}),
    "coach_zone_unknown": frozenset({"text"}),
    "checkin_schedule_on": frozenset({"days", "time", "zone"}),
    "checkin_schedule_paused": frozenset({"date"}),
    "commitment_line": frozenset({"status", "text", "due"}),
    "commitment_due": frozenset({"date"}),
    "commitment_contact": frozenset({"detail"}),
    "commitment_team_talk": frozenset({"words"}),
    "cancel_confirm": frozenset({"section"}),
    "cancel_confirm_flow": frozenset({"flow"}),
    "cancelled_flow": frozenset({"flow"}),
    "exclusive_option": frozenset({"option"}),
    "reply_prompt": frozenset({"coach"}),
    "reply_sent": frozenset({"coach"}),
    "coach_reply_received": frozenset({"name", "date", "client", "number", "text"}),
    "coach_reply_sent": frozenset({"name"}),
    "thread_from_coach": frozenset({"coach", "date", "text"}),
    "quiet_hours_set": frozenset({"quiet"}),
    "quiet_hours_usage": frozenset({"quiet"}),
}
NUDGE_PLACEHOLDERS = frozenset({"section"})

TEAM_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "opened": frozenset({"closes"}),
    "forward": frozenset({"manager", "closes", "link"}),
    "no_link": frozenset({"code"}),
    "status_open": frozenset({"count", "closes"}),
    "status_closed": frozenset({"count"}),
    "closed_early": frozenset({"count"}),
    "extended": frozenset({"closes"}),
    "too_small": frozenset({"count", "minimum"}),
    "summary_title": frozenset({"count"}),
    "feeling_line": frozenset({"value", "label", "bar", "count"}),
    "own_title": frozenset({"question"}),
    "offers_line": frozenset({"count"}),
    "offers_signed": frozenset({"names"}),
    "join_closed": frozenset({"manager"}),
    "join_again": frozenset({"closes"}),
}
ROUND_DAYS = re.compile(r"^days_([1-9][0-9]?)$")
"""Options of the round's length: `days_5` closes it 5 days after opening (1 to 99)."""


def team_texts_are_sound(playbook: Playbook) -> Iterator[Problem]:
    """The team round's texts quote only what Rebond gives them; its hooks name real steps."""
    team = playbook.team
    if team is None:
        return
    for name, text in team_texts(playbook):
        allowed = TEAM_PLACEHOLDERS.get(name, frozenset())
        for lang in LANGUAGES:
            for used in placeholders(text.get(lang)):
                if used not in allowed:
                    offer = ", ".join(f"{{{a}}}" for a in sorted(allowed)) or "none"
                    yield Problem(
                        ("team", name, lang),
                        f"'{{{used}}}' is not available here (available: {offer})",
                    )
    reflection = playbook.flows.get("lost_client")
    if reflection is None:
        return
    for index, step_id in enumerate(team.offer_steps):
        if step_id not in reflection.step_by_id:
            hint = did_you_mean(step_id, reflection.step_by_id)
            yield Problem(
                ("team", "offer_steps", index), f"no step '{step_id}' in lost_client{hint}"
            )
    target = reflection.step_by_id.get(team.ideas_step)
    if not isinstance(target, TextStep):
        hint = did_you_mean(team.ideas_step, reflection.step_by_id)
        yield Problem(
            ("team", "ideas_step"),
            f"'{team.ideas_step}' must be a text step of lost_client, where the team's ideas "
            f"are offered{hint}",
        )


def team_round_present(playbook: Playbook) -> Iterator[Problem]:
    """The team round has its texts, a length for every closing option, an optional own
    question, and a skippable signature."""
    if playbook.team is None:
        yield Problem(("flows",), "missing 'team:' section: the team round's texts and hooks")
    setup = playbook.flows.get(TEAM_SETUP)
    days = setup.step_by_id.get("round_days") if setup else None
    if isinstance(days, ChoiceStep):
        for option in days.options:
            if not ROUND_DAYS.match(option.id):
                yield Problem(
                    step_path(TEAM_SETUP, "round_days", "options", option.id, "id"),
                    f"'{option.id}' is not a length: write days_<n>, like days_5",
                )
    member = playbook.flows.get(TEAM_ROUND)
    for step_id in ("worry", "idea", "own_answer", "signature"):
        step = member.step_by_id.get(step_id) if member else None
        if step is not None and not step.optional:
            yield Problem(
                step_path(TEAM_ROUND, step_id, "optional"),
                f"'{step_id}' must stay optional: nobody has to write anything",
            )


def ui_placeholders_are_known(playbook: Playbook) -> Iterator[Problem]:
    """Texts around questions quote only the values the engine gives them."""
    for path, text in ui_texts(playbook):
        name = str(path[1] if path[0] == "terminal" else path[0])  # a terminal variant
        allowed = UI_PLACEHOLDERS.get(name, frozenset())
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
    for command in ALL_COMMANDS:
        if command not in described:
            yield Problem(
                ("ui", "commands"), f"missing description of /{command}; add a '{command}:' entry"
            )
    for command in described:
        if command not in ALL_COMMANDS:
            known = ", ".join(ALL_COMMANDS)
            yield Problem(
                ("ui", "commands", command),
                f"/{command} is not a command of Rebond{did_you_mean(command, REQUIRED_COMMANDS)}"
                f"; known: {known}",
            )


def commands_in_texts_exist(playbook: Playbook) -> Iterator[Problem]:
    """Every /command a text names is one Rebond runs, on Telegram or in the terminal: a
    coach's typo would send managers to a command that answers "unknown"."""
    known = set(ALL_COMMANDS) | set(TERMINAL_COMMANDS)
    for path, text in all_texts(playbook):
        for lang in LANGUAGES:
            for name in MENTIONED_COMMAND.findall(text.get(lang)):
                if name not in known:
                    hint = did_you_mean(name, sorted(known))
                    yield Problem((*path, lang), f"/{name} is not a command of Rebond{hint}")


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
    if TEAM_ROUND in required:
        yield from team_round_present(playbook)


def terminal_texts_replace_ui_texts(playbook: Playbook) -> Iterator[Problem]:
    """`ui.terminal` only holds variants of existing ui texts."""
    names = set(type(playbook.ui).model_fields) - {"terminal", "commands"}
    for name in playbook.ui.terminal:
        if name not in names:
            yield Problem(
                ("ui", "terminal", name),
                f"'{name}' is not a ui text{did_you_mean(name, names)}; a terminal variant "
                "replaces the ui text of the same name",
            )


def nudges_are_sound(playbook: Playbook) -> Iterator[Problem]:
    """Reminders come at growing delays of an hour or more, and quote only {section}."""
    nudges = playbook.nudges
    delays = nudges.after_hours
    if not delays:
        yield Problem(("nudges", "after_hours"), "list at least one delay in hours, like [24, 72]")
    for index, hours in enumerate(delays):
        if hours < 1 or (index and hours <= delays[index - 1]):
            yield Problem(
                ("nudges", "after_hours", index),
                "delays are whole hours, 1 or more, each longer than the one before",
            )
    for lang in LANGUAGES:
        for used in placeholders(nudges.text.get(lang)):
            if used not in NUDGE_PLACEHOLDERS:
                yield Problem(
                    ("nudges", "text", lang),
                    f"'{{{used}}}' is not available here (available: {{section}})",
                )
