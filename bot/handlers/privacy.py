"""The manager's control over sharing and their data: /share (or an invite link), /unshare,
privacy of each reflection, /mydata, /forget."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from storage.repository import User

from ..coach.service import CoachService, PastReflections, Refusal
from ..flows.model import Localized
from ..flows.text import fill
from ..userkey import UserKey
from .callbacks import ButtonData, ButtonKind, InviteAction, InviteButton
from .chat import ChatView
from .manager import Context, ManagerHandlers

log = logging.getLogger(__name__)
BOX = {False: "☐", True: "☑"}
PAST_ALL, PAST_NONE, PAST_TICKED = "all", "none", "ok"
"""Answers to consent's list of past reflections (a reflection's own button toggles its tick)."""


class PrivacyHandlers:
    """Handlers for sharing and personal data; registered in `bot.handlers.register`."""

    def __init__(self, manager: ManagerHandlers, coach: CoachService) -> None:
        self.manager = manager
        self.coach = coach

    async def start(self, update: Update, context: Context) -> None:
        """/start, or /start CODE from a coach's invite link."""
        if context.args:
            await self._open(update, context, context.args[0])
        else:
            await self.manager.start(update, context)

    async def share(self, update: Update, context: Context) -> None:
        """/share CODE: see what a coach would see, then confirm."""
        await self._open(update, context, context.args[0] if context.args else "")

    async def unshare(self, update: Update, context: Context) -> None:
        """/unshare: stop sharing at once, and tell the coach."""
        view = await self.manager.view_for(update, context)
        ended = self.coach.unshare(view.user)
        if ended is None:
            view.text(view.ui.in_(view.lang).unshare_none)
            return
        coach, _ = ended
        view.text(fill(view.ui.in_(view.lang).unshare_done, {"coach": _name(coach)}))
        await self._tell(view, coach, view.ui.coach_unshared, {"name": _name(view.user)})

    async def mydata(self, update: Update, context: Context) -> None:
        """/mydata: who read what and when, in the chat; then every stored row, as a JSON file."""
        view = await self.manager.view_for(update, context)
        view.text(self.coach.audit_list(view.user).text)
        document = self.coach.my_data(view.user).encode("utf-8")
        view.document(document, "rebond-mydata.json", view.ui.in_(view.lang).mydata_caption)

    async def forget(self, update: Update, context: Context) -> None:
        """/forget: after a confirmation button, delete everything about the manager."""
        view = await self.manager.view_for(update, context)
        buttons = [
            InlineKeyboardButton(
                view.ui.in_(view.lang).forget_button,
                callback_data=ButtonData(ButtonKind.FORGET, None, None, "yes").encode(),
            ),
            InlineKeyboardButton(
                view.ui.in_(view.lang).cancel_button,
                callback_data=ButtonData(ButtonKind.FORGET, None, None, "no").encode(),
            ),
        ]
        view.text(view.ui.in_(view.lang).forget_confirm, InlineKeyboardMarkup([buttons]))

    async def button(self, update: Update, context: Context) -> None:
        """Buttons of this module: privacy of a reflection (p), invite (h), past reflections at
        consent (o), erasure (f)."""
        query = update.callback_query
        assert query is not None
        view = await self.manager.view_for(update, context)
        data = ButtonData.decode(query.data) or InviteButton.decode(query.data)
        repeated = query.message is not None and view.buttons_removed(query.message.message_id)
        if data is None or repeated:  # a double tap: the first one did what was asked
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
        elif isinstance(data, InviteButton):
            await self._answer_invite(view, query, data)
        elif data.kind is ButtonKind.REFLECTION_PRIVACY:
            await self._privacy(view, query, data)
        elif data.kind is ButtonKind.PAST_REFLECTION:
            self._choose_past(view, query, data)
        else:
            await self._forget(view, query, data)

    # --- internals -----------------------------------------------------------------------------

    async def _open(self, update: Update, context: Context, code: str) -> None:
        view = await self.manager.view_for(update, context)
        newcomer = await self.manager.is_newcomer(view.user)
        coach = self.coach.open_invite(view.user, code)
        if isinstance(coach, Refusal):
            view.text(getattr(view.ui, coach.value).get(view.lang))
            if newcomer:  # a link nobody knows still leads a newcomer into Rebond
                await self.manager.start(update, context)
            return
        text = fill(view.ui.in_(view.lang).share_preview, {"coach": _name(coach)})
        view.text(text, self._invite_keyboard(view, code.strip(), include=False))

    def _invite_keyboard(self, view: ChatView, code: str, include: bool) -> InlineKeyboardMarkup:
        # The invite's code travels with its buttons: an older preview confirms its own coach.
        def button(label: str, action: InviteAction) -> InlineKeyboardButton:
            data = InviteButton(action, include, code).encode()
            return InlineKeyboardButton(label, callback_data=data)

        ui, lang = view.ui, view.lang
        return InlineKeyboardMarkup(
            [
                [
                    button(
                        f"{BOX[include]} {ui.in_(lang).share_include_checkins}",
                        InviteAction.TOGGLE_CHECKINS,
                    )
                ],
                [
                    button(ui.in_(lang).share_confirm_button, InviteAction.CONFIRM),
                    button(ui.in_(lang).cancel_button, InviteAction.CANCEL),
                ],
            ]
        )

    async def _answer_invite(
        self, view: ChatView, query: CallbackQuery, data: InviteButton
    ) -> None:
        include = data.include_checkins  # the manager's own tick on their own screen
        action, code = data.action, data.code
        ui, lang = view.ui, view.lang
        if action is InviteAction.TOGGLE_CHECKINS:
            view.answer(query.id)
            view.replace_buttons(_message_id(query), self._invite_keyboard(view, code, not include))
            return
        if action is InviteAction.CANCEL:
            self.coach.cancel_share(view.user, code)
            view.answer(query.id)
            view.drop_buttons(_message_id(query))
            view.text(ui.in_(lang).share_cancelled)
            return
        result = self.coach.confirm_share(view.user, include, code)
        view.answer(query.id)
        view.drop_buttons(_message_id(query))
        if isinstance(result, Refusal):
            view.text(getattr(ui, result.value).get(lang))
            return
        coach, previous = result
        view.text(fill(ui.in_(lang).share_done, {"coach": _name(coach)}))
        past = self.coach.past_reflections(view.user)
        if past is not None:  # consent covers them only as the manager chooses, there and then
            view.text(_past_text(past), _past_keyboard(view, past, ticked=set()))
        link = self.coach.link_of(view.user)
        number = str(link.id) if link else "?"
        await self._tell(
            view, coach, ui.coach_shared_with_you, {"name": _name(view.user), "number": number}
        )
        if previous is not None and previous.coach_id != coach.id:
            former = self.manager.conversation.user_by_id(previous.coach_id)
            await self._tell(view, former, ui.coach_unshared, {"name": _name(view.user)})

    async def _privacy(self, view: ChatView, query: CallbackQuery, data: ButtonData) -> None:
        private = data.value == "private"
        if data.session is None or not self.coach.set_private(view.user, data.session, private):
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        view.answer(query.id)
        view.drop_buttons(_message_id(query))
        if private:
            view.text(view.ui.in_(view.lang).kept_private)
        else:
            coach = self.coach.coach_of(view.user)
            name = _name(coach) if coach else ""
            view.text(fill(view.ui.in_(view.lang).shared_now, {"coach": name}))

    async def _forget(self, view: ChatView, query: CallbackQuery, data: ButtonData) -> None:
        view.answer(query.id)
        view.drop_buttons(_message_id(query))
        if data.value != "yes":
            view.text(view.ui.in_(view.lang).forget_cancelled)
            return
        # The service scrubs the write-ahead log without blocking other chats, in the background
        # when it cannot yet (this update's own transaction still holds it): its text says which.
        view.text(self.coach.forget(view.user).text)

    def _choose_past(self, view: ChatView, query: CallbackQuery, data: ButtonData) -> None:
        past = self.coach.past_reflections(view.user)
        if past is None:  # already chosen (another screen), or the link ended
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            view.drop_buttons(_message_id(query))
            return
        offered = {session_id for session_id, _ in past.items}
        ticked = _ticks(query) & offered
        view.answer(query.id)
        if data.value == "t" and data.session in offered:
            ticked ^= {data.session}
            view.replace_buttons(_message_id(query), _past_keyboard(view, past, ticked))
            return
        chosen = {PAST_ALL: offered, PAST_NONE: set()}.get(data.value, ticked)
        view.drop_buttons(_message_id(query))
        view.text(self.coach.choose_past(view.user, chosen))

    async def _tell(
        self, view: ChatView, user: User, text: Localized, values: dict[str, str]
    ) -> None:
        """A message to another user's chat (a coach); nothing if they cannot be reached."""
        chat_id = UserKey(user.key).telegram_id
        if chat_id is None:
            return
        if user.blocked_at is not None:
            log.info("privacy.coach_unreachable coach=%s", user.id)
            return
        other = ChatView(view.storage, self.manager.conversation, chat_id, user, kind="notice")
        other.text(fill(text.get(other.lang), values))


def _past_text(past: PastReflections) -> str:
    """Consent's question, then one line per past reflection."""
    return "\n".join([past.text, *(f"• {line}" for _, line in past.items)])


def _past_keyboard(view: ChatView, past: PastReflections, ticked: set[int]) -> InlineKeyboardMarkup:
    """One tick box per past reflection, then: all of them, none, or the ticked ones."""

    def button(label: str, session: int | None, value: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label,
            callback_data=ButtonData(ButtonKind.PAST_REFLECTION, session, None, value).encode(),
        )

    rows = [
        [button(f"{BOX[session in ticked]} {line}", session, "t")] for session, line in past.items
    ]
    rows.append(
        [
            button(past.all_label, None, PAST_ALL),
            button(past.none_label, None, PAST_NONE),
            button(view.ui.in_(view.lang).done_selecting, None, PAST_TICKED),
        ]
    )
    return InlineKeyboardMarkup(rows)


def _ticks(query: CallbackQuery) -> set[int]:
    """The reflections ticked on the manager's own screen (the message's current keyboard)."""
    markup = query.message.reply_markup if isinstance(query.message, Message) else None
    ticked: set[int] = set()
    for row in markup.inline_keyboard if markup is not None else ():
        for key in row:
            data = ButtonData.decode(
                key.callback_data if isinstance(key.callback_data, str) else None
            )
            if data is not None and data.session is not None and key.text.startswith(BOX[True]):
                ticked.add(data.session)
    return ticked


def _message_id(query: CallbackQuery) -> int:
    """The message that carries the pressed button."""
    assert query.message is not None, "buttons of Rebond's own messages carry their message"
    return query.message.message_id


def _name(user: User | None) -> str:
    if user is None:
        return ""
    return user.display_name or f"#{user.id}"
