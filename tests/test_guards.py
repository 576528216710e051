"""The test suite's own guards: no connection leaves the machine, no test runs forever."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


def test_a_connection_beyond_loopback_is_refused():
    # pytest-socket also warns, and warnings are errors here: the test sees both.
    with pytest.warns(UserWarning, match="192.0.2.1"), pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1, never routed


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass


def test_every_test_has_a_time_limit(request: pytest.FixtureRequest):
    assert float(request.config.getini("timeout")) == 120
