"""A PostgreSQL restart under load (issue 10): while the server is down every answer is a
success or a 503 problem+json with Retry-After, /readyz says so, and both recover after the
restart. The test runs a PostgreSQL server of its own (initdb + pg_ctl into a temporary
directory, on another port), so the shared server is never touched."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from medcard.adapters import sandbox_adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.app import create_app
from medcard.config import Settings
from medcard.migrate import upgrade

pytestmark = pytest.mark.postgres
PROBLEM = "application/problem+json"
WORKERS = 6
ROUNDS_UP, ROUNDS_DOWN, ROUNDS_AFTER = 4, 6, 3  # bounded: (4 + 6 + 3) × 6 requests


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL server: its data directory, port and how to stop / start it."""

    directory: Path
    port: int
    run_as: list[str]
    pg_ctl: str

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *arguments: str) -> None:
        command = [
            *self.run_as,
            self.pg_ctl,
            "-D",
            str(self.directory / "data"),
            "-l",
            str(self.directory / "server.log"),
            "-w",
            *arguments,
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def private_postgres(settings: Settings) -> Iterator[PrivatePostgres]:
    if settings.is_sqlite:
        pytest.skip("the outage test stops a PostgreSQL server of its own (run with MEDCARD_TEST_DATABASE_URL)")
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("initdb not found under /usr/lib/postgresql/*/bin")
    bin_dir = Path(binaries[-1]).parent
    directory = Path(tempfile.mkdtemp(prefix="medcard-pg-outage-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the postgres user
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(directory, "postgres")
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PrivatePostgres(directory, _free_port(), run_as, str(bin_dir / "pg_ctl"))
    server.start()
    try:
        yield server
    finally:
        subprocess.run(
            [*run_as, server.pg_ctl, "-D", str(directory / "data"), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def app_on_private_postgres(
    private_postgres: PrivatePostgres, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The app on the private server, over HTTP (ASGI), with a logged-in patient."""
    local = settings.model_copy(update={"database_url": private_postgres.url, "audit_seal_interval_seconds": 0})
    await asyncio.to_thread(upgrade, local)
    adapters = sandbox_adapters(local)
    app = create_app(local, adapters)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert isinstance(adapters.oauth, SandboxOAuth)
        code = adapters.oauth.issue_code(openid=adapters.oauth.new_openid(), nickname="停机")
        login = await client.post("/api/v1/auth/oauth", json={"code": code})
        assert login.status_code == 200, login.text
        yield client, {"Authorization": f"Bearer {login.json()['token']}"}
    await app.state.engine.dispose()


def _acceptable(response: httpx.Response) -> bool:
    if response.status_code == 200:
        return True
    return (
        response.status_code == 503
        and response.headers.get("content-type") == PROBLEM
        and response.json().get("code") == "SERVICE_UNAVAILABLE"
        and int(response.headers.get("Retry-After", "0")) > 0
    )


async def _round(client: httpx.AsyncClient, headers: dict[str, str]) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.get("/api/v1/identity/me", headers=headers) for _ in range(WORKERS))))


async def test_postgres_restart_under_load_answers_only_success_or_503_and_readiness_follows(
    private_postgres: PrivatePostgres, app_on_private_postgres: tuple[httpx.AsyncClient, dict[str, str]]
) -> None:
    client, headers = app_on_private_postgres
    seen: list[httpx.Response] = []
    for _ in range(ROUNDS_UP):
        seen += await _round(client, headers)
    assert all(response.status_code == 200 for response in seen)
    assert (await client.get("/readyz")).status_code == 200

    stopping = asyncio.create_task(asyncio.to_thread(private_postgres.stop))  # stops under load
    while not stopping.done():
        seen += await _round(client, headers)
    await stopping
    down: list[httpx.Response] = []
    for _ in range(ROUNDS_DOWN):
        down += await _round(client, headers)
    assert all(response.status_code == 503 for response in down)
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["content-type"] == PROBLEM and ready.headers["Retry-After"]
    assert (await client.get("/healthz")).status_code == 200  # liveness stays cheap

    await asyncio.to_thread(private_postgres.start)
    for _ in range(50):  # bounded: the server accepts connections once pg_ctl -w returned
        if (await client.get("/readyz")).status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert (await client.get("/readyz")).status_code == 200
    after: list[httpx.Response] = []
    for _ in range(ROUNDS_AFTER):
        after += await _round(client, headers)
    assert all(response.status_code == 200 for response in after[-WORKERS:])
    bad = [
        (r.status_code, r.headers.get("content-type"), r.text[:200])
        for r in [*seen, *down, *after]
        if not _acceptable(r)
    ]
    assert bad == []
