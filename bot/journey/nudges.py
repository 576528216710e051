"""Reminders of an unfinished reflection: one after a day, one after three days, then nothing.

The delays and texts come from the playbook's `nudges` section. A reminder waits while the
manager is in their quiet hours, while a check-in waits for an answer, and never comes once
they chose "stop these reminders" (anchors: DailyBot and Geekbot remind about incomplete
entries; CoachAccountable warns coaches about over-notifying).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import checkins as checkin_store
from storage import journey as store
from storage import repository
from storage.db import to_stored
from storage.repository import User

from ..clock import Clock
from ..conversation import REFLECTION, Conversation, Reply
from ..flows.model import Playbook
from ..flows.state import SessionState
from ..flows.text import fill
from ..playbooks import PlaybookLibrary

log = logging.getLogger(__name__)

OTHER_FLOW_HOLDS = timedelta(days=1)
"""Another flow in progress holds reminders back for this long after it began."""
RESUME = "resume"
STOP = "stop"


@dataclass(frozen=True)
class Nudge:
    """A reminder to send now: its text, and the two choices it offers (action id, label)."""

    user: User
    session_id: int
    ordinal: int
    text: str
    choices: tuple[tuple[str, str], ...]


class NudgeService:
    """Which reminders are due, and the manager's answers to them."""

    def __init__(
        self, conversation: Conversation, clock: Clock, quiet: Callable[[User], bool]
    ) -> None:
        self.conversation = conversation
        self.db = conversation.db
        self.clock = clock
        self.quiet = quiet

    def due(self, limit: int = 500) -> list[Nudge]:
        """The reminders to send now (nothing is recorded: call `sent` once each is out)."""
        now = self.clock()
        playbook = self.conversation.playbook
        delays = [timedelta(hours=h) for h in playbook.nudges.after_hours]
        found = []
        for row in store.unfinished_reflections(self.db, limit, max_sent=len(delays)):
            sent = row["sent"]
            if sent >= len(delays):
                continue  # then nothing
            last = datetime.fromisoformat(row["last_activity"])
            if now < last + delays[sent]:
                continue
            if sent and now < datetime.fromisoformat(row["last_sent"]) + (
                delays[sent] - delays[sent - 1]
            ):
                continue  # a reminder held by quiet hours does not bring the next one closer
            user = repository.get_user(self.db, row["user_id"])
            if self.quiet(user) or self._occupied(user):
                continue
            found.append(self._nudge(playbook, user, row["session_id"], sent + 1))
        return found

    def sent(self, nudge: Nudge) -> bool:
        """Record that the reminder went out; False if it had been recorded already."""
        recorded = store.record_nudge(
            self.db, nudge.user.id, nudge.session_id, nudge.ordinal, to_stored(self.clock())
        )
        log.info("journey.nudged user=%s ordinal=%s", nudge.user.id, nudge.ordinal)
        return recorded

    def stop(self, user: User) -> str:
        """The manager chose "stop these reminders": none any more; the words to confirm it."""
        store.set_nudges_stopped(self.db, user.id, to_stored(self.clock()))
        log.info("journey.nudges_stopped user=%s", user.id)
        return self.conversation.playbook.nudges.stopped.get(self.conversation.language(user))

    def allow(self, user: User) -> None:
        """Reminders of unfinished reflections are welcome again (from the settings)."""
        store.set_nudges_stopped(self.db, user.id, None)

    def stopped(self, user: User) -> bool:
        """True when the manager stopped these reminders."""
        return store.nudges_stopped(self.db, user.id)

    def resume(self, user: User) -> Reply:
        """The manager chose "resume": the reflection's question, where they left it."""
        session = self.conversation.open_session(user, REFLECTION)
        if session is None:
            return Reply(None, ())
        return self.conversation.focus(user, session.id)

    def _occupied(self, user: User) -> bool:
        """A check-in waits for an answer, or the manager is in another flow begun within a
        day (one left for longer, a commitment question ignored, holds no reminder back)."""
        if checkin_store.open_checkins(self.db, user.id):
            return True
        current = repository.current_session(self.db, user.id)
        if current is None or current.flow == REFLECTION or current.status != "active":
            return False
        return current.started_at > to_stored(self.clock() - OTHER_FLOW_HOLDS)

    def _nudge(self, playbook: Playbook, user: User, session_id: int, ordinal: int) -> Nudge:
        lang = self.conversation.language(user)
        state = repository.get_session(self.db, session_id).state
        section = where_it_stopped(self.conversation.library, state, lang)
        nudges = playbook.nudges
        return Nudge(
            user,
            session_id,
            ordinal,
            fill(nudges.text.get(lang), {"section": section}),
            ((RESUME, nudges.resume_button.get(lang)), (STOP, nudges.stop_button.get(lang))),
        )


def where_it_stopped(library: PlaybookLibrary, state_json: str, lang: str) -> str:
    """The title of the section a session waits in, from the playbook version it runs on
    ('' when it has ended)."""
    state = SessionState.model_validate_json(state_json)
    flow = library.for_version(state.version).flows.get(state.flow)
    if flow is None or state.step is None or state.step not in flow.section_of:
        return ""
    return flow.section_of[state.step][1].title.get("en" if lang == "en" else "fr")
