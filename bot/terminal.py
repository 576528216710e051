"""The terminal chat: the same conversation as on Telegram, over standard input and output.

Usage:
    rebond chat [--db PATH] [--lang fr|en] [--user NAME] [--flow ID]

Choices are numbered (type the number or the option's words; yes/no too: 1 yes, 2 no), scales
take a number. /reflect, /resume, /start, /back, /skip, /restart, /pause, /cancel, /home,
/commitments, /quit, /history, /progress, /language and /help work; /checkin shows the schedule
and says that check-ins come through Telegram or `rebond checkin`; Telegram's sharing and coach
commands are said to work on Telegram; any other /command is refused with the list, and never
taken as an answer. The choice after a safety note waits across restarts (it is stored).
Ctrl-D or Ctrl-C saves and exits, and the next launch resumes at the same question. With nothing
in progress, the chat opens on the home (and comes back to it once a reflection is dropped;
/resume brings a dropped one back). `--lang` answers the onboarding's language question. Every
numbered menu (the home, /cancel's question, pause or go on after a safety note, /language)
takes the number or the option's words.
Standard input may be a pipe, one answer per line.

The team round works here too: /team opens one (or shows it: /team close, /team extend), and
another local user answers it with `/start team_<code>`; /forget team erases their answers. A
member who relaunches the chat half-way through is shown the round's question again.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO, assert_never

from storage.repository import User

from .checkins.service import SETUP
from .conversation import ONBOARDING, REFLECTION, Conversation, Reply
from .flows.contract import COACH_COMMANDS, REQUIRED_COMMANDS
from .flows.contract import TERMINAL_COMMANDS as TERMINAL_COMMAND_NAMES
from .flows.engine import SKIP_OPTION, unknown_command
from .flows.model import LANGUAGES, Lang, UiTexts
from .flows.numbers import MAX_NUMBER_CHARACTERS
from .flows.state import (
    PAUSE,
    Answer,
    Ask,
    Back,
    Choice,
    Done,
    Event,
    Invalid,
    LanguageChanged,
    Output,
    Pick,
    Recorded,
    Restart,
    SafetyNote,
    SafetyOffer,
    Say,
    Skip,
)
from .flows.text import fill, normalise
from .userkey import UserKey

if TYPE_CHECKING:
    from .bootstrap import Services
    from .journey.service import Home
    from .team.service import TeamService

COMMANDS: dict[str, Event] = {"/back": Back(), "/skip": Skip(), "/restart": Restart()}
TERMINAL_COMMANDS = tuple(f"/{name}" for name in TERMINAL_COMMAND_NAMES)
"""The commands the terminal runs (Telegram's others are answered with TELEGRAM_ONLY)."""
TELEGRAM_ONLY = tuple(
    f"/{name}"
    for name in (*REQUIRED_COMMANDS, *COACH_COMMANDS)
    if f"/{name}" not in TERMINAL_COMMANDS
)
"""Telegram's commands that make no sense here (sharing with a coach, the coach's own): the
terminal says they work on Telegram rather than call them unknown."""
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
SENTENCE = re.compile(r"(?<=[.!?])\s+")
"""Where one sentence of a UI text ends and the next begins."""
PICKED_BY_NUMBER = frozenset({"time", "timezone"})
"""Question kinds whose numbered options are picked by number ("2" is not 02:00 there)."""

Action = Callable[["User", Choice], "Reply | None"]
"""What choosing an option of a numbered menu does; None ends the chat."""


@dataclass(frozen=True)
class ChatOptions:
    """How `rebond chat` was asked to run."""

    user: str
    lang: Lang | None = None
    flow: str | None = None


def render(output: Output, ui: UiTexts, lang: Lang) -> str:
    """One engine output as terminal text ('' for outputs that show nothing).

    Every output kind has its case: a new kind fails mypy here (assert_never) until rendered.
    """
    match output:
        case Say():
            return output.text + "\n"
        case SafetyNote():
            rule = "-" * 60
            return f"{rule}\n{output.text}\n{rule}\n"
        case SafetyOffer():
            return render_menu(output.prompt, output.options)
        case Invalid():
            return f"! {output.reason}\n"
        case Ask():
            return render_question(output, ui, lang)
        case Done():
            if not output.lines:
                return ""
            lines = "\n".join(f"  • {line}" for line in output.lines)
            return f"\n== {output.title} ==\n{lines}\n"
        case Recorded() | LanguageChanged():
            return ""  # bookkeeping for the service: nothing to show
        case _:
            assert_never(output)


def render_menu(prompt: str, options: tuple[Choice, ...]) -> str:
    """A prompt and its numbered options."""
    lines = [prompt, *(f"  {n}. {o.label}" for n, o in enumerate(options, start=1))]
    return "\n".join(lines) + "\n"


def render_question(ask: Ask, ui: UiTexts, lang: Lang) -> str:
    """A question with its progress line, numbered options and hints."""
    parts = []
    if ask.progress is not None and ask.progress.total > 1:
        parts.append(f"[{ask.progress}]")
    parts.append(ask.prompt)
    if ask.kind == "scale":
        parts.append(f"({ask.options[0].id}-{ask.options[-1].id})")
    elif ask.options:
        for number, option in enumerate(ask.options, start=1):
            parts.append(f"  {number}. {option.label}")
        if ask.skip is not None:  # the skip choice, numbered after the options
            parts.append(f"  {len(ask.options) + 1}. {ask.skip}")
    if ask.hint:
        parts.append(ask.hint)
    if ask.previous is not None:
        parts.append(f"{ui.in_(lang).previous_answer} {ask.previous}")
    return "\n".join(parts) + "\n"


class TerminalChat:
    """Reads answers line by line and prints the conversation, for one local user."""

    def __init__(
        self,
        conversation: Conversation,
        options: ChatOptions,
        stdin: TextIO,
        stdout: TextIO,
        opening: Reply | None = None,
        services: Services | None = None,
    ) -> None:
        self.conversation = conversation
        self.services = services
        """The services around the conversation: with them, the home and the journey's
        commands (/checkin, /commitments, /cancel with a way back)."""
        self.team: TeamService | None = services.team if services is not None else None
        self.options = options
        self.stdin = stdin
        self.stdout = stdout
        self.echo = not stdin.isatty()
        self.opening = opening
        """What to show first when the caller already started a flow (`rebond checkin`)."""
        self.menu: tuple[tuple[Choice, ...], Action] | None = None
        """The one numbered menu waiting for a choice (the home, /cancel's question, pause or go
        on, a language), and what choosing does."""
        self.shown: Ask | None = None
        """The question last shown, with the options it was shown with (the places or dates a
        typed answer may mean replace the usual ones): a number typed picks among those."""

    @property
    def ui(self) -> UiTexts:
        """Texts around the questions, from the current playbook."""
        return self.conversation.playbook.ui

    def run(self) -> int:
        """Chat until the flows end, the manager quits, or input ends; returns an exit code."""
        user = self._user()
        try:
            reply = self._opening(user)
            self._show(reply, user)
            while reply.question is not None or self.menu is not None:
                if not self.echo:  # a person at a terminal: show where to type
                    self.stdout.write("> ")
                    self.stdout.flush()
                line = self.stdin.readline()
                if not line:
                    user = self.conversation.user(user.key)  # a /language may have changed it
                    self._say(self.ui.in_(self._lang(user)).saved_and_exit)
                    return 0
                user = self.conversation.user(user.key)
                stepped = self._step(user, line.rstrip("\n"))
                if stepped is None:
                    return 0
                reply = self._without_telegram_checkins(user, stepped)
                self._show(reply, user)
        except KeyboardInterrupt:
            self._say("\n" + self.ui.in_(self._lang(user)).saved_and_exit)
        return 0

    def _without_telegram_checkins(self, user: User, reply: Reply) -> Reply:
        """The terminal cannot send daily check-ins: when a finished reflection leads to their
        set-up, it is dropped and `rebond checkin` is offered instead."""
        if reply.completed is None or reply.question is None or reply.session_id is None:
            return reply
        if self.conversation.session(reply.session_id).flow != SETUP:
            return reply
        if self.conversation.session(reply.completed).flow != REFLECTION:
            return reply
        self.conversation.cancel(user)
        kept = tuple(output for output in reply.outputs if not isinstance(output, Ask))
        note = Say(self.ui.in_(self._lang(user)).checkin_terminal)
        return Reply(None, (*kept, note), completed=reply.completed)

    def _user(self) -> User:
        user = self.conversation.user(UserKey.terminal(self.options.user), self.options.user)
        if self.options.lang is not None and user.lang != self.options.lang:
            user = self.conversation.set_language(user, self.options.lang)
        return user

    def _opening(self, user: User) -> Reply:
        if self.opening is not None:
            return self.opening
        wanted = self.options.flow
        if wanted is not None:
            if wanted == "team_round":
                raise SystemExit(
                    "rebond chat: team_round is answered from a round's code: /start team_<code>"
                )
            if wanted not in self.conversation.playbook.flows:
                known = ", ".join(self.conversation.playbook.flows)
                raise SystemExit(f"rebond chat: unknown flow '{wanted}' (known: {known})")
            session = self.conversation.open_session(user, wanted)
            if session is not None:
                return self._resumed(user, self.conversation.focus(user, session.id))
            return self.conversation.start(user, wanted)
        if self.team is not None and self.team.answering(user):
            # a team member half-way through a round's answers: its question, never their own
            # onboarding (what they type goes to the round)
            self._say(self.ui.in_(self._lang(user)).resumed)
            return Reply(None, tuple(o for o in [self.team.question(user)] if o is not None))
        reply = self.conversation.resume(user)
        if reply.question is not None:
            return self._resumed(user, reply)
        return self._where_left(user)

    def _where_left(self, user: User) -> Reply:
        """Where the chat goes on when nothing else is shown: the question in progress, else
        the home (nothing in progress), else the first flow."""
        reply = self.conversation.resume(user)
        if reply.question is not None:
            return reply
        if self.services is not None and user.onboarded_at:
            return self._home(user)  # nothing in progress: the manager chooses
        return self._start(user, REFLECTION if user.onboarded_at else ONBOARDING)

    def _start(self, user: User, flow: str) -> Reply:
        """Begin `flow`; the onboarding's language question is answered already when the chat
        was launched with --lang."""
        reply = self.conversation.start(user, flow)
        question, lang = reply.question, self.options.lang
        if question is None or lang is None or flow != ONBOARDING:
            return reply
        step = self.conversation.playbook.flows[flow].step_by_id.get(question.step)
        if not getattr(step, "sets_language", False):
            return reply
        if lang not in {option.id for option in question.options}:
            return reply
        chosen = self.conversation.handle(user, Pick(lang))
        shown = tuple(o for o in reply.outputs if not isinstance(o, Ask))
        return Reply(chosen.session_id, (*shown, *chosen.outputs), completed=chosen.completed)

    def _resumed(self, user: User, reply: Reply) -> Reply:
        current = self.conversation.current(user)
        if current is not None and (current[1].history or current[1].answers):
            self._say(self.ui.in_(self._lang(user)).resumed)  # not when nothing was answered
        return reply

    def _step(self, user: User, line: str) -> Reply | None:
        if self.echo:
            self._say(f"> {line}")
        command = line.strip().lower()
        lang = self._lang(user)
        if self.team is not None and (self.menu is None or command.startswith("/")):
            # a waiting menu (pause or go on after the safety note) takes its number first
            waiting, self.menu = self.menu, None
            handled = self._team_step(user, line.strip())
            if handled is not None:
                return handled
            self.menu = waiting
        if self.menu is not None and not command.startswith("/"):
            return self._choose(user, line)
        waiting, self.menu = self.menu, None
        if command.startswith("/") and command[1:2].isalpha():
            reply = self._command(user, command.split()[0], lang)
            if reply is not None and reply.question is None and self.menu is None:
                self.menu = waiting  # a command that leads nowhere else: the menu still waits
            return reply
        question = self.conversation.resume(user).question
        picked = _picked_by_number(question, line, self.shown) if question is not None else None
        if picked is not None:
            return self.conversation.handle(user, Pick(picked))
        return self.conversation.handle(user, Answer(line))

    def _command(self, user: User, command: str, lang: Lang) -> Reply | None:
        """Run a slash command; none is ever sent to the engine as an answer."""
        journey = self._journey_command(user, command)
        if journey is not None:
            return journey
        if command == "/help":
            self._say(self.ui.in_(lang).help_terminal)
        elif command == "/pause":
            self.conversation.pause(user)
            self._say(self.ui.in_(lang).paused)
            return None
        elif command == "/quit":
            self._say(self.ui.in_(lang).saved_and_exit)
            return None
        elif command in COMMANDS:
            return self.conversation.handle(user, COMMANDS[command])
        elif command == "/history":
            self._say(self._history(user))
        elif command == "/progress":
            self._say(self._progress(user, lang))
        elif command == "/checkin":  # without the services: no schedule to show
            self._say(self.ui.in_(lang).checkin_terminal)
        elif command in ("/reflect", "/start"):
            return self._reflect(user, lang, fresh=command == "/reflect")
        elif command == "/resume":
            return self._resume(user, lang)
        elif command in TELEGRAM_ONLY:
            self._say("! " + fill(self.ui.in_(lang).telegram_only_command, {"command": command}))
        elif command == "/language":
            options = tuple(Choice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES)
            self._say(render_menu(self.ui.in_(lang).language_prompt, options))
            self.menu = (options, self._set_language)
            return Reply(None, ())
        else:
            playbook = self.conversation.playbook
            self._say("! " + unknown_command(playbook, command, lang, TERMINAL_COMMANDS))
        return self.conversation.resume(user)

    def _reflect(self, user: User, lang: Lang, fresh: bool) -> Reply:
        """/reflect: a new reflection, or resume-or-restart when one is open; /start: where
        the manager left off (the home when nothing is open), as the chat's opening does."""
        session = self.conversation.open_session(user, REFLECTION)
        if not fresh:
            reply = self.conversation.resume(user)
            if reply.question is not None:
                return reply
            if session is None and self.services is not None and user.onboarded_at:
                return self._home(user)
        if session is None:
            flow = REFLECTION if user.onboarded_at or fresh else ONBOARDING
            return self._start(user, flow)
        options = (
            Choice("resume", self.ui.in_(lang).resume_button),
            Choice("restart", self.ui.in_(lang).restart_button),
        )
        self._say(render_menu(self.ui.in_(lang).reflection_in_progress, options))
        self.menu = (options, self._resume_or_restart)
        return Reply(None, ())

    def _resume_or_restart(self, user: User, chosen: Choice) -> Reply | None:
        session = self.conversation.open_session(user, REFLECTION)
        if session is None:
            return self.conversation.start(user, REFLECTION)
        self.conversation.focus(user, session.id)
        if chosen.id == "restart":
            return self.conversation.handle(user, Restart())
        return self.conversation.resume(user)

    def _resume(self, user: User, lang: Lang) -> Reply:
        """/resume: the question in progress again (a paused reflection included)."""
        reply = self.conversation.resume(user)
        if reply.question is None:
            session = self.conversation.open_session(user, REFLECTION)
            if session is not None:
                reply = self.conversation.focus(user, session.id)
        if reply.question is None and self.services is not None:
            restored = self.services.journey.restore(user)  # the reflection dropped with /cancel
            if restored.question is not None:
                return restored
        if reply.question is None:
            self._say(self.ui.in_(lang).nothing_in_progress)
        else:
            self._say(self.ui.in_(lang).resumed)
        return reply

    def _choose(self, user: User, line: str) -> Reply | None:
        """The option of the waiting menu typed by number or by its words."""
        assert self.menu is not None
        options, action = self.menu
        chosen = _numbered(options, line) or next(
            (o for o in options if normalise(o.label) == normalise(line)), None
        )
        if chosen is None:
            count = {"count": str(len(options))}
            self._say("! " + fill(self.ui.in_(self._lang(user)).invalid_choice, count))
            return Reply(None, ())
        self.menu = None
        return action(user, chosen)

    def _after_safety(self, user: User, chosen: Choice) -> Reply | None:
        if chosen.id == PAUSE and self.team is not None and self.team.answering(user):
            # A team member pauses their answers (kept as they are), never the local user's
            # own conversation: the round's link, or /start, picks them up again.
            self._say(self.team.member_text(user, "member_paused"))
            return None
        if self.team is not None and self.team.answering(user):  # go on: the round's question
            return Reply(None, tuple(o for o in [self.team.question(user)] if o is not None))
        reply = self.conversation.after_safety(user, chosen.id)
        if chosen.id == PAUSE:
            self._show(reply, user)
            return None
        return reply

    def _set_language(self, user: User, chosen: Choice) -> Reply | None:
        lang: Lang = "en" if chosen.id == "en" else "fr"
        user = self.conversation.set_language(user, lang)
        self._say(self.ui.in_(lang).language_set)
        reply = self.conversation.resume(user)
        if reply.question is None and self.services is not None and user.onboarded_at:
            return self._home(user)  # nothing in progress: back to the home, in the new language
        return reply

    def _progress(self, user: User, lang: Lang) -> str:
        """The check-ins' figures, or why there are none here."""
        if self.services is None:
            return self.ui.in_(lang).checkin_terminal
        progress = self.services.checkins.progress(user)
        if not progress.moods and not progress.reflection_days:
            return self.ui.in_(lang).progress_empty
        return progress.summary(self.ui.in_(lang), lang)

    def _team_step(self, user: User, line: str) -> Reply | None:
        """The team round's commands, and a team member's answers; None for everything else."""
        team = self.team
        assert team is not None
        words = line.split()
        command = words[0].lower() if words else ""
        if command == "/start" and len(words) == 2 and words[1].startswith("team_"):
            joined = team.join(user, words[1])
            if joined.question is not None:
                return joined
            self._show(joined, user)  # a link refused (their own, closed, unknown)
            return self._where_left(user)
        if team.answering(user):
            if command in ("/help", "/start"):
                self._say(
                    team.help_text(user)
                    if command == "/help"
                    else self.ui.in_(self._lang(user)).resumed
                )
                return Reply(None, tuple(o for o in [team.question(user)] if o is not None))
            if command == "/forget":
                self._say(team.forget(user))
                return None
            if command == "/cancel":  # the answers in progress, not the local user's flow
                self._say(team.cancel(user) or "")
                return self.conversation.resume(user)
            if command in ("/pause", "/quit"):
                self._say(team.member_text(user, "member_paused"))
                return None
            if command[:1] == "/" and command[1:2].isalpha() and command not in COMMANDS:
                self._say(team.member_text(user, "member_other_command"))  # never an answer
                return Reply(None, tuple(o for o in [team.question(user)] if o is not None))
            event = COMMANDS.get(command, Answer(line))
            return team.handle(user, event)
        if command == "/forget" and words[1:] == ["team"]:
            self._say(team.forget(user))
            return self._where_left(user)
        if command != "/team":
            return None
        for message in team.due():  # no scheduler here: rounds close when the manager looks
            if message.manager.id == user.id:
                self._say("\n\n".join(message.texts))
                team.mark_sent(message)
        status = team.status(user)
        action = words[1].lower() if len(words) > 1 else ""
        if status is None and action == "extend":  # a closed round, too small to show
            last = team.last_closed(user)
            extended = team.extend(user, last.id) if last is not None else None
            self._say(extended or team.texts.not_yours.get(self._lang(user)))
            return self._where_left(user)
        if status is None:
            return team.start_setup(user)
        if action == "close":
            closed = team.close_early(user, status.round.id)
            if closed is not None:
                self._say("\n\n".join(closed.texts))
                team.mark_sent(closed)
        elif action == "extend":
            self._say(team.extend(user, status.round.id) or "")
        else:
            self._say(
                f"{status.text}\n/team close: {status.close_label} · /team extend: "
                f"{status.extend_label}"
            )
        return self._where_left(user)

    # --- the journey: home, /checkin, /commitments, /cancel ------------------------------------

    def _home(self, user: User) -> Reply:
        assert self.services is not None
        home: Home = self.services.journey.home(user, terminal=True)
        lines = [home.title] + [
            f"  {number}. {item.label}" for number, item in enumerate(home.items, start=1)
        ]
        self._say("\n".join(lines))
        self.menu = (tuple(Choice(item.action, item.label) for item in home.items), self._act)
        return Reply(None, ())

    def _journey_command(self, user: User, command: str) -> Reply | None:
        """The journey's commands, when the chat runs with its services."""
        if self.services is None:
            return None
        journey, lang = self.services.journey, self._lang(user)
        if command == "/home":
            return self._home(user)
        if command == "/checkin":
            self._say(journey.checkin_schedule(user) + "\n" + self.ui.in_(lang).checkin_terminal)
            return self.conversation.resume(user)
        if command == "/commitments":
            self._say(journey.commitments.listing(user))
            return self.conversation.resume(user)
        if command == "/cancel":
            asked = journey.cancel_question(user)
            if asked is None:
                self._say(self.ui.in_(lang).nothing_in_progress)
                return self.conversation.resume(user)
            question, choices = asked
            numbered = [f"  {n}. {label}" for n, (_, label) in enumerate(choices, start=1)]
            self._say("\n".join([question, *numbered]))
            self.menu = (tuple(Choice(action, label) for action, label in choices), self._cancel)
            return Reply(None, ())
        return None

    def _cancel(self, user: User, chosen: Choice) -> Reply:
        """The answer to /cancel's question: drop the flow in progress (a reflection can be
        brought back; one another flow interrupted comes back at once) or keep it."""
        assert self.services is not None
        self._say(self.services.journey.confirm_cancel(user, drop=chosen.id == "drop"))
        if chosen.id == "keep":
            return self.conversation.resume(user)
        back = self.conversation.return_to_reflection(user)
        if back.question is None and user.onboarded_at:
            self._show(back, user)
            return self._home(user)  # nothing else waits: the chat goes on, on the home
        return back

    def _act(self, user: User, chosen: Choice) -> Reply:
        """What a home item does in the terminal."""
        assert self.services is not None
        services, lang, action = self.services, self._lang(user), chosen.id
        if action == "resume":
            session = self.conversation.open_session(user, REFLECTION)
            return self.conversation.focus(user, session.id) if session else self._home(user)
        if action == "restore":
            return services.journey.restore(user)
        if action == "new":
            return self.conversation.start(user, REFLECTION)
        if action == "checkin":
            due = services.checkins.claim_today_for_terminal(user)
            if due is None:
                self._say(self.ui.in_(lang).checkin_already_done)
                return self._home(user)
            return services.checkins.start(due)
        if action == "history":
            self._say(self._history(user))
        elif action == "commitments":
            self._say(services.journey.commitments.listing(user))
        elif action == "progress":
            self._say(self._progress(user, lang))
        elif action == "settings":
            self._say(services.journey.settings_text(user))
            self._say(self.ui.in_(lang).checkin_terminal)
        return self._home(user)

    def _history(self, user: User) -> str:
        lang = self._lang(user)
        sessions = self.conversation.history(user)
        if not sessions:
            empty = self.ui.in_(lang).history_empty
            if self.conversation.open_session(user, REFLECTION) is None:
                return empty
            # one in progress: "type /reflect to start one" would be wrong, the rest is said
            kept = [part for part in SENTENCE.split(empty) if "/reflect" not in part]
            return " ".join(kept) if kept else empty
        parts = [self.ui.in_(lang).history_title]
        for row in sessions:
            summary = json.loads(row.summary or "{}")
            day = self.conversation.session_day_text(row, lang)
            parts.append(f"\n{day} · {summary.get('title', '')}")
            parts += [f"  • {line}" for line in summary.get("lines", [])]
        return "\n".join(parts)

    def _show(self, reply: Reply, user: User) -> None:
        lang = self._lang(self.conversation.user(user.key))
        offer = next((o for o in reply.outputs if isinstance(o, SafetyOffer)), None)
        for output in reply.outputs:
            if isinstance(output, Ask):
                self.shown = output
            if offer is not None and isinstance(output, Ask):
                continue  # the question comes back once the manager chose to go on
            text = render(output, self.ui, lang)
            if text:
                self._say(text)
        if offer is not None:
            self.menu = (offer.options, self._after_safety)

    def _lang(self, user: User) -> Lang:
        return self.conversation.language(user)

    def _say(self, text: str) -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()


def run_chat(
    conversation: Conversation,
    options: ChatOptions,
    opening: Reply | None = None,
    services: Services | None = None,
) -> int:
    """Run the terminal chat on the process's standard input and output."""
    return TerminalChat(conversation, options, sys.stdin, sys.stdout, opening, services).run()


def _numbered(options: tuple[Choice, ...], line: str) -> Choice | None:
    """The option whose number was typed, if a number in range was typed."""
    typed = line.strip()
    if not typed.isdigit() or len(typed) > MAX_NUMBER_CHARACTERS:
        return None
    index = int(typed)
    return options[index - 1] if 1 <= index <= len(options) else None


def _picked_by_number(question: Ask, line: str, shown: Ask | None = None) -> str | None:
    """The option id a number typed at a question picks: one of the choices shown instead of
    the usual options (the places or dates a typed answer may mean), the numbered skip choice
    after the options, or an option of a question whose numbers are not answers (times, zones)."""
    offered = shown is not None and (shown.step, shown.turn) == (question.step, question.turn)
    if offered and shown is not None and shown.options != question.options:
        chosen = _numbered(shown.options, line)
        if chosen is not None:
            return chosen.id
    skip_number = str(len(question.options) + 1)
    if question.options and question.skip is not None and line.strip() == skip_number:
        return SKIP_OPTION
    if question.kind in PICKED_BY_NUMBER:
        chosen = _numbered(question.options, line)
        return chosen.id if chosen is not None else None
    return None
