"""The web view's sign-in: Telegram's initData, one-time /web links, sessions (refs #12)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from bot.settings import SettingsError, load_settings
from bot.web.access import LinkRefusal, WebAccess
from bot.web.initdata import InitDataError, verify_init_data
from storage import web as web_store

from .test_coach import COACH_TELEGRAM_ID, clock, person, services  # noqa: F401

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SIGNED_AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FIELDS = {
    "auth_date": "1795683600",  # 2026-11-26 09:00 UTC
    "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
    "user": '{"id":900,"first_name":"Camille","language_code":"fr"}',
}
# Computed once by hand (python -c with hmac/hashlib) from FIELDS and TOKEN, per Telegram's
# "Validating data received via the Mini App": it pins the algorithm, not our code's output.
FIELDS_HASH = "fc5856bb07655a7f44d31275c290c038c9c88dec34f33280b6b52fa7e36c68c5"


def telegram_sign(fields: dict[str, str], token: str) -> str:
    """initData as Telegram builds it, written here apart from bot/web/initdata.py."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    signature = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": signature})


def test_init_data_signed_by_telegram_is_accepted():
    init_data = urlencode({**FIELDS, "hash": FIELDS_HASH})
    assert telegram_sign(FIELDS, TOKEN) == init_data
    user = verify_init_data(init_data, TOKEN, SIGNED_AT)
    assert (user.id, user.first_name, user.language_code) == (900, "Camille", "fr")


def test_init_data_keeps_working_for_a_day_and_no_longer():
    init_data = telegram_sign(FIELDS, TOKEN)
    assert verify_init_data(init_data, TOKEN, datetime(2026, 11, 27, 9, 0, tzinfo=UTC)).id == 900
    with pytest.raises(InitDataError, match="more than a day old"):
        verify_init_data(init_data, TOKEN, datetime(2026, 11, 27, 9, 0, 1, tzinfo=UTC))
    with pytest.raises(InitDataError, match="future"):
        verify_init_data(init_data, TOKEN, datetime(2026, 11, 26, 8, 50, tzinfo=UTC))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.replace("%22id%22%3A900", "%22id%22%3A901"),  # another user
        lambda data: data.replace("auth_date=1795683600", "auth_date=1795683700"),  # fresher
        lambda data: data.replace(FIELDS_HASH[:8], "00000000"),  # another hash
        lambda data: data.split("&hash=")[0],  # no hash
        lambda data: data + "&extra=1",  # a field added
        lambda data: data + "&user=%7B%22id%22%3A901%7D",  # a field repeated
        lambda data: "not a query string",
        lambda data: "",
    ],
)
def test_tampered_init_data_is_refused(tamper):
    init_data = urlencode({**FIELDS, "hash": FIELDS_HASH})
    with pytest.raises(InitDataError):
        verify_init_data(tamper(init_data), TOKEN, SIGNED_AT)


def test_init_data_signed_with_another_bots_token_is_refused():
    other = telegram_sign(FIELDS, "654321:ZYX-another-bot-token")
    with pytest.raises(InitDataError, match="not signed with this bot's token"):
        verify_init_data(other, TOKEN, SIGNED_AT)


@pytest.fixture
def access(services, clock):  # noqa: F811
    return WebAccess(services.coach, "https://rebond.example/", clock, bot_token=TOKEN)


def token_of(url: str) -> str:
    assert url.startswith("https://rebond.example/login/")
    return url.rsplit("/", 1)[1]


def test_a_link_opens_one_session_once(services, access):  # noqa: F811
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    token = token_of(access.issue_link(coach))
    assert access.check_link(token).id == coach.id  # looking at it spends nothing
    session = access.open_link(token)
    assert isinstance(session, str)
    assert access.signed_in(session).coach.id == coach.id
    assert access.open_link(token) is LinkRefusal.USED
    assert access.check_link(token) is LinkRefusal.USED


def test_a_link_expires_after_ten_minutes(services, access, clock):  # noqa: F811
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    token = token_of(access.issue_link(coach))
    clock.advance(minutes=10, seconds=1)
    assert access.open_link(token) is LinkRefusal.EXPIRED


def test_a_forged_or_foreign_link_is_refused(services, access, clock):  # noqa: F811
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    token = token_of(access.issue_link(coach))
    assert access.open_link(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is (
        LinkRefusal.INVALID
    )
    assert access.open_link("nothing") is LinkRefusal.INVALID
    other_server = WebAccess(services.coach, "https://rebond.example", clock, secret="x" * 40)
    assert other_server.open_link(token) is LinkRefusal.INVALID
    manager = person(services, 1, "Ana")
    assert access.issue_link(manager) is None


def test_the_generated_secret_is_stored_once(services, clock):  # noqa: F811
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    first = WebAccess(services.coach, "https://rebond.example", clock)
    token = token_of(first.issue_link(coach))
    restarted = WebAccess(services.coach, "https://rebond.example", clock)
    assert isinstance(restarted.open_link(token), str)


def test_sessions_last_twelve_hours_and_logout_ends_them_all(services, access, clock):  # noqa: F811
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    laptop = access.open_link(token_of(access.issue_link(coach)))
    phone = access.sign_in_telegram(telegram_sign({**FIELDS}, TOKEN))
    assert access.signed_in(phone).coach.id == coach.id
    clock.advance(hours=11, minutes=59)
    assert access.signed_in(laptop) is not None
    assert access.end_sessions(coach) == 2
    assert access.signed_in(laptop) is None and access.signed_in(phone) is None
    again = access.open_link(token_of(access.issue_link(coach)))
    clock.advance(hours=12)
    assert access.signed_in(again) is None
    assert access.signed_in(None) is None and access.signed_in("made-up") is None


def test_a_coach_removed_from_the_list_loses_every_session(services, access, clock):  # noqa: F811
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    sessions = [access.open_link(token_of(access.issue_link(coach))) for _ in range(2)]
    services.coach.coach_ids = frozenset()  # as after a restart without them in REBOND_COACH_IDS
    assert access.signed_in(sessions[0]) is None
    services.coach.coach_ids = frozenset({COACH_TELEGRAM_ID})  # listed again: still signed out
    assert access.signed_in(sessions[1]) is None
    assert web_store.end_sessions(services.conversation.db, coach.id, "9999") == 0


def test_the_mini_app_signs_in_coaches_only(services, access):  # noqa: F811
    assert access.sign_in_telegram(telegram_sign(FIELDS, TOKEN)) is not None
    manager_fields = {**FIELDS, "user": '{"id":1,"first_name":"Ana"}'}
    assert access.sign_in_telegram(telegram_sign(manager_fields, TOKEN)) is None
    assert access.sign_in_telegram(telegram_sign(FIELDS, "654321:other")) is None
    without_token = WebAccess(services.coach, "https://rebond.example", access.clock)
    assert without_token.sign_in_telegram(telegram_sign(FIELDS, TOKEN)) is None


def test_session_tokens_are_stored_as_hashes_only(services, access):  # noqa: F811
    coach = person(services, COACH_TELEGRAM_ID, "Camille")
    session = access.open_link(token_of(access.issue_link(coach)))
    stored = [row["token_hash"] for row in services.conversation.db["web_sessions"].rows]
    assert session not in stored and hashlib.sha256(session.encode()).hexdigest() in stored


def test_web_settings_are_checked(tmp_path):
    settings = load_settings(
        db_path=tmp_path / "x.db", web_url="https://coach.example/rebond/", web_port="8081"
    )
    assert (settings.web_url, settings.web_port, settings.web_listen) == (
        "https://coach.example/rebond",
        8081,
        "127.0.0.1",
    )
    with pytest.raises(SettingsError, match=r"REBOND_WEB_URL: 'coach\.example' is not an http"):
        load_settings(db_path=tmp_path / "x.db", web_url="coach.example")
    with pytest.raises(SettingsError, match="REBOND_WEB_SECRET: use at least 32"):
        load_settings(db_path=tmp_path / "x.db", web_secret="short")
