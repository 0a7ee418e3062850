"""Identity pages without a browser: forms re-render with the message next to the field, the
method step shows attempts left, a failed session offers a restart or another method (R-ID-01…07)."""

from __future__ import annotations

import re
from datetime import date

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.config import Settings
from medcard.models import VerificationSession
from tests.identity.helpers import LIVE_FACE, SPOOF_FACE, resident, resident_passing


async def _start_page(client: httpx.AsyncClient, headers: dict[str, str], **fields: str) -> httpx.Response:
    form = {"method": "face", "document_type": "resident_id", "name": "张伟"}
    form.update(fields)
    return await client.post("/verify", data=form, headers=headers)


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    assert match is not None, f"no error slot for {field}"
    return match.group(1).strip()


async def test_r_id_02_verify_page_offers_the_four_methods(client: httpx.AsyncClient, patient: dict[str, str]) -> None:
    response = await client.get("/verify", headers=patient)
    assert response.status_code == 200
    for element in (
        "method-face",
        "method-bank_card",
        "method-sms",
        "method-insurance",
        "document_number",
        "name",
        "start",
    ):
        assert f'id="{element}"' in response.text
    assert "人脸识别" in response.text and 'id="sandbox-hint"' in response.text


async def test_r_id_01_wrong_checksum_is_shown_next_to_the_field(
    client: httpx.AsyncClient, patient: dict[str, str], db: AsyncSession
) -> None:
    valid = resident("110105", date(1988, 6, 15), 123)
    response = await _start_page(client, patient, document_number=valid[:17] + ("0" if valid[17] != "0" else "1"))
    assert response.status_code == 400
    assert _field_error(response.text, "document_number") == "居民身份证号码校验位不正确"
    assert 'aria-invalid="true"' in response.text and "DOCUMENT_CHECKSUM_MISMATCH" in response.text
    assert f'value="{valid[:17]}' in response.text  # what was typed stays in the form
    assert await db.scalar(select(func.count()).select_from(VerificationSession)) == 0


async def test_r_id_01_missing_name_is_shown_next_to_the_field(
    client: httpx.AsyncClient, patient: dict[str, str]
) -> None:
    response = await _start_page(client, patient, name="", document_number=resident())
    assert _field_error(response.text, "name") == "请填写姓名"


async def test_r_id_01_errors_follow_the_page_language(client: httpx.AsyncClient, patient: dict[str, str]) -> None:
    client.cookies.set("medcard_lang", "en")
    response = await _start_page(client, patient, document_number="1101051988061512345")
    assert _field_error(response.text, "document_number") == (
        "The resident ID number must have 18 characters; 19 were given"
    )


async def test_r_id_03_face_step_counts_down_and_then_offers_restart(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    started = await _start_page(client, patient, document_number=resident_passing(settings, "张伟"))
    assert started.status_code == 303
    step = started.headers["location"]
    page = await client.get(step, headers=patient)
    assert 'capture="user"' in page.text and 'id="face-submit"' in page.text
    assert re.search(r'id="attempts-left" data-left="3"', page.text)
    for left in (2, 1):
        response = await client.post(
            f"{step}/face", files={"image": ("s.png", SPOOF_FACE, "image/png")}, headers=patient
        )
        assert response.status_code == 400
        assert f'data-left="{left}"' in response.text and "FACE_CHECK_FAILED" in response.text
    last = await client.post(f"{step}/face", files={"image": ("s.png", SPOOF_FACE, "image/png")}, headers=patient)
    assert 'id="session-failed"' in last.text and "本次认证未通过" in last.text
    assert 'id="restart" href="/verify?method=face"' in last.text and 'id="other-method"' in last.text
    assert 'id="face-submit"' not in last.text


async def test_r_id_03_face_step_without_a_photo_asks_for_one(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    step = (await _start_page(client, patient, document_number=resident_passing(settings, "张伟"))).headers["location"]
    response = await client.post(
        f"{step}/face", files={"image": ("", b"", "application/octet-stream")}, headers=patient
    )
    assert _field_error(response.text, "image") == "请填写人脸照片"
    assert 'data-left="3"' in response.text


async def test_r_id_02_face_success_goes_back_home_verified(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    step = (await _start_page(client, patient, document_number=resident_passing(settings, "张伟"))).headers["location"]
    done = await client.post(f"{step}/face", files={"image": ("s.png", LIVE_FACE, "image/png")}, headers=patient)
    assert (done.status_code, done.headers["location"]) == (303, "/me")
    home = await client.get("/me", headers=patient)
    assert "已实名认证" in home.text
    again = await client.get("/verify", headers=patient)
    assert 'id="already-verified"' in again.text


async def test_r_id_05_sms_step_sends_a_code_and_confirms(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, adapters
) -> None:  # type: ignore[no-untyped-def]
    started = await _start_page(
        client, patient, method="sms", phone="13700003333", document_number=resident_passing(settings, "张伟")
    )
    step = started.headers["location"]
    sent = await client.post(f"{step}/sms-code", headers=patient)
    assert sent.status_code == 303
    page = await client.get(sent.headers["location"], headers=patient)
    assert "验证码已发送至 137****3333" in page.text and 'href="/sandbox/sms"' in page.text
    wrong = await client.post(f"{step}/confirm", data={"method": "sms", "code": "12345"}, headers=patient)
    assert _field_error(wrong.text, "code") == "验证码不正确或已失效"
    code = re.search(r"验证码 (\d{6})", adapters.sms.last_to("13700003333").text).group(1)  # type: ignore[union-attr]
    done = await client.post(f"{step}/confirm", data={"method": "sms", "code": code}, headers=patient)
    assert (done.status_code, done.headers["location"]) == (303, "/me")


async def test_r_id_07_wards_page_adds_a_child_and_shows_errors(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    step = (await _start_page(client, patient, document_number=resident_passing(settings, "张伟"))).headers["location"]
    await client.post(f"{step}/face", files={"image": ("s.png", LIVE_FACE, "image/png")}, headers=patient)
    page = await client.get("/wards", headers=patient)
    assert 'id="no-wards"' in page.text and 'id="ward-form"' in page.text
    child = resident_passing(settings, "张小明", birth=date(2020, 5, 1), region="110101")
    form = {"document_type": "resident_id", "document_number": child, "name": "张小明", "relation": "parent"}
    form["proof_kind"] = "birth_certificate"
    proof = {"proof": ("p.png", LIVE_FACE, "image/png")}
    missing = await client.post("/wards", data=form, files=proof, headers=patient)
    assert _field_error(missing.text, "birth_certificate_number") == "未满 14 周岁的儿童须填写出生医学证明编号"
    added = await client.post(
        "/wards", data={**form, "birth_certificate_number": "P110123456"}, files=proof, headers=patient
    )
    assert (added.status_code, added.headers["location"]) == (303, "/wards?added=1")
    listed = await client.get("/wards?added=1", headers=patient)
    assert 'id="ward-added"' in listed.text and "张小明" in listed.text


async def test_r_id_07_wards_page_asks_an_unverified_account_to_verify(
    client: httpx.AsyncClient, patient: dict[str, str]
) -> None:
    page = await client.get("/wards", headers=patient)
    assert 'href="/verify"' in page.text and 'id="ward-form"' not in page.text


async def test_pages_need_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/verify")
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=%2Fverify")


async def test_r_id_02_bank_card_step_in_the_sandbox_shows_a_card_that_passes(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = resident_passing(settings, "张伟")
    started = await _start_page(client, patient, method="bank_card", phone="13700004444", document_number=number)
    step = started.headers["location"]
    page = await client.get(step, headers=patient)
    card = re.search(r'id="sandbox-card".*?<code>(\d+)</code>', page.text)
    assert card is not None
    bad = await client.post(
        f"{step}/confirm", data={"method": "bank_card", "bank_card_number": "1234"}, headers=patient
    )
    assert _field_error(bad.text, "bank_card_number") == "银行卡号不正确"
    done = await client.post(
        f"{step}/confirm", data={"method": "bank_card", "bank_card_number": card.group(1)}, headers=patient
    )
    assert (done.status_code, done.headers["location"]) == (303, "/me")


async def test_r_id_05_sms_step_asks_for_a_code_first_counts_down_and_says_the_tries_left(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, adapters
) -> None:  # type: ignore[no-untyped-def]
    """Issue 9 on R-ID-05: "请先获取验证码" before any code was sent; after sending, the send button
    counts down 60 s before it offers a new code; each wrong code says how many tries are left."""
    started = await _start_page(
        client, patient, method="sms", phone="13700004444", document_number=resident_passing(settings, "张伟")
    )
    step = started.headers["location"]
    before = await client.get(step, headers=patient)
    assert 'id="send-code" type="submit">' in before.text  # no countdown before a code was sent
    early = await client.post(f"{step}/confirm", data={"method": "sms", "code": "123456"}, headers=patient)
    assert _field_error(early.text, "code") == "请先获取验证码"
    assert 'data-code="SMS_CODE_NOT_SENT"' in early.text
    sent = await client.post(f"{step}/sms-code", headers=patient)
    page = await client.get(sent.headers["location"], headers=patient)
    assert 'id="send-code" type="submit" data-countdown="60">' in page.text
    code = re.search(r"验证码 (\d{6})", adapters.sms.last_to("13700004444").text).group(1)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3):
        refused = await client.post(f"{step}/confirm", data={"method": "sms", "code": wrong}, headers=patient)
        assert _field_error(refused.text, "code") == f"验证码不正确，还可尝试 {left} 次"
