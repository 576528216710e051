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
from typing import Any

# Durations from PTB as timedelta (its coming default), without a deprecation warning per 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import BotCommand, Update
from telegram.error import Forbidden, NetworkError, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from .conversation import Conversation
from .delivery.dispatcher import Dispatcher
from .delivery.polling import Poller
from .delivery.webhook import WebhookServer
from .flows.model import LANGUAGES
from .flows.validate import REQUIRED_COMMANDS
from .handlers import ManagerHandlers, register
from .handlers.chat import Blocked
from .handlers.manager import receipt_key
from .settings import Settings

log = logging.getLogger(__name__)

SEND_RETRIES = 3


class RetryingRateLimiter(AIORateLimiter):
    """PTB's rate limiter (30 messages/s, 429s retried) that also retries 5xx and time-outs.

    Only requests that change nothing when repeated, or that the user must see (sends and
    edits), are worth retrying; long polling has its own loop.
    """

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except (TimedOut, NetworkError) as error:
                retriable = type(error) in (NetworkError, TimedOut) and endpoint != "getUpdates"
                attempt += 1
                if not retriable or attempt > SEND_RETRIES:
                    raise
                log.warning("telegram.retry endpoint=%s attempt=%s", endpoint, attempt)
                await asyncio.sleep(0.5 * attempt)


def build_application(
    settings: Settings, conversation: Conversation
) -> tuple[Application, Dispatcher]:  # type: ignore[type-arg]
    """The PTB application with every handler, and the dispatcher that feeds it updates."""
    assert settings.telegram_bot_token is not None
    api = settings.telegram_api_url
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(
            RetryingRateLimiter(overall_max_rate=settings.max_messages_per_second, max_retries=5)
        )
        .updater(None)
        .build()
    )
    register(application, ManagerHandlers(conversation))

    async def already_processed(update: Update) -> bool:
        return conversation.was_replied(receipt_key(update))

    async def mark_done(update: Update) -> None:
        sender = update.effective_user
        user_key = f"telegram:{sender.id}" if sender is not None else None
        conversation.mark_replied(receipt_key(update), user_key)

    dispatcher = Dispatcher(application.process_update, already_processed, mark_done)

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
    return application, dispatcher


async def publish_commands(application: Application, conversation: Conversation) -> None:  # type: ignore[type-arg]
    """The command menu, in English by default and in French for French-speaking users."""
    described = conversation.playbook.ui.commands
    for lang in LANGUAGES:
        commands = [BotCommand(name, described[name].get(lang)) for name in REQUIRED_COMMANDS]
        await application.bot.set_my_commands(
            commands, language_code=None if lang == "en" else lang
        )


async def serve(settings: Settings, conversation: Conversation, stop: asyncio.Event) -> None:
    """Run the bot until `stop` is set: polling, or webhook when REBOND_WEBHOOK_URL is set."""
    application, dispatcher = build_application(settings, conversation)
    async with application:
        await application.start()
        try:
            await _deliver(settings, application, dispatcher, conversation, stop)
        finally:
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
    await publish_commands(application, conversation)
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


def run_telegram(settings: Settings, conversation: Conversation) -> int:
    """Run the bot in this process until SIGINT or SIGTERM; returns the exit code."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(settings, conversation, stop)

    asyncio.run(main())
    return 0
