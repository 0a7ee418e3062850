"""Builders for test data, going through the same code paths as the app where it matters."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.account.rules import CONSENT_VERSION
from medcard.adapters import Adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.demo import DEMO_PASSWORD, load
from medcard.kit.clock import clock
from medcard.models import Account, FamilyMember, Hospital, Person, StaffUser

_counter = itertools.count(1)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def resident_id(
    region: str = "110101", birth: date = date(1990, 3, 7), sequence: int | None = None, *, male: bool = True
) -> str:
    """A valid 18-character resident ID (GB 11643 check digit)."""
    seq = sequence if sequence is not None else next(_counter) % 100  # two digits; the third is the gender digit
    body = f"{region}{birth:%Y%m%d}{seq:02d}{(seq % 5) * 2 + (1 if male else 0)}"
    return body + CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


@dataclass
class Demo:
    hospital: Hospital
    county_hospital: Hospital
    staff: dict[str, StaffUser]


async def demo(session: AsyncSession) -> Demo:
    summary = await load(session)
    return Demo(
        hospital=summary.hospitals[0],
        county_hospital=summary.hospitals[1],
        staff={user.role: user for user in summary.staff},
    )


async def patient_token(client: httpx.AsyncClient, adapters: Adapters, *, openid: str | None = None) -> str:
    """Log a patient in through the OAuth endpoint; returns the bearer token."""
    assert isinstance(adapters.oauth, SandboxOAuth)
    code = adapters.oauth.issue_code(openid=openid or adapters.oauth.new_openid(), nickname="测试用户")
    response = await client.post("/api/v1/auth/oauth", json={"code": code})
    assert response.status_code == 200, response.text
    token = str(response.json()["token"])
    # A new patient accepts the agreements first, as the pages ask at first login.
    consent = await client.post("/api/v1/me/consent", json={"version": CONSENT_VERSION}, headers=bearer(token))
    assert consent.status_code == 200, consent.text
    return token


async def staff_token(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post("/api/v1/auth/staff", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def verified_account(
    session: AsyncSession, *, name: str = "张三", document_number: str | None = None, birth: date = date(1990, 3, 7)
) -> Account:
    """An account already real-name verified (skips the verification flow; for card tests)."""
    number = document_number or resident_id(birth=birth)
    person = Person(
        document_type="resident_id",
        document_number=number,
        name=name,
        gender="M" if int(number[16]) % 2 else "F",
        birth_date=birth,
        phone="13900000000",
        verified_at=clock.now(),
        verification_method="face",
    )
    account = Account(openid=f"o-test-{next(_counter)}", nickname=name, person=person)
    session.add_all([person, account])
    await session.flush()
    return account


async def family_member(
    session: AsyncSession, account: Account, patient: Person, *, relation: str = "child"
) -> FamilyMember:
    """An active family relation (a unit-test shortcut for the rows ``family.service.add_member``
    writes after its checks; journeys go through the API instead)."""
    member = FamilyMember(
        account_id=account.id,
        patient_person_id=patient.id,
        relation=relation,
        proof_kind="birth_certificate",
        status="active",
    )
    session.add(member)
    await session.flush()
    return member
