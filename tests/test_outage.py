"""Answers while the database is unreachable, and for bodies that cannot be parsed: always
problem+json, never a bare 500 (issue 10; R-SEC-06 monitoring relies on coded answers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from medcard.adapters import Adapters
from medcard.app import create_app
from medcard.config import Settings
from tests.csrf import form_token

PROBLEM = "application/problem+json"
UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:9/medcard_unreachable"


@pytest.fixture
async def cut_off(settings: Settings, adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database refuses connections (nothing listens on the port)."""
    app = create_app(settings.model_copy(update={"database_url": UNREACHABLE}), adapters)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.engine.dispose()


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0


async def test_database_refused_is_503_problem_json_with_retry_after(cut_off: httpx.AsyncClient) -> None:
    """Connection refused → 503 problem+json with Retry-After on the API, a 503 page on pages."""
    api = await cut_off.post("/api/v1/auth/staff", json={"username": "cashier1", "password": "x"})
    _unavailable(api)
    assert api.headers["content-type"] == PROBLEM and api.json()["code"] == "SERVICE_UNAVAILABLE"
    assert api.json()["title_zh"] and api.json()["hint_zh"]
    token = await form_token(cut_off, "/console/login")  # the login page needs no database
    page = await cut_off.post("/console/login", data={"username": "cashier1", "password": "x", "csrf_token": token})
    _unavailable(page)
    assert page.headers["content-type"].startswith("text/html") and "系统暂时不可用" in page.text


async def test_readiness_checks_the_database_and_liveness_does_not(cut_off: httpx.AsyncClient) -> None:
    """/readyz is 503 while the database is unreachable; /healthz stays 200 (cheap liveness)."""
    assert (await cut_off.get("/healthz")).status_code == 200
    ready = await cut_off.get("/readyz")
    _unavailable(ready)
    assert ready.json()["code"] == "SERVICE_UNAVAILABLE"


async def test_readiness_is_ok_with_the_database_up(client: httpx.AsyncClient, app: Any) -> None:
    """/readyz answers 200 with the database up, even while a test transaction holds the lock."""
    ready = await client.get("/readyz")
    await app.state.engine.dispose()
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "\xff\xfe", "password": "x"}',
        b"[" * 20_000 + b"]" * 20_000,  # deep, yet under the 64 KiB body limit
        b'{"username": ' * 3_000 + b"1" + b"}" * 3_000,
        b"not json at all",
    ],
    ids=["invalid-utf8", "deep-array", "deep-object", "not-json"],
)
async def test_malformed_bodies_answer_problem_json(client: httpx.AsyncClient, body: bytes) -> None:
    """Invalid UTF-8 and absurd nesting are refused as problem+json (400 or 422), not a bare error."""
    response = await client.post("/api/v1/auth/staff", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] in ("MALFORMED_BODY", "MALFORMED_REQUEST")


async def test_unknown_api_route_is_problem_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


async def test_an_unexpected_error_is_a_500_problem_not_bare_text(settings: Settings, adapters: Adapters) -> None:
    """A bug answers 500 problem+json with a stable code (the traceback stays in the server log);
    a database outage wrapped in another exception is still recognised as a 503."""
    app = create_app(settings, adapters)

    async def boom() -> None:
        raise RuntimeError("a bug")

    async def wrapped_outage() -> None:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused:
            raise RuntimeError("while loading") from refused

    app.add_api_route("/api/v1/test-boom", boom)
    app.add_api_route("/api/v1/test-wrapped-outage", wrapped_outage)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        bug = await client.get("/api/v1/test-boom")
        outage = await client.get("/api/v1/test-wrapped-outage")
    await app.state.engine.dispose()
    assert bug.status_code == 500 and bug.headers["content-type"] == PROBLEM
    assert bug.json()["code"] == "INTERNAL_ERROR" and "a bug" not in bug.text
    _unavailable(outage)
    assert outage.json()["code"] == "SERVICE_UNAVAILABLE"
