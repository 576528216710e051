"""Webhook mode: Telegram posts each update; we answer 200 once it is in the inbox.

This receiver (aiohttp) checks the secret token on every request, writes the update to the
same inbox as polling, and answers at once: 200 once written, 500 when the database cannot be
written (Telegram posts it again later), 400 for a body that is not an update.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot

from .inbox import Inbox
from .polling import ALLOWED_UPDATES

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """An HTTP endpoint at the webhook URL's path, registered with Telegram on start."""

    def __init__(
        self, bot: Bot, inbox: Inbox, url: str, secret: str, listen: str, port: int
    ) -> None:
        self.bot = bot
        self.inbox = inbox
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
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            log.warning("webhook.refused reason=not_an_update")
            return web.Response(status=400, text="bad request")
        try:
            received = await self.inbox.receive([body])
        except ValueError:
            log.warning("webhook.refused reason=not_an_update")
            return web.Response(status=400, text="bad request")
        if not received:
            return web.Response(status=500, text="try again")
        return web.Response(status=200)
