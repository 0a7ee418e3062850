"""R-ID-04: face images are passed on and never stored; guardianship proof photos are stored only
SM4-encrypted, for the staff review of family bindings (R-FAM-02), never in clear.

Uploads carry a recognizable byte marker; afterwards EVERY column of EVERY table of the
database is read back and searched for the marker (raw, hex and base64 forms)."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import date
from typing import Any

import httpx
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters.identity import _png_with_text
from medcard.config import Settings
from medcard.kit.crypto import sm3_hex
from medcard.models import AuditEvent
from tests.identity.helpers import face, resident_passing, start


def _needles(marker: bytes) -> list[bytes]:
    return [marker, marker.hex().encode(), base64.b64encode(marker)[:-4], base64.urlsafe_b64encode(marker)[:-4]]


def _as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


async def _scan(db: AsyncSession, needles: list[bytes]) -> tuple[int, list[str]]:
    """(cells read, places where a needle was found) over every table the database has."""
    connection = await db.connection()
    tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    cells, found = 0, []
    for table in tables:
        result = await connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608 - names from the inspector
        columns = list(result.keys())
        for row in result:
            for column, value in zip(columns, row, strict=True):
                cells += 1
                data = _as_bytes(value)
                found.extend(f"{table}.{column}" for needle in needles if needle in data)
    return cells, found


async def test_r_id_04_face_images_are_never_stored_and_the_proof_only_encrypted(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    marker = b"RID04-BIOMETRIC-" + secrets.token_hex(8).encode()
    spoof = _png_with_text(b"SANDBOX-SPOOF " + marker)
    live = _png_with_text(b"SANDBOX-LIVE " + marker)
    proof = _png_with_text(b"SANDBOX-GUARDIAN " + marker)

    session_id = (await start(client, patient, name="王芳", document_number=resident_passing(settings, "王芳"))).json()[
        "id"
    ]
    assert (await face(client, patient, session_id, spoof)).status_code == 400
    assert (await face(client, patient, session_id, live)).status_code == 200
    child = resident_passing(settings, "王小明", birth=date(2020, 5, 1), region="110101")
    ward = await client.post(
        "/api/v1/identity/wards",
        data={
            "document_number": child,
            "name": "王小明",
            "relation": "parent",
            "proof_kind": "birth_certificate",
            "birth_certificate_number": "P110123456",
        },
        files={"proof": ("proof.png", proof, "image/png")},
        headers=patient,
    )
    assert ward.status_code == 201, ward.text

    cells, found = await _scan(db, _needles(marker))
    assert found == []
    # The scanner does see what IS stored: the proof's digest (names are encrypted, R-SEC-08).
    assert cells > 50
    _, digests = await _scan(db, [sm3_hex(proof).encode()])
    # the proof photo is kept SM4-encrypted for staff review (R-FAM-02), beside its digest
    assert sorted(digests) == ["family_proof.digest", "guardianship.proof_digest"]
    attempts = (await db.scalars(select(AuditEvent.details).where(AuditEvent.action == "identity.face_attempt"))).all()
    assert attempts and all(set(details) <= {"attempt", "failure_code"} for details in attempts)
