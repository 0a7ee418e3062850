"""Settlement fixtures: patients with a card (bound to their insurance or not), HIS bills with
known items, and the ledger invariants every test checks at its end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.channel import SandboxChannel
from medcard.adapters.his import BillItem, HisBill, SandboxHis
from medcard.ledger.repository import LedgerRepository
from medcard.models import Card
from tests.factories import bearer, staff_token
from tests.insurance.conftest import MakePatient, make_patient, policy

__all__ = ["make_patient", "policy"]


@dataclass
class Payer:
    """Plain values (they stay readable after a refused request rolled the session back)."""

    card_id: str
    his_patient_id: str
    openid: str
    headers: dict[str, str]
    bound: bool
    phone: str = ""


MakePayer = Callable[..., Awaitable[Payer]]


@pytest.fixture
def make_payer(client: httpx.AsyncClient, make_patient: MakePatient) -> MakePayer:
    """``await make_payer(sequence=5, bind=True)``: sequence 00–39 employee, 40–69 resident."""

    async def make(*, sequence: int = 5, bind: bool = True, name: str = "钱结算") -> Payer:
        patient = await make_patient(sequence=sequence, name=name)
        if bind:
            response = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
            assert response.status_code == 201, response.text
        card: Card = patient.card
        return Payer(str(card.id), card.his_patient_id, patient.account.openid, patient.headers, bind, card.phone)

    return make


def his(adapters: Adapters) -> SandboxHis:
    assert isinstance(adapters.his, SandboxHis)
    return adapters.his


def channel(adapters: Adapters) -> SandboxChannel:
    assert isinstance(adapters.channel, SandboxChannel)
    return adapters.channel


def add_bill(adapters: Adapters, payer: Payer, *items: tuple[str, int], kind: str = "outpatient") -> HisBill:
    """A HIS bill of ``(category, fen)`` lines for the payer's card."""
    lines = [
        BillItem(f"T{i:03d}", f"测试项目{i}", category, 1000 if category == "B" else 0, amount, 1)  # type: ignore[arg-type]
        for i, (category, amount) in enumerate(items)
    ]
    return his(adapters).add_bill(
        hospital_code="H110001",
        patient_id=payer.his_patient_id,
        kind=kind,
        items=lines,  # type: ignore[arg-type]
    )


def key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": name}


@pytest.fixture
async def cashier(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await staff_token(client, "cashier1"))


async def books_balance(db: AsyncSession) -> None:
    """I1, I4 and balanced entries (R-PAY-01)."""
    repository = LedgerRepository(db)
    assert await repository.total() == 0
    assert await repository.drift() == []
    assert await repository.unbalanced_entries() == []
