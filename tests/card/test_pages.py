"""Card pages, server side: the apply form autosaves per field and resumes, bad input is shown
next to its field, the card page shows the QR and the hospital's settings, the console changes
ID/phone with a reason."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.identity import sample_document_photo
from medcard.adapters.sms import SandboxSms
from medcard.models import Account, AuditEvent, Card
from tests.card.conftest import complete_form
from tests.factories import Demo, bearer, patient_token, staff_token, verified_account

WHERE = "hospital=H110001&subject=self"
HTMX = {"HX-Request": "true"}


async def _login(client: httpx.AsyncClient, adapters: Adapters, account: Account) -> dict[str, str]:
    return bearer(await patient_token(client, adapters, openid=account.openid))


async def test_r_card_04_page_autosaves_a_field_and_resumes_with_autofocus_there(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db, name="张三"))
    first = await client.get(f"/cards/apply?{WHERE}", headers=headers)
    assert first.status_code == 200 and "张三" in first.text
    assert not re.search(r"<(input|select|textarea)[^>]*\bautofocus\b", first.text)
    saved = await client.put(
        f"/cards/apply/field?{WHERE}",
        data={"emergency_name": "李四"},
        headers={**headers, **HTMX, "HX-Trigger-Name": "emergency_name"},
    )
    assert saved.status_code == 200 and "已自动保存" in saved.text
    resumed = await client.get(f"/cards/apply?{WHERE}", headers=headers)
    tag = re.search(r'<input id="f-emergency_name"[^>]*>', resumed.text)
    assert tag is not None and "autofocus" in tag.group(0) and 'value="李四"' in tag.group(0)


async def test_r_card_04_page_autosave_shows_the_field_error_and_saves_nothing(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    refused = await client.put(
        f"/cards/apply/field?{WHERE}", data={"phone": "12345"}, headers={**headers, **HTMX, "HX-Trigger-Name": "phone"}
    )
    assert refused.status_code == 200
    assert 'data-state="error"' in refused.text and "11 位中国大陆手机号" in refused.text
    assert 'id="err-phone" hx-swap-oob="true"' in refused.text
    assert not await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card.draft_save")
    )


async def test_r_card_01_page_photo_upload_prefills_and_unreadable_photo_explains(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    account = await verified_account(db, name="张三")
    assert account.person is not None
    headers = await _login(client, adapters, account)
    photo = sample_document_photo(
        {"name": "张三", "document_number": account.person.document_number, "address": "北京市东城区示范路1号"}
    )
    uploaded = await client.post(
        f"/cards/apply/photo?{WHERE}", files={"photo": ("id.png", photo, "image/png")}, headers=headers
    )
    assert uploaded.status_code == 303
    after = await client.get(uploaded.headers["location"], headers=headers)
    assert "已从证件照片识别并填入" in after.text and 'value="北京市东城区示范路1号"' in after.text
    blurry = await client.post(
        f"/cards/apply/photo?{WHERE}",
        files={"photo": ("id.png", b"\x89PNG\r\n\x1a\nblur", "image/png")},
        headers=headers,
    )
    assert blurry.status_code == 400 and "无法识别证件照片" in blurry.text and "反光" in blurry.text
    text_file = await client.post(
        f"/cards/apply/photo?{WHERE}", files={"photo": ("a.txt", b"hello", "text/plain")}, headers=headers
    )
    assert text_file.status_code == 415 and "JPEG" in text_file.text


async def test_r_card_02_page_submit_with_errors_keeps_values_and_names_fields(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    response = await client.post(
        f"/cards/apply?{WHERE}", data=complete_form(phone="999", ethnicity="", birth_date="2999-01-01"), headers=headers
    )
    assert response.status_code == 400
    assert "请填写 11 位中国大陆手机号" in response.text and 'value="999"' in response.text
    assert re.search(r'id="err-ethnicity">必填<', response.text)
    assert await db.scalar(select(func.count()).select_from(Card)) == 0


async def test_r_card_01_page_submit_shows_the_card_with_qr_and_hospital_settings(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    response = await client.post(f"/cards/apply?{WHERE}", data=complete_form(), headers=headers)
    assert response.status_code == 303
    card_page = await client.get(response.headers["location"], headers=headers)
    text = card_page.text
    assert "办卡成功" in text and "<svg" in text and 'data-version="1"' in text
    assert "¥10.00" in text and "无需预存" in text and "¥2000.00" in text
    assert "核磁共振" in text  # what still needs the physical card (R-CARD-11)


async def test_r_card_05_page_occupied_offers_binding_which_links_the_record(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    from datetime import date

    account = await verified_account(db, name="王建国", document_number="110105198001011238", birth=date(1980, 1, 1))
    headers = await _login(client, adapters, account)
    occupied = await client.post(f"/cards/apply?{WHERE}", data=complete_form(), headers=headers)
    assert occupied.status_code == 409 and "卡号已被占用" in occupied.text and 'id="go-existing"' in occupied.text
    started = await client.post(f"/cards/existing/start?{WHERE}", headers=headers)
    assert started.status_code == 303  # Post/Redirect/Get: a reload shows the code form, sends no second SMS
    shown = await client.get(started.headers["location"], headers=headers)
    assert "138****0001" in shown.text and 'id="code-sent"' in shown.text and "5 分钟内有效" in shown.text
    reloaded = await client.get(started.headers["location"], headers=headers)
    assert 'id="code-sent"' in reloaded.text
    assert isinstance(adapters.sms, SandboxSms)
    assert len([m for m in adapters.sms.outbox if m.phone == "13800000001"]) == 1
    message = adapters.sms.last_to("13800000001")
    assert message is not None
    code = message.text.split("验证码 ")[1][:6]
    confirmed = await client.post(f"/cards/existing/confirm?{WHERE}", data={"code": code}, headers=headers)
    assert confirmed.status_code == 303
    card_page = await client.get(confirmed.headers["location"], headers=headers)
    assert "已关联您在医院的已有档案" in card_page.text


async def test_r_card_07_page_edit_issues_a_new_qr(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    location = (await client.post(f"/cards/apply?{WHERE}", data=complete_form(), headers=headers)).headers["location"]
    card_id = location.split("/")[2].split("?")[0]
    edit = await client.get(f"/cards/{card_id}/edit", headers=headers)
    assert edit.status_code == 200 and "旧二维码立即失效" in edit.text
    saved = await client.post(
        f"/cards/{card_id}/edit", data={**complete_form(address="北京市西城区新街口外大街19号")}, headers=headers
    )
    assert saved.status_code == 403 and "手机号码提交后不能自行修改" in saved.text  # the form must not send the phone
    personal = {k: v for k, v in complete_form(address="北京市西城区新街口外大街19号").items() if k != "phone"}
    saved = await client.post(f"/cards/{card_id}/edit", data=personal, headers=headers)
    assert saved.status_code == 303
    shown = await client.get(saved.headers["location"], headers=headers)
    assert "旧二维码已失效" in shown.text and 'data-version="2"' in shown.text


async def test_r_card_03_console_changes_phone_with_reason(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    await client.post(f"/cards/apply?{WHERE}", data=complete_form(), headers=headers)
    card = await db.scalar(select(Card))
    assert card is not None
    cashier = bearer(await staff_token(client, "cashier1"))
    typo = card.card_number[:-1] + str((int(card.card_number[-1]) + 1) % 10)
    wrong = await client.get("/console/cards", params={"card_number": typo}, headers=cashier)
    assert wrong.status_code == 400 and "校验位不符" in wrong.text
    found = await client.get("/console/cards", params={"card_number": card.card_number}, headers=cashier)
    assert found.status_code == 200 and "139****5678" in found.text
    no_reason = await client.post(
        f"/console/cards/{card.id}/change",
        data={"field": "phone", "new_value": "13655556666", "reason": ""},
        headers=cashier,
    )
    assert no_reason.status_code == 400 and "变更原因" in no_reason.text
    changed = await client.post(
        f"/console/cards/{card.id}/change",
        data={"field": "phone", "new_value": "13655556666", "reason": "患者换号，已核验原件"},
        headers=cashier,
    )
    assert changed.status_code == 303  # Post/Redirect/Get (issue 9)
    shown = await client.get(changed.headers["location"], headers=cashier)
    assert "136****6666" in shown.text and 'id="change-notice"' in shown.text
    kiosk = bearer(await staff_token(client, "kiosk1"))
    assert (await client.get("/console/cards", headers=kiosk)).status_code == 403
