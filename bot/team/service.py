"""The team round service: a manager opens a round, team members answer it anonymously through
the engine, and when it closes the manager gets the summary (and the team's ideas as options).

Adapters stay thin: every method takes the person who acted (the sender of the update, never a
name found in a message) and returns what to show. A manager can reach counts and summaries of
their own rounds only; nothing here returns a member's answer next to who gave it, or a time.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from storage import checkins as checkin_store
from storage import repository
from storage import team as store
from storage.db import to_stored
from storage.repository import SessionRow, User
from storage.team import Round

from ..charts import feelings_chart
from ..clock import Clock
from ..conversation import REFLECTION, Conversation, Reply
from ..flows import engine
from ..flows.contract import ROUND_DAYS, TEAM_ROUND, TEAM_SETUP
from ..flows.model import Lang, Localized, Playbook, TeamTexts
from ..flows.state import Ask, Back, Done, Event, Invalid, Output, Say, SessionState, Skip
from ..flows.text import fill
from .summary import (
    OWN,
    RoundSummary,
    feeling_labels,
    feeling_scale,
    messages,
    summarise,
    summary_lines,
)

log = logging.getLogger(__name__)

START_PREFIX = "team_"
"""A link's start parameter is `team_<code>` (Telegram allows 64 characters of A-Za-z0-9_-)."""
CODE_BYTES = 24
"""Random bytes of a round's code: 32 URL-safe characters, never guessed."""
DEFAULT_DAYS = 5
EXTEND_DAYS = 3
LINKS_KEPT = timedelta(days=7)
"""How long after closing a member can still erase their answer (then the link is deleted)."""
MAX_OFFERED_IDEAS = 8
ZONE = "Europe/Paris"
"""Time zone of the dates shown when the manager has not chosen one for check-ins."""
DATE_PATTERNS = {"fr": "EEEE d MMMM 'à' HH:mm", "en": "EEEE, MMMM d 'at' h:mm a"}


@dataclass(frozen=True)
class Opened:
    """A round just opened: the link, what to tell the manager, and the message to forward."""

    round: Round
    link: str
    manager_text: str
    forward_text: str


@dataclass(frozen=True)
class RoundStatus:
    """/team while a round is open: how many answered (never who), and what can be done."""

    round: Round
    count: int
    text: str
    close_label: str
    extend_label: str


@dataclass(frozen=True)
class SummaryMessage:
    """A closed round's summary for its manager: text messages, and the chart when shown."""

    manager: User
    round_id: int
    summary: RoundSummary
    texts: tuple[str, ...]
    chart: bytes | None
    chart_caption: str
    extend_label: str | None
    """Set when the round was too small to show: the manager may extend it."""
    chart_points: tuple[tuple[str, int], ...] = ()
    """The chart's bars (label, count), to draw it apart (`TeamService.draw`)."""
    chart_axis: str = ""


class TeamService:
    """Team rounds over the conversation service: the manager's side, the members', the tick."""

    def __init__(
        self, conversation: Conversation, clock: Clock, bot_username: str | None = None
    ) -> None:
        self.conversation = conversation
        self.db = conversation.db
        self.clock = clock
        self.bot_username = bot_username
        """Set by the Telegram adapter once it knows it (getMe); links need it."""
        conversation.on_completed(self._setup_completed)
        conversation.offers_from(self._ideas_for_new_reflection)

    @property
    def playbook(self) -> Playbook:
        """The current playbook."""
        return self.conversation.playbook

    @property
    def texts(self) -> TeamTexts:
        """The team round's texts (`team:` in the playbook), for the adapters' buttons."""
        return self._team()

    # --- the manager ---------------------------------------------------------------------------

    def start_setup(self, manager: User) -> Reply:
        """/team with no open round: the set-up flow (the round opens when it ends)."""
        return self.conversation.start(manager, TEAM_SETUP, {})

    def offer_label(self, manager: User, ask: Ask | None) -> str | None:
        """The label of an "ask my team" button to show with this question of the reflection,
        or None (not an offering step, or a round already open)."""
        team = self._team()
        if ask is None or ask.step not in team.offer_steps:
            return None
        current = self.conversation.current(manager)
        if current is None or current[1].flow != REFLECTION:
            return None
        latest = store.latest_round(self.db, manager.id)
        if latest is not None and latest.status == "open":
            return None
        return team.offer_button.get(self._lang(manager))

    def open_round(
        self,
        manager: User,
        lang: Lang,
        days: int = DEFAULT_DAYS,
        own_question: str | None = None,
        reflection_id: int | None = None,
    ) -> Opened:
        """Open a round closing in `days` days; the link and the message to forward."""
        if not 1 <= days <= 99:
            raise ValueError(f"a round lasts 1 to 99 days, not {days}")
        now = self.clock()
        code = secrets.token_urlsafe(CODE_BYTES)
        question = (own_question or "").strip() or None
        if reflection_id is None:
            reflection_id = self._reflection_of(manager)
        opened = store.create_round(
            self.db,
            code,
            manager.id,
            reflection_id,
            lang,
            question,
            to_stored(now),
            to_stored(now + timedelta(days=days)),
        )
        log.info("team.opened manager=%s round=%s days=%s", manager.id, opened.id, days)
        team = self._team()
        link = self.link(opened)
        mine = self._lang(manager)
        return Opened(
            opened,
            link,
            fill(team.opened.get(mine), {"closes": self._date(opened.closes_at, manager, mine)}),
            fill(
                team.forward.get(lang),
                {
                    "manager": _name(manager),
                    "closes": self._date(opened.closes_at, manager, lang),
                    "link": link,
                },
            ),
        )

    def link(self, round_: Round) -> str:
        """The link that opens the round: t.me with the bot's username, else how to join."""
        if self.bot_username:
            return f"https://t.me/{self.bot_username}?start={START_PREFIX}{round_.code}"
        return fill(self._team().no_link.get(_lang(round_.lang)), {"code": round_.code})

    def status(self, manager: User) -> RoundStatus | None:
        """The manager's open round with its count of answers (never who); None if none open."""
        current = store.latest_round(self.db, manager.id)
        if current is None or current.status != "open":
            return None
        lang = self._lang(manager)
        team = self._team()
        count = store.answer_count(self.db, current.id)
        values = {"count": str(count), "closes": self._date(current.closes_at, manager, lang)}
        return RoundStatus(
            current,
            count,
            fill(team.status_open.get(lang), values),
            team.close_button.get(lang),
            team.extend_button.get(lang),
        )

    def last_closed(self, manager: User) -> Round | None:
        """The manager's latest round if it is closed (to extend a round too small to show)."""
        latest = store.latest_round(self.db, manager.id)
        return latest if latest is not None and latest.status == "closed" else None

    def count(self, manager: User, round_id: int) -> int | None:
        """How many answered the manager's round; None if it is not theirs."""
        found = self._own_round(manager, round_id)
        return None if found is None else store.answer_count(self.db, found.id)

    def close_early(self, manager: User, round_id: int) -> SummaryMessage | None:
        """Close the manager's open round now; its summary (to send, then `mark_sent`), or None
        if not theirs or not open."""
        found = self._own_round(manager, round_id)
        if found is None:
            return None
        if not store.close_round(self.db, found.id, self._now()):
            return None
        log.info("team.closed_early manager=%s round=%s", manager.id, found.id)
        return self._message(found)

    def close_now(self, manager: User, round_id: int) -> str | None:
        """Close the manager's open round now, its summary to follow from `due` (rendered
        apart from the click); what to tell them, or None if not theirs or not open."""
        found = self._own_round(manager, round_id)
        if found is None or not store.close_round(self.db, found.id, self._now()):
            return None
        log.info("team.closed_early manager=%s round=%s", manager.id, found.id)
        count = str(store.answer_count(self.db, found.id))
        return fill(self._team().closed_early.get(self._lang(manager)), {"count": count})

    def extend(self, manager: User, round_id: int, days: int = EXTEND_DAYS) -> str | None:
        """Give the manager's round `days` more days (reopening it if it closed less than 7 days
        ago); what to tell them, or None if not theirs or closed for too long."""
        found = self._own_round(manager, round_id)
        if found is None or not 1 <= days <= 99:
            return None
        now = self.clock()
        if found.status == "closed" and (
            found.closed_at is None or found.closed_at <= to_stored(now - LINKS_KEPT)
        ):
            return None  # members' links are gone: they could no longer change their answer
        base = max(now, datetime.fromisoformat(found.closes_at))
        closes = to_stored(base + timedelta(days=days))
        store.reopen_round(self.db, found.id, closes)
        log.info("team.extended manager=%s round=%s", manager.id, found.id)
        lang = self._lang(manager)
        return fill(self._team().extended.get(lang), {"closes": self._date(closes, manager, lang)})

    def summary(self, manager: User, round_id: int) -> SummaryMessage | None:
        """A closed round's summary for its manager; None if not theirs or still open."""
        found = self._own_round(manager, round_id, status="closed")
        return None if found is None else self._message(found)

    def summary_lines_for(self, round_: Round, lang: Lang) -> list[str]:
        """A closed round's summary as text lines (for coaches and exports: no raw rows)."""
        return summary_lines(self._summarise(round_), self.playbook, lang)

    # --- a team member -------------------------------------------------------------------------

    def join(self, member: User, start_parameter: str) -> Reply:
        """A person opened a round's link (`team_<code>`): the notice and the first question, or
        why the link cannot be used."""
        code = start_parameter.strip().removeprefix(START_PREFIX)
        found = store.round_by_code(self.db, code) if code else None
        lang = self._lang(member) if found is None else _lang(found.lang)
        team = self._team()
        if found is None:
            log.info("team.join_refused reason=unknown")
            return _said(team.join_unknown.get(lang))
        if found.manager_id == member.id:  # the manager: in their language, not the round's
            return _said(team.join_own.get(self._lang(member)))
        if found.status != "open" or found.closes_at <= self._now():
            manager = repository.get_user(self.db, found.manager_id)
            return _said(fill(team.join_closed.get(lang), {"manager": _name(manager)}))
        manager = repository.get_user(self.db, found.manager_id)
        inputs = {"manager": _name(manager), "closes": self._date(found.closes_at, manager, lang)}
        if found.own_question:
            inputs["own_question"] = found.own_question
        token = store.member_token(self.db, found.id, member.key)
        draft = store.current_draft(self.db, member.key, self._now())
        if draft is not None and draft.token == token:  # the link opened again half-way
            question = self.question(member)
            resumed = Say(self.playbook.ui.in_(lang).resumed)
            return Reply(None, (resumed, question) if question is not None else (resumed,))
        state, outputs = engine.start(self.playbook, TEAM_ROUND, lang, inputs)
        notes: tuple[Output, ...] = ()
        with self.db.atomic():
            if token is None:
                token = secrets.token_urlsafe(CODE_BYTES)
                store.join(self.db, found.id, member.key, token)
            else:
                previous = store.previous_answer(self.db, token)
                if previous is not None:  # their earlier answers show as "previous"
                    state = state.model_copy(update={"answers": json.loads(previous)})
                    outputs = _with_question(outputs, engine.ask(self.playbook, state))
                    notes = (Say(fill(team.join_again.get(lang), {"closes": inputs["closes"]})),)
            state, outputs = self._skip_own_question(found, state, outputs, Skip())
            store.save_draft(self.db, member.key, token, state.model_dump_json())
        log.info("team.joined round=%s", found.id)
        return Reply(None, (*notes, *outputs))

    def answering(self, member: User) -> bool:
        """True while the person is answering an open round: their messages go to `handle`."""
        return store.current_draft(self.db, member.key, self._now()) is not None

    def handle(self, member: User, event: Event, turn: int | None = None) -> Reply | None:
        """Apply one event to the member's answers in progress; None if they are answering no
        open round. `turn` refuses a button meant for an earlier question."""
        draft = store.current_draft(self.db, member.key, self._now())
        if draft is None:
            return None
        state = SessionState.model_validate_json(draft.state)
        if turn is not None and turn != state.turn:
            return Reply(None, (), stale=True)
        playbook = self.conversation.library.for_version(state.version)
        if state.step is None or state.step not in playbook.flow(TEAM_ROUND).step_by_id:
            return self.join(member, draft.round.code)  # the playbook changed under them
        new_state, outputs = engine.advance(playbook, state, event)
        if new_state is state:
            return Reply(None, outputs)
        answered = engine.ask(playbook, state)
        new_state, outputs = self._skip_own_question(draft.round, new_state, outputs, event)
        with self.db.atomic():
            if any(isinstance(output, Done) for output in outputs):
                kept = set(new_state.history)  # a branch left on the way is no answer
                final = {k: v for k, v in new_state.answers.items() if k in kept}
                store.submit(self.db, draft.token, json.dumps(final, ensure_ascii=False))
                log.info("team.answered round=%s", draft.round.id)
            else:
                store.save_draft(self.db, member.key, draft.token, new_state.model_dump_json())
        return Reply(None, outputs, answered=answered)

    def question(self, member: User) -> Ask | None:
        """The question the member's answers in progress wait on (to show it again)."""
        draft = store.current_draft(self.db, member.key, self._now())
        if draft is None:
            return None
        state = SessionState.model_validate_json(draft.state)
        return engine.ask(self.conversation.library.for_version(state.version), state)

    def was_member(self, person: User) -> bool:
        """True if the person answers, or answered, a round still linked to them."""
        return bool(store.member_answers(self.db, person.key))

    def help_text(self, member: User) -> str:
        """/help for a team member."""
        return self._team().member_help.get(self._member_lang(member))

    def cancel(self, member: User) -> str | None:
        """/cancel while answering: the answers in progress are dropped (an answer given before
        stays); what to say, or None if the person is answering no open round."""
        draft = store.current_draft(self.db, member.key, self._now())
        if draft is None:
            return None
        store.save_draft(self.db, member.key, draft.token, None)
        log.info("team.draft_cancelled round=%s", draft.round.id)
        return self._team().member_cancelled.get(_lang(draft.round.lang))

    def member_text(self, member: User, name: str) -> str:
        """One of the team texts said to a member (`member_paused`...), in their round's
        language."""
        text = getattr(self._team(), name)
        assert isinstance(text, Localized), name
        return text.get(self._member_lang(member))

    def forget(self, member: User) -> str:
        """/forget by a team member: their answers and links in every round are erased."""
        lang = self._member_lang(member)
        erased = store.forget_member(self.db, member.key)
        if not self.db.conn.in_transaction:  # else the caller scrubs once it has committed
            store.fold_log(self.db)
        log.info("team.member_forgotten answers=%s", erased)
        team = self._team()
        return (team.member_forgotten if erased else team.member_nothing).get(lang)

    # --- the scheduler's tick ------------------------------------------------------------------

    def due(self, limit: int = 100, draw: bool = True) -> list[SummaryMessage]:
        """Close the rounds whose date has come; the summaries of closed rounds not yet sent to
        their managers (until `mark_sent`); clear the member links of rounds closed 7 days ago.

        For the scheduler's tick. Rendering happens here, outside any transaction; write each
        message to the outbox and call `mark_sent` in one transaction, so a crash in between
        sends it on the next tick rather than never.
        """
        now = self._now()
        for due in store.due_rounds(self.db, now, limit):
            if store.close_round(self.db, due.id, now):
                log.info("team.closed round=%s", due.id)
        self.clear_expired_links()
        unsent = store.unsent_closed_rounds(self.db, limit)
        return [self._message(closed, draw) for closed in unsent]

    @staticmethod
    def draw(message: SummaryMessage) -> SummaryMessage:
        """The message with its chart drawn (from `due(draw=False)`); reads no storage, so it
        may run in a worker thread (a chart takes from a blink to seconds)."""
        if message.chart is not None or not message.chart_points:
            return message
        chart = feelings_chart(message.chart_points, message.chart_caption, message.chart_axis)
        return replace(message, chart=chart)

    def mark_sent(self, message: SummaryMessage) -> None:
        """The summary is on its way to the manager: due() stops returning it, and the team's
        ideas are offered at the open reflection's "which idea first?" if not yet passed."""
        with self.db.atomic():
            store.mark_summary_sent(self.db, message.round_id, self._now())
            if message.summary.ideas:
                self.conversation.offer(
                    message.manager, REFLECTION, self._team().ideas_step, _ideas(message.summary)
                )

    def clear_expired_links(self) -> int:
        """Delete the member links of rounds closed more than 7 days ago; how many."""
        cleared = store.clear_links(self.db, to_stored(self.clock() - LINKS_KEPT))
        if cleared:
            log.info("team.links_cleared count=%s", cleared)
        return cleared

    # --- internals -----------------------------------------------------------------------------

    def _message(self, round_: Round, draw: bool = True) -> SummaryMessage:
        manager = repository.get_user(self.db, round_.manager_id)
        lang = self._lang(manager)
        summary = self._summarise(round_)
        lines = summary_lines(summary, self.playbook, lang)
        team = self._team()
        if not summary.shown:
            return SummaryMessage(
                manager, round_.id, summary, tuple(lines), None, "", team.extend_button.get(lang)
            )
        if summary.ideas:
            lines += ["", team.ideas_offered.get(lang)]
        labels = dict(feeling_labels(self.playbook, lang))
        points = tuple((f"{p}\n{labels.get(p, '')}".strip(), n) for p, n in summary.feelings)
        title, axis = team.feelings_title.get(lang), team.feelings_axis.get(lang)
        undrawn = SummaryMessage(
            manager, round_.id, summary, tuple(messages(lines)), None, title, None, points, axis
        )
        return self.draw(undrawn) if draw else undrawn

    def _summarise(self, round_: Round) -> RoundSummary:
        scale = feeling_scale(self.playbook)
        return summarise(
            store.round_answers(self.db, round_.id),
            round_.own_question,
            (scale.min, scale.max),
            self.playbook.safety,
        )

    def _skip_own_question(
        self, round_: Round, state: SessionState, outputs: tuple[Output, ...], event: Event
    ) -> tuple[SessionState, tuple[Output, ...]]:
        """Without a question of the manager's own, its step passes by itself (back: further)."""
        if round_.own_question or state.step != OWN:
            return state, outputs
        move: Event = Back() if isinstance(event, Back) else Skip()
        playbook = self.conversation.library.for_version(state.version)
        moved, more = engine.advance(playbook, state, move)
        if moved is state:
            return state, outputs
        kept = tuple(o for o in outputs if not (isinstance(o, Ask) and o.step == OWN))
        return moved, (*kept, *(o for o in more if not isinstance(o, Invalid)))

    def _setup_completed(
        self, user: User, row: SessionRow, state: SessionState
    ) -> tuple[Output, ...] | None:
        if row.flow != TEAM_SETUP:
            return None
        answers = state.answers
        lang = _lang(str(answers.get("round_language") or self._lang(user)))
        match = ROUND_DAYS.match(str(answers.get("round_days") or ""))
        days = int(match.group(1)) if match else DEFAULT_DAYS
        question = answers.get("own_question")
        opened = self.open_round(user, lang, days, question if isinstance(question, str) else None)
        return (Say(opened.manager_text), Say(opened.forward_text, alone=True))

    def _ideas_for_new_reflection(self, user: User, flow: str) -> dict[str, tuple[str, ...]]:
        if flow != REFLECTION or self.playbook.team is None:
            return {}
        for closed in store.closed_rounds(self.db, user.id):
            summary = self._summarise(closed)
            if summary.shown:
                return {self._team().ideas_step: _ideas(summary)} if summary.ideas else {}
        return {}

    def _reflection_of(self, manager: User) -> int | None:
        """The reflection a new round belongs to: the open one, else the latest finished."""
        open_one = repository.open_session(self.db, manager.id, REFLECTION)
        if open_one is not None:
            return open_one.id
        done = repository.completed_sessions(self.db, manager.id, REFLECTION)
        return done[0].id if done else None

    def _own_round(self, manager: User, round_id: int, status: str | None = None) -> Round | None:
        found = store.get_round(self.db, round_id)
        if found is None or found.manager_id != manager.id:
            return None
        if status is not None and found.status != status:
            return None
        return found

    def _team(self) -> TeamTexts:
        team = self.playbook.team
        if team is None:
            raise LookupError("the playbook has no 'team:' section")
        return team

    def _lang(self, user: User) -> Lang:
        return self.conversation.language(user)

    def _member_lang(self, member: User) -> Lang:
        draft = store.current_draft(self.db, member.key, self._now())
        return _lang(draft.round.lang) if draft is not None else self._lang(member)

    def _date(self, stored: str, manager: User, lang: Lang) -> str:
        settings = checkin_store.get_settings(self.db, manager.id)
        zone = ZoneInfo(settings.timezone if settings is not None else ZONE)
        moment = datetime.fromisoformat(stored).astimezone(zone)
        return format_datetime(moment, DATE_PATTERNS[lang], tzinfo=zone, locale=lang)

    def _now(self) -> str:
        return to_stored(self.clock())


def _ideas(summary: RoundSummary) -> tuple[str, ...]:
    return summary.ideas[:MAX_OFFERED_IDEAS]


def _lang(value: str) -> Lang:
    return "en" if value == "en" else "fr"


def _name(user: User) -> str:
    return user.display_name or f"#{user.id}"


def _said(text: str) -> Reply:
    return Reply(None, (Say(text),))


def _with_question(outputs: Sequence[Output], question: Ask | None) -> tuple[Output, ...]:
    kept = tuple(o for o in outputs if not isinstance(o, Ask))
    return (*kept, question) if question is not None else kept
