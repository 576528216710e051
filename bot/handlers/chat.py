"""Showing a conversation in a Telegram chat: what each engine output looks like there."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from storage.repository import User

from ..conversation import Conversation, Reply
from ..flows.model import Lang, UiTexts
from ..flows.state import Ask, Done, Invalid, Recorded, SafetyNote, Say
from .render import (
    Span,
    answered_spans,
    keyboard,
    question_spans,
    split_messages,
    summary_spans,
    to_html,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class Blocked(Exception):
    """The user has blocked the bot: stop sending to them."""


@dataclass
class ChatView:
    """Sends and edits the messages of one user's private chat."""

    bot: Bot
    conversation: Conversation
    chat_id: int
    user: User
    priority: str | None = None
    """`BACKGROUND` for scheduled messages: they give way to replies (see delivery.ratelimit)."""
    extra_row: list[InlineKeyboardButton] | None = None
    """Buttons added under the next question (a check-in's "Later")."""

    @property
    def ui(self) -> UiTexts:
        """Texts around questions, from the current playbook."""
        return self.conversation.playbook.ui

    @property
    def lang(self) -> Lang:
        """The user's language."""
        return self.conversation.language(self.user)

    async def say(self, spans: list[Span], markup: InlineKeyboardMarkup | None = None) -> Message:
        """Send spans as one or more messages (the keyboard goes on the last)."""
        sent: Message | None = None
        pieces = split_messages(spans)
        for index, text in enumerate(pieces):
            last = index == len(pieces) - 1
            sent = await self._call(
                self.bot.send_message,
                chat_id=self.chat_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if last else None,
                disable_web_page_preview=True,
            )
        assert sent is not None, "a message is never empty"
        return sent

    async def text(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        """Send a plain text (escaped), optionally with buttons."""
        return await self.say([Span(text)], markup)

    async def show(self, reply: Reply) -> None:
        """Render every output of a reply, in order.

        Messages said on the way to a question travel with it, in one Telegram message: fewer
        notifications for the manager, fewer calls for the bot.
        """
        outputs = reply.outputs
        said: list[Span] = []
        for index, output in enumerate(outputs):
            if isinstance(output, Say):
                said += [Span(output.text), Span("\n\n")]
                continue
            if isinstance(output, Ask):
                after_invalid = index > 0 and isinstance(outputs[index - 1], Invalid)
                if not after_invalid:  # the question is still on screen, with its buttons
                    await self.ask(output, reply.session_id, said)
                    said = []
                continue
            if said:
                await self.say(said[:-1])
                said = []
            if isinstance(output, Recorded):
                await self._mark_answered(reply, output)
            elif isinstance(output, SafetyNote):
                await self.say([Span(output.text, "i")])
            elif isinstance(output, Invalid):
                await self.text(output.reason)
            elif isinstance(output, Done) and output.lines:
                await self.say(summary_spans(output))
        if said:
            await self.say(said[:-1])

    async def ask(self, ask: Ask, session_id: int | None, lead: list[Span] | None = None) -> None:
        """Send a question with its buttons (after `lead`, what was said on the way), and
        remember its message to edit it once answered."""
        markup = keyboard(ask, session_id or 0, self.ui, self.lang)
        if self.extra_row:
            rows = [*(markup.inline_keyboard if markup else ()), self.extra_row]
            markup = InlineKeyboardMarkup(rows)
            self.extra_row = None
        spans = [*(lead or []), *question_spans(ask, self.ui.previous_answer.get(self.lang))]
        sent = await self.say(spans, markup)
        self.conversation.remember_question(self.user, sent.message_id)
        self.user = _with_question(self.user, sent.message_id)

    async def refresh_question(self, ask: Ask, session_id: int | None) -> None:
        """Redraw the question message in place (ticks changed, or a quoted answer was edited)."""
        message_id = self.user.question_message_id
        if message_id is None:
            await self.ask(ask, session_id)
            return
        spans = question_spans(ask, self.ui.previous_answer.get(self.lang))
        markup = keyboard(ask, session_id or 0, self.ui, self.lang)
        await self._edit(message_id, spans, markup)

    async def _mark_answered(self, reply: Reply, recorded: Recorded) -> None:
        """Edit the answered question: show the answer after a tick and drop its keyboard.

        A question without buttons needs no edit: the manager's own message, right below it,
        already shows the answer.
        """
        message_id = self.user.question_message_id
        answered = reply.answered
        if message_id is None or answered is None or answered.step != recorded.step:
            return
        if not answered.options:
            return
        shown = recorded.raw if recorded.value is not None else self.ui.skipped.get(self.lang)
        await self._edit(message_id, answered_spans(answered, shown), None)

    async def _edit(
        self, message_id: int, spans: list[Span], markup: InlineKeyboardMarkup | None
    ) -> None:
        pieces = split_messages(spans)
        text = pieces[0] if pieces else to_html(spans)
        try:
            await self._call(
                self.bot.edit_message_text,
                chat_id=self.chat_id,
                message_id=message_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_web_page_preview=True,
            )
        except BadRequest as error:
            # Nothing to change, or the message is gone: the chat already reads right.
            log.info("chat.edit_skipped reason=%s", type(error).__name__)

    async def _call(self, method: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        if self.priority is not None:
            kwargs["rate_limit_args"] = self.priority
        try:
            return await method(**kwargs)
        except Forbidden:
            self.conversation.set_blocked(self.user, True)
            log.info("chat.blocked user=%s", self.user.id)
            raise Blocked from None


def _with_question(user: User, message_id: int) -> User:
    return replace(user, question_message_id=message_id)
