"""Groups: people write in a group; the bot may be added to it, leave it, see it upgraded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .state import Chat, ChatMessage, FakeBot
from .text import detect_entities

if TYPE_CHECKING:
    from .server import FakeBotApi
    from .user import FakeUser


class FakeGroup:
    """A basic group (or a supergroup) of one bot's world; the bot is not in it until added.

    Every action returns the update(s) it produced, as FakeUser's do.
    """

    def __init__(self, api: FakeBotApi, bot: FakeBot, chat: Chat) -> None:
        self.api = api
        self.bot = bot
        self.chat = chat

    @property
    def id(self) -> int:
        """The group's chat id (negative, as Telegram's)."""
        return self.chat.id

    @property
    def left(self) -> bool:
        """Whether the bot is out of the group."""
        return self.chat.left

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's messages in the group, oldest first."""
        return self.chat.bot_messages()

    def _message(self, by: FakeUser, **fields: Any) -> dict[str, Any]:
        message = self.chat.add(
            lambda message_id: ChatMessage(
                message_id=message_id,
                chat=self.chat,
                date=int(self.api.now()),
                sender=by.chat.user,
                from_bot=False,
                **fields,
            )
        )
        return self.bot.emit("message", message.to_api())

    def add_bot(self, by: FakeUser) -> list[dict[str, Any]]:
        """`by` adds the bot: Telegram sends my_chat_member, then the new_chat_members message."""
        self.chat.left = False
        bot_user = self.bot.user_dict()
        member = self.bot.emit(
            "my_chat_member",
            {
                "chat": self.chat.as_chat(),
                "from": by.chat.user,
                "date": int(self.api.now()),
                "old_chat_member": {"user": bot_user, "status": "left"},
                "new_chat_member": {"user": bot_user, "status": "member"},
            },
        )
        return [member, self._message(by, media={"new_chat_members": [bot_user]})]

    async def send(self, by: FakeUser, text: str) -> dict[str, Any]:
        """`by` writes in the group ('/start@bot' gets its bot_command entity)."""
        plain = text.strip()
        return self._message(by, text=plain, entities=detect_entities(plain, []))

    def pin(self, by: FakeUser, text: str) -> dict[str, Any]:
        """`by` writes `text` and pins it: the bot (in privacy mode, it does not see ordinary
        group messages) gets only the service message, the pinned one inaccessible (date 0)."""
        note = self.chat.add(
            lambda message_id: ChatMessage(
                message_id, self.chat, int(self.api.now()), by.chat.user, False, text=text
            )
        )
        hidden = {"chat": self.chat.as_chat(), "message_id": note.message_id, "date": 0}
        return self._message(by, media={"pinned_message": hidden})

    def upgrade(self, by: FakeUser) -> FakeGroup:
        """The group becomes a supergroup with a new id: the old chat gets a migrate_to_chat_id
        service message, the new one a migrate_from_chat_id one; sends to the old id then get
        400 with parameters.migrate_to_chat_id."""
        supergroup = self.api.group(
            self.bot.token,
            self.chat.group["title"] if self.chat.group else "",
            chat_id=-1_000_000_000_000 + self.id,
            chat_type="supergroup",
        )
        supergroup.chat.left = self.chat.left
        self._message(by, media={"migrate_to_chat_id": supergroup.id})
        self.chat.migrated_to = supergroup.id
        supergroup._message(by, media={"migrate_from_chat_id": self.id})
        return supergroup
