"""Webhook mode: Telegram posts each update; we answer 200 only once it is processed.

PTB's `run_webhook` answers Telegram as soon as an update is queued, before any handler ran,
so an update received just before a crash would be lost. This receiver (aiohttp) checks the
secret token on every request, processes the update through the same dispatcher as polling,
then answers; an update that was not answered is sent again by Telegram, and its receipt
makes the second delivery harmless.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from .dispatcher import Dispatcher
from .polling import ALLOWED_UPDATES

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """An HTTP endpoint at the webhook URL's path, registered with Telegram on start."""

    def __init__(
        self, bot: Bot, dispatcher: Dispatcher, url: str, secret: str, listen: str, port: int
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.url = url
        self.secret = secret
        self.listen = listen
        self.port = port
        self.path = urlsplit(url).path or "/"
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen, then tell Telegram where to post (pending updates are kept)."""
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        await self.bot.set_webhook(
            url=self.url,
            secret_token=self.secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        log.info("webhook.listening port=%s path=%s", self.port, self.path)

    async def stop(self) -> None:
        """Stop listening; the webhook stays set, so Telegram keeps updates for the restart."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook.refused reason=secret_token")
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), self.bot)
        except ValueError:
            log.warning("webhook.refused reason=not_json")
            return web.Response(status=400, text="bad request")
        await self.dispatcher.process(update)
        return web.Response(status=200)
