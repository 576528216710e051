"""The Bot API methods the fake implements, following https://core.telegram.org/bots/api."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp import web
from yarl import URL

from .errors import BLOCKED, CHAT_NOT_FOUND, ApiError, bad_request, conflict, forbidden
from .markup import is_inline, validate_reply_markup
from .media import image_kind, image_size
from .params import Params, UploadedFile
from .state import Chat, ChatMessage, FakeBot, StoredFile, Webhook, scope_key
from .text import TextParseError, format_text

if TYPE_CHECKING:
    from .server import FakeBotApi

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# Methods subject to the optional flood control (sending or editing messages).
RATE_LIMITED = frozenset(
    {
        "sendmessage", "sendphoto", "senddocument", "editmessagetext",
        "editmessagereplymarkup", "editmessagecaption",
    }
)  # fmt: skip
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]*")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"([a-z]{2})?")


@dataclass
class Call:
    """Everything a method handler needs."""

    api: FakeBotApi
    bot: FakeBot
    params: Params
    request: web.Request

    def now(self) -> int:
        """Current Unix time from the injectable clock."""
        return int(self.api.now())


class Described(NamedTuple):
    """A result that Telegram sends together with a description (setWebhook, ...)."""

    result: Any
    description: str


Handler = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler; lookups are case-insensitive like Telegram's."""

    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


# ------------------------------------------------------------------ helpers


def _chat(call: Call, *, sending: bool = True) -> Chat:
    raw = call.params.get_str("chat_id")
    if not raw:
        raise bad_request("chat_id is empty")
    try:
        chat = call.bot.chat(int(raw))
    except ValueError:
        chat = None  # "@username" only exists for channels and groups
    if chat is None:
        raise bad_request(CHAT_NOT_FOUND)
    if chat.migrated_to is not None:
        raise ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": chat.migrated_to},
        )
    if chat.group is not None:
        if chat.left:
            raise forbidden(f"bot is not a member of the {chat.group['type']} chat")
        return chat
    if sending:
        if chat.blocked:
            raise forbidden(BLOCKED)
        if not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
    return chat


def _formatted(call: Call, text: str, mode_param: str, entities_param: str) -> tuple[str, list]:
    entities = call.params.get_json(entities_param)
    if entities is not None and not (
        isinstance(entities, list) and all(isinstance(e, dict) for e in entities)
    ):
        raise bad_request(f"can't parse {entities_param} JSON object")
    try:
        return format_text(
            text,
            call.params.get_str(mode_param),
            entities,
            strict_ampersand=call.api.strict_html,
        )
    except TextParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    except ValueError:
        raise bad_request("unsupported parse_mode") from None


def _message_text(call: Call) -> tuple[str, list]:
    text = call.params.get_str("text")
    if not text:
        raise bad_request("message text is empty")
    plain, entities = _formatted(call, text, "parse_mode", "entities")
    if not plain:
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return plain, entities


def _caption(call: Call) -> tuple[str | None, list]:
    caption = call.params.get_str("caption")
    if not caption:
        return None, []
    plain, entities = _formatted(call, caption, "parse_mode", "caption_entities")
    if len(plain) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return plain or None, entities


def _markup(call: Call) -> dict[str, Any] | None:
    return validate_reply_markup(
        call.params.get_json("reply_markup", error="can't parse reply keyboard markup JSON object")
    )


def _reply_to(call: Call, chat: Chat) -> int | None:
    reply = call.params.get_json("reply_parameters") or {}
    message_id = reply.get("message_id") or call.params.get_int("reply_to_message_id")
    if not message_id:
        return None
    allow = bool(reply.get("allow_sending_without_reply")) or call.params.get_bool(
        "allow_sending_without_reply"
    )
    target = chat.messages.get(int(message_id))
    if target is None or target.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return int(message_id)


def _store_bot_message(call: Call, chat: Chat, markup: dict | None, **fields: Any) -> ChatMessage:
    reply_to = _reply_to(call, chat)
    message = chat.add(
        lambda message_id: ChatMessage(
            message_id=message_id,
            chat=chat,
            date=call.now(),
            sender=call.bot.user_dict(),
            from_bot=True,
            reply_markup=markup if is_inline(markup) else None,
            reply_to_message_id=reply_to,
            **fields,
        )
    )
    # Reply keyboards are not part of the message: they replace the user's keyboard.
    if markup is not None and "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup is not None and "remove_keyboard" in markup:
        chat.reply_keyboard = None
    return message


def _editable(call: Call) -> ChatMessage:
    if call.params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = _chat(call)
    message_id = call.params.get_int("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _edit_markup(call: Call) -> dict[str, Any] | None:
    markup = _markup(call)
    if markup is not None and not is_inline(markup):
        raise bad_request("inline keyboard expected")
    return markup


def _input_file(call: Call, field: str, kind: str) -> StoredFile:
    """Resolve an InputFile parameter: multipart upload, known file_id or HTTP URL."""
    value = call.params.get_file(field)
    if value is None or value == "":
        raise bad_request(f"there is no {field} in the request")
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        if kind == "photo" and image_kind(value.data) is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        mime = value.content_type or "application/octet-stream"
        return call.bot.store_file(kind, value.data, value.filename, mime)
    known = call.bot.files.get(value)
    if known is not None:
        if (kind == "photo") != (known.kind == "photo"):
            raise bad_request(
                f"wrong file identifier/HTTP URL specified: can't use file of "
                f"type {known.kind.capitalize()} as {kind.capitalize()}"
            )
        return known
    if value.startswith(("http://", "https://")):
        # No internet here: remember the URL instead of downloading it.
        name = value.rsplit("/", 1)[-1] or None
        return call.bot.store_file(kind, None, name, None, url=value)
    raise bad_request("wrong file identifier/HTTP URL specified")


# ------------------------------------------------------------------ bot identity


@method("getMe")
async def get_me(call: Call) -> Any:
    """Bot API getMe."""
    return {
        **call.bot.user_dict(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut")
async def log_out(call: Call) -> Any:
    """Bot API logOut (a no-op here)."""
    return True


@method("close")
async def close(call: Call) -> Any:
    """Bot API close (a no-op here)."""
    return True


# ------------------------------------------------------------------ updates


@method("getUpdates")
async def get_updates(call: Call) -> Any:
    """Long polling; updates stay queued until a later call confirms them with offset."""
    bot, params = call.bot, call.params
    if bot.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    offset = params.get_int("offset", 0) or 0
    # The real server clamps rather than rejects out-of-range limit and timeout.
    limit = min(max(params.get_int("limit", 100) or 100, 1), 100)
    timeout = min(max(params.get_float("timeout", 0.0) or 0.0, 0.0), call.api.max_poll_timeout)
    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        bot.set_allowed_updates([str(kind) for kind in allowed])
    bot.confirm(offset)

    # A newer poll terminates the older one, which then answers 409.
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.changes.notify()
    if timeout > 0 and not bot.updates:
        bot.active_polls += 1
        bot.changes.notify()
        try:
            await bot.changes.wait_for(
                lambda: (
                    bot.updates
                    or bot.poll_generation != generation
                    or bot.webhook is not None
                    or call.api.closing
                ),
                timeout,
            )
        except TimeoutError:
            pass
        finally:
            bot.active_polls -= 1
    if bot.poll_generation != generation:
        raise conflict(
            "terminated by other getUpdates request; "
            "make sure that only one bot instance is running"
        )
    # Updates are only forgotten when confirmed, so a client killed before reading this
    # answer gets the same updates again after its restart.
    return [dict(update) for update in bot.updates[:limit]]


@method("setWebhook")
async def set_webhook(call: Call) -> Any:
    """Bot API setWebhook (plain http on loopback is allowed, unlike on Telegram)."""
    bot, params = call.bot, call.params
    url = params.get_str("url", "") or ""
    if params.get_bool("drop_pending_updates"):
        bot.updates.clear()
    if not url:
        return await _remove_webhook(call)
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise bad_request("invalid webhook URL specified")
    secret = params.get_str("secret_token") or None
    if secret is not None:
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        bot.set_allowed_updates([str(kind) for kind in allowed])
    max_connections = min(max(params.get_int("max_connections", 40) or 40, 1), 100)
    already = bot.webhook is not None and bot.webhook.url == url
    bot.webhook = Webhook(url, secret, max_connections, allowed)
    bot.last_error_date = bot.last_error_message = None
    call.api.webhooks.restart(bot)
    return Described(True, "Webhook is already set" if already else "Webhook was set")


async def _remove_webhook(call: Call) -> Described:
    bot = call.bot
    had = bot.webhook is not None
    bot.webhook = None
    bot.last_error_date = bot.last_error_message = None
    call.api.webhooks.restart(bot)
    return Described(True, "Webhook was deleted" if had else "Webhook is already deleted")


@method("deleteWebhook")
async def delete_webhook(call: Call) -> Any:
    """Bot API deleteWebhook."""
    if call.params.get_bool("drop_pending_updates"):
        call.bot.updates.clear()
    return await _remove_webhook(call)


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> Any:
    """Bot API getWebhookInfo."""
    bot = call.bot
    hook = bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": bot.pending_update_count,
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        info["ip_address"] = "127.0.0.1"
        if hook.allowed_updates is not None:
            info["allowed_updates"] = sorted(bot.allowed_updates)
        if bot.last_error_date is not None:
            info["last_error_date"] = bot.last_error_date
            info["last_error_message"] = bot.last_error_message
    return info


# ------------------------------------------------------------------ commands and profile


def _scope_and_language(call: Call) -> tuple[dict[str, Any] | None, str]:
    scope = call.params.get_json("scope", error="can't parse BotCommandScope JSON object")
    if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
        raise bad_request("can't parse BotCommandScope JSON object")
    valid_scopes = {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
    if scope is not None and scope["type"] not in valid_scopes:
        raise bad_request("unsupported bot command scope type specified")
    language = call.params.get_str("language_code", "") or ""
    if not _LANGUAGE.fullmatch(language):
        raise bad_request("invalid language code specified")
    if scope is not None and scope["type"] == "default":
        scope = None
    return scope, language


@method("setMyCommands")
async def set_my_commands(call: Call) -> Any:
    """Bot API setMyCommands; an empty or missing list deletes the commands."""
    commands = call.params.get_json("commands", error="can't parse commands JSON object") or []
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    cleaned = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand: BotCommand must be an Object")
        for field_name in ("command", "description"):
            if field_name not in command:
                raise bad_request(f"can't parse BotCommand: Can't find field \"{field_name}\"")
        name, description = str(command["command"]), str(command["description"])
        if not _COMMAND.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description.strip():
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name, "description": description})
    scope, language = _scope_and_language(call)
    key = (scope_key(scope), language)
    if cleaned:
        call.bot.commands[key] = cleaned
    else:
        call.bot.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> Any:
    """Bot API getMyCommands (exact scope and language, no fallback)."""
    scope, language = _scope_and_language(call)
    return call.bot.get_commands(scope, language)


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> Any:
    """Bot API deleteMyCommands."""
    scope, language = _scope_and_language(call)
    call.bot.commands.pop((scope_key(scope), language), None)
    return True


def _profile_setting(name: str, field_name: str, limit: int) -> None:
    """Register setMy<Name>/getMy<Name> storing one string per language."""

    async def setter(call: Call) -> Any:
        value = call.params.get_str(field_name, "") or ""
        if len(value) > limit:
            raise bad_request(f"{field_name} is too long")
        language = call.params.get_str("language_code", "") or ""
        call.bot.settings[(field_name, language)] = value
        return True

    async def getter(call: Call) -> Any:
        language = call.params.get_str("language_code", "") or ""
        return {field_name: call.bot.settings.get((field_name, language), "")}

    method(f"setMy{name}")(setter)
    method(f"getMy{name}")(getter)


_profile_setting("Name", "name", 64)
_profile_setting("Description", "description", 512)
_profile_setting("ShortDescription", "short_description", 120)


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> Any:
    """Bot API setChatMenuButton."""
    button = call.params.get_json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button: unsupported type (fake API check)")
    if button["type"] == "web_app":
        url = (button.get("web_app") or {}).get("url")
        if not str(button.get("text") or "").strip():
            raise bad_request("BUTTON_TEXT_INVALID")
        # Telegram opens Mini Apps over https only and refuses any other URL.
        if not isinstance(url, str) or not url.startswith("https://"):
            raise bad_request("BUTTON_URL_INVALID")
    chat_id = call.params.get_str("chat_id") or ""
    if chat_id and button["type"] == "default":
        # MenuButtonDefault: no value of the chat's own; the chat shows the bot's default again.
        call.bot.settings.pop(("menu_button", chat_id), None)
        return True
    call.bot.settings[("menu_button", chat_id)] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> Any:
    """Bot API getChatMenuButton."""
    chat_id = call.params.get_str("chat_id") or ""
    default = call.bot.settings.get(("menu_button", ""), {"type": "commands"})
    return call.bot.settings.get(("menu_button", chat_id), default)


# ------------------------------------------------------------------ messages


@method("sendMessage")
async def send_message(call: Call) -> Any:
    """Bot API sendMessage."""
    chat = _chat(call)
    text, entities = _message_text(call)
    markup = _markup(call)
    message = _store_bot_message(call, chat, markup, text=text, entities=entities)
    return message.to_api()


@method("editMessageText")
async def edit_message_text(call: Call) -> Any:
    """Bot API editMessageText; omitting reply_markup removes the inline keyboard."""
    message = _editable(call)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = _message_text(call)
    markup = _edit_markup(call)
    if text == message.text and entities == message.entities and markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.edit(call.now(), text=text, entities=entities, reply_markup=markup)
    return message.to_api()


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> Any:
    """Bot API editMessageReplyMarkup; no reply_markup removes the keyboard."""
    message = _editable(call)
    markup = _edit_markup(call)
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    message.edit(call.now(), reply_markup=markup)
    return message.to_api()


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> Any:
    """Bot API editMessageCaption."""
    message = _editable(call)
    if not message.media:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = _caption(call)
    markup = _edit_markup(call)
    if (
        caption == message.caption
        and entities == message.caption_entities
        and markup == message.reply_markup
    ):
        raise bad_request(NOT_MODIFIED)
    message.edit(call.now(), caption=caption, caption_entities=entities, reply_markup=markup)
    return message.to_api()


@method("deleteMessage")
async def delete_message(call: Call) -> Any:
    """Bot API deleteMessage (bot or user messages of a private chat)."""
    chat = _chat(call, sending=False)
    message = chat.messages.get(call.params.get_int("message_id") or 0)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    message.deleted = True
    return True


@method("sendChatAction")
async def send_chat_action(call: Call) -> Any:
    """Bot API sendChatAction."""
    chat = _chat(call)
    action = call.params.get_str("action", "") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.actions.append((call.api.now(), action))
    return True


@method("sendPhoto")
async def send_photo(call: Call) -> Any:
    """Bot API sendPhoto: the upload must really be an image."""
    chat = _chat(call)
    stored = _input_file(call, "photo", "photo")
    caption, entities = _caption(call)
    markup = _markup(call)
    width, height = image_size(stored.data or b"")
    size = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "width": width,
        "height": height,
    }
    message = _store_bot_message(
        call,
        chat,
        markup,
        caption=caption,
        caption_entities=entities,
        media={"photo": [size]},
        file=stored,
    )
    return message.to_api()


@method("sendDocument")
async def send_document(call: Call) -> Any:
    """Bot API sendDocument."""
    chat = _chat(call)
    stored = _input_file(call, "document", "document")
    caption, entities = _caption(call)
    markup = _markup(call)
    document: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.filename:
        document["file_name"] = stored.filename
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    message = _store_bot_message(
        call,
        chat,
        markup,
        caption=caption,
        caption_entities=entities,
        media={"document": document},
        file=stored,
    )
    return message.to_api()


@method("getFile")
async def get_file(call: Call) -> Any:
    """Bot API getFile; download from api.base_file_url + file_path."""
    stored = call.bot.files.get(call.params.get_str("file_id", "") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


@method("getChat")
async def get_chat(call: Call) -> Any:
    """Bot API getChat for a private chat (ChatFullInfo)."""
    chat = _chat(call, sending=False)
    return {
        **chat.as_chat(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": True,
            "limited_gifts": True,
            "unique_gifts": True,
            "premium_subscription": True,
            "gifts_from_channels": True,
        },
    }


@method("leaveChat")
async def leave_chat(call: Call) -> Any:
    """Bot API leaveChat: the bot leaves a group (Telegram then sends a my_chat_member update)."""
    chat = _chat(call, sending=False)
    if chat.group is None:
        raise bad_request("chat member status can't be changed in private chats")
    chat.left = True
    call.bot.emit(
        "my_chat_member",
        {
            "chat": chat.as_chat(),
            "from": call.bot.user_dict(),
            "date": call.now(),
            "old_chat_member": {"user": call.bot.user_dict(), "status": "member"},
            "new_chat_member": {"user": call.bot.user_dict(), "status": "left"},
        },
    )
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> Any:
    """Bot API answerCallbackQuery: each query can be answered once, while fresh."""
    bot, params = call.bot, call.params
    query = bot.callback_queries.get(params.get_str("callback_query_id", "") or "")
    ttl = call.api.callback_query_ttl
    expired = (
        query is not None
        and ttl is not None
        and asyncio.get_running_loop().time() - (query.created) > ttl
    )
    if query is None or query.answered or expired:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get_str("text", "") or ""
    if len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.answer = {
        "text": text,
        "show_alert": params.get_bool("show_alert"),
        "url": params.get_str("url"),
        "cache_time": params.get_int("cache_time", 0),
    }
    return True
