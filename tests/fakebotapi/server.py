"""The HTTP server: routing, token checks, fault injection, recording, lifecycle."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import ApiError, not_found, too_many_requests, unauthorized
from .methods import METHODS, RATE_LIMITED, Call, Described
from .params import Params, read_params
from .state import Chat, FakeBot, RequestRecord
from .user import FakeUser
from .webhook import WebhookSender

if TYPE_CHECKING:
    from .threaded import ThreadedFakeBotApi

log = logging.getLogger("fakebotapi")

TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_METHOD_PATH = re.compile(r"/bot([^/]*)/([^/]*)/?")
_FILE_PATH = re.compile(r"/file/bot([^/]*)/(.+)")


def _json_error(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


def _chat_id(params: Params) -> int | None:
    try:
        return params.get_int("chat_id")
    except ApiError:
        return None


class FakeBotApi:
    """A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests.

    Point a bot at it with ``ApplicationBuilder().base_url(api.base_url)`` (and
    ``.base_file_url(api.base_file_url)`` to download files); then talk to the bot
    through ``api.user(token, ...)`` and inspect ``api.bot(token)``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        now: Callable[[], float] = time.time,
        bot_username: str = "rebond_test_bot",
        bot_first_name: str = "Rebond",
        strict_html: bool = True,
        webhook_retry_delays: Sequence[float] = (0.05, 0.1, 0.2, 0.4),
        webhook_timeout: float = 5.0,
        callback_query_ttl: float | None = None,
        max_poll_timeout: float = 50.0,
    ) -> None:
        self.host = host
        self.port = port
        self.now = now
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_html = strict_html
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.webhook_timeout = webhook_timeout
        self.callback_query_ttl = callback_query_ttl
        self.max_poll_timeout = max_poll_timeout
        self.bots: dict[str, FakeBot] = {}
        self.webhooks = WebhookSender(self)
        # Exceptions raised by the fake itself (bugs), answered as 500s.
        self.internal_errors: list[BaseException] = []
        self.closing = False
        self._users: dict[tuple[str, int], FakeUser] = {}
        self._next_user_id = 700_000_001
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeBotApi:
        """Listen on host:port (a free port by default)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # Long polls end as soon as `closing` is set, so shutdown never waits long.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.closing = False
        await self.webhooks.start()
        return self

    async def stop(self) -> None:
        """End pending long polls and deliveries, then close every socket."""
        if self._runner is None:
            return
        self.closing = True
        for bot in self.bots.values():
            bot.changes.notify()
        await self.webhooks.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @classmethod
    def start_in_thread(cls, **kwargs: Any) -> ThreadedFakeBotApi:
        """Run a server on its own event loop in a thread; its handle has blocking methods."""
        from .threaded import ThreadedFakeBotApi

        return ThreadedFakeBotApi(**kwargs)

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass to PTB's base_url (requests go to base_url + token + /method)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass to PTB's base_file_url for file downloads."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ bots and users

    def bot(
        self, token: str, *, username: str | None = None, first_name: str | None = None
    ) -> FakeBot:
        """The state of a bot token (created on first use, like any valid token)."""
        if not TOKEN.fullmatch(token):
            raise ValueError(f"not a bot token: {token!r} (expected <digits>:<letters>)")
        bot = self.bots.get(token)
        if bot is None:
            bot = FakeBot(
                self, token, username or self.bot_username, first_name or self.bot_first_name
            )
            self.bots[token] = bot
        if username is not None:
            bot.username = username
        if first_name is not None:
            bot.first_name = first_name
        return bot

    def user(
        self,
        token: str,
        user_id: int | None = None,
        first_name: str = "Claire",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        """The user ``user_id`` chatting with bot ``token`` (same object on later calls)."""
        bot = self.bot(token)
        if user_id is None:
            while (token, self._next_user_id) in self._users:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        existing = self._users.get((token, user_id))
        if existing is not None:
            return existing
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        chat = Chat(user, bot.chat_instance(user_id))
        bot.chats[user_id] = chat
        fake = FakeUser(self, bot, chat)
        self._users[(token, user_id)] = fake
        return fake

    # ------------------------------------------------------------------ HTTP

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        file_match = _FILE_PATH.fullmatch(request.path)
        if file_match is not None:
            return self._serve_file(*file_match.groups())
        match = _METHOD_PATH.fullmatch(request.path)
        if match is None:
            return _json_error(not_found())
        token, name = match.groups()
        known = self.bots.get(token)
        if not TOKEN.fullmatch(token) or (known is not None and known.revoked):
            return _json_error(unauthorized())
        bot = self.bot(token)
        entry = METHODS.get(name.lower())
        record = RequestRecord(self.now(), entry[0] if entry else name, {})
        bot.requests.append(record)
        try:
            params = await read_params(request)
            record.params = params.loggable()
            if entry is None:
                raise not_found()
            body = await self._call(bot, entry[0], entry[1], params, request)
            status = 200
        except ApiError as error:
            body, status = error.body(), error.status
        except ConnectionResetError:  # the client went away mid-request (a killed bot): no answer
            log.info("fake Bot API: the client closed the connection during %s", record.method)
            body = {"ok": False, "error_code": 400, "description": "Bad Request: connection lost"}
            status = 400  # nobody reads it: the connection is gone
        except Exception as exc:  # a bug in the fake: answer like Telegram's 500, keep it
            log.exception("fake Bot API failed on %s", record.method)
            self.internal_errors.append(exc)
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error (fake API bug: {exc!r})",
            }
            status = 500
        if status == 429:
            bot.flood_count += 1
        record.status, record.response = status, body
        log.debug("%s %s -> %s", bot.id, record.method, status)
        bot.changes.notify()
        return web.json_response(body, status=status)

    async def _call(
        self, bot: FakeBot, name: str, handler: Any, params: Params, request: web.Request
    ) -> dict[str, Any]:
        fault = bot.take_fault(name, _chat_id(params))
        if fault is not None:
            if fault.delay:
                # Sleep, but let stop() cut the delay short.
                with contextlib.suppress(TimeoutError):
                    await bot.changes.wait_for(lambda: self.closing, fault.delay)
            if fault.error is not None:
                raise fault.error
        if bot.rate_limiter is not None and name.lower() in RATE_LIMITED:
            retry_after = bot.rate_limiter.check(_chat_id(params))
            if retry_after:
                raise too_many_requests(retry_after)
        result = await handler(Call(self, bot, params, request))
        if isinstance(result, Described):
            return {"ok": True, "result": result.result, "description": result.description}
        return {"ok": True, "result": result}

    def _serve_file(self, token: str, file_path: str) -> web.Response:
        bot = self.bots.get(token)
        if bot is None or bot.revoked:
            return _json_error(unauthorized())
        for stored in bot.files.values():
            if stored.file_path == file_path and stored.data is not None:
                return web.Response(
                    body=stored.data, content_type=stored.mime_type or "application/octet-stream"
                )
        return _json_error(not_found())
