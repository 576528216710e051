"""The manager's side of the chat: commands, typed answers, buttons, edits, anything else.

Each handler is thin: Telegram update -> engine event -> conversation service (which stores
it, with the update's receipt, in one transaction) -> rendered outputs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Coroutine
from typing import Any

from telegram import (
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from storage.intents import leaving
from storage.repository import Receipt, User

from ..coach.service import CoachService
from ..coach.thread import CoachThread
from ..conversation import ONBOARDING, REFLECTION, Conversation, Reply
from ..delivery.outbox import Storage
from ..flows.contract import COACH_COMMANDS, REQUIRED_COMMANDS
from ..flows.engine import SKIP_OPTION, unknown_command
from ..flows.model import LANGUAGES, Lang
from ..flows.state import (
    GO_ON,
    PAUSE,
    Amend,
    Answer,
    Back,
    Event,
    Pick,
    Recorded,
    Restart,
    SafetyNote,
    SafetyOffer,
    SessionState,
    Skip,
    Submit,
    Toggle,
)
from ..flows.text import fill
from ..journey.service import JourneyService
from ..userkey import UserKey
from .callbacks import ButtonData, ButtonKind
from .chat import ChatView, QuestionExtra
from .pieces import continues, first_command
from .render import Span
from .thread import queue_thread_message

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
LanguageMenu = Callable[[Storage, Conversation, int, Lang, bool], None]
"""(storage, conversation, chat id, language, is a coach): publish that chat's menu."""


def receipt_key(update: Update) -> str:
    """The key that marks an update as processed."""
    return f"telegram:update:{update.update_id}"


def _source(message: Message) -> str:
    """How an answer names the message it came from (an edit of it finds the answer)."""
    return f"telegram:message:{message.chat_id}:{message.message_id}"


def guess_language(language_code: str | None) -> Lang:
    """French for fr*, else English, until the manager chooses."""
    return "fr" if (language_code or "").lower().startswith("fr") else "en"


class ManagerHandlers:
    """Handlers for a manager's private chat; registered in `bot.handlers.register`."""

    def __init__(
        self,
        conversation: Conversation,
        storage: Storage,
        coach: CoachService | None = None,
        journey: JourneyService | None = None,
        thread: CoachThread | None = None,
        language_menu: LanguageMenu | None = None,
    ) -> None:
        self.conversation = conversation
        self.storage = storage
        self.coach = coach
        self.question_extra: QuestionExtra | None = None
        """Buttons added under some questions (set by the team round's handlers)."""
        self.journey = journey
        """The home, /cancel's question, the way back to a dropped reflection (refs #11)."""
        self.thread = thread
        """The manager's replies to their coach (refs #11)."""
        self.language_menu = language_menu
        """Publishes a chat's command menu in the language chosen with /language (refs #11)."""

    # --- commands ------------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """/start: a coach's welcome for a coach, the onboarding for a newcomer, else the
        question in progress, else the home."""
        view = await self.view_for(update, context)
        idle = self.conversation.current(view.user) is None
        if idle and self.journey is not None and self._is_coach(view.user):
            view.text(self.journey.coach_welcome(view.user))
            return
        if await self.is_newcomer(view.user):
            await self._show(view, update, self.conversation.start, view.user, ONBOARDING)
            return
        reply = self.conversation.resume(view.user)
        if reply.question is not None:
            view.show(reply)
        elif self.journey is not None:
            self.show_home(view)
        else:
            view.text(view.ui.in_(view.lang).welcome_back)

    def show_home(self, view: ChatView) -> None:
        """The home: one button per item (resume, new, check-in, history...) (refs #11)."""
        assert self.journey is not None
        home = self.journey.home(view.user)
        rows = [
            [
                InlineKeyboardButton(
                    item.label,
                    callback_data=ButtonData(ButtonKind.HOME, None, None, item.action).encode(),
                )
            ]
            for item in home.items
        ]
        view.text(home.title, InlineKeyboardMarkup(rows))

    async def reflect(self, update: Update, context: Context) -> None:
        """/reflect: start the reflection, or offer to resume or restart the one in progress."""
        view = await self.view_for(update, context)
        session = self.conversation.open_session(view.user, REFLECTION)
        if session is None:
            await self._show(view, update, self.conversation.start, view.user, REFLECTION)
            return
        # The session's turn rides along: an answer given since makes the offer an old one.
        turn = SessionState.model_validate_json(session.state).turn
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        view.ui.in_(view.lang).resume_button,
                        callback_data=ButtonData(
                            ButtonKind.SESSION_CONTROL, session.id, turn, "resume"
                        ).encode(),
                    ),
                    InlineKeyboardButton(
                        view.ui.in_(view.lang).restart_button,
                        callback_data=ButtonData(
                            ButtonKind.SESSION_CONTROL, session.id, turn, "restart"
                        ).encode(),
                    ),
                ]
            ]
        )
        view.text(view.ui.in_(view.lang).reflection_in_progress, markup)

    async def resume(self, update: Update, context: Context) -> None:
        """/resume: show the question in progress again (a paused reflection included)."""
        view = await self.view_for(update, context)
        reply = self.conversation.resume(view.user)
        if reply.question is not None and view.question_on_its_way():
            view.hurry()  # the question in progress is still to be sent: it is all they need
            return
        if reply.question is None:
            session = self.conversation.open_session(view.user, REFLECTION)
            if session is not None:
                reply = self.conversation.focus(view.user, session.id)
        if reply.question is None and self.journey is not None:
            restored = self.journey.restore(view.user)  # the reflection dropped with /cancel
            if restored.question is not None:
                view.show(restored)
                return
        if reply.question is None:
            view.text(view.ui.in_(view.lang).nothing_in_progress)
        else:
            view.text(view.ui.in_(view.lang).resumed)
            view.show(reply)

    async def back(self, update: Update, context: Context) -> None:
        """/back: the previous question."""
        await self._event(update, context, Back())

    async def skip(self, update: Update, context: Context) -> None:
        """/skip: pass an optional question."""
        await self._event(update, context, Skip())

    async def pause(self, update: Update, context: Context) -> None:
        """/pause: pause the session in progress; everything is already saved."""
        view = await self.view_for(update, context)
        paused = self.conversation.pause(view.user)
        key = "paused" if paused else "nothing_in_progress"
        view.text(getattr(view.ui, key).get(view.lang))

    async def cancel(self, update: Update, context: Context) -> None:
        """/cancel: asks first (drop, or keep), and says how to get the reflection back; the
        answer is a button (`ButtonKind.CANCEL_FLOW`)."""
        view = await self.view_for(update, context)
        if self.journey is not None:
            asked = self.journey.cancel_question(view.user)
            current = self.conversation.current(view.user)
            if asked is None or current is None:
                view.text(view.ui.in_(view.lang).nothing_in_progress)
                return
            question, choices = asked
            buttons = [
                InlineKeyboardButton(
                    label,
                    callback_data=ButtonData(
                        ButtonKind.CANCEL_FLOW, current[0].id, None, action
                    ).encode(),
                )
                for action, label in choices
            ]
            view.text(question, InlineKeyboardMarkup([buttons]))
            return
        current = self.conversation.current(view.user)
        if current is None or not self.conversation.cancel(view.user):
            view.text(view.ui.in_(view.lang).nothing_in_progress)
        elif current[0].flow == REFLECTION:
            view.text(view.ui.in_(view.lang).cancelled)
        else:  # the flow in progress (a team round's set-up...), then the reflection it paused
            title = self.conversation.flow_title(current[0], view.lang)
            view.text(fill(view.ui.in_(view.lang).cancelled_flow, {"flow": title}))
            view.show(self.conversation.return_to_reflection(view.user))

    async def history(self, update: Update, context: Context) -> None:
        """/history: finished reflections, newest first, each with its summary."""
        view = await self.view_for(update, context)
        sessions = self.conversation.history(view.user)
        if not sessions:
            view.text(view.ui.in_(view.lang).history_empty)
            return
        view.say([Span(view.ui.in_(view.lang).history_title, "b")])
        feedback = self.coach.feedback_for(view.user) if self.coach else {}
        thread = self.thread.thread_for(view.user) if self.thread else {}
        sharing = self.coach is not None and self.coach.coach_of(view.user) is not None
        for row in sessions:
            summary = json.loads(row.summary or "{}")
            day = self.conversation.session_day_text(row, view.lang)
            private = f" {view.ui.in_(view.lang).history_private}" if row.private else ""
            spans = [Span(f"{day} · {summary.get('title', '')}{private}", "b")]
            for line in summary.get("lines", []):
                spans += [Span("\n"), Span(f"• {line}")]
            for text in feedback.get(row.id, []):
                spans += [Span("\n\n"), Span(view.ui.in_(view.lang).history_feedback, "i")]
                spans += [Span("\n"), Span(text)]
            texts = view.ui.in_(view.lang)
            for said in thread.get(row.id, []):  # replies between the manager and the coach
                label = texts.history_reply if said.author == "manager" else texts.history_feedback
                spans += [Span("\n\n"), Span(label, "i"), Span("\n"), Span(said.text)]
            markup = self._privacy_buttons(view, row.id) if sharing else None
            view.say(spans, markup)

    async def language(self, update: Update, context: Context) -> None:
        """/language: choose French or English."""
        view = await self.view_for(update, context)
        names = {"fr": "Français", "en": "English"}
        buttons = [
            InlineKeyboardButton(
                names[lang],
                callback_data=ButtonData(ButtonKind.LANGUAGE, None, None, lang).encode(),
            )
            for lang in LANGUAGES
        ]
        view.text(view.ui.in_(view.lang).language_prompt, InlineKeyboardMarkup([buttons]))

    async def help(self, update: Update, context: Context) -> None:
        """/help, and any unknown command: what Rebond does and its commands."""
        view = await self.view_for(update, context)
        text = view.ui.in_(view.lang).help_telegram
        if self.coach is not None and self.coach.is_coach(view.user):
            text += "\n\n" + view.ui.in_(view.lang).coach_help
        view.text(text)

    # --- answers -------------------------------------------------------------------------------

    async def text(self, update: Update, context: Context) -> None:
        """A typed message: the answer to the question in progress; with the message sent just
        before it (a paste Telegram split), one answer."""
        message = update.effective_message
        assert message is not None and message.text is not None
        if self.thread is not None:
            view = await self.view_for(update, context)
            if self.thread.pending(view.user) is not None:
                self._reply_to_coach(view, update, message.text)
                return
        first = continues(self.storage, update)
        if first is None or first.text is None:
            await self._event(update, context, Answer(message.text), source_ref=_source(message))
            return
        view = await self.view_for(update, context)
        reply = self.conversation.join(
            view.user,
            (_source(first), first.text),
            message.text,
            receipt=Receipt(receipt_key(update), view.user.id),
            source_ref=_source(message),
        )
        if not reply.stored:
            await self._replay(view)
        elif any(isinstance(o, Recorded) and o.amended for o in reply.outputs):
            self._show_amended(view, reply)
        else:
            view.show(reply)
            await self._offer_privacy(view, reply)

    def _reply_to_coach(self, view: ChatView, update: Update, text: str) -> None:
        """The text after "Reply": stored, and sent to the coach labelled (refs #11)."""
        assert self.thread is not None
        delivery = self.thread.manager_reply(view.user, text, key=receipt_key(update))
        if delivery is None:
            view.text(view.ui.in_(view.lang).reply_nothing)
            return
        if not delivery.delivered_before:
            queue_thread_message(self.storage, self.conversation, delivery)
        view.text(self.thread.sent_to_coach(view.user))

    async def edited(self, update: Update, context: Context) -> None:
        """An edited message: corrects the last answer, or answers the current question; any
        other edit meets the safety net and is told why it changes nothing."""
        message = update.edited_message
        assert message is not None and message.text is not None
        view = await self.view_for(update, context)
        source = _source(message)
        step = self.conversation.answered_by(view.user, source)
        event: Event
        if step is not None:
            event = Amend(step, message.text)
        elif self.conversation.current(view.user) is not None and message.message_id > (
            view.question_message_id() or 0
        ):
            event = Answer(message.text)  # a rejected answer, now corrected
        else:
            view.show(self.conversation.late_edit(view.user, message.text))
            return
        reply = await self._handle(view, update, event, source_ref=source)
        if isinstance(event, Amend) and reply.stored and reply.question is not None:
            view.text(view.ui.in_(view.lang).answer_updated)
            self._show_amended(view, reply)
        else:
            view.show(reply)

    def _show_amended(self, view: ChatView, reply: Reply) -> None:
        """An answer replaced: the question on screen redrawn, then the safety note if any."""
        assert reply.question is not None
        view.refresh_question(reply.question, reply.session_id)
        safety = tuple(o for o in reply.outputs if isinstance(o, SafetyNote | SafetyOffer))
        if safety:
            view.show(Reply(reply.session_id, safety))

    async def media(self, update: Update, context: Context) -> None:
        """A photo, sticker, voice note or file: ask kindly for text instead, once for an album
        or a burst of them."""
        if continues(self.storage, update) is not None:
            return
        view = await self.view_for(update, context)
        view.text(view.ui.in_(view.lang).unsupported_media)

    async def service(self, update: Update, context: Context) -> None:
        """A service message (a pin, a group upgraded...): nothing to answer."""

    async def unknown_command(self, update: Update, context: Context) -> None:
        """Any other /command, typed or edited: "unknown command" and the menu's commands."""
        message = update.effective_message
        assert message is not None and message.text is not None
        view = await self.view_for(update, context)
        names = list(REQUIRED_COMMANDS)
        if self.coach is not None and self.coach.is_coach(view.user):
            names += COACH_COMMANDS
        listed = tuple(f"/{name}" for name in names)
        view.text(unknown_command(self.conversation.playbook, message.text, view.lang, listed))

    async def button(self, update: Update, context: Context) -> None:
        """A pressed inline button: checked against this user's session, always answered."""
        query = update.callback_query
        assert query is not None
        view = await self.view_for(update, context)
        data = ButtonData.decode(query.data)
        inactive = view.ui.in_(view.lang).button_inactive
        if data is None:
            view.answer(query.id, inactive)
        elif data.kind is ButtonKind.LANGUAGE:
            await self._choose_language(view, update, data.value)
        elif data.kind is ButtonKind.SESSION_CONTROL:
            await self._control(view, update, data)
        elif data.kind is ButtonKind.SAFETY_CHOICE:
            await self._after_safety(view, update, data)
        else:
            event: Event = (
                Pick(data.value)
                if data.kind is ButtonKind.ANSWER
                else Pick(SKIP_OPTION)
                if data.kind is ButtonKind.SKIP_QUESTION
                else Toggle(data.value)
                if data.kind is ButtonKind.TICK
                else Submit()
            )
            expect = (data.session or 0, data.turn or 0)
            reply = await self._handle(view, update, event, expect=expect)
            if not reply.stored:
                view.answer(query.id)
                await self._replay(view)
            elif reply.stale:
                view.answer(query.id, inactive)
            else:
                view.answer(query.id)
                # The press matched the session's turn: that message shows the question.
                view.pressed_message_id = query.message.message_id if query.message else None
                if isinstance(event, Toggle) and reply.question is not None:
                    view.refresh_question(reply.question, reply.session_id)
                else:
                    view.show(reply)
                    await self._offer_privacy(view, reply)

    async def membership(self, update: Update, context: Context) -> None:
        """The manager blocked or unblocked the bot in their private chat; added to a group,
        the bot says it works in private chats only, and leaves."""
        change = update.my_chat_member
        assert isinstance(change, ChatMemberUpdated)
        if change.chat.type != ChatType.PRIVATE:
            if change.new_chat_member.status in ("member", "administrator", "restricted"):
                self._leave_group(update, say=True)
            return
        user = await self._user(update)
        blocked = change.new_chat_member.status in ("kicked", "left")
        self.conversation.set_blocked(user, blocked)

    async def group(self, update: Update, context: Context) -> None:
        """A message in a group: Rebond is private by design; it says so once, and leaves."""
        self._leave_group(update, say=True)

    async def group_service(self, update: Update, context: Context) -> None:
        """A service message in a group gets no reply; a group upgraded to a supergroup the bot
        is still in (its migrate_from_chat_id message) is left quietly."""
        message = update.effective_message
        if message is not None and message.migrate_from_chat_id is not None:
            self._leave_group(update, say=False)

    def _leave_group(self, update: Update, *, say: bool) -> None:
        """Leave the update's group through the outbox, after saying why (once per group)."""
        chat = update.effective_chat
        if chat is None or leaving(self.storage.db, chat.id):
            return
        if say:
            sender = update.effective_user
            lang = guess_language(sender.language_code if sender else None)
            text = self.conversation.playbook.ui.in_(lang).private_only
            self.storage.add("reply", chat.id, "sendMessage", {"chat_id": chat.id, "text": text})
        self.storage.add("reply", chat.id, "leaveChat", {"chat_id": chat.id})
        log.info("group.leaving chat=%s", chat.id)

    # --- internals -----------------------------------------------------------------------------

    async def _user(self, update: Update) -> User:
        sender = update.effective_user
        assert sender is not None
        return self.conversation.user(
            UserKey.telegram(sender.id),
            sender.first_name,
            guess_language(sender.language_code),
        )

    async def view_for(self, update: Update, context: Context) -> ChatView:
        """The chat of the update's sender, who is reachable again since they wrote."""
        user = await self._user(update)
        if user.blocked_at is not None:  # they wrote again: they can be reached again
            self.conversation.set_blocked(user, False)
        message = update.message
        typed = message.text if message is not None else None
        if self.thread is not None and typed and typed.startswith("/"):
            self.thread.cancel_reply(user)  # a command moves on from a reply not written
        chat = update.effective_chat
        assert chat is not None
        return ChatView(
            self.storage, self.conversation, chat.id, user, question_extra=self.question_extra
        )

    async def is_newcomer(self, user: User) -> bool:
        """Not onboarded and nothing in progress: /start begins the onboarding."""
        return not user.onboarded_at and self.conversation.current(user) is None

    def _is_coach(self, user: User) -> bool:
        return self.coach is not None and self.coach.is_coach(user)

    async def _handle(
        self,
        view: ChatView,
        update: Update,
        event: Event,
        *,
        source_ref: str | None = None,
        expect: tuple[int, int] | None = None,
    ) -> Reply:
        receipt = Receipt(receipt_key(update), view.user.id)
        return self.conversation.handle(
            view.user,
            event,
            receipt=receipt,
            source_ref=source_ref,
            expect=expect,
        )

    async def _event(
        self, update: Update, context: Context, event: Event, source_ref: str | None = None
    ) -> None:
        view = await self.view_for(update, context)
        reply = await self._handle(view, update, event, source_ref=source_ref)
        if reply.session_id is None:
            view.text(view.ui.in_(view.lang).nothing_in_progress)
        elif reply.stored:
            view.show(reply)
            await self._offer_privacy(view, reply)
        else:
            await self._replay(view)

    async def _show(
        self, view: ChatView, update: Update, action: Callable[..., Reply], *args: object
    ) -> None:
        reply = action(*args)
        view.show(reply)

    async def _offer_privacy(self, view: ChatView, reply: Reply) -> None:
        """After a reflection, a manager who shares may keep this one private: once no other
        question follows (one question at a time, refs #11)."""
        if self.coach is None or reply.completed is None:
            return
        if self.journey is not None:
            due = self.journey.privacy_offer_due(reply)
            if due is None:
                return
            session = due
        else:
            session = self.conversation.session(reply.completed)
        coach = self.coach.coach_of(view.user)
        if session.flow != REFLECTION or coach is None:
            return
        text = fill(view.ui.in_(view.lang).private_offer, {"coach": coach.display_name or ""})
        view.text(text, self._privacy_buttons(view, session.id))

    def _privacy_buttons(self, view: ChatView, session_id: int) -> InlineKeyboardMarkup:
        ui, lang = view.ui, view.lang
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        ui.in_(lang).keep_private_button,
                        callback_data=ButtonData(
                            ButtonKind.REFLECTION_PRIVACY, session_id, None, "private"
                        ).encode(),
                    ),
                    InlineKeyboardButton(
                        ui.in_(lang).share_now_button,
                        callback_data=ButtonData(
                            ButtonKind.REFLECTION_PRIVACY, session_id, None, "share"
                        ).encode(),
                    ),
                ]
            ]
        )

    async def _after_safety(self, view: ChatView, update: Update, data: ButtonData) -> None:
        """The manager's choice after the safety note: pause here, or the question again."""
        query = update.callback_query
        assert query is not None and query.message is not None
        message_id = query.message.message_id
        current = self.conversation.current(view.user)
        if (
            view.buttons_removed(message_id)  # a double tap: the first one did what was asked
            or current is None
            or current[0].id != data.session
            or (data.turn is not None and current[1].turn != data.turn)  # answered since
        ):
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        view.answer(query.id)
        view.drop_buttons(message_id)
        choice = PAUSE if data.value == PAUSE else GO_ON
        view.show(self.conversation.after_safety(view.user, choice))

    async def _replay(self, view: ChatView) -> None:
        """This update was handled before the bot stopped, maybe without its reply: show the
        question in progress again rather than leave the manager waiting."""
        reply = self.conversation.resume(view.user)
        view.show(reply)

    async def _choose_language(self, view: ChatView, update: Update, value: str) -> None:
        query = update.callback_query
        assert query is not None
        message_id = query.message.message_id if query.message is not None else None
        chosen = message_id is not None and view.buttons_removed(message_id)
        if value not in LANGUAGES or chosen:  # a language chosen on that prompt already
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        lang: Lang = "fr" if value == "fr" else "en"
        view.answer(query.id)
        if message_id is not None:
            view.drop_buttons(message_id)
        view.user = self.conversation.set_language(view.user, lang)
        view.text(view.ui.in_(lang).language_set)
        if self.language_menu is not None:  # the menu follows the chosen language
            self.language_menu(
                self.storage, self.conversation, view.chat_id, lang, self._is_coach(view.user)
            )
        reply = self.conversation.resume(view.user)
        view.show(reply)

    async def _control(self, view: ChatView, update: Update, data: ButtonData) -> None:
        query = update.callback_query
        assert query is not None
        session = self.conversation.open_session(view.user, REFLECTION)
        message_id = query.message.message_id if query.message is not None else None
        if (
            session is None
            or session.id != data.session
            or data.value not in ("resume", "restart")
            or (message_id is not None and view.buttons_removed(message_id))  # chosen already
            or (
                data.turn is not None
                and SessionState.model_validate_json(session.state).turn != data.turn
            )
        ):
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        view.answer(query.id)
        if message_id is not None:
            view.drop_buttons(message_id)
        reply = self.conversation.focus(view.user, session.id)
        if data.value == "restart":
            reply = await self._handle(view, update, Restart())
        view.show(reply)


def edited_command(manager: ManagerHandlers, callback: Handler, known: Collection[str]) -> Handler:
    """`callback` for a command edited in: it runs, unless the message was a command that ran
    already (a /feedback or /note corrected must not be sent twice)."""

    async def run(update: Update, context: Context) -> None:
        kept, command = first_command(manager.storage, update)
        if not kept or command not in known:
            await callback(update, context)
            return
        view = await manager.view_for(update, context)
        view.text(view.ui.in_(view.lang).command_edited)

    return run
