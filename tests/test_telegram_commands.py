"""The command menus published to Telegram match the CommandHandlers registered (refs #14)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CommandHandler

from bot.flows.contract import COACH_COMMANDS, REQUIRED_COMMANDS
from bot.handlers import register


class AnyHandlers:
    """Stands in for every handler object: each attribute is a do-nothing callback."""

    def __getattr__(self, name: str) -> Any:
        async def callback(update: object, context: object) -> None:
            return None

        return callback


def registered_commands() -> set[str]:
    application = Application.builder().token("123:TEST").build()
    stand_in: Any = AnyHandlers()
    register(application, stand_in, stand_in, stand_in, stand_in, stand_in, stand_in)
    return {
        command
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


def test_every_menu_command_has_a_handler_and_every_handler_a_menu_entry():
    menus = {*REQUIRED_COMMANDS, *COACH_COMMANDS}
    registered = registered_commands()
    assert menus - registered == set(), "in a menu but no CommandHandler"
    assert registered - menus == set(), "a CommandHandler missing from the menus"
