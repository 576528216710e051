"""Showing a conversation in a Telegram chat: what each engine output looks like there.

Nothing here calls Telegram: every message, edit and callback query answer becomes an outbox
row, in the transaction of the update (or scheduled job) that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode

from storage import delivery as store
from storage.repository import User

from ..conversation import Conversation, Reply
from ..delivery.outbox import CALLBACK_ANSWER, Storage, file_field
from ..flows.model import Lang, UiTexts
from ..flows.state import (
    Ask,
    Done,
    Invalid,
    LanguageChanged,
    Recorded,
    SafetyNote,
    SafetyOffer,
    Say,
)
from .callbacks import ButtonData, ButtonKind
from .render import (
    Span,
    answered_spans,
    keyboard,
    question_spans,
    split_messages,
    summary_spans,
    to_html,
)

QuestionExtra = Callable[[User, Ask], list[InlineKeyboardButton] | None]
"""(user, question) -> a row of buttons to add under that question, or None."""


@dataclass
class ChatView:
    """Writes the messages of one user's private chat to the outbox."""

    storage: Storage
    conversation: Conversation
    chat_id: int
    user: User
    kind: str = "reply"
    """The outbox kind of messages sent (`checkin` for a scheduled check-in...)."""
    pressed_message_id: int | None = None
    """The message whose button answered the question (set by the button handlers): the
    answered-question edit goes to it. A question can show twice (a send that timed out had
    reached Telegram, and was sent again): the copy pressed is the one ticked."""
    extra_row: list[InlineKeyboardButton] | None = None
    """Buttons added under the next question (a check-in's "Later")."""
    subject: str | None = None
    """What the next question's delivery reports on (`checkin:ID`)."""
    deadline: datetime | None = None
    """When the messages stop being worth sending (default: their kind's lifetime)."""
    question_extra: QuestionExtra | None = None
    """Buttons to add under some questions (the team round's offer), asked per question."""

    @property
    def ui(self) -> UiTexts:
        """Texts around questions, from the current playbook."""
        return self.conversation.playbook.ui

    @property
    def lang(self) -> Lang:
        """The user's language."""
        return self.conversation.language(self.user)

    def say(
        self,
        spans: list[Span],
        markup: InlineKeyboardMarkup | None = None,
        *,
        kind: str | None = None,
        subject: str | None = None,
    ) -> int:
        """Send spans as one or more messages (the keyboard goes on the last); returns the
        outbox row of the last."""
        row = 0
        pieces = split_messages(spans)
        for index, text in enumerate(pieces):
            last = index == len(pieces) - 1
            payload = {
                "chat_id": self.chat_id,
                "text": text,
                "parse_mode": ParseMode.HTML.value,
                "link_preview_options": {"is_disabled": True},
            }
            if last and markup is not None:
                payload["reply_markup"] = markup.to_dict()
            row = self._add(kind or self.kind, "sendMessage", payload, subject if last else None)
        assert row, "a message is never empty"
        return row

    def text(self, text: str, markup: InlineKeyboardMarkup | None = None) -> int:
        """Send a plain text (escaped), optionally with buttons."""
        return self.say([Span(text)], markup)

    def answer(self, query_id: str, text: str | None = None) -> None:
        """Answer a pressed button (stops its spinner; `text` shows as a toast)."""
        payload: dict[str, object] = {"callback_query_id": query_id}
        if text:
            payload["text"] = text
        self._add(CALLBACK_ANSWER, "answerCallbackQuery", payload)

    def drop_buttons(self, message_id: int) -> None:
        """Remove the buttons of a message whose choice is made."""
        payload: dict[str, object] = {
            "chat_id": self.chat_id,
            "message_id": message_id,
            "reply_markup": None,
        }
        self._add("answered_edit", "editMessageReplyMarkup", payload)

    def buttons_removed(self, message_id: int) -> bool:
        """Whether that message's buttons were removed already (a tap on them is a repeat)."""
        return store.buttons_removed(self.storage.db, self.chat_id, message_id)

    def replace_buttons(self, message_id: int, markup: InlineKeyboardMarkup) -> None:
        """Redraw the buttons of a message (a tick toggled)."""
        payload = {
            "chat_id": self.chat_id,
            "message_id": message_id,
            "reply_markup": markup.to_dict(),
        }
        self._add("answered_edit", "editMessageReplyMarkup", payload)

    def photo(self, png: bytes | dict[str, Any], caption: str, filename: str) -> None:
        """Send a picture with its caption: PNG bytes, or a chart the sender draws when it
        sends it (`drawn.mood_chart_field`...: never drawn inside the update's transaction)."""
        photo = png if isinstance(png, dict) else file_field(png, filename)
        payload: dict[str, object] = {"chat_id": self.chat_id, "photo": photo, "caption": caption}
        self._add(self.kind, "sendPhoto", payload)

    def document(self, data: bytes, filename: str, caption: str | None = None) -> None:
        """Send a file."""
        payload: dict[str, object] = {
            "chat_id": self.chat_id,
            "document": file_field(data, filename),
        }
        if caption:
            payload["caption"] = caption
        self._add(self.kind, "sendDocument", payload)

    def show(self, reply: Reply) -> None:
        """Render every output of a reply, in order.

        Messages said on the way to a question travel with it, in one Telegram message: fewer
        notifications for the manager, fewer calls for the bot.
        """
        outputs = reply.outputs
        offered = any(isinstance(output, SafetyOffer) for output in outputs)
        said: list[Span] = []
        for index, output in enumerate(outputs):
            if isinstance(output, Say) and output.alone:  # a message to forward: on its own
                if said:
                    self.say(said[:-1])
                    said = []
                self.text(output.text)
                continue
            if isinstance(output, Say):
                said += [Span(output.text), Span("\n\n")]
                continue
            if isinstance(output, Ask):
                after_invalid = index > 0 and isinstance(outputs[index - 1], Invalid)
                # After a safety offer the question comes back only once the manager goes on.
                if not after_invalid and not offered:  # else it is still on screen
                    self.ask(output, reply.session_id, said)
                    said = []
                continue
            if said:
                self.say(said[:-1])
                said = []
            # Every output kind has its case: a new kind fails mypy here until rendered.
            match output:
                case Recorded():
                    self._mark_answered(reply, output)
                case SafetyNote():
                    self.say([Span(output.text, "i")])
                case SafetyOffer():
                    self._offer(output, reply.session_id)
                case Invalid():
                    self.text(output.reason)
                case Done():
                    if output.lines:
                        self.say(summary_spans(output))
                case LanguageChanged():
                    pass  # the conversation service stored it already
                case _:
                    assert_never(output)
        if said:
            self.say(said[:-1])

    def _offer(self, offer: SafetyOffer, session_id: int | None) -> None:
        """After the safety note: "pause here" / "go on" as buttons under the prompt; the
        session's turn rides along, so once the manager answered on they are no longer active."""
        current = self.conversation.current(self.user)
        turn = current[1].turn if current is not None and current[0].id == session_id else None
        buttons = [
            InlineKeyboardButton(
                choice.label,
                callback_data=ButtonData(
                    ButtonKind.SAFETY_CHOICE, session_id, turn, choice.id
                ).encode(),
            )
            for choice in offer.options
        ]
        self.text(offer.prompt, InlineKeyboardMarkup([buttons]))

    def ask(self, ask: Ask, session_id: int | None, lead: list[Span] | None = None) -> None:
        """Send a question with its buttons (after `lead`, what was said on the way), and
        remember its outbox row: edits once it is answered find its message through it."""
        markup = keyboard(ask, session_id or 0, self.ui, self.lang)
        extra = self.question_extra(self.user, ask) if self.question_extra else None
        added = [row for row in (extra, self.extra_row) if row]
        if added:
            rows = [*(markup.inline_keyboard if markup else ()), *added]
            markup = InlineKeyboardMarkup(rows)
            self.extra_row = None
        spans = [*(lead or []), *question_spans(ask, self.ui.in_(self.lang).previous_answer)]
        row = self.say(
            spans, markup, kind="question" if self.kind == "reply" else None, subject=self.subject
        )
        self.subject = None
        store.set_question_row(self.storage.db, self.user.id, row)

    def question_on_its_way(self) -> bool:
        """Whether the question last asked is still to be sent (queued, or refused by Telegram
        for now and tried again) with nothing after it: it will arrive, and a second copy would
        follow it."""
        return store.question_on_its_way(self.storage.db, self.user.id)

    def hurry(self) -> None:
        """Send what the chat has pending as urgently as a reply (a check-in's question must
        not wait behind a morning's check-ins for someone who asked to see it)."""
        self.storage.hurry(self.chat_id)

    def question_message_id(self) -> int | None:
        """The message id of the question on screen, once Telegram gave it."""
        return store.question_ref(self.storage.db, self.user.id).message_id

    def refresh_question(self, ask: Ask, session_id: int | None) -> None:
        """Redraw the question message in place (ticks changed, or a quoted answer was edited)."""
        spans = question_spans(ask, self.ui.in_(self.lang).previous_answer)
        markup = keyboard(ask, session_id or 0, self.ui, self.lang)
        if not self._edit(spans, markup):
            self.ask(ask, session_id)

    def _mark_answered(self, reply: Reply, recorded: Recorded) -> None:
        """Edit the answered question: show the answer after a tick and drop its keyboard.

        A question without buttons needs no edit: the manager's own message, right below it,
        already shows the answer (an optional one loses its skip button).
        """
        answered = reply.answered
        if answered is None or answered.step != recorded.step:
            return
        if not answered.options and answered.skip is None:
            return
        shown = recorded.raw if recorded.value is not None else self.ui.in_(self.lang).skipped
        self._edit(answered_spans(answered, shown), None)

    def _edit(self, spans: list[Span], markup: InlineKeyboardMarkup | None) -> bool:
        """Edit the question's message (the one pressed, else the one found at send time);
        False if there is none."""
        pressed, self.pressed_message_id = self.pressed_message_id, None
        ref = store.question_ref(self.storage.db, self.user.id)
        if pressed is None and ref.outbox_id is None and ref.message_id is None:
            return False
        pieces = split_messages(spans)
        payload = {
            "chat_id": self.chat_id,
            "text": pieces[0] if pieces else to_html(spans),
            "parse_mode": ParseMode.HTML.value,
            "reply_markup": markup.to_dict() if markup is not None else None,
            "link_preview_options": {"is_disabled": True},
        }
        if pressed is not None or ref.message_id is not None:
            payload["message_id"] = pressed if pressed is not None else ref.message_id
            self._add("answered_edit", "editMessageText", payload)
        else:  # not sent yet: the sender takes the message id from that row once it is
            self.storage.add(
                "answered_edit",
                self.chat_id,
                "editMessageText",
                payload,
                ref_outbox_id=ref.outbox_id,
            )
        return True

    def _add(
        self, kind: str, method: str, payload: dict[str, object], subject: str | None = None
    ) -> int:
        deadline = self.deadline if kind == self.kind else None
        return self.storage.add(
            kind, self.chat_id, method, payload, subject=subject, deadline=deadline
        )
