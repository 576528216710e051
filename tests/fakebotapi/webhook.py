"""Webhook delivery: POST each update, in order, one at a time, retrying on failure."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

import aiohttp

from .state import Delivery, FakeBot, Webhook

if TYPE_CHECKING:
    from .server import FakeBotApi

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookSender:
    """One delivery task per bot that has a webhook."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self._session: aiohttp.ClientSession | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Open the HTTP client used for deliveries."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.api.webhook_timeout)
        )

    async def close(self) -> None:
        """Stop every delivery task and close the HTTP client."""
        tasks = [*self._tasks.values(), *self._stopping]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def restart(self, bot: FakeBot) -> None:
        """(Re)start delivery after the webhook of ``bot`` changed; stop it if removed."""
        old = self._tasks.pop(bot.token, None)
        if old is not None:
            # An update being delivered stays queued and is sent again.
            old.cancel()
            self._stopping.add(old)
            old.add_done_callback(self._stopping.discard)
        if bot.webhook is not None:
            self._tasks[bot.token] = asyncio.get_running_loop().create_task(
                self._run(bot, bot.webhook), name=f"fakebotapi-webhook-{bot.id}"
            )

    async def _run(self, bot: FakeBot, hook: Webhook) -> None:
        while True:
            await bot.changes.wait_for(lambda: bot.webhook is not hook or bot.updates, None)
            if bot.webhook is not hook:
                return
            update = bot.updates[0]
            await self._deliver(bot, hook, update)
            # Delivered or given up: Telegram moves on either way.
            if bot.updates and bot.updates[0] is update:
                bot.updates.pop(0)
                bot.changes.notify()

    async def _deliver(self, bot: FakeBot, hook: Webhook, update: dict[str, Any]) -> bool:
        delays = [*self.api.webhook_retry_delays, None]
        for attempt, delay in enumerate(delays, start=1):
            secret = hook.secret_token
            if bot.webhook_secret_override is not None:
                secret = bot.webhook_secret_override or None
            status, error = await self._post(hook.url, secret, update)
            bot.deliveries.append(
                Delivery(
                    self.api.now(), update["update_id"], attempt, hook.url, secret, status, error
                )
            )
            if status is not None and 200 <= status < 300:
                bot.changes.notify()
                return True
            bot.last_error_date = int(self.api.now())
            bot.last_error_message = error
            bot.changes.notify()
            if delay is None:
                return False
            await asyncio.sleep(delay)
        return False

    async def _post(
        self, url: str, secret: str | None, update: dict[str, Any]
    ) -> tuple[int | None, str | None]:
        assert self._session is not None, "FakeBotApi is not started"
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        try:
            async with self._session.post(
                url, data=json.dumps(update), headers=headers, allow_redirects=False
            ) as response:
                with contextlib.suppress(aiohttp.ClientError):
                    await response.read()
                if 200 <= response.status < 300:
                    return response.status, None
                reason = f" {response.reason}" if response.reason else ""
                return (
                    response.status,
                    f"Wrong response from the webhook: {response.status}{reason}",
                )
        except TimeoutError:
            return None, "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return None, "Connection refused"
        except aiohttp.ClientError as exc:
            return None, f"Connection error: {exc.__class__.__name__}"
