"""A fake Telegram Bot API server for end-to-end tests of real bots over loopback HTTP.

The server runs in the test process (state survives bot restarts); the bot, in-process
or in a subprocess, only needs its base URL::

    from tests.fakebotapi import FakeBotApi

    async with FakeBotApi() as api:
        app = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
        ...  # or start a subprocess with api.url
        claire = api.user(TOKEN, 42, "Claire", language_code="fr")
        await claire.send("/start")
        hello = await claire.next_message()
        await claire.press(hello, "Oui")
        assert claire.unanswered_callback_queries == []

Cheat sheet:

* ``api.bot(token)`` -> FakeBot: ``calls(method)``, ``count(method)``,
  ``wait_for_call(method)``, ``fail_next(429 | 403 | 500, method=..., times=...)``,
  ``delay_next(seconds)``, ``enable_rate_limit()``, ``flood_count``, ``deliveries``,
  ``webhook_secret_override``, ``get_commands(scope, language_code)``,
  ``unanswered_callback_queries``, ``pending_update_count``, ``revoked``.
* ``api.user(token, user_id, first_name, ...)`` -> FakeUser: ``send``, ``press``,
  ``press_data``, ``send_photo``/``send_sticker``/``send_voice``/``send_document``, ``edit``,
  ``next_message``, ``expect_silence``, ``messages``, ``wait_until``, ``block``/``unblock``,
  ``wait_for_answer``, ``paste`` (a long text split as Telegram clients split it),
  ``send_album``, ``pin``.
* ``api.group(token, title)`` -> FakeGroup: ``add_bot(by)``, ``send(by, text)``, ``pin``,
  ``upgrade(by)`` (to a supergroup), ``left``, ``messages``; the fake's ``leaveChat`` works there.
* ``FakeBotApi.start_in_thread()`` -> the same API with blocking calls, for sync code.
"""

from .errors import ApiError
from .group import FakeGroup
from .media import tiny_png
from .server import FakeBotApi
from .state import (
    CallbackQuery,
    Chat,
    ChatMessage,
    Delivery,
    FakeBot,
    RequestRecord,
    StoredFile,
)
from .threaded import SyncProxy, ThreadedFakeBotApi
from .user import FakeUser

__all__ = [
    "ApiError",
    "CallbackQuery",
    "Chat",
    "ChatMessage",
    "Delivery",
    "FakeBot",
    "FakeBotApi",
    "FakeGroup",
    "FakeUser",
    "RequestRecord",
    "StoredFile",
    "SyncProxy",
    "ThreadedFakeBotApi",
    "tiny_png",
]
