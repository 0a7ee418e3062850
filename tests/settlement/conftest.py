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
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.kit.clock import clock
from medcard.ledger.repository import LedgerRepository
from medcard.models import Card, InsuranceBinding
from medcard.policy.repository import PolicyRepository
from tests.factories import Demo, bearer, staff_token
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


@pytest.fixture
async def no_credit(db: AsyncSession, demo: Demo) -> None:
    """The demo hospital grants no credit line: self-pay goes through the channel."""
    demo.hospital.credit_enabled = False
    await db.flush()


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


async def bind_row(
    session: AsyncSession, adapters: Adapters, card: Card, name: str, number: str, region_code: str = "110000"
) -> str:
    """An insurance binding row for ``card`` insured in ``region_code`` (a unit step of ledger and
    payment tests: the binding flow has its own tests); returns the platform's person number."""
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    truth = platform.person(number, name)
    today = clock.today_in_china()
    repository = PolicyRepository(session)
    region = await repository.in_force("region", region_code, today)
    scheme = await repository.in_force("scheme", str(truth.scheme_code), today)
    assert region is not None and scheme is not None
    session.add(
        InsuranceBinding(card_id=card.id, person_id=card.person_id, account_id=card.account_id,
                         insurance_card_number=truth.card_number, scheme_code=str(truth.scheme_code),
                         insured_region_code=region_code, platform_person_number=truth.person_number,
                         voucher_token="ECSTATEMACHINE", policy_version_id=region.id,
                         scheme_policy_version_id=scheme.id, bound_at=clock.now())
    )  # fmt: skip
    await session.flush()
    return truth.person_number
