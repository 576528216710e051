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

from .checkins import CheckinHandlers
from .manager import ManagerHandlers

log = logging.getLogger(__name__)


def register(
    application: Application,  # type: ignore[type-arg]
    manager: ManagerHandlers,
    checkins: CheckinHandlers,
) -> None:
    """Every handler of the bot, in one place."""
    private = filters.ChatType.PRIVATE
    new_message = filters.UpdateType.MESSAGE
    commands = {
        "start": manager.start,
        "reflect": manager.reflect,
        "resume": manager.resume,
        "back": manager.back,
        "skip": manager.skip,
        "pause": manager.pause,
        "cancel": manager.cancel,
        "history": manager.history,
        "language": manager.language,
        "checkin": checkins.checkin,
        "progress": checkins.progress,
        "help": manager.help,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private & new_message))
    application.add_handler(MessageHandler(private & new_message & filters.COMMAND, manager.help))
    application.add_handler(MessageHandler(private & new_message & filters.TEXT, manager.text))
    application.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE & filters.TEXT, manager.edited)
    )
    application.add_handler(MessageHandler(private & new_message, manager.media))
    application.add_handler(CallbackQueryHandler(checkins.later, pattern=r"^k:"))
    application.add_handler(CallbackQueryHandler(manager.button))
    application.add_handler(ChatMemberHandler(manager.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(~private & new_message, manager.group))


__all__ = ["CheckinHandlers", "ManagerHandlers", "Update", "register"]
