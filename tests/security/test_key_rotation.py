"""R-SEC-08: encrypted columns at rest, and ``keys rotate`` moving them to the newest key."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner, Result

from medcard.adapters import Adapters
from medcard.cli import app
from medcard.config import Settings, get_settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.identity.repository import IdentityRepository
from medcard.kit import keys
from medcard.kit.clock import clock
from medcard.kit.keys import KeyRing
from medcard.migrate import upgrade
from medcard.models import AuditEvent, Card, CardDraft, Person, SmsCode
from medcard.security.rotation import encrypted_tables, rotate_batch, version_counts
from tests.card.conftest import issue_card
from tests.factories import Demo, resident_id, verified_account
from tests.support import run_async

OLD, NEW, INDEX = "old-data-key-" + "1" * 32, "new-data-key-" + "2" * 32, "index-key-" + "3" * 32
V1 = KeyRing.from_secrets({"v1": OLD}, INDEX)
V1_V2 = KeyRing.from_secrets({"v1": OLD, "v2": NEW}, INDEX)
V2 = KeyRing.from_secrets({"v2": NEW}, INDEX)


async def _plaintexts(db: AsyncSession) -> dict[tuple[str, uuid.UUID], tuple[Any, ...]]:
    """Every encrypted value in the database, decrypted, by (table, row id)."""
    found = {}
    for target in encrypted_tables():
        for row in await db.execute(select(target.table.c.id, *target.columns)):
            found[(target.table.name, row[0])] = tuple(row[1:])
    return found


def _versions(counts: dict[str, Counter[str]]) -> set[str]:
    return {version for per_column in counts.values() for version in per_column}


async def _seed(db: AsyncSession, adapters: Adapters, demo: Demo) -> Card:
    number = resident_id(region="110105", sequence=41)
    account = await verified_account(db, name="李雷", document_number=number)
    card = await issue_card(db, adapters, account, demo.hospital)
    db.add(
        SmsCode(
            phone="13912345678", purpose="verify", code_hash="0" * 64, client_ip="203.0.113.9", expires_at=clock.now()
        )
    )
    db.add(CardDraft(account_id=account.id, hospital_id=demo.hospital.id, subject_key="x", data={"name": "李雷"}))
    await db.flush()
    return card


async def test_r_sec_08_rotation_re_encrypts_every_value_under_the_newest_key(
    db: AsyncSession, adapters: Adapters, demo: Demo
) -> None:
    """R-SEC-08: values written under v1; v2 added; rotate (in small, resumable batches); every
    value is v2 and reads back equal; with v1 removed everything still reads."""
    with keys.using(V1):
        card = await _seed(db, adapters, demo)
        before = await _plaintexts(db)
        assert _versions(await version_counts(db)) == {"v1"}
    card_updated_at = card.updated_at
    assert len(before) == 4 and any("李雷" in values for values in before.values())

    with keys.using(V1_V2):
        assert await _plaintexts(db) == before  # both versions read while rotation is pending
        card_table = next(t for t in encrypted_tables() if t.table.name == "card")
        assert await rotate_batch(db, target=card_table, batch_size=1) == 1
        assert _versions(await version_counts(db)) == {"v1", "v2"}  # interrupted here: a mix, still readable
        assert await _plaintexts(db) == before
        for target in encrypted_tables():
            while await rotate_batch(db, target=target, batch_size=2):
                pass
        counts = await version_counts(db)
        assert _versions(counts) == {"v2"}
        assert sum(counts["person.name"].values()) >= 1 and counts["card_draft.data"]["v2"] == 1

    with keys.using(V2):
        db.expunge_all()
        assert await _plaintexts(db) == before
        person = await IdentityRepository(db).person_by_document("resident_id", card.document_number)
        assert person is not None and person.name == "李雷"  # the blind index did not change
        reloaded = await db.get(Card, card.id)
        assert reloaded is not None and reloaded.updated_at == card_updated_at  # rotation is not an edit
    audited = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "keys.rotate"))).all()
    assert {event.details["table"] for event in audited} >= {"person", "card", "sms_code", "card_draft"}
    assert all(event.details["key_version"] == "v2" and event.actor_kind == "system" for event in audited)


async def test_r_sec_08_without_the_old_key_an_unrotated_value_is_refused(
    db: AsyncSession, adapters: Adapters, demo: Demo
) -> None:
    """R-SEC-08: dropping v1 before rotating does not silently return garbage: reads fail loudly."""
    with keys.using(V1):
        await verified_account(db, name="韩梅梅", document_number=resident_id(region="110105", sequence=42))
    db.expunge_all()
    with keys.using(V2), pytest.raises(keys.UndecryptableValue, match="no configured data key 'v1'"):
        await db.scalar(select(Person.name))


async def test_r_sec_08_columns_hold_ciphertext_and_refuse_sql_comparison(db: AsyncSession) -> None:
    """R-SEC-08: what the database holds is ``v<n>:`` ciphertext; comparing an encrypted column
    in SQL raises (a random nonce would make it silently match nothing) — use the blind index."""
    number = resident_id(region="110105", sequence=43)
    account = await verified_account(db, name="王五", document_number=number)
    raw = (await db.execute(text("SELECT document_number, name, phone FROM person"))).all()
    assert raw and all(value.startswith(("v1:", "v2:")) for row in raw for value in row if value)
    assert all(number not in row[0] and "王五" not in row[1] for row in raw)
    with pytest.raises(TypeError, match="blind index"):
        select(Person).where(Person.document_number == number)
    with pytest.raises(TypeError, match="blind index"):
        select(Person).where(Person.name.like("王%"))
    assert account.person is not None
    assert await db.scalar(select(Person.id).where(Person.phone.is_not(None), Person.id == account.person.id))


def test_r_sec_08_every_encrypted_column_is_bound_to_its_own_table_and_column() -> None:
    """R-SEC-08: the associated data of each column names that column (no copy-paste slips)."""
    contexts = [(f"{t.table.name}.{c.name}", c.type.context) for t in encrypted_tables() for c in t.columns]  # type: ignore[attr-defined]
    assert len(contexts) >= 20
    assert all(expected == actual for expected, actual in contexts), contexts


def _invoke(*arguments: str) -> Result:
    with ThreadPoolExecutor(max_workers=1) as pool:  # the CLI runs its own event loop
        return pool.submit(CliRunner().invoke, app, list(arguments)).result()


def test_r_sec_08_keys_rotate_command_moves_a_database_to_the_new_key(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R-SEC-08: ``medcard keys rotate`` after adding v2 to MEDCARD_DATA_KEYS; ``keys status``
    shows every value under v2; running it again finds nothing left to do."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    local = settings.model_copy(update={"database_url": url, "data_keys": f"v1:{OLD}", "blind_index_key": INDEX})
    upgrade(local)

    async def seed() -> None:
        engine = make_engine(local)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            for sequence in (51, 52, 53):
                await verified_account(session, name="赵六", document_number=resident_id(sequence=sequence))
        await engine.dispose()

    run_async(seed())
    for name, value in {
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "SECRET_KEY": settings.secret_key,
        "DATA_KEYS": f"v1:{OLD},v2:{NEW}",
        "BLIND_INDEX_KEY": INDEX,
    }.items():
        monkeypatch.setenv(f"MEDCARD_{name}", value)
    get_settings.cache_clear()
    try:
        assert "person.name: v1=3" in _invoke("keys", "status").output
        rotated = _invoke("keys", "rotate", "--batch-size", "2")
        assert rotated.exit_code == 0, rotated.output
        assert "person: 3 rows re-encrypted" in rotated.output
        status = _invoke("keys", "status").output
        assert "current key version: v2" in status and "person.name: v2=3" in status and "v1=" not in status
        assert "person: 0 rows re-encrypted" in _invoke("keys", "rotate").output
        version, _, secret = _invoke("keys", "generate").output.strip().partition(":")
        assert version == "v3" and len(secret) >= 32
    finally:
        get_settings.cache_clear()
