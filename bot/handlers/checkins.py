"""The manager's check-in commands and buttons: /checkin, /progress, "Later"."""

from __future__ import annotations

import logging

from telegram import Update

from ..charts import ChartTexts
from ..checkins.service import SETUP, CheckinService
from ..conversation import REFLECTION
from ..flows.model import Lang, UiTexts
from .callbacks import ButtonData
from .drawn import mood_chart_field
from .manager import Context, ManagerHandlers

log = logging.getLogger(__name__)


def chart_texts(ui: UiTexts, lang: Lang, title: str) -> ChartTexts:
    """The words of a chart, in the reader's language."""
    return ChartTexts(
        title=title,
        mood_axis=ui.in_(lang).chart_mood_axis,
        reflection_marker=ui.in_(lang).chart_reflection,
        guilt=ui.in_(lang).chart_guilt,
        worry=ui.in_(lang).chart_worry,
        before=ui.in_(lang).chart_before,
        after=ui.in_(lang).chart_after,
        no_data=ui.in_(lang).chart_no_data,
    )


class CheckinHandlers:
    """Handlers for check-ins; registered in `bot.handlers.register`."""

    def __init__(self, manager: ManagerHandlers, service: CheckinService) -> None:
        self.manager = manager
        self.service = service

    async def checkin(self, update: Update, context: Context) -> None:
        """/checkin: turn check-ins on or off, pick a time and zone, or pause them."""
        view = await self.manager.view_for(update, context)
        view.show(self.manager.conversation.start(view.user, SETUP))

    async def progress(self, update: Update, context: Context) -> None:
        """/progress: the last 30 days of mood as a chart, with a one-line summary."""
        view = await self.manager.view_for(update, context)
        progress = self.service.progress(view.user)
        ui, lang = view.ui, view.lang
        if not progress.moods and not progress.reflection_days:
            view.text(ui.in_(lang).progress_empty)
            return
        texts = chart_texts(ui, lang, ui.in_(lang).chart_title)
        chart = mood_chart_field(
            progress.moods,
            progress.reflection_days,
            texts,
            progress.start,
            progress.end,
            "progress.png",
        )
        caption = progress.summary(ui.in_(lang), lang)
        view.photo(chart, caption, "progress.png")
        log.info("checkin.progress_queued user=%s", view.user.id)

    async def later(self, update: Update, context: Context) -> None:
        """The "Later" button of a check-in: ask again in an hour, once."""
        query = update.callback_query
        assert query is not None
        view = await self.manager.view_for(update, context)
        data = ButtonData.decode(query.data)
        if (
            data is None
            or data.session is None
            or (query.message is not None and view.buttons_removed(query.message.message_id))
            or not self.service.snooze(view.user, data.session)
        ):
            view.answer(query.id, view.ui.in_(view.lang).button_inactive)
            return
        view.answer(query.id)
        if query.message is not None:
            view.drop_buttons(query.message.message_id)
        view.text(view.ui.in_(view.lang).checkin_snoozed)
        conversation = self.manager.conversation
        current = conversation.current(conversation.user(view.user.key))
        if current is not None and current[0].flow == REFLECTION and current[0].status == "active":
            view.show(conversation.resume(view.user))  # the interrupted reflection
