"""Telegram Mini App sign-in: checking the `initData` Telegram signs with the bot's token.

Source: Telegram's "Validating data received via the Mini App"
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
    data_check_string = every field but `hash`, as `key=value`, sorted by key, joined by "\\n"
    secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token)
    hash = hex(HMAC_SHA256(key=secret_key, msg=data_check_string))
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

MAX_AGE = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future `auth_date` may be (the two clocks differ a little)."""


class InitDataError(Exception):
    """initData that cannot be trusted; the message says why (never the data itself)."""


@dataclass(frozen=True)
class TelegramUser:
    """The Telegram user who opened the Mini App, as Telegram vouches for them."""

    id: int
    first_name: str | None
    language_code: str | None


def data_check_string(fields: dict[str, str]) -> str:
    """The string Telegram signs: `key=value` lines sorted by key, `hash` left out."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def verify_init_data(init_data: str, bot_token: str, now: datetime) -> TelegramUser:
    """The user in `init_data` if Telegram signed it with `bot_token` less than a day before `now`.

    Raises InitDataError when the data is malformed, unsigned, signed with another token, too old
    or dated in the future.
    """
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("initData is not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("initData repeats a field")
    received = fields.get("hash", "")
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret_key, data_check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received):
        raise InitDataError("initData is not signed with this bot's token")
    try:
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), tz=now.tzinfo)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError, OverflowError):
        raise InitDataError("initData lacks auth_date or the user") from None
    if now - signed_at > MAX_AGE:
        raise InitDataError("initData is more than a day old: open the Mini App again")
    if signed_at - now > CLOCK_SKEW:
        raise InitDataError("initData is dated in the future: check the server's clock")
    return TelegramUser(user_id, user.get("first_name"), user.get("language_code"))
