"""The 医保码 (issue 9): the insurance platform issues the e-voucher's dynamic code; the card home
links to it, the page shows it as a server-rendered QR with its lifetime and the personal-account
balance, and a new one on every fetch (R-INS-01; elder-size QR and amounts, R-A11Y-01)."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.kit.money import format_yuan
from medcard.models import InsuranceBinding
from tests.insurance.conftest import MakePatient


async def test_r_ins_01_home_links_the_voucher_code_which_the_platform_issues(
    client: httpx.AsyncClient, make_patient: MakePatient, adapters: Adapters
) -> None:
    patient = await make_patient()
    binding = (await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)).json()
    home = await client.get("/me", headers=patient.headers)
    url = f"/insurance/{binding['id']}/code"
    assert f'id="go-insurance" href="{url}"' in home.text and f'id="show-voucher-code" href="{url}"' in home.text
    shown = await client.get(url, headers=patient.headers)
    assert shown.status_code == 200 and f'hx-get="{url}/fresh"' in shown.text and "data-expiring" in shown.text
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    before = platform.messages
    first = await client.get(f"{url}/fresh", headers=patient.headers)
    assert first.status_code == 200 and 'data-ttl="60"' in first.text
    assert "<svg" in first.text and "style=" not in first.text and "<script" not in first.text  # CSP
    code = re.search(r'id="voucher-qr" data-code="(ECQR[0-9A-F]+)"', first.text)
    assert code is not None
    truth = platform.person(patient.document_number, "王小明")
    assert f"¥{format_yuan(platform.balance(truth.person_number))}" in first.text
    assert platform.messages == before + 2  # the code and the balance (1101), both asked of the platform
    second = await client.get(f"{url}/fresh", headers=patient.headers)
    assert code.group(1) not in second.text  # a new code each time: the old one runs out


async def test_r_ins_01_no_voucher_code_for_an_unbound_or_foreign_binding(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient()
    other = await make_patient(sequence=6, name="李四")
    binding = (await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)).json()
    url = f"/insurance/{binding['id']}/code/fresh"
    assert (await client.get(url, headers=other.headers)).status_code == 404
    await client.post(f"/api/v1/insurance/bindings/{binding['id']}/unbind", headers=patient.headers)
    unbound = await client.get(url, headers=patient.headers)
    assert 'data-code="INS_BINDING_NOT_ACTIVE"' in unbound.text and "<svg" not in unbound.text


async def test_r_ins_01_platform_refusal_says_so_in_both_languages(
    client: httpx.AsyncClient, make_patient: MakePatient, db: AsyncSession
) -> None:
    """A voucher token the platform did not issue (revoked there) gets no code: the page says so
    with a hint, never a broken QR."""
    patient = await make_patient()
    binding = (await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)).json()
    stored = await db.get(InsuranceBinding, uuid.UUID(binding["id"]))
    assert stored is not None
    stored.voucher_token = "EC" + "0" * 30  # revoked on the platform's side (one rule's unit test)
    await db.commit()
    refused = await client.get(f"/insurance/{binding['id']}/code/fresh", headers=patient.headers)
    assert 'data-code="INS_VOUCHER_CODE_UNAVAILABLE"' in refused.text and "暂时无法获取医保码" in refused.text
    english = await client.get(
        f"/insurance/{binding['id']}/code/fresh", headers={**patient.headers, "Cookie": "medcard_lang=en"}
    )
    assert "The insurance code is not available right now" in english.text
