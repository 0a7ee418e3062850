"""Pages that stand in for outside systems while the sandboxes run: the messaging app's
OAuth consent screen, an SMS inbox, what the payment channel and the insurance platform hold,
a hospital desk that enters prescription-drug bills, and sample photos. 404 unless
``MEDCARD_SANDBOX=true`` (which production refuses)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.adapters.channel import SandboxChannel
from medcard.adapters.his import CATALOGUE, BillItem, SandboxHis
from medcard.adapters.identity import sample_document_photo, sample_face_photo
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.adapters.oauth import SandboxOAuth
from medcard.adapters.sms import SandboxSms
from medcard.deps import AdaptersDep, SettingsDep
from medcard.errors import NotFound
from medcard.web.render import page

router = APIRouter(prefix="/sandbox", include_in_schema=False)
OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
SANDBOX_OPENID_COOKIE = "medcard_sandbox_openid"


def _sandbox_oauth(adapters: AdaptersDep, settings: SettingsDep) -> SandboxOAuth:
    if not settings.sandbox or not isinstance(adapters.oauth, SandboxOAuth):
        raise NotFound()
    return adapters.oauth


@router.get("/oauth/authorize", response_class=HTMLResponse)
async def consent(
    request: Request,
    adapters: AdaptersDep,
    settings: SettingsDep,
    redirect_uri: Annotated[str, Query(max_length=200)],
    state: Annotated[str, Query(max_length=64)],
) -> Response:
    _sandbox_oauth(adapters, settings)
    # Like WeChat on one phone, the consent screen remembers who this browser is.
    remembered = request.cookies.get(SANDBOX_OPENID_COOKIE, "")
    context = {"redirect_uri": redirect_uri, "state": state, "openid": remembered if OPENID.match(remembered) else ""}
    return page(request, "sandbox/oauth.html", context)


@router.post("/oauth/authorize")
async def consent_given(
    adapters: AdaptersDep,
    settings: SettingsDep,
    redirect_uri: Annotated[str, Form(max_length=200)],
    state: Annotated[str, Form(max_length=64)],
    nickname: Annotated[str, Form(max_length=32)] = "",
    openid: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    oauth = _sandbox_oauth(adapters, settings)
    if not redirect_uri.startswith("/") or redirect_uri.startswith("//"):
        raise NotFound()
    chosen = openid.strip() if OPENID.match(openid.strip()) else oauth.new_openid()
    code = oauth.issue_code(openid=chosen, nickname=nickname.strip() or "微信用户")
    response = RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=303)
    response.set_cookie(SANDBOX_OPENID_COOKIE, chosen, max_age=30 * 86400, httponly=True, samesite="lax")
    return response


@router.get("/sms", response_class=HTMLResponse)
async def sms_inbox(request: Request, adapters: AdaptersDep, settings: SettingsDep) -> Response:
    if not settings.sandbox or not isinstance(adapters.sms, SandboxSms):
        raise NotFound()
    return page(request, "sandbox/sms.html", {"messages": list(reversed(adapters.sms.outbox))[:50]})


@router.get("/payments", response_class=HTMLResponse)
async def payments(request: Request, adapters: AdaptersDep, settings: SettingsDep) -> Response:
    """What the payment channel and the insurance platform sandboxes hold: orders, their states,
    money moved (including charges whose answer was lost), newest first."""
    channel, insurance = adapters.channel, adapters.insurance
    if not settings.sandbox or not isinstance(channel, SandboxChannel):
        raise NotFound()
    orders = [order.snapshot() for order in reversed(channel.orders.values())][:100]
    settlements = (
        list(reversed(insurance.orders.values()))[:100] if isinstance(insurance, SandboxInsurancePlatform) else []
    )
    return page(request, "sandbox/payments.html", {"orders": orders, "settlements": settlements})


@router.get("/face.png")
async def face_photo(settings: SettingsDep, live: bool = True) -> Response:
    """A selfie the sandbox treats as live (``live=false``: as a spoof)."""
    if not settings.sandbox:
        raise NotFound()
    return Response(sample_face_photo(live=live), media_type="image/png")


@router.get("/id-photo.png")
async def id_photo(
    settings: SettingsDep,
    name: Annotated[str, Query(max_length=64)],
    number: Annotated[str, Query(max_length=32)],
    gender: Annotated[str, Query(max_length=1)] = "M",
    ethnicity: Annotated[str, Query(max_length=16)] = "汉族",
    address: Annotated[str, Query(max_length=200)] = "北京市东城区示范路1号",
) -> Response:
    """A photo of an ID card's front, readable by the sandbox OCR."""
    if not settings.sandbox:
        raise NotFound()
    fields = {"name": name, "document_number": number, "gender": gender, "ethnicity": ethnicity, "address": address}
    return Response(sample_document_photo(fields), media_type="image/png")


def _sandbox_his(adapters: AdaptersDep, settings: SettingsDep) -> SandboxHis:
    if not settings.sandbox or not isinstance(adapters.his, SandboxHis):
        raise NotFound()
    return adapters.his


PRESCRIBABLE = [line for line in CATALOGUE["drug"] if line[2] != "C"]
"""The sandbox doctor prescribes catalogue drugs (class A and B)."""


@router.get("/his", response_class=HTMLResponse)
async def his_desk(
    request: Request, adapters: AdaptersDep, settings: SettingsDep, added: Annotated[str, Query(max_length=40)] = ""
) -> Response:
    """The hospital's side: a doctor prescribes drugs to a patient, who then finds a 门诊药房 bill
    (a prescription-drug bill) among his bills to pay."""
    _sandbox_his(adapters, settings)
    return page(request, "sandbox/his.html", {"drugs": PRESCRIBABLE, "added": added})


@router.post("/his/prescriptions")
async def prescribe(
    adapters: AdaptersDep,
    settings: SettingsDep,
    card_number: Annotated[str, Form(max_length=32)],
    drug: Annotated[str, Form(max_length=16)],
    quantity: Annotated[int, Form(ge=1, le=20)] = 1,
) -> Response:
    """Enter a prescription-drug bill for the patient holding ``card_number`` at his hospital."""
    his = _sandbox_his(adapters, settings)
    number = card_number.replace(" ", "")
    patient = next((p for p in his.patients.values() if p.visit_card_number == number), None)
    line = next((d for d in PRESCRIBABLE if d[0] == drug), None)
    if patient is None or line is None:
        raise NotFound()
    code, name, category, share, price = line
    item = BillItem(code, name, category, share, price, quantity)
    bill = his.add_bill(hospital_code=patient.hospital_code, patient_id=patient.patient_id, kind="drug", items=[item])
    return RedirectResponse(f"/sandbox/his?{urlencode({'added': bill.bill_no})}", status_code=303)
