"""Running the fake server in a background thread, for synchronous tests and benchmarks."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .server import FakeBotApi
from .state import FakeBot
from .user import FakeUser

T = TypeVar("T")


class ThreadedFakeBotApi:
    """A FakeBotApi on its own event loop in a daemon thread.

    ``bot()`` and ``user()`` return proxies whose methods block until the server loop has
    run them, so a synchronous test reads the same as an async one without ``await``::

        with FakeBotApi.start_in_thread() as api:
            claire = api.user(TOKEN, 42)
            claire.send("/start")
            print(claire.next_message(timeout=5).text)
    """

    def __init__(self, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fakebotapi", daemon=True
        )
        self._thread.start()
        self.api = FakeBotApi(**kwargs)
        self.run(self.api.start())

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the server loop and wait for its result."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("blocking call from the server thread itself would deadlock")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a plain function on the server loop (state is only touched from there)."""

        async def invoke() -> T:
            return function(*args, **kwargs)

        return self.run(invoke())

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT"""
        return self.api.url

    @property
    def base_url(self) -> str:
        """PTB base_url."""
        return self.api.base_url

    @property
    def base_file_url(self) -> str:
        """PTB base_file_url."""
        return self.api.base_file_url

    def bot(self, token: str, **kwargs: Any) -> Any:
        """Blocking proxy to ``FakeBotApi.bot``."""
        return SyncProxy(self, self.call(self.api.bot, token, **kwargs))

    def user(self, token: str, *args: Any, **kwargs: Any) -> Any:
        """Blocking proxy to ``FakeBotApi.user``."""
        return SyncProxy(self, self.call(self.api.user, token, *args, **kwargs))

    def stop(self) -> None:
        """Stop the server, its loop and its thread."""
        if self._loop.is_closed():
            return
        self.run(self.api.stop())
        self.run(self._loop.shutdown_default_executor())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> ThreadedFakeBotApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class SyncProxy:
    """Blocking view of a FakeBot or FakeUser living on the server loop."""

    def __init__(self, runner: ThreadedFakeBotApi, target: Any) -> None:
        object.__setattr__(self, "_runner", runner)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        runner: ThreadedFakeBotApi = self._runner
        # Properties are evaluated on the loop thread, like everything touching state.
        value = runner.call(getattr, self._target, name)
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: self._wrap(runner.run(value(*args, **kwargs)))
        if inspect.ismethod(value):
            return lambda *args, **kwargs: self._wrap(runner.call(value, *args, **kwargs))
        return self._wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        self._runner.call(setattr, self._target, name, value)

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, FakeBot | FakeUser):
            return SyncProxy(self._runner, value)
        return value

    def __repr__(self) -> str:
        return f"<sync {self._target!r}>"
