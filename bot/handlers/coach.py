"""Coach commands: /invite, /managers, /reflections, /read, /trend, /note, /feedback, /notify,
/web.

Every command checks the sender (`effective_user`) against REBOND_COACH_IDS, and the service
checks the active, consented link behind every number given: a number never grants access.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from telegram import Update

from storage.journey import feedback_session
from storage.repository import User

from ..charts import ReflectionScores
from ..coach.markdown import transcript_markdown
from ..coach.service import CoachService, Delivery, ReflectionCard, Transcript
from ..conversation import Conversation
from ..days import coach_zone
from ..delivery.outbox import Storage
from ..flows.model import Lang
from ..flows.text import fill
from ..formatting import count, day_of, day_text
from ..userkey import UserKey
from .chat import ChatView
from .checkins import chart_texts
from .drawn import trend_chart_field
from .manager import Context, ManagerHandlers, receipt_key
from .render import MESSAGE_LIMIT, Span
from .thread import reply_markup

log = logging.getLogger(__name__)

LONG_TRANSCRIPT = 2 * MESSAGE_LIMIT
"""Beyond this, a transcript comes as a Markdown file rather than a run of messages."""


class WebLinks(Protocol):
    """What /web needs of the web view (injected: the handlers never import bot.web)."""

    def issue_link(self, coach: User) -> str | None:
        """A one-time sign-in URL, or None if `coach` is no coach."""
        ...

    def end_sessions(self, coach: User) -> int:
        """End every web session of `coach`; how many were open."""
        ...


class CoachHandlers:
    """Handlers for coaches; registered in `bot.handlers.register`."""

    def __init__(
        self,
        manager: ManagerHandlers,
        coach: CoachService,
        publish_menu: Callable[[Storage, Conversation, int], None] | None = None,
        web: WebLinks | None = None,
    ) -> None:
        self.manager = manager
        self.web = web
        self.coach = coach
        self.publish_menu = publish_menu
        self._menus_published: set[int] = set()

    async def invite(self, update: Update, context: Context) -> None:
        """/invite: a single-use link for a manager, valid 7 days."""
        view = await self._coach_view(update, context)
        if view is None:
            return
        invite = self.coach.invite(view.user)
        link = f"https://t.me/{context.bot.username}?start={invite.code}"
        view.text(fill(view.ui.in_(view.lang).coach_invite, {"link": link, "code": invite.code}))

    async def managers(self, update: Update, context: Context) -> None:
        """/managers: linked managers, last activity, reflections done, mood trend."""
        view = await self._coach_view(update, context)
        if view is None:
            return
        lines = self.coach.managers(view.user)
        if not lines:
            view.text(view.ui.in_(view.lang).coach_no_managers)
            return
        spans = [Span(view.ui.in_(view.lang).coach_managers_title, "b")]
        db = self.coach.db
        for manager, trend in lines:
            values = {
                "number": str(manager.link_id),
                "name": manager.name or f"#{manager.manager_id}",
                "last_seen": day_text(
                    day_of(manager.last_seen_at, coach_zone(db, view.user.id, manager.manager_id)),
                    view.lang,
                ),
                "count": count(manager.reflections, "reflection", view.lang),
                "trend": trend,
            }
            spans += [Span("\n"), Span(fill(view.ui.in_(view.lang).coach_manager_line, values))]
        view.say(spans)

    async def reflections(self, update: Update, context: Context) -> None:
        """/reflections N: manager N's shared reflections, scores before -> after."""
        view, number = await self._coach_number(update, context)
        if view is None or number is None:
            return
        found = self.coach.reflections(view.user, number)
        if found is None:
            view.text(view.ui.in_(view.lang).coach_no_access)
            return
        manager, cards = found
        name = manager.display_name or f"#{manager.id}"
        if not cards:
            view.text(fill(view.ui.in_(view.lang).coach_no_reflections, {"name": name}))
            return
        spans = [Span(fill(view.ui.in_(view.lang).coach_reflections_title, {"name": name}), "b")]
        for card in cards:
            line = fill(view.ui.in_(view.lang).coach_reflection_line, _card_values(card, view.lang))
            spans += [Span("\n"), Span(line)]
        view.say(spans)

    async def read(self, update: Update, context: Context) -> None:
        """/read R: the transcript of reflection R, by section (a Markdown file when long)."""
        view, number = await self._coach_number(update, context)
        if view is None or number is None:
            return
        transcript = self.coach.read(view.user, number)
        if transcript is None:
            view.text(view.ui.in_(view.lang).coach_no_access)
            return
        spans = _transcript_spans(transcript, view.ui.in_(view.lang).coach_notes_title, view.lang)
        if transcript.commitments:  # where the manager's commitments stand (refs #11)
            spans += [Span("\n\n"), Span(view.ui.in_(view.lang).coach_commitments_title, "b")]
            for line in transcript.commitments:
                spans += [Span("\n• "), Span(line)]
        if sum(len(span.text) for span in spans) <= LONG_TRANSCRIPT:
            view.say(spans)
            return
        texts = view.ui.in_(view.lang)
        markdown = transcript_markdown(
            transcript, texts.coach_notes_title, view.lang, texts.coach_commitments_title
        )
        view.document(markdown.encode("utf-8"), f"reflection-{transcript.card.session_id}.md")

    async def trend(self, update: Update, context: Context) -> None:
        """/trend N: a chart of manager N's check-in mood and each reflection's scores."""
        view, number = await self._coach_number(update, context)
        if view is None or number is None:
            return
        found = self.coach.trend(view.user, number)
        if found is None:
            view.text(view.ui.in_(view.lang).coach_no_access)
            return
        manager, moods, cards, start, end = found
        ui, lang = view.ui, view.lang
        name = manager.display_name or f"#{manager.id}"
        texts = chart_texts(ui, lang, fill(ui.in_(lang).coach_trend_title, {"name": name}))
        scores = [
            ReflectionScores(c.day, c.client, c.guilt[0], c.guilt[1], c.worry[0], c.worry[1])
            for c in cards
        ]
        chart = trend_chart_field(moods, scores, texts, start, end, "trend.png")
        view.photo(chart, texts.title, "trend.png")

    async def note(self, update: Update, context: Context) -> None:
        """/note R text: a private note on reflection R."""
        view, number = await self._coach_number(update, context, with_text=True)
        if view is None or number is None:
            return
        text = " ".join((context.args or [])[1:])
        if not self.coach.note(view.user, number, text, receipt_key(update)):
            view.text(view.ui.in_(view.lang).coach_no_access)
            return
        view.text(view.ui.in_(view.lang).coach_note_saved)

    async def feedback(self, update: Update, context: Context) -> None:
        """/feedback R text: a message to the manager about reflection R, labelled as yours."""
        view, number = await self._coach_number(update, context, with_text=True)
        if view is None or number is None:
            return
        text = " ".join((context.args or [])[1:])
        delivery = self.coach.feedback(view.user, number, text, receipt_key(update))
        if delivery is None:
            view.text(view.ui.in_(view.lang).coach_no_access)
            return
        name = delivery.user.display_name or f"#{delivery.user.id}"
        reached = delivery.delivered_before or deliver(view, delivery)
        key = "coach_feedback_sent" if reached else "coach_feedback_saved"
        view.text(fill(getattr(view.ui, key).get(view.lang), {"name": name}))

    async def notify(self, update: Update, context: Context) -> None:
        """/notify on|off: a message when a linked manager completes a shared reflection."""
        view = await self._coach_view(update, context)
        if view is None:
            return
        choice = (context.args or [""])[0].lower()
        if choice not in ("on", "off"):
            view.text(view.ui.in_(view.lang).coach_usage)
            return
        self.coach.set_notify(view.user, choice == "on")
        view.text(getattr(view.ui, f"coach_notify_{choice}").get(view.lang))

    async def zone(self, update: Update, context: Context) -> None:
        """/zone: the time zone the coach reads times in; /zone Montréal to choose one,
        /zone manager for each manager's own (the default)."""
        view = await self._coach_view(update, context, ask_zone=False)
        if view is None:
            return
        view.text(self.coach.zone_command(view.user, " ".join(context.args or [])))

    async def web_view(self, update: Update, context: Context) -> None:
        """/web: a one-time link to the web view (10 minutes); /web logout: end every session."""
        view = await self._coach_view(update, context)
        if view is None:
            return
        if self.web is None:
            view.text(view.ui.in_(view.lang).coach_web_off)
            return
        choice = " ".join(context.args or []).lower()
        if choice == "logout":
            count = self.web.end_sessions(view.user)
            view.text(fill(view.ui.in_(view.lang).coach_web_logout, {"count": str(count)}))
            return
        if choice:
            view.text(view.ui.in_(view.lang).coach_usage)
            return
        link = self.web.issue_link(view.user)
        if link is None:  # no longer a coach between the two checks
            view.text(view.ui.in_(view.lang).coach_only)
            return
        # ChatView sends with the link preview off: Telegram need not fetch a sign-in link.
        view.text(fill(view.ui.in_(view.lang).coach_web_link, {"link": link}))

    # --- internals -----------------------------------------------------------------------------

    async def _coach_view(
        self, update: Update, context: Context, ask_zone: bool = True
    ) -> ChatView | None:
        view = await self.manager.view_for(update, context)
        if not self.coach.is_coach(view.user):
            log.info("coach.refused_not_coach user=%s", view.user.id)
            view.text(view.ui.in_(view.lang).coach_only)
            return None
        if self.publish_menu is not None and view.chat_id not in self._menus_published:
            # A coach who had never opened the bot at start-up gets their menu now.
            self.publish_menu(view.storage, self.manager.conversation, view.chat_id)
            self._menus_published.add(view.chat_id)
        question = self.coach.zone_question(view.user) if ask_zone else None
        if question is not None:  # once, at their first command, before its answer
            view.text(question)
        return view

    async def _coach_number(
        self, update: Update, context: Context, with_text: bool = False
    ) -> tuple[ChatView | None, int | None]:
        view = await self._coach_view(update, context)
        if view is None:
            return None, None
        args = context.args or []
        number = args[0].lstrip("#") if args else ""
        if not number.isdigit() or (with_text and len(args) < 2):
            view.text(view.ui.in_(view.lang).coach_usage)
            return view, None
        return view, int(number)


def deliver(view: ChatView, delivery: Delivery) -> bool:
    """Queue a message to another user's chat (feedback, recorded as delivered once the sender
    delivers it); False if they cannot be reached there."""
    return queue_feedback(view.storage, view.conversation, delivery)


def queue_feedback(storage: Storage, conversation: Conversation, delivery: Delivery) -> bool:
    """Put a feedback in the outbox for the manager's chat (the sender marks it delivered when
    Telegram takes it); False if they cannot be reached there. Call inside a transaction."""
    chat_id = UserKey(delivery.user.key).telegram_id
    if chat_id is None or delivery.user.blocked_at is not None:
        return False
    other = ChatView(storage, conversation, chat_id, delivery.user, kind="feedback")
    subject = f"feedback:{delivery.feedback_id}" if delivery.feedback_id is not None else None
    markup = None
    if delivery.feedback_id is not None:  # the manager may answer it (refs #11)
        session_id = feedback_session(storage.db, delivery.feedback_id)
        if session_id is not None:
            markup = reply_markup(conversation, delivery.user, session_id)
    other.say([Span(delivery.text)], markup, subject=subject)
    return True


def _card_values(card: ReflectionCard, lang: Lang) -> dict[str, str]:
    def pair(scores: tuple[int | None, int | None]) -> str:
        return " → ".join("?" if score is None else str(score) for score in scores)

    return {
        "number": str(card.session_id),
        "date": day_text(card.day, lang),  # Babel, in the reader's language (refs #10)
        "client": card.client,
        "guilt": pair(card.guilt),
        "worry": pair(card.worry),
    }


def _transcript_spans(transcript: Transcript, notes_title: str, lang: Lang) -> list[Span]:
    card = transcript.card
    name = transcript.manager.display_name or f"#{transcript.manager.id}"
    spans = [Span(f"{name} · {card.client} · {day_text(card.day, lang)}", "b")]
    for section in transcript.sections:
        spans += [Span("\n\n"), Span(section.title, "b")]
        for prompt, answer in section.exchanges:
            spans += [Span("\n"), Span(prompt, "i"), Span("\n→ "), Span(answer)]
    if transcript.notes:
        spans += [Span("\n\n"), Span(notes_title, "b")]
        for note in transcript.notes:
            spans += [Span("\n• "), Span(note)]
    return spans
