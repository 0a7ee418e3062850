"""Security headers on every response (R-SEC-08: the payment code and personal data never land
in a cache, pages run no inline script and are never framed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from jinja2 import Environment, nodes

import medcard.web
from medcard.app import create_app
from medcard.config import Settings
from tests.codes.conftest import Holder
from tests.csrf import form_token

PAGES = ["/security", "/codes", "/cards/{card_id}", "/verify", "/me"]


def _assert_guarded(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY" and "microphone=()" in response.headers["permissions-policy"]


@pytest.mark.parametrize("path", PAGES)
async def test_r_sec_08_patient_pages_carry_the_headers_and_are_never_stored(
    client: httpx.AsyncClient, holder: Holder, path: str
) -> None:
    page = await client.get(path.format(card_id=holder.card_id), headers=holder.headers)
    assert page.status_code == 200
    _assert_guarded(page)
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and " onchange=" not in page.text and " onclick=" not in page.text


async def test_r_sec_02_the_payment_code_and_api_answers_are_never_stored(
    client: httpx.AsyncClient, holder: Holder
) -> None:
    fragment = await client.post(f"/codes/fresh?card_id={holder.card_id}", headers=holder.headers)
    assert "data-ttl" in fragment.text and fragment.headers["cache-control"] == "no-store"
    code = await client.post("/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=holder.headers)
    assert code.status_code == 200 and code.headers["cache-control"] == "no-store"
    _assert_guarded(code)
    refused = await client.get("/api/v1/security")
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"
    _assert_guarded(refused)


async def test_r_sec_08_static_assets_stay_cacheable(client: httpx.AsyncClient) -> None:
    script = await client.get("/static/app.js")
    assert script.status_code == 200 and "no-store" not in script.headers.get("cache-control", "")
    assert script.headers["x-content-type-options"] == "nosniff"


async def test_r_sec_08_hsts_only_in_production(client: httpx.AsyncClient, settings: Settings, adapters: Any) -> None:
    assert "strict-transport-security" not in (await client.get("/login")).headers
    production = settings.model_copy(update={"environment": "production"})
    app = create_app(production, adapters)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://medcard.example") as https:
        login = await https.get("/login")
    assert login.headers["strict-transport-security"].startswith("max-age=63072000")
    _assert_guarded(login)


async def test_r_sec_08_refusals_of_the_guards_carry_the_headers_too(client: httpx.AsyncClient) -> None:
    await form_token(client, "/console/login")
    refused = await client.post("/console/login", data={"username": "a", "password": "b"})
    assert refused.status_code == 403
    _assert_guarded(refused)
    assert refused.headers["cache-control"] == "no-store"


def test_r_sec_08_no_template_needs_unsafe_inline() -> None:
    """Every template works under ``script-src 'self'; style-src 'self'``: no inline script or
    style, no ``on…=`` handler, no ``javascript:`` link, no style attribute."""
    forbidden = re.compile(r"<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\son[a-z]+=|javascript:|\sstyle=", re.I)
    templates = Path(medcard.web.__file__).parent / "templates"
    found = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in sorted(templates.rglob("*.html"))
        for match in forbidden.finditer(path.read_text())
    ]
    assert not found, found


TEXT_BLOCKS = ("title", "body_class", "home_link", "brand")
"""Blocks of ``base.html`` that sit inside an attribute or the ``<title>``: plain text only."""


def test_r_a11y_01_blocks_inside_attributes_hold_no_markup() -> None:
    """A merge once left the finance console's 'paid in the last 7 days' table inside
    ``{% block body_class %}``: the page rendered the table above its header, inside
    ``<body class="…">``. Every template's attribute and title blocks are plain text."""
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    templates = Path(medcard.web.__file__).parent / "templates"
    found = []
    for path in sorted(templates.rglob("*.html")):
        for block in env.parse(path.read_text()).find_all(nodes.Block):
            if block.name in TEXT_BLOCKS:
                markup = [node.data for node in block.find_all(nodes.TemplateData) if "<" in node.data]
                found += [f"{path.relative_to(templates)}: block {block.name}: {text.strip()[:60]}" for text in markup]
    assert not found, found
