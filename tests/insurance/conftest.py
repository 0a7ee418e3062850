"""Insurance test helpers: a verified patient with a health card, logged in, policy loaded."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.models import Account, Card
from medcard.policy.service import load_shipped
from tests.card.conftest import issue_card
from tests.factories import Demo, bearer, patient_token, resident_id, verified_account

LIVE_FACE = base64.b64encode(b"selfie SANDBOX-LIVE").decode()
SPOOF_FACE = base64.b64encode(b"photo of a photo SANDBOX-SPOOF").decode()


@dataclass
class Patient:
    account: Account
    card: Card
    card_id: str
    headers: dict[str, str]
    document_number: str
    insurance_card_number: str
    scheme: str

    def form(self, **overrides: str) -> dict[str, str]:
        """A complete binding form that succeeds unless something is overridden."""
        values = {
            "card_id": self.card_id,
            "card_number": self.insurance_card_number,
            "scheme": self.scheme,
            "region_code": self.document_number[:2] + "0000"
            if self.document_number[:2] in {"11", "31"}
            else self.document_number[:4] + "00",
            "client_version": "7.1.0",
            "face_image": LIVE_FACE,
        }
        values.update(overrides)
        return values


MakePatient = Callable[..., Awaitable["Patient"]]
SCHEME_BY_CODE = {"310": "employee", "390": "resident", "380": "new_rural"}


@pytest.fixture
async def policy(db: AsyncSession) -> None:
    await load_shipped(db)


@pytest.fixture
def make_patient(
    db: AsyncSession, client: httpx.AsyncClient, adapters: Adapters, demo: Demo, policy: None
) -> MakePatient:
    """``await make_patient(region="110105", sequence=5, birth=date(1990, 1, 1))``."""

    async def make(
        *, region: str = "110105", sequence: int = 5, birth: date = date(1990, 3, 7), name: str = "王小明"
    ) -> Patient:
        number = resident_id(region=region, birth=birth, sequence=sequence)
        account = await verified_account(db, name=name, document_number=number, birth=birth)
        card = await issue_card(db, adapters, account, demo.hospital)
        await db.commit()
        token = await patient_token(client, adapters, openid=account.openid)
        platform = adapters.insurance
        assert isinstance(platform, SandboxInsurancePlatform)
        truth = platform.person(number, name)
        scheme = SCHEME_BY_CODE.get(truth.scheme_code or "", "employee")
        return Patient(account, card, str(card.id), bearer(token), number, truth.card_number, scheme)

    return make
