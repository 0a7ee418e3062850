"""Cost of field encryption (R-SEC-08): µs per SM4-GCM encrypt / decrypt of typical values and
per HMAC-SM3 blind index, then what one card issuance spends on them.

The issuance part submits applications one after another through ``card.service.submit`` on a
fresh SQLite file, counting every encrypt, decrypt and blind index the request performs, and
prints the crypto time as a share of the issuance time.

    .venv/bin/python bench/column_crypto.py [--rounds 20000] [--cards 200]

Not part of the pass/fail test run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from common import CARD_FORM, bench_settings, verified_account

from medcard.adapters import sandbox_adapters
from medcard.card import service
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.demo import load
from medcard.identity.rules import check_character
from medcard.kit import keys
from medcard.kit.keys import KeyRing
from medcard.migrate import upgrade
from medcard.models import Account, Hospital

SAMPLES = {
    "phone (11 B)": b"13912345678",
    "ID number (18 B)": b"11010519880615123X",
    "address (41 B)": "北京市东城区示范路1号3单元502".encode(),
    "draft form (~600 B)": json.dumps({**CARD_FORM, "name": "张三", "document_number": "11010519880615123X"}).encode(),
}
CALLS: Counter[str] = Counter()


class CountingKeyRing(KeyRing):
    """The real key ring, counting its calls."""

    def encrypt(self, plaintext: bytes, context: str) -> str:
        CALLS["encrypt"] += 1
        return super().encrypt(plaintext, context)

    def decrypt(self, stored: str, context: str) -> bytes:
        CALLS["decrypt"] += 1
        return super().decrypt(stored, context)

    def blind_index(self, kind: str, value: str) -> str:
        CALLS["blind index"] += 1
        return super().blind_index(kind, value)


def _microseconds(operation: object, rounds: int) -> float:
    assert callable(operation)
    started = time.perf_counter()
    for _ in range(rounds):
        operation()
    return (time.perf_counter() - started) / rounds * 1e6


def micro(ring: KeyRing, rounds: int) -> dict[str, float]:
    """Prints and returns µs per operation."""
    figures = {}
    print(f"{'value':<22}{'encrypt µs':>12}{'decrypt µs':>12}")
    for label, value in SAMPLES.items():
        stored = ring.encrypt(value, "card.address")
        encrypt = _microseconds(lambda v=value: ring.encrypt(v, "card.address"), rounds)
        decrypt = _microseconds(lambda s=stored: ring.decrypt(s, "card.address"), rounds)
        figures[label] = (encrypt + decrypt) / 2
        print(f"{label:<22}{encrypt:>12.1f}{decrypt:>12.1f}")
    index = _microseconds(lambda: ring.blind_index("document", "11010519880615123X"), rounds)
    print(f"{'blind index (HMAC-SM3)':<22}{index:>12.1f}")
    figures["blind index"] = index
    return figures


async def issuance(settings: Settings, cards: int) -> tuple[float, Counter[str]]:
    """Seconds per card issuance and crypto calls per issuance."""
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    keys.install(CountingKeyRing(data_keys=settings.key_ring().data_keys, index_key=settings.key_ring().index_key))
    born = date(1980, 1, 1)
    async with unit_of_work(sessions) as session:
        hospital_id = (await load(session)).hospitals[0].id
        account_ids = []
        for n in range(cards):
            birth = born + timedelta(days=n)
            body = f"110105{birth:%Y%m%d}{n % 1000:03d}"
            person, account = verified_account(body + check_character(body), birth, openid=f"bench-{uuid.uuid4()}")
            session.add_all([person, account])
            account_ids.append(account.id)
    adapters = sandbox_adapters(settings)
    CALLS.clear()
    started = time.perf_counter()
    for account_id in account_ids:
        async with unit_of_work(sessions) as session:
            account = await session.get(Account, account_id)
            hospital = await session.get(Hospital, hospital_id)
            assert account is not None and hospital is not None
            subject = await service.resolve_subject(session, account=account, subject_key="self")
            await service.submit(
                session, account=account, hospital=hospital, subject=subject, adapters=adapters, fields=dict(CARD_FORM)
            )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed / cards, Counter({name: count // cards for name, count in CALLS.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--cards", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(f"sqlite+aiosqlite:///{Path(tmp) / 'crypto.db'}")
        figures = micro(settings.key_ring(), args.rounds)
        upgrade(settings)
        per_card, calls = asyncio.run(issuance(settings, args.cards))
    field_cost = (figures["phone (11 B)"] + figures["address (41 B)"]) / 2
    crypto = (calls["encrypt"] + calls["decrypt"]) * field_cost + calls["blind index"] * figures["blind index"]
    print(f"card issuance (SQLite, sequential, {args.cards} cards): {per_card * 1000:.2f} ms per card")
    print(
        f"  per card: {calls['encrypt']} encrypts, {calls['decrypt']} decrypts, {calls['blind index']} blind indexes"
        f" ≈ {crypto:.0f} µs = {crypto / (per_card * 1e6) * 100:.1f}% of the issuance"
    )


if __name__ == "__main__":
    main()
