"""Deployment hardening (R-SEC-08): errors never echo secrets, the sandbox is an explicit
setting that production refuses, /metrics needs its bearer token."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from medcard.config import Settings
from tests.csrf import form_token

SECRET = "s" * 40
DATA = "d" * 40
SHORT_BLIND = "blind-index-too-short-7f3a"


def test_r_sec_08_a_refused_production_start_does_not_print_the_secret_values() -> None:
    """R-SEC-08: the production start refused for a too-short blind-index key names the setting
    and never prints the key (nor the other secrets) — neither in the error nor in the
    traceback of the refused process."""
    with pytest.raises(ValidationError) as refused:
        Settings(  # type: ignore[call-arg]
            environment="production",
            secret_key=SECRET,
            data_keys=f"v1:{DATA}",
            blind_index_key=SHORT_BLIND,
            _env_file=None,
        )
    text = f"{refused.value}\n{refused.value!r}"
    assert "MEDCARD_BLIND_INDEX_KEY" in text
    for secret in (SHORT_BLIND, SECRET, DATA):
        assert secret not in text
    env = {
        **os.environ,
        "MEDCARD_ENVIRONMENT": "production",
        "MEDCARD_SECRET_KEY": SECRET,
        "MEDCARD_DATA_KEYS": f"v1:{DATA}",
        "MEDCARD_BLIND_INDEX_KEY": SHORT_BLIND,
    }
    start = subprocess.run(
        [sys.executable, "-c", "from medcard.config import Settings; Settings(_env_file=None)"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert start.returncode != 0 and "MEDCARD_BLIND_INDEX_KEY" in start.stderr
    for secret in (SHORT_BLIND, SECRET, DATA):
        assert secret not in start.stderr + start.stdout


def test_r_sec_08_settings_repr_hides_the_secrets() -> None:
    """R-SEC-08: a settings object in a log line or a traceback shows no key."""
    settings = Settings(  # type: ignore[call-arg]
        environment="production",
        secret_key=SECRET,
        data_keys=f"v1:{DATA}",
        blind_index_key="i" * 40,
        metrics_token="m" * 40,
        _env_file=None,
    )
    for secret in (SECRET, DATA, "i" * 40, "m" * 40):
        assert secret not in repr(settings) and secret not in str(settings)


def test_r_sec_08_production_refuses_the_sandbox_and_staging_must_name_it() -> None:
    """R-SEC-08: MEDCARD_SANDBOX=true stops a production start; staging runs without the
    sandbox unless it names it."""
    keys: dict[str, Any] = {"secret_key": SECRET, "data_keys": f"v1:{DATA}", "blind_index_key": "i" * 40}
    with pytest.raises(ValidationError, match="MEDCARD_SANDBOX"):
        Settings(environment="production", sandbox=True, _env_file=None, **keys)  # type: ignore[call-arg]
    assert Settings(environment="staging", secret_key=SECRET, _env_file=None).sandbox is False  # type: ignore[call-arg]
    assert Settings(environment="staging", secret_key=SECRET, sandbox=True, _env_file=None).sandbox  # type: ignore[call-arg]


SANDBOX_ROUTES = [
    "/sandbox/oauth/authorize?redirect_uri=/auth/callback&state=s1",
    "/sandbox/sms",
    "/sandbox/payments",
    "/sandbox/face.png",
    "/sandbox/id-photo.png?name=x&number=1",
]


@pytest.mark.parametrize("path", SANDBOX_ROUTES)
async def test_r_sec_08_sandbox_routes_are_404_without_the_sandbox_setting(
    client: httpx.AsyncClient, app: Any, settings: Settings, path: str
) -> None:
    """R-SEC-08: the pick-any-openid consent page, the SMS outbox and the sample photos exist
    only with MEDCARD_SANDBOX=true (which the tests set); without it they are 404."""
    assert (await client.get(path)).status_code == 200
    app.state.settings = settings.model_copy(update={"sandbox": False})
    assert (await client.get(path)).status_code == 404
    token = await form_token(client, "/login")
    consent = await client.post(
        "/sandbox/oauth/authorize",
        data={"redirect_uri": "/auth/callback", "state": "s", "openid": "victim-openid", "csrf_token": token},
    )
    assert consent.status_code == 404


async def test_r_sec_08_metrics_need_the_bearer_token(client: httpx.AsyncClient, app: Any, settings: Settings) -> None:
    """R-SEC-08: /metrics is 404 without a configured token, without the header and with a
    wrong token; with the right bearer token it serves Prometheus text."""
    assert (await client.get("/metrics")).status_code == 404
    token = "t" * 40
    app.state.settings = settings.model_copy(update={"metrics_token": token})
    assert (await client.get("/metrics")).status_code == 404
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 404
    served = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert served.status_code == 200 and "python_info" in served.text
