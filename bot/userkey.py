"""A person's key across channels: `telegram:<user id>`, `terminal:<name>` (later `web:...`).

Storage keeps the key as text; this type builds and reads it in one place. It is a `str`, so
it goes wherever a key went before.
"""

from __future__ import annotations

from typing import Literal, cast, get_args

Channel = Literal["telegram", "terminal", "web"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)


class UserKey(str):
    """`<channel>:<id in that channel>`; build with telegram()/terminal(), read with parse()."""

    __slots__ = ()

    @classmethod
    def telegram(cls, user_id: int) -> UserKey:
        """The key of a Telegram user (their numeric user id)."""
        return cls(f"telegram:{int(user_id)}")

    @classmethod
    def terminal(cls, name: str) -> UserKey:
        """The key of a local user of the terminal chat."""
        return cls(f"terminal:{name}")

    @classmethod
    def parse(cls, key: str) -> UserKey:
        """A stored or typed key, checked (ValueError naming the expected shape)."""
        channel, sep, local = key.partition(":")
        if not sep or not local or channel not in CHANNELS:
            raise ValueError(
                f"'{key}' is not a user key: write telegram:<user id> or terminal:<name>"
            )
        if channel == "telegram" and not local.isdigit():
            raise ValueError(f"'{key}': a Telegram user id is a number, like telegram:42")
        return cls(key)

    @classmethod
    def from_typed(cls, given: str) -> UserKey:
        """What an operator types: a Telegram id (digits), a full key, or a terminal name."""
        if given.isdigit():
            return cls.telegram(int(given))
        return cls.parse(given) if ":" in given else cls.terminal(given)

    @property
    def channel(self) -> Channel:
        """The channel the person uses."""
        return cast(Channel, self.partition(":")[0])

    @property
    def telegram_id(self) -> int | None:
        """The Telegram user id, for Telegram keys."""
        channel, _, local = self.partition(":")
        return int(local) if channel == "telegram" and local.isdigit() else None
