"""Request bodies are capped per route before they are read (R-SEC-08: availability of the
service; a 300 MB anonymous JSON post took the server from 164 MB to 1.3 GB)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.config import Settings
from medcard.guards.body_limit import DEFAULT_LIMIT, MARGIN
from medcard.models import LoginFailure

CHUNK = 64 * 1024
HUGE = 300 * 1024 * 1024


class Body:
    """A streamed request body that counts how much of it the server pulled."""

    def __init__(self, total: int, prefix: bytes = b'{"code": "oc.') -> None:
        self.total = total
        self.prefix = prefix
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            chunk = (self.prefix if sent == 0 else b"") + b"x" * CHUNK
            chunk = chunk[: self.total - sent]
            self.pulled += len(chunk)
            sent += len(chunk)
            yield chunk


async def _failures(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(LoginFailure))).scalar_one())


async def test_r_sec_08_a_declared_oversized_json_body_is_refused_unread(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    body = Body(HUGE)
    refused = await client.post(
        "/api/v1/auth/oauth",
        content=body,  # type: ignore[arg-type]
        headers={"Content-Type": "application/json", "Content-Length": str(HUGE)},
    )
    assert refused.status_code == 413 and refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "BODY_TOO_LARGE" and "64 KB" in problem["title"] and "64 KB" in problem["title_zh"]
    assert body.pulled <= CHUNK  # never read (the transport may pre-pull one chunk)
    assert await _failures(db) == 0  # the login handler, which counts a forged code, never ran


async def test_r_sec_08_a_chunked_oversized_json_body_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    body = Body(HUGE)
    refused = await client.post("/api/v1/auth/oauth", content=body, headers={"Content-Type": "application/json"})  # type: ignore[arg-type]
    assert refused.status_code == 413 and refused.json()["code"] == "BODY_TOO_LARGE"
    assert body.pulled <= DEFAULT_LIMIT + 2 * CHUNK  # stopped at the limit, not 300 MB later
    assert await _failures(db) == 0


async def test_r_sec_08_the_handler_is_never_reached_over_the_limit(app: Any, client: httpx.AsyncClient) -> None:
    """A route of the app's own stack (a sink that records each call) sees neither body."""
    calls: list[int] = []

    @app.post("/api/v1/test-sink")
    async def sink(body: dict[str, Any]) -> dict[str, int]:
        calls.append(len(body))
        return {"ok": 1}

    small = await client.post("/api/v1/test-sink", json={"a": "x" * 100})
    assert small.status_code == 200 and calls == [1]
    declared = await client.post("/api/v1/test-sink", content=b'{"a": "' + b"x" * DEFAULT_LIMIT + b'"}')
    chunked = await client.post("/api/v1/test-sink", content=Body(DEFAULT_LIMIT + 10, b'{"a": "'))  # type: ignore[arg-type]
    assert declared.status_code == chunked.status_code == 413
    assert calls == [1]


async def test_r_sec_08_photo_routes_allow_the_upload_limit_and_no_more(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The selfie route takes a photo up to the upload limit (here the guard lets it through to
    the login check) and refuses a 300 MB one before receiving it."""
    path = "/api/v1/identity/sessions/00000000-0000-0000-0000-000000000000/face"
    photo = {"image": ("face.jpg", b"\xff\xd8\xff" + b"0" * (settings.max_upload_bytes - 3), "image/jpeg")}
    within = await client.post(path, files=photo)
    assert within.status_code == 401  # past the guard: the route wants a login
    part = b'--x\r\nContent-Disposition: form-data; name="image"; filename="f.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    body = Body(HUGE, part)
    huge = await client.post(
        path,
        content=body,  # type: ignore[arg-type]
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert huge.status_code == 413 and huge.json()["code"] == "BODY_TOO_LARGE"
    assert body.pulled <= settings.max_upload_bytes + MARGIN + 2 * CHUNK


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_r_sec_08_a_page_refusal_is_a_bilingual_page(client: httpx.AsyncClient, lang: str) -> None:
    client.cookies.set("medcard_lang", lang)
    refused = await client.post(
        "/verify", content=b"a=" + b"x" * DEFAULT_LIMIT, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert refused.status_code == 413 and refused.headers["content-type"].startswith("text/html")
    assert ("请求内容过大" if lang == "zh" else "The request body is too large") in refused.text
