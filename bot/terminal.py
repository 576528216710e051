"""The terminal chat: the same conversation as on Telegram, over standard input and output.

Usage:
    rebond chat [--db PATH] [--lang fr|en] [--user NAME] [--flow ID]

Choices are numbered (type the number or the option's words), scales take a number. /back,
/skip, /pause, /quit and /help work; Ctrl-D or Ctrl-C saves and exits, and the next launch
resumes at the same question. Standard input may be a pipe, one answer per line.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO, assert_never

from storage.repository import User

from .conversation import ONBOARDING, REFLECTION, Conversation, Reply
from .flows.model import Lang, UiTexts
from .flows.state import (
    Answer,
    Ask,
    Back,
    Done,
    Event,
    Invalid,
    LanguageChanged,
    Output,
    Recorded,
    Restart,
    SafetyNote,
    Say,
    Skip,
)
from .userkey import UserKey

COMMANDS: dict[str, Event] = {"/back": Back(), "/skip": Skip(), "/restart": Restart()}


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
    ) -> None:
        self.conversation = conversation
        self.options = options
        self.stdin = stdin
        self.stdout = stdout
        self.echo = not stdin.isatty()
        self.opening = opening
        """What to show first when the caller already started a flow (`rebond checkin`)."""

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
            while reply.question is not None:
                if not self.echo:  # a person at a terminal: show where to type
                    self.stdout.write("> ")
                    self.stdout.flush()
                line = self.stdin.readline()
                if not line:
                    self._say(self.ui.saved_and_exit.get(self._lang(user)))
                    return 0
                user = self.conversation.user(user.key)
                stepped = self._step(user, line.rstrip("\n"))
                if stepped is None:
                    return 0
                reply = stepped
                self._show(reply, user)
        except KeyboardInterrupt:
            self._say("\n" + self.ui.saved_and_exit.get(self._lang(user)))
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
        self._say(self.ui.resumed.get(self._lang(user)))
        return reply

    def _step(self, user: User, line: str) -> Reply | None:
        if self.echo:
            self._say(f"> {line}")
        command = line.strip().lower()
        lang = self._lang(user)
        if command == "/help":
            self._say(self.ui.in_(lang).help_terminal)
            return self.conversation.resume(user)
        if command == "/pause":
            self.conversation.pause(user)
            self._say(self.ui.in_(lang).paused)
            return None
        if command == "/quit":
            self._say(self.ui.in_(lang).saved_and_exit)
            return None
        if command in COMMANDS:
            return self.conversation.handle(user, COMMANDS[command])
        return self.conversation.handle(user, Answer(line))

    def _show(self, reply: Reply, user: User) -> None:
        lang = self._lang(self.conversation.user(user.key))
        for output in reply.outputs:
            text = render(output, self.ui, lang)
            if text:
                self._say(text)

    def _lang(self, user: User) -> Lang:
        return self.conversation.language(user)

    def _say(self, text: str) -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()


def run_chat(conversation: Conversation, options: ChatOptions, opening: Reply | None = None) -> int:
    """Run the terminal chat on the process's standard input and output."""
    return TerminalChat(conversation, options, sys.stdin, sys.stdout, opening).run()
