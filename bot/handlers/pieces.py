"""A Telegram message as the burst rule sees it, and the message before it in its chat."""

from __future__ import annotations

import json

from telegram import Message, MessageEntity, Update

from storage import intents as store

from ..delivery.outbox import Storage
from ..flows.bursts import Piece, PieceKind, same_intent


def piece_of(message: Message) -> Piece:
    """What the message is, when it was sent, its album."""
    if message.text is not None:
        entities = message.entities
        command = bool(entities) and entities[0].type == MessageEntity.BOT_COMMAND
        kind = PieceKind.COMMAND if command and entities[0].offset == 0 else PieceKind.TEXT
    elif _is_service(message):
        kind = PieceKind.SERVICE
    else:
        kind = PieceKind.MEDIA
    length = len(message.text) if message.text is not None else 0
    sent_at = int(message.date.timestamp())
    return Piece(message.message_id, sent_at, kind, message.media_group_id, length)


def previous_message(storage: Storage, update: Update) -> Message | None:
    """The new message received in this chat just before this update's, if the update right
    before it was one (an edit or a button in between breaks the run)."""
    chat = update.effective_chat
    if chat is None:
        return None
    payload = store.previous_update(storage.db, chat.id, update.update_id)
    if payload is None:
        return None
    previous = Update.de_json(json.loads(payload), update.get_bot())
    return previous.message


def continues(storage: Storage, update: Update) -> Message | None:
    """The message this update's message continues (one intent with it), if any."""
    message = update.message
    if message is None:
        return None
    previous = previous_message(storage, update)
    if previous is None or not same_intent(piece_of(previous), piece_of(message)):
        return None
    return previous


def first_command(storage: Storage, update: Update) -> tuple[bool, str | None]:
    """For an edited message: whether the inbox still knows it as first sent, and the command
    it began with then, if any ("feedback")."""
    message = update.edited_message
    if message is None:
        return (False, None)
    return store.first_command(storage.db, message.chat_id, message.message_id)


def _is_service(message: Message) -> bool:
    """Telegram's service messages: a pin, members joining, a group upgraded..."""
    return any(
        getattr(message, name, None)
        for name in (
            "pinned_message",
            "new_chat_members",
            "left_chat_member",
            "new_chat_title",
            "new_chat_photo",
            "delete_chat_photo",
            "group_chat_created",
            "supergroup_chat_created",
            "migrate_to_chat_id",
            "migrate_from_chat_id",
            "message_auto_delete_timer_changed",
            "write_access_allowed",
            "video_chat_started",
            "video_chat_ended",
            "forum_topic_created",
            "chat_background_set",
        )
    )
