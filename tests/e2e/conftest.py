"""Browser tests: a real server (uvicorn subprocess, sandbox adapters, demo data) driven by
Debian's Chromium through Playwright. Screenshots land in ``var/screenshots/``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import make_url, text
from sqlalchemy.pool import NullPool

from medcard.config import PROJECT_ROOT, Settings
from medcard.db import make_engine
from tests.conftest import NO_SANDBOX_FAULTS
from tests.logscan import CAPTURE
from tests.support import run_async

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
E2E_SECRET = "e2e-secret-0123456789abcdef0123456789abcdef"
CAPTURE.keys.add(E2E_SECRET)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url(tmp: Path, suffix: str = "e2e") -> str:
    """A fresh database of the same kind as the unit tests use."""
    url = os.environ.get("MEDCARD_TEST_DATABASE_URL")
    if not url:
        return f"sqlite+aiosqlite:///{tmp / f'{suffix}.db'}"
    name = f"{make_url(url).database}_{suffix}"
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]

    async def recreate() -> None:
        engine = make_engine(settings, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    run_async(recreate())
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def server_settings(tmp: Path, suffix: str) -> Settings:
    """Settings of a live server with a fresh database of its own."""
    return Settings(  # type: ignore[call-arg]
        environment="test",
        sandbox=True,
        database_url=_database_url(tmp, suffix),
        secret_key=E2E_SECRET,
        sandbox_latency_scale=0.0,
        _env_file=None,
    )


@contextmanager
def serve(settings: Settings, tmp: Path) -> Iterator[str]:
    """Migrate, load demo data and serve ``settings`` on a free port; yields the base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "MEDCARD_ENVIRONMENT": "test",
        "MEDCARD_SANDBOX": "true",
        "MEDCARD_SECRET_KEY": settings.secret_key,
        "MEDCARD_DATABASE_URL": settings.database_url,
        "MEDCARD_SANDBOX_LATENCY_SCALE": "0",
        # Well-behaved money sandboxes: a browser journey is not a fault-injection test.
        **{f"MEDCARD_{name.upper()}": str(rate) for name, rate in NO_SANDBOX_FAULTS.items()},
        "MEDCARD_BASE_URL": f"http://127.0.0.1:{port}",
        # The browser tests stand in for a reverse proxy to log in "from" other cities (R-SEC-06).
        "MEDCARD_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    cli = [sys.executable, "-m", "medcard.cli"]
    for command in (["db", "upgrade"], ["demo-data"]):
        subprocess.run([*cli, *command], env=env, check=True, capture_output=True, cwd=PROJECT_ROOT)
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start: " + (tmp / "server.log").read_text())
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        CAPTURE.add_file(tmp / "server.log")  # the R-SEC-08 log scan reads the live server's lines too


@pytest.fixture(scope="session")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The live server's settings (its database and secret), for tests that seed data directly."""
    return server_settings(tmp_path_factory.mktemp("e2e-db"), "e2e")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, live_settings: Settings) -> Iterator[str]:
    """The server the browser tests share."""
    with serve(live_settings, tmp_path_factory.mktemp("e2e")) as base:
        yield base


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A phone-sized page in a fresh context (no cookies), zh-CN."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to ``var/screenshots/<name>.png`` (look at them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def patient_login(page: Page, nickname: str = "测试用户") -> None:
    """Log in through the sandbox WeChat consent page; ends on /me."""
    page.goto("/login")
    page.click("#wechat-login")
    page.fill("#nickname", nickname)
    page.click("#consent")
    accept_agreements(page)
    page.wait_for_url("**/me")


def accept_agreements(page: Page) -> None:
    """A first login reads and accepts the agreements (用户协议/隐私政策/个人信息处理授权)."""
    page.wait_for_load_state()
    if "/consent" in page.url:
        page.check("#agree")
        page.click("#consent-accept")


def staff_login(page: Page, username: str) -> None:
    page.goto("/console/login")
    page.fill("#username", username)
    page.fill("#password", "medcard-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def csrf_headers(page: Page) -> dict[str, str]:
    """``X-CSRF-Token`` of the page now open, for ``page.request`` calls that ride on its cookie
    (a cookie-authenticated API call needs it, ADR 0008)."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    return {"X-CSRF-Token": token}


def overflow(page: Page) -> list[dict[str, Any]]:
    """A patient page wider than the phone it is shown on (a chart or table that does not shrink
    makes the whole page scroll sideways): reported like an axe violation."""
    wide, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if wide <= screen:
        return []
    return [{"id": "horizontal-overflow", "impact": "serious", "help": f"{wide}px wide on a {screen}px screen"}]
