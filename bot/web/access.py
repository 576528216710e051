"""Who may use the web view: one-time sign-in links, Mini App sign-in, sessions, CSRF tokens.

A coach gets in two ways: a one-time link the bot sends on /web (signed with itsdangerous,
valid 10 minutes, spent on first use), or Telegram's signed initData when they open the Mini
App. Either starts a session of 12 hours, kept in an HttpOnly cookie whose token is stored only
as a hash. Every request checks the session and that its user is still in REBOND_COACH_IDS;
a coach removed from the list loses every session at their next request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from storage import web as store
from storage.db import to_stored
from storage.repository import User

from ..clock import Clock
from ..coach.service import CoachService
from .initdata import InitDataError, verify_init_data

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
LINK_SALT = "rebond.web.link"


class LinkRefusal(Enum):
    """Why a sign-in link did not open a session (each has its own page)."""

    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    NOT_A_COACH = "not_a_coach"


@dataclass(frozen=True)
class SignedIn:
    """A request's verified coach and the session it came with."""

    coach: User
    session_id: int
    csrf: str


class WebAccess:
    """Sign-in links, sessions and CSRF tokens over the coach service's idea of a coach."""

    def __init__(
        self,
        coach: CoachService,
        base_url: str,
        clock: Clock,
        secret: str | None = None,
        bot_token: str | None = None,
    ) -> None:
        self.coach = coach
        self.db = coach.db
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.bot_token = bot_token
        key = secret or store.stored_secret(self.db, secrets.token_urlsafe(32), self._now())
        self._csrf_key = hmac.new(key.encode(), b"rebond.web.csrf", hashlib.sha256).digest()
        self._links = URLSafeTimedSerializer(key, salt=LINK_SALT, signer=_clock_signer(clock))

    def _now(self) -> str:
        return to_stored(self.clock())

    # --- one-time links (/web) -----------------------------------------------------------------

    def issue_link(self, coach: User) -> str | None:
        """A one-time sign-in URL for this coach, valid 10 minutes; None if they are no coach."""
        if not self.coach.is_coach(coach):
            return None
        now = self.clock()
        nonce = secrets.token_urlsafe(16)
        store.purge_expired(self.db, to_stored(now))
        store.create_link(self.db, nonce, coach.id, to_stored(now), to_stored(now + LINK_LIFETIME))
        token = self._links.dumps({"coach": coach.id, "nonce": nonce})
        log.info("web.link_issued coach=%s", coach.id)
        return f"{self.base_url}/login/{token}"

    def check_link(self, token: str) -> User | LinkRefusal:
        """The coach a link is for, if it can still be used (nothing spent)."""
        payload = self._link_payload(token)
        if isinstance(payload, LinkRefusal):
            return payload
        coach_id, nonce = payload
        state = store.link_state(self.db, nonce)
        if state is None or state["coach_id"] != coach_id:
            return LinkRefusal.INVALID
        if state["used_at"] is not None:
            return LinkRefusal.USED
        if state["expires_at"] <= self._now():
            return LinkRefusal.EXPIRED
        coach = self.coach.conversation.user_by_id(coach_id)
        return coach if self.coach.is_coach(coach) else LinkRefusal.NOT_A_COACH

    def open_link(self, token: str) -> str | LinkRefusal:
        """Spend the link and start a session: the session token for the cookie, or why not."""
        checked = self.check_link(token)
        if isinstance(checked, LinkRefusal):
            return checked
        payload = self._link_payload(token)
        assert not isinstance(payload, LinkRefusal)
        with self.db.atomic():
            if not store.use_link(self.db, payload[1], checked.id, self._now()):
                return LinkRefusal.USED  # spent by a concurrent request
            session = self._start_session(checked, "link")
        log.info("web.signed_in coach=%s via=link", checked.id)
        return session

    def _link_payload(self, token: str) -> tuple[int, str] | LinkRefusal:
        try:
            payload = self._links.loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
            return int(payload["coach"]), str(payload["nonce"])
        except SignatureExpired:
            return LinkRefusal.EXPIRED
        except (BadSignature, KeyError, TypeError, ValueError):
            return LinkRefusal.INVALID

    # --- Telegram Mini App ---------------------------------------------------------------------

    def sign_in_telegram(self, init_data: str) -> str | None:
        """A session token for the coach who opened the Mini App; None if the data is not
        Telegram's, is over a day old, or comes from someone who is not a coach."""
        if self.bot_token is None:
            return None
        try:
            sender = verify_init_data(init_data, self.bot_token, self.clock())
        except InitDataError as error:
            log.info("web.initdata_refused reason=%s", error)
            return None
        coach = self.coach.conversation.user(f"telegram:{sender.id}", sender.first_name)
        if not self.coach.is_coach(coach):
            log.info("web.not_a_coach user=%s", coach.id)
            return None
        with self.db.atomic():
            session = self._start_session(coach, "telegram")
        log.info("web.signed_in coach=%s via=telegram", coach.id)
        return session

    # --- sessions ------------------------------------------------------------------------------

    def _start_session(self, coach: User, via: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        store.create_session(
            self.db, _hash(token), coach.id, via, to_stored(now), to_stored(now + SESSION_LIFETIME)
        )
        return token

    def signed_in(self, token: str | None) -> SignedIn | None:
        """The coach behind a session cookie, checked against REBOND_COACH_IDS now; a user no
        longer listed has every session ended."""
        if not token:
            return None
        session = store.live_session(self.db, _hash(token), self._now())
        if session is None:
            return None
        coach = self.coach.conversation.user_by_id(session.coach_id)
        if not self.coach.is_coach(coach):
            ended = store.end_sessions(self.db, coach.id, self._now())
            log.info("web.sessions_ended coach=%s reason=not_a_coach sessions=%s", coach.id, ended)
            return None
        return SignedIn(coach, session.id, self.csrf_token(token))

    def end_sessions(self, coach: User) -> int:
        """/web logout: end every session of this coach, in every browser; how many."""
        ended = store.end_sessions(self.db, coach.id, self._now())
        log.info("web.sessions_ended coach=%s reason=logout sessions=%s", coach.id, ended)
        return ended

    def sign_out(self, signed: SignedIn) -> None:
        """End the session of this browser only."""
        store.end_session(self.db, signed.session_id, self._now())

    def csrf_token(self, session_token: str) -> str:
        """The token POST forms carry: bound to the session, useless without its cookie."""
        return hmac.new(self._csrf_key, session_token.encode(), hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clock_signer(clock: Clock) -> type[TimestampSigner]:
    """itsdangerous' timestamp signer on the injected clock (it reads time.time() otherwise)."""

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return ClockSigner
