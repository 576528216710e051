"""One clock: what storage writes is the service's time, so comparisons of times hold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.flows.state import Answer

from .helpers import FakeClock
from .test_checkins import send_due, services_at, set_up


def test_a_resumed_reflection_left_alone_no_longer_holds_the_checkin_back(tmp_path: Path):
    # Resuming wrote the wall clock into sessions.updated_at while the scheduler compared it
    # with the injected clock: the manager looked busy for ever and got no check-in.
    clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    services = services_at(tmp_path / "clock.db", clock)
    try:
        user = set_up(services, "ana")
        services.conversation.start(user, "lost_client")
        services.conversation.handle(user, Answer("Acme"))
        clock.advance(minutes=10)
        assert services.conversation.pause(user)
        services.conversation.resume(user)  # active again, at 07:10
        clock.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Paris, 50 min later
        assert send_due(services) == [user.key]
    finally:
        services.conversation.db.close()
