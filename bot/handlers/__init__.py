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
    filters,
)

from .callbacks import ButtonKind, routing_pattern
from .checkins import CheckinHandlers
from .coach import CoachHandlers
from .journey import JourneyHandlers
from .manager import ManagerHandlers
from .privacy import PrivacyHandlers

log = logging.getLogger(__name__)


def register(
    application: Application,  # type: ignore[type-arg]
    manager: ManagerHandlers,
    checkins: CheckinHandlers,
    privacy: PrivacyHandlers,
    coach: CoachHandlers,
    journey: JourneyHandlers,
) -> None:
    """Every handler of the bot, in one place."""
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
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private & new_message))
    application.add_handler(MessageHandler(private & new_message & filters.COMMAND, manager.help))
    application.add_handler(MessageHandler(private & new_message & filters.TEXT, manager.text))
    application.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE & filters.TEXT, manager.edited)
    )
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
    application.add_handler(MessageHandler(~private & new_message, manager.group))


__all__ = [
    "CheckinHandlers",
    "CoachHandlers",
    "JourneyHandlers",
    "ManagerHandlers",
    "PrivacyHandlers",
    "Update",
    "register",
]
