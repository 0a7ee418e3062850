"""R-SEC-08: a dump of a database filled through the real services shows no ID number, phone,
name, address or insurance number in plaintext.

The data is committed to a database of its own (SQLite file or PostgreSQL database) and then
dumped the way an attacker with a copy would: SQLite's file bytes plus ``iterdump``;
PostgreSQL's ``pg_dump`` (or, without it, every column of every table as text)."""

from __future__ import annotations

import base64
import re
import shutil
import sqlite3
import subprocess
from datetime import date

import httpx
from sqlalchemy import inspect, make_url, text

from medcard.adapters import Adapters, sandbox_adapters
from medcard.adapters.identity import _png_with_text
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.adapters.sms import SandboxSms
from medcard.app import create_app
from medcard.config import Settings
from medcard.db import make_engine, unit_of_work
from medcard.demo import load
from medcard.migrate import upgrade
from medcard.policy.service import load_shipped
from tests.card.conftest import complete_form
from tests.factories import bearer, patient_token, staff_token
from tests.identity.helpers import resident_passing, start
from tests.support import run_async

NAME, WARD_NAME = "欧阳娜娜", "欧阳小明"
PHONE, CARD_PHONE, EMERGENCY_PHONE = "13700001111", "13912345678", "13600002222"
ADDRESS, EMERGENCY_NAME = "北京市东城区示范路88号3单元502", "司马懿"
SCHEMES = {"310": "employee", "390": "resident", "380": "new_rural"}
MATERIAL = b"%PDF-1.7 Diagnosis MATERIAL-QUOTE-7731 chronic kidney disease"


async def _fill(settings: Settings) -> dict[str, str]:
    """Demo data, then a patient verified by SMS, with a ward, a card, an insurance binding
    and a special-disease application, all through the HTTP API. Returns what must not leak."""
    adapters = sandbox_adapters(settings)
    app = create_app(settings, adapters)
    async with unit_of_work(app.state.sessions) as session:
        await load(session)
        await load_shipped(session)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await _use(client, settings, adapters)
    finally:
        await app.state.engine.dispose()


async def _use(client: httpx.AsyncClient, settings: Settings, adapters: Adapters) -> dict[str, str]:
    headers = bearer(await patient_token(client, adapters))
    number = resident_passing(settings, NAME)
    started = await start(client, headers, method="sms", phone=PHONE, name=NAME, document_number=number)
    session_id = started.json()["id"]
    assert (await client.post(f"/api/v1/identity/sessions/{session_id}/sms-code", headers=headers)).is_success
    assert isinstance(adapters.sms, SandboxSms)
    message = adapters.sms.last_to(PHONE)
    assert message is not None
    code = re.search(r"验证码 (\d+)", message.text)
    assert code is not None
    confirm = {"method": "sms", "code": code.group(1)}
    confirmed = await client.post(f"/api/v1/identity/sessions/{session_id}/confirm", json=confirm, headers=headers)
    assert confirmed.status_code == 200, confirmed.text

    ward_number = resident_passing(settings, WARD_NAME, birth=date(2020, 5, 1), region="110101")
    ward = {
        "document_number": ward_number,
        "name": WARD_NAME,
        "relation": "parent",
        "proof_kind": "birth_certificate",
        "birth_certificate_number": "P110987654",
    }
    proof = {"proof": ("proof.png", _png_with_text(b"SANDBOX-GUARDIAN"), "image/png")}
    added = await client.post("/api/v1/identity/wards", data=ward, files=proof, headers=headers)
    assert added.status_code == 201, added.text

    fields = complete_form(
        phone=CARD_PHONE, address=ADDRESS, emergency_name=EMERGENCY_NAME, emergency_phone=EMERGENCY_PHONE
    )
    card = await client.post("/api/v1/cards", json={"hospital": "H110001", "fields": fields}, headers=headers)
    assert card.status_code == 201, card.text

    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    insured = platform.person(number, NAME)
    region = number[:2] + "0000" if number[:2] in {"11", "31"} else number[:4] + "00"
    form = {
        "card_id": card.json()["id"],
        "card_number": insured.card_number,
        "scheme": SCHEMES.get(insured.scheme_code or "", "employee"),
        "region_code": region,
        "client_version": "7.1.0",
        "face_image": base64.b64encode(b"selfie SANDBOX-LIVE").decode(),
    }
    binding = await client.post("/api/v1/insurance/bindings", json=form, headers=headers)
    assert binding.status_code == 201, binding.text
    materials = [("materials", ("diagnosis.pdf", MATERIAL, "application/pdf"))]
    applied = await client.post(
        "/api/v1/insurance/special-diseases",
        data={"binding_id": binding.json()["id"], "disease_code": "MT002"},
        files=materials,
        headers=headers,
    )
    assert applied.status_code == 201, applied.text
    reviewer = bearer(await staff_token(client, "reviewer1"))
    review = f"/api/v1/staff/insurance/special-diseases/{applied.json()['id']}/review"
    assert (await client.post(review, json={"approve": True, "note": "诊断证明齐全"}, headers=reviewer)).is_success
    return {
        "ID number": number,
        "ward ID number": ward_number,
        "birth certificate number": "P110987654",
        "verification phone": PHONE,
        "card phone": CARD_PHONE,
        "emergency phone": EMERGENCY_PHONE,
        "name": NAME,
        "ward name": WARD_NAME,
        "emergency contact": EMERGENCY_NAME,
        "address": ADDRESS,
        "insurance card number": insured.card_number,
        "insurance person number": insured.person_number,
        "review note": "诊断证明齐全",
        "diagnosis material": MATERIAL.decode(),
        "diagnosis material (base64)": base64.b64encode(MATERIAL).decode(),
        "card number (stored in plaintext: proves the dump is real)": card.json()["card_number"],
    }


def _sqlite_dump(settings: Settings) -> bytes:
    path = settings.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        statements = "\n".join(connection.iterdump())
    connection.close()
    with open(path, "rb") as file:
        return file.read() + statements.encode()


def _postgres_dump(settings: Settings) -> bytes:
    url = make_url(settings.database_url)
    pg_dump = shutil.which("pg_dump")
    if pg_dump:
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return subprocess.run([pg_dump, "--data-only", plain], check=True, capture_output=True).stdout

    async def every_column() -> bytes:  # without pg_dump: every column of every table, as text
        engine = make_engine(settings)
        chunks = []
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            for table in tables:
                rows = await connection.execute(text(f'SELECT "{table}"::text FROM "{table}"'))  # noqa: S608
                chunks.extend(str(row[0]).encode() for row in rows)
        await engine.dispose()
        return b"\n".join(chunks)

    return run_async(every_column())


def test_r_sec_08_a_database_dump_holds_no_personal_data_in_plaintext(empty_database: Settings) -> None:
    """R-SEC-08: dump after real use; no ID number, phone, name, address or insurance number."""
    upgrade(empty_database)
    secrets = run_async(_fill(empty_database))
    dump = _sqlite_dump(empty_database) if empty_database.is_sqlite else _postgres_dump(empty_database)
    control = secrets.pop("card number (stored in plaintext: proves the dump is real)")
    assert control.encode() in dump
    assert len(dump) > 10_000
    leaks = [what for what, value in secrets.items() if value.encode() in dump]
    assert leaks == [], f"plaintext in the database dump: {leaks}"
