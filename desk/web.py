"""HTTP routes and middleware the desk adds to the Streamlit server (server.py): the sign-in cookie,
and generated documents served only to the session they were made for."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from desk.database import make_engine
from desk.downloads import GRANTS, Decision
from desk.settings import Settings, load_settings
from desk.web_sessions import (
    COOKIE_NAME,
    LiveSession,
    end_session,
    redeem_ticket,
    resume,
    sign_token,
    signing_key,
    verify_cookie,
)

ESTABLISH_PATH = "/desk/session/establish"
END_PATH = "/desk/session/end"
MEDIA_PREFIX = "/media/"
REFUSED = "This document is available only to the signed-in session that generated it, for a few minutes."

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _get_engine(settings: Settings) -> Engine:
    # The script migrates the database on its first run; these routes are only reached after a sign-in.
    with _engines_lock:
        if settings.database_url not in _engines:
            _engines[settings.database_url] = make_engine(settings.database_url)
        return _engines[settings.database_url]


def safe_next(value: str | None) -> str:
    """A same-origin path (with its query) to return to; anything else becomes '/'."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def is_https(request: Request, settings: Settings) -> bool:
    """True for TLS to this server, or to a proxy that DESK_TRUSTED_PROXY says sets X-Forwarded-Proto."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return settings.trusted_proxy and forwarded == "https"


def live_session_of(request: Request, settings: Settings) -> LiveSession | None:
    """The live server session named by the request's cookie, if its signature is right."""
    token = verify_cookie(request.cookies.get(COOKIE_NAME), key=signing_key(settings))
    if token is None:
        return None
    return resume(_get_engine(settings), token=token, settings=settings)


async def establish(request: Request) -> Response:
    """Trade a one-time sign-in ticket for the session cookie, then go back to the page asked for."""
    settings = load_settings()
    target = safe_next(request.query_params.get("next"))
    ticket = request.query_params.get("ticket", "")
    token = await run_in_threadpool(redeem_ticket, _get_engine(settings), ticket=ticket)
    response = RedirectResponse(target if token else "/", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if token is not None:
        response.set_cookie(
            COOKIE_NAME,
            sign_token(token, key=signing_key(settings)),
            max_age=settings.session_max_hours * 3600,
            path="/",
            httponly=True,
            samesite="strict",
            secure=is_https(request, settings),
        )
    return response


async def end(request: Request) -> Response:
    """End the cookie's server session (if still live) and clear the cookie."""
    settings = load_settings()
    live = await run_in_threadpool(live_session_of, request, settings)
    if live is not None:
        await run_in_threadpool(end_session, _get_engine(settings), session_id=live.id, reason="user")
        GRANTS.revoke_session(web_session_id=live.id)
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=is_https(request, settings))
    return response


def routes() -> list[Route]:
    return [Route(ESTABLISH_PATH, establish, methods=["GET"]), Route(END_PATH, end, methods=["GET"])]


class MediaGuard:
    """In front of Streamlit's /media/: a live sign-in cookie is required; a generated document is served
    only to the session it was granted to, until its grant expires. Serving is not the audited event: the
    browser fetches a download button's file as soon as the button is drawn, so the page audits the click."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(MEDIA_PREFIX):
            await self.app(scope, receive, send)
            return
        settings = load_settings()
        request = Request(scope)
        live = await run_in_threadpool(live_session_of, request, settings)
        if live is None:
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
            return
        # Streamlit names media by file id plus extension (MemoryMediaFileStorage.get_file).
        name = str(scope["path"])[len(MEDIA_PREFIX):]
        file_id = name.split(".", 1)[0]
        decision, _grant = GRANTS.decide(file_id=file_id, web_session_id=live.id)
        if decision is Decision.REFUSED:
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)
