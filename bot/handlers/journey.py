"""The manager's journey on Telegram (refs #11): the home's buttons, the reminders' buttons,
/cancel's question, "Reply" under a coach's message, /commitments, /quiet, the settings, and
the coach's /reply.

Like every handler, these only write to the outbox, in the update's transaction.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from ..checkins.service import CheckinService
from ..coach.thread import CoachThread
from ..conversation import REFLECTION
from ..flows.text import fill
from ..journey import service as journey
from ..journey.nudges import RESUME, STOP
from ..journey.service import JourneyService
from .callbacks import ButtonData, ButtonKind
from .chat import ChatView
from .checkins import CheckinHandlers
from .coach import CoachHandlers
from .manager import Context, ManagerHandlers, receipt_key
from .thread import queue_thread_message

log = logging.getLogger(__name__)

NUDGES_ON, NUDGES_OFF = "nudges_on", "nudges_off"
"""The settings' choices about reminders of an unfinished reflection."""
DEFAULT = ("default", "défaut", "defaut")
"""What /quiet takes to go back to the default quiet hours."""


class JourneyHandlers:
    """Handlers of the journey; registered in `bot.handlers.register`."""

    def __init__(
        self,
        manager: ManagerHandlers,
        checkins: CheckinHandlers,
        coach: CoachHandlers,
        journey: JourneyService,
        thread: CoachThread,
        checkin_service: CheckinService,
    ) -> None:
        self.manager = manager
        self.checkins = checkins
        self.coach = coach
        self.journey = journey
        self.thread = thread
        self.checkin_service = checkin_service

    # --- commands ------------------------------------------------------------------------------

    async def commitments(self, update: Update, context: Context) -> None:
        """/commitments: every commitment with where it stands."""
        view = await self.manager.view_for(update, context)
        view.text(self.journey.commitments.listing(view.user))

    async def checkin(self, update: Update, context: Context) -> None:
        """/checkin: the schedule as it is (days, time, place, paused until), then the choices."""
        view = await self.manager.view_for(update, context)
        view.text(self.journey.checkin_schedule(view.user))
        await self.checkins.checkin(update, context)

    async def quiet(self, update: Update, context: Context) -> None:
        """/quiet 22:00-07:00: the hours when Rebond sends nothing unasked; /quiet alone says
        them and how to change them; /quiet default goes back to the default."""
        view = await self.manager.view_for(update, context)
        typed = " ".join(context.args or []).strip()
        texts = view.ui.in_(view.lang)
        if not typed:
            view.text(fill(texts.quiet_hours_usage, {"quiet": self.journey.quiet_hours(view.user)}))
            return
        try:
            self.journey.set_quiet_hours(view.user, None if typed.lower() in DEFAULT else typed)
        except ValueError:
            view.text(fill(texts.quiet_hours_usage, {"quiet": self.journey.quiet_hours(view.user)}))
            return
        log.info("journey.quiet_hours_set user=%s", view.user.id)
        view.text(fill(texts.quiet_hours_set, {"quiet": self.journey.quiet_hours(view.user)}))

    async def reply(self, update: Update, context: Context) -> None:
        """Coach's /reply R text: an answer to the manager about reflection R."""
        view, number = await self.coach._coach_number(update, context, with_text=True)
        if view is None or number is None:
            return
        text = " ".join((context.args or [])[1:])
        delivery = self.thread.coach_reply(view.user, number, text, receipt_key(update))
        if delivery is None:
            view.text(view.ui.in_(view.lang).coach_no_access)
            return
        if not delivery.delivered_before:
            queue_thread_message(view.storage, view.conversation, delivery)
        name = delivery.user.display_name or f"#{delivery.user.id}"
        view.text(fill(view.ui.in_(view.lang).coach_reply_sent, {"name": name}))

    # --- buttons -------------------------------------------------------------------------------

    async def button(self, update: Update, context: Context) -> None:
        """A button of the journey: home item, reminder, /cancel's question, Reply, setting."""
        query = update.callback_query
        assert query is not None
        view = await self.manager.view_for(update, context)
        data = ButtonData.decode(query.data)
        message_id = query.message.message_id if query.message is not None else None
        if data is None or (
            data.kind in (ButtonKind.NUDGE, ButtonKind.CANCEL_FLOW)
            and message_id is not None
            and view.buttons_removed(message_id)  # a double tap: the first one did it
        ):
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        if data.kind is ButtonKind.HOME:
            await self._home_item(view, update, context, data.value)
        elif data.kind is ButtonKind.NUDGE:
            self._nudge_choice(view, update, data, message_id)
        elif data.kind is ButtonKind.CANCEL_FLOW:
            self._cancel_choice(view, update, data, message_id)
        elif data.kind is ButtonKind.REPLY_TO_COACH:
            view.answer(query.id)
            view.text(self.thread.begin_reply(view.user, data.session))
        else:
            self._setting(view, update, data.value)

    async def _home_item(
        self, view: ChatView, update: Update, context: Context, action: str
    ) -> None:
        """What an item of the home does on Telegram."""
        query = update.callback_query
        assert query is not None
        conversation = self.manager.conversation
        if action == journey.RESUME:
            session = conversation.open_session(view.user, REFLECTION)
            if session is None:
                view.answer(query.id, view.ui.in_(view.lang).button_inactive)
                return
            view.answer(query.id)
            view.show(conversation.focus(view.user, session.id))
            return
        if action == journey.RESTORE:
            restored = self.journey.restore(view.user)
            inactive = view.ui.in_(view.lang).button_inactive
            view.answer(query.id, None if restored.question else inactive)
            view.show(restored)
            return
        view.answer(query.id)
        if action == journey.NEW:
            await self.manager.reflect(update, context)  # offers resume / start again if open
        elif action == journey.CHECKIN:
            await self._checkin_now(view, update, context)
        elif action == journey.HISTORY:
            await self.manager.history(update, context)
        elif action == journey.PROGRESS:
            await self.checkins.progress(update, context)
        elif action == journey.COMMITMENTS:
            view.text(self.journey.commitments.listing(view.user))
        elif action == journey.SETTINGS:
            self._show_settings(view)

    async def _checkin_now(self, view: ChatView, update: Update, context: Context) -> None:
        """Today's check-in from the home: asked now when check-ins are on, else set them up."""
        settings = self.checkin_service.settings(view.user)
        if settings is None or not settings.enabled:
            await self.checkin(update, context)
            return
        due = self.checkin_service.claim_today_for_terminal(view.user)
        if due is None:
            view.text(view.ui.in_(view.lang).checkin_already_done)
            return
        reply = self.checkin_service.start(due, delivered=False)  # sent once delivered
        view.subject = f"checkin:{due.checkin_id}"
        view.show(reply)

    def _nudge_choice(
        self, view: ChatView, update: Update, data: ButtonData, message_id: int | None
    ) -> None:
        """A reminder's buttons: resume the reflection, or no more reminders."""
        query = update.callback_query
        assert query is not None
        if data.value == STOP:
            view.answer(query.id)
            view.text(self.journey.nudges.stop(view.user))
        else:
            reply = self.journey.nudges.resume(view.user) if data.value == RESUME else None
            if reply is None or reply.question is None:
                view.answer(query.id, view.ui.in_(view.lang).button_inactive)
                return
            view.answer(query.id)
            view.show(reply)
        if message_id is not None:
            view.drop_buttons(message_id)

    def _cancel_choice(
        self, view: ChatView, update: Update, data: ButtonData, message_id: int | None
    ) -> None:
        """/cancel's answer: drop the flow (it can be brought back) or keep it."""
        query = update.callback_query
        assert query is not None
        current = self.manager.conversation.current(view.user)
        if current is None or current[0].id != data.session or data.value not in ("drop", "keep"):
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        view.answer(query.id)
        if message_id is not None:
            view.drop_buttons(message_id)
        view.text(self.journey.confirm_cancel(view.user, drop=data.value == "drop"))
        if data.value == "keep":
            view.show(self.manager.conversation.resume(view.user))
        elif current[0].flow != REFLECTION:  # a flow that paused the reflection: back to it
            view.show(self.manager.conversation.return_to_reflection(view.user))

    def _show_settings(self, view: ChatView) -> None:
        """The settings: check-ins, quiet hours (/quiet), reminders on or off (a button)."""
        texts = view.ui.in_(view.lang)
        stopped = self.journey.nudges.stopped(view.user)
        label = (
            texts.nudges_allow_button
            if stopped
            else self.manager.conversation.playbook.nudges.stop_button.get(view.lang)
        )
        value = NUDGES_ON if stopped else NUDGES_OFF
        data = ButtonData(ButtonKind.SETTING, None, None, value).encode()
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        quiet = fill(texts.quiet_hours_usage, {"quiet": self.journey.quiet_hours(view.user)})
        view.text(self.journey.settings_text(view.user) + "\n\n" + quiet, markup)

    def _setting(self, view: ChatView, update: Update, value: str) -> None:
        """A settings button: reminders of an unfinished reflection on or off."""
        query = update.callback_query
        assert query is not None
        if value not in (NUDGES_ON, NUDGES_OFF):
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        view.answer(query.id)
        if value == NUDGES_ON:
            self.journey.nudges.allow(view.user)
        else:
            self.journey.nudges.stop(view.user)
        if query.message is not None:
            view.drop_buttons(query.message.message_id)
        self._show_settings(view)
