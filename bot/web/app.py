"""The coach's web view: an aiohttp application of server-rendered pages (Jinja2, autoescaped).

Usage (the Telegram process does this when REBOND_WEB_URL is set):
    access = build_web_access(settings, services)
    server = await start_web(settings, services, access)
    ...
    await server.stop()

Routes (under the path of REBOND_WEB_URL):
    GET  /                              the coach's managers
    GET  /managers/{link}               a manager's shared reflections and mood chart
    GET  /reflections/{session}         a reflection, the coach's notes, the note and feedback forms
    POST /reflections/{session}/notes   add a private note          (CSRF token)
    POST /reflections/{session}/feedback  send feedback to the manager  (CSRF token)
    GET  /login/{token}, POST /login/{token}  a one-time link from /web: check it, then spend it
    POST /auth/telegram                 the Mini App's signed initData -> session cookie
    POST /logout                        end this browser's session      (CSRF token)
"""

from __future__ import annotations

import errno
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ..bootstrap import Services
from ..settings import Settings
from ..startup import StartupError
from .access import SESSION_LIFETIME, LinkRefusal, SignedIn, WebAccess
from .pages import NOTE_LIMIT, Pages
from .texts import Texts

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'self' https://web.telegram.org"
)
ACCESS: web.AppKey[WebAccess] = web.AppKey("access", WebAccess)
PAGES: web.AppKey[Pages] = web.AppKey("pages", Pages)
ROOT: web.AppKey[str] = web.AppKey("root", str)
COOKIE: web.AppKey[str] = web.AppKey("cookie", str)
SECURE: web.AppKey[bool] = web.AppKey("secure", bool)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CoachHandler = Callable[[web.Request, SignedIn], Awaitable[web.StreamResponse]]


def build_web_access(settings: Settings, services: Services) -> WebAccess:
    """Sign-in links and sessions, on the services' clock: what /web, /web logout and the web
    server share."""
    if settings.web_url is None:
        raise ValueError("REBOND_WEB_URL is not set")
    token = settings.telegram_bot_token
    secret = settings.web_secret
    return WebAccess(
        services.coach,
        settings.web_url,
        services.coach.clock,
        secret.get_secret_value() if secret is not None else None,
        token.get_secret_value() if token is not None else None,
    )


def create_web_app(settings: Settings, services: Services, access: WebAccess) -> web.Application:
    """The web view's application; serve it with `start_web` (or a test client)."""
    assert settings.web_url is not None
    root = urlsplit(settings.web_url).path.rstrip("/")
    secure = settings.web_url.startswith("https://")
    app = web.Application(middlewares=[_security_headers], client_max_size=64 * 1024)
    app[ACCESS] = access
    app[PAGES] = Pages(services)
    app[ROOT] = root
    app[SECURE] = secure
    # The __Host- prefix makes browsers refuse the cookie unless Secure, on "/", with no Domain.
    app[COOKIE] = "__Host-rebond" if secure and not root else "rebond"
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get(f"{root}/", _coach(_managers))
    app.router.add_get(root + r"/managers/{link:\d{1,18}}", _coach(_manager))
    app.router.add_get(root + r"/reflections/{session:\d{1,18}}", _coach(_reflection))
    app.router.add_post(root + r"/reflections/{session:\d{1,18}}/notes", _coach(_add_note))
    app.router.add_post(root + r"/reflections/{session:\d{1,18}}/feedback", _coach(_feedback))
    app.router.add_get(root + "/login/{token}", _login_page)
    app.router.add_post(root + "/login/{token}", _login)
    app.router.add_post(f"{root}/auth/telegram", _telegram_sign_in)
    app.router.add_post(f"{root}/logout", _coach(_logout))
    app.router.add_static(f"{root}/static/", HERE / "static")
    return app


class WebServer:
    """The running web view: `await server.stop()` to end it."""

    def __init__(self, runner: web.AppRunner) -> None:
        self.runner = runner

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        await self.runner.cleanup()
        log.info("web.stopped")


async def start_web(settings: Settings, services: Services, access: WebAccess) -> WebServer:
    """Serve the web view on REBOND_WEB_LISTEN:REBOND_WEB_PORT until `stop()`; StartupError
    if the port is taken."""
    runner = web.AppRunner(create_web_app(settings, services, access), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.web_listen, settings.web_port).start()
    except OSError as error:
        await runner.cleanup()
        if error.errno != errno.EADDRINUSE:
            raise
        raise StartupError(
            f"the web view's port {settings.web_listen}:{settings.web_port} is already in use: "
            "stop the other server, or set REBOND_WEB_PORT to a free port and point the reverse "
            "proxy at it"
        ) from None
    # Never the URL of a request: a sign-in link's token is in its path.
    log.info("web.started listen=%s port=%s", settings.web_listen, settings.web_port)
    return WebServer(runner)


# --- middleware and helpers --------------------------------------------------------------------


@web.middleware
async def _security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = _page(request, _anonymous_texts(request), 404, "not_found_title", "not_found")
    except web.HTTPException as error:  # redirects, 405, 413: raised, as aiohttp wants
        _harden(error)
        raise
    _harden(response)
    return response


def _harden(response: web.StreamResponse | web.HTTPException) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # a sign-in token never leaves in a Referer
    response.headers["Cache-Control"] = "no-store"


def _render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A template with the path prefix every link needs (not a context processor: those store
    a plain string key on the request, which aiohttp warns about)."""
    return aiohttp_jinja2.render_template(
        template, request, {**context, "root": request.app[ROOT]}, status=status
    )


def _coach(handler: CoachHandler) -> Handler:
    """The handler for a verified coach; others get the sign-in page (401)."""

    async def checked(request: web.Request) -> web.StreamResponse:
        signed = request.app[ACCESS].signed_in(request.cookies.get(request.app[COOKIE]))
        if signed is None:
            texts = _anonymous_texts(request)
            response = _render(request, "signin.html", {"t": texts, "signed": None}, status=401)
            response.del_cookie(request.app[COOKIE], path="/")
            return response
        if request.method == "POST":
            form = await request.post()
            if not hmac.compare_digest(str(form.get("csrf", "")), signed.csrf):
                texts = request.app[PAGES].texts(signed.coach)
                return _page(request, texts, 403, "csrf_title", "csrf", signed)
        return await handler(request, signed)

    return checked


def _anonymous_texts(request: web.Request) -> Texts:
    """French unless the browser prefers English (no coach known yet)."""
    preferred = request.headers.get("Accept-Language", "").strip().lower()
    return Texts("en" if preferred.startswith("en") else "fr")


def _page(
    request: web.Request,
    texts: Texts,
    status: int,
    title: str,
    message: str,
    signed: SignedIn | None = None,
) -> web.Response:
    """A page of one message (refused link, not found, expired form, signed out)."""
    context = {"t": texts, "signed": signed, "title": texts(title), "message": texts(message)}
    return _render(request, "message.html", context, status=status)


def _not_found(request: web.Request, signed: SignedIn) -> web.Response:
    texts = request.app[PAGES].texts(signed.coach)
    return _page(request, texts, 404, "not_found_title", "not_found", signed)


# --- pages ---------------------------------------------------------------------------------------


async def _managers(request: web.Request, signed: SignedIn) -> web.StreamResponse:
    pages = request.app[PAGES]
    context = {"t": pages.texts(signed.coach), "signed": signed}
    context["managers"] = pages.managers(signed.coach)
    return _render(request, "managers.html", context)


async def _manager(request: web.Request, signed: SignedIn) -> web.StreamResponse:
    pages = request.app[PAGES]
    everything = request.query.get("all") == "1"
    page = pages.manager(signed.coach, int(request.match_info["link"]), everything)
    if page is None:
        return _not_found(request, signed)
    context = {"t": pages.texts(signed.coach), "signed": signed, "page": page}
    context["link_id"] = int(request.match_info["link"])
    return _render(request, "manager.html", context)


async def _reflection(request: web.Request, signed: SignedIn) -> web.StreamResponse:
    pages = request.app[PAGES]
    page = pages.reflection(signed.coach, int(request.match_info["session"]))
    if page is None:
        return _not_found(request, signed)
    texts = pages.texts(signed.coach)
    done = request.query.get("done")
    error = request.query.get("error")
    context = {
        "t": texts,
        "signed": signed,
        "page": page,
        "form_key": secrets.token_urlsafe(12),  # one per form shown: a resubmission adds nothing
        "limit": NOTE_LIMIT,
        "done": done if done in ("note_saved", "feedback_sent") else None,
        "error": texts("too_long", limit=NOTE_LIMIT)
        if error == "too_long"
        else texts.empty_text
        if error == "empty_text"
        else None,
    }
    return _render(request, "reflection.html", context)


async def _add_note(request: web.Request, signed: SignedIn) -> web.StreamResponse:
    return await _write(request, signed, "note")


async def _feedback(request: web.Request, signed: SignedIn) -> web.StreamResponse:
    return await _write(request, signed, "feedback")


async def _write(request: web.Request, signed: SignedIn, kind: str) -> web.StreamResponse:
    """A note or a feedback from the reflection page, then back to it (post/redirect/get)."""
    session_id = int(request.match_info["session"])
    form = await request.post()
    text = str(form.get("text", "")).strip()
    key = f"web:{kind}:{signed.coach.id}:{str(form.get('key', ''))[:32]}"
    coach = request.app[PAGES].coach
    back = f"{request.app[ROOT]}/reflections/{session_id}"
    if coach.read_allowed(signed.coach, session_id) is None:
        return _not_found(request, signed)
    if not text or len(text) > NOTE_LIMIT:
        error = "empty_text" if not text else "too_long"
        raise web.HTTPSeeOther(f"{back}?error={error}#{kind}")
    if kind == "note":
        coach.note(signed.coach, session_id, text, key)
        raise web.HTTPSeeOther(f"{back}?done=note_saved#notes")
    # Recorded for delivery: the bot sends it to the manager as it does /feedback's.
    coach.feedback(signed.coach, session_id, text, key)
    log.info("web.feedback coach=%s session=%s", signed.coach.id, session_id)
    raise web.HTTPSeeOther(f"{back}?done=feedback_sent#feedback")


async def _logout(request: web.Request, signed: SignedIn) -> web.StreamResponse:
    request.app[ACCESS].sign_out(signed)
    texts = request.app[PAGES].texts(signed.coach)
    response = _page(request, texts, 200, "sign_out", "signed_out")
    response.del_cookie(request.app[COOKIE], path="/")
    return response


# --- signing in ----------------------------------------------------------------------------------


async def _login_page(request: web.Request) -> web.StreamResponse:
    """Check a /web link without spending it: link previews fetch it too."""
    access = request.app[ACCESS]
    checked = access.check_link(request.match_info["token"])
    if isinstance(checked, LinkRefusal):
        return _refused(request, checked)
    texts = request.app[PAGES].texts(checked)
    context = {"t": texts, "signed": None, "token": request.match_info["token"]}
    return _render(request, "login.html", context)


async def _login(request: web.Request) -> web.StreamResponse:
    """Spend a /web link: a session cookie and the managers page, or a clear refusal."""
    opened = request.app[ACCESS].open_link(request.match_info["token"])
    if isinstance(opened, LinkRefusal):
        return _refused(request, opened)
    response = web.HTTPSeeOther(f"{request.app[ROOT]}/")
    _set_cookie(request, response, opened)
    raise response


async def _telegram_sign_in(request: web.Request) -> web.StreamResponse:
    """The Mini App posts Telegram's initData here (see static/miniapp.js)."""
    init_data = await request.text()
    opened = request.app[ACCESS].sign_in_telegram(init_data)
    if opened is None:
        return web.Response(status=403, text="refused")
    response = web.Response(status=204)
    _set_cookie(request, response, opened)
    return response


def _set_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        request.app[COOKIE],
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        secure=request.app[SECURE],
        samesite="Strict",
    )


def _refused(request: web.Request, refusal: LinkRefusal) -> web.Response:
    texts = _anonymous_texts(request)
    return _page(request, texts, 403, "refused_title", f"link_{refusal.value}")
