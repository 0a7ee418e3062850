"""The foundation: health, errors as problem+json, login, audit, migrations both ways."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.config import DEV_SECRET, Settings
from medcard.models import Account, AuditEvent
from tests.csrf import form_token
from tests.factories import Demo, bearer, patient_token, staff_token


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json()["status"] == "ok"


async def test_patient_oauth_login_creates_account_and_audits(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession
) -> None:
    token = await patient_token(client, adapters, openid="o-foundation-1")
    account = await db.scalar(select(Account).where(Account.openid == "o-foundation-1"))
    assert account is not None and token
    actions = set(await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == str(account.id))))
    assert {"account.create", "auth.login"} <= actions


async def test_oauth_code_is_single_use(client: httpx.AsyncClient, adapters: Adapters) -> None:
    code = adapters.oauth.issue_code(openid="o-single-use", nickname="x")  # type: ignore[attr-defined]
    assert (await client.post("/api/v1/auth/oauth", json={"code": code})).status_code == 200
    again = await client.post("/api/v1/auth/oauth", json={"code": code})
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("application/problem+json")
    body = again.json()
    assert body["code"] == "AUTH_OAUTH_CODE_INVALID" and body["title_zh"] and body["hint"]


async def test_malformed_request_is_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/staff", json={"username": ""})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "MALFORMED_REQUEST"
    assert {e["field"] for e in body["errors"]} == {"username", "password"}


async def test_staff_wrong_password_and_unknown_user_answer_alike(client: httpx.AsyncClient, demo: Demo) -> None:
    wrong = await client.post("/api/v1/auth/staff", json={"username": "admin1", "password": "nope"})
    unknown = await client.post("/api/v1/auth/staff", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "AUTH_INVALID_CREDENTIALS"


async def test_audit_log_needs_reviewer_role(client: httpx.AsyncClient, demo: Demo) -> None:
    cashier = await staff_token(client, "cashier1")
    assert (await client.get("/api/v1/audit", headers=bearer(cashier))).status_code == 403
    reviewer = await staff_token(client, "reviewer1")
    response = await client.get("/api/v1/audit", headers=bearer(reviewer))
    assert response.status_code == 200
    assert any(row["action"] == "auth.staff_login" for row in response.json())


async def test_api_without_login_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/logout")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_REQUIRED"


async def test_logout_revokes_the_token(client: httpx.AsyncClient, adapters: Adapters) -> None:
    token = await patient_token(client, adapters)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 401


async def test_sandbox_consent_screen_remembers_the_browsers_user(client: httpx.AsyncClient) -> None:
    consent = await form_token(client, "/sandbox/oauth/authorize?redirect_uri=/auth/callback&state=s1")
    form = {"redirect_uri": "/auth/callback", "state": "s1", "nickname": "小明", "openid": "", "csrf_token": consent}
    first = await client.post("/sandbox/oauth/authorize", data=form)
    assert first.status_code == 303
    openid = first.cookies["medcard_sandbox_openid"]
    page = await client.get("/sandbox/oauth/authorize", params={"redirect_uri": "/auth/callback", "state": "s2"})
    assert f'value="{openid}"' in page.text


@pytest.mark.parametrize("environment", ["test", "production"])
def test_secret_key_refuses_its_dev_default_outside_development(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDCARD_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="MEDCARD_SECRET_KEY"):
        Settings(environment=environment, _env_file=None)  # type: ignore[call-arg]
    assert Settings(environment="development", _env_file=None).secret_key == DEV_SECRET  # type: ignore[call-arg]


async def test_the_unit_of_work_commits_before_the_response_is_sent(
    app: FastAPI, adapters: Adapters, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that follows a redirect right after login must find the login committed."""
    events: list[str] = []
    commit = db.commit

    async def recording_commit() -> None:
        events.append("commit")
        await commit()

    monkeypatch.setattr(db, "commit", recording_commit)

    async def recording_app(scope: Any, receive: Any, send: Any) -> None:
        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, recording_send)

    transport = httpx.ASGITransport(app=recording_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        code = adapters.oauth.issue_code(openid="o-commit-order", nickname="x")  # type: ignore[attr-defined]
        assert (await http.post("/api/v1/auth/oauth", json={"code": code})).status_code == 200
    assert events[:2] == ["commit", "response"]
