"""The thread between a manager and their coach about one reflection: the manager replies to
the coach's feedback ("Reply", then text), the coach answers with /reply. Both are kept (in
/history, /mydata), erased by /forget, and a coach's reading of a reply is audited.

Messages are stored before they are sent; `undelivered` lists what still has to reach a chat.
"""

from __future__ import annotations

import logging

from storage import coach as coach_store
from storage import journey as store
from storage import repository
from storage.journey import ThreadMessage
from storage.repository import User

from ..flows.text import fill
from ..formatting import day_text
from .service import CoachService, Delivery, _name

log = logging.getLogger(__name__)


class CoachThread:
    """Replies between a manager and the coach who wrote them feedback."""

    def __init__(self, coach: CoachService) -> None:
        self.coach = coach
        self.db = coach.db
        self.conversation = coach.conversation

    def _now(self) -> str:
        return self.coach._now()

    # --- the manager's side --------------------------------------------------------------------

    def begin_reply(self, manager: User, session_id: int | None = None) -> str:
        """The manager pressed "Reply" under a feedback (about `session_id`, else the latest):
        their next text goes to that coach. The words that invite it."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(manager)
        target = self._feedback_target(manager, session_id)
        if target is None:
            return ui.in_(lang).reply_nothing
        session, coach = target
        store.set_replying_to(self.db, manager.id, session)
        return fill(ui.in_(lang).reply_prompt, {"coach": _name(coach)})

    def pending(self, manager: User) -> int | None:
        """The reflection the manager's next text replies about, if they pressed "Reply"."""
        return store.replying_to(self.db, manager.id)

    def cancel_reply(self, manager: User) -> None:
        """The manager moved on without replying."""
        store.set_replying_to(self.db, manager.id, None)

    def manager_reply(self, manager: User, text: str, key: str | None = None) -> Delivery | None:
        """Store the manager's reply and address it to the coach, labelled with the manager and
        the reflection; None when no reply was pending or the coach no longer reads them."""
        session_id = self.pending(manager)
        target = self._feedback_target(manager, session_id) if session_id else None
        if target is None or not text.strip():
            return None
        session_id, coach = target
        with self.db.atomic():
            message_id, delivered_at = store.add_thread_message(
                self.db,
                session_id,
                manager.id,
                coach.id,
                "manager",
                text.strip(),
                self._now(),
                source_key=key,
            )
            store.set_replying_to(self.db, manager.id, None)
            coach_store.log_read(
                self.db, coach.id, manager.id, "reply", str(session_id), self._now()
            )
        card = self.coach.card(repository.get_session(self.db, session_id))
        ui, lang = self.conversation.playbook.ui, self.conversation.language(coach)
        labelled = fill(
            ui.in_(lang).coach_reply_received,
            {
                "name": _name(manager),
                "date": day_text(card.day, lang),
                "client": card.client,
                "number": str(session_id),
                "text": text.strip(),
            },
        )
        log.info("coach.thread_reply manager=%s coach=%s", manager.id, coach.id)
        return Delivery(coach, labelled, None, delivered_at is not None, message_id)

    def sent_to_coach(self, manager: User) -> str:
        """The manager's confirmation that their reply is on its way."""
        ui, lang = self.conversation.playbook.ui, self.conversation.language(manager)
        coach = self.coach.coach_of(manager)
        return fill(ui.in_(lang).reply_sent, {"coach": _name(coach) if coach else ""})

    # --- the coach's side ----------------------------------------------------------------------

    def coach_reply(
        self, coach: User, session_id: int, text: str, key: str | None = None
    ) -> Delivery | None:
        """/reply R text: the coach answers about a reflection they may read; None otherwise."""
        session = self.coach.read_allowed(coach, session_id)
        if session is None or not text.strip():
            return None
        manager = repository.get_user(self.db, session.user_id)
        message_id, delivered_at = store.add_thread_message(
            self.db,
            session_id,
            manager.id,
            coach.id,
            "coach",
            text.strip(),
            self._now(),
            source_key=key,
        )
        card = self.coach.card(session)
        ui, lang = self.conversation.playbook.ui, self.conversation.language(manager)
        words = fill(
            ui.in_(lang).thread_from_coach,
            {"coach": _name(coach), "date": day_text(card.day, lang), "text": text.strip()},
        )
        return Delivery(manager, words, None, delivered_at is not None, message_id)

    # --- delivery ------------------------------------------------------------------------------

    def undelivered(self, limit: int = 100) -> list[Delivery]:
        """Thread messages stored but not yet in their reader's chat (the bot stopped, or the
        reader was unreachable), ready to send again."""
        found = []
        for message in store.undelivered_thread(self.db, limit):
            if message.coach_id is None:
                continue  # the coach is gone (/forget): nobody to deliver to
            manager = repository.get_user(self.db, message.manager_id)
            coach = repository.get_user(self.db, message.coach_id)
            card = self.coach.card(repository.get_session(self.db, message.session_id))
            reader = coach if message.author == "manager" else manager
            ui, lang = self.conversation.playbook.ui, self.conversation.language(reader)
            values = {
                "name": _name(manager),
                "coach": _name(coach),
                "date": day_text(card.day, lang),
                "client": card.client,
                "number": str(message.session_id),
                "text": message.text,
            }
            template = (
                ui.coach_reply_received if message.author == "manager" else ui.thread_from_coach
            )
            found.append(
                Delivery(reader, fill(template.get(lang), values), None, False, message.id)
            )
        return found

    def delivered(self, delivery: Delivery) -> None:
        """The reader's chat received the thread message."""
        if delivery.thread_id is not None:
            store.mark_thread_delivered(self.db, delivery.thread_id, self._now())

    # --- reading back --------------------------------------------------------------------------

    def thread_for(self, manager: User) -> dict[int, list[ThreadMessage]]:
        """The manager's threads, by reflection, oldest message first (for /history)."""
        grouped: dict[int, list[ThreadMessage]] = {}
        for message in store.thread_for_manager(self.db, manager.id):
            grouped.setdefault(message.session_id, []).append(message)
        return grouped

    def _feedback_target(self, manager: User, session_id: int | None) -> tuple[int, User] | None:
        """The reflection and the coach a reply goes to: the latest feedback (about
        `session_id` when given) from a coach the manager still shares with."""
        link = coach_store.active_link(self.db, manager.id)
        if link is None:
            return None
        for row in reversed(coach_store.feedback_for_manager(self.db, manager.id)):
            if session_id is not None and row["session_id"] != session_id:
                continue
            session = self.coach.read_allowed(
                repository.get_user(self.db, link.coach_id), row["session_id"]
            )
            if session is not None:
                return session.id, repository.get_user(self.db, link.coach_id)
        return None
