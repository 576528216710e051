"""Telegram handlers: thin adapters from updates to the conversation service, registered here."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from .callbacks import ButtonKind, routing_pattern
from .checkins import CheckinHandlers
from .coach import CoachHandlers
from .journey import JourneyHandlers
from .manager import ManagerHandlers, edited_command
from .privacy import PrivacyHandlers
from .team import TeamHandlers

log = logging.getLogger(__name__)


def register(
    application: Application,  # type: ignore[type-arg]
    manager: ManagerHandlers,
    checkins: CheckinHandlers,
    privacy: PrivacyHandlers,
    coach: CoachHandlers,
    journey: JourneyHandlers,
    team: TeamHandlers,
) -> None:
    """Every handler of the bot, in one place (the team round's gate runs ahead of every
    other handler, in group -1)."""
    private = filters.ChatType.PRIVATE
    privacy_kinds = routing_pattern(
        ButtonKind.REFLECTION_PRIVACY,
        ButtonKind.INVITE,
        ButtonKind.PAST_REFLECTION,
        ButtonKind.FORGET,
    )
    new_message = filters.UpdateType.MESSAGE
    commands = {
        "start": privacy.start,
        "reflect": manager.reflect,
        "resume": manager.resume,
        "back": manager.back,
        "skip": manager.skip,
        "pause": manager.pause,
        "cancel": manager.cancel,
        "history": manager.history,
        "language": manager.language,
        "checkin": journey.checkin,
        "progress": checkins.progress,
        "commitments": journey.commitments,
        "quiet": journey.quiet,
        "share": privacy.share,
        "unshare": privacy.unshare,
        "mydata": privacy.mydata,
        "forget": privacy.forget,
        "help": manager.help,
        "invite": coach.invite,
        "managers": coach.managers,
        "reflections": coach.reflections,
        "read": coach.read,
        "trend": coach.trend,
        "note": coach.note,
        "feedback": coach.feedback,
        "reply": journey.reply,
        "notify": coach.notify,
        "web": coach.web_view,
        "zone": coach.zone,
    }
    edited = filters.UpdateType.EDITED_MESSAGE
    service = filters.StatusUpdate.ALL
    # A command runs whether typed or edited in ("/pauze" corrected into "/pause"), but once: a
    # command already run and edited is not run again; any other "/word" is an unknown command;
    # neither is ever an answer.
    application.add_handler(TypeHandler(Update, team.gate), group=-1)
    commands["team"] = team.command
    application.add_handler(
        CallbackQueryHandler(team.button, pattern=routing_pattern(ButtonKind.TEAM_ROUND))
    )
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private & new_message))
        application.add_handler(
            CommandHandler(
                name, edited_command(manager, callback, commands), filters=private & edited
            )
        )
    application.add_handler(
        MessageHandler(private & (new_message | edited) & filters.COMMAND, manager.unknown_command)
    )
    application.add_handler(MessageHandler(private & new_message & filters.TEXT, manager.text))
    application.add_handler(MessageHandler(private & edited & filters.TEXT, manager.edited))
    application.add_handler(MessageHandler(private & new_message & service, manager.service))
    application.add_handler(MessageHandler(private & new_message, manager.media))
    application.add_handler(
        CallbackQueryHandler(checkins.later, pattern=routing_pattern(ButtonKind.SNOOZE_CHECKIN))
    )
    application.add_handler(CallbackQueryHandler(privacy.button, pattern=privacy_kinds))
    journey_kinds = routing_pattern(
        ButtonKind.HOME,
        ButtonKind.NUDGE,
        ButtonKind.CANCEL_FLOW,
        ButtonKind.REPLY_TO_COACH,
        ButtonKind.SETTING,
    )
    application.add_handler(CallbackQueryHandler(journey.button, pattern=journey_kinds))
    application.add_handler(CallbackQueryHandler(manager.button))
    application.add_handler(ChatMemberHandler(manager.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(~private & service, manager.group_service))
    application.add_handler(MessageHandler(~private & new_message, manager.group))


__all__ = [
    "CheckinHandlers",
    "CoachHandlers",
    "JourneyHandlers",
    "ManagerHandlers",
    "PrivacyHandlers",
    "TeamHandlers",
    "Update",
    "register",
]
