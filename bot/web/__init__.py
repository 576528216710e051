"""The coach's web view: a Telegram Mini App that also opens in a desktop browser."""

from .access import LinkRefusal, WebAccess
from .app import WebServer, build_web_access, create_web_app, start_web

__all__ = [
    "LinkRefusal",
    "WebAccess",
    "WebServer",
    "build_web_access",
    "create_web_app",
    "start_web",
]
