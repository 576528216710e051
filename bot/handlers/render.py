"""Engine outputs as Telegram messages: HTML with every text escaped, keyboards, 4096 splits."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..flows.model import Lang, UiTexts
from ..flows.state import Ask, Done
from .callbacks import ButtonData, ButtonKind

MESSAGE_LIMIT = 4096
SCALE_ROW = 6
TICK = "✓"


@dataclass(frozen=True)
class Span:
    """A run of text with one style; the text is plain, escaped only when rendered."""

    text: str
    style: str = ""  # "", "b" or "i"


def to_html(spans: list[Span]) -> str:
    """The spans as Telegram HTML: every text escaped, styles as tags."""
    parts = []
    for span in spans:
        escaped = html.escape(span.text, quote=False)
        styled = span.style and escaped
        parts.append(f"<{span.style}>{escaped}</{span.style}>" if styled else escaped)
    return "".join(parts)


def split_messages(spans: list[Span], limit: int = MESSAGE_LIMIT) -> list[str]:
    """HTML messages of at most `limit` visible characters, cut between lines, else words."""
    lines: list[list[Span]] = [[]]
    for span in spans:
        pieces = span.text.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                lines.append([])
            if piece:
                lines[-1].append(Span(piece, span.style))
    messages: list[list[Span]] = []
    current: list[Span] = []
    size = 0
    for line in lines:
        for part in _cut_line(line, limit):
            width = sum(len(span.text) for span in part)
            needed = width + (1 if current else 0)
            if current and size + needed > limit:
                messages.append(current)
                current, size, needed = [], 0, width
            if current:
                current.append(Span("\n"))
            current.extend(part)
            size += needed
    if current and any(span.text.strip() for span in current):
        messages.append(current)
    return [to_html(message) for message in messages]


def _cut_line(line: list[Span], limit: int) -> list[list[Span]]:
    """A line longer than the limit, cut at spaces (or anywhere, for an endless word)."""
    if sum(len(span.text) for span in line) <= limit:
        return [line]
    parts: list[list[Span]] = [[]]
    size = 0
    for span in line:
        text = span.text
        while text:
            room = limit - size
            if len(text) <= room:
                parts[-1].append(Span(text, span.style))
                size += len(text)
                break
            cut = text.rfind(" ", 0, room + 1)
            cut = cut if cut > 0 else room
            if cut > 0:
                parts[-1].append(Span(text[:cut], span.style))
            text = text[cut:].lstrip(" ")
            parts.append([])
            size = 0
    return [part for part in parts if part]


def question_spans(ask: Ask, previous_label: str = "", with_hints: bool = True) -> list[Span]:
    """A question: progress line in bold, the prompt, hints and any earlier answer in italics."""
    spans = []
    if ask.progress is not None and ask.progress.total > 1:
        spans += [Span(str(ask.progress), "b"), Span("\n")]
    spans.append(Span(ask.prompt))
    if with_hints and ask.hint:
        spans += [Span("\n\n"), Span(ask.hint, "i")]
    if with_hints and ask.previous is not None:
        spans += [Span("\n"), Span(f"{previous_label} {ask.previous}".strip(), "i")]
    return spans


def answered_spans(ask: Ask, answer: str) -> list[Span]:
    """A question once answered: the question, then the answer after a tick, keyboard gone."""
    spans = question_spans(ask, with_hints=False)
    return [*spans, Span("\n\n"), Span(f"{TICK} "), Span(answer, "b")]


def summary_spans(done: Done) -> list[Span]:
    """The summary at the end of a flow: its title in bold, one bullet per line."""
    spans = [Span(done.title, "b")]
    for line in done.lines:
        spans += [Span("\n"), Span(f"• {line}")]
    return spans


def keyboard(ask: Ask, session_id: int, ui: UiTexts, lang: Lang) -> InlineKeyboardMarkup | None:
    """Buttons for a question: options, yes/no, scale points, or ticks and a confirm button;
    an optional question adds its skip button below (refs #11)."""
    markup = _option_keyboard(ask, session_id, ui, lang)
    if ask.skip is None:
        return markup
    data = ButtonData(ButtonKind.SKIP_QUESTION, session_id, ask.turn, "skip").encode()
    skip_row = [InlineKeyboardButton(ask.skip, callback_data=data)]
    return InlineKeyboardMarkup([*(markup.inline_keyboard if markup else ()), skip_row])


def _option_keyboard(
    ask: Ask, session_id: int, ui: UiTexts, lang: Lang
) -> InlineKeyboardMarkup | None:
    if not ask.options:
        return None

    def button(label: str, kind: ButtonKind, option: str) -> InlineKeyboardButton:
        data = ButtonData(kind, session_id, ask.turn, option).encode()
        return InlineKeyboardButton(label, callback_data=data)

    if ask.kind == "multi_choice":
        rows = [
            [button(f"{TICK} {o.label}" if o.selected else o.label, ButtonKind.TICK, o.id)]
            for o in ask.options
        ]
        rows.append([button(ui.in_(lang).done_selecting, ButtonKind.SUBMIT_TICKS, "")])
        return InlineKeyboardMarkup(rows)
    if ask.kind == "scale":
        buttons = [button(o.label, ButtonKind.ANSWER, o.id) for o in ask.options]
        return InlineKeyboardMarkup(
            [buttons[i : i + SCALE_ROW] for i in range(0, len(buttons), SCALE_ROW)]
        )
    if ask.kind == "yes_no":
        return InlineKeyboardMarkup(
            [[button(o.label, ButtonKind.ANSWER, o.id) for o in ask.options]]
        )
    return InlineKeyboardMarkup([[button(o.label, ButtonKind.ANSWER, o.id)] for o in ask.options])
