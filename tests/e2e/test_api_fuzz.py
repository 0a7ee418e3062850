"""Every API operation, fed inputs generated from its own OpenAPI schema — valid ones and
invalid ones (schemathesis positive and negative modes, hypothesis) — answers without a
server error: bad input is a clear 4xx problem, never a 500.

Runs against a live server of its own (what the fuzzer creates or rate-limits must not leak
into the browser tests), logged in as a patient for patient routes and as an administrator for
staff routes (admin passes every role check).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.csrf import META
from tests.e2e.conftest import serve, server_settings

STAFF_PATHS = re.compile(r"^/api/v1/(audit|kiosk|staff|hospitals|policy|review|dashboard|console)")
SKIP = {("POST", "/api/v1/auth/logout")}  # would end the session the fuzzer logs in with
EXAMPLES = 20
STATUSES: dict[int, int] = {}  # status -> count over the whole run


def _patient_token(base: str) -> str:
    with httpx.Client(base_url=base) as browser:  # the consent form carries a CSRF token (ADR 0008)
        form = browser.get("/sandbox/oauth/authorize", params={"redirect_uri": "/auth/callback", "state": "fuzz"})
        found = META.search(form.text)
        assert found
        consent = browser.post(
            "/sandbox/oauth/authorize",
            data={
                "redirect_uri": "/auth/callback",
                "state": "fuzz",
                "nickname": "fuzz",
                "openid": "o-api-fuzz-0001",
                "csrf_token": found.group(1),
            },
        )
    code = parse_qs(urlparse(consent.headers["location"]).query)["code"][0]
    return str(httpx.post(f"{base}/api/v1/auth/oauth", json={"code": code}).json()["token"])


def _staff_token(base: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/staff", json={"username": "admin1", "password": "medcard-demo"})
    return str(response.json()["token"])


def _fuzz(operation: Any, *, base: str, headers: dict[str, str], failures: list[str]) -> None:
    """Send ``EXAMPLES`` generated requests to one operation; record any 5xx."""

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        mode = data.draw(st.sampled_from([schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]))
        case = data.draw(operation.as_strategy(generation_mode=mode))
        response = case.call(base_url=base, headers=headers, timeout=30)
        STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

    check()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("fuzz")
    with serve(server_settings(tmp, "fuzz"), tmp) as base:
        yield base


def test_no_operation_answers_a_server_error(fuzz_server: str) -> None:
    live_server = fuzz_server
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json")
    patient = {"Authorization": f"Bearer {_patient_token(live_server)}"}
    staff = {"Authorization": f"Bearer {_staff_token(live_server)}"}
    failures: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        headers = staff if STAFF_PATHS.match(operation.path) else patient

        _fuzz(operation, base=live_server, headers=headers, failures=failures)
        checked += 1
    assert checked >= 20, f"only {checked} operations found"
    # Guard against a vacuous pass: the fuzzer got past login and past validation somewhere.
    assert any(200 <= status < 300 for status in STATUSES), STATUSES
    assert STATUSES.get(422, 0) > 0, STATUSES
    assert failures == [], "\n".join(failures[:20])
