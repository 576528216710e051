"""UserKey: the `telegram:<id>` / `terminal:<name>` key built and read in one place."""

from __future__ import annotations

import pytest

from bot.userkey import UserKey


def test_built_keys_are_the_stored_strings():
    assert UserKey.telegram(42) == "telegram:42"
    assert UserKey.terminal("ana") == "terminal:ana"
    assert isinstance(UserKey.telegram(42), str)


def test_reading_a_key_back():
    key = UserKey.parse("telegram:42")
    assert (key.channel, key.telegram_id) == ("telegram", 42)
    assert UserKey.parse("terminal:ana").telegram_id is None


@pytest.mark.parametrize(
    ("typed", "key"),
    [("42", "telegram:42"), ("ana", "terminal:ana"), ("terminal:bob", "terminal:bob")],
)
def test_what_an_operator_types(typed: str, key: str):
    assert UserKey.from_typed(typed) == key


@pytest.mark.parametrize("bad", ["", "42", "telegram:", "telegram:abc", "fax:1", ":x"])
def test_malformed_keys_are_refused_with_the_expected_shape(bad: str):
    with pytest.raises(ValueError, match="telegram:"):
        UserKey.parse(bad)
