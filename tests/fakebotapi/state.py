"""The state the fake server keeps per bot token: chats, messages, updates, records."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import BLOCKED, ApiError, bad_request, forbidden, internal_error, too_many_requests
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from .server import FakeBotApi

T = TypeVar("T")

# Telegram's documented update types; the default excludes the three opt-in ones.
UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
        "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
DEFAULT_UPDATE_TYPES = UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}


class Changes:
    """Lets coroutines sleep until something changes in a bot's state."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake every waiter (they re-check their own condition)."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float | None) -> None:
        """Sleep until the next notify() or the timeout, whichever comes first."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    async def wait_for(self, predicate: Callable[[], T], timeout: float | None) -> T:
        """Return the first truthy predicate() result; raise TimeoutError after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            await self.wait(remaining)


@dataclass(eq=False)
class StoredFile:
    """A file the server knows: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes | None
    filename: str | None = None
    mime_type: str | None = None
    url: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes (0 for a file only known by URL)."""
        return len(self.data or b"")

    @property
    def file_path(self) -> str:
        """The path getFile returns and /file/bot<token>/<path> serves."""
        suffix = ""
        if self.filename and "." in self.filename:
            suffix = "." + self.filename.rsplit(".", 1)[1]
        return f"{self.kind}s/{self.file_unique_id}{suffix}"


@dataclass(eq=False)
class ChatMessage:
    """One message of a private chat, in its current state, with its edit history."""

    message_id: int
    chat: Chat
    date: int
    sender: dict[str, Any]
    from_bot: bool
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    media: dict[str, Any] = field(default_factory=dict)
    file: StoredFile | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        """The id of the chat (== the user's id in a private chat)."""
        return self.chat.id

    @property
    def buttons(self) -> list[list[str]]:
        """Texts of the inline keyboard, row by row ([] without a keyboard)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[button["text"] for button in row] for row in rows]

    @property
    def button_texts(self) -> list[str]:
        """Texts of all inline buttons, flattened."""
        return [text for row in self.buttons for text in row]

    def button(self, text: str) -> dict[str, Any] | None:
        """The inline button with exactly this text, or None."""
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == text:
                    return button
        return None

    @property
    def callback_data(self) -> list[str]:
        """callback_data of all inline buttons, in order."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    @property
    def content(self) -> str:
        """The text, or the caption of a media message ('' if neither)."""
        return self.text if self.text is not None else (self.caption or "")

    def snapshot(self) -> dict[str, Any]:
        """The editable parts of the message, as stored in ``history`` before an edit."""
        return {
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "caption_entities": self.caption_entities,
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
        }

    def edit(self, edit_date: int, **changes: Any) -> None:
        """Apply an edit, keeping the previous version in ``history``."""
        self.history.append(self.snapshot())
        for name, value in changes.items():
            setattr(self, name, value)
        self.edit_date = edit_date

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API Message object."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.as_chat(),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if with_reply and self.reply_to_message_id is not None:
            replied = self.chat.messages.get(self.reply_to_message_id)
            if replied is not None:
                message["reply_to_message"] = replied.to_api(with_reply=False)
        if self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        message.update(self.media)
        if self.caption:
            message["caption"] = self.caption
            if self.caption_entities:
                message["caption_entities"] = self.caption_entities
        if self.reply_markup is not None:
            message["reply_markup"] = self.reply_markup
        return message

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        kind = next(iter(self.media), "text")
        content = self.content if len(self.content) <= 60 else self.content[:57] + "..."
        extra = f" buttons={self.buttons}" if self.buttons else ""
        flags = " (deleted)" if self.deleted else (" (edited)" if self.edit_date else "")
        return f"<#{self.message_id} {who} {kind} {content!r}{extra}{flags}>"


@dataclass(eq=False)
class Chat:
    """A private chat between one bot and one user, or a group the bot is in (`group`)."""

    user: dict[str, Any]
    chat_instance: str
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    next_message_id: int = 1
    started: bool = False
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None
    actions: list[tuple[float, str]] = field(default_factory=list)
    group: dict[str, Any] | None = None
    """A group's Bot API Chat object (id, type, title); None for a private chat."""
    left: bool = False
    """The bot left the group (or was never added): sends there get 403."""
    migrated_to: int | None = None
    """The supergroup this group was upgraded to: sends here get 400 with migrate_to_chat_id."""

    @property
    def id(self) -> int:
        """Private chat id == user id; a group's own (negative) id."""
        return int(self.group["id"]) if self.group is not None else int(self.user["id"])

    def as_chat(self) -> dict[str, Any]:
        """The Bot API Chat object."""
        if self.group is not None:
            return dict(self.group)
        chat: dict[str, Any] = {"id": self.id, "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if self.user.get(key):
                chat[key] = self.user[key]
        return chat

    def add(self, message_factory: Callable[[int], ChatMessage]) -> ChatMessage:
        """Store a new message built with the next message id."""
        message = message_factory(self.next_message_id)
        self.next_message_id += 1
        self.messages[message.message_id] = message
        return message

    def bot_messages(self, *, include_deleted: bool = False) -> list[ChatMessage]:
        """The bot's messages in this chat, oldest first."""
        return [
            m for m in self.messages.values() if m.from_bot and (include_deleted or not m.deleted)
        ]


@dataclass(eq=False)
class CallbackQuery:
    """A button press and what the bot answered to it."""

    id: str
    chat_id: int
    message_id: int
    data: str
    update: dict[str, Any]
    created: float
    answered: bool = False
    answer: dict[str, Any] | None = None

    @property
    def text(self) -> str | None:
        """The notification text the bot answered with (None if unanswered)."""
        return None if self.answer is None else self.answer.get("text")


@dataclass(eq=False)
class RequestRecord:
    """One HTTP call the bot made."""

    at: float
    method: str
    params: dict[str, Any]
    status: int = 0
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether Telegram (the fake) answered ok:true."""
        return bool(self.response and self.response.get("ok"))

    @property
    def description(self) -> str | None:
        """The error description, if any."""
        return None if self.response is None else self.response.get("description")

    @property
    def result(self) -> Any:
        """The result of a successful call."""
        return None if self.response is None else self.response.get("result")

    def __repr__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"<{self.method} -> {outcome}>"


@dataclass(eq=False)
class Webhook:
    """The webhook configuration of a bot."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None


@dataclass(eq=False)
class Delivery:
    """One attempt to POST an update to the webhook."""

    at: float
    update_id: int
    attempt: int
    url: str
    secret_sent: str | None
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(eq=False)
class Fault:
    """An injected failure or delay for the next ``remaining`` matching calls."""

    method: str | None
    remaining: int
    error: ApiError | None = None
    delay: float = 0.0
    chat_id: int | None = None

    def matches(self, method: str, chat_id: int | None = None) -> bool:
        """getUpdates is only hit when named, since a polling bot calls it nonstop; a fault
        for one chat only hits calls to that chat."""
        if self.chat_id is not None and self.chat_id != chat_id:
            return False
        if self.method is None:
            return method != "getUpdates"
        return self.method.lower() == method.lower()


@dataclass
class RandomFaults:
    """Faults drawn at random for every call (getUpdates included): 429, 500 or a delay."""

    probability: float
    rng: random.Random
    max_delay: float
    injected: dict[str, int] = field(default_factory=dict)

    def draw(self, method: str) -> Fault | None:
        """A fault for this call, or None (most calls)."""
        if self.rng.random() >= self.probability:
            return None
        kind = self.rng.choice(("429", "500", "delay"))
        self.injected[kind] = self.injected.get(kind, 0) + 1
        if kind == "429":
            return Fault(method, 1, too_many_requests(1))
        if kind == "500":
            return Fault(method, 1, internal_error())
        return Fault(method, 1, delay=self.rng.uniform(0.05, self.max_delay))


def _fault_error(error: int | ApiError, retry_after: int, description: str | None) -> ApiError:
    if isinstance(error, ApiError):
        return error
    if error == 429:
        return too_many_requests(retry_after)
    if error == 403:
        return forbidden(description or BLOCKED)
    if error == 500:
        return internal_error()
    if error == 400:
        return bad_request(description or "injected failure")
    return ApiError(error, description or HTTPStatus(error).phrase)


class FakeBot:
    """Server-side state of one bot token, plus the helpers tests use to inspect it."""

    def __init__(self, api: FakeBotApi, token: str, username: str, first_name: str) -> None:
        self.api = api
        self.token = token
        self.id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.revoked = False
        self.changes = Changes()
        # Updates waiting for confirmation (getUpdates offset) or webhook delivery.
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 100_000_001
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.dropped_updates: list[dict[str, Any]] = []
        self.poll_generation = 0
        self.active_polls = 0
        self.webhook: Webhook | None = None
        self.webhook_secret_override: str | None = None
        self.deliveries: list[Delivery] = []
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.chats: dict[int, Chat] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self._next_callback_id = 1
        self.files: dict[str, StoredFile] = {}
        self._next_file = 1
        self.commands: dict[tuple[tuple[Any, ...], str], list[dict[str, str]]] = {}
        self.settings: dict[tuple[str, str], Any] = {}
        self.requests: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.random_faults: RandomFaults | None = None
        self.rate_limiter: RateLimiter | None = None
        self.flood_count = 0

    # ----------------------------------------------------------------- identity

    def user_dict(self) -> dict[str, Any]:
        """The bot as a Bot API User (the ``from`` of its messages)."""
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # ----------------------------------------------------------------- updates

    def emit(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update; without update_id if allowed_updates filters it out."""
        if kind not in self.allowed_updates:
            update = {kind: payload}
            self.dropped_updates.append(update)
            return update
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.updates.append(update)
        self.changes.notify()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps the last -offset ones."""
        if offset < 0:
            del self.updates[: max(len(self.updates) + offset, 0)]
        elif offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def set_allowed_updates(self, kinds: list[str] | None) -> None:
        """Remember allowed_updates; an empty list means the default set."""
        if kinds is None:
            return
        wanted = frozenset(kinds) & UPDATE_TYPES
        self.allowed_updates = wanted or DEFAULT_UPDATE_TYPES

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        return self.active_polls > 0

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed or delivered."""
        return len(self.updates)

    # ----------------------------------------------------------------- ids

    def chat_instance(self, chat_id: int) -> str:
        """A stable, Telegram-looking chat_instance for (bot, chat)."""
        digest = hashlib.sha256(f"{self.id}:{chat_id}".encode()).hexdigest()
        return str(-(int(digest[:15], 16)))

    def new_callback_id(self) -> str:
        """A fresh callback query id (a digit string, as on Telegram)."""
        query_id = f"{self.id}{self._next_callback_id:09d}"
        self._next_callback_id += 1
        return query_id

    def store_file(
        self,
        kind: str,
        data: bytes | None,
        filename: str | None = None,
        mime_type: str | None = None,
        url: str | None = None,
    ) -> StoredFile:
        """Keep a file so getFile and downloads work."""
        number = self._next_file
        self._next_file += 1
        stored = StoredFile(
            file_id=f"FAKE{kind.upper()}{self.id}x{number:06d}",
            file_unique_id=f"U{self.id}x{number:06d}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            url=url,
        )
        self.files[stored.file_id] = stored
        return stored

    # ----------------------------------------------------------------- chats

    def chat(self, chat_id: int) -> Chat | None:
        """The private chat with this user, if the user exists."""
        return self.chats.get(chat_id)

    def message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """A stored message, or None."""
        chat = self.chats.get(chat_id)
        return None if chat is None else chat.messages.get(message_id)

    @property
    def unanswered_callback_queries(self) -> list[CallbackQuery]:
        """Button presses the bot never answered (Telegram shows a spinner meanwhile)."""
        return [q for q in self.callback_queries.values() if not q.answered]

    # ----------------------------------------------------------------- commands

    def get_commands(
        self, scope: dict[str, Any] | str | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """Commands stored by setMyCommands for exactly this scope and language."""
        if isinstance(scope, str):
            scope = {"type": scope}
        return list(self.commands.get((scope_key(scope), language_code), []))

    # ----------------------------------------------------------------- records

    def calls(self, method: str | None = None) -> list[RequestRecord]:
        """Recorded requests, optionally only those of one method (case-insensitive)."""
        if method is None:
            return list(self.requests)
        wanted = method.lower()
        return [r for r in self.requests if r.method.lower() == wanted]

    def count(self, method: str | None = None, *, ok: bool | None = None) -> int:
        """How many requests (of a method; only successful/failed ones if ``ok`` is set)."""
        return sum(1 for r in self.calls(method) if ok is None or r.ok == ok)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RequestRecord], bool] | None = None,
        timeout: float = 5.0,
        *,
        after: int = 0,
    ) -> RequestRecord:
        """Wait for a request of ``method`` (the ``after``-th onwards) matching ``predicate``."""

        def find() -> RequestRecord | None:
            for record in self.calls(method)[after:]:
                if record.response is not None and (predicate is None or predicate(record)):
                    return record
            return None

        try:
            return await self.changes.wait_for(find, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no {method} call within {timeout}s; last calls: {self.requests[-8:]}"
            ) from None

    # ----------------------------------------------------------------- fault injection

    def fail_next(
        self,
        error: int | ApiError = 429,
        *,
        times: int = 1,
        method: str | None = None,
        retry_after: int = 1,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls (of ``method``; any but getUpdates by default; to
        ``chat_id`` only when given) with 429 (retry_after), 403 (bot blocked), 500, another
        status or an ApiError."""
        error = _fault_error(error, retry_after, description)
        self.faults.append(Fault(method, times, error, chat_id=chat_id))

    def delay_next(
        self,
        seconds: float,
        *,
        times: int = 1,
        method: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Hold the next ``times`` matching calls for ``seconds`` before handling them."""
        self.faults.append(Fault(method, times, delay=seconds, chat_id=chat_id))

    def inject_random_faults(
        self, probability: float, *, seed: int = 0, max_delay: float = 1.0
    ) -> RandomFaults:
        """From now on, each call (of every method) meets a 429, a 500 or a delay with this
        probability; returns the tally of what was injected. ``probability=0`` stops it."""
        self.random_faults = RandomFaults(probability, random.Random(seed), max_delay)
        return self.random_faults

    def take_fault(self, method: str, chat_id: int | None = None) -> Fault | None:
        """Consume the first fault matching ``method`` (and ``chat_id``), else draw one."""
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(method, chat_id):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        if self.random_faults is not None:
            return self.random_faults.draw(method)
        return None

    def enable_rate_limit(
        self, per_second: float = 30, per_chat_per_second: float = 1, per_chat_burst: int = 3
    ) -> None:
        """Answer 429 with a truthful retry_after beyond Telegram-like send rates."""
        self.rate_limiter = RateLimiter(per_second, per_chat_per_second, per_chat_burst)

    def disable_rate_limit(self) -> None:
        """Back to unlimited sending (the default)."""
        self.rate_limiter = None


def scope_key(scope: dict[str, Any] | None) -> tuple[Any, ...]:
    """A hashable key for a BotCommandScope (default scope when None)."""
    if not scope:
        return ("default",)
    return (scope.get("type", "default"), scope.get("chat_id"), scope.get("user_id"))
