"""The coach thread in Telegram chats: a "Reply" button under what a coach writes to a manager,
and the messages of the thread queued for their reader (refs #11)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from storage import journey as store
from storage.repository import User

from ..coach.service import Delivery
from ..conversation import Conversation
from ..delivery.outbox import Storage
from ..userkey import UserKey
from .callbacks import ButtonData, ButtonKind
from .chat import ChatView
from .render import Span


def reply_markup(
    conversation: Conversation, manager: User, session_id: int
) -> InlineKeyboardMarkup:
    """The "Reply" button under a coach's message about reflection `session_id`."""
    label = conversation.playbook.ui.in_(conversation.language(manager)).reply_button
    data = ButtonData(ButtonKind.REPLY_TO_COACH, session_id, None, "reply").encode()
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def queue_thread_message(storage: Storage, conversation: Conversation, delivery: Delivery) -> bool:
    """Put a thread message in the outbox for its reader's chat (a coach's answer carries the
    manager's "Reply" button); the sender marks it delivered once Telegram takes it (subject
    `thread:ID`). False if the reader cannot be reached there. Call inside a transaction."""
    assert delivery.thread_id is not None, "a thread message has its id"
    chat_id = UserKey(delivery.user.key).telegram_id
    message = store.get_thread_message(storage.db, delivery.thread_id)
    if chat_id is None or delivery.user.blocked_at is not None or message is None:
        return False
    markup = None
    if message.author == "coach":
        markup = reply_markup(conversation, delivery.user, message.session_id)
    view = ChatView(storage, conversation, chat_id, delivery.user, kind="feedback")
    view.say([Span(delivery.text)], markup, subject=f"thread:{delivery.thread_id}")
    return True
