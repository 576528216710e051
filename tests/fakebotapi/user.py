"""The user side: a person chatting with the bot, so tests read like a conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .media import SAMPLE_OGG, image_size, tiny_png
from .state import CallbackQuery, Chat, ChatMessage, FakeBot, StoredFile
from .text import detect_entities

if TYPE_CHECKING:
    from .server import FakeBotApi

T = TypeVar("T")
MAX_TEXT = 4096
"""Telegram's limit on one message's text; clients split a longer paste."""
MessageRef = ChatMessage | int


class FakeUser:
    """A Telegram user in a private chat with one bot.

    Every action returns the update it produced (a dict with its ``update_id``; without
    ``update_id`` when the bot's allowed_updates filtered it out).
    """

    def __init__(self, api: FakeBotApi, bot: FakeBot, chat: Chat) -> None:
        self.api = api
        self.bot = bot
        self.chat = chat
        # message_id of the last bot message handed out by next_message().
        self._seen = 0

    # ------------------------------------------------------------------ identity

    @property
    def id(self) -> int:
        """The user id (== the private chat id)."""
        return self.chat.id

    @property
    def first_name(self) -> str:
        """The user's first name."""
        return str(self.chat.user["first_name"])

    def __repr__(self) -> str:
        return f"<FakeUser {self.first_name} ({self.id}) of bot {self.bot.id}>"

    # ------------------------------------------------------------------ reading the chat

    @property
    def messages(self) -> list[ChatMessage]:
        """Every bot message of the chat, in its current (possibly edited) state."""
        return self.chat.bot_messages()

    @property
    def last_message(self) -> ChatMessage | None:
        """The bot's most recent message (None before the first)."""
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def history(self) -> list[ChatMessage]:
        """The whole chat, user and bot messages, oldest first."""
        return [m for m in self.chat.messages.values() if not m.deleted]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Texts of the reply keyboard the bot currently shows ([] if none)."""
        rows = (self.chat.reply_keyboard or {}).get("keyboard", [])
        return [[button["text"] for button in row] for row in rows]

    @property
    def chat_actions(self) -> list[str]:
        """Chat actions (typing, ...) the bot sent to this chat, oldest first."""
        return [action for _, action in self.chat.actions]

    async def next_message(self, timeout: float = 5.0) -> ChatMessage:
        """Wait for the next bot message this test has not consumed yet."""

        def unseen() -> ChatMessage | None:
            for message in self.chat.bot_messages(include_deleted=True):
                if message.message_id > self._seen:
                    return message
            return None

        try:
            message = await self.bot.changes.wait_for(unseen, timeout)
        except TimeoutError:
            raise TimeoutError(self._silence_report(timeout)) from None
        self._seen = message.message_id
        return message

    async def next_messages(self, count: int, timeout: float = 5.0) -> list[ChatMessage]:
        """The next ``count`` new bot messages (``timeout`` applies to each)."""
        return [await self.next_message(timeout) for _ in range(count)]

    async def expect_silence(self, within: float = 0.3) -> None:
        """Assert that the bot sends nothing new to this chat for ``within`` seconds."""
        try:
            message = await self.next_message(within)
        except TimeoutError:
            return
        raise AssertionError(f"{self} expected no new message but the bot sent {message!r}")

    def skip_messages(self) -> None:
        """Mark every bot message so far as consumed by next_message()."""
        messages = self.chat.bot_messages(include_deleted=True)
        if messages:
            self._seen = messages[-1].message_id

    async def wait_until(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every API call) and return it."""
        try:
            return await self.bot.changes.wait_for(predicate, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"condition still false after {timeout}s; {self._silence_report(timeout)}"
            ) from None

    def _silence_report(self, timeout: float) -> str:
        last = self.chat.bot_messages(include_deleted=True)[-3:]
        failed = [r for r in self.bot.requests if r.response is not None and not r.ok]
        return (
            f"{self} got no new bot message within {timeout}s. "
            f"Last bot messages: {last or 'none'}. "
            f"Recent failed API calls: {failed[-5:] or 'none'}. "
            f"Unconfirmed updates: {self.bot.pending_update_count}"
            + (" (is the bot polling?)" if self.bot.pending_update_count else "")
        )

    # ------------------------------------------------------------------ writing

    def _start(self) -> None:
        """Writing to the bot starts the chat and lifts a block, as 'Restart' does."""
        if self.chat.blocked:
            self.unblock()
        self.chat.started = True

    def _user_message(self, **fields: Any) -> ChatMessage:
        return self.chat.add(
            lambda message_id: ChatMessage(
                message_id=message_id,
                chat=self.chat,
                date=int(self.api.now()),
                sender=self.chat.user,
                from_bot=False,
                **fields,
            )
        )

    def _resolve(self, ref: MessageRef) -> ChatMessage:
        message_id = ref.message_id if isinstance(ref, ChatMessage) else ref
        message = self.chat.messages.get(message_id)
        if message is None:
            raise AssertionError(f"there is no message #{message_id} in the chat of {self}")
        return message

    async def send(self, text: str, *, reply_to: MessageRef | None = None) -> dict[str, Any]:
        """Send a text message; '/command args' gets its bot_command entity."""
        self._start()
        plain = text.strip()
        if not plain:
            raise ValueError("Telegram clients do not send empty messages")
        if len(plain) > MAX_TEXT:
            raise ValueError(f"a message holds {MAX_TEXT} characters: paste() splits longer text")
        message = self._user_message(
            text=plain,
            entities=detect_entities(plain, []),
            reply_to_message_id=None if reply_to is None else self._resolve(reply_to).message_id,
        )
        return self.bot.emit("message", message.to_api())

    async def paste(self, text: str) -> list[dict[str, Any]]:
        """Send a text longer than one message as Telegram clients do: pieces of at most 4096
        characters (cut at the last line break or space when there is one), sent at once."""
        pieces: list[str] = []
        rest = text.strip()
        while len(rest) > MAX_TEXT:
            cut = max(rest.rfind("\n", 0, MAX_TEXT + 1), rest.rfind(" ", 0, MAX_TEXT + 1))
            cut = cut if cut > 0 else MAX_TEXT
            pieces.append(rest[:cut])
            rest = rest[cut:].strip()
        pieces.append(rest)
        return [await self.send(piece) for piece in pieces if piece.strip()]

    async def send_album(self, count: int = 5, caption: str | None = None) -> list[dict]:
        """Send `count` photos as one album: one message each, sharing a media_group_id."""
        self._start()
        group = str(13_000_000_000_000_000 + self.bot.next_update_id)  # unique per album
        updates = []
        for index in range(count):
            stored, size = self._photo(tiny_png(), f"photo{index}.png")
            message = self._user_message(
                media={"photo": [size], "media_group_id": group},
                caption=caption if index == 0 else None,
                file=stored,
            )
            updates.append(self.bot.emit("message", message.to_api()))
        return updates

    def pin(self, message: MessageRef) -> dict[str, Any]:
        """Pin a message of the chat: a service message (pinned_message) reaches the bot."""
        self._start()
        pinned = self._resolve(message).to_api(with_reply=False)
        service = self._user_message(media={"pinned_message": pinned})
        return self.bot.emit("message", service.to_api())

    async def send_photo(self, data: bytes | None = None, caption: str | None = None) -> dict:
        """Send a photo (a small PNG by default)."""
        self._start()
        stored, size = self._photo(data if data is not None else tiny_png(), "photo.png")
        message = self._user_message(media={"photo": [size]}, caption=caption, file=stored)
        return self.bot.emit("message", message.to_api())

    def _photo(self, data: bytes, filename: str) -> tuple[StoredFile, dict[str, Any]]:
        """Store a photo; its file and its Bot API PhotoSize."""
        stored = self.bot.store_file("photo", data, filename, "image/png")
        width, height = image_size(data)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "width": width,
            "height": height,
        }
        return stored, size

    async def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        """Send a sticker."""
        self._start()
        stored = self.bot.store_file(
            "sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp", "image/webp"
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        message = self._user_message(media={"sticker": sticker}, file=stored)
        return self.bot.emit("message", message.to_api())

    async def send_voice(self, data: bytes | None = None, duration: int = 3) -> dict[str, Any]:
        """Send a voice note."""
        self._start()
        stored = self.bot.store_file("voice", data or SAMPLE_OGG, "voice.ogg", "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.size,
        }
        message = self._user_message(media={"voice": voice}, file=stored)
        return self.bot.emit("message", message.to_api())

    async def send_document(
        self,
        data: bytes = b"hello\n",
        filename: str = "notes.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a file."""
        self._start()
        stored = self.bot.store_file("document", data, filename, mime_type)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
        message = self._user_message(media={"document": document}, caption=caption, file=stored)
        return self.bot.emit("message", message.to_api())

    async def edit(self, message: MessageRef, new_text: str) -> dict[str, Any]:
        """Edit one of the user's own text messages (an edited_message update)."""
        target = self._resolve(message)
        if target.from_bot or target.text is None:
            raise AssertionError(f"{self} can only edit their own text messages, not {target!r}")
        plain = new_text.strip()
        target.edit(int(self.api.now()), text=plain, entities=detect_entities(plain, []))
        return self.bot.emit("edited_message", target.to_api())

    # ------------------------------------------------------------------ buttons

    async def press(self, message: MessageRef | str, text: str | None = None) -> dict[str, Any]:
        """Press a button by its text.

        ``press(message, "Yes")`` presses an inline button of that message (in its current
        state); ``press("Yes")`` uses the newest bot message having that inline button, or
        the reply keyboard (which just sends the text).
        """
        if isinstance(message, str):
            text = message
            target = next((m for m in reversed(self.messages) if m.button(text)), None)
        else:
            assert text is not None, "press(message, text) needs the button text"
            target = self._resolve(message)
        if target is None or target.button(text) is None:
            if text in (label for row in self.reply_keyboard for label in row):
                return await self.send(text)
            where = repr(target) if target is not None else "any bot message"
            available = target.buttons if target is not None else [m.buttons for m in self.messages]
            raise AssertionError(
                f"no button {text!r} on {where}; inline buttons: {available}; "
                f"reply keyboard: {self.reply_keyboard}"
            )
        button = target.button(text)
        assert button is not None
        if "callback_data" not in button:
            kinds = [k for k in button if k != "text"]
            raise AssertionError(f"button {text!r} is a {kinds} button, not a callback button")
        return await self.press_data(target, button["callback_data"])

    async def press_data(self, message: MessageRef, data: str) -> dict[str, Any]:
        """Send a callback_query with arbitrary data for a message (even stale buttons)."""
        target = self._resolve(message)
        query_id = self.bot.new_callback_id()
        payload = {
            "id": query_id,
            "from": self.chat.user,
            "message": target.to_api(),
            "chat_instance": self.chat.chat_instance,
            "data": data,
        }
        update = self.bot.emit("callback_query", payload)
        if "update_id" in update:
            self.bot.callback_queries[query_id] = CallbackQuery(
                id=query_id,
                chat_id=self.id,
                message_id=target.message_id,
                data=data,
                update=update,
                created=asyncio.get_running_loop().time(),
            )
        return update

    @property
    def unanswered_callback_queries(self) -> list[CallbackQuery]:
        """This user's button presses that the bot has not answered."""
        return [q for q in self.bot.unanswered_callback_queries if q.chat_id == self.id]

    def callback_query(self, update: dict[str, Any]) -> CallbackQuery:
        """The record of the press that produced ``update``."""
        return self.bot.callback_queries[update["callback_query"]["id"]]

    async def wait_for_answer(self, update: dict[str, Any], timeout: float = 5.0) -> CallbackQuery:
        """Wait until the bot answers the press that produced ``update``."""
        query = self.callback_query(update)
        try:
            await self.bot.changes.wait_for(lambda: query.answered, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"callback query {query.id} ({query.data!r}) unanswered after {timeout}s"
            ) from None
        return query

    # ------------------------------------------------------------------ blocking

    def block(self) -> dict[str, Any]:
        """Block the bot: sends to this chat now fail with 403."""
        self.chat.blocked = True
        return self._member_update("member", "kicked")

    def unblock(self) -> dict[str, Any]:
        """Unblock the bot (also happens when the user writes again)."""
        self.chat.blocked = False
        return self._member_update("kicked", "member")

    def _member_update(self, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            state: dict[str, Any] = {"user": self.bot.user_dict(), "status": status}
            if status == "kicked":
                state["until_date"] = 0
            return state

        return self.bot.emit(
            "my_chat_member",
            {
                "chat": self.chat.as_chat(),
                "from": self.chat.user,
                "date": int(self.api.now()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )
