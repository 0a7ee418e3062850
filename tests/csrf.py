"""CSRF helpers for test clients (ADR 0008).

A browser gets its token from the page it submits; a test does the same: ``form_token`` loads
the page (the client keeps the pre-session or session cookie the token is bound to) and reads
the token the templates put in ``<meta name="csrf-token">`` and in every form.
"""

from __future__ import annotations

import re

import httpx

META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


async def form_token(client: httpx.AsyncClient, path: str, *, headers: dict[str, str] | None = None) -> str:
    """The token of the page at ``path`` for this client's cookies."""
    page = await client.get(path, headers=headers)
    found = META.search(page.text)
    assert found and found.group(1), f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


async def csrf_header(client: httpx.AsyncClient, path: str = "/me") -> dict[str, str]:
    """``X-CSRF-Token`` for an HTMX or script request from the page at ``path``."""
    return {"X-CSRF-Token": await form_token(client, path)}
