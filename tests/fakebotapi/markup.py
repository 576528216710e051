"""Validation of reply_markup objects (inline keyboards, reply keyboards, ...)."""

from __future__ import annotations

from typing import Any

from .errors import bad_request

# Exactly one of these makes an inline button do something.
INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "copy_text", "callback_game", "pay",
)  # fmt: skip
MAX_CALLBACK_DATA_BYTES = 64


def _button_error(message: str) -> Exception:
    return bad_request(f"can't parse inline keyboard button: {message}")


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _button_error('Can\'t find field "text"')
    text = button["text"]
    if not isinstance(text, str):
        raise _button_error('Field "text" must be of type String')
    if not text.strip():
        # Telegram refuses buttons without a visible label.
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in INLINE_ACTIONS if button.get(name) not in (None, False)]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        # The docs say "exactly one of the optional fields must be used"; Telegram silently
        # keeps the first one, which hides a bug, so the fake rejects it.
        raise _button_error(
            f"exactly one action field must be used, got {', '.join(actions)} (fake API check)"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.strip() or " " in url.strip():
            raise bad_request("BUTTON_URL_INVALID")
    return dict(button)


def _reply_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    return dict(button)


def _rows(markup: dict[str, Any], field: str) -> list[Any]:
    rows = markup.get(field)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            f'can\'t parse reply keyboard markup JSON object: Field "{field}" '
            "must be an Array of Arrays"
        )
    return rows


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate a reply_markup like Telegram; return a normalized copy (None if empty)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = [
            [_inline_button(button) for button in row]
            for row in _rows(markup, "inline_keyboard")
            if row
        ]
        # An empty inline keyboard is no keyboard at all.
        return {"inline_keyboard": rows} if rows else None
    if "keyboard" in markup:
        rows = [[_reply_button(b) for b in row] for row in _rows(markup, "keyboard") if row]
        if not rows:
            raise bad_request("can't parse reply keyboard markup JSON object: keyboard is empty")
        return {**markup, "keyboard": rows}
    if "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request(
                "can't parse reply keyboard markup JSON object: "
                'Field "remove_keyboard" must be true'
            )
        return dict(markup)
    if "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request(
                'can\'t parse reply keyboard markup JSON object: Field "force_reply" must be true'
            )
        return dict(markup)
    raise bad_request("can't parse reply keyboard markup JSON object")


def is_inline(markup: dict[str, Any] | None) -> bool:
    """Whether a normalized markup is an inline keyboard."""
    return markup is not None and "inline_keyboard" in markup
