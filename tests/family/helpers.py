"""Family test helpers: people verified through the API, relatives added through the API."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from medcard.adapters.identity import _png_with_text
from medcard.config import Settings
from tests.card.conftest import complete_form
from tests.identity.helpers import face, resident_passing, start

PROOF = _png_with_text(b"SANDBOX-GUARDIAN household register photo")
PHOTO = _png_with_text(b"an ID photo")
HOSPITAL = "H110001"


async def verify(client: httpx.AsyncClient, headers: dict[str, str], *, name: str, number: str) -> None:
    """Real-name verification by face through the API."""
    session_id = (await start(client, headers, name=name, document_number=number)).json()["id"]
    response = await face(client, headers, session_id)
    assert response.status_code == 200, response.text


def person(settings: Settings, name: str, birth: date, region: str = "110105") -> str:
    """A resident ID the sandbox authority passes for ``name``."""
    return resident_passing(settings, name, birth=birth, region=region)


async def add(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    name: str,
    number: str,
    relation: str,
    proof_kind: str = "household_register",
    documents: tuple[str, ...] = ("relation_proof",),
    files: dict[str, tuple[str, bytes, str]] | None = None,
    **fields: Any,
) -> httpx.Response:
    """POST /api/v1/family/members with the named uploads (or ``files`` as given)."""
    data = {"name": name, "document_number": number, "relation": relation, "proof_kind": proof_kind, **fields}
    files = files or {
        doc: (f"{doc}.png", PROOF if doc == "relation_proof" else PHOTO, "image/png") for doc in documents
    }
    return await client.post("/api/v1/family/members", data=data, files=files, headers=headers)


async def card_for(client: httpx.AsyncClient, headers: dict[str, str], subject: str) -> str:
    """Issue a card for ``subject`` (a relative's person id) through the API; its id."""
    response = await client.post(
        "/api/v1/cards",
        json={"hospital": HOSPITAL, "subject": subject, "fields": complete_form()},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])
