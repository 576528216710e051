"""Formatted text as Telegram sees it: parse modes, automatic entities, trimming.

Offsets and lengths of entities are counted in UTF-16 code units, like the Bot API.
The HTML parser follows tdlib's ``parse_html`` (the code behind the Bot API), including
its error messages, so a bot that passes here formats text the way Telegram accepts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]


class TextParseError(ValueError):
    """The text cannot be parsed in the requested parse_mode (becomes a 400)."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def entity_text(text: str, entity: Entity) -> str:
    """The slice of ``text`` an entity covers (offsets are UTF-16)."""
    encoded = text.encode("utf-16-le")
    start = entity["offset"] * 2
    return encoded[start : start + entity["length"] * 2].decode("utf-16-le")


def _sort(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------- HTML

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler",
}  # fmt: skip
# tdlib's is_space: the NUL it also lists is our "end of string".
_SPACES = " \t\r\n\v"
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_index: int
    expandable: bool = False


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode ``&...;`` at ``pos`` like tdlib; (None, pos) when it is not an entity."""
    n = len(text)

    def at(i: int) -> str:
        return text[i] if i < n else "\0"

    end = pos + 1
    if at(pos + 1) == "#":
        end += 1
        code = 0
        if at(pos + 2) == "x":
            end += 1
            while at(end) in "0123456789abcdefABCDEF" and at(end) != "\0":
                code = code * 16 + int(at(end), 16)
                end += 1
        else:
            while at(end).isascii() and at(end).isdigit():
                code = code * 10 + int(at(end))
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None, pos
        decoded = chr(code)
    else:
        while at(end).isascii() and at(end).isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None, pos
        decoded = _NAMED_ENTITIES[name]
    if at(end) == ";":
        end += 1
    return decoded, end


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, entities) or raise TextParseError.

    ``strict_ampersand``: the real Bot API keeps a lone ``&`` as text, but a bot that
    forgets to escape ``&`` also forgets ``<``, so by default the fake rejects it.
    """
    n = len(text)
    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    stack: list[_OpenTag] = []

    def at(i: int) -> str:
        return text[i] if i < n else "\0"

    def byte_offset(i: int) -> int:
        return len(text[:i].encode())

    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded, end = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                utf16 += utf16_len(decoded)
                i = end
                continue
            if strict_ampersand:
                raise TextParseError(
                    f'Unescaped "&" at byte offset {byte_offset(i)}: write &amp; '
                    "(fake API: stricter than Telegram, which keeps a lone & as text)"
                )
        if c != "<":
            out.append(c)
            utf16 += utf16_len(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            # Start tag.
            while i < n and at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise TextParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise TextParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            argument = ""
            expandable = False
            while at(i) != ">":
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while i < n and at(i) not in _SPACES and at(i) not in "=>":
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise TextParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    # Newer Bot API versions accept the value-less <blockquote expandable>.
                    if tag == "blockquote" and attr_name.lower() == "expandable":
                        expandable = True
                        continue
                    raise TextParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while i < n and at(i) in _SPACES:
                    i += 1
                if i >= n:
                    raise TextParseError(
                        f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if i < n and at(i) not in _SPACES and at(i) != ">":
                        raise TextParseError(
                            f"Unexpected end of name token at byte offset "
                            f"{byte_offset(token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded, end = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded)
                                i = end
                                continue
                        chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise TextParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise TextParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append(_OpenTag(tag, argument, utf16, len(out), expandable))
            i += 1
            continue

        # End tag.
        if not stack:
            raise TextParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while i < n and at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        while i < n and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise TextParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        top = stack[-1]
        if end_name and end_name != top.name:
            raise TextParseError(
                f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", '
                f'found "</{end_name}>"'
            )
        if utf16 > top.utf16_offset:
            _close_html_entity(top, utf16, "".join(out[top.out_index :]), entities)
        stack.pop()
        i += 1

    if stack:
        raise TextParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for entity in entities:
        # <code class="language-x"> outside <pre> keeps no language, as in tdlib.
        if entity["type"] == "code":
            entity.pop("language", None)
    plain = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in plain):
        raise TextParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    return plain, _sort(entities)


def _close_html_entity(tag: _OpenTag, end: int, inner: str, entities: list[Entity]) -> None:
    offset, length = tag.utf16_offset, end - tag.utf16_offset
    if tag.name in _SIMPLE_TAGS or (tag.name == "span" and tag.argument == "spoiler"):
        entities.append(
            {"type": _SIMPLE_TAGS.get(tag.name, "spoiler"), "offset": offset, "length": length}
        )
    elif tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) == 0:
            raise TextParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": tag.argument,
            }
        )
    elif tag.name == "a":
        url = tag.argument or inner
        user = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if user:
            entities.append(
                {
                    "type": "text_mention",
                    "offset": offset,
                    "length": length,
                    "user": {"id": int(user.group(1)), "is_bot": False, "first_name": inner},
                }
            )
        elif url.strip():
            entities.append(
                {
                    "type": "text_link",
                    "offset": offset,
                    "length": length,
                    "url": url if "://" in url else f"http://{url}",
                }
            )
    elif tag.name == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last.get("language")
            and last["offset"] == offset
            and last["length"] == length
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag.name == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and tag.argument
            and last["offset"] == offset
            and last["length"] == length
        ):
            last["language"] = tag.argument
        else:
            entity: Entity = {"type": "code", "offset": offset, "length": length}
            if tag.argument:
                entity["language"] = tag.argument
            entities.append(entity)
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.expandable else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


_AUTO_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/<>])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/<>])")),
    ("mention", re.compile(r"(?<![\w@])@[a-zA-Z0-9_]{5,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*(?!\w*#)")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)'\]]")),
)  # fmt: skip
# Automatic entities never appear inside these.
_OPAQUE = frozenset({"code", "pre", "text_link", "url", "text_mention"})


def detect_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Entities Telegram adds by itself: bot commands, mentions, hashtags, URLs."""
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _OPAQUE]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            offset = utf16_len(text[: match.start()])
            length = utf16_len(match.group())
            end = offset + length
            if any(start < end and offset < stop for start, stop in blocked):
                continue
            if any(e["offset"] < end and offset < e["offset"] + e["length"] for e in found):
                continue
            found.append({"type": kind, "offset": offset, "length": length})
    return found


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading/trailing whitespace as Telegram does, keeping entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    left = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[Entity] | None = None,
    *,
    strict_ampersand: bool = True,
) -> tuple[str, list[Entity]]:
    """Apply parse_mode (or explicit entities), trim, and add automatic entities.

    Raises TextParseError for unparsable text and ValueError for an unknown parse mode.
    """
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        plain, parsed = parse_html(text, strict_ampersand=strict_ampersand)
    elif mode in ("markdown", "markdownv2"):
        # Rebond sends HTML only; a Markdown call means a bug, so it fails loudly here.
        raise ValueError("parse_mode Markdown is not emulated: Rebond sends HTML")
    elif mode in ("", "none"):
        plain, parsed = text, _sort([dict(e) for e in entities or []])
    else:
        raise ValueError("unsupported parse_mode")
    plain, parsed = trim(plain, parsed)
    return plain, _sort(parsed + detect_entities(plain, parsed))
