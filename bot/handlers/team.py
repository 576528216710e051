"""The team round on Telegram: the manager's /team and buttons, a team member's answers.

A team member is not a manager: while they answer a round, every update of theirs goes to the
round (the `gate`, ahead of every other handler), and each such update leaves no words and no
name in the inbox or the outbox once processed, so that nothing in the database joins them to
their anonymous answers (refs #13). Everything said goes through the outbox, as elsewhere.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from storage import delivery as store
from storage import repository
from storage.erasure import WalScrubber
from storage.repository import User

from ..coach.service import CoachService
from ..conversation import Reply
from ..delivery.outbox import Storage, bot_commands
from ..flows.model import LANGUAGES
from ..flows.state import PAUSE, Answer, Ask, Back, Event, Pick, Skip, Submit, Toggle
from ..team.service import START_PREFIX, SummaryMessage, TeamService
from ..userkey import UserKey
from .callbacks import ButtonData, ButtonKind
from .chat import ChatView
from .manager import Context, ManagerHandlers, guess_language

log = logging.getLogger(__name__)

OPEN, CLOSE, EXTEND = "open", "close", "extend"
"""Values of the manager's team round buttons."""
MEMBER_COMMANDS = ("forget", "help")
"""A team member's menu: nothing of a manager's (refs #13)."""
ANSWER_KINDS = {ButtonKind.ANSWER, ButtonKind.TICK, ButtonKind.SUBMIT_TICKS}
CHART_FILE = "team-round.png"
SCRUB_AGAIN = 0.5
"""Seconds between scrubs while a member's replies wait in the outbox."""
SUMMARY_DELAY = 0.05
"""Seconds before a round closed by a click is summed up: the sender takes the click's answer
first (Telegram wants it within about 15 s; a chart takes seconds on a loaded machine)."""


class TeamHandlers:
    """/team and its buttons for the manager; the gate that routes a team member's updates."""

    def __init__(self, manager: ManagerHandlers, team: TeamService, coach: CoachService) -> None:
        self.manager = manager
        self.team = team
        self.coach = coach
        self.storage: Storage = manager.storage
        self.scrubber: WalScrubber = coach.scrubber
        self._scrub: asyncio.Task[None] | None = None
        self._members_sending: set[int] = set()
        """Members' chats whose replies may still be in the outbox, with their answers."""
        self._summaries: asyncio.Task[None] | None = None
        manager.question_extra = self.offer_button

    # --- the manager ---------------------------------------------------------------------------

    def offer_button(self, user: User, ask: Ask) -> list[InlineKeyboardButton] | None:
        """The "ask my team" button under the reflection's team and opportunity questions."""
        label = self.team.offer_label(user, ask)
        if label is None:
            return None
        data = ButtonData(ButtonKind.TEAM_ROUND, None, None, OPEN).encode()
        return [InlineKeyboardButton(label, callback_data=data)]

    async def command(self, update: Update, context: Context) -> None:
        """/team: the open round's count (never who) with close and extend, else a new round."""
        view = await self.manager.view_for(update, context)
        self._status_or_setup(view)

    async def button(self, update: Update, context: Context) -> None:
        """The manager's buttons: open a round, close it now, extend it."""
        query = update.callback_query
        assert query is not None
        view = await self.manager.view_for(update, context)
        data = ButtonData.decode(query.data)
        team, lang = self.team.texts, view.lang
        message_id = query.message.message_id if query.message else None
        repeated = data is not None and data.value != OPEN and message_id is not None
        if (
            data is None
            or data.value not in (OPEN, CLOSE, EXTEND)
            or (repeated and view.buttons_removed(message_id or 0))  # a double tap
        ):
            view.answer(query.id, view.ui.in_(lang).button_inactive)
            return
        if data.value == OPEN:
            view.answer(query.id)
            self._status_or_setup(view)
            return
        round_id = data.session or 0
        if data.value == CLOSE:
            closed = self.team.close_now(view.user, round_id)
            if closed is None:
                view.answer(query.id, view.ui.in_(lang).button_inactive)
                return
            view.answer(query.id)
            self._drop(view, message_id)
            view.text(closed)
            self._summaries_soon()  # the chart is drawn once this click is answered
            return
        extended = self.team.extend(view.user, round_id)
        view.answer(query.id, None if extended else team.not_yours.get(lang))
        if extended:
            self._drop(view, message_id)
            view.text(extended)

    def deliver(self, view: ChatView, message: SummaryMessage) -> None:
        """A closed round's summary to its manager (the chart as a photo, then the lists, in
        random order) and marked sent, in the caller's transaction."""
        if message.chart is not None:
            view.photo(message.chart, message.chart_caption, CHART_FILE)
        markup = None
        if message.extend_label is not None:  # too small to show: it may be extended
            data = ButtonData(ButtonKind.TEAM_ROUND, message.round_id, None, EXTEND).encode()
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(message.extend_label, callback_data=data)]]
            )
        for index, text in enumerate(message.texts):
            last = index == len(message.texts) - 1
            view.text(text, markup if last else None)
        self.team.mark_sent(message)
        log.info("team.summary_queued round=%s shown=%s", message.round_id, message.summary.shown)

    def _status_or_setup(self, view: ChatView) -> None:
        status = self.team.status(view.user)
        if status is None:
            view.show(self.team.start_setup(view.user))
            return

        def button(label: str, value: str) -> InlineKeyboardButton:
            data = ButtonData(ButtonKind.TEAM_ROUND, status.round.id, None, value).encode()
            return InlineKeyboardButton(label, callback_data=data)

        markup = InlineKeyboardMarkup(
            [[button(status.close_label, CLOSE), button(status.extend_label, EXTEND)]]
        )
        view.text(f"{status.text}\n\n{self.team.link(status.round)}", markup)

    def _drop(self, view: ChatView, message_id: int | None) -> None:
        if message_id is not None:
            view.drop_buttons(message_id)

    # --- a team member -------------------------------------------------------------------------

    async def gate(self, update: Update, context: Context) -> None:
        """Ahead of every handler: `/start team_<code>` opens a round; while a person answers
        one, their messages and buttons go to it. Anything else passes on."""
        chat, sender = update.effective_chat, update.effective_user
        if chat is None or sender is None or chat.type != ChatType.PRIVATE:
            return
        message = update.message
        words = (message.text or "").split() if message is not None else []
        command = words[0].split("@")[0].lower() if words and words[0][:1] == "/" else ""
        if command == "/start" and len(words) == 2 and words[1].startswith(START_PREFIX):
            self._join(update, chat.id, words[1])
            raise ApplicationHandlerStop
        key = UserKey.telegram(sender.id)
        found = repository.find_user(self.storage.db, key)
        if found is None or not self.team.answering(found):
            if command == "/start" and found is not None:
                self._restore_menu(found, chat.id)
            return
        view = ChatView(self.storage, self.manager.conversation, chat.id, found)
        if not self._as_member(update, view, command, words):
            return
        self._leave_no_trace(chat.id, update.update_id)
        raise ApplicationHandlerStop

    def _join(self, update: Update, chat_id: int, parameter: str) -> None:
        sender = update.effective_user
        assert sender is not None
        # A member is stored without their name: nothing else of theirs is used (the notice).
        user = self.manager.conversation.user(
            UserKey.telegram(sender.id), None, guess_language(sender.language_code)
        )
        view = ChatView(self.storage, self.manager.conversation, chat_id, user)
        reply = self.team.join(user, parameter)
        view.show(reply)
        if reply.question is not None:
            self._member_menu(user, chat_id)
            self._leave_no_trace(chat_id, update.update_id)

    def _as_member(self, update: Update, view: ChatView, command: str, words: list[str]) -> bool:
        """A member's update applied to their answers in progress; False to pass it on."""
        team, user = self.team, view.user
        query = update.callback_query
        if query is not None:
            return self._member_button(view, update)
        if update.edited_message is not None:
            view.text(team.member_text(user, "member_edit"))
            return True
        message = update.message
        if message is None:
            return False
        if message.text is None:  # a photo, a sticker: text only, and nothing of it kept
            view.text(view.ui.in_(view.lang).unsupported_media)
            self._show_question(view)
            return True
        event: Event | None = None
        if not command:
            event = Answer(message.text)
        elif command in ("/back", "/skip"):
            event = Back() if command == "/back" else Skip()
        elif command == "/help":
            view.text(team.help_text(user))
            self._show_question(view)
        elif command == "/start":
            view.text(view.ui.in_(view.lang).resumed)
            self._show_question(view)
        elif command == "/forget":
            view.text(team.forget(user))
            self._restore_menu(user, view.chat_id, forgotten=True)
            self._scrub_soon()
        elif command == "/cancel":
            view.text(team.cancel(user) or "")
        elif command == "/pause":
            view.text(team.member_text(user, "member_paused"))
        else:
            view.text(team.member_text(user, "member_other_command"))
            self._show_question(view)
        if event is not None:
            reply = team.handle(user, event)
            if reply is None:  # the round closed meanwhile
                return False
            view.show(reply)
        self._back_to_own(view)
        return True

    def _back_to_own(self, view: ChatView) -> None:
        """Once the person no longer answers a round, the flow of their own they were in."""
        conversation = self.manager.conversation
        current = conversation.current(view.user)
        if self.team.answering(view.user) or current is None or current[0].status != "active":
            return
        reply = conversation.resume(view.user)
        if reply.question is not None:
            view.text(view.ui.in_(view.lang).resumed)
            view.show(reply)

    def _member_button(self, view: ChatView, update: Update) -> bool:
        query = update.callback_query
        assert query is not None
        data = ButtonData.decode(query.data)
        if data is None or data.session not in (None, 0):
            return False  # a button of the person's own reflection
        inactive = view.ui.in_(view.lang).button_inactive
        message_id = query.message.message_id if query.message is not None else None
        if data.kind is ButtonKind.SAFETY_CHOICE:
            if message_id is None or view.buttons_removed(message_id):
                view.answer(query.id, inactive)
                return True
            view.answer(query.id)
            view.drop_buttons(message_id)
            if data.value == PAUSE:  # their answers wait as they are; nothing else pauses
                view.text(self.team.member_text(view.user, "member_paused"))
            else:
                self._show_question(view)
            return True
        if data.kind not in ANSWER_KINDS:
            return False
        event: Event = (
            Pick(data.value)
            if data.kind is ButtonKind.ANSWER
            else Toggle(data.value)
            if data.kind is ButtonKind.TICK
            else Submit()
        )
        reply = self.team.handle(view.user, event, turn=data.turn)
        if reply is None or reply.stale:
            view.answer(query.id, inactive)
            return True
        view.answer(query.id)
        view.pressed_message_id = query.message.message_id if query.message else None
        if isinstance(event, Toggle) and reply.question is not None:
            view.refresh_question(reply.question, None)
        else:
            view.show(reply)
        return True

    def _show_question(self, view: ChatView) -> None:
        question = self.team.question(view.user)
        if question is not None:
            view.show(Reply(None, (question,)))

    def _is_member_only(self, user: User) -> bool:
        """A person who came for a team round only: no reflection, no coaching."""
        return (
            not user.onboarded_at
            and self.manager.conversation.current(user) is None
            and not self.coach.is_coach(user)
        )

    def _member_menu(self, user: User, chat_id: int) -> None:
        """A member's menu in their chat: /forget and /help only."""
        if not self._is_member_only(user):
            return
        described = self.manager.conversation.playbook.ui.commands
        for lang in LANGUAGES:
            payload: dict[str, object] = {
                "commands": bot_commands((n, described[n].get(lang)) for n in MEMBER_COMMANDS),
                "scope": BotCommandScopeChat(chat_id).to_dict(),
            }
            if lang != "en":
                payload["language_code"] = lang
            self.storage.add("commands", chat_id, "setMyCommands", payload)

    def _restore_menu(self, user: User, chat_id: int, forgotten: bool = False) -> None:
        """A member who starts their own reflection (/start), or who erased their answers, gets
        the managers' menu back."""
        if not self._is_member_only(user) or not (forgotten or self.team.was_member(user)):
            return
        for lang in LANGUAGES:
            payload: dict[str, object] = {"scope": BotCommandScopeChat(chat_id).to_dict()}
            if lang != "en":
                payload["language_code"] = lang
            self.storage.add("commands", chat_id, "deleteMyCommands", payload)

    def _leave_no_trace(self, chat_id: int, update_id: int) -> None:
        """This update's JSON (their words, their name) and the chat's finished deliveries
        are emptied in the update's transaction; the write-ahead log's copies go right after,
        and again once what the bot says back (their answer, ticked) is sent and emptied."""
        store.empty_member_payloads(self.storage.db, chat_id, update_id)
        self._members_sending.add(chat_id)
        self._scrub_soon()

    def _summaries_soon(self) -> None:
        """Send due summaries once this update has committed and its callback answer left."""

        async def later() -> None:
            await asyncio.sleep(SUMMARY_DELAY)
            await send_team_summaries(self.storage, self)

        self._summaries = asyncio.create_task(later())  # kept: a task must not be collected

    def _scrub_soon(self) -> None:
        """Fold the write-ahead log into the database once this update has committed (one
        pending scrub covers every update processed before it runs)."""
        if self._scrub is None or self._scrub.done():
            self._scrub = asyncio.create_task(self._scrub_after_commit())

    async def _scrub_after_commit(self) -> None:
        while True:
            async with self.storage.lock:  # the update's transaction has ended: nothing writes
                db = self.storage.db
                sending = store.chats_with_pending(db, self._members_sending)
                with db.atomic():  # sent: what it carried goes (should the sender keep it)
                    for chat_id in self._members_sending - sending:
                        store.empty_member_payloads(db, chat_id, 0)
                self.scrubber.scrub()
            self._members_sending &= sending
            if not self._members_sending:
                return
            await asyncio.sleep(SCRUB_AGAIN)


async def send_team_summaries(storage: Storage, handlers: TeamHandlers) -> None:
    """The scheduler's tick: rounds whose date has come close, and each summary not yet sent
    goes to its manager's chat, marked sent in the same transaction."""
    team = handlers.team
    async with storage.lock:
        messages = team.due(draw=False)
    for undrawn in messages:
        chat_id = UserKey(undrawn.manager.key).telegram_id
        if chat_id is None:
            continue  # a manager of the terminal chat reads it there, at /team
        message = await asyncio.to_thread(team.draw, undrawn)  # no storage: the loop runs on
        async with storage.transaction():
            view = ChatView(
                storage, handlers.manager.conversation, chat_id, message.manager, kind="notice"
            )
            handlers.deliver(view, message)
