"""The desk's HTTP routes and /media/ guard, called as the ASGI server calls them, on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from desk.auth import CurrentUser, as_current_user
from desk.database import unit_of_work
from desk.downloads import GRANTS, Decision, DownloadGrants
from desk.models import AuditEvent, WebSession, utcnow
from desk.web import MediaGuard, routes, safe_next
from desk.web_sessions import COOKIE_NAME, end_session, redeem_ticket, sign_token, start_session
from tests.factories import make_user

KEY = "route-test-key"


async def _document(request: Request) -> Response:
    # Stands in for Streamlit's own /media/ route behind the guard.
    return Response(b"%PDF-document", media_type="application/pdf")


APP = Starlette(routes=[*routes(), Route("/media/{name}", _document)], middleware=[Middleware(MediaGuard)])


def call(path: str, *, query: str = "", cookie: str | None = None, scheme: str = "http",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookie is not None:
        raw.append((b"cookie", f"{COOKIE_NAME}={cookie}".encode()))
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": scheme,
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "headers": raw,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8501), "root_path": "",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(APP(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    found: dict[str, list[str]] = {}
    for name, value in start["headers"]:
        found.setdefault(name.decode().lower(), []).append(value.decode())
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), found, body


@pytest.fixture
def user(engine: Engine, db_url: str, fast_hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch) -> CurrentUser:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DESK_SECRET_KEY", KEY)
    monkeypatch.setenv("DESK_DEMO", "0")
    monkeypatch.delenv("DESK_TRUSTED_PROXY", raising=False)
    with unit_of_work(engine, actor="tester") as session:
        return as_current_user(make_user(session, hasher=fast_hasher))


def _cookie_for(engine: Engine, user: CurrentUser) -> tuple[int, str]:
    started = start_session(engine, user=user)
    token = redeem_ticket(engine, ticket=started.ticket)
    assert token is not None
    return started.id, sign_token(token, key=KEY.encode())


def test_establish_sets_a_strict_http_only_cookie_once_and_returns_to_the_page(
    engine: Engine, user: CurrentUser
) -> None:
    started = start_session(engine, user=user)
    status, headers, _ = call("/desk/session/establish",
                              query=f"ticket={started.ticket}&next=%2Fprior_auth%3Fcase%3D7")
    assert status == 303 and headers["location"] == ["/prior_auth?case=7"]
    [cookie] = headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes and "secure" not in attributes
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    with Session(engine) as session:
        row = session.get(WebSession, started.id)
    assert row is not None and row.token_hash is not None and row.ticket_hash is None
    # The ticket is spent: a second visit gets no cookie.
    status, headers, _ = call("/desk/session/establish", query=f"ticket={started.ticket}&next=%2Fpatients")
    assert status == 303 and headers["location"] == ["/"] and "set-cookie" not in headers


def test_cookie_is_secure_over_tls_and_behind_a_trusted_proxy_only(
    engine: Engine, user: CurrentUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    def secure(**kwargs: Any) -> bool:
        started = start_session(engine, user=user)
        _, headers, _ = call("/desk/session/establish", query=f"ticket={started.ticket}", **kwargs)
        return "secure" in headers["set-cookie"][0].lower()

    forwarded = {"X-Forwarded-Proto": "https"}
    assert secure(scheme="https")
    assert not secure(headers=forwarded)
    monkeypatch.setenv("DESK_TRUSTED_PROXY", "1")
    assert secure(headers=forwarded)
    assert not secure()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x",
                                    "prior_auth", "/a\r\nSet-Cookie: x=1", ""])
def test_only_a_same_origin_path_is_a_return_address(target: str) -> None:
    assert safe_next(target) == "/"
    assert safe_next("/prior_auth?case=3&tab=files") == "/prior_auth?case=3&tab=files"


def test_end_route_ends_the_session_and_clears_the_cookie(engine: Engine, user: CurrentUser) -> None:
    session_id, cookie = _cookie_for(engine, user)
    status, headers, _ = call("/desk/session/end", query="next=%2F%3Fsigned_out%3Didle", cookie=cookie)
    assert status == 303 and headers["location"] == ["/?signed_out=idle"]
    [cleared] = headers["set-cookie"]
    assert cleared.startswith(f"{COOKIE_NAME}=") and "max-age=0" in cleared.lower()
    with Session(engine) as session:
        row = session.get(WebSession, session_id)
    assert row is not None and row.ended_at is not None and row.end_reason == "user"


def test_media_needs_a_live_signed_cookie_and_a_document_goes_only_to_its_session(
    engine: Engine, user: CurrentUser, fast_hasher: PasswordHasher
) -> None:
    owner_id, owner_cookie = _cookie_for(engine, user)
    with unit_of_work(engine, actor="tester") as session:
        other = as_current_user(make_user(session, hasher=fast_hasher))
    _, other_cookie = _cookie_for(engine, other)
    GRANTS.grant(file_id="aa11", web_session_id=owner_id, kind="pa_generated_file", record_id="42", minutes=10)

    assert call("/media/aa11.pdf")[0] == 403
    token, signature = owner_cookie.split(".")
    assert call("/media/aa11.pdf", cookie=f"{token}x.{signature}")[0] == 403
    assert call("/media/aa11.pdf", cookie=sign_token(token, key=b"guessed key"))[0] == 403
    assert call("/media/aa11.pdf", cookie=other_cookie)[0] == 403
    status, _, body = call("/media/aa11.pdf", cookie=owner_cookie)
    assert (status, body) == (200, b"%PDF-document")
    # A file the desk did not register (an image) is served to any live session, never without one.
    assert call("/media/bb22.png", cookie=other_cookie)[0] == 200
    with Session(engine) as session:
        served = session.exec(select(AuditEvent).where(AuditEvent.action == "download")).all()
    assert served == [], "a page fetches its buttons' files when drawn: serving one is no download (the click is)"

    end_session(engine, session_id=owner_id, reason="user")
    GRANTS.revoke_session(web_session_id=owner_id)
    assert call("/media/aa11.pdf", cookie=owner_cookie)[0] == 403
    assert call("/media/aa11.pdf", cookie=other_cookie)[0] == 403


def test_a_grant_expires_and_stays_refused() -> None:
    grants = DownloadGrants()
    now = utcnow()
    grants.grant(file_id="f", web_session_id=1, kind="k", record_id="1", minutes=10, now=now)
    assert grants.decide(file_id="f", web_session_id=1, now=now + timedelta(minutes=9))[0] is Decision.ALLOWED
    assert grants.decide(file_id="f", web_session_id=2, now=now)[0] is Decision.REFUSED
    assert grants.decide(file_id="f", web_session_id=1, now=now + timedelta(minutes=10))[0] is Decision.REFUSED
    # Pruning on a later grant keeps the expired one refused (it does not become an unregistered file).
    grants.grant(file_id="g", web_session_id=1, kind="k", record_id="2", minutes=10, now=now + timedelta(hours=1))
    assert grants.decide(file_id="f", web_session_id=2, now=now + timedelta(hours=1))[0] is Decision.REFUSED
    assert grants.decide(file_id="new", web_session_id=2, now=now)[0] is Decision.NOT_REGISTERED
    grants.revoke_session(web_session_id=1)
    assert grants.decide(file_id="g", web_session_id=1, now=now + timedelta(hours=1))[0] is Decision.REFUSED
