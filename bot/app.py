"""The Telegram bot: PTB application, handlers, and how updates reach them.

Usage:
    TELEGRAM_BOT_TOKEN=... rebond run        (polling)
    REBOND_WEBHOOK_URL=https://host/path ... (webhook mode)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from datetime import timedelta

# Durations from PTB as timedelta (its coming default), without a deprecation warning per 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from .bootstrap import Services
from .checkins.sender import CheckinSender
from .conversation import Conversation
from .delivery.dispatcher import Dispatcher
from .delivery.polling import Poller
from .delivery.ratelimit import BACKGROUND, PriorityRateLimiter
from .delivery.webhook import WebhookServer
from .flows.contract import COACH_COMMANDS, REQUIRED_COMMANDS
from .flows.model import LANGUAGES
from .handlers import CheckinHandlers, CoachHandlers, ManagerHandlers, PrivacyHandlers, register
from .handlers.chat import Blocked, ChatView
from .handlers.coach import deliver
from .handlers.manager import receipt_key
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RunningBot:
    """The running parts: PTB's application, the update dispatcher, the check-in sender."""

    application: Application  # type: ignore[type-arg]
    dispatcher: Dispatcher
    checkins: CheckinSender


def build_application(settings: Settings, services: Services) -> RunningBot:
    """The PTB application with every handler, the dispatcher and the check-in sender."""
    assert settings.telegram_bot_token is not None
    api = settings.telegram_api_url
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(PriorityRateLimiter(settings.max_messages_per_second))
        .updater(None)
        .build()
    )
    conversation = services.conversation
    manager = ManagerHandlers(conversation, services.coach)
    register(
        application,
        manager,
        CheckinHandlers(manager, services.checkins),
        PrivacyHandlers(manager, services.coach),
        CoachHandlers(manager, services.coach, publish_coach_menu),
    )
    sender = CheckinSender(conversation, services.checkins, settings.checkin_batch)

    async def already_processed(update: Update) -> bool:
        return conversation.was_replied(receipt_key(update))

    async def mark_done(update: Update) -> None:
        sender = update.effective_user
        user_key = f"telegram:{sender.id}" if sender is not None else None
        conversation.mark_replied(receipt_key(update), user_key)

    async def apologise(update: Update) -> None:
        chat, sender = update.effective_chat, update.effective_user
        if chat is None or sender is None or chat.type != "private":
            return
        user = conversation.user(f"telegram:{sender.id}", sender.first_name)
        text = conversation.playbook.ui.error_apology.get(conversation.language(user))
        await application.bot.send_message(chat.id, text)

    dispatcher = Dispatcher(application.process_update, already_processed, mark_done, apologise)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, Blocked | Forbidden):
            log.info("update.user_unreachable update=%s", update_id)
            return
        log.error(
            "update.failed update=%s error=%s", update_id, type(error).__name__, exc_info=error
        )
        if update_id is not None and error is not None:
            dispatcher.record_failure(update_id, error)

    application.add_error_handler(on_error)
    return RunningBot(application, dispatcher, sender)


async def publish_commands(
    application: Application,  # type: ignore[type-arg]
    conversation: Conversation,
    coach_ids: frozenset[int],
) -> None:
    """The command menu, in English by default and in French for French-speaking users;
    coaches get their commands too, in their chat only."""
    described = conversation.playbook.ui.commands
    for lang in LANGUAGES:
        language = None if lang == "en" else lang
        commands = [BotCommand(name, described[name].get(lang)) for name in REQUIRED_COMMANDS]
        await application.bot.set_my_commands(commands, language_code=language)
    for coach_id in sorted(coach_ids):
        try:
            await publish_coach_menu(application.bot, conversation, coach_id)
        except BadRequest:  # the coach has not opened the bot yet: done at their first command
            log.info("commands.coach_menu_later coach=%s", coach_id)


async def publish_coach_menu(bot: Bot, conversation: Conversation, coach_id: int) -> None:
    """A coach's menu: the managers' commands and the coaches', in their chat only."""
    described = conversation.playbook.ui.commands
    for lang in LANGUAGES:
        names = (*REQUIRED_COMMANDS, *COACH_COMMANDS)
        commands = [BotCommand(name, described[name].get(lang)) for name in names]
        await bot.set_my_commands(
            commands,
            scope=BotCommandScopeChat(coach_id),
            language_code=None if lang == "en" else lang,
        )


async def serve(settings: Settings, services: Services, stop: asyncio.Event) -> None:
    """Run the bot until `stop` is set: polling, or webhook when REBOND_WEBHOOK_URL is set."""
    bot = build_application(settings, services)
    application = bot.application
    async with application:
        await application.start()
        assert application.job_queue is not None, "install python-telegram-bot[job-queue]"

        async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
            await bot.checkins.tick(context.bot)
            await send_news(context.bot, services)

        jobs = application.job_queue
        jobs.run_repeating(tick, interval=settings.checkin_tick_seconds, first=1)
        if settings.retention_days is not None:
            days = settings.retention_days

            async def retention(context: ContextTypes.DEFAULT_TYPE) -> None:
                services.coach.apply_retention(days)

            jobs.run_repeating(retention, interval=timedelta(days=1), first=60)
        try:
            await _deliver(settings, application, bot.dispatcher, services.conversation, stop)
        finally:
            await bot.checkins.wait_idle()
            await application.stop()
    log.info("bot.stopped")


async def _deliver(
    settings: Settings,
    application: Application,  # type: ignore[type-arg]
    dispatcher: Dispatcher,
    conversation: Conversation,
    stop: asyncio.Event,
) -> None:
    """Publish the commands, then feed updates to the dispatcher until `stop` is set."""
    await publish_commands(application, conversation, settings.coach_ids)
    if not settings.webhook_url:
        await application.bot.delete_webhook(drop_pending_updates=False)
        log.info("polling.started")
        await Poller(application.bot, dispatcher, settings.poll_timeout).run(stop)
        return
    secret = settings.webhook_secret
    server = WebhookServer(
        application.bot,
        dispatcher,
        settings.webhook_url,
        secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        settings.webhook_listen,
        settings.webhook_port,
    )
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()


async def send_news(bot: Bot, services: Services) -> None:
    """Tell coaches about reflections shared with them, once the manager's window has passed."""
    for delivery in services.coach.due_news():
        sender = ChatView(bot, services.conversation, 0, delivery.user, BACKGROUND)
        await deliver(sender, delivery)


def run_telegram(settings: Settings, services: Services) -> int:
    """Run the bot in this process until SIGINT or SIGTERM; returns the exit code."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(settings, services, stop)

    try:
        asyncio.run(main())
    except InvalidToken:
        print(
            "rebond: Telegram refused TELEGRAM_BOT_TOKEN; copy the token again from @BotFather",
            file=sys.stderr,
        )
        return 1
    except NetworkError as error:
        print(
            f"rebond: cannot reach the Bot API at {settings.telegram_api_url} ({error}); check "
            "the network, or REBOND_TELEGRAM_API_URL",
            file=sys.stderr,
        )
        return 1
    return 0
