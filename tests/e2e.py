"""End-to-end harness: the real bot over real HTTP against the fake Bot API on loopback.

A test reads like a chat: the manager sends /start, presses a button by its text, types an
answer, and waits for the bot's next message. The engine serves as the oracle for what the
next question should be, so a whole reflection can be walked whatever the playbook says.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import serve
from bot.bootstrap import Services, build_services, open_storage, system_clock
from bot.cli import web_side
from bot.clock import Clock
from bot.conversation import Conversation
from bot.flows.engine import advance, ask, start
from bot.flows.model import Playbook
from bot.flows.state import Answer, Ask, Done, Event, Pick, SessionState, Submit, Toggle
from bot.settings import Settings, load_settings
from storage.db import open_database

from .fakebotapi import ChatMessage, FakeBotApi, FakeUser

TOKEN = "123456789:TEST-token_for_rebond"
TICK = "✓"


@dataclass
class BotHarness:
    """A running bot, its fake Telegram, and a way to look into its database."""

    api: FakeBotApi
    settings: Settings
    conversation: Conversation
    services: Services

    @property
    def playbook(self) -> Playbook:
        return self.conversation.playbook

    def user(self, user_id: int, first_name: str = "Claire", language_code: str = "fr") -> FakeUser:
        return self.api.user(TOKEN, user_id, first_name, language_code=language_code)

    @property
    def fake_bot(self) -> Any:
        return self.api.bot(TOKEN)

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows from the bot's database, read through a separate connection."""
        db = open_database(self.settings.db_path)
        try:
            return list(db.query(sql, params or []))
        finally:
            db.close()


def bot_settings(api_url: str, db_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        telegram_bot_token=TOKEN,
        telegram_api_url=api_url,
        db_path=db_path,
        poll_timeout=1,
        **overrides,
    )


@contextlib.asynccontextmanager
async def bot_running(
    api: FakeBotApi, settings: Settings, clock: Clock = system_clock
) -> AsyncIterator[Services]:
    """The bot served in this event loop until the block ends (and the web view beside it
    when REBOND_WEB_URL is set, wired as `rebond run` wires it)."""
    db = open_storage(settings)
    services = build_services(settings, db, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, services, stop, web_side(settings, services)))
    try:
        ready = "setWebhook" if settings.webhook_url else "getUpdates"
        await api.bot(TOKEN).wait_for_call(ready, timeout=10)
        yield services
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        db.close()


@contextlib.asynccontextmanager
async def harness(
    tmp_path: Path, clock: Clock = system_clock, **overrides: Any
) -> AsyncIterator[BotHarness]:
    """A fake Telegram and the bot polling it, with a fresh database."""
    async with FakeBotApi() as api:
        settings = bot_settings(api.url, tmp_path / "bot.db", **overrides)
        async with bot_running(api, settings, clock) as services:
            yield BotHarness(api, settings, services.conversation, services)


def message_by_id(user: FakeUser, message_id: int) -> ChatMessage:
    return next(m for m in user.messages if m.message_id == message_id)


@dataclass
class Walk:
    """A manager's way through a flow, checked question by question against the engine."""

    user: FakeUser
    playbook: Playbook
    state: SessionState
    choose: Callable[[Ask], str] = field(default=lambda ask: "")
    last_seen: int = 0
    answered: list[str] = field(default_factory=list)

    async def question(self, expected: Ask) -> ChatMessage:
        """Wait for the bot's message showing this question."""

        def shown() -> ChatMessage | None:
            for message in reversed(self.user.messages):
                if message.message_id > self.last_seen and expected.prompt in (message.text or ""):
                    has_buttons = bool(message.button_texts)
                    # A question without options may carry another button (ask my team)
                    if has_buttons or not (expected.options or expected.skip):
                        return message
            return None

        message = await self.user.wait_until(shown, timeout=10)
        self.last_seen = message.message_id
        return message

    async def answer(self) -> None:
        """Answer the question in progress as `choose` says (an option label, or text)."""
        expected = ask(self.playbook, self.state)
        assert expected is not None
        message = await self.question(expected)
        choice = self.choose(expected)
        events: list[Event]
        if expected.kind == "multi_choice":
            option = next((o for o in expected.options if o.label == choice), expected.options[0])
            update = await self.user.press(message, option.label)
            await self.user.wait_for_answer(update)
            await self.user.wait_until(
                lambda: TICK in " ".join(message_by_id(self.user, message.message_id).button_texts)
            )
            fresh = message_by_id(self.user, message.message_id)
            confirm = fresh.button_texts[-1]
            await self.user.wait_for_answer(await self.user.press(fresh, confirm))
            events = [Toggle(option.id), Submit()]
        elif expected.options:
            option = next((o for o in expected.options if o.label == choice), expected.options[0])
            update = await self.user.press(message, option.label)
            callback = await self.user.wait_for_answer(update)
            assert not callback.text, f"button refused: {callback.text}"
            events = [Pick(option.id)]
        else:
            text = choice or ("3" if expected.kind == "number" else f"Réponse à {expected.step}")
            await self.user.send(text)
            events = [Answer(text)]
        # The bot edits an answered question with buttons to show the answer, and sends the
        # next message: either is the sign the answer was stored.
        await self.user.wait_until(
            lambda: (
                f"{TICK} " in (message_by_id(self.user, message.message_id).text or "")
                or self.user.messages[-1].message_id > message.message_id
            ),
            timeout=10,
        )
        self.answered.append(expected.step)
        for event in events:
            self.state, outputs = advance(self.playbook, self.state, event)
        self.done = next((o for o in outputs if isinstance(o, Done)), None)

    async def to_the_end(self) -> Done:
        """Answer every question until the flow ends; returns the engine's summary."""
        self.done: Done | None = None
        while not self.state.done:
            await self.answer()
        assert self.done is not None
        return self.done


def walk(
    user: FakeUser,
    playbook: Playbook,
    flow: str,
    lang: str,
    choose: Callable[[Ask], str] | None = None,
) -> Walk:
    """The engine's view of a flow the manager is about to go through."""
    state, _ = start(playbook, flow, "fr" if lang == "fr" else "en")
    return Walk(user, playbook, state, choose or (lambda ask: ""))
