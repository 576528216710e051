"""The terminal chat: the same conversation as on Telegram, over standard input and output.

Usage:
    rebond chat [--db PATH] [--lang fr|en] [--user NAME] [--flow ID]

Choices are numbered (type the number or the option's words), scales take a number. /back,
/skip, /restart, /pause, /quit, /history, /progress, /language and /help work; /checkin says
that check-ins come through Telegram or `rebond checkin`; any other /command is refused with
the list, and never taken as an answer. Ctrl-D or Ctrl-C saves and exits, and the next launch
resumes at the same question. Standard input may be a pipe, one answer per line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO, assert_never

from storage.repository import User

from .conversation import ONBOARDING, REFLECTION, Conversation, Reply
from .flows.engine import unknown_command
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
    from .checkins.service import CheckinService

COMMANDS: dict[str, Event] = {"/back": Back(), "/skip": Skip(), "/restart": Restart()}
TERMINAL_COMMANDS = (
    "/back",
    "/skip",
    "/restart",
    "/pause",
    "/quit",
    "/history",
    "/progress",
    "/language",
    "/checkin",
    "/help",
)
"""The commands the terminal knows (the Telegram-only ones, like /share, are refused here)."""
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
PICKED_BY_NUMBER = frozenset({"time", "timezone"})
"""Question kinds whose numbered options are picked by number ("2" is not 02:00 there)."""


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
    elif ask.kind == "yes_no":
        parts.append(" / ".join(option.label for option in ask.options))
    elif ask.options:
        for number, option in enumerate(ask.options, start=1):
            parts.append(f"  {number}. {option.label}")
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
        checkins: CheckinService | None = None,
    ) -> None:
        self.conversation = conversation
        self.options = options
        self.stdin = stdin
        self.stdout = stdout
        self.echo = not stdin.isatty()
        self.opening = opening
        """What to show first when the caller already started a flow (`rebond checkin`)."""
        self.checkins = checkins
        self.menu: tuple[tuple[Choice, ...], Callable[[User, Choice], Reply | None]] | None = None
        """Numbered options waiting for a choice (pause or go on, a language), and their action."""
        self.question: Ask | None = None

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
                reply = stepped
                self._show(reply, user)
        except KeyboardInterrupt:
            self._say("\n" + self.ui.in_(self._lang(user)).saved_and_exit)
        return 0

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
            if wanted not in self.conversation.playbook.flows:
                known = ", ".join(self.conversation.playbook.flows)
                raise SystemExit(f"rebond chat: unknown flow '{wanted}' (known: {known})")
            session = self.conversation.open_session(user, wanted)
            if session is not None:
                return self._resumed(user, self.conversation.focus(user, session.id))
            return self.conversation.start(user, wanted)
        reply = self.conversation.resume(user)
        if reply.question is not None:
            return self._resumed(user, reply)
        return self.conversation.start(user, REFLECTION if user.onboarded_at else ONBOARDING)

    def _resumed(self, user: User, reply: Reply) -> Reply:
        self._say(self.ui.in_(self._lang(user)).resumed)
        return reply

    def _step(self, user: User, line: str) -> Reply | None:
        if self.echo:
            self._say(f"> {line}")
        command = line.strip().lower()
        lang = self._lang(user)
        if self.menu is not None and not command.startswith("/"):
            return self._choose(user, line)
        self.menu = None
        if command.startswith("/") and command[1:2].isalpha():
            return self._command(user, command.split()[0], lang)
        question = self.question
        if question is not None and question.kind in PICKED_BY_NUMBER:
            chosen = _numbered(question.options, line)
            if chosen is not None:
                return self.conversation.handle(user, Pick(chosen.id))
        return self.conversation.handle(user, Answer(line))

    def _command(self, user: User, command: str, lang: Lang) -> Reply | None:
        """Run a slash command; none is ever sent to the engine as an answer."""
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
            self._history(user, lang)
        elif command == "/progress":
            self._progress(user, lang)
        elif command == "/checkin":
            self._say(self.ui.in_(lang).checkin_in_terminal)
        elif command == "/language":
            options = tuple(Choice(code, LANGUAGE_NAMES[code]) for code in LANGUAGES)
            self._say(render_menu(self.ui.in_(lang).language_prompt, options))
            self.menu = (options, self._set_language)
            return Reply(None, ())
        else:
            playbook = self.conversation.playbook
            self._say("! " + unknown_command(playbook, command, lang, TERMINAL_COMMANDS))
        return self.conversation.resume(user)

    def _choose(self, user: User, line: str) -> Reply | None:
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
        if chosen.id == PAUSE:
            self.conversation.pause(user)
            self._say(self.ui.in_(self._lang(user)).paused)
            return None
        return self.conversation.resume(user)

    def _set_language(self, user: User, chosen: Choice) -> Reply | None:
        lang: Lang = "en" if chosen.id == "en" else "fr"
        user = self.conversation.set_language(user, lang)
        self._say(self.ui.in_(lang).language_set)
        return self.conversation.resume(user)

    def _history(self, user: User, lang: Lang) -> None:
        sessions = self.conversation.history(user)
        if not sessions:
            self._say(self.ui.in_(lang).history_empty)
            return
        self._say(f"== {self.ui.in_(lang).history_title} ==")
        for row in sessions:
            summary = json.loads(row.summary or "{}")
            day = (row.completed_at or row.started_at)[:10]
            lines = [f"{day} · {summary.get('title', '')}"]
            lines += [f"  • {line}" for line in summary.get("lines", [])]
            self._say("\n".join(lines))

    def _progress(self, user: User, lang: Lang) -> None:
        if self.checkins is None:
            self._say(self.ui.in_(lang).checkin_in_terminal)
            return
        progress = self.checkins.progress(user)
        if not progress.moods and not progress.reflection_days:
            self._say(self.ui.in_(lang).progress_empty)
            return
        average = "-" if progress.average is None else f"{progress.average:.1f}"
        values = {
            "count": str(len(progress.moods)),
            "average": average,
            "streak": str(progress.streak),
        }
        self._say(fill(self.ui.in_(lang).progress_summary, values))

    def _show(self, reply: Reply, user: User) -> None:
        lang = self._lang(self.conversation.user(user.key))
        offer = next((o for o in reply.outputs if isinstance(o, SafetyOffer)), None)
        if reply.question is not None:
            self.question = reply.question
        for output in reply.outputs:
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
    checkins: CheckinService | None = None,
) -> int:
    """Run the terminal chat on the process's standard input and output."""
    return TerminalChat(conversation, options, sys.stdin, sys.stdout, opening, checkins).run()


def _numbered(options: tuple[Choice, ...], line: str) -> Choice | None:
    """The option whose number was typed, if a number in range was typed."""
    typed = line.strip()
    if not typed.isdigit() or len(typed) > MAX_NUMBER_CHARACTERS:
        return None
    index = int(typed)
    return options[index - 1] if 1 <= index <= len(options) else None
