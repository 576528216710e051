"""The Telegram bot: PTB application, handlers, and how updates reach them.

Usage:
    TELEGRAM_BOT_TOKEN=... rebond run        (polling)
    REBOND_WEBHOOK_URL=https://host/path ... (webhook mode)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

# Durations from PTB as timedelta (its coming default), without a deprecation warning per 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import BotCommandScopeChat, MenuButtonWebApp, Update, WebAppInfo
from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from storage import delivery as store
from storage import web as web_store
from storage.db import to_stored
from storage.repository import User, find_user

from .bootstrap import Services
from .checkins.sender import CheckinSender
from .conversation import Conversation
from .delivery.inbox import Inbox
from .delivery.outbox import KINDS, Storage, bot_commands
from .delivery.polling import Poller, PollingConflict
from .delivery.ratelimit import SendLimiter, seconds
from .delivery.sender import Sender
from .delivery.supervise import Supervisor, TaskDied
from .delivery.webhook import WebhookServer
from .flows.contract import COACH_COMMANDS, REQUIRED_COMMANDS
from .flows.model import LANGUAGES, Lang
from .handlers import (
    CheckinHandlers,
    CoachHandlers,
    JourneyHandlers,
    ManagerHandlers,
    PrivacyHandlers,
    TeamHandlers,
    register,
)
from .handlers.chat import ChatView
from .handlers.coach import queue_feedback
from .handlers.drawn import RENDERERS
from .handlers.render import Span
from .handlers.team import send_team_summaries
from .journey.sender import JourneySender
from .settings import Settings
from .startup import port_in_use
from .userkey import UserKey

log = logging.getLogger(__name__)

STARTUP_ATTEMPTS = 4
WEB_BUTTON = "Rebond"
"""The coaches' menu button's label (the bot's name: the same in French and English)."""
SENDER_PARALLEL = 16
"""Chats the sender serves at once (a slow chat holds one of them)."""


class Stoppable(Protocol):
    """A server started beside the bot: `await stop()` ends it."""

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class WebSide:
    """The coach's web view as the Telegram side sees it, injected by the composition root
    (bot.app never imports bot.web): /web's link, /web logout, and the server to start."""

    url: str
    issue_link: Callable[[User], str | None]
    end_sessions: Callable[[User], int]
    start: Callable[[], Awaitable[Stoppable]]


@dataclass
class RunningBot:
    """The running parts: PTB's application (routing to handlers), the inbox and its workers,
    the outbox's sender, the check-in sender."""

    application: Application  # type: ignore[type-arg]
    storage: Storage
    inbox: Inbox
    sender: Sender
    checkins: CheckinSender
    team: TeamHandlers
    journey: JourneySender
    """Reminders, commitments due, the coach thread's undelivered messages (refs #11)."""


def build_application(
    settings: Settings,
    services: Services,
    web_side: WebSide | None = None,
    supervisor: Supervisor | None = None,
) -> RunningBot:
    """The PTB application with every handler, the inbox, the sender and the check-in sender."""
    assert settings.telegram_bot_token is not None
    api = settings.telegram_api_url
    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .updater(None)
        # httpcore checks every pooled connection on each request: a pool sized to the
        # sender's parallel sends, not PTB's 256, keeps that cheap.
        .connection_pool_size(SENDER_PARALLEL + 4)
        .build()
    )
    conversation = services.conversation
    storage = Storage(conversation.db, conversation.clock)
    web_url = web_side.url if web_side is not None else None
    manager = ManagerHandlers(
        conversation,
        storage,
        services.coach,
        services.journey,
        services.thread,
        publish_chat_menu,
    )
    checkin_handlers = CheckinHandlers(manager, services.checkins)
    coach = CoachHandlers(
        manager,
        services.coach,
        functools.partial(publish_coach_menu, web_url=web_url),
        web_side,
    )
    team = TeamHandlers(manager, services.team, services.coach)
    register(
        application,
        manager,
        checkin_handlers,
        PrivacyHandlers(manager, services.coach),
        coach,
        JourneyHandlers(
            manager, checkin_handlers, coach, services.journey, services.thread, services.checkins
        ),
        team,
    )
    checkins = CheckinSender(conversation, services.checkins, storage, settings.checkin_batch)
    journey = JourneySender(services, storage, settings.checkin_batch)

    def apologise(update: Update) -> None:
        chat, sender = update.effective_chat, update.effective_user
        if chat is None or sender is None or chat.type != "private":
            return
        user = conversation.user(UserKey.telegram(sender.id), sender.first_name)
        text = conversation.playbook.ui.in_(conversation.language(user)).error_apology
        ChatView(storage, conversation, chat.id, user, kind="apology").text(text)

    inbox = Inbox(
        application.bot,
        storage,
        application.process_update,
        apologise,
        settings.wal_scrub_seconds,
        supervisor.watch if supervisor is not None else None,
    )

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if not isinstance(error, sqlite3.OperationalError):  # that one the inbox waits out
            log.error(
                "update.failed update=%s error=%s", update_id, type(error).__name__, exc_info=error
            )
        if update_id is not None and error is not None:
            inbox.record_failure(update_id, error)

    application.add_error_handler(on_error)
    limiter = SendLimiter(settings.max_messages_per_second)
    sender = Sender(application.bot, storage, limiter, SENDER_PARALLEL, RENDERERS)
    return RunningBot(application, storage, inbox, sender, checkins, team, journey)


def publish_commands(
    storage: Storage,
    conversation: Conversation,
    coach_ids: frozenset[int],
    web_url: str | None = None,
) -> None:
    """The command menu, in English by default and in French for French-speaking users;
    coaches get their commands too, in their chat only (through the outbox, so a refusal or a
    5xx delays them without stopping the bot)."""
    for lang in LANGUAGES:
        payload = _menu(conversation, REQUIRED_COMMANDS, lang)
        storage.add("commands", 0, "setMyCommands", payload)
    for coach_id in sorted(coach_ids):
        publish_coach_menu(storage, conversation, coach_id, web_url)
    withdraw_coach_menus(storage, coach_ids)


def publish_coach_menu(
    storage: Storage, conversation: Conversation, coach_id: int, web_url: str | None = None
) -> None:
    """A coach's menu: the managers' commands and the coaches', in their chat only (a coach
    who never opened the bot gets it at their first command); with an https `web_url`, the
    menu button opens the web view as a Mini App (Telegram opens Mini Apps over https only),
    and without one, a button published before goes back to Telegram's default."""
    coach = find_user(conversation.db, UserKey.telegram(coach_id))
    if coach is not None and coach.lang_chosen:  # the language they chose with /language
        publish_chat_menu(storage, conversation, coach_id, conversation.language(coach), True)
    else:
        for lang in LANGUAGES:
            payload = _menu(conversation, (*REQUIRED_COMMANDS, *COACH_COMMANDS), lang)
            payload["scope"] = BotCommandScopeChat(coach_id).to_dict()
            storage.add("commands", coach_id, "setMyCommands", payload)
    web_app = web_url is not None and web_url.startswith("https://")
    if web_app and web_url is not None:
        button = MenuButtonWebApp(WEB_BUTTON, WebAppInfo(f"{web_url.rstrip('/')}/"))
        payload = {"chat_id": coach_id, "menu_button": button.to_dict()}
        storage.add("commands", coach_id, "setChatMenuButton", payload)
    elif web_store.menus(storage.db).get(coach_id):
        storage.add("commands", coach_id, "setChatMenuButton", {"chat_id": coach_id})
    web_store.remember_menu(storage.db, coach_id, web_app, to_stored(storage.clock()))


def withdraw_coach_menus(storage: Storage, coach_ids: frozenset[int]) -> list[int]:
    """Take a coach's menu back from every chat that got one and is no longer a coach's
    (REBOND_COACH_IDS changed): Telegram's default menu button (a setChatMenuButton without
    one) and no coach commands in that chat; through the outbox, like the menus themselves.
    The chats it queued this for."""
    withdrawn = []
    for chat_id, web_app in sorted(web_store.menus(storage.db).items()):
        if chat_id in coach_ids:
            continue
        if web_app:
            storage.add("commands", chat_id, "setChatMenuButton", {"chat_id": chat_id})
        for lang in LANGUAGES:
            payload: dict[str, object] = {"scope": BotCommandScopeChat(chat_id).to_dict()}
            if lang != "en":
                payload["language_code"] = lang
            storage.add("commands", chat_id, "deleteMyCommands", payload)
        web_store.forget_menu(storage.db, chat_id)
        withdrawn.append(chat_id)
    if withdrawn:
        log.info("coach.menus_withdrawn chats=%s", len(withdrawn))
    return withdrawn


def publish_chat_menu(
    storage: Storage, conversation: Conversation, chat_id: int, lang: Lang, coach: bool
) -> None:
    """One chat's menu in the language chosen with /language, whatever the Telegram app's
    language (refs #11): scoped to the chat, for every language code Rebond publishes and for
    none (Telegram shows a chat's menu for the app's language first, then the chat's)."""
    names = (*REQUIRED_COMMANDS, *COACH_COMMANDS) if coach else REQUIRED_COMMANDS
    for code in ("", *LANGUAGES):
        payload = _menu(conversation, names, lang)
        payload.pop("language_code", None)
        payload["scope"] = BotCommandScopeChat(chat_id).to_dict()
        if code:
            payload["language_code"] = code
        storage.add("commands", chat_id, "setMyCommands", payload)


def _menu(conversation: Conversation, names: tuple[str, ...], lang: Lang) -> dict[str, object]:
    """setMyCommands' parameters: BotCommand objects, the language unless English."""
    described = conversation.playbook.ui.commands
    commands = bot_commands((name, described[name].get(lang)) for name in names)
    payload: dict[str, object] = {"commands": commands}
    if lang != "en":
        payload["language_code"] = lang
    return payload


async def serve(
    settings: Settings, services: Services, stop: asyncio.Event, web_side: WebSide | None = None
) -> None:
    """Run the bot until `stop` is set: polling, or webhook when REBOND_WEBHOOK_URL is set;
    the coach's web view beside it when `web_side` is given (REBOND_WEB_URL).

    PollingConflict if another process keeps polling the same token; StartupError if the
    webhook's or the web view's port is taken.
    """
    web_server = await web_side.start() if web_side is not None else None
    try:
        await _serve(settings, services, stop, web_side)
    finally:
        if web_server is not None:
            await web_server.stop()
    log.info("bot.stopped")


async def _serve(
    settings: Settings, services: Services, stop: asyncio.Event, web_side: WebSide | None
) -> None:
    """The parts started in order, stopped in reverse; TaskDied (after a clean stop) if the
    sender or an inbox worker died."""
    supervisor = Supervisor(stop)
    bot = build_application(settings, services, web_side, supervisor)
    application, storage = bot.application, bot.storage
    await _startup_call(application.initialize)  # getMe: checks the token
    services.team.bot_username = application.bot.username  # team round links: t.me/<it>
    async with application:
        await application.start()
        assert application.job_queue is not None, "install python-telegram-bot[job-queue]"

        async def tick(context: ContextTypes.DEFAULT_TYPE) -> None:
            await bot.checkins.tick()
            await bot.journey.tick()
            await send_news(storage, services)
            await send_web_feedback(storage, services, keep)
            await send_disk_cleared(storage, services)
            await send_team_summaries(storage, bot.team)

        jobs = application.job_queue
        keep = timedelta(days=settings.delivery_keep_days)
        jobs.run_repeating(tick, interval=settings.checkin_tick_seconds, first=1)

        async def housekeeping(context: ContextTypes.DEFAULT_TYPE) -> None:
            if settings.retention_days is not None:
                services.coach.apply_retention(settings.retention_days)
            async with storage.lock:
                pruned = store.prune(storage.db, to_stored(storage.clock() - keep))
            log.info("delivery.pruned %s", " ".join(f"{k}={v}" for k, v in pruned.items()))

        jobs.run_repeating(housekeeping, interval=timedelta(days=1), first=60)
        async with storage.transaction():
            web_url = web_side.url if web_side is not None else None
            publish_commands(storage, services.conversation, settings.coach_ids, web_url)
        await bot.inbox.recover()
        sending = asyncio.create_task(bot.sender.run(stop))
        supervisor.watch(sending, "sender", until_stop=True)
        try:
            await _receive(settings, application, bot.inbox, stop)
        finally:
            stop.set()
            await bot.inbox.drain()
            await bot.checkins.wait_idle()
            await bot.journey.wait_idle()
            await asyncio.gather(sending, return_exceptions=True)  # reported by the supervisor
            await application.stop()
    supervisor.raise_if_died()


async def _startup_call(call: Callable[[], Awaitable[object]]) -> None:
    """A start-up call (getMe, deleteWebhook), tried again on a 429, a 5xx or a time-out;
    InvalidToken and a lasting network failure end the start-up."""
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            await call()
            return
        except RetryAfter as error:
            if attempt == STARTUP_ATTEMPTS:
                raise NetworkError(f"flood control for {seconds(error.retry_after):.0f}s") from None
            log.warning("startup.flood_wait attempt=%s", attempt)
            await asyncio.sleep(seconds(error.retry_after))
        except NetworkError as error:
            transient = type(error) in (NetworkError, TimedOut)
            if not transient or attempt == STARTUP_ATTEMPTS:
                raise
            log.warning("startup.retry attempt=%s error=%s", attempt, error)
            await asyncio.sleep(0.5 * attempt)


async def _receive(
    settings: Settings,
    application: Application,  # type: ignore[type-arg]
    inbox: Inbox,
    stop: asyncio.Event,
) -> None:
    """Feed updates to the inbox until `stop` is set: long polling, or the webhook."""
    if not settings.webhook_url:
        await _startup_call(lambda: application.bot.delete_webhook(drop_pending_updates=False))
        log.info("polling.started")
        await Poller(application.bot, inbox, settings.poll_timeout).run(stop)
        return
    secret = settings.webhook_secret
    server = WebhookServer(
        application.bot,
        inbox,
        settings.webhook_url,
        secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        settings.webhook_listen,
        settings.webhook_port,
    )
    try:
        await server.start()
    except OSError as error:
        await server.stop()
        raise port_in_use(settings.webhook_listen, settings.webhook_port, error) or error from None
    try:
        await stop.wait()
    finally:
        await server.stop()


async def send_web_feedback(storage: Storage, services: Services, keep: timedelta) -> None:
    """Send the feedback coaches wrote on the web view (stored there, never queued): each is
    queued in one transaction with the check that it was not queued before, and marked
    delivered when the sender delivers it, as /feedback's are. Only feedback younger than the
    outbox keeps its rows (`keep`) is looked at, so a pruned row never queues it again."""
    window = min(KINDS["feedback"].lifetime, keep)
    async with storage.transaction():
        for delivery in services.coach.undelivered_feedback(window):
            if queue_feedback(storage, services.conversation, delivery):
                log.info("feedback.queued feedback=%s source=web", delivery.feedback_id)


async def send_disk_cleared(storage: Storage, services: Services) -> None:
    """Tell each person whose /forget was still clearing the write-ahead log that it is done,
    once the scrub has completed (their reply said Rebond would write then)."""
    cleared = services.coach.disk_cleared()
    if not cleared:
        return
    async with storage.transaction():
        for person in cleared:
            chat_id = UserKey(person.key).telegram_id
            if chat_id is not None:
                payload = {"chat_id": chat_id, "text": person.text}
                storage.add("notice", chat_id, "sendMessage", payload)
                log.info("privacy.disk_cleared_queued")


async def send_news(storage: Storage, services: Services) -> None:
    """Tell coaches about reflections shared with them, once the manager's window has passed;
    each notification is marked handled in the transaction that puts it in the outbox, and
    sent when the sender delivers it."""
    async with storage.transaction():
        for news in services.coach.due_news():
            chat_id = UserKey(news.user.key).telegram_id
            if chat_id is not None and news.user.blocked_at is None:
                view = ChatView(
                    storage,
                    services.conversation,
                    chat_id,
                    news.user,
                    kind="coach_notification",
                )
                number = news.notification_id
                view.say([Span(news.text)], subject=f"notification:{number}" if number else None)


def run_telegram(settings: Settings, services: Services, web_side: WebSide | None = None) -> int:
    """Run the bot (and the web view when given) in this process until SIGINT or SIGTERM;
    returns the exit code."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(settings, services, stop, web_side)

    try:
        asyncio.run(main())
    except PollingConflict:
        print(
            "rebond: Telegram answered 409 Conflict: another process polls this bot token "
            "(or a webhook is set); stop it, or give each bot its own token",
            file=sys.stderr,
        )
        return 1
    except TaskDied as error:
        print(
            f"rebond: a background task died ({error}); stopped so that a restart resumes "
            "delivery (nothing pending is lost: it is in the inbox and the outbox)",
            file=sys.stderr,
        )
        return 1
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
